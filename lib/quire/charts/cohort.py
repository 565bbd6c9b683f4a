"""Charts of the cohort report: retention heatmaps and LTV curves.

Matrices come in as the metric functions give them (cohort × age, ``NaN`` = not
observed). A not-observed cell is left blank (white, no text) — never drawn as 0 % — and
every chart says so in its caption, because a young cohort has not had the chance to
come back yet.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb

from quire.brand import contrast_ratio
from quire.chart_style import to_chart
from quire.charts import NEUTRAL, PercentStepFormatter, money_axis, palette
from quire.display import Chart
from quire.figure_pool import subplots
from quire.formatting import localise_figures, number, percent
from quire.formatting.units import format_value

WIDTH = 8.0  # inches: full width of the A4 text column
#: Cohorts a heatmap holds and still prints in the 100 mm every chart is held to (below a half-page block): a year
#: of months. A longer matrix is printed up to a page tall instead, or its labels would shrink to 5 pt.
HALF_PAGE_ROWS = 12
MAX_HEATMAP_HEIGHT = 8.5  # inches: with a heading, a lead and a caption, still one A4 page
ANNOTATE_UP_TO = 19  # age columns: more than this and percentages no longer fit in a cell
LABEL_EVERY_AGE_UP_TO = 24  # age columns: more than this and two-digit ages run together; every other one is named
ZERO_TINT = 0.88  # how close to white the 0 % end of the colour scale is
BLANK_NOTE = "blank = not yet observed (the cohort has not reached that age); 0% is a real zero"
#: What a cell of a period without any recorded event reads (see quire.warehouse.coverage.missing_periods).
UNKNOWN = "—"
UNKNOWN_NOTE = "— = unknown: no event at all is recorded in that {unit}, most likely missing data"


def age_unit(granularity: str) -> str:
    """'Month' or 'Week': what one age step is."""
    return "Month" if granularity == "month" else "Week"


def cohort_label(start: pd.Timestamp, granularity: str) -> str:
    """How a cohort is named in charts and tables: '2026-05' or 'W 2026-05-04' (its Monday)."""
    start = pd.Timestamp(start)
    return f"{start:%Y-%m}" if granularity == "month" else f"W {start:%Y-%m-%d}"


def cohort_labels(index: pd.Index, granularity: str) -> list[str]:
    return [cohort_label(c, granularity) for c in index]


def cell_labels(rates: pd.DataFrame) -> pd.DataFrame:
    """The text of each heatmap cell (:func:`cell_text`), or '' where the cell is not observed (NaN)."""
    return rates.map(lambda v: "" if pd.isna(v) else cell_text(v))


#: The largest rate a heatmap cell writes out: wider figures ("200,000%", revenue on a base of a cent) do not fit a cell.
CELL_MAX = 9.99


def cell_text(rate: float) -> str:
    """A rate as a whole percentage, except that a rate above zero never reads "0%" ("<1%"): the heatmaps say that
    0% is a real zero, and 4 active users of 1,257 are not none; and one above :data:`CELL_MAX` reads ">999%"."""
    if rate > CELL_MAX:
        return f">{percent(CELL_MAX, 0)}"
    text = percent(rate, 0)
    return f"<{percent(0.01, 0)}" if rate > 0 and text == percent(0, 0) else text


def _heatmap_geometry(n_rows: int, n_cols: int) -> tuple[tuple[float, float], float]:
    """Figure size and annotation font size that keep a cohort × age heatmap legible at A4 width: rows of at
    most a third of an inch, shrunk as a long matrix needs to stay within :data:`MAX_HEATMAP_HEIGHT`."""
    row = min(0.34, (MAX_HEATMAP_HEIGHT - 1.0) / max(n_rows, 1))
    font = 8.0 if n_cols <= 13 else 6.5
    font = min(font, row * 72 * 0.62)  # text never taller than its row
    width = min(WIDTH, 2.4 + 0.55 * n_cols)  # a short horizon gets narrower cells, not stretched ones
    return (width, 1.0 + row * n_rows), font


def _scale(color: str) -> LinearSegmentedColormap:
    """Sequential colour scale from a light tint of ``color`` to ``color``."""
    rgb = np.array(to_rgb(color))
    return LinearSegmentedColormap.from_list("cohort", [tuple(rgb + (1 - rgb) * ZERO_TINT), tuple(rgb)])


#: The colour scale ends here at most: a revenue retention of 1,750 % (one big buyer in a small base) would
#: otherwise leave every ordinary cell near white. Cells above it take the darkest colour; their labels say more.
COLOUR_CAP = 2.0


def _colour_top(rates: pd.DataFrame) -> float:
    """Upper end of the colour scale: the largest rate past age 0 (age 0 is near 100 % by construction
    and would wash out the rest; its 98th percentile, so that one outlier does not either), at least 5 %
    and at most :data:`COLOUR_CAP`."""
    later = rates.loc[:, rates.columns > 0].to_numpy(dtype=float)
    later = later[~np.isnan(later)]
    if later.size == 0:
        later = rates.to_numpy(dtype=float)
        later = later[~np.isnan(later)]
    return min(max(float(np.percentile(later, 98)) if later.size else 1.0, 0.05), COLOUR_CAP)


def retention_heatmap(rates: pd.DataFrame, sizes: pd.Series, granularity: str, *, metric: str,
                      meaning: str, unknown: pd.DataFrame | None = None) -> Chart:
    """Heatmap of a cohort × age rate matrix, cells annotated as percentages, cohorts labelled with their size.

    ``metric`` names the matrix ("User retention"); ``meaning`` says what a cell is, for
    the alt text ("share of the cohort's users active in that month"). ``unknown`` (cohort × age, True where the
    cell's period holds no recorded event) marks those cells "—", uncoloured: they are neither 0 % nor not yet
    observed.
    """
    unknown = (unknown if unknown is not None else rates.isna() & False).reindex_like(rates).fillna(False).astype(bool)
    unit = age_unit(granularity)
    labels = [f"{name}  (n={number(int(n))})" for name, n in zip(cohort_labels(rates.index, granularity), sizes, strict=True)]
    n_rows, n_cols = rates.shape
    size, font = _heatmap_geometry(n_rows, n_cols)
    annotate = n_cols <= ANNOTATE_UP_TO
    text = cell_labels(rates) if annotate else False
    fig, ax = subplots(figsize=size)
    # Not observed = no colour at all (white, no text). The scale starts at a visible tint, so a real 0 %
    # cell is tinted and labelled "0%" and cannot be mistaken for a blank one. (A hatch pattern said the
    # same but made WeasyPrint spend a second per heatmap on the PDF.)
    ax.set_facecolor("white")
    cmap, top = _scale(palette()[0]), _colour_top(rates)
    sns.heatmap(rates.astype(float), ax=ax, cmap=cmap, vmin=0, vmax=top, annot=text, fmt="",
                annot_kws={"fontsize": font}, linewidths=0.6, linecolor="white", cbar=not annotate,
                cbar_kws={"format": PercentStepFormatter(), "shrink": 0.8, "pad": 0.02,
                          # a pointed end: the darkest colour also stands for everything above the scale
                          "extend": "max" if np.nanmax(rates.to_numpy(dtype=float), initial=0) > top else "neither"},
                xticklabels=list(rates.columns) if n_cols <= LABEL_EVERY_AGE_UP_TO else 2, yticklabels=labels)
    if annotate:
        _readable_labels(ax, rates, cmap, top)
    for row, col in zip(*np.nonzero(unknown.to_numpy()), strict=True):
        ax.text(col + 0.5, row + 0.5, UNKNOWN, ha="center", va="center", fontsize=font, color="#595959")
    ax.grid(False)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(f"{unit}s since signup (age)", labelpad=6)
    ax.set_ylabel("")
    ax.tick_params(axis="both", length=0, labelsize=min(8.5, font + 1))
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=0)
    gap = f"; {UNKNOWN_NOTE.format(unit=granularity)}" if unknown.any(axis=None) else ""
    alt = _heatmap_alt(rates, sizes, granularity, metric, meaning)
    if gap:
        alt += f" Cells marked {UNKNOWN} are unknown: no event is recorded in their {granularity}."
    return to_chart(fig, alt, tall=n_rows > HALF_PAGE_ROWS, caption=(
        f"{metric} by {granularity}ly signup cohort (rows, with their number of users) and "
        f"{unit.lower()}s since signup (columns); {localise_figures(BLANK_NOTE)}{gap}."))


def label_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb``): at least 4.58:1, WCAG's AA.

    seaborn's own choice turns white at a luminance of 0.408, which leaves the mid-light cells of
    a brand's scale with white labels at 2.3:1.
    """
    return "#000000" if contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background) else "#ffffff"


