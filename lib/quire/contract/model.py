"""The contract's value objects: a column, a table as one report reads it, a report, and how its months are read.

Plain frozen dataclasses, built once at import by :mod:`quire.contract.reports` from the
warehouse schema (:mod:`quire.warehouse.schema`); nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The kinds of value a column holds, and the pandas dtype a query gives each kind
#: (see :mod:`quire.warehouse.queries`: ``Int64`` for an integer column that may be NULL).

KINDS: dict[str, str] = {
    "integer": "int64",
    "number": "float64",
    "money": "float64",
    "text": "str",
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns]",
    "boolean": "bool",
}

#: How a kind is described in messages and on the reference page.
KIND_WORDS: dict[str, str] = {
    "integer": "a whole number",
    "number": "any number",
    "money": "an amount of money, 2 decimals",
    "text": "text",
    "date": "a date, no time of day",
    "timestamp": "a date and time in UTC, without time zone",
    "boolean": "true or false",
}


@dataclass(frozen=True)
class ColumnContract:
    """One column as a report reads it.

    ``kind`` is one of :data:`KINDS`; ``sql_type`` the schema's type as DDL (e.g.
    ``VARCHAR(20)``, ``NUMERIC(14, 2)``). ``key``: part of the table's primary key.
    ``references``: ``"table.column"`` of a foreign key. ``allowed``: the only values the
    reports understand (None: any). ``minimum``/``maximum``: bounds of a number.
    ``pattern``: a regular expression every value matches (a key a run is named by).
    ``convention``: ``locale`` or ``currency``, a value the formatting's parser must read (``de-DE``, ``EUR``).
    ``optional``: the report runs without this column (``needed_for`` says what it adds);
    ``default``: the value the report uses where the column is absent or NULL.
    """

    name: str
    kind: str
    sql_type: str
    nullable: bool = False
    key: bool = False
    unique: bool = False
    references: str | None = None
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    convention: str | None = None
    optional: bool = False
    needed_for: str = ""
    default: object = None
    description: str = ""

    @property
    def pandas_dtype(self) -> str:
        """The dtype of this column in the DataFrames the queries return."""
        if self.kind == "integer" and (self.nullable or self.optional):
            return "Int64"
        if self.kind == "boolean" and (self.nullable or self.optional):
            return "boolean"
        return KINDS[self.kind]

    @property
    def required(self) -> bool:
        return not self.optional


@dataclass(frozen=True)
class TableContract:
    """One table as one report reads it: the columns it needs, and whether the report runs without it.

    ``purpose`` says what the report reads the table for; for an optional table,
    ``without`` says what the report leaves out when it is absent (the note a report shows
    is built from it). ``sections``: the report's sections that read the table.
    ``date_column`` dates the table's rows (its coverage); ``grain`` is ``day``, ``instant``,
    ``week`` or ``month``.
    """

    name: str
    columns: tuple[ColumnContract, ...]
    optional: bool = False
    purpose: str = ""
    without: str = ""
    sections: tuple[str, ...] = ()
    date_column: str | None = None
    grain: str = "day"
    description: str = ""

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.key)

    @property
    def required_columns(self) -> tuple[ColumnContract, ...]:
        return tuple(c for c in self.columns if not c.optional)

    @property
    def optional_columns(self) -> tuple[ColumnContract, ...]:
        return tuple(c for c in self.columns if c.optional)

    @property
    def foreign_keys(self) -> tuple[tuple[str, str, str], ...]:
        """(column, parent table, parent column) of each reference."""
        found = []
        for c in self.columns:
            if c.references:
                parent, parent_column = c.references.split(".")
                found.append((c.name, parent, parent_column))
        return tuple(found)

    def column(self, name: str) -> ColumnContract:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r} in this contract")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Coverage:
    """How a report's months are read from its tables (see :mod:`quire.warehouse.coverage`).

    ``kind="span"``: from the month of the earliest ``first`` value to the last *complete*
    month of the latest ``last`` value (a month counts when the data reaches its last day).
    ``kind="ledger"``: ``first`` and ``last`` name a monthly column whose rows are changes (a month
    without one had none); the months run to the last complete month of the daily data in ``reach``
    (table, column pairs, those present), or without any, to the later of the ledger's last month and
    the last complete month of the dated tables in ``also``.
    """

    kind: str
    first: tuple[str, str]
    last: tuple[str, str]
    reach: tuple[tuple[str, str], ...] = ()
    also: tuple[tuple[str, str], ...] = ()
    what: str = ""  # the data named in messages, e.g. "product users and events"
    #: ``kind="span"``: other (table, column) pairs whose earliest value the data must have reached too: the
    #: months start at the latest of the earliest values (events tracked from a day after the first signups:
    #: before it there is no activity to count, and a cell of it would read as a real 0 %).
    starts_with: tuple[tuple[str, str], ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.first[0], self.last[0])))


@dataclass(frozen=True)
class ReportContract:
    """What one report type reads: its tables, in the order a reader meets them, and how its months are found.

    ``report`` is the stem of the report's notebook (``cohort`` for ``notebooks/cohort.ipynb``);
    ``coverage`` is None for a report without periods (the experiment report runs per
    experiment).
    """

    report: str
    title: str
    summary: str
    tables: tuple[TableContract, ...]
    coverage: Coverage | None = None
    runs_per: str = "period"
    notes: tuple[str, ...] = field(default=())

    def table(self, name: str) -> TableContract:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(f"the {self.report} report reads no table {name!r}")

    def reads(self, name: str) -> bool:
        return any(t.name == name for t in self.tables)

    @property
    def required_tables(self) -> tuple[TableContract, ...]:
        return tuple(t for t in self.tables if not t.optional)

    @property
    def optional_tables(self) -> tuple[TableContract, ...]:
        return tuple(t for t in self.tables if t.optional)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)
