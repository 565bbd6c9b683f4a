"""``quire warehouse check``: hold a warehouse against the reports' contracts and say which reports can run.

Per table the contract mentions: present or not (a table or a view), each column present
and of a type its kind accepts, row count, NULLs where the contract allows none,
duplicate keys, rows whose foreign key finds no parent (orphans), values outside the
allowed sets or bounds, and the days its date column covers. Per report: what of that
stops it (an *error*), what it survives (a *warning*), what it does without (a *note*,
for an optional table or column), the months its data covers (through
:mod:`quire.warehouse.coverage`, as a run reads them) and the first and latest period of
each kind it can run for.

Every check is an aggregate query (one scan per table for counts, NULLs, bounds and
allowed values; one anti-join per foreign key), so a warehouse of millions of rows is
checked in about a second on DuckDB; nothing is read row by row into Python.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quire.contract import warehouse_tables
from quire.contract.inventory import Inventory, accepts, enforced_keys, family, inventory, unreadable_views
from quire.contract.model import ColumnContract, ReportContract, TableContract
from quire.contract.reports import CONTRACTS
from quire.errors import WarehouseError
from quire.periods import PLACEHOLDER_DATE, Period, month_start, plausible
from quire.warehouse import client_queries, cohort_queries, coverage, experiment_queries, queries
from quire.warehouse.engine import driver_reason, read_hint

PERIOD_KINDS = ("month", "quarter", "year")
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    """One thing the check found. ``severity``: ``error`` (the report cannot run), ``warning`` or ``note``.

    ``code`` is one of: missing_table, missing_column, mistyped_column, empty_table, nulls,
    duplicate_keys, orphans, outside_allowed, not_a_key, out_of_range, no_complete_month, no_experiments,
    unreadable_view, missing_amount, repeated_movement, miscased_event_type, movement_kind, movement_sign, negative_mrr, survey_scale,
    before_signup, missing_months, purchase_without_revenue, repeated_purchases, foreign_content, unknown_brand,
    bad_contact_email,
    unplanned_variant, guessed_control, experiment_dates.
    """

    severity: str
    code: str
    table: str
    column: str | None
    message: str
    count: int | None = None
    examples: tuple[str, ...] = ()


@dataclass
class ColumnState:
    """One contract column in the warehouse: ``status`` ok | missing | mistyped; ``found`` the database's type."""

    name: str
    kind: str
    status: str
    found: str | None = None
    nulls: int | None = None


@dataclass
class TableState:
    """One table of the contract in the warehouse, with the facts found in it (its findings carry no severity yet)."""

    name: str
    present: bool
    view: bool = False
    unreadable: str | None = None  # why a view that is there cannot be read (None: it can)
    rows: int | None = None
    columns: dict[str, ColumnState] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None
    complete_months: int | None = None
    facts: list[Finding] = field(default_factory=list)


@dataclass
class ReportState:
    """Whether one report can run, for which months and periods, and why not."""

    report: str
    title: str
    can_run: bool
    first_month: date | None = None
    last_month: date | None = None
    periods: dict[str, dict[str, str] | None] = field(default_factory=dict)
    experiments: list[str] | None = None
    left_out: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


@dataclass
class CheckResult:
    """Everything ``quire warehouse check`` found; :meth:`as_json` is the ``--json`` document."""

    warehouse: str
    dialect: str
    seconds: float
    tables: dict[str, TableState]
    reports: dict[str, ReportState]

    @property
    def ok(self) -> bool:
        """Whether every report checked can run."""
        return all(r.can_run for r in self.reports.values())

    def as_json(self) -> dict:
        """The stable document of ``--json`` (documented in docs/contracts.md)."""
        def day(d: date | None) -> str | None:
            return d.isoformat() if d else None

        def month(d: date | None) -> str | None:
            return f"{d:%Y-%m}" if d else None

        return {
            "warehouse": self.warehouse, "dialect": self.dialect, "ok": self.ok, "seconds": round(self.seconds, 3),
            "reports": {name: {
                "title": r.title, "can_run": r.can_run, "first_month": month(r.first_month),
                "last_month": month(r.last_month), "periods": r.periods, "experiments": r.experiments,
                "left_out": r.left_out, "findings": [asdict(f) | {"examples": list(f.examples)} for f in r.findings],
            } for name, r in self.reports.items()},
            "tables": {name: {
                "present": t.present, "view": t.view, "rows": t.rows, "first_day": day(t.first_day),
                "last_day": day(t.last_day), "complete_months": t.complete_months,
                "columns": {c.name: {"kind": c.kind, "status": c.status, "found": c.found, "nulls": c.nulls}
                            for c in t.columns.values()},
            } for name, t in self.tables.items()},
        }


