"""The SQL the client (white-label) report needs: SQLAlchemy Core with bound parameters, valid on DuckDB and PostgreSQL.

Same conventions as :mod:`quire.warehouse.queries` (``_read`` gives every column the
dtype of its SQL type; date bounds are inclusive :class:`datetime.date` values).

Tenant isolation is enforced here, in SQL, not by filtering DataFrames afterwards:

* every query that returns rows of a client's data takes that client's ``client_id``
  and binds it in its ``WHERE`` clause, so another client's rows never reach the kernel;
* :func:`portfolio_engagement` is the one query that reads across clients, and it returns
  only anonymous per-client sums of the *other* clients — no id, name or slug column, no
  content — ordered by value, so neither the columns nor the row order say which client a
  row belongs to (what the report may publish from them: :mod:`quire.metrics.peers`);
* :func:`client_is_paying` answers yes/no: the client-facing report never loads revenue.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.warehouse import schema
from quire.contract.inventory import inventory
from quire.errors import WarehouseDataError
from quire.periods import add_months
from quire.warehouse.queries import _clients_select, _read, _read_if, ledger_through

#: The columns of :func:`portfolio_engagement`, one row per client (the sums :mod:`quire.metrics.peers` reads).
PORTFOLIO_COLUMNS = ("views", "clicks", "conversions", "engagements", "previous_views", "seen_clicks", "seen_engagements")


def first_active_client(conn: Connection) -> pd.Series | None:
    """The first active client by name (row as :func:`queries.client_by_slug` gives it), or None.

    Only for exploring in JupyterLab with an empty ``client`` parameter; scheduled and
    on-demand runs always name their client.
    """
    c = schema.clients
    stmt = _clients_select(conn).where(c.c.status == "active").order_by(c.c.name, c.c.client_id).limit(1)
    frame = _read(conn, stmt)
    return None if frame.empty else frame.iloc[0]


def client_content(conn: Connection, client_id: int) -> pd.DataFrame:
    """The client's content: content_id, title, content_type, platform, published_on.

    Not cut at the period's end by ``published_on``: an export whose publication dates lag the
    first views (a re-published post, a scheduled date) would lose those views from every breakdown.
    """
    t = schema.content
    stmt = (sa.select(t.c.content_id, t.c.title, t.c.content_type, t.c.platform, t.c.published_on)
            .where(t.c.client_id == client_id)
            .order_by(t.c.published_on, t.c.content_id))
    return _read(conn, stmt)


def not_foreign() -> sa.ColumnElement[bool]:
    """Engagement rows that are not of another client's content than their own client's.

    A row whose client the content list contradicts (client 2's row for client 4's post, a mix-up in an
    export) showed client 4's figures in client 2's report; the warehouse check and the import name such rows.
    """
    t, c = schema.engagement_daily, schema.content
    theirs = sa.select(sa.literal(1)).where(c.c.content_id == t.c.content_id, c.c.client_id != t.c.client_id)
    return ~theirs.exists()


def own_engagement(client_id: int) -> sa.ColumnElement[bool]:
    """Engagement rows of ``client_id`` that are not of another client's content (see :func:`not_foreign`)."""
    return sa.and_(schema.engagement_daily.c.client_id == client_id, not_foreign())


def foreign_rows(engagement: sa.FromClause, content: sa.FromClause) -> sa.Select:
    """The rows of ``engagement`` whose client is not their content's: content_id, client_id and the content's
    ``owner`` (over the warehouse's tables, an import's loaded ones or a mapping's views alike)."""
    return (sa.select(engagement.c.content_id, engagement.c.client_id, content.c.client_id.label("owner"))
            .join(content, content.c.content_id == engagement.c.content_id)
            .where(content.c.client_id != engagement.c.client_id))


def foreign_content_rows(conn: Connection) -> tuple[int, tuple[str, ...]]:
    """Engagement rows whose client is not their content's (how many, and a few as "content 3: client 2, not 4")."""
    t, c = schema.engagement_daily, schema.content
    if not inventory(conn).has(t.name, ("client_id", "content_id")) or not inventory(conn).has(c.name, ("client_id", "content_id")):
        return 0, ()
    mixed = foreign_rows(t, c).subquery()
    count = conn.execute(sa.select(sa.func.count()).select_from(mixed)).scalar_one()
    examples = conn.execute(sa.select(mixed).distinct().order_by(mixed.c.content_id, mixed.c.client_id).limit(3)).all()
    return count, tuple(f"content {row.content_id}: client {row.client_id}, not {row.owner}" for row in examples)


