"""The cohort report built from the tiny warehouse: sections, headline figures checked independently, edge cases.

Independent checks: user counts per cohort come from SQL ``date_trunc`` on the warehouse
(not from the report's own queries or ``assign_cohorts``); the retention, revenue and LTV
figures are recomputed by the metric functions from *every* user and event read with
plain SQL, so the report's date-bounded queries and its choice of cohorts are checked too.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from quire.charts.cohort import BLANK_NOTE, cell_labels
from quire.display import KPIS_MIME, Callout, Chart, Glossary, KpiCards, ReportHeader, Section
from quire.formatting import percent
from quire.errors import ParameterError, WarehouseError
from quire.glossary import definitions
from quire.metrics.cohorts import compare_recent, ltv_curves, observed_until, retention_matrix, revenue_retention_matrix
from quire.reports import cohort, cohort_calendar, cohort_data
from quire.reports.cohort import GLOSSARY_KEYS, CohortReport
from quire.reports.cohort_data import CohortData
from quire.reports.cohort_calendar import first_whole_cohort
from quire.warehouse import coverage
from quire.warehouse.engine import connection
from support import warehouse_copy

AS_OF = date(2026, 10, 31)          # 'latest' in the tiny warehouse
FIRST_MONTH = date(2025, 11, 1)     # the oldest of the 12 monthly cohorts at that date
FIRST_WEEK = date(2026, 8, 3)       # the oldest of 12 weekly cohorts: the last complete week starts Mon 19 Oct
SECTIONS = ["header", "headline", "retention", "revenue", "ltv", "comparison", "glossary"]


def _sql(url: str, query: str, **params) -> pd.DataFrame:
    eng = sa.create_engine(url, connect_args={"read_only": True})
    try:
        with eng.connect() as conn:
            return pd.read_sql(sa.text(query), conn, params=params)
    finally:
        eng.dispose()


@pytest.fixture(scope="module")
def monthly(tiny_warehouse) -> CohortReport:
    return cohort.build(url=tiny_warehouse)


@pytest.fixture(scope="module")
def weekly_activated(tiny_warehouse) -> CohortReport:
    return cohort.build(granularity="week", behaviour="activated", url=tiny_warehouse)


@pytest.fixture(scope="module")
def everything(tiny_warehouse) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All users and events of the warehouse, read without the report's queries."""
    users = _sql(tiny_warehouse, "select user_id, signed_up_at from users")
    events = _sql(tiny_warehouse, "select user_id, event_type, occurred_at, cast(revenue as double) as revenue from events")
    return users, events


def _headline(report: CohortReport) -> dict[str, dict]:
    return {k["name"]: k for k in report.headline()._repr_mimebundle_()[KPIS_MIME]}


def _recent_vs_earlier(column: pd.Series, recent: int = 3) -> tuple[float, float]:
    seen = column.dropna().sort_index()
    return seen.iloc[-recent:].mean(), seen.iloc[:-recent].mean()


# --------------------------------------------------------------------------- sections

@pytest.mark.parametrize("name", SECTIONS)
def test_every_section_renders_html(monthly, name):
    section = getattr(monthly, name)()
    html = section.html()
    assert html.startswith("<") and len(html) > 100
    assert "Traceback" not in html and "nan" not in re.sub(r"<[^>]+>", " ", html).split()


def test_section_types_and_titles(monthly):
    assert isinstance(monthly.header(), ReportHeader) and monthly.header().title == "Cohort report"
    assert "monthly" in monthly.header().subtitle and "all users" in monthly.header().subtitle
    assert isinstance(monthly.headline(), KpiCards)
    assert [monthly.retention().title, monthly.revenue().title] == ["User retention", "Revenue retention"]
    assert "data:image/svg+xml;base64," in monthly.retention().html()
    assert "data:image/svg+xml;base64," in monthly.ltv().html()
    assert isinstance(monthly.glossary(), Glossary)
    assert monthly.behavioural_filter() is None  # no filter, no section


def test_filtered_report_renders_its_filter_section(weekly_activated):
    for name in [*SECTIONS, "behavioural_filter"]:
        assert getattr(weekly_activated, name)().html()
    section = weekly_activated.behavioural_filter()
    assert isinstance(section, Section) and "activated within 7 days" in section.lead
    assert "W 2026-" in weekly_activated.retention().html()
    assert "Behavioural filter" in weekly_activated.glossary().html()


def test_charts_have_alt_text_and_the_blank_caption(monthly):
    chart = monthly.retention().children[0]
    assert chart.alt.startswith("Heatmap of user retention") and "12 monthly cohorts" in chart.alt
    assert BLANK_NOTE in chart.caption
    assert BLANK_NOTE in monthly.revenue().children[0].caption
    ltv = monthly.ltv().children[0]
    assert "highest LTV" in ltv.alt and "2026-10" in ltv.alt


def test_glossary_defines_every_key_the_report_uses():
    assert set(GLOSSARY_KEYS + ["behavioural_filter"]) <= set(definitions())


# --------------------------------------------------------------------------- headline, checked independently

def test_cohort_sizes_equal_a_direct_sql_count(monthly, tiny_warehouse):
    counted = _sql(tiny_warehouse, """
        select date_trunc('month', signed_up_at) as cohort, count(*) as n from users
        where signed_up_at >= :start and signed_up_at < :stop group by 1 order by 1""",
                   start=FIRST_MONTH, stop=date(2026, 11, 1))
    sizes = monthly.active.sizes
    assert list(sizes.index) == list(pd.to_datetime(counted["cohort"]))
    assert sizes.tolist() == counted["n"].tolist()
    assert _headline(monthly)["users"]["value"] == counted["n"].sum()


def test_weekly_cohorts_are_the_last_complete_weeks(weekly_activated, tiny_warehouse):
    assert weekly_activated.data.first_cohort == FIRST_WEEK and weekly_activated.data.last_cohort == date(2026, 10, 19)
    counted = _sql(tiny_warehouse, """
        select count(*) as n from users where signed_up_at >= :start and signed_up_at < :stop""",
                   start=FIRST_WEEK, stop=date(2026, 10, 26))
    assert len(weekly_activated.data.users) == counted["n"].iloc[0]


def test_headline_equals_the_metric_functions_on_all_the_data(monthly, everything):
    users, events = everything
    args = dict(granularity="month", as_of=AS_OF, horizon=12, since=FIRST_MONTH)
    logo = retention_matrix(users, events, **args)
    revenue = revenue_retention_matrix(users, events, **args)
    ltv = ltv_curves(users, events, **args)
    pd.testing.assert_frame_equal(monthly.active.rates, logo.rates)  # the bounded queries lose nothing
    pd.testing.assert_frame_equal(monthly.revenue_matrix.rates, revenue.rates)
    headline = _headline(monthly)
    assert list(headline) == ["users", "user_retention_age1", "user_retention_age3", "revenue_retention_age3", "ltv_age3"]
    for name, column in [("user_retention_age1", logo.rates[1]), ("user_retention_age3", logo.rates[3]),
                         ("revenue_retention_age3", revenue.rates[3]), ("ltv_age3", ltv[3])]:
        recent, earlier = _recent_vs_earlier(column)
        assert headline[name]["value"] == pytest.approx(recent), name
        assert headline[name]["previous"] == pytest.approx(earlier), name
    assert headline["user_retention_age1"]["unit"] == "percent" and headline["ltv_age3"]["unit"] == "currency"


