"""Client reports built from synthetic engagement (no warehouse): what the report says agrees with its own figures.

Each scenario generates two months of daily rows for one client — steady, very noisy, with one
viral day in either month, falling, rising, clicks up but conversions per click down, a broken
conversion funnel, a tiny account — and builds the real :class:`ClientReport` from them. Every
recommendation must be consistent with the KPI cards and tables of the same report, and noise
alone must not produce a recommendation about a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pytest

from quire.metrics import advice, peers
from quire.metrics.kpi import format_value
from quire.periods import Period
from quire.reports.client import ClientData, ClientReport

PLATFORMS = ("web", "linkedin", "newsletter")
TYPES = ("article", "video", "social_post")
CHANGE_RULES = {"falling_views", "falling_conversions", "falling_type", "rising_type", "best_platform"}


@dataclass
class Scenario:
    """How a synthetic client's two months differ; every rate is per platform or type unless noted."""

    level: tuple[float, float] = (60.0, 60.0)   # mean views per item per day: (previous month, this month)
    noise: float = 0.35                           # lognormal day-to-day noise
    spike: tuple[int, int] | None = None          # (month index 0|1, day) of a 25× day
    ctr: tuple[float, float] = (0.05, 0.05)
    cvr: tuple[float, float] = (0.08, 0.08)
    er: dict[str, tuple[float, float]] = field(default_factory=lambda: {t: (0.03, 0.03) for t in TYPES})
    items: int = 9


SCENARIOS = {
    "steady": Scenario(),
    "noisy": Scenario(noise=0.9),
    "viral_day_last_month": Scenario(spike=(0, 12)),
    "viral_day_this_month": Scenario(spike=(1, 20)),
    "falling": Scenario(level=(80.0, 35.0)),
    "rising": Scenario(level=(40.0, 70.0)),
    "more_clicks_fewer_per_click": Scenario(ctr=(0.03, 0.07), cvr=(0.10, 0.06)),
    "broken_funnel": Scenario(cvr=(0.09, 0.02)),
    "videos_lose_engagement": Scenario(er={"article": (0.03, 0.03), "video": (0.06, 0.02), "social_post": (0.03, 0.03)}),
    "tiny": Scenario(level=(0.4, 0.3), items=3),
}
NOISE_ONLY = ("steady", "noisy", "viral_day_last_month", "viral_day_this_month")


