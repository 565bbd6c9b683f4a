"""Which months each report can cover: the first and last complete month of the tables it reads.

A report's valid periods and its ``latest`` come from its own data, as its data contract
(:mod:`quire.contract`) declares: the executive report from the MRR ledger, the cohort
report from users and their events, the client report from daily engagement.
:data:`REPORT_RANGES` names, per report type (the stem of its notebook), the function
that reads that range; a notebook without an entry gets
the general range, :func:`quire.warehouse.queries.data_range`. The pipeline checks a
``period`` parameter against :func:`report_range` before a kernel starts, and each
report's ``load`` resolves ``latest`` through the same function, so both always agree.

Every function takes an open connection and returns ``(first, last)``: first-of-month
dates of the first month with data and the last *complete* month. A source without
rows, or without a complete month, or a table the warehouse lacks, is a
:class:`~quire.errors.WarehouseError` naming the tables that were read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.contract.inventory import family, inventory
from quire.contract.model import Coverage
from quire.contract.reports import CONTRACTS
from quire.errors import WarehouseDataError, WarehouseError
from quire.periods import PLACEHOLDER_DATE, add_months, last_ended_month, month_start, plausible
from quire.warehouse import cohort_queries, queries
from quire.warehouse.engine import CHECK_HINT, DATA_HINT, driver_reason, read_hint

Range = tuple[date, date]


def _as_date(value: date | datetime | str | None, where: str) -> date | None:
    # The bounds are read from untyped columns: SQLite hands its dates and instants back as ISO text.
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:  # text in another form ('31/12/2025'): the warehouse's, to store as a date
            raise WarehouseDataError(f"the warehouse's {where} holds {value!r}, which is not a date; store it as "
                                     "DATE or TIMESTAMP (ISO dates in text are read too)", hint=CHECK_HINT) from None
    return value.date() if isinstance(value, datetime) else value


def _scalars(conn: Connection, *columns: sa.ColumnElement) -> tuple:
    """One aggregate row (each column a scalar subquery, so tables need no join)."""
    try:
        return tuple(conn.execute(sa.select(*columns)).one())
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"cannot read the warehouse: {driver_reason(exc)}", hint=read_hint(exc)) from exc


def _checked(first: date | None, last_day: date | None, what: str) -> Range:
    """``first``'s month and the last complete month up to ``last_day``; errors name ``what`` was read."""
    if first is None or last_day is None:
        raise WarehouseError(f"the warehouse holds no {what}", hint=DATA_HINT)
    start, last = month_start(first), queries.last_complete_month(last_day)
    if last < start:
        raise WarehouseError(f"the warehouse holds no complete month of {what} (it starts {first:%Y-%m-%d} "
                             f"and ends {last_day:%Y-%m-%d})", hint=DATA_HINT)
    return start, last


def _bounds(conn: Connection, *wanted: tuple[str, str, str]) -> list[date | None]:
    """The ``min`` or ``max`` of each (table, column, "min" | "max") in one query; None for a column the warehouse lacks."""
    inv = inventory(conn)
    held = [w for w in wanted if inv.has(w[0], (w[1],))]
    if not held:
        return [None] * len(wanted)
    values = _scalars(conn, *(sa.select(getattr(sa.func, fn)(sa.column(c))).select_from(sa.table(t)).scalar_subquery()
                              for t, c, fn in held))
    found = {w: _as_date(value, f"{w[0]}.{w[1]}") for w, value in zip(held, values, strict=True)}
    for (table, column, _fn), value in found.items():
        if value is not None and not plausible(value):
            raise WarehouseError(f"the warehouse's {table}.{column} holds {value:%Y-%m-%d}: {PLACEHOLDER_DATE}; "
                                 "make it empty or correct it", hint=CHECK_HINT)
    return [found.get(w) for w in wanted]


def data_reach(conn: Connection, reach: tuple[tuple[str, str], ...] | None = None) -> date | None:
    """The last day the warehouse's daily data reaches (engagement or product events), None without any.

    ``reach``: the (table, column) pairs to look at (default: the executive contract's);
    tables the warehouse does not hold, or holds without a date or time in that column, are skipped.
    """
    known = _latest(conn, reach if reach is not None else CONTRACTS["executive"].coverage.reach)
    return max(known.values()) if known else None


