"""Every report on data that came in through the mapping: a CSV round trip and views over a user's PostgreSQL.

* Round trip: the tiny warehouse exported to CSV (``quire warehouse export``) and imported
  back with the written mapping into a fresh warehouse; every report type's ``run.json``
  headline figures equal those from the original warehouse.
* Views: the tiny warehouse's data held in a real PostgreSQL under other table and column
  names, other words, other units and other date forms (as a user's own database would);
  the mapping with ``mode: views`` creates views over it in the schema ``quire``, and every
  report type runs through ``quire run`` against those views, with the same headline
  figures. A mapping the data does not satisfy rolls back and leaves the views as they were.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
import yaml

from support import ROOT, published_runs, quire_free_env, run_quire
from support.runs import run_warm

pytestmark = pytest.mark.slow


def _report_runs(tiny_warehouse: str) -> dict[str, tuple[str, ...]]:
    """Each report type with parameters that name a client and an experiment of the tiny warehouse."""
    con = duckdb.connect(tiny_warehouse.removeprefix("duckdb:///"), read_only=True)
    try:
        [(client,)] = con.execute("SELECT slug FROM clients WHERE status = 'active' ORDER BY client_id LIMIT 1").fetchall()
        [(experiment,)] = con.execute("SELECT key FROM experiments ORDER BY experiment_id LIMIT 1").fetchall()
    finally:
        con.close()
    return {"executive": (), "cohort": (), "experiment": ("-p", f"experiment={experiment}"),
            "client": ("-p", f"client={client}"), "example": ()}


def _headlines(env: dict[str, str], runs: dict[str, tuple[str, ...]], outputs: Path) -> dict[str, list]:
    """Run every report on ``env``'s warehouse; each one's run.json headline."""
    env = {**env, "QUIRE_OUTPUTS": str(outputs)}
    found = {}
    for report, proc in zip(runs, run_warm(env, [("run", report, *args) for report, args in runs.items()]), strict=True):
        assert proc.returncode == 0, f"{report}: {proc.stderr}"
        [folder] = published_runs(outputs, report)
        found[report] = json.loads((folder / "run.json").read_text())["headline"]
        assert found[report], report
    return found


@pytest.fixture(scope="module")
def original(tiny_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """The headlines of every report type on the tiny warehouse itself."""
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_HOME=str(ROOT))
    return _headlines(env, _report_runs(tiny_warehouse), tmp_path_factory.mktemp("original"))


def test_csv_round_trip_gives_every_report_the_same_headline(original, tiny_warehouse, quire_env, tmp_path):
    exported = tmp_path / "export"
    proc = run_quire(quire_env, "warehouse", "export", "--format", "csv", str(exported))
    assert proc.returncode == 0, proc.stderr
    assert (exported / "mapping.yaml").exists() and (exported / "events.csv").exists()
    fresh = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'fresh' / 'warehouse.duckdb'}"}
    proc = run_quire(fresh, "warehouse", "import", str(exported / "mapping.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert _headlines(fresh, _report_runs(tiny_warehouse), tmp_path / "out") == original


# --------------------------------------------------------------------------- views over PostgreSQL

#: The user's database: Quire's tables under the user's names (table -> (user's table, {Quire column: user's column})).
USER_NAMES = {
    "organizations": ("agencies", {"org_id": "agency_no", "name": "agency_name"}),
    "clients": ("accounts", {"client_id": "account no", "org_id": "agency_no", "signup_date": "joined"}),
    "mrr_movements": ("revenue_ledger", {"movement_id": "id", "client_id": "account no", "amount": "amount_cents"}),
    "users": ("customers", {"user_id": "customer-id", "client_id": "account no", "signed_up_at": "created_at",
                            "channel": "Source"}),
    "events": ("activity", {"event_id": "id", "user_id": "customer-id", "event_type": "action",
                            "occurred_at": "ts_ms", "revenue": "amount_cents"}),
}
EVENT_WORDS = {"signup": "registered", "activation": "activated", "session_start": "visit",
               "feature_use": "used_feature", "purchase": "order"}


def _user_frames(tiny_warehouse: str) -> dict[str, tuple[str, object]]:
    """Every tiny table as the user holds it: renamed, in cents, epoch milliseconds, day/month/year text, own words,
    no slugs."""
    con = duckdb.connect(tiny_warehouse.removeprefix("duckdb:///"), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        frames = {t: con.execute(f'SELECT * FROM "{t}"').fetch_df() for t in tables}
    finally:
        con.close()
    frames["clients"]["signup_date"] = frames["clients"]["signup_date"].dt.strftime("%d/%m/%Y")
    # The user's accounts have names but no Quire slugs: the views make them from the names (in PostgreSQL's SQL).
    frames["clients"] = frames["clients"].drop(columns=["slug"])
    frames["mrr_movements"]["amount"] = (frames["mrr_movements"]["amount"] * 100).round().astype("int64")
    events = frames["events"]
    events["occurred_at"] = events["occurred_at"].astype("datetime64[ms]").astype("int64")
    events["revenue"] = (events["revenue"] * 100).round().astype("Int64")
    events["event_type"] = events["event_type"].astype(str).map(EVENT_WORDS)
    out = {}
    for table, frame in frames.items():
        name, columns = USER_NAMES.get(table, (f"src_{table}", {}))
        out[table] = (name, frame.rename(columns=columns))
    return out


def _views_mapping(folder: Path) -> Path:
    tables = {}
    for table, (name, columns) in USER_NAMES.items():
        tables[table] = {"source": f"shop.{name}", "rename": {user: quire for quire, user in columns.items()}}
    tables["clients"]["dates"] = {"signup_date": "%d/%m/%Y"}
    tables["mrr_movements"]["multiply"] = {"amount": 0.01}
    tables["events"].update(dates={"occurred_at": "epoch_millis"}, multiply={"revenue": 0.01},
                            values={"event_type": {user: quire for quire, user in EVENT_WORDS.items()}})
    from quire.dataio.target import table_names

    for table in table_names():
        tables.setdefault(table, {"source": f"shop.src_{table}"})
    path = folder / "views.yaml"
    path.write_text(yaml.safe_dump({"mode": "views", "schema": "quire", "tables": tables}, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def user_database(pg_server, tiny_warehouse) -> str:
    """A PostgreSQL database holding the tiny warehouse's data in the schema ``shop`` under the user's names."""
    from support import postgres

    url = postgres.new_database(pg_server)
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA shop"))
            for name, frame in _user_frames(tiny_warehouse).values():
                frame.to_sql(name, conn, schema="shop", index=False, chunksize=10_000)
    finally:
        eng.dispose()
    return url


def test_every_report_runs_on_views_over_the_users_postgresql(original, user_database, tiny_warehouse, quire_env,
                                                             tmp_path):
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": user_database}
    proc = run_quire(env, "warehouse", "import", str(_views_mapping(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    assert "17 views in schema quire" in proc.stdout
    reading = {**quire_env, "QUIRE_WAREHOUSE_URL": f"{user_database}?options=-csearch_path%3Dquire"}
    # The four report types (the analyst's example sums money in plain SQL, which PostgreSQL returns as Decimal).
    runs = {k: v for k, v in _report_runs(tiny_warehouse).items() if k != "example"}
    assert _headlines(reading, runs, tmp_path / "out") == {k: original[k] for k in runs}


def test_a_views_mapping_the_data_breaks_rolls_back(user_database, quire_env, tmp_path):
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": user_database}
    good = _views_mapping(tmp_path)
    assert run_quire(env, "warehouse", "import", str(good)).returncode == 0
    eng = sa.create_engine(user_database)
    try:
        with eng.connect() as conn:
            before = conn.execute(sa.text("SELECT pg_get_viewdef('quire.events'::regclass)")).scalar_one()
    finally:
        eng.dispose()
    mapping = yaml.safe_load(good.read_text())
    del mapping["tables"]["events"]["values"]["event_type"]["order"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mapping))
    proc = run_quire(env, "warehouse", "import", str(bad))
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: view quire.events (from shop.activity), column event_type: 'order' is not one of "
                           "Quire's values (signup, activation, session_start, feature_use, purchase); map it under "
                           "tables.events.values.event_type"), line
    eng = sa.create_engine(user_database)
    try:
        with eng.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_get_viewdef('quire.events'::regclass)")).scalar_one() == before
    finally:
        eng.dispose()


def test_a_postgresql_warehouse_exports_to_parquet_and_imports_back(pg_tiny_warehouse, tiny_warehouse, tmp_path):
    from quire.dataio import export_warehouse, import_files, load_mapping
    from support.warehouses import assert_same_warehouse

    stats = export_warehouse(pg_tiny_warehouse, tmp_path / "export", "parquet")
    assert not list((tmp_path / "export").glob(".export*"))  # the scratch database is gone
    import_files(load_mapping(stats.mapping), f"duckdb:///{tmp_path / 'fresh.duckdb'}")
    assert_same_warehouse(Path(tiny_warehouse.removeprefix("duckdb:///")), tmp_path / "fresh.duckdb")


def test_an_order_log_in_postgresql_gets_its_users_made_by_views_as_by_an_import(pg_server, tmp_path):
    """The derived users and the skipped guest orders, as PostgreSQL views, equal what the import makes."""
    from quire.dataio import create_views, import_files, load_mapping
    from support import postgres
    from support.order_log import ORDERS, ORDERS_MAPPING, orders_csv

    orders_csv(tmp_path)
    (tmp_path / "import.yaml").write_text(ORDERS_MAPPING)
    import_files(load_mapping(tmp_path / "import.yaml"), f"duckdb:///{tmp_path / 'imported.duckdb'}")
    url = postgres.new_database(pg_server)
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA shop; CREATE TABLE shop.orders (customer text, placed text, total_cents text)"))
            conn.execute(sa.text("INSERT INTO shop.orders VALUES (:c, :p, :t)"),
                         [{"c": c or None, "p": p, "t": t} for c, p, t in ORDERS])
        views = yaml.safe_load(ORDERS_MAPPING)
        views.update(mode="views", schema="quire")
        views["tables"]["events"]["source"] = "shop.orders"
        (tmp_path / "views.yaml").write_text(yaml.safe_dump(views))
        stats = create_views(load_mapping(tmp_path / "views.yaml"), url)
        assert stats.rows["users"] == 3 and stats.rows["events"] == sum(1 for row in ORDERS if row[0])
        imported = duckdb.connect(str(tmp_path / "imported.duckdb"), read_only=True)
        with eng.connect() as conn:
            for table, columns in (("users", "user_id, client_id, signed_up_at, channel, country"),
                                   ("events", "user_id, event_type, occurred_at, revenue")):
                query = f"SELECT {columns} FROM {{}}{table} ORDER BY {columns}"
                assert ([tuple(r) for r in conn.execute(sa.text(query.format("quire.")))]
                        == imported.execute(query.format("")).fetchall())
    finally:
        eng.dispose()


def test_postgresql_views_read_numbers_as_the_mapping_says_and_make_the_planned_variants(pg_server, tmp_path):
    """A German export kept as text in PostgreSQL (1.234,50) and an experiment plan: the views' SQL is PostgreSQL's."""
    from quire.dataio import DataError, create_views, load_mapping
    from support import postgres

    url = postgres.new_database(pg_server)
    eng = sa.create_engine(url)
    # A stray bell and escape, a line break: the views drop them as the import does (PostgreSQL's regexp_replace).
    rows = [(1, "psa", "1.234,50"), (2, "ad\x07", "2,5"), (3, "\x1bad\r\n", "1.000.000"), (4, "ad", "0")]
    mapping = {"mode": "views", "schema": "quire",
               "experiment_plan": {"control": "psa", "split": {"ad": 96, "psa": 4}},
               "tables": {"experiment_assignments": {
                   "source": "shop.ab", "rename": {"uid": "user_id", "grp": "variant", "spent": "revenue"},
                   "numbers": "1.234,56",
                   "defaults": {"experiment_id": 1, "assigned_at": "2024-01-15", "converted": False}}}}
    try:
        with eng.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA shop; CREATE TABLE shop.ab (uid integer, grp text, spent text)"))
            conn.execute(sa.text("INSERT INTO shop.ab VALUES (:u, :g, :s)"), [{"u": u, "g": g, "s": s} for u, g, s in rows])
        (tmp_path / "views.yaml").write_text(yaml.safe_dump(mapping))
        create_views(load_mapping(tmp_path / "views.yaml"), url)
        with eng.connect() as conn:
            assert [float(v) for (v,) in conn.execute(sa.text(
                "SELECT revenue FROM quire.experiment_assignments ORDER BY user_id"))] == [1234.5, 2.5, 1_000_000.0, 0.0]
            assert [v for (v,) in conn.execute(sa.text(
                "SELECT variant FROM quire.experiment_assignments ORDER BY user_id"))] == ["psa", "ad", "ad", "ad"]
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT variant, is_control, allocation FROM quire.experiment_variants ORDER BY variant"))] == [
                ("ad", False, 0.96), ("psa", True, 0.04)]
        with eng.begin() as conn:
            conn.execute(sa.text("UPDATE shop.ab SET spent = '2.5' WHERE uid = 2"))  # not how the mapping says
        with pytest.raises(DataError, match=r"column revenue: a value cannot be read: .*\"2\.5 \(not written as "
                                            r"1\.234,56\)\""):
            create_views(load_mapping(tmp_path / "views.yaml"), url)
        # PostgreSQL reads 'NaN' as a number (numeric and double precision hold it): the view's check refuses it.
        with eng.begin() as conn:
            conn.execute(sa.text("UPDATE shop.ab SET spent = CASE uid WHEN 2 THEN 'NaN' ELSE '1' END"))
        del mapping["tables"]["experiment_assignments"]["numbers"]
        (tmp_path / "views.yaml").write_text(yaml.safe_dump(mapping))
        with pytest.raises(DataError, match=r"column revenue: 'NaN' is not a finite number \(NaN or infinity\)"):
            create_views(load_mapping(tmp_path / "views.yaml"), url)
    finally:
        eng.dispose()


@pytest.mark.parametrize("written", ["iso", "%Y-%m-%dT%H:%M:%S%z"])
def test_postgresql_views_read_offsets_and_plain_times_as_utc_on_a_server_in_another_zone(pg_server, tmp_path, written):
    """8 pm on 31 January in California is 4 am on 1 February in UTC (a plain cast to a timestamp drops the offset);
    text without an offset is UTC already, whatever the zone the server or the session is set to."""
    from quire.dataio import create_views, load_mapping
    from quire.warehouse.engine import connection
    from support import postgres

    url = postgres.new_database(pg_server)
    rows = [("1", "2023-01-31T20:00:00-08:00")] + ([("2", "2023-01-31 20:00:00")] if written == "iso" else [])
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(sa.text(f"ALTER DATABASE {eng.url.database} SET timezone = 'America/Los_Angeles'"))
            conn.execute(sa.text("CREATE SCHEMA shop; CREATE TABLE shop.users (customer_id text, created text)"))
            conn.execute(sa.text("INSERT INTO shop.users VALUES (:u, :c)"), [{"u": u, "c": c} for u, c in rows])
            conn.execute(sa.text("CREATE TABLE shop.events AS SELECT customer_id, 'signup' AS action, created AS ts "
                                 "FROM shop.users"))
    finally:
        eng.dispose()
    dates = {} if written == "iso" else {"dates": {"signed_up_at": written}}
    mapping = {"mode": "views", "schema": "quire",
               "company": {"name": "Shop", "slug": "shop", "sector": "business", "region": "DACH"},
               "tables": {"users": {"source": "shop.users", "rename": {"customer_id": "user_id", "created": "signed_up_at"},
                                    **dates},
                          "events": {"source": "shop.events",
                                     "rename": {"customer_id": "user_id", "action": "event_type", "ts": "occurred_at"},
                                     **({} if written == "iso" else {"dates": {"occurred_at": written}})}}}
    (tmp_path / "views.yaml").write_text(yaml.safe_dump(mapping))
    create_views(load_mapping(tmp_path / "views.yaml"), url)
    expected = [datetime(2023, 2, 1, 4)] + ([datetime(2023, 1, 31, 20)] if written == "iso" else [])
    with connection(url) as conn:
        assert [v for (v,) in conn.execute(sa.text("SELECT signed_up_at FROM quire.users ORDER BY user_id"))] == expected
        assert [v for (v,) in conn.execute(sa.text("SELECT occurred_at FROM quire.events ORDER BY user_id"))] == expected
