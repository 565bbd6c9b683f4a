"""How the experiment report writes its figures: the precision of rates and effects, amounts and p-values.

One precision for a report's conversion figures (:func:`rate_places`), the decimals that set two effects apart
(:func:`compared_places`), an effect in points or in the measure's units (:func:`format_effect`,
:func:`format_points`, :func:`format_amount`) and a p-value in a table or a sentence (:func:`p_text`,
:func:`p_sentence`). The generic rules of rounding are :mod:`quire.formatting.numbers`'.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from quire.formatting.numbers import (agreeing_decimals, not_zero, number, ordered_decimals, percentage_points,
                                     worth_decimals)
from quire.metrics.experiment_measure import current as current_measure
from quire.metrics.power import PowerResult


def rate_places(rows, power: Mapping[str, PowerResult] | None = None) -> int | None:
    """One precision for the conversion figures of ``rows`` (comparison rows): both rates, the lift and its interval
    of every conversion row are written with it wherever the report shows them (sentences, cards, table, chart),
    so that the same control rate never reads "1.30%" in one place and "1.3%" in the next. None without a
    conversion row.

    Per row, the decimals that two figures set side by side need: the rates in their order and a lift that is not 0
    never read 0 (:func:`~quire.formatting.numbers.ordered_decimals`), always, up to three decimals. One more decimal
    at which the rates also differ by exactly the lift printed beside them
    (:func:`~quire.formatting.numbers.agreeing_decimals`) only where the interval makes it worth writing
    (:func:`~quire.formatting.numbers.worth_decimals`): for 33.333 % against 7.258 % with an interval of −1.755 to
    +72.101 pts, "33.3% against 7.3% (+26.1 pts)" is one step of rounding off, and "+26.075" or "+26.08" claims a
    precision an interval 74 points wide does not have. With ``power`` (a power result per
    treatment, where the report sets the observed lift against its MDE) also the decimals that tell those two apart
    (:func:`compared_places`)."""
    places = []
    for r in rows:
        if r["metric"] != "conversion":
            continue
        control, treatment, diff = float(r["control_value"]), float(r["treatment_value"]), float(r["diff"])
        agreeing = min(agreeing_decimals(control, treatment, diff, 1, scale=100, most=1),
                       worth_decimals(float(r["ci_low"]), float(r["ci_high"]), 1, scale=100))
        places.append(max(ordered_decimals(control, treatment, diff, 1, scale=100), agreeing))
        p = (power or {}).get(r["variant"])
        if p is not None and p.kind == "proportion" and p.observed_effect is not None and p.mde is not None:
            places.append(compared_places(abs(p.observed_effect), p.mde, p.kind))
    return max(places, default=None)


def compared_places(first: float, second: float, kind: str, at_least: int | None = None) -> int:
    """The fewest decimals, from the unit's own (a rate's one, a measure's) up to two more, at which two effects of
    ``kind`` set against each other in a sentence ("the observed … is smaller than the MDE") read in the order they
    are: an observed 1.852 pts and an MDE of 1.894 pts both read "1.9 pts" at one decimal, "1.85" and "1.89" at
    two. No difference is written beside them, so unlike :func:`agreeing_decimals` they need not differ by one.
    ``at_least``: a rate's decimals where the report already writes its differences so (:func:`rate_places`), so that
    the same "−0.16 pts" does not read "−0.2 pts" a sentence later."""
    scale, decimals = (100, 1) if kind == "proportion" else (1, current_measure().decimals)
    if kind == "proportion" and at_least is not None:
        decimals = max(decimals, at_least)
    order = (first > second) - (first < second)
    for places in range(decimals, decimals + 3):
        a, b = round(first * scale, places), round(second * scale, places)
        if (a > b) - (a < b) == order:
            return places
    return decimals + 2


def format_effect(value: float | None, kind: str, currency: str, signed: bool = True,
                  decimals: int | None = None) -> str:
    """An effect of ``kind`` (a power result's): a rate's in points, a mean's in the measure's units; ``decimals``
    (see :func:`compared_places`) instead of the unit's own."""
    if value is None:
        return "—"
    if kind == "proportion":
        return format_points(value, signed, 1 if decimals is None else decimals)
    size = value if signed else abs(value)
    return not_zero(lambda d: current_measure().format(size, d, signed=signed, currency=currency), size,
                    current_measure().decimals if decimals is None else decimals)


def format_points(diff: float, signed: bool = True, decimals: int = 1) -> str:
    """A rate difference in percentage points: 0.014 → "+1.4 pts" (or its size, "1.4 pts", unsigned); one that is not
    0 never reads as 0 (0.0004 → "+0.04 pts")."""
    size = diff if signed else abs(diff)
    return not_zero(lambda d: percentage_points(size, d, signed=signed), size, decimals)


def format_amount(value: float, currency: str | None, signed: bool = False) -> str:
    """A per-user amount of the experiment's measure: money with cents, in ``currency`` or the run's ("+$2.83"), or
    a number with two decimals ("+1.25")."""
    return current_measure().format(value, signed=signed, currency=currency)


def p_text(p: float | None, alpha: float | None = None) -> str:
    """A p-value for tables and cards: "0.003", "< 0.001", "—" when not defined.

    Given the test's ``alpha``, a p-value that three decimals would put on the level or past it (0.04997 as
    "0.050" beside a significant result) gets the decimals that tell which side it is on: "0.04997".
    """
    if p is None or not np.isfinite(p):
        return "—"
    if p < 0.001:
        return f"< {number(0.001, 3)}"
    decimals = 3
    while alpha is not None and decimals < 6 and p != alpha and (
            round(p, decimals) == alpha or (round(p, decimals) < alpha) != (p < alpha)):
        decimals += 1
    return number(p, decimals)


def p_sentence(p: float, alpha: float | None = None) -> str:
    """A p-value inside a sentence: "p = 0.087", "p < 0.001" or "p not defined" (``alpha``: see :func:`p_text`)."""
    text = p_text(p, alpha)
    return "p not defined" if text == "—" else f"p {text}" if text.startswith("<") else f"p = {text}"
