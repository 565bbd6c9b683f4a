"""Report charts: data in, :class:`quire.display.Chart` (static SVG with alt text) out.

Static images because the PDF renderer runs no JavaScript; SVG because it stays crisp
at any zoom and in print. Colours come from the active brand (``chart_style.use_brand``).
One module per report type; the axis formatters live in :mod:`quire.formatting.axes`.
"""

from __future__ import annotations

from collections.abc import Iterable

from quire.chart_style import headless_backend

headless_backend()  # Agg, or Jupyter's inline backend when a kernel uses it

import matplotlib.pyplot as plt  # noqa: E402

from quire.formatting import MINUS, compact  # noqa: E402
from quire.formatting.axes import (MoneyFormatter, PercentStepFormatter, count_axis, date_axis,  # noqa: E402
                                   money_axis, percent_axis, step_decimals)

WIDE = (8.0, 3.4)
#: A chart beside a table (half the page): about the printed column's width (84 mm), so that its text prints at the
#: size it is set in (at 4.6 in wide, the column shrank a 7 pt tick to 5 pt).
HALF = (3.6, 2.7)
GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#777777"


def short_money(v: float) -> str:
    """Money in few characters for labels and alt text, in the run's conventions: "$98.5k", "$1.2M" / "1,2 Mio. €"."""
    return compact(v, "currency")


def label_width(labels: Iterable[object], size: float | str | None = None) -> float:
    """Inches taken by the widest of ``labels`` in the chart font at ``size`` (default: tick labels).

    For charts laid out in inches (see :func:`quire.chart_style.figure_svg`): the margin a
    column of category names needs, measured as matplotlib will measure it when it draws.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=size or plt.rcParams["ytick.labelsize"])
    return max((text_to_path.get_text_width_height_descent(str(t), prop, ismath=False)[0] for t in labels),
               default=0.0) / 72


#: Inches between two panels side by side, so that the last tick label of the left one and the first of the
#: right one, each centred on its panel's edge ("10k" beside "0.0%"), never run into each other.
PANEL_GAP = 0.4


def panel_wspace(fig, gap: float = PANEL_GAP) -> float:
    """The ``wspace`` that leaves ``gap`` inches between two side-by-side panels of ``fig`` within its current margins.

    matplotlib's ``wspace`` is a fraction of a panel's width, so a fixed fraction leaves a gap that
    shrinks with the panels (a long column of names beside them) until their edge labels touch.
    """
    params = fig.subplotpars
    total = fig.get_figwidth() * (params.right - params.left)
    return 2 * gap / max(total - gap, gap)


#: Inches kept between the left panel's last x tick label and the right panel's first.
EDGE_LABEL_SPACE = 0.15


def keep_edge_labels_apart(fig, left, right, space: float = EDGE_LABEL_SPACE) -> None:
    """Widen the gap between two side-by-side panels (their x ticks set) until the left one's last tick label and
    the right one's first are ``space`` inches apart: each is centred on its tick, and a tick at a panel's end
    makes its label stick out by half its width ("10.5%" beside "−1.0" read as one run of text)."""

    def overhang(ax, last: bool) -> float:
        low, high = sorted(ax.get_xlim())
        shown = [(t.get_position()[0], t.get_text()) for t in ax.xaxis.get_ticklabels()
                 if t.get_text() and low <= t.get_position()[0] <= high]
        if not shown:
            return 0.0
        tick, text = shown[-1] if last else shown[0]
        inches = ax.get_position().width * fig.get_figwidth() / (high - low)
        edge = (high - tick) if last else (tick - low)
        return max(0.0, label_width([text], plt.rcParams["xtick.labelsize"]) / 2 - edge * inches)

    for _ in range(3):  # a wider gap narrows the panels, and with them the room between a tick and its panel's end
        gap = (right.get_position().x0 - left.get_position().x1) * fig.get_figwidth()
        needed = overhang(left, last=True) + overhang(right, last=False) + space
        if gap >= needed - 1e-3:
            return
        fig.subplots_adjust(wspace=panel_wspace(fig, needed))


def legend_above(ax, **kwargs) -> None:
    """The axes' legend in one row above them, where no line can run through it (a flat MRR at the top of its axis
    struck through "MRR" in the corner the legend had)."""
    entries = len(ax.get_legend_handles_labels()[0])
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=max(entries, 1), frameon=False, borderaxespad=0.2,
              **kwargs)


def palette() -> list[str]:
    """The active brand's colours, in order."""
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


__all__ = ["PANEL_GAP", "WIDE", "HALF", "GOOD", "BAD", "NEUTRAL", "MINUS", "MoneyFormatter", "PercentStepFormatter", "count_axis", "date_axis",
           "money_axis", "percent_axis", "step_decimals", "short_money", "label_width", "palette", "panel_wspace",
           "keep_edge_labels_apart", "legend_above"]