# --------------------------------------------------------------------------- per table


def _rows(n: int) -> str:
    """"1 row has" / "1,204 rows have"."""
    return f"{n:,} row has" if n == 1 else f"{n:,} rows have"


def _column_state(col: ColumnContract, found: str | None) -> ColumnState:
    if found is None:
        return ColumnState(col.name, col.kind, "missing")
    return ColumnState(col.name, col.kind, "ok" if accepts(col, found) else "mistyped", found)


def _day(value: object) -> date | None:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def _complete_months(first: date, last: date, grain: str) -> int:
    """Whole calendar months from ``first``'s month to the last one the data reaches the end of."""
    if grain == "month":
        end = month_start(last)
    else:  # a week is dated by its Monday and reaches its Sunday
        end = queries.last_complete_month(last + timedelta(days=6) if grain == "week" else last)
    start = month_start(first)
    return max(0, (end.year - start.year) * 12 + end.month - start.month + 1)


def _scan(conn: Connection, contract: TableContract, state: TableState, enforced: set[frozenset[str]]) -> None:
    """One aggregate query for rows, NULLs, first/last day, values out of bounds and repeated keys; then the
    allowed values (grouped) and repeated composite keys.

    A key the database keeps unique itself (``enforced``) is not counted again.
    """
    ok = [c for c in contract.columns if state.columns[c.name].status == "ok"]
    t = sa.table(contract.name, *(sa.column(c.name) for c in ok))
    parts: dict[str, sa.ColumnElement] = {"rows": sa.func.count()}
    key = contract.primary_key
    singles = [k for k in ((key[0],) if len(key) == 1 else ()) + tuple(c.name for c in ok if c.unique)
               if k in t.c and frozenset((k,)) not in enforced]
    for name in dict.fromkeys(singles):
        parts[f"d:{name}"] = sa.func.count(sa.distinct(t.c[name]))
    for c in ok:
        parts[f"n:{c.name}"] = sa.func.count(t.c[c.name])
        if c.minimum is not None or c.maximum is not None:
            outside = [t.c[c.name] < c.minimum] if c.minimum is not None else []
            outside += [t.c[c.name] > c.maximum] if c.maximum is not None else []
            parts[f"b:{c.name}"] = sa.func.sum(sa.case((sa.or_(*outside), 1), else_=0))
    date_ok = contract.date_column in {c.name for c in ok}
    if date_ok:
        parts["first"], parts["last"] = sa.func.min(t.c[contract.date_column]), sa.func.max(t.c[contract.date_column])
    row = conn.execute(sa.select(*(v.label(f"v{i}") for i, v in enumerate(parts.values()))).select_from(t)).one()
    got = dict(zip(parts, row, strict=True))
    state.rows = int(got["rows"])
    for c in ok:
        state.columns[c.name].nulls = state.rows - int(got[f"n:{c.name}"])
    if date_ok and got["first"] is not None:
        state.first_day, state.last_day = _day(got["first"]), _day(got["last"])
        if not (plausible(state.first_day) and plausible(state.last_day)):
            state.facts.append(Finding("error", "out_of_range", contract.name, contract.date_column,
                                       f"{contract.date_column} runs from {state.first_day} to {state.last_day}: "
                                       f"{PLACEHOLDER_DATE}"))
        else:
            state.complete_months = _complete_months(state.first_day, state.last_day, contract.grain)
    for c in ok:
        _value_facts(conn, t, c, state, int(got.get(f"b:{c.name}") or 0))
    for name in dict.fromkeys(singles):
        repeated = state.rows - state.columns[name].nulls - int(got[f"d:{name}"])
        if repeated > 0:
            # A client's slug names its runs: a shared one could be either client, so neither's report runs.
            refused = ": those clients' reports are refused; give each client a slug of its own" \
                if (contract.name, name) == ("clients", "slug") else ""
            state.facts.append(Finding("warning", "duplicate_keys", contract.name, name,
                                       f"{_rows(repeated)} a {name} another row has too{refused}", repeated))
    if len(key) > 1 and all(k in t.c for k in key) and frozenset(key) not in enforced:
        _composite_duplicates(conn, t, key, state)


