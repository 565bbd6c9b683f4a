"""Alerts: KPIs far outside their own recent history, and KPIs past a business threshold.

Anomalies use a robust z-score: the distance of the latest value from the median of the
trailing values, in units of the scaled median absolute deviation (MAD). Median and MAD
ignore the odd past outlier that would inflate a mean and standard deviation, so one
bad month does not mask the next.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from quire.formatting import number, short_month_year, significant
from quire.metrics.kpi import format_value

Severity = Literal["info", "warning", "critical"]

MIN_HISTORY = 6  # trailing values needed before a deviation means anything
MAD_SCALE = 1.4826  # MAD × 1.4826 estimates the standard deviation of normal data
# When more than half the trailing values are equal the MAD is 0; the mean absolute
# deviation (× 1.2533, its normal-consistency factor) still measures the spread.
MEAN_AD_SCALE = 1.2533
CRITICAL_FACTOR = 2.0  # a bad move beyond CRITICAL_FACTOR × z is critical, below it a warning
# The smallest change a report shows in a unit (a rate to a tenth of a point, NPS in whole points): a spread
# below it is no spread. A rate that was exactly 100 % for a year has no spread at all, and 99.98 % after it
# was "infinitely" far from usual: a critical alert reading "100.0%, far below its usual level (100.0%)".
VISIBLE_STEP = {"percent": 0.001, "points": 1.0, "currency": 1.0, "number": 1.0}


@dataclass(frozen=True)
class Alert:
    """One alert. ``kpi`` is the KPI's name as given in the input; ``message`` is a plain-language sentence.

    ``finding`` is the same finding as a clause without the KPI's name and value ("above
    the 3.0% threshold"), so that :func:`merge_alerts` can add it to another alert of the KPI.
    """

    kpi: str
    severity: Severity
    message: str
    finding: str = field(default="", compare=False)


_RANK = {"info": 0, "warning": 1, "critical": 2}


def merge_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """One alert per KPI: the most severe one (the first on a tie), with the other findings appended.

    A KPI past its threshold is often also far from its usual level; two alerts for one
    figure in one period read as two problems.
    """
    by_kpi: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_kpi.setdefault(alert.kpi, []).append(alert)
    merged = []
    for found in by_kpi.values():
        lead = max(found, key=lambda a: _RANK[a.severity])  # max keeps the first of equals
        extra = " ".join(f"It is also {a.finding}." if a.finding else a.message for a in found if a is not lead)
        merged.append(Alert(lead.kpi, lead.severity, f"{lead.message} {extra}".strip(), lead.finding))
    return merged


def robust_z(latest: float, trailing: Sequence[float] | np.ndarray, *, floor: float = 0.0) -> float:
    """``(latest − median) / (1.4826 × MAD)`` of ``trailing``, the scale at least ``floor``; ±inf if the trailing
    values never varied (and ``floor`` is 0) but latest differs."""
    trailing = np.asarray(trailing, dtype=float)
    median = float(np.median(trailing))
    deviations = np.abs(trailing - median)
    scale = max(float(np.median(deviations)) * MAD_SCALE or float(np.mean(deviations)) * MEAN_AD_SCALE, floor)
    if scale > 0:
        return (latest - median) / scale
    return 0.0 if math.isclose(latest, median, rel_tol=1e-9, abs_tol=1e-12) else math.copysign(math.inf, latest - median)


def _format(value: float, unit: str | None) -> str:
    if unit:
        return format_value(value, unit)
    return number(value) if abs(value) >= 100 else significant(value, 3)


def detect_anomalies(history: pd.DataFrame, *, z: float = 2.5) -> list[Alert]:
    """Flag each KPI whose value in the latest period deviates from its trailing values by a robust |z| above ``z``.

    ``history`` columns: ``kpi``, ``period`` (sortable: "2026-10", "2026-Q3", Timestamps),
    ``value``, ``direction`` (``up_is_good`` | ``down_is_good``) and optionally ``unit``
    (a :func:`format_value` unit, for the message and the :data:`VISIBLE_STEP` below which
    a spread or a change does not count) and ``label`` (the KPI's name in the message;
    default ``kpi``). Only KPIs with a value in the latest period and at least 6 trailing
    values are tested (:func:`testable_kpis`); missing values are skipped. An empty history
    (no earlier period in the data), with or without its columns, raises no alert.

    Severity: a move in the good direction is ``info``; a bad move is ``warning``, or
    ``critical`` beyond twice ``z``.
    """
    found = (_anomaly(kpi, series, z) for kpi, series in _testable(history))
    return [alert for alert in found if alert is not None]


def testable_kpis(history: pd.DataFrame) -> list[str]:
    """The KPIs of ``history`` (as :func:`detect_anomalies` reads it) that it can test: a value in the latest
    period and at least :data:`MIN_HISTORY` earlier ones. A report says which it could not."""
    return [kpi for kpi, _ in _testable(history)]


def _testable(history: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each testable KPI with its rows in period order (see :func:`testable_kpis`).

    The latest period is the history's, figures or not: a month without any figure (no account paying at its
    start) is still the month reported on, and an earlier month's deviation is no news in it.
    """
    if history.empty:
        return
    latest_period = history["period"].max()
    rows = history.dropna(subset=["value"]).sort_values("period", kind="stable")
    for kpi, series in rows.groupby("kpi", sort=False):
        if series["period"].iloc[-1] == latest_period and len(series) >= MIN_HISTORY + 1:
            yield str(kpi), series