def test_a_week_that_began_before_the_data_is_no_cohort(tmp_path):
    # Data starting on Wednesday 1 October 2025: the week of 29 September held its 5 October days and stood as
    # the whole baseline of "newest versus earlier cohorts", though the glossary says only whole periods count.
    from quire.warehouse.load import build_warehouse

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    build_warehouse(url, scale="tiny", seed=7, end=date(2026, 11, 30))
    start = cohort.build(url=url).data.data_months[0]
    assert start == date(2025, 10, 1) and start.weekday() == 2
    report = cohort.build(period="2025-10", granularity="week", url=url)
    assert report.data.users["signed_up_at"].min() >= pd.Timestamp("2025-10-06")  # the first whole week's Monday
    children = report.retention().children
    assert next(c for c in children if hasattr(c, "frame")).frame["Cohort"].iloc[0] == "W 2025-10-06"
    # Its signups count nowhere, and the report says so rather than leave them out silently.
    [(left,)] = _sql(url, "select count(*) from users where signed_up_at < timestamp '2025-10-06'").to_numpy()
    assert left > 0 and report.data.left_out == left
    note = next(c for c in children if isinstance(c, Callout) and c.title == "Left out:").message
    assert note.startswith(f"The data starts on 1 October 2025, partway through the week of 29 Sep 2025, so that week "
                           f"is no complete signup cohort: its {left} signups are left out of every figure")
    monthly = cohort.build(period="2025-10", url=url)  # the data's first month is whole
    assert monthly.data.users["signed_up_at"].min() < pd.Timestamp("2025-10-06")
    assert monthly.data.left_out == 0 and monthly.partial_note == ""


@pytest.mark.parametrize("start,granularity,expected", [
    (date(2024, 6, 1), "week", date(2024, 6, 3)), (date(2024, 6, 3), "week", date(2024, 6, 3)),
    (date(2024, 6, 1), "month", date(2024, 6, 1)),
])
def test_the_first_whole_cohort_starts_on_or_after_the_data(start, granularity, expected):
    assert first_whole_cohort(start, granularity) == expected


def test_an_earlier_period_sees_nothing_after_its_end(tiny_warehouse, everything):
    """As of June 2026 the matrices are those of the full data cut at 30 June (later events are not read)."""
    report = cohort.build(period="2026-06", cohorts=6, horizon=4, url=tiny_warehouse)
    assert report.data.as_of == date(2026, 6, 30) and report.data.events["occurred_at"].max() < pd.Timestamp("2026-07-01")
    users, events = everything
    logo = retention_matrix(users, events, "month", date(2026, 6, 30), 4, since=date(2026, 1, 1))
    pd.testing.assert_frame_equal(report.active.rates, logo.rates)


def test_queries_stay_within_the_cohort_window(monthly):
    d = monthly.data
    assert d.users["signed_up_at"].min() >= pd.Timestamp(FIRST_MONTH)
    assert d.users["signed_up_at"].max() < pd.Timestamp("2026-11-01")
    assert d.events["occurred_at"].min() >= pd.Timestamp(FIRST_MONTH)
    assert set(d.events["user_id"]) <= set(d.users["user_id"])
    assert "signup" not in set(d.events["event_type"])


def test_events_are_read_as_categories_with_every_value_kept(monthly, everything):
    """The event types come as categorical codes (memory: no string per event), and the rows are exactly
    those of plain SQL, cut to the cohorts' users, the window and the types the report reads."""
    d = monthly.data
    assert isinstance(d.events.dtypes["event_type"], pd.CategoricalDtype)
    assert list(d.events.dtypes["event_type"].categories) == list(cohort_data.READ_EVENTS)
    _, events = everything
    expected = events.loc[events["user_id"].isin(d.users["user_id"]) & events["event_type"].isin(cohort_data.READ_EVENTS)
                          & (events["occurred_at"] >= pd.Timestamp(FIRST_MONTH))
                          & (events["occurred_at"] < pd.Timestamp("2026-11-01"))]
    key = ["user_id", "occurred_at", "event_type", "revenue"]
    got = d.events.astype({"event_type": str}).sort_values(key, ignore_index=True)[key]
    pd.testing.assert_frame_equal(got, expected.astype({"event_type": str}).sort_values(key, ignore_index=True)[key],
                                  check_dtype=False)
    assert d.users.dtypes["signed_up_at"] == "datetime64[ns]" and d.events.dtypes["revenue"] == "float64"


# --------------------------------------------------------------------------- not observed is never 0 %

def test_not_yet_observed_cells_are_blank_not_zero(monthly):
    rates = monthly.active.rates.to_numpy()
    labels = cell_labels(monthly.active.rates).to_numpy()
    blank = np.isnan(rates)
    assert blank.any() and set(labels[blank]) == {""}
    assert all(text.endswith("%") for text in labels[~blank])
    assert (rates == 0).any() and set(labels[rates == 0]) == {"0%"}  # a real 0 % is shown as such, unlike a blank


def test_a_rate_above_zero_never_reads_zero_in_a_heatmap():
    # "0%" labelled 4 active users of 1,257 beside a caption saying "0% is a real zero".
    rates = pd.DataFrame({0: [1.0, 1.0], 1: [0.0032, 0.0], 2: [0.005, np.nan]})
    assert cell_labels(rates).to_numpy().tolist() == [["100%", "<1%", "<1%"], ["100%", "0%", ""]]


def test_summary_table_shows_a_dash_for_unobserved_ages(monthly):
    html = monthly.retention().children[1].html()
    newest = re.search(r"<tr><td>2026-10</td>(.*?)</tr>", html).group(1)
    assert newest.count('<td class="q-num q-na">—</td>') == 3 and "%" not in newest  # months 1, 3 and 6 not reached yet
    oldest = re.search(r"<tr><td>2025-11</td>(.*?)</tr>", html).group(1)
    assert "q-na" not in oldest


def test_the_comparison_keeps_its_difference_as_a_figure_for_the_data_files(monthly):
    table = monthly.comparison().children[0]
    frame = table.frame
    assert pd.api.types.is_float_dtype(frame["Difference"])  # not "−16.7 pts" text in the CSV and the workbook
    recent, earlier = frame.columns[2], frame.columns[3]
    assert np.allclose(frame["Difference"], frame[recent] - frame[earlier])
    assert re.search(r'<td class="q-num">[+−]?\d+\.\d pts</td>', table.html())  # shown as before


# --------------------------------------------------------------------------- behavioural filter

def test_filter_keeps_exactly_the_users_who_activated_in_time(weekly_activated, tiny_warehouse):
    expected = _sql(tiny_warehouse, """
        select count(distinct u.user_id) as n from users u join events e on e.user_id = u.user_id
        where e.event_type = 'activation' and e.occurred_at >= u.signed_up_at
          and e.occurred_at <= u.signed_up_at + interval 7 day and e.occurred_at < :stop_events
          and u.signed_up_at >= :start and u.signed_up_at < :stop""",
                    start=FIRST_WEEK, stop=date(2026, 10, 26), stop_events=date(2026, 11, 1))["n"].iloc[0]
    headline = _headline(weekly_activated)
    assert headline["users"]["value"] == expected
    assert headline["users"]["label"].startswith("Activated users")


def test_the_headline_counts_the_cohorts_the_cover_counts(tiny_warehouse):
    # A month in which nobody activated: the cover said "5 have activated users", the card "in 6 cohorts".
    report = cohort.build(period="2026-02", behaviour="activated", url=tiny_warehouse)
    sizes = report.active.sizes
    assert (sizes == 0).any() and sizes.iloc[0] > 0  # an empty cohort between two with users
    peopled = int((sizes > 0).sum())
    assert report.kpis()[0].label == f"Activated users in {peopled} cohorts"
    assert f"of which {peopled} have activated users" in report.header().subtitle


def test_filter_reduces_the_user_count(tiny_warehouse, monthly):
    filtered = cohort.build(behaviour="activated", url=tiny_warehouse)
    assert 0 < _headline(filtered)["users"]["value"] < _headline(monthly)["users"]["value"]
    assert filtered.active_all.sizes.sum() == monthly.active.sizes.sum()


# --------------------------------------------------------------------------- degenerate input

def _skipped(report: CohortReport) -> None:
    for name in ["retention", "revenue", "ltv", "comparison", "behavioural_filter"]:
        assert getattr(report, name)() is None, name
    assert report.header().html() and report.glossary().html()