def _value_facts(conn: Connection, t: sa.TableClause, c: ColumnContract, state: TableState, out_of_bounds: int) -> None:
    nulls = state.columns[c.name].nulls or 0
    if nulls and not c.nullable and not c.optional:
        state.facts.append(Finding("warning", "nulls", state.name, c.name,
                                   f"{_rows(nulls)} no {c.name} (the contract allows none)", nulls))
    if c.pattern:
        bad, examples = _outside(conn, t.c[c.name], lambda v: sa.not_(v.regexp_match(c.pattern)))
        if bad:
            state.facts.append(Finding("warning", "not_a_key", state.name, c.name,
                                       f"{_rows(bad)} a {c.name} that is no key of lower-case letters, digits and "
                                       f"dashes (e.g. {', '.join(repr(e) for e in examples)}); runs cannot be named "
                                       "by it, so those rows cannot be reported on", bad, examples))
    if c.convention:
        _convention_facts(conn, t.c[c.name], c.convention, state)
    outside, examples = _outside(conn, t.c[c.name], lambda v: v.not_in(c.allowed)) if c.allowed else (0, ())
    if outside:
        state.facts.append(Finding("warning", "outside_allowed", state.name, c.name,
                                   f"{_rows(outside)} {c.name} outside {', '.join(c.allowed)} "
                                   f"(e.g. {', '.join(repr(e) for e in examples)}); reports ignore or misread them",
                                   outside, examples))
    if out_of_bounds:
        bounds = " to ".join(f"{b:g}" for b in (c.minimum, c.maximum) if b is not None)
        what = (f"below {c.minimum:g}" if c.maximum is None else f"above {c.maximum:g}" if c.minimum is None
                else f"outside {bounds}")
        state.facts.append(Finding("warning", "out_of_range", state.name, c.name,
                                   f"{_rows(out_of_bounds)} {c.name} {what}", out_of_bounds))


def _convention_facts(conn: Connection, col: sa.ColumnClause, convention: str, state: TableState) -> None:
    """Rows whose locale or currency the reports cannot read (``EURO``, ``english``): a run for them is refused."""
    from quire.formatting.conventions import CONVENTION_HELP, unreadable

    counts = dict(conn.execute(sa.select(col, sa.func.count()).where(sa.func.trim(col) != "").group_by(col)).all())
    bad = sorted(unreadable(counts, convention), key=lambda v: (-counts[v], str(v)))
    if bad:
        rows = sum(counts[v] for v in bad)
        examples = tuple(str(v) for v in bad[:MAX_EXAMPLES])
        state.facts.append(Finding("warning", "outside_allowed", state.name, col.name,
                                   f"{_rows(rows)} a {col.name} Quire cannot read (e.g. "
                                   f"{', '.join(repr(e) for e in examples)}): their reports are refused; "
                                   f"{CONVENTION_HELP[convention]}", rows, examples))


