"""The client report's data: one client's own rows and the anonymous sums of the other clients, read once.

:func:`load` is the report's only I/O (one read-only warehouse connection). Tenant isolation:
every query it runs is filtered by this client's id in SQL (:mod:`quire.warehouse.client_queries`),
except the portfolio comparison, which reads only anonymous per-client sums and drops this
client's own row before the report sees them (:func:`quire.metrics.peers.without_own` when a
batch read everyone's sums once). No revenue is loaded: "paying" is a yes or no.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from quire.batch import shared
from quire.config import get_settings
from quire.contract import contract, lacking_columns, usable_tables
from quire.errors import ParameterError
from quire.metrics import engagement as eng
from quire.metrics import peers
from quire.periods import Period, parse_period, resolve_period
from quire.warehouse import client_queries, coverage, queries
from quire.warehouse.engine import connection

CONTRACT = contract("client")
#: The tables the health score reads its components from (each optional in the contract).
HEALTH_TABLES = ("product_usage", "support_tickets", "survey_responses")
# Windows the health score reads before the period's end (and the previous period's end).
USAGE_LOOKBACK = timedelta(weeks=16)
TICKET_LOOKBACK = timedelta(days=120)
SURVEY_LOOKBACK = timedelta(days=200)


@dataclass(frozen=True)
class ClientData:
    """Everything the report reads from the warehouse: the client's own rows and anonymous portfolio sums."""

    period: Period
    first_month: date
    client: pd.Series          # the client's own record (name, slug, effective brand…)
    content: pd.DataFrame      # the client's content
    engagement: pd.DataFrame   # the client's daily rows, previous period start .. period end
    portfolio: pd.DataFrame    # anonymous per-client sums of the *other* clients (no client column)
    usage: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    paying: bool               # MRR above zero at the end of the period (no amount is loaded)
    paying_before: bool        # … at the end of the previous period
    last_activity: date | None = None  # the client's last day with views up to the period's end
    absent: tuple[str, ...] = ()       # optional tables of the contract the warehouse lacks
    lacking: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # of those, the ones there without columns
    first_day: date | None = None      # the first day of the warehouse's engagement data (any client)
    usage_through: date | None = None  # the last week product_usage holds for any client (a date, no figure)
    subscribed_before: bool = True     # the previous period lies wholly within one of the client's subscriptions
    conventions: Mapping[str, str | None] = field(default_factory=dict)  # the client's own locale and currency, if set


def resolve_client(conn, slug: str) -> pd.Series:
    """The client named by ``slug`` (empty: the first active client by name); ParameterError if unknown,
    WarehouseDataError if it has no name."""
    if not isinstance(slug, str):
        raise ParameterError(f"parameter 'client' must be a client slug, not {type(slug).__name__}", parameter="client")
    slug = slug.strip()
    row = queries.client_by_slug(conn, slug) if slug else client_queries.first_active_client(conn)
    if row is None:
        if not slug:
            raise ParameterError("parameter 'client': the warehouse has no active client to report on", parameter="client")
        # Other clients' slugs are not listed: this message can end up in a notebook.
        raise ParameterError(f"parameter 'client': no client {slug!r} in the warehouse; `quire clients` lists the slugs",
                             parameter="client")
    return queries.require_name(row)


def _portfolio_key(url: str, p: Period) -> tuple:
    prev = p.previous()
    return ("client.portfolio", url, p.start, p.end, prev.start, prev.end)


@shared.provider("client")
def portfolio_for_batch(params: Sequence[dict[str, Any]], url: str) -> dict[tuple, pd.DataFrame]:
    """Every client's anonymous sums, once per period of the batch (each run then drops its own row)."""
    found = {}
    with connection(url) as conn:
        for key in sorted({str(p["period"]) for p in params if p.get("period")}):
            p = parse_period(key)
            if p is not None:
                prev = p.previous()
                found[_portfolio_key(url, p)] = client_queries.portfolio_engagement(
                    conn, p.start, p.end, prev.start, prev.end, exclude_client_id=None)
    return found



