"""The sample warehouse: generator invariants, both load paths, the queries and the engine's errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from scipy import stats

from quire.errors import WarehouseDataError, WarehouseError
from quire.warehouse import load, queries, schema
from quire.warehouse.engine import database_file, engine
from quire.warehouse.generator import EXPERIMENT_TRUTH, SCALES, generate, slugify
from quire.warehouse.load import build_warehouse
from support import silent_server, warehouse_copy, within


@pytest.fixture(scope="module")
def tiny_frames(tiny_end) -> dict[str, pd.DataFrame]:
    """What the ``tiny_warehouse`` fixture loaded."""
    return generate("tiny", seed=7, end=tiny_end)


@pytest.fixture(scope="module")
def demo_frames(tiny_end) -> dict[str, pd.DataFrame]:
    """The demo scale generates in about half a second; it has churn and reactivation to check."""
    return generate("demo", seed=7, end=tiny_end)


@pytest.fixture
def conn(tiny_warehouse):
    eng = engine(tiny_warehouse)
    with eng.connect() as connection:
        yield connection
    eng.dispose()


def ledger_problems(movements: pd.DataFrame, clients: pd.DataFrame) -> list[str]:
    """Every broken rule of the MRR ledger (empty when consistent). ``movements`` in ledger order."""
    m = movements.sort_values(["client_id", "month"], kind="stable")
    kind = m["movement"].astype(str)
    cents = (m["amount"] * 100).round().astype("int64")
    balance = cents.groupby(m["client_id"]).cumsum()
    positive = kind.isin(["new", "expansion", "reactivation"])
    rules = {
        "MRR below zero": balance < 0,
        "'new' is not exactly the first movement": (kind == "new") != ~m["client_id"].duplicated(),
        "churn does not bring MRR to exactly 0": (kind == "churn") & (balance != 0),
        "MRR reaches 0 other than by churn": (balance == 0) & (kind != "churn"),
        "reactivation while MRR is not 0": (kind == "reactivation") & (balance - cents != 0),
        "amount has the wrong sign": (positive & (cents <= 0)) | (~positive & (cents >= 0)),
    }
    problems = [f"{rule}: clients {sorted(set(m.loc[bad, 'client_id']))}" for rule, bad in rules.items() if bad.any()]
    final = balance.groupby(m["client_id"]).last()
    last_churn = m[kind == "churn"].groupby("client_id")["month"].max()
    c = clients.set_index("client_id")
    churned = final.reindex(c.index) == 0
    if not (c["status"].astype(str) == np.where(churned, "churned", "active")).all():
        problems.append("clients.status disagrees with the ledger")
    same_month = c["churned_on"].dt.to_period("M") == last_churn.reindex(c.index).dt.to_period("M")
    if not same_month[churned].all() or c.loc[~churned, "churned_on"].notna().any():
        problems.append("clients.churned_on disagrees with the last churn")
    return problems


# -- the built warehouse --------------------------------------------------------------------

def test_every_table_is_loaded_with_every_generated_row(conn, tiny_frames):
    for table in schema.TABLES:
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        assert count == len(tiny_frames[table.name]) > 0, table.name


def test_measures_are_stored_in_double_precision(conn, tiny_frames):
    # DuckDB's FLOAT is 4 bytes: an experiment's revenue 4.03 read back as 4.0300002098.
    found = dict(conn.execute(sa.text(
        "select table_name || '.' || column_name, data_type from information_schema.columns "
        "where data_type in ('FLOAT', 'REAL', 'DOUBLE')")).all())
    assert set(found.values()) == {"DOUBLE"}
    assert {"experiment_assignments.revenue", "experiment_assignments.pre_revenue",
            "projects.actual_hours"} <= set(found)
    stored = conn.execute(sa.text("select revenue from experiment_assignments order by experiment_id, user_id")).scalars()
    expected = tiny_frames["experiment_assignments"].sort_values(["experiment_id", "user_id"])["revenue"]
    assert list(stored) == expected.astype(float).tolist()  # every value exactly as generated


def test_foreign_keys_hold_although_duckdb_tables_do_not_declare_them(conn):
    for table in schema.TABLES:
        for fk in table.foreign_keys:
            orphans = sa.select(sa.func.count()).select_from(fk.parent.table.outerjoin(
                fk.column.table, fk.parent == fk.column)).where(fk.column.is_(None))
            assert conn.execute(orphans).scalar_one() == 0, f"{fk.parent} -> {fk.column}"


def test_ledger_invariants_in_the_warehouse(conn):
    movements = queries.mrr_movements(conn, until=date(2026, 10, 1))
    assert ledger_problems(movements, queries.clients(conn)) == []


def test_ledger_invariants_hold_with_churn_and_reactivation(tiny_end):
    frames = generate("demo", seed=1, end=tiny_end)  # a seed whose ledger has every kind of movement
    movements = frames["mrr_movements"]
    assert set(movements["movement"].astype(str)) == set(schema.MOVEMENTS)
    assert ledger_problems(movements, frames["clients"]) == []


def test_subscriptions_follow_the_ledger(demo_frames):
    subs, moves = demo_frames["subscriptions"], demo_frames["mrr_movements"]
    starts = moves[moves["movement"].isin(["new", "reactivation"])]
    assert len(subs) == len(starts)
    assert subs["ended_on"].notna().sum() == (moves["movement"] == "churn").sum()
    assert (subs["ended_on"].isna() | (subs["ended_on"] >= subs["started_on"])).all()


# -- the generator --------------------------------------------------------------------------

def test_same_seed_same_frames_and_another_seed_differs(tiny_frames, tiny_end):
    again = generate("tiny", seed=7, end=tiny_end)
    for name, frame in tiny_frames.items():
        pd.testing.assert_frame_equal(frame, again[name], obj=name)
    other = generate("tiny", seed=8, end=tiny_end)
    assert not other["clients"]["name"].equals(tiny_frames["clients"]["name"])
    assert not other["events"].equals(tiny_frames["events"])


def test_frames_match_the_schema(tiny_frames):
    for table in schema.TABLES:
        assert list(tiny_frames[table.name].columns) == [c.name for c in table.columns], table.name
        for column in table.columns:
            if not column.nullable:
                assert tiny_frames[table.name][column.name].notna().all(), f"{table.name}.{column.name}"


def test_the_data_ends_on_end_and_spans_the_scale(tiny_frames, tiny_end):
    days = tiny_frames["engagement_daily"]["day"]
    assert days.max() == pd.Timestamp(tiny_end)
    assert tiny_frames["mrr_movements"]["month"].min() == pd.Timestamp("2025-09-01")  # 14 months
    assert tiny_frames["events"]["occurred_at"].max() < pd.Timestamp("2026-11-01")
    assert set(SCALES) == {"tiny", "demo", "large"}


def test_clients_look_real(demo_frames):
    clients, orgs = demo_frames["clients"], demo_frames["organizations"]
    assert set(orgs["brand"]) == {"quire", "northwind", "harbor"}
    assert set(clients["sector"].astype(str)) == set(schema.SECTORS)
    assert set(clients["org_id"]) == set(orgs["org_id"])
    assert clients["name"].is_unique and clients["slug"].is_unique
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in clients["slug"])
    assert clients["contact_email"].str.fullmatch(r"[a-z]+\.[a-z]+@example\.(org|com)").all()
    assert clients["brand"].notna().any() and clients["brand"].dropna().isin(orgs["brand"]).all()
    assert slugify("Harbor & Pine Creative") == "harbor-and-pine-creative"


def test_money_is_in_cents_and_scores_in_range(demo_frames):
    for table, column in [("mrr_movements", "amount"), ("invoices", "amount"), ("projects", "revenue"),
                          ("projects", "cost"), ("events", "revenue")]:
        values = demo_frames[table][column].dropna()
        assert np.allclose(values, values.round(2)), f"{table}.{column}"
    surveys = demo_frames["survey_responses"]
    assert surveys.loc[surveys["survey"] == "nps", "score"].between(0, 10).all()
    assert surveys.loc[surveys["survey"] == "csat", "score"].between(1, 5).all()


def test_the_business_shows_signal(demo_frames):
    projects = demo_frames["projects"].dropna(subset=["delivered_on"])
    margin = 1 - projects["cost"].sum() / projects["revenue"].sum()
    late = (projects["delivered_on"] > projects["due_on"]).mean()
    assert 0.10 <= margin <= 0.45 and 0.1 <= late <= 0.4
    assert (projects["actual_hours"] > projects["estimated_hours"]).mean() > 0.5
    engagement = demo_frames["engagement_daily"]
    per_day = engagement.groupby(engagement["day"].dt.month)["views"].sum() / engagement.groupby(
        engagement["day"].dt.month)["day"].nunique()
    assert per_day[[7, 8, 12]].max() < per_day[[3, 4, 10]].min()  # summer and December dips


def test_usage_declines_before_churn(demo_frames):
    usage = demo_frames["product_usage"]
    churns = demo_frames["mrr_movements"].query("movement == 'churn'")[["client_id", "month"]]
    joined = usage.merge(churns, on="client_id")
    weeks_before = (joined["month"] - joined["week"]).dt.days // 7
    share = joined["active_users"] / joined["seats"]
    assert share[weeks_before.between(0, 4)].mean() < share[weeks_before.between(16, 30)].mean() - 0.1


def test_experiments_match_their_truth(demo_frames):
    experiments = demo_frames["experiments"].set_index("key")
    variants = demo_frames["experiment_variants"]
    assert set(experiments.index) == set(EXPERIMENT_TRUTH) and len(EXPERIMENT_TRUTH) >= 4
    assignments = demo_frames["experiment_assignments"]
    for key, truth in EXPERIMENT_TRUTH.items():
        eid = experiments.loc[key, "experiment_id"]
        mine = variants[variants["experiment_id"] == eid]
        assert tuple(mine["variant"]) == truth.variants and mine["allocation"].sum() == pytest.approx(1)
        assert mine.loc[mine["is_control"], "variant"].tolist() == [truth.control]
        assert set(assignments.loc[assignments["experiment_id"] == eid, "variant"]) == set(truth.variants)
    upsell = assignments[assignments["experiment_id"] == experiments.loc["onboarding-upsell", "experiment_id"]]
    assert upsell["revenue"].corr(upsell["pre_revenue"]) > 0.4  # CUPED has a useful covariate
    assert EXPERIMENT_TRUTH["checkout-redesign"].conversion_lift("one_page") > 0
    assert EXPERIMENT_TRUTH["homepage-aa"].conversion_lift("copy") == 0


@pytest.mark.parametrize("scale", ["tiny", "demo"])
def test_experiment_revenue_comes_only_from_converters(tiny_frames, demo_frames, scale):
    # The report counts a user who bought nothing as $0: the data must say the same.
    assignments = {"tiny": tiny_frames, "demo": demo_frames}[scale]["experiment_assignments"]
    converted = assignments["converted"]
    assert converted.any() and not converted.all()
    assert (assignments.loc[~converted, "revenue"] == 0).all()
    assert (assignments.loc[converted, "revenue"] > 0).all()


def test_pre_period_revenue_is_what_a_user_spent_before_assignment(demo_frames):
    assignments = demo_frames["experiment_assignments"].merge(demo_frames["users"], on="user_id")
    pre = assignments["pre_revenue"]
    assert (pre >= 0).all() and np.allclose(pre, pre.round(2))
    assert 0.3 < (pre == 0).mean() < 0.95  # most users bought nothing before; some bought a lot
    assert pre.max() > 10 * pre[pre > 0].median()
    # Nobody spends before signing up: users assigned on their first day almost never have pre-period revenue,
    # users signed up for weeks often do.
    tenure = assignments["assigned_at"] - assignments["signed_up_at"]
    fresh, settled = tenure < pd.Timedelta(days=1), tenure >= pd.Timedelta(days=28)
    assert fresh.sum() > 100 and settled.sum() > 100
    assert (pre[fresh] > 0).mean() < 0.02 and (pre[settled] > 0).mean() > 0.15


def test_generated_outcomes_agree_with_the_truth(demo_frames):
    """Per variant, conversion and revenue per user lie within 4 standard errors of what the truth implies."""
    experiments = demo_frames["experiments"].set_index("key")
    assignments = demo_frames["experiment_assignments"]
    for key, truth in EXPERIMENT_TRUTH.items():
        mine = assignments[assignments["experiment_id"] == experiments.loc[key, "experiment_id"]]
        by = mine.groupby("variant")
        rate, n = by["converted"].mean(), by.size()
        control = by.get_group(truth.control)["revenue"]
        for variant in truth.variants:
            expected = truth.conversion[truth.variants.index(variant)]
            assert abs(rate[variant] - expected) < 4 * np.sqrt(expected * (1 - expected) / n[variant]), (key, variant)
            revenue = by.get_group(variant)["revenue"]
            se = np.sqrt(revenue.var() / len(revenue) + control.var() / len(control))
            assert abs(revenue.mean() - control.mean() - truth.revenue_lift(variant)) < 4 * se + 1e-9, (key, variant)



def _z(treated: pd.Series, control: pd.Series) -> float:
    """Pooled two-proportion z statistic of converted flags."""
    pooled = (treated.sum() + control.sum()) / (len(treated) + len(control))
    return (treated.mean() - control.mean()) / np.sqrt(pooled * (1 - pooled) * (1 / len(treated) + 1 / len(control)))


@pytest.mark.parametrize("end", [date(2026, 11, 30), date(2026, 8, 31), date(2026, 4, 30), date(2025, 10, 31),
                                 date(2025, 2, 28), date(2024, 12, 31)])
def test_planted_effects_are_detectable_whenever_the_demo_is_built(end):
    """The demo is built up to last month, so its random draws change with the date: every planted effect must
    stand out at any end date, not only at the one the report tests use (independent tests, not the report's)."""
    frames = generate("demo", seed=7, end=end)
    assignments, ids = frames["experiment_assignments"], frames["experiments"].set_index("key")["experiment_id"]

    def arm(key: str, variant: str) -> pd.DataFrame:
        mine = assignments[assignments["experiment_id"] == ids[key]]
        return mine[mine["variant"] == variant]

    assert _z(arm("checkout-redesign", "one_page")["converted"], arm("checkout-redesign", "control")["converted"]) > 3
    control = arm("pricing-page-layout", "control")["converted"]
    assert _z(arm("pricing-page-layout", "social_proof")["converted"], control) > 3  # survives Holm's doubling
    assert abs(_z(arm("pricing-page-layout", "annual_toggle")["converted"], control)) < 3
    upsell = stats.ttest_ind(arm("onboarding-upsell", "guided_setup")["revenue"],
                             arm("onboarding-upsell", "control")["revenue"], equal_var=False)
    assert upsell.statistic > 3
    assert abs(_z(arm("homepage-aa", "copy")["converted"], arm("homepage-aa", "control")["converted"])) < 3
    served = [len(arm("search-ranking", v)) for v in ("control", "semantic")]
    assert stats.chisquare(served).pvalue < 1e-6  # planned 50/50

# -- the queries ----------------------------------------------------------------------------

def test_data_range_is_the_complete_months(conn):
    assert queries.data_range(conn) == (date(2025, 9, 1), date(2026, 10, 1))


def test_query_columns_dtypes_and_date_filters(conn):
    start, end = date(2026, 4, 1), date(2026, 6, 30)
    movements = queries.mrr_movements(conn, until=date(2026, 3, 1))
    assert list(movements.columns) == ["client_id", "month", "movement", "amount"]
    assert movements["month"].dtype == "datetime64[ns]" and movements["month"].max() <= pd.Timestamp("2026-03-01")

    clients = queries.clients(conn)
    assert list(clients.columns) == ["client_id", "org_id", "name", "slug", "sector", "plan", "region", "signup_date",
                                     "contact_email", "status", "churned_on", "brand"]
    assert clients["brand"].notna().all() and clients["churned_on"].dtype == "datetime64[ns]"

    projects = queries.projects(conn, start, end)
    assert list(projects.columns) == [c.name for c in schema.projects.columns] and len(projects)
    in_range = projects["due_on"].between(pd.Timestamp(start), pd.Timestamp(end)) | \
        projects["delivered_on"].between(pd.Timestamp(start), pd.Timestamp(end))
    assert in_range.all() and projects["actual_hours"].dtype == "float64"

    surveys = queries.survey_responses(conn, start, end)
    assert list(surveys.columns) == [c.name for c in schema.survey_responses.columns] and len(surveys)
    assert surveys["responded_on"].between(pd.Timestamp(start), pd.Timestamp(end)).all()

    tickets = queries.support_tickets(conn, start, end)
    assert list(tickets.columns) == [c.name for c in schema.support_tickets.columns] and len(tickets)
    assert (tickets["opened_at"] >= pd.Timestamp(start)).all() and (tickets["opened_at"] < pd.Timestamp("2026-07-01")).all()

    usage = queries.product_usage(conn, start, end)
    assert list(usage.columns) == [c.name for c in schema.product_usage.columns] and len(usage)
    assert usage["week"].between(pd.Timestamp(start), pd.Timestamp(end)).all()
    assert (usage["week"].dt.day_of_week == 0).all()


def test_empty_results_keep_columns_and_dtypes(conn):
    usage = queries.product_usage(conn, date(2001, 1, 1), date(2001, 12, 31))
    assert usage.empty and usage["week"].dtype == "datetime64[ns]" and usage["seats"].dtype == "int64"


# -- building and opening -------------------------------------------------------------------

def test_generic_path_into_sqlite_and_a_partial_last_month(tmp_path):
    """The to_sql path (PostgreSQL's) into SQLite; data ending mid-month makes that month incomplete."""
    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    stats = build_warehouse(url, scale="tiny", seed=7, end=date(2026, 10, 15))
    assert stats.size_bytes and stats.rows == {k: len(v) for k, v in generate("tiny", 7, date(2026, 10, 15)).items()}
    eng = engine(url)
    with eng.connect() as c:
        assert queries.data_range(c) == (date(2025, 9, 1), date(2026, 9, 1))
        assert len(queries.clients(c)) == stats.rows["clients"]
        assert queries.mrr_movements(c, date(2026, 10, 1))["amount"].dtype == "float64"
        with pytest.raises(sa.exc.OperationalError):  # opened read-only
            c.execute(sa.delete(schema.experiment_assignments))
    eng.dispose()


def test_a_sqlite_warehouse_gives_every_report_the_months_and_cohorts_duckdb_gives(tmp_path, tiny_warehouse, tiny_end):
    """SQLite hands dates and instants read from untyped columns back as text: each report's months
    (read that way) and the cohort report's matrices must still equal those of the same data in DuckDB."""
    from quire.reports import cohort
    from quire.warehouse.coverage import REPORT_RANGES

    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    build_warehouse(url, scale="tiny", seed=7, end=tiny_end)
    ranges = {}
    for name, warehouse in (("sqlite", url), ("duckdb", tiny_warehouse)):
        eng = engine(warehouse)
        with eng.connect() as c:
            ranges[name] = {report: reader(c) for report, reader in REPORT_RANGES.items()}
        eng.dispose()
    assert ranges["sqlite"] == ranges["duckdb"] and len(ranges["sqlite"]) >= 3
    assert all(isinstance(d, date) for pair in ranges["sqlite"].values() for d in pair)
    lite, duck = cohort.build(url=url), cohort.build(url=tiny_warehouse)
    pd.testing.assert_frame_equal(lite.active.rates, duck.active.rates)
    pd.testing.assert_frame_equal(lite.ltv_frame, duck.ltv_frame)


def test_a_failed_build_leaves_the_old_warehouse_and_no_debris(tmp_path, monkeypatch, tiny_end):
    target = tmp_path / "wh.duckdb"
    target.write_bytes(b"previous warehouse")

    def half_load(eng, frames, report):
        with eng.begin() as c:
            schema.metadata.create_all(c)
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "_load_duckdb", half_load)
    with pytest.raises(RuntimeError, match="disk full"):
        build_warehouse(f"duckdb:///{target}", scale="tiny", end=tiny_end)
    assert target.read_bytes() == b"previous warehouse"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh.duckdb"]


