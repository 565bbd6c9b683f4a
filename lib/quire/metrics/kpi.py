"""A KPI value with its comparison to the previous period.

Percent values are stored as fractions (``0.123`` is 12.3 %); ``points`` are score points
(NPS); ``score`` a 0–100 score whose changes are points; ``months`` a duration. Every report,
table and card formats numbers through :func:`~quire.formatting.format_value` and changes through
:func:`~quire.formatting.format_change` (in the run's locale and currency), so a figure reads the
same everywhere and a change that rounds to zero is shown as no change ("0.0%", never "−0.0%").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from quire.formatting.numbers import MINUS, MISSING, as_data, finite_or_none
from quire.formatting.units import CHANGE_UNITS, UNITS, format_change, format_number, format_value, rounds_to_zero

Unit = Literal["currency", "percent", "number", "points", "score", "months"]
Direction = Literal["up_is_good", "down_is_good"]

DIRECTIONS: tuple[str, ...] = ("up_is_good", "down_is_good")
# Relative tolerance under which two values count as equal: KPIs are recomputed from
# floats, so "unchanged" must survive rounding noise rather than flicker good/bad.
FLAT_TOLERANCE = 1e-9


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
    decimals: int = 0  # at least this many on the card: 99.98 % past a 100 % threshold must not read "100.0%"
    # The report's own test cannot tell the change from chance: shown with its arrow, neither good nor bad.
    within_noise: bool = False

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

    def value_text(self) -> str:
        """The value as shown on a card, with at least :attr:`decimals` decimals."""
        return format_value(self.value, self.unit, decimals=self.decimals)

    def change_text(self) -> str:
        """The change as shown on a card: ``+1.2 pts``, ``−3.4%``; unsigned ``0.0%`` when it rounds to nothing."""
        change = self.change
        return MISSING if change is None else format_change(*change)

    @property
    def flat(self) -> bool:
        """Whether there is no change *as shown*: unknown, or one that rounds to zero (a card never shows
        "0.0%" in red)."""
        if self.delta is None or math.isclose(self.value, self.previous, rel_tol=FLAT_TOLERANCE, abs_tol=1e-12):
            return True
        return rounds_to_zero(*self.change)

    @property
    def is_good(self) -> bool | None:
        """Whether the change is good given ``direction``; None when flat or :attr:`within_noise`."""
        if self.flat or self.within_noise:
            return None
        return (self.delta > 0) == (self.direction == "up_is_good")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe record (plain numbers or None), as kept in ``run.json``'s headline: ``delta`` is
        ``value − previous`` in the KPI's unit, ``change`` and ``change_unit`` the change its card shows
        (:attr:`change`: ``relative`` 0.298 for "+29.8%", ``pct_points`` for a rate)."""
        def data(number: float | None) -> float | None:
            return None if number is None else as_data(number)

        change, change_unit = self.change or (None, None)
        return {"name": self.key, "label": self.label, "value": data(self.value), "unit": self.unit,
                "previous": data(self.previous), "delta": data(self.delta), "change": data(change),
                "change_unit": change_unit, "direction": self.direction}


__all__ = ["Kpi", "Unit", "Direction", "UNITS", "CHANGE_UNITS", "DIRECTIONS", "FLAT_TOLERANCE", "MISSING", "MINUS",
           "finite_or_none", "format_value", "format_change", "format_number", "rounds_to_zero"]