def test_a_filter_that_keeps_nobody_gives_a_callout(monthly):
    events = monthly.data.events
    late = events.assign(occurred_at=events["occurred_at"].where(events["event_type"] != "activation",
                                                                 events["occurred_at"] + pd.Timedelta(days=40)))
    report = CohortReport(replace(monthly.data, events=late), behaviour="activated")
    headline = report.headline()
    assert isinstance(headline, Callout) and headline.severity == "warning"
    assert "activated within 7 days" in headline.message and "behaviour=all" in headline.message
    _skipped(report)
    # Data without any activation (an order log) is told that, not that its users were slow.
    report = CohortReport(replace(monthly.data, events=events[events["event_type"] != "activation"]), behaviour="activated")
    headline = report.headline()
    assert isinstance(headline, Callout) and "have no activation event at all" in headline.message
    assert "map the event that means activation" in headline.message and "within 7 days" not in headline.message
    _skipped(report)
    # Nobody activated by the end of the period (the data's activations are other users'): more days would not help.
    strangers = events.assign(user_id=events["user_id"].where(events["event_type"] != "activation", -1))
    report = CohortReport(replace(monthly.data, events=strangers), behaviour="activated")
    assert report.problem.startswith(f"None of the {len(monthly.data.users):,} users of these cohorts activated by "
                                     "31 October 2026, the end of the period"), report.problem
    assert "activation_days" not in report.problem and "later period" in report.problem
    one = monthly.data.users.iloc[:1]
    report = CohortReport(replace(monthly.data, users=one, events=events[events["event_type"] != "activation"]),
                          behaviour="activated")
    assert report.problem.startswith("The one user of these cohorts has no activation event at all"), report.problem


@pytest.fixture(scope="module")
def empty_warehouse(tiny_warehouse, tmp_path_factory) -> str:
    """A copy of the tiny warehouse without product users (so every cohort range is empty)."""
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    shutil.copy(sa.engine.make_url(tiny_warehouse).database, path)
    con = duckdb.connect(str(path))
    for table in ("experiment_assignments", "events", "sessions", "users"):
        con.execute(f"delete from {table}")
    con.close()
    return f"duckdb:///{path}"


def test_a_warehouse_without_product_users_is_a_one_line_warehouse_error(empty_warehouse):
    with pytest.raises(WarehouseError, match=r"^the warehouse holds no product users and events"):
        cohort.build(url=empty_warehouse)


def _without_users(con, where: str) -> None:
    """Delete the users matching ``where`` (SQL on users) and everything that refers to them."""
    for table in ("experiment_assignments", "events", "sessions"):
        con.execute(f"delete from {table} where user_id in (select user_id from users where {where})")
    con.execute(f"delete from users where {where}")


@pytest.fixture(scope="module")
def signups_stop(tiny_warehouse, tmp_path_factory) -> str:
    """Signups stop after February 2026; the earlier users stay active to the end of the data (October 2026)."""
    path = tmp_path_factory.mktemp("signups-stop") / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        _without_users(con, "signed_up_at >= timestamp '2026-03-01'")
    return f"duckdb:///{path}"


@pytest.fixture(scope="module")
def signups_start_late(tiny_warehouse, tmp_path_factory) -> str:
    """The first signup is on Tuesday 30 September 2025, after the last complete week of September."""
    path = tmp_path_factory.mktemp("signups-late") / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        _without_users(con, "signed_up_at < timestamp '2025-10-01'")
        [(first,)] = con.execute("select user_id from users order by signed_up_at, user_id limit 1").fetchall()
        con.execute("update users set signed_up_at = timestamp '2025-09-30 12:00' where user_id = ?", [first])
        # Tracked from the same day: September is in the data, its weekly cohorts empty.
        con.execute("update events set occurred_at = timestamp '2025-09-30 12:05' where event_id = "
                    "(select min(event_id) from events where user_id = ?)", [first])
    return f"duckdb:///{path}"


def test_empty_cohorts_when_signups_stopped_advise_reaching_back_not_a_later_period(signups_stop):
    report = cohort.build(cohorts=3, url=signups_stop)
    newest = report.data.last_cohort
    assert newest >= date(2026, 9, 1)  # the events (and so the report's months) run on after the signups stop
    headline = report.headline()
    assert isinstance(headline, Callout) and "No user signed up" in headline.message
    assert "later period" not in headline.message.lower()  # the data has no later signups
    back = (newest.year - 2026) * 12 + newest.month - 2 + 1  # cohorts 2026-02 .. newest
    assert f"cohorts={back} reaches back to the last earlier signup" in headline.message
    _skipped(report)
    followed = cohort.build(cohorts=back, url=signups_stop)  # the advice works
    assert followed.problem is None and followed.active.sizes.loc[pd.Timestamp("2026-02-01")] > 0


def test_empty_cohorts_before_the_first_signup_advise_the_later_period_that_has_them(signups_start_late):
    report = cohort.build(period="2025-09", granularity="week", url=signups_start_late)
    message = report.headline().message
    assert "choose a later period (2025-10:" in message.lower() and "more cohorts" not in message
    followed = cohort.build(period="2025-10", granularity="week", url=signups_start_late)
    assert followed.problem is None and followed.active.sizes.sum() > 0


def test_signups_in_the_datas_incomplete_first_month_are_said_to_be_left_out(signups_start_late):
    # The only September signup is on the 30th, the day the data starts: September is no whole cohort. The report of
    # September said "No user signed up in the 12 monthly cohorts October 2024 – September 2025", and its cover "0
    # monthly signup cohorts (October 2025 – September 2025…)".
    report = cohort.build(period="2025-09", url=signups_start_late)
    message = report.headline().message
    assert message.startswith("No complete monthly cohort of the data ends by 30 September 2025, so there are no "
                              "cohorts to report on. The data starts on 30 September 2025, partway through September "
                              "2025, so that month is no complete signup cohort: its one signup is left out")
    assert "Choose a later period (2025-10" in message
    assert report.header().subtitle.startswith("no complete monthly signup cohort (12 were asked for; the data begins "
                                               "later), followed")
    later = cohort.build(period="2025-10", cohorts=3, url=signups_start_late)
    assert later.problem is None and later.data.left_out == 1
    assert "its one signup is left out" in later.retention().children[0].message


def test_no_signup_in_the_whole_cohorts_names_those_cohorts_and_the_ones_left_out(monthly):
    # One user, who signed up on 15 March 2026, the day the data starts: "No user signed up in the 8 monthly cohorts
    # March 2026 – October 2026", of the month the user signed up in.
    data = replace(_shop(monthly, {}, []), first_cohort=date(2026, 3, 1), requested=8, data_start=date(2026, 3, 15),
                   data_months=(date(2026, 3, 1), monthly.data.data_months[1]), left_out=1, signup_before=None,
                   signup_after=None)
    message = CohortReport(data).headline().message
    assert message.startswith("No user signed up in the 7 monthly cohorts April 2026 – October 2026 (as of 31 October "
                              "2026), so there are no cohorts to report on. The data starts on 15 March 2026, partway "
                              "through March 2026")


def test_a_cohort_with_no_users_is_a_dash_the_caption_explains(monthly):
    data = _shop(monthly, {1: ["2025-11-03"], 3: ["2026-02-02"]}, [(1, "2025-11-05", 10.0)])
    report = CohortReport(data, horizon=3)
    assert report.active.sizes.loc["2025-12-01"] == 0  # long observed: its "—" is no age not reached yet
    captions = [report.summary_table().caption, report.ltv().children[1].caption]
    assert all("(— = not yet observed, or no users)" in c for c in captions), captions
    assert all("(— = not yet observed)" in c for c in (monthly.summary_table().caption, monthly.ltv().children[1].caption))


@pytest.mark.parametrize("stopped", [False, True])
def test_the_filter_warns_of_late_signups_only_when_someone_signed_up_late(tiny_warehouse, signups_stop, stopped):
    # Signups stopped in February: "Users who signed up in the last 7 days before 31 October 2026 have had less
    # time to activate" told of nobody.
    url = signups_stop if stopped else tiny_warehouse
    report = cohort.build(behaviour="activated", url=url)
    [(last,)] = _sql(url, "select max(signed_up_at) from users where signed_up_at < timestamp '2026-11-01'").to_numpy()
    late = pd.Timestamp(last) >= pd.Timestamp("2026-10-25")  # within 7 days of 31 October
    assert late != stopped
    warned = any("less time to activate" in getattr(c, "message", "") for c in report.behavioural_filter().children)
    assert warned == late


