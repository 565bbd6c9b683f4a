"""Start-up recovery: runs a dead process left behind are marked, and retried per policy.

Runs only once the service holds the lease, so no other scheduler is running them.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from quire.errors import QuireError
from quire.scheduler.jobs import Runner
from quire.batch.runner import Outcome, RunRequest, already_published, is_run_process, kill_tree, park_staging
from quire.state import runs as history
from quire.state.schema import runs as runs_table

log = logging.getLogger("quire.scheduler")


def _stray_child(row: dict) -> None:
    # A run process of the dead service on this host that somehow outlived it: it must not publish or send later.
    pid = row.get("child_pid")
    if not pid or row.get("host") != history.HOST:
        return
    if is_run_process(pid, row["run_id"]):
        kill_tree(pid)


def _conclude_published(runner: Runner, row: dict, outcome: Outcome, catalog) -> None:
    """Record a run found published as succeeded: with its deliveries when the service ran it, alone for `quire run`
    (whose command would have printed it, and delivers nothing)."""
    if row["trigger"] != "manual":
        try:
            spec = catalog.get(row["report"])
        except QuireError:
            pass
        else:
            runner.conclude(row["run_id"], spec, row["client"], row["attempt"], outcome)
            return
    history.finish(runner.engine, row["run_id"], "succeeded", output_folder=outcome.output_folder,
                   parameters=outcome.parameters)


def recover(runner: Runner) -> list[str]:
    """Mark orphaned runs failed ("interrupted: service died") and schedule their retries; re-queue cancelled
    runs and transient failures left without a retry.

    Returns the ids of the runs found.
    """
    engine, settings = runner.engine, runner.settings
    catalog = runner.catalog()
    found = []
    for row in history.orphans(engine, runner.holder):
        found.append(row["run_id"])
        _stray_child(row)
        manual = row["trigger"] == "manual"
        reason = "interrupted: `quire run` died" if manual else "interrupted: service died"
        partial = park_staging(settings, row["report"], row["run_id"], reason)
        # Parked first, then looked for (a publish and a parking each rename the staging folder): a run whose process
        # published in the moment its service died is done. Marked failed and run again, it was published twice.
        published = already_published(settings, RunRequest(row["run_id"], row["report"], {}))
        if published is not None:
            log.warning("run %s (%s) was published just before its service died: recorded as succeeded",
                        row["run_id"], row["report"])
            _conclude_published(runner, row, published, catalog)
            continue
        log.warning("run %s (%s) was %s when its process died: marked failed", row["run_id"], row["report"], row["status"])
        if manual:
            history.finish(engine, row["run_id"], "failed", error=reason, error_type="Interrupted",
                           partial_notebook=partial)
            continue
        try:
            spec = catalog.get(row["report"])
        except QuireError:
            history.finish(engine, row["run_id"], "failed", error=f"{reason}; report no longer in the catalog",
                           error_type="Interrupted")
            continue
        # The same path as a live failure: retried if attempts remain, else the owner is alerted.
        runner.conclude(row["run_id"], spec, row["client"], row["attempt"],
                        Outcome("failed", error=reason, error_type="Interrupted", transient=True, partial_notebook=partial))
    # Runs cancelled by a clean stop are due again at once (each has at most one retry, by its retry_of link),
    # and so are transient failures whose retry was not scheduled because the service was stopping.
    newer = runs_table.alias("newer")
    unretried = sa.and_(runs_table.c.trigger != "manual", ~sa.exists().where(newer.c.retry_of == runs_table.c.run_id))
    stmt = sa.select(runs_table.c.run_id, runs_table.c.attempt, runs_table.c.status).where(unretried, sa.or_(
        runs_table.c.status == "cancelled",
        sa.and_(runs_table.c.status == "failed", runs_table.c.transient, runs_table.c.attempt < settings.retry_limit)))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    for run_id, attempt, status in rows:
        if runner.scheduler.get_job(f"retry:{run_id}") is None:  # a retry job waiting for its backoff stays as it is
            found.append(run_id)
            runner.schedule_retry(run_id, attempt, delay=0, rerun=status == "cancelled")
    return found
