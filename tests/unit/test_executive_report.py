"""The executive report: the first periods of the data, CLV on a stable churn, thin KPIs, one alert per KPI, one MRR chart."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from quire import metrics
from quire.display import Callout, Chart, Section
from quire.periods import parse_period
from quire.reports import executive, executive_data
from quire.reports.executive import ExecutiveReport
from quire.reports.executive_data import ExecutiveData
from quire.warehouse.engine import connection
from support import warehouse_copy

SECTIONS = ["header", "headline", "alerts", "revenue", "retention", "forecast", "delivery", "customers", "glossary"]


def render_all(report: ExecutiveReport) -> dict[str, object]:
    shown = {name: getattr(report, name)() for name in SECTIONS}
    for name, fragment in shown.items():
        assert fragment.html(), name
    return shown


@pytest.mark.parametrize("period", ["2025-09", "2025-Q4"])
def test_the_first_month_and_quarter_of_the_data_render_every_section(tiny_warehouse, period):
    """No earlier period lies in the data: no comparison, no alert history, and nothing claims otherwise."""
    report = executive.build(period, url=tiny_warehouse)
    # September 2025 starts the data (no starting MRR: no KPIs of its own); Q4 2025 starts with September's MRR.
    assert report.history["period"].tolist() == ([] if period == "2025-09" else ["2025-Q4"])
    assert "nrr" in report.history.columns
    shown = render_all(report)
    # Q3 2025 holds September: partly in the data, so not "no earlier period".
    assert ("no earlier period to compare with" if period == "2025-09" else
            "so it is not compared with Q3 2025, which the data holds only in part") in shown["header"].subtitle
    assert all(k.previous is None for k in shown["headline"].kpis)
    assert "Change vs previous period" not in [term for term, _ in shown["glossary"].entries]
    assert "vs " not in shown["delivery"].html()  # no comparison with a period outside the data


def test_a_later_period_is_compared_and_says_so(tiny_warehouse):
    shown = render_all(executive.build("2026-Q3", url=tiny_warehouse))
    assert shown["header"].subtitle == "Company KPIs compared with Q2 2026"
    assert "Change vs previous period" in [term for term, _ in shown["glossary"].entries]


@pytest.mark.parametrize("period,advice", [
    ("2025-09", "The first month with enough history is August 2026: choose 2026-08 or later."),
    ("2025-Q4", "The first quarter with enough history is Q3 2026: choose 2026-Q3 or later."),
])
def test_a_forecast_without_enough_history_names_the_first_period_that_has_it(tiny_warehouse, period, advice):
    report = executive.build(period, url=tiny_warehouse)
    [callout] = report.forecast().children
    assert isinstance(callout, Callout) and callout.message.endswith(advice)
    # The advice holds: that period has its forecast.
    followed = executive.build(advice.split("choose ")[1].split(" ")[0], url=tiny_warehouse)
    assert followed.mrr_forecast[1] is not None


def test_a_forecast_on_data_too_short_for_any_says_so(tiny_warehouse):
    report = executive.build("2025-09", url=tiny_warehouse)
    short = ExecutiveReport(replace(report.data, last_month=date(2026, 3, 1)))
    assert short.forecast().children[0].message.endswith(
        "The data holds 7 months of MRR history, so no period can be forecast yet.")


def test_mrr_is_drawn_once_with_its_forecast(tiny_warehouse):
    report = executive.build("latest", url=tiny_warehouse)
    charts = [c for name in ("revenue", "retention", "forecast") for c in getattr(report, name)().children
              if isinstance(c, Chart)]
    lines = [c for c in charts if c.alt.startswith("Line chart of MRR")]
    assert len(lines) == 1 and "the forecast reaches" in lines[0].alt


# -- a hand-made company: CLV, thin KPIs and alerts against figures worked out by hand ----------------

def ledger() -> pd.DataFrame:
    """30 accounts at $100 from January 2025; one churns in March, June and September, three in December."""
    rows = [(c, "2025-01-01", "new", 100.0) for c in range(1, 31)]
    rows += [(c, month, "churn", -100.0) for c, month in
             [(1, "2025-03-01"), (2, "2025-06-01"), (3, "2025-09-01"), (4, "2025-12-01"), (5, "2025-12-01"),
              (6, "2025-12-01")]]
    return pd.DataFrame(rows, columns=["client_id", "month", "movement", "amount"]).assign(
        month=lambda f: pd.to_datetime(f["month"]))


def projects() -> pd.DataFrame:
    """One project delivered on time each month of 2025, $1,000 revenue and $600 cost (margin 40%)."""
    months = pd.date_range("2025-01-15", periods=12, freq="MS") + pd.Timedelta(days=14)
    return pd.DataFrame({"project_id": range(1, 13), "client_id": 7, "name": [f"P{i}" for i in range(12)],
                         "started_on": months - pd.Timedelta(days=30), "due_on": months, "delivered_on": months,
                         "estimated_hours": 100.0, "actual_hours": 110.0, "revision_rounds": 1,
                         "revenue": 1000.0, "cost": 600.0})


def surveys(nps_in_december: int) -> pd.DataFrame:
    """Twelve NPS answers of 9 in every month of 2025 but December, which has ``nps_in_december`` answers of 10."""
    days = [d for m in range(1, 12) for d in [pd.Timestamp(2025, m, 10)] * 12] + [pd.Timestamp(2025, 12, 10)] * nps_in_december
    return pd.DataFrame({"response_id": range(len(days)), "client_id": 7, "responded_on": days, "survey": "nps",
                         "score": [9] * (len(days) - nps_in_december) + [10] * nps_in_december, "comment": None})


def company(nps_in_december: int = 12, period: str = "2025-12") -> ExecutiveReport:
    data = ExecutiveData(period=parse_period(period), first_month=date(2025, 1, 1), last_month=date(2025, 12, 1),
                         clients=pd.DataFrame(), movements=ledger(), projects=projects(), surveys=surveys(nps_in_december),
                         usage=pd.DataFrame(), tickets=pd.DataFrame())
    return ExecutiveReport(data)


def test_clv_divides_by_the_churn_of_the_trailing_twelve_months():
    # Accounts paying at the start of each month, February to December (nobody paid before January):
    # 30, 30, 29, 29, 29, 28, 28, 28, 27, 27, 27 = 312 account-months, of which 6 left.
    # ARPA at the end of December: 24 accounts × $100 ÷ 24 = $100; margin over 2025: 40%.
    monthly, quarterly = company().current, company(period="2025-Q4").current
    assert monthly["clv"] == pytest.approx(100 * 0.40 / (6 / 312))  # $2,080
    assert quarterly["clv"] == pytest.approx(monthly["clv"])  # a quarter ending the same month: the same lifetime


def test_clv_from_projects_that_lost_money_is_a_dash_that_says_why():
    # Projects costing 1.3 times their revenue: the headline read "Customer lifetime value −$5,197 ▲ +5.1%".
    losing = ExecutiveReport(replace(company().data, projects=projects().assign(cost=1300.0)))
    assert losing.current["clv"] is None and losing.current["arpa"] == pytest.approx(100.0)
    assert ("Customer lifetime value shows — as projects made no profit over the twelve months to December 2025 "
            "(margin −30.0%), the margin it multiplies by.") in losing.headline().note
    assert "no profit" not in company().headline().note


def test_clv_on_fewer_than_three_churned_accounts_is_not_shown():
    report = company(period="2025-09")  # by September: 3 churned — enough; by June: 2 — not
    assert report.current["clv"] is not None
    june = company(period="2025-06")
    assert june.current["clv"] is None
    note = june.headline().note
    assert "Customer lifetime value rests on 2 accounts churned in the 5 months to June 2025 (at least 3 needed)" in note
    assert "divides by the churn of the 5 months the data holds" not in note  # said only of a figure that is shown
    assert "divides by the churn of the 8 months the data holds, not 12" in report.headline().note


def test_clv_in_the_datas_second_month_says_its_one_month_of_churn_and_none_before():
    # "divides by the churn of the 1 months", and the first month "has no CLV: 0 accounts churned in January 2025",
    # where no churn could be counted at all.
    rows = [(c, "2025-01-01", "new", 100.0) for c in range(1, 31)] + [(c, "2025-02-01", "churn", -100.0) for c in (1, 2, 3)]
    movements = pd.DataFrame(rows, columns=["client_id", "month", "movement", "amount"]).assign(
        month=lambda f: pd.to_datetime(f["month"]))
    report = ExecutiveReport(replace(company(period="2025-02").data, movements=movements))
    assert report.current["clv"] == pytest.approx(100 * 0.40 / (3 / 30))
    note = report.headline().note
    assert "January 2025 has no customer lifetime value to compare with: there is no churn before it to count (the " \
           "data starts in January 2025)." in note, note
    assert "Customer lifetime value divides by the churn of the one month the data holds, not 12." in note, note
    assert "0 accounts churned" not in note and "1 months" not in note


def test_a_kpi_on_too_few_answers_is_a_dash_with_a_note_and_raises_no_alert():
    thin, full = company(nps_in_december=4), company(nps_in_december=12)
    assert full.current["nps"] == pytest.approx(100.0) and thin.current["nps"] is None
    assert "NPS rests on 4 survey answers in December 2025 (at least 10 needed)" in thin.headline().note
    assert not full.headline().note.count("NPS")
    assert [a.kpi for a in thin.alerts().children[0].alerts if a.kpi == "nps"] == []


def test_a_figure_shown_without_its_change_says_the_previous_period_was_too_thin():
    # December with a full basis beside a thin November: the card showed no change and said nothing about why.
    base = company().data
    answers, projects_done = base.surveys, base.projects
    in_november = answers.index[answers["responded_on"].dt.month == 11]
    extra = projects_done.iloc[[10] * 5].assign(project_id=range(100, 105))  # six delivered in December, one in November
    report = ExecutiveReport(replace(base, surveys=answers.drop(in_november[:8]), projects=pd.concat([projects_done, extra]),
                                     clients=pd.DataFrame({"client_id": [7], "name": ["Client 7"]})))
    assert report.current["nps"] is not None and report.previous["nps"] is None
    assert "November 2025 has no NPS to compare with: 4 survey answers in November 2025 (at least 10 needed)." in \
        report.thin_note(["nps", "csat"])  # the note of the satisfaction section's cards
    cards = {k.key: k for k in report.headline().kpis}
    assert cards["on_time_rate"].delta is None and cards["on_time_rate"].value is not None
    assert ("November 2025 has no on-time delivery and NPS to compare with: on-time delivery rests on 1 project "
            "delivered in November 2025 (at least 5 needed); NPS rests on 4 survey answers in November 2025 (at least "
            "10 needed).") in \
        report.headline().note
    delivery = report.delivery().children[0]
    assert delivery.note == "November 2025 has no rates to compare with: 1 project delivered there (at least 5 needed)."


def test_hours_overrun_rests_on_the_projects_with_an_estimate_and_says_which_it_leaves_out():
    # Projects estimated at 0 hours were left out of the mean without a word, and a mean over one project was shown
    # because five had been delivered.
    done = projects()
    extra = done.iloc[[10] * 5].assign(project_id=range(100, 105), estimated_hours=[0.0, 0.0, 0.0, 0.0, 100.0])
    report = ExecutiveReport(replace(company().data, projects=pd.concat([done, extra]),
                                     clients=pd.DataFrame({"client_id": [7], "name": ["Client 7"]})))
    cards = report.delivery().children[0]
    shown = {k.key: k.value for k in cards.kpis}
    assert shown["delivered"] == 6 and shown["on_time_rate"] == 1.0 and shown["hours_overrun"] is None
    assert ("4 of the 6 projects delivered in December 2025 have no estimate or no actual hours recorded, so the hours "
            "overrun leaves them out, and shows — as it rests on 2 projects (at least 5 needed).") in cards.note
    enough = ExecutiveReport(replace(report.data, projects=pd.concat([done, extra.assign(estimated_hours=100.0),
                                                                      extra.iloc[:1].assign(project_id=200,
                                                                                            estimated_hours=0.0)])))
    cards = enough.delivery().children[0]
    assert {k.key: k.value for k in cards.kpis}["hours_overrun"] == pytest.approx(0.10)
    assert ("1 of the 7 projects delivered in December 2025 has no estimate or no actual hours recorded, so the hours "
            "overrun leaves it out.") in cards.note


def test_internal_projects_and_no_overrun_are_said_not_left_as_a_dash_and_an_empty_table():
    # Five internal projects (no revenue), each done within its hours: "Project margin —" with no word why, and a
    # "Largest hour overruns" table of headers alone.
    done = projects().iloc[[10] * 5].assign(project_id=range(100, 105), revenue=0.0, actual_hours=90.0)
    report = ExecutiveReport(replace(company().data, projects=done,
                                     clients=pd.DataFrame({"client_id": [7], "name": ["Client 7"]})))
    section = report.delivery()
    [cards] = section.children  # no table
    shown = {k.key: k.value for k in cards.kpis}
    assert shown["project_margin"] is None and shown["hours_overrun"] == pytest.approx(-0.10)
    assert cards.note.endswith(" Project margin shows — as the 5 projects record no revenue."), cards.note
    assert section.lead == "No project delivered in December 2025 took more hours than estimated."
    over = ExecutiveReport(replace(report.data, projects=done.assign(actual_hours=120.0, revenue=1000.0))).delivery()
    assert [type(c).__name__ for c in over.children] == ["KpiCards", "Table"] and not over.lead
    assert "Project margin" not in over.children[0].note


def _august_revenue(rows: list[tuple]) -> tuple[Section, dict[str, float]]:
    """The revenue section of August 2025 for three accounts (Acme, Bolt, Crane) and ``rows`` of the ledger, and its
    bridge's steps."""
    movements = pd.DataFrame(rows, columns=["client_id", "month", "movement", "amount"]).assign(
        month=lambda f: pd.to_datetime(f["month"]))
    report = ExecutiveReport(replace(company(period="2025-08").data, movements=movements,
                                     clients=pd.DataFrame({"client_id": [1, 2, 3], "name": ["Acme", "Bolt", "Crane"]})))
    section = report.revenue()
    [bridge] = [c for c in section.children if getattr(c, "caption", "") == "MRR bridge"]
    return section, dict(zip(bridge.frame["Movement"], bridge.frame["MRR"], strict=True))