def test_too_few_cohorts_to_compare_says_what_the_data_allows(tiny_warehouse):
    first = cohort.build(period="2025-11", url=tiny_warehouse).comparison().children[0]
    assert "first cohorts of the data, which starts on 1 September 2025" in first.message
    assert "later periods will have more" in first.message and "show more cohorts" not in first.message.lower()
    narrow = cohort.build(period="2026-10", cohorts=2, url=tiny_warehouse).comparison().children[0]
    assert "Earlier cohorts exist" in narrow.message and "show more cohorts" in narrow.message


@pytest.mark.parametrize("params", [
    {"cohorts": 2, "horizon": 1},
    {"period": "2025-09"},  # the first month of data: one cohort of the twelve asked for
    {"granularity": "week", "cohorts": 36, "horizon": 36},
    {"period": "2026-Q2", "behaviour": "activated", "activation_days": 1},
])
def test_edge_parameters_render_every_section(tiny_warehouse, params):
    report = cohort.build(url=tiny_warehouse, **params)
    for name in [*SECTIONS, "behavioural_filter"]:
        section = getattr(report, name)()
        assert section is None or section.html()


def test_a_single_cohort_is_said_so(tiny_warehouse):
    report = cohort.build(period="2025-09", url=tiny_warehouse)
    assert "Only 1 of the 12 requested cohorts has users: 2025-09." in report.retention().lead
    assert [k["name"] for k in report.headline()._repr_mimebundle_()[KPIS_MIME]] == ["users", "ltv_age0"]
    assert isinstance(report.comparison().children[0], Callout)
    # The data begins in September 2025: the cover names that cohort, not the eleven empty months before it
    # ("12 monthly signup cohorts (October 2024 – September 2025), of which 1 has users").
    assert report.header().subtitle.startswith("1 monthly signup cohort (September 2025: the data begins then; 12 were "
                                               "asked for), followed for up to 12 months as of ")
    weekly = cohort.build(period="2025-09", granularity="week", cohorts=8, url=tiny_warehouse)
    shown = [pd.Timestamp(c) for c in weekly.active.sizes.index if weekly.active.sizes[c] > 0]
    assert 1 < len(shown) < 8
    assert (f"{len(shown)} weekly signup cohorts (week of {shown[0].day} {shown[0]:%b %Y} – week of {shown[-1].day} "
            f"{shown[-1]:%b %Y}: the data begins with the first; 8 were asked for), followed") in weekly.header().subtitle
    assert weekly.kpis()[0].label == f"Users in {len(shown)} cohorts"
    full = cohort.build(period="2026-10", url=tiny_warehouse).header().subtitle
    assert full.startswith("12 monthly signup cohorts (November 2025 – October 2026), followed for up to 12 months")


def test_the_cover_counts_the_cohorts_from_where_the_data_begins(monthly):
    # Signups in the data's first two months only: the months after them are cohorts of the data, without users.
    data = _shop(monthly, {1: ["2026-06-03"], 2: ["2026-07-12"]}, [(1, "2026-06-05", 10.0)])
    data = replace(data, data_months=(date(2026, 6, 1), data.data_months[1]), data_start=date(2026, 6, 1))
    assert CohortReport(data).header().subtitle.startswith(
        "5 monthly signup cohorts (June 2026 – October 2026: the data begins with the first; 12 were asked for), of "
        "which 2 have users (June 2026 – July 2026), followed")


def test_a_future_period_is_a_parameter_error_from_load(tiny_warehouse):
    with pytest.raises(ParameterError, match=r"parameter 'period': 2099-01 is in the future"):
        cohort.load("2099-01", url=tiny_warehouse)


@pytest.mark.parametrize("params,message", [
    ({"granularity": "daily"}, "parameter 'granularity': 'daily' is not supported; use week or month"),
    ({"behaviour": "bought"}, "parameter 'behaviour': 'bought' is not supported"),
    ({"cohorts": 1}, "parameter 'cohorts'"),
    ({"horizon": 0}, "parameter 'horizon'"),
    ({"activation_days": True}, "parameter 'activation_days'"),
])
def test_bad_parameters_fail_before_any_io(params, message, tmp_path):
    absent = f"duckdb:///{tmp_path}/absent.duckdb"  # never opened: the check comes first
    with pytest.raises(ParameterError, match=re.escape(message)):
        cohort.build(url=absent, **params)


def test_cohort_window_counts_back_from_the_last_complete_period():
    assert cohort_calendar.cohort_window(date(2026, 10, 31), "month", 12) == (date(2025, 11, 1), date(2026, 10, 1))
    assert cohort_calendar.cohort_window(date(2026, 10, 30), "month", 2) == (date(2026, 8, 1), date(2026, 9, 1))
    assert cohort_calendar.cohort_window(date(2026, 10, 25), "week", 2) == (date(2026, 10, 12), date(2026, 10, 19))  # a Sunday
    assert cohort_calendar.cohort_window(date(2026, 10, 31), "week", 1) == (date(2026, 10, 19), date(2026, 10, 19))
    assert cohort_calendar.cohort_end(date(2026, 2, 1), "month") == date(2026, 2, 28)


def _shop(monthly: CohortReport, signups: dict[int, list[str]], purchases: list[tuple[int, str, float]]) -> CohortData:
    """The monthly report's window with hand-made users (id → signup) and purchases (user, when, amount)."""
    users = pd.DataFrame([(u, pd.Timestamp(s)) for u, days in signups.items() for s in days],
                         columns=["user_id", "signed_up_at"])
    events = pd.DataFrame([(u, "purchase", pd.Timestamp(t), amount) for u, t, amount in purchases],
                          columns=["user_id", "event_type", "occurred_at", "revenue"])
    events["event_type"] = pd.Categorical(events["event_type"], categories=cohort_data.READ_EVENTS)
    return replace(monthly.data, users=users, events=events)


def test_a_cohort_whose_signup_refunds_exceed_its_purchases_is_not_said_to_have_bought_nothing(monthly):
    # Netted to −$6 in its signup month, the cohort's cell read −60% beside "bought nothing …, show 0%".
    refunded = _shop(monthly, {1: ["2025-11-03"], 2: ["2025-12-03"]},
                     [(1, "2025-11-05", 4.0), (1, "2025-11-20", -10.0), (1, "2025-12-05", 10.0), (2, "2026-01-05", 5.0)])
    lead = CohortReport(refunded, horizon=3).revenue().lead
    assert ("2 cohorts bought nothing in the signup month (1 refunded more than it bought); their base is the first "
            "month with revenue, and the months before it show 0%, or below where refunds exceed purchases.") in lead, lead
    quiet = _shop(monthly, {2: ["2025-12-03"]}, [(2, "2026-01-05", 5.0)])
    assert ("1 cohort bought nothing in the signup month; its base is the first month with revenue, and the months "
            "before it show 0%.") in CohortReport(quiet, horizon=3).revenue().lead


def test_purchases_with_a_negative_revenue_are_said_to_be_netted(monthly):
    # Refunds lowered a cohort's revenue by 40 % with no word of it: "purchase revenue" reads as gross.
    data = _shop(monthly, {1: ["2025-11-03"], 2: ["2025-11-20"]},
                 [(1, "2025-11-05", 10.0), (1, "2025-12-05", -4.0), (2, "2025-12-01", 6.0), (2, "2026-01-01", -1.5)])
    report = CohortReport(data, horizon=3)
    [note] = [c for c in report.ltv().children if isinstance(c, Callout) and c.title == "Netted:"]
    from quire.metrics.kpi import format_value

    total = format_value(-5.5, "currency")
    assert note.message == (f"2 purchases by these cohorts' users carry a negative revenue ({total} in all), as refunds "
                            "or chargebacks do: the revenue figures of this report net them against the purchases.")
    table = report.ltv().children[1].frame.set_index("Cohort")
    assert table.loc["2025-11", "Revenue to date"] == pytest.approx(10.5)  # netted, as the note says
    gross = _shop(monthly, {1: ["2025-11-03"]}, [(1, "2025-11-05", 10.0)])
    assert not [c for c in CohortReport(gross, horizon=3).ltv().children if isinstance(c, Callout)]