def _own_sums(engagement: pd.DataFrame, p: Period, signed_up: date | None = None,
              churned: date | None = None) -> dict[str, int | None]:
    """The client's row of :func:`~quire.warehouse.client_queries.portfolio_engagement`, from its own rows."""
    prev = p.previous()
    days = pd.to_datetime(engagement["day"]).dt.date if not engagement.empty else pd.Series([], dtype=object)
    now = engagement[(days >= p.start) & (days <= p.end)]
    before = engagement[(days >= prev.start) & (days <= prev.end)]
    totals = eng.totals(now)
    sums = {c: int(getattr(totals, c)) for c in eng.MEASURES}
    whole = (signed_up is None or signed_up <= prev.start) and (churned is None or churned >= p.end)
    return {**sums, "previous_views": int(before["views"].sum()) if whole else None,
            "seen_clicks": int(totals.seen_clicks or 0),
            "seen_engagements": int(totals.seen_engagements or 0)}


def _subscribed_throughout(conn, client: pd.Series, period: Period) -> bool:
    """Whether one of the client's subscriptions covers the whole of ``period``: a client that paused in it has
    no whole period to be compared with (its September read "+16 pts" on an August it had no subscription in)."""
    from quire.pipeline import subscription_spans

    return any((start is None or start <= period.start) and (end is None or end >= period.end)
               for start, end in subscription_spans(conn, client))


def record_date(client: pd.Series, column: str) -> date | None:
    """The day in the client record's date ``column`` (``signup_date``, ``churned_on``); None where the
    warehouse does not say."""
    day = client.get(column)
    return None if day is None or pd.isna(day) else pd.Timestamp(day).date()


def load(client: str, period: str, url: str | None = None) -> ClientData:
    """Read the client's data for ``period`` (and the previous period) from the warehouse."""
    url = url or get_settings().warehouse
    with connection(url) as conn:
        usable = usable_tables(conn, CONTRACT)
        row = resolve_client(conn, client)
        first, last = coverage.report_range("client", conn)
        p = resolve_period(period, first_month=first, last_month=last)
        prev = p.previous()
        cid = int(row["client_id"])
        engagement = client_queries.client_engagement(conn, cid, prev.start, p.end)
        everyone = shared.get(_portfolio_key(url, p), lambda: None)
        portfolio = (peers.without_own(everyone, _own_sums(engagement, p, record_date(row, "signup_date"),
                                                           record_date(row, "churned_on")))
                     if everyone is not None else
                     client_queries.portfolio_engagement(conn, p.start, p.end, prev.start, prev.end, exclude_client_id=cid))
        return ClientData(
            period=p, first_month=first, client=row,
            content=client_queries.client_content(conn, cid),
            engagement=engagement,
            portfolio=portfolio,
            usage=client_queries.client_usage(conn, cid, prev.end - USAGE_LOOKBACK, p.end),
            tickets=client_queries.client_tickets(conn, cid, prev.end - TICKET_LOOKBACK, p.end),
            surveys=client_queries.client_surveys(conn, cid, prev.end - SURVEY_LOOKBACK, p.end),
            paying=client_queries.client_is_paying(conn, cid, p.last_month),
            paying_before=client_queries.client_is_paying(conn, cid, prev.last_month),
            last_activity=_last_view_day(engagement) or client_queries.client_last_activity(conn, cid, p.end),
            absent=tuple(t.name for t in CONTRACT.optional_tables if t.name not in usable),
            lacking=lacking_columns(conn, CONTRACT),
            first_day=client_queries.engagement_first_day(conn),
            usage_through=client_queries.usage_last_week(conn, p.end),
            subscribed_before=_subscribed_throughout(conn, row, prev),
            conventions=queries.client_conventions(conn, cid),
        )


def _last_view_day(engagement: pd.DataFrame) -> date | None:
    """The last day with views among the rows read for the period and the one before (None: none had views).

    Only a client without views in either period needs the query that looks further back, which
    reads the client's whole history of daily rows.
    """
    days = engagement.loc[engagement["views"] > 0, "day"]
    return None if days.empty else days.max().date()



__all__ = ["CONTRACT", "HEALTH_TABLES", "ClientData", "load", "portfolio_for_batch", "resolve_client"]
