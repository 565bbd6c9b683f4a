"""Charts of the executive report."""

from __future__ import annotations

import pandas as pd
from matplotlib.dates import MonthLocator, YearLocator
from matplotlib.ticker import MaxNLocator

from quire.chart_style import to_chart
from quire.charts import BAD, GOOD, HALF, WIDE, date_axis, legend_above, money_axis, palette, percent_axis, short_money
from quire.display import Chart
from quire.figure_pool import subplots
from quire.formatting import compact, month_year, number, percent, shares_percent, short_month_year
from quire.formatting.numbers import compact_decimals, compact_parts
from quire.periods import parse_period

INTERVAL = 0.9  # the forecast band drawn (the executive report's forecast level)


def mrr_trend(history: pd.Series, forecast: pd.DataFrame | None = None, *, highlight: pd.Timestamp | None = None) -> Chart:
    """MRR by month, with the forecast and its interval band when given."""
    colors = palette()
    fig, ax = subplots(figsize=WIDE)
    x = pd.to_datetime(history.index)
    ax.plot(x, history.values, color=colors[0], linewidth=2.2, label="MRR")
    alt = (f"Line chart of MRR by month from {month_year(x.min())} ({short_money(history.iloc[0])}) to {month_year(x.max())} "
           f"({short_money(history.iloc[-1])})")
    if forecast is not None and not forecast.empty:
        fx = pd.to_datetime(forecast["month"])
        ax.plot([x.max(), *fx], [history.iloc[-1], *forecast["forecast"]], color=colors[1], linewidth=2, linestyle="--", label="Forecast")
        ax.fill_between(fx, forecast["lower"], forecast["upper"], color=colors[1], alpha=0.18, linewidth=0, label=f"{percent(INTERVAL, 0)} interval")
        last = forecast.iloc[-1]
        alt += (f"; the forecast reaches {short_money(last['forecast'])} by {month_year(pd.Timestamp(last['month']))}"
                f" ({percent(INTERVAL, 0)} interval {short_money(last['lower'])} to {short_money(last['upper'])})")
    if highlight is not None:
        ax.axvline(highlight, color="#999999", linewidth=0.8, linestyle=":")
    money_axis(ax)
    # Monthly points: ticks on month starts only (matplotlib's own choice ticks mid-month for a short history),
    # every 1, 2, 3, 4, 6 or 12 months so that at most 8 show and each year's ticks fall on the same months.
    months = len(x) + (0 if forecast is None else len(forecast))
    step = next((k for k in (1, 2, 3, 4, 6, 12) if months / k <= 8), None)
    ax.xaxis.set_major_locator(MonthLocator(bymonth=range(1, 13, step)) if step else YearLocator(-(-months // 96)))
    date_axis(ax)
    ax.set_ylabel("MRR")
    legend_above(ax)
    ax.margins(x=0.01)
    return to_chart(fig, alt + ".")


def bridge_waterfall(bridge_frame: pd.DataFrame, title_start: str, title_end: str) -> Chart:
    """Waterfall from start MRR through each movement to end MRR.

    ``bridge_frame`` has columns ``step`` and ``amount`` (signed; first row the start, last the end).
    """
    colors = palette()
    steps = bridge_frame["step"].tolist()
    amounts = bridge_frame["amount"].astype(float).tolist()
    bottoms, heights, shades = [], [], []
    running = 0.0
    for i, amount in enumerate(amounts):
        if i in (0, len(amounts) - 1):
            bottoms.append(0.0)
            heights.append(amount)
            shades.append(colors[0])
            running = amount
        else:
            bottoms.append(running if amount >= 0 else running + amount)
            heights.append(abs(amount))
            shades.append(GOOD if amount >= 0 else BAD)
            running += amount
    fig, ax = subplots(figsize=WIDE)
    ax.bar(steps, heights, bottom=bottoms, color=shades, width=0.62)
    # One precision for every bar's label: "$98.0k" beside "$98.4k", "−$4.0k" beside "+$1.8k", not "$98k", "−$4k".
    places = max(compact_decimals(a, "currency") for a in amounts)
    # Totals in a larger unit than every move ("$1.1B", "+$133.0M", "+$48.8M", "$1.3B") do not add up on the
    # page: all in the largest move's unit instead ("$1,125.3M", "+$133.0M", "+$48.8M", "$1,307.1M").
    largest_move = max((abs(a) for a in amounts[1:-1]), default=0.0)
    unit = (largest_move if compact_parts("currency", largest_move)[1] is not None
            and max(compact_parts("currency", a)[0] for a in (amounts[0], amounts[-1]))
            > compact_parts("currency", largest_move)[0] else None)

    def label(amount: float, *, signed: bool = False) -> str:
        if unit is not None:
            return compact(amount, "currency", decimals=max(places, 1), scale_of=unit, signed=signed)
        abbreviated = compact_parts("currency", amount)[1] is not None  # "$950" stays whole
        return compact(amount, "currency", decimals=places if abbreviated else None, signed=signed)

    # A start and an end that a move sets apart must not read alike ("$1.1k" and "$1.1k" beside "+$50").
    while places < 3 and amounts[0] != amounts[-1] and label(amounts[0]) == label(amounts[-1]):
        places += 1
    for i, amount in enumerate(amounts):
        ax.annotate(label(amount, signed=i not in (0, len(amounts) - 1)), (i, bottoms[i] + heights[i]), ha="center",
                    va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    # Movements are a few percent of MRR: from zero they would be slivers. The axis starts below the
    # lowest point by half the chart's span, so the start and end bars stay clearly visible, and says so.
    low = min([amounts[0], amounts[-1], *bottoms[1:-1]])
    top = max(b + h for b, h in zip(bottoms, heights, strict=True))
    span = top - low or abs(low) * 0.1 or 1.0
    bottom = max(0.0, low - 0.5 * span)
    # Room above the tallest bar for its label, inside the axes: above them sits the "Axis starts at" note,
    # which the label of a tallest start bar (a month MRR fell) would otherwise cover.
    ceiling = top + 0.15 * ((top - bottom) or 1.0)
    # The axis starts on a tick, which the note then names as the tick does ("Axis starts at $1.0B" sat below a
    # lowest tick of $1.05B, on an axis that started at $1.03B).
    bottom = max([t for t in ax.yaxis.get_major_locator().tick_values(bottom, ceiling) if 0 <= t <= bottom],
                 default=bottom)
    ax.set_ylim(bottom, ceiling)
    money_axis(ax)
    if bottom > 0:
        ticks = [t for t in ax.yaxis.get_major_locator().tick_values(bottom, ceiling) if bottom <= t <= ceiling]
        named = ax.yaxis.get_major_formatter().format_ticks(ticks)[0] if ticks and ticks[0] == bottom else label(bottom)
        ax.text(0.0, 1.02, f"Axis starts at {named}", transform=ax.transAxes, fontsize=7, color="#666666")
    moves = ", ".join(f"{s.lower()} {compact(a, 'currency', signed=True)}" for s, a in zip(steps[1:-1], amounts[1:-1], strict=True))
    alt = f"Waterfall chart of the MRR bridge from {label(amounts[0])} at {title_start} to {label(amounts[-1])} at {title_end}: {moves}."
    return to_chart(fig, alt)


def rate_trend(history: pd.DataFrame, columns: dict[str, str], *, ylabel: str, reference: float | None = None) -> Chart:
    """Lines of rates (fractions) by period; ``columns`` maps a column to its legend label."""
    colors = palette()
    fig, ax = subplots(figsize=HALF)
    steps = range(len(history))
    for i, (column, label) in enumerate(_same_lines(history, columns)):
        ax.plot(steps, history[column], marker="o", markersize=3, linewidth=1.8, color=colors[i], label=label)
    if reference is not None:
        ax.axhline(reference, color="#888888", linewidth=0.8, linestyle=":")
    percent_axis(ax)
    ax.set_ylabel(ylabel)
    # Periods by name, as the MRR chart beside it ("Dec 2025", "Q4 2025"), not keys ("2025-12"); level, and at most
    # 4 across a half-page chart (6 ran together: "Dec 2025Feb 2026Apr 2026").
    shown = list(steps)[::-(-len(history) // 4)]
    ax.set_xticks(shown, [_period_tick(history["period"].iloc[i]) for i in shown], fontsize=7)
    legend_above(ax, fontsize=8)
    latest = history.iloc[-1]
    alt = (f"Line chart of {', '.join(columns.values())} by period from {parse_period(history['period'].iloc[0]).label} "
           f"to {parse_period(latest['period']).label}; latest ") + ", ".join(
        f"{label} {percent(latest[col], 1)}" for col, label in columns.items() if pd.notna(latest[col]))
    return to_chart(fig, alt + ".")


def _same_lines(history: pd.DataFrame, columns: dict[str, str]) -> list[tuple[str, str]]:
    """The lines to draw, as (column, label): columns whose values are equal throughout drawn once, labelled with
    every name ("NRR = GRR"; the second line hid the first, and the legend named a line nobody could see)."""
    lines: list[tuple[str, str]] = []
    for col, label in columns.items():
        same = next((i for i, (drawn, _) in enumerate(lines) if history[drawn].round(6).equals(history[col].round(6))),
                    None)
        if same is None:
            lines.append((col, label))
        else:
            lines[same] = (lines[same][0], f"{lines[same][1]} = {label}")
    return lines


def _period_tick(key: str) -> str:
    """A period key as a tick: "Dec 2025", "Q4 2025", "2025"."""
    period = parse_period(key)
    return short_month_year(period.start) if period.kind == "month" else period.label


#: Decimals of a health band's share of MRR, in the chart and in the table beside it.
SHARE_DECIMALS = 1


def health_bands(distribution: pd.DataFrame) -> Chart:
    """Horizontal bars: accounts and MRR share per health band."""
    band_colors = {"healthy": "#2e7d32", "watch": "#f9a825", "at_risk": "#c62828"}
    fig, ax = subplots(figsize=HALF)
    labels = [b.replace("_", " ").capitalize() for b in distribution["band"]]
    ax.barh(labels, distribution["clients"], color=[band_colors.get(b, "#777777") for b in distribution["band"]])
    # The bands' shares of MRR add up to 100 %, as they should, at the table's precision beside the chart.
    shares = shares_percent(distribution["share"], SHARE_DECIMALS)
    for i, (n, share) in enumerate(zip(distribution["clients"], shares, strict=True)):
        ax.annotate(f"{number(n)} ({share} of MRR)", (n, i), va="center", xytext=(3, 0), textcoords="offset points", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Active accounts")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # accounts are counted: a handful must not tick at 0.5
    ax.set_xlim(0, max(distribution["clients"].max() * 1.45, 1))
    alt = "Bar chart of active accounts by health band: " + ", ".join(
        f"{lab} {number(n)} account{'' if n == 1 else 's'} ({share} of MRR)"
        for lab, n, share in zip(labels, distribution["clients"], shares, strict=True))
    return to_chart(fig, alt + ".")
