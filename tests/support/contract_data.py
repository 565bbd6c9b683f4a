"""Warehouses that hold only part of the data contract, copied from a sample warehouse (for the contract's tests)."""

from __future__ import annotations

from pathlib import Path


def subset_warehouse(source_url: str, path: Path, *, report: str | None = None, tables: list[str] | None = None,
                     required_only: bool = False) -> str:
    """A new DuckDB warehouse at ``path`` with only ``tables`` (default: every table of ``report``'s contract).

    Each table has only the contract's columns (only the required ones with
    ``required_only``), created through :func:`quire.contract.metadata`, and the rows of the
    same columns of the DuckDB warehouse at ``source_url``. Returns the new warehouse's URL.
    """
    import duckdb
    import sqlalchemy as sa

    from quire.contract import metadata

    meta = metadata(tables, report=report, required_only=required_only)
    url = f"duckdb:///{path}"
    eng = sa.create_engine(url)
    try:
        meta.create_all(eng)
    finally:
        eng.dispose()
    con = duckdb.connect(str(path))
    try:
        con.execute("ATTACH ? AS src (READ_ONLY)", [source_url.removeprefix("duckdb:///")])
        for table in meta.sorted_tables:
            cols = ", ".join(f'"{c.name}"' for c in table.columns)
            con.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM src."{table.name}"')
        con.execute("DETACH src")
    finally:
        con.close()
    return url
