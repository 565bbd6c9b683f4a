"""The checks every loaded table passes, as SQL over the staged rows or the views.

Per column: a source value that does not convert (a date in another format, a word
where a number belongs), an empty value where Quire needs one, a value outside the
column's allowed set (an event name without a mapping), NaN or infinity, a negative
amount or count, a date outside the years Quire reports on (a placeholder such as
9999-12-31 or 0001-01-01).
Per table: duplicate keys; between tables: a reference to a row that does not exist
(an event of an unknown user). One aggregate query finds every column problem in a
single pass over the rows (``count(*) FILTER (WHERE …)``, valid on DuckDB and
PostgreSQL); the first problem, in row order, becomes one message that names the file
and line (import) or the table (views), the column, the value and what to do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from quire.dataio.errors import DataError
from quire.dataio.target import ColumnSpec, TableSpec
from quire.periods import PLAUSIBLE_YEARS

Runner = Callable[[sa.Executable], list[tuple]]   # runs a query, returns its rows
Locate = Callable[[int | None], str]              # a row's sequence number -> "events.csv line 17" / "view events"
SHOWN_VALUES = 5
#: Data given as epoch times before this year is a unit mistaken (seconds read as milliseconds land in 1970).
EPOCH_FLOOR = 1971
#: What to do with an export that writes every amount as a positive size (billing tools often do).
SIGNS_HINT = ("If the export writes churn and contraction as positive amounts, negate them in SQL first (README: "
              "\"Data that needs SQL first\"), e.g. CASE WHEN movement IN ('churn', 'contraction') THEN -amount "
              "ELSE amount END")


@dataclass(frozen=True)
class Checked:
    """One Quire column to check: its value and, when it was converted from a source, the text it came from."""

    column: ColumnSpec
    value: ColumnElement
    text: ColumnElement | None = None  # the source value after the value map (None: nothing to convert)
    source: str | None = None          # the source column's name, for messages
    expected: str = ""                 # what a convertible value looks like ("a date in the format '%d/%m/%Y'")
    values_key: str = ""               # where to map unknown words ("tables.events.values.event_type")


@dataclass(frozen=True)
class _Check:
    kind: str
    checked: Checked
    condition: ColumnElement
    context: ColumnElement | None = None  # another value of the failing row its message names


def _checks(columns: Sequence[Checked]) -> list[_Check]:
    found = []
    for c in columns:
        col, value = c.column, c.value
        if c.text is not None:
            found.append(_Check("convert", c, sa.and_(c.text.is_not(None), value.is_(None))))
        if not col.nullable:
            found.append(_Check("empty", c, value.is_(None) if c.text is None else sa.and_(c.text.is_(None), value.is_(None))))
        if col.allowed:
            found.append(_Check("allowed", c, sa.and_(value.is_not(None), value.not_in(col.allowed))))
        if col.pattern:
            found.append(_Check("pattern", c, sa.and_(value.is_not(None), sa.not_(value.regexp_match(col.pattern)))))
        if col.kind == "number":
            # NaN and ±infinity convert as numbers ("NaN", "inf" in pandas exports) but no sum or mean survives them.
            # Both DuckDB and PostgreSQL hold NaN equal to itself, so IN finds it.
            special = [sa.cast(sa.literal(v), sa.Double()) for v in ("NaN", "Infinity", "-Infinity")]
            found.append(_Check("not_finite", c, sa.cast(value, sa.Double()).in_(special)))
        if col.non_negative:
            found.append(_Check("negative", c, value < 0))
        decider = next((o for o in columns if col.signs and o.column.name == col.signs[0]), None)
        if decider is not None:
            _, up, down = col.signs
            wrong = sa.or_(sa.and_(decider.value.in_(up), value < 0), sa.and_(decider.value.in_(down), value > 0))
            found.append(_Check("sign", c, wrong, context=decider.value))
        scaler = next((o for o in columns if col.scale and o.column.name == col.scale[0]), None)
        if scaler is not None:
            outside = sa.or_(*(sa.and_(scaler.value == kind, sa.or_(value < low, value > high))
                               for kind, (low, high) in col.scale[1]))
            found.append(_Check("scale", c, outside, context=scaler.value))
        if col.kind in ("date", "datetime"):
            low, high = (sa.cast(sa.literal(f"{year}-01-01"), sa.Date()) for year in PLAUSIBLE_YEARS)
            found.append(_Check("implausible", c, sa.or_(value < low, value >= high)))
            if "(epoch_" in c.expected:  # seconds read as milliseconds fall in January 1970, inside those years
                found.append(_Check("epoch_1970", c, value < sa.cast(sa.literal(f"{EPOCH_FLOOR}-01-01"), sa.Date())))
    return found


def _convention_checks(run: Runner, relation: sa.FromClause, columns: Sequence[Checked]) -> list[_Check]:
    """A locale or currency the reports could not read ('EURO', 'english'): Python decides, over the few distinct values."""
    from quire.formatting.conventions import unreadable

    found = []
    for c in (c for c in columns if c.column.convention):
        # Blank is "not set" (the brand's), as for the reports and the warehouse check.
        values = [v for (v,) in run(sa.select(c.value).select_from(relation)
                                    .where(c.value.is_not(None), sa.func.trim(c.value) != "").distinct())]
        bad = unreadable(values, c.column.convention)
        if bad:
            found.append(_Check("convention", c, c.value.in_(bad)))
    return found


def check_values(run: Runner, relation: sa.FromClause, columns: Sequence[Checked], table: TableSpec,
                 locate: Locate, seq: ColumnElement | None = None) -> None:
    """Raise :class:`DataError` for the first row (in ``seq`` order) with a value problem in ``columns``."""
    checks = _checks(columns) + _convention_checks(run, relation, columns)
    if not checks:
        return
    aggregates = []
    for check in checks:
        aggregates.append(sa.func.count().filter(check.condition))
        aggregates.append(sa.func.min(seq if seq is not None else sa.literal(0)).filter(check.condition))
    [row] = run(sa.select(*aggregates).select_from(relation))
    failing = [(row[2 * i + 1], i, row[2 * i]) for i in range(len(checks)) if row[2 * i]]
    if not failing:
        return
    first_seq, index, count = min(failing, key=lambda f: (f[0], f[1]))
    check = checks[index]
    where = check.condition if seq is None else sa.and_(check.condition, seq == first_seq)
    # The value as the source holds it (after the value map), so the user finds it in the file.
    shown = check.checked.text if check.checked.text is not None else check.checked.value
    context = [sa.cast(check.context, sa.String())] if check.context is not None else []
    # Ordered so that a table or view (no line numbers) names the same example every run.
    example_text = sa.cast(shown, sa.String())
    [(example, *besides)] = run(sa.select(example_text, *context).select_from(relation).where(where)
                                .order_by(example_text).limit(1))
    others = besides
    if check.kind == "allowed":
        value_text = sa.cast(check.checked.value, sa.String())
        others = [r[0] for r in run(sa.select(value_text).select_from(relation).where(check.condition).distinct()
                                    .order_by(value_text).limit(SHOWN_VALUES + 1))]
    raise DataError(_message(check, table, locate(first_seq if seq is not None else None), example, count, others))


def _message(check: _Check, table: TableSpec, where: str, example: str | None, count: int, others: list[str]) -> str:
    c = check.checked
    col = c.column.name
    column = f"column {col}" + (f" (from {c.source!r})" if c.source and c.source != col else "")
    more = f"; {count - 1:,} more row{'s' if count > 2 else ''} like it" if count > 1 else ""
    if check.kind == "convert":
        # A key given as text (a hex customer id, an e-mail address) is common in exports: say how to read it.
        key = col.endswith("_id") and c.column.kind == "integer"
        hint = f"; if {col} values are text ids, add text_ids: [{col}] at the top of the mapping (mode: import)" \
            if key else ""
        if c.column.kind in ("number", "integer") and example and any(ch in example for ch in ", \u00a0\u202f"):
            # A German or French export (1.234,56; 1 234,56), or grouped thousands (1,234.56).
            hint += (f"; if the file writes numbers as 1.234,56, 1 234,56 or 1,234.56, say so with numbers: "
                     f"'1.234,56' (or the one it uses) under tables.{table.name}")
        return f"{where}, {column}: {_unreadable(example, c, table)}{more}{hint}"
    if check.kind == "empty":
        # An empty id is a guest or an anonymous visitor: one default id would merge them all into one user.
        fix = (f"leave such rows out with skip_rows_without: [{col}] under tables: {table.name}:, or fill it in the source"
               if col.endswith("_id") else "fill it in the source, or give one under defaults:")
        return f"{where}, {column}: empty, but {table.name}.{col} needs a value{more} ({fix})"
    if check.kind == "pattern":
        derived = " or leave the slug column out and Quire derives slugs from the names" if col == "slug" else ""
        return (f"{where}, {column}: {example!r} is not a key Quire can name runs by (lower-case letters, digits and "
                f"dashes, up to 80){more}; map such values under values:{derived}")
    if check.kind == "convention":
        from quire.formatting.conventions import CONVENTION_HELP

        kind = c.column.convention
        return (f"{where}, {column}: {example!r} is not a {kind} Quire can read{more}; "
                f"{CONVENTION_HELP[kind]}, or leave it empty for the brand's")
    if check.kind == "not_finite":
        fix = "map it to an empty value under values:" if c.column.nullable else \
            "leave such rows out of the export, or fix them in the source"
        return f"{where}, {column}: {example!r} is not a finite number (NaN or infinity){more}; {fix}"
    if check.kind == "negative":
        return (f"{where}, {column}: {example!r} is negative, but {table.name}.{col} must be zero or more{more} "
                f"(a refund or correction: leave such rows out of the export, or fix them in the source)")
    if check.kind == "sign":
        by, up, down = c.column.signs
        [kind] = others
        wanted = "positive" if kind in up else "negative"
        article = "an" if kind[:1] in "aeiou" else "a"
        return (f"{where}, {column}: {example!r} for {article} {kind!r} {by} must be {wanted}{more}; {', '.join(up)} amounts "
                f"add to MRR and {', '.join(down)} amounts take from it" + (f". {SIGNS_HINT}" if kind in down else ""))
    if check.kind == "scale":
        [kind] = others
        low, high = dict(c.column.scale[1])[kind]
        return (f"{where}, {column}: {example!r} is outside the {low}–{high} scale of {kind.upper()} answers{more}; answers on "
                "another scale are not answers the reports can count: convert them to it in the source (or in SQL "
                "first), or leave them out")
    if check.kind == "epoch_1970":
        unit = _epoch_unit(c.expected, example, EPOCH_FLOOR)
        named = unit[0] if unit else "the unit the mapping gives"
        fix = (f"as {unit[1]} it is {unit[2]}: set dates: {{{col}: {unit[1]}}} under tables.{table.name}" if unit else
               "check the unit under dates:")
        return f"{where}, {column}: {example!r} read as {named} is a time in 1970{more}; {fix}"
    if check.kind == "implausible":
        first, last = PLAUSIBLE_YEARS
        unit = _epoch_unit(c.expected, example)
        if unit:  # a GA4 event_timestamp read as milliseconds: the unit is wrong, not the data
            return (f"{where}, {column}: {example!r} is outside the years {first}–{last - 1} as {unit[0]}{more}; "
                    f"as {unit[1]} it is {unit[2]}: set dates: {{{col}: {unit[1]}}} under tables.{table.name}")
        fix = "map it to an empty value under values:" if c.column.nullable else "fix it in the source"
        return (f"{where}, {column}: {example!r} is outside the years {first}–{last - 1}, a placeholder rather "
                f"than a date{more}; {fix}")
    unknown = ", ".join(repr(v) for v in sorted(others)[:SHOWN_VALUES]) + (" …" if len(others) > SHOWN_VALUES else "")
    return (f"{where}, {column}: {example!r} is not one of Quire's values ({', '.join(c.column.allowed)}); "
            f"map it under {c.values_key}{more} (unknown values: {unknown}; \"*\" there maps every word not named)")


#: A number as a file writes one without grouping: what cannot convert although it matches is out of the column's range.
_PLAIN_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_FORMAT = re.compile(r"in the format '([^']+)'")
TOO_LARGE = 1e12
#: The largest value of an INTEGER column (counts and keys, 32 bits in DuckDB and PostgreSQL alike).
INT32_MAX = 2**31 - 1


def _unreadable(example: str | None, c: Checked, table: TableSpec) -> str:
    """Why ``example`` did not convert: "'1e20' is too large for …", "'30/02/2025' is no day of the calendar", or
    "'x' is not <what the column expects>"."""
    plain = example is not None and c.column.kind in ("number", "integer") and _PLAIN_NUMBER.fullmatch(example)
    # Past the widest figure a Quire column holds (money: 14 digits, 2 of them decimals; keys: 64-bit integers).
    if plain and abs(float(example)) >= (TOO_LARGE if c.column.kind == "number" else 2**63):
        return (f"{example!r} is too large for {table.name}.{c.column.name} (check its unit, or multiply: under "
                f"tables.{table.name})")
    if plain and c.column.kind == "integer" and not isinstance(c.column.type, sa.BigInteger):
        # A whole number the column's 32-bit INTEGER cannot hold was "'2241000000' is not a whole number".
        value = float(example)
        if value > INT32_MAX or value < -INT32_MAX - 1:
            bound = (f"larger than {INT32_MAX:,}, the most" if value > 0
                     else f"smaller than {-INT32_MAX - 1:,}, the least")
            return (f"{example!r} is {bound} {table.name}.{c.column.name} holds (check that the value, or the "
                    "column it comes from, is the right one)")
    fmt = _FORMAT.search(c.expected)
    if example is not None and fmt:
        try:
            datetime.strptime(example.strip(), fmt[1])
        except ValueError as exc:
            if "out of range" in str(exc):  # the format fits; the day does not exist (30 February)
                return f"{example!r} is no day of the calendar ({exc})"
    return f"{example!r} is not {c.expected}"


def _epoch_unit(expected: str, example: str | None, earliest: int | None = None) -> tuple[str, str, str] | None:
    """(the epoch unit the mapping names, another under which ``example`` is a plausible time, that time), or None.

    ``earliest``: a plausible time's first year (default: the plausible years').
    """
    from quire.dataio.expressions import EPOCH_LIMIT_SECONDS, EPOCH_UNITS

    named = next((unit for unit in EPOCH_UNITS if f"({unit})" in expected), None)
    try:
        number = float(example or "")
    except ValueError:
        return None
    if named is None or not math.isfinite(number):
        return None
    first, last = PLAUSIBLE_YEARS
    first = earliest or first
    for unit, per_second in EPOCH_UNITS.items():
        seconds = number / per_second
        if unit != named and abs(seconds) < EPOCH_LIMIT_SECONDS:
            moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
            if first <= moment.year < last:
                return named, unit, f"{moment:%Y-%m-%d %H:%M:%S} UTC"
    return None


def check_content_owners(run: Runner, engagement: sa.FromClause, content: sa.FromClause, where: str,
                         shown: Callable[[str, str], str] = lambda _key, value: value) -> None:
    """Raise :class:`DataError` when an engagement row's client is not its content's client: a mix-up in an export
    counted one client's post in another's report. ``shown(key, value)``: a key's value as the source writes it."""
    from quire.warehouse.client_queries import foreign_rows

    mixed = foreign_rows(engagement, content)
    [(found,)] = run(sa.select(sa.func.count()).select_from(mixed.subquery()))
    if not found:
        return
    [(content_id, client, owner)] = run(mixed.order_by(engagement.c.day, engagement.c.content_id).limit(1))
    more = f" ({found:,} rows in all)" if found > 1 else ""
    raise DataError(f"{where}: engagement_daily gives content {shown('content_id', str(content_id))} to client "
                    f"{shown('client_id', str(client))}, but content gives it to client {shown('client_id', str(owner))}"
                    f"{more}; no client may see another's content, so correct the client_id or the content_id in the "
                    "source")