def _anomaly(kpi: str, series: pd.DataFrame, z: float) -> Alert | None:
    """The alert for one KPI's history (rows in period order), or None if its latest value is usual."""
    values = series["value"].astype(float).to_numpy()
    latest, trailing = values[-1], values[:-1]
    unit = series["unit"].iloc[-1] if "unit" in series.columns else None
    unit = unit if isinstance(unit, str) else None
    median = float(np.median(trailing))
    if _format(latest, unit) == _format(median, unit):
        return None  # a change the report cannot show is no anomaly ("100.0%, far below its usual 100.0%")
    if not np.median(np.abs(trailing - median)) and trailing.min() <= latest <= trailing.max():
        # Most months were equal (no churn in 8 of 11), so the spread is the mean distance from them, which a few
        # other months set: a value those months already reached (3.1% churn, as last month) is not unusual.
        return None
    score = robust_z(latest, trailing, floor=VISIBLE_STEP.get(unit or "", 0.0))
    if abs(score) <= z:
        return None
    bad = (score < 0) == (series["direction"].iloc[-1] == "up_is_good")
    far = abs(score) >= CRITICAL_FACTOR * z
    severity: Severity = "info" if not bad else "critical" if far else "warning"
    label = series["label"].iloc[-1] if "label" in series.columns else kpi
    tail = "" if bad else " — an unusually good result; worth confirming it is real"
    finding = (f"{'far ' if far else ''}{'above' if score > 0 else 'below'} its usual level (median "
               f"{_format(median, unit)} over the previous {len(trailing)} periods)")
    message = f"{label} is {_format(latest, unit)} in {_period_text(series['period'].iloc[-1])}, {finding}{tail}."
    return Alert(kpi, severity, message, finding)


def _period_text(period: object) -> str:
    """Period label for a message: Timestamps as "Oct 2026", anything else as given."""
    return short_month_year(period) if isinstance(period, (pd.Timestamp, date)) else str(period)


@dataclass(frozen=True)
class _Rule:
    key: str
    label: str
    unit: str
    below: bool  # True: alert when the value falls below the thresholds; False: when it rises above
    warning: float
    critical: float
    meaning: str
    yearly: bool = False  # the thresholds are for a year: a shorter period's retention compounds to them

    def limits(self, months: int) -> tuple[float, float]:
        """(warning, critical) for a period of ``months``: a year's 90 % is 99.1 % a month (0.9 ** (1/12))."""
        if not self.yearly or months == 12:
            return self.warning, self.critical
        return self.warning ** (months / 12), self.critical ** (months / 12)

    def passed(self, value: float, months: int) -> tuple[str, float, float] | None:
        """(severity, the line ``value`` is past for ``months``, that line for a year) of the farthest line passed;
        None when ``value`` passes neither. A critical alert names its own line: "below the 100.0% threshold"
        beside "Critical" did not say why it was critical."""
        warning, critical = self.limits(months)
        if _past(value, critical, self.below):
            return "critical", critical, self.critical
        if _past(value, warning, self.below):
            return "warning", warning, self.warning
        return None


