"""What the cohort report reads: its parameters checked, and the reported cohorts' users and events.

:func:`load` is the report's only I/O (one read-only warehouse connection): the users of the
reported cohorts and their events up to the report's as-of date. Which cohorts: the ``cohorts``
most recent *complete* signup periods at the end of ``period`` (the as-of date). A period still in
progress is never a cohort, nor is one the data starts partway through, so sizes are final.
Bad parameters raise :class:`ParameterError` before any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from quire.config import get_settings
from quire.contract.reports import CONTRACTS
from quire.errors import ParameterError, WarehouseDataError
from quire.metrics.cohorts import ACTIVE_EVENTS, GRANULARITIES
from quire.periods import Period, resolve_period
from quire.reports.cohort_calendar import MAX_COHORTS, cohort_end, cohort_start, cohort_window, first_whole_cohort
from quire.warehouse import cohort_queries, coverage
from quire.warehouse.engine import connection

BEHAVIOURS = ("all", "activated")
ACTIVATION_EVENT = "activation"
REVENUE_EVENT = "purchase"
READ_EVENTS = tuple(dict.fromkeys((*ACTIVE_EVENTS, REVENUE_EVENT, ACTIVATION_EVENT)))
MAX_HORIZON = 36


@dataclass(frozen=True)
class CohortData:
    """Everything the report reads from the warehouse: the cohorts' users and their events up to ``as_of``."""

    period: Period
    granularity: str
    as_of: date
    first_cohort: date      # first day of the oldest reported cohort
    last_cohort: date       # first day of the newest (complete) cohort
    requested: int          # how many cohorts were asked for
    users: pd.DataFrame     # user_id, signed_up_at
    events: pd.DataFrame    # user_id, event_type, occurred_at, revenue
    data_months: tuple[date, date]  # first and last complete month the cohort data covers
    data_start: date | None = None  # the day the data starts (signups, and events tracked); None: data_months[0]
    # The nearest signups outside the cohorts (None: there is none): what to suggest when they are empty or few.
    signup_before: datetime | None = None
    signup_after: datetime | None = None
    # Purchases the cohorts' users made before their signup, per buyer (user_id, purchases, revenue): left out, as a
    # user's ages start there.
    early_purchases: pd.DataFrame | None = None
    # Signups of the data's first cohort when the data starts after its first day and it is a reported cohort: no
    # complete signup period, so left out (see :attr:`partial_cohort`).
    left_out: int = 0
    # First days of the months (or weeks) up to ``as_of`` that hold no event at all while the periods around them
    # have plenty (see coverage.missing_periods): missing data, shown as unknown rather than as 0 %.
    missing: tuple[date, ...] = ()

    @property
    def whole_start(self) -> date:
        """First day of the data's first complete cohort (see :func:`first_whole_cohort`)."""
        return first_whole_cohort(self.data_start or self.data_months[0], self.granularity)

    @property
    def partial_cohort(self) -> date | None:
        """First day of the cohort the data starts inside of (a first signup on 3 January: January), which no report
        counts, as it misses the signups of its days before the data; None when the data starts on a cohort's first day."""
        start = cohort_start(self.data_start or self.data_months[0], self.granularity)
        return start if start < self.whole_start else None


def check_parameters(granularity: str = "month", cohorts: int = 12, horizon: int = 12, behaviour: str = "all",
                     activation_days: int = 7) -> None:
    """Raise a one-line :class:`ParameterError` for a parameter the report cannot use (before any I/O)."""
    if granularity not in GRANULARITIES:
        raise ParameterError(f"parameter 'granularity': {granularity!r} is not supported; use week or month",
                             parameter="granularity")
    if behaviour not in BEHAVIOURS:
        raise ParameterError(f"parameter 'behaviour': {behaviour!r} is not supported; use all or activated",
                             parameter="behaviour")
    for name, value, low, high in (("cohorts", cohorts, 2, MAX_COHORTS), ("horizon", horizon, 1, MAX_HORIZON),
                                   ("activation_days", activation_days, 1, 90)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise ParameterError(f"parameter '{name}': {value!r} is not a whole number between {low} and {high}",
                                 parameter=name)


def load(period: str = "latest", granularity: str = "month", cohorts: int = 12, url: str | None = None) -> CohortData:
    """Read the users of the ``cohorts`` last complete cohorts at the end of ``period``, and their events up to then.

    Raises :class:`ParameterError` for a period outside the data (e.g. in the future).
    """
    check_parameters(granularity, cohorts)
    with connection(url or get_settings().warehouse) as conn:
        first, last = coverage.report_range("cohort", conn)
        p = resolve_period(period, first_month=first, last_month=last)
        as_of = p.end
        oldest, newest = cohort_window(as_of, granularity, cohorts)
        last_day = cohort_end(newest, granularity)
        miscased = cohort_queries.miscased_event_types(conn)  # refused before a run too; this is for the apps
        if miscased:
            raise WarehouseDataError(miscased)
        # A cohort that began before the data did holds only the days the data has (a week of 2 June days):
        # not a complete signup period, so its users are not read, like those of cohorts wholly before the data.
        # The data starts on a day (a first signup on Wednesday 14 January; events tracked from the 15th): the
        # first whole cohort is counted from that day, and no signup before it is an earlier cohort to offer.
        start = coverage.span_start(conn, CONTRACTS["cohort"].coverage) or first
        data_whole = first_whole_cohort(start, granularity)
        whole = max(oldest, data_whole)
        before, after = cohort_queries.signups_around(conn, whole, last_day, not_before=data_whole)
        partial = cohort_start(start, granularity)
        left_out = (len(cohort_queries.cohort_users(conn, partial, data_whole - timedelta(days=1)))
                    if oldest <= partial <= newest and partial < data_whole else 0)
        return CohortData(
            period=p, granularity=granularity, as_of=as_of, first_cohort=oldest, last_cohort=newest,
            requested=cohorts,
            users=cohort_queries.cohort_users(conn, whole, last_day),
            events=cohort_queries.cohort_events(conn, whole, last_day, as_of, READ_EVENTS),
            data_months=(first, last), data_start=start, signup_before=before, signup_after=after,
            early_purchases=cohort_queries.purchases_before_signup(conn, whole, last_day, as_of), left_out=left_out,
            missing=tuple(d for d in coverage.missing_periods(conn, granularity) if whole <= d <= as_of),
        )
