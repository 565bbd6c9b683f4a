"""What an experiment's continuous metric measures: revenue (money, the default) or another per-user amount.

The contract calls the column ``experiment_assignments.revenue``, but an A/B test's continuous
metric need not be money: game rounds played, minutes watched, items per basket. The optional
``experiments.metric_name`` and ``experiments.metric_unit`` say what it is, and every sentence,
card, table, chart and glossary entry of the experiment report names and writes it through the
measure active for the run (:func:`use`, as :func:`quire.formatting.use` sets the locale): a
game's rounds must not read "$51.34 per user".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from quire.errors import WarehouseDataError
from quire.formatting.numbers import currency_symbol, money, number
from quire.warehouse.schema import METRIC_UNITS, experiments

#: Longest metric name (the column's length): a card's title ("Game rounds per user, CUPED (guardrail)") must fit
#: its two printed lines.
MAX_NAME = experiments.c.metric_name.type.length


@dataclass(frozen=True)
class Measure:
    """The continuous metric's name as a sentence uses it ("revenue", "game rounds") and its unit."""

    name: str = "revenue"
    unit: str = "currency"
    #: Decimals of a per-user figure: 2 (cents), more where the per-user means are fractions of a cent (:meth:`sized_for`).
    decimals: int = 2

    @property
    def is_money(self) -> bool:
        return self.unit == "currency"

    @property
    def per_user(self) -> str:
        """"revenue per user", "game rounds per user"."""
        return f"{self.name} per user"

    @property
    def title(self) -> str:
        """"Revenue per user": the per-user mean as a heading or a card's title starts it."""
        return self.per_user[:1].upper() + self.per_user[1:]

    def format(self, value: float, decimals: int | None = None, *, signed: bool = False,
               currency: str | None = None) -> str:
        """A per-user amount: "+$2.83" (money keeps cents: the means are small), "+1.25" (a number); with the
        measure's :attr:`decimals` unless ``decimals`` says otherwise."""
        places = self.decimals if decimals is None else decimals
        if self.is_money:
            return money(value, places, signed=signed, currency=currency, beyond_minor_units=places > 2)
        return number(value, places, signed=signed)

    def sized_for(self, per_user: Iterable[float]) -> Measure:
        """This measure with two decimals, or, where the smallest non-zero of the ``per_user`` means is under 0.1,
        the decimals that write it to three significant digits (at most 6): means of $0.00403 and $0.00431 a user
        read "$0.00" with cents, and so did their difference (+$0.00028) and its interval."""
        sizes = [abs(v) for v in per_user if math.isfinite(v) and v]
        smallest = min(sizes, default=1.0)
        return replace(self, decimals=2 if smallest >= 0.1 else min(6, 2 - math.floor(math.log10(smallest))))

    @property
    def zero(self) -> str:
        """Nothing, as the reader sees it: "$0" or "0"."""
        return self.format(0, 0)

    @property
    def axis_unit(self) -> str:
        """What an axis of per-user differences is in: "$ per user", "game rounds per user"."""
        return f"{currency_symbol()} per user" if self.is_money else self.per_user

    def reword(self, text: str) -> str:
        """``text`` written about revenue, said of this measure instead ("Revenue: Welch's t-test" → "Game rounds: …").

        For the glossary's definitions, written once for the default measure.
        """
        if self.name == REVENUE.name:
            return text
        text = text.replace("money per user", self.per_user)
        return re.sub(r"\b([Rr])evenue\b", lambda m: self.name if m.group(1) == "r" else self.name[:1].upper() + self.name[1:],
                      text)


REVENUE = Measure()
_active = REVENUE


def measure_from(name: object, unit: object) -> Measure:
    """The measure an experiment's row describes; blank columns (or none) mean revenue in money.

    Raises :class:`~quire.errors.WarehouseDataError` naming the column for a unit it cannot write
    or a name too long for the report's titles.
    """
    name = "" if name is None or (isinstance(name, float) and name != name) else str(name).strip()
    unit = "" if unit is None or (isinstance(unit, float) and unit != unit) else str(unit).strip().lower()
    if unit and unit not in METRIC_UNITS:
        raise WarehouseDataError(f"experiments.metric_unit is {unit!r}, which the report cannot write",
                                 hint="Use currency (money in the report's currency) or number, or leave it empty for "
                                      "currency.")
    if len(name) > MAX_NAME:
        raise WarehouseDataError(f"experiments.metric_name {name!r} is longer than {MAX_NAME} characters",
                                 hint="Name the metric in a few words, as a sentence would (e.g. game rounds).")
    if name[:1].isupper() and name[1:2].islower():  # "Game rounds" inside a sentence reads "game rounds"; "ARPU" stays
        name = name[:1].lower() + name[1:]
    return Measure(name or REVENUE.name, unit or REVENUE.unit)


def use(measure: Measure) -> None:
    """Make ``measure`` the one this process's experiment report names and writes."""
    global _active
    _active = measure


def current() -> Measure:
    """The measure of the experiment being reported (revenue in money unless :func:`use` said otherwise)."""
    return _active


def metric_label(metric: str) -> str:
    """How a comparison's metric is named: "Conversion", "Revenue per user", "Revenue per user adjusted for the
    pre-period (CUPED)" (with the active measure's name for the last two)."""
    if metric == "conversion":
        return "Conversion"
    title = current().title
    return f"{title} adjusted for the pre-period (CUPED)" if metric == "revenue_cuped" else title