def _readable_labels(ax, rates: pd.DataFrame, cmap, top: float) -> None:
    """Recolour each cell's label by :func:`label_colour` of the colour the cell is drawn in."""
    for text in ax.texts:
        x, y = text.get_position()
        value = rates.iat[int(y), int(x)]  # seaborn puts a cell's label at its centre, (col + 0.5, row + 0.5)
        if pd.notna(value):
            text.set_color(label_colour(to_hex(cmap(min(float(value), top) / top if top else 0.0))))


def _users(n: int) -> str:
    """"1 user", "1,204 users"."""
    return f"{number(int(n))} user{'' if n == 1 else 's'}"


def _heatmap_alt(rates: pd.DataFrame, sizes: pd.Series, granularity: str, metric: str, meaning: str) -> str:
    unit = age_unit(granularity).lower()
    names = pd.Series(cohort_labels(rates.index, granularity), index=rates.index)
    if len(rates) == 1:
        alt = f"Heatmap of {metric.lower()} ({meaning}) for the {granularity}ly cohort {names.iloc[0]} ({_users(sizes.iloc[0])})"
    else:
        least, most = int(sizes.min()), int(sizes.max())
        alt = (f"Heatmap of {metric.lower()} ({meaning}) for {len(rates)} {granularity}ly cohorts from {names.iloc[0]} "
               f"to {names.iloc[-1]} ({_users(most) if least == most else f'{number(least)} to {_users(most)}'} each)")
    alt += f", {unit}s 0 to {rates.columns.max()}"
    age = 1 if 1 in rates.columns else rates.columns.max()
    seen = rates[age].dropna()
    if len(seen) >= 2:
        alt += (f"; at {unit} {age} it ranges from {cell_text(seen.min())} ({names[seen.idxmin()]}) "
                f"to {cell_text(seen.max())} ({names[seen.idxmax()]})")
    elif len(seen) == 1:
        alt += f"; at {unit} {age} it is {cell_text(seen.iloc[0])} ({names[seen.index[0]]})"
    oldest = rates.iloc[0].dropna()
    if len(oldest) > 2:
        alt += f"; the oldest cohort, {names.iloc[0]}, is at {cell_text(oldest.iloc[-1])} by {unit} {oldest.index[-1]}"
    return alt + ". Blank cells are not yet observed."


