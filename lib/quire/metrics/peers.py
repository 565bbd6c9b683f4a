"""How a client compares with the other clients, without revealing any other client's figure.

Pure functions: the client's own values and anonymous per-client sums of the *other*
clients (no id, name or order that ties a row to a client) in, one row per metric out.

What must hold
--------------
A client report says "No other client's figures are shown", and that must stay true
for a reader who knows their own figures, how this module works (the code is no
secret), how many clients were compared, and who tries to work backwards from
everything the report publishes (tables, chart, alt text, run.json). Such a reader
must not be able to pin any single other client's value down to the precision the
report prints (0.1 percentage point), for any portfolio size.

The design, and why
-------------------
* **Peers exclude the client.** Minimums count *other* clients (the client's own row
  is not loaded with them), so "10 clients" can never mean "9 others and me".
* **One group for every metric** (:func:`comparable`): the other clients with a figure for
  each metric compared. Were each metric compared over the clients that have it, its own
  count would show against the group's: "5 other clients", a band for click-through and none
  for conversion rate "with fewer than 5 to compare" tells that one of the five had no click
  at all. So a client without a click (no conversion rate) or without views throughout the
  previous period (no growth) is in no comparison, and the report states one count. The
  figures cover the group and the reader when the reader has every figure too; a reader
  who has not is left out of them, so that they stay the same in every report.
* **No figures below 10 peers** (:data:`MIN_PEERS_FIGURES`). With few values, any
  quantile is one of them or sits between two (the median of 5 values *is* the third
  value; the median of 6 plus your own middle value gives the other one back).
* **Figures that are no single client's value.** The portfolio median and quartiles are
  Harrell–Davis estimates (:func:`scipy.stats.mstats.hdquantiles`): a Beta-weighted
  average of *all* sorted values, in which no client weighs more than about 30 % at
  10 peers (less for larger portfolios). A plain interpolated quartile lands on one
  client's value whenever (n − 1) × q is a whole number; this estimator never does
  (short of ties), and the weights spread over many clients, so solving the three
  published equations for one client leaves every unknown free over a wide range.
* **The figures cover the whole portfolio, the client included**, so every client's
  report of one period shows the same median and quartiles: two clients who compare
  their reports learn nothing from a difference between them.
* **Published at the printed precision** (:data:`FIGURE_DECIMALS`): the rounded figure
  is what the table, the chart and its alt text draw on, so the image holds no digits the
  table does not show.
* **Capped where the scale has no end.** Every client weighs something in every quartile
  (about 7 % in the upper one at 10 peers), so a value without an upper limit shows through:
  a client whose views went from 1 to 18,261 moved the upper quartile of views growth to
  +130,080 %, which gives its growth back to within 1 %. In the figures, growth above
  :data:`GROWTH_CAP` counts as the cap: however large, it moves them by the same bounded
  amount, and a reader learns at most that someone grew by more than the cap.
* **Coarse near the edge of the scale.** Every value is at least the smallest a metric can
  be (0 % for a rate), and a weighted average is at least the smallest value in it: a lower
  quartile printed as 0.0 % would tell that the lowest clients had 0.0 %. A figure within
  :data:`EDGE_MARGIN` of the edge is therefore published as a bound only ("<0.5 %"), which
  leaves every value under it free across half a point.
* **No exact percentile rank.** A rank tells how many clients sit below you; with a figure
  near your own value it pins the clients between the two (e.g. "rank 60, median 5.1 %,
  you 5.1 %" squeezes the middle clients into [5.05 %, 5.1 %]). Instead the report gives a
  **band**: with figures shown, the band follows from your own printed value and the printed
  quartiles alone (above the upper quartile: top quarter; below the lower one: bottom
  quarter; else middle half), so it tells nothing the figures do not.
* **5 to 9 peers: the band only**, counted from the other clients' values (top quarter:
  at least three quarters of them at or below you). A band is an inequality, never a
  value, except against the edge of the scale: "top quarter" with a conversion rate of
  0.04 % would squeeze three quarters of the others into 0.00–0.04 %. So no band is given
  when your own value lies within two printed steps of the edge (:data:`METRIC_DOMAINS`);
  that decision uses only your own value, so withholding the band reveals nothing either.
* **Below 5 peers: nothing** but a sentence saying the portfolio is too small.
* **Nothing when the others are alike.** When the middle half of the other clients' values
  spans less than two printed steps (ten clients without a conversion, ten at exactly 5.0 %),
  every summary gives them back: quartiles that are a weighted average of equal values are
  that value, and the reader's own extreme value, whose weight in the estimate is known,
  leaves the rest to sum to almost nothing. Where figures would be shown, a third of the
  others within one printed step anywhere does the same (nine of twelve at 28.7 %; five of
  twelve without a click, under a lower quartile of 1.1 %): the figures that cover them, with
  the reader's own weight known, squeeze them to a step. So do two neighbouring figures
  within two printed steps of each other (a median of 1.9 % and an upper quartile of 2.0 %),
  which squeeze the clients weighing between them. The report then says the others are too
  alike to summarise, which tells nothing of where they are (the figures are the same in
  every client's report, so withholding them for being close is the same in every report).

What remains
------------
The figures are statements about the group (a lower quartile under 0.5 % says that a fair
share of clients converted almost nothing, without saying which or how little). Clients
who pool their own values learn more about the rest than one client alone; the figures
are the same in all their reports, which removes the easiest comparison, but a coalition
of most of the portfolio is out of scope.

How it is checked
-----------------
``tests/support/disclosure.py`` is the attacker: for every other client's sorted position
it solves linear programmes over everything a report prints (the figures as weighted sums
within their rounding, the band as a count at or below the reader's own value, the metric's
range) and fails the test when any value is pinned to within ±0.1 point. It runs on
synthetic portfolios of 2 to 15 clients and on real reports of cut-down demo warehouses;
against the earlier design (interpolated quartiles and exact ranks) it wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import mstats

from quire.metrics.engagement import ratio, rates
from quire.warehouse.client_queries import PORTFOLIO_COLUMNS

PORTFOLIO_METRICS = ("ctr", "conversion_rate", "engagement_rate", "views_growth")
MIN_PEERS_FIGURES = 10  # other clients needed before the portfolio's median and quartiles are shown
MIN_PEERS_BAND = 5      # other clients needed before the client's band is shown
FIGURE_DECIMALS = 3     # fractions to 3 decimals = percentages to 0.1 point, as the report prints them
STEP = 10.0 ** -FIGURE_DECIMALS
EDGE_MARGIN = 5 * STEP  # a figure closer than this to the edge of its scale is published as a bound (see above)
QUARTILES = (0.25, 0.5, 0.75)
TOP, MIDDLE, BOTTOM = "Top quarter", "Middle half", "Bottom quarter"
#: Views growth above this (+300 %) counts as this in the portfolio's figures (see "Capped" above).
GROWTH_CAP = 3.0
#: The range a metric's values take in the figures. A value at the edge of its range pins what is squeezed
#: against it. The top of a metric in :data:`CAPPED` is a cap, not a limit: values above it count as the cap.
METRIC_DOMAINS: dict[str, tuple[float, float]] = {
    "ctr": (0.0, 1.0), "conversion_rate": (0.0, 1.0), "engagement_rate": (0.0, 1.0), "views_growth": (-1.0, GROWTH_CAP),
}
CAPPED = frozenset({"views_growth"})
ALIKE_SPREAD = 2 * STEP  # the other clients' middle half, or two neighbouring figures, closer than this: too alike
BLOCK_SPREAD = STEP      # a third of them anywhere narrower than this: too alike as well, where figures would be shown
COLUMNS = ["metric", "value", "peers", "shown", "p25", "p50", "p75", "p25_bound", "p50_bound", "p75_bound", "band",
           "withheld"]
#: Why a row shows less than the figures: the reader has no value of their own, too few other clients,
#: other clients too alike to summarise, or the reader's value too close to the edge of the scale for a band.
WITHHELD = ("no_value", "few_peers", "alike", "edge")


#: The portfolio's per-client sums, as the one query across clients returns them.
SUM_COLUMNS = PORTFOLIO_COLUMNS


def without_own(everyone: pd.DataFrame, own: Mapping[str, int]) -> pd.DataFrame:
    """The portfolio's per-client sums without the client's own row (``own``: its sums, same columns).

    The batch engine reads the sums of every client once per period; each client's run then
    drops the one row equal to its own sums (a client without views in the period has none).
    Rows carry no client column, so equality of the sums is what identifies the row; if two
    clients had identical sums, dropping either leaves the same multiset.
    """
    if own.get("views", 0) <= 0:
        return everyone.reset_index(drop=True)
    # previous_views may be missing (a client without a whole previous period): missing matches missing.
    mine = pd.Series({c: own[c] for c in SUM_COLUMNS}, dtype="float64").fillna(-1)
    match = (everyone[list(SUM_COLUMNS)].astype("float64").fillna(-1) == mine).all(axis=1)
    if not match.any():
        raise ValueError("the client's own sums are not among the portfolio's: the batch's data is not this warehouse's")
    return everyone.drop(index=match.idxmax()).reset_index(drop=True)


def portfolio_metrics(sums: pd.DataFrame) -> pd.DataFrame:
    """Rates and ``views_growth`` (views ÷ previous_views − 1, NaN without previous views) per anonymous row."""
    out = rates(sums)
    out["views_growth"] = ratio(out["views"], out["previous_views"]) - 1
    return out


def published(value: float) -> float:
    """``value`` rounded as the report prints it (a fraction to 0.1 percentage point)."""
    return round(float(value), FIGURE_DECIMALS)


def portfolio_figures(values: Sequence[float], metric: str = "") -> list[tuple[float, str]]:
    """Lower quartile, median and upper quartile of ``values`` (Harrell–Davis) as published: (figure, bound) each.

    A figure is rounded to the printed precision and ``bound`` is "". One within
    :data:`EDGE_MARGIN` of the edge of the metric's scale is published as a bound instead: the
    figure is the edge plus (minus) the margin and ``bound`` is "<" (">"), printed "<0.5%".
    """
    low, high = METRIC_DOMAINS.get(metric, (-math.inf, math.inf))
    estimates = np.asarray(mstats.hdquantiles(np.asarray(values, dtype=float), prob=QUARTILES), dtype=float)
    out = []
    for v in estimates:
        if v < low + EDGE_MARGIN:
            out.append((published(low + EDGE_MARGIN), "<"))
        elif v > high - EDGE_MARGIN:
            out.append((published(high - EDGE_MARGIN), ">"))
        else:
            out.append((published(v), ""))
    return out


def band_from_figures(value: float, figures: Sequence[tuple[float, str]]) -> str | None:
    """The band of ``value`` read off the published quartiles (from the printed value, as a reader would).

    None when a quartile published as a bound leaves it open (0.3 % against a lower quartile "<0.5%").
    """
    shown = published(value)
    (low, low_bound), _, (high, high_bound) = figures
    if shown > high:
        return None if high_bound == ">" else TOP
    if shown < low:
        return None if low_bound == "<" else BOTTOM
    return MIDDLE


def band_from_peers(value: float, peers: Sequence[float]) -> str:
    """The band of ``value`` among the other clients' values.

    Top quarter: at least three quarters of them at or below ``value``; bottom quarter: at
    least three quarters at or above it; otherwise (and when both hold, i.e. ties) the middle half.
    """
    others = np.asarray(peers, dtype=float)
    need = 0.75 * len(others)
    at_or_below, at_or_above = np.count_nonzero(others <= value), np.count_nonzero(others >= value)
    if at_or_below >= need and at_or_above < need:
        return TOP
    if at_or_above >= need and at_or_below < need:
        return BOTTOM
    return MIDDLE


def clear_of_edges(value: float, metric: str) -> bool:
    """Whether ``value`` lies more than two printed steps inside the metric's range (see the module docstring).

    A band against the edge squeezes three quarters of the others between the edge and ``value``:
    within two steps (0.2 point) that pins them to the printed precision either way.
    """
    low, high = METRIC_DOMAINS.get(metric, (-math.inf, math.inf))
    if metric in CAPPED:  # a cap is no edge: the values counted as the cap may be anything above it
        high = math.inf
    return low + 2 * STEP < value < high - 2 * STEP


def too_alike(others: Sequence[float]) -> bool:
    """Whether the other clients' values are too alike to summarise (see the module docstring).

    Ten clients without a conversion, or ten at exactly 5.0 %: any summary of them (quartiles,
    or a band read against your own value) then gives each one back, so nothing is shown when
    the middle half spans less than :data:`ALIKE_SPREAD`. Where figures would be shown, a third
    of the values within :data:`BLOCK_SPREAD` anywhere does too (nine of twelve at 28.7 %, five of
    twelve without a click): the weighted averages that cover them, with the reader's own weight
    known, pin them. Saying so tells that the others are alike, never where they are.
    """
    values = np.sort(np.asarray(others, dtype=float))
    q25, q75 = np.quantile(values, [0.25, 0.75])
    if q75 - q25 < ALIKE_SPREAD:
        return True
    if len(values) < MIN_PEERS_FIGURES:
        return False
    third = math.ceil(len(values) / 3)
    return bool((values[third - 1:] - values[:len(values) - third + 1] < BLOCK_SPREAD).any())


def crowded(figures: Sequence[tuple[float, str]]) -> bool:
    """Whether two neighbouring published figures (:func:`portfolio_figures`) lie closer than :data:`ALIKE_SPREAD`.

    The clients weighing between two figures that close are squeezed between them to the printed precision,
    however wide the middle half is (see the module docstring).
    """
    values = [f for f, _ in figures]
    return any(b - a < ALIKE_SPREAD - STEP / 2 for a, b in zip(values, values[1:], strict=False))


def _finite(value) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def comparable(peers: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """The rows of ``peers`` (:func:`portfolio_metrics`) with a finite value of every one of ``metrics``: the one group
    every metric is compared with (see "One group for every metric" above)."""
    values = peers.reindex(columns=list(metrics)).astype("float64").to_numpy()
    return peers.loc[np.isfinite(values).all(axis=1)].reset_index(drop=True)


def compare(metric: str, value: float | None, peers: Sequence[float], *, with_own: bool = True) -> dict:
    """One metric's row of :func:`standing` (see there); ``with_own=False`` leaves the reader's value out of the
    figures (a reader outside the group)."""
    low, high = METRIC_DOMAINS.get(metric, (-math.inf, math.inf))
    others = [min(max(float(v), low), high) for v in peers if v is not None and math.isfinite(float(v))]
    row = {"metric": metric, "value": value, "peers": len(others), "shown": "none", "p25": math.nan, "p50": math.nan,
           "p75": math.nan, "p25_bound": "", "p50_bound": "", "p75_bound": "", "band": None, "withheld": None}
    if value is None:
        return row | {"withheld": "no_value"}
    value = min(max(value, low), high)  # as the others' are; the row keeps the reader's own value as it is
    if len(others) < MIN_PEERS_BAND:
        return row | {"withheld": "few_peers"}
    if too_alike(others):
        return row | {"withheld": "alike"}
    if len(others) >= MIN_PEERS_FIGURES:
        figures = portfolio_figures([*others, value] if with_own else others, metric)
        if crowded(figures):
            return row | {"withheld": "alike"}
        row.update({f"p{q}": f for q, (f, _) in zip((25, 50, 75), figures, strict=True)})
        row.update({f"p{q}_bound": b for q, (_, b) in zip((25, 50, 75), figures, strict=True)})
        row.update(shown="figures", band=band_from_figures(value, figures))
    elif clear_of_edges(value, metric):
        row.update(shown="band", band=band_from_peers(value, others), withheld="few_peers")
    else:
        row.update(withheld="edge")
    return row


def standing(own: Mapping[str, float | None], peers: pd.DataFrame,
             metrics: Sequence[str] = PORTFOLIO_METRICS, grouped_on: Sequence[str] | None = None) -> pd.DataFrame:
    """The client's standing among the other clients, per metric, in a form safe to publish.

    ``own`` maps a metric to the client's value; ``peers`` holds one anonymous row per *other*
    client with a column per metric (:func:`portfolio_metrics`; NaN where a client has no
    value). Every metric is compared with the same group, the rows of ``peers`` with a value of
    each metric of ``grouped_on`` (default: ``metrics``; leave out one nobody can have, such as
    growth in the data's first period); the reader's own value counts in the figures only if
    the reader has each of them as well. Columns: metric; value (the client's own); peers (other clients with a value);
    shown — ``figures`` (quartiles and band), ``band`` (band only) or ``none``; p25, p50, p75
    (rounded Harrell–Davis quartiles over the other clients and the client, NaN unless
    ``figures``) and p25_bound, p50_bound, p75_bound ("<" or ">" where the figure is a bound
    near the edge of the scale, see :func:`portfolio_figures`; else ""); band (top quarter,
    middle half, bottom quarter, or None); withheld (why less than the figures is shown, one of
    :data:`WITHHELD`, or None).
    """
    grouped_on = metrics if grouped_on is None else grouped_on
    group = comparable(peers, grouped_on)
    member = all(_finite(own.get(metric)) is not None for metric in grouped_on)
    rows = []
    for metric in metrics:
        values = group[metric].to_numpy(dtype=float) if metric in group else np.array([])
        rows.append(compare(metric, _finite(own.get(metric)), values, with_own=member))
    return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["ALIKE_SPREAD", "BLOCK_SPREAD", "BOTTOM", "EDGE_MARGIN", "FIGURE_DECIMALS", "METRIC_DOMAINS", "MIDDLE", "MIN_PEERS_BAND", "MIN_PEERS_FIGURES",
           "PORTFOLIO_METRICS", "QUARTILES", "STEP", "TOP", "band_from_figures", "band_from_peers", "clear_of_edges",
           "comparable", "compare", "crowded", "portfolio_figures", "portfolio_metrics", "published", "standing", "too_alike", "WITHHELD"]
