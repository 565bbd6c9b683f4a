"""``mode: views``: SQL views over the user's own tables, so the reports read live data with no copy.

Each mapped table becomes ``CREATE VIEW <schema>.<table> AS SELECT …`` over the user's
table (``source: shop.customers``), with the mapping's renames, value maps (``CASE``),
date parsing, unit conversions and defaults as SQL expressions
(:mod:`quire.dataio.expressions`); the derived tables (:mod:`quire.dataio.derive`) become
views too. Identifiers are quoted by SQLAlchemy and every constant is a rendered
literal: nothing from the mapping is pasted into SQL unchecked.

All in one transaction: the views are created, then read and checked like imported
data (values that do not convert, allowed values, negative amounts, duplicate keys,
references between the views); any problem rolls everything back, so the schema keeps
the views it had. Reports then read the views through a URL whose search path is the
view schema, e.g. ``postgresql+psycopg://…/db?options=-csearch_path%3Dquire``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateSchema, DDLElement

from quire.dataio import checks, derive
from quire.dataio.errors import DataError
from quire.dataio.expressions import (ColumnPlan, converted, distinct_slugs, droppable_keys, expected, mapped_text,
                                      plan_columns, skipped_sources)
from quire.dataio.mapping import Mapping, MappingError, TableMapping
from quire.dataio.target import TableSpec, referenced_by, table_names, table_spec
from quire.warehouse.engine import engine

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ViewStats:
    """What the views mapping created."""

    schema: str | None
    rows: dict[str, int]       # rows each view shows, in dependency order
    derived: tuple[str, ...]


class _CreateView(DDLElement):
    """``CREATE VIEW name AS select``, the select compiled by the connection's own dialect with literal values."""

    inherit_cache = False

    def __init__(self, view: sa.TableClause, select: sa.Select) -> None:
        self.view, self.select = view, select


class _DropView(DDLElement):
    inherit_cache = False

    def __init__(self, view: sa.TableClause) -> None:
        self.view = view


@compiles(_CreateView)
def _compile_create(element: _CreateView, compiler, **kw) -> str:
    name = compiler.preparer.format_table(element.view)
    return f"CREATE VIEW {name} AS {compiler.sql_compiler.process(element.select, literal_binds=True)}"


@compiles(_DropView)
def _compile_drop(element: _DropView, compiler, **kw) -> str:
    # No CASCADE: a view of the user's own built on ours stops the replacement with an error instead of vanishing.
    return f"DROP VIEW IF EXISTS {compiler.preparer.format_table(element.view)}"


def create_views(mapping: Mapping, url: str, progress: Progress | None = None) -> ViewStats:
    """Create (or replace) the mapping's views in the database at ``url``; all or nothing.

    Raises :class:`DataError` naming the table, column and value for data that would not
    read, and for a source table that does not exist.
    """
    report = progress or (lambda _m: None)
    _refuse_a_new_file(url)
    eng = engine(url, read_only=False)
    try:
        with eng.begin() as conn:
            return _Views(conn, mapping, report).run()
    except sa.exc.DBAPIError as exc:  # e.g. a table where a view should go, or a view of the user's built on ours
        raise DataError(f"cannot create the views: {_Unreadable(exc).reason}") from exc
    finally:
        eng.dispose()


