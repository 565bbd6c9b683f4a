"""A KPI value with its comparison to the previous period, and the one formatter for KPI units.

Percent values are stored as fractions (``0.123`` is 12.3 %); ``points`` are score points
(NPS); ``score`` a 0–100 score whose changes are points; ``months`` a duration. Every report, table and card formats numbers through
:func:`format_value` and changes through :func:`format_change`, so a figure reads the same
everywhere and a change that rounds to zero is shown as no change ("0.0%", never "−0.0%").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Unit = Literal["currency", "percent", "number", "points", "score", "months"]
Direction = Literal["up_is_good", "down_is_good"]

UNITS: tuple[str, ...] = ("currency", "percent", "number", "points", "score", "months")
DIRECTIONS: tuple[str, ...] = ("up_is_good", "down_is_good")
MISSING = "—"
MINUS = "−"  # U+2212, the typographic minus the charts use too
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
# Relative tolerance under which two values count as equal: KPIs are recomputed from
# floats, so "unchanged" must survive rounding noise rather than flicker good/bad.
FLAT_TOLERANCE = 1e-9


def finite_or_none(value: Any) -> float | None:
    """``value`` as a plain float, or None when it is missing (None, NaN, ±inf)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Kpi:
    """One KPI for a period and the same KPI for the previous period.

    ``value`` and ``previous`` are normalised to plain floats on creation; NaN or
    infinity (what pandas yields for "no data") become None.
    """

    key: str
    label: str
    value: float | None
    unit: Unit
    previous: float | None = None
    direction: Direction = "up_is_good"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"Kpi {self.key!r}: unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"Kpi {self.key!r}: direction {self.direction!r} is not one of {', '.join(DIRECTIONS)}")
        object.__setattr__(self, "value", finite_or_none(self.value))
        object.__setattr__(self, "previous", finite_or_none(self.previous))

    @property
    def delta(self) -> float | None:
        """``value − previous`` in the KPI's unit (for percent: a fraction, 0.01 = 1 point)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def delta_pct(self) -> float | None:
        """Relative change ``delta / |previous|`` as a fraction; None when previous is 0 or unknown."""
        if self.delta is None or self.previous == 0:
            return None
        return self.delta / abs(self.previous)

    @property
    def change(self) -> tuple[float, str] | None:
        """The change as a reader sees it: ``(amount, change unit)`` for :func:`format_change`, or None.

        Percent KPIs change by percentage points, score points by points; other KPIs by their
        relative change, or by the absolute one when the previous value was 0.
        """
        if self.delta is None:
            return None
        if self.unit == "percent":
            return self.delta, "pct_points"
        if self.unit in ("points", "score"):
            return self.delta, "points"
        if self.delta_pct is not None:
            return self.delta_pct, "relative"
        return self.delta, self.unit

    def change_text(self) -> str:
        """The change as shown on a card: ``+1.2 pts``, ``−3.4%``; unsigned ``0.0%`` when it rounds to nothing."""
        change = self.change
        return MISSING if change is None else format_change(*change)

    @property
    def is_good(self) -> bool | None:
        """Whether the change is good given ``direction``; None when unknown or flat.

        Flat means no change *as shown*: a change that rounds to zero is neither good nor bad,
        so a card never shows "0.0%" in red.
        """
        if self.delta is None or math.isclose(self.value, self.previous, rel_tol=FLAT_TOLERANCE, abs_tol=1e-12):
            return None
        if rounds_to_zero(*self.change):
            return None
        return (self.delta > 0) == (self.direction == "up_is_good")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe record (plain floats or None), as kept in ``run.json``'s headline."""
        return {"name": self.key, "label": self.label, "value": self.value, "unit": self.unit,
                "previous": self.previous, "delta": self.delta, "direction": self.direction}


#: Units of a *change*: a KPI unit (the change in that unit), ``pct_points`` (a difference of two
#: percent values, as a fraction: 0.012 is "+1.2 pts") or ``relative`` (a fraction of the old value: "+3.4%").
CHANGE_UNITS: tuple[str, ...] = (*UNITS, "pct_points", "relative")


def format_value(value: float | None, unit: str, currency: str = "USD") -> str:
    """Format a KPI value for people: ``$1,234,567``, ``12.3%``, ``1,234``, ``+4 pts``, ``18.2 months``.

    ``percent`` values are fractions (0.123 → "12.3%"); ``points`` are signed because
    they are usually differences or NPS (which is conventionally shown with its sign);
    ``currency`` is in whole units. Missing values (None, NaN) are shown as "—".
    Unknown currencies are written as their code: "CHF 1,200".
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
    number = finite_or_none(value)
    if number is None:
        return MISSING
    return _signed(*_rounded(number, unit, currency), plus=unit == "points")


def format_change(change: float | None, unit: str, currency: str = "USD") -> str:
    """Format a change for people, always signed: ``+1.2 pts``, ``−3.4%``, ``+$1,200``, ``+4 pts``.

    ``unit`` is one of :data:`CHANGE_UNITS`. A change that rounds to zero at the precision
    shown is written without a sign ("0.0 pts", "0.0%", "$0"): it is no change, not a fall.
    Every card, table and sentence that shows a change goes through here.
    """
    if unit not in CHANGE_UNITS:
        raise ValueError(f"unknown change unit {unit!r}; expected one of {', '.join(CHANGE_UNITS)}")
    number = finite_or_none(change)
    if number is None:
        return MISSING
    return _signed(*_rounded(number, unit, currency), plus=True)


def format_number(value: float | None, decimals: int = 0) -> str:
    """A plain number with ``decimals`` decimals: ``1,234.5``, ``−0.25``; one that rounds to zero is unsigned."""
    number = finite_or_none(value)
    if number is None:
        return MISSING
    return _signed(round(number, decimals), lambda v: f"{v:,.{decimals}f}")


def rounds_to_zero(change: float | None, unit: str) -> bool:
    """Whether :func:`format_change` (or :func:`format_value`) shows ``change`` as zero."""
    number = finite_or_none(change)
    return number is not None and _rounded(number, unit, "USD")[0] == 0


def _rounded(number: float, unit: str, currency: str) -> tuple[float, Callable[[float], str]]:
    """``number`` rounded to the precision ``unit`` is shown at, and how to write its magnitude."""
    if unit == "currency":
        symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
        return round(number), lambda v: f"{symbol}{v:,.0f}"
    if unit in ("percent", "relative"):
        return round(number * 100, 1), lambda v: f"{v:,.1f}%"
    if unit == "pct_points":
        return round(number * 100, 1), lambda v: f"{v:,.1f} pts"
    if unit == "points":
        return round(number), lambda v: f"{v:,.0f} pts"
    if unit == "score":
        return round(number), lambda v: f"{v:,.0f}"
    if unit == "months":
        return round(number, 1), lambda v: f"{v:,.1f} months"
    # number: whole numbers as such; small fractional values (averages) keep one decimal.
    if abs(number) < 100 and round(number, 1) != round(number):
        return round(number, 1), lambda v: f"{v:,.1f}"
    return round(number), lambda v: f"{v:,.0f}"


def _signed(rounded: float, body: Callable[[float], str], *, plus: bool = False) -> str:
    """Apply ``body`` to the magnitude and prefix the sign; values that round to 0 get none (no "−$0")."""
    sign = MINUS if rounded < 0 else "+" if plus and rounded > 0 else ""
    return sign + body(abs(rounded))
