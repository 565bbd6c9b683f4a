"""The SQL that turns one source column into one Quire column: rename, value map, parsing, units, default.

Written once as SQLAlchemy Core expressions and used by both paths: the import runs
them over the staged files in DuckDB (with ``TRY_CAST`` / ``try_strptime``, so a value
that does not convert becomes NULL and the checks can name its row), the views embed
them in ``CREATE VIEW`` on PostgreSQL or DuckDB (plain ``CAST``: a bad value fails the
query that reads it). Source columns are ``sa.column`` objects, so the dialect quotes
every identifier; constants and the mapping's words are literals rendered by SQLAlchemy.

The steps, in order: the value map works on the source value as text (the user's words
onto Quire's), then the text is parsed into the column's kind (a date format, epoch
seconds or milliseconds, a number), multiplied (unit conversion), and cast to the Quire
column's type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from quire.dataio.mapping import NUMBER_FORMATS, MappingError, Scalar, TableMapping
from quire.dataio.target import ColumnSpec, TableSpec
from quire.formatting.text import SLUG_LETTERS

#: strptime directive -> PostgreSQL ``to_timestamp`` template pattern.
PG_PATTERNS = {"Y": "YYYY", "y": "YY", "m": "MM", "d": "DD", "H": "HH24", "I": "HH12", "M": "MI", "S": "SS",
               "f": "US", "p": "AM", "b": "Mon", "B": "Month", "j": "DDD", "z": "TZH:TZM", "%": "%"}


@dataclass(frozen=True)
class SourceType:
    """What a source column holds, as far as parsing cares: text, number, boolean, date, instant or instant_tz."""

    kind: str

    @classmethod
    def of(cls, type_name: str) -> SourceType:
        """From a database type name (DuckDB's ``DESCRIBE`` or SQLAlchemy's type's string)."""
        name = type_name.upper()
        if "WITH TIME ZONE" in name or name in ("TIMESTAMPTZ", "TIMESTAMP_TZ"):
            return cls("instant_tz")
        if name.startswith(("TIMESTAMP", "DATETIME")):
            return cls("instant")
        if name == "DATE":
            return cls("date")
        if name.startswith("BOOL"):
            return cls("boolean")
        if re.match(r"(TINY|SMALL|BIG|HUGE|U)?INT|INTEGER|DECIMAL|NUMERIC|DOUBLE|FLOAT|REAL", name):
            return cls("number")
        return cls("text")


@dataclass(frozen=True)
class ColumnPlan:
    """Where one Quire column comes from: a source column (with its type), a constant, generated numbers or NULL."""

    column: ColumnSpec
    source: str | None = None
    source_type: SourceType = SourceType("text")
    default: Scalar | None = None
    generated: bool = False  # an integer key numbered 1, 2, 3… in file order
    slugged: bool = False  # made from the source (a client's name) as a slug: "Café Zürich" → cafe-zurich


#: The way out when a required column has no source, where one default for every row would be wrong.
WITHOUT_COLUMN = {
    # One signup day for every user would put them all in one cohort.
    ("users", "signed_up_at"): "or leave users out of the mapping: each user of the events is then signed up at "
                               "their first event",
}


def plan_columns(target: TableSpec, spec: TableMapping, available: dict[str, str],
                 where: str, generate_key: bool) -> list[ColumnPlan]:
    """One plan per Quire column, from the mapping and the source's columns (``available``: name -> type name).

    Raises :class:`~quire.dataio.mapping.MappingError`-style one-liners (as ``DataError``
    by the caller's choice of ``where``) when a renamed column is missing from the source
    or a required column has neither a source column nor a default.
    """
    from quire.dataio.errors import DataError

    for source in spec.rename:
        if source not in available:
            raise DataError(f"{where}: no column {source!r} (the mapping renames it to {spec.rename[source]!r}); "
                            f"its columns: {_listed(available)}")
        named = spec.rename[source]
        if named in available and named not in spec.rename and named in target.column_names:
            # The file's own column of that name would be left out without a word.
            raise DataError(f"{where}: both its column {named!r} and {source!r} (renamed to {named!r}) would fill "
                            f"{target.name}.{named}; keep one: drop the rename of {source!r}, or leave the column "
                            f"{named!r} out of the file")
    plans = []
    for col in target.columns:
        source = _source_of(spec, col.name, available)
        if source is not None:
            # A default with a source column fills the column's empty values (not every value: the import's advice
            # for an empty value is to give one, and the default wiped a whole revenue column that way).
            plans.append(ColumnPlan(col, source, SourceType.of(available[source]), default=spec.defaults.get(col.name)))
        elif col.name in spec.defaults:
            plans.append(ColumnPlan(col, default=spec.defaults[col.name]))
        elif (target.name, col.name) == ("clients", "slug") and (named := _source_of(spec, "name", available)):
            # A client list has names, not Quire's slugs (the key of -p client=…): made from the name.
            plans.append(ColumnPlan(col, named, SourceType("text"), slugged=True))
        elif generate_key and target.key == (col.name,) and col.kind == "integer":
            plans.append(ColumnPlan(col, generated=True))
        elif col.nullable:
            plans.append(ColumnPlan(col))
        else:
            raise DataError(f"{where}: no column for {target.name}.{col.name}; its columns: {_listed(available)} "
                            f"(rename one to {col.name!r} under rename:, "
                            f"{WITHOUT_COLUMN.get((target.name, col.name), 'or give a value under defaults:')})")
    return plans


def _source_of(spec: TableMapping, column: str, available: dict[str, str]) -> str | None:
    """The source column that fills the Quire ``column``: its rename, else one of that name (unless the
    mapping renames that source column onto another)."""
    return spec.source_of(column) or (column if column in available and column not in spec.rename else None)


def repeatable_keys(target: TableSpec, plans: list[ColumnPlan]) -> list[tuple[str, ...]]:
    """The table's key and unique column sets that the source fills (one the import numbers never repeats)."""
    generated = {p.column.name for p in plans if p.generated}
    return [keys for keys in (target.key, *target.unique) if not set(keys) <= generated]


def droppable_keys(target: TableSpec, plans: list[ColumnPlan]) -> list[tuple[str, ...]]:
    """The key sets whose repeats ``duplicates: first|drop`` leave out: not a slug made from names, which
    :func:`distinct_slugs` tells apart (two clients named alike are two clients)."""
    slugged = {p.column.name for p in plans if p.slugged}
    return [keys for keys in repeatable_keys(target, plans) if not set(keys) <= slugged]


def distinct_slugs(select: sa.Select, target: TableSpec, plans: list[ColumnPlan]) -> sa.Select:
    """``select`` (one column per Quire column) with each slug made from a name that another client's name also
    makes followed by the client's id: "Acme, Inc." (7) and "ACME Inc" (12) are acme-inc-7 and acme-inc-12, cut to
    the 80 characters a key may have. One client's row repeated is not two clients; a lone slug stays as it is."""
    plan = next((p for p in plans if p.slugged), None)
    if plan is None:
        return select
    rows = select.subquery("named")
    slug, [key] = rows.c[plan.column.name], target.key
    client = rows.c[key]
    shared = sa.and_(client.is_not(None), sa.func.min(client).over(partition_by=slug)
                     != sa.func.max(client).over(partition_by=slug))
    suffix = sa.literal("-") + sa.cast(client, sa.String())
    cut = sa.func.regexp_replace(sa.func.substr(slug, 1, 80 - sa.func.length(suffix)), "-+$", "")
    told_apart = sa.case((shared, cut + suffix), else_=slug).label(plan.column.name)
    return sa.select(*(told_apart if c.name == plan.column.name else c for c in rows.c))


def skipped_sources(plans: list[ColumnPlan], spec: TableMapping, where: str) -> list[str]:
    """The source columns whose empty values leave a row out (``skip_rows_without``), one per named Quire column."""
    from quire.dataio.errors import DataError

    sources = []
    for column in spec.skip_rows_without:
        plan = next(p for p in plans if p.column.name == column)
        if plan.source is None:
            raise DataError(f"{where}: skip_rows_without names {column}, which no column of the source fills "
                            f"(rename one to {column!r} under rename:)")
        sources.append(plan.source)
    return list(dict.fromkeys(sources))


def _listed(available: dict[str, str]) -> str:
    names = list(available)
    return ", ".join(names[:12]) + (f" … ({len(names)} in all)" if len(names) > 12 else "")


#: The key of a value map that stands for every word the map does not name.
OTHER_WORDS = "*"


def mapped_text(plan: ColumnPlan, spec: TableMapping, relation: sa.FromClause) -> ColumnElement | None:
    """The source value after the value map, as text when there is a map (None for a column without a source).

    ``relation`` is the source table (or its alias): columns are qualified by it, so a
    query that also reads a Quire table with a column of the same name stays unambiguous.
    """
    if plan.source is None:
        return None
    raw = relation.c[plan.source]
    if plan.source_type.kind == "text":
        # "control " and "control" are one variant (and "LinkedIn " one platform): exports pad cells with spaces,
        # and a cell of spaces only is an empty one (its default, or "empty, but … needs a value").
        raw = sa.func.nullif(sa.func.trim(_without_controls(sa.cast(raw, sa.String()))), "")
    words = spec.values.get(plan.column.name)
    if not words:
        return raw
    text = sa.cast(raw, sa.String())
    named = {sa.literal(word.strip()): _as_text(value) for word, value in words.items() if word != OTHER_WORDS}
    rest = text
    if OTHER_WORDS in words:
        # "*" maps every other word (GA4 and app exports have dozens of event names: the rest are feature use);
        # an empty value stays empty.
        rest = sa.case((raw.is_(None), sa.null()), else_=_as_text(words[OTHER_WORDS]))
    return sa.case(named, value=text, else_=rest) if named else rest


#: Line and page breaks and tabs inside a text cell (a quoted multi-line name): one space, as a browser shows them.
_BREAKS = "[\t\n\v\f\r\x85\u2028\u2029]+"
#: The other control characters (a stray bell or escape from an export): invisible in a report, and no PDF or
#: spreadsheet text may hold them.
_CONTROLS = "[\x01-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]"


def _without_controls(text: ColumnElement) -> ColumnElement:
    """``text`` with its breaks as single spaces and its other control characters removed (DuckDB and PostgreSQL)."""
    return sa.func.regexp_replace(sa.func.regexp_replace(text, _BREAKS, " ", "g"), _CONTROLS, "", "g")


def converted(plan: ColumnPlan, spec: TableMapping, relation: sa.FromClause, *, duck: bool,
              lenient: bool | None = None, row_number: ColumnElement | None = None) -> ColumnElement:
    """The Quire column's value: parsed, converted and cast to its type.

    ``duck``: DuckDB's functions, else PostgreSQL's. ``lenient`` (default: ``duck``): a value
    that does not convert becomes NULL (``TRY_CAST``) instead of failing the query; only
    DuckDB has that form.
    """
    lenient = duck if lenient is None else lenient and duck
    col = plan.column
    if plan.generated:
        return sa.cast(row_number if row_number is not None else sa.func.row_number().over(), col.type)
    if plan.source is None:
        return _constant(plan.default, col)
    if plan.slugged:
        return slug_of(sa.cast(relation.c[plan.source], sa.String()), duck)
    text = mapped_text(plan, spec, relation)
    value = _parse(text, plan, spec, duck, lenient)
    factor = spec.multiply.get(col.name)
    if factor is not None:
        value = value * sa.literal(float(factor), sa.Double())
    value = _cast(value, _stored_type(col), lenient)
    if plan.default is not None:  # only where the source is empty: a value that does not convert is still an error
        value = sa.case((text.is_(None), _constant(plan.default, col)), else_=value)
    return value


def slug_of(text: ColumnElement, duck: bool) -> ColumnElement:
    """``text`` as a key: lower-case letters, digits and dashes, at most 80 characters (accents dropped
    where DuckDB can, and the letters of :data:`SLUG_LETTERS` spelt out); NULL when nothing is left."""
    text = sa.func.lower(text)
    for letter, spelt in SLUG_LETTERS.items():
        text = sa.func.replace(text, letter, spelt)
    if duck:
        text = sa.func.strip_accents(text)
    dashed = sa.func.regexp_replace(text, "[^a-z0-9]+", "-", "g")
    trimmed = sa.func.regexp_replace(dashed, "^-+|-+$", "", "g")
    return sa.func.nullif(sa.func.substr(trimmed, 1, 80), "")


def _parse(text: ColumnElement, plan: ColumnPlan, spec: TableMapping, duck: bool, lenient: bool) -> ColumnElement:
    col, source = plan.column, plan.source_type.kind
    is_text = source == "text" or col.name in spec.values
    fmt = spec.dates.get(col.name)
    if col.kind in ("date", "datetime"):
        return _temporal(text, col.kind, fmt, source if not is_text else "text", duck, lenient)
    if col.kind in ("integer", "number") and is_text:
        text = _plain_number(text, spec.numbers)
    if col.kind == "integer" and is_text and lenient and col.name not in spec.multiply:
        # TRY_CAST('1.5' AS BIGINT) rounds to 2: a whole number is one whose value as a double is the same.
        whole = _cast(text, sa.BigInteger(), lenient)
        return sa.case((_cast(text, sa.Double(), lenient) == whole, whole))
    if col.kind in ("integer", "number"):
        wide = sa.Double() if col.name in spec.multiply or col.kind == "number" else sa.BigInteger()
        return _cast(text, wide, lenient)
    if col.kind == "boolean":
        flag = _cast(text, sa.Boolean(), lenient)
        if not lenient:
            return flag
        # pandas writes a flag column with gaps as floats: 1.0 and 0.0 are true and false.
        number = sa.try_cast(text, sa.Double())
        return sa.case((number == 1, sa.true()), (number == 0, sa.false()), else_=flag)
    return _cast(text, sa.String(), lenient)


#: The epoch date formats and their units per second.
EPOCH_UNITS = {"epoch_seconds": 1, "epoch_millis": 1_000, "epoch_micros": 1_000_000}
#: Seconds since 1970 beyond which no real time lies (the year 5138): a number further out is moved to this
#: bound, so that it fails the years check at its line rather than overflowing the database's timestamp.
EPOCH_LIMIT_SECONDS = 10**11


def _within_timestamps(number: ColumnElement, bound: int) -> ColumnElement:
    """``number`` moved into ``[-bound, bound]`` (NULL stays NULL: least/greatest would replace it)."""
    return sa.case((number > bound, bound), (number < -bound, -bound), else_=number)


def _temporal(text: ColumnElement, kind: str, fmt: str | None, source: str, duck: bool,
              lenient: bool) -> ColumnElement:
    """A date or a UTC instant (no zone) from text in ``fmt``, epoch numbers, or a date/time column."""
    if fmt in EPOCH_UNITS:
        per_second = EPOCH_UNITS[fmt]
        if duck:  # whole microseconds: a GA4 export's event_timestamp keeps every digit
            limit = EPOCH_LIMIT_SECONDS * 1_000_000
            if per_second == 1_000_000:
                micros = _within_timestamps(_cast(text, sa.BigInteger(), lenient), limit)
            else:
                micros = _within_timestamps(_cast(text, sa.Double(), lenient) * (1_000_000 // per_second), limit)
            value = sa.func.make_timestamp(_cast(micros, sa.BigInteger(), lenient))
        else:
            seconds = _cast(text, sa.Double(), lenient) / per_second
            value = sa.func.timezone("UTC", sa.func.to_timestamp(_within_timestamps(seconds, EPOCH_LIMIT_SECONDS)))
    elif fmt is not None:
        text = sa.cast(text, sa.String())
        # An instant with an offset (DuckDB's strptime with %z, PostgreSQL's to_timestamp always) is written as its
        # wall-clock time in UTC, whatever the zone of the session that reads the view.
        if duck:
            value = (sa.func.try_strptime if lenient else sa.func.strptime)(text, fmt)
            value = sa.func.timezone("UTC", value) if "%z" in fmt or "%Z" in fmt else value
        elif kind == "date":
            value = sa.func.to_date(text, pg_format(fmt))
        else:
            value = sa.func.timezone("UTC", sa.func.to_timestamp(text, pg_format(fmt)))
    elif source == "instant_tz":
        value = sa.func.timezone("UTC", text)  # the wall-clock time in UTC, whatever the session's zone
    elif source in ("instant", "date"):
        value = text
    elif kind == "datetime":
        # Through TIMESTAMPTZ so that an offset (…+02:00, …Z) is honoured; text without one is read in the session's
        # zone, which every Quire connection sets to UTC (a plain cast to TIMESTAMP drops the offset in PostgreSQL).
        value = sa.func.timezone("UTC", _cast(text, sa.TIMESTAMP(timezone=True), lenient))
    else:
        value = _cast(text, sa.Date() if kind == "date" else sa.DateTime(), lenient)
    return _cast(value, sa.Date() if kind == "date" else sa.DateTime(), lenient)


def _plain_number(text: ColumnElement, numbers: str) -> ColumnElement:
    """A number written as ``numbers`` says (``1.234,56``) rewritten as SQL reads one (``1234.56``).

    A text not written so ("2.5" in a file of 1.234,56 would be 25, wrong tenfold) is made one no cast reads,
    so that the import names it at its line and a view fails to read it, rather than either reading a NULL.
    """
    group, mark = NUMBER_FORMATS[numbers]
    if not group:
        # DuckDB reads "1_000" as 1000 (Python's digit groups): no export writes it, so it is not taken for a number.
        return sa.case((text.contains("_", autoescape=True), sa.func.concat(text, f" (not written as {numbers})")),
                       else_=text)
    # French exports group digits with a no-break or narrow no-break space where a person typed a space.
    groupings = (" ", "\u00a0", "\u202f") if group == " " else (group,)
    text = sa.func.trim(text)
    grouped = "[" + "".join(re.escape(g) for g in groupings) + "]"
    well = text.regexp_match(rf"^[+-]?([0-9]{{1,3}}({grouped}[0-9]{{3}})+|[0-9]+)({re.escape(mark)}[0-9]+)?$")
    plain = text
    for grouping in groupings:
        plain = sa.func.replace(plain, grouping, "")
    return sa.case((text.is_(None), sa.null()), (well, sa.func.replace(plain, ",", ".") if mark == "," else plain),
                   else_=sa.func.concat(text, f" (not written as {numbers})"))


def _cast(value: ColumnElement, type_: sa.types.TypeEngine, lenient: bool) -> ColumnElement:
    return sa.try_cast(value, type_) if lenient else sa.cast(value, type_)


def _stored_type(col: ColumnSpec) -> sa.types.TypeEngine:
    """The column's type without a length limit on text (PostgreSQL would cut a long value silently)."""
    return sa.String() if col.kind == "text" else col.type


def _constant(value: Scalar | None, col: ColumnSpec) -> ColumnElement:
    if value is None:
        return sa.cast(sa.null(), _stored_type(col))
    return sa.cast(_as_text(value), _stored_type(col))


def _as_text(value: Scalar | None) -> ColumnElement:
    if value is None:
        return sa.null()
    if isinstance(value, bool):
        return sa.literal("true" if value else "false")
    return sa.literal(value.isoformat() if hasattr(value, "isoformat") else str(value))


def expected(plan: ColumnPlan, spec: TableMapping) -> str:
    """What a value of the column must look like, for the message about one that is not."""
    col, fmt = plan.column, spec.dates.get(plan.column.name)
    if plan.slugged:
        return "a name with a letter or digit to make the slug from (or map a slug column)"
    if fmt == "epoch_seconds":
        return "a time in seconds since 1970 (epoch_seconds)"
    if fmt == "epoch_millis":
        return "a time in milliseconds since 1970 (epoch_millis)"
    if fmt == "epoch_micros":
        return "a time in microseconds since 1970 (epoch_micros)"
    if fmt:
        return f"a {'date' if col.kind == 'date' else 'date and time'} in the format {fmt!r} (set under dates:)"
    return {"date": "a date (YYYY-MM-DD, or set its format under dates:)",
            "datetime": "a date and time (YYYY-MM-DD HH:MM:SS, or set its format under dates:)",
            "integer": "a whole number", "number": "a number", "boolean": "true or false"}.get(col.kind, "text")


def pg_format(fmt: str) -> str:
    """A strptime format as a PostgreSQL ``to_timestamp`` template (literal text double-quoted)."""
    out, literal = [], []
    parts = re.split(r"(%.)", fmt)
    for part in parts:
        if part.startswith("%") and len(part) == 2:
            pattern = PG_PATTERNS.get(part[1])
            if pattern is None:
                raise MappingError(f"date format {fmt!r}: the directive {part} has no PostgreSQL equivalent; "
                                   f"use one of {', '.join('%' + k for k in PG_PATTERNS)}")
            if literal:
                out.append('"' + "".join(literal).replace('"', '\\"') + '"')
                literal = []
            out.append(pattern)
        elif part:
            literal.append(part)
    if literal:
        out.append('"' + "".join(literal).replace('"', '\\"') + '"')
    return "".join(out)
