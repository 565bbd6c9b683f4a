"""Charts of the experiment report: rates with intervals, lift forest plots, CUPED intervals, power curves.

Every chart takes plain frames (already computed by :mod:`quire.metrics.experiments` and
the report) and returns a :class:`~quire.display.Chart` whose alt text states the
numbers a sighted reader takes from it. Differences are treatment − control; rates and
rate differences are fractions (0.025 = 2.5 % or +2.5 pts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from matplotlib.text import Annotation
from matplotlib.ticker import MaxNLocator

from quire.chart_style import to_chart
from quire.charts import BAD, GOOD, HALF, NEUTRAL, WIDE, keep_edge_labels_apart, palette, panel_wspace, percent_axis
from quire.display import Chart
from quire.figure_pool import subplots
from quire.formatting import number, percent, percentage_points
from quire.formatting.numbers import not_zero
from quire.metrics.experiment_format import rate_places
from quire.metrics.experiment_measure import current as current_measure

Formatter = Callable[[float], str]
ROW_HEIGHT = 0.42  # inches per interval row: keeps 2- and 4-variant charts equally airy
LABEL_PAD = 0.1  # the white box behind a value label reaches this share of its font size past the text
POWER_HEIGHT = 2.6  # inches: the power chart shares its row with a table, and a shorter row fits more pages


def pct(rate: float, decimals: int = 1) -> str:
    """0.1234 → "12.3%"."""
    return percent(rate, decimals)


def pts(diff: float, decimals: int = 1) -> str:
    """0.014 → "+1.4 pts" (typographic minus for losses, no sign for zero), with ``decimals`` or the more that keep a
    difference that is not 0 from reading "0.0 pts" (0.0004 → "+0.04 pts"): a lift of 0.0 reads as no lift at all."""
    return not_zero(lambda d: percentage_points(diff, d), diff, decimals)


def amount(value: float, signed: bool = True) -> str:
    """A per-user amount of the experiment's measure: 2.834 → "+$2.83" (small, so cents are kept), or "+2.83"."""
    return current_measure().format(value, signed=signed)


def bound(value: float, metric: str = "conversion", decimals: int | None = None) -> str:
    """One end of an interval of differences ("+0.6 pts", "−$1.10"), with the decimals that keep one just past
    zero from reading "0.0": on which side of zero an interval lies is what the reader looks for. At least
    ``decimals`` decimals when given (else a point's one, the measure's own)."""
    if metric == "conversion":
        return not_zero(lambda d: percentage_points(value, d), value, 1 if decimals is None else decimals)
    measure = current_measure()
    return not_zero(lambda d: measure.format(value, d, signed=True), value,
                    measure.decimals if decimals is None else decimals)


def interval_text(low: float, high: float, metric: str, decimals: int | None = None) -> str:
    """An interval of differences: "+0.6 to +2.2 pts" / "−$1.10 to +$3.40"; its bounds with at least ``decimals``
    (those of the estimate it is written beside, see :func:`bound`)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not defined"
    return f"{bound(low, metric, decimals).removesuffix(' pts')} to {bound(high, metric, decimals)}"


def signed(value: float, decimals: int = 2) -> str:
    """+0.06 / −0.12 / 0.00: the sign of the rounded value, typographic minus."""
    return number(value, decimals, signed=True)


def _height(rows: int, extra: float = 1.0) -> float:
    return max(1.7, extra + ROW_HEIGHT * rows)


def _intervals(ax, labels: Sequence[str], est: np.ndarray, low: np.ndarray, high: np.ndarray,
               colors: Sequence[str], fmt: Formatter, *, interval_fmt: Formatter | None = None) -> list[Annotation]:
    """Horizontal point-and-interval rows, first label on top, each annotated with its value and interval; the
    value labels, centred on their points, to be kept inside the axes by :func:`_labels_inside` once its limits
    are final.

    Rows with a NaN estimate are left empty (the control in a lift panel). Caps are sized in
    points, not data units, so the value label above a row never touches its interval.
    """
    interval_fmt = interval_fmt or fmt
    y = np.arange(len(labels))[::-1]
    written = []
    for yi, e, lo, hi, c in zip(y, est, low, high, colors, strict=True):
        if not np.isfinite(e):
            continue
        ax.errorbar([e], [yi], xerr=[[e - lo], [hi - e]], fmt="o", color=c, markersize=6.5, elinewidth=2.4,
                    capsize=4, capthick=1.3)
        # On a white ground: the label often sits over the dashed zero line and the grid.
        box = {"boxstyle": f"square,pad={LABEL_PAD}", "facecolor": "white", "edgecolor": "none"}
        written.append(ax.annotate(f"{fmt(e)}  ({interval_fmt(lo)} to {interval_fmt(hi)})", (e, yi), xytext=(0, 8),
                                   textcoords="offset points", ha="center", va="bottom", fontsize=8, color="#1f2933",
                                   bbox=box))
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(labels) - 0.2)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.tick_params(axis="y", length=0)
    span = float(np.nanmax(high) - np.nanmin(low)) or 1.0
    # Room either side for the centred labels, which are wider than most intervals.
    ax.set_xlim(float(np.nanmin(low)) - 0.3 * span, float(np.nanmax(high)) + 0.3 * span)
    return written


def _labels_inside(ax, labels: Sequence[Annotation]) -> None:
    """Anchor each of ``labels`` (value labels centred above their points) that would stick out of a side of ``ax``
    at its point instead, running inwards. An axis the chart caps (a rate at 0 %, whatever room the labels wanted)
    put "7.3% (3.9% to 13.2%)" half left of the plot, struck through by the axis line. Call once the axes' limits
    and the panels' places are final: they move the labels."""
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    for label in labels:
        # The text with the white box behind it, which reaches LABEL_PAD of the font size further (the box itself is
        # only placed when drawn).
        box = label.get_window_extent(renderer).padded(LABEL_PAD * label.get_fontsize() * ax.figure.dpi / 72)
        if box.x0 < inside.x0:
            label.set_horizontalalignment("left")
        elif box.x1 > inside.x1:
            label.set_horizontalalignment("right")


