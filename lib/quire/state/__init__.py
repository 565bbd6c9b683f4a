"""Quire's own state database: run history, delivery outbox, scheduler lease (and APScheduler's job store).

Never mixed with the warehouse (DESIGN: two databases). The URL comes from
``Settings.state`` (``QUIRE_STATE_URL``; default SQLite ``outputs/.quire/state.db``);
tables are created on first use.
"""

from quire.state.db import missing_sqlite_file, open_state, parse_moment, utcnow

__all__ = ["missing_sqlite_file", "open_state", "parse_moment", "utcnow"]
