"""Charts of the client (white-label) report: data in, :class:`~quire.display.Chart` out.

Colours come from the client's brand (``chart_style.use_brand``); the previous period is
drawn in a neutral grey so the brand colour always means "this period". Every chart
gets alt text that states what it shows and its key figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from quire.chart_style import to_chart
from quire.charts import BAD, keep_edge_labels_apart, label_width, palette, panel_wspace, percent_axis
from quire.display import Chart
from quire.figure_pool import expect, subplots
from quire.formatting import compact, counted, format_day, number, percent
from quire.metrics.peers import PORTFOLIO_METRICS, published

PREVIOUS = "#a3acb9"  # the previous period: context, not the story
NOTE = "#52606d"  # what a chart says in words, and medians: a grey that reads (6.4:1 on white)
PANEL_MEASURES = {"views": "Views", "clicks": "Clicks", "engagements": "Engagements"}


def _count(v: float, _=None) -> str:
    """Short counts for axes and labels: 950, 1.2k, 3.4M (in the run's locale)."""
    return compact(v, "decimal")


def engagement_over_time(current: pd.DataFrame, previous: pd.DataFrame | None, *, current_label: str,
                         previous_label: str, freq: str, period_kind: str = "month",
                         measures: dict[str, str] = PANEL_MEASURES) -> Chart:
    """Small multiples, one per measure: this period's per-day values against the previous period's.

    ``current`` and ``previous`` come from :func:`quire.metrics.engagement.time_series`
    (``step`` aligns them: day 1 with day 1, week 1 with week 1). The x axis speaks the
    period's language (:func:`_time_axis`): days of the month, weeks of the quarter, months of the year.
    """
    color = palette()[0]
    fig, axes = subplots(1, len(measures), figsize=(8.6, 2.85), sharex=True)
    for ax, (measure, title) in zip(np.atleast_1d(axes), measures.items(), strict=True):
        if previous is not None and not previous.empty:
            ax.plot(previous["step"] + 1, previous[measure], color=PREVIOUS, linewidth=1.4, linestyle="--",
                    label=previous_label)
        ax.plot(current["step"] + 1, current[measure], color=color, linewidth=2.0, label=current_label)
        ax.set_title(f"{title} per day", loc="left", fontsize=10)
        ax.yaxis.set_major_formatter(FuncFormatter(_count))
        # A day's value is a count (no tick at 1.5 clicks); weekly averages of them may fall between.
        ax.yaxis.set_major_locator(MaxNLocator(4, integer=freq == "day"))
        highest = max(current[measure].max(), previous[measure].max() if previous is not None and not previous.empty else 0)
        # Nothing but zeros: an axis from 0 to 1, not ticks at fractions of 0 that all read "0.0", and a flat line
        # that says so (a client without a click saw an empty panel and a sentence about views only).
        ax.set_ylim(0, None if highest > 0 else 1)
        if not highest > 0:
            compared_too = f" or {previous_label}" if previous is not None and not previous.empty else ""
            ax.text(0.5, 0.55, f"No {title.lower()} in\n{current_label}{compared_too}", transform=ax.transAxes,
                    ha="center", va="center", fontsize=8.5, color=NOTE)
        _time_axis(ax, current, period_kind, averaged=freq != "day")
        ax.margins(x=0.02)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="upper center", ncol=2, frameon=False, bbox_to_anchor=(0.5, 1.0))
    # Fixed spacing in inches (room for the legend, the titles and labels such as "12.5k"): the chart
    # is then drawn once, not laid out by tight_layout and a tight bounding box first (see to_chart).
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.065, right=0.982, bottom=0.6 / height, top=1 - 0.52 / height, wspace=0.3)
    compared = previous is not None and not previous.empty
    parts = []
    for measure, title in measures.items():
        text = f"{title.lower()} averaged {_count(_per_day(current, measure))} a day"
        if compared and _per_day(previous, measure) > 0:
            text += f" against {_count(_per_day(previous, measure))} in {previous_label}"
        parts.append(text)
    step = "day" if freq == "day" else "week (7-day averages)"
    alt = (f"Line charts of views, clicks and engagements per day in {current_label}, by {step}"
           + (f", with {previous_label} dashed for comparison" if compared else "") + ": " + "; ".join(parts) + ".")
    return to_chart(fig, alt, fixed_layout=True)


def _per_day(series: pd.DataFrame, measure: str) -> float:
    """The period's average per day of a :func:`~quire.metrics.engagement.time_series`: its points weighted by their
    days (a quarter's last block holds 8, and the plain mean of the points would count its days for less)."""
    return float(np.average(series[measure], weights=series["days"]))


