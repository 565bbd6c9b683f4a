"""Content engagement of one client: rates, breakdowns, time series, trend, portfolio standing, recommendations.

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

**Trend** is the least-squares slope of a series (daily views for a month, 7-day
averages for longer periods). Its direction counts as flat when the fitted change from
the first to the last point is within ±5 % of the series' mean; it is reported in the
series' own units (e.g. "about 15 more daily views each week"), which, unlike a
percentage of a fitted line, cannot come out absurd for a spiky series. The change
against the previous period is reported beside it as a plain percentage.

**Percentile rank** of a value among the portfolio's values is the share of them at or
below it, ×100 (``scipy.stats.percentileofscore(kind="weak")``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

MEASURES = ("views", "clicks", "conversions", "engagements")
#: rate -> (numerator, denominator)
RATES: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "views"),
    "conversion_rate": ("conversions", "clicks"),
    "engagement_rate": ("engagements", "views"),
}
PORTFOLIO_METRICS = ("ctr", "conversion_rate", "engagement_rate", "views_growth")

FLAT_TREND = 0.05        # |fitted change ÷ mean| below this is "flat"
MIN_TREND_POINTS = 3
MIN_PORTFOLIO_RANK = 3   # fewer comparable clients: no ranking at all (too small to be meaningful)
MIN_PORTFOLIO_BANDS = 5  # fewer: rank only, no quartiles (a quartile of 3–4 values is another client's figure)
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
    """``frame`` with ``ctr``, ``conversion_rate`` and ``engagement_rate`` columns added (NaN-safe)."""
    return frame.assign(**{name: ratio(frame[num], frame[den]) for name, (num, den) in RATES.items()})


@dataclass(frozen=True)
class Totals:
    """Engagement sums over a window and the rates derived from them."""

    views: int = 0
    clicks: int = 0
    conversions: int = 0
    engagements: int = 0
    items: int = 0  # content items with views in the window

    @property
    def active(self) -> bool:
        """Whether there was anything to report: views in the window."""
        return self.views > 0

    @property
    def ctr(self) -> float:
        return ratio(self.clicks, self.views)

    @property
    def conversion_rate(self) -> float:
        return ratio(self.conversions, self.clicks)

    @property
    def engagement_rate(self) -> float:
        return ratio(self.engagements, self.views)

    def as_dict(self) -> dict[str, float]:
        return {**{m: float(getattr(self, m)) for m in MEASURES}, **{r: getattr(self, r) for r in RATES}}


def window(daily: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """The rows of ``daily`` whose ``day`` lies within ``start``..``end`` (inclusive)."""
    days = pd.to_datetime(daily["day"])
    return daily.loc[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]


def totals(daily: pd.DataFrame) -> Totals:
    """Sums of the measures over ``daily`` (already limited to a window)."""
    sums = {m: int(daily[m].sum()) for m in MEASURES}
    items = int(daily.loc[daily["views"] > 0, "content_id"].nunique()) if "content_id" in daily else 0
    return Totals(**sums, items=items)


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change ``current / previous − 1``; None when either is missing or previous is 0."""
    if current is None or previous is None or not previous or math.isnan(current) or math.isnan(previous):
        return None
    return current / previous - 1


# -- breakdowns --------------------------------------------------------------------------

