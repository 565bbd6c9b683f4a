"""Opening the state database: one engine per URL, tables created on first use."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from quire.config import masked_url
from quire.errors import StateError, describe_os_error
from quire.server_timeouts import server_connect_args
from quire.state.schema import metadata

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def utcnow() -> datetime:
    """Now, as the naive UTC datetime every state table stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


MOMENT_HELP = "use a date (2026-11-01), a UTC time (2026-11-01T08:00) or a span back from now such as 30m, 12h, 7d"
_SPANS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_moment(text: str) -> datetime:
    """A time as the history stores it (naive UTC): ``2026-11-01``, ``2026-11-01T08:00`` (UTC unless it has an
    offset, which is converted) or a span back from now, ``30m``, ``12h``, ``7d``; otherwise a ValueError that
    says what was wrong and what to write instead."""
    text = text.strip()
    if text[-1:] in _SPANS and text[:-1].isdigit():
        try:
            return utcnow() - timedelta(**{_SPANS[text[-1]]: int(text[:-1])})
        except OverflowError:  # "99999999d": before the first date there is
            raise ValueError(f"{text!r} reaches back before the year 1; use a shorter span or a date") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date or time; {MOMENT_HELP}") from None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


#: What SQLite says when another connection holds the database, or its file is briefly out of reach; any other
#: sqlite3.OperationalError (no such table, a syntax error) is a mistake, not an outage.
_SQLITE_OUTAGES = ("database is locked", "database table is locked", "unable to open database file", "disk i/o error")


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the state database cannot be used right now and may be again soon: a connection
    refused or lost, a server restarting, a SQLite file locked by another writer beyond its busy timeout."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    if isinstance(exc.orig, sqlite3.Error):
        return any(text in str(exc.orig).lower() for text in _SQLITE_OUTAGES)
    return True  # a server's OperationalError: connection, shutdown, lock or statement timeouts


def reason(exc: BaseException) -> str:
    """The first line of what the database driver said (no SQL statement, parameters or help link)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class Outage:
    """The log of one job or thread that uses the state database: one warning line when the database stops
    answering, one line when it answers again, rather than a traceback at every attempt in between."""

    def __init__(self, what: str, database: str, logger: logging.Logger) -> None:
        self.what, self.database, self.log = what, database, logger
        self.down = False
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        """An attempt failed because the database is unreachable: said once per outage."""
        with self._lock:
            if self.down:
                return
            self.down = True
        self.log.warning("%s: the state database %s does not answer (%s); trying again until it does",
                         self.what, self.database, reason(exc))

    def answered(self) -> None:
        """An attempt succeeded: said once, if the database had stopped answering."""
        with self._lock:
            if not self.down:
                return
            self.down = False
        self.log.info("%s: the state database %s answers again", self.what, self.database)

    @contextmanager
    def watch(self) -> Iterator[None]:
        """Run the block; an unreachable database is logged as above and swallowed (the job tries again at its next
        turn), any other error is raised: a real bug keeps its traceback."""
        try:
            yield
        except sa.exc.DBAPIError as exc:
            if not unreachable(exc):
                raise
            self.failed(exc)
        else:
            self.answered()


def patiently(call: Callable, outage: Outage, stop: threading.Event, *args, max_wait: float = 30.0):
    """``call(*args)``, tried again with a growing pause (1 s, 2 s … ``max_wait``) for as long as the state database is
    unreachable and ``stop`` is not set; the outage is logged by ``outage``. Any other error is raised at once, and
    the database's own once ``stop`` is set."""
    from tenacity import Retrying, retry_if_exception, stop_when_event_set, wait_exponential

    retrying = Retrying(retry=retry_if_exception(unreachable), stop=stop_when_event_set(stop),
                        wait=wait_exponential(multiplier=1, max=max_wait), sleep=stop.wait,
                        before_sleep=lambda state: outage.failed(state.outcome.exception()), reraise=True)
    result = retrying(call, *args)
    outage.answered()
    return result