def _latest(conn: Connection, pairs: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], date]:
    """The latest day of each (table, column) the warehouse holds as dates or instants, for those with any.

    Only dates and instants: these tables are no report's own here, so one holding its days as text (which its
    own report refuses) must not stop a report that merely looks at how far it reaches.
    """
    inv = inventory(conn)
    pairs = [(t, c) for t, c in pairs if family(inv.type_of(t, c) or "") in ("date", "timestamp", "timestamptz")]
    return {pair: day for pair, day in zip(pairs, _bounds(conn, *((t, c, "max") for t, c in pairs)), strict=True)
            if day is not None}


def ledger_range(conn: Connection, cov: Coverage | None = None) -> Range:
    """The executive report's months: from the MRR ledger's first month to the last month the data is complete for.

    The ledger has a row only where an account's MRR changed, so a month without one is a month without a change,
    not a month missing: a company whose accounts kept their plans since April was reported for April at the latest.
    How far the months go is told by how far the warehouse's daily data reaches (:func:`data_reach`: its last
    complete month); without any, by the later of the ledger's last month and the last complete month of the
    report's other dated tables (``cov.also``: answers, usage, tickets). A month counts once the calendar is past
    it (a row booked for a later month, as billing tools export scheduled changes, is not data of it yet).
    """
    cov = cov or CONTRACTS["executive"].coverage
    _require(conn, cov)
    first, last = _bounds(conn, (*cov.first, "min"), (*cov.last, "max"))
    if first is None:
        raise WarehouseError(f"the warehouse holds no {cov.what} (the executive report reads the MRR ledger)",
                             hint=DATA_HINT)
    reach = data_reach(conn, cov.reach)
    first, last = month_start(first), month_start(last)
    if reach is not None:
        last = queries.last_complete_month(reach)
    else:
        # A week of usage is dated by its first day and reaches its seventh.
        ends = [day + timedelta(days=6) if table == "product_usage" else day
                for (table, _), day in _latest(conn, cov.also).items()]
        if ends:
            last = max(last, queries.last_complete_month(max(ends)))
    last = min(last, last_ended_month())
    if last < first:
        ends = f"the daily data ends {reach:%Y-%m-%d}" if reach is not None else f"{first:%B %Y} has not ended yet"
        raise WarehouseError(f"the warehouse holds no complete month of {cov.what} (the ledger starts {first:%Y-%m}, "
                             f"{ends})", hint=DATA_HINT)
    return first, last


def span_range(conn: Connection, cov: Coverage, report: str = "") -> Range:
    """The months from the day the span's data starts (:func:`span_start`) to the last complete month of the latest
    ``cov.last`` value."""
    _require(conn, cov)
    reader = f" (the {report} report reads {'them' if len(cov.tables) > 1 else 'it'})" if report else ""
    return _checked(*_span(conn, cov), cov.what + reader)


def span_start(conn: Connection, cov: Coverage) -> date | None:
    """The day a span's data starts: its earliest ``cov.first`` value, or a later first value of one of
    ``cov.starts_with`` (None without any ``cov.first`` value)."""
    return _span(conn, cov)[0]


def _span(conn: Connection, cov: Coverage) -> tuple[date | None, date | None]:
    """(:func:`span_start`, the latest ``cov.last`` value), in one query."""
    first, last, *others = _bounds(conn, (*cov.first, "min"), (*cov.last, "max"),
                                   *((table, column, "min") for table, column in cov.starts_with))
    return (None if first is None else max([first, *(d for d in others if d is not None)])), last


def _require(conn: Connection, cov: Coverage) -> None:
    """A :class:`WarehouseError` naming the table (and column) a report's months are read from, if it is absent."""
    inv = inventory(conn)
    for table, column in dict.fromkeys((cov.first, cov.last)):
        if not inv.has(table):
            raise WarehouseError(f"the warehouse has no table {table} (the {cov.what} a report's periods come from)",
                                 hint=CHECK_HINT)
        if not inv.has(table, (column,)):
            # Not transient: a renamed column does not come back by itself, so the scheduler does not retry it.
            raise WarehouseDataError(f"the warehouse's table {table} has no column {column}", hint=CHECK_HINT)