def breakdown(current: pd.DataFrame, previous: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Engagement per value of ``dimension`` (e.g. platform, content_type), most viewed first.

    ``current`` and ``previous`` are daily rows of the period and of the previous period,
    each with a ``dimension`` column. Columns: ``dimension``, items (content with views),
    the four measures, the three rates, previous_views, previous_engagement_rate and
    views_change (fraction; NaN without previous views). Values active in neither period
    are left out.
    """
    def grouped(frame: pd.DataFrame) -> pd.DataFrame:
        seen = frame.assign(**{dimension: frame[dimension].astype(str)})
        sums = seen.groupby(dimension)[list(MEASURES)].sum()
        sums["items"] = seen.loc[seen["views"] > 0].groupby(dimension)["content_id"].nunique()
        return sums

    now, before = grouped(current), grouped(previous)
    keys = sorted(set(now.index[now["views"] > 0]) | set(before.index[before["views"] > 0]))
    now = now.reindex(keys).fillna(0).astype("int64")
    before = before.reindex(keys).fillna(0)
    out = rates(now.reset_index().rename(columns={"index": dimension}))
    out["previous_views"] = before["views"].to_numpy(dtype="int64")
    out["previous_engagement_rate"] = ratio(before["engagements"], before["views"]).to_numpy()
    out["views_change"] = (ratio(out["views"], out["previous_views"]) - 1).to_numpy()
    columns = [dimension, "items", *MEASURES, *RATES, "previous_views", "previous_engagement_rate", "views_change"]
    return out[columns].sort_values(["views", dimension], ascending=[False, True], kind="stable").reset_index(drop=True)


def top_content(current: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` content items with the most conversions (then clicks, views), with their rates.

    ``current`` holds the period's daily rows joined with ``title``, ``platform`` and
    ``content_type`` (and ``published_on``, kept when present). Items without views are left out.
    """
    keys = ["content_id", "title", "platform", "content_type", *(["published_on"] if "published_on" in current else [])]
    frame = current.assign(platform=current["platform"].astype(str), content_type=current["content_type"].astype(str))
    sums = frame.groupby(keys, as_index=False)[list(MEASURES)].sum()
    sums = sums.loc[sums["views"] > 0]
    ranked = sums.sort_values(["conversions", "clicks", "views", "content_id"], ascending=[False, False, False, True], kind="stable")
    return rates(ranked.head(n)).reset_index(drop=True)


# -- time ------------------------------------------------------------------------------------

def time_series(daily: pd.DataFrame, start: date, end: date, freq: str = "day") -> pd.DataFrame:
    """Per-day averages of the measures over ``start``..``end``, by day or in 7-day blocks.

    ``freq`` is ``"day"`` or ``"week"``; blocks start on ``start`` (so a period and its
    previous period line up block by block) and the last one may be shorter. Values are
    averages per day, so a short last block is not a dip. Days without rows count as 0.
    Columns: step (0, 1, …), date (first day of the block), days, the four measures.
    """
    if freq not in ("day", "week"):
        raise ValueError(f"freq must be 'day' or 'week', not {freq!r}")
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    by_day = (window(daily, start, end).assign(day=lambda f: pd.to_datetime(f["day"]))
              .groupby("day")[list(MEASURES)].sum().reindex(days, fill_value=0))
    size = 1 if freq == "day" else WEEK_DAYS
    step = np.arange(len(days)) // size
    counts = pd.Series(step).value_counts().sort_index()
    out = by_day.groupby(step).sum().div(counts.to_numpy(), axis=0)
    return pd.DataFrame({"step": out.index.to_numpy(), "date": days[::size][: len(out)],
                         "days": counts.to_numpy(), **{m: out[m].to_numpy(dtype=float) for m in MEASURES}})


def blocks(daily: pd.DataFrame, start: date, end: date, freq: str = "week") -> pd.DataFrame:
    """Sums and rates of ``start``..``end`` in 7-day blocks from ``start`` (``"week"``) or calendar months (``"month"``).

    Columns: start, end (inclusive days of the block; the last week may be shorter), the
    four measures and the three rates. Blocks without rows are kept, with zeros.
    """
    if freq not in ("week", "month"):
        raise ValueError(f"freq must be 'week' or 'month', not {freq!r}")
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    if freq == "week":
        key = np.arange(len(days)) // WEEK_DAYS
    else:
        key = days.year * 12 + days.month
    day_key = pd.Series(key, index=days)
    rows = window(daily, start, end)
    rows = rows.assign(block=day_key.reindex(pd.to_datetime(rows["day"])).to_numpy())
    sums = rows.groupby("block")[list(MEASURES)].sum().reindex(pd.unique(key), fill_value=0)
    spans = day_key.reset_index().groupby(0)["index"].agg(["min", "max"]).reindex(pd.unique(key))
    out = pd.DataFrame({"start": spans["min"].to_numpy(), "end": spans["max"].to_numpy(),
                        **{m: sums[m].to_numpy(dtype="int64") for m in MEASURES}})
    return rates(out)


@dataclass(frozen=True)
class Trend:
    """Least-squares trend of a series: ``slope`` per step and ``relative_change`` over the series."""

    slope: float | None
    relative_change: float | None  # fitted last − fitted first, ÷ mean of the series
    direction: str                 # rising | falling | flat | unknown
    points: int


def trend(values: Sequence[float] | pd.Series, flat: float = FLAT_TREND) -> Trend:
    """Least-squares line through ``values`` (equally spaced, in order); see the module docstring."""
    y = np.asarray(pd.Series(values, dtype="float64").dropna(), dtype=float)
    n = len(y)
    if n < MIN_TREND_POINTS or not np.isfinite(y).all():
        return Trend(None, None, "unknown", n)
    x = np.arange(n, dtype=float)
    slope = float(np.polyfit(x, y, 1)[0])
    mean = float(y.mean())
    if mean <= 0:
        return Trend(slope, None, "unknown", n)
    rel = slope * (n - 1) / mean
    direction = "flat" if abs(rel) < flat else "rising" if rel > 0 else "falling"
    return Trend(slope, rel, direction, n)


# -- portfolio ---------------------------------------------------------------------------------

def percentile_rank(value: float | None, portfolio_values: Iterable[float]) -> float | None:
    """Share of ``portfolio_values`` at or below ``value``, ×100 (0–100); None without data.

    Equals ``scipy.stats.percentileofscore(values, value, kind="weak")``. Missing values
    (None, NaN) in the portfolio are ignored.
    """
    values = pd.Series(list(portfolio_values), dtype="float64").dropna().to_numpy()
    if value is None or (isinstance(value, float) and math.isnan(value)) or len(values) == 0:
        return None
    return float(np.count_nonzero(values <= value) / len(values) * 100)


def portfolio_metrics(sums: pd.DataFrame) -> pd.DataFrame:
    """Rates and ``views_growth`` (views ÷ previous_views − 1, NaN without previous views) per portfolio row."""
    out = rates(sums)
    out["views_growth"] = ratio(out["views"], out["previous_views"]) - 1
    return out


def standing_label(percentile: float | None) -> str:
    """Plain words for a percentile rank: top quarter, upper half, lower half, bottom quarter."""
    if percentile is None:
        return "—"
    if percentile >= 75:
        return "Top quarter"
    if percentile >= 50:
        return "Upper half"
    if percentile >= 25:
        return "Lower half"
    return "Bottom quarter"


def standing(own: Mapping[str, float | None], portfolio: pd.DataFrame, metrics: Sequence[str] = PORTFOLIO_METRICS,
             min_rank: int = MIN_PORTFOLIO_RANK, min_bands: int = MIN_PORTFOLIO_BANDS) -> pd.DataFrame:
    """The client's percentile rank among the portfolio for each metric, and the portfolio's quartiles.

    ``own`` maps a metric to the client's value; ``portfolio`` holds one anonymous row per
    client (the client's own included) with a column per metric (see
    :func:`portfolio_metrics`). Columns: metric, value, n (comparable clients), percentile
    (None below ``min_rank`` clients), label, p25, p50, p75 (NaN below ``min_bands``).
    """
    rows = []
    for metric in metrics:
        values = portfolio[metric].dropna() if metric in portfolio else pd.Series(dtype="float64")
        value = own.get(metric)
        value = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
        n = int(len(values))
        pct = percentile_rank(value, values) if n >= min_rank and value is not None else None
        bands = n >= min_bands and value is not None
        q = values.quantile([0.25, 0.5, 0.75]).to_numpy() if bands else [np.nan] * 3
        rows.append({"metric": metric, "value": value, "n": n, "percentile": pct, "label": standing_label(pct),
                     "p25": float(q[0]), "p50": float(q[1]), "p75": float(q[2])})
    return pd.DataFrame(rows, columns=["metric", "value", "n", "percentile", "label", "p25", "p50", "p75"])


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
                f"{health.PRIOR_WEEKS} weeks before")
    if component == "utilisation":
        return f"{row['seat_utilisation']:.0%} of your seats were in use over the last {health.RECENT_WEEKS} weeks"
    if component == "ticket_load":
        load = f"{row['ticket_load']:.2f} per seat once weighted by priority"
        if tickets is None:
            return f"Support tickets in the last {health.TICKET_DAYS} days came to {load}"
        count, urgent = tickets
        urgent_words = f" ({urgent} urgent)" if urgent else ""
        return f"{count} support ticket{'s' if count != 1 else ''} in the last {health.TICKET_DAYS} days{urgent_words}, {load}"
    return f"Your latest answer to “How likely are you to recommend us?” was {row['latest_nps']:.0f} out of 10"


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
        measure = _health_measure(component, row, tickets) if pd.notna(score) else "No data in the window"
        rows.append({"component": component, "label": label, "score": float(score), "weight": weight,
                     "shortfall": (1 - score) * weight if pd.notna(score) else 0.0,
                     "measure": measure, "action_title": title, "action": action})
    return pd.DataFrame(rows)