def client_engagement(conn: Connection, client_id: int, start: date, end: date) -> pd.DataFrame:
    """The client's daily engagement rows within ``start``..``end`` (:func:`own_engagement`): content_id, day, views, clicks, conversions, engagements."""
    t = schema.engagement_daily
    stmt = (sa.select(t.c.content_id, t.c.day, t.c.views, t.c.clicks, t.c.conversions, t.c.engagements)
            .where(own_engagement(client_id), t.c.day.between(start, end))
            .order_by(t.c.day, t.c.content_id))
    rows = _read(conn, stmt)
    # A day of a piece loaded twice (a load re-run, a view over a union) doubles it in every figure of the client's
    # own report ("Views 29,574, up 23.5 %" for 14,787, down 38 %): refused, as the table's key forbids it.
    repeated = rows[rows.duplicated(["content_id", "day"])]
    if len(repeated):
        raise WarehouseDataError(
            f"the warehouse's engagement_daily holds {len(repeated):,} row{'s' if len(repeated) != 1 else ''} of client "
            f"{client_id} that repeat a content_id and day already there (the first on "
            f"{pd.Timestamp(repeated['day'].min()):%Y-%m-%d}); each piece's day counts once: remove the repeats")
    # An empty or negative count is no count (the contract allows neither): read as 0 or netted, half a month of
    # empty views showed "views down 68.6 %", and negative ones a week of -3,638 views, in the client's own report.
    for column in ("views", "clicks", "conversions", "engagements"):
        values = pd.to_numeric(rows[column])
        wrong = rows.loc[values.isna() | (values < 0), "day"]
        if len(wrong):
            raise WarehouseDataError(
                f"the warehouse's engagement_daily holds {len(wrong):,} row{'s' if len(wrong) != 1 else ''} of client "
                f"{client_id} whose {column} is empty or below 0 (the first on {pd.Timestamp(wrong.min()):%Y-%m-%d}); "
                "a day without any is 0: correct those rows")
    return rows


def engagement_first_day(conn: Connection) -> date | None:
    """The first day of the warehouse's daily engagement (any client), or None: where the data itself starts."""
    first = conn.execute(sa.select(sa.func.min(schema.engagement_daily.c.day))).scalar()
    return None if first is None else pd.Timestamp(first).date()


def usage_last_week(conn: Connection, until: date) -> date | None:
    """The last week (its first day) on or before ``until`` that ``product_usage`` holds for any client, or None: how
    far the usage export reaches, so that a client's weeks without a row up to it count as weeks of no use. A date,
    never a figure of another client."""
    t = schema.product_usage
    if not inventory(conn).has(t.name, ("week",)):
        return None
    last = conn.execute(sa.select(sa.func.max(t.c.week)).where(t.c.week <= until)).scalar()
    return None if last is None else pd.Timestamp(last).date()


def client_last_activity(conn: Connection, client_id: int, until: date) -> date | None:
    """The last day on or before ``until`` with views of the client's content, or None."""
    t = schema.engagement_daily
    stmt = sa.select(sa.func.max(t.c.day)).where(own_engagement(client_id), t.c.day <= until, t.c.views > 0)
    last = conn.execute(stmt).scalar()
    return None if last is None else pd.Timestamp(last).date()


def client_usage(conn: Connection, client_id: int, start: date, end: date) -> pd.DataFrame:
    """The client's weekly product usage whose week (its Monday) lies within ``start``..``end`` (all columns)."""
    t = schema.product_usage
    stmt = sa.select(t).where(t.c.client_id == client_id, t.c.week.between(start, end)).order_by(t.c.week)
    return _read_if(conn, stmt, t)


def client_tickets(conn: Connection, client_id: int, start: date, end: date) -> pd.DataFrame:
    """The client's support tickets opened on any day within ``start``..``end`` (all columns)."""
    t = schema.support_tickets
    since, before = datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())
    stmt = (sa.select(t).where(t.c.client_id == client_id, t.c.opened_at >= since, t.c.opened_at < before)
            .order_by(t.c.opened_at, t.c.ticket_id))
    return _read_if(conn, stmt, t)


def client_surveys(conn: Connection, client_id: int, start: date, end: date) -> pd.DataFrame:
    """The client's NPS and CSAT answers given within ``start``..``end`` (all columns)."""
    t = schema.survey_responses
    stmt = (sa.select(t).where(t.c.client_id == client_id, t.c.responded_on.between(start, end))
            .order_by(t.c.responded_on, t.c.response_id))
    return _read_if(conn, stmt, t)


def client_is_paying(conn: Connection, client_id: int, month: date) -> bool:
    """Whether the client's MRR at the end of ``month`` is above zero (its ledger up to that month).

    Health is scored for paying accounts only; the answer is a flag so that no revenue
    figure is ever loaded into a client-facing report. Without an MRR ledger, or for a client
    the ledger never mentions (a pilot, an export that missed it), a client pays from its
    signup date until it churns.
    """
    t = schema.mrr_movements
    if not inventory(conn).has(t.name, ("client_id", "month", "amount")):
        return _subscribed_at(conn, client_id, add_months(month, 1))
    # Not paying: MRR 0 but for the rounding of each amount to cents (see revenue's rule for the same).
    paying = sa.func.coalesce(sa.func.sum(t.c.amount).filter(ledger_through(month)), 0) > \
        schema.ROUNDING_PER_ROW * sa.func.count().filter(ledger_through(month))
    mentioned, pays = conn.execute(sa.select(sa.func.count() > 0, paying).where(t.c.client_id == client_id)).one()
    return bool(pays) if mentioned else _subscribed_at(conn, client_id, add_months(month, 1))