def _normalise(url: str) -> str:
    # Plain postgresql:// would pick psycopg2, which we do not ship; psycopg 3 is the driver.
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise StateError(f"the state database URL {masked_url(url)!r} is not a valid SQLAlchemy URL",
                         hint="check QUIRE_STATE_URL, e.g. sqlite:///path/state.db or "
                              "postgresql://user@host/quire") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


#: Seconds a write to a SQLite state database waits for another writer before it fails (``?timeout=N`` in the URL).
BUSY_TIMEOUT = 30.0


def _busy_timeout(parsed) -> float:
    """The SQLite URL's ``timeout`` query value in seconds (0.1 to 3600), else :data:`BUSY_TIMEOUT`."""
    given = parsed.query.get("timeout")
    if given is None:
        return BUSY_TIMEOUT
    try:
        seconds = float(given if isinstance(given, str) else given[-1])
    except ValueError:
        seconds = float("nan")
    if not 0.1 <= seconds <= 3600:  # NaN included
        raise StateError(f"the state database URL's timeout={given!r} is not a number of seconds from 0.1 to 3600",
                         hint="e.g. QUIRE_STATE_URL=sqlite:////srv/quire/state.db?timeout=30 (the default)")
    return seconds


def _sqlite_pragmas(busy_seconds: float):
    def on_connect(dbapi_conn, _record) -> None:
        # WAL lets `quire runs` read while the service writes; busy_timeout waits for the writer instead of failing.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={round(busy_seconds * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return on_connect


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite state database that does not exist yet (None for one that does, or another backend).

    Commands that only read the state ask first: opening the database would create it, and a
    mistyped QUIRE_STATE_URL would then list "no runs" from a new, empty file in a new folder.
    """
    path = _sqlite_file(make_url(_normalise(url)))
    return None if path is None or path.exists() else path


def _sqlite_file(parsed) -> Path | None:
    """The file a SQLite URL names (None for another backend, or a database in memory)."""
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def open_state(url: str) -> Engine:
    """The engine of the state database at ``url`` (cached per process), its tables created if missing.

    Raises :class:`StateError` with the (password-free) URL if the database cannot be reached.
    """
    url = _normalise(url)
    with _LOCK:
        if url in _ENGINES:
            return _ENGINES[url]
        parsed = make_url(url)
        if (file := _sqlite_file(parsed)) is not None:
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(f"cannot create the state database's folder: {describe_os_error(exc)}",
                                 hint="check QUIRE_STATE_URL (or QUIRE_OUTPUTS, under which it is by default)") from None
        try:
            if parsed.get_backend_name() == "sqlite":
                busy = _busy_timeout(parsed)
                eng = sa.create_engine(url, connect_args={"timeout": busy, "check_same_thread": False})
                sa.event.listen(eng, "connect", _sqlite_pragmas(busy))
            else:
                eng = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                       connect_args=server_connect_args(parsed))
        except (sa.exc.ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
            raise StateError(f"cannot use the state database URL {redact(url)}: {exc}",
                             hint="check QUIRE_STATE_URL and that its database driver is installed") from None
        _create_tables(eng, url)
        _ENGINES[url] = eng
        return eng


def _create_tables(eng: Engine, url: str) -> None:
    from quire.state.migrate import upgrade

    for attempt in range(2):
        try:
            metadata.create_all(eng)
            upgrade(eng)  # a database made by an older Quire gets the newer columns and constraints
            return
        except sa.exc.DBAPIError as exc:
            # Another process created a table between check and create (SQLite says "already exists"; PostgreSQL's
            # catalog race is a ProgrammingError or IntegrityError): look again, once.
            raced = "already exists" in reason(exc) or isinstance(exc, (sa.exc.ProgrammingError, sa.exc.IntegrityError))
            if not attempt and raced:
                continue
            # Anything else is no state database Quire can use: a file that is not SQLite, another engine.
            raise StateError(f"cannot open the state database {redact(url)}: {reason(exc)}",
                             hint="check QUIRE_STATE_URL: a SQLite file or a PostgreSQL database") from None


def dispose_all() -> None:
    """Close every cached engine (tests, and a process about to fork)."""
    with _LOCK:
        for eng in _ENGINES.values():
            eng.dispose()
        _ENGINES.clear()