def _outside(conn: Connection, col: sa.ColumnClause,
             wrong: Callable[[sa.ColumnElement], sa.ColumnElement]) -> tuple[int, tuple[str, ...]]:
    """Rows whose ``col`` is ``wrong`` (outside an allowed set, say), and the commonest such values.

    Grouped first (a hash aggregate over the few distinct values), which on 12 M events is
    several times faster than testing every row against the list.
    """
    counts = sa.select(col.label("value"), sa.func.count().label("n")).group_by(col).subquery()
    stmt = (sa.select(counts.c.value, counts.c.n, sa.func.sum(counts.c.n).over().label("total"))
            .where(counts.c.value.is_not(None), wrong(counts.c.value))
            .order_by(counts.c.n.desc(), counts.c.value).limit(MAX_EXAMPLES))
    rows = conn.execute(stmt).all()
    return (int(rows[0].total), tuple(str(r.value) for r in rows)) if rows else (0, ())


def _composite_duplicates(conn: Connection, t: sa.TableClause, key: tuple[str, ...], state: TableState) -> None:
    groups = sa.select(*(t.c[k] for k in key)).group_by(*(t.c[k] for k in key)).having(sa.func.count() > 1).subquery()
    repeated = int(conn.execute(sa.select(sa.func.count()).select_from(groups)).scalar() or 0)
    if repeated:
        state.facts.append(Finding("warning", "duplicate_keys", state.name, ", ".join(key),
                                   f"{repeated:,} values of ({', '.join(key)}) occur more than once", repeated))


def _orphans(conn: Connection, contract: TableContract, states: dict[str, TableState], inv: Inventory,
             broken: dict[str, str]) -> None:
    """Rows whose foreign key names no row of its parent table (only where both sides are usable and alike)."""
    state = states[contract.name]
    for column, parent, parent_column in contract.foreign_keys:
        mine, theirs = state.columns.get(column), inv.type_of(parent, parent_column)
        if (mine is None or mine.status != "ok" or theirs is None or family(theirs) != family(mine.found or "")
                or parent in broken):
            continue
        child, par = sa.table(contract.name, sa.column(column)), sa.table(parent, sa.column(parent_column))
        known = sa.select(sa.literal(1)).where(par.c[parent_column] == child.c[column])
        # No "IS NOT NULL" in the anti-join: DuckDB then plans it as a plain hash anti-join (2.5x faster on
        # 12 M events); a NULL finds no parent, so the NULLs the scan counted are taken off again.
        stmt = sa.select(sa.func.count()).select_from(child).where(~known.exists())
        count = int(conn.execute(stmt).scalar() or 0) - (mine.nulls or 0)
        if count:
            sample = (sa.select(child.c[column]).where(child.c[column].is_not(None), ~known.exists())
                      .distinct().order_by(child.c[column]).limit(MAX_EXAMPLES))
            examples = tuple(str(v) for v in conn.execute(sample).scalars())
            state.facts.append(Finding("warning", "orphans", contract.name, column,
                                       f"{_rows(count)} a {column} that {parent} does not hold "
                                       f"(e.g. {', '.join(examples)}); no report can say whose they are, so figures "
                                       f"per {_entity(parent)} leave them out; totals over the whole table may still "
                                       "count them", count, examples))


def _entity(table: str) -> str:
    """What one row of ``table`` is, for a sentence: clients → client, experiments → experiment."""
    return table.removesuffix("s")


def _table_state(conn: Connection, contract: TableContract, inv: Inventory,
                 enforced: dict[str, set[frozenset[str]]], broken: dict[str, str]) -> TableState:
    if not inv.has(contract.name):
        return TableState(contract.name, present=False)
    if contract.name in broken:  # nothing of it can be counted; every report that reads it says why
        return TableState(contract.name, present=True, view=True, unreadable=broken[contract.name],
                          columns={c.name: ColumnState(c.name, c.kind, "ok", inv.type_of(contract.name, c.name))
                                   for c in contract.columns})
    state = TableState(contract.name, present=True, view=contract.name in inv.views,
                       columns={c.name: _column_state(c, inv.type_of(contract.name, c.name)) for c in contract.columns})
    _scan(conn, contract, state, enforced.get(contract.name, set()))
    return state