def test_revenue_to_date_counts_purchases_past_the_horizon(monthly):
    data = _shop(monthly, {1: ["2025-11-03"], 2: ["2025-11-20"], 3: ["2026-02-02"]},
                 [(1, "2025-11-05", 10.0), (2, "2026-05-01", 5.0), (1, "2026-10-31 23:59", 2.5),
                  (1, "2026-11-01", 99.0),  # after the as-of date
                  (3, "2026-02-10", 7.0)])
    report = CohortReport(data, horizon=3)
    table = report.ltv().children[1].frame.set_index("Cohort")
    # Recounted from the purchases above: every purchase of the cohort's users up to 31 Oct 2026.
    assert table.loc["2025-11", "Revenue to date"] == pytest.approx(17.5)
    assert table.loc["2026-02", "Revenue to date"] == pytest.approx(7.0)
    assert table.loc["2025-11", "LTV by month 3"] == pytest.approx(5.0)   # the horizon still bounds the curves
    assert pd.isna(table.loc["2025-12", "Revenue to date"])  # nobody signed up then: no revenue to date, not $0


def test_weekly_revenue_to_date_names_the_day_it_counts_up_to(weekly_activated, monthly, tiny_warehouse):
    # As of 31 October 2026 the last complete week ends on Sunday the 25th: the column stops there (like every
    # age), while the cover says "as of 31 October" — the caption says so. A month's report ends on its as-of date.
    assert observed_until(date(2026, 10, 31), "week") == date(2026, 10, 25)
    assert observed_until(date(2026, 10, 25), "week") == date(2026, 10, 25)
    assert observed_until(date(2026, 10, 31), "month") == date(2026, 10, 31)
    weekly, table = weekly_activated.ltv().children[1], monthly.ltv().children[1]
    assert weekly.caption.endswith("; revenue to date counts up to 25 October 2026, the end of the last complete week")
    assert "counts up to" not in table.caption
    bought = _sql(tiny_warehouse, """
        select e.user_id, e.revenue from events e join users u using (user_id)
        where e.event_type = 'purchase' and e.occurred_at >= u.signed_up_at and e.occurred_at < :stop""",
                  stop=date(2026, 10, 26))
    reported = bought[bought["user_id"].isin(weekly_activated.users["user_id"])]
    assert weekly.frame["Revenue to date"].sum() == pytest.approx(reported["revenue"].sum())


def test_a_month_nobody_signed_up_in_is_not_a_cohort_with_users(monthly):
    # Signups in November 2025 and January 2026 only, of the twelve cohorts up to October 2026.
    data = _shop(monthly, {1: ["2025-11-03"], 2: ["2026-01-12"]}, [(1, "2025-11-05", 10.0)])
    report = CohortReport(data, horizon=3)
    assert list(report.active.sizes) == [1, 0, 1]
    assert ", of which 2 have users (November 2025 – January 2026)," in report.header().subtitle
    # The rows run from the first cohort with users to the last: the month between them is a row of 0 users,
    # which the revenue section calls one blank row while the cover counts 2 of 12; both are named here.
    assert ("Only 2 of the 12 requested cohorts have users, from 2025-11 to 2026-01. 2025-12 between them has none: "
            "an empty row.") in report.retention().lead
    lead = report.revenue().lead
    assert "1 cohort has no users: blank row." in lead and "1 cohort has no revenue yet" in lead
    # One day, one month: said in the singular.
    assert "followed for up to 1 month as of" in CohortReport(data, horizon=1).header().subtitle
    assert CohortReport(data, behaviour="activated", activation_days=1).who == "users who activated within 1 day of signup"


@pytest.mark.parametrize(("first", "flagged"), [(12, True), (7, False)])
def test_a_first_cohort_swollen_by_earlier_customers_is_flagged(monthly, first, flagged):
    # An order log: every customer's "signup" is their first order, so those who bought before the data
    # starts all land in its first month. Four users a month otherwise.
    signups = {f"m{m}-{i}": [f"{2025 if m > 10 else 2026}-{m:02d}-{i + 1:02d}"]
               for m in (11, 12, 1, 2, 3, 4) for i in range(first if m == 11 else 4)}
    data = replace(_shop(monthly, signups, []), signup_before=None)
    note = CohortReport(data, horizon=3).first_cohort_note
    if flagged:
        assert note.startswith(f"The oldest cohort, 2025-11, is the first month of the data and has 3.0 times as many "
                               f"users as the others' median ({first} against 4).")
        assert "First cohort." in CohortReport(data, horizon=3).retention().html()
    else:
        assert note is None and "First cohort." not in CohortReport(data, horizon=3).retention().html()
    # The same cohort with signups before it is not the data's first: nothing to say.
    assert CohortReport(replace(data, signup_before=datetime(2025, 10, 30)), horizon=3).first_cohort_note is None
    # Against four later cohorts only, a median is too unsteady to call it swollen.
    fewer = replace(data, users=data.users[data.users["signed_up_at"] < "2026-03-01"])
    assert CohortReport(fewer, horizon=3).first_cohort_note is None


def test_the_swollen_cohorts_right_after_the_first_are_named_with_it(monthly):
    # Existing customers of an order log keep arriving for weeks: the note named the first cohort alone, beside
    # the next ones as swollen.
    per_month = {11: 12, 12: 10, 1: 4, 2: 4, 3: 4, 4: 4, 5: 4, 6: 3}
    signups = {f"m{m}-{i}": [f"{2025 if m > 10 else 2026}-{m:02d}-{i + 1:02d}"] for m, n in per_month.items()
               for i in range(n)}
    note = CohortReport(replace(_shop(monthly, signups, []), signup_before=None), horizon=3).first_cohort_note
    assert note.startswith("The 2 oldest cohorts, 2025-11 to 2025-12, are the first months of the data and each has at "
                           "least 2.5 times as many users as the others' median (12 and 10 against 4)."), note


def _tiny_february(monthly: CohortReport, per_month: int = 20) -> tuple[CohortReport, dict[str, float]]:
    """20 users a month (``per_month``) from November 2025 to October 2026, but 1 in February 2026 who never came
    back; each cohort's month-1 retention is known by construction (the expected value, cohort → rate)."""
    months = pd.date_range("2025-11-01", "2026-10-01", freq="MS")
    back = dict(zip(months.strftime("%Y-%m"), [6, 12, 8, 0, 14, 10, 9, 15, 11, 13, 7, 10], strict=True))
    users, events = [], []
    for month in months:
        key, size = month.strftime("%Y-%m"), 1 if month.strftime("%Y-%m") == "2026-02" else per_month
        for i in range(size):
            user = f"{key}-{i}"
            users.append((user, month + pd.Timedelta(days=2)))
            events.append((user, "purchase", month + pd.Timedelta(days=3), 10.0))
            if i < back[key]:
                events.append((user, "session_start", month + pd.DateOffset(months=1) + pd.Timedelta(days=4), None))
    frame = pd.DataFrame(events, columns=["user_id", "event_type", "occurred_at", "revenue"])
    frame["event_type"] = pd.Categorical(frame["event_type"], categories=cohort_data.READ_EVENTS)
    data = replace(monthly.data, users=pd.DataFrame(users, columns=["user_id", "signed_up_at"]), events=frame)
    rates = {k: (0.0 if k == "2026-02" else v / per_month) for k, v in back.items()}
    return CohortReport(data), rates


def test_a_tiny_cohort_counts_in_no_average_but_is_still_shown(monthly):
    # A month of 1 user among months of 20 (the audit's: 4 signups against ~430) moved the earlier cohorts'
    # plain mean by several points and with it the headline's difference.
    report, rates = _tiny_february(monthly)
    assert list(report.tiny.strftime("%Y-%m")) == ["2026-02"]
    # Month 1 is observed for November to September; the newest 3 are July–September, the earlier ones
    # November–June without February.
    newest = sum(rates[m] for m in ("2026-07", "2026-08", "2026-09")) / 3
    earlier = [rates[m] for m in ("2025-11", "2025-12", "2026-01", "2026-03", "2026-04", "2026-05", "2026-06")]
    month1 = next(k for k in report.kpis() if k.key == "user_retention_age1")
    assert month1.value == pytest.approx(newest) and month1.previous == pytest.approx(sum(earlier) / len(earlier))
    compared = report.comparison().children[0].frame.iloc[0]
    assert compared["Earlier cohorts"] == pytest.approx(sum(earlier) / len(earlier))
    assert compared["Cohorts compared"] == "3 vs 7"
    note = "2026-02 (1 user) counts in no average or comparison: fewer than a tenth of the median cohort's 20 users"
    assert report.headline().note.startswith(note)
    assert any(getattr(c, "message", "").startswith(note) for c in report.comparison().children)
    assert "2026-02" in report.summary_table().frame["Cohort"].tolist()  # shown, with its 0 %
    assert "On average a cohort keeps " + percent(sum(rates[m] for m in rates if m not in ("2026-02", "2026-10")) / 10, 0) \
        in report.retention().lead


