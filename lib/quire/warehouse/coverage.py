"""Which months each report can cover: the first and last complete month of the tables it reads.

A report's valid periods and its ``latest`` come from its own data: the executive
report from the MRR ledger, the cohort report from users and their events, the client
report from daily engagement. :data:`REPORT_RANGES` names, per report type (the stem of
its notebook), the function that reads that range; a notebook without an entry gets
the general range, :func:`quire.warehouse.queries.data_range`. The pipeline checks a
``period`` parameter against :func:`report_range` before a kernel starts, and each
report's ``load`` resolves ``latest`` through the same function, so both always agree.

Every function takes an open connection and returns ``(first, last)``: first-of-month
dates of the first month with data and the last *complete* month. A source without
rows, or without a complete month, is a :class:`~quire.errors.WarehouseError` naming
the tables that were read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.errors import WarehouseError
from quire.periods import month_start
from quire.warehouse import queries, schema
from quire.warehouse.engine import BUILD_HINT

Range = tuple[date, date]


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _scalars(conn: Connection, *columns: sa.ColumnElement) -> list[date | None]:
    """One aggregate row (each column a scalar subquery, so tables need no join), as dates."""
    try:
        row = conn.execute(sa.select(*columns)).one()
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"cannot read the warehouse: {queries._reason(exc)}", hint=BUILD_HINT) from exc
    return [_as_date(v) for v in row]


def _checked(first: date | None, last_day: date | None, what: str) -> Range:
    """``first``'s month and the last complete month up to ``last_day``; errors name ``what`` was read."""
    if first is None or last_day is None:
        raise WarehouseError(f"the warehouse holds no {what}", hint=BUILD_HINT)
    start, last = month_start(first), queries.last_complete_month(last_day)
    if last < start:
        raise WarehouseError(f"the warehouse holds no complete month of {what} (it starts {first:%Y-%m-%d} "
                             f"and ends {last_day:%Y-%m-%d})", hint=BUILD_HINT)
    return start, last


def data_reach(conn: Connection) -> date | None:
    """The last day the warehouse's daily data reaches (engagement or product events), None without any."""
    eng, ev = schema.engagement_daily, schema.events
    days = _scalars(conn, sa.select(sa.func.max(eng.c.day)).scalar_subquery(),
                    sa.select(sa.func.max(ev.c.occurred_at)).scalar_subquery())
    known = [d for d in days if d is not None]
    return max(known) if known else None


def ledger_range(conn: Connection) -> Range:
    """The executive report's months: those of the MRR ledger.

    The ledger records months, not days, so whether its last month is complete is told
    by how far the warehouse's daily data reaches (:func:`data_reach`); without any
    daily data the ledger's last month counts as complete.
    """
    mrr = schema.mrr_movements
    first, last = _scalars(conn, sa.select(sa.func.min(mrr.c.month)).scalar_subquery(),
                           sa.select(sa.func.max(mrr.c.month)).scalar_subquery())
    if first is None:
        raise WarehouseError("the warehouse holds no MRR data (the executive report reads the MRR ledger)",
                             hint=BUILD_HINT)
    reach = data_reach(conn)
    first, last = month_start(first), month_start(last)
    if reach is not None:
        last = min(last, queries.last_complete_month(reach))
    if last < first:
        raise WarehouseError(f"the warehouse holds no complete month of MRR data (the ledger starts {first:%Y-%m}, "
                             f"the daily data ends {reach:%Y-%m-%d})", hint=BUILD_HINT)
    return first, last


def activity_range(conn: Connection) -> Range:
    """The cohort report's months: from the first signup to the last complete month of product events."""
    u, ev = schema.users, schema.events
    first, last_event = _scalars(conn, sa.select(sa.func.min(u.c.signed_up_at)).scalar_subquery(),
                                 sa.select(sa.func.max(ev.c.occurred_at)).scalar_subquery())
    return _checked(first, last_event, "product users and events (the cohort report reads them)")


def engagement_range(conn: Connection) -> Range:
    """The client report's months: those of daily content engagement."""
    eng = schema.engagement_daily
    first, last = _scalars(conn, sa.select(sa.func.min(eng.c.day)).scalar_subquery(),
                           sa.select(sa.func.max(eng.c.day)).scalar_subquery())
    return _checked(first, last, "content engagement (the client report reads it)")


#: Report type (its notebook's stem) → the function that reads the months it can cover.
REPORT_RANGES: dict[str, Callable[[Connection], Range]] = {
    "executive": ledger_range,
    "cohort": activity_range,
    "client": engagement_range,
}


def report_range(report: str | None, conn: Connection) -> Range:
    """The months ``report`` can cover; the general :func:`~quire.warehouse.queries.data_range` for any other."""
    return REPORT_RANGES.get(report or "", queries.data_range)(conn)


__all__ = ["REPORT_RANGES", "activity_range", "data_reach", "engagement_range", "ledger_range", "report_range"]