# --------------------------------------------------------------------------- per report


def _periods(first: date, last: date) -> dict[str, dict[str, str] | None]:
    """The first and the latest period of each kind that lies wholly within ``first``..``last`` (months)."""
    found: dict[str, dict[str, str] | None] = {}
    for kind in PERIOD_KINDS:
        early = Period.containing(first, kind)
        early = early if early.start >= first else early.shift(1)
        late = Period.containing(last, kind)
        late = late if late.last_month <= last else late.shift(-1)
        found[kind] = {"first": early.key, "latest": late.key} if early <= late else None
    return found


def mistyped_message(report: str, table: str, col: ColumnContract, found: str) -> str:
    """Why ``report`` cannot read ``table.col`` held as the database type ``found``."""
    tz = " (with a time zone: store UTC without one)" if family(found) == "timestamptz" else ""
    return f"{table}.{col.name} is {found}{tz}; the {report} report reads it as {col.kind} ({col.sql_type})"


def unreadable_message(report: str, view: str, why: str) -> str:
    """Why ``report`` cannot read ``view``, which the database cannot read (``why``)."""
    return f"view {view} cannot be read ({why}); the {report} report reads it: mend the view or drop it"


def _column_findings(c: ReportContract, t: TableContract, state: TableState) -> list[Finding]:
    """What the report makes of a present table's columns: required ones missing, any mistyped, optional ones absent."""
    found = []
    for col in t.columns:
        s = state.columns[col.name]
        if s.status == "mistyped":
            found.append(Finding("error", "mistyped_column", t.name, col.name,
                                 mistyped_message(c.report, t.name, col, s.found or "")))
        elif s.status == "missing" and col.optional:
            found.append(Finding("note", "missing_column", t.name, col.name,
                                 f"no column {t.name}.{col.name} (optional; for {col.needed_for})"))
        elif s.status == "missing" and not t.optional:
            found.append(Finding("error", "missing_column", t.name, col.name,
                                 f"table {t.name} has no column {col.name} ({col.kind}), which the {c.report} report "
                                 "needs"))
    missing = [col.name for col in t.required_columns if state.columns[col.name].status == "missing"]
    if missing and t.optional:
        found.append(Finding("warning", "missing_column", t.name, ", ".join(missing),
                             f"table {t.name} lacks {', '.join(missing)}, so the {c.report} report does without it: "
                             f"{t.without}"))
    return found


def _table_findings(c: ReportContract, t: TableContract, state: TableState) -> tuple[list[Finding], bool]:
    """The findings of one table for report ``c``, and whether the report will read the table."""
    if not state.present:
        if t.optional:
            return [Finding("note", "missing_table", t.name, None, f"no table {t.name}: {t.without}")], False
        return [Finding("error", "missing_table", t.name, None,
                        f"no table {t.name}: the {c.report} report needs it for {t.purpose}")], False
    if state.unreadable:
        return [Finding("error", "unreadable_view", t.name, None,
                        f"the {unreadable_message(c.report, t.name, state.unreadable)}")], False
    found = _column_findings(c, t, state)
    if any(col.name in state.columns and state.columns[col.name].status == "missing" for col in t.required_columns):
        return found, False
    if state.rows == 0:
        severity = "note" if t.optional else "error"
        found.append(Finding(severity, "empty_table", t.name, None, f"table {t.name} is empty"
                             + (f": {t.without}" if t.optional else f"; the {c.report} report needs its rows")))
    columns, references = set(t.column_names), {fk[0] for fk in t.foreign_keys}
    for fact in state.facts:
        if fact.code == "orphans" and fact.column not in references:
            continue  # a link to a table this report does not read
        if fact.column in columns or fact.code == "duplicate_keys" and set(fact.column.split(", ")) <= columns:
            found.append(fact)
    return found, True