def _subscribed_at(conn: Connection, client_id: int, before: date) -> bool:
    """Whether the client signed up before the day ``before`` and had not churned by then."""
    c = schema.clients
    churned = (c.c.churned_on.is_(None) | (c.c.churned_on >= before)) if inventory(conn).has("clients", ("churned_on",)) \
        else sa.true()
    stmt = sa.select(sa.func.count()).where(c.c.client_id == client_id, c.c.signup_date < before, churned)
    return bool(conn.execute(stmt).scalar())


def portfolio_engagement(conn: Connection, start: date, end: date, previous_start: date, previous_end: date,
                         exclude_client_id: int | None) -> pd.DataFrame:
    """Anonymous engagement sums of every *other* client active in ``start``..``end``, one row per client.

    Columns: views, clicks, conversions, engagements (within the period),
    previous_views (within ``previous_start``..``previous_end``; NULL for a client that signed up after
    ``previous_start``, which has no whole previous period, or whose subscription ended before ``end``, which has
    no whole period: either's growth compares a part with a whole), and seen_clicks and
    seen_engagements (those of content with views in the period, for the per-view rates). The client the report is
    for (``exclude_client_id``) is left out, so that counts of comparable clients never
    include it. There is deliberately no client column, and rows are ordered by their
    values, so the result cannot be tied back to a client; :mod:`quire.metrics.peers` decides
    what may be published from it. A client is active when it has views in the period.
    ``exclude_client_id=None`` keeps every client: the batch engine computes that once for all
    the client reports of a period, and each run removes its own row (:func:`quire.metrics.peers.without_own`).
    """
    t = schema.engagement_daily
    in_period = t.c.day.between(start, end)

    def period_sum(column: sa.Column, condition) -> sa.Label:
        return sa.func.sum(sa.case((condition, column), else_=0)).label(column.name)

    # A client whose own rows its report refuses (a piece's day twice, an empty or negative count: see
    # client_engagement) has no report, and its sums would be wrong in everyone else's comparison: left out.
    counts = [t.c[name] for name in PORTFOLIO_COLUMNS[:4]]
    refused = sa.or_(sa.func.count() != sa.func.count(sa.distinct(t.c.day)),
                     *(sa.func.count() != sa.func.count(column) for column in counts),
                     *(sa.func.min(column) < 0 for column in counts))
    # Per piece of content first: its clicks and engagements count in the per-view rates only if it had views.
    per_item = (sa.select(t.c.client_id, *(period_sum(t.c[name], in_period) for name in PORTFOLIO_COLUMNS[:4]),
                          period_sum(t.c.views, t.c.day.between(previous_start, previous_end)).label("previous_views"),
                          sa.case((refused, 1), else_=0).label("refused"))
                .where(sa.or_(in_period, t.c.day.between(previous_start, previous_end)), not_foreign(),
                       t.c.client_id != exclude_client_id if exclude_client_id is not None else sa.true())
                .group_by(t.c.client_id, t.c.content_id)
                .subquery("per_item"))
    viewed = per_item.c.views > 0
    inner = (sa.select(per_item.c.client_id, *(sa.func.sum(per_item.c[name]).label(name) for name in PORTFOLIO_COLUMNS[:5]),
                       sa.func.sum(sa.case((viewed, per_item.c.clicks), else_=0)).label("seen_clicks"),
                       sa.func.sum(sa.case((viewed, per_item.c.engagements), else_=0)).label("seen_engagements"))
             .group_by(per_item.c.client_id)
             .having(sa.func.max(per_item.c.refused) == 0)
             .subquery("per_client"))
    # A client that signed up after the previous period began has only part of it, and one whose subscription ended
    # before the period's last day only part of this one: no growth to compare (NULL).
    c = schema.clients
    whole = sa.or_(c.c.signup_date.is_(None), c.c.signup_date <= previous_start)
    if inventory(conn).has(c.name, ("churned_on",)):
        whole = sa.and_(whole, sa.or_(c.c.churned_on.is_(None), c.c.churned_on >= end))
    columns = [sa.case((whole, inner.c[name]), else_=sa.null()).label(name) if name == "previous_views" else inner.c[name]
               for name in PORTFOLIO_COLUMNS]
    stmt = (sa.select(*columns).select_from(inner.join(c, c.c.client_id == inner.c.client_id, isouter=True))
            .where(inner.c.views > 0).order_by(*columns))
    return _read(conn, stmt)


__all__ = ["client_content", "client_engagement", "engagement_first_day", "client_is_paying", "client_last_activity", "client_surveys", "client_tickets",
           "client_usage", "first_active_client", "portfolio_engagement"]