def _within(ticks: Sequence[float], low: float, high: float) -> list[float]:
    """The ``ticks`` from ``low`` to ``high`` (a hair of float error allowed)."""
    return [float(t) for t in ticks if low - 1e-9 <= t <= high + 1e-9]


def _zero_line(ax) -> None:
    ax.axvline(0, color="#52606d", linewidth=1.0, linestyle="--", zorder=0)
    lo, hi = ax.get_xlim()
    ax.set_xlim(min(lo, -0.05 * (hi - lo)), max(hi, 0.05 * (hi - lo)))  # 0 always visible, with a margin


def _effect_color(significant: bool, diff: float) -> str:
    return (GOOD if diff > 0 else BAD) if significant else NEUTRAL


def _signed_ticks(ax, scale: float = 1.0, *, measure_units: bool = False, signed: bool = True) -> None:
    """Label the x ticks of a difference axis "−1", "0", "+0.5" (in the measure's units, "+$0.50", with
    ``measure_units``).

    The decimals follow the tick step, so a step of 0.5 never prints two ticks as "+1".
    Ticks are fixed first: the labels are computed for exactly these positions.
    """
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    while True:
        labels = _tick_labels(ticks, scale, measure_units, signed)
        # Long labels ("+$0.00015", a fraction of a cent) ran into each other: every other tick goes, the one at
        # 0 kept, until they fit the axis with a gap.
        if len(ticks) <= 3 or _text_width(ax, labels) <= 0.75 * ax.get_position().width * ax.figure.get_figwidth():
            break
        zero = min(range(len(ticks)), key=lambda i: abs(ticks[i]))
        ticks = ticks[zero % 2::2]
    ax.set_xticks(ticks, labels)


def _tick_labels(ticks: list[float], scale: float, measure_units: bool, signed: bool) -> list[str]:
    """The labels of evenly spaced ``ticks``, with the decimals their step needs (a step of 0.5 never prints two "+1")."""
    step = abs(ticks[1] - ticks[0]) * scale if len(ticks) > 1 else 1.0
    decimals = max(0, -int(np.floor(np.log10(step)))) if step > 0 else 0
    if round(step, decimals) != round(step, decimals + 1):  # e.g. a step of 0.25
        decimals += 1

    def label(v: float) -> str:
        if measure_units:
            return current_measure().format(v * scale, decimals, signed=signed)
        return number(v * scale, decimals, signed=signed)
    return [label(t) for t in ticks]


def _text_width(ax, labels: list[str]) -> float:
    """The labels' summed width in inches at the axis' tick size, measured as a character of 0.6 em (no drawing)."""
    size = ax.xaxis.get_major_ticks()[0].label1.get_fontsize() if ax.xaxis.get_major_ticks() else 8.0
    return sum(len(text) for text in labels) * size * 0.6 / 72


