"""The run queue: runs requested from the console or the API, executed by the scheduler's workers.

A request becomes a ``quire_runs`` row at once (trigger ``console``, status ``queued``, no
worker): the run id is known before anything runs, so the page that queued it can follow
it. The running scheduler *claims* waiting rows with a conditional UPDATE (``worker`` from
NULL to its lease holder), so a row is executed once even if two processes look at it;
from then on it is a run like a scheduled one (crash recovery, retries, history).
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.state import runs as history
from quire.state.db import utcnow
from quire.state.schema import runs

TRIGGER = "console"


def enqueue(engine: Engine, *, report: str, parameters: dict[str, Any], client: str | None,
            requested_by: str | None, retry_of: str | None = None) -> str:
    """Record a queued console run; returns its run id (also its archive folder's name later)."""
    run_id = history.make_run_id(client)
    with engine.begin() as conn:
        conn.execute(runs.insert().values(
            run_id=run_id, report=report, client=client, parameters=parameters, trigger=TRIGGER, attempt=1,
            retry_of=retry_of, status="queued", created_at=utcnow(), worker=None, host=history.HOST, pid=os.getpid(),
            requested_by=(requested_by or "")[:120] or None, transient=False))
    return run_id


def waiting(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    """Queued console runs no worker has claimed yet, oldest first."""
    stmt = (sa.select(runs).where(runs.c.trigger == TRIGGER, runs.c.status == "queued", runs.c.worker.is_(None))
            .order_by(runs.c.created_at, runs.c.run_id).limit(limit))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def claim(engine: Engine, holder: str, limit: int) -> list[dict[str, Any]]:
    """Claim up to ``limit`` waiting runs for ``holder``; the rows it now owns, oldest first."""
    claimed = []
    for row in waiting(engine, limit):
        with engine.begin() as conn:
            won = conn.execute(runs.update().where(runs.c.run_id == row["run_id"], runs.c.worker.is_(None),
                                                   runs.c.status == "queued").values(worker=holder)).rowcount
        if won:
            claimed.append({**row, "worker": holder})
    return claimed


def origin(engine: Engine, run_id: str, depth: int = 20) -> str:
    """The trigger of the first attempt of ``run_id``'s retry chain (a retry of a console run is a console run)."""
    with engine.connect() as conn:
        for _ in range(depth):
            row = conn.execute(sa.select(runs.c.trigger, runs.c.retry_of).where(runs.c.run_id == run_id)).first()
            if row is None:
                return "retry"
            if row.trigger != "retry" or not row.retry_of:
                return row.trigger
            run_id = row.retry_of
    return "retry"
