"""The sample content reads like a real client's: titles fit the trade and the season, no title repeats within a
client, action content converts, and engagement has a weekly rhythm without one day dominating a month.

The rules below are a reader's, written independently of the generator's vocabulary: a season or holiday named in a
title must be near (ahead of or during) the month the item was published, in the client's hemisphere.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from quire.warehouse.generator import generate

SEEDS = (7, 3)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def _from(first: int, last: int) -> set[int]:
    """Months first..last (1-12), wrapping over the year end."""
    return {(first - 1 + i) % 12 + 1 for i in range((last - first) % 12 + 1)}


# A season may be named from three months ahead of it to its last month, in the client's hemisphere.
SEASON_WORDS = {"spring": _from(12, 5), "summer": _from(3, 8), "autumn": _from(6, 11), "fall": _from(6, 11),
                "winter": _from(9, 2), "snow": _from(10, 3), "heat wave": _from(5, 9)}
# Holidays keep their calendar month in both hemispheres.
HOLIDAY_WORDS = {"christmas": _from(10, 12), "holiday": _from(10, 1), "black friday": _from(10, 11),
                 "halloween": _from(9, 11), "new year": _from(12, 1), "giving tuesday": _from(10, 12),
                 "easter": _from(2, 4)}
SOUTHERN = ("Australia & NZ",)

# Words only one kind of business would use (a dental practice does not sell a spring collection).
TRADE_WORDS = {
    "Dental": ("teeth", "dental", "hygienist", "toothbrush"),
    "Bakery": ("bread", "cake", "baker", "sourdough", "buns"),
    "Realty": ("housing market", "valuation", "lettings", "first home"),
    "Builders": ("renovation", "loft", "kitchen extension", "planning permission"),
    "Logistics": ("shipping", "deliver", "depot"),
    "Outfitters": ("collection", "hiking", "walking boots", "backpack", "hikers"),
    "Manufacturing": ("factory", "production line", "alloy", "shop floor"),
}
ACTION = re.compile(r"^(Register|Book|Apply|Sign up|Join|Order|Donate|Give|Shop|Place|Start|Request|Sponsor|Buy|"
                    r"Save your seat|Have your say)\b")
INFORM = re.compile(r"^(Reminder|Heads-up|A quick update|Video update|Our .* in pictures)")


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def demo(request, tiny_end) -> dict[str, pd.DataFrame]:
    return generate("demo", seed=request.param, end=tiny_end)


@pytest.fixture(scope="module")
def items(demo) -> pd.DataFrame:
    """Content with its client's name and region and its publication month."""
    clients = demo["clients"][["client_id", "name", "sector", "region"]]
    frame = demo["content"].merge(clients, on="client_id")
    frame["month"] = frame["published_on"].dt.month
    frame["local_month"] = np.where(frame["region"].isin(SOUTHERN), (frame["month"] + 5) % 12 + 1, frame["month"])
    return frame


def _misplaced(items: pd.DataFrame, words: dict[str, set[int]], month: str) -> list[str]:
    found = []
    lower = items["title"].str.lower()
    for word, allowed in words.items():
        named = lower.str.contains(rf"\b{word}\b", regex=True)
        bad = items[named & ~items[month].isin(allowed)]
        found += [f"{r.published_on:%Y-%m} {r.region}: {r.title}" for r in bad.itertuples()]
    return found


def test_titles_name_seasons_and_holidays_only_near_them(items):
    assert _misplaced(items, SEASON_WORDS, "local_month") == []
    assert _misplaced(items, HOLIDAY_WORDS, "month") == []
    assert items["title"].str.lower().str.contains("summer").sum() > 10  # the rule had something to check


def test_month_names_and_years_in_titles_are_the_publication_date(items):
    month = items["title"].str.extract(rf"\b({'|'.join(MONTHS)})\b", expand=False)
    named = month.notna()
    assert named.sum() > 100
    assert (month[named].map(MONTHS.index) + 1 == items.loc[named, "month"]).all()
    year = items["title"].str.extract(r"\b(20\d\d)\b", expand=False).dropna().astype(int)
    assert len(year) > 50
    assert (year - items.loc[year.index, "published_on"].dt.year).between(-1, 1).all()


@pytest.mark.parametrize("scale", ["tiny", "demo"])
def test_no_client_repeats_a_title(demo, tiny_end, scale):
    content = demo["content"] if scale == "demo" else generate("tiny", seed=7, end=tiny_end)["content"]
    repeated = content[content.duplicated(["client_id", "title"], keep=False)]
    assert repeated.empty, repeated[["client_id", "title"]].head(10).to_string()
    assert content["title"].str.len().between(8, 110).all()


def test_titles_fit_the_clients_trade(items):
    businesses = items[items["sector"] == "business"]
    for trade, _ in TRADE_WORDS.items():
        others = [w for t, words in TRADE_WORDS.items() if t != trade for w in words]
        mine = businesses[businesses["name"].str.endswith(" " + trade)]
        wrong = mine[mine["title"].str.lower().str.contains("|".join(others))]
        assert wrong.empty, f"{trade}: {wrong['title'].head(5).tolist()}"
    municipal = items.loc[items["sector"] == "municipality", "title"].str.lower()
    assert not municipal.str.contains(r"\b(?:funding round|shop|customers)\b").any()
    startups = items.loc[items["sector"] == "startup", "title"].str.lower()
    assert not startups.str.contains(r"\b(?:council|residents|donat\w*)\b").any()


def test_most_content_is_published_on_weekdays(items):
    assert (items["published_on"].dt.day_of_week < 5).mean() > 0.8


def test_content_that_asks_for_action_converts(demo, items):
    per_item = demo["engagement_daily"].groupby("content_id")[["clicks", "conversions"]].sum()
    frame = items.set_index("content_id").join(per_item)
    by_type = frame.groupby("content_type", observed=True)[["clicks", "conversions"]].sum()
    rate = by_type["conversions"] / by_type["clicks"]
    assert rate["landing_page"] > 2 * max(rate["social_post"], rate["video"])
    asks, informs = frame[frame["title"].str.match(ACTION)], frame[frame["title"].str.match(INFORM)]
    assert len(asks) > 100 and len(informs) > 100
    assert asks["conversions"].sum() / asks["clicks"].sum() > 2 * informs["conversions"].sum() / informs["clicks"].sum()


def test_engagement_has_a_weekly_rhythm_and_no_day_dominates_a_month(demo):
    daily = demo["engagement_daily"].groupby(["client_id", "day"])["views"].sum().reset_index()
    weekday = daily["day"].dt.day_of_week < 5
    assert daily.loc[weekday, "views"].mean() > 1.3 * daily.loc[~weekday, "views"].mean()
    month = daily.groupby(["client_id", daily["day"].dt.to_period("M")])["views"]
    total, busiest = month.sum(), month.max()
    share = (busiest / total)[total >= 2000]  # client-months with enough views to judge
    assert len(share) > 200
    assert share.median() < 0.10 and (share > 0.2).mean() < 0.03
