"""Recommendations for a client: rules over the report's own figures, each quiet unless the evidence is solid.

Pure functions over :class:`Evidence` (the client's own figures and its anonymous standing).
Every rule

* needs a minimum sample before it speaks (the constants below: clicks, conversions, views);
* needs a change beyond the periods' own variation: Fisher's exact test for a rate
  (conversions per click, engagements per view; one-sided, p < 0.05), the days of the two
  periods for views (:func:`quire.metrics.engagement.compare_days`: the median day must fall
  as much as the total, significantly), and a rise of a content type must hold without its
  single most viewed piece;
* never states a direction the KPIs beside it contradict: "check forms and conversion
  tracking" only when conversions fell, not merely their rate per click; "views fell" only
  when the total fell by the threshold *and* the typical day did;
* cites the numbers it rests on, as the report prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from quire.formatting import counted, number, percent, relative_change, significant

from quire.metrics.engagement import ALPHA, TopContent, Totals, change, compare_days, ratio


@dataclass(frozen=True)
class Recommendation:
    """One action for the client, with the numbers behind it."""

    key: str
    title: str
    message: str
    severity: str = "info"  # info | good | warning (the callout it is shown as)


MAX_RECOMMENDATIONS = 5
MIN_CLICKS = 100            # a conversion rate (a platform's, or the client's) needs this many clicks…
MIN_CONVERSIONS = 10        # …and a platform this many conversions to be called the best
BEST_PLATFORM_LIFT = 1.2    # best platform converts at least this × the overall rate
MIN_TYPE_VIEWS = 1000       # a content type needs this many views in each period before its change is discussed
MIN_PREVIOUS_ENGAGEMENTS = 20  # …and this many engagements last period before a fall of its engagement rate
FALLING_ENGAGEMENT = -0.20  # relative fall of a content type's engagement rate that triggers
RISING_VIEWS = 0.25         # relative rise of a content type's views that triggers (also without its top item)
MIN_PREVIOUS_VIEWS = 1000   # total views last period before a fall of views is discussed
FALLING_VIEWS = -0.20       # relative fall of total views that triggers…
FALLING_CONVERSION = -0.30  # relative fall of the conversion rate that triggers…
MIN_PREVIOUS_CONVERSIONS = 10  # …when the previous period had at least this many conversions
MIN_RANKED_VIEWS = 1000     # own views before a bottom-quarter click-through rate is discussed
MIN_TOP_CONVERSIONS = 5
WEAK_HEALTH = 0.5           # health component score below which it is named (as in metrics.health)


def _pct(value: float, decimals: int = 1) -> str:
    return percent(value, decimals)


def _rate_test(k1: int, n1: int, k0: int, n0: int, alternative: str, tries: int = 1) -> bool:
    """Fisher's exact test: is rate k1/n1 ``less`` or ``greater`` than k0/n0?

    At :data:`ALPHA` ÷ ``tries`` (Bonferroni): a rule that picks the best or worst of several
    platforms or types has that many chances to find one by luck.
    """
    from scipy.stats import fisher_exact

    table = [[int(k1), max(int(n1) - int(k1), 0)], [int(k0), max(int(n0) - int(k0), 0)]]
    return bool(fisher_exact(table, alternative=alternative).pvalue < ALPHA / max(tries, 1))


@dataclass(frozen=True)
class Evidence:
    """What :func:`recommendations` looks at (all of it the client's own data, or its anonymous standing)."""

    current: Totals
    previous: Totals | None = None
    by_platform: pd.DataFrame | None = None   # breakdown(..., "platform") with a ``label`` column
    by_type: pd.DataFrame | None = None       # breakdown(..., "content_type") with ``label`` and ``noun`` (plural) columns
    standing: pd.DataFrame | None = None      # quire.metrics.peers.standing(...) with printed ``p25_text``/``p75_text``
    top: TopContent | None = None             # top_content(...)
    health: pd.DataFrame | None = None        # health components: component, score (0..1), measure, action
    previous_label: str = "the previous period"
    days: Sequence[float] | None = None            # views per day in the period…
    previous_days: Sequence[float] | None = None   # …and in the previous period
    type_days: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None  # the same per content type


def _best_platform(ev: Evidence) -> Recommendation | None:
    frame, cur = ev.by_platform, ev.current
    if frame is None or cur.clicks < MIN_CLICKS or not cur.conversions:
        return None
    trusted = frame.loc[(frame["clicks"] >= MIN_CLICKS) & (frame["conversions"] >= MIN_CONVERSIONS)]
    if trusted.empty:
        return None
    best = trusted.sort_values(["conversion_rate", "clicks"], ascending=False).iloc[0]
    rest_clicks, rest_conversions = cur.clicks - best["clicks"], cur.conversions - best["conversions"]
    if rest_clicks < MIN_CLICKS or best["conversion_rate"] < BEST_PLATFORM_LIFT * cur.conversion_rate:
        return None
    # Better than the other channels together by more than chance, not just on a handful of clicks.
    if not _rate_test(best["conversions"], best["clicks"], rest_conversions, rest_clicks, "greater", tries=len(trusted)):
        return None
    return Recommendation(
        "best_platform", f"Give {best['label']} a larger share of the budget",
        f"{best['label']} converted {_pct(best['conversion_rate'])} of its clicks ({number(best['conversions'])} conversions "
        f"from {number(best['clicks'])} clicks), against {_pct(cur.conversion_rate)} across all your channels. Moving spend and "
        f"publishing effort towards it should bring more conversions for the same budget.", "good")


def _noun(row: pd.Series) -> str:
    """'videos' for a content-type row: its ``noun`` when given, else '<label> content'."""
    noun = row.get("noun")
    return str(noun) if isinstance(noun, str) and noun else f"{str(row['label']).lower()} content"


def _falling_type(ev: Evidence) -> Recommendation | None:
    frame = ev.by_type
    if frame is None or frame.empty:
        return None
    seen = frame.loc[(frame["previous_views"] >= MIN_TYPE_VIEWS) & (frame["views"] >= MIN_TYPE_VIEWS)
                     & (frame["previous_engagements"] >= MIN_PREVIOUS_ENGAGEMENTS)].copy()
    seen["engagement_change"] = seen["engagement_rate"] / seen["previous_engagement_rate"] - 1
    falling = seen.loc[seen["engagement_change"] <= FALLING_ENGAGEMENT]
    falling = falling.loc[[_rate_test(r["engagements"], r["views"], r["previous_engagements"], r["previous_views"], "less",
                                      tries=len(seen))
                           for _, r in falling.iterrows()]]
    if falling.empty:
        return None
    worst = falling.sort_values("engagement_change").iloc[0]
    return Recommendation(
        "falling_type", f"Refresh your {_noun(worst)}",
        f"Engagement on your {_noun(worst)} fell from {_pct(worst['previous_engagement_rate'])} of views in "
        f"{ev.previous_label} ({number(worst['previous_engagements'])} from {counted(worst['previous_views'], 'view')}) to "
        f"{_pct(worst['engagement_rate'])} ({number(worst['engagements'])} from {number(worst['views'])}). "
        f"Try new formats, stronger openings and clearer questions that invite replies.", "warning")


def _rising_type(ev: Evidence) -> Recommendation | None:
    frame = ev.by_type
    if frame is None or frame.empty or not ev.current.views or not ev.type_days:
        return None
    # A rise that holds without the period's single most viewed item, in both periods: not one lucky piece…
    broad = ratio(frame["views"] - frame["top_item_views"], frame["previous_views"] - frame["previous_top_item_views"]) - 1
    rising = frame.loc[(frame["previous_views"] >= MIN_TYPE_VIEWS) & (frame["views_change"] >= RISING_VIEWS)
                       & (broad >= RISING_VIEWS) & (frame["items"] >= 2)]
    # …and on the usual day, beyond the days' own variation: not one viral day either.
    tries = int((frame["previous_views"] >= MIN_TYPE_VIEWS).sum())
    rising = rising.loc[[_day_rise(ev.type_days.get(str(t)), tries) for t in rising["content_type"]]]
    if rising.empty:
        return None
    best = rising.sort_values("views_change", ascending=False).iloc[0]
    share = best["views"] / ev.current.views
    return Recommendation(
        "rising_type", f"Do more {_noun(best)}",
        f"Views of your {_noun(best)} rose {percent(best['views_change'], 0)} on {ev.previous_label} "
        f"to {number(best['views'])} ({percent(share, 0)} of all your views), spread over {best['items']} pieces and over the "
        f"usual days rather than one viral hit. Audiences are responding: plan more {_noun(best)}.", "good")


def _day_rise(days: tuple[Sequence[float], Sequence[float]] | None, tries: int) -> bool:
    """Whether the median day rose by :data:`RISING_VIEWS` or more, significantly (Bonferroni over ``tries``)."""
    found = compare_days(*days) if days is not None else None
    if found is None or found.p_value >= ALPHA / max(tries, 1):
        return False
    rise = change(found.median_now, found.median_before)
    return rise is not None and rise >= RISING_VIEWS


def _standing_of(ev: Evidence, metric: str) -> pd.Series | None:
    if ev.standing is None or ev.standing.empty:
        return None
    row = ev.standing.loc[ev.standing["metric"] == metric]
    return None if row.empty or not isinstance(row.iloc[0]["band"], str) else row.iloc[0]


def _in_bottom_quarter(row: pd.Series | None) -> bool:
    from quire.metrics.peers import BOTTOM

    return row is not None and row["band"] == BOTTOM


def _their_middle_half(row: pd.Series) -> str:
    """" (their middle half: 2.9% to 4.3%)" when the report shows the portfolio's figures."""
    return f" (their middle half: {row['p25_text']} to {row['p75_text']})" if row["shown"] == "figures" else ""


def _low_ctr(ev: Evidence) -> Recommendation | None:
    row = _standing_of(ev, "ctr")
    if not _in_bottom_quarter(row) or ev.current.views < MIN_RANKED_VIEWS:
        return None
    conversion = _standing_of(ev, "conversion_rate")
    # Both rates low is one recommendation, clicks first (_low_conversion stands down): said here, not dropped.
    also = (f" Your conversion rate of {_pct(ev.current.conversion_rate)} is in the bottom quarter too"
            f"{_their_middle_half(conversion)}: once more visitors click, review the landing pages as well."
            if _in_bottom_quarter(conversion) and ev.current.clicks >= MIN_CLICKS else "")
    return Recommendation(
        "low_ctr", "Test headlines, thumbnails and calls to action",
        f"Your click-through rate of {_pct(ev.current.ctr)} is in the bottom quarter of comparable clients"
        f"{_their_middle_half(row)}. Run simple A/B tests on headlines and preview images of your most viewed "
        f"content to earn more clicks from the views you already get.{also}", "warning")


def _low_conversion(ev: Evidence) -> Recommendation | None:
    row = _standing_of(ev, "conversion_rate")
    if not _in_bottom_quarter(row) or ev.current.clicks < MIN_CLICKS or _low_ctr(ev) is not None:
        return None  # (the click-through action, when it fires, speaks for conversion too)
    if _falling_conversions(ev) is not None:  # the sharper message says it already
        return None
    return Recommendation(
        "low_conversion", "Make it easier to convert after the click",
        f"Visitors click ({_pct(ev.current.ctr)} of views) but only {_pct(ev.current.conversion_rate)} of clicks "
        f"convert, which is in the bottom quarter of comparable clients{_their_middle_half(row)}. Review the landing "
        f"pages: one clear call to action, shorter forms and an offer that matches the content.", "warning")


def _falling_conversions(ev: Evidence) -> Recommendation | None:
    prev, cur = ev.previous, ev.current
    if prev is None or prev.conversions < MIN_PREVIOUS_CONVERSIONS or cur.clicks < MIN_CLICKS:
        return None
    if cur.conversions >= prev.conversions:  # more conversions than before: nothing is broken
        return None
    moved = change(cur.conversion_rate, prev.conversion_rate)
    if moved is None or moved > FALLING_CONVERSION:
        return None
    if not _rate_test(cur.conversions, cur.clicks, prev.conversions, prev.clicks, "less"):
        return None
    return Recommendation(
        "falling_conversions", "Check what changed after the click",
        f"Conversions fell from {number(prev.conversions)} in {ev.previous_label} to {number(cur.conversions)}, and conversions per "
        f"click from {_pct(prev.conversion_rate)} ({number(prev.conversions)} from {number(prev.clicks)} clicks) to "
        f"{_pct(cur.conversion_rate)} ({number(cur.conversions)} from {number(cur.clicks)}). Check that forms and conversion "
        f"tracking still work, then review recent changes to landing pages and offers.", "warning")


def _falling_views(ev: Evidence) -> Recommendation | None:
    prev, cur = ev.previous, ev.current
    if prev is None or prev.views < MIN_PREVIOUS_VIEWS or ev.days is None or ev.previous_days is None:
        return None
    moved = change(float(cur.views), float(prev.views))
    if moved is None or moved > FALLING_VIEWS:
        return None
    days = compare_days(ev.days, ev.previous_days)
    # The usual day fell too, as much and beyond the days' own variation: not one exceptional day last period.
    typical = change(days.median_now, days.median_before) if days is not None else None
    if days is None or not days.differs or typical is None or typical > FALLING_VIEWS:
        return None
    return Recommendation(
        "falling_views", "Win back reach with a steadier publishing rhythm",
        f"Views fell {relative_change(moved, signed=False)} on {ev.previous_label} ({number(cur.views)} against {number(prev.views)}), and not "
        f"because of a few days: the median day had {counted(days.median_now, 'view')} against {number(days.median_before)}, "
        f"with {counted(cur.items, 'content item')} seen against {number(prev.items)}. Publish on a regular schedule and re-promote your "
        f"best pieces.", "warning")


def _reuse_top(ev: Evidence) -> Recommendation | None:
    top = ev.top
    if top is None or top.by != "conversions" or top.frame.empty or not ev.current.conversions:
        return None
    best = top.frame.iloc[0]
    if best["conversions"] < MIN_TOP_CONVERSIONS:
        return None
    share = best["conversions"] / ev.current.conversions
    return Recommendation(
        "reuse_top", "Build on your best performer",
        f"“{best['title']}” brought {number(best['conversions'])} of your {number(ev.current.conversions)} conversions ({percent(share, 0)}) "
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


def _moved(now: float, before: float) -> str:
    """"up 26%" / "down 8%" / "unchanged" for a change from ``before`` to ``now``."""
    moved = change(float(now), float(before))
    if moved is None:
        return "no comparison"
    return "unchanged" if round(moved * 100) == 0 else f"{'up' if moved > 0 else 'down'} {relative_change(moved, signed=False)}"


def _rate(value: float) -> str:
    return "—" if pd.isna(value) else _pct(value)


def checks(ev: Evidence) -> list[tuple[str, str, str]]:
    """What the rules looked at, as (check, the client's figures, when it would call for action).

    For a period in which no rule fires, so that "nothing to change" shows its evidence. Only
    checks with data are listed; figures are the report's own.
    """
    cur, prev, out = ev.current, ev.previous, []
    if prev is not None:
        days = compare_days(ev.days, ev.previous_days) if ev.days is not None and ev.previous_days is not None else None
        typical = f"; median day {number(days.median_now)} against {number(days.median_before)}" if days else ""
        out.append((f"Views against {ev.previous_label}", f"{number(cur.views)} against {number(prev.views)} ({_moved(cur.views, prev.views)}){typical}",
                    f"down {percent(abs(FALLING_VIEWS), 0)} or more, the median day too"))
        out.append(("Conversions", f"{number(cur.conversions)} against {number(prev.conversions)}; {_rate(cur.conversion_rate)} of clicks "
                    f"against {_rate(prev.conversion_rate)}",
                    f"fewer, and {percent(abs(FALLING_CONVERSION), 0)} fewer per click (from {MIN_PREVIOUS_CONVERSIONS} conversions)"))
    platforms = ev.by_platform.loc[ev.by_platform["clicks"] > 0] if ev.by_platform is not None else pd.DataFrame()
    if len(platforms) > 1 and cur.clicks:
        best = platforms.sort_values(["conversion_rate", "clicks"], ascending=False).iloc[0]
        out.append(("Best-converting platform", f"{best['label']} {_rate(best['conversion_rate'])} of {number(best['clicks'])} clicks; "
                    f"all channels {_rate(cur.conversion_rate)}",
                    f"{significant(BEST_PLATFORM_LIFT, 6)} × all channels, beyond chance (from {MIN_CLICKS} clicks and {MIN_CONVERSIONS} conversions)"))
    types = ev.by_type.loc[ev.by_type["previous_views"] >= MIN_TYPE_VIEWS] if ev.by_type is not None and prev is not None else pd.DataFrame()
    if not types.empty:
        out.append(("Content types", "; ".join(f"{r['label']} views {_moved(r['views'], r['previous_views'])}, engagement "
                                              f"{_rate(r['engagement_rate'])} against {_rate(r['previous_engagement_rate'])}"
                                              for _, r in types.iterrows()),
                    f"engagement rate down {percent(abs(FALLING_ENGAGEMENT), 0)}, or views up {percent(RISING_VIEWS, 0)} on the usual day "
                    f"(from {number(MIN_TYPE_VIEWS)} views)"))
    ranked = [(name, _standing_of(ev, metric)) for name, metric in (("click-through rate", "ctr"), ("conversion rate", "conversion_rate"))]
    ranked = [(name, row) for name, row in ranked if row is not None]
    if ranked:
        out.append(("Against comparable clients", "; ".join(f"{name}: {str(row['band']).lower()}" for name, row in ranked),
                    "bottom quarter (both: one action, clicks first)"))
    if ev.health is not None and not ev.health.dropna(subset=["score"]).empty:
        weakest = ev.health.dropna(subset=["score"]).sort_values("score").iloc[0]
        out.append(("Account health", f"weakest driver: {str(weakest['label']).lower()}, {number(weakest['score'] * 100)} of 100",
                    f"a driver below {number(WEAK_HEALTH * 100)} of 100"))
    return out


def recommendations(evidence: Evidence, limit: int = MAX_RECOMMENDATIONS) -> list[Recommendation]:
    """The rules that fire on ``evidence``, in priority order, at most ``limit``.

    Each rule looks at the client's own figures (and its anonymous standing) and fires only
    with enough data, a change beyond chance and past a stated threshold (see the constants
    above and the module docstring); its message cites the numbers it is based on. Nothing
    fires without activity.
    """
    if not evidence.current.active:
        return []
    found = [rec for rule in RULES if (rec := rule(evidence)) is not None]
    return found[:limit]


__all__ = ["Evidence", "RULES", "Recommendation", "checks", "recommendations"]