def test_a_tiny_cohort_left_out_of_the_comparison_raises_no_small_cohort_warning(monthly):
    # "Some cohorts have fewer than 100 users" fired for the one cohort the note above it leaves out of everything.
    def warned(report: CohortReport) -> bool:
        return any("fewer than 100 users" in getattr(c, "message", "") for c in report.comparison().children)

    assert not warned(_tiny_february(monthly, per_month=120)[0])
    assert warned(_tiny_february(monthly, per_month=20)[0])  # cohorts that count are small: said


def test_without_a_tiny_cohort_nothing_is_left_out(monthly):
    assert not len(monthly.tiny) and monthly.tiny_note() == ""
    assert "in no average" not in monthly.headline().note


def test_the_earlier_cohorts_ltv_average_stops_where_one_of_them_stops(monthly, monkeypatch):
    # An average of cumulative revenue over the cohorts still observed fell where the younger earlier cohorts
    # stopped and only the older ones were left (the audit's $42.0 → $36.2 → $45.7).
    from quire.charts import cohort as cohort_charts

    drawn = []
    monkeypatch.setattr(cohort_charts, "to_chart", lambda fig, *a, **k: drawn.append(fig) or Chart(b"", "the chart"))
    ltv = pd.DataFrame([[1.0, 2.0, 3.0, 4.0], [1.0, 5.0, 9.0, float("nan")], [1.0, 1.5, float("nan"), float("nan")],
                        [2.0, float("nan"), float("nan"), float("nan")]],
                       index=pd.date_range("2026-01-01", periods=4, freq="MS"), columns=range(4))
    cohort_charts.ltv_curves(ltv, "month", highlight=1, at_age=0)
    [average] = [line for line in drawn[0].axes[0].get_lines() if line.get_label() == "Earlier cohorts, average"]
    assert list(average.get_xdata()) == [0, 1] and list(average.get_ydata()) == pytest.approx([1.0, 8.5 / 3])


def test_purchases_before_their_buyers_signup_are_left_out_and_said_so(tiny_warehouse, tmp_path, monthly):
    """A guest checkout before signing up: the revenue figures leave it out (ages start at signup), the report says so."""
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        inside, outside = (con.execute(f"SELECT user_id, signed_up_at FROM users WHERE signed_up_at {where} "
                                       "ORDER BY signed_up_at LIMIT 1").fetchone()
                           for where in (f">= DATE '{FIRST_MONTH}'", f"< DATE '{FIRST_MONTH}'"))
        for event, (user, signed) in ((900_001, inside), (900_002, inside), (900_003, outside)):
            con.execute("INSERT INTO events VALUES (?, ?, 'purchase', ?, 61.25)",
                        [event, user, signed - pd.Timedelta(days=40)])
    report = cohort.build(url=f"duckdb:///{path}")
    assert report.early_purchases == (2, 122.5)  # the user outside the 12 cohorts is not theirs to report
    [note] = [c for c in report.ltv().children if isinstance(c, Callout)]
    assert note.message.startswith("2 purchases worth $122 by these cohorts' users came before their signup and "
                                   "are counted in no revenue figure of this report")
    pd.testing.assert_series_equal(report.revenue_to_date, monthly.revenue_to_date)
    assert monthly.early_purchases == (0, 0.0)
    assert not [c for c in monthly.ltv().children if isinstance(c, Callout)]


@pytest.mark.parametrize("recent,earlier,how", [
    (0.031, 0.036, "worse"),          # −0.5 pts of 3.6 %: a seventh fewer users, not "about as well"
    (0.305, 0.300, "about as well"),  # −/+0.5 pts of 30 %
    (0.40, 0.30, "better"), (0.0, 0.0, "about as well"),
])
def test_the_reading_weighs_a_difference_against_the_rate_it_is_of(monthly, monkeypatch, recent, earlier, how):
    frame = pd.DataFrame({"recent": [recent], "earlier": [earlier], "difference_pts": [(recent - earlier) * 100],
                          "n_recent": [3], "n_earlier": [8], "p_value": [0.01]}, index=pd.Index([1], name="age"))
    monkeypatch.setattr(CohortReport, "comparison_frame", lambda self, matrix, ages: frame)
    assert f"retain {how} in month 1 (" in monthly.reading()
    assert "chance" not in monthly.reading() and "spread" not in monthly.reading()


@pytest.mark.parametrize("p_value, says", [(0.13, "; within the spread between cohorts, p = 0.13)"),
                                           (float("nan"), "; too few cohorts to tell it from chance)")])
def test_the_reading_says_when_a_difference_is_within_chance(monthly, monkeypatch, p_value, says):
    """"Better in month 3 (16.6% against 15.3%, +1.3 pts)" where a test across the cohorts gave p = 0.13: the grey
    card says such a change is too near the spread to call better or worse, so the reading says only "more"."""
    frame = pd.DataFrame({"recent": [0.166], "earlier": [0.153], "difference_pts": [1.3], "n_recent": [3],
                          "n_earlier": [9], "p_value": [p_value]}, index=pd.Index([3], name="age"))
    monkeypatch.setattr(CohortReport, "comparison_frame", lambda self, matrix, ages: frame)
    assert monthly.reading().endswith(f"retain more of their users in month 3 (16.6% of users active against 15.3%, "
                                      f"+1.3 pts{says}.")


@pytest.mark.parametrize("recent, earlier, p_value, coloured", [
    (0.300, 0.306, 0.01, False),         # −0.6 pts of 30.6 %: "about as well" in the reading
    (0.166, 0.153, 0.13, False),         # +1.3 pts within the spread between cohorts
    (0.166, 0.153, float("nan"), False),  # too few cohorts to tell
    (0.40, 0.30, 0.01, True),
])
def test_a_card_is_coloured_only_for_a_change_the_reading_calls_one(tiny_warehouse, monkeypatch, recent, earlier,
                                                                   p_value, coloured):
    def compared(matrix, recent_count, at_ages):
        return pd.DataFrame({"recent": recent, "earlier": earlier, "difference_pts": (recent - earlier) * 100,
                             "n_recent": 3, "n_earlier": 8, "p_value": p_value}, index=pd.Index(list(at_ages), name="age"))

    monkeypatch.setattr(cohort, "compare_recent", lambda matrix, recent, at_ages: compared(matrix, recent, at_ages))
    report = cohort.build(period="2026-10", url=tiny_warehouse)
    cards = [k for k in report.kpis() if k.key.startswith(("user_retention", "revenue_retention"))]
    assert cards and all((k.is_good is not None) == coloured for k in cards), [(k.key, k.is_good) for k in cards]
    ltv = next(k for k in report.kpis() if k.key.startswith("ltv"))
    assert (ltv.is_good is not None) == (p_value < 0.05)  # money has no "about as well": the spread alone decides
    assert ("A change in grey is too small" in report.headline().note) == (not coloured)


def test_the_readings_p_value_is_welchs_over_the_cohorts_rates(tiny_warehouse):
    from scipy.stats import ttest_ind

    report = cohort.build(period="2026-10", url=tiny_warehouse)
    rates = report.averaged(report.active.rates, revenue=False)[1].dropna().sort_index()
    recent, earlier = rates.iloc[-3:], rates.iloc[:-3]
    expected = ttest_ind(recent, earlier, equal_var=False).pvalue  # the published test on the report's own cells
    assert report.comparison_frame(report.active, [1]).loc[1, "p_value"] == pytest.approx(expected)


