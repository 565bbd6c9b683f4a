"""The SQL the executive report needs: SQLAlchemy Core with bound parameters, valid on DuckDB and PostgreSQL.

Every function takes an open :class:`sqlalchemy.engine.Connection` and returns a
DataFrame whose dtypes follow the schema's column types, whatever the driver returned:

* dates and instants: ``datetime64[ns]``, ``NaT`` for NULL (months are the first day of
  the month, weeks the Monday of the ISO week);
* ids and counts: ``int64`` (``Int64`` if the column holds NULLs);
* money, hours and other numbers: ``float64``;
* text: pandas ``str``; flags: ``bool``.

Date bounds are inclusive :class:`datetime.date` values. An empty result still has the
columns and dtypes.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.contract.inventory import inventory
from quire.contract.reports import CLIENT_REQUIRED, DEFAULT_BRAND
from quire.errors import WarehouseDataError, WarehouseError
from quire.formatting.text import DIRECTION_CONTROLS, without_direction_controls
from quire.periods import add_months, last_ended_month, month_start
from quire.warehouse import schema
from quire.warehouse.engine import CHECK_HINT, DATA_HINT, driver_reason, read_hint


#: The columns :func:`clients` returns besides ``brand``, in order.
CLIENT_COLUMNS = ("client_id", "org_id", "name", "slug", "sector", "plan", "region", "signup_date", "contact_email",
                  "status", "churned_on")


def data_range(conn: Connection) -> tuple[date, date]:
    """First and last *complete* month of the data, as first-of-month dates.

    The ledger gives the first month; daily engagement tells how far the data reaches:
    its last month counts only if engagement runs to that month's last day. Raises
    :class:`WarehouseError` if the warehouse has no tables, no ledger or no complete month.
    """
    mrr, eng = schema.mrr_movements, schema.engagement_daily
    inv = inventory(conn)
    if not inv.has("mrr_movements"):
        raise WarehouseError("the warehouse has no table mrr_movements (the MRR data a report's periods come from)",
                             hint=DATA_HINT)
    reach = sa.select(sa.func.max(eng.c.day)).scalar_subquery() if inv.has("engagement_daily") else sa.null()
    stmt = sa.select(sa.func.min(mrr.c.month), sa.func.max(mrr.c.month), reach)
    try:
        first, last_ledger_month, last_day = conn.execute(stmt).one()
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"cannot read the warehouse: {driver_reason(exc)}", hint=read_hint(exc)) from exc
    if first is None:
        raise WarehouseError("the warehouse holds no MRR data", hint=DATA_HINT)
    last = last_complete_month(last_day) if last_day is not None else min(month_start(last_ledger_month), last_ended_month())
    if last < first:
        raise WarehouseError(f"the warehouse holds no complete month (data starts {first:%Y-%m-%d})", hint=DATA_HINT)
    return first, last


def ledger_through(month: date) -> sa.ColumnElement[bool]:
    """Ledger rows of the month ``month`` and before. A ledger imported with day dates (2022-02-15, as billing
    systems export them) counts each row in its month: ``month <= 2022-02-01`` left out all but the 1st."""
    return schema.mrr_movements.c.month < add_months(month_start(month), 1)


def mrr_movements(conn: Connection, until: date) -> pd.DataFrame:
    """The MRR ledger up to and including the month ``until``: client_id, month, movement, amount."""
    t = schema.mrr_movements
    stmt = (sa.select(t.c.client_id, t.c.month, t.c.movement, t.c.amount)
            .where(ledger_through(until)).order_by(t.c.month, t.c.client_id, t.c.movement_id))
    return _read(conn, stmt)


def ledger_last_month(conn: Connection) -> date | None:
    """The month of the MRR ledger's last movement (a month start), or None for an empty ledger."""
    last = conn.execute(sa.select(sa.func.max(schema.mrr_movements.c.month))).scalar()
    return None if last is None else month_start(pd.Timestamp(last).date())