# -- recommendations ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Recommendation:
    """One action for the client, with the numbers behind it."""

    key: str
    title: str
    message: str
    severity: str = "info"  # info | good | warning (the callout it is shown as)


MAX_RECOMMENDATIONS = 5
MIN_CLICKS = 50            # a platform's conversion rate needs this many clicks…
MIN_CONVERSIONS = 5        # …and this many conversions to be trusted
BEST_PLATFORM_LIFT = 1.2   # best platform converts at least this × the overall rate
MIN_PREVIOUS_VIEWS = 200   # a content type needs this many views last period to call a fall
FALLING_ENGAGEMENT = -0.20  # relative fall of a content type's engagement rate that triggers
FALLING_VIEWS = -0.20      # relative fall of total views that triggers
FALLING_CONVERSION = -0.30  # relative fall of the conversion rate that triggers…
MIN_PREVIOUS_CONVERSIONS = 5  # …when the previous period had at least this many conversions
RISING_VIEWS = 0.25        # relative rise of a content type's views that triggers
LOW_PERCENTILE = 25        # bottom quarter of the portfolio
MIN_TOP_CONVERSIONS = 3
WEAK_HEALTH = 0.5          # health component score below which it is named (as in metrics.health)


def _pct(value: float, decimals: int = 1) -> str:
    return f"{value * 100:.{decimals}f}%"