def check_unique(run: Runner, relation: sa.FromClause, keys: dict[str, ColumnElement], table: TableSpec,
                 locate: Locate, seq: ColumnElement | None = None) -> None:
    """Raise :class:`DataError` when two rows share the values of ``keys`` (the primary key or a unique column)."""
    inner = sa.select(*(v.label(k) for k, v in keys.items()),
                      *([seq.label("quire_seq")] if seq is not None else [])).select_from(relation).subquery()
    cols = [inner.c[k] for k in keys]
    first = sa.func.min(inner.c.quire_seq) if seq is not None else sa.literal(None)
    last = sa.func.max(inner.c.quire_seq) if seq is not None else sa.literal(None)
    stmt = (sa.select(*cols, sa.func.count(), first, last).where(sa.and_(*(c.is_not(None) for c in cols)))
            .group_by(*cols).having(sa.func.count() > 1).limit(1))
    # The first repeat in the files, or (a table or view has no order) the smallest key: the same one every run.
    stmt = stmt.order_by(first) if seq is not None else stmt.order_by(*cols)
    rows = run(stmt)
    if not rows:
        return
    *values, count, first_seq, last_seq = rows[0]
    key = ", ".join(f"{k}={v}" for k, v in zip(keys, values))
    at = _both(locate(first_seq), locate(last_seq)) if seq is not None else locate(None)
    also = f" ({count} rows in all)" if count > 2 else ""
    # Files have an order, so the first of the repeats can be kept; a table or view has none.
    options = "duplicates: first (keep the first row) or drop (leave out all of them)" if seq is not None else \
        "duplicates: drop (leave out all of them)"
    # Two names that slug alike ("Acme Inc", "ACME, Inc.") are two clients: dropping both loses them.
    fix = "fix the source (e.g. add the id to a slug two names share)" if "slug" in keys else "fix the source"
    raise DataError(f"{at}: duplicate key {key} in {table.name}{also}; each row of {table.name} needs its own "
                    f"{' + '.join(keys)}; {fix}, or set {options} under tables.{table.name}")


