"""Report charts: data in, :class:`quire.display.Chart` (static SVG with alt text) out.

Static images because the PDF renderer runs no JavaScript; SVG because it stays crisp
at any zoom and in print. Colours come from the active brand (``chart_style.use_brand``).
One module per report type; shared axis helpers live here.
"""

from __future__ import annotations

from quire.chart_style import headless_backend

headless_backend()  # Agg, or Jupyter's inline backend when a kernel uses it

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import Formatter  # noqa: E402

WIDE = (8.0, 3.4)
HALF = (4.6, 3.2)
GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#777777"


_SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "k"))
MINUS = "\u2212"  # the typographic minus, as in the reports' figures


def step_decimals(step: float, most: int = 6) -> int:
    """The fewest decimals that write every multiple of ``step`` exactly: 5 → 0, 2.5 → 1, 0.25 → 2."""
    step = abs(step)
    for decimals in range(most + 1):
        scaled = step * 10**decimals
        if math.isclose(scaled, round(scaled), rel_tol=1e-9, abs_tol=1e-9):
            return decimals
    return most


class _StepFormatter(Formatter):
    """Tick labels that all carry the decimals the tick step needs, and no more.

    Matplotlib hands the formatter every tick location first (``set_locs``); the step
    between them decides the decimals, so ticks every 2.5 read 2.5, 5.0, 7.5 rather
    than rounding to 2, 5, 8, and ticks every 5 read 5, 10, 15.
    """

    _ticks = np.array([])

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        self._ticks = np.asarray(locs, dtype=float)

    def _step(self) -> float | None:
        locs = np.unique(np.round(self._ticks, 12))
        return float(np.min(np.diff(locs))) if len(locs) > 1 else None

    def _decimals(self, value: float, scale: float = 1.0) -> int:
        """Decimals for ticks in units of ``scale`` (1000 for $k, 0.01 for percent of fractions)."""
        step = self._step()
        return step_decimals(step / scale) if step else step_decimals(value / scale, most=2)

    @staticmethod
    def _signed(value: float, body: str) -> str:
        return (MINUS if value < 0 and body.strip("0.,$%kMB") else "") + body


class MoneyFormatter(_StepFormatter):
    """Money ticks sharing one suffix per axis ($80k, $82.5k; $1.2M); below $1,000 whole dollars or cents."""

    def _scale(self) -> tuple[float, str]:
        top = float(np.max(np.abs(self._ticks))) if self._ticks.size else 0.0
        return next(((size, suffix) for size, suffix in _SCALES if top >= size), (1.0, ""))

    def __call__(self, value: float, pos: int | None = None) -> str:
        size, suffix = self._scale()
        decimals = self._decimals(value, size)
        if not suffix and decimals:
            decimals = 2  # money below $1,000 that needs decimals is written in cents: $2.50, not $2.5
        if round(value / size, decimals) == 0:
            return "$0"
        return self._signed(value, f"${abs(value) / size:,.{decimals}f}{suffix}")


class PercentStepFormatter(_StepFormatter):
    """Percent ticks of fractions (0.975 → 97.5%) with the decimals the step needs."""

    def __call__(self, value: float, pos: int | None = None) -> str:
        decimals = self._decimals(value, scale=0.01)
        return self._signed(value, f"{abs(value) * 100:.{decimals}f}%")


def money_axis(ax, axis: str = "y") -> None:
    """Format an axis as money, each tick with the precision its step needs: $80k, $82.5k; $2.50."""
    getattr(ax, f"{axis}axis").set_major_formatter(MoneyFormatter())


def percent_axis(ax, axis: str = "y") -> None:
    """Format an axis of fractions as percentages, each tick with the precision its step needs."""
    getattr(ax, f"{axis}axis").set_major_formatter(PercentStepFormatter())


def short_money(v: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"${v / size:,.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"${v:,.0f}"


def palette() -> list[str]:
    """The active brand's colours, in order."""
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]