def wrong_signs(conn: Connection, until: date | None = None) -> str | None:
    """Where an MRR ledger amount (up to the month ``until``) has the wrong sign for its movement, in a sentence; None if nowhere.

    Billing tools often export churn and contraction as positive sizes. Such a ledger adds up (the bridge
    closes) but every figure is wrong: churned accounts keep paying and no account ever churns.
    """
    from quire.dataio.checks import SIGNS_HINT

    t = schema.mrr_movements
    up = [kind for kind, sign in schema.MOVEMENT_SIGNS.items() if sign > 0]
    down = [kind for kind, sign in schema.MOVEMENT_SIGNS.items() if sign < 0]
    wrong = sa.or_(sa.and_(t.c.movement.in_(up), t.c.amount < 0), sa.and_(t.c.movement.in_(down), t.c.amount > 0))
    if until is not None:
        wrong = sa.and_(wrong, ledger_through(until))
    first = conn.execute(sa.select(t.c.client_id, t.c.month, t.c.movement, t.c.amount).where(wrong)
                         .order_by(t.c.month, t.c.client_id).limit(1)).first()
    if first is None:
        return None
    count = conn.execute(sa.select(sa.func.count()).where(wrong)).scalar_one()
    others = f"; {count - 1:,} other row{'s' if count > 2 else ''} too" if count > 1 else ""
    article = "an" if first.movement[:1] in "aeiou" else "a"
    return (f"the MRR ledger holds {article} {first.movement} of {float(first.amount):,.2f} for client {first.client_id}"
            f"{_client_name(conn, first.client_id)} in {pd.Timestamp(first.month):%Y-%m}{others}: {', '.join(up)} "
            f"amounts must be positive and {', '.join(down)} amounts negative" + (f". {SIGNS_HINT}" if first.movement in down else ""))


def ledger_problem(conn: Connection, until: date | None = None) -> str | None:
    """Why the reports refuse the MRR ledger up to the month ``until`` (:func:`missing_amounts`,
    :func:`repeated_movements`, :func:`unknown_movements`, :func:`wrong_signs`, then :func:`negative_mrr`); None if
    they need not."""
    return (missing_amounts(conn, until) or repeated_movements(conn, until) or unknown_movements(conn, until)
            or wrong_signs(conn, until) or negative_mrr(conn, until))


def repeated_movements(conn: Connection, until: date | None = None) -> str | None:
    """The MRR ledger's movement ids (up to the month ``until``) that more than one row holds, in a sentence; None
    if none. A movement loaded twice counts twice: End MRR 112,531 where it was 97,993, with no other sign."""
    t = schema.mrr_movements
    rows = sa.select(t.c.movement_id, t.c.month)
    if until is not None:
        rows = rows.where(ledger_through(until))
    r = rows.subquery()
    repeats = (sa.select(r.c.movement_id, sa.func.count().label("n"), sa.func.min(r.c.month).label("month"))
               .group_by(r.c.movement_id).having(sa.func.count() > 1).subquery())
    ids, extra, first = conn.execute(sa.select(sa.func.count(), sa.func.sum(repeats.c.n - 1),
                                               sa.func.min(repeats.c.month))).one()
    if not ids:
        return None
    return (f"the MRR ledger holds {ids:,} movement{'s' if ids != 1 else ''} more than once ({int(extra):,} repeated "
            f"row{'s' if extra != 1 else ''} by movement_id, the first in {pd.Timestamp(first):%Y-%m}); each counts "
            "once: remove the repeats")


def missing_amounts(conn: Connection, until: date | None = None) -> str | None:
    """The MRR ledger's movements (up to the month ``until``) without an amount, in a sentence; None if none.

    Summed as nothing, an empty churn kept its account paying (logo churn 0 % where it was 6.7 %), and the checks
    after this one blamed the movement's label or a negative MRR for it.
    """
    t = schema.mrr_movements
    empty = t.c.amount.is_(None) if until is None else sa.and_(t.c.amount.is_(None), ledger_through(until))
    rows, first = conn.execute(sa.select(sa.func.count(), sa.func.min(t.c.month)).where(empty)).one()
    if not rows:
        return None
    return (f"the MRR ledger holds {rows:,} movement{'s' if rows != 1 else ''} without an amount (mrr_movements.amount "
            f"is empty, the first in {pd.Timestamp(first):%Y-%m}); give each its amount, or remove it")