def _both(first: str, last: str) -> str:
    """Two places: "users.csv lines 10 and 702" within one file, else both in full."""
    head, _, one = first.rpartition(" ")
    other_head, _, other = last.rpartition(" ")
    if head == other_head and head.endswith((" line", " row")):
        return f"{head}s {one} and {other}"
    return f"{first} and {last}"


def check_reference(run: Runner, relation: sa.FromClause, value: ColumnElement, column: str, parent: sa.FromClause,
                    parent_key: ColumnElement, table: TableSpec, parent_name: str, locate: Locate,
                    seq: ColumnElement | None = None, shown: Callable[[str], str] = str) -> None:
    """Raise :class:`DataError` for the first row whose ``value`` names no row of ``parent`` (an orphan).

    ``shown``: the value as the file writes it (a key numbered by ``text_ids`` is named by its text).
    """
    orphan = sa.and_(value.is_not(None), ~sa.exists(sa.select(sa.literal(1)).select_from(parent)
                                                    .where(parent_key == value)))
    first = sa.func.min(seq) if seq is not None else sa.literal(None)
    [(count, first_seq)] = run(sa.select(sa.func.count(), first).select_from(relation).where(orphan))
    if not count:
        return
    where = orphan if seq is None else sa.and_(orphan, seq == first_seq)
    example_text = sa.cast(value, sa.String())
    [(example,)] = run(sa.select(example_text).select_from(relation).where(where).order_by(example_text).limit(1))
    more = f"; {count - 1:,} more row{'s' if count > 2 else ''} like it" if count > 1 else ""
    raise DataError(f"{locate(first_seq if seq is not None else None)}, column {column}: {table.name} refers to "
                    f"{parent_name} {column}={shown(str(example))}, which is not in {parent_name}{more}; add it to "
                    f"the {parent_name} source, or leave such rows out of the {table.name} source")
