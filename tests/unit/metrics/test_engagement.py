"""Engagement metrics against hand-computed values: rates, breakdowns, top content, time series, trend.

The trend is also run on noisy and spiky fixtures: noise or one spike is never a trend.
"""

from datetime import date, timedelta
import math

import numpy as np
import pandas as pd
import pytest

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

def test_daily_views_by_value_are_each_values_own_time_series():
    """One grouping of all rows gives, per value, what time_series gives for that value's rows alone: a value
    without rows in the window (or at all) is a month of zeros, and days outside the window do not count."""
    outside = rows((1, date(2026, 11, 1), 999, 0, 0, 0, "web", "article", "Guide A"))
    data = pd.concat([CURRENT, outside, PREVIOUS], ignore_index=True)
    values = ["article", "social_post", "video", "newsletter", "podcast"]
    got = eng.daily_views_by(data, "content_type", START, END, values)
    assert list(got) == values
    for value in values:
        expected = eng.time_series(data.loc[data["content_type"] == value], START, END, "day")["views"]
        pd.testing.assert_series_equal(got[value], expected, check_names=False)
    assert got["article"].iloc[:2].tolist() == [1000.0, 500.0] and got["article"].sum() == 1500
    assert got["podcast"].sum() == 0 and len(got["podcast"]) == 31
    assert eng.daily_views_by(data.iloc[0:0], "content_type", START, END, ["article"])["article"].sum() == 0


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


def test_a_breakdowns_top_item_is_the_periods_and_its_views_before_are_that_items():
    # One article published at the end of August made the September rise: set against August's own top article,
    # "without its single most viewed piece" rose 56% and passed for a broad rise ("Do more articles").
    def rows(views: dict[int, int]) -> pd.DataFrame:
        return pd.DataFrame([{"content_id": c, "content_type": "article", "day": "2026-09-01", "views": v, "clicks": 0,
                              "conversions": 0, "engagements": 0} for c, v in views.items()])

    b = eng.breakdown(rows({5: 6_469, 12: 21_036}), rows({5: 6_248, 12: 4_158}), "content_type").iloc[0]
    assert (b["top_item_views"], b["previous_top_item_views"]) == (21_036, 4_158)  # item 12 in both periods
    from quire.metrics.advice import RISING_VIEWS

    without = (b["views"] - b["top_item_views"]) / (b["previous_views"] - b["previous_top_item_views"]) - 1
    assert without == pytest.approx(6_469 / 6_248 - 1) and without < RISING_VIEWS
    new = eng.breakdown(rows({5: 6_469, 12: 21_036}), rows({5: 6_248}), "content_type").iloc[0]
    assert new["previous_top_item_views"] == 0  # new in the period: nothing before


def test_top_content_with_too_few_converting_pieces_ranks_by_clicks():
    top = eng.top_content(CURRENT, n=10)
    assert top.by == "clicks" and top.with_conversions == 2 and top.active == 3  # the video had no views
    assert top.frame["title"].tolist() == ["Guide A", "Post B", "Letter C"]
    assert top.frame.loc[0, "views"] == 1500 and top.frame.loc[0, "conversion_rate"] == pytest.approx(5 / 75)
    assert len(eng.top_content(CURRENT, n=2).frame) == 2


def test_top_content_by_conversions_lists_only_converting_pieces_and_each_title_once():
    extra = rows(
        (6, date(2026, 10, 3), 300, 30, 3, 5, "web", "article", "Guide F"),
        (7, date(2026, 10, 4), 900, 90, 0, 5, "web", "article", "Popular G"),  # many clicks, no conversions
        (8, date(2026, 10, 6), 200, 10, 2, 1, "linkedin", "article", " guide a "),  # Guide A again, on LinkedIn
    )
    top = eng.top_content(pd.concat([CURRENT, extra], ignore_index=True), n=10)
    assert top.by == "conversions" and top.with_conversions == 3
    assert top.frame["title"].tolist() == ["Post B", "Guide A", "Guide F"]  # no "Popular G", no second "Guide A"
    guide = top.frame.set_index("title").loc["Guide A"]
    assert (guide["views"], guide["conversions"], guide["platform"]) == (1700, 7, "linkedin, web")
    assert (top.frame["conversions"] > 0).all() and top.frame["title"].str.casefold().is_unique


# -- time -------------------------------------------------------------------------------------

