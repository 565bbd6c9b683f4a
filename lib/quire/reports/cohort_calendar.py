"""The cohort report's calendar: which signup cohorts a period shows, and what to change when they hold too few users.

Advice is computed from where the warehouse's signups actually are (the nearest signups
before and after the reported cohorts, and the months the data covers), so it never
suggests a later period when the data ends earlier, or more cohorts when there are none.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from quire.formatting import long_date, month_year
from quire.periods import Period, add_months, month_start

if TYPE_CHECKING:
    from quire.reports.cohort_data import CohortData

MAX_COHORTS = 36


def cohort_end(start: date, granularity: str) -> date:
    """Last day of the cohort that starts on ``start``."""
    return add_months(start, 1) - timedelta(days=1) if granularity == "month" else start + timedelta(days=6)


def cohort_window(as_of: date, granularity: str, cohorts: int) -> tuple[date, date]:
    """First days of the oldest and newest of the ``cohorts`` last signup periods complete by ``as_of``."""
    after = as_of + timedelta(days=1)  # a period is complete when the next one starts by the day after as_of
    if granularity == "month":
        last = add_months(month_start(after), -1)
        return add_months(last, -(cohorts - 1)), last
    last = after - timedelta(days=after.weekday() + 7)
    return last - timedelta(weeks=cohorts - 1), last


def cohort_start(day: date, granularity: str) -> date:
    """First day of the cohort ``day`` falls in (its month, or the Monday of its week)."""
    return month_start(day) if granularity == "month" else day - timedelta(days=day.weekday())


def first_whole_cohort(data_start: date, granularity: str) -> date:
    """First day of the first cohort that lies wholly within data starting on ``data_start``."""
    start = cohort_start(data_start, granularity)
    return start if start == data_start else cohort_start(cohort_end(start, granularity) + timedelta(days=1), granularity)


def cohort_count(oldest: date, newest: date, granularity: str) -> int:
    """How many cohorts run from the one starting ``oldest`` to the one starting ``newest``, both included."""
    if granularity == "month":
        return (newest.year - oldest.year) * 12 + newest.month - oldest.month + 1
    return (newest - oldest).days // 7 + 1


def period_reaching(day: date, data: CohortData) -> tuple[Period, int] | None:
    """The first period within the data whose cohorts include the cohort of ``day``, and how many cohorts that takes.

    Tried in the report's kind of period, then as a month (a quarter or year ends long after
    an early cohort); None when the cohort is not complete within the data.
    """
    g = data.granularity
    start = cohort_start(day, g)
    for kind in dict.fromkeys((data.period.kind, "month")):
        period = Period.containing(cohort_end(start, g), kind)
        if not (data.data_months[0] <= period.start and period.last_month <= data.data_months[1]):
            continue
        wanted = cohort_count(start, cohort_window(period.end, g, 1)[1], g)
        if wanted <= data.requested:
            return period, data.requested
        if kind == "month" and wanted <= MAX_COHORTS:
            return period, wanted
    return None


def _with(period: Period, cohorts: int, data: CohortData) -> str:
    return period.key + (f" with cohorts={cohorts}" if cohorts != data.requested else "")


def empty_cohorts_advice(data: CohortData) -> str:
    """What to change when the reported cohorts hold no user, from where the nearest signups actually are."""
    options = []
    if data.signup_before is not None:
        back = cohort_count(cohort_start(data.signup_before.date(), data.granularity), data.last_cohort, data.granularity)
        if back <= MAX_COHORTS:
            options.append(f"show more cohorts (cohorts={back} reaches back to the last earlier signup, on "
                           f"{long_date(data.signup_before)})")
        elif found := period_reaching(data.signup_before.date(), data):
            options.append(f"choose an earlier period ({_with(*found, data)}: the last earlier signup was on "
                           f"{long_date(data.signup_before)})")
    if data.signup_after is not None and (found := period_reaching(data.signup_after.date(), data)):
        options.append(f"choose a later period ({_with(*found, data)}: the next users signed up from "
                       f"{long_date(data.signup_after)})")
    if not options:
        first, last = data.data_months
        return f"No other cohort is complete within the data ({month_year(first)} to {month_year(last)})."
    return options[0][0].upper() + options[0][1:] + "".join(f", or {o}" for o in options[1:]) + "."


def few_cohorts_advice(data: CohortData) -> str:
    """What would give the comparison more cohorts: earlier ones if the data has them, else later periods."""
    if data.signup_before is not None and data.requested < MAX_COHORTS:
        return f"Earlier cohorts exist (the last signup before these was on {long_date(data.signup_before)}): show more cohorts."
    first, last = data.data_months
    starts = f"on {long_date(data.data_start)}" if data.data_start else f"in {month_year(first)}"
    text = f"These are the first cohorts of the data, which starts {starts}"
    return text + (", so later periods will have more of them to compare." if data.period.last_month < last else ".")
