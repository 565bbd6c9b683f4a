"""Each report's valid periods and 'latest' come from the tables it reads (quire.warehouse.coverage)."""

from __future__ import annotations

from datetime import date

import pytest

from quire.config import Settings
from quire.errors import WarehouseError
from quire.periods import add_months, last_ended_month, month_start
from quire.pipeline import prepare
from quire.reports import cohort
from quire.warehouse import coverage, queries
from quire.warehouse.engine import connection
from support import ROOT, rebuild_table, warehouse_copy

TINY = (date(2025, 9, 1), date(2026, 10, 1))


def settings(url: str, tmp_path) -> Settings:
    return Settings(home=ROOT, outputs=tmp_path / "outputs", warehouse_url=url)


@pytest.fixture(scope="module")
def no_ledger(tiny_warehouse, tmp_path_factory) -> str:
    """The tiny warehouse with users and events but an empty MRR ledger."""
    path = tmp_path_factory.mktemp("no-ledger") / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from mrr_movements")
    return f"duckdb:///{path}"


@pytest.fixture(scope="module")
def stale_events(tiny_warehouse, tmp_path_factory) -> str:
    """The tiny warehouse whose product events stop on 15 August 2026 (engagement and the ledger go on)."""
    path = tmp_path_factory.mktemp("stale-events") / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from events where occurred_at >= timestamp '2026-08-16'")
    return f"duckdb:///{path}"


def test_the_built_in_reports_read_their_own_range_and_others_the_general_one(tiny_warehouse):
    with connection(tiny_warehouse) as conn:
        assert {name: coverage.report_range(name, conn) for name in coverage.REPORT_RANGES} == dict.fromkeys(
            ("executive", "cohort", "client"), TINY)
        assert coverage.report_range("my-analysis", conn) == queries.data_range(conn) == TINY


def test_a_warehouse_without_a_ledger_still_runs_the_cohort_report(no_ledger, tmp_path):
    with connection(no_ledger) as conn:
        with pytest.raises(WarehouseError, match="no MRR data"):
            coverage.report_range("executive", conn)
        assert coverage.report_range("cohort", conn) == TINY
    plan = prepare("cohort", {"period": "latest"}, settings(no_ledger, tmp_path))
    assert plan.params["period"] == "2026-10"
    report = cohort.build(period=plan.params["period"], url=no_ledger)
    assert report.problem is None and report.active.sizes.sum() > 0
    with pytest.raises(WarehouseError, match="no MRR data"):
        prepare("executive", {"period": "latest"}, settings(no_ledger, tmp_path))


def test_latest_is_the_last_complete_month_of_each_reports_own_data(stale_events, tmp_path):
    config = settings(stale_events, tmp_path)
    assert prepare("cohort", {"period": "latest"}, config).params["period"] == "2026-07"
    assert prepare("executive", {"period": "latest"}, config).params["period"] == "2026-10"
    assert cohort.load(url=stale_events).period.key == "2026-07"  # the notebook agrees with the pipeline
    from quire.errors import ParameterError

    with pytest.raises(ParameterError, match=r"2026-09 is after the data ends \(data covers 2025-09 to 2026-07\)"):
        prepare("cohort", {"period": "2026-09"}, config)


def test_the_ledgers_last_month_counts_only_when_the_daily_data_reaches_its_end(tiny_warehouse, tmp_path):
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from engagement_daily where day > date '2026-10-20'")
        con.execute("delete from events where occurred_at >= timestamp '2026-10-21'")
    with connection(f"duckdb:///{path}") as conn:
        assert coverage.ledger_range(conn) == (date(2025, 9, 1), date(2026, 9, 1))
        assert coverage.data_reach(conn) == date(2026, 10, 20)


def test_a_month_not_yet_ended_is_never_complete_whatever_the_data_holds(tiny_warehouse, tmp_path):
    # An export taken mid-month holds this month's changes, and billing tools book a downgrade for the next renewal:
    # "latest" was that future month, published with flat invented figures and a forecast fitted to them.
    this_month = month_start(date.today())
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from engagement_daily")
        con.execute("delete from events")  # no daily data: the ledger alone tells how far the data goes
        con.execute("insert into mrr_movements values (9001, 3, ?, 'expansion', 10.00), "
                    "(9002, 3, ?, 'contraction', -10.00)", [this_month, add_months(this_month, 3)])
    url = f"duckdb:///{path}"
    with connection(url) as conn:
        assert coverage.ledger_range(conn) == (date(2025, 9, 1), add_months(this_month, -1)) == \
            (date(2025, 9, 1), last_ended_month())
        assert queries.data_range(conn)[1] == last_ended_month()
    from quire.errors import ParameterError

    with pytest.raises(ParameterError, match=rf"{this_month:%Y-%m} is not complete yet"):
        prepare("executive", {"period": f"{this_month:%Y-%m}"}, settings(url, tmp_path))
    with warehouse_copy(tiny_warehouse, path) as con:  # only this month's ledger: no complete month at all
        con.execute("delete from engagement_daily")
        con.execute("delete from events")
        con.execute("update mrr_movements set month = ?", [this_month])
    with connection(url) as conn, pytest.raises(WarehouseError, match=rf"the ledger starts {this_month:%Y-%m}, "
                                                                      rf"{this_month:%B %Y} has not ended yet"):
        coverage.ledger_range(conn)
    assert last_ended_month(date(2026, 12, 4)) == date(2026, 11, 1) == last_ended_month(date(2026, 12, 1))
    assert last_ended_month(date(2027, 1, 31)) == date(2026, 12, 1)


