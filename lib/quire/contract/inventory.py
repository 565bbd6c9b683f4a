"""What a warehouse holds: its tables and views, their columns and each column's type family.

Read from ``information_schema`` in one query, which DuckDB and PostgreSQL both answer
(SQLAlchemy's reflection of columns does not work on duckdb-engine); other databases
(SQLite) through SQLAlchemy's inspector. Only the current
schema of the current database counts: the tables the reports' unqualified SQL reaches.
The result is remembered for the life of the connection object (not of the pooled DBAPI
connection behind it, which may outlive a change of tables), so that a report's load asks once.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.contract.model import ColumnContract, ReportContract, TableContract

#: Dialects whose catalog is read from ``information_schema`` (duckdb-engine cannot reflect columns).
INFORMATION_SCHEMA = ("duckdb", "postgresql")
_SEEN: "weakref.WeakKeyDictionary[Connection, Inventory]" = weakref.WeakKeyDictionary()
_PROBED: "weakref.WeakKeyDictionary[Connection, dict[str, str | None]]" = weakref.WeakKeyDictionary()

# Type names as DuckDB and PostgreSQL spell them in information_schema, lower-cased, by family.
_FAMILIES: tuple[tuple[str, re.Pattern], ...] = (
    ("timestamptz", re.compile(r"^timestamp(\(\d+\))? with time zone$|^timestamptz$")),
    ("timestamp", re.compile(r"^timestamp|^datetime")),
    ("date", re.compile(r"^date$")),
    ("boolean", re.compile(r"^bool")),
    ("integer", re.compile(r"^(u?(tiny|small|big|huge)?int(eger)?\d*|(small|big)?serial)$")),
    ("decimal", re.compile(r"^(decimal|numeric)")),
    ("float", re.compile(r"^(double|float|real)")),
    ("text", re.compile(r"^(varchar|character|char|text|string|bpchar|enum|uuid|citext)")),
)

#: Which type families each contract kind accepts.
ACCEPTS: dict[str, tuple[str, ...]] = {
    "integer": ("integer",),
    "number": ("integer", "decimal", "float"),
    "money": ("integer", "decimal", "float"),
    "text": ("text",),
    "date": ("date",),
    "timestamp": ("timestamp", "date"),
    "boolean": ("boolean",),
}


def family(data_type: str) -> str:
    """The family of a database type name (``BIGINT`` → integer, ``character varying`` → text); ``other`` if unknown."""
    name = data_type.strip().lower()
    for fam, pattern in _FAMILIES:
        if pattern.search(name):
            return fam
    return "other"


def accepts(column: ColumnContract, data_type: str) -> bool:
    """Whether a database column of ``data_type`` can serve as ``column``."""
    return family(data_type) in ACCEPTS[column.kind]


@dataclass(frozen=True)
class Inventory:
    """The warehouse's tables and views (lower-case names) → their columns → the database's type name."""

    tables: dict[str, dict[str, str]]
    views: frozenset[str] = frozenset()

    def has(self, table: str, columns: tuple[str, ...] = ()) -> bool:
        """Whether ``table`` exists (as a table or view) with every one of ``columns``."""
        held = self.tables.get(table.lower())
        return held is not None and all(c.lower() in held for c in columns)

    def type_of(self, table: str, column: str) -> str | None:
        return self.tables.get(table.lower(), {}).get(column.lower())

    def usable(self, table: TableContract) -> bool:
        """Whether ``table`` is there with every column the contract requires (types are the checker's concern)."""
        return self.has(table.name, tuple(c.name for c in table.required_columns))

    def mistyped_columns(self, table: TableContract) -> list[tuple[ColumnContract, str]]:
        """The columns of ``table`` it holds in a known type the contract does not accept, with that type.

        A type this module does not know (a database's own enum or domain type) is left to ``quire warehouse
        check``, which names it: many such types read as text."""
        held = self.tables.get(table.name.lower(), {})
        return [(c, found) for c in table.columns if (found := held.get(c.name.lower())) is not None
                and family(found) != "other" and not accepts(c, found)]

    def missing_columns(self, table: TableContract) -> list[str]:
        """The required columns ``table`` is there without; [] when it is whole, or not there at all."""
        held = self.tables.get(table.name.lower())
        return [c.name for c in table.required_columns if c.name.lower() not in held] if held is not None else []


def inventory(conn: Connection, *, fresh: bool = False) -> Inventory:
    """The warehouse's tables, views and columns (remembered for ``conn`` unless ``fresh``)."""
    if not fresh and conn in _SEEN:
        return _SEEN[conn]
    found = _information_schema(conn) if conn.dialect.name in INFORMATION_SCHEMA else _reflected(conn)
    _SEEN[conn] = found
    _PROBED.pop(conn, None)  # which views read, asked again of the tables just found
    return found


def _reflected(conn: Connection) -> Inventory:
    """Through SQLAlchemy's inspector (SQLite and other databases without ``information_schema``)."""
    inspector = sa.inspect(conn)
    views = {v.lower() for v in inspector.get_view_names()}
    names = [*inspector.get_table_names(), *inspector.get_view_names()]
    tables = {name.lower(): {c["name"].lower(): str(c["type"]) for c in inspector.get_columns(name)} for name in names}
    return Inventory(tables, frozenset(views))


def _information_schema(conn: Connection) -> Inventory:
    columns = sa.text(
        "select c.table_name, c.column_name, c.data_type, t.table_type "
        "from information_schema.columns c join information_schema.tables t "
        "on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema and t.table_name = c.table_name "
        "where c.table_schema = current_schema() and c.table_catalog = current_database() "
        "order by c.table_name, c.ordinal_position")
    tables: dict[str, dict[str, str]] = {}
    views: set[str] = set()
    for table, column, data_type, table_type in conn.execute(columns):
        tables.setdefault(str(table).lower(), {})[str(column).lower()] = str(data_type)
        if "VIEW" in str(table_type).upper():
            views.add(str(table).lower())
    return Inventory(tables, frozenset(views))


def enforced_keys(conn: Connection) -> dict[str, set[frozenset[str]]]:
    """Per table (lower-case), the column sets the database itself keeps unique (primary keys, unique constraints).

    Rows cannot repeat such a key, so the checker need not count them (on 12 M events a
    distinct count takes seconds).
    """
    if conn.dialect.name not in INFORMATION_SCHEMA:
        inspector = sa.inspect(conn)
        found: dict[str, set[frozenset[str]]] = {}
        for name in inspector.get_table_names():
            keys = [inspector.get_pk_constraint(name).get("constrained_columns") or []]
            keys += [u["column_names"] for u in inspector.get_unique_constraints(name)]
            found[name.lower()] = {frozenset(c.lower() for c in k) for k in keys if k}
        return found
    stmt = sa.text(
        "select tc.table_name, tc.constraint_name, k.column_name "
        "from information_schema.table_constraints tc join information_schema.key_column_usage k "
        "on k.constraint_name = tc.constraint_name and k.table_schema = tc.table_schema and k.table_name = tc.table_name "
        "where tc.constraint_type in ('PRIMARY KEY', 'UNIQUE') and tc.table_schema = current_schema()")
    columns: dict[tuple[str, str], set[str]] = {}
    for table, constraint, column in conn.execute(stmt):
        columns.setdefault((str(table).lower(), str(constraint)), set()).add(str(column).lower())
    keys: dict[str, set[frozenset[str]]] = {}
    for (table, _), cols in columns.items():
        keys.setdefault(table, set()).add(frozenset(cols))
    return keys


def unreadable_views(conn: Connection, names: Iterable[str]) -> dict[str, str]:
    """The views among ``names`` the database cannot read, each with its reason (a table the view selects from was
    dropped or renamed: "there is no table sr_raw"). Tables are not asked: only a view can break that way.

    A failed read ends the connection's transaction, so it is rolled back: these checks read, never write.
    """
    from quire.warehouse.engine import driver_reason

    views = inventory(conn).views
    probed = _PROBED.setdefault(conn, {})  # once per connection, as the inventory: a fan-out's runs share it
    for name in dict.fromkeys(names):
        if name.lower() in views and name not in probed:
            try:
                conn.execute(sa.select(sa.literal(1)).select_from(sa.table(name)).limit(0))
                probed[name] = None
            except sa.exc.DBAPIError as exc:
                conn.rollback()
                probed[name] = driver_reason(exc)
    return {name: why for name in names if (why := probed.get(name))}


def lacking_columns(conn: Connection, contract: ReportContract) -> dict[str, tuple[str, ...]]:
    """The optional tables of ``contract`` the warehouse holds without some of their required columns, each with
    the columns it lacks: the report goes without them as without an absent table, and says why."""
    inv = inventory(conn)
    return {t.name: tuple(missing) for t in contract.optional_tables if (missing := inv.missing_columns(t))}


def usable_tables(conn: Connection, contract: ReportContract) -> frozenset[str]:
    """The tables of ``contract`` the warehouse holds with all their required columns."""
    inv = inventory(conn)
    return frozenset(t.name for t in contract.tables if inv.usable(t))