def test_the_bridge_counts_a_mislabelled_movement_by_its_effect_and_says_so():
    section, steps = _august_revenue([(c, "2025-01-01", "new", 100.0) for c in range(1, 4)]
                                     + [(1, "2025-08-01", "contraction", -100.0)])
    assert steps["Churn"] == -100.0 and steps["Contraction"] == 0.0  # as the logo churn of 1 in 3 says
    [note] = [c for c in section.children if isinstance(c, Callout)]
    assert note.title == "Counted by effect:" and note.message == (
        "1 movement of August 2025 in mrr_movements is labelled otherwise than its effect on MRR, which the bridge "
        "counts it by: Acme's “contraction” of −$100 in August 2025 counts as churn. Correct the labels in the source "
        "to make them agree.")
    assert not [c for c in company(period="2025-08").revenue().children if isinstance(c, Callout)]


def test_the_bridge_counts_one_accounts_movements_of_a_month_together_and_says_so():
    # A plan switch booked as churn and new, and a churn undone by a comeback within August.
    section, steps = _august_revenue([(c, "2025-01-01", "new", 100.0) for c in range(1, 4)] + [
        (1, "2025-08-01", "churn", -100.0), (1, "2025-08-01", "new", 130.0),
        (2, "2025-08-01", "churn", -100.0), (2, "2025-08-01", "reactivation", 100.0)])
    assert (steps["Churn"], steps["Expansion"], steps["Reactivation"], steps["New"]) == (0.0, 30.0, 0.0, 0.0)
    [note] = [c for c in section.children if isinstance(c, Callout)]
    assert note.message == (
        "MRR is measured at the end of each month, so one account's movements within a month count by what they do "
        "together: Acme's “churn” and “new” in August 2025 count as one expansion of $30; Bolt's “churn” and "
        "“reactivation” in August 2025 leave its MRR as it was.")


