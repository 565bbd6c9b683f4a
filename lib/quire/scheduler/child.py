"""The child process of one scheduled run: ``python -m quire.scheduler.child REQUEST RESULT PARENT_PID``.

It runs :func:`quire.pipeline.run_plan` exactly as ``quire run`` does and writes a small
JSON outcome for its parent. It dies with its parent (Linux ``PR_SET_PDEATHSIG``), so a
killed service leaves no run behind to finish on its own; the Jupyter kernel it starts
follows (ipykernel exits when its parent process changes).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit now if it already has."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the parent's timeout still bounds the run
    if os.getppid() != parent_pid:
        os._exit(70)


def partial_notebook(outputs: Path, report: str, run_id: str) -> str | None:
    """Where the pipeline parked a failed run's partial notebook."""
    from quire.archive import FAILED_DIR

    found = sorted((outputs / FAILED_DIR / report).glob(f"*/{run_id}/report.ipynb"))
    return str(found[-1]) if found else None


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Prepare and run one report; the outcome as a JSON-safe dict (never raises for a Quire error)."""
    import sqlalchemy as sa

    from quire.config import get_settings
    from quire.errors import ExecutionError, QuireError, RenderError, WarehouseError
    from quire.pipeline import prepare, run_plan

    settings = get_settings()
    try:
        plan = prepare(request["report"], request["parameters"], settings)
        result = run_plan(plan, settings=settings, run_id=request["run_id"])
        return {"status": "succeeded", "output_folder": str(result.folder)}
    except (ExecutionError, RenderError) as exc:
        return {"status": "failed", "error": str(exc), "error_type": type(exc).__name__, "transient": False,
                "partial_notebook": partial_notebook(settings.outputs_dir, request["report"], request["run_id"])}
    except WarehouseError as exc:  # the warehouse may be back in a minute
        return {"status": "failed", "error": str(exc), "error_type": type(exc).__name__, "transient": True}
    except sa.exc.OperationalError as exc:
        return {"status": "failed", "error": f"database unreachable: {str(exc.orig or exc).splitlines()[0][:300]}",
                "error_type": "OperationalError", "transient": True}
    except QuireError as exc:
        return {"status": "failed", "error": str(exc), "error_type": type(exc).__name__, "transient": False}


def main(argv: list[str]) -> int:
    request_path, result_path, parent = Path(argv[1]), Path(argv[2]), int(argv[3])
    die_with_parent(parent)
    outcome = run(json.loads(request_path.read_text(encoding="utf-8")))
    tmp = result_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(tmp, result_path)  # the parent never reads half a result
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
