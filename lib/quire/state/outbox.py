"""The delivery outbox: one row per (run, recipient, kind), claimed before sending and marked after.

A row is *claimed* (``claimed_by``/``claimed_at``, attempts + 1) by a conditional UPDATE
before its e-mail is sent and marked ``sent`` right after the server accepted it. Two
deliverers never send the same row (only one claim succeeds); a claim left by a
crashed process is taken over once it is ``stale`` — the only case in which an e-mail
may go out twice is a crash in the instant between the server's 250 and the UPDATE,
and that e-mail carries the same Message-ID both times so mail systems can drop it. A
claim of a sender known dead (a process of this host that is gone) is released at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.state.db import utcnow
from quire.state.lease import holder_gone
from quire.state.schema import outbox

STALE_CLAIM = timedelta(minutes=10)


def pending(engine: Engine, run_id: str | None = None) -> list[dict[str, Any]]:
    """Rows still to send (of one run, or all), oldest first."""
    return with_status(engine, "pending", run_id)


def with_status(engine: Engine, status: str, run_id: str | None = None) -> list[dict[str, Any]]:
    """Rows in ``status`` (of one run, or all), oldest first."""
    stmt = sa.select(outbox).where(outbox.c.status == status).order_by(outbox.c.id)
    if run_id:
        stmt = stmt.where(outbox.c.run_id == run_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def add(engine: Engine, run_id: str, recipient: str, kind: str) -> dict[str, Any] | None:
    """Queue one more e-mail of a run (pending); None when that run already has a row of ``kind`` for ``recipient``."""
    try:
        with engine.begin() as conn:
            row_id = conn.execute(outbox.insert().values(
                run_id=run_id, recipient=recipient, kind=kind, status="pending", attempts=0, created_at=utcnow(),
            )).inserted_primary_key[0]
    except sa.exc.IntegrityError:  # the (run, recipient, kind) row exists: one e-mail of a kind per run and recipient
        return None
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(outbox).where(outbox.c.id == row_id)).mappings().one())


def claim(engine: Engine, row_id: int, claimer: str, stale: timedelta = STALE_CLAIM) -> bool:
    """Claim a pending row for sending; False if it was sent, failed or is claimed by a live sender."""
    now = utcnow()
    with engine.begin() as conn:
        return bool(conn.execute(outbox.update().where(
            outbox.c.id == row_id, outbox.c.status == "pending",
            sa.or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_by == claimer, outbox.c.claimed_at < now - stale))
            .values(claimed_by=claimer, claimed_at=now, attempts=outbox.c.attempts + 1)).rowcount)


def release(engine: Engine, claimer: str) -> int:
    """Unclaim the pending rows ``claimer`` holds (it is stopping and sends nothing more); how many."""
    with engine.begin() as conn:
        return conn.execute(outbox.update().where(outbox.c.status == "pending", outbox.c.claimed_by == claimer)
                            .values(claimed_by=None, claimed_at=None)).rowcount


def release_dead(engine: Engine) -> int:
    """Unclaim the pending rows whose claimer (``host:pid:…``, a :class:`~quire.state.lease.Lease` holder) is a
    process of this host that is gone, killed while it sent: the next sender need not wait for the claim to go
    stale. A claimer on another host may be alive; its claims wait as before. How many rows."""
    with engine.connect() as conn:
        claimers = conn.execute(sa.select(outbox.c.claimed_by).distinct().where(
            outbox.c.status == "pending", outbox.c.claimed_by.is_not(None))).scalars().all()
    return sum(release(engine, claimer) for claimer in claimers if holder_gone(claimer))


def mark_sent(engine: Engine, row_id: int) -> None:
    """The server accepted the e-mail."""
    with engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id == row_id)
                     .values(status="sent", sent_at=utcnow(), last_error=None, claimed_by=None, claimed_at=None))


def mark_failed(engine: Engine, row_id: int, error: str, *, give_up: bool) -> None:
    """Record a failed attempt; ``give_up`` ends the row as ``failed`` (``quire deliver --retry`` revives it)."""
    values: dict[str, Any] = dict(last_error=error[:1000], claimed_by=None, claimed_at=None)
    if give_up:
        values["status"] = "failed"
    with engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id == row_id).values(**values))


def withdraw(engine: Engine, row_id: int) -> None:
    """Remove a claimed row whose e-mail is no longer needed (an owner's alert about failures since resolved)."""
    with engine.begin() as conn:
        conn.execute(outbox.delete().where(outbox.c.id == row_id, outbox.c.status == "pending"))


def revive_failed(engine: Engine) -> int:
    """Put every failed row back to pending (``quire deliver --retry``); returns how many."""
    with engine.begin() as conn:
        return conn.execute(outbox.update().where(outbox.c.status == "failed").values(status="pending")).rowcount


def counts(engine: Engine) -> dict[str, int]:
    """Rows per status."""
    with engine.connect() as conn:
        return {s: n for s, n in conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status))}
