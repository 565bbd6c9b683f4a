"""quire.contract.check: a warehouse held against every report's contract (what `quire warehouse check` shows)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from quire.contract import check_warehouse
from quire.contract.check import CheckResult
from quire.errors import WarehouseError
from quire.periods import parse_period
from quire.warehouse.engine import connection
from support import warehouse_copy


def check(url: str) -> CheckResult:
    with connection(url) as conn:
        return check_warehouse(conn)


def planted(tiny_warehouse: str, tmp_path, *statements: str) -> str:
    """A copy of the tiny warehouse after ``statements``; its URL."""
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        for sql in statements:
            con.execute(sql)
    return f"duckdb:///{path}"


def codes(result: CheckResult, report: str) -> list[tuple[str, str, str, str | None]]:
    return [(f.severity, f.code, f.table, f.column) for f in result.reports[report].findings]


@pytest.fixture(scope="module")
def tiny_check(tiny_warehouse) -> CheckResult:
    return check(tiny_warehouse)


def test_the_sample_warehouse_meets_every_contract(tiny_check, tiny_warehouse):
    r = tiny_check
    assert r.ok and r.dialect == "duckdb"
    assert all(not rep.findings and not rep.left_out for rep in r.reports.values())
    with connection(tiny_warehouse) as conn:
        for name, table in r.tables.items():
            assert table.present and table.rows == conn.exec_driver_sql(f"select count(*) from {name}").scalar()
            assert all(c.status == "ok" for c in table.columns.values())


def test_date_coverage_and_periods_per_granularity(tiny_check):
    cohort = tiny_check.reports["cohort"]
    assert (cohort.first_month, cohort.last_month) == (date(2025, 9, 1), date(2026, 10, 1))
    assert cohort.periods == {"month": {"first": "2025-09", "latest": "2026-10"},
                              "quarter": {"first": "2025-Q4", "latest": "2026-Q3"}, "year": None}
    events = tiny_check.tables["events"]
    assert events.last_day == date(2026, 10, 31) and events.first_day >= date(2025, 9, 1)
    assert events.complete_months == 14
    ledger = tiny_check.tables["mrr_movements"]
    assert ledger.complete_months == 14  # a monthly table counts its last month
    assert tiny_check.reports["experiment"].experiments == [
        "checkout-redesign", "homepage-aa", "pricing-page-layout", "onboarding-upsell", "search-ranking"]


def test_a_data_end_mid_month_leaves_that_month_out(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path, "delete from engagement_daily where day > date '2026-10-20'"))
    client = r.reports["client"]
    assert client.can_run and client.last_month == date(2026, 9, 1)
    assert client.periods["month"] == {"first": "2025-09", "latest": "2026-09"}
    assert r.tables["engagement_daily"].complete_months == 13


def test_a_missing_required_table_stops_only_the_reports_that_need_it(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path, "drop table events"))
    assert not r.ok and not r.reports["cohort"].can_run
    assert codes(r, "cohort") == [("error", "missing_table", "events", None)]
    assert r.reports["executive"].can_run and r.reports["client"].can_run and r.reports["experiment"].can_run
    assert not r.tables["events"].present


def test_a_missing_optional_table_is_a_note_and_the_report_runs(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path, "drop table experiment_variants", "drop table product_usage"))
    assert r.ok
    assert r.reports["experiment"].left_out == ["experiment_variants"]
    assert codes(r, "experiment") == [("note", "missing_table", "experiment_variants", None)]
    assert set(r.reports["client"].left_out) == {"product_usage"}
    assert "the health score leaves out seat utilisation" in r.reports["client"].findings[0].message


def test_missing_columns_required_and_optional(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path, "alter table users drop column signed_up_at",
                      "alter table experiment_assignments drop column pre_revenue",
                      "alter table subscriptions drop column ended_on",
                      "alter table organizations rename column org_id to id", "alter table organizations drop column brand"))
    assert ("error", "missing_column", "users", "signed_up_at") in codes(r, "cohort")
    assert not r.reports["cohort"].can_run
    experiment = r.reports["experiment"]
    assert experiment.can_run and codes(r, "experiment") == [("note", "missing_column", "experiment_assignments",
                                                               "pre_revenue")]
    # An optional table without a column it needs is left out, with a warning.
    client = r.reports["client"]
    assert client.can_run and "subscriptions" in client.left_out
    assert ("warning", "missing_column", "subscriptions", "ended_on") in codes(r, "client")
    assert r.tables["users"].columns["signed_up_at"].status == "missing"
    # A table none of whose contract columns is there still has its rows counted.
    assert r.tables["organizations"].rows == 3 and "organizations" in client.left_out


def test_mistyped_columns_stop_the_report(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path, "alter table users alter signed_up_at type varchar",
                      "alter table support_tickets alter opened_at type timestamptz"))
    assert ("error", "mistyped_column", "users", "signed_up_at") in codes(r, "cohort")
    assert r.tables["users"].columns["signed_up_at"].found == "VARCHAR"
    # An optional table that is there is read: a column of the wrong type in it stops the report too.
    opened = next(f for f in r.reports["client"].findings if f.column == "opened_at")
    assert opened.code == "mistyped_column" and "with a time zone: store UTC without one" in opened.message
    assert [rep.report for rep in r.reports.values() if rep.can_run] == ["experiment"]


def test_empty_tables(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path, "delete from events", "delete from projects"))
    assert ("error", "empty_table", "events", None) in codes(r, "cohort")
    assert ("note", "empty_table", "projects", None) in codes(r, "executive")
    assert r.reports["executive"].can_run and not r.reports["cohort"].can_run


def test_orphans_values_outside_the_allowed_sets_and_bounds_and_nulls(tiny_warehouse, tmp_path):
    r = check(planted(
        tiny_warehouse, tmp_path,
        "insert into events values (900001, 424242, 'click', timestamp '2026-03-01 10:00', null)",
        "insert into events values (900002, 424243, 'click', timestamp '2026-03-02 10:00', null)",
        "insert into events values (900003, 424243, 'tap', timestamp '2026-03-02 11:00', null)",
        "update engagement_daily set views = -3 where content_id = (select min(content_id) from content)",
        "alter table survey_responses alter score drop not null",
        "update survey_responses set score = null where response_id in (select min(response_id) from survey_responses)",
        "update survey_responses set score = 11 where response_id in (select max(response_id) from survey_responses)",
    ))
    found = {f.code + ":" + f.table: f for rep in r.reports.values() for f in rep.findings}
    orphans = found["orphans:events"]
    assert (orphans.count, orphans.examples, orphans.severity) == (3, ("424242", "424243"), "warning")
    # Not "reports leave them out": the executive report counts a ledger row of an unknown client in company MRR.
    assert orphans.message.endswith("no report can say whose they are, so figures per user leave them out; totals "
                                    "over the whole table may still count them"), orphans.message
    outside = found["outside_allowed:events"]
    assert (outside.count, outside.examples) == (3, ("click", "tap"))
    assert "3 rows have event_type outside signup, activation" in outside.message
    views = found["out_of_range:engagement_daily"]
    assert views.column == "views" and views.count > 0 and "below 0" in views.message
    assert found["out_of_range:survey_responses"].count == 1 and "outside 0 to 10" in found["out_of_range:survey_responses"].message
    nulls = found["nulls:survey_responses"]
    assert (nulls.column, nulls.count) == ("score", 1) and "1 row has no score" in nulls.message
    # Warnings, but for a score of 11: outside its survey's scale, it stops the reports whose runs refuse it.
    assert {name for name, rep in r.reports.items() if not rep.can_run} <= {"executive", "client"}
    assert {f.code for rep in r.reports.values() for f in rep.findings if f.severity == "error"} == {"survey_scale"}


def test_a_slug_no_run_can_be_named_by_is_a_finding(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path,
                      "update clients set slug = 'Acme_Corp' where client_id = (select min(client_id) from clients)"))
    [bad] = [f for rep in r.reports.values() for f in rep.findings if f.code == "not_a_key"][:1]
    assert (bad.table, bad.column, bad.count, bad.examples) == ("clients", "slug", 1, ("Acme_Corp",))
    assert "no key of lower-case letters, digits and dashes" in bad.message


def test_a_client_locale_or_currency_the_reports_cannot_read_is_a_finding(tiny_warehouse, tmp_path):
    # The check said "the client report can run" on currency 'EURO'; the client's run was then refused.
    r = check(planted(tiny_warehouse, tmp_path,
                      "update clients set currency = 'EURO' where client_id = (select min(client_id) from clients)",
                      "update clients set currency = 'eur', locale = 'de_DE' where client_id = (select max(client_id) from clients)",
                      "update clients set locale = 'english' where client_id in (select client_id from clients order by client_id limit 2 offset 1)"))
    found = {f.column: f for f in r.reports["client"].findings if f.table == "clients"}
    assert (found["currency"].code, found["currency"].count, found["currency"].examples) == ("outside_allowed", 1, ("EURO",))
    assert "ISO 4217" in found["currency"].message and "their reports are refused" in found["currency"].message
    assert (found["locale"].count, found["locale"].examples) == (2, ("english",))  # 'eur' and 'de_DE' are read
    assert not any(f.table == "clients" for f in r.reports["executive"].findings)  # it uses neither


def test_repeated_keys_where_the_database_does_not_enforce_them(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path,
                      "create table u2 as select * from users", "drop table users", "alter table u2 rename to users",
                      "insert into users select * from users where user_id < 3",
                      "create table e2 as select * from engagement_daily", "drop table engagement_daily",
                      "alter table e2 rename to engagement_daily",
                      "insert into engagement_daily select * from engagement_daily limit 4"))
    found = {f.table: f for rep in r.reports.values() for f in rep.findings if f.code == "duplicate_keys"}
    assert found["users"].count == 2 and found["users"].column == "user_id"
    assert found["engagement_daily"].count == 4 and found["engagement_daily"].column == "content_id, day"


def test_views_serve_as_tables(tiny_warehouse, tmp_path):
    r = check(planted(tiny_warehouse, tmp_path,
                      "alter table users rename to app_users",
                      "create view users as select user_id, signed_up_at from app_users"))
    assert r.ok and r.tables["users"].view and r.tables["users"].rows == 300


def test_the_json_document_has_its_documented_keys(tiny_warehouse, tmp_path):
    doc = check(planted(tiny_warehouse, tmp_path, "drop table events")).as_json()
    assert set(doc) == {"warehouse", "dialect", "ok", "seconds", "reports", "tables"}
    assert set(doc["reports"]) == {"executive", "client", "cohort", "experiment"}
    assert set(doc["reports"]["cohort"]) == {"title", "can_run", "first_month", "last_month", "periods", "experiments",
                                             "left_out", "findings"}
    assert doc["reports"]["cohort"]["findings"][0] == {
        "severity": "error", "code": "missing_table", "table": "events", "column": None, "count": None, "examples": [],
        "message": doc["reports"]["cohort"]["findings"][0]["message"]}
    assert doc["reports"]["executive"]["periods"]["month"] == {"first": "2025-09", "latest": "2026-10"}
    assert set(doc["tables"]["users"]) == {"present", "view", "rows", "first_day", "last_day", "complete_months",
                                           "columns"}
    assert doc["tables"]["users"]["columns"]["user_id"] == {"kind": "integer", "status": "ok", "found": "INTEGER",
                                                            "nulls": 0}
    assert doc["tables"]["events"] == {"present": False, "view": False, "rows": None, "first_day": None,
                                       "last_day": None, "complete_months": None, "columns": {}}


@pytest.mark.parametrize("placeholder", ["9999-12-31 00:00:00", "0001-01-01 00:00:00"])
def test_a_placeholder_date_stops_the_report_that_reads_it_and_says_so(tiny_warehouse, tmp_path, placeholder):
    from quire.warehouse import coverage

    url = planted(tiny_warehouse, tmp_path, f"update events set occurred_at = timestamp '{placeholder}' "
                                            "where event_id = (select min(event_id) from events)")
    r = check(url)
    assert not r.reports["cohort"].can_run and r.reports["client"].can_run
    assert ("error", "out_of_range", "events", "occurred_at") in codes(r, "cohort")
    assert r.tables["events"].complete_months is None
    if placeholder.startswith("9999"):  # the last event sets the cohort report's months: a run says why it cannot
        with connection(url) as conn, pytest.raises(WarehouseError, match=r"events.occurred_at holds 9999-12-31: "
                                                                          "a date outside 1900–2099 is a placeholder"):
            coverage.report_range("cohort", conn)


def test_fan_out_filters_skip_clients_without_the_segment_and_suggest_the_value(tiny_warehouse, tmp_path):
    """Sector, plan, region and brand are optional: a client without one is matched by no filter on it."""
    from quire.config import Settings
    from quire.errors import ParameterError
    from quire.pipeline import fan_out_clients

    url = planted(tiny_warehouse, tmp_path, "update clients set sector = null, brand = null where slug = 'town-of-fairdale'")
    settings = Settings(warehouse_url=url)
    with connection(url) as conn:
        municipal = sorted(s for (s,) in conn.exec_driver_sql(
            "select slug from clients where status = 'active' and sector = 'municipality'").fetchall())
    assert "town-of-fairdale" not in municipal and fan_out_clients({"sector": "municipality"}, settings) == municipal
    assert fan_out_clients({"sector": "Municipality"}, settings) == municipal  # a segment whatever its case
    with pytest.raises(ParameterError, match=r"no active client has sector=municipalty; did you mean 'municipality'\? "
                                             r"values in use: business, municipality, nonprofit, startup$"):
        fan_out_clients({"sector": "municipalty"}, settings)
    with pytest.raises(ParameterError, match=r"cannot select clients by 'sectr'; did you mean 'sector'\?"):
        fan_out_clients({"sectr": "municipality"}, settings)
    # Without a brand of its own a client wears its agency's: the filter matches what its reports will wear.
    assert "town-of-fairdale" in fan_out_clients({"brand": "northwind"}, settings)


def test_the_screen_writes_every_table_name_and_state_whole_at_its_width(tiny_warehouse, tmp_path):
    from rich.console import Console

    from quire.contract.screen import WIDTH, render

    # An imported event log (users and events only). On one such warehouse "experiment_assignment" / "s" and
    # "missing" / "(optional)" wrapped onto a second line (how the columns share the width depends on the data).
    gone = ("experiment_assignments", "experiment_variants", "experiments", "engagement_daily", "survey_responses",
            "support_tickets", "product_usage", "projects", "content", "mrr_movements", "subscriptions")
    result = check(planted(tiny_warehouse, tmp_path, *(f"DROP TABLE {t}" for t in gone)))
    for width in (WIDTH, 80):  # 80: a terminal's usual width, where dates, counts and states were cut ("2011-12-0")
        console = Console(width=width, record=True, color_system=None)
        console.print(render(result), soft_wrap=False)
        lines = console.export_text().splitlines()
        for name, table in result.tables.items():
            [line] = [line for line in lines if line.startswith(f"{name} ")]
            assert f"{table.rows:,}" in line if table.rows is not None else "—" in line, (width, line)
            assert not table.last_day or str(table.last_day)[:7] in line, (width, line)
        assert any("experiments" in line and "missing (optional)" in line for line in lines), lines
        assert max(map(len, lines)) <= width
        header = next(line for line in lines if line.startswith("table "))
        assert ("read by" in header) == (width == WIDTH)


def test_a_ledger_that_takes_a_client_below_zero_stops_the_executive_report(tiny_warehouse, tmp_path):
    # A contraction larger than the client's MRR: MRR $30 from one paying account came out with ARPA $50.
    from quire.reports import executive_data
    from quire.warehouse import queries

    url = planted(tiny_warehouse, tmp_path,
                  "INSERT INTO mrr_movements VALUES (101, 3, DATE '2026-02-01', 'contraction', -1000.00)",
                  "INSERT INTO mrr_movements VALUES (102, 5, DATE '2026-05-01', 'churn', -2500.00)")
    with connection(url) as conn:
        name = conn.execute(sa.text("SELECT name FROM clients WHERE client_id = 3")).scalar_one()
    said = (f"the MRR ledger takes client 3 ({name}) below zero in 2026-02 (MRR -220.00; 1 other client too): a "
            "churn or contraction larger than its MRR")
    with connection(url) as conn:
        assert queries.negative_mrr(conn).startswith(said)
        assert queries.negative_mrr(conn, until=date(2026, 1, 1)) is None  # the months before are sound
    result = check(url)
    assert ("error", "negative_mrr", "mrr_movements", "amount") in codes(result, "executive")
    assert not result.reports["executive"].can_run and result.reports["cohort"].can_run
    with pytest.raises(WarehouseError, match=r"takes client 3 \(.+\) below zero in 2026-02") as refused:
        executive_data.load("2026-03", url)
    # Wrong data waits for a person: the scheduler does not retry it as it retries a database that is down.
    from quire.batch.runner import _failure

    assert not _failure(refused.value).transient and _failure(WarehouseError("no warehouse at x")).transient
    assert executive_data.load("2026-01", url).period.key == "2026-01"  # a period before it still runs
    with connection(tiny_warehouse) as conn:
        assert queries.negative_mrr(conn) is None


def test_ledger_movements_without_an_amount_stop_the_executive_report(tiny_warehouse, tmp_path):
    # Summed as nothing: an empty churn kept its account paying (logo churn 0 % for 6.7 %) with no word, and an
    # empty contraction was blamed on its label ("counts as contraction… correct the labels").
    from quire.pipeline import _check_ledger
    from quire.reports import executive_data
    from quire.warehouse import queries

    url = planted(tiny_warehouse, tmp_path, "ALTER TABLE mrr_movements ALTER amount DROP NOT NULL",
                  "UPDATE mrr_movements SET amount = NULL WHERE movement = 'contraction'")
    with connection(url) as conn:
        empty = conn.execute(sa.text("SELECT count(*), min(month) FROM mrr_movements WHERE amount IS NULL")).one()
        assert empty[0] >= 1
        said = queries.missing_amounts(conn)
        plural = "s" if empty[0] != 1 else ""
        assert said == (f"the MRR ledger holds {empty[0]} movement{plural} without an amount (mrr_movements.amount is "
                        f"empty, the first in {empty[1]:%Y-%m}); give each its amount, or remove it")
        assert queries.missing_amounts(conn, until=date(2026, 1, 1)) is None  # the months before are sound
        with pytest.raises(WarehouseError, match="without an amount"):
            _check_ledger(conn, "executive", parse_period("2026-10"))
    result = check(url)
    assert ("error", "missing_amount", "mrr_movements", "amount") in codes(result, "executive")
    assert not result.reports["executive"].can_run
    assert executive_data.load("2026-01", url).period.key == "2026-01"


def test_ledger_movements_loaded_twice_stop_the_executive_report(tiny_warehouse, tmp_path):
    # Counted twice: End MRR 112,531 where it was 97,993, with no other sign.
    from quire.reports import executive_data
    from quire.warehouse import queries

    url = planted(tiny_warehouse, tmp_path, "CREATE TABLE m2 AS SELECT * FROM mrr_movements", "DROP TABLE mrr_movements",
                  "ALTER TABLE m2 RENAME TO mrr_movements",
                  "INSERT INTO mrr_movements SELECT * FROM mrr_movements WHERE month >= DATE '2026-05-01'")
    with connection(url) as conn:
        n, first = conn.execute(sa.text("SELECT count(*), min(month) FROM mrr_movements WHERE month >= DATE '2026-05-01'"
                                        )).one()
        n //= 2
        assert queries.repeated_movements(conn) == (
            f"the MRR ledger holds {n} movements more than once ({n} repeated rows by movement_id, the first in "
            f"{first:%Y-%m}); each counts once: remove the repeats")
        assert queries.repeated_movements(conn, until=date(2026, 4, 1)) is None  # the months before are sound
    result = check(url)
    assert ("error", "repeated_movement", "mrr_movements", "movement_id") in codes(result, "executive")
    with pytest.raises(WarehouseError, match="more than once"):
        executive_data.load("2026-10", url)
    assert executive_data.load("2026-04", url).period.key == "2026-04"


def test_event_types_that_differ_only_in_case_or_spaces_stop_the_cohort_report(tiny_warehouse, tmp_path):
    # Read as unknown types, the purchases earned nothing: cohorts' revenue came out $0, "no revenue yet".
    from quire.pipeline import _check_events
    from quire.reports import cohort_data

    url = planted(tiny_warehouse, tmp_path, "UPDATE events SET event_type = 'Purchase' WHERE event_type = 'purchase' "
                                            "AND event_id % 2 = 0",
                  "UPDATE events SET event_type = 'activation ' WHERE event_id = (SELECT min(event_id) FROM events "
                  "WHERE event_type = 'activation')")
    with connection(url) as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM events WHERE event_type = 'Purchase'")).scalar_one()
        said = (f"the warehouse's events.event_type holds 'Purchase' ({n:,} rows), 'activation ' (1 row), which the "
                "reports read only in lower case without spaces (signup, activation, session_start, feature_use, "
                "purchase); correct those rows")
        with pytest.raises(WarehouseError) as refused:
            _check_events(conn, "cohort")  # before a run starts
        assert refused.value.message == said
        _check_events(conn, "executive")  # a report that does not read events
    result = check(url)
    assert ("error", "miscased_event_type", "events", "event_type") in codes(result, "cohort")
    with pytest.raises(WarehouseError, match="'Purchase'"):
        cohort_data.load("2026-10", url=url)
    with connection(tiny_warehouse) as conn:
        _check_events(conn, "cohort")


def test_a_view_that_cannot_be_read_is_named_and_refuses_the_reports_that_read_it(tiny_warehouse, tmp_path):
    # Its source table renamed: the whole check stopped with "there is no table sr_raw", naming no view and no
    # report, and every executive and client run failed in its data cell.
    from quire.pipeline import _check_columns

    url = planted(tiny_warehouse, tmp_path, "ALTER TABLE survey_responses RENAME TO sr_raw",
                  "CREATE VIEW survey_responses AS SELECT * FROM sr_raw", "DROP TABLE sr_raw")
    result = check(url)
    said = ("the view survey_responses cannot be read (there is no table sr_raw); the executive report reads it: "
            "mend the view or drop it")
    assert [f.message for f in result.reports["executive"].findings if f.code == "unreadable_view"] == [said]
    assert ("error", "unreadable_view", "survey_responses", None) in codes(result, "client")
    assert result.reports["cohort"].can_run and not result.reports["executive"].can_run
    assert result.tables["survey_responses"].unreadable == "there is no table sr_raw"
    with connection(url) as conn:
        with pytest.raises(WarehouseError) as refused:
            _check_columns(conn, "executive")  # before a run starts
        assert refused.value.message == ("the warehouse's view survey_responses cannot be read (there is no table "
                                         "sr_raw); the executive report reads it: mend the view or drop it")
        _check_columns(conn, "cohort")  # a report that does not read it, on the same connection after the failure


def test_a_ledger_amount_with_the_wrong_sign_for_its_movement_stops_the_executive_report(tiny_warehouse, tmp_path):
    # A churn written as a positive size adds up (the bridge closes) but keeps the account paying: every figure wrong.
    from quire.pipeline import _check_ledger
    from quire.reports import executive_data
    from quire.warehouse import queries

    url = planted(tiny_warehouse, tmp_path, "INSERT INTO mrr_movements VALUES (101, 3, DATE '2026-02-10', 'churn', 120.00)",
                  "INSERT INTO mrr_movements VALUES (102, 5, DATE '2026-06-01', 'new', -40.00)")
    with connection(url) as conn:
        name = conn.execute(sa.text("SELECT name FROM clients WHERE client_id = 3")).scalar_one()
        said = queries.wrong_signs(conn)
        assert said.startswith(f"the MRR ledger holds a churn of 120.00 for client 3 ({name}) in 2026-02; 1 other row "
                               "too: new, expansion, reactivation amounts must be positive and contraction, churn amounts "
                               "negative. If the export writes churn and contraction as positive amounts, negate them")
        assert queries.wrong_signs(conn, until=date(2026, 1, 1)) is None  # the months before are sound
        assert queries.wrong_signs(conn, until=date(2026, 7, 1)) == said
        with pytest.raises(WarehouseError, match=r"holds a churn of 120\.00 for client 3"):
            _check_ledger(conn, "executive", parse_period("2026-03"))  # refused before a run starts
    result = check(url)
    assert ("error", "movement_sign", "mrr_movements", "amount") in codes(result, "executive")
    assert not result.reports["executive"].can_run and result.reports["cohort"].can_run
    with pytest.raises(WarehouseError, match=r"holds a churn of 120\.00"):
        executive_data.load("2026-03", url)
    assert executive_data.load("2026-01", url).period.key == "2026-01"
    with connection(tiny_warehouse) as conn:
        assert queries.wrong_signs(conn) is None  # the sample ledger's signs are all right


def test_a_movement_kind_the_reports_do_not_know_stops_the_executive_report_before_it_runs(tiny_warehouse, tmp_path):
    # "Churn" and "upgrade" passed the check ("✓ the executive report can run"), then failed the run in its data cell.
    from quire.pipeline import _check_ledger
    from quire.warehouse import queries

    url = planted(tiny_warehouse, tmp_path, "INSERT INTO mrr_movements VALUES (101, 3, DATE '2026-02-10', 'Churn', -120.00)",
                  "INSERT INTO mrr_movements VALUES (102, 5, DATE '2026-06-01', 'upgrade', 40.00)",
                  "INSERT INTO mrr_movements VALUES (103, 5, DATE '2026-06-01', 'upgrade', 10.00)")
    with connection(url) as conn:
        said = queries.unknown_movements(conn)
        assert said == ("the MRR ledger holds movement kinds the reports do not know: 'Churn' (1 row, from 2026-02), "
                        "'upgrade' (2 rows, from 2026-06); use new, expansion, contraction, churn or reactivation, "
                        "in lower case"), said
        assert queries.unknown_movements(conn, until=date(2026, 1, 1)) is None  # the months before are sound
        with pytest.raises(WarehouseError, match="holds movement kind the reports do not know: 'Churn' \\(1 row"):
            _check_ledger(conn, "executive", parse_period("2026-03"))  # refused before a run starts
    result = check(url)
    assert ("error", "movement_kind", "mrr_movements", "movement") in codes(result, "executive")
    assert not result.reports["executive"].can_run and result.reports["cohort"].can_run
    with connection(tiny_warehouse) as conn:
        assert queries.unknown_movements(conn) is None


@pytest.mark.parametrize("rows,negative", [
    # Source amounts that add up to 0 (33.333 + 33.333 + 33.334 - 100), each imported as cents: -0.01 is rounding.
    (["'new', 33.33", "'expansion', 33.33", "'expansion', 33.33", "'churn', -100.00"], False),
    (["'new', 10.00", "'churn', -10.02"], True),  # two cents under, from two amounts: more than rounding
    # A downgrade on the 3rd and an upgrade on the 20th are one month's movements: the month ends at MRR 50.
    (["'new', 100.00", "'contraction', -150.00", "'expansion', 100.00"], False),
    (["'new', 100.00", "'contraction', -150.00"], True),
])
def test_a_negative_mrr_is_one_a_month_ends_with_beyond_the_rounding_of_its_amounts(tiny_warehouse, tmp_path, rows,
                                                                                    negative):
    from quire.warehouse import queries

    days = ["2026-01-01", "2026-02-03", "2026-02-20", "2026-02-25"]
    inserts = [f"INSERT INTO mrr_movements VALUES ({900 + i}, 9999, DATE '{days[min(i, len(days) - 1)]}', {row})"
               for i, row in enumerate(rows)]
    url = planted(tiny_warehouse, tmp_path, "INSERT INTO clients (client_id, org_id, name, slug, sector, plan, "
                  "signup_date, status) SELECT 9999, org_id, 'Planted Ltd', 'planted-ltd', sector, plan, DATE '2026-01-01', "
                  "'active' FROM clients LIMIT 1", *inserts)
    with connection(url) as conn:
        problem = queries.negative_mrr(conn)
    assert (problem is not None) is negative, problem
    if negative:
        assert problem.startswith("the MRR ledger takes client 9999 (Planted Ltd) below zero in 2026-0")


def test_events_before_their_users_signup_are_a_warning_with_their_revenue(tiny_warehouse, tmp_path):
    # The cohort report leaves such events out (a user's ages start at signup); an export whose events and
    # signups disagree lost 3.6 % of its revenue that way without a word.
    with connection(tiny_warehouse) as conn:
        user, signed = conn.execute(sa.text("select user_id, signed_up_at from users order by user_id limit 1")).one()
    url = planted(tiny_warehouse, tmp_path,
                  f"INSERT INTO events VALUES (900001, {user}, 'purchase', TIMESTAMP '{signed}' - INTERVAL 1 DAY, 12.5)",
                  f"INSERT INTO events VALUES (900002, {user}, 'purchase', TIMESTAMP '{signed}' - INTERVAL 1 SECOND, 7.25)",
                  f"INSERT INTO events VALUES (900003, {user}, 'session_start', TIMESTAMP '{signed}' - INTERVAL 3 DAY, NULL)",
                  f"INSERT INTO events VALUES (900004, {user}, 'purchase', TIMESTAMP '{signed}', 100)")  # at signup: counted
    result = check(url)
    [found] = [f for f in result.reports["cohort"].findings if f.code == "before_signup"]
    assert (found.severity, found.table, found.column, found.count) == ("warning", "events", "occurred_at", 3)
    assert found.message.startswith("3 events happened before their user's signup, 2 of them purchases worth 19.75 in all")
    assert result.reports["cohort"].can_run
    assert not [f for f in check(tiny_warehouse).reports["cohort"].findings if f.code == "before_signup"]


def test_purchases_repeated_exactly_are_a_warning_with_their_revenue(tiny_warehouse, tmp_path):
    # A GA4 export's duplicated rows were imported without a word and each added its revenue again (LTV +11 %).
    with connection(tiny_warehouse) as conn:
        event, user, at, revenue = conn.execute(sa.text(
            "select event_id, user_id, occurred_at, revenue from events where event_type = 'purchase' "
            "order by event_id limit 1")).one()
    url = planted(tiny_warehouse, tmp_path,
                  f"INSERT INTO events SELECT 900000 + i, user_id, event_type, occurred_at, revenue FROM events, "
                  f"range(1, 3) t(i) WHERE event_id = {event}",  # the purchase twice more
                  f"INSERT INTO events VALUES (900010, {user}, 'purchase', TIMESTAMP '{at}', {float(revenue) + 1})")
    [found] = [f for f in check(url).reports["cohort"].findings if f.code == "repeated_purchases"]
    assert (found.severity, found.table, found.count) == ("warning", "events", 2)
    assert found.message.startswith(f"2 rows have a purchase that repeats another exactly (same user, time and "
                                    f"revenue), worth {2 * float(revenue):,.2f} in all")
    assert not [f for f in check(tiny_warehouse).reports["cohort"].findings if f.code == "repeated_purchases"]


def test_purchases_without_revenue_are_a_warning(tiny_warehouse, tmp_path):
    # Counted as worth 0, a cohort with such a purchase read "bought nothing in the signup month" without a word.
    with connection(tiny_warehouse) as conn:
        user, at = conn.execute(sa.text("select user_id, occurred_at from events order by event_id limit 1")).one()
    url = planted(tiny_warehouse, tmp_path, f"INSERT INTO events VALUES (900001, {user}, 'purchase', TIMESTAMP '{at}', NULL)")
    [found] = [f for f in check(url).reports["cohort"].findings if f.code == "purchase_without_revenue"]
    assert (found.severity, found.table, found.column, found.count) == ("warning", "events", "revenue", 1)
    assert found.message.startswith("1 row has a purchase without revenue; the cohort report counts each as a purchase "
                                    "worth 0")
    assert not [f for f in check(tiny_warehouse).reports["cohort"].findings if f.code == "purchase_without_revenue"]


def test_an_assigned_variant_the_plan_lacks_is_a_warning(tiny_warehouse, tmp_path):
    # The check said nothing; the run then refused the experiment as inconsistent ("… without a planned allocation").
    with connection(tiny_warehouse) as conn:
        experiment, user, key = conn.execute(sa.text(
            "select a.experiment_id, a.user_id, e.key from experiment_assignments a join experiments e "
            "using (experiment_id) order by 1, 2 limit 1")).one()
    url = planted(tiny_warehouse, tmp_path,
                  f"UPDATE experiment_assignments SET variant = 'rogue' WHERE experiment_id = {experiment} AND user_id = {user}")
    [found] = [f for f in check(url).reports["experiment"].findings if f.code == "unplanned_variant"]
    assert (found.severity, found.table, found.column, found.count) == ("warning", "experiment_assignments", "variant", 1)
    assert found.examples == (f"{key}: rogue",) and "is not in the experiment's plan" in found.message
    assert not [f for f in check(tiny_warehouse).reports["experiment"].findings if f.code == "unplanned_variant"]


def test_an_experiment_whose_control_would_be_guessed_is_a_warning(tiny_warehouse, tmp_path):
    # Without a plan, 'new_page' before 'old_page' by name made the run compare the wrong way round, unannounced.
    url = planted(tiny_warehouse, tmp_path, "DROP TABLE experiment_variants",
                  "UPDATE experiment_assignments SET variant = CASE variant WHEN 'control' THEN 'zeta' ELSE 'beta' END "
                  "WHERE experiment_id = (SELECT experiment_id FROM experiments WHERE key = 'checkout-redesign')")
    [found] = [f for f in check(url).reports["experiment"].findings if f.code == "guessed_control"]
    assert (found.severity, found.table, found.column, found.count) == ("warning", "experiment_assignments", "variant", 1)
    assert found.examples == ("checkout-redesign (beta, zeta)",)
    assert found.message.startswith("1 experiment names no control, e.g. checkout-redesign (beta, zeta): no variant is "
                                    "called control")
    # Every other experiment has a variant named control; with a plan nothing is guessed.
    assert not [f for f in check(tiny_warehouse).reports["experiment"].findings if f.code == "guessed_control"]


def test_clients_whose_brand_or_contact_email_would_fail_later_are_warnings(tiny_warehouse, tmp_path):
    # Both imported and checked "ok"; the run was then refused (unknown brand), the e-mail refused at sending time.
    url = planted(tiny_warehouse, tmp_path,
                  "UPDATE clients SET brand = '../northwind' WHERE client_id = (SELECT min(client_id) FROM clients)",
                  "UPDATE clients SET contact_email = 'a@b.example' || chr(10) || 'Bcc: x@y.example' "
                  "WHERE client_id = (SELECT max(client_id) FROM clients)")
    found = {f.code: f for f in check(url).reports["client"].findings}
    assert found["unknown_brand"].severity == "warning" and found["unknown_brand"].count == 1
    assert "'../northwind'" in found["unknown_brand"].message and "harbor" in found["unknown_brand"].message
    assert found["bad_contact_email"].count == 1 and "\\nBcc" in found["bad_contact_email"].message
    assert not {"unknown_brand", "bad_contact_email"} & {f.code for f in check(tiny_warehouse).reports["client"].findings}


def test_an_experiment_that_ends_before_it_starts_is_a_warning_of_the_check(tiny_warehouse, tmp_path):
    # "✓ the experiment report can run" beside a record the report then refused.
    url = planted(tiny_warehouse, tmp_path, "UPDATE experiments SET started_on = DATE '2026-09-30', "
                  "ended_on = DATE '2026-09-01' WHERE key = 'checkout-redesign'")
    result = check(url)
    [finding] = [f for f in result.reports["experiment"].findings if f.code == "experiment_dates"]
    assert (finding.severity, finding.table, finding.column, finding.examples) == (
        "warning", "experiments", "ended_on", ("checkout-redesign",))
    assert "1 experiment ends before it starts" in finding.message and "refuses it" in finding.message
    assert result.reports["experiment"].can_run  # the other experiments still run
    assert not [f for f in check(tiny_warehouse).reports["experiment"].findings if f.code == "experiment_dates"]


def test_an_experiment_with_no_user_assigned_on_its_days_is_a_warning_of_the_check(tiny_warehouse, tmp_path):
    # Every user assigned before its start: "✓ can run", and the report then found nothing to analyse.
    url = planted(tiny_warehouse, tmp_path, "UPDATE experiments SET started_on = DATE '2030-01-01', ended_on = NULL "
                  "WHERE key = 'checkout-redesign'")
    result = check(url)
    [finding] = [f for f in result.reports["experiment"].findings if f.code == "experiment_dates"]
    assert (finding.severity, finding.column, finding.examples) == ("warning", "started_on", ("checkout-redesign",))
    assert finding.message.startswith("1 experiment has assigned users but none on its days (started_on to ended_on)")
    assert result.reports["experiment"].can_run  # the other experiments still run


def test_a_missing_column_is_wrong_data_not_an_outage(tiny_warehouse, tmp_path):
    # Raised as a passing warehouse error, the scheduler retried it three times, as if a database were down.
    from quire.batch.runner import _failure
    from quire.warehouse import coverage, queries

    with warehouse_copy(tiny_warehouse, tmp_path / "w.duckdb") as con:
        con.execute("alter table clients rename column slug to handle")
        con.execute("alter table mrr_movements rename column month to period_month")
    with connection(f"duckdb:///{tmp_path / 'w.duckdb'}") as conn:
        for read in (queries.clients, lambda c: coverage.report_range("executive", c)):
            with pytest.raises(WarehouseError, match="has no column") as refused:
                read(conn)
            assert not _failure(refused.value).transient


def test_survey_answers_outside_their_scale_stop_the_reports_that_count_them(tiny_warehouse, tmp_path):
    # A CSAT asked on 0–10 lies within the score column's 0–10: `check` said the executive report could run, and
    # its run then failed on the answers.
    from quire.reports import executive, executive_data
    from quire.warehouse import queries

    url = planted(tiny_warehouse, tmp_path,
                  "INSERT INTO survey_responses VALUES (9001, 3, DATE '2026-02-10', 'csat', 9, NULL)",
                  "INSERT INTO survey_responses VALUES (9002, 4, DATE '2026-02-11', 'csat', 7, NULL)")
    said = ("survey_responses holds 2 CSAT answers of 7 to 9 outside their scale 1–5; the reports count no answer on "
            "another scale")
    with connection(url) as conn:
        assert queries.off_scale_answers(conn).startswith(said)
        assert queries.off_scale_answers(conn, ("nps",)) is None
    result = check(url)
    assert ("error", "survey_scale", "survey_responses", "score") in codes(result, "executive")
    assert not result.reports["executive"].can_run
    # The client report's health counts the NPS only: it still runs.
    assert result.reports["client"].can_run and "survey_scale" not in [f[1] for f in codes(result, "client")]
    with pytest.raises(WarehouseError, match=r"CSAT answers .* must lie in 1–5; found 9"):
        executive.ExecutiveReport(executive_data.load("2026-02", url)).headline()
    with connection(tiny_warehouse) as conn:
        assert queries.off_scale_answers(conn) is None