def test_one_alert_per_kpi_in_one_period():
    """December: 3 of 27 accounts leave (11.1%), past the 3% threshold and far above the usual 0–3.6%."""
    alerts = company().alerts().children[0]  # (then which KPIs had too little history to check)
    churn = [a for a in alerts.alerts if "logo churn" in a.message.lower()]
    assert len(churn) == 1 and churn[0].severity == "critical"
    assert churn[0].message.startswith("Monthly logo churn is 11.1%, above the 5.0% critical threshold")
    assert "It is also far above its usual level" in churn[0].message
    assert len({a.kpi for a in alerts.alerts}) == len(alerts.alerts)


def test_thin_counts_equal_an_independent_sql_count(tiny_warehouse):
    """The tiny warehouse's October 2026 has too few NPS answers for a figure; the note's count is the SQL count."""
    report = executive.build("2026-10", url=tiny_warehouse)
    with connection(tiny_warehouse) as conn:
        answers = conn.execute(sa.text("select count(*) from survey_responses where survey = 'nps' and "
                                       "responded_on between date '2026-10-01' and date '2026-10-31'")).scalar()
    assert answers < executive_data.MIN_BASIS["nps"].least and report.current["nps"] is None
    assert f"NPS rests on {answers} survey answers in October 2026" in report.headline().note