def unknown_movements(conn: Connection, until: date | None = None) -> str | None:
    """The movement kinds of the MRR ledger (up to the month ``until``) that are none of :data:`schema.MOVEMENTS`, in a
    sentence; None if there are none. Such a row counts in the MRR but in no step of the bridge."""
    t = schema.mrr_movements
    unknown = sa.or_(t.c.movement.is_(None), t.c.movement.not_in(schema.MOVEMENTS))
    if until is not None:
        unknown = sa.and_(unknown, ledger_through(until))
    kinds = conn.execute(sa.select(t.c.movement, sa.func.count(), sa.func.min(t.c.month)).where(unknown)
                         .group_by(t.c.movement).order_by(t.c.movement)).all()
    if not kinds:
        return None
    listed = ", ".join(f"{'no kind' if kind is None else repr(without_direction_controls(str(kind)))} ({rows:,} "
                       f"row{'s' if rows != 1 else ''}, from {pd.Timestamp(first):%Y-%m})" for kind, rows, first in kinds[:5])
    more = f" and {len(kinds) - 5} more" if len(kinds) > 5 else ""
    return (f"the MRR ledger holds movement kind{'s' if len(kinds) > 1 else ''} the reports do not know: {listed}{more}; "
            f"use {', '.join(schema.MOVEMENTS[:-1])} or {schema.MOVEMENTS[-1]}, in lower case")


def negative_mrr(conn: Connection, until: date | None = None) -> str | None:
    """Where the MRR ledger (up to the month ``until``) takes a client's MRR below zero, in a sentence; None if nowhere.

    Every revenue figure assumes it never does: a churn or contraction larger than the client's
    MRR leaves a negative MRR that lowers the total but counts as no account (MRR $30 from one
    paying account, with ARPA $50), so the reports refuse such a ledger and say where it goes wrong.
    A month is a month however the ledger dates its rows (a churn on the 3rd and a new plan on the
    20th are one month's movements), and the rounding of each amount to cents is not a negative MRR.
    """
    t = schema.mrr_movements
    month = sa.func.date_trunc("month", t.c.month)
    monthly = (sa.select(t.c.client_id, month.label("month"), sa.func.sum(t.c.amount).label("amount"),
                         sa.func.count().label("rows")).group_by(t.c.client_id, month))
    if until is not None:
        monthly = monthly.where(ledger_through(until))
    m = monthly.subquery()
    so_far = {"partition_by": m.c.client_id, "order_by": m.c.month}
    running = sa.select(m.c.client_id, m.c.month, sa.func.sum(m.c.amount).over(**so_far).label("mrr"),
                        sa.func.sum(m.c.rows).over(**so_far).label("rows")).subquery()
    below = sa.select(running).where(running.c.mrr < -schema.ROUNDING_PER_ROW * running.c.rows)
    first = conn.execute(below.order_by(running.c.month, running.c.client_id).limit(1)).first()
    if first is None:
        return None
    clients = conn.execute(sa.select(sa.func.count(sa.distinct(below.subquery().c.client_id)))).scalar_one()
    others = f"; {clients - 1} other client{'s' if clients > 2 else ''} too" if clients > 1 else ""
    return (f"the MRR ledger takes client {first.client_id}{_client_name(conn, first.client_id)} below zero in "
            f"{pd.Timestamp(first.month):%Y-%m} (MRR {float(first.mrr):,.2f}{others}): a churn or contraction larger "
            "than its MRR; each client's amounts up to any month must add up to 0 or more")


def _client_name(conn: Connection, client_id: int) -> str:
    """" (Acme Inc)" after a client's id in a message, for a person who knows clients by name; "" without one."""
    c = schema.clients
    if not inventory(conn).has("clients", ("client_id", "name")):
        return ""
    name = conn.execute(sa.select(c.c.name).where(c.c.client_id == client_id)).scalar()
    return f" ({without_direction_controls(name)})" if name else ""


def _clients_select(conn: Connection) -> sa.Select:
    """Every client column :func:`clients` returns, from what the warehouse holds.

    The contract (:mod:`quire.contract`) makes some client columns optional: one the
    warehouse lacks reads as NULL of its type. ``brand`` is the client's own, else its
    organization's (when the warehouse has organizations), else the default brand.
    """
    c, o = schema.clients, schema.organizations
    inv = inventory(conn)
    if not inv.has("clients"):
        raise WarehouseError("the warehouse has no table clients", hint=CHECK_HINT)
    missing = [n for n in CLIENT_REQUIRED if not inv.has("clients", (n,))]
    if missing:
        raise WarehouseDataError(f"the warehouse's table clients has no column {', '.join(missing)}", hint=CHECK_HINT)

    def col(name: str) -> sa.ColumnElement:
        return c.c[name] if inv.has("clients", (name,)) else sa.cast(sa.null(), c.c[name].type).label(name)

    brands = [c.c.brand] if inv.has("clients", ("brand",)) else []
    joined = inv.has("organizations", ("org_id", "brand")) and inv.has("clients", ("org_id",))
    brands += [o.c.brand] if joined else []
    brand = sa.func.coalesce(*brands, sa.literal(DEFAULT_BRAND, sa.String)).label("brand")
    stmt = sa.select(*(col(n) for n in CLIENT_COLUMNS), brand)
    return stmt.join_from(c, o, c.c.org_id == o.c.org_id, isouter=True) if joined else stmt.select_from(c)


