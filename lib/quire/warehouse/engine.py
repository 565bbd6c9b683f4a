"""The warehouse's SQLAlchemy engine, with connection failures turned into actionable errors.

Reports open the warehouse read-only. For a DuckDB file that is a real read-only
connection (``connect_args={"read_only": True}``), which also lets several report
processes read one file at once. Note that DuckDB refuses a read-only and a read-write
connection to the same file *within one process*: whoever opens a write engine must
dispose it before a read-only engine is created.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from quire.errors import WarehouseError
from quire.server_timeouts import server_connect_args

BUILD_HINT = "run `quire warehouse build --scale demo` to create it"
CHECK_HINT = "`quire warehouse check` lists what each report needs and what the warehouse lacks"
#: For a warehouse that holds too little data: your own data, or the sample's.
DATA_HINT = f"{CHECK_HINT}; `quire warehouse build --scale demo` makes the sample warehouse"
CONNECT_HINT = ("check QUIRE_WAREHOUSE_URL and that the database server is up; for the embedded warehouse "
                "run `quire warehouse build --scale demo`")
FILE_BACKENDS = ("duckdb", "sqlite")


def database_file(url: str | URL) -> Path | None:
    """The file behind a DuckDB or SQLite URL, or None (in-memory database or a server)."""
    parsed = _parse(url)
    name = parsed.database
    if parsed.get_backend_name() not in FILE_BACKENDS or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def in_memory(url: str | URL) -> bool:
    """Whether ``url`` names a DuckDB or SQLite database in memory (``duckdb:///``), which ends with its process."""
    parsed = _parse(url)
    return parsed.get_backend_name() in FILE_BACKENDS and database_file(parsed) is None


def engine(url: str | URL, read_only: bool = True) -> sa.Engine:
    """Create the warehouse engine and check that it can connect.

    Raises :class:`WarehouseError` with a hint when the URL is malformed, its driver is
    missing, the warehouse file does not exist (read-only), or the database refuses the
    connection.
    """
    parsed = _parse(url)
    path = database_file(parsed)
    if read_only and path is not None and not path.exists():
        raise WarehouseError(f"no warehouse at {path}", hint=BUILD_HINT)
    parsed, connect_args = _read_only(parsed, path) if read_only else (parsed, {})
    try:
        eng = sa.create_engine(parsed, connect_args=connect_args | server_connect_args(parsed))
    except (sa.exc.ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
        raise WarehouseError(f"cannot use warehouse URL {_redacted(parsed)}: {exc}",
                             hint="check QUIRE_WAREHOUSE_URL and that its database driver is installed") from exc
    if (listener := _in_utc(parsed.get_backend_name())) is not None:
        sa.event.listen(eng, "connect", listener)
    try:
        with eng.connect():
            pass
    except sa.exc.DBAPIError as exc:
        eng.dispose()
        reason = driver_reason(exc)
        raise WarehouseError(f"cannot connect to the warehouse {_redacted(parsed)}: {reason}",
                             hint=_lock_hint(reason) or CONNECT_HINT) from exc
    return eng


#: DuckDB's words when another process holds the file's write lock: a DuckDB shell or a notebook that opened it
#: read-write (reports only read it, and a build or an import replaces the file rather than writing into it).
_LOCKED = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def _lock_hint(reason: str) -> str | None:
    """What to do when another program has the DuckDB file open for writing (None: that is not the reason)."""
    held = _LOCKED.search(reason)
    if held is None:
        return None
    return (f"another program has the file open for writing ({held[1]}, pid {held[2]}): close that connection, "
            "or open the file read-only there (`duckdb -readonly`, or `duckdb.connect(path, read_only=True)`), "
            "which lets reports read it at the same time")


#: Read-only engines kept for the life of this process, by URL (see :func:`keep_engines`); None: not kept.
_kept: dict[str, sa.Engine] | None = None


def keep_engines() -> None:
    """From now on, every :func:`connection` in this process reuses one engine (and its open connection) per URL.

    For a process that runs one report and exits: opening the warehouse (for DuckDB, starting
    a database instance) costs more than many of a report's queries, and a report opens
    it several times. Not for a process that may later write to the same DuckDB file.
    """
    global _kept
    if _kept is None:
        _kept = {}


@contextmanager
def connection(url: str | URL) -> Iterator[sa.Connection]:
    """A read-only connection to the warehouse; its engine is disposed on exit (unless kept: :func:`keep_engines`).

    Disposing matters for DuckDB: an open engine keeps the file locked against a later
    read-write open in the same process (see the module docstring).
    """
    if _kept is not None:
        key = str(url)
        if key not in _kept:
            _kept[key] = engine(url)
        with _kept[key].connect() as conn, _refused_as_warehouse_error():
            yield conn
        return
    eng = engine(url)
    try:
        with eng.connect() as conn, _refused_as_warehouse_error():
            yield conn
    finally:
        eng.dispose()


@contextmanager
def _refused_as_warehouse_error() -> Iterator[None]:
    """A query the warehouse refuses (a table it lacks, a file that is no database) as a WarehouseError naming why."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"the warehouse refused a query: {driver_reason(exc)}",
                             hint=f"check QUIRE_WAREHOUSE_URL; {CHECK_HINT}") from exc


#: The drivers' words for a table that is not there (DuckDB, SQLite, PostgreSQL), said the same way for all.
_NO_TABLE = re.compile(r'Catalog Error: Table with name (\S+) does not exist|no such table: (\S+)|'
                       r'relation "([^"]+)" does not exist')


def driver_reason(exc: sa.exc.DBAPIError) -> str:
    """The driver's own message, first line only (SQLAlchemy appends the statement and a link);
    a missing table in plain words."""
    text = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    missing = _NO_TABLE.search(text)
    if missing:
        return f"there is no table {next(name for name in missing.groups() if name)}"
    return text


#: What a view over text says when a source value does not convert: DuckDB's and PostgreSQL's words.
_CONVERSION = re.compile(r"Conversion Error|Could not (?:convert|parse)|invalid input syntax|out of range for type", re.I)
CONVERSION_HINT = ("a view of the warehouse (an import with mode: views) reads a source value it cannot convert; "
                   "`quire warehouse import <your mapping>` names its table, column and row")


def read_hint(exc: sa.exc.DBAPIError) -> str:
    """The hint for a query the warehouse refused: how to find a value a view cannot convert, else :data:`DATA_HINT`
    (the sample warehouse is no answer to a row of the user's own data)."""
    return CONVERSION_HINT if _CONVERSION.search(driver_reason(exc)) else DATA_HINT


def _parse(url: str | URL) -> URL:
    try:
        return make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise WarehouseError(f"the warehouse URL {url!r} is not a valid SQLAlchemy URL",
                             hint="check QUIRE_WAREHOUSE_URL, e.g. duckdb:///path/warehouse.duckdb") from exc


#: The statement that makes a session's time zone UTC, per backend (SQLite has no zones).
SESSION_IN_UTC = {"duckdb": "SET TimeZone = 'UTC'", "postgresql": "SET TIME ZONE 'UTC'"}


def _in_utc(backend: str):
    """A connect listener that makes each new connection's time zone UTC (None for a backend without zones).

    The warehouse's instants are UTC (the data contract); a view that reads text with an offset, or casts through a
    time zone, would otherwise give the months of the machine that runs the report: a scheduler in UTC and a laptop
    in California publishing different cohorts.
    """
    statement = SESSION_IN_UTC.get(backend)
    if statement is None:
        return None

    def listener(dbapi_connection, _record) -> None:
        # In autocommit: a SET inside the transaction the pool rolls back on return would be undone with it.
        autocommit = getattr(dbapi_connection, "autocommit", None)
        if autocommit is False:
            dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        if autocommit is False:
            dbapi_connection.autocommit = False
    return listener


def _read_only(url: URL, path: Path | None) -> tuple[URL, dict[str, object]]:
    """The URL and connect arguments that open a file warehouse read-only (servers: unchanged)."""
    if path is None:
        return url, {}
    if url.get_backend_name() == "duckdb":
        return url, {"read_only": True}
    # SQLite opens read-only through a URI filename.
    return url.set(database=f"file:{path}?mode=ro", query={**url.query, "uri": "true"}), {}


def _redacted(url: URL) -> str:
    return url.render_as_string(hide_password=True)
