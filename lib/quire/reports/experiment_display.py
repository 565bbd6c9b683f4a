"""How the experiment report shows its figures: the texts of p-values, effects and intervals, and its display blocks.

Everything here formats what it is given and reads nothing: the report
(:mod:`quire.reports.experiment`) decides what to show, these helpers decide how it reads —
"+1.4 pts", "< 0.001", an estimate with its interval on a second line, cards with notes
instead of period-over-period changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from quire.charts.experiment import bound
from quire.display import Glossary, KpiCards, Table, escape, kpi_value
from quire.formatting import number, percent
from quire.formatting.numbers import not_zero
from quire.metrics.kpi import Kpi, format_value

# --------------------------------------------------------------------------- number formats


def reduction_text(share: float) -> str:
    """CUPED's variance reduction in whole percent, with the decimals that keep a small one from reading "0%"
    ("0.02%"): the same on its card and in its sentences."""
    return not_zero(lambda d: percent(share, d), share, 0)


def interval_change(ratio: float) -> str:
    """An adjusted interval's width against the unadjusted one's (``ratio``): "46% narrower", "73% wider", "as wide".

    CUPED's interval can come out wider despite the variance it removes: with a handful of users
    the degree of freedom it spends on θ costs more than the variance saves.
    """
    if not np.isfinite(ratio):
        return "not comparable"
    if round(abs(1 - ratio), 2) == 0:
        return "as wide"
    return f"{percent(1 - ratio, 0)} narrower" if ratio < 1 else f"{percent(ratio - 1, 0)} wider"


def effect_text(value: float | None, metric: str, decimals: int | None = None) -> str:
    """A treatment − control difference in the metric's units: "+1.4 pts", or "+$2.83" in the measure's; one that is
    not 0 never reads as 0 ("+0.04 pts", "+$0.004"), as an interval's bounds do not. ``decimals``: at least these
    (to set it against another figure, :func:`~quire.metrics.experiment_format.compared_places`)."""
    if value is None or not np.isfinite(value):
        return "—"
    return bound(value, "conversion" if metric == "conversion" else "revenue", decimals)


def share_off(users: int, expected: float) -> str:
    """How far ``users`` is from ``expected``, relatively: "−0.05%" beside "−47", never an unsigned "0.0%"; "not
    planned" for users where none were expected (a variant planned at 0 %)."""
    if not expected:
        return "not planned" if users else percent(0, 1)
    off = (users - expected) / expected
    return not_zero(lambda d: percent(off, d, signed=True), off, 1) if abs(users - expected) >= 0.5 else percent(0, 1)


def relative_value(value: float) -> str:
    """A relative lift on its own: "+25.0%", or "—" when not defined (no control conversions)."""
    return percent(value, 1, signed=True) if np.isfinite(value) else "—"


def relative_estimate(value: float, low: float, high: float) -> Estimate | str:
    """A relative lift and its interval: "+25.0%" over "+10.1% to +41.3%" (or "interval not defined")."""
    if not np.isfinite(value):
        return "—"
    interval = (f"{relative_value(low)} to {relative_value(high)}" if np.isfinite(low) and np.isfinite(high)
                else "interval not defined")
    return Estimate(relative_value(value), interval)


def once_in(p: float) -> str:
    """0.001 → "once in 1,000"."""
    return f"once in {number(round(1 / p))}"


def chance(p: float) -> str:
    """A probability as a share of experiments: 0.043 → "4.3%", 0.0042 → "0.42%"."""
    if p >= 0.01:
        return percent(p, 1)
    shown = Decimal(f"{100 * p:.2g}").normalize()  # two significant digits
    return percent(p, max(0, -shown.as_tuple().exponent))


def round_users(n: float) -> int:
    """Round a required sample to 2–3 significant figures: it is an estimate, not a count."""
    digits = max(0, len(str(int(math.ceil(n)))) - 3)
    return int(math.ceil(n / 10 ** digits) * 10 ** digits)


def times(ratio: float) -> str:
    """How many times as many: "3.1×", and whole from 10 on ("8,470×", not "8,469.6×": the ratio of an estimate)."""
    return f"{number(ratio, 1 if ratio < 10 else 0)}×"


def sentence(text: str) -> str:
    """The text as a sentence: capitalised, ending with a full stop."""
    text = text.strip()
    return (text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else text


def mark_control(variant: str, control: bool) -> str:
    """The variant's name, marked as the control unless its name already says so."""
    return f"{variant} (control)" if control and "control" not in variant.lower() else variant


# --------------------------------------------------------------------------- display helpers


@dataclass
class ExperimentCards(KpiCards):
    """Headline cards whose values the report formats itself (p-values, points, cents), each with a note.

    The generic cards format by unit and show a change against a previous period; an
    experiment has no previous period, and a p-value or a lift in points has no unit
    there. The JSON recorded in ``run.json`` keeps the raw values and units beside the texts.
    """

    texts: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # key -> (value text, note)

    def _card(self, k: Kpi) -> str:
        note = self.texts[k.key][1] if k.key in self.texts else ""
        note_html = f'<div class="q-kpi-delta q-flat">{escape(note)}</div>' if note else ""
        return (f'<div class="q-kpi"><div class="q-kpi-label">{escape(k.label)}</div>'
                f'{kpi_value(self.shown(k))}{note_html}</div>')

    def shown(self, k: Kpi) -> str:
        return self.texts[k.key][0] if k.key in self.texts else format_value(k.value, k.unit)


@dataclass(frozen=True)
class Estimate:
    """A figure with its interval, shown one above the other so that a table column stays narrow."""

    value: str
    interval: str = ""

    def __str__(self) -> str:
        return f"{self.value} ({self.interval})" if self.interval else self.value


@dataclass
class FormattedTable(Table):
    """A table whose columns with unit ``"text"`` hold numbers the report already formatted (aligned right).

    A cell may hold an :class:`Estimate`: its interval goes on a second, smaller line of
    the cell (a table of seven columns of "+2.5 pts (+1.4 to +3.6 pts)" does not fit A4).
    Its ``data`` holds an interval's bounds in columns of their own.
    """

    @classmethod
    def figures(cls, frame: pd.DataFrame, caption: str, data: pd.DataFrame | None = None,
                data_units: Mapping[str, str] | None = None) -> "FormattedTable":
        """A label column followed by columns of figures the report already formatted (and, for the data files,
        ``data``: the figures themselves in ``data_units``)."""
        return cls(frame, caption=caption, units=dict.fromkeys(frame.columns[1:], "text"), data=data,
                   data_units=data_units or {})

    def _cell(self, column: str, value: object, decimals: int = 0) -> str:
        if self.units.get(column) == "text" and isinstance(value, Estimate):
            interval = f'<span class="q-ci">{escape(value.interval)}</span>' if value.interval else ""
            return f'<td class="q-num q-estimate">{escape(value.value)}{interval}</td>'
        if self.units.get(column) == "text" and isinstance(value, str):
            return f'<td class="q-num">{escape(value)}</td>'
        return super()._cell(column, value, decimals)

    def text(self) -> str:
        return self.frame.head(self.max_rows).map(str).to_string(index=False)


@dataclass
class FlowingGlossary(Glossary):
    """The appendix, following the last section on its page in print rather than starting a new page.

    This report ends with blocks that never split (the power chart beside its table): when
    one misses the foot of a page, a fresh page for the appendix leaves most of a page blank.
    """

    def html(self) -> str:
        return f'<div class="q-appendix-flow">{super().html()}</div>'
