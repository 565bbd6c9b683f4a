"""What a loaded table must look like: its columns, types, keys, references and allowed values.

Everything the import, the views and the export know about Quire's tables comes from
:func:`table_spec`, one function that answers "which columns, types, keys and allowed
values does table T have": the columns, types and keys of the warehouse schema
(:mod:`quire.warehouse.schema`), the values the reports understand from their data
contracts (:data:`quire.contract.reports.ALLOWED`), so that an import refuses what the
reports would misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa

from quire.contract.reports import ALLOWED, CONVENTIONS, PATTERNS
from quire.warehouse import schema

#: Numeric columns that may be negative; every other number (amounts, counts, hours) may not.
SIGNED: frozenset[tuple[str, str]] = frozenset({("mrr_movements", "amount")})
#: Signed columns whose sign another column's value decides: (that column, values for positive, values for negative).
SIGN_RULES: dict[tuple[str, str], tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    ("mrr_movements", "amount"): ("movement", tuple(k for k, s in schema.MOVEMENT_SIGNS.items() if s > 0),
                                  tuple(k for k, s in schema.MOVEMENT_SIGNS.items() if s < 0)),
}

#: Numbers whose range another column's value decides: (that column, its value → (lowest, highest)).
SCALE_RULES: dict[tuple[str, str], tuple[str, tuple[tuple[str, tuple[float, float]], ...]]] = {
    ("survey_responses", "score"): ("survey", tuple(schema.SURVEY_SCALES.items())),
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a Quire table."""

    name: str
    type: sa.types.TypeEngine
    nullable: bool
    allowed: tuple[str, ...] | None = None  # the only values a text column may hold
    non_negative: bool = False              # a number that must be >= 0
    pattern: str | None = None              # a regular expression every value matches (slugs and keys)
    convention: str | None = None           # "locale" or "currency": a value the formatting must be able to read
    signs: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None  # see SIGN_RULES
    scale: tuple[str, tuple[tuple[str, tuple[float, float]], ...]] | None = None  # see SCALE_RULES

    @property
    def kind(self) -> str:
        """date | datetime | integer | number | boolean | text: how a source value is parsed."""
        t = self.type
        if isinstance(t, sa.DateTime):
            return "datetime"
        if isinstance(t, sa.Date):
            return "date"
        if isinstance(t, sa.Boolean):
            return "boolean"
        if isinstance(t, sa.Integer):
            return "integer"
        if isinstance(t, (sa.Numeric, sa.Float)):
            return "number"
        return "text"


@dataclass(frozen=True)
class Reference:
    """A foreign key: ``columns`` of this table name a row of ``table`` by its ``target_columns``."""

    columns: tuple[str, ...]
    table: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    """One Quire table: columns in order, primary key, unique columns, references to other tables."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]
    references: tuple[Reference, ...]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def table(self) -> sa.Table:
        """The SQLAlchemy table (for CREATE TABLE and typed casts)."""
        return schema.metadata.tables[self.name]


def table_names() -> tuple[str, ...]:
    """Every Quire table, parents before the tables that reference them."""
    return tuple(str(t.name) for t in schema.TABLES)


@cache
def table_spec(name: str) -> TableSpec:
    """The columns, types, keys, references and allowed values of the Quire table ``name`` (KeyError if none)."""
    table = schema.metadata.tables[name]
    columns = tuple(
        ColumnSpec(str(c.name), c.type, bool(c.nullable), ALLOWED.get((name, c.name)),
                   non_negative=_is_number(c) and not c.primary_key and not c.foreign_keys
                   and (name, c.name) not in SIGNED, pattern=PATTERNS.get((name, c.name)),
                   convention=CONVENTIONS.get((name, c.name)), signs=SIGN_RULES.get((name, c.name)),
                   scale=SCALE_RULES.get((name, c.name)))
        for c in table.columns)
    unique = tuple(tuple(col.name for col in con.columns) for con in table.constraints
                   if isinstance(con, sa.UniqueConstraint))
    unique += tuple((c.name,) for c in table.columns if c.unique)
    references = tuple(
        Reference(tuple(fk.parent.name for fk in con.elements), con.referred_table.name,
                  tuple(fk.column.name for fk in con.elements))
        for con in table.foreign_key_constraints)
    return TableSpec(name, columns, tuple(c.name for c in table.primary_key.columns), unique, references)


def referenced_by(name: str) -> list[tuple[str, Reference]]:
    """The (table, reference) pairs of every Quire table that points at ``name``."""
    return [(other, ref) for other in table_names() for ref in table_spec(other).references if ref.table == name]


def _is_number(column: sa.Column) -> bool:
    return isinstance(column.type, (sa.Integer, sa.Numeric, sa.Float)) and not isinstance(column.type, sa.Boolean)