def clients(conn: Connection) -> pd.DataFrame:
    """Every client, with ``brand`` the effective brand (the client's own, else its organization's, else the default)."""
    return _read(conn, _clients_select(conn).order_by(schema.clients.c.client_id))


def client_by_slug(conn: Connection, slug: str) -> pd.Series | None:
    """One client's row as :func:`clients` gives it (effective brand included), or None.

    Raises :class:`WarehouseDataError` when several clients share the slug (a table or view without a
    unique slug): which of them a run, its brand and its e-mail's recipient would get is then up to the
    database's row order, and one client's report could go to another's contact.
    """
    frame = _read(conn, _clients_select(conn).where(schema.clients.c.slug == slug))
    if len(frame) > 1:
        ids = ", ".join(str(i) for i in sorted(frame["client_id"]))
        raise WarehouseDataError(f"{len(frame)} clients share the slug {slug!r} in the clients table (client_id {ids}), "
                                 "so none of their reports runs; give each client a slug of its own")
    return None if frame.empty else frame.iloc[0]


def _named(name: object) -> bool:
    """Whether a client's ``name`` is one to address it by (NULL reads as None or NaN)."""
    return isinstance(name, str) and bool(name.strip())


def offered_clients(clients: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`clients` a picker offers, by name: active ones with a slug (runs are named by it) and a
    name (reports are addressed by it); either missing was offered as "nan"."""
    return clients[(clients["status"] == "active") & clients["slug"].notna() & clients["name"].map(_named)
                   ].sort_values("name")


def require_name(client: pd.Series) -> pd.Series:
    """``client`` (a row of :func:`clients`), or :class:`WarehouseDataError` when it has no name: its report is
    addressed to it by name, on the cover and in every footer, and said "Prepared for nan"."""
    if not _named(client["name"]):
        raise WarehouseDataError(f"client '{client['slug']}' has no name in the clients table, which its report is "
                                 "addressed by; give it one")
    return client


#: Optional columns of ``clients``: how a client's own reports write figures, overriding its brand kit.
CLIENT_CONVENTIONS = ("locale", "currency")


def client_conventions(conn: Connection, client_id: int) -> dict[str, str | None]:
    """A client's own ``locale`` and ``currency``, each None when not set.

    The columns are optional: a warehouse (or a view over the user's own tables) without
    them gives None for both rather than an error. ``select *`` finds out which the table has
    in one query that DuckDB and PostgreSQL both answer.
    """
    c = schema.clients
    result = conn.execute(sa.select(sa.text("*")).select_from(c).where(c.c.client_id == client_id).limit(1))
    row = result.mappings().first()
    found: dict[str, str | None] = dict.fromkeys(CLIENT_CONVENTIONS)
    for name in CLIENT_CONVENTIONS:
        value = row.get(name) if row is not None else None
        found[name] = str(value).strip() or None if value is not None else None
    return found


def client_subscriptions(conn: Connection, client_id: int) -> pd.DataFrame:
    """One client's subscriptions: started_on, ended_on (``NaT`` while running), oldest first.

    Empty when the warehouse has no subscriptions table: a client's periods then run from
    its signup to its churn.
    """
    t = schema.subscriptions
    stmt = (sa.select(t.c.started_on, t.c.ended_on).where(t.c.client_id == client_id)
            .order_by(t.c.started_on, t.c.subscription_id))
    return _read_if(conn, stmt, t, ("subscription_id", "client_id"))


def experiment_columns() -> list[sa.Column]:
    """The columns every experiments table has (the contract's required ones; not the optional measure)."""
    return [c for c in schema.experiments.columns if c.name not in schema.EXPERIMENT_MEASURE]


def experiments(conn: Connection) -> pd.DataFrame:
    """Every experiment (the columns of :func:`experiment_columns`), oldest first.

    Without an experiments table, each experiment of the assignments stands in with the
    contract's defaults: key ``experiment-<id>``, name ``Experiment <id>``, no hypothesis,
    primary metric conversion, from the day of its first assignment to that of its last.
    """
    t = schema.experiments
    if inventory(conn).has(t.name, tuple(c.name for c in experiment_columns())):
        return _read(conn, sa.select(*experiment_columns()).order_by(t.c.started_on, t.c.experiment_id))
    a = schema.experiment_assignments
    if not inventory(conn).has(a.name, ("experiment_id", "assigned_at")):
        return _empty(sa.select(t))
    spans = _read(conn, sa.select(a.c.experiment_id, sa.func.min(a.c.assigned_at).label("started_on"),
                                  sa.func.max(a.c.assigned_at).label("ended_on"))
                  .group_by(a.c.experiment_id).order_by(sa.literal_column("started_on"), a.c.experiment_id))
    ids = spans["experiment_id"]
    frame = pd.DataFrame({"experiment_id": ids, "key": "experiment-" + ids.astype(str), "name": "Experiment " + ids.astype(str),
                          "hypothesis": "", "primary_metric": "conversion",
                          "started_on": spans["started_on"].dt.normalize(), "ended_on": spans["ended_on"].dt.normalize()})
    return frame.astype({"key": "str", "name": "str", "hypothesis": "str", "primary_metric": "str"})


def projects(conn: Connection, start: date, end: date) -> pd.DataFrame:
    """Projects due or delivered within ``start``..``end`` (all columns)."""
    t = schema.projects
    stmt = (sa.select(t).where(sa.or_(t.c.due_on.between(start, end), t.c.delivered_on.between(start, end)))
            .order_by(t.c.project_id))
    return _read_if(conn, stmt, t)


def off_scale_answers(conn: Connection, surveys: tuple[str, ...] = schema.SURVEYS) -> str | None:
    """The survey answers of ``surveys`` whose score lies outside their survey's scale, in a sentence; None if none.

    The reports refuse them (:func:`quire.metrics.satisfaction.checked_scores`): a CSAT asked on 0–10 or an NPS
    exported on 0–100 is another scale, not an answer to count.
    """
    t = schema.survey_responses
    outside = sa.or_(*(sa.and_(t.c.survey == survey, sa.or_(t.c.score < low, t.c.score > high))
                       for survey, (low, high) in schema.SURVEY_SCALES.items() if survey in surveys))
    found = conn.execute(sa.select(t.c.survey, sa.func.count(), sa.func.min(t.c.score), sa.func.max(t.c.score))
                         .where(outside).group_by(t.c.survey).order_by(t.c.survey)).all()
    if not found:
        return None
    said = "; ".join(f"{rows:,} {survey.upper()} answer{'s' if rows != 1 else ''} of {lowest:g} to {highest:g} outside "
                     f"{'its' if rows == 1 else 'their'} scale {schema.SURVEY_SCALES[survey][0]}–"
                     f"{schema.SURVEY_SCALES[survey][1]}" for survey, rows, lowest, highest in found)
    return (f"survey_responses holds {said}; the reports count no answer on another scale: convert them to the "
            "survey's scale in the source (or in SQL before the import), or leave them out")


def survey_responses(conn: Connection, start: date, end: date) -> pd.DataFrame:
    """NPS and CSAT responses given within ``start``..``end`` (all columns)."""
    t = schema.survey_responses
    stmt = sa.select(t).where(t.c.responded_on.between(start, end)).order_by(t.c.responded_on, t.c.response_id)
    return _read_if(conn, stmt, t)


def support_tickets(conn: Connection, start: date, end: date) -> pd.DataFrame:
    """Tickets opened on any day within ``start``..``end`` (all columns)."""
    t = schema.support_tickets
    since, before = datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())
    stmt = (sa.select(t).where(t.c.opened_at >= since, t.c.opened_at < before)
            .order_by(t.c.opened_at, t.c.ticket_id))
    return _read_if(conn, stmt, t)


def product_usage(conn: Connection, start: date, end: date) -> pd.DataFrame:
    """Weekly usage rows whose week (its Monday) lies within ``start``..``end`` (all columns)."""
    t = schema.product_usage
    stmt = sa.select(t).where(t.c.week.between(start, end)).order_by(t.c.week, t.c.client_id)
    return _read_if(conn, stmt, t)


def last_complete_month(last_day: date) -> date:
    """The month of ``last_day`` if the data reaches its end, else the month before; never a month not yet ended."""
    month = month_start(last_day)
    reached = month if add_months(month, 1) == last_day + timedelta(days=1) else add_months(month, -1)
    return min(reached, last_ended_month())


def _read(conn: Connection, stmt: sa.Select) -> pd.DataFrame:
    """Run ``stmt`` and give each column the dtype its SQL type calls for; free text (a name, a title) comes without
    direction controls (:data:`~quire.formatting.text.DIRECTION_CONTROLS`)."""
    frame = _fetch_frame(conn.execute(stmt))
    for column in stmt.selected_columns:
        try:
            frame[column.name] = _coerce(frame[column.name], column.type)
        except (ValueError, TypeError) as exc:  # text where a date or number belongs: a column typed wrongly
            table = getattr(getattr(column, "table", None), "name", None)
            raise WarehouseDataError(
                f"the warehouse's {f'{table}.' if table else ''}{column.name} holds values that are not "
                f"{_KINDS.get(type(column.type).__name__, str(column.type).lower())}s ({str(exc).splitlines()[0][:120]})",
                hint=CHECK_HINT) from None
        if getattr(column, "info", {}).get("free_text") and not frame.empty:
            frame[column.name] = frame[column.name].str.replace(DIRECTION_CONTROLS, "", regex=True)
    return frame


def _read_if(conn: Connection, stmt: sa.Select, table: sa.Table, also: tuple[str, ...] = ()) -> pd.DataFrame:
    """:func:`_read`, or an empty frame of the statement's columns and dtypes when the warehouse lacks ``table``
    or a column of it the statement selects (or one of ``also``): an optional table a report does without."""
    needed = tuple(c.name for c in stmt.selected_columns if getattr(c, "table", None) is table) + also
    return _read(conn, stmt) if inventory(conn).has(table.name, needed) else _empty(stmt)


def _empty(stmt: sa.Select) -> pd.DataFrame:
    """A frame without rows whose columns and dtypes are those :func:`_read` gives ``stmt``'s result."""
    return pd.DataFrame({c.name: _coerce(pd.Series([], dtype=object), c.type) for c in stmt.selected_columns})


def _fetch_frame(result: sa.CursorResult) -> pd.DataFrame:
    """All rows of ``result`` as a DataFrame (dtypes still the driver's; :func:`_coerce` settles them).

    DuckDB's cursor hands its result to pandas column by column: for the 5.3 M events a
    cohort report reads from the large warehouse that is 0.95 s against 18 s and a tenth of
    the memory of building the frame from row objects. Other drivers (PostgreSQL) go
    through plain tuples, which pandas takes about ten times faster than SQLAlchemy rows.
    """
    columns = list(result.keys())
    fetch_df = getattr(result.cursor, "fetch_df", None)
    if fetch_df is not None:
        try:
            frame = fetch_df()
        finally:
            result.close()
        frame.columns = columns
        return frame
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=columns)


#: What a column of each SQL type holds, in words, for the message of a column that holds something else.
_KINDS = {"Date": "date", "DateTime": "timestamp", "Boolean": "true/false value", "Integer": "whole number",
          "BigInteger": "whole number", "Numeric": "number", "Float": "number"}


def _coerce(values: pd.Series, sql_type: sa.types.TypeEngine) -> pd.Series:
    has_nulls = bool(values.isna().any())
    if isinstance(sql_type, (sa.Date, sa.DateTime)):
        with warnings.catch_warnings():  # text dates parsed one by one: said by the error below when they fail
            warnings.simplefilter("ignore", UserWarning)
            return pd.to_datetime(values).astype("datetime64[ns]")
    if isinstance(sql_type, sa.Boolean):
        return values.astype("boolean" if has_nulls else bool)
    if isinstance(sql_type, sa.Integer):
        return values.astype("Int64" if has_nulls else "int64")
    if isinstance(sql_type, (sa.Numeric, sa.Float)):  # SQLAlchemy 2.1: Float no longer subclasses Numeric
        return values.astype("float64")
    return values.astype("str")
