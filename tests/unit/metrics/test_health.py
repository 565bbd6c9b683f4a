"""Health scores against hand-computed component scores, bands and drivers."""

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from quire.metrics import health_distribution, health_scores

AS_OF = date(2026, 10, 31)  # a Saturday: the last 4 Mondays are Oct 5–26, the 8 before Aug 10 – Sep 28
MONDAYS = [date(2026, 10, 26) - timedelta(weeks=k) for k in range(11, -1, -1)]

CLIENTS = pd.DataFrame({"client_id": [1, 2, 3, 4, 5, 6, 7, 8, 9],
                        "name": ["Alpha", "Beta", "Gamma", "Former", "Delta", "Epsilon", "Zeta", "Eta", "Theta"]})
MRR = pd.Series({1: 1000.0, 2: 500.0, 3: 200.0, 4: 0.0, 5: 300.0, 6: 100.0, 7: 50.0, 8: 80.0, 9: 150.0})


def weekly(client, seats, active, prior_logins, recent_logins):
    return [(client, week, seats, active, prior_logins if i < 8 else recent_logins) for i, week in enumerate(MONDAYS)]


USAGE = pd.DataFrame(
    weekly(1, 10, 9, 100, 100) + weekly(2, 20, 4, 100, 50) + weekly(3, 10, 5, 50, 60) + weekly(9, 5, 5, 30, 30),
    columns=["client_id", "week", "seats", "active_users", "logins"])

TICKETS = pd.DataFrame(
    [(2, datetime(2026, 10, 1, 9), "urgent")] * 4 + [(2, datetime(2026, 7, 1), "urgent")]  # the last is > 90 days old
    + [(3, datetime(2026, 9, 15), "low")] + [(9, datetime(2026, 10, 20), "urgent")] * 3 + [(9, datetime(2026, 10, 21), "normal")] * 2,
    columns=["client_id", "opened_at", "priority"])

RESPONSES = pd.DataFrame([
    (1, 1, date(2026, 9, 1), "nps", 10), (2, 2, date(2026, 6, 1), "nps", 9), (3, 2, date(2026, 9, 1), "nps", 3),
    (4, 5, date(2026, 10, 1), "nps", 7), (5, 6, date(2026, 10, 1), "nps", 4),
    (6, 8, date(2026, 3, 1), "nps", 10),  # older than 180 days: ignored, so client 8 has no data
    (7, 7, date(2026, 5, 10), "nps", 3), (8, 6, date(2026, 10, 30), "csat", 1),  # CSAT is not NPS
], columns=["response_id", "client_id", "responded_on", "survey", "score"])


@pytest.fixture(scope="module")
def scores():
    return health_scores(CLIENTS, MRR, USAGE, TICKETS, RESPONSES, as_of=AS_OF).set_index("client_id")


def test_one_row_per_paying_client_weakest_first(scores):
    assert 4 not in scores.index  # MRR 0: not active
    assert scores.index.tolist() == [2, 7, 6, 5, 9, 3, 1, 8]  # by score, no-data last
    assert scores.loc[2, "name"] == "Beta" and scores.loc[2, "mrr"] == 500


def test_scores_from_components(scores):
    # Alpha: 90 % of seats (≥ 80 % → 1), flat usage (1), no tickets (1), NPS 10 (1) → 100.
    assert scores.loc[1, "score"] == 100
    # Beta: seats 4/20 = 20 % → 0.25; usage −50 % → 0; 4 urgent × 4 = 16 per 20 seats = 0.8 → 0.2; NPS 3 → 0.3.
    # 0.25×0.25 + 0.35×0 + 0.20×0.2 + 0.20×0.3 = 0.1625 → 16.
    assert scores.loc[2, "score"] == 16
    assert scores.loc[2, ["seat_utilisation", "usage_change", "ticket_load", "latest_nps"]].tolist() == pytest.approx([0.2, -0.5, 0.8, 3])
    # Gamma: 50 % → 0.625; +20 % → 1; one low ticket 0.5 / 10 seats → 0.95; no NPS, weights renormalised over 0.8:
    # (0.25×0.625 + 0.35×1 + 0.20×0.95) / 0.8 = 0.8703 → 87.
    assert scores.loc[3, "score"] == 87
    # Theta: full seats (1), flat (1), 3 urgent × 4 + 2 normal × 1 = 14 per 5 seats → 0; (0.25 + 0.35) / 0.8 = 75.
    assert scores.loc[9, "score"] == 75