# Business thresholds agreed for the executive report; rates are fractions, logo churn is monthly. Retention
# thresholds are the usual yearly ones (GRR 90 %): a month that keeps 95.8 % keeps about 60 % over a year.
THRESHOLD_RULES = (
    _Rule("nrr", "Net revenue retention", "percent", True, 1.00, 0.90, "existing accounts are shrinking in total",
          yearly=True),
    _Rule("grr", "Gross revenue retention", "percent", True, 0.90, 0.80, "too much revenue is lost to contraction and churn",
          yearly=True),
    _Rule("logo_churn", "Monthly logo churn", "percent", False, 0.03, 0.05, "accounts are leaving faster than is sustainable"),
    _Rule("on_time_rate", "On-time delivery", "percent", True, 0.80, 0.60, "too many projects are delivered late"),
    _Rule("nps", "NPS", "points", True, 20.0, 0.0, "too few customers would recommend us"),
)


def _past(value: float, limit: float, below: bool) -> bool:
    return value < limit if below else value > limit


def threshold_alerts(kpis: dict[str, float | None], months: int = 12) -> list[Alert]:
    """Alerts for KPIs past a business threshold: NRR < 100 %, GRR < 90 % over a year, monthly logo churn > 3 %,
    on-time rate < 80 %, NPS < 20 (critical past 90 %, 80 %, 5 %, 60 % and 0 respectively).

    ``kpis`` maps keys (``nrr``, ``grr``, ``logo_churn`` — monthly —, ``on_time_rate``,
    ``nps``) to values; rates are fractions. Missing or None values raise no alert. NRR and GRR
    are over the report's period of ``months``: their yearly thresholds compound to it.
    """
    alerts = []
    for rule in THRESHOLD_RULES:
        value = kpis.get(rule.key)
        if value is None or not math.isfinite(value):
            continue
        passed = rule.passed(value, months)
        if passed is None:
            continue
        severity, limit, yearly = passed
        line = "critical threshold" if severity == "critical" else "threshold"
        finding = f"{'below' if rule.below else 'above'} the {format_value(limit, rule.unit)} {line}"
        if limit != yearly:
            finding += f" for {_span(months)} ({format_value(yearly, rule.unit)} over a year)"
        message = f"{rule.label} is {_apart(value, limit, rule.unit)}, {finding}: {rule.meaning}."
        alerts.append(Alert(rule.key, severity, message, finding))
    return alerts


def _apart(value: float, limit: float, unit: str) -> str:
    """``value`` with as many decimals as it takes not to read as ``limit`` ("99.98%", not "100.0%, below the 100.0%")."""
    return format_value(value, unit, decimals=_places_apart(value, limit, unit))


def _places_apart(value: float, limit: float, unit: str) -> int:
    for decimals in range(0, 4):
        if format_value(value, unit, decimals=decimals) != format_value(limit, unit, decimals=decimals):
            return decimals
    return 4


def threshold_places(kpis: dict[str, float | None], months: int = 12) -> dict[str, int]:
    """Decimals each KPI past its threshold needs on a card to read as its alert does (99.98 %, not 100.0 %).

    Takes the same ``kpis`` and ``months`` as :func:`threshold_alerts`; only KPIs whose usual precision would
    read as their threshold are in it.
    """
    places = {}
    for rule in THRESHOLD_RULES:
        value = kpis.get(rule.key)
        passed = rule.passed(value, months) if value is not None and math.isfinite(value) else None
        if passed is not None:
            places[rule.key] = _places_apart(value, passed[1], rule.unit)
    return {key: decimals for key, decimals in places.items() if decimals}


def _span(months: int) -> str:
    return {1: "a month", 3: "a quarter"}.get(months, f"{months} months")
