"""Comparing two DuckDB warehouses table by table (export and import round trips)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from quire.dataio.target import table_names


def assert_same_warehouse(first: Path, second: Path) -> None:
    """Both DuckDB files hold the same tables, column types and rows."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{first}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{second}' AS b (READ_ONLY)")
    columns = ("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
               "ORDER BY table_name, ordinal_position")
    assert con.execute(columns, ["a"]).fetchall() == con.execute(columns, ["b"]).fetchall()
    for table in table_names():
        for one, other in (("a", "b"), ("b", "a")):
            extra = con.execute(f"SELECT count(*) FROM (SELECT * FROM {one}.{table} EXCEPT ALL "
                                f"SELECT * FROM {other}.{table})").fetchone()[0]
            assert extra == 0, f"{table}: {extra} rows of {one} not in {other}"
    con.close()