def split_cohorts(ltv: pd.DataFrame, recent: int, at_age: int | None) -> tuple[list, list, list]:
    """Cohorts (index labels) as the comparison at ``at_age`` splits them: (earlier, newest, younger).

    ``newest`` are the ``recent`` newest cohorts observed at ``at_age`` and ``earlier`` the
    cohorts observed there before them — exactly the two sides
    :func:`quire.metrics.cohorts.compare_recent` averages; ``younger`` have not reached
    ``at_age`` yet. Without ``at_age``, ``newest`` are the ``recent`` newest cohorts with any value.
    """
    rows = ltv.dropna(how="all")
    seen = list(rows.index) if at_age is None or at_age not in rows.columns else list(rows[at_age].dropna().index)
    newest = seen[-recent:]
    earlier = seen[: len(seen) - len(newest)]
    younger = [c for c in rows.index if c not in seen and (not newest or c > newest[-1])]
    return earlier, newest, younger


def ltv_curves(ltv: pd.DataFrame, granularity: str, *, highlight: int = 3, at_age: int | None = None) -> Chart:
    """Cumulative revenue per user by age, one line per cohort.

    The ``highlight`` newest cohorts that have reached ``at_age`` are drawn in brand colours
    against the earlier ones (grey, with their average) — the same cohorts the report's
    comparison at ``at_age`` uses; cohorts too young to have reached it are drawn dotted.
    """
    unit = age_unit(granularity)
    colors = palette()
    names = pd.Series(cohort_labels(ltv.index, granularity), index=ltv.index)
    rows = ltv.dropna(how="all")
    earlier, newest, younger = split_cohorts(ltv, highlight, at_age)
    fig, ax = subplots(figsize=(WIDTH, 3.7))
    for i, cohort in enumerate(earlier):
        line = rows.loc[cohort].dropna()
        ax.plot(line.index, line.values, color=NEUTRAL, alpha=0.45, linewidth=1.1,
                label="Earlier cohorts" if i == 0 else None)
    if len(earlier) >= 2:
        # Over the ages every earlier cohort has reached: where the older ones alone go on, their mean would
        # change with who is left in it (a cumulative figure that falls), not with age.
        mean = rows.loc[earlier].mean(axis=0)[rows.loc[earlier].notna().all()]
        ax.plot(mean.index, mean.values, color="#3e4c59", linewidth=1.6, linestyle="--",
                label="Earlier cohorts, average")
    for i, cohort in enumerate(younger):
        line = rows.loc[cohort].dropna()
        ax.plot(line.index, line.values, color=NEUTRAL, linewidth=1.3, linestyle=":", marker=".", markersize=4,
                label=f"Younger, not yet at {unit.lower()} {at_age}" if i == 0 else None)
    for i, cohort in enumerate(newest):
        line = rows.loc[cohort].dropna()
        ax.plot(line.index, line.values, color=colors[i % len(colors)], linewidth=2.4, marker="o", markersize=4,
                label=names[cohort], zorder=3)
    money_axis(ax)
    ax.set_xlabel(f"{unit}s since signup (age)")
    ax.set_ylabel("Cumulative revenue per user")
    ax.set_xlim(-0.3, max(ltv.columns.max(), 1) + 0.3)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    # Below the axes: no corner inside them is sure to be free (the curves of cohorts that stopped buying run
    # flat and low, where rising ones leave the lower right empty).
    entries = len(ax.get_legend_handles_labels()[1])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False, ncol=min(entries, 4), fontsize=8.5)
    cohorts = "the newest cohort" if len(newest) == 1 else f"the {len(newest)} newest cohorts"
    which = (f"{cohorts} that {'has' if len(newest) == 1 else 'have'} reached {unit.lower()} {at_age} in colour"
             + (", younger ones dotted" if younger else "")) if at_age is not None else f"{cohorts} in colour"
    average = (f" The dashed line averages the earlier cohorts up to the {unit.lower()} all of them have completed."
               if len(earlier) >= 2 else "")
    return to_chart(fig, _ltv_alt(rows, names, granularity, newest, at_age), caption=(
        f"Cumulative revenue per user of each cohort by {unit.lower()}s since signup; {which}. A line stops at "
        f"the last {unit.lower()} the cohort has completed.{average}"))


