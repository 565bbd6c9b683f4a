"""Engagement metrics against hand-computed values: rates, breakdowns, time series, trend, percentiles, recommendations."""

from datetime import date, timedelta
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import percentileofscore

from quire.metrics import engagement as eng

START, END = date(2026, 10, 1), date(2026, 10, 31)
PREV_START, PREV_END = date(2026, 9, 1), date(2026, 9, 30)


def rows(*records):
    """Daily rows: (content_id, day, views, clicks, conversions, engagements, platform, content_type, title)."""
    return pd.DataFrame(list(records), columns=["content_id", "day", "views", "clicks", "conversions", "engagements",
                                                "platform", "content_type", "title"]).assign(day=lambda f: pd.to_datetime(f["day"]))


CURRENT = rows(
    (1, date(2026, 10, 1), 1000, 50, 5, 20, "web", "article", "Guide A"),
    (1, date(2026, 10, 2), 500, 25, 0, 10, "web", "article", "Guide A"),
    (2, date(2026, 10, 5), 400, 40, 8, 40, "linkedin", "social_post", "Post B"),
    (3, date(2026, 10, 9), 100, 0, 0, 5, "newsletter", "newsletter", "Letter C"),
    (4, date(2026, 10, 9), 0, 0, 0, 0, "web", "video", "Video D"),  # a row without views: not an item
)
PREVIOUS = rows(
    (1, date(2026, 9, 20), 800, 40, 4, 40, "web", "article", "Guide A"),
    (5, date(2026, 9, 21), 300, 9, 1, 30, "facebook", "video", "Clip E"),  # gone this period
)


# -- rates ----------------------------------------------------------------------------------

def test_totals_and_rates_by_hand():
    t = eng.totals(CURRENT)
    assert (t.views, t.clicks, t.conversions, t.engagements, t.items) == (2000, 115, 13, 75, 3)
    assert t.ctr == pytest.approx(115 / 2000)
    assert t.conversion_rate == pytest.approx(13 / 115)  # per click, not per view
    assert t.engagement_rate == pytest.approx(75 / 2000)
    assert t.active


def test_rates_are_nan_not_errors_when_denominators_are_zero():
    t = eng.totals(CURRENT.iloc[0:0])
    assert not t.active and math.isnan(t.ctr) and math.isnan(t.conversion_rate) and math.isnan(t.engagement_rate)
    frame = eng.rates(pd.DataFrame({"views": [0, 10], "clicks": [0, 0], "conversions": [0, 0], "engagements": [0, 1]}))
    assert frame["ctr"].isna().tolist() == [True, False] and frame["ctr"].iloc[1] == 0
    assert frame["conversion_rate"].isna().all()  # no clicks: no conversion rate
    assert eng.ratio(1, 0) != eng.ratio(1, 0)  # NaN
    assert eng.change(5.0, 0.0) is None and eng.change(None, 3.0) is None and eng.change(6.0, 4.0) == pytest.approx(0.5)


def test_window_is_inclusive():
    assert len(eng.window(CURRENT, date(2026, 10, 2), date(2026, 10, 9))) == 4


# -- breakdowns -----------------------------------------------------------------------------

def test_breakdown_by_platform_with_previous_period():
    b = eng.breakdown(CURRENT, PREVIOUS, "platform").set_index("platform")
    assert b.index.tolist() == ["web", "linkedin", "newsletter", "facebook"]  # most viewed first; facebook only before
    web = b.loc["web"]
    assert (web["items"], web["views"], web["clicks"], web["conversions"]) == (1, 1500, 75, 5)  # the video had no views
    assert web["ctr"] == pytest.approx(0.05) and web["conversion_rate"] == pytest.approx(5 / 75)
    assert web["previous_views"] == 800 and web["views_change"] == pytest.approx(1500 / 800 - 1)
    assert web["previous_engagement_rate"] == pytest.approx(40 / 800)
    assert math.isnan(b.loc["newsletter", "conversion_rate"])  # no clicks
    assert math.isnan(b.loc["linkedin", "views_change"])  # new this period
    assert b.loc["facebook", "views"] == 0 and b.loc["facebook", "views_change"] == -1