def _time_axis(ax, current: pd.DataFrame, period_kind: str, *, averaged: bool = False) -> None:
    """Ticks and label for the x axis (positions are ``step + 1``) in the period's own units.

    ``averaged``: the points are weekly averages of the daily values, which the label says
    (there, not in the panel titles, which would run into the next panel).
    """
    suffix = ", weekly averages" if averaged else ""
    if period_kind == "month":
        last = int(current["step"].max()) + 1
        ax.set_xticks([d for d in (1, 8, 15, 22, 29) if d <= last])
        ax.set_xlabel("Day of the month", fontsize=8.5)
    elif period_kind == "quarter":
        ax.set_xticks(range(1, int(current["step"].max()) + 2, 2))
        ax.set_xlabel(f"Week of the quarter{suffix}", fontsize=8.5)
    else:
        # A year's 52 weekly points: mark where each month starts, in block units.
        start = pd.Timestamp(current["date"].iloc[0])
        months = pd.date_range(start, periods=12, freq="MS")
        ax.set_xticks([1 + (m - start).days / 7 for m in months][::2], [format_day(m, "month_abbr") for m in months][::2])
        ax.set_xlabel(f"Month{suffix}", fontsize=8.5)


def breakdown_bars(frame: pd.DataFrame, *, label: str = "label", dimension: str) -> Chart:
    """Two panels sharing the categories: views (volume) and conversion rate (quality) per ``dimension`` value.

    ``frame`` is a :func:`~quire.metrics.engagement.breakdown` with a display ``label`` column.
    """
    colors = palette()
    # A platform with clicks but no views (its impressions withheld) still has a conversion rate to draw.
    data = frame.loc[(frame["views"] > 0) | (frame["clicks"] > 0)].sort_values("views", ascending=True, kind="stable")
    names = data[label].astype(str).tolist()
    height = 0.9 + 0.42 * len(names)
    fig, (left, right) = subplots(1, 2, figsize=(8.0, height), sharey=True)
    # Laid out in inches (drawn once, see to_chart): the names' column, the titles above, the ticks below,
    # the gap between the panels.
    fig.subplots_adjust(left=(label_width(names) + 0.2) / 8.0, right=1 - 0.12 / 8.0, top=1 - 0.34 / height,
                        bottom=0.36 / height)
    fig.subplots_adjust(wspace=panel_wspace(fig))
    left.barh(names, data["views"], color=colors[0], height=0.62)
    for y, v in enumerate(data["views"]):
        left.annotate(_count(v), (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8.5)
    left.set_xlim(0, max(float(data["views"].max()) * 1.25, 1))
    left.set_title("Views", loc="left", fontsize=10)
    rates = data["conversion_rate"].fillna(0)
    right.barh(names, rates, color=colors[1], height=0.62)
    for y, (r, conv, clicks) in enumerate(zip(data["conversion_rate"], data["conversions"], data["clicks"], strict=True)):
        # The counts beside the rate: 2 of 9 clicks is not the evidence 200 of 900 is.
        text = "no clicks" if clicks == 0 else f"{percent(r, 1)} ({number(conv)} of {number(clicks)})"
        right.annotate(text, (0 if pd.isna(r) else r, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8.5)
    right.set_xlim(0, max(float(rates.max()) * 1.75, 0.01))
    percent_axis(right, "x")
    # Short enough for the panel beside a long column of names (the section's lead defines the rate).
    right.set_title("Conversion rate (per click)", loc="left", fontsize=10)
    for ax in (left, right):
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", visible=True)
        ax.xaxis.set_major_locator(MaxNLocator(4))
    left.xaxis.set_major_locator(MaxNLocator(4, integer=True))  # views are counted: no 0.5-view ticks for a small client
    left.xaxis.set_major_formatter(FuncFormatter(_count))
    right.tick_params(axis="y", length=0)
    # The fixed gap fits most ticks, not a views tick at the panel's very end beside "0.0%" ("80k0.0%").
    keep_edge_labels_apart(fig, left, right)
    order = data.sort_values("views", ascending=False)
    alt = f"Bar charts of views and conversion rate by {dimension}: " + "; ".join(
        f"{n} {counted(int(v), 'view')}, conversion rate {'—' if pd.isna(r) else percent(r, 1)}"
        for n, v, r in zip(order[label], order["views"], order["conversion_rate"], strict=True)) + "."
    return to_chart(fig, alt, fixed_layout=True)


def health_components(components: pd.DataFrame, score: float | None) -> Chart:
    """Horizontal bars: each health component's score (0–100), weak ones (below 50) in red."""
    colors = palette()
    data = components.iloc[::-1]
    names = [f"{lab} (weight {percent(w, 0)})" for lab, w in zip(data["label"], data["weight"], strict=True)]
    values = (data["score"] * 100).to_numpy(dtype=float)
    shown = np.nan_to_num(values, nan=0.0)
    fig, ax = subplots(figsize=(6.4, 2.5))
    fig.subplots_adjust(left=(label_width(names) + 0.2) / 6.4, right=1 - 0.12 / 6.4, top=1 - 0.12 / 2.5,
                        bottom=0.62 / 2.5)  # in inches, as in breakdown_bars
    ax.barh(names, shown, color=[BAD if v < 50 else colors[0] for v in shown], height=0.6)
    for y, v in enumerate(values):
        ax.annotate("no data" if np.isnan(v) else number(v), (0 if np.isnan(v) else v, y), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8.5)
    ax.axvline(50, color="#7b8794", linewidth=0.8, linestyle=":")
    ax.set_xlim(0, 112)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlabel("Component score (0–100; below 50 is weak)", fontsize=8.5)
    headline = f"health score {number(score)} of 100" if score is not None and not np.isnan(score) else "no health score"
    alt = f"Bar chart of the {headline} by component: " + "; ".join(
        f"{lab} {'no data' if np.isnan(v) else number(v)}" for lab, v in zip(components["label"], components["score"] * 100, strict=True)) + "."
    return to_chart(fig, alt, fixed_layout=True)


def standing_ranges(frame: pd.DataFrame, *, label: str = "label_metric") -> Chart | None:
    """One strip per metric: the portfolio's middle half as a bar, its median as a tick, the client as a dot.

    ``frame`` holds the rows of :func:`quire.metrics.peers.standing` that show figures, with
    the display ``label`` and the printed texts ``you_text``, ``p25_text``, ``p50_text``,
    ``p75_text``. Positions come from the published (rounded) figures, so the image carries
    no more precision than the table; a quartile published as a bound ("<0.5%") is drawn
    hatched from the edge of the scale. None when no metric has figures.
    """
    data = frame.loc[frame["shown"] == "figures"]
    if data.empty:
        return None
    color = palette()[0]
    fig, axes = subplots(len(data), 1, figsize=(6.4, 0.2 + 0.95 * len(data)), squeeze=False)
    for ax, (_, row) in zip(axes[:, 0], data.iterrows(), strict=True):
        _standing_strip(ax, row, color, label)
    height = fig.get_figheight()  # fixed spacing in inches, as in engagement_over_time
    fig.subplots_adjust(left=0.023, right=0.954, bottom=0.39 / height, top=1 - 0.28 / height, hspace=1.25)
    alt = ("Strip charts of your value (dot) against the middle half (bar) and median (tick) of comparable clients: "
           + "; ".join(f"{row[label]}: you {row['you_text']}, median {row['p50_text']}, middle half {row['p25_text']} to "
                       f"{row['p75_text']}" for _, row in data.iterrows()) + ".")
    return to_chart(fig, alt, fixed_layout=True)


# One strip per portfolio metric with figures: spares of each of these figures for the warm server to build, as the
# rehearsal's synthetic sample has too few clients to show any (see quire.figure_pool).
for _strips in range(1, len(PORTFOLIO_METRICS) + 1):
    expect(_strips, 1, squeeze=False)


#: How far beyond the portfolio's middle half a strip's axis reaches, in widths of it: a client further out is drawn
#: at that edge as an arrowhead (its label says its figure), so that one outlier (+9,900 % growth) does not squash
#: the portfolio's range to a sliver.
STRIP_REACH = 3.0


def strip_positions(row: pd.Series) -> tuple[float, float, float, float]:
    """Where a strip draws the lower quartile, median, upper quartile and the client: each as printed (the client's
    own 1.359 % drawn unrounded sat left of a middle half printed from 1.4 %, beside a table that put it inside),
    the client no further out than :data:`STRIP_REACH` widths of the middle half."""
    low, mid, high, own = float(row["p25"]), float(row["p50"]), float(row["p75"]), published(row["value"])
    reach = STRIP_REACH * ((high - low) or abs(mid) or 0.01)
    return low, mid, high, min(max(own, low - reach), high + reach)


def _standing_strip(ax, row: pd.Series, color: str, label: str) -> None:
    """One metric's strip (see :func:`standing_ranges`)."""
    low, mid, high, own = strip_positions(row)
    beyond = "" if own == published(row["value"]) else ">" if own > high else "<"  # drawn at the edge, pointing out
    span = max(high, own) - min(low, own) or abs(mid) or 0.01
    left, right = min(low, own) - 0.25 * span, max(high, own) + 0.25 * span
    if row["metric"] != "views_growth":
        left = max(left, 0.0)  # rates start at 0 %
    ax.barh(0, high - low, left=low, height=0.42, color=PREVIOUS, alpha=0.45, linewidth=0)
    if row["p25_bound"] == "<":  # only known to lie below the printed bound: hatched down to the edge
        ax.barh(0, low - left, left=left, height=0.42, color="none", edgecolor=PREVIOUS, hatch="///", linewidth=0)
    ax.vlines(mid, -0.3, 0.3, color=NOTE, linewidth=1.6)
    ax.scatter([own], [0], s=70 if beyond else 55, color=color, zorder=3, marker=beyond or "o")
    # Beside the dot, on the side with room, so the label never runs into the title above.
    right_side = own <= (left + right) / 2
    ax.annotate(f"you {row['you_text']}", (own, 0), xytext=(8 if right_side else -8, 0), textcoords="offset points",
                ha="left" if right_side else "right", va="center", fontsize=8.5, fontweight="bold", color=color,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    ax.annotate(f"median {row['p50_text']}", (mid, 0), xytext=(0, -8), textcoords="offset points", ha="center",
                va="top", fontsize=8, color=NOTE)
    ax.set_xlim(left, right)
    ax.set_ylim(-1.1, 1.1)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.grid(False)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    percent_axis(ax, "x")
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(str(row[label]), loc="left", fontsize=9.5, pad=2)


__all__ = ["breakdown_bars", "engagement_over_time", "health_components", "standing_ranges"]