def test_thin_counts_of_one_and_a_one_month_window_read_in_the_singular(tiny_warehouse):
    # "rests on 1 survey answers", "in the 1 months to October 2025".
    october, november = (executive.build(p, url=tiny_warehouse).headline().note for p in ("2025-10", "2025-11"))
    assert "CSAT rests on 1 survey answer in October 2025" in october
    assert "Customer lifetime value rests on 0 accounts churned in October 2025 (" in october
    assert "rests on 1 account churned in the 2 months to November 2025" in november


def test_clv_margin_reads_projects_from_before_the_ledger_starts(tiny_warehouse, tmp_path):
    # The ledger starts in 2026-06 here; CLV's margin for 2026-08 still reads the projects of 2025-08 on.
    with warehouse_copy(tiny_warehouse, tmp_path / "late.duckdb") as con:
        con.execute("delete from mrr_movements where month < date '2026-06-01'")
        [(before,)] = con.execute("select count(*) from projects where delivered_on >= date '2025-08-01' "
                                  "and delivered_on < date '2026-06-01'").fetchall()
    assert before > 0
    data = executive_data.load("2026-08", url=f"duckdb:///{tmp_path / 'late.duckdb'}")
    assert data.first_month == date(2026, 6, 1)
    delivered = pd.to_datetime(data.projects["delivered_on"])
    assert int(((delivered >= "2025-08-01") & (delivered < "2026-06-01")).sum()) == before


def test_health_without_usage_data_says_no_account_could_be_scored():
    base = company()
    clients = pd.DataFrame({"client_id": range(1, 31), "name": [f"Account {i}" for i in range(1, 31)]})
    tickets = pd.DataFrame({"ticket_id": [1], "client_id": [7], "opened_at": [pd.Timestamp("2025-12-05")],
                            "priority": ["urgent"]})
    usage = pd.DataFrame(columns=["client_id", "week", "seats", "active_users", "logins"])
    report = ExecutiveReport(replace(base.data, clients=clients, tickets=tickets, usage=usage, surveys=base.data.surveys.iloc[0:0],
                                     absent=("product_usage", "survey_responses")))
    notes = [c.message for c in report.customers().children if isinstance(c, Callout)]
    assert any(m.startswith("None of the 24 active accounts could be scored") for m in notes)
    assert "No active account is at risk." not in notes


def test_forecast_advice_never_names_a_period_the_data_has_not_completed(tiny_warehouse):
    report = executive.build("2025-Q4", url=tiny_warehouse)
    # Data ending in August 2026: the quarter with a year of history (Q3 2026) is still running.
    early = ExecutiveReport(replace(report.data, last_month=date(2026, 8, 1)))
    assert early._forecast_advice() == ("The first quarter with enough history, Q3 2026, is not complete in the data "
                                        "yet; the months from August 2026 on have it: choose 2026-08 or later.")


def test_the_ledgers_first_month_says_its_new_mrr_holds_the_accounts_already_paying(tiny_warehouse):
    # "MRR moved from $0 to $16,954 in January 2024" with New $16,954: the base already paying when the export starts.
    first = executive.build("2025-09", url=tiny_warehouse).revenue().lead
    assert first.startswith("MRR moved from $0 to ") and "The data starts in September 2025: the accounts already " \
        "paying then count as new MRR in it." in first
    assert "The data starts" not in executive.build("2025-10", url=tiny_warehouse).revenue().lead


def test_too_short_a_history_for_anomalies_counts_the_months_with_figures(tiny_warehouse):
    # October 2025 is the data's second month: September is in the data but has no rates (nothing before it),
    # so "there is none" needed saying why.
    october, december = (executive.build(p, url=tiny_warehouse).alerts().children[0].empty_message
                         for p in ("2025-10", "2025-12"))
    assert "needs 6 earlier months with figures (the data's first month has none: nothing came before it); " \
        "there is none." in october
    assert december.endswith("there are 2.")


def test_a_quarter_whose_starting_mrr_is_in_the_data_counts_in_the_history(tiny_warehouse):
    # Data from September 2025: Q4 2025 starts with September's MRR and its own report shows its NRR, but the
    # history left it out (the quarter before it is not wholly in the data), so Q1 2026 read "there is none".
    report = executive.build("2026-Q1", url=tiny_warehouse)
    assert report.history["period"].tolist() == ["2025-Q4", "2026-Q1"]
    caveat = next(c for c in report.alerts().children if isinstance(c, Callout))
    assert caveat.message.endswith("there is 1.")
    assert executive.build("2026-Q2", url=tiny_warehouse).history["period"].tolist()[0] == "2025-Q4"