@pytest.mark.parametrize("client,score,band", [(5, 70, "healthy"), (6, 40, "watch"), (7, 30, "at_risk")])
def test_band_boundaries(scores, client, score, band):
    # NPS is these clients' only component, so score = latest answer × 10.
    assert (scores.loc[client, "score"], scores.loc[client, "band"]) == (score, band)


def test_bands_of_the_others(scores):
    assert scores["band"].to_dict() == {2: "at_risk", 7: "at_risk", 6: "watch", 5: "healthy", 9: "healthy",
                                        3: "healthy", 1: "healthy", 8: "unknown"}


def test_drivers_name_the_weakest_components(scores):
    # Beta's weighted shortfalls: usage 0.35, seats 0.1875, tickets 0.16, NPS 0.14 → the first two.
    assert scores.loc[2, "drivers"] == "usage down 50% vs prior 8 weeks; 20% of seats active"
    assert scores.loc[9, "drivers"] == "5 tickets in 90 days, 3 urgent"
    assert scores.loc[7, "drivers"] == "latest NPS answer 3/10"
    assert scores.loc[1, "drivers"] == ""
    assert pd.isna(scores.loc[8, "score"]) and scores.loc[8, "drivers"] == "no usage, ticket or survey data"


def test_distribution_by_band(scores):
    dist = health_distribution(scores.reset_index())
    assert dist["band"].tolist() == ["healthy", "watch", "at_risk", "unknown"]
    assert dist["clients"].tolist() == [4, 1, 2, 1]
    # healthy 300 + 150 + 200 + 1000; watch 100; at risk 500 + 50; unknown 80; total 2380.
    assert dist["mrr"].tolist() == [1650, 100, 550, 80]
    assert dist["share"].tolist() == pytest.approx([1650 / 2380, 100 / 2380, 550 / 2380, 80 / 2380])


def test_distribution_keeps_empty_bands_and_survives_no_mrr():
    dist = health_distribution(pd.DataFrame({"band": ["healthy"], "mrr": [0.0]}))
    assert dist["band"].tolist() == ["healthy", "watch", "at_risk"]
    assert dist["clients"].tolist() == [1, 0, 0] and dist["share"].tolist() == [0, 0, 0]


def test_empty_tables_give_unknown_health_not_errors():
    empty = health_scores(CLIENTS, MRR, USAGE.iloc[:0], TICKETS.iloc[:0], RESPONSES.iloc[:0], as_of=AS_OF)
    assert len(empty) == 8 and set(empty["band"]) == {"unknown"}
    assert health_distribution(empty)["clients"].tolist() == [0, 0, 0, 8]
    assert health_scores(CLIENTS, MRR * 0, USAGE, TICKETS, RESPONSES, as_of=AS_OF).empty


def test_categorical_columns_as_the_generator_produces_them(scores):
    categorical = TICKETS.astype({"priority": pd.CategoricalDtype(["low", "normal", "high", "urgent"])})
    answers = RESPONSES.astype({"survey": "category"})
    again = health_scores(CLIENTS, MRR, USAGE, categorical, answers, as_of=AS_OF).set_index("client_id")
    pd.testing.assert_series_equal(again["score"], scores["score"])


