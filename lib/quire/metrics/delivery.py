"""Project delivery and profitability: on-time rate, hours overrun, revisions, margin.

Input: the ``projects`` table as a DataFrame (``project_id``, ``client_id``, ``name``,
``due_on``, ``delivered_on`` — null while in progress —, ``estimated_hours``,
``actual_hours``, ``revision_rounds``, ``revenue``, ``cost``). A project belongs to the
period in which it was *delivered*; projects still in progress are not measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from quire.periods import Period


@dataclass(frozen=True)
class Delivery:
    """Delivery KPIs of the projects delivered in a period. Rates are fractions; None when nothing was delivered.

    * ``on_time_rate`` — share delivered on or before the due date.
    * ``avg_hours_overrun`` — mean of (actual − estimated) ÷ estimated hours, per project
      (each project weighs the same, whatever its size), over the ``overrun_basis`` projects that have
      both a positive estimate and their actual hours.
    * ``gross_margin`` — (revenue − cost) ÷ revenue over all delivered projects together.
    """

    delivered: int
    on_time_rate: float | None
    avg_hours_overrun: float | None
    avg_revision_rounds: float | None
    revenue: float
    cost: float
    gross_margin: float | None
    overrun_basis: int = 0


def _delivered_in(projects: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Projects delivered within ``period`` (both ends inclusive), with dates as Timestamps and ``overrun``/``on_time`` added."""
    delivered_on = pd.to_datetime(projects["delivered_on"])
    inside = delivered_on.between(pd.Timestamp(period.start), pd.Timestamp(period.end))
    frame = projects.loc[inside].assign(delivered_on=delivered_on[inside])
    estimated = frame["estimated_hours"].astype(float)
    # A project without an estimate has no meaningful overrun: NaN keeps it out of the mean.
    overrun = (frame["actual_hours"].astype(float) - estimated) / estimated.where(estimated > 0)
    return frame.assign(overrun=overrun, on_time=frame["delivered_on"] <= pd.to_datetime(frame["due_on"]))


def _mean(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.mean()) if len(values) else None


def project_delivery(projects: pd.DataFrame, period: Period) -> Delivery:
    """Delivery and profitability KPIs of the projects delivered in ``period`` (see :class:`Delivery`)."""
    frame = _delivered_in(projects, period)
    revenue = float(frame["revenue"].astype(float).sum())
    cost = float(frame["cost"].astype(float).sum())
    return Delivery(
        delivered=len(frame),
        on_time_rate=_mean(frame["on_time"].astype(float)),
        avg_hours_overrun=_mean(frame["overrun"]),
        avg_revision_rounds=_mean(frame["revision_rounds"].astype(float)),
        revenue=revenue,
        cost=cost,
        gross_margin=(revenue - cost) / revenue if revenue > 0 else None,
        overrun_basis=int(frame["overrun"].notna().sum()),
    )


def worst_overruns(projects: pd.DataFrame, period: Period, limit: int = 5) -> pd.DataFrame:
    """The ``limit`` projects delivered in ``period`` with the largest hours overrun (only those over estimate).

    Columns: ``project_id``, ``client_id``, ``name``, ``estimated_hours``, ``actual_hours``,
    ``overrun`` (fraction: 0.25 = 25 % over), ``on_time`` (bool); largest overrun first.
    """
    frame = _delivered_in(projects, period)
    over = frame[frame["overrun"] > 0].sort_values(["overrun", "project_id"], ascending=[False, True], kind="stable")
    columns = ["project_id", "client_id", "name", "estimated_hours", "actual_hours", "overrun", "on_time"]
    return over.head(limit)[columns].reset_index(drop=True)