def test_a_build_onto_a_full_disk_is_one_line_and_keeps_the_old_warehouse(tmp_path, monkeypatch, tiny_end, capfd):
    # DuckDB says a full disk with a FatalException, and then refuses the pool's rollback: two chained tracebacks.
    import duckdb

    from quire.errors import OutputError

    target = tmp_path / "wh.duckdb"
    target.write_bytes(b"previous warehouse")

    def full_disk(eng, frames, report):
        with eng.begin() as c:
            c.exec_driver_sql("create table t (x int)")
            raise duckdb.FatalException('Could not write file "x.building": No space left on device')

    monkeypatch.setattr(load, "_load_duckdb", full_disk)
    with pytest.raises(OutputError, match="No space left on device") as raised:
        build_warehouse(f"duckdb:///{target}", scale="tiny", end=tiny_end)
    assert raised.value.hint.startswith(f"{target} is unchanged; free some space there")
    assert target.read_bytes() == b"previous warehouse"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh.duckdb"]
    assert "Traceback" not in capfd.readouterr().err


def test_missing_warehouse_file_tells_how_to_build_it(tmp_path):
    with pytest.raises(WarehouseError) as info:
        engine(f"duckdb:///{tmp_path / 'absent.duckdb'}")
    assert "quire warehouse build --scale demo" in str(info.value)
    assert not (tmp_path / "absent.duckdb").exists()


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://host/db", "postgresql://h:abc/x"])
def test_bad_urls_are_warehouse_errors(url):
    with pytest.raises(WarehouseError, match="QUIRE_WAREHOUSE_URL"):
        engine(url)
    if url != "nosuchdb://host/db":  # a URL, of a driver that is missing: refused when connecting
        # The build and the import read the URL's file first: the same message, not SQLAlchemy's traceback.
        with pytest.raises(WarehouseError, match="QUIRE_WAREHOUSE_URL"):
            database_file(url)


