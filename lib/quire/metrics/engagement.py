"""Content engagement of one client: rates, breakdowns, top content, time series, trend, recommendations.

Pure functions: DataFrames in, DataFrames or frozen dataclasses out, no I/O. The
engagement frames are daily rows per content item (``views``, ``clicks``,
``conversions``, ``engagements``, ``day``), optionally joined with the content's
``title``, ``platform`` and ``content_type``.

Definitions (the glossary words the same for readers):

* **CTR** (click-through rate) = clicks ÷ views.
* **Conversion rate** = conversions ÷ *clicks*. A conversion follows a click on the
  content, so per click it measures what happens after the click (landing page, offer,
  form) separately from how well the content earns the click, which CTR already
  measures; per view it would mix the two.
* **Engagement rate** = engagements (likes, shares, comments, replies) ÷ views.

Every rate is NaN (shown as "—") when its denominator is zero, never an error or ∞.

**Trend** within a period is a Theil–Sen line (``scipy.stats.theilslopes``: the median
of the slopes between every pair of points, so one spike cannot tilt it) through daily
views for a month, 7-day averages for longer periods. It is called rising or falling only
when Kendall's rank correlation of the values with time is significant (the Mann–Kendall
test, ``scipy.stats.kendalltau``, p < 0.05) *and* the fitted line moves by at least 10 % of
the median value over the period; steady when it moves less; otherwise there is no clear
trend. It is reported as where the fitted line starts and ends ("a typical day went from
about 120 to about 180 views").

**Typical day.** A change in total views is checked against the days themselves: the
median day of each period, and a Mann–Whitney U test of the two periods' daily values
(p < 0.05), tell a change of the usual level from one carried by a few exceptional days.

Recommendations built on these figures are :mod:`quire.metrics.advice`; how the client
compares with other clients is :mod:`quire.metrics.peers`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from quire.formatting import number, percent

MEASURES = ("views", "clicks", "conversions", "engagements")
#: rate -> (numerator, denominator)
RATES: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "views"),
    "conversion_rate": ("conversions", "clicks"),
    "engagement_rate": ("engagements", "views"),
}
#: Per-view rates count the clicks and engagements of content that had views: a platform that withholds its
#: impressions brings clicks with no views to divide them by (a total CTR above every platform's).
SEEN = {"clicks": "seen_clicks", "engagements": "seen_engagements"}
ALPHA = 0.05             # significance level of every test in this module
FLAT_TREND = 0.10        # |fitted change ÷ median| below this is "steady"
MIN_TREND_POINTS = 6     # fewer points: no trend is described
MIN_DAYS = 7             # fewer days in a period: no typical-day comparison
WEEK_DAYS = 7


# -- rates -----------------------------------------------------------------------------

def ratio(numerator, denominator):
    """``numerator / denominator`` as float, NaN where the denominator is zero or missing.

    Both scalars (gives a float) or both Series (gives a Series, element-wise).
    """
    if isinstance(numerator, pd.Series) or isinstance(denominator, pd.Series):
        den = pd.Series(denominator, dtype="float64")
        return pd.Series(numerator, dtype="float64") / den.where(den != 0)
    den = math.nan if denominator is None else float(denominator)
    return float(numerator) / den if den and not math.isnan(den) else math.nan


def rates(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``ctr``, ``conversion_rate`` and ``engagement_rate`` columns added (NaN-safe).

    Where ``frame`` has ``seen_clicks`` / ``seen_engagements`` (those of content with views, see
    :class:`Totals`), the rates per view count only those.
    """
    def numerator(column: str) -> pd.Series:
        return frame[SEEN[column]] if column in SEEN and SEEN[column] in frame else frame[column]

    return frame.assign(**{name: ratio(numerator(num), frame[den]) for name, (num, den) in RATES.items()})