def test_without_a_tickets_table_ticket_load_is_no_component_rather_than_a_perfect_one():
    # Client 3: utilisation 5/10 ÷ 0.8 → 0.625, usage +20 % → 1, no NPS answer.
    recorded = health_scores(CLIENTS, MRR, USAGE, TICKETS.iloc[:0], RESPONSES, as_of=AS_OF).set_index("client_id")
    absent = health_scores(CLIENTS, MRR, USAGE, TICKETS.iloc[:0], RESPONSES, as_of=AS_OF,
                           tickets_recorded=False).set_index("client_id")
    assert recorded.loc[3, "score"] == round(100 * (0.25 * 0.625 + 0.35 * 1 + 0.20 * 1) / 0.8)  # no ticket in 90 days
    assert absent.loc[3, "score"] == round(100 * (0.25 * 0.625 + 0.35 * 1) / 0.6)
    assert absent["ticket_load"].isna().all()


@pytest.mark.parametrize("prior_weeks,trend", [(1, None), (3, None), (4, 0.5)])
def test_a_usage_trend_needs_half_of_the_weeks_before(prior_weeks, trend):
    # A client three weeks old read "logins up 41% on the 8 weeks before" from the one week it had before them.
    weeks = MONDAYS[8 - prior_weeks:]
    usage = pd.DataFrame([(1, w, 10, 9, 100 if i < prior_weeks else 150) for i, w in enumerate(weeks)],
                         columns=["client_id", "week", "seats", "active_users", "logins"])
    [row] = health_scores(CLIENTS.head(1), MRR.head(1), usage, TICKETS.iloc[0:0], RESPONSES.iloc[0:0],
                          as_of=AS_OF).to_dict("records")
    if trend is None:
        assert pd.isna(row["usage_change"]) and row["score"] == 100  # seats alone (90 % ≥ 80 %), not a trend
    else:
        assert row["usage_change"] == pytest.approx(trend)
    from quire.metrics.engagement import health_components

    measure = health_components(pd.Series(row)).set_index("component").loc["usage_trend", "measure"]
    assert measure.startswith("No trend yet") == (trend is None)
    if trend is not None:  # measured against the weeks it had, and said so: not "the 8 weeks before"
        assert measure == f"Logins over the last 4 weeks were up 50% on the {prior_weeks} weeks before", measure


def test_a_week_counts_in_the_window_holding_most_of_its_days():
    # A month ending on a Monday (30 November 2026): its four weeks start on 2, 9, 16 and 23 November. By their
    # first days, the week of the 2nd fell in "the 8 weeks before" and "the last 4 weeks" held three.
    as_of = date(2026, 11, 30)
    mondays = [date(2026, 11, 23) - timedelta(weeks=k) for k in range(11, -1, -1)]
    usage = pd.DataFrame([(1, week, 10, 5 if i < 8 else 9, 100 if i < 8 else 140) for i, week in enumerate(mondays)],
                         columns=["client_id", "week", "seats", "active_users", "logins"])
    row = health_scores(CLIENTS.iloc[:1], MRR.iloc[:1], usage, TICKETS.iloc[0:0], RESPONSES.iloc[0:0],
                        as_of=as_of).iloc[0]
    assert row["usage_change"] == pytest.approx(0.40)  # 140 a week in the 4 November weeks against 100
    assert row["seat_utilisation"] == pytest.approx(0.9)
    # A week whose days mostly fall after the period (30 Nov – 6 Dec) is not yet one of its weeks.
    later = pd.concat([usage, usage.iloc[[-1]].assign(week=date(2026, 11, 30), logins=0, active_users=0)])
    again = health_scores(CLIENTS.iloc[:1], MRR.iloc[:1], later, TICKETS.iloc[0:0], RESPONSES.iloc[0:0], as_of=as_of)
    assert again.iloc[0]["usage_change"] == pytest.approx(0.40)