def test_a_short_horizons_headline_ages_are_columns_of_the_tables(tiny_warehouse):
    # -p horizon=2 headlined "Month 2 user retention" and "LTV by month 2"; neither table had a month-2 column.
    report = CohortReport(cohort.load(url=tiny_warehouse), horizon=2)
    keys = {k.key for k in report.kpis()}
    assert {"user_retention_age2", "ltv_age2"} <= keys, keys
    assert "Month 2" in report.summary_table().frame.columns
    ltv = next(c for c in report.ltv().children if hasattr(c, "frame") and "Revenue to date" in c.frame.columns)
    assert "LTV by month 2" in ltv.frame.columns


# --------------------------------------------------------------------------- thin revenue bases, filters, labels
def _ten_a_month(monthly: CohortReport, buys) -> CohortData:
    """Ten users a month from November 2025 to October 2026, signed up on the 2nd; ``buys(month, i)`` gives the
    (age, amount) purchases of that month's i-th user, each on the 3rd of the month at that age."""
    signups, purchases = {}, []
    for month in pd.date_range("2025-11-01", "2026-10-01", freq="MS"):
        key = month.strftime("%Y-%m")
        for i in range(10):
            user = f"{key}-{i}"
            signups[user] = [str(month + pd.Timedelta(days=1))]
            purchases += [(user, str(month + pd.DateOffset(months=age) + pd.Timedelta(days=2)), amount)
                          for age, amount in buys(key, i)]
    return _shop(monthly, signups, purchases)


def _cent_base(monthly: CohortReport) -> CohortReport:
    """Every user buys $10 in the signup month and $5 the month after, except February 2026's: one of them bought for
    a cent in the signup month, all ten $20 after."""
    def buys(month: str, i: int) -> list[tuple[int, float]]:
        if month == "2026-02":
            return [(1, 20.0)] + ([(0, 0.01)] if i == 0 else [])
        return [(0, 10.0), (1, 5.0)]
    return CohortReport(_ten_a_month(monthly, buys), horizon=3)


def test_a_cohort_on_a_base_of_a_cent_counts_in_no_revenue_retention_average(monthly):
    # One purchase of a cent in its signup month made a cohort's next month read 200,000 %, and the plain mean of
    # the cohorts carried it into the headline and the comparison (the audit's "171.3% ▼ −66,528.7 pts").
    report = _cent_base(monthly)
    assert list(report.thin_bases.strftime("%Y-%m")) == ["2026-02"] and not len(report.tiny)
    assert report.revenue_matrix.rates.loc["2026-02-01", 1] == pytest.approx(20_000.0)
    # Month 1 revenue retention of every other cohort: $50 ÷ $100 = 50 %. The newest three to reach month 1 are
    # July–September; the earlier ones (November–June, February left out) are at 50 % too.
    compared = report.comparison().children[0].frame.set_index(["Metric", "Age"])
    row = compared.loc[("Revenue retention", "Month 1")]
    assert row["Earlier cohorts"] == pytest.approx(0.5) and row["Cohorts compared"] == "3 vs 7"
    assert compared.loc[("User retention", "Month 1"), "Cohorts compared"] == "3 vs 8"  # user retention keeps it
    note = ("2026-02 ($0.01 from 10 users) counts in no average of revenue retention: its base revenue is under a tenth "
            "of the median cohort's, per user ($10.00 a user), so its later months read as shares of almost nothing "
            "(up to 2,000,000%).")
    assert note in report.headline().note
    assert any(getattr(c, "message", "") == note for c in report.revenue().children)
    assert any(getattr(c, "message", "") == note for c in report.comparison().children)
    assert cell_labels(report.revenue_matrix.rates).loc["2026-02-01", 1] == ">999%"  # a cell's width, not 2,000,000%
    # The newest cohort on a thin base, observed at its base's age only: no later month to read "up to 100%" in.
    newest = CohortReport(_ten_a_month(monthly, lambda month, i: [(0, 0.01 if month == "2026-10" else 10.0)]),
                          horizon=3)
    assert list(newest.thin_bases.strftime("%Y-%m")) == ["2026-10"]
    assert newest.thin_base_note().endswith("so its later months would read as shares of almost nothing.")
    # Every cohort's base alike: nothing is left out and nothing is said.
    assert not len(monthly.thin_bases) and "revenue retention" not in monthly.headline().note


def test_a_cohort_whose_first_purchase_came_after_the_horizon_is_not_said_to_have_no_revenue(monthly):
    # "1 cohort has no revenue yet" for a cohort whose "Revenue to date" showed $75: it bought after the ages shown.
    data = _shop(monthly, {1: ["2026-05-03"], 2: ["2026-06-04"], 3: ["2026-07-05"]},
                 [(1, "2026-05-05", 10.0), (2, "2026-09-01", 75.0)])
    lead = CohortReport(data, horizon=1).revenue().lead
    assert ("1 cohort bought nothing up to month 1, the last age this report follows, only later (see the revenue to "
            "date under the LTV curves): blank row.") in lead
    assert "1 cohort has no revenue yet: blank row." in lead  # July's cohort bought nothing at all
    assert "only later" not in CohortReport(data, horizon=3).revenue().lead  # by month 3, June's cohort has its base


def test_a_first_cohort_that_activated_better_is_not_called_swollen(monthly):
    # The activation filter: the data's first month had 10 signups like every other, but all of them activated and
    # only 4 of the later months'. Counted on the filter's survivors it was "2.5 times as many users as the others".
    signups = {f"m{m}-{i}": [f"{2025 if m > 10 else 2026}-{m:02d}-{i + 1:02d}"]
               for m in (11, 12, 1, 2, 3, 4, 5) for i in range(10)}
    data = replace(_shop(monthly, signups, []), signup_before=None)
    activations = pd.DataFrame([(u, "activation", pd.Timestamp(days[0]) + pd.Timedelta(hours=1), None)
                                for u, days in signups.items() if u.startswith("m11-") or int(u.split("-")[1]) < 4],
                               columns=["user_id", "event_type", "occurred_at", "revenue"])
    activations["event_type"] = pd.Categorical(activations["event_type"], categories=cohort_data.READ_EVENTS)
    report = CohortReport(replace(data, events=activations), horizon=3, behaviour="activated")
    assert report.active.sizes.iloc[0] == 10 and report.active.sizes.iloc[1] == 4
    assert report.first_cohort_note is None


def test_purchases_before_signup_are_counted_of_the_users_the_filter_keeps(monthly):
    users = {1: ["2026-05-03"], 2: ["2026-05-04"]}
    data = _shop(monthly, users, [(1, "2026-05-05", 10.0)])
    activation = pd.DataFrame([(1, "activation", pd.Timestamp("2026-05-03 12:00"), None)],
                              columns=["user_id", "event_type", "occurred_at", "revenue"])
    data = replace(data, events=pd.concat([data.events, activation]).astype({"event_type": data.events["event_type"].dtype}),
                   early_purchases=pd.DataFrame({"user_id": [1, 2], "purchases": [1, 12], "revenue": [5.0, 1200.0]}))
    assert CohortReport(data).early_purchases == (13, 1205.0)
    # The filter keeps user 1 only: user 2's twelve purchases are not "these cohorts' users'" in its report.
    [note] = [c for c in CohortReport(data, behaviour="activated").ltv().children if isinstance(c, Callout)]
    assert note.message.startswith("1 purchase worth $5 by these cohorts' users came before their signup")


def test_the_cover_of_an_empty_filtered_report_starts_where_the_data_does(monthly):
    # "12 monthly signup cohorts (July 2024 – June 2025)" on the cover of a report whose data begins in January 2025.
    data = _shop(monthly, {1: ["2026-06-03"], 2: ["2026-07-12"]}, [(1, "2026-06-05", 10.0)])
    data = replace(data, data_months=(date(2026, 6, 1), data.data_months[1]), data_start=date(2026, 6, 1))
    report = CohortReport(data, behaviour="activated")
    assert report.problem and "activation event at all" in report.problem
    assert report.header().subtitle.startswith(
        "5 monthly signup cohorts (June 2026 – October 2026: the data begins with the first; 12 were asked for), "
        "followed")


