"""The run history of ``quire run``: the CLI's hook into the state database.

A state database that cannot be opened never stops a manual run: the run goes on
and one warning line says it is not recorded. A run whose end could not be recorded
(its process was killed, or the disk was full) is reconciled by the next ``quire run``
or ``quire runs`` on the same host: published means succeeded, anything else failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.config import Settings, get_settings
from quire.errors import QuireError

#: The run history's reason for a manual run found dead.
INTERRUPTED = "interrupted: `quire run` died before recording the end of this run"


@dataclass
class Recording:
    """Handed to the ``with`` block: the run id to use, and where the block puts its :class:`RunResult`."""

    run_id: str
    result: Any = None


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)


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
        reconcile_or_warn(engine, settings)
        history.create(engine, run_id=rec.run_id, report=plan.spec.id, client=client, trigger="manual",
                       parameters=json.loads(json.dumps(plan.params, default=str)))
        history.mark_running(engine, rec.run_id)
    except (QuireError, sa.exc.SQLAlchemyError) as exc:
        _warn(f"this run is not recorded in the run history ({_first_line(exc)})")
        engine = None

    def finish(status: str, **kw: Any) -> None:
        if engine is None:
            return
        try:
            history.finish(engine, rec.run_id, status, **kw)
        except sa.exc.SQLAlchemyError as exc:
            _warn(f"could not record the end of run {rec.run_id} ({_first_line(exc)}); "
                  "the next `quire run` or `quire runs` will")

    try:
        yield rec
    except QuireError as exc:
        finish("failed", error=str(exc), error_type=type(exc).__name__,
               partial_notebook=parked_notebook(settings, plan.spec.id, rec.run_id))
        raise
    except KeyboardInterrupt:
        finish("cancelled", error="cancelled: interrupted by the user", error_type="KeyboardInterrupt")
        raise
    except BaseException as exc:
        finish("failed", error=str(exc) or type(exc).__name__, error_type=type(exc).__name__,
               partial_notebook=partial_notebook(settings.outputs_dir, plan.spec.id, rec.run_id))
        raise
    else:
        folder = getattr(rec.result, "folder", None)
        finish("succeeded", output_folder=str(folder) if folder else None)


def reconcile_or_warn(engine: Engine, settings: Settings) -> None:
    """:func:`reconcile_manual_runs`, with a warning line instead of an error: tidying up never stops a command."""
    try:
        reconcile_manual_runs(engine, settings)
    except (QuireError, sa.exc.SQLAlchemyError, OSError) as exc:
        _warn(f"could not reconcile earlier runs in the run history ({_first_line(exc)})")


def reconcile_manual_runs(engine: Engine, settings: Settings | None = None) -> list[str]:
    """End the live manual runs of this host whose ``quire run`` process is gone; their ids.

    A run that was published before its process died ended ``succeeded``; otherwise it ends
    ``failed`` and what it left in staging moves to ``_failed/`` (as the scheduler's start-up
    recovery does for its own runs). Runs of live processes and of other hosts are left alone.
    """
    from quire.batch.runner import park_staging, parked_notebook
    from quire.state import runs as history

    settings = settings or get_settings()
    ended = []
    for row in history.orphans(engine, holder=""):
        if row["trigger"] != "manual":
            continue  # the scheduler's own runs: its start-up recovery retries them per policy
        run_id, report = row["run_id"], row["report"]
        published = sorted((settings.outputs_dir / report).glob(f"*/{run_id}/run.json"))
        if published:
            history.finish(engine, run_id, "succeeded", output_folder=str(published[-1].parent))
        else:
            partial = park_staging(settings, report, run_id, INTERRUPTED)
            history.finish(engine, run_id, "failed", error=INTERRUPTED, error_type="Interrupted",
                           partial_notebook=partial or parked_notebook(settings, report, run_id))
        ended.append(run_id)
    return ended


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