def _change_words(value: float) -> str:
    return f"{'up' if value >= 0 else 'down'} {abs(value) * 100:.0f}%"


@dataclass(frozen=True)
class Evidence:
    """What :func:`recommendations` looks at (all of it the client's own data, or anonymous ranks)."""

    current: Totals
    previous: Totals | None = None
    by_platform: pd.DataFrame | None = None   # breakdown(..., "platform") with a ``label`` column
    by_type: pd.DataFrame | None = None       # breakdown(..., "content_type") with ``label`` and ``noun`` (plural) columns
    standing: pd.DataFrame | None = None      # standing(...)
    top: pd.DataFrame | None = None           # top_content(...)
    health: pd.DataFrame | None = None        # health components: component, score (0..1), measure, action
    previous_label: str = "the previous period"


def _best_platform(ev: Evidence) -> Recommendation | None:
    frame = ev.by_platform
    if frame is None or not ev.current.clicks:
        return None
    trusted = frame.loc[frame["clicks"] >= MIN_CLICKS].dropna(subset=["conversion_rate"])
    if len(trusted) < 2:
        return None
    trusted = trusted.assign(enough=trusted["conversions"] >= MIN_CONVERSIONS)
    overall = ev.current.conversion_rate
    if len(trusted) < 2 or not overall or math.isnan(overall):
        return None
    best = trusted.sort_values(["conversion_rate", "clicks"], ascending=False).iloc[0]
    if not best["enough"] or best["conversion_rate"] < BEST_PLATFORM_LIFT * overall:
        return None
    return Recommendation(
        "best_platform", f"Give {best['label']} a larger share of the budget",
        f"{best['label']} converted {_pct(best['conversion_rate'])} of its clicks ({best['conversions']:,} conversions "
        f"from {best['clicks']:,} clicks), against {_pct(overall)} across all your channels. Moving spend and "
        f"publishing effort towards it should bring more conversions for the same budget.", "good")


