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
HALF = (4.6, 3.2)
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


def palette() -> list[str]:
    """The active brand's colours, in order."""
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


__all__ = ["PANEL_GAP", "WIDE", "HALF", "GOOD", "BAD", "NEUTRAL", "MINUS", "MoneyFormatter", "PercentStepFormatter", "count_axis", "date_axis",
           "money_axis", "percent_axis", "step_decimals", "short_money", "label_width", "palette", "panel_wspace"]