def test_the_glossary_states_the_weights_and_scales_the_score_uses():
    # The appendix named the four parts but not their weights, so a reader could not recompute a score.
    from quire.glossary import definitions
    from quire.metrics import health

    text = definitions()["health_score"]["definition"]
    for part, words in (("usage_trend", "Usage trend"), ("utilisation", "Seat utilisation"),
                        ("ticket_load", "Support-ticket load"), ("nps", "NPS survey")):
        said = text[text.index(words):]
        assert said.split("weight ", 1)[1].startswith(f"{health.WEIGHTS[part]:.0%}"), part
    assert f"{health.FULL_UTILISATION:.0%} or more scoring 1" in text
    assert f"a fall of {health.USAGE_DROP_FOR_ZERO:.0%} or more 0" in text
    assert f"last {health.TICKET_DAYS} days" in text and f"last {health.NPS_DAYS} days" in text
    assert ", ".join(f"{p} {w:g}" for p, w in health.PRIORITY_WEIGHTS.items()) in text
    assert f"Healthy ≥ {health.HEALTHY_MIN}, watch {health.WATCH_MIN}–{health.HEALTHY_MIN - 1}" in text


def test_an_nps_answer_off_its_0_to_10_scale_is_bad_data_not_a_health_of_197():
    # A survey tool exporting NPS on 0–100 scored a client's health "197 of 100" in its own report, while the
    # executive report refused the same answers.
    from quire.errors import WarehouseDataError

    responses = RESPONSES.assign(score=RESPONSES["score"].where(RESPONSES["survey"] != "nps", RESPONSES["score"] * 10))
    with pytest.raises(WarehouseDataError, match=r"the warehouse's NPS answers \(survey_responses.score\) must lie in "
                                                 r"0–10; found 100, 90, 30, 70"):
        health_scores(CLIENTS, MRR, USAGE, TICKETS, responses, as_of=AS_OF)


def test_weeks_an_export_leaves_out_are_weeks_of_no_use():
    # Usage exports leave out the weeks nobody logged in. An account that stopped using the product in October had
    # no recent row, so its usage trend and seat utilisation went unscored and, without tickets, it was "healthy 100".
    steady = [(1, w, 10, 9, 100) for w in MONDAYS]
    stopped = [(2, w, 10, 8, 100) for w in MONDAYS[:8]]
    gappy = [(3, w, 10, 8, 100) for i, w in enumerate(MONDAYS) if i not in (2, 3)]  # two silent weeks in its baseline
    usage = pd.DataFrame(steady + stopped + gappy, columns=["client_id", "week", "seats", "active_users", "logins"])
    scores = health_scores(CLIENTS.head(3), MRR.head(3), usage, TICKETS.iloc[:0], RESPONSES.iloc[:0],
                           as_of=AS_OF).set_index("client_id")
    assert scores.loc[2, "usage_change"] == -1.0 and scores.loc[2, "seat_utilisation"] == 0.0
    assert scores.loc[2, "score"] == round(100 * 0.20 / 0.80) and scores.loc[2, "band"] == "at_risk"  # tickets alone
    assert scores.loc[3, "usage_change"] == pytest.approx(100 / (6 * 100 / 8) - 1)  # the baseline's 8 weeks, 2 of none
    assert scores.loc[1, "usage_change"] == 0.0 and scores.loc[1, "score"] == 100
    # Weeks the export has for nobody yet are not weeks of no use: the table ends before the last 4 weeks.
    ended = usage[pd.to_datetime(usage["week"]) < pd.Timestamp(MONDAYS[8])]
    before = health_scores(CLIENTS.head(3), MRR.head(3), ended, TICKETS.iloc[:0], RESPONSES.iloc[:0],
                           as_of=AS_OF).set_index("client_id")
    assert before["usage_change"].isna().all()
    # One client's own rows (its report reads no other client's): how far the table reaches is given as a date.
    own = usage[usage["client_id"] == 2]
    alone = health_scores(CLIENTS.iloc[[1]], MRR.iloc[[1]], own, TICKETS.iloc[:0], RESPONSES.iloc[:0], as_of=AS_OF,
                          usage_through=MONDAYS[-1]).iloc[0]
    assert (alone["usage_change"], alone["score"]) == (-1.0, scores.loc[2, "score"])
    unknown = health_scores(CLIENTS.iloc[[1]], MRR.iloc[[1]], own, TICKETS.iloc[:0], RESPONSES.iloc[:0], as_of=AS_OF)
    assert unknown.iloc[0]["usage_change"] != -1.0  # its own rows alone cannot tell a silent week from the table's end