def activity_range(conn: Connection) -> Range:
    """The cohort report's months: from the first signup (or the first event, if tracking began later) to the last
    complete month of product events."""
    return span_range(conn, CONTRACTS["cohort"].coverage, "cohort")


def engagement_range(conn: Connection) -> Range:
    """The client report's months: those of daily content engagement."""
    return span_range(conn, CONTRACTS["client"].coverage, "client")


def contract_range(report: str, conn: Connection) -> Range:
    """The months ``report`` can cover, as its contract's :class:`~quire.contract.Coverage` says."""
    cov = CONTRACTS[report].coverage
    return ledger_range(conn, cov) if cov.kind == "ledger" else span_range(conn, cov, report)


#: Report type (its notebook's stem) → the function that reads the months it can cover: one per
#: contract that declares a coverage (the experiment report runs per experiment, not per period).
REPORT_RANGES: dict[str, Callable[[Connection], Range]] = {
    name: partial(contract_range, name) for name, c in CONTRACTS.items() if c.coverage is not None
}


def months_from(report: str | None) -> str:
    """Where ``report``'s months come from, for a message about a month it lacks ("" when nothing needs saying).

    A ledger's months are not the months it has rows for (see :func:`ledger_range`): the message says which.
    """
    cov = CONTRACTS[report].coverage if report in CONTRACTS else None
    if cov is None or cov.kind != "ledger":
        return ""
    return (f"from the first month of {cov.first[0]} to the last month the daily data completes, or without it the "
            f"last of {cov.first[0]} and the report's other tables (a month without a row in {cov.first[0]} is one "
            "in which no account's MRR changed)")


#: A month (or week) without a single event, between periods that have events, is taken for missing data when the
#: nearest periods before and after it that have events had at least this many active users each: that every one
#: of them stayed away at once is far less likely than an export or a load that skipped the period. Below it (a
#: product of a handful of users, each of whom may well be idle for a month) an empty period is a quiet one.
GAP_USERS_AROUND = 10


def silent_periods(active: dict[date, int], granularity: str) -> list[date]:
    """The periods strictly inside ``active``'s span without any event that count as missing data.

    ``active``: first day of each month (or Monday of each week) with events → its active users, as
    :func:`~quire.warehouse.cohort_queries.active_users_by_period` reads them. The first and the last period
    always have events, so the data's ends are never a gap; a run of empty periods is one gap, weighed by the
    periods with events on either side of the whole run (see :data:`GAP_USERS_AROUND`).
    """
    starts = sorted(active)
    step = (lambda d: add_months(d, 1)) if granularity == "month" else (lambda d: d + timedelta(days=7))
    found: list[date] = []
    for before, after in zip(starts, starts[1:]):
        run, day = [], step(before)
        while day < after:
            run.append(day)
            day = step(day)
        if run and min(active[before], active[after]) >= GAP_USERS_AROUND:
            found += run
    return found


def missing_periods(conn: Connection, granularity: str = "month") -> list[date]:
    """The months (or weeks) inside the product events' span that hold no event but count as missing data
    (:func:`silent_periods`): the cohort report shows their cells as unknown, ``warehouse check`` names them.

    A week is also missing where it overlaps such a month: only some of its days have data, so its counts are short.
    """
    found = silent_periods(cohort_queries.active_users_by_period(conn, granularity), granularity)
    if granularity == "month":
        return found
    weeks = set(found)
    for month in missing_periods(conn, "month"):
        monday, end = month - timedelta(days=month.weekday()), add_months(month, 1)
        while monday < end:
            weeks.add(monday)
            monday += timedelta(days=7)
    return sorted(weeks)


def report_range(report: str | None, conn: Connection) -> Range:
    """The months ``report`` can cover; the general :func:`~quire.warehouse.queries.data_range` for any other."""
    return REPORT_RANGES.get(report or "", queries.data_range)(conn)


__all__ = ["GAP_USERS_AROUND", "REPORT_RANGES", "activity_range", "contract_range", "data_reach", "engagement_range",
           "ledger_range", "missing_periods", "months_from", "report_range", "silent_periods", "span_range", "span_start"]
