"""The mapping file: how a user's files or tables become Quire's tables.

A YAML file, checked on load with pydantic (an unknown key or a bad value is one line
naming the key) and then against Quire's tables (:mod:`quire.dataio.target`)::

    mode: import                 # import: copy files into the embedded warehouse; views: SQL views, no copy
    text_ids: [user_id]          # keys given as text (7c396fd4…): numbered 1, 2, 3… the same in every table
    company: {name: Fernweh Tea} # the one client of a single-company dataset (when no clients table is mapped)
    experiment_metric: {name: game rounds, unit: number}   # what assignments' revenue measures (no experiments table);
                                                           # primary: true decides on it rather than on conversion
    experiment_plan: {control: psa, split: {ad: 96, psa: 4}}   # the control and planned split (no experiment_variants)
    tables:
      events:                    # a Quire table
        source: events.csv.gz    # file(s) relative to this file (csv, csv.gz, parquet); with views: a table
        rename: {ts: occurred_at, action: event_type, amount_cents: revenue}   # source column -> Quire column
        dates: {occurred_at: epoch_millis}   # a strptime format, epoch_seconds or epoch_millis
        multiply: {revenue: 0.01}            # unit conversion: cents -> currency units
        values: {event_type: {register: signup, order: purchase}}   # the user's words -> Quire's
        defaults: {channel: organic}         # a constant for a column the source does not have
        skip_rows_without: [user_id]         # leave out rows with these columns empty (guest orders)
        duplicates: first                    # rows sharing a key: error (default), first (in file order) or drop
        numbers: "1.234,56"                  # how the file writes numbers: 1234.56 (default), 1,234.56, 1.234,56, 1 234,56

A source column named like the Quire column needs no rename. Conversions (``dates``,
``multiply``, ``values``, ``defaults``) are keyed by the Quire column.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from quire import yamltext
from quire.dataio.target import table_names, table_spec
from quire.errors import ConfigError
from quire.formatting.text import KEY_PATTERN, slug
from quire.problems import describe, worded, yaml_found

Scalar = str | int | float | bool | date | datetime
EPOCHS = ("epoch_seconds", "epoch_millis", "epoch_micros")  # micros: GA4's event_timestamp
FORMATS = ("csv", "parquet")


class MappingError(ConfigError):
    """The mapping file is unreadable, or names a key, table, column or value Quire does not know."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Company(_Strict):
    """The single client (and its organization) of a dataset that has no clients table."""

    name: str = "My company"
    slug: Annotated[str, Field(pattern=worded(KEY_PATTERN, "be lower-case letters, digits and "
                                              "'-' (80 at most, not starting with '-'), e.g. my-company"))] = "my-company"
    sector: Literal["municipality", "business", "startup", "nonprofit"] = "business"
    plan: Literal["starter", "growth", "enterprise"] = "growth"
    region: str = "unknown"
    brand: Annotated[str, Field(pattern=worded(r"^[A-Za-z0-9_-]{1,64}$", "be the folder name of a brand kit: "
                                               "letters, digits, '-' and '_' (64 at most), e.g. quire"))] = "quire"
    contact_email: str = "reports@example.com"
    signup_date: date | None = None  # default: the day of the first user's signup (else of the first event)

    @model_validator(mode="before")
    @classmethod
    def _slug_from_name(cls, data: object) -> object:
        # Without a slug, the name's (Fernweh Tea -> fernweh-tea): `quire clients` and -p client=… show it.
        if isinstance(data, dict) and data.get("name") and not data.get("slug"):
            made = slug(str(data["name"]))
            return {**data, "slug": made} if made else data
        return data


class ExperimentMetric(_Strict):
    """What the assignments' ``revenue`` column measures, for experiments made from the assignments (no experiments
    table): a public A/B export's game rounds are no money."""

    name: Annotated[str, Field(min_length=1, max_length=24)] = "revenue"
    unit: Literal["currency", "number"] = "currency"
    # Decide on this measure, not on conversion: a test of sales per store has no conversion to speak of.
    primary: bool = False