def test_the_anomaly_caveat_stays_when_a_threshold_alert_fires(tiny_warehouse):
    # November 2025 raises threshold alerts; that 6 earlier months are needed to call a KPI unusual went unsaid.
    section = executive.build("2025-11", url=tiny_warehouse).alerts()
    alerts, caveat = section.children
    assert list(alerts.alerts) and caveat.title == "Not checked for anomalies:"
    assert "needs 6 earlier months with figures" in caveat.message and caveat.message.endswith("there is 1.")
    assert len(executive.build("2025-12", url=tiny_warehouse).alerts().children) == 1  # no alert: said once


def test_the_alerts_name_the_kpis_they_could_not_check_for_anomalies(tiny_warehouse):
    # The tiny warehouse's last month has a year of earlier months, but on-time delivery, project margin, NPS and
    # CSAT had a figure in too few of them (a month of fewer than 5 projects or answers has none): "No anomalies:
    # every KPI is within its usual range" claimed checks that never ran.
    report = executive.build("latest", url=tiny_warehouse)
    hist = report.history
    testable = [k for k in executive.ANOMALY_KPIS
                if pd.notna(hist[k].iloc[-1]) and hist[k].iloc[:-1].notna().sum() >= 6]
    untested = [k for k in executive.ANOMALY_KPIS if k not in testable]
    assert testable and untested  # both kinds, or the test shows nothing
    section = report.alerts()
    said = section.children[0].empty_message if not section.children[0].alerts else section.children[-1].message
    assert "every KPI is within its usual range" not in said
    names = [executive.KPI_DEFS[k][0] for k in untested]
    assert all(name in said or name[0].lower() + name[1:] in said for name in names), said
    assert not any(executive.KPI_DEFS[k][0] in said for k in testable if k != "mrr_growth"), said


def test_the_retention_table_keeps_figures_for_the_data_files(tiny_warehouse):
    report = executive.build("2026-10", url=tiny_warehouse)
    [data] = [t for t in report.retention().tables() if t["caption"] == "Retention and account economics"]
    rows = {row[0]: row[1:] for row in data["rows"]}
    assert rows["Net revenue retention"][0] == pytest.approx(report.current["nrr"])
    assert rows["ARPA"] == [pytest.approx(report.current["arpa"]), pytest.approx(report.previous["arpa"])]
    assert data["row_units"][list(rows).index("ARPA")] == "currency"


def test_the_forecast_says_where_mrr_is_and_where_the_model_starts(tiny_warehouse):
    # "If recent trends hold, MRR reaches about $12,595" after a year of growth read as a fall: the damped trend
    # drew a line through MRR's steps and began at $11,453, under October's $13,071. A history of steps has
    # no trend worth its parameters (AICc): the forecast holds the latest level, and the lead says so.
    report = executive.build("2026-10", url=tiny_warehouse)
    series, fc, _ = report.mrr_forecast
    money = lambda v: metrics.format_value(v, "currency")  # noqa: E731
    now = money(series.iloc[-1])
    section = report.forecast()
    assert section.lead.startswith(f"MRR is {now} at the end of October 2026; its month-to-month changes are too "
                                   f"uneven to project a trend from, so the model holds MRR at about {now} through "
                                   "April 2027 (90% interval ")
    assert not [c for c in section.children if isinstance(c, Callout)]  # within the model's interval: no warning
    # With a trend, where the model starts and where it ends.
    growing = fc.assign(forecast=fc["forecast"] + 100.0 * fc.index)
    growing.attrs["trend"] = True
    report.__dict__["mrr_forecast"] = (series, growing, "")
    assert report.forecast().lead.startswith(
        f"MRR is {now} at the end of October 2026; the model expects about {money(growing['forecast'].iloc[0])} in "
        f"November 2026 and, if recent trends hold, about {money(growing['forecast'].iloc[-1])} by April 2027")
    # MRR far from the level the model starts from (a drop read as noise): said in a warning.
    report.__dict__["mrr_forecast"] = (series, fc.assign(lower=fc["lower"] + 1e6, upper=fc["upper"] + 1e6), "")
    [warning] = [c for c in report.forecast().children if isinstance(c, Callout)]
    assert warning.title == "Off the latest MRR:" and "lies below the level the model starts its forecast from" in \
        warning.message


@pytest.mark.parametrize("monthly", [100.0, -40.0])
def test_steady_growth_or_decline_is_not_called_off_the_model(tiny_warehouse, monthly):
    # One new $100 account a month: the model's interval for the next month ($2,395 to $2,401) lies a month of
    # growth ahead of November's $2,300, and the report warned that the model read the latest change as noise.
    report = executive.build("2026-10", url=tiny_warehouse)
    months = pd.date_range("2025-01-01", periods=23, freq="MS")
    series = pd.Series(5000.0 + monthly * np.arange(len(months)), index=months)
    fc = metrics.forecast_mrr(series, horizon=6)
    assert fc["lower"].iloc[0] > series.iloc[-1] or fc["upper"].iloc[0] < series.iloc[-1]  # the old comparison
    report.__dict__["mrr_forecast"] = (series, fc, "")
    assert not [c for c in report.forecast().children if isinstance(c, Callout)]


