"""Tick labels of chart axes in the run's conventions, each with the decimals the tick step needs.

Matplotlib hands a formatter every tick location first (``set_locs``); the step between them
decides the decimals, so ticks every 2.5 read 2.5, 5.0, 7.5 rather than rounding to 2, 5, 8,
and ticks every 5 read 5, 10, 15. Money axes share one abbreviation per axis, the one the
locale uses for the largest tick ("$80k, $82.5k" in en-US; "80.000 €, 82.500 €" in de-DE,
which abbreviates no thousands).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import Formatter, FuncFormatter

from quire.formatting.dates import format_day
from quire.formatting.numbers import compact, compact_parts, money, percent


def step_decimals(step: float, most: int = 6) -> int:
    """The fewest decimals that write every multiple of ``step`` exactly: 5 → 0, 2.5 → 1, 0.25 → 2."""
    step = abs(step)
    for decimals in range(most + 1):
        scaled = step * 10**decimals
        if math.isclose(scaled, round(scaled), rel_tol=1e-9, abs_tol=1e-9):
            return decimals
    return most


class StepFormatter(Formatter):
    """Base of the step-aware formatters: knows the ticks and the decimals their step needs."""

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

    def _top(self) -> float:
        return float(np.max(np.abs(self._ticks))) if self._ticks.size else 0.0


class MoneyFormatter(StepFormatter):
    """Money ticks sharing one abbreviation per axis ($80k, $82.5k; $1.2M); below it whole units or cents."""

    def __call__(self, value: float, pos: int | None = None) -> str:
        top = self._top()
        divisor, pattern = compact_parts("currency", top)
        decimals = self._decimals(value, divisor)
        if pattern is None and decimals:
            decimals = 2  # amounts that need decimals are written in cents: $2.50, not $2.5
        if round(value / divisor, decimals) == 0:
            return money(0)
        return compact(value, "currency", decimals=decimals, scale_of=top)


class PercentStepFormatter(StepFormatter):
    """Percent ticks of fractions (0.975 → 97.5%) with the decimals the step needs."""

    def __call__(self, value: float, pos: int | None = None) -> str:
        return percent(value, self._decimals(value, scale=0.01))


class DateTickFormatter(Formatter):
    """Date ticks the way matplotlib's concise formatter writes them, in the run's locale.

    The year at each 1 January, the month's abbreviation at the first of any other month
    ("Nov", "2027", "Mar"; de-DE "Mär", "Mai"), the day's number in between. Matplotlib's
    own date formatters write month names in English whatever the report's locale.
    """

    def __call__(self, value: float, pos: int | None = None) -> str:
        from matplotlib.dates import num2date

        day = num2date(value)
        if day.day == 1:
            return str(day.year) if day.month == 1 else format_day(day, "month_abbr")
        return str(day.day)


def _axis(ax, axis: str):
    return getattr(ax, f"{axis}axis")


def money_axis(ax, axis: str = "y") -> None:
    """Format an axis as money, each tick with the precision its step needs: $80k, $82.5k; $2.50."""
    _axis(ax, axis).set_major_formatter(MoneyFormatter())


def percent_axis(ax, axis: str = "y", decimals: int | None = None) -> None:
    """Format an axis of fractions as percentages: the precision the step needs, or ``decimals`` for every tick."""
    formatter = PercentStepFormatter() if decimals is None else FuncFormatter(lambda v, _pos: percent(v, decimals))
    _axis(ax, axis).set_major_formatter(formatter)


def date_axis(ax, axis: str = "x") -> None:
    """Label a date axis in the run's locale (call after plotting: the locator stays matplotlib's)."""
    _axis(ax, axis).set_major_formatter(DateTickFormatter())


def count_axis(ax, axis: str = "y") -> None:
    """Format an axis of counts short: 950, 1.2k, 3.4M (in the locale's own abbreviations)."""
    _axis(ax, axis).set_major_formatter(FuncFormatter(lambda v, _pos: compact(v, "decimal")))


__all__ = ["step_decimals", "StepFormatter", "MoneyFormatter", "PercentStepFormatter", "DateTickFormatter", "money_axis",
           "percent_axis", "count_axis", "date_axis"]
