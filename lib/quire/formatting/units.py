"""A figure by its unit, and a change by its unit: the formatter every KPI card, table and sentence uses.

Percent values are fractions (``0.123`` is 12.3 %); ``points`` are score points (NPS);
``score`` a 0–100 score whose changes are points; ``months`` a duration; ``currency`` whole
units of the run's currency. A change is always signed, except one that rounds to zero at
the precision shown: that is no change, not a fall, and is written unsigned ("0.0%", "$0").
:func:`rounds_to_zero` says the same about a value, for the colour of a KPI card's change.
"""

from __future__ import annotations

from typing import Any

from quire.formatting.numbers import MISSING, finite_or_none, money, number, percent, percentage_points, score_points

UNITS: tuple[str, ...] = ("currency", "percent", "number", "points", "score", "months")
#: Units of a *change*: a KPI unit (the change in that unit), ``pct_points`` (a difference of two
#: percent values, as a fraction: 0.012 is "+1.2 pts") or ``relative`` (a fraction of the old value: "+3.4%").
CHANGE_UNITS: tuple[str, ...] = (*UNITS, "pct_points", "relative")
#: The unit of a table column whose rows are figures of different kinds (a KPI a row): each row says its own.
BY_ROW = "by_row"


def _precision(figure: float, unit: str) -> tuple[int, int]:
    """(power of ten the figure is shown in, decimals shown): percent is ×100 with one decimal."""
    if unit in ("percent", "relative", "pct_points"):
        return 2, 1
    if unit == "months":
        return 0, 1
    if unit == "number" and abs(figure) < 100 and round(figure, 1) != round(figure):
        return 0, 1  # small fractional values (averages) keep one decimal; whole numbers stay whole
    if unit == "currency" and abs(figure) < 100 and round(figure, 2) != round(figure):
        return 0, 2  # per-user amounts ($4.16 of LTV, $0.35 a week) are not worth "$4" or "$0"; whole ones stay whole
    return 0, 0


#: A table column of plain numbers keeps its figures' tenths below this size (a lone large figure drops them).
COLUMN_FRACTIONS_BELOW = 10_000


def column_decimals(values: Any, unit: str) -> int:
    """The decimals every figure of a table column in ``unit`` is shown with, so that a column reads alike.

    Money and plain numbers drop their decimals where they are whole or large, so one column could
    show "$15" under "$19.25": when any of its figures keeps decimals, the whole column shows them.
    Other units have a fixed precision; missing values do not count.
    """
    if unit not in ("currency", "number"):
        return 0
    figures = [f for f in (finite_or_none(v) for v in values) if f is not None]
    if unit == "number" and any(abs(f) < COLUMN_FRACTIONS_BELOW and round(f, 1) != round(f) for f in figures):
        # A column of hours: 102.5 shown "102" beside 74.5 read as an overrun of 36.9% where the row says 37.6%.
        return 1
    return max((_precision(f, unit)[1] for f in figures), default=0)


def _write(figure: float, unit: str, currency: str | None, signed: bool, decimals: int = 0) -> str:
    decimals = max(_precision(figure, unit)[1], decimals)
    if unit == "currency":
        return money(figure, decimals, signed=signed, currency=currency)
    if unit in ("percent", "relative"):
        return percent(figure, decimals, signed=signed)
    if unit == "pct_points":
        return percentage_points(figure, decimals, signed=signed)
    if unit == "points":
        return score_points(figure, decimals, signed=True)  # NPS is conventionally shown with its sign
    if unit == "months":
        return number(figure, decimals, signed=signed) + " months"
    return number(figure, decimals, signed=signed)


def format_value(value: Any, unit: str, currency: str | None = None, *, decimals: int = 0) -> str:
    """Format a KPI value for people: ``$1,234,567``, ``12.3%``, ``1,234``, ``+4 pts``, ``18.2 months``.

    In the run's locale and currency (:mod:`quire.formatting.conventions`); ``currency``
    overrides the currency. ``points`` are signed because they are usually differences or NPS.
    Missing values (None, NaN) are shown as "—". ``decimals`` asks for at least that many decimals
    (a table column's, :func:`column_decimals`).
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
    figure = finite_or_none(value)
    return MISSING if figure is None else _write(figure, unit, currency, signed=False, decimals=decimals)


def format_change(change: Any, unit: str, currency: str | None = None, *, decimals: int = 0) -> str:
    """Format a change for people, always signed: ``+1.2 pts``, ``−3.4%``, ``+$1,200``, ``+4 pts``.

    ``unit`` is one of :data:`CHANGE_UNITS`. A change that rounds to zero at the precision
    shown is written without a sign ("0.0 pts", "0.0%", "$0"): it is no change, not a fall.
    Every card, table and sentence that shows a change goes through here.
    """
    if unit not in CHANGE_UNITS:
        raise ValueError(f"unknown change unit {unit!r}; expected one of {', '.join(CHANGE_UNITS)}")
    figure = finite_or_none(change)
    if figure is None:
        return MISSING
    if unit == "relative" and -1 < figure:
        # A fall short of all never reads "−100.0%" (1 view left of 3,784): its last tenth of a point is kept.
        shown = max(_precision(figure, unit)[1], decimals)
        figure = max(figure, -1 + 10 ** -(shown + 2))
    return _write(figure, unit, currency, signed=True, decimals=decimals)


def relative_change(value: Any, decimals: int = 0, *, signed: bool = True) -> str:
    """A change as a share of the old value in prose and tables: "+12%", "−8%", "—" (``signed`` False: its size,
    "8%"); a fall short of all never reads "100%" (2 views left of 3,784: "−99.9%")."""
    figure = finite_or_none(value)
    if figure is not None and -1 < figure and round(figure * 100, decimals) <= -100:
        figure, decimals = max(figure, -0.999), 1
    return percent(figure if signed or figure is None else abs(figure), decimals, signed=signed)


def format_number(value: Any, decimals: int = 0) -> str:
    """A plain number with ``decimals`` decimals: ``1,234.5``, ``−0.25``; one that rounds to zero is unsigned."""
    return number(value, decimals)


def rounds_to_zero(change: Any, unit: str) -> bool:
    """Whether :func:`format_change` (or :func:`format_value`) shows ``change`` as zero."""
    figure = finite_or_none(change)
    if figure is None:
        return False
    power, decimals = _precision(figure, unit)
    return round(figure * 10**power, decimals) == 0


__all__ = ["UNITS", "CHANGE_UNITS", "column_decimals", "format_value", "format_change", "format_number", "relative_change",
           "rounds_to_zero"]