def conversion_panels(table: pd.DataFrame, comparisons: pd.DataFrame, level: float, *, adjusted_label: str = "",
                      places: int | None = None) -> Chart:
    """Two panels on the same variant rows: the conversion rate with its interval, and the lift over the control.

    ``table`` is :func:`conversion_by_variant` (control first), ``comparisons`` the conversion
    rows of :func:`pairwise_vs_control`. Lift intervals are green/red when significant
    (after adjustment), grey otherwise; the dashed line marks "no difference". Every rate, lift and bound is
    written with ``places`` decimals, the report's for its conversion figures
    (:func:`~quire.metrics.experiment_format.rate_places`; by default the rule it follows, for these rows).
    """
    labels = table["variant"].astype(str).tolist()
    fig, (left, right) = subplots(1, 2, figsize=(WIDE[0], _height(len(table), 1.15)), sharey=True)
    fig.subplots_adjust(wspace=panel_wspace(fig))
    rate_colors = [NEUTRAL if c else palette()[0] for c in table["is_control"]]
    if places is None:  # the report's rule, read off the rates drawn
        rates = dict(zip(labels, table["rate"].astype(float), strict=True))
        control = float(table["rate"].iloc[0])
        places = rate_places([{"metric": "conversion", "variant": r.variant, "control_value": control,
                               "treatment_value": rates[str(r.variant)], "diff": r.diff, "ci_low": r.ci_low,
                               "ci_high": r.ci_high} for r in comparisons.itertuples()]) or 1
    rate_fmt: Formatter = lambda v: pct(v, places)
    lift_fmt: Formatter = lambda v: pts(v, places)
    rate_labels = _intervals(left, labels, table["rate"].to_numpy(float), table["rate_ci_low"].to_numpy(float),
                             table["rate_ci_high"].to_numpy(float), rate_colors, rate_fmt)
    percent_axis(left, "x")
    left.set_xlim(left=max(0.0, left.get_xlim()[0]))
    # A rate is at most 100% and a lift at most ±100 pts: the axes run past them only to fit the labels, and have no
    # tick there (0/3 against 3/3 drew ticks at 120%).
    left.set_xticks(_within(left.get_xticks(), 0.0, 1.0))
    left.set_xlabel(f"Conversion rate ({percent(level, 0)} CI)")
    cmp = comparisons.set_index("variant").reindex(labels)  # control row: NaN, drawn empty
    lift_colors = [_effect_color(bool(s) if s == s else False, d) for s, d in zip(cmp["significant"], cmp["diff"], strict=True)]
    lift_labels = _intervals(right, labels, cmp["diff"].to_numpy(float), cmp["ci_low"].to_numpy(float),
                             cmp["ci_high"].to_numpy(float), lift_colors, lift_fmt,
                             interval_fmt=lambda v: bound(v, decimals=places).removesuffix(" pts"))
    _zero_line(right)
    lo, hi = right.get_xlim()
    left_half = (0 - lo) < (hi - lo) / 2  # write the note on the side of the zero line that has room
    right.annotate("control = 0", (0, len(labels) - 1), xytext=(4 if left_half else -4, 0), textcoords="offset points",
                   va="center", ha="left" if left_half else "right", fontsize=8, color="#52606d")
    right.set_xticks(_within(right.get_xticks(), -1.0, 1.0))
    _signed_ticks(right, 100)
    right.set_xlabel(f"Lift over control (pts, {percent(level, 0)} CI)")
    right.tick_params(axis="y", left=False)
    keep_edge_labels_apart(fig, left, right)
    _labels_inside(left, rate_labels)
    _labels_inside(right, lift_labels)
    rows = comparisons.itertuples()
    alt = (f"Two-panel interval chart. Left: conversion rate per variant with {percent(level, 0)} confidence intervals — "
           + "; ".join(f"{r.variant} {rate_fmt(r.rate)} ({rate_fmt(r.rate_ci_low)} to {rate_fmt(r.rate_ci_high)})"
                       for r in table.itertuples())
           + ". Right: lift of each treatment over the control in percentage points, with a line at zero — "
           + "; ".join(f"{r.variant} {lift_fmt(r.diff)} ({interval_text(r.ci_low, r.ci_high, 'conversion', places)}, "
                       f"{'significant' if r.significant else 'not significant'}{adjusted_label})" for r in rows))
    return to_chart(fig, alt + ".")


