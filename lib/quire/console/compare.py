"""Compare a run with the previous run of the same report and client: headline figures, deltas, sparklines.

The figures are the headline KPIs each run recorded in its ``run.json``. The previous run is
the newest succeeded run of the same report and client for the same period made before this one,
else for the period before (for a report without periods: created before this one); the
sparkline of a figure follows the report's last :data:`HISTORY` such runs up to this one.
Sparklines are inline SVG drawn here: no script, and they print.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.engine import Engine

from quire.console.access import Access
from quire.console.runs import RunView, view
from quire.errors import ParameterError
from quire.formatting import DEFAULT, Conventions, exact, format_change, format_value, from_record, using
from quire.metrics.kpi import FLAT_TOLERANCE, UNITS, Kpi
from quire.periods import Period, parse_period
from quire.state.schema import runs

HISTORY = 12


@dataclass
class Figure:
    """One headline figure of the run, beside the previous run's."""

    name: str
    label: str
    unit: str
    value: float | None
    previous: float | None
    direction: str
    series: list[float | None]
    conventions: Conventions = DEFAULT  # the run's locale and currency, as its report wrote the figures

    @property
    def delta(self) -> float | None:
        return None if self.value is None or self.previous is None else self.value - self.previous

    @property
    def delta_pct(self) -> float | None:
        return None if self.delta is None or not self.previous else self.delta / abs(self.previous)

    @property
    def tone(self) -> str:
        """good, bad or flat, given whether up is good for this figure; flat, as on the report's card, when the change
        rounds to nothing as shown ("0.0 pts" is never red)."""
        if self.delta is None or math.isclose(self.value, self.previous, rel_tol=FLAT_TOLERANCE, abs_tol=1e-12):
            return "flat"
        if self.unit in UNITS:
            with using(self.conventions):
                good = Kpi(self.name, self.label, self.value, self.unit, self.previous,
                           "down_is_good" if self.direction == "down_is_good" else "up_is_good").is_good
            return "flat" if good is None else "good" if good else "bad"
        return "good" if (self.delta > 0) == (self.direction != "down_is_good") else "bad"

    def shown(self, value: float | None) -> str:
        with using(self.conventions):
            return format_value(value, self.unit) if self.unit else exact(value)

    @property
    def change(self) -> str:
        """The delta as people read it: points for percentages, else the unit's own, with the relative change."""
        if self.delta is None:
            return "—"
        if self.tone == "flat":
            return "no change"
        with using(self.conventions):
            text = format_change(self.delta, "pct_points" if self.unit == "percent" else self.unit or "number")
            if self.delta_pct is not None and self.unit not in ("percent", "points"):
                text += f" ({format_change(self.delta_pct, 'relative')})"
        return text

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "unit": self.unit, "value": self.value,
                "previous": self.previous, "delta": self.delta, "delta_pct": self.delta_pct, "tone": self.tone,
                "series": self.series}


def _headline(run: RunView) -> dict[str, dict[str, Any]]:
    return {str(k.get("name") or k.get("label")): k for k in run.record.get("headline") or [] if isinstance(k, dict)}


def history_of(engine: Engine, outputs: Path, run: RunView, access: Access, limit: int = HISTORY) -> list[RunView]:
    """The succeeded runs of the same report and client up to this one, oldest first (at most ``limit``).

    A run for a period follows the runs of the periods before it (the same kind: months, quarters
    or years; the newest run of each), whenever they were made, so that re-running September after
    November does not compare September with November; a re-run of a period follows that period's
    previous run (what the re-run changed). Other runs follow the runs created before them.
    """
    row = run.row
    period = _period_of(row)
    stmt = sa.select(runs).where(runs.c.report == row["report"], runs.c.status == "succeeded",
                                 runs.c.run_id != row["run_id"]).order_by(runs.c.created_at.desc(), runs.c.run_id.desc())
    stmt = stmt.where(runs.c.client == row["client"]) if row["client"] else stmt.where(runs.c.client.is_(None))
    if period is None:
        stmt = stmt.where(runs.c.created_at <= row["created_at"]).limit(limit - 1)
    else:
        stmt = stmt.limit(PERIOD_SCAN)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    if period is not None:
        newest: dict[Any, dict] = {}
        again: list[dict] = []  # earlier runs of this very period (a re-run corrects one of them)
        for r in rows:  # newest first: the first run seen of a period is its newest
            other = _period_of(r)
            if other is None or other.kind != period.kind:
                continue
            if other.start < period.start:
                newest.setdefault(other.start, r)
            elif other.start == period.start and r["created_at"] <= row["created_at"]:
                again.append(r)
        before = [newest[start] for start in sorted(newest, reverse=True)][: limit - 1 - bool(again)]
        rows = again[:1] + before
    return [view(r, outputs, access) for r in reversed(rows)] + [run]


#: How many of a report's (and client's) latest runs are read to find the periods before a run's.
PERIOD_SCAN = 500


def _period_of(row: dict[str, Any]) -> Period | None:
    """The run's period parameter, or None (none, 'latest' or not a period)."""
    value = (row.get("parameters") or {}).get("period")
    try:
        return parse_period(str(value)) if value else None
    except ParameterError:
        return None


def compare(engine: Engine, outputs: Path, run: RunView, access: Access) -> tuple[RunView | None, list[Figure]]:
    """The previous run (or None) and each headline figure of ``run`` with its delta and series, as ``access`` sees
    them."""
    series_runs = history_of(engine, outputs, run, access) if run.row["status"] == "succeeded" else [run]
    previous = series_runs[-2] if len(series_runs) > 1 else None
    now, before = _headline(run), _headline(previous) if previous else {}
    figures = []
    for name, kpi in now.items():
        figures.append(Figure(
            name, str(kpi.get("label") or name), str(kpi.get("unit") or ""), _number(kpi.get("value")),
            _number(before.get(name, {}).get("value")), str(kpi.get("direction") or "up_is_good"),
            [_number(_headline(r).get(name, {}).get("value")) for r in series_runs], from_record(run.record)))
    return previous, figures


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def sparkline(figure: Figure, width: int = 132, height: int = 32) -> Markup:
    """An inline SVG line of the figure's series, the last point marked, described for screen readers."""
    points = [(i, v) for i, v in enumerate(figure.series) if v is not None]
    label = _describe(figure)
    if len(points) < 2:
        return Markup(f'<span class="q-spark-none">{escape(label)}</span>')
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    n = max(len(figure.series) - 1, 1)
    pad = 3

    def xy(i: int, v: float) -> tuple[float, float]:
        level = 0.5 if high == low else (v - low) / span  # a flat series runs through the middle
        return (pad + (width - 2 * pad) * i / n, pad + (height - 2 * pad) * (1 - level))

    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
    last_x, last_y = xy(*points[-1])
    return Markup(
        f'<svg class="q-spark q-spark-{figure.tone}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.6" points="{coords}"/>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.6" fill="currentColor"/></svg>')


def _describe(figure: Figure) -> str:
    known = [v for v in figure.series if v is not None]
    if len(known) < 2:
        return f"{figure.label}: no earlier runs to draw a trend"
    return (f"{figure.label} over the last {len(known)} runs: from {figure.shown(known[0])} to "
            f"{figure.shown(known[-1])}, lowest {figure.shown(min(known))}, highest {figure.shown(max(known))}")