def _refuse_a_new_file(url: str) -> None:
    """Views read tables already in the database: a DuckDB file that is not there is a wrong path (opening it made an
    empty file, and the message blamed the first source table), so say so before anything is created."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "duckdb" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.exists():
            raise DataError(f"no DuckDB database at {path}: with mode: views the views go into the database that holds "
                            "your tables, so QUIRE_WAREHOUSE_URL must name that file; check its path")


class _Views:
    def __init__(self, conn: sa.Connection, mapping: Mapping, progress: Progress) -> None:
        self.conn, self.mapping, self.progress = conn, mapping, progress
        self.schema = mapping.view_schema
        self.duck = conn.dialect.name == "duckdb"
        self.plans: dict[str, tuple[list[ColumnPlan], TableMapping, sa.FromClause]] = {}

    def run(self) -> ViewStats:
        if self.duck and self.schema not in (None, "main"):
            # DuckDB has no per-connection search path a URL can set: reports read the main schema.
            raise MappingError(f"schema: {self.schema}: in DuckDB the reports read the main schema; leave out "
                               "schema: (your own tables then need other names, or a schema of their own)")
        order = [t for t in table_names() if t in self.mapping.tables]
        made = derive.derived_tables(self.mapping)
        if self.schema:
            self.conn.execute(CreateSchema(self.schema, if_not_exists=True))
        self._refuse_tables_in_the_way([*order, *made])
        # Dependents first: a derived view (made now or by an earlier mapping) reads the mapped ones.
        for table in sorted([*made, *order], key=lambda t: (t not in derive.DERIVABLE, -table_names().index(t))):
            self.conn.execute(_DropView(self._view(table)))
        for table in order:
            self.progress(f"creating the view {table}")
            self.conn.execute(_CreateView(self._view(table), self._select(table)))
        for table in made:
            select = derive.derived_select(table, self.mapping, self._view, set(order))
            self.conn.execute(_CreateView(self._view(table), select))
        if self.duck:
            for table in order:
                self._check_conversions(table, self._where(table))
        rows = {}
        for table in [t for t in table_names() if t in order or t in made]:
            self.progress(f"checking the view {table}")
            try:
                rows[table] = self._check(table, set(order) | set(made))
            except _Unreadable as exc:
                raise DataError(f"view {self._view(table).fullname}: cannot be read: {exc.reason}") from exc
        return ViewStats(self.schema, rows, tuple(made))

    def _refuse_tables_in_the_way(self, tables: list[str]) -> None:
        """A table where a view must go (a warehouse imported into the same database) is named with the way out;
        dropping it is the user's call, and the database's own message ("Existing object users is of type Table,
        trying to drop type View") said neither what it was nor what to do."""
        # DuckDB's inspector lists every schema's tables without one: the views go to main.
        held = set(sa.inspect(self.conn).get_table_names(schema=self.schema or ("main" if self.duck else None)))
        blocking = [t for t in tables if t in held]
        if blocking:
            where = f"{self.schema}." if self.schema else ""
            raise DataError(f"the database already holds table{'s' if len(blocking) > 1 else ''} "
                            f"{', '.join(where + t for t in blocking)} where this mapping's views go (a warehouse "
                            "imported into it?); create the views in a database of their own (another "
                            "QUIRE_WAREHOUSE_URL or --url; on PostgreSQL a schema: of their own), or drop those tables")

    def _view(self, table: str) -> sa.TableClause:
        return sa.table(table, *(sa.column(c) for c in table_spec(table).column_names), schema=self.schema)

    def _source(self, table: str) -> tuple[sa.TableClause, dict[str, str]]:
        """The user's table ``table`` reads, and its columns' types."""
        spec = self.mapping.tables[table]
        if len(spec.sources) != 1:
            raise DataError(f"tables.{table}.source: with mode: views, name one table (e.g. shop.customers)")
        schema, _, name = spec.sources[0].rpartition(".")
        schema = schema or None
        if (schema or None) == self.schema and name == table:
            raise DataError(f"tables.{table}.source: the view {spec.sources[0]} would replace the table it reads; "
                            f"set schema: (e.g. quire) for the views")
        columns = self._columns(schema, name)
        if not columns:
            raise DataError(f"tables.{table}.source: no table or view {spec.sources[0]!r} in the database")
        return sa.table(name, schema=schema), columns

    def _columns(self, schema: str | None, name: str) -> dict[str, str]:
        """A table's columns and their types, from information_schema (PostgreSQL and DuckDB both have it)."""
        info = sa.table("columns", sa.column("table_schema"), sa.column("table_name"), sa.column("column_name"),
                        sa.column("data_type"), sa.column("ordinal_position"), schema="information_schema")
        where = info.c.table_schema == (schema if schema else sa.func.current_schema())
        stmt = (sa.select(info.c.column_name, info.c.data_type).where(where, info.c.table_name == name)
                .order_by(info.c.ordinal_position))
        return {str(column): str(kind) for column, kind in self.conn.execute(stmt).all()}

    def _select(self, table: str) -> sa.Select:
        spec = self.mapping.tables[table]
        implied = derive.implied_defaults(self.mapping, table)
        if implied:
            spec = spec.model_copy(update={"defaults": {**implied, **spec.defaults}})
        source, columns = self._source(table)
        generate = not any(other in self.mapping.tables for other, _ in referenced_by(table))
        plans = plan_columns(table_spec(table), spec, columns, f"table {spec.sources[0]}", generate_key=generate)
        source = sa.table(source.name, *(sa.column(c) for c in columns), schema=source.schema)
        present = [source.c[name].is_not(None) for name in skipped_sources(plans, spec, f"table {spec.sources[0]}")]
        # The conversions are checked on the rows the view keeps.
        self.plans[table] = (plans, spec, sa.select(*source.c).where(*present).subquery("kept") if present else source)
        select = sa.select(*(converted(p, spec, source, duck=self.duck, lenient=False).label(p.column.name)
                             for p in plans)).select_from(source).where(*present)
        select = distinct_slugs(select, table_spec(table), plans)
        return _without_repeated_keys(select, table_spec(table), plans) if spec.duplicates == "drop" else select

    def _run(self, stmt: sa.Executable) -> list[tuple]:
        try:
            if self.duck:
                return [tuple(r) for r in self.conn.execute(stmt).all()]
            # A savepoint, so that a failing read leaves the transaction usable for the next probe.
            with self.conn.begin_nested():
                return [tuple(r) for r in self.conn.execute(stmt).all()]
        except sa.exc.DBAPIError as exc:
            raise _Unreadable(exc) from exc

    def _check(self, table: str, present: set[str]) -> int:
        view, spec, where = self._view(table), table_spec(table), self._where(table)
        count = self._read_all(view, where)
        cols = [checks.Checked(c, view.c[c.name], values_key=f"tables.{table}.values.{c.name}") for c in spec.columns]
        locate = lambda _seq: where  # noqa: E731 - a view has no lines to point at
        checks.check_values(self._run, view, cols, spec, locate)
        for keys in (spec.key, *spec.unique):
            checks.check_unique(self._run, view, {k: view.c[k] for k in keys}, spec, locate)
        for ref in spec.references:
            if ref.table in present:
                parent = self._view(ref.table)
                checks.check_reference(self._run, view, view.c[ref.columns[0]], ref.columns[0], parent,
                                       parent.c[ref.target_columns[0]], spec, ref.table, locate)
        if table == "engagement_daily" and "content" in present:
            checks.check_content_owners(self._run, view, self._view("content"), where)
        return count

    def _where(self, table: str) -> str:
        """How messages name a view: "view quire.events (from shop.activity)"."""
        source = self.mapping.tables.get(table)
        return f"view {self._view(table).fullname}" + (f" (from {source.sources[0]})" if source else "")

    def _check_conversions(self, table: str, where: str) -> None:
        """DuckDB: read the source with TRY_CAST, so a value the view cannot convert is named with its column.

        (DuckDB has no savepoints: after a failed read the transaction is lost, so the
        PostgreSQL way of probing column by column is not open to it.)
        """
        plans, spec, source = self.plans[table]
        cols = [checks.Checked(p.column, converted(p, spec, source, duck=True), mapped_text(p, spec, source), p.source,
                               expected(p, spec), f"tables.{table}.values.{p.column.name}")
                for p in plans if p.source is not None]
        checks.check_values(self._run, source, cols, table_spec(table), lambda _seq: where)

    def _read_all(self, view: sa.TableClause, where: str) -> int:
        """Read every column of every row once: a value the view cannot convert fails here, named by its column."""
        try:
            return self._run(sa.select(sa.func.count(), *(sa.func.count(c) for c in view.c)).select_from(view))[0][0]
        except _Unreadable as exc:
            if self.duck:
                raise DataError(f"{where}: cannot be read: {exc.reason}") from exc
            for column in view.c:
                try:
                    self._run(sa.select(sa.func.count(column)).select_from(view))
                except _Unreadable as exc:
                    raise DataError(f"{where}, column {column.name}: a value cannot be read: {exc.reason}") from exc
            raise


def _without_repeated_keys(select: sa.Select, target: TableSpec, plans: list[ColumnPlan]) -> sa.Select:
    """``duplicates: drop``: the rows of ``select`` whose keys (each key and unique column set) occur once."""
    keys = droppable_keys(target, plans)
    mapped = select.subquery("mapped")
    counts = [sa.func.count().over(partition_by=[mapped.c[c] for c in k]).label(f"quire_rows_{i}")
              for i, k in enumerate(keys)]
    counted = sa.select(*mapped.c, *counts).subquery("counted")
    # An empty key is no repeat (the key checks, like SQL's UNIQUE, pass NULLs).
    once = [sa.or_(counted.c[f"quire_rows_{i}"] == 1, *(counted.c[c].is_(None) for c in k)) for i, k in enumerate(keys)]
    return sa.select(*(counted.c[c] for c in target.column_names)).where(*once)


class _Unreadable(Exception):
    def __init__(self, exc: sa.exc.DBAPIError) -> None:
        super().__init__(str(exc))
        text = str(exc.orig if exc.orig is not None else exc).strip()
        self.reason = text.splitlines()[0] if text else type(exc).__name__
