"""A KPI value with its comparison to the previous period, and the one formatter for KPI units.

Percent values are stored as fractions (``0.123`` is 12.3 %); ``points`` are score points
(NPS); ``score`` a 0–100 score whose changes are points; ``months`` a duration. Every report, table and card formats numbers through
:func:`format_value`, so a figure reads the same everywhere.
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
    def is_good(self) -> bool | None:
        """Whether the change is good given ``direction``; None when unknown or flat."""
        if self.delta is None or math.isclose(self.value, self.previous, rel_tol=FLAT_TOLERANCE, abs_tol=1e-12):
            return None
        return (self.delta > 0) == (self.direction == "up_is_good")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe record (plain floats or None), as kept in ``run.json``'s headline."""
        return {"name": self.key, "label": self.label, "value": self.value, "unit": self.unit,
                "previous": self.previous, "delta": self.delta, "direction": self.direction}


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
    if unit == "currency":
        symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
        return _signed(round(number), lambda v: f"{symbol}{v:,.0f}")
    if unit == "percent":
        return _signed(round(number * 100, 1), lambda v: f"{v:,.1f}%")
    if unit == "points":
        return _signed(round(number), lambda v: f"{v:,.0f} pts", plus=True)
    if unit == "score":
        return _signed(round(number), lambda v: f"{v:,.0f}")
    if unit == "months":
        return _signed(round(number, 1), lambda v: f"{v:,.1f} months")
    # number: whole numbers as such; small fractional values (averages) keep one decimal.
    if abs(number) < 100 and round(number, 1) != round(number):
        return _signed(round(number, 1), lambda v: f"{v:,.1f}")
    return _signed(round(number), lambda v: f"{v:,.0f}")


def _signed(rounded: float, body: Callable[[float], str], *, plus: bool = False) -> str:
    """Apply ``body`` to the magnitude and prefix the sign; values that round to 0 get none (no "−$0")."""
    sign = MINUS if rounded < 0 else "+" if plus and rounded > 0 else ""
    return sign + body(abs(rounded))