def test_heatmap_and_ltv_alt_texts_read_as_sentences(monthly):
    from quire.charts import cohort as charts

    one = _shop(monthly, {1: ["2026-05-03"]}, [(1, "2026-05-05", 20.0)])
    report = CohortReport(replace(one, first_cohort=date(2026, 5, 1), last_cohort=date(2026, 5, 1)), horizon=3)
    assert "(1 user)," in report.retention().children[0].alt
    alike = _shop(monthly, {u: [f"2026-0{5 + u // 10}-0{1 + u % 10 // 2}"] for u in range(20)},
                  [(u, f"2026-0{5 + u // 10}-20", 20.0) for u in range(20)])
    report = CohortReport(replace(alike, first_cohort=date(2026, 5, 1), last_cohort=date(2026, 6, 1)), horizon=3)
    assert "(10 users each)" in report.retention().children[0].alt
    ltv = charts.ltv_curves(report.ltv_frame, "month", highlight=1, at_age=0)
    assert "at month 0 every cohort's LTV is $20" in ltv.alt and "the lowest" not in ltv.alt


def test_the_ltv_legend_sits_below_the_curves(monthly, monkeypatch):
    # In the lower right corner it covered the low, flat curves of cohorts that stopped buying.
    import matplotlib.pyplot as plt

    from quire.charts import cohort as charts

    kept = {}
    monkeypatch.setattr(charts, "to_chart", lambda fig, alt, caption: kept.setdefault("fig", fig))
    monkeypatch.setattr(plt, "close", lambda *a: None)
    charts.ltv_curves(monthly.ltv_frame, "month", highlight=3, at_age=3)
    fig = kept["fig"]
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    below = min(t.get_window_extent().y0 for t in [ax.xaxis.label, *ax.get_xticklabels()] if t.get_text())
    assert legend.y1 <= below
    plt.close(fig)


def test_a_short_horizons_headline_ages_are_compared_too(tiny_warehouse):
    # -p horizon=2: the cards read month 2 against the earlier cohorts; the comparison table and its reading
    # covered month 1 only.
    report = CohortReport(cohort.load(url=tiny_warehouse), horizon=2)
    cards = {k.key: k for k in report.kpis()}
    table = report.comparison().children[0].frame.set_index(["Metric", "Age"])
    for key, metric in (("user_retention_age2", "User retention"), ("revenue_retention_age2", "Revenue retention")):
        row = table.loc[(metric, "Month 2")]
        assert row["3 newest cohorts"] == pytest.approx(cards[key].value)
        assert row["Earlier cohorts"] == pytest.approx(cards[key].previous)
    assert "in month 2 (" in report.reading()


def test_the_ltv_sentence_writes_both_averages_to_the_same_cent(monthly):
    # "$10 per user … against $12.60": one figure whole, the other with cents.
    report = _cent_base(monthly)
    row = compare_recent(report.averaged(report.ltv_frame), recent=3, at_ages=[3]).loc[3]
    assert row["recent"] == pytest.approx(15.0) and round(row["earlier"], 2) != round(row["earlier"])
    assert f"brought $15.00 per user (each cohort counting once), against ${row['earlier']:.2f} for" in report.ltv().lead


def test_a_cards_cohort_count_stays_with_its_word(monthly):
    # "…, newest" at a line's end and "3" alone on the next.
    assert all("newest\u00a0" in k.label for k in monthly.kpis()[1:])


def test_a_cohort_counts_in_revenue_retention_averages_from_its_base_on(monthly):
    # A cohort that bought nothing until its second month showed 0 % at month 1 by definition and was averaged as
    # 0 %, while a cohort that has bought nothing yet counts at no age: an age's average depended on later months.
    data = _ten_a_month(monthly, lambda month, i: [(2, 15.0)] if month == "2026-03" else [(0, 10.0), (1, 6.0)])
    report = CohortReport(data, horizon=3)
    rates = report.revenue_matrix.rates
    assert rates.loc["2026-03-01", 1] == 0 and report.revenue_matrix.base_age["2026-03-01"] == 2
    row = report.comparison_frame(report.revenue_matrix, [1]).loc[1]
    # Month 1: every other cohort 60 %; the newest three to reach it July–September, the earlier ones November–June
    # without March.
    assert row["earlier"] == pytest.approx(0.6) and row["n_earlier"] == 7
    assert "2026-03" in report.summary_table().frame["Cohort"].tolist()
    # Nor its base's own 100 %, which it is by construction: at month 2, March counts in no average either.
    assert rates.loc["2026-03-01", 2] == 1.0
    assert pd.isna(report.averaged(rates, revenue=True).loc["2026-03-01", 2])
    assert report.comparison_frame(report.revenue_matrix, [2]).loc[2, "earlier"] == 0  # the others buy in months 0-1


def test_a_report_on_a_handful_of_users_says_its_rates_are_indicative(monthly):
    # One user, one cohort: "Month 1 user retention 100.0%" with nothing to say it is one person (the fewer-than-100
    # warning sits in the comparison, which a single cohort does not have).
    one = _shop(monthly, {1: ["2026-05-03"]}, [(1, "2026-05-05", 20.0)])
    report = CohortReport(replace(one, first_cohort=date(2026, 5, 1), last_cohort=date(2026, 5, 1)), horizon=3)
    assert report.headline().note.startswith("Only 1 user in these cohorts: each moves a rate by many points, so read "
                                             "the figures as indicative.")
    assert "indicative" not in _cent_base(monthly).headline().note  # 120 users: nothing to say


def test_months_before_events_were_tracked_are_not_reported_as_zero_retention(tiny_warehouse, tmp_path):
    """Users from September 2025, events only from 15 January 2026: the months before read "0.0%, a real zero"."""
    path = tmp_path / "tracked-late.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from events where occurred_at < timestamp '2026-01-15'")
    url = f"duckdb:///{path}"
    with connection(url) as conn:
        assert coverage.report_range("cohort", conn)[0] == date(2026, 1, 1)
    with pytest.raises(ParameterError, match="2025-12 is before the data starts"):
        cohort.load("2025-12", url=url)
    report = cohort.build(period="2026-06", url=url)
    # January is tracked from the 15th only: the first whole cohort is February's, and no cell lies before tracking.
    assert report.data.users["signed_up_at"].min() >= pd.Timestamp("2026-02-01")
    assert report.active.rates.index.min() >= pd.Timestamp("2026-02-01")


def test_a_part_week_at_the_start_of_the_data_is_neither_a_cohort_nor_an_earlier_one_to_offer(tiny_warehouse,
                                                                                              tmp_path):
    """Data from Wednesday 14 January: its week of 12 January (5 days) was reported as a whole cohort, and a signup in
    it was offered as "earlier cohorts exist: show more cohorts", which changed nothing."""
    path = tmp_path / "midweek.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        _without_users(con, "signed_up_at < timestamp '2026-01-14'")
        con.execute("delete from events where occurred_at < timestamp '2026-01-14'")
        [(day,)] = con.execute("select min(signed_up_at) from users").fetchall()
    assert day.date() == date(2026, 1, 14)  # a Wednesday
    url = f"duckdb:///{path}"
    report = cohort.build(period="2026-03", granularity="week", cohorts=12, url=url)
    assert report.data.users["signed_up_at"].min() >= pd.Timestamp("2026-01-19")  # the first whole week's Monday
    assert report.data.signup_before is None
    wide = cohort.build(period="2026-03", granularity="week", cohorts=36, url=url)
    assert wide.active.rates.index.min() == pd.Timestamp("2026-01-19")


def test_the_size_table_has_no_column_for_an_age_no_cohort_has_reached(tiny_warehouse):
    """"Months 6–12 are not yet observed" above a table whose "Month 6" column was blank in every row."""
    report = cohort.build(period="2025-12", url=tiny_warehouse)
    assert report.max_age < 6
    columns = [c for c in report.summary_table().frame.columns if c.startswith("Month ")]
    assert columns and all(int(c.split()[1]) <= report.max_age for c in columns), columns
    assert report.summary_table().frame[columns].notna().any().all()
