"""Bringing a state database made by an older Quire up to the current tables, in place.

``metadata.create_all`` creates missing tables (and their indexes) but never changes an
existing one. The steps here do, idempotently, each only when the database lacks it:

* columns added since (``quire_runs.requested_by``): ``ALTER TABLE … ADD COLUMN``;
* a widened CHECK on ``quire_runs.trigger`` (the ``console`` trigger): PostgreSQL swaps
  the constraint; SQLite cannot alter one, so the table is rebuilt as SQLite's manual
  prescribes (new table, copy, drop, rename) in one transaction, rows and the outbox's
  references kept;
* a widened unique key on ``quire_outbox`` (one e-mail per run, recipient *and kind*: the
  owner's alert beside the owner's report), swapped or rebuilt the same way;
* indexes added since, on existing tables.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.state.schema import TRIGGERS, metadata, outbox, runs

log = logging.getLogger("quire.state")


def upgrade(engine: Engine) -> list[str]:
    """Apply every missing step; returns what was done (empty for a current database)."""
    done: list[str] = []
    inspector = sa.inspect(engine)
    if not inspector.has_table(runs.name):
        return done
    have = {c["name"] for c in inspector.get_columns(runs.name)}
    with engine.begin() as conn:
        for column in runs.columns:
            if column.name not in have:
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(sa.text(f"ALTER TABLE {runs.name} ADD COLUMN {column.name} {kind}"))
                done.append(f"added {runs.name}.{column.name}")
    if not _trigger_check_current(engine):
        _replace_constraint(engine, runs, "quire_runs_trigger", f"CHECK (trigger IN {TRIGGERS})")
        done.append("widened quire_runs.trigger")
    if not _outbox_key_current(engine):
        _replace_constraint(engine, outbox, "quire_outbox_once", "UNIQUE (run_id, recipient, kind)")
        done.append("widened quire_outbox's unique key")
    for table in metadata.sorted_tables:
        for index in table.indexes:
            if index.name not in {i["name"] for i in sa.inspect(engine).get_indexes(table.name)}:
                index.create(engine, checkfirst=True)
                done.append(f"created index {index.name}")
    if done:
        log.info("state database upgraded: %s", "; ".join(done))
    return done


def _trigger_check_current(engine: Engine) -> bool:
    checks = sa.inspect(engine).get_check_constraints(runs.name)
    found = [c for c in checks if c.get("name") == "quire_runs_trigger" or "trigger" in c.get("sqltext", "")]
    return not found or all(f"'{TRIGGERS[-1]}'" in c.get("sqltext", "") for c in found)


def _replace_constraint(engine: Engine, table: sa.Table, name: str, definition: str) -> None:
    """Give ``table`` its current constraint ``name``: PostgreSQL swaps it; SQLite, which cannot alter one, rebuilds
    the table as the schema now declares it."""
    if engine.dialect.name == "sqlite":
        _rebuild_sqlite(engine, table)
        return
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {table.name} DROP CONSTRAINT IF EXISTS {name}"))
        conn.execute(sa.text(f"ALTER TABLE {table.name} ADD CONSTRAINT {name} {definition}"))


def _outbox_key_current(engine: Engine) -> bool:
    inspector = sa.inspect(engine)
    if not inspector.has_table(outbox.name):
        return True
    keys = [u for u in inspector.get_unique_constraints(outbox.name)
            if u.get("name") == "quire_outbox_once" or set(u["column_names"]) == {"run_id", "recipient"}]
    return all("kind" in u["column_names"] for u in keys)


def _rebuild_sqlite(engine: Engine, table: sa.Table) -> None:
    """SQLite's recipe for changing a table's constraints: create the new table, copy, drop, rename."""
    from sqlalchemy.schema import CreateTable

    ddl = str(CreateTable(table).compile(dialect=engine.dialect)).strip()
    ddl = ddl.replace(f"CREATE TABLE {table.name} ", f"CREATE TABLE {table.name}_new ", 1)
    columns = ", ".join(c.name for c in table.columns)
    # The driver's own connection in autocommit mode: pysqlite would not wrap DDL in its implicit
    # transaction, so BEGIN and COMMIT are explicit and the rebuild is all or nothing.
    raw = engine.raw_connection()
    driver = raw.driver_connection
    previous = driver.isolation_level
    driver.isolation_level = None
    cur = driver.cursor()
    try:
        cur.execute("PRAGMA foreign_keys=OFF")  # the referenced table is briefly gone; no effect inside a transaction
        cur.execute("BEGIN IMMEDIATE")
        try:
            for statement in (f"DROP TABLE IF EXISTS {table.name}_new", ddl,
                              f"INSERT INTO {table.name}_new ({columns}) SELECT {columns} FROM {table.name}",
                              f"DROP TABLE {table.name}", f"ALTER TABLE {table.name}_new RENAME TO {table.name}"):
                cur.execute(statement)
            _check_foreign_keys(cur)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
        driver.isolation_level = previous
        raw.close()


def _check_foreign_keys(cursor) -> None:
    broken = cursor.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"state database upgrade would break {len(broken)} reference(s); nothing was changed")