def test_top_content_orders_by_conversions_then_clicks_and_skips_unseen():
    top = eng.top_content(CURRENT, n=10)
    assert top["title"].tolist() == ["Post B", "Guide A", "Letter C"]
    assert top.loc[1, "views"] == 1500 and top.loc[1, "conversion_rate"] == pytest.approx(5 / 75)
    assert len(eng.top_content(CURRENT, n=2)) == 2


# -- time -------------------------------------------------------------------------------------

def test_daily_series_fills_missing_days_with_zero():
    s = eng.time_series(CURRENT, START, END, "day")
    assert len(s) == 31 and s["step"].tolist() == list(range(31))
    assert s.loc[0, "views"] == 1000 and s.loc[2, "views"] == 0 and s.loc[4, "clicks"] == 40
    assert s["views"].sum() == 2000


def test_weekly_series_is_a_per_day_average_so_a_short_last_block_is_not_a_dip():
    days = pd.date_range("2026-07-01", "2026-09-30", freq="D")  # 92 days: 13 blocks of 7 and one of 1
    flat = pd.DataFrame({"content_id": 1, "day": days, "views": 70, "clicks": 7, "conversions": 1, "engagements": 2})
    s = eng.time_series(flat, date(2026, 7, 1), date(2026, 9, 30), "week")
    assert len(s) == 14 and s["days"].tolist() == [7] * 13 + [1]
    assert (s["views"] == 70).all() and s.loc[13, "date"] == pd.Timestamp("2026-09-30")
    with pytest.raises(ValueError, match="freq"):
        eng.time_series(flat, START, END, "month")


def test_trend_recovers_a_known_slope():
    x = np.arange(30)
    t = eng.trend(100 + 5 * x)
    assert t.slope == pytest.approx(5.0) and t.direction == "rising" and t.points == 30
    assert t.relative_change == pytest.approx(5 * 29 / np.mean(100 + 5 * x))
    noisy = 200 - 3 * x + np.random.default_rng(1).normal(0, 2, 30)
    fit = eng.trend(noisy)
    assert fit.slope == pytest.approx(-3, abs=0.3) and fit.direction == "falling"
    assert eng.trend([100, 101, 99, 100, 100]).direction == "flat"
    assert eng.trend([1, 2]).direction == "unknown" and eng.trend([0, 0, 0]).direction == "unknown"


# -- portfolio ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0.0, 0.01, 0.02, 0.025, 0.03, 0.05, 0.2])
def test_percentile_rank_matches_scipy_weak(value):
    portfolio = [0.01, 0.02, 0.02, 0.03, 0.04, 0.05, 0.06]
    assert eng.percentile_rank(value, portfolio) == pytest.approx(percentileofscore(portfolio, value, kind="weak"))


def test_percentile_rank_reference_values_and_missing_data():
    assert eng.percentile_rank(3, [1, 2, 3, 4]) == 75.0
    assert eng.percentile_rank(4, [1, 2, 3, 4]) == 100.0
    assert eng.percentile_rank(0, [1, 2, 3, 4]) == 0.0
    assert eng.percentile_rank(2, [1, np.nan, 2, None]) == 100.0  # missing values ignored
    assert eng.percentile_rank(None, [1, 2]) is None and eng.percentile_rank(1.0, []) is None


def test_standing_gives_quartiles_only_for_five_or_more_clients():
    sums = pd.DataFrame({"views": [100, 200, 300, 400, 500, 600], "clicks": [1, 4, 9, 16, 25, 36],
                         "conversions": [0, 1, 1, 2, 2, 3], "engagements": [5, 5, 5, 5, 5, 5],
                         "previous_views": [100, 100, 0, 200, 1000, 300]})
    metrics = eng.portfolio_metrics(sums)
    assert metrics["views_growth"].isna().sum() == 1 and metrics.loc[1, "views_growth"] == pytest.approx(1.0)
    own = {"ctr": 0.04, "conversion_rate": 0.5, "engagement_rate": 0.025, "views_growth": None}
    st = eng.standing(own, metrics).set_index("metric")
    assert st.loc["ctr", "percentile"] == pytest.approx(percentileofscore(metrics["ctr"], 0.04, kind="weak"))
    assert st.loc["ctr", "n"] == 6 and st.loc["ctr", "p50"] == pytest.approx(metrics["ctr"].median())
    assert pd.isna(st.loc["views_growth", "percentile"]) and st.loc["views_growth", "label"] == "—"
    small = eng.standing(own, metrics.head(4)).set_index("metric")
    assert small.loc["ctr", "percentile"] == 100.0 and small["p50"].isna().all()  # rank only
    tiny = eng.standing(own, metrics.head(2))
    assert tiny["percentile"].isna().all()  # too few to compare at all


