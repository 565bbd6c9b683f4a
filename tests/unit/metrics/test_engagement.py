"""Engagement metrics against hand-computed values: rates, breakdowns, top content, time series, trend, recommendations.

Trend and recommendations are also run on noisy and spiky fixtures: a rule must not fire on
noise, on a handful of views, or against the figures beside it.
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


def test_top_content_with_too_few_converting_pieces_ranks_by_clicks():
    top = eng.top_content(CURRENT, n=10)
    assert top.by == "clicks" and top.with_conversions == 2 and top.seen == 3  # the video had no views
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


# -- recommendations --------------------------------------------------------------------------------

def platform_frame(**overrides):
    """A breakdown by platform: web converts 12% of 200 clicks, linkedin 4% of 300 (overall 7.2%)."""
    frame = pd.DataFrame({"platform": ["web", "linkedin"], "label": ["Website", "LinkedIn"],
                          "views": [4000, 6000], "clicks": [200, 300], "conversions": [24, 12], "engagements": [80, 120]})
    return eng.rates(frame.assign(**overrides))


def totals_of(frame: pd.DataFrame) -> eng.Totals:
    return eng.Totals(**{m: int(frame[m].sum()) for m in eng.MEASURES}, items=12)


def type_frame(engagement_before=(0.02, 0.02), views_before=(5000, 5000), views=(5000, 5000), top_item=(1500, 1500)):
    frame = pd.DataFrame({"content_type": ["article", "video"], "label": ["Article", "Video"], "noun": ["articles", "videos"],
                          "items": [4, 4], "views": list(views), "clicks": [250, 250], "conversions": [18, 18],
                          "engagements": [int(v * 0.02) for v in views], "previous_views": list(views_before),
                          "top_item_views": list(top_item), "previous_top_item_views": [int(v * 0.3) for v in views_before]})
    frame = eng.rates(frame)
    frame["previous_engagement_rate"] = list(engagement_before)
    frame["previous_engagements"] = [round(r * v) for r, v in zip(engagement_before, views_before)]
    frame["views_change"] = frame["views"] / frame["previous_views"] - 1
    return frame


CUR = eng.Totals(views=10_000, clicks=500, conversions=36, engagements=200, items=12)
STEADY_PREV = eng.Totals(views=10_000, clicks=500, conversions=36, engagements=200, items=12)
DAYS = np.random.default_rng(7).poisson(10_000 / 31, 31)
PREVIOUS_DAYS = np.random.default_rng(8).poisson(10_000 / 30, 30)


def standing_frame(ctr="Middle half", conversion="Middle half", shown="figures"):
    return pd.DataFrame({"metric": ["ctr", "conversion_rate"], "value": [0.05, 0.072], "peers": [12, 12],
                         "shown": [shown, shown], "band": [ctr, conversion],
                         "p25_text": ["5.5%", "8.0%"], "p75_text": ["7.0%", "11.0%"]})


def keys(**kw):
    base = {"current": CUR, "previous": STEADY_PREV, "previous_label": "September 2026", "days": DAYS,
            "previous_days": PREVIOUS_DAYS}
    return [r.key for r in eng.recommendations(eng.Evidence(**{**base, **kw}))]


def test_best_platform_fires_with_enough_evidence_and_cites_numbers():
    ev = eng.Evidence(current=CUR, previous=STEADY_PREV, by_platform=platform_frame())
    [rec] = eng.recommendations(ev)
    assert rec.key == "best_platform" and "Website" in rec.title
    assert "12.0%" in rec.message and "24 conversions from 200 clicks" in rec.message and "7.2%" in rec.message


def test_best_platform_stays_quiet_without_a_clear_or_trusted_winner():
    for frame in (platform_frame(conversions=[12, 18]),            # 6.0% vs 6.0%: no lift
                  platform_frame(clicks=[40, 300]),                # web's 40 clicks are too few to trust
                  platform_frame(conversions=[6, 1], clicks=[60, 300]),  # 6 conversions: too few
                  platform_frame(conversions=[11, 20], clicks=[100, 300])):  # 11% vs 6.7%: could be chance
        assert keys(current=totals_of(frame), previous=None, by_platform=frame) == []
    # The newsletter: 5 conversions from 88 clicks against 3.8% overall.
    small = platform_frame(clicks=[223, 88], conversions=[7, 5])
    assert keys(current=totals_of(small), previous=None, by_platform=small) == []


def test_falling_and_rising_content_types():
    assert keys(by_type=type_frame(engagement_before=(0.02, 0.04))) == ["falling_type"]  # video 4% -> 2%: -50%
    msg = eng.recommendations(eng.Evidence(current=CUR, by_type=type_frame(engagement_before=(0.02, 0.04)),
                                           previous_label="September 2026"))[0].message
    assert "videos" in msg and "4.0%" in msg and "2.0%" in msg and "200 from 5,000 views" in msg
    assert keys(by_type=type_frame(engagement_before=(0.022, 0.021))) == []  # small moves: nothing
    assert keys(by_type=type_frame(views_before=(2000, 5000))) == ["rising_type"]  # articles +150%
    assert keys(by_type=type_frame(views_before=(100, 5000))) == []  # too little before to call a rise
    assert keys(by_type=type_frame(views_before=(2000, 5000), top_item=(3500, 1500))) == []  # one piece made the rise


def test_a_content_type_with_a_handful_of_views_is_not_called_falling():
    """'Engagement fell 1.4% -> 0.0% (down 100%)' on 73 views: too few views to say anything."""
    frame = type_frame(engagement_before=(0.02, 0.014), views_before=(5000, 1000), views=(5000, 73))
    frame.loc[1, ["engagements", "engagement_rate"]] = [0, 0.0]
    assert keys(by_type=frame) == []


def test_low_ctr_and_low_conversion_against_the_portfolio():
    assert keys(standing=standing_frame(ctr="Bottom quarter")) == ["low_ctr"]
    [rec] = eng.recommendations(eng.Evidence(current=CUR, standing=standing_frame(ctr="Bottom quarter")))
    assert "5.0%" in rec.message and "middle half: 5.5% to 7.0%" in rec.message and "percentile" not in rec.message
    assert keys(standing=standing_frame(conversion="Bottom quarter")) == ["low_conversion"]
    assert keys(standing=standing_frame(ctr="Bottom quarter", conversion="Bottom quarter")) == ["low_ctr"]  # the click first
    assert keys(standing=standing_frame()) == []
    assert keys(standing=standing_frame(ctr=None)) == []  # no band: portfolio too small
    banded = eng.recommendations(eng.Evidence(current=CUR, standing=standing_frame(ctr="Bottom quarter", shown="band")))
    assert "middle half" not in banded[0].message  # band only: no portfolio figures to cite
    few = eng.Totals(views=73, clicks=2, conversions=0, engagements=1, items=1)
    assert keys(current=few, previous=None, standing=standing_frame(ctr="Bottom quarter")) == []  # 73 views: not enough


def test_falling_views_and_conversions_against_the_previous_period():
    more_before = eng.Totals(views=20_000, clicks=600, conversions=80, engagements=300, items=15)
    busier = np.random.default_rng(9).poisson(20_000 / 30, 30)
    got = eng.recommendations(eng.Evidence(current=CUR, previous=more_before, previous_label="September 2026",
                                           days=DAYS, previous_days=busier))
    assert [r.key for r in got] == ["falling_conversions", "falling_views"]
    assert "from 80 in September 2026 to 36" in got[0].message
    assert "13.3%" in got[0].message and "7.2%" in got[0].message and "80 from 600 clicks" in got[0].message
    assert "50%" in got[1].message and "10,000 against 20,000" in got[1].message and "median day" in got[1].message
    assert keys(previous=eng.Totals(views=11_000, clicks=520, conversions=40, engagements=210, items=12)) == []
    assert keys(previous=None) == []


def test_no_alarm_about_tracking_when_conversions_rose():
    """The rate per click fell because clicks grew faster: conversions rose, so nothing is broken."""
    now = eng.Totals(views=20_000, clicks=1000, conversions=60, engagements=300, items=12)
    before = eng.Totals(views=10_000, clicks=400, conversions=40, engagements=200, items=12)
    assert keys(current=now, previous=before) == []


def test_no_fall_of_views_when_last_period_had_one_viral_day():
    before_days = np.full(30, 330)
    before_days[12] = 10_000  # 19,570 views, most of them on one day
    assert eng.change(float(DAYS.sum()), float(before_days.sum())) < -0.45
    before = eng.Totals(views=int(before_days.sum()), clicks=500, conversions=36, engagements=200, items=12)
    assert keys(previous=before, previous_days=before_days) == []


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


def top_of(conversions: int, by: str = "conversions") -> eng.TopContent:
    frame = pd.DataFrame({"title": ["Guide A"], "conversions": [conversions], "conversion_rate": [0.1]})
    return eng.TopContent(frame, by, 3, 5)


def test_reuse_top_content_and_nothing_without_activity():
    [rec] = eng.recommendations(eng.Evidence(current=CUR, top=top_of(12)))
    assert rec.key == "reuse_top" and "Guide A" in rec.message and "12 of your 36" in rec.message and "33%" in rec.message
    assert eng.recommendations(eng.Evidence(current=CUR, top=top_of(4))) == []
    assert eng.recommendations(eng.Evidence(current=CUR, top=top_of(12, by="clicks"))) == []  # not ranked by conversions
    idle = eng.Totals()
    assert eng.recommendations(eng.Evidence(current=idle, by_platform=platform_frame(), top=top_of(12))) == []


def test_at_most_five_in_priority_order():
    more_before = eng.Totals(views=20_000, clicks=600, conversions=80, engagements=300, items=15)
    parts = eng.health_components(pd.Series({"seat_utilisation": 0.2, "usage_change": -0.45, "ticket_load": 0.1,
                                             "latest_nps": 9.0}))
    busier = np.random.default_rng(9).poisson(20_000 / 30, 30)
    got = eng.recommendations(eng.Evidence(current=CUR, previous=more_before, by_platform=platform_frame(),
                                           by_type=type_frame(engagement_before=(0.02, 0.04)),
                                           standing=standing_frame(ctr="Bottom quarter"), health=parts, top=top_of(12),
                                           days=DAYS, previous_days=busier))
    assert [r.key for r in got] == ["best_platform", "falling_conversions", "low_ctr", "falling_views", "falling_type"]
    assert all(any(ch.isdigit() for ch in r.message) for r in got)  # every one cites numbers


def test_series_dates_line_up_with_the_period():
    s = eng.time_series(CURRENT, START, END, "week")
    assert s["date"].tolist()[:2] == [pd.Timestamp(START), pd.Timestamp(START + timedelta(days=7))]