#: The surveys whose answers each report counts: the executive report both, the client report's health the NPS.
SURVEYS_READ = {"executive": ("nps", "csat"), "client": ("nps",)}


def _report_state(conn: Connection, c: ReportContract, states: dict[str, TableState]) -> ReportState:
    r = ReportState(c.report, c.title, can_run=False)
    for t in c.tables:
        found, used = _table_findings(c, t, states[t.name])
        r.findings += found
        if t.optional and not used:
            r.left_out.append(t.name)
    if not r.errors:
        _report_range(conn, c, r)
    r.can_run = not r.errors
    return r


def _report_range(conn: Connection, c: ReportContract, r: ReportState) -> None:
    """The months (or, for the experiment report, the experiments) the report can run for, as a run reads them."""
    try:
        if c.coverage is None:
            r.experiments = experiment_queries.assigned_experiment_keys(conn)
            if not r.experiments:
                r.findings.append(Finding("error", "no_experiments", c.tables[0].name, None,
                                          "no experiment has assigned users"))
            r.findings += _variant_findings(conn, c.tables[0].name)
            return
        r.first_month, r.last_month = coverage.contract_range(c.report, conn)
        r.periods = _periods(r.first_month, r.last_month)
        if c.coverage.kind == "ledger":  # the report refuses such a ledger (see queries.ledger_problem)
            for code, column, problem in (("missing_amount", "amount", queries.missing_amounts(conn)),
                                          ("repeated_movement", "movement_id", queries.repeated_movements(conn)),
                                          ("movement_kind", "movement", queries.unknown_movements(conn)),
                                          ("movement_sign", "amount", queries.wrong_signs(conn)),
                                          ("negative_mrr", "amount", queries.negative_mrr(conn))):
                if problem:
                    r.findings.append(Finding("error", code, c.coverage.first[0], column, problem))
        if c.report == "cohort":
            r.findings += _missing_months(conn) + _before_signup(conn) + _purchase_findings(conn)
            miscased = cohort_queries.miscased_event_types(conn)  # the report refuses them (see its data's load)
            if miscased:
                r.findings.append(Finding("error", "miscased_event_type", "events", "event_type", miscased))
        if c.report == "client":
            r.findings += _foreign_content(conn) + _client_settings(conn)
        surveys = SURVEYS_READ.get(c.report, ())
        off_scale = surveys and "survey_responses" not in r.left_out and queries.off_scale_answers(conn, surveys)
        if off_scale:  # the report's run refuses them (see satisfaction.checked_scores)
            r.findings.append(Finding("error", "survey_scale", "survey_responses", "score", off_scale))
    except WarehouseError as exc:
        r.findings.append(Finding("error", "no_complete_month", c.coverage.first[0] if c.coverage else c.tables[0].name,
                                  None, exc.message))


def _variant_findings(conn: Connection, table: str) -> list[Finding]:
    """Warnings about the experiments' records: variants not in the plan, no plan and no control by name, an end
    before the start."""
    found = []
    unplanned = [f"{key}: {variant}" for key, variant in experiment_queries.unplanned_variants(conn)]
    if unplanned:
        n = len(unplanned)
        found.append(_experiment_warning("unplanned_variant", table, unplanned, (
            f"{n} variant{'s' if n > 1 else ''} that users were assigned to {'are' if n > 1 else 'is'} not in the "
            f"experiment's plan (experiment_variants), e.g. {', '.join(unplanned[:MAX_EXAMPLES])}; the report "
            "refuses those experiments until the plan holds every variant")))
    guessed = [f"{key} ({', '.join(variants)})" for key, variants in experiment_queries.guessed_controls(conn)]
    if guessed:
        n = len(guessed)
        found.append(_experiment_warning("guessed_control", table, guessed, (
            f"{n} experiment{'s name' if n > 1 else ' names'} no control, e.g. {', '.join(guessed[:MAX_EXAMPLES])}: "
            "no variant is called control, baseline, original, old or A, so the report takes the first by name and "
            "warns that every sign may be reversed; record the control in experiment_variants (an import mapping: "
            "experiment_plan)")))
    undated = experiment_queries.undated_experiments(conn)
    if undated:
        n = len(undated)
        found.append(_experiment_warning("experiment_dates", "experiments", undated, (
            f"{n} experiment{'s have' if n > 1 else ' has'} assigned users but none on {'their' if n > 1 else 'its'} "
            f"days (started_on to ended_on), e.g. {', '.join(undated[:MAX_EXAMPLES])}; the report finds nothing to "
            "analyse there: fix the dates, or the assigned_at times"), column="started_on"))
    backwards = experiment_queries.backwards_experiments(conn)
    if backwards:
        n = len(backwards)
        found.append(_experiment_warning("experiment_dates", "experiments", backwards, (
            f"{n} experiment{'s end' if n > 1 else ' ends'} before {'they start' if n > 1 else 'it starts'} (ended_on "
            f"before started_on), e.g. {', '.join(backwards[:MAX_EXAMPLES])}; the report refuses "
            f"{'them' if n > 1 else 'it'} until the dates are fixed"), column="ended_on"))
    return found