def test_standing_labels():
    assert [eng.standing_label(p) for p in (100, 75, 60, 50, 30, 10, None)] == [
        "Top quarter", "Top quarter", "Upper half", "Upper half", "Lower half", "Bottom quarter", "—"]


# -- recommendations --------------------------------------------------------------------------------

def platform_frame(**overrides):
    """A breakdown by platform: web converts 12% of 200 clicks, linkedin 4% of 300 (overall 7.2%)."""
    frame = pd.DataFrame({"platform": ["web", "linkedin"], "label": ["Website", "LinkedIn"],
                          "views": [4000, 6000], "clicks": [200, 300], "conversions": [24, 12], "engagements": [80, 120]})
    return eng.rates(frame.assign(**overrides))


def type_frame(engagement_before=(0.02, 0.02), views_before=(5000, 5000)):
    frame = pd.DataFrame({"content_type": ["article", "video"], "label": ["Article", "Video"], "noun": ["articles", "videos"],
                          "views": [5000, 5000], "clicks": [250, 250], "conversions": [18, 18], "engagements": [100, 100],
                          "previous_views": list(views_before)})
    frame = eng.rates(frame)
    frame["previous_engagement_rate"] = list(engagement_before)
    frame["views_change"] = frame["views"] / frame["previous_views"] - 1
    return frame


CUR = eng.Totals(views=10_000, clicks=500, conversions=36, engagements=200, items=12)
STEADY_PREV = eng.Totals(views=10_000, clicks=500, conversions=36, engagements=200, items=12)


def standing_frame(ctr=60.0, conversion=60.0):
    return pd.DataFrame({"metric": ["ctr", "conversion_rate"], "value": [0.05, 0.072], "n": [8, 8],
                         "percentile": [ctr, conversion], "label": ["", ""], "p25": np.nan, "p50": np.nan, "p75": np.nan})


def keys(**kw):
    base = {"current": CUR, "previous": STEADY_PREV, "previous_label": "September 2026"}
    return [r.key for r in eng.recommendations(eng.Evidence(**{**base, **kw}))]


def test_best_platform_fires_with_enough_evidence_and_cites_numbers():
    ev = eng.Evidence(current=CUR, previous=STEADY_PREV, by_platform=platform_frame())
    [rec] = eng.recommendations(ev)
    assert rec.key == "best_platform" and "Website" in rec.title
    assert "12.0%" in rec.message and "24 conversions from 200 clicks" in rec.message and "7.2%" in rec.message


def test_best_platform_stays_quiet_without_a_clear_or_trusted_winner():
    assert keys(by_platform=platform_frame(conversions=[12, 18])) == []  # 6.0% vs 6.0%: no lift
    assert keys(by_platform=platform_frame(clicks=[40, 300])) == []  # web's 40 clicks are too few to trust
    assert keys(by_platform=platform_frame(conversions=[4, 1], clicks=[60, 300])) == []  # 4 conversions: too few


def test_falling_and_rising_content_types():
    ev_keys = keys(by_type=type_frame(engagement_before=(0.02, 0.04)))  # video 4% -> 2%: −50%
    assert ev_keys == ["falling_type"]
    msg = eng.recommendations(eng.Evidence(current=CUR, by_type=type_frame(engagement_before=(0.02, 0.04)),
                                           previous_label="September 2026"))[0].message
    assert "videos" in msg and "4.0%" in msg and "2.0%" in msg and "down 50%" in msg
    assert keys(by_type=type_frame(engagement_before=(0.022, 0.021))) == []  # small moves: nothing
    assert keys(by_type=type_frame(views_before=(2000, 5000))) == ["rising_type"]  # articles +150%
    assert keys(by_type=type_frame(views_before=(100, 5000))) == []  # too little before to call a rise