class ExperimentPlan(_Strict):
    """The design the assignments do not hold, for experiments without an experiment_variants table: which variant
    is the control and how traffic was meant to be split (a public 96/4 test is no 50/50 test that went wrong)."""

    control: Annotated[str, Field(min_length=1)]
    # Each variant's planned share, in any unit (96 and 4, or 0.5 and 0.5): read as shares of their sum.
    split: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]]

    @field_validator("control", "split", mode="before")
    @classmethod
    def _variant_names_as_text(cls, value: object) -> object:
        # Variants named 1 and 2 are read from the file as text; YAML makes numbers of them.
        if isinstance(value, dict):
            return {str(k) if isinstance(k, (int, float)) and not isinstance(k, bool) else k: v for k, v in value.items()}
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _control_is_split(self) -> "ExperimentPlan":
        if len(self.split) < 2:
            raise ValueError("split: give every variant's planned share, at least two (e.g. {control: 50, new: 50})")
        if self.control not in self.split:
            raise ValueError(f"control: {self.control!r} is not one of the split's variants ({', '.join(self.split)})")
        return self

    def allocation(self) -> dict[str, float]:
        """Each variant's share of the traffic, adding up to 1."""
        total = sum(self.split.values())
        return {variant: share / total for variant, share in self.split.items()}


#: How a file may write its numbers, each as (the mark grouping thousands, the decimal mark).
NUMBER_FORMATS = {"1234.56": ("", "."), "1,234.56": (",", "."), "1.234,56": (".", ","), "1 234,56": (" ", ",")}


class TableMapping(_Strict):
    """How one Quire table is filled from the user's file(s) or table."""

    source: str | list[str]
    format: Literal["csv", "parquet"] | None = None
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    encoding: Literal["utf-8", "utf-16", "latin-1"] = "utf-8"
    nulls: list[str] = [""]
    rename: dict[str, str] = {}
    dates: dict[str, str] = {}
    multiply: dict[str, float] = {}
    values: dict[str, dict[str, Scalar | None]] = {}
    defaults: dict[str, Scalar | None] = {}
    # Rows whose source leaves one of these Quire columns empty are left out (and counted), e.g. the
    # orders of guests without a customer id in a shop's export; any other empty required value is an error.
    skip_rows_without: list[str] = []
    # Rows sharing a key (a user assigned twice to one experiment, an order exported twice): an error by
    # default; `first` keeps the first in file order, `drop` leaves out every one of them (a user seen in two
    # variants is no clean evidence for either). Either way they are counted.
    duplicates: Literal["error", "first", "drop"] = "error"
    # How the file's text writes numbers (a German export: 1.234,56): read with this grouping and decimal mark.
    numbers: Literal["1234.56", "1,234.56", "1.234,56", "1 234,56"] = "1234.56"

    @field_validator("source")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        if not value:
            raise ValueError("name at least one file (or, with mode: views, one table)")
        return value

    @property
    def sources(self) -> list[str]:
        return [self.source] if isinstance(self.source, str) else list(self.source)

    def source_of(self, column: str) -> str | None:
        """The source column that fills the Quire ``column``: its rename, else the same name (None: a default or absent)."""
        for source, target in self.rename.items():
            if target == column:
                return source
        return None


