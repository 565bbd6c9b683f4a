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


def test_an_export_never_replaces_files_it_was_not_told_to(tiny_warehouse: str, tmp_path: Path):
    # A folder holding the user's own mapping.yaml and clients.csv lost both to an export, without a word.
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "mapping.yaml").write_text("# my own mapping\n")
    (folder / "clients.csv").write_text("my,own\n")
    with pytest.raises(DataError, match=r"already holds mapping.yaml, clients.csv; export into another folder, or "
                                        r"pass --force to replace them$"):
        export_warehouse(tiny_warehouse, folder)
    assert (folder / "mapping.yaml").read_text() == "# my own mapping\n" and len(list(folder.iterdir())) == 2
    export_warehouse(tiny_warehouse, folder, replace=True)
    assert (folder / "mapping.yaml").read_text() != "# my own mapping\n"


def test_an_optional_column_the_warehouse_lacks_is_exported_empty(tiny_warehouse: str, tmp_path: Path):
    # A warehouse built before experiments had a measure (or views of the user's own tables): the export crashed
    # with DuckDB's binder error while `quire warehouse check` passed it.
    import shutil

    path = tmp_path / "older.duckdb"
    shutil.copy(tiny_warehouse.removeprefix("duckdb:///"), path)
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE experiments DROP COLUMN metric_name")
        con.execute("ALTER TABLE clients DROP COLUMN locale")
    stats = export_warehouse(f"duckdb:///{path}", tmp_path / "export")
    with duckdb.connect() as con:
        names = con.execute(f"SELECT count(*), count(metric_name) FROM read_csv('{tmp_path / 'export' / 'experiments.csv'}')").fetchone()
    assert names[0] == stats.rows["experiments"] > 0 and names[1] == 0
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE clients DROP COLUMN signup_date")
    with pytest.raises(DataError, match=r"^the warehouse's clients has no signup_date column; `quire warehouse check` says "):
        export_warehouse(f"duckdb:///{path}", tmp_path / "again")


def test_engagement_given_to_another_client_than_its_content_is_refused_shown_to_none_and_checked(tiny_warehouse: str,
                                                                                                   tmp_path: Path):
    # An export's mix-up: client A's row for client B's post put B's figures in A's report and took them from B's.
    from datetime import date

    import pandas as pd

    from quire.contract import check_warehouse
    from quire.warehouse import client_queries
    import sqlalchemy as sa

    from quire.warehouse.engine import connection
    from support import warehouse_copy

    stats = export_warehouse(tiny_warehouse, tmp_path / "export", "csv")
    daily = pd.read_csv(tmp_path / "export" / "engagement_daily.csv")
    content = pd.read_csv(tmp_path / "export" / "content.csv")
    row = daily.index[daily["views"] > 0][-1]  # a row that counts in every sum
    owner = int(daily.at[row, "client_id"])
    other = int(content.loc[content["client_id"] != owner, "client_id"].iloc[0])
    daily.at[row, "client_id"] = other
    daily.to_csv(tmp_path / "export" / "engagement_daily.csv", index=False)
    with pytest.raises(DataError, match=rf"^engagement_daily.csv: engagement_daily gives content {daily.at[row, 'content_id']} "
                                        rf"to client {other}, but content gives it to client {owner}; no client may see"):
        import_files(load_mapping(stats.mapping), f"duckdb:///{tmp_path / 'fresh.duckdb'}")
    assert not (tmp_path / "fresh.duckdb").exists()
    # A warehouse that holds such a row (built another way): the check warns and no client's report counts it.
    path = tmp_path / "mixed.duckdb"
    day = date.fromisoformat(str(daily.at[row, "day"])[:10])
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("update engagement_daily set client_id = ? where content_id = ? and day = ?",
                    [other, int(daily.at[row, "content_id"]), day])
    url = f"duckdb:///{path}"
    with connection(url) as conn:
        assert client_queries.foreign_content_rows(conn)[0] == 1
        mine = client_queries.client_engagement(conn, other, day, day)
        assert int(daily.at[row, "content_id"]) not in set(mine["content_id"])
        result = check_warehouse(conn, ["client"], url=url)
        # Nor in the other clients' comparison: the portfolio's sums are those of the rows that are their own.
        month = (day.replace(day=1), (pd.Timestamp(day) + pd.offsets.MonthEnd(0)).date())
        before = ((pd.Timestamp(month[0]) - pd.offsets.MonthBegin(1)).date(), (pd.Timestamp(month[0]) - pd.Timedelta(days=1)).date())
        sums = client_queries.portfolio_engagement(conn, *month, *before, exclude_client_id=None)
        [(views,)] = conn.execute(sa.text("select sum(e.views) from engagement_daily e join content c using (content_id) "
                                          "where c.client_id = e.client_id and e.day between :a and :b"),
                                  {"a": month[0], "b": month[1]}).all()
        assert sums["views"].sum() == views
    assert [f.code for f in result.reports["client"].findings if f.severity == "warning"] == ["foreign_content"]
    with connection(tiny_warehouse) as conn:
        assert client_queries.foreign_content_rows(conn) == (0, ())
    # Views over the user's own tables: refused as the import refuses it.
    own = duckdb.connect(str(tmp_path / "own.duckdb"))
    own.execute("CREATE SCHEMA shop")
    for table in mapping_tables(stats.mapping):
        own.execute(f"CREATE TABLE shop.{table} AS SELECT * FROM read_csv(?)", [str(tmp_path / "export" / f"{table}.csv")])
    own.close()
    views = yaml.safe_load(stats.mapping.read_text())
    views["mode"] = "views"
    for table, spec in views["tables"].items():
        spec["source"] = f"shop.{table}"
    (tmp_path / "views.yaml").write_text(yaml.safe_dump(views))
    from quire.dataio import create_views

    with pytest.raises(DataError, match=r"engagement_daily gives content .* to client .*, but content gives it to client"):
        create_views(load_mapping(tmp_path / "views.yaml"), f"duckdb:///{tmp_path / 'own.duckdb'}")


def mapping_tables(mapping: Path) -> list[str]:
    return list(yaml.safe_load(mapping.read_text())["tables"])


def test_an_export_that_cannot_write_says_so_in_one_line_and_leaves_nothing_half_done(tiny_warehouse: str, tmp_path: Path):
    # A read-only or full folder: DuckDB's IOException ended the command in a traceback, and the tables written
    # before it stayed, so the next try was refused for "already holds organizations.csv, …".
    from quire.errors import OutputError

    folder = tmp_path / "export"
    (folder / "events.csv").mkdir(parents=True)  # a table's file DuckDB cannot open, after the tables before it
    with pytest.raises(OutputError, match=r"^the export could not write into .*export: .*events\.csv"):
        export_warehouse(tiny_warehouse, folder, replace=True)
    assert [p.name for p in folder.iterdir()] == ["events.csv"]  # only what was there before
    # A folder that is a file: the same one line.
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"^the export could not write into .*file: File exists"):
        export_warehouse(tiny_warehouse, tmp_path / "file")
