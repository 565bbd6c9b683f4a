"""The run history of ``quire run``: the CLI's hook into the state database.

A state database that cannot be opened never stops a manual run: the run goes on
and one warning line says it is not recorded. A run whose end could not be recorded
(its process was killed, or the disk was full) is reconciled by the next ``quire run``
or ``quire runs`` on the same host: published means succeeded, anything else failed.
"""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.config import Settings, get_settings
from quire.errors import QuireError, first_line_of

#: The run history's reason for a manual run found dead.
INTERRUPTED = "interrupted: `quire run` died before recording the end of this run"


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)


class ManualRuns:
    """The run history of one ``quire run`` command: each run recorded running, then with its outcome.

    Several runs of one command go on at once (the batch engine), so runs are started and
    finished by id rather than by nesting. A state database that cannot be opened or written
    never stops a run: one warning line says what is not recorded.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        from quire.state import open_state

        self.settings = settings or get_settings()
        self.engine: Engine | None = None
        try:
            self.engine = open_state(self.settings.state)
            reconcile_or_warn(self.engine, self.settings)
        except (QuireError, sa.exc.SQLAlchemyError) as exc:
            _warn(f"these runs are not recorded in the run history ({first_line_of(exc)})")

    def start(self, plan) -> str:
        """A new run id for ``plan``, recorded as running."""
        from quire.state import runs as history

        client = plan.tenant.slug if plan.tenant else None
        run_id = history.make_run_id(client)
        if self.engine is not None:
            try:
                history.create(self.engine, run_id=run_id, report=plan.spec.id, client=client, trigger="manual",
                               parameters=json.loads(json.dumps(plan.params, default=str)))
                history.mark_running(self.engine, run_id)
            except sa.exc.SQLAlchemyError as exc:
                _warn(f"run {run_id} is not recorded in the run history ({first_line_of(exc)})")
        return run_id

    def finish(self, run_id: str, outcome) -> None:
        """Record how ``run_id`` ended (a :class:`quire.batch.Outcome`)."""
        from quire.state import runs as history

        if self.engine is None:
            return
        try:
            history.finish(self.engine, run_id, outcome.status, output_folder=outcome.output_folder,
                           partial_notebook=outcome.partial_notebook, error=outcome.error,
                           error_type=outcome.error_type, transient=outcome.transient)
        except sa.exc.SQLAlchemyError as exc:
            _warn(f"could not record the end of run {run_id} ({first_line_of(exc)}); "
                  "the next `quire run` or `quire runs` will")


def reconcile_or_warn(engine: Engine, settings: Settings) -> None:
    """:func:`reconcile_manual_runs`, with a warning line instead of an error: tidying up never stops a command."""
    try:
        reconcile_manual_runs(engine, settings)
    except (QuireError, sa.exc.SQLAlchemyError, OSError) as exc:
        _warn(f"could not reconcile earlier runs in the run history ({first_line_of(exc)})")


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