@pytest.mark.parametrize("url", ["duckdb:///", "duckdb://", "duckdb:///:memory:", "sqlite://"])
def test_a_build_into_a_database_in_memory_is_refused_not_reported_done(url):
    # "✓ tiny warehouse: 13,047 rows … → duckdb:///", and the next run found no table.
    with pytest.raises(WarehouseError, match="names a database in memory"):
        build_warehouse(url, scale="tiny")


@pytest.mark.parametrize("state", ["not-sqlite", "duckdb"])
def test_a_state_database_quire_cannot_use_is_a_state_error(tmp_path, state):
    from quire.errors import StateError
    from quire.state import open_state

    if state == "not-sqlite":
        (tmp_path / "state.db").write_bytes(b"garbage, not a database " * 200)
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = f"duckdb:///{tmp_path / 'state.duckdb'}"
    with pytest.raises(StateError, match="check QUIRE_STATE_URL: a SQLite file or a PostgreSQL database"):
        open_state(url)


def test_a_column_holding_text_where_dates_belong_is_a_data_error(tiny_warehouse, tmp_path):
    # clients.signup_date as text with one "garbage": `quire clients` ended in pandas' DateParseError traceback.
    path = tmp_path / "w.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("alter table clients alter signup_date type varchar")
        con.execute("update clients set signup_date = 'garbage' where client_id = (select min(client_id) from clients)")
    eng = engine(f"duckdb:///{path}")
    try:
        with eng.connect() as c, pytest.raises(WarehouseDataError, match=r"clients\.signup_date holds values that "
                                                                            r"are not dates .*garbage"):
            queries.clients(c)
    finally:
        eng.dispose()