def _noun(row: pd.Series) -> str:
    """'videos' for a content-type row: its ``noun`` when given, else '<label> content'."""
    noun = row.get("noun")
    return str(noun) if isinstance(noun, str) and noun else f"{str(row['label']).lower()} content"


def _falling_type(ev: Evidence) -> Recommendation | None:
    frame = ev.by_type
    if frame is None or frame.empty:
        return None
    seen = frame.loc[(frame["previous_views"] >= MIN_PREVIOUS_VIEWS) & (frame["views"] > 0)].copy()
    seen["engagement_change"] = seen["engagement_rate"] / seen["previous_engagement_rate"] - 1
    seen = seen.replace([np.inf, -np.inf], np.nan).dropna(subset=["engagement_change"])
    falling = seen.loc[seen["engagement_change"] <= FALLING_ENGAGEMENT]
    if falling.empty:
        return None
    worst = falling.sort_values("engagement_change").iloc[0]
    return Recommendation(
        "falling_type", f"Refresh your {_noun(worst)}",
        f"Engagement on your {_noun(worst)} fell from {_pct(worst['previous_engagement_rate'])} of views in "
        f"{ev.previous_label} to {_pct(worst['engagement_rate'])} ({_change_words(worst['engagement_change'])}). "
        f"Try new formats, stronger openings and clearer questions that invite replies.", "warning")


def _rising_type(ev: Evidence) -> Recommendation | None:
    frame = ev.by_type
    if frame is None or frame.empty or not ev.current.views:
        return None
    rising = frame.loc[(frame["previous_views"] >= MIN_PREVIOUS_VIEWS) & (frame["views_change"] >= RISING_VIEWS)]
    if rising.empty:
        return None
    best = rising.sort_values("views_change", ascending=False).iloc[0]
    share = best["views"] / ev.current.views
    return Recommendation(
        "rising_type", f"Do more {_noun(best)}",
        f"Views of your {_noun(best)} rose {best['views_change'] * 100:.0f}% on {ev.previous_label} "
        f"to {best['views']:,} ({share:.0%} of all your views). Audiences are responding: plan more of it.", "good")


def _rank_of(ev: Evidence, metric: str) -> pd.Series | None:
    if ev.standing is None or ev.standing.empty:
        return None
    row = ev.standing.loc[ev.standing["metric"] == metric]
    if row.empty or row.iloc[0]["percentile"] is None or pd.isna(row.iloc[0]["percentile"]):
        return None
    return row.iloc[0]


def _low_ctr(ev: Evidence) -> Recommendation | None:
    row = _rank_of(ev, "ctr")
    if row is None or row["percentile"] > LOW_PERCENTILE:
        return None
    return Recommendation(
        "low_ctr", "Test headlines, thumbnails and calls to action",
        f"Your click-through rate of {_pct(row['value'])} is in the bottom quarter of comparable clients "
        f"(percentile rank {row['percentile']:.0f} of 100). Run simple A/B tests on headlines and preview images "
        f"of your most viewed content to earn more clicks from the views you already get.", "warning")


def _low_conversion(ev: Evidence) -> Recommendation | None:
    conv, ctr = _rank_of(ev, "conversion_rate"), _rank_of(ev, "ctr")
    if conv is None or conv["percentile"] > LOW_PERCENTILE or (ctr is not None and ctr["percentile"] <= LOW_PERCENTILE):
        return None
    if _falling_conversions(ev) is not None:  # the sharper message says it already
        return None
    return Recommendation(
        "low_conversion", "Make it easier to convert after the click",
        f"Visitors click ({_pct(ev.current.ctr)} of views) but only {_pct(conv['value'])} of clicks convert, "
        f"which is in the bottom quarter of comparable clients (percentile rank {conv['percentile']:.0f}). "
        f"Review the landing pages: one clear call to action, shorter forms and an offer that matches the content.",
        "warning")


