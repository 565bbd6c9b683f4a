"""The data contract: which tables and columns each report reads, in one place the code, the checks and the docs use.

Per report type (keyed by its notebook's stem: ``executive``, ``client``, ``cohort``,
``experiment``) a :class:`ReportContract` lists the :class:`TableContract` s it reads, and
each of those the :class:`ColumnContract` s. The facts about a column come from the
warehouse schema (:mod:`quire.warehouse.schema`); the contract adds which report reads
it, whether the report runs without it, what it would add, the allowed values and bounds.

Reading it::

    from quire.contract import CONTRACTS, contract, warehouse_tables

    c = contract("cohort")                    # ReportContract (a ParameterError for an unknown report)
    c.required_tables                         # (users, events) — the report cannot run without them
    c.optional_tables                         # () — tables whose absence leaves out a section, with a note
    t = c.table("events")
    t.primary_key                             # ("event_id",)
    t.foreign_keys                            # (("user_id", "users", "user_id"),): only to tables the report reads
    col = t.column("event_type")
    col.kind, col.sql_type, col.pandas_dtype  # "text", "VARCHAR(20)", "str"
    col.nullable, col.allowed                 # False, ("signup", "activation", …)
    col.minimum, col.maximum, col.optional    # bounds of numbers; a column the report runs without
    col.default                               # the value the report uses when the column is absent or NULL

``kind`` is one of ``integer``, ``number``, ``money``, ``text``, ``date``, ``timestamp``
(UTC, no time zone) and ``boolean`` (:data:`~quire.contract.model.KINDS` maps each to
its pandas dtype). ``table.without`` says, for an optional table, what a report leaves
out without it; ``table.date_column`` and ``table.grain`` date its rows.

Across reports, :func:`warehouse_tables` merges the uses of each table into one
:class:`TableContract` (a column is optional there when no report requires it).
:func:`metadata` gives SQLAlchemy tables for any subset (only the contract's columns,
foreign keys only between the tables included), to create a warehouse that holds just
what some reports need.

Against a live warehouse: :func:`inventory` says which tables, views and columns it holds;
:func:`usable_tables` which of a report's tables are usable (present with every required
column), :func:`lacking_columns` which optional ones are there without some of them;
:func:`absent_note` is the sentence a report shows for the optional tables it does without;
:func:`check_warehouse` runs every check of ``quire warehouse check`` and returns a
:class:`~quire.contract.check.CheckResult`; :func:`markdown` writes the reference page ``docs/contracts.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from quire.contract.inventory import Inventory, accepts, family, inventory, lacking_columns, usable_tables
from quire.contract.model import KIND_WORDS, KINDS, ColumnContract, Coverage, ReportContract, TableContract
from quire.contract.reports import ALLOWED, BOUNDS, CONTRACTS, DEFAULT_BRAND
from quire.errors import ParameterError

if TYPE_CHECKING:
    from quire.contract.check import CheckResult


def contract(report: str) -> ReportContract:
    """The contract of one report type; a :class:`ParameterError` listing the known ones otherwise."""
    try:
        return CONTRACTS[report]
    except KeyError:
        raise ParameterError(f"no data contract for report {report!r}; known: {', '.join(CONTRACTS)}",
                             parameter="report") from None


def warehouse_tables(reports: Iterable[str] | None = None) -> dict[str, TableContract]:
    """Every table some report reads (of ``reports``, default every one), its uses merged.

    The union of the columns, in schema order. A column (or table) is optional here when
    every report that reads it runs without it. ``purpose`` joins what each report reads
    the table for.
    """
    from quire.warehouse import schema

    contracts = {name: CONTRACTS[name] for name in (reports or CONTRACTS)}
    merged: dict[str, TableContract] = {}
    for table in schema.TABLES:
        uses = {name: c.table(table.name) for name, c in contracts.items() if c.reads(table.name)}
        if not uses:
            continue
        columns: dict[str, ColumnContract] = {}
        for use in uses.values():
            for col in use.columns:
                seen = columns.get(col.name)
                if seen is None:
                    columns[col.name] = col
                elif seen.optional and not col.optional or not seen.references and col.references:
                    columns[col.name] = _merged(col, seen)
        order = [c.name for c in table.columns]
        first = next(iter(uses.values()))
        merged[table.name] = TableContract(
            name=table.name, columns=tuple(sorted(columns.values(), key=lambda c: order.index(c.name))),
            optional=all(u.optional for u in uses.values()),
            purpose="; ".join(dict.fromkeys(f"{r}: {u.purpose}" for r, u in uses.items())),
            without="", sections=(), date_column=first.date_column, grain=first.grain, description=first.description)
    return merged


def _merged(new: ColumnContract, seen: ColumnContract) -> ColumnContract:
    from dataclasses import replace

    return replace(new, optional=new.optional and seen.optional, references=new.references or seen.references)


def metadata(tables: Iterable[str] | None = None, *, report: str | None = None,
             required_only: bool = False) -> sa.MetaData:
    """SQLAlchemy tables for ``tables`` (default: every table of ``report``, or of every report).

    Each holds the contract's columns (of ``report``, else of every report; only the
    required ones with ``required_only``) with the schema's types, nullability and keys;
    foreign keys only to tables included, so that any subset can be created on its own
    (``metadata(report="cohort").create_all(conn)``).
    """
    from quire.warehouse import schema

    uses = {t.name: t for t in CONTRACTS[report].tables} if report else warehouse_tables()
    names = list(tables) if tables is not None else list(uses)
    unknown = [n for n in names if n not in uses]
    if unknown:
        whose = f"the {report} report's contract" if report else "any report's contract"
        raise ParameterError(f"no table {', '.join(unknown)} in {whose}; tables: {', '.join(uses)}", parameter="tables")
    meta = sa.MetaData()
    for name in [t.name for t in schema.TABLES if t.name in names]:  # parents first
        source = schema.metadata.tables[name]
        cols = []
        for col in uses[name].required_columns if required_only else uses[name].columns:
            src = source.c[col.name]
            fks = [sa.ForeignKey(fk.target_fullname) for fk in src.foreign_keys if fk.column.table.name in names]
            cols.append(sa.Column(col.name, src.type, *fks, primary_key=src.primary_key, autoincrement=False,
                                  nullable=col.nullable or col.optional, unique=bool(src.unique) or None,
                                  comment=src.comment))
        sa.Table(name, meta, *cols)
    return meta


def absent_note(report: str, tables: Iterable[str], lacking: Mapping[str, Sequence[str]] | None = None) -> str:
    """What ``report`` leaves out because the warehouse lacks the optional ``tables``, or holds them without the
    required columns ``lacking`` names (:func:`lacking_columns`): one sentence each."""
    c, said = contract(report), []
    for t in c.optional_tables:
        if t.name in set(tables):
            why = missing_phrase([t.name], lacking)
            said.append(f"{why[:1].upper()}{why[1:]}, so {t.without}.")
    return " ".join(said)


def missing_phrase(tables: Sequence[str], lacking: Mapping[str, Sequence[str]] | None = None) -> str:
    """Why ``tables`` cannot be read, for a report's sentence: "the warehouse has no a or b table", and for those
    ``lacking`` names, "the warehouse's c table has no d column" (a table that is there is never called missing)."""
    lacking = lacking or {}
    absent = [t for t in tables if not lacking.get(t)]
    parts = [f"the warehouse has no {_listed(absent, 'or')} table"] if absent else []
    for table in (t for t in tables if lacking.get(t)):
        columns = list(lacking[table])
        owner = "its" if parts else "the warehouse's"
        parts.append(f"{owner} {table} table has no {_listed(columns, 'and')} "
                     f"{'column' if len(columns) == 1 else 'columns'}")
    return ", and ".join(parts)


def _listed(names: Sequence[str], word: str) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"


def check_warehouse(conn: sa.Connection, reports: Iterable[str] | None = None, *, url: str = "") -> CheckResult:
    """Check the warehouse behind ``conn`` against the contracts of ``reports`` (default: all); see :mod:`.check`."""
    from quire.contract.check import check_warehouse as run

    return run(conn, reports, url=url)


def markdown() -> str:
    """The reference page ``docs/contracts.md``, generated from the contracts (see :mod:`.docs`)."""
    from quire.contract.docs import markdown as page

    return page()


__all__ = ["ALLOWED", "BOUNDS", "CONTRACTS", "DEFAULT_BRAND", "KINDS", "KIND_WORDS", "ColumnContract", "Coverage",
           "Inventory", "ReportContract", "TableContract", "absent_note", "accepts", "check_warehouse", "contract",
           "family", "inventory", "lacking_columns", "markdown", "metadata", "missing_phrase", "usable_tables",
           "warehouse_tables"]
