"""Report charts: data in, :class:`quire.display.Chart` (static SVG with alt text) out.

Static images because the PDF renderer runs no JavaScript; SVG because it stays crisp
at any zoom and in print. Colours come from the active brand (``chart_style.use_brand``).
One module per report type; shared axis helpers live here.
"""

from __future__ import annotations

from quire.chart_style import headless_backend

headless_backend()  # Agg, or Jupyter's inline backend when a kernel uses it

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

WIDE = (8.0, 3.4)
HALF = (4.6, 3.2)
GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#777777"


def money_axis(ax, axis: str = "y") -> None:
    """Format an axis as short money: $1.2M, $350k."""
    getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(lambda v, _: short_money(v)))


def short_money(v: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"${v / size:,.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"${v:,.0f}"


def palette() -> list[str]:
    """The active brand's colours, in order."""
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]
