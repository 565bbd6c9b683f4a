"""Reporting periods: a month (``2026-10``), a quarter (``2026-Q3``) or a year (``2026``).

Pure value objects; ``latest`` is resolved against the warehouse's last complete
month by the caller (see :func:`resolve_period`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from quire.errors import ParameterError

#: Years a date in the data may fall in: outside them it is a placeholder ("no end": 9999-12-31,
#: "unknown": 0001-01-01), not data. The import refuses such dates; reports and checks name them.
PLAUSIBLE_YEARS = (1900, 2100)
#: How a report or check names such a date.
PLACEHOLDER_DATE = (f"a date outside {PLAUSIBLE_YEARS[0]}–{PLAUSIBLE_YEARS[1] - 1} is a placeholder "
                    "(such as 9999-12-31), not data")
#: The value of a period (or experiment) parameter that names the newest one in the warehouse.
LATEST = "latest"
PERIOD_HELP = "use YYYY-MM (e.g. 2026-10), YYYY-Qn (e.g. 2026-Q3), YYYY (e.g. 2025) or 'latest'"


def plausible(day: date) -> bool:
    """Whether ``day`` falls in :data:`PLAUSIBLE_YEARS` (else it is a placeholder, not data)."""
    return plausible_year(day.year)


def plausible_year(year: int) -> bool:
    """Whether ``year`` lies in :data:`PLAUSIBLE_YEARS` (a year with no date at all, such as 0, does not)."""
    return PLAUSIBLE_YEARS[0] <= year < PLAUSIBLE_YEARS[1]


# ASCII digits only: \d also takes "２０２６" and "٢٠٢٦", which int() reads and no one means as a period.
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^([0-9]{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^([0-9]{4})$")
_MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}


def add_months(d: date, n: int) -> date:
    """First day of the month ``n`` months after ``d``'s month."""
    total = d.year * 12 + (d.month - 1) + n
    return date(total // 12, total % 12 + 1, 1)


def month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def last_ended_month(today: date | None = None) -> date:
    """The first day of the last month that has ended by ``today`` (default: the calendar's).

    Data can be dated in a month still running (an export taken mid-month) or later (a billing
    tool's change booked for the next renewal); neither is a complete month, whatever the data holds.
    """
    return add_months(month_start(today or date.today()), -1)


@dataclass(frozen=True, order=True)
class Period:
    """A whole number of calendar months: ``start`` is the first day, ``end`` the last day (inclusive)."""

    start: date
    kind: str  # month | quarter | year

    @property
    def n_months(self) -> int:
        return _MONTHS_IN[self.kind]

    @property
    def end(self) -> date:
        return add_months(self.start, self.n_months) - timedelta(days=1)

    @property
    def months(self) -> list[date]:
        """First day of each month in the period."""
        return [add_months(self.start, i) for i in range(self.n_months)]

    @property
    def last_month(self) -> date:
        return add_months(self.start, self.n_months - 1)

    @classmethod
    def containing(cls, day: date, kind: str) -> "Period":
        """The month, quarter or year (``kind``) that ``day`` falls in."""
        months = _MONTHS_IN[kind]
        return cls(date(day.year, (day.month - 1) // months * months + 1, 1), kind)

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(add_months(self.start, -self.n_months), self.kind)

    def shift(self, n: int) -> "Period":
        """The period ``n`` lengths later (negative: earlier)."""
        return Period(add_months(self.start, n * self.n_months), self.kind)

    @property
    def key(self) -> str:
        """Canonical text form, the inverse of :func:`parse_period`."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    @property
    def label(self) -> str:
        """Human label in the run's locale (:mod:`quire.formatting`): 'October 2026', 'Q3 2026', '2025'."""
        from quire.formatting.dates import month_year, quarter_year

        if self.kind == "month":
            return month_year(self.start)
        if self.kind == "quarter":
            return quarter_year(self.start)
        return str(self.start.year)

    def __str__(self) -> str:
        return self.key


def parse_period(text: str, *, parameter: str = "period") -> Period | None:
    """Parse a period; ``None`` means 'latest'. Raises :class:`ParameterError` naming the parameter."""
    value = str(text).strip()
    if value.lower() == LATEST:
        return None
    m = _MONTH.match(value) or _QUARTER.match(value) or _YEAR.match(value)
    if m is None:
        raise ParameterError(f"parameter '{parameter}': {value!r} is not a period; {PERIOD_HELP}", parameter=parameter)
    year = int(m[1])
    # No data lies outside these years, arithmetic on the year 9999 (the one before, the one after) fails,
    # and there is no year 0 at all: checked on the year, before any date is made of it.
    if not plausible_year(year):
        first, last = PLAUSIBLE_YEARS
        raise ParameterError(f"parameter '{parameter}': {value!r} is outside the years {first}–{last - 1}",
                             parameter=parameter)
    if m.re is _MONTH:
        return Period(date(year, int(m[2]), 1), "month")
    if m.re is _QUARTER:
        return Period(date(year, 3 * (int(m[2]) - 1) + 1, 1), "quarter")
    return Period(date(year, 1, 1), "year")


def resolve_period(text: str, *, first_month: date, last_month: date, parameter: str = "period",
                   months_from: str = "") -> Period:
    """Parse ``text`` and check it lies within the data: ``first_month``..``last_month`` (complete months).

    ``latest`` becomes the month ``last_month``. A period reaching past the data (in the future) or
    beginning before it is a :class:`ParameterError` that says which months are available, and
    ``months_from`` (where the report's months come from, when that explains a month it lacks).
    """
    period = parse_period(text, parameter=parameter) or Period(month_start(last_month), "month")
    covers = f"data covers {first_month:%Y-%m} to {last_month:%Y-%m}"
    available = covers + (f": {months_from}" if months_from else "")
    if period.last_month > last_month:
        # A period still running is "not complete yet"; one already past that the data stops short of is not.
        # The month after the last complete one may hold some data (a log exported mid-month): only a
        # period beginning later still is surely after the data. Where the months come from explains only
        # a month the data lacks.
        today = date.today()
        if period.end >= today:
            why, said = ("is in the future" if period.start > today else "is not complete yet"), covers
        else:
            why = "is after the data ends" if period.start > add_months(last_month, 1) else "is not complete in the data yet"
            said = available
        raise ParameterError(f"parameter '{parameter}': {period.key} {why} ({said}); pick an earlier period or "
                             "'latest'", parameter=parameter)
    if period.last_month < first_month:
        raise ParameterError(f"parameter '{parameter}': {period.key} is before the data starts ({available}); pick a "
                             "later period or 'latest'", parameter=parameter)
    if period.start < first_month:  # its figures would silently cover only the months the data has
        first_whole = period.shift(1)  # the first of its kind wholly within the data ("2024-Q2", not "2024-02")
        suggestion = (f"the first whole {period.kind} in the data is {first_whole.key}"
                      if first_whole.last_month <= last_month else f"no whole {period.kind} is in the data yet")
        raise ParameterError(f"parameter '{parameter}': {period.key} begins before the data does ({available}); "
                             + suggestion, parameter=parameter)
    return period
