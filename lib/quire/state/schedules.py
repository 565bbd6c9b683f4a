"""Pause and resume of the catalog's schedules, kept in the state database.

``reports.yaml`` stays the source of *what* a schedule is; this table says only whether
it is paused. The running scheduler reads it every few seconds and pauses or resumes
its APScheduler job, so no restart is needed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.state.db import utcnow
from quire.state.schema import schedule_states


def states(engine: Engine) -> dict[str, dict[str, Any]]:
    """report id -> {paused, changed_at, changed_by} for every schedule whose state was ever set."""
    with engine.connect() as conn:
        return {r["report"]: dict(r) for r in conn.execute(sa.select(schedule_states)).mappings()}


def paused(engine: Engine) -> set[str]:
    """The reports whose schedule is paused."""
    return {report for report, row in states(engine).items() if row["paused"]}


def set_paused(engine: Engine, report: str, value: bool, *, by: str | None = None) -> None:
    """Pause (``value=True``) or resume a report's schedule."""
    now = utcnow()
    with engine.begin() as conn:
        done = conn.execute(schedule_states.update().where(schedule_states.c.report == report)
                            .values(paused=value, changed_at=now, changed_by=by)).rowcount
        if not done:
            conn.execute(schedule_states.insert().values(report=report, paused=value, changed_at=now, changed_by=by))