def engagement(s: Scenario, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Content and daily rows for September and October 2026."""
    content = pd.DataFrame({"content_id": range(1, s.items + 1), "title": [f"Piece {i}" for i in range(1, s.items + 1)],
                            "content_type": [TYPES[i % 3] for i in range(s.items)],
                            "platform": [PLATFORMS[(i // 3) % 3] for i in range(s.items)],
                            "published_on": [date(2026, 8, 1 + i) for i in range(s.items)]})
    frames = []
    for month, (start, end) in enumerate(((date(2026, 9, 1), date(2026, 9, 30)), (date(2026, 10, 1), date(2026, 10, 31)))):
        days = pd.date_range(start, end, freq="D")
        for _, item in content.iterrows():
            expected = s.level[month] * rng.lognormal(-s.noise ** 2 / 2, s.noise, len(days))
            if s.spike and s.spike[0] == month:
                expected[s.spike[1]] *= 25
            views = rng.poisson(expected)
            clicks = rng.binomial(views, s.ctr[month])
            frames.append(pd.DataFrame({"content_id": item["content_id"], "day": days.date, "views": views, "clicks": clicks,
                                        "conversions": rng.binomial(clicks, s.cvr[month]),
                                        "engagements": rng.binomial(views, s.er[item["content_type"]][month])}))
    return content, pd.concat(frames, ignore_index=True)


def build(name: str, seed: int) -> ClientReport:
    rng = np.random.default_rng(seed)
    content, daily = engagement(SCENARIOS[name], rng)
    others = pd.DataFrame({"views": rng.integers(2000, 40000, 14)})
    others["clicks"] = rng.binomial(others["views"], rng.uniform(0.02, 0.08, 14))
    others["conversions"] = rng.binomial(others["clicks"], rng.uniform(0.03, 0.12, 14))
    others["engagements"] = rng.binomial(others["views"], rng.uniform(0.01, 0.05, 14))
    others["previous_views"] = (others["views"] * rng.uniform(0.6, 1.4, 14)).astype(int)
    empty = pd.DataFrame()
    client = pd.Series({"client_id": 1, "name": "Example Org", "slug": "example-org", "brand": "quire"})
    data = ClientData(period=Period(date(2026, 10, 1), "month"), first_month=date(2024, 6, 1), client=client,
                      content=content, engagement=daily, portfolio=others, usage=empty, tickets=empty, surveys=empty,
                      paying=False, paying_before=False)
    return ClientReport(data)


def assert_consistent(report: ClientReport) -> None:
    """Each recommendation against the KPI cards and tables of the same report."""
    cards = {k.key: k for k in report.headline().kpis}
    pct = {key: format_value(cards[key].value, "percent") for key in ("ctr", "conversion_rate")}
    standing = report.standing.set_index("metric")
    for rec in report.recommended:
        m = rec.message
        if rec.key == "falling_views":
            views = cards["views"]
            assert views.delta_pct <= -0.20, m
            assert f"{format_value(views.value, 'number')} against {format_value(views.previous, 'number')}" in m
        elif rec.key == "falling_conversions":
            assert cards["conversions"].delta < 0 and cards["conversion_rate"].delta < 0, m
            assert pct["conversion_rate"] in m and format_value(cards["conversion_rate"].previous, "percent") in m
        elif rec.key == "low_ctr":
            assert standing.loc["ctr", "band"] == peers.BOTTOM and pct["ctr"] in m
        elif rec.key == "low_conversion":
            assert standing.loc["conversion_rate", "band"] == peers.BOTTOM and pct["conversion_rate"] in m
        elif rec.key == "best_platform":
            row = report.by_platform.set_index("label").loc[rec.title.split("Give ")[1].split(" a larger")[0]]
            assert row["conversion_rate"] > cards["conversion_rate"].value
            assert format_value(row["conversion_rate"], "percent") in m and pct["conversion_rate"] in m
        elif rec.key in ("falling_type", "rising_type"):
            row = report.by_type.loc[[noun in rec.title for noun in report.by_type["noun"]]].iloc[0]
            if rec.key == "falling_type":
                assert row["engagement_rate"] < row["previous_engagement_rate"]
                assert format_value(row["engagement_rate"], "percent") in m
            else:
                assert row["views_change"] >= 0.25 and f"{row['views']:,}" in m
        elif rec.key == "reuse_top":
            assert report.top.by == "conversions" and f"“{report.top.frame['title'].iloc[0]}”" in m
    if not report.recommended:  # "nothing to change" shows what was checked, in the cards' figures
        checked = dict((check, figures) for check, figures, _ in advice.checks(report.evidence))
        views = cards["views"]
        if views.previous is not None:
            row = checked["Views against September 2026"]
            assert row.startswith(f"{format_value(views.value, 'number')} against {format_value(views.previous, 'number')}")
    # The lead's direction is the card's.
    moved = cards["views"].delta_pct
    said = re.search(r"\b(up|down) (\d+)% on", report.engagement_lead())
    if moved is not None and round(abs(moved) * 100) > 0:
        assert said and said.group(1) == ("up" if moved > 0 else "down") and int(said.group(2)) == round(abs(moved) * 100)


@pytest.mark.parametrize("name", SCENARIOS)
def test_recommendations_agree_with_the_reports_own_figures(name):
    for seed in range(4):
        assert_consistent(build(name, seed))


def test_noise_alone_recommends_no_change():
    fired = [(name, seed, r.key) for name in NOISE_ONLY for seed in range(6) for r in build(name, seed).recommended
             if r.key in CHANGE_RULES]
    assert not fired


def test_real_changes_are_found():
    assert all("falling_views" in {r.key for r in build("falling", s).recommended} for s in range(3))
    assert all("falling_conversions" in {r.key for r in build("broken_funnel", s).recommended} for s in range(3))
    assert all("falling_type" in {r.key for r in build("videos_lose_engagement", s).recommended} for s in range(3))


def test_more_conversions_never_prompt_a_check_of_the_tracking():
    for seed in range(4):
        report = build("more_clicks_fewer_per_click", seed)
        cards = {k.key: k for k in report.headline().kpis}
        assert cards["conversions"].delta > 0 and cards["conversion_rate"].delta < 0
        assert "falling_conversions" not in {r.key for r in report.recommended}


def test_a_tiny_account_gets_no_advice_about_changes():
    for seed in range(4):
        report = build("tiny", seed)
        assert report.now.views < 100 and not {r.key for r in report.recommended} & (CHANGE_RULES | {"low_ctr", "low_conversion"})


def test_a_viral_day_last_month_is_named_in_the_lead_not_a_fall():
    report = build("viral_day_last_month", 1)
    cards = {k.key: k for k in report.headline().kpis}
    assert cards["views"].delta_pct < -0.2  # the total fell…
    lead = report.engagement_lead()
    assert "The median day changed much less" in lead and "a few exceptional days" in lead  # …the usual day did not
    assert "falling_views" not in {r.key for r in report.recommended}