def _experiment_warning(code: str, table: str, named: list[str], message: str, column: str = "variant") -> Finding:
    """A warning about the experiments ``named`` (a few of them its examples)."""
    return Finding("warning", code, table, column, message, len(named), tuple(named[:MAX_EXAMPLES]))


def _foreign_content(conn: Connection) -> list[Finding]:
    """A warning when engagement rows name another client than their content: no client's report shows them."""
    count, examples = client_queries.foreign_content_rows(conn)
    if not count:
        return []
    return [Finding("warning", "foreign_content", "engagement_daily", "client_id",
                    f"{_rows(count)} a client_id that is not its content's client (e.g. {'; '.join(examples)}); the "
                    "client reports leave them out, as no client may see another's content: correct the client_id "
                    "or the content_id in the source", count, examples)]


def _client_settings(conn: Connection) -> list[Finding]:
    """Warnings about clients whose own settings fail later: a brand kit ``templates/`` lacks (their runs are
    refused), a ``contact_email`` that is not one address (their report is never e-mailed)."""
    from quire.brand import list_brands
    from quire.config import get_settings
    from quire.delivery.headers import one_recipient, printable
    from quire.errors import DeliveryError

    frame = queries.clients(conn)
    kits = set(list_brands(get_settings().templates_dir))
    unknown = [f"{r.slug}: {printable(r.brand, 60)!r}" for r in frame.itertuples()
               if isinstance(r.brand, str) and r.brand not in kits]
    unsendable = []
    for r in frame.itertuples():
        if isinstance(r.contact_email, str) and r.contact_email.strip():
            try:
                one_recipient(r.contact_email)
            except DeliveryError:
                unsendable.append(f"{r.slug}: {printable(r.contact_email, 60)!r}")
    found = []
    if unknown:
        found.append(Finding("warning", "unknown_brand", "clients", "brand",
                             f"{_rows(len(unknown))} a brand kit templates/ does not hold (e.g. "
                             f"{'; '.join(unknown[:MAX_EXAMPLES])}); those clients' reports are refused until the kit "
                             "is added or clients.brand names one of: " + ", ".join(sorted(kits)),
                             len(unknown), tuple(unknown[:MAX_EXAMPLES])))
    if unsendable:
        found.append(Finding("warning", "bad_contact_email", "clients", "contact_email",
                             f"{_rows(len(unsendable))} a contact_email that is not one e-mail address (e.g. "
                             f"{'; '.join(unsendable[:MAX_EXAMPLES])}); the scheduler cannot e-mail those clients "
                             "their reports: give each one plain address", len(unsendable),
                             tuple(unsendable[:MAX_EXAMPLES])))
    return found