@dataclass(frozen=True)
class Totals:
    """Engagement sums over a window and the rates derived from them."""

    views: int = 0
    clicks: int = 0
    conversions: int = 0
    engagements: int = 0
    items: int = 0  # content items with anything counted in the window
    seen_clicks: int | None = None  # clicks of content with views in the window (None: every click)
    seen_engagements: int | None = None

    @property
    def active(self) -> bool:
        """Whether there was anything to report: views in the window."""
        return self.views > 0

    @property
    def ctr(self) -> float:
        return ratio(self.clicks if self.seen_clicks is None else self.seen_clicks, self.views)

    @property
    def conversion_rate(self) -> float:
        return ratio(self.conversions, self.clicks)

    @property
    def engagement_rate(self) -> float:
        return ratio(self.engagements if self.seen_engagements is None else self.seen_engagements, self.views)

    def as_dict(self) -> dict[str, float]:
        return {**{m: float(getattr(self, m)) for m in MEASURES}, **{r: getattr(self, r) for r in RATES}}


def window(daily: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """The rows of ``daily`` whose ``day`` lies within ``start``..``end`` (inclusive)."""
    days = pd.to_datetime(daily["day"])
    return daily.loc[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]


def totals(daily: pd.DataFrame) -> Totals:
    """Sums of the measures over ``daily`` (already limited to a window)."""
    sums = {m: int(daily[m].sum()) for m in MEASURES}
    if "content_id" not in daily:
        return Totals(**sums)
    per_item = daily.groupby("content_id")[list(MEASURES)].sum()
    seen = per_item.loc[per_item["views"] > 0]
    return Totals(**sums, items=int(_counted(per_item).sum()), seen_clicks=int(seen["clicks"].sum()),
                  seen_engagements=int(seen["engagements"].sum()))


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change ``current / previous − 1``; None when either is missing or previous is 0."""
    if current is None or previous is None or not previous or math.isnan(current) or math.isnan(previous):
        return None
    return current / previous - 1


# -- breakdowns --------------------------------------------------------------------------

def breakdown(current: pd.DataFrame, previous: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Engagement per value of ``dimension`` (e.g. platform, content_type), most viewed first.

    ``current`` and ``previous`` are daily rows of the period and of the previous period,
    each with a ``dimension`` column. Columns: ``dimension``, items (content with anything counted),
    the four measures, the three rates, previous_views, previous_engagements,
    previous_engagement_rate, views_change (fraction; NaN without previous views), and
    top_item_views / previous_top_item_views (the views of the period's single most viewed item, in the period and
    in the previous one: the same item, to tell a broad change from one item's; an item new in the period had none
    before). Values with nothing counted in either period are left out
    (clicks without views count: a platform that withholds its impressions still brings clicks).
    """
    def grouped(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The sums per value of ``dimension``, and per value and item."""
        rows = frame.assign(**{dimension: frame[dimension].astype(str)})
        sums = rows.groupby(dimension)[list(MEASURES)].sum()
        per_item = rows.groupby([dimension, "content_id"])[list(MEASURES)].sum()
        sums["items"] = per_item.loc[_counted(per_item)].groupby(level=0).size()
        viewed = per_item.loc[per_item["views"] > 0].groupby(level=0)
        sums["seen_clicks"], sums["seen_engagements"] = viewed["clicks"].sum(), viewed["engagements"].sum()
        sums["top_item_views"] = per_item["views"].groupby(level=0).max()
        return sums.fillna(0), per_item

    (now, items_now), (before, items_before) = grouped(current), grouped(previous)
    # The period's top item of each value, and its views before: set against each other, each period's own top
    # item (a different piece in each) let one new article's rise pass for a broad one.
    top = items_now["views"].groupby(level=0).idxmax().dropna()
    before["top_item_views"] = pd.Series({value: items_before["views"].get(key, 0) for value, key in top.items()},
                                         dtype="int64").reindex(before.index, fill_value=0)
    keys = sorted(set(now.index[_counted(now)]) | set(before.index[_counted(before)]))
    now = now.reindex(keys).fillna(0).astype("int64")
    before = before.reindex(keys).fillna(0)
    out = rates(now.reset_index().rename(columns={"index": dimension}))
    out["previous_views"] = before["views"].to_numpy(dtype="int64")
    out["previous_engagements"] = before["engagements"].to_numpy(dtype="int64")
    out["previous_engagement_rate"] = ratio(before["seen_engagements"], before["views"]).to_numpy()
    out["views_change"] = (ratio(out["views"], out["previous_views"]) - 1).to_numpy()
    out["previous_top_item_views"] = before["top_item_views"].to_numpy(dtype="int64")
    columns = [dimension, "items", *MEASURES, *RATES, "previous_views", "previous_engagements", "previous_engagement_rate",
               "views_change", "top_item_views", "previous_top_item_views"]
    return out[columns].sort_values(["views", dimension], ascending=[False, True], kind="stable").reset_index(drop=True)


MIN_RANKED_CONVERSIONS = 3  # fewer pieces of content with conversions: rank by clicks instead


@dataclass(frozen=True)
class TopContent:
    """The most successful content of a period and how it was ranked."""

    frame: pd.DataFrame    # one row per title: title, platform, content_type (", "-joined keys), published_on, measures, rates
    by: str                # "conversions" (only content with conversions is listed) or "clicks" (too few conversions)
    with_conversions: int  # pieces of content with at least one conversion in the period
    active: int            # pieces of content with anything counted in the period (views, or clicks… without views)
    tied_out: int = 0      # pieces left out though as high as the last listed on ``by`` (the tie broken by the next measures)


def _content_totals(current: pd.DataFrame) -> pd.DataFrame:
    """The period's measures per piece of content, one row per title and publication day (see :func:`top_content`)."""
    frame = current.assign(platform=current["platform"].astype(str), content_type=current["content_type"].astype(str))
    if "published_on" not in frame:
        frame = frame.assign(published_on=pd.NaT)
    day = pd.to_datetime(frame["published_on"]).dt.strftime("%Y-%m-%d").fillna("")
    frame = frame.assign(key=frame["title"].astype(str).str.strip().str.casefold() + "\x00" + day)

    def joined(values: pd.Series) -> str:
        return ", ".join(sorted(set(values)))

    sums = frame.groupby("key").agg(title=("title", "first"), platform=("platform", joined),
                                    content_type=("content_type", joined), published_on=("published_on", "min"),
                                    **{m: (m, "sum") for m in MEASURES})
    return sums.loc[_counted(sums)].reset_index(drop=True)


def _counted(sums: pd.DataFrame) -> pd.Series:
    """Rows with anything counted: views, or clicks, conversions or engagements without views."""
    return (sums[list(MEASURES)] > 0).any(axis=1)


def top_content(current: pd.DataFrame, n: int = 10) -> TopContent:
    """The ``n`` pieces of content with the most conversions, ranked honestly.

    ``current`` holds the period's daily rows joined with ``title``, ``platform`` and
    ``content_type`` (and ``published_on``). Rows sharing a title (after trimming and case) and a
    publication day are one piece of content — the same piece published on several platforms — so it is
    listed once, its platforms and types joined with ", "; a title used again on another day (a weekly
    digest) is another piece, listed with its own day.
    When at least :data:`MIN_RANKED_CONVERSIONS` pieces had conversions, only pieces with
    conversions are listed, most first (then clicks, views); otherwise they are ranked by
    clicks (then views) and ``by`` says so. Content with nothing counted is left out.
    """
    sums = _content_totals(current)
    converting = int((sums["conversions"] > 0).sum())
    if converting >= MIN_RANKED_CONVERSIONS:
        ranked = sums.loc[sums["conversions"] > 0].sort_values(
            ["conversions", "clicks", "views", "title"], ascending=[False, False, False, True], kind="stable")
        by = "conversions"
    else:
        ranked = sums.sort_values(["clicks", "views", "title"], ascending=[False, False, True], kind="stable")
        by = "clicks"
    tied_out = int((ranked[by].iloc[n:] == ranked[by].iloc[n - 1]).sum()) if len(ranked) > n > 0 else 0
    return TopContent(rates(ranked.head(n)).reset_index(drop=True), by, converting, len(sums),  # sums: counted only
                      tied_out)


# -- time ------------------------------------------------------------------------------------

def time_series(daily: pd.DataFrame, start: date, end: date, freq: str = "day") -> pd.DataFrame:
    """Per-day averages of the measures over ``start``..``end``, by day or in 7-day blocks.

    ``freq`` is ``"day"`` or ``"week"``; blocks start on ``start`` (so a period and its
    previous period line up block by block); the days left over at the end form a shorter
    last block, or join the one before when fewer than 4 (a 1-day "week" is noise, not a
    point of a trend). Values are averages per day, so an uneven last block is not a dip
    or a peak. Days without rows count as 0.
    Columns: step (0, 1, …), date (first day of the block), days, the four measures.
    """
    if freq not in ("day", "week"):
        raise ValueError(f"freq must be 'day' or 'week', not {freq!r}")
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    by_day = (window(daily, start, end).assign(day=lambda f: pd.to_datetime(f["day"]))
              .groupby("day")[list(MEASURES)].sum().reindex(days, fill_value=0))
    step = np.arange(len(days)) if freq == "day" else _week_blocks(len(days))
    counts = pd.Series(step).value_counts().sort_index()
    out = by_day.groupby(step).sum().div(counts.to_numpy(), axis=0)
    firsts = pd.Series(days).groupby(step).min()
    return pd.DataFrame({"step": out.index.to_numpy(), "date": firsts.to_numpy(),
                         "days": counts.to_numpy(), **{m: out[m].to_numpy(dtype=float) for m in MEASURES}})


def daily_views_by(daily: pd.DataFrame, column: str, start: date, end: date, values: Iterable[str]) -> dict[str, pd.Series]:
    """Views on each day of ``start``..``end`` for each of ``values`` of ``column`` (compared as text), 0 on days
    without rows: for each value, what :func:`time_series` gives for its rows alone, from one grouping of all of them."""
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    rows = window(daily, start, end)
    sums = rows.groupby([rows[column].astype(str).to_numpy(), pd.to_datetime(rows["day"]).to_numpy()])["views"].sum()
    present = set(sums.index.get_level_values(0))
    zeros = pd.Series(0.0, index=days)
    return {v: pd.Series((sums.xs(v, level=0).reindex(days, fill_value=0) if v in present else zeros).to_numpy(dtype=float))
            for v in values}


def _week_blocks(days: int) -> np.ndarray:
    """Block number of each of ``days`` days in 7-day blocks; a remainder under 4 days joins the last full block."""
    step = np.arange(days) // WEEK_DAYS
    if days > WEEK_DAYS and 0 < days % WEEK_DAYS < 4:
        step[step == step.max()] -= 1
    return step


def blocks(daily: pd.DataFrame, start: date, end: date, freq: str = "week") -> pd.DataFrame:
    """Sums and rates of ``start``..``end`` in 7-day blocks from ``start`` (``"week"``) or calendar months (``"month"``).

    Columns: start, end (inclusive days of the block; the last week may be shorter or
    longer, see :func:`time_series`), the four measures, ``seen_clicks`` and ``seen_engagements`` and the
    three rates (per view as in :class:`Totals`). Blocks without rows are kept, with zeros.
    """
    if freq not in ("week", "month"):
        raise ValueError(f"freq must be 'week' or 'month', not {freq!r}")
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    if freq == "week":
        key = _week_blocks(len(days))
    else:
        key = days.year * 12 + days.month
    day_key = pd.Series(key, index=days)
    rows = window(daily, start, end)
    rows = rows.assign(block=day_key.reindex(pd.to_datetime(rows["day"])).to_numpy())
    order = pd.unique(key)
    sums = rows.groupby("block")[list(MEASURES)].sum().reindex(order, fill_value=0)
    # As in the cards: a block's rates per view count the clicks and engagements of content with views in that block.
    per_item = rows.groupby(["block", "content_id"])[list(MEASURES)].sum()
    seen = per_item.loc[per_item["views"] > 0].groupby(level=0)[list(SEEN)].sum().reindex(order, fill_value=0)
    spans = day_key.reset_index().groupby(0)["index"].agg(["min", "max"]).reindex(order)
    out = pd.DataFrame({"start": spans["min"].to_numpy(), "end": spans["max"].to_numpy(),
                        **{m: sums[m].to_numpy(dtype="int64") for m in MEASURES},
                        **{SEEN[m]: seen[m].to_numpy(dtype="int64") for m in SEEN}})
    return rates(out)


@dataclass(frozen=True)
class Trend:
    """Robust trend of a series (see the module docstring): a Theil–Sen line and whether it is real."""

    slope: float | None            # change per step of the fitted line
    start: float | None            # the fitted line at the first point…
    end: float | None              # …and at the last
    relative_change: float | None  # (end − start) ÷ the series' median
    p_value: float | None          # Kendall's tau of the values against time
    direction: str                 # rising | falling | flat | unclear | unknown
    points: int


def trend(values: Sequence[float] | pd.Series, flat: float = FLAT_TREND, alpha: float = ALPHA) -> Trend:
    """The trend of ``values`` (equally spaced, in order); see the module docstring.

    ``unknown`` with fewer than :data:`MIN_TREND_POINTS` points or a median of 0 (mostly
    days without views); ``flat`` when the fitted line moves less than ``flat`` × the median
    over the series; ``rising``/``falling`` when it moves more and Kendall's test is
    significant at ``alpha``; ``unclear`` when it moves more but the test is not significant.
    """
    from scipy.stats import kendalltau, theilslopes

    y = np.asarray(pd.Series(values, dtype="float64").dropna(), dtype=float)
    n = len(y)
    if n < MIN_TREND_POINTS or not np.isfinite(y).all():
        return Trend(None, None, None, None, None, "unknown", n)
    x = np.arange(n, dtype=float)
    fit = theilslopes(y, x)
    slope, start = float(fit.slope), float(fit.intercept)
    end = start + slope * (n - 1)
    level = float(np.median(y))
    if level <= 0:
        return Trend(slope, start, end, None, None, "unknown", n)
    rel = (end - start) / level
    p = kendalltau(x, y).pvalue
    p = 1.0 if p is None or math.isnan(p) else float(p)  # a constant series has no tau
    if abs(rel) < flat:
        direction = "flat"
    elif p < alpha:
        direction = "rising" if rel > 0 else "falling"
    else:
        direction = "unclear"
    return Trend(slope, start, end, rel, p, direction, n)


@dataclass(frozen=True)
class DayComparison:
    """Two periods' daily values compared: their median days and a Mann–Whitney U test."""

    median_now: float
    median_before: float
    p_value: float

    @property
    def differs(self) -> bool:
        """Whether the usual level of the days changed (significant at :data:`ALPHA`)."""
        return self.p_value < ALPHA


def compare_days(now: Sequence[float], before: Sequence[float]) -> DayComparison | None:
    """The typical day of a period against the previous period's (see the module docstring); None with too few days."""
    from scipy.stats import mannwhitneyu

    a = np.asarray(pd.Series(now, dtype="float64").dropna(), dtype=float)
    b = np.asarray(pd.Series(before, dtype="float64").dropna(), dtype=float)
    if len(a) < MIN_DAYS or len(b) < MIN_DAYS:
        return None
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return DayComparison(float(np.median(a)), float(np.median(b)), 1.0 if math.isnan(p) else p)


# -- account health -----------------------------------------------------------------------------

#: component -> (label, action title, action), in the words of the client-facing report.
HEALTH_ACTIONS: dict[str, tuple[str, str, str]] = {
    "usage_trend": ("Usage trend", "Re-engage your team with the platform",
                    "A short refresher on the features you use most usually helps; tell your account manager what gets in the way."),
    "utilisation": ("Seat utilisation", "Get more of your team using the service",
                    "Invite the colleagues who publish and report, and ask for a short onboarding session for them."),
    "ticket_load": ("Support load", "Review recurring support issues together",
                    "Book a review with your account manager so that recurring problems are fixed at the root."),
    "nps": ("Latest recommendation score", "Tell us what would make the service better",
            "Your account manager will follow up; a short call helps us fix what matters most to you."),
}


def _change_words(value: float) -> str:
    return f"{'up' if value >= 0 else 'down'} {percent(abs(value), 0)}"


def recent_tickets(tickets: pd.DataFrame, as_of: date) -> tuple[int, int]:
    """Support tickets (and urgent ones) opened in the health score's ticket window ending ``as_of``."""
    from quire.metrics import health

    opened = pd.to_datetime(tickets["opened_at"])
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    recent = tickets.loc[(opened >= end - pd.Timedelta(days=health.TICKET_DAYS)) & (opened < end)]
    return int(len(recent)), int((recent["priority"].astype(str) == "urgent").sum())


def _health_measure(component: str, row: pd.Series, tickets: tuple[int, int] | None) -> str:
    """The measure behind a component in a plain sentence (the client's own figures)."""
    from quire.metrics import health

    if component == "usage_trend":
        moved = row["usage_change"]
        return (f"Logins over the last {health.RECENT_WEEKS} weeks were {_change_words(moved)} on the "
                f"{health.baseline_weeks(row)} weeks before")
    if component == "utilisation":
        return f"{percent(row['seat_utilisation'], 0)} of your seats were in use over the last {health.RECENT_WEEKS} weeks"
    if component == "ticket_load":
        load = f"{number(row['ticket_load'], 2)} per seat once weighted by priority"
        if tickets is None:
            return f"Support tickets in the last {health.TICKET_DAYS} days came to {load}"
        count, urgent = tickets
        urgent_words = f" ({urgent} urgent)" if urgent else ""
        return f"{count} support ticket{'s' if count != 1 else ''} in the last {health.TICKET_DAYS} days{urgent_words}, {load}"
    return f"Your latest answer to “How likely are you to recommend us?” was {number(row['latest_nps'])} out of 10"


def _no_health_measure(component: str, row: pd.Series) -> str:
    """Why a component has no score: no data in its window, or (usage trend) too short a history."""
    from quire.metrics import health

    if component == "usage_trend" and pd.notna(row.get("seat_utilisation")):
        return (f"No trend yet: logins of the last {health.RECENT_WEEKS} weeks are compared with the "
                f"{health.PRIOR_WEEKS} weeks before them, which need usage in at least {health.MIN_PRIOR_WEEKS} "
                "weeks and some logins")
    return "No data in the window"


def health_components(row: pd.Series, tickets: tuple[int, int] | None = None) -> pd.DataFrame:
    """The four components behind one account's health score (a row of ``metrics.health_scores``).

    ``tickets`` — (tickets, urgent tickets) in the ticket window (:func:`recent_tickets`) —
    lets the support-load sentence cite counts rather than only the weighted load.

    Columns: component, label, score (0..1, NaN without data), weight, shortfall (weighted
    points lost, for ordering), measure (a sentence citing the figure), action_title,
    action. Ordered by weight, the component that counts most first.
    """
    from quire.metrics import health

    # The scoring itself stays in metrics.health (one definition of health for every report).
    frame = pd.DataFrame([row])
    if "ticket_load" not in frame:
        frame["ticket_load"] = np.nan
    scores = health._component_scores(frame).iloc[0]
    rows = []
    for component, weight in sorted(health.WEIGHTS.items(), key=lambda kv: -kv[1]):
        score = scores.get(component, np.nan)
        label, title, action = HEALTH_ACTIONS[component]
        measure = (_health_measure(component, row, tickets) if pd.notna(score)
                   else _no_health_measure(component, row))
        rows.append({"component": component, "label": label, "score": float(score), "weight": weight,
                     "shortfall": (1 - score) * weight if pd.notna(score) else 0.0,
                     "measure": measure, "action_title": title, "action": action})
    return pd.DataFrame(rows)


__all__ = ["ALPHA", "DayComparison", "MEASURES", "RATES", "TopContent", "Totals", "Trend", "blocks", "breakdown", "change",
           "compare_days", "health_components", "ratio", "rates", "recent_tickets", "time_series", "top_content", "totals",
           "trend", "window"]