def test_an_empty_database_is_a_warehouse_error(tmp_path):
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    engine(url, read_only=False).dispose()  # creates the file, no tables
    eng = engine(url)
    with eng.connect() as c, pytest.raises(WarehouseError, match="quire warehouse build") as raised:
        queries.data_range(c)
    eng.dispose()
    assert raised.value.message.startswith("the warehouse has no table mrr_movements")


@pytest.fixture
def silent_port():
    with silent_server() as port:
        yield port


def test_a_database_server_that_never_answers_is_an_error_not_a_hang(silent_port, monkeypatch):
    from quire import server_timeouts
    from quire.errors import StateError
    from quire.state import open_state
    from quire.warehouse.engine import CONNECT_HINT

    monkeypatch.setattr(server_timeouts, "CONNECT_TIMEOUT", 1)
    url = f"postgresql+psycopg://quire@127.0.0.1:{silent_port}/warehouse"
    refused = within(30, lambda: engine(url))
    assert isinstance(refused, WarehouseError) and refused.hint == CONNECT_HINT
    assert re.fullmatch(r"cannot connect to the warehouse postgresql\+psycopg://quire@127\.0\.0\.1:\d+/warehouse: "
                        r"connection timeout expired", refused.message), refused.message
    state = within(30, lambda: open_state(url))
    assert isinstance(state, StateError) and "connection timeout expired" in state.message
    # A URL's own bound wins over Quire's.
    monkeypatch.setattr(server_timeouts, "CONNECT_TIMEOUT", 3_600)
    assert isinstance(within(30, lambda: engine(f"{url}?connect_timeout=1")), WarehouseError)