class Mapping(_Strict):
    """A whole mapping file; ``base`` is the folder its relative paths start from."""

    mode: Literal["import", "views"] = "import"
    schema_: Annotated[str | None, Field(alias="schema", pattern=worded(
        r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", "be an SQL schema name: letters, digits and '_' (63 at most, not "
        "starting with a digit), e.g. quire"))] = None
    company: Company | None = None
    experiment_metric: ExperimentMetric | None = None
    experiment_plan: ExperimentPlan | None = None
    # Keys whose values are text (customer ids like 7c396fd4…, e-mail addresses): the import numbers each
    # distinct value 1, 2, 3… in text order, the same number wherever the key appears (users and events alike).
    text_ids: list[str] = []
    tables: dict[str, TableMapping]
    base: Path = Path(".")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def view_schema(self) -> str | None:
        """The schema the views are created in (views mode), None for the default one."""
        return self.schema_


def load_mapping(path: Path) -> Mapping:
    """Read, parse and check the mapping file at ``path``; raises :class:`MappingError` with one line."""
    try:
        raw = yamltext.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"cannot read the mapping file {path}: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where else ""
        raise MappingError(f"{path.name}: not valid YAML{line}: {getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(raw, dict):
        raise MappingError(f"{path.name}: expected keys such as 'tables:' at the top, found {yaml_found(raw)}")
    if "base" in raw:
        raise MappingError(f"{path.name}: base: unknown key (paths are relative to the mapping file)")
    try:
        mapping = Mapping.model_validate({**raw, "base": path.resolve().parent})
    except ValidationError as exc:
        raise MappingError(f"{path.name}: {_first_problem(exc)}") from exc
    check_mapping(mapping, path.name)
    return mapping


def _first_problem(exc: ValidationError) -> str:
    # pydantic adds the union branch it tried to the path ("source.str", "source.list[str]"): keep the user's keys.
    path, message = describe(exc, Mapping, keep=lambda part: not _branch(part), hidden={"base"})[0]
    where = ".".join(str(p) for p in path)
    return f"{where}: {message}" if where else message


def _branch(part: object) -> bool:
    return isinstance(part, str) and (part in _TYPE_NAMES or any(ch in part for ch in "[]()"))


_TYPE_NAMES = {"str", "int", "float", "bool", "date", "datetime", "none"}


def check_mapping(mapping: Mapping, name: str) -> None:
    """Check every table and column the mapping names against Quire's tables (one line on the first problem)."""
    if not mapping.tables:
        raise MappingError(f"{name}: tables: map at least one Quire table ({', '.join(table_names())})")
    keys = sorted({c.name for t in table_names() for c in table_spec(t).columns
                   if c.name.endswith("_id") and c.kind == "integer"})
    for key in mapping.text_ids:
        if key not in keys:
            raise MappingError(f"{name}: text_ids: {key!r} is not one of Quire's keys ({', '.join(keys)})")
    if mapping.text_ids and mapping.mode == "views":
        raise MappingError(f"{name}: text_ids: needs mode: import (views read your tables as they are; number "
                           "text ids in your SQL, e.g. dense_rank() OVER (ORDER BY customer))")
    if mapping.experiment_metric is not None and "experiments" in mapping.tables:
        raise MappingError(f"{name}: experiment_metric: names the measure of experiments made from the assignments; "
                           "with an experiments table, give its metric_name and metric_unit columns instead (e.g. "
                           "defaults: {metric_name: game rounds, metric_unit: number})")
    if mapping.experiment_plan is not None and "experiment_variants" in mapping.tables:
        raise MappingError(f"{name}: experiment_plan: makes the experiment_variants table, and the mapping maps one; "
                           "keep one of the two")
    if mapping.experiment_plan is not None and "experiment_assignments" not in mapping.tables:
        raise MappingError(f"{name}: experiment_plan: map experiment_assignments too (the plan is that of their "
                           "variants)")
    if mapping.experiment_metric is not None and "experiment_assignments" not in mapping.tables:
        raise MappingError(f"{name}: experiment_metric: map experiment_assignments too (the measure is that of their "
                           "revenue column)")
    for table, spec in mapping.tables.items():
        if table not in table_names():
            raise MappingError(f"{name}: tables.{table}: not a Quire table{_meant(table, table_names())}; known: "
                               f"{', '.join(sorted(table_names()))}")
        for key in sorted(set(spec.defaults) & set(mapping.text_ids)):
            # The texts are numbered 1, 2, 3…: a default id 1 would be the first customer's (a guest's order his).
            raise MappingError(f"{name}: tables.{table}.defaults.{key}: {key} is numbered from its texts (text_ids), "
                               f"so a default would be one of those numbers; leave rows without one out with "
                               f"skip_rows_without: [{key}], or write the id into the file")
        _check_table(spec, table, f"{name}: tables.{table}")
        if mapping.mode == "views" and spec.duplicates == "first":
            raise MappingError(f"{name}: tables.{table}.duplicates: first keeps the first row in file order, and a "
                               "table has no order; use drop (every row of a repeated key left out), or keep one "
                               "row per key in your own SQL")


def _check_table(spec: TableMapping, table: str, where: str) -> None:
    target = table_spec(table)
    known = target.column_names
    renamed: dict[str, str] = {}
    for source, column in spec.rename.items():
        _known_column(column, known, table, f"{where}.rename.{source}")
        if column in renamed:
            raise MappingError(f"{where}.rename: both {renamed[column]!r} and {source!r} are renamed to {column!r}")
        renamed[column] = source
    for key in ("dates", "multiply", "values", "defaults"):
        for column in getattr(spec, key):
            _known_column(column, known, table, f"{where}.{key}.{column}")
    for column, fmt in spec.dates.items():
        kind = target.column(column).kind
        if kind not in ("date", "datetime"):
            raise MappingError(f"{where}.dates.{column}: {column} is a {kind} column, not a date or time")
        if fmt not in EPOCHS and "%" not in fmt:
            raise MappingError(f"{where}.dates.{column}: {fmt!r} is neither a strptime format (e.g. '%d/%m/%Y') "
                               f"nor one of {', '.join(EPOCHS)}")
        if fmt not in EPOCHS:
            _check_strptime(fmt, f"{where}.dates.{column}")
    for column, factor in spec.multiply.items():
        if target.column(column).kind not in ("number", "integer"):
            raise MappingError(f"{where}.multiply.{column}: {column} is not a number column")
        if not math.isfinite(factor) or factor == 0:
            raise MappingError(f"{where}.multiply.{column}: {factor!r} is no unit conversion; use a finite number "
                               "other than 0, e.g. 0.01 for cents")
        if factor < 0 and target.column(column).non_negative:  # else every row is refused as a negative value
            raise MappingError(f"{where}.multiply.{column}: {factor!r} would make every {column} negative, but "
                               f"{table}.{column} must be zero or more; use a positive factor, e.g. 0.01 for cents")
    for column, default in spec.defaults.items():
        _check_default(default, target.column(column), f"{where}.defaults.{column}")
    for column in spec.skip_rows_without:
        _known_column(column, known, table, f"{where}.skip_rows_without")
        if column in spec.defaults:
            raise MappingError(f"{where}.skip_rows_without: {column} has a default under defaults:, so it is never "
                               "empty; keep one of the two")
    for column, allowed in ((c.name, c.allowed) for c in target.columns if c.allowed):
        default = spec.defaults.get(column)
        if default is not None and default not in allowed:
            raise MappingError(f"{where}.defaults.{column}: {default!r} is not one of {', '.join(allowed)}")
        for word, value in spec.values.get(column, {}).items():
            if value not in allowed:
                raise MappingError(f"{where}.values.{column}.{word}: {value!r} is not one of {', '.join(allowed)}")


def _check_strptime(fmt: str, where: str) -> None:
    """A date format DuckDB's strptime can read (it is DuckDB that parses the files): "%Q" failed mid-import."""
    import duckdb

    try:
        duckdb.execute("SELECT try_strptime('2020-01-01', ?)", [fmt]).fetchall()
    except duckdb.Error as exc:
        raise MappingError(f"{where}: {fmt!r} is not a strptime format: {str(exc).splitlines()[0]}") from None


def _check_default(default: object, column, where: str) -> None:
    """A default of the column's kind: a text in an integer column failed mid-import as DuckDB's cast error."""
    if default is None:
        return
    kind = column.kind
    if kind == "integer" and (isinstance(default, bool) or not isinstance(default, int)):
        raise MappingError(f"{where}: {default!r} is not a whole number, which {column.name} holds")
    if kind == "number" and (isinstance(default, bool) or not isinstance(default, (int, float))
                             or not math.isfinite(default)):
        raise MappingError(f"{where}: {default!r} is not a number, which {column.name} holds")
    if kind == "boolean" and not isinstance(default, bool):
        raise MappingError(f"{where}: {default!r} is not true or false, which {column.name} holds")


def _known_column(column: str, known: tuple[str, ...], table: str, where: str) -> None:
    if column not in known:
        raise MappingError(f"{where}: {column!r} is not a column of {table}{_meant(column, known)}; its columns: "
                           f"{', '.join(known)}")


def _meant(given: str, known: Iterable[str]) -> str:
    """" (did you mean 'x'?)" when one known name stands out as the one ``given`` misspells, else ""."""
    from quire.parameters import closest

    found = closest(given, known)
    return f" (did you mean {found!r}?)" if found else ""


def source_format(path: str, declared: str | None) -> str:
    """csv or parquet: as declared, else from the file name (.parquet / .pq, anything else is CSV)."""
    if declared:
        return declared
    return "parquet" if path.lower().endswith((".parquet", ".pq")) else "csv"