def test_months_without_a_ledger_row_are_months_without_a_change_as_far_as_the_data_goes(tiny_warehouse, tmp_path):
    # Nothing changed in October: the ledger has no October row, and the report stopped at September although the
    # daily data covers October (a company whose accounts kept their plans since April was reported for April).
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from mrr_movements where month >= date '2026-09-01'")
        moved = con.execute("select max(month) from mrr_movements").fetchone()[0]
    url = f"duckdb:///{path}"
    config = settings(url, tmp_path)
    assert prepare("executive", {"period": "latest"}, config).params["period"] == "2026-10"
    from quire.reports import executive

    report = executive.build("2026-10", url=url)
    assert report.current["mrr"] == report.previous["mrr"] and report.current["mrr_growth"] == 0.0
    [quiet] = [c for c in report.revenue().children if getattr(c, "title", "") == "No MRR change:"]
    mrr = f"${round(report.current['mrr']):,}"
    assert quiet.message == (f"The MRR ledger has no movement after {moved:%B %Y}: no account's MRR changed since, so "
                             f"MRR stays at {moved:%B %Y}'s {mrr} through October 2026. If the billing data ends in "
                             f"{moved:%B %Y}, import the months after it.")
    assert not [c for c in executive.build(f"{moved:%Y-%m}", url=url).revenue().children
                if getattr(c, "title", "") == "No MRR change:"]
    with warehouse_copy(tiny_warehouse, path) as con:  # a quiet month with changes after it needs no word
        con.execute(f"delete from mrr_movements where month = date '{moved:%Y-%m-%d}'")
    assert not [c for c in executive.build(f"{moved:%Y-%m}", url=url).revenue().children
                if getattr(c, "title", "") == "No MRR change:"]
    from quire.errors import ParameterError

    with pytest.raises(ParameterError) as info:  # a month past the data says where the months come from
        prepare("executive", {"period": "2026-11"}, config)
    assert "a month without a row in mrr_movements is one in which no account's MRR changed" in info.value.message


def test_without_daily_data_the_other_tables_say_how_far_a_quiet_ledger_goes(tiny_warehouse, tmp_path):
    # An MRR export with surveys, usage and tickets but no daily data: the last ledger change (April) was "latest".
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from engagement_daily")
        con.execute("delete from events")
        con.execute("delete from mrr_movements where month >= date '2026-05-01'")
        reach = con.execute("select max(responded_on) from survey_responses").fetchone()[0]
    with connection(f"duckdb:///{path}") as conn:
        first, last = coverage.ledger_range(conn)
    assert last >= queries.last_complete_month(reach) and last > date(2026, 4, 1)
    with warehouse_copy(tiny_warehouse, path) as con:  # a ledger alone: its own last month, as before
        con.execute("delete from engagement_daily")
        con.execute("delete from events")
        for table in ("projects", "survey_responses", "product_usage", "support_tickets"):
            con.execute(f"delete from {table}")
        con.execute("delete from mrr_movements where month >= date '2026-05-01'")
    with connection(f"duckdb:///{path}") as conn:
        assert coverage.ledger_range(conn) == (date(2025, 9, 1), date(2026, 4, 1))


def _days_as_text(con, table: str, column: str, form: str) -> None:
    rebuild_table(con, table, f"* REPLACE (strftime({column}, '{form}') AS {column})")


def test_daily_data_held_as_text_in_another_form_does_not_stop_the_ledgers_range(tiny_warehouse, tmp_path):
    # The executive report only looks at how far events reach; '31/12/2025 23:57' raised a bare ValueError from
    # every executive run, `quire warehouse check` and `quire run --all`. Its own report (cohort) refuses it.
    with warehouse_copy(tiny_warehouse, tmp_path / "text-events.duckdb") as con:
        _days_as_text(con, "events", "occurred_at", "%d/%m/%Y %H:%M")
    with connection(f"duckdb:///{tmp_path / 'text-events.duckdb'}") as conn, connection(tiny_warehouse) as before:
        assert coverage.report_range("executive", conn) == coverage.report_range("executive", before)


def test_a_ledger_month_that_is_no_date_is_named(tiny_warehouse, tmp_path):
    with warehouse_copy(tiny_warehouse, tmp_path / "text-months.duckdb") as con:
        _days_as_text(con, "mrr_movements", "month", "%m/%Y")
    with connection(f"duckdb:///{tmp_path / 'text-months.duckdb'}") as conn:
        with pytest.raises(WarehouseError, match=r"the warehouse's mrr_movements.month holds '\d\d/20\d\d', which is "
                                                 "not a date; store it as DATE or TIMESTAMP"):
            coverage.report_range("executive", conn)
