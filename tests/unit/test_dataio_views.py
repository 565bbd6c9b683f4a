"""``mode: views`` on DuckDB: the example shop's tables kept where they are, read through checked views.

The user's DuckDB file holds the shop's users and events as its own tables (its column
names, day/month/year text, epoch milliseconds, cents, its own words); the example
mapping with ``mode: views`` creates views beside them, and the cohort report reads the
same users and events through the views as it reads after an import of the files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from quire.dataio import DataError, MappingError, create_views, import_files, load_mapping
from quire.reports import cohort
from support import ROOT

EXAMPLE = ROOT / "examples" / "retail"


def _user_database(path: Path) -> str:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA shop")
    for name in ("users", "events"):
        con.execute(f"CREATE TABLE shop.{name} AS SELECT * FROM read_csv(?)", [str(EXAMPLE / f"{name}.csv")])
    con.close()
    return f"duckdb:///{path}"


def _views_mapping(folder: Path, change=None) -> Path:
    mapping = yaml.safe_load((EXAMPLE / "mapping.yaml").read_text())
    mapping["mode"] = "views"
    for name in ("users", "events"):
        mapping["tables"][name]["source"] = f"shop.{name}"
    if change:
        change(mapping)
    path = folder / "views.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    return path


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_the_cohort_report_reads_the_same_through_views_as_after_an_import(tmp_path: Path):
    imported = f"duckdb:///{tmp_path / 'imported.duckdb'}"
    import_files(load_mapping(EXAMPLE / "mapping.yaml"), imported)
    own = _user_database(tmp_path / "own.duckdb")
    stats = create_views(load_mapping(_views_mapping(tmp_path)), own)
    assert stats.rows == {"organizations": 1, "clients": 1, "users": 700, "events": 8122}
    expected, actual = cohort.load("latest", "month", 12, imported), cohort.load("latest", "month", 12, own)
    assert actual.data_months == expected.data_months
    pd.testing.assert_frame_equal(actual.users, expected.users)
    pd.testing.assert_frame_equal(_sorted(actual.events), _sorted(expected.events))
    # The user's own tables are untouched; the views sit beside them.
    con = duckdb.connect(str(tmp_path / "own.duckdb"), read_only=True)
    kinds = con.execute("SELECT table_schema, table_name, table_type FROM information_schema.tables "
                        "ORDER BY 1, 2").fetchall()
    assert kinds == [("main", "clients", "VIEW"), ("main", "events", "VIEW"), ("main", "organizations", "VIEW"),
                     ("main", "users", "VIEW"), ("shop", "events", "BASE TABLE"), ("shop", "users", "BASE TABLE")]


def test_a_view_whose_data_breaks_the_contract_rolls_back(tmp_path: Path):
    own = _user_database(tmp_path / "own.duckdb")
    create_views(load_mapping(_views_mapping(tmp_path)), own)
    con = duckdb.connect(str(tmp_path / "own.duckdb"))
    before = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'events'").fetchone()
    con.execute("UPDATE shop.events SET amount_cents = -amount_cents WHERE action = 'order'")
    con.close()
    with pytest.raises(DataError, match=r"^view events \(from shop.events\), column revenue \(from 'amount_cents'\): '-\d+' is "
                                        r"negative, but events.revenue must be zero or more; [\d,]+ more rows like it \(a refund"):
        create_views(load_mapping(_views_mapping(tmp_path)), own)
    con = duckdb.connect(str(tmp_path / "own.duckdb"), read_only=True)
    assert con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'events'").fetchone() == before


def test_a_date_the_view_cannot_read_names_the_view_and_column(tmp_path: Path):
    own = _user_database(tmp_path / "own.duckdb")
    con = duckdb.connect(str(tmp_path / "own.duckdb"))
    con.execute("UPDATE shop.users SET created = '2026-13-45' WHERE customer_id = 1005")
    con.close()
    with pytest.raises(DataError, match=r"^view users \(from shop.users\), column signed_up_at \(from 'created'\): '2026-13-45' is not a "
                                        r"date and time in the format '%d/%m/%Y %H:%M'"):
        create_views(load_mapping(_views_mapping(tmp_path)), own)


def test_a_source_value_that_breaks_a_view_after_it_was_made_points_to_the_import(tmp_path: Path):
    # "cannot read the warehouse: … Could not parse string …" with the advice to build the sample warehouse, and the
    # check's "cannot check the warehouse" with no advice at all.
    from quire.contract.check import check_warehouse
    from quire.errors import WarehouseError
    from quire.warehouse.engine import CONVERSION_HINT, connection

    own = _user_database(tmp_path / "own.duckdb")
    create_views(load_mapping(_views_mapping(tmp_path)), own)
    con = duckdb.connect(str(tmp_path / "own.duckdb"))
    con.execute("UPDATE shop.users SET created = 'garbage' WHERE customer_id = 1005")
    con.close()
    with pytest.raises(WarehouseError, match="^cannot read the warehouse: ") as raised:
        cohort.load("latest", "month", 12, own)
    assert raised.value.hint == CONVERSION_HINT and "quire warehouse import <your mapping>" in CONVERSION_HINT
    with connection(own) as conn, pytest.raises(WarehouseError, match="^cannot check the warehouse: ") as raised:
        check_warehouse(conn)
    assert raised.value.hint == CONVERSION_HINT


def test_a_missing_source_table_and_a_schema_duckdb_reports_cannot_read_are_one_line(tmp_path: Path):
    own = _user_database(tmp_path / "own.duckdb")
    missing = _views_mapping(tmp_path, lambda m: m["tables"]["users"].__setitem__("source", "shop.customers"))
    with pytest.raises(DataError, match=r"^tables.users.source: no table or view 'shop.customers' in the database$"):
        create_views(load_mapping(missing), own)
    schema = _views_mapping(tmp_path, lambda m: m.__setitem__("schema", "quire"))
    with pytest.raises(MappingError, match=r"^schema: quire: in DuckDB the reports read the main schema"):
        create_views(load_mapping(schema), own)


def test_views_into_a_duckdb_file_that_is_not_there_say_so_and_make_no_file(tmp_path: Path):
    # A mistyped file name made an empty database there, and the message blamed the first source table.
    wrong = tmp_path / "own-typo.duckdb"
    with pytest.raises(DataError, match=r"^no DuckDB database at .*own-typo\.duckdb: with mode: views"):
        create_views(load_mapping(_views_mapping(tmp_path)), f"duckdb:///{wrong}")
    assert not wrong.exists()


def test_views_over_a_database_holding_an_imported_warehouse_name_the_tables_in_the_way(tmp_path: Path):
    # DuckDB's own words were "Catalog Error: Existing object users is of type Table, trying to drop type View".
    own = _user_database(tmp_path / "own.duckdb")
    con = duckdb.connect(str(tmp_path / "own.duckdb"))
    con.execute("CREATE TABLE users (user_id INTEGER)")  # as an import into this file leaves it
    con.close()
    mapping = load_mapping(_views_mapping(tmp_path, lambda m: None))
    with pytest.raises(DataError, match=r"^the database already holds table users where this mapping's views go "
                                        r"\(a warehouse imported into it\?\); create the views in a database of their own"):
        create_views(mapping, own)
    assert duckdb.connect(str(tmp_path / "own.duckdb"), read_only=True).execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = 'users' "
        "and table_type = 'BASE TABLE'"
    ).fetchone() == (1,)  # left as it was


def test_an_order_log_read_through_views_makes_the_same_users_and_events_as_its_import(tmp_path: Path):
    from support.order_log import ORDERS_MAPPING, orders_csv

    orders_csv(tmp_path)
    imported = f"duckdb:///{tmp_path / 'imported.duckdb'}"
    import_files(load_mapping(_write(tmp_path / "import.yaml", ORDERS_MAPPING)), imported)
    con = duckdb.connect(str(tmp_path / "own.duckdb"))
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.orders AS SELECT * FROM read_csv(?, all_varchar = true)", [str(tmp_path / "orders.csv")])
    con.close()
    views = yaml.safe_load(ORDERS_MAPPING)
    views["mode"] = "views"
    views["tables"]["events"]["source"] = "shop.orders"
    stats = create_views(load_mapping(_write(tmp_path / "views.yaml", yaml.safe_dump(views))), f"duckdb:///{tmp_path / 'own.duckdb'}")
    assert stats.rows == {"organizations": 1, "clients": 1, "users": 3, "events": 6}
    own = f"duckdb:///{tmp_path / 'own.duckdb'}"
    # (Events are numbered by each path in its own way: the import by file line, so skipped rows leave gaps.)
    for query in ("SELECT * FROM users ORDER BY 1", "SELECT * EXCLUDE (event_id) FROM events ORDER BY ALL"):
        read = [duckdb.connect(url.removeprefix("duckdb:///"), read_only=True).execute(query).fetchall()
                for url in (imported, own)]
        assert read[0] == read[1] and read[0]
    expected, actual = cohort.load("latest", "month", 12, imported), cohort.load("latest", "month", 12, own)
    pd.testing.assert_frame_equal(actual.users, expected.users)
    pd.testing.assert_frame_equal(_sorted(actual.events), _sorted(expected.events))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_duplicates_drop_through_a_view_leaves_out_every_repeated_key_as_the_import_does(tmp_path: Path):
    from support.ab_log import AB_MAPPING, ASSIGNMENTS, ab_csv, expected_assignments

    ab_csv(tmp_path)
    con = duckdb.connect(str(tmp_path / "own.duckdb"))
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.ab AS SELECT * FROM read_csv(?, all_varchar = true)", [str(tmp_path / "ab.csv")])
    con.close()
    own = f"duckdb:///{tmp_path / 'own.duckdb'}"
    plain = "mode: views\n" + AB_MAPPING.replace("ab.csv", "shop.ab")
    with pytest.raises(DataError, match=r"duplicate key experiment_id=1, user_id=5 in experiment_assignments; .*"
                                        r"set duplicates: drop \(leave out all of them\)"):
        create_views(load_mapping(_write(tmp_path / "views.yaml", plain)), own)
    stats = create_views(load_mapping(_write(tmp_path / "views.yaml", plain + "    duplicates: drop\n")), own)
    assert stats.rows["experiment_assignments"] == len(expected_assignments("drop")) < len(ASSIGNMENTS)
    read = duckdb.connect(str(tmp_path / "own.duckdb"), read_only=True).execute(
        "SELECT user_id, variant, converted::INT FROM experiment_assignments ORDER BY 1").fetchall()
    assert read == expected_assignments("drop")


def test_an_experiment_plan_makes_the_same_variants_as_views_as_by_an_import(tmp_path: Path):
    (tmp_path / "ab.csv").write_text("uid,grp,bought\n" + "".join(f"{i},{'old' if i % 3 else 'new'},{i % 7 == 0}\n"
                                                                for i in range(1, 301)))
    plan = {"experiment_plan": {"control": "old", "split": {"old": 2, "new": 1}}}
    table = {"rename": {"uid": "user_id", "grp": "variant", "bought": "converted"},
             "defaults": {"experiment_id": 1, "assigned_at": "2024-03-01", "revenue": 0}}
    (tmp_path / "import.yaml").write_text(yaml.safe_dump(
        {**plan, "tables": {"experiment_assignments": {"source": "ab.csv", **table}}}))
    imported = f"duckdb:///{tmp_path / 'imported.duckdb'}"
    import_files(load_mapping(tmp_path / "import.yaml"), imported)
    own = tmp_path / "own.duckdb"
    con = duckdb.connect(str(own))
    con.execute("CREATE TABLE ab AS SELECT * FROM read_csv(?)", [str(tmp_path / "ab.csv")])
    con.close()
    (tmp_path / "views.yaml").write_text(yaml.safe_dump(
        {"mode": "views", **plan, "tables": {"experiment_assignments": {"source": "ab", **table}}}))
    create_views(load_mapping(tmp_path / "views.yaml"), f"duckdb:///{own}")
    query = "SELECT experiment_id, variant, is_control, round(allocation, 6) FROM experiment_variants ORDER BY variant"
    made = [duckdb.connect(str(path), read_only=True).execute(query).fetchall()
            for path in (tmp_path / "imported.duckdb", own)]
    assert made[0] == made[1] == [(1, "new", False, round(1 / 3, 6)), (1, "old", True, round(2 / 3, 6))]


def test_views_tell_apart_clients_whose_names_make_the_same_slug_as_the_import_does(tmp_path: Path):
    (tmp_path / "clients.csv").write_text("no,title,joined\n7,\"Acme, Inc.\",2025-01-10\n12,ACME Inc,2025-02-01\n"
                                          "3,Beta,2025-02-01\n")
    table = {"rename": {"no": "client_id", "title": "name", "joined": "signup_date"}, "defaults": {"status": "active"}}
    (tmp_path / "import.yaml").write_text(yaml.safe_dump({"tables": {"clients": {"source": "clients.csv", **table}}}))
    import_files(load_mapping(tmp_path / "import.yaml"), f"duckdb:///{tmp_path / 'imported.duckdb'}")
    own = tmp_path / "own.duckdb"
    con = duckdb.connect(str(own))
    con.execute("CREATE TABLE accounts AS SELECT * FROM read_csv(?)", [str(tmp_path / "clients.csv")])
    con.close()
    (tmp_path / "views.yaml").write_text(yaml.safe_dump(
        {"mode": "views", "tables": {"clients": {"source": "accounts", **table}}}))
    create_views(load_mapping(tmp_path / "views.yaml"), f"duckdb:///{own}")
    query = "SELECT client_id, slug FROM clients ORDER BY 1"
    made = [duckdb.connect(str(path), read_only=True).execute(query).fetchall()
            for path in (tmp_path / "imported.duckdb", own)]
    assert made[0] == made[1] == [(3, "beta"), (7, "acme-inc-7"), (12, "acme-inc-12")]


#: A sign-up at 8 pm on 31 January in California is 4 am on 1 February in UTC: February's cohort wherever the
#: report runs. Text without an offset is UTC already.
SIGNUPS = {"offset": ("2023-01-31T20:00:00-08:00", "2023-02-01 04:00:00"),
           "naive": ("2023-01-31 20:00:00", "2023-01-31 20:00:00")}


@pytest.mark.parametrize("machine_zone", ["America/Los_Angeles", "Asia/Tokyo", "UTC"])
@pytest.mark.parametrize("written", ["iso", "%Y-%m-%dT%H:%M:%S%z"])
def test_a_view_reads_instants_in_utc_whatever_the_zone_of_the_machine_running_the_report(tmp_path, written,
                                                                                          machine_zone):
    import subprocess
    import sys

    own = tmp_path / "own.duckdb"
    con = duckdb.connect(str(own))
    con.execute("CREATE SCHEMA shop")
    rows = [(1, SIGNUPS["offset"][0])] + ([(2, SIGNUPS["naive"][0])] if written == "iso" else [])
    con.execute("CREATE TABLE shop.users (customer_id VARCHAR, created VARCHAR)")
    con.executemany("INSERT INTO shop.users VALUES (?, ?)", rows)
    con.execute("CREATE TABLE shop.events AS SELECT customer_id, 'signup' AS action, created AS ts FROM shop.users")
    con.close()
    dates = {} if written == "iso" else {"dates": {"signed_up_at": written}}
    mapping = {"mode": "views", "company": {"name": "Shop", "slug": "shop", "sector": "business", "region": "DACH"},
               "tables": {"users": {"source": "shop.users", "rename": {"customer_id": "user_id", "created": "signed_up_at"},
                                    **dates},
                          "events": {"source": "shop.events",
                                     "rename": {"customer_id": "user_id", "action": "event_type", "ts": "occurred_at"},
                                     **({} if written == "iso" else {"dates": {"occurred_at": written}})}}}
    create_views(load_mapping(_write(tmp_path / "views.yaml", yaml.safe_dump(mapping))), f"duckdb:///{own}")
    # The zone is the process's: a report run by a scheduler in UTC and by an analyst's laptop in California.
    read = ("import sys\nfrom quire.warehouse.engine import connection\nimport sqlalchemy as sa\n"
            "with connection(sys.argv[1]) as conn:\n"
            "    for table, column in (('users', 'signed_up_at'), ('events', 'occurred_at')):\n"
            "        print(*(str(v) for v, in conn.execute(sa.text(f'SELECT {column} FROM {table} ORDER BY user_id'))))\n")
    proc = subprocess.run([sys.executable, "-c", read, f"duckdb:///{own}"], capture_output=True, text=True,
                          env={**__import__("os").environ, "TZ": machine_zone}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    expected = " ".join(SIGNUPS[kind][1] for kind in (["offset", "naive"] if written == "iso" else ["offset"]))
    assert proc.stdout.splitlines() == [expected, expected]


def test_an_export_of_views_writes_times_in_utc_whatever_the_machines_zone(tmp_path):
    """The export opened the file itself, in the machine's zone: under Los Angeles every plain time moved 8 hours."""
    import subprocess
    import sys

    own = tmp_path / "own.duckdb"
    con = duckdb.connect(str(own))
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.users AS SELECT '1' AS customer_id, '2023-01-31 20:00:00' AS created")
    con.execute("CREATE TABLE shop.events AS SELECT customer_id, 'signup' AS action, created AS ts FROM shop.users")
    con.close()
    mapping = {"mode": "views", "company": {"name": "Shop", "slug": "shop", "sector": "business", "region": "DACH"},
               "tables": {"users": {"source": "shop.users", "rename": {"customer_id": "user_id", "created": "signed_up_at"}},
                          "events": {"source": "shop.events",
                                     "rename": {"customer_id": "user_id", "action": "event_type", "ts": "occurred_at"}}}}
    create_views(load_mapping(_write(tmp_path / "views.yaml", yaml.safe_dump(mapping))), f"duckdb:///{own}")
    run = ("import sys\nfrom pathlib import Path\nfrom quire.dataio import export_warehouse\n"
           "export_warehouse(sys.argv[1], Path(sys.argv[2]), 'csv')\n")
    proc = subprocess.run([sys.executable, "-c", run, f"duckdb:///{own}", str(tmp_path / "out")], capture_output=True,
                          text=True, env={**__import__("os").environ, "TZ": "America/Los_Angeles"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    users = pd.read_csv(tmp_path / "out" / "users.csv")
    assert pd.Timestamp(users["signed_up_at"].iloc[0]) == pd.Timestamp("2023-01-31 20:00:00")