def cuped_intervals(frame: pd.DataFrame, level: float) -> Chart:
    """The difference in the measure per user (revenue unless said otherwise) per treatment before and after CUPED,
    as two intervals each.

    ``frame`` has one row per (treatment, method): ``variant``, ``method`` ("Unadjusted" or
    "CUPED"), ``diff``, ``ci_low``, ``ci_high``.
    """
    colors = palette()
    shade = {"Unadjusted": NEUTRAL, "CUPED": colors[0]}
    labels = [f"{r.variant} · {r.method}" if frame["variant"].nunique() > 1 else str(r.method) for r in frame.itertuples()]
    fig, ax = subplots(figsize=(WIDE[0] * 0.8, _height(len(frame), 1.0)))
    written = _intervals(ax, labels, frame["diff"].to_numpy(float), frame["ci_low"].to_numpy(float),
                         frame["ci_high"].to_numpy(float), [shade[m] for m in frame["method"]], amount,
                         interval_fmt=lambda v: bound(v, "revenue"))
    _zero_line(ax)
    _signed_ticks(ax, 1, measure_units=True)
    _labels_inside(ax, written)
    ax.set_xlabel(f"{current_measure().title}: treatment − control ({percent(level, 0)} CI)")
    alt = (f"Interval chart comparing the unadjusted and the CUPED-adjusted difference in {current_measure().per_user}, with "
           f"{percent(level, 0)} confidence intervals and a reference line at zero: " + "; ".join(
               f"{lab} {amount(r.diff)} ({interval_text(r.ci_low, r.ci_high, 'revenue')}, width {amount(r.ci_high - r.ci_low, False)})"
               for lab, r in zip(labels, frame.itertuples(), strict=True)))
    return to_chart(fig, alt + ".")


def power_curves(curves: pd.DataFrame, marks: pd.DataFrame, target: float, *, measure_units: bool = False) -> Chart:
    """Power against the size of the true effect at the experiment's sample, per treatment.

    ``curves``: ``variant``, ``effect`` (units: rate difference, or the measure's with ``measure_units``), ``power``;
    ``marks``: one row per treatment with ``variant``, ``mde`` and ``observed`` (|effect| in
    units). The dashed line is the target power; where a curve crosses it is the minimum
    detectable effect. The observed effect is a dotted vertical line for comparison, with no
    power of its own: the "achieved" power of an observed effect only restates its p-value.
    """
    fmt: Formatter = (lambda v: amount(v, False)) if measure_units else (lambda v: pts(v).lstrip("+"))
    colors = palette()
    fig, ax = subplots(figsize=(HALF[0], POWER_HEIGHT))
    several = curves["variant"].nunique() > 1
    for i, (variant, g) in enumerate(curves.groupby("variant", sort=False)):
        ax.plot(g["effect"], g["power"], color=colors[i % len(colors)], linewidth=2, label=str(variant) if several else None)
    for i, m in enumerate(marks.itertuples()):
        c = colors[i % len(colors)]
        if pd.notna(m.mde):
            ax.plot([m.mde], [target], marker="o", color=c, markersize=6)
        ax.axvline(m.observed, color=c, linewidth=1.3, linestyle=":")
    ax.axhline(target, color="#52606d", linewidth=1.0, linestyle="--")
    ax.annotate(f"target {percent(target, 0)}", (ax.get_xlim()[1], target), xytext=(-2, 3), textcoords="offset points",
                ha="right", va="bottom", fontsize=8, color="#52606d")
    percent_axis(ax, "y")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0, right=max(curves["effect"].max(), marks["observed"].max() * 1.05))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))  # half-width chart: few, round ticks
    _signed_ticks(ax, 1 if measure_units else 100, measure_units=measure_units, signed=False)
    ax.set_xlabel(f"True effect ({current_measure().axis_unit if measure_units else 'pts'})")
    ax.set_ylabel("Power")
    if several:
        ax.legend(loc="best", frameon=False, fontsize=8)  # clear of the curves and the dotted observed effects
    alt = (f"Line chart of statistical power against the size of the true effect at this experiment's sample size; "
           f"the dashed line marks the {percent(target, 0)} target. " + "; ".join(
               (f"{m.variant}: reaches {percent(target, 0)} power at {fmt(m.mde)} (the minimum detectable effect)"
                if pd.notna(m.mde) else f"{m.variant}: stays below {percent(target, 0)} power for every possible effect")
               + f"; the observed effect, {fmt(m.observed)}, is a dotted line"
               for m in marks.itertuples()))
    dot = (f"Dot: the minimum detectable effect ({percent(target, 0)} power). " if marks["mde"].notna().any() else "")
    caption = f"{dot}Dotted line: the observed effect's size."
    return to_chart(fig, alt + ".", caption)
