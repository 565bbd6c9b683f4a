"""The catalog's schedules as the console lists them: when, next due, paused or not, whether a scheduler runs.

The next due time is the running scheduler's own (its job store in the state database)
when it has one, else computed from the schedule's trigger, so the page is right before
the first ``quire scheduler`` start too.
"""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.catalog import ReportSpec, ScheduleSpec
from quire.console.access import Access
# Imported with the console (not on a first request): APScheduler's import is a few hundred milliseconds.
from quire.scheduler.service import trigger_for
from quire.state import schedules as states
from quire.state import lease

JOB_TABLE = "quire_apscheduler_jobs"


def describe(schedule: ScheduleSpec) -> str:
    """The schedule in words: its cron or interval, time zone and client selection."""
    if schedule.cron:
        when = f"cron {schedule.cron} ({schedule.timezone})"
    elif schedule.interval_minutes:
        when = f"every {schedule.interval_minutes} min"
    else:
        when = f"every {schedule.interval_seconds} s"
    if schedule.clients:
        when += "; clients " + ", ".join(f"{k}={v}" for k, v in schedule.clients.items())
    return when


def stored_next_runs(engine: Engine) -> dict[str, datetime]:
    """report id -> next due time (UTC) from the scheduler's job store; empty if it never ran.

    A job paused there (just resumed from the console: the scheduler applies it at its next poll) gets the
    time its own stored trigger gives from now, as the scheduler's resume will: an interval keeps the phase
    it started with, which a trigger made afresh would not (it said 20:29:46 where the run came at 20:29:18).
    """
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT id, next_run_time, job_state FROM {JOB_TABLE} "
                                        "WHERE id LIKE 'report:%'")).all()
    except sa.exc.DBAPIError:
        return {}
    now = datetime.now(timezone.utc)
    found = {}
    for job_id, ts, state in rows:
        when = datetime.fromtimestamp(ts, timezone.utc) if ts else _resumed_next_run(state, now)
        if when is not None:
            found[job_id.removeprefix("report:")] = when
    return found


def _resumed_next_run(job_state: bytes | None, now: datetime) -> datetime | None:
    """When a paused job stored as ``job_state`` (APScheduler pickles its own state) runs if resumed ``now``;
    None when that state cannot be read (another APScheduler version wrote it): the caller then computes it."""
    try:
        return pickle.loads(job_state)["trigger"].get_next_fire_time(None, now)
    except Exception:  # noqa: BLE001 — a best guess for a page; the trigger made afresh is the fallback
        return None


def computed_next_run(schedule: ScheduleSpec) -> datetime | None:
    now = datetime.now(timezone.utc)
    return trigger_for(schedule).get_next_fire_time(None, now)


def scheduler_active(engine: Engine) -> bool:
    """Whether a scheduler holds a live lease on this state database (so queued runs will start)."""
    return lease.held(engine)


def may_change(access: Access) -> bool:
    """Whether ``access`` may pause and resume schedules: an admin's without a client, since a
    schedule runs every client's report and one client's user must not stop the others'."""
    return access.allows("admin") and access.client is None


def require_change(access: Access) -> None:
    """:class:`~quire.console.reports.AccessError` unless :func:`may_change`."""
    from quire.console.reports import AccessError

    if access.client is not None:
        raise AccessError("a schedule runs the report for every client: only a token without a client may "
                          "pause or resume it")
    if not access.allows("admin"):
        raise AccessError(f"this needs the admin role; your access is {access.role}")


def for_access(engine: Engine, reports: list[ReportSpec], access: Access) -> list[dict[str, Any]]:
    """:func:`listing` of ``reports`` as ``access`` may see it: a client's user is not told which
    token changed a schedule (another client's, maybe)."""
    items = listing(engine, reports)
    if access.client is not None:
        for item in items:
            item["changed_by"] = None
    return items


def listing(engine: Engine, reports: list[ReportSpec]) -> list[dict[str, Any]]:
    """Every scheduled report: id, title, when, paused, next due (None when paused), who changed it."""
    stored = stored_next_runs(engine)
    state = states.states(engine)
    found = []
    for spec in reports:
        if spec.schedule is None:
            continue
        row = state.get(spec.id) or {}
        paused = bool(row.get("paused"))
        nxt = None if paused else (stored.get(spec.id) or computed_next_run(spec.schedule))
        nxt = nxt.astimezone(timezone.utc) if nxt else None
        found.append({"report": spec.id, "title": spec.title, "when": describe(spec.schedule),
                      "fan_out": spec.fan_out, "paused": paused, "next_run": nxt,
                      "changed_at": row.get("changed_at"), "changed_by": row.get("changed_by")})
    return found