def test_low_ctr_and_low_conversion_against_the_portfolio():
    assert keys(standing=standing_frame(ctr=12.5)) == ["low_ctr"]
    assert keys(standing=standing_frame(conversion=12.5)) == ["low_conversion"]
    assert keys(standing=standing_frame(ctr=12.5, conversion=12.5)) == ["low_ctr"]  # the click comes first
    assert keys(standing=standing_frame(ctr=50, conversion=50)) == []
    assert keys(standing=standing_frame(ctr=None)) == []  # portfolio too small to rank


def test_falling_views_and_conversions_against_the_previous_period():
    more_before = eng.Totals(views=20_000, clicks=600, conversions=80, engagements=300, items=15)
    got = eng.recommendations(eng.Evidence(current=CUR, previous=more_before, previous_label="September 2026"))
    assert [r.key for r in got] == ["falling_conversions", "falling_views"]
    assert "13.3%" in got[0].message and "7.2%" in got[0].message and "80 from 600 clicks" in got[0].message
    assert "50%" in got[1].message and "10,000 against 20,000" in got[1].message
    assert keys(previous=eng.Totals(views=11_000, clicks=520, conversions=40, engagements=210, items=12)) == []
    assert keys(previous=None) == []


def test_health_driver_becomes_an_action():
    parts = eng.health_components(pd.Series({"seat_utilisation": 0.2, "usage_change": -0.45, "ticket_load": 0.1,
                                             "latest_nps": 9.0}), tickets=(3, 1))
    assert parts["component"].tolist() == ["usage_trend", "utilisation", "ticket_load", "nps"]
    assert parts.set_index("component")["score"].to_dict() == pytest.approx(
        {"usage_trend": 0.1, "utilisation": 0.25, "ticket_load": 0.9, "nps": 0.9})
    assert "3 support tickets" in parts.loc[2, "measure"] and "(1 urgent)" in parts.loc[2, "measure"]
    got = eng.recommendations(eng.Evidence(current=CUR, health=parts))
    assert [r.key for r in got] == ["health_usage_trend"]  # the largest weighted shortfall
    assert "down 45%" in got[0].message
    healthy = parts.assign(score=0.9)
    assert eng.recommendations(eng.Evidence(current=CUR, health=healthy)) == []


def test_reuse_top_content_and_nothing_without_activity():
    top = pd.DataFrame({"title": ["Guide A"], "conversions": [12], "conversion_rate": [0.1]})
    [rec] = eng.recommendations(eng.Evidence(current=CUR, top=top))
    assert rec.key == "reuse_top" and "Guide A" in rec.message and "12 of your 36" in rec.message and "33%" in rec.message
    assert eng.recommendations(eng.Evidence(current=CUR, top=top.assign(conversions=[2]))) == []
    idle = eng.Totals()
    assert eng.recommendations(eng.Evidence(current=idle, by_platform=platform_frame(), top=top)) == []


def test_at_most_five_in_priority_order():
    more_before = eng.Totals(views=20_000, clicks=600, conversions=80, engagements=300, items=15)
    parts = eng.health_components(pd.Series({"seat_utilisation": 0.2, "usage_change": -0.45, "ticket_load": 0.1,
                                             "latest_nps": 9.0}))
    top = pd.DataFrame({"title": ["Guide A"], "conversions": [12], "conversion_rate": [0.1]})
    got = eng.recommendations(eng.Evidence(current=CUR, previous=more_before, by_platform=platform_frame(),
                                           by_type=type_frame(engagement_before=(0.02, 0.04)),
                                           standing=standing_frame(ctr=10), health=parts, top=top))
    assert [r.key for r in got] == ["best_platform", "falling_conversions", "low_ctr", "falling_views", "falling_type"]
    assert all(any(ch.isdigit() for ch in r.message) for r in got)  # every one cites numbers


def test_series_dates_line_up_with_the_period():
    s = eng.time_series(CURRENT, START, END, "week")
    assert s["date"].tolist()[:2] == [pd.Timestamp(START), pd.Timestamp(START + timedelta(days=7))]
