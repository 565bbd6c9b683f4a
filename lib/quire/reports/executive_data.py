"""What the executive report reads and the KPIs it computes from it, for any period the data covers.

:func:`load` is the report's only I/O (one read-only warehouse connection): the period's data and the
history its comparisons need. :func:`period_figures` turns that data into the KPIs of one period with
the pure functions of :mod:`quire.metrics`; a KPI whose basis is below :data:`MIN_BASIS` (a handful
of answers, projects or churned accounts) is None, with the count it rests on.
:class:`~quire.reports.executive.ExecutiveReport` presents them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import NamedTuple

import pandas as pd

from quire import metrics
from quire.config import get_settings
from quire.contract import contract, lacking_columns, usable_tables
from quire.errors import WarehouseDataError
from quire.periods import Period, add_months, resolve_period
from quire.warehouse import coverage, queries
from quire.warehouse.engine import connection

CONTRACT = contract("executive")
HISTORY_PERIODS = 12  # trailing periods used for the alert baselines and retention trend
CHURN_MONTHS = 12  # CLV's churn rate is pooled over this many trailing months


class Basis(NamedTuple):
    """What a KPI is counted from ("projects delivered", "project delivered" for one) and the least count it needs."""

    things: str
    least: int
    one: str


# The least count a KPI needs before it is shown. Below it one answer, project or churned account
# more or less would move the figure by many points.
MIN_BASIS = {"nps": Basis("survey answers", 10, "survey answer"), "csat": Basis("survey answers", 10, "survey answer"),
             "on_time_rate": Basis("projects delivered", 5, "project delivered"),
             "project_margin": Basis("projects delivered", 5, "project delivered"),
             "clv": Basis("accounts churned", 3, "account churned")}


@dataclass(frozen=True)
class ExecutiveData:
    """Everything the report reads from the warehouse for one period."""

    period: Period
    first_month: date       # first month of the MRR ledger
    last_month: date        # last complete month of the data
    clients: pd.DataFrame
    movements: pd.DataFrame
    projects: pd.DataFrame
    surveys: pd.DataFrame
    usage: pd.DataFrame
    tickets: pd.DataFrame
    absent: tuple[str, ...] = ()  # optional tables of the contract the warehouse lacks (their frames are empty)
    lacking: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # of those, the ones there without columns
    ledger_ends: date | None = None  # the month of the ledger's last movement, whatever the period (None: unknown)

    @cached_property
    def ledger(self) -> metrics.Ledger:
        """The movements checked and normalised once: the report computes ~70 figures from them."""
        return metrics.ledger(self.movements)


def load(period: str, url: str | None = None) -> ExecutiveData:
    """Read the period's data (and the history its comparisons need) from the warehouse."""
    with connection(url or get_settings().warehouse) as conn:
        usable = usable_tables(conn, CONTRACT)
        first, last = coverage.report_range("executive", conn)
        p = resolve_period(period, first_month=first, last_month=last, months_from=coverage.months_from("executive"))
        problem = queries.ledger_problem(conn, until=p.last_month)
        if problem:
            raise WarehouseDataError(problem)
        since = max(first, add_months(p.start, -HISTORY_PERIODS * p.n_months))
        end = p.end
        return ExecutiveData(
            period=p, first_month=first, last_month=last,
            clients=queries.clients(conn),
            movements=queries.mrr_movements(conn, until=p.last_month),
            # CLV's margin reads the trailing twelve months of projects (of the previous period too), which
            # may reach back before the MRR ledger starts.
            projects=queries.projects(conn, min(since, add_months(p.start, -CHURN_MONTHS)), end),
            surveys=queries.survey_responses(conn, since, end),
            usage=queries.product_usage(conn, end - timedelta(weeks=16), end),
            tickets=queries.support_tickets(conn, end - timedelta(days=120), end),
            absent=tuple(t.name for t in CONTRACT.optional_tables if t.name not in usable),
            lacking=lacking_columns(conn, CONTRACT),
            ledger_ends=queries.ledger_last_month(conn),
        )


def clv_margin(data: ExecutiveData, period: Period) -> float | None:
    """The margin CLV multiplies by: the projects' gross margin over the twelve months to ``period``'s end."""
    year = Period(add_months(period.start, period.n_months - 12), "year") if period.n_months < 12 else period
    return metrics.project_delivery(data.projects, year).gross_margin


def period_kpis(data: ExecutiveData, period: Period) -> dict[str, float | None]:
    """The report's KPIs for any period covered by ``data`` (values as plain floats, rates as fractions).

    A KPI whose basis is below :data:`MIN_BASIS` is None (:func:`period_figures` gives the counts).
    """
    return period_figures(data, period)[0]


def churn_estimate(data: ExecutiveData, period: Period) -> metrics.ChurnEstimate:
    """The stable monthly churn CLV divides by: pooled over the trailing twelve months (fewer when the data is younger)."""
    return metrics.trailing_churn(data.ledger, period.last_month, CHURN_MONTHS)


def period_figures(data: ExecutiveData, period: Period) -> tuple[dict[str, float | None], dict[str, int]]:
    """:func:`period_kpis`, and KPI → the count it rests on for the KPIs below :data:`MIN_BASIS` (shown as "—")."""
    bridge = metrics.mrr_bridge(data.ledger, period)
    ret = metrics.retention(data.ledger, period)
    accounts = metrics.mrr_by_client(data.ledger, pd.Timestamp(period.last_month))
    arpa = metrics.arpa(data.ledger, pd.Timestamp(period.last_month))
    delivery = metrics.project_delivery(data.projects, period)
    margin = clv_margin(data, period)
    churn = churn_estimate(data, period)
    sat = metrics.satisfaction(data.surveys, period)
    values = {
        "mrr": bridge.end_mrr,
        "arr": bridge.end_mrr * 12,
        "mrr_growth": (bridge.end_mrr / bridge.start_mrr - 1) if bridge.start_mrr else None,
        "nrr": ret.nrr,
        "grr": ret.grr,
        "logo_churn": ret.logo_churn_rate,
        "revenue_churn": ret.revenue_churn_rate,
        "customers": float(len(accounts)),
        "arpa": arpa,
        "clv": metrics.clv(arpa, margin, churn.rate),
        "on_time_rate": delivery.on_time_rate,
        "project_margin": delivery.gross_margin,
        "nps": sat.nps,
        "csat": sat.csat,
    }
    counts = {"nps": sat.nps_responses, "csat": sat.csat_responses, "on_time_rate": delivery.delivered,
              "project_margin": delivery.delivered, "clv": churn.churned}
    thin = {}
    for key, basis in MIN_BASIS.items():
        if counts[key] < basis.least:
            values[key] = None
            thin[key] = counts[key]
    return values, thin