def test_the_forecast_table_keeps_cents(tiny_warehouse):
    # The forecast's CSV held seven decimals of a model's estimate.
    [data] = executive.build("2026-10", url=tiny_warehouse).forecast().tables()
    assert data["rows"] and all(round(v, 2) == v for row in data["rows"] for v in row[1:])


def test_the_forecast_tables_columns_show_one_precision(tiny_warehouse):
    # "$672.21 … $0.00" in the low column beside "$1,928" in the others: each column chose its own decimals.
    import re

    report = executive.build("2026-10", url=tiny_warehouse)
    series, fc, why = report.mrr_forecast
    fc = fc.assign(lower=[max(672.21 - 300 * i, 0.0) for i in range(len(fc))], forecast=1928.0 + fc.index,
                   upper=3184.0 + fc.index)
    report.__dict__["mrr_forecast"] = (series, fc, why)
    [table] = [c for c in report.forecast().children if c.__class__.__name__ == "Table"]
    cells = re.findall(r'<td class="q-num">([^<]*)</td>', table.html())
    assert cells and len({bool(re.search(r"\.\d\d$", c)) for c in cells}) == 1, cells


def test_the_previous_periods_missing_rates_are_explained_when_it_is_the_datas_first():
    # Q2 2025 is compared with Q1 2025, the ledger's first quarter: nobody paid at its start, so its NRR, GRR
    # and churn are "—" beside Q2's figures, and the note said nothing about why.
    second, third = (company(period=p).headline().note for p in ("2025-Q2", "2025-Q3"))
    assert ("Q1 2025 has no MRR growth, net revenue retention, gross revenue retention and logo churn to compare "
            "with: no account was paying at its start (the data starts in January 2025).") in second
    assert "paying at its start" not in third
    # Q3's CLV is shown (3 accounts churned by September), Q2's was not (2 by June): said beside the missing change.
    assert ("Q2 2025 has no customer lifetime value to compare with: 2 accounts churned in the 5 months to June 2025 "
            "(at least 3 needed).") in third
    first = company(period="2025-Q1").headline().note  # its own rates are missing: said once, of the period itself
    assert "need accounts paying at the start of Q1 2025; there were none (the data starts in January 2025)." in first
    assert "to compare with" not in first


def test_averages_over_paying_accounts_are_explained_when_none_is_paying():
    # Every account left in November 2025 and ten came back in December: November's ARPA (and the CLV built on it)
    # was "—" with no word on why, and so was December's comparison.
    rows = [(c, "2025-01-01", "new", 100.0) for c in range(1, 31)]
    rows += [(c, month, "churn", -100.0) for c, month in [(1, "2025-03-01"), (2, "2025-06-01"), (3, "2025-09-01")]]
    rows += [(c, "2025-11-01", "churn", -100.0) for c in range(4, 31)]
    rows += [(c, "2025-12-01", "reactivation", 100.0) for c in range(21, 31)]
    movements = pd.DataFrame(rows, columns=["client_id", "month", "movement", "amount"]).assign(
        month=lambda f: pd.to_datetime(f["month"]))

    def report(period: str) -> ExecutiveReport:
        return ExecutiveReport(replace(company(period=period).data, movements=movements))

    november, december = report("2025-11"), report("2025-12")
    assert november.current["customers"] == 0 and november.current["arpa"] is None and november.current["clv"] is None
    assert december.current["arpa"] == pytest.approx(100.0)
    assert ("ARPA and customer lifetime value need accounts paying at the end of November 2025; there were none."
            in november.headline().note)
    assert "to compare with" not in november.headline().note
    assert "divides by the churn" not in november.headline().note  # said only of a CLV that is shown
    assert ("November 2025 has no ARPA and customer lifetime value to compare with: no account was paying at its end."
            in december.headline().note)
    assert "paying at the end of December" not in december.headline().note


def test_a_warehouse_without_projects_is_noted_once_and_the_retention_table_says_what_it_lost():
    data = replace(company().data, projects=company().data.projects.head(0), absent=("projects",))
    report = ExecutiveReport(data)
    texts = [str(getattr(c, "message", "")) for section in (report.retention(), report.delivery()) for c in section.children]
    assert sum("The warehouse has no projects table" in t for t in texts) == 1
    assert ("Customer lifetime value is left out: its margin comes from the projects table, which this report goes "
            "without (Project delivery says why).") in texts
    assert "Customer lifetime value" not in report.retention().children[0].children[-1].frame["KPI"].tolist()


def test_a_one_month_forecast_describes_the_model_it_used(tiny_warehouse):
    # One month forecast has the same first and last month: every forecast read "holds MRR", trend or not.
    report = executive.build(period="latest", forecast_months=1, url=tiny_warehouse)
    series, fc, _why = report.mrr_forecast
    for trend in (True, False):
        fc.attrs["trend"] = trend
        report.__dict__["mrr_forecast"] = (series, fc, "")
        lead = report.forecast().lead
        assert ("holds MRR at about" in lead) is not trend, lead
        assert ("the model expects about" in lead) is trend and "if recent trends hold" not in lead, lead


def test_a_quarter_after_a_partial_one_says_the_alerts_lack_whole_quarters(tiny_warehouse):
    # The caveat said "a quarter the data holds only in part has none" of any quarter; Q4 2025's first quarter, Q3
    # 2025, holds September only.
    message = executive.build("2025-Q4", url=tiny_warehouse).alerts().children[0].empty_message
    assert "(the data's first quarter is only partly in it and has none)" in message, message
    # A year whose data starts in January is whole: nothing came before it.
    assert "(the data's first month has none: nothing came before it)" in \
        executive.build("2025-10", url=tiny_warehouse).alerts().children[0].empty_message