def _falling_conversions(ev: Evidence) -> Recommendation | None:
    prev = ev.previous
    if prev is None or prev.conversions < MIN_PREVIOUS_CONVERSIONS:
        return None
    moved = change(ev.current.conversion_rate, prev.conversion_rate)
    if moved is None or moved > FALLING_CONVERSION:
        return None
    cur = ev.current
    return Recommendation(
        "falling_conversions", "Check what changed after the click",
        f"Conversions per click fell from {_pct(prev.conversion_rate)} in {ev.previous_label} ({prev.conversions:,} from "
        f"{prev.clicks:,} clicks) to {_pct(cur.conversion_rate)} ({cur.conversions:,} from {cur.clicks:,}). Check that "
        f"forms and conversion tracking still work, then review recent changes to landing pages and offers.", "warning")


def _falling_views(ev: Evidence) -> Recommendation | None:
    if ev.previous is None or not ev.previous.views:
        return None
    moved = change(float(ev.current.views), float(ev.previous.views))
    if moved is None or moved > FALLING_VIEWS:
        return None
    return Recommendation(
        "falling_views", "Win back reach with a steadier publishing rhythm",
        f"Views fell {abs(moved) * 100:.0f}% on {ev.previous_label} ({ev.current.views:,} against "
        f"{ev.previous.views:,}), with {ev.current.items} content items seen against {ev.previous.items}. "
        f"Publish on a regular schedule and re-promote your best pieces.", "warning")


def _reuse_top(ev: Evidence) -> Recommendation | None:
    if ev.top is None or ev.top.empty or not ev.current.conversions:
        return None
    best = ev.top.iloc[0]
    if best["conversions"] < MIN_TOP_CONVERSIONS:
        return None
    share = best["conversions"] / ev.current.conversions
    return Recommendation(
        "reuse_top", "Build on your best performer",
        f"“{best['title']}” brought {best['conversions']:,} of your {ev.current.conversions:,} conversions ({share:.0%}) "
        f"with a conversion rate of {_pct(best['conversion_rate'])}. Reuse its topic and format, and promote it again.",
        "good")


def _health(ev: Evidence) -> Recommendation | None:
    frame = ev.health
    if frame is None or frame.empty:
        return None
    weak = frame.dropna(subset=["score"]).loc[lambda f: f["score"] < WEAK_HEALTH]
    if weak.empty:
        return None
    worst = weak.sort_values("shortfall", ascending=False).iloc[0] if "shortfall" in weak else weak.iloc[0]
    return Recommendation("health_" + str(worst["component"]), str(worst["action_title"]),
                          f"{worst['measure']}. {worst['action']}", "warning")


#: Rules in priority order: where the budget goes, then the weakest spots, then what to build on.
RULES: tuple[Callable[[Evidence], Recommendation | None], ...] = (
    _best_platform, _falling_conversions, _low_ctr, _low_conversion, _falling_views, _falling_type, _health, _rising_type, _reuse_top,
)


def recommendations(evidence: Evidence, limit: int = MAX_RECOMMENDATIONS) -> list[Recommendation]:
    """The rules that fire on ``evidence``, in priority order, at most ``limit``.

    Each rule looks at the client's own figures (and anonymous percentile ranks) and
    fires only past a stated threshold (see the constants above); its message cites
    the numbers it is based on. Nothing fires without activity.
    """
    if not evidence.current.active:
        return []
    found = [rec for rule in RULES if (rec := rule(evidence)) is not None]
    return found[:limit]


__all__ = ["Evidence", "MEASURES", "PORTFOLIO_METRICS", "RATES", "Recommendation", "Totals", "Trend", "blocks", "breakdown",
           "change", "health_components", "percentile_rank", "recent_tickets", "portfolio_metrics", "ratio", "rates", "recommendations", "standing",
           "standing_label", "time_series", "top_content", "totals", "trend", "window"]