def _ltv_alt(rows: pd.DataFrame, names: pd.Series, granularity: str, newest: list, at_age: int | None) -> str:
    unit = age_unit(granularity).lower()
    alt = f"Line chart of cumulative revenue per user (LTV) by {unit}s since signup for " + (
        f"the {granularity}ly cohort {names[rows.index[0]]}" if len(rows) == 1 else
        f"{len(rows)} {granularity}ly cohorts from {names[rows.index[0]]} to {names[rows.index[-1]]}, the newest "
        + (f"to reach {unit} {at_age}, " if at_age is not None else "")
        + f"{', '.join(names[c] for c in newest)}, highlighted")
    seen_by = rows.notna().sum()
    if at_age is None:
        multi = seen_by[seen_by >= 2]
        at_age = int(multi.index.max()) if len(multi) else int(seen_by[seen_by >= 1].index.max())
    at = rows[at_age].dropna() if at_age in rows.columns else pd.Series(dtype=float)
    if len(at):
        best = at.idxmax()
        top, low = (format_value(v, "currency") for v in (at[best], at.min()))
        if len(at) > 1 and top == low:
            alt += f"; at {unit} {at_age} every cohort's LTV is {top}"
        else:
            alt += (f"; at {unit} {at_age} the highest LTV is the {names[best]} cohort's {top}"
                    + (f" and the lowest {names[at.idxmin()]}'s {low}" if len(at) > 1 else ""))
    return alt + "."


__all__ = ["retention_heatmap", "ltv_curves", "split_cohorts", "cell_labels", "cohort_label", "cohort_labels", "age_unit", "BLANK_NOTE"]
