"""The SQL the cohort report needs: SQLAlchemy Core with bound parameters, valid on DuckDB and PostgreSQL.

Same conventions as :mod:`quire.warehouse.queries` (whose ``_read`` gives every column
the dtype of its SQL type): instants are ``datetime64[ns]``, ids ``int64``, revenue
``float64`` (``NaN`` where not set), text pandas ``str`` (event types: categorical). Date bounds are inclusive
:class:`datetime.date` values and are turned into half-open instant ranges
(``>= start 00:00`` and ``< the day after end``), so a whole last day is included and
the indexed ``signed_up_at`` / ``occurred_at`` columns are compared without functions.

Both queries are bounded by the cohorts' signup range: the report never reads users
outside its cohorts, nor events of other users or outside the observation window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.warehouse import schema
from quire.warehouse.queries import _read


def _instant_range(start: date, end: date) -> tuple[datetime, datetime]:
    """``start`` 00:00 and the midnight after ``end``: the half-open range of the inclusive days."""
    return datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())


def cohort_users(conn: Connection, start: date, end: date) -> pd.DataFrame:
    """Users who signed up on any day within ``start``..``end``: user_id, signed_up_at.

    Only the columns of the cohort report's contract: users need no client (nor a channel).
    """
    u = schema.users
    since, before = _instant_range(start, end)
    stmt = (sa.select(u.c.user_id, u.c.signed_up_at)
            .where(u.c.signed_up_at >= since, u.c.signed_up_at < before)
            .order_by(u.c.signed_up_at, u.c.user_id))
    return _read(conn, stmt)


def miscased_event_types(conn: Connection) -> str | None:
    """Event types the reports would read but for their case or spaces ('Purchase', 'purchase '), in a sentence; None
    if there are none. Read as unknown types, such purchases earned nothing: a cohort's revenue came out $0."""
    e = schema.events
    folded = sa.func.lower(sa.func.trim(e.c.event_type))
    found = conn.execute(sa.select(e.c.event_type, sa.func.count()).where(folded.in_(schema.EVENT_TYPES),
                                                                          e.c.event_type.not_in(schema.EVENT_TYPES))
                         .group_by(e.c.event_type).order_by(e.c.event_type)).all()
    if not found:
        return None
    listed = ", ".join(f"{kind!r} ({rows:,} row{'s' if rows != 1 else ''})" for kind, rows in found[:5])
    return (f"the warehouse's events.event_type holds {listed}, which the reports read only in lower case without "
            f"spaces ({', '.join(schema.EVENT_TYPES)}); correct those rows")


def cohort_events(conn: Connection, signup_start: date, signup_end: date, until: date,
                  event_types: Sequence[str]) -> pd.DataFrame:
    """Events of ``event_types`` by the users who signed up within ``signup_start``..``signup_end``.

    Only events from ``signup_start`` up to and including the day ``until`` are read
    (nothing a user did before the first cohort began, or after the report's as-of
    date). Columns: user_id, event_type (categorical, ``event_types`` its categories),
    occurred_at, revenue (set on purchases).

    The event types travel as small integer codes: a report over millions of events would
    otherwise hold a Python string per event, two thirds of the frame's memory.
    """
    e, u = schema.events, schema.users
    types = list(dict.fromkeys(event_types))
    signed_since, signed_before = _instant_range(signup_start, signup_end)
    since, before = _instant_range(signup_start, until)
    code = sa.case({name: i for i, name in enumerate(types)}, value=e.c.event_type).label("event_code")
    stmt = (sa.select(e.c.user_id, code, e.c.occurred_at, e.c.revenue)
            .join_from(e, u, e.c.user_id == u.c.user_id)
            .where(u.c.signed_up_at >= signed_since, u.c.signed_up_at < signed_before,
                   e.c.occurred_at >= since, e.c.occurred_at < before,
                   e.c.event_type.in_(types))
            .order_by(e.c.occurred_at, e.c.event_id))
    frame = _read(conn, stmt)
    codes = frame.pop("event_code").to_numpy(dtype="int8" if len(types) < 128 else "int32")
    frame.insert(1, "event_type", pd.Categorical.from_codes(codes, categories=types))
    return frame


def signups_around(conn: Connection, start: date, end: date, *, not_before: date | None = None
                   ) -> tuple[datetime | None, datetime | None]:
    """The last signup before the day ``start`` (from the day ``not_before`` on) and the first after the day ``end``
    (None where there is none).

    Tells a report whose cohorts ``start``..``end`` hold no user where the nearest users are; ``not_before`` is
    where the cohorts a report can have begin (a signup in a part-week before it is in no cohort to offer).
    """
    u = schema.users
    since, before = _instant_range(start, end)
    earlier = u.c.signed_up_at < since
    if not_before is not None:
        earlier = sa.and_(earlier, u.c.signed_up_at >= _instant_range(not_before, not_before)[0])
    stmt = sa.select(sa.select(sa.func.max(u.c.signed_up_at)).where(earlier).scalar_subquery(),
                     sa.select(sa.func.min(u.c.signed_up_at)).where(u.c.signed_up_at >= before).scalar_subquery())
    last_before, first_after = conn.execute(stmt).one()
    return _instant(last_before), _instant(first_after)