@pytest.mark.parametrize("period", ["2026-06", "2026-Q2"])
def test_a_card_just_past_its_threshold_reads_as_its_alert(tiny_warehouse, period):
    """NRR 99.98 %: the alert says "99.98%, below the 100.0% threshold", so the card must not read "100.0%"."""
    report = executive.build(period, url=tiny_warehouse)
    figures, thin = report.figures
    report.__dict__["figures"] = ({**figures, "nrr": 0.99981, "logo_churn": 0.03004}, thin)
    cards = {k.key: k.value_text() for k in report.headline().kpis}
    alerts = report.alerts().children[0]
    nrr = next(a.message for a in alerts.alerts if a.kpi == "nrr")
    assert nrr.startswith("Net revenue retention is 99.98%") and cards["nrr"] == "99.98%"
    assert "99.98%" in report.headline().html()
    # A month's logo churn is what its monthly threshold reads; a quarter's is not (3.0% a quarter is ~1% a month).
    assert cards["logo_churn"] == ("3.004%" if period == "2026-06" else "3.0%")
    assert report.kpi("grr").decimals == 0  # a card past no threshold keeps its precision


def test_no_forecast_once_every_account_has_left():
    # Every account churned by December: smoothing held "MRR at about $3,446 through April 2027" for a company
    # with no paying account left.
    gone = ledger().query("movement == 'new'").assign(month=pd.Timestamp("2025-12-01"), movement="churn",
                                                      amount=-100.0)
    left = pd.concat([ledger().query("movement == 'new'"), gone], ignore_index=True)
    report = ExecutiveReport(replace(company().data, movements=left))
    series, fc, why = report.mrr_forecast
    assert series.iloc[-1] == 0 and fc is None
    [note] = report.forecast().children
    # It does not promise that the forecast "returns with the first paying account": it also needs a year of history.
    assert note.message == ("No account is paying at the end of December 2025, so there is no MRR to forecast: a "
                            "forecast needs a paying account at the end of the period.")
    assert report.revenue().children  # the MRR chart draws the history alone


@pytest.mark.parametrize("seed_shares", [[0.6549, 0.3101, 0.035], [0.669, 0.066, 0.265], [1 / 3, 1 / 3, 1 / 3]])
def test_the_health_chart_and_table_show_the_same_shares_of_mrr_adding_up_to_a_hundred(monkeypatch, tiny_warehouse, seed_shares):
    """The chart once read "3%" of MRR beside the table's "3.5%": both now give tenths that add up to 100.0 %."""
    from quire.display import Grid, Table

    bands = pd.DataFrame({"band": ["healthy", "watch", "at_risk"], "clients": [20, 6, 2],
                          "mrr": [s * 100_000 for s in seed_shares], "share": seed_shares})
    monkeypatch.setattr(metrics, "health_distribution", lambda scores: bands)
    report = executive.build("2025-12", url=tiny_warehouse)
    grid = next(c for c in report.customers().children if isinstance(c, Grid))
    chart, table = grid.children
    assert isinstance(chart, Chart) and isinstance(table, Table)
    in_table = [f"{100 * s:.1f}%" for s in table.frame["Share of MRR"]]
    for band, share in zip(["Healthy", "Watch", "At risk"], in_table, strict=True):
        assert f"{band} " in chart.alt and f"({share} of MRR)" in chart.alt, (share, chart.alt)
    assert round(sum(table.frame["Share of MRR"]) * 1000) == 1000