def test_a_warehouse_file_another_program_writes_to_says_which_and_what_to_do(tiny_warehouse, tmp_path):
    # An analyst's DuckDB shell or notebook with the file open read-write: every report failed with
    # "check ... that the database server is up; ... run `quire warehouse build`", neither of which helps.
    path = shutil.copy(make_url(tiny_warehouse).database, tmp_path / "warehouse.duckdb")
    url = f"duckdb:///{path}"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(120)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseError) as refused:
            engine(url)
    finally:
        holder.kill()
        holder.wait()
    assert f"pid {holder.pid}" in refused.value.hint and "read-only" in refused.value.hint
    assert "warehouse build" not in refused.value.hint
    engine(url).dispose()  # once it is closed, reports read it again


@pytest.mark.parametrize("backend", ["duckdb", "sqlite"])
def test_a_missing_table_is_named_in_plain_words_whatever_the_driver(tmp_path, backend):
    from quire.warehouse.engine import driver_reason

    eng = engine(f"{backend}:///{tmp_path / 'w.db'}", read_only=False)
    with eng.connect() as c, pytest.raises(sa.exc.DBAPIError) as raised:
        c.execute(sa.text("SELECT * FROM mrr_movements"))
    eng.dispose()
    assert driver_reason(raised.value) == "there is no table mrr_movements"


