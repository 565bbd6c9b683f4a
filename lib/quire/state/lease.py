"""A lease row that makes one scheduler the active one per state database.

The holder renews (heartbeats) well before ``expires_at``; a holder that dies stops
renewing and any other scheduler may take the lease once it expired — at once if the
dead holder was on the same host (its pid is gone). Acquiring is a
single conditional UPDATE (or an INSERT guarded by the primary key), so two schedulers
racing for it cannot both win on SQLite or PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.state.db import utcnow
from quire.state.schema import leases


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this host."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def gone_from_this_host(host: str, pid: int | None) -> bool:
    """Whether process ``pid`` of ``host`` is known to be gone: it ran on this host and runs no more. One of
    another host may be alive for all we can tell."""
    return host == socket.gethostname() and not pid_alive(pid)


def holder_gone(holder: str) -> bool:
    """:func:`gone_from_this_host` for a :attr:`Lease.holder` (``host:pid:random``)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return pid.isdigit() and gone_from_this_host(host, int(pid))


def held(engine: Engine, name: str = "scheduler") -> bool:
    """Whether a live process holds the lease ``name``: it has not expired, and its holder is not known to be gone
    (one killed on this host is known dead at once, not only when its lease runs out)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(leases).where(leases.c.name == name)).mappings().first()
    return row is not None and row["expires_at"] > utcnow() and not gone_from_this_host(row["host"], row["pid"])


class Lease:
    """The named lease of this process (``holder`` = host:pid:random, unique per scheduler start)."""

    def __init__(self, engine: Engine, name: str = "scheduler", seconds: int = 60) -> None:
        self.engine, self.name, self.seconds = engine, name, seconds
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.holder = f"{self.host}:{self.pid}:{secrets.token_hex(3)}"

    def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours; True if we hold it now."""
        now = utcnow()
        values = dict(holder=self.holder, host=self.host, pid=self.pid, heartbeat_at=now,
                      expires_at=now + timedelta(seconds=self.seconds))
        with self.engine.begin() as conn:
            taken = conn.execute(leases.update().where(
                leases.c.name == self.name, sa.or_(leases.c.expires_at < now, leases.c.holder == self.holder))
                .values(acquired_at=now, **values)).rowcount
            if taken:
                return True
            held = conn.execute(sa.select(leases).where(leases.c.name == self.name)).mappings().first()
            if held is not None:
                if gone_from_this_host(held["host"], held["pid"]):
                    # Its holder crashed on this very host: no need to wait for the expiry.
                    return bool(conn.execute(leases.update().where(
                        leases.c.name == self.name, leases.c.holder == held["holder"])
                        .values(acquired_at=now, **values)).rowcount)
                return False
        try:
            with self.engine.begin() as conn:
                conn.execute(leases.insert().values(name=self.name, acquired_at=now, **values))
            return True
        except sa.exc.IntegrityError:
            return False  # another scheduler inserted it first

    def renew(self) -> bool:
        """Heartbeat: extend our lease; False if it is no longer ours (we must stop scheduling)."""
        now = utcnow()
        with self.engine.begin() as conn:
            return bool(conn.execute(leases.update().where(leases.c.name == self.name, leases.c.holder == self.holder)
                                     .values(heartbeat_at=now, expires_at=now + timedelta(seconds=self.seconds))).rowcount)

    def release(self) -> None:
        """Give the lease up at once (a clean stop), so a standby scheduler need not wait for expiry."""
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == self.name, leases.c.holder == self.holder))

    def current(self) -> dict[str, Any] | None:
        """The lease row as it stands (whoever holds it), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.name == self.name)).mappings().first()
        return dict(row) if row else None
