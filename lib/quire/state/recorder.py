"""The run history of ``quire run``: the CLI's hook into the state database.

A state database that cannot be opened never stops a manual run: the run goes on
and one warning line says it is not recorded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from quire.config import get_settings
from quire.errors import ExecutionError, QuireError, RenderError


@dataclass
class Recording:
    """Handed to the ``with`` block: the run id to use, and where the block puts its :class:`RunResult`."""

    run_id: str
    result: Any = None


@contextmanager
def manual_run(plan) -> Iterator[Recording]:
    """Record one ``quire run`` of ``plan``: running now, then succeeded or failed with what it left."""
    from quire.batch.runner import parked_notebook
    from quire.state import open_state
    from quire.state import runs as history

    settings = get_settings()
    client = plan.tenant.slug if plan.tenant else None
    rec = Recording(history.make_run_id(client))
    engine = None
    try:
        engine = open_state(settings.state)
        history.create(engine, run_id=rec.run_id, report=plan.spec.id, client=client, trigger="manual",
                       parameters=json.loads(json.dumps(plan.params, default=str)))
        history.mark_running(engine, rec.run_id)
    except (QuireError, sa.exc.SQLAlchemyError) as exc:
        print(f"warning: this run is not recorded in the run history ({exc})", file=sys.stderr)
        engine = None

    def finish(status: str, **kw: Any) -> None:
        if engine is None:
            return
        try:
            history.finish(engine, rec.run_id, status, **kw)
        except sa.exc.SQLAlchemyError as exc:
            print(f"warning: could not record the end of run {rec.run_id} ({exc})", file=sys.stderr)

    try:
        yield rec
    except (ExecutionError, RenderError) as exc:
        finish("failed", error=str(exc), error_type=type(exc).__name__,
               partial_notebook=parked_notebook(settings, plan.spec.id, rec.run_id))
        raise
    except KeyboardInterrupt:
        finish("cancelled", error="cancelled: interrupted by the user", error_type="KeyboardInterrupt")
        raise
    except BaseException as exc:
        finish("failed", error=str(exc) or type(exc).__name__, error_type=type(exc).__name__)
        raise
    else:
        folder = getattr(rec.result, "folder", None)
        finish("succeeded", output_folder=str(folder) if folder else None)
