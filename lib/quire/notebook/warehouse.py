"""Reading the warehouse from a report notebook: one SQL statement, bound parameters, read-only.

>>> mrr = query("select month, sum(amount) as mrr from mrr_movements "
...             "where month between :start and :end group by month order by month",
...             start=period.start, end=period.last_month)

Values reach the database as bound parameters (``:name`` in the SQL), never pasted into the
text, so a client name with a quote in it is just a name. The connection is read-only (DuckDB
opens the file read-only; PostgreSQL runs the statement in a read-only transaction) and closed
afterwards. Once a report is adopted, its SQL moves into ``lib/quire/warehouse`` like the
built-in reports' (SQLAlchemy Core, tested on DuckDB and PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from quire.errors import WarehouseError
from quire.periods import Period, resolve_period


def query(sql: str, /, *, url: str | None = None, **params: Any) -> pd.DataFrame:
    """Run one read-only SQL statement with ``params`` bound to its ``:name`` placeholders; a DataFrame.

    ``url`` defaults to the configured warehouse (``QUIRE_WAREHOUSE_URL``). A statement the
    database rejects, or a placeholder without a value, raises :class:`~quire.errors.WarehouseError`
    with the database's own one-line reason.
    """
    from quire.config import get_settings
    from quire.warehouse.engine import connection, driver_reason
    from quire.warehouse.queries import _fetch_frame

    statement = sa.text(sql)
    missing = sorted(set(statement.compile().params) - set(params))
    if missing:
        raise WarehouseError(f"the query uses :{missing[0]} but no value was given for it",
                             hint=f"pass it as a keyword: query(sql, {missing[0]}=...)")
    with connection(url or get_settings().warehouse) as conn:
        try:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            return _fetch_frame(conn.execute(statement, params))
        except sa.exc.DBAPIError as exc:
            raise WarehouseError(f"the warehouse refused the query: {driver_reason(exc)}",
                                 hint="check the table and column names (quire.warehouse.schema lists them)") from None


def report_period(period: str, *, url: str | None = None, parameter: str = "period") -> Period:
    """The report's ``period`` parameter as a :class:`~quire.periods.Period` within the data.

    ``quire run`` has resolved and checked it already (``latest`` arrives as a concrete month);
    in JupyterLab ``latest`` is resolved here against the warehouse.
    """
    from quire.config import get_settings
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(url or get_settings().warehouse) as conn:
        first, last = queries.data_range(conn)
    return resolve_period(period, first_month=first, last_month=last, parameter=parameter)


__all__ = ["query", "report_period"]
