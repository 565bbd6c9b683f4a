"""The SQL the experiment report needs: SQLAlchemy Core, bound parameters, valid on DuckDB and PostgreSQL.

Same conventions as :mod:`quire.warehouse.queries` (whose ``_read`` gives every column
the dtype its SQL type calls for): dates ``datetime64[ns]`` with ``NaT`` for NULL, ids and
counts ``int64``, money ``float64``, text ``str``, flags ``bool``. An empty result still
has its columns and dtypes, so an experiment without assignments is an empty frame,
not an error.
"""

from __future__ import annotations

import re

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.errors import WarehouseDataError
from quire.formatting import long_date
from quire.formatting.text import without_direction_controls
from quire.contract.inventory import inventory
from quire.warehouse import queries, schema
from quire.warehouse.queries import _read


#: Words that mark a variant as the control when the warehouse does not say which one is: "control",
#: "old_page" (the Udacity landing-page test), "original", "A"… A name is split into words at anything
#: that is not a letter or digit, so "old_page" and "Control group" match and "oldest" does not.
CONTROL_WORDS = ("control", "baseline", "original", "old", "existing", "current", "default", "holdout", "a")


def experiment_keys(conn: Connection) -> list[str]:
    """Every experiment key, oldest experiment first (for "known keys" messages). An experiment without a key
    (NULL) is left out: ``-p experiment=…`` cannot name it (its key read as "nan", which then failed)."""
    return [str(k) for k in _keyed(queries.experiments(conn))["key"]]


def assigned_experiment_keys(conn: Connection) -> list[str]:
    """The keys of the experiments with assigned users, oldest experiment first (those without a key left out)."""
    frame = _keyed(queries.experiments(conn))
    return [str(k) for k in frame.loc[frame["experiment_id"].isin(_assigned_ids(conn)), "key"]]


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """The experiments of ``frame`` (of :func:`quire.warehouse.queries.experiments`) that have a key."""
    return frame.loc[frame["key"].notna()]


def _assigned_ids(conn: Connection) -> set[int]:
    a = schema.experiment_assignments
    return set(conn.execute(sa.select(a.c.experiment_id).distinct()).scalars())


def unplanned_variants(conn: Connection) -> list[tuple[str, str]]:
    """(experiment key, variant) of the assignments to a variant the experiment's plan does not hold; none without
    an experiment_variants table (the variants are then those assigned). The report refuses such an experiment."""
    if not planned_variants(conn):
        return []
    a, v = schema.experiment_assignments, schema.experiment_variants
    planned = sa.select(sa.literal(1)).where(v.c.experiment_id == a.c.experiment_id, v.c.variant == a.c.variant)
    stmt = (sa.select(a.c.experiment_id, a.c.variant).where(~planned.exists()).distinct()
            .order_by(a.c.experiment_id, a.c.variant))
    key = _key_of(conn)
    return [(key(i), str(variant)) for i, variant in conn.execute(stmt).all()]


def guessed_controls(conn: Connection) -> list[tuple[str, list[str]]]:
    """(experiment key, its variants) of the experiments whose control the report would have to guess: no
    experiment_variants table, and no variant's name says it is the control (see :func:`control_by_name`)."""
    if planned_variants(conn):
        return []
    a = schema.experiment_assignments
    pairs = conn.execute(sa.select(a.c.experiment_id, a.c.variant).distinct()
                         .order_by(a.c.experiment_id, a.c.variant)).all()
    names: dict[int, list[str]] = {}
    for experiment_id, variant in pairs:
        names.setdefault(experiment_id, []).append(str(variant))
    key = _key_of(conn)
    return [(key(i), variants) for i, variants in names.items() if control_guessed(variants)]


def backwards_experiments(conn: Connection) -> list[str]:
    """Keys of the experiments whose record ends before it starts: the report refuses them until it is fixed."""
    e = schema.experiments
    if not inventory(conn).has(e.name, ("key", "started_on", "ended_on")):
        return []  # without the table, an experiment's days are those of its assignments
    return list(conn.execute(sa.select(e.c.key).where(e.c.ended_on < e.c.started_on).order_by(e.c.key)).scalars())