def _everyone_churned_in_march(tiny_warehouse: str, tmp_path, *more: str) -> str:
    """A copy of the tiny warehouse where every paying account churns on 20 March 2026 (then ``more``); its URL."""
    path = tmp_path / "churned.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("""INSERT INTO mrr_movements
                       SELECT 900000 + client_id, client_id, DATE '2026-03-20', 'churn', -SUM(amount)
                       FROM mrr_movements WHERE month < DATE '2026-04-01' GROUP BY client_id HAVING SUM(amount) > 0""")
        for sql in more:
            con.execute(sql)
    return f"duckdb:///{path}"


def test_with_no_paying_account_the_health_section_says_so_instead_of_no_account_at_risk(tiny_warehouse, tmp_path):
    # Every account churned in March: its health section showed an all-zero chart and table under a green
    # "No active account is at risk.", while its forecast said that no account is paying.
    report = executive.build("2026-03", url=_everyone_churned_in_march(tiny_warehouse, tmp_path))
    section = report.customers()
    callouts = [c for c in section.children if isinstance(c, Callout)]
    assert not [c for c in callouts if "at risk" in c.message], [c.message for c in callouts]
    assert any(c.message.startswith("No account is paying at the end of March 2026") for c in callouts), \
        [c.message for c in callouts]
    assert not [c for c in section.children if isinstance(c, Chart)] and "Health distribution" not in section.html()


def test_a_month_without_rates_raises_no_alert_about_an_earlier_month(tiny_warehouse, tmp_path):
    # Every account churned in August and none came back: September has no rates (nobody paying at its start),
    # and its report read "Critical: MRR growth is −100.0% in August 2026, far below its usual level".
    path = tmp_path / "gone.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("DELETE FROM mrr_movements WHERE month >= DATE '2026-08-01'")
        con.execute("""INSERT INTO mrr_movements
                       SELECT 900000 + client_id, client_id, DATE '2026-08-20', 'churn', -SUM(amount)
                       FROM mrr_movements GROUP BY client_id HAVING SUM(amount) > 0""")
        # One account comes back late in September: the month is in the data, with nobody paying at its start.
        con.execute("""INSERT INTO mrr_movements SELECT 900999, MIN(client_id), DATE '2026-09-15', 'new', 100
                       FROM mrr_movements""")
    url = f"duckdb:///{path}"
    august = executive.build("2026-08", url=url).alerts().children[0]
    assert any("in August 2026" in a.message for a in august.alerts)  # August's own report does alert
    september = executive.build("2026-09", url=url).alerts().children[0]
    assert not [a.message for a in september.alerts if "August" in a.message], [a.message for a in september.alerts]


def test_the_alerts_do_not_name_as_unchecked_the_kpis_the_report_leaves_out(tiny_warehouse, tmp_path):
    # Without projects or survey answers the report shows no delivery, margin, NPS or CSAT, yet its alerts said
    # they were not checked "with too few months with a figure to tell".
    path = tmp_path / "lean.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("DROP TABLE projects")
        con.execute("DROP TABLE survey_responses")
    section = executive.build("latest", url=f"duckdb:///{path}").alerts()
    said = section.html()
    assert not [name for name in ("On-time", "on-time", "project margin", "Project margin", "NPS", "CSAT") if name in said], said


def test_a_period_without_mrr_or_movement_draws_no_empty_waterfall(tiny_warehouse, tmp_path):
    # Everyone churned in March and April has no movement: its waterfall was empty bars on a $0–$0.14 axis.
    url = _everyone_churned_in_march(tiny_warehouse, tmp_path,
                                     "DELETE FROM mrr_movements WHERE month >= DATE '2026-04-01' AND month < DATE '2026-05-01'")
    section = executive.build("2026-04", url=url).revenue()
    assert section.lead.startswith("MRR stayed at $0 in April 2026."), section.lead
    assert not [c for c in section.children if isinstance(c, Chart) and c.alt.startswith("Waterfall")]


def test_the_retention_tables_missing_rates_are_explained_beside_it(tiny_warehouse, tmp_path):
    # After everyone left, "This period" read "—" for NRR, GRR and the churn rates with no word why in the section.
    url = _everyone_churned_in_march(tiny_warehouse, tmp_path,
                                     "DELETE FROM mrr_movements WHERE month >= DATE '2026-04-01' AND month < DATE '2026-05-01'")
    section = executive.build("2026-04", url=url).retention()
    notes = " ".join(c.message if isinstance(c, Callout) else c for c in section.children if isinstance(c, (Callout, str)))
    assert "need accounts paying at the start of April 2026; there were none" in notes, notes
    assert "need accounts paying at the start" in section.html()


@pytest.mark.parametrize("period", ["2026-10", "2026-Q3"])
def test_the_trend_charts_figures_are_in_the_data_files(tiny_warehouse, period):
    """The MRR and retention charts draw figures no table shows: their data files hold them, MRR equal to an
    independent SQL sum of the movements up to each month, NRR and GRR to each period's own report."""
    report = executive.build(period, url=tiny_warehouse)
    [mrr] = [t for t in report.revenue().tables() if t["caption"] == "MRR by month"]
    assert mrr["columns"] == ["Month", "MRR"] and mrr["units"] == {"MRR": "currency"}
    assert mrr["rows"][-1][0] == report.period.last_month.strftime("%Y-%m") and len(mrr["rows"]) <= 24
    with connection(tiny_warehouse) as conn:
        for month, value in mrr["rows"]:
            summed = conn.execute(sa.text("select sum(amount) from mrr_movements where month < :end"),
                                  {"end": parse_period(month).shift(1).start}).scalar()
            assert value == pytest.approx(float(summed)), month
    [rates] = [t for t in report.retention().tables() if t["caption"] == f"NRR and GRR by {report.period.kind}"]
    assert rates["columns"] == ["Period", "NRR", "GRR"] and rates["rows"][-1][0] == report.period.key
    for key, nrr, grr in rates["rows"][-2:]:
        own = executive.build(key, url=tiny_warehouse).current
        assert (nrr, grr) == (pytest.approx(own["nrr"]), pytest.approx(own["grr"])), key


def test_a_projects_table_without_a_column_it_needs_is_not_called_absent(tiny_warehouse, tmp_path):
    """A renamed column leaves project delivery out, as no table does; the note said "the warehouse has no projects
    table" beside the table the analyst can see, instead of naming the column."""
    with warehouse_copy(tiny_warehouse, tmp_path / "w.duckdb") as con:
        con.execute("alter table projects rename column actual_hours to actual_hrs")
    report = executive.build("2026-10", url=f"duckdb:///{tmp_path / 'w.duckdb'}")
    [note] = report.delivery().children
    assert note.message == (
        "The warehouse's projects table has no actual_hours column, so project delivery, on-time rate and project "
        "margin are left out, and CLV with them.")
    assert "The warehouse has no projects table" not in report.retention().html()


def test_health_left_out_for_a_table_without_its_column_names_the_column(tiny_warehouse, tmp_path):
    with warehouse_copy(tiny_warehouse, tmp_path / "w.duckdb") as con:
        con.execute("drop table product_usage")
        con.execute("drop table survey_responses")
        con.execute("alter table support_tickets rename column opened_at to opened")
    section = executive.build("2026-10", url=f"duckdb:///{tmp_path / 'w.duckdb'}").customers()
    [note] = [c for c in section.children if isinstance(c, Callout)]
    assert note.message.startswith(
        "Satisfaction and account health are left out: the warehouse has no product_usage or survey_responses table, "
        "and its support_tickets table has no opened_at column."), note.message