def test_without_daily_engagement_the_ledger_gives_the_months(tmp_path):
    url = f"duckdb:///{tmp_path / 'ledger.duckdb'}"
    eng = engine(url, read_only=False)
    with eng.begin() as c:  # the ledger alone, without its foreign key (no clients table here)
        c.execute(sa.text("CREATE TABLE mrr_movements (movement_id INTEGER, client_id INTEGER, month DATE, "
                          "movement VARCHAR, amount DOUBLE)"))
        c.execute(schema.mrr_movements.insert(), [
            {"movement_id": 1, "client_id": 1, "month": date(2026, 1, 1), "movement": "new", "amount": 10.0},
            {"movement_id": 2, "client_id": 1, "month": date(2026, 3, 1), "movement": "expansion", "amount": 5.0}])
    with eng.connect() as c:
        assert queries.data_range(c) == (date(2026, 1, 1), date(2026, 3, 1))
    eng.dispose()


def test_a_run_process_opens_the_warehouse_once(tiny_warehouse, monkeypatch):
    """keep_engines (a run's process): every connection() reuses one engine; otherwise each has its own, disposed."""
    from quire.warehouse import engine as engines

    monkeypatch.setattr(engines, "_kept", None)
    with engines.connection(tiny_warehouse) as first:
        one = first.engine
    with engines.connection(tiny_warehouse) as second:
        assert second.engine is not one and one.pool.checkedin() == 0  # disposed: nothing left open
    engines.keep_engines()
    with engines.connection(tiny_warehouse) as first:
        kept = first.engine
        assert first.execute(sa.text("select count(*) from clients")).scalar() > 0
    try:
        with engines.connection(tiny_warehouse) as second:
            assert second.engine is kept
        assert kept.pool.checkedin() == 1  # the one open connection waits for the next query
    finally:
        kept.dispose()  # this test process goes on to write DuckDB files