def undated_experiments(conn: Connection) -> list[str]:
    """Keys of the experiments with assigned users of which none was assigned on the experiment's days (its
    started_on to its ended_on, or on): the report finds nothing to analyse in them (see ``within_dates``)."""
    e, a = schema.experiments, schema.experiment_assignments
    if not inventory(conn).has(e.name, ("key", "started_on", "ended_on")):
        return []  # without the table, an experiment's days are those of its assignments
    day = sa.cast(a.c.assigned_at, sa.Date)
    inside = sa.and_(day >= e.c.started_on, sa.or_(e.c.ended_on.is_(None), day <= e.c.ended_on))
    held = sa.select(sa.literal(1)).where(a.c.experiment_id == e.c.experiment_id)
    on_its_days = held.where(inside)
    forwards = sa.or_(e.c.ended_on.is_(None), e.c.ended_on >= e.c.started_on)  # else backwards_experiments says it
    stmt = (sa.select(e.c.key).where(e.c.key.is_not(None), e.c.started_on.is_not(None), forwards, held.exists(),
                                     ~on_its_days.exists()).order_by(e.c.key))
    return list(conn.execute(stmt).scalars())


def check_dates(row) -> None:
    """Refuse an experiment row (of :func:`experiment_by_key`) without a start date, or whose record ends before it
    starts: either way its every user would read as outside its dates. :func:`backwards_experiments` is the second
    rule over the whole table."""
    start, end = row["started_on"], row["ended_on"]
    if pd.isna(start):
        # A run without it published "— – 13 August 2026 (nan days)" and "all users were assigned outside the dates".
        raise WarehouseDataError(f"experiment {row['key']!r} has no start date: its started_on in the experiments "
                                 "table is empty", hint="set its started_on, the day its first users were assigned")
    if end is not None and not pd.isna(end) and pd.Timestamp(end) < pd.Timestamp(start):
        raise WarehouseDataError(f"experiment {row['key']!r} ends on {long_date(pd.Timestamp(end).date())}, before it "
                                 f"starts on {long_date(pd.Timestamp(start).date())}",
                                 hint="fix its started_on or ended_on in the experiments table")


def _key_of(conn: Connection):
    """Experiment id → its key (``experiment-<id>`` for an id the experiments do not hold), for messages."""
    keys = dict(zip(*(_keyed(queries.experiments(conn))[c] for c in ("experiment_id", "key")), strict=True))
    return lambda experiment_id: str(keys.get(experiment_id, f"experiment-{experiment_id}"))


def newest_experiment_key(conn: Connection) -> str | None:
    """The key of the experiment that started last among those with assigned users (what ``experiment=latest``
    names: an experiment set up but not started yet has nothing to report), else of the one that started last;
    None without experiments. An experiment without a start date is taken only when no assigned one has a date: when
    it started is unknown (the table sorts it last), and the report refuses it until its date is set."""
    frame = _keyed(queries.experiments(conn))
    assigned = frame["experiment_id"].isin(_assigned_ids(conn))
    for chosen in (assigned & frame["started_on"].notna(), assigned):
        if chosen.any():
            return str(frame.loc[chosen, "key"].iloc[-1])
    return str(frame["key"].iloc[-1]) if len(frame) else None


def experiment_by_key(conn: Connection, key: str) -> pd.Series | None:
    """One experiment's row (the columns of :func:`quire.warehouse.queries.experiment_columns`), or None when no
    experiment has ``key``.

    Without an experiments table, the stand-ins :func:`quire.warehouse.queries.experiments` derives.
    """
    t = schema.experiments
    if not inventory(conn).has(t.name, tuple(c.name for c in queries.experiment_columns())):
        frame = queries.experiments(conn)
        frame = frame.loc[frame["key"] == key]
    else:
        frame = _read(conn, sa.select(*queries.experiment_columns()).where(t.c.key == key))
    return None if frame.empty else frame.iloc[0]


def experiment_measure(conn: Connection, experiment_id: int) -> dict[str, str | None]:
    """The experiment's optional ``metric_name`` and ``metric_unit`` as stored, each None where the table lacks the
    column (an experiments table of the user's own, or none) or leaves it empty."""
    t = schema.experiments
    held = inventory(conn)
    found: dict[str, str | None] = dict.fromkeys(schema.EXPERIMENT_MEASURE)
    columns = [t.c[name] for name in schema.EXPERIMENT_MEASURE if held.has(t.name, ("experiment_id", name))]
    if columns:
        row = conn.execute(sa.select(*columns).where(t.c.experiment_id == experiment_id)).mappings().first() or {}
        found.update({name: None if row.get(name) is None else without_direction_controls(str(row[name]))
                      for name in found})
    return found