def test_daily_series_fills_missing_days_with_zero():
    s = eng.time_series(CURRENT, START, END, "day")
    assert len(s) == 31 and s["step"].tolist() == list(range(31))
    assert s.loc[0, "views"] == 1000 and s.loc[2, "views"] == 0 and s.loc[4, "clicks"] == 40
    assert s["views"].sum() == 2000


def test_weekly_series_is_a_per_day_average_and_a_one_day_week_joins_the_last_block():
    days = pd.date_range("2026-07-01", "2026-09-30", freq="D")  # 92 days: 13 blocks of 7 and 1 day left over
    flat = pd.DataFrame({"content_id": 1, "day": days, "views": 70, "clicks": 7, "conversions": 1, "engagements": 2})
    s = eng.time_series(flat, date(2026, 7, 1), date(2026, 9, 30), "week")
    assert len(s) == 13 and s["days"].tolist() == [7] * 12 + [8]
    assert (s["views"] == 70).all() and s.loc[12, "date"] == pd.Timestamp("2026-09-23")
    weeks = eng.blocks(flat, date(2026, 7, 1), date(2026, 9, 30), "week")
    assert len(weeks) == 13 and weeks["end"].iloc[-1] == pd.Timestamp("2026-09-30") and weeks["views"].iloc[-1] == 8 * 70
    four_left = eng.time_series(flat, date(2026, 7, 1), date(2026, 7, 11), "week")  # 11 days: 7 + 4
    assert four_left["days"].tolist() == [7, 4]
    with pytest.raises(ValueError, match="freq"):
        eng.time_series(flat, START, END, "month")


def test_trend_recovers_a_known_slope():
    x = np.arange(30)
    t = eng.trend(100 + 5 * x)
    assert t.slope == pytest.approx(5.0) and t.direction == "rising" and t.points == 30
    assert (t.start, t.end) == pytest.approx((100, 245)) and t.relative_change == pytest.approx(145 / np.median(100 + 5 * x))
    noisy = 200 - 3 * x + np.random.default_rng(1).normal(0, 2, 30)
    fit = eng.trend(noisy)
    assert fit.slope == pytest.approx(-3, abs=0.3) and fit.direction == "falling" and fit.p_value < 0.001
    assert eng.trend([100, 101, 99, 100, 100, 101, 99]).direction == "flat"
    assert eng.trend([1, 2, 3]).direction == "unknown" and eng.trend([0] * 10).direction == "unknown"


def test_one_spike_does_not_make_a_trend():
    """A month of ~100 views a day with a 3,000-view spike on day 3: a straight line 'falls', the robust trend does not."""
    views = 100 + np.random.default_rng(2).normal(0, 8, 31)
    views[2] = 3000
    ols = np.polyfit(np.arange(31), views, 1)[0]
    assert ols * 7 < -20  # the old straight-line reading: "about 20+ fewer views a day each week"
    t = eng.trend(views)
    assert t.direction == "flat" and abs(t.slope) < 1


@pytest.mark.parametrize("seed", range(8))
def test_noise_alone_is_never_called_a_trend(seed):
    """Very noisy days around a constant level: steady or no clear trend, never rising or falling."""
    rng = np.random.default_rng(seed)
    views = rng.poisson(rng.lognormal(np.log(80), 0.6, 31))
    views[rng.integers(0, 31)] += 1500  # and a spike somewhere
    assert eng.trend(views).direction in ("flat", "unclear")


def test_compare_days_tells_a_level_change_from_a_few_exceptional_days():
    rng = np.random.default_rng(4)
    before = rng.poisson(100, 30).astype(float)
    before[10] = 8000  # one viral day made last month's total
    now = rng.poisson(105, 31)
    spiky = eng.compare_days(now, before)
    assert eng.change(now.sum(), before.sum()) < -0.4 and not spiky.differs  # the total fell 40%+, the days did not
    lower = eng.compare_days(rng.poisson(60, 31), rng.poisson(100, 30))
    assert lower.differs and lower.median_now < lower.median_before
    assert eng.compare_days([1, 2, 3], before) is None


# -- time (continued) ----------------------------------------------------------------------------

def test_series_dates_line_up_with_the_period():
    s = eng.time_series(CURRENT, START, END, "week")
    assert s["date"].tolist()[:2] == [pd.Timestamp(START), pd.Timestamp(START + timedelta(days=7))]
