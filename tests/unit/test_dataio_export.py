"""``quire warehouse export``: every table as CSV or Parquet, and a mapping that imports them back unchanged.

Exported and imported again, every table of the tiny warehouse holds exactly the rows it
held (compared with ``EXCEPT ALL`` both ways) with the same column types.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from quire.dataio import DataError, export_warehouse, import_files, load_mapping
from quire.dataio.target import table_names
from support.warehouses import assert_same_warehouse


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_export_imports_back_to_the_same_tables(fmt: str, tiny_warehouse: str, tmp_path: Path):
    stats = export_warehouse(tiny_warehouse, tmp_path / "export", fmt)
    assert list(stats.rows) == list(table_names())
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == sorted(
        ["mapping.yaml", *(f"{t}.{fmt}" for t in table_names())])
    mapping = yaml.safe_load(stats.mapping.read_text())
    assert mapping == {"mode": "import", "tables": {t: {"source": f"{t}.{fmt}"} for t in table_names()}}
    fresh = tmp_path / "fresh.duckdb"
    imported = import_files(load_mapping(stats.mapping), f"duckdb:///{fresh}")
    assert imported.rows == stats.rows and imported.derived == ()
    assert_same_warehouse(Path(tiny_warehouse.removeprefix("duckdb:///")), fresh)


def test_a_warehouse_without_quire_tables_has_nothing_to_export(tmp_path: Path):
    duckdb.connect(str(tmp_path / "other.duckdb")).execute("CREATE TABLE notes (x INTEGER)").close()
    with pytest.raises(DataError, match="^the warehouse holds none of Quire's tables; nothing to export$"):
        export_warehouse(f"duckdb:///{tmp_path / 'other.duckdb'}", tmp_path / "export")