def _purchase_findings(conn: Connection) -> list[Finding]:
    """Warnings about purchases the cohort report would misread: without revenue (worth 0), or repeating another
    exactly (an export's duplicated rows, counted twice in revenue)."""
    found = []
    empty = cohort_queries.purchases_without_revenue(conn)
    if empty:
        found.append(Finding("warning", "purchase_without_revenue", "events", "revenue",
                             f"{_rows(empty)} a purchase without revenue; the cohort report counts each as a purchase "
                             "worth 0 (so a cohort may read as having bought nothing): give them their amounts in the "
                             "source, or leave them out if they are no sales", empty))
    repeats, revenue = cohort_queries.repeated_purchases(conn)
    if not repeats:
        return found
    return found + [Finding("warning", "repeated_purchases", "events", None,
                    f"{_rows(repeats)} a purchase that repeats another exactly (same user, time and revenue), worth "
                    f"{revenue:,.2f} in all; the cohort report counts each, so if the export duplicated rows, leave "
                    "the repeats out in the source (e.g. SELECT DISTINCT in SQL first); if they are lines of one "
                    "order (two items at the same price), sum each order's lines into one purchase instead, as "
                    "DISTINCT would drop real sales", repeats)]


def _missing_months(conn: Connection) -> list[Finding]:
    """A warning naming the months inside the events' span without any event while the months around them have
    plenty (:func:`~quire.warehouse.coverage.missing_periods`): the cohort report shows their cells as unknown."""
    months = [f"{m:%Y-%m}" for m in coverage.missing_periods(conn, "month")]
    if not months:
        return []
    one = len(months) == 1
    return [Finding("warning", "missing_months", "events", "occurred_at",
                    f"no event at all in {', '.join(months)}, between months that have plenty: most likely "
                    f"{'a month' if one else 'months'} missing from the load, not {'a month' if one else 'months'} "
                    f"without activity; the cohort report shows {'its' if one else 'their'} cells as unknown (—) and "
                    f"leaves {'it' if one else 'them'} out of every average: load {'its' if one else 'their'} events "
                    f"(re-run the export for {'that month' if one else 'those months'} and import again)",
                    len(months), tuple(months))]


def _before_signup(conn: Connection) -> list[Finding]:
    """A warning when events happened before their user's signup: the cohort report leaves them out."""
    events, purchases, revenue = cohort_queries.events_before_signup(conn)
    if not events:
        return []
    bought = f", {purchases:,} of them purchases worth {revenue:,.2f} in all" if purchases else ""
    return [Finding("warning", "before_signup", "events", "occurred_at",
                    f"{events:,} event{'s' if events > 1 else ''} happened before {'their' if events > 1 else 'its'} "
                    f"user's signup{bought}; the cohort report leaves them out (a user's ages start at signup). Many "
                    "such events usually mean that users.signed_up_at and the events come from systems that disagree "
                    "on when a user started.", events)]


def check_warehouse(conn: Connection, reports=None, *, url: str = "") -> CheckResult:
    """Check the warehouse behind ``conn`` against the contracts of ``reports`` (default: every report)."""
    started = time.perf_counter()
    names = list(reports or CONTRACTS)
    contracts = [CONTRACTS[n] for n in names]
    inv = inventory(conn, fresh=True)
    merged = warehouse_tables(names)
    try:
        enforced = enforced_keys(conn)
        # A view that cannot be read stopped the whole check ("there is no table sr_raw"), naming no view.
        broken = unreadable_views(conn, merged)
        states = {name: _table_state(conn, t, inv, enforced, broken) for name, t in merged.items()}
        for name, t in merged.items():
            if states[name].present and name not in broken:
                _orphans(conn, t, states, inv, broken)
        results = {c.report: _report_state(conn, c, states) for c in contracts}
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"cannot check the warehouse: {driver_reason(exc)}", hint=read_hint(exc)) from exc
    return CheckResult(url, conn.dialect.name, time.perf_counter() - started, states, results)


__all__ = ["CheckResult", "ColumnState", "Finding", "ReportState", "TableState", "check_warehouse"]
