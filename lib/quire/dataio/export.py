"""``quire warehouse export``: every Quire table of a warehouse as CSV or Parquet files, plus the mapping back.

The files are written by DuckDB's ``COPY … TO`` (CSV with a header, ISO dates and times,
``true``/``false``, empty for NULL and ``""`` for an empty text; or Parquet with the
column types), rows ordered by each table's key, so an export is reproducible. A
``mapping.yaml`` beside them imports the folder back with ``quire warehouse import``
into a warehouse whose reports show the same figures.

A DuckDB warehouse is copied straight from its file (read-only). Any other database
(PostgreSQL) is read through SQLAlchemy in chunks into a DuckDB file in the folder,
written from there and removed, so memory stays bounded for large tables.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlalchemy as sa
import yaml

from quire.dataio.errors import DataError
from quire.dataio.sources import first_line
from quire.dataio.target import table_names, table_spec
from quire.errors import OutputError, describe_os_error
from quire.warehouse.engine import SESSION_IN_UTC, database_file, engine

Progress = Callable[[str], None]
FORMATS = ("csv", "parquet")
CHUNK_ROWS = 100_000
MAPPING_NAME = "mapping.yaml"


@dataclass(frozen=True)
class ExportStats:
    """What an export wrote."""

    directory: Path
    rows: dict[str, int]   # rows per table file
    mapping: Path          # the mapping that imports the files back


def export_warehouse(url: str, directory: Path, fmt: str = "csv", progress: Progress | None = None, *,
                     replace: bool = False) -> ExportStats:
    """Write every Quire table of the warehouse at ``url`` into ``directory`` as ``fmt`` files, and the mapping.

    Files of the same names already in ``directory`` (a user's own ``mapping.yaml`` or ``clients.csv``) are
    a :class:`DataError` before anything is written, unless ``replace``.
    """
    if fmt not in FORMATS:
        raise DataError(f"--format {fmt!r}: choose csv or parquet")
    report = progress or (lambda _m: None)
    tables = _tables(url)
    if not tables:
        raise DataError("the warehouse holds none of Quire's tables; nothing to export")
    taken = [name for name in (MAPPING_NAME, *(f"{t}.{fmt}" for t in tables)) if (directory / name).exists()]
    if taken and not replace:
        listed = ", ".join(taken[:4]) + (f" and {len(taken) - 4} more" if len(taken) > 4 else "")
        raise DataError(f"{directory} already holds {listed}; export into another folder, or pass --force to "
                        "replace them")
    # The files this export creates: removed again if it cannot finish (a full disk, a read-only folder), so a
    # second try is not refused for the half it left.
    created = [p for p in (directory / name for name in (MAPPING_NAME, *(f"{t}.{fmt}" for t in tables))) if not p.exists()]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        rows = _write_tables(url, tables, directory, fmt, report)
        mapping = directory / MAPPING_NAME
        mapping.write_text(_mapping_text(tables, fmt), encoding="utf-8")
    except (duckdb.IOException, OSError) as exc:
        for path in created:
            with contextlib.suppress(OSError):  # never written (the folder may be no folder at all)
                path.unlink()
        reason = describe_os_error(exc) if isinstance(exc, OSError) else first_line(exc)
        raise OutputError(f"the export could not write into {directory}: {reason}") from exc
    return ExportStats(directory, rows, mapping)


def _write_tables(url: str, tables: list[str], directory: Path, fmt: str, report: Progress) -> dict[str, int]:
    """Every table as a ``fmt`` file in ``directory``, read from the DuckDB file at ``url`` or through a scratch copy."""
    path = database_file(url)
    if path is not None and sa.engine.make_url(url).get_backend_name() == "duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            con.execute(SESSION_IN_UTC["duckdb"])  # views convert times through the session's zone, as reports read
            return _copy_all(con, tables, directory, fmt, report)
        finally:
            con.close()
    scratch = directory / f".export.{os.getpid()}.duckdb"
    con = duckdb.connect(str(scratch))
    try:
        con.execute(SESSION_IN_UTC["duckdb"])
        _fill(con, url, tables, report)
        return _copy_all(con, tables, directory, fmt, report)
    finally:
        con.close()
        for leftover in (scratch, scratch.with_name(scratch.name + ".wal")):
            leftover.unlink(missing_ok=True)


def _tables(url: str) -> list[str]:
    """The Quire tables (or views) the warehouse holds, parents first."""
    eng = engine(url)
    try:
        inspector = sa.inspect(eng)
        present = set(inspector.get_table_names()) | set(inspector.get_view_names())
    finally:
        eng.dispose()
    return [t for t in table_names() if t in present]


def _copy_all(con: duckdb.DuckDBPyConnection, tables: list[str], directory: Path, fmt: str,
              report: Progress) -> dict[str, int]:
    rows = {}
    for table in tables:
        report(f"writing {table}")
        spec = table_spec(table)
        held = {r[0].lower() for r in con.execute("SELECT column_name FROM information_schema.columns "
                                                   "WHERE table_name = ?", [table]).fetchall()}
        columns = ", ".join(_quote(c) if c in held else f"CAST(NULL AS {_sql_type(spec, c)}) AS {_quote(c)}"
                            for c in _exported_columns(spec, held))
        order = ", ".join(_quote(c) for c in spec.key)
        options = "FORMAT csv, HEADER true, DELIMITER ','" if fmt == "csv" else "FORMAT parquet"
        target = directory / f"{table}.{fmt}"
        con.execute(f"COPY (SELECT {columns} FROM {_quote(table)} ORDER BY {order}) TO $path ({options})",
                    {"path": str(target)})
        rows[table] = con.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
    return rows


def _fill(con: duckdb.DuckDBPyConnection, url: str, tables: list[str], report: Progress) -> None:
    """Copy the tables from a server database into the scratch DuckDB file, a chunk at a time."""
    import pandas as pd
    from sqlalchemy.schema import CreateTable

    from quire.dataio.importer import DIALECT

    eng = engine(url)
    try:
        with eng.connect() as conn:
            inspector = sa.inspect(conn)
            for table in tables:
                report(f"reading {table}")
                spec = table_spec(table)
                con.execute(str(CreateTable(spec.table, include_foreign_key_constraints=[]).compile(dialect=DIALECT)))
                held = {c["name"].lower() for c in inspector.get_columns(table)}
                read = [c for c in _exported_columns(spec, held) if c in held]  # the others stay NULL
                source = sa.table(table, *(sa.column(c) for c in read))
                result = conn.execution_options(stream_results=True).execute(sa.select(source))
                names = ", ".join(_quote(c) for c in read)
                while chunk := result.fetchmany(CHUNK_ROWS):
                    frame = pd.DataFrame([tuple(r) for r in chunk], columns=read)
                    con.register("quire_chunk", frame)
                    con.execute(f"INSERT INTO {_quote(table)} ({names}) SELECT * FROM quire_chunk")
                    con.unregister("quire_chunk")
    finally:
        eng.dispose()


def _exported_columns(spec, held: set[str]) -> tuple[str, ...]:
    """The table's columns, once its required ones are known to be there (``held``: the names it has, lower case).

    An optional column the warehouse lacks (a locale, an experiment's measure: tables built before they
    existed, or views of the user's own) is exported empty, as the reports read it; a required one missing
    is a one-line error (the reports could not read the table either).
    """
    missing = [c.name for c in spec.columns if c.name.lower() not in held and not c.nullable]
    if missing:
        raise DataError(f"the warehouse's {spec.name} has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}; "
                        "`quire warehouse check` says what each report needs")
    return spec.column_names


def _sql_type(spec, column: str) -> str:
    """The DuckDB type of ``column`` (for the empty column written in place of a missing optional one)."""
    from quire.dataio.importer import DIALECT

    return spec.column(column).type.compile(dialect=DIALECT)


def _mapping_text(tables: list[str], fmt: str) -> str:
    body = {"mode": "import", "tables": {t: {"source": f"{t}.{fmt}"} for t in tables}}
    header = ("# Written by `quire warehouse export`: imports these files back with\n"
              "#   quire warehouse import mapping.yaml\n"
              "# Every column already has Quire's name and type, so no rename or conversion is needed.\n")
    return header + yaml.safe_dump(body, sort_keys=False)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