def planned_variants(conn: Connection) -> bool:
    """Whether the warehouse says which variants were planned (an experiment_variants table)."""
    return inventory(conn).has("experiment_variants", ("experiment_id", "variant", "is_control", "allocation"))


def variants(conn: Connection, experiment_id: int) -> pd.DataFrame:
    """The planned variants of one experiment: variant, is_control, allocation — control first, then by name.

    Without an experiment_variants table, the variants are those users were assigned to,
    in equal shares; the control is the one :func:`control_by_name` finds, else the first by name
    (the report then warns that it guessed).
    """
    if not planned_variants(conn):
        return _assigned_variants(conn, experiment_id)
    t = schema.experiment_variants
    stmt = (sa.select(t.c.variant, t.c.is_control, t.c.allocation)
            .where(t.c.experiment_id == experiment_id)
            # ORDER BY a boolean works on both DuckDB and PostgreSQL (false < true).
            .order_by(t.c.is_control.desc(), t.c.variant))
    return _read(conn, stmt)


def _assigned_variants(conn: Connection, experiment_id: int) -> pd.DataFrame:
    a = schema.experiment_assignments
    stmt = sa.select(a.c.variant).where(a.c.experiment_id == experiment_id).distinct().order_by(a.c.variant)
    names = [str(v) for v in conn.execute(stmt).scalars()]
    control = control_by_name(names) or (names[0] if names else None)
    ordered = [control, *(n for n in names if n != control)] if control is not None else []
    share = 1 / len(ordered) if ordered else 0.0
    return pd.DataFrame({"variant": pd.Series(ordered, dtype="str"), "is_control": [n == control for n in ordered],
                         "allocation": [share] * len(ordered)}).astype({"is_control": bool, "allocation": "float64"})


def control_by_name(names: list[str]) -> str | None:
    """The variant whose name marks it as the control, or None when no name does.

    The words of :data:`CONTROL_WORDS` are tried in order and the first one a name holds wins
    (``["control", "treatment_a"]`` → ``control``; ``["new_page", "old_page"]`` → ``old_page``); of two names
    that hold it (``Control`` and ``control``) the first is taken, and :func:`control_rivals` names the other for
    the report to say so. ``["b", "c"]`` has no control by name.
    """
    words = {n: _words(n) for n in names}
    for word in CONTROL_WORDS:
        marked = [n for n in names if word in words[n]]
        if marked:
            return marked[0]
    return None


def _words(name: str) -> set[str]:
    """The lower-case words of a variant's name (``Treatment_A`` → ``{"treatment", "a"}``)."""
    return set(re.split(r"[^0-9a-z]+", name.lower())) - {""}


def control_rivals(names: list[str]) -> list[str]:
    """The other variants whose names also say "control" when :func:`control_by_name` took one (``baseline``
    beside ``control``): the report says which it took, as its choice may be the wrong one."""
    taken = control_by_name(names)
    if taken is None:
        return []
    # "A" alone reads as a control; the "a" of "treatment_a" names a treatment, as the "b" of its sibling does.
    strong = set(CONTROL_WORDS) - {"a"}

    def says_control(name: str) -> bool:
        words = _words(name)
        return bool(words & strong) or words == {"a"}

    return [n for n in names if n != taken and says_control(n)]


def control_guessed(names: list[str]) -> bool:
    """Whether, without a plan, the control of an experiment with these variants is a guess: several variants and
    none of their names says which is the control."""
    return len(names) > 1 and control_by_name(names) is None


def assignments(conn: Connection, experiment_id: int) -> pd.DataFrame:
    """One row per assigned user: user_id, variant, assigned_at, converted, revenue, pre_revenue.

    Per-user rows (not per-variant sums) because the Welch test and CUPED need each
    user's metric and pre-period covariate. ``pre_revenue`` is optional in the contract:
    without it the frame has no such column (and the report no CUPED).
    """
    t = schema.experiment_assignments
    columns = [t.c.user_id, t.c.variant, t.c.assigned_at, t.c.converted, t.c.revenue]
    if inventory(conn).has(t.name, ("pre_revenue",)):
        columns.append(t.c.pre_revenue)
    stmt = sa.select(*columns).where(t.c.experiment_id == experiment_id).order_by(t.c.user_id)
    return _read(conn, stmt)
