"""Run history: one row per attempt of a report run, scheduled, manual or retried.

A run is created ``queued``, becomes ``running`` when its process starts and ends
``succeeded``, ``failed``, ``timed_out`` or ``cancelled``. :func:`finish` writes the end
state and the run's outbox rows in one transaction, so a crash leaves either both or
neither (the outbox is then the single source of what still has to be sent).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import psutil
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.archive import new_run_id
from quire.errors import StateError
from quire.state.db import utcnow
from quire.state.lease import pid_alive
from quire.state.schema import outbox, runs

LIVE = ("queued", "running")
HOST = socket.gethostname()


def make_run_id(client: str | None = None) -> str:
    """A new run id, as the archive names folders (time, random suffix, client slug)."""
    return new_run_id() + (f"-{client}" if client else "")


def create(engine: Engine, *, report: str, parameters: dict[str, Any], trigger: str, client: str | None = None,
           attempt: int = 1, retry_of: str | None = None, worker: str | None = None, run_id: str | None = None) -> str:
    """Record a new queued run and return its id.

    Given a ``run_id``, a call may be tried again: a try whose commit landed though its connection
    was lost before it said so (the caller saw an error) is found, not recorded a second time as
    another run of the same due time, which would have run, and e-mailed its recipients, twice.
    """
    run_id = run_id or make_run_id(client)
    try:
        with engine.begin() as conn:
            conn.execute(runs.insert().values(
                run_id=run_id, report=report, client=client, parameters=parameters, trigger=trigger, attempt=attempt,
                retry_of=retry_of, status="queued", created_at=utcnow(), worker=worker, host=HOST, pid=os.getpid()))
    except sa.exc.IntegrityError:
        with engine.connect() as conn:
            landed = conn.execute(sa.select(runs.c.report, runs.c.attempt, runs.c.worker)
                                  .where(runs.c.run_id == run_id)).first()
        if landed is None or tuple(landed) != (report, attempt, worker):
            raise
    return run_id


def mark_running(engine: Engine, run_id: str, *, child_pid: int | None = None) -> None:
    """The run's process has started."""
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.run_id == run_id)
                     .values(status="running", started_at=utcnow(), child_pid=child_pid))


def finish(engine: Engine, run_id: str, status: str, *, output_folder: str | None = None,
           partial_notebook: str | None = None, error: str | None = None, error_type: str | None = None,
           transient: bool = False, deliveries: Iterable[tuple[str, str]] = (),
           parameters: dict[str, Any] | None = None) -> None:
    """End a run and queue its deliveries ``(recipient, kind)`` in the same transaction.

    ``parameters``: as the run resolved them (a schedule's ``period: latest`` becomes the month
    it covered), so that the history, the console and a retry name the period the run was for.
    Only a live run is ended: a run already finished (e.g. marked interrupted by a newer
    scheduler) keeps its record.
    """
    now = utcnow()
    values: dict[str, Any] = dict(status=status, finished_at=now, output_folder=output_folder,
                                  partial_notebook=partial_notebook, error=(error or None) and error[:2000],
                                  error_type=error_type, transient=transient)
    if parameters is not None:
        values["parameters"] = parameters
    with engine.begin() as conn:
        done = conn.execute(runs.update().where(runs.c.run_id == run_id, runs.c.status.in_(LIVE))
                            .values(**values)).rowcount
        if not done:
            return
        seen: set[str] = set()
        for recipient, kind in deliveries:
            if recipient.lower() in seen:
                continue
            seen.add(recipient.lower())
            conn.execute(outbox.insert().values(run_id=run_id, recipient=recipient, kind=kind, status="pending",
                                                attempts=0, created_at=now))


def get(engine: Engine, run_id: str) -> dict[str, Any]:
    """One run as a dict; a :class:`StateError` naming the id if there is none."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).mappings().first()
    if row is None:
        raise StateError(f"no run {run_id!r} in the history", hint="`quire runs` lists them")
    return dict(row)


def query(engine: Engine, *, report: str | None = None, client: str | None = None, status: str | None = None,
          since: datetime | None = None, until: datetime | None = None, period: str | None = None,
          reports: list[str] | None = None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Runs matching every given filter, newest first (``until`` exclusive; ``period`` as in the parameters;
    ``reports``: only runs of these reports)."""
    stmt = _filtered(sa.select(runs), report=report, client=client, status=status, since=since, until=until,
                     period=period, reports=reports)
    stmt = stmt.order_by(runs.c.created_at.desc(), runs.c.run_id.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def count(engine: Engine, **filters: Any) -> int:
    """How many runs match the filters of :func:`query`."""
    with engine.connect() as conn:
        return int(conn.execute(_filtered(sa.select(sa.func.count()).select_from(runs), **filters)).scalar_one())


def clients(engine: Engine) -> list[str]:
    """Every client slug the history has a run for, sorted."""
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(runs.c.client).where(runs.c.client.is_not(None)).distinct()).scalars())


def _filtered(stmt, *, report=None, client=None, status=None, since=None, until=None, period=None, reports=None):
    if reports is not None:
        stmt = stmt.where(runs.c.report.in_(reports))
    if report:
        stmt = stmt.where(runs.c.report == report)
    if client:
        stmt = stmt.where(runs.c.client == client)
    if status:
        stmt = stmt.where(runs.c.status == status)
    if since:
        stmt = stmt.where(runs.c.created_at >= since)
    if until:
        stmt = stmt.where(runs.c.created_at < until)
    if period:
        stmt = stmt.where(runs.c.parameters["period"].as_string() == period)
    return stmt


def retries_of(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """The runs that ran ``run_id`` again (its next attempt, or a fan-out's runs), oldest first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(runs).where(runs.c.retry_of == run_id)
                                              .order_by(runs.c.created_at, runs.c.run_id)).mappings()]


def deliveries(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """The outbox rows of one run."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(outbox).where(outbox.c.run_id == run_id)
                                              .order_by(outbox.c.id)).mappings()]


def orphans(engine: Engine, holder: str) -> list[dict[str, Any]]:
    """Live runs whose process is gone.

    Called by the scheduler right after it took the lease: a scheduled or retry run owned
    by any other holder lost its scheduler (only the lease holder runs them). A manual
    run is an orphan only if it ran on this host and its ``quire run`` process is dead
    (a manual run elsewhere may still be alive).
    """
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(runs).where(runs.c.status.in_(LIVE))).mappings()]
    found = []
    for row in rows:
        if row["trigger"] == "console" and row["worker"] is None:
            continue  # still waiting in the queue: no process has it yet
        if row["trigger"] == "manual":
            if row["host"] == HOST and process_gone(row["pid"], row["created_at"]):
                found.append(row)
        elif row["worker"] != holder:
            found.append(row)
    return found


def process_gone(pid: int | None, since: datetime) -> bool:
    """Whether the process ``pid`` that created a run at ``since`` (UTC) is gone from this host.

    A process with that id that started later is another program reusing the id (common in
    containers, whose process ids start low again after every restart).
    """
    if not pid_alive(pid):
        return True
    try:
        started = datetime.fromtimestamp(psutil.Process(pid).create_time(), timezone.utc).replace(tzinfo=None)
    except psutil.Error:
        return False  # exists but cannot be inspected: assume it is still the run's
    return started > since + timedelta(seconds=1)


def age(row: dict[str, Any]) -> timedelta:
    """How long ago the run was created."""
    return utcnow() - row["created_at"]