def events_before_signup(conn: Connection) -> tuple[int, int, float]:
    """Events that happened before their user signed up: (events, purchases among them, their revenue).

    The cohort report leaves them out (a user's ages start at signup); many of them usually mean
    that signups and events come from systems that disagree on a user's start.
    """
    e, u = schema.events, schema.users
    early = sa.and_(e.c.occurred_at < u.c.signed_up_at)
    purchase = e.c.event_type == "purchase"
    stmt = (sa.select(sa.func.count(),
                      sa.func.count().filter(purchase),
                      sa.func.coalesce(sa.func.sum(e.c.revenue).filter(purchase), 0))
            .select_from(e).join(u, e.c.user_id == u.c.user_id).where(early))
    events, purchases, revenue = conn.execute(stmt).one()
    return int(events), int(purchases), float(revenue)


def purchases_without_revenue(conn: Connection) -> int:
    """Purchases whose revenue is empty: the cohort report counts them as worth 0 (GA4 leaves a purchase in a
    currency it could not convert without a value)."""
    e = schema.events
    return int(conn.execute(sa.select(sa.func.count()).where(e.c.event_type == "purchase", e.c.revenue.is_(None)))
               .scalar_one())


def repeated_purchases(conn: Connection) -> tuple[int, float]:
    """Purchases that repeat another exactly (same user, instant and revenue): (how many repeats, their revenue).

    Exports duplicate rows (GA4's BigQuery export is known to), and each repeat adds its revenue
    again to every cohort figure; two real purchases at the same instant for the same amount are rare.
    """
    e = schema.events
    alike = (sa.select((sa.func.count() - 1).label("repeats"), e.c.revenue).where(e.c.event_type == "purchase")
             .group_by(e.c.user_id, e.c.occurred_at, e.c.revenue).having(sa.func.count() > 1).subquery())
    repeats, revenue = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(alike.c.repeats), 0),
                                              sa.func.coalesce(sa.func.sum(alike.c.repeats * alike.c.revenue), 0))).one()
    return int(repeats), float(revenue)


def purchases_before_signup(conn: Connection, signup_start: date, signup_end: date, until: date) -> pd.DataFrame:
    """Purchases up to the day ``until`` that the users who signed up within ``signup_start``..``signup_end`` made
    before their signup, per buyer: ``user_id``, ``purchases``, ``revenue``. The cohort report leaves them out and
    says so, of the users it reports on (a behavioural filter keeps only some)."""
    e, u = schema.events, schema.users
    signed_since, signed_before = _instant_range(signup_start, signup_end)
    stmt = (sa.select(e.c.user_id, sa.func.count().label("purchases"),
                      sa.func.coalesce(sa.func.sum(e.c.revenue), 0).label("revenue"))
            .join_from(e, u, e.c.user_id == u.c.user_id)
            .where(u.c.signed_up_at >= signed_since, u.c.signed_up_at < signed_before,
                   e.c.occurred_at < u.c.signed_up_at, e.c.occurred_at < _instant_range(until, until)[1],
                   e.c.event_type == "purchase")
            .group_by(e.c.user_id))
    return _read(conn, stmt)


def _period_of(conn: Connection, column: sa.ColumnElement, granularity: str) -> sa.ColumnElement:
    """The first day of the calendar month, or of the Monday–Sunday week, ``column`` falls in."""
    if conn.dialect.name == "sqlite":  # SQLite has no date_trunc: its date functions give the same first days
        return (sa.func.strftime("%Y-%m-01", column) if granularity == "month"
                else sa.func.date(column, "weekday 0", "-6 days"))
    return sa.func.date_trunc(granularity, column)


def active_users_by_period(conn: Connection, granularity: str) -> dict[date, int]:
    """First day of each month (or week) that holds any event → the users with an event in it.

    A period without any event is absent: :func:`quire.warehouse.coverage.missing_periods` tells a gap in the
    data from a quiet period by the users active on either side of it.
    """
    e = schema.events
    period = _period_of(conn, e.c.occurred_at, granularity).label("period")
    stmt = sa.select(period, sa.func.count(sa.distinct(e.c.user_id))).group_by(period).order_by(period)
    return {pd.Timestamp(start).date(): int(users) for start, users in conn.execute(stmt) if start is not None}


def _instant(value: object) -> datetime | None:
    return None if value is None else pd.Timestamp(value).to_pydatetime()


__all__ = ["active_users_by_period", "cohort_events", "cohort_users", "events_before_signup", "purchases_before_signup",
           "signups_around"]
