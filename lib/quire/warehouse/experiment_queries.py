"""The SQL the experiment report needs: SQLAlchemy Core, bound parameters, valid on DuckDB and PostgreSQL.

Same conventions as :mod:`quire.warehouse.queries` (whose ``_read`` gives every column
the dtype its SQL type calls for): dates ``datetime64[ns]`` with ``NaT`` for NULL, ids and
counts ``int64``, money ``float64``, text ``str``, flags ``bool``. An empty result still
has its columns and dtypes, so an experiment without assignments is an empty frame,
not an error.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.warehouse import schema
from quire.warehouse.queries import _read


def experiment_keys(conn: Connection) -> list[str]:
    """Every experiment key, oldest experiment first (for "known keys" messages)."""
    t = schema.experiments
    return [str(k) for k in conn.execute(sa.select(t.c.key).order_by(t.c.started_on, t.c.experiment_id)).scalars()]


def experiment_by_key(conn: Connection, key: str) -> pd.Series | None:
    """One experiment's row (all columns of ``experiments``), or None when no experiment has ``key``."""
    t = schema.experiments
    frame = _read(conn, sa.select(t).where(t.c.key == key))
    return None if frame.empty else frame.iloc[0]


def variants(conn: Connection, experiment_id: int) -> pd.DataFrame:
    """The planned variants of one experiment: variant, is_control, allocation — control first, then by name."""
    t = schema.experiment_variants
    stmt = (sa.select(t.c.variant, t.c.is_control, t.c.allocation)
            .where(t.c.experiment_id == experiment_id)
            # ORDER BY a boolean works on both DuckDB and PostgreSQL (false < true).
            .order_by(t.c.is_control.desc(), t.c.variant))
    return _read(conn, stmt)


def assignments(conn: Connection, experiment_id: int) -> pd.DataFrame:
    """One row per assigned user: user_id, variant, assigned_at, converted, revenue, pre_revenue.

    Per-user rows (not per-variant sums) because the Welch test and CUPED need each
    user's metric and pre-period covariate.
    """
    t = schema.experiment_assignments
    stmt = (sa.select(t.c.user_id, t.c.variant, t.c.assigned_at, t.c.converted, t.c.revenue, t.c.pre_revenue)
            .where(t.c.experiment_id == experiment_id)
            .order_by(t.c.user_id))
    return _read(conn, stmt)
