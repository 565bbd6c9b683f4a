"""One report run, end to end: validate -> execute -> check -> render -> publish.

Nothing is published unless every step succeeded; a failed run keeps its partial
notebook under ``outputs/_failed/`` and raises a :class:`QuireError` whose message
says what went wrong and where to look.
"""

from __future__ import annotations

import functools
import json
import platform
import re
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quire import __version__
from quire.archive import RunFolder, new_run_id, write_json
from quire.catalog import FAN_OUT_FIELDS, ReportSpec, load_catalog
from quire.config import Settings, get_settings, masked_url
from quire.datafiles import write_data_files
from quire.errors import ConfigError, OutputError, ParameterError, QuireError, WarehouseDataError, describe_os_error
from quire.parameters import DeclaredParameter, KeySyntaxError, declared_parameters, did_you_mean, validate_parameters
from quire.periods import LATEST, Period, parse_period, resolve_period

if TYPE_CHECKING:
    # Annotations only: the notebook machinery and the display module (pandas) are imported by the run
    # itself, so that a process that only validates (`quire run` with a warm service up) stays light.
    import nbformat

_VERSIONED = ("papermill", "nbconvert", "nbclient", "weasyprint", "pandas", "seaborn", "pingouin", "sqlalchemy", "duckdb")


@dataclass
class RunResult:
    """What a successful run published."""

    run_id: str
    report: str
    folder: Path
    parameters: dict[str, Any]
    headline: list[dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)
    client: str | None = None
    #: What the reader of the report does not get as the notebook made it (printed text cut), one line each.
    warnings: list[str] = field(default_factory=list)

    @property
    def files(self) -> dict[str, Path]:
        return {p.suffix.lstrip(".") or p.name: p for p in sorted(self.folder.iterdir())}


@functools.cache  # a process runs the code it imported, whatever is installed later; a forked run inherits the answer
def versions() -> dict[str, str]:
    """The versions of Quire, Python and the packages a run's record names (``run.json``)."""
    found = {"quire": __version__, "python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


@dataclass(frozen=True)
class Tenant:
    """The client a run belongs to, from the warehouse record (never from request text beyond its slug)."""

    slug: str
    name: str
    brand: str
    locale: str | None = None    # the client's own, overriding its brand's (None: not set)
    currency: str | None = None


@dataclass(frozen=True)
class RunPlan:
    """A validated run: the report, its typed parameters and its tenant, if any."""

    spec: ReportSpec
    params: dict[str, Any]
    tenant: Tenant | None = None
    prepared_in: float = 0.0  # seconds spent validating, counted in the run's timings

    @property
    def brand(self) -> str:
        """A client's run wears the client's brand; other runs the brand parameter or the catalog's."""
        return self.tenant.brand if self.tenant else (self.params.get("brand") or self.spec.brand)


def resolve_data_parameters(declared: dict[str, DeclaredParameter], params: dict[str, Any],
                            settings: Settings, *, report: str | None = None, conn=None,
                            ranges: dict | None = None) -> tuple[dict[str, Any], Tenant | None]:
    """Check data-dependent parameters against the warehouse before any kernel starts.

    A ``period`` must lie within the complete months of the data the report reads
    (``report``: its type, the stem of its notebook; see :mod:`quire.warehouse.coverage`);
    ``latest`` becomes the concrete month, so the run record says exactly what was reported.
    A ``client`` or ``experiment`` must exist. Each failure is a :class:`ParameterError`
    that says what exists. ``conn`` (an open warehouse connection) and ``ranges`` (a cache of
    each report's range) let many runs be validated with one connection (:class:`Preparer`).
    """
    kinds = {name: d.spec.type for name, d in declared.items() if d.spec.type in ("period", "client", "experiment")}
    if not kinds:
        return params, None
    if conn is None:
        from quire.warehouse.engine import connection

        with connection(settings.warehouse) as own:
            return resolve_data_parameters(declared, params, settings, report=report, conn=own, ranges=ranges)
    from quire import formatting
    from quire.warehouse import coverage, experiment_queries, queries

    ranges = {} if ranges is None else ranges
    _check_columns(conn, report)
    _check_events(conn, report)
    resolved, tenant = dict(params), None
    for name, kind in kinds.items():
        if kind == "period":
            if report not in ranges:
                ranges[report] = coverage.report_range(report, conn)
            first, last = ranges[report]
            period = resolve_period(params[name], first_month=first, last_month=last, parameter=name,
                                    months_from=coverage.months_from(report))
            resolved[name] = period.key
            _check_ledger(conn, report, period)
        elif kind == "client":
            row = queries.client_by_slug(conn, params[name]) if params[name] else None
            if row is None:
                clients = queries.clients(conn).dropna(subset=["slug"]).sort_values("slug")
                active = clients.loc[clients["status"] == "active", "slug"].tolist()
                _unknown(name, params[name], clients["slug"].tolist(), "client", "quire clients",
                         example=active[0] if active else None)
            queries.require_name(row)
            own = queries.client_conventions(conn, int(row["client_id"]))
            formatting.for_brand(None, {**own, "slug": row["slug"]})  # a bad locale or currency fails before any run
            tenant = Tenant(row["slug"], row["name"], row["brand"], **own)
            client_row = row
        else:
            known = experiment_queries.experiment_keys(conn)
            if params[name] == LATEST:
                if not known:
                    raise ParameterError(f"parameter '{name}': the warehouse holds no experiments (`quire warehouse "
                                         "check` shows what the experiment report needs)", parameter=name)
                # As the report reads latest: the newest experiment with users, not one set up for next month.
                resolved[name] = experiment_queries.newest_experiment_key(conn)
            elif params[name] not in known:
                _unknown(name, params[name], known, "experiment", "quire experiments")
            experiment_queries.check_dates(experiment_queries.experiment_by_key(conn, resolved.get(name, params[name])))
    if tenant is not None:
        for name, kind in kinds.items():
            if kind == "period":
                check_subscribed(conn, client_row, parse_period(resolved[name]), parameter=name, data=ranges[report])
    return resolved, tenant


def _check_columns(conn, report: str | None) -> None:
    """Refuse, before the run starts, a warehouse the report cannot read: a table it cannot run without, there but
    without a column the report reads (renamed, dropped), or a column of a table it reads in a type its contract
    does not accept (dates or numbers as text, a time zone), or a view of it that cannot be read (its source table
    dropped), which ``quire warehouse check`` calls reasons the report cannot run. Each failed in the report's data
    cell, one parked run per client of a fan-out, or gave wrong figures (``'false'`` as text is a true flag).
    Optional tables without a column are left out by the report itself, which says so."""
    from quire.contract import CONTRACTS, inventory
    from quire.contract.check import mistyped_message, unreadable_message
    from quire.contract.inventory import unreadable_views
    from quire.warehouse.engine import CHECK_HINT

    covered = CONTRACTS.get(report or "")
    if covered is None:
        return
    held = inventory(conn)  # read once per connection: a fan-out's runs share it
    for table in covered.required_tables:
        missing = held.missing_columns(table)
        if missing:  # worded as the clients table's own check words it
            raise WarehouseDataError(f"the warehouse's table {table.name} has no column {', '.join(missing)}, which "
                                     f"the {report} report reads", hint=CHECK_HINT)
    for table in covered.tables:
        mistyped = held.mistyped_columns(table) if held.usable(table) else []
        if mistyped:
            raise WarehouseDataError("; ".join(f"the warehouse's {mistyped_message(report, table.name, col, found)}"
                                               for col, found in mistyped), hint=CHECK_HINT)
    broken = unreadable_views(conn, covered.table_names)
    if broken:
        raise WarehouseDataError("; ".join(f"the warehouse's {unreadable_message(report, name, why)}"
                                           for name, why in broken.items()), hint=CHECK_HINT)


def _check_events(conn, report: str | None) -> None:
    """A report of the events refuses, before its run starts, event types it would miss for their case or spaces
    (its run refused them in the data cell and was parked)."""
    from quire.contract import CONTRACTS
    from quire.warehouse import cohort_queries

    covered = CONTRACTS.get(report or "")
    if covered is not None and covered.reads("events"):
        problem = cohort_queries.miscased_event_types(conn)
        if problem:
            raise WarehouseDataError(problem)


def _check_ledger(conn, report: str | None, period: Period) -> None:
    """A report of the MRR ledger refuses one with a wrong sign or that takes a client below zero: said here, before the run starts,
    rather than by a run that fails in its data cell and is parked."""
    from quire.contract import CONTRACTS
    from quire.warehouse import queries

    covered = CONTRACTS.get(report or "")
    if covered is not None and covered.coverage is not None and covered.coverage.kind == "ledger":
        problem = queries.ledger_problem(conn, until=period.last_month)
        if problem:
            raise WarehouseDataError(problem)


def _unknown(name: str, value: str, known: list[str], kind: str, command: str | None, *, example: str | None = None) -> None:
    listed = ", ".join(known[:8]) + (f" … ({len(known)} in all; `{command}` lists them)" if len(known) > 8 and command else "")
    listed = listed or f"none (the warehouse holds no {kind}s)"
    if not value:
        example = example or (known[0] if known else "…")
        article = "an" if kind[0] in "aeiou" else "a"
        raise ParameterError(f"parameter '{name}' is required: name {article} {kind}, e.g. -p {name}={example}"
                             + (f" (`{command}` lists them)" if command else ""), parameter=name)
    spaced = [k for k in known if k.strip() == value.strip()]
    if spaced:  # the value is given as it should be; the warehouse's own copy has spaces around it
        raise WarehouseDataError(f"{kind} {spaced[0]!r} of the warehouse has spaces around it, so runs could not be "
                                 f"named by it; correct it to {value.strip()!r} in the warehouse")
    raise ParameterError(f"parameter '{name}': no {kind} {value!r} in the warehouse; {did_you_mean(value, known)}"
                         f"known: {listed}", parameter=name)


class ClientNotSubscribedError(ParameterError):
    """The client had no subscription in the requested period: it churned before it, or signed up after it."""


def subscription_spans(conn, client: Any) -> list[tuple[date, date | None]]:
    """(start, end or None while running) of each of the client's subscriptions, oldest first.

    A client without subscription rows counts as subscribed from its signup to its churn, if any. A row without
    a start, or ending before it starts, is a :class:`WarehouseDataError`.
    """
    import pandas as pd

    from quire.warehouse import queries

    def day(value: Any) -> date | None:
        return None if value is None or pd.isna(value) else pd.Timestamp(value).date()

    rows = queries.client_subscriptions(conn, int(client["client_id"]))
    spans = [(day(r.started_on), day(r.ended_on)) for r in rows.itertuples()]
    for start, end in spans:
        # Which periods the client may see is read from these: a guess here would show it months it never paid for.
        if start is None or (end is not None and end < start):
            wrong = "has no start (started_on is empty)" if start is None else f"ends {end} before it starts ({start})"
            raise WarehouseDataError(f"a subscription of client '{client['slug']}' in the subscriptions table {wrong}, "
                                     "so the periods its reports may cover are unknown; correct that row")
    return spans or [(day(client["signup_date"]), day(client["churned_on"]))]


def subscribed_in(spans: list[tuple[date, date | None]], period: Period) -> bool:
    """Whether one of the subscription ``spans`` (:func:`subscription_spans`) overlaps ``period``."""
    return any(start <= period.end and (end is None or end >= period.start) for start, end in spans)


def check_subscribed(conn, client: Any, period: Period, *, parameter: str = "period",
                     data: tuple[date, date] | None = None) -> None:
    """Raise :class:`ClientNotSubscribedError` unless one of the client's subscriptions overlaps ``period``.

    A client's report covers the periods it paid for, wholly or in part: the month it churned
    still runs, a period after its churn (or before its signup) has nothing of its own to show.
    ``data``: the first and last month the report's data covers, which the advice keeps within.
    """
    spans = subscription_spans(conn, client)
    if subscribed_in(spans, period):
        return
    first = spans[0][0]
    before = [end for _, end in spans if end is not None and end < period.start]
    after = [start for start, _ in spans if start > period.end]
    churned = ", then churned" if client["status"] == "churned" else ""
    if not after:
        last = max(before)
        why = f"subscribed {first:%Y-%m-%d} to {last:%Y-%m-%d}{churned}"
        low, high = (max(first, data[0]), min(last, data[1])) if data else (first, last)
        advice = (f"choose a period from {low:%Y-%m} to {high:%Y-%m}, e.g. -p {parameter}={high:%Y-%m}"
                  if low.replace(day=1) <= high else "the data holds no month of that subscription")
    elif not before:
        why = f"subscribed since {first:%Y-%m-%d}"
        advice = f"choose a period from {first:%Y-%m} on"
        if data and first.replace(day=1) > data[1]:  # a client of this month: no period of its own is complete
            advice = (f"its first month, {first:%Y-%m}, is not complete in the data yet (the latest complete month is "
                      f"{data[1]:%Y-%m}); its first report can run once it is")
    else:
        why = f"no subscription between {max(before):%Y-%m-%d} and {min(after):%Y-%m-%d}"
        advice = f"choose a period up to {max(before):%Y-%m} or from {min(after):%Y-%m} on"
    raise ClientNotSubscribedError(f"client '{client['slug']}' had no subscription in {period.key} ({why}); {advice}",
                                   parameter=parameter)


def resolve_latest(spec: ReportSpec, params: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``params`` with each period parameter that is ``latest`` (given, or the notebook's default)
    made the month it stands for now.

    The scheduler records a due time's runs with it, so that a run re-run later (after a crash, a
    stop, a passing failure) still covers the month it was due for, not the data's newest then.
    Everything else is left for the run's own validation.
    """
    declared = declared_parameters(spec, settings.home)
    latest = {n: d for n, d in declared.items()
              if d.spec.type == "period" and str(params.get(n, d.default) or "").strip().lower() == LATEST}
    if not latest:
        return params
    resolved, _ = resolve_data_parameters(latest, dict.fromkeys(latest, LATEST), settings, report=Path(spec.notebook).stem)
    return {**params, **resolved}


class Preparer:
    """Validates runs before any of them starts: one catalog read, one look at each notebook's
    parameters and one warehouse connection for however many runs (a fan-out over 1,000 clients).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._catalog = None
        self._declared: dict[str, dict[str, DeclaredParameter]] = {}
        self._ranges: dict[str | None, tuple] = {}
        self._brands: set[str] = set()  # brand kits already loaded (checked) for this batch
        self._template_checked = False
        self._stack = ExitStack()
        self._conn = None

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc) -> bool:
        # The exception, if any, goes to the warehouse connection too, which tells a refused query for what it is.
        return self._stack.__exit__(*exc)

    def _connection(self):
        if self._conn is None:
            from quire.warehouse.engine import connection

            self._conn = self._stack.enter_context(connection(self.settings.warehouse))
        return self._conn

    def prepare(self, report: str | ReportSpec, given: dict[str, Any]) -> RunPlan:
        """Look the report up (unless its spec is given) and validate its parameters; raises before anything is written."""
        t0 = time.perf_counter()
        if isinstance(report, ReportSpec):
            spec = report
        else:
            self._catalog = self._catalog or load_catalog(self.settings.catalog_path)
            spec = self._catalog.get(report)
        if spec.id not in self._declared:
            self._declared[spec.id] = declared_parameters(spec, self.settings.home)
        declared = self._declared[spec.id]
        try:
            params = validate_parameters(spec.id, declared, given)
        except KeySyntaxError as exc:
            raise self._meant_key(exc) from None
        if "brand" in declared and "brand" not in given:
            params["brand"] = spec.brand  # the catalog's brand, not the notebook's default, unless one is given
        data_kinds = {"period", "client", "experiment"}
        conn = self._connection() if any(d.spec.type in data_kinds for d in declared.values()) else None
        resolved, tenant = resolve_data_parameters(declared, params, self.settings, report=Path(spec.notebook).stem,
                                                   conn=conn, ranges=self._ranges)
        plan = RunPlan(spec, resolved, tenant, prepared_in=time.perf_counter() - t0)
        if tenant is None:  # a client's kit is the warehouse's to name: a broken one fails that client's run only
            self._check_brand(plan.brand)
        if not self._template_checked:
            from quire.render import check_template

            check_template(self.settings.templates_dir)
            self._template_checked = True
        return plan

    def _meant_key(self, mistake: KeySyntaxError) -> QuireError:
        """``mistake`` suggesting the warehouse's own clients or experiments (by key or by name), not merely the
        key its text spells, which may name nothing; as it was when the warehouse cannot say.

        A key the warehouse itself holds is the warehouse's mistake, not the caller's (a fan-out passes the slugs
        it read): a :class:`WarehouseDataError` naming the row, which a fan-out skips while running the others.
        """
        from quire.warehouse import queries

        table, key, command = ((queries.clients, "slug", "quire clients") if mistake.kind == "client"
                               else (queries.experiments, "key", "quire experiments"))
        try:
            frame = table(self._connection())
        except QuireError:
            return mistake
        held = frame[frame[key].astype(str) == mistake.text]
        if len(held):
            row = held.iloc[0]
            return mistake.held_by(table.__name__, key, row.get("client_id", row.get("experiment_id")))
        return mistake.with_known(zip(frame[key].astype(str), frame["name"].astype(str), strict=True), command)

    def _check_brand(self, name: str) -> None:
        """Load the run's brand kit once per batch: a broken or unknown kit (given, or the catalog's) refuses the
        run before it starts; it failed in the run's render, recorded as a failed run, or went unused."""
        if name not in self._brands:
            from quire.brand import load_brand

            load_brand(name, self.settings.templates_dir)
            self._brands.add(name)


def prepare_runs(jobs: list[tuple[str, dict[str, Any], bool]], settings: Settings,
                 skip_failing: bool = False) -> tuple[list[RunPlan], list[str], list[str]]:
    """Validate every job ``(report, parameters, one of a fan-out)`` before any runs.

    Returns the plans, a note for each client of a fan-out left out because it was not
    subscribed in the period, and a note for each job skipped. The first job that fails
    raises, so that nothing runs; with ``skip_failing`` (``quire run --all``, whose warehouse
    may hold only some reports' data) a job that fails is skipped with its reason instead,
    and so is a client of a fan-out whose warehouse rows are wrong, unless every job fails.
    """
    plans, left_out, skipped = [], [], []
    with Preparer(settings) as preparer:
        for report, params, fanned in jobs:
            try:
                plans.append(preparer.prepare(report, params))
            except ClientNotSubscribedError as exc:
                if not fanned:
                    raise
                left_out.append(f"{report} · {params['client']}: left out, {exc}")
            except QuireError as exc:
                # One client's own rows in a bad state (a subscription without a start, a slug two clients share)
                # stop that client's run, not the fan-out's others.
                if not (skip_failing or fanned and isinstance(exc, WarehouseDataError)):
                    raise
                who = f"{report} · {params['client']}" if fanned else report
                skipped.append(f"{who}: skipped, {exc}")
                last_error = exc
    if skipped and len(skipped) == len(jobs):
        raise last_error  # nothing at all can run (a warehouse that is down): one error, as for a single run
    return plans, left_out, skipped


def prepare(report: str | ReportSpec, given: dict[str, Any], settings: Settings) -> RunPlan:
    """Look the report up (unless its spec is given) and validate its parameters; raises before anything is written."""
    with Preparer(settings) as preparer:
        return preparer.prepare(report, given)


def report_outputs(nb: nbformat.NotebookNode) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report's own metadata and headline KPIs, read back from its display outputs, as plain dicts and lists.

    Plain, not nbformat's ``NotebookNode``: the headline travels pickled in a run's outcome, and
    unpickling a ``NotebookNode`` imports nbformat and jsonschema (~0.15 s) into the command that
    only waits for a warm service's answer.
    """
    from quire.display import KPIS_MIME, META_MIME

    meta: dict[str, Any] = {}
    kpis: list[dict[str, Any]] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if META_MIME in data:
                meta.update(data[META_MIME])
            if KPIS_MIME in data:
                kpis.extend(data[KPIS_MIME])
    return json.loads(json.dumps(meta)), json.loads(json.dumps(kpis))  # the outputs' own JSON, read back plain


def report_tables(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """The data of every table the report shows, and of the charts that carry their figures (:class:`~quire.display.
    Chart`'s ``data``), in the order shown (see :data:`quire.display.TABLES_MIME`).

    A table outside any :class:`~quire.display.Section` (an analyst's plain DataFrame) belongs to
    the markdown heading above it, which names its CSV and sheet when it has no caption (rather
    than "Table 3"), as a Section's title does.
    """
    from quire.display import TABLES_MIME

    tables, heading = [], ""
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            found = _HEADING.findall(cell.get("source", ""))
            heading = found[-1].strip() if found else heading
        for out in cell.get("outputs", []):
            for table in out.get("data", {}).get(TABLES_MIME, []):
                tables.append(table if table.get("section") or not heading else {**table, "section": heading})
    return tables


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def run_report(report: str, given: dict[str, Any] | None = None, *, settings: Settings | None = None,
               progress: bool = False, engine: str = "papermill") -> RunResult:
    """Validate, run and publish one report; see the module docstring for the guarantees."""
    settings = settings or get_settings()
    return run_plan(prepare(report, given or {}, settings), settings=settings, progress=progress, engine=engine)


def run_plan(plan: RunPlan, *, settings: Settings | None = None, progress: bool = False,
             engine: str = "papermill", run_id: str | None = None) -> RunResult:
    """Run one already validated plan (from :func:`prepare`) and publish it.

    ``run_id``: the id the run history already gave this run, so the archive folder has the same name.
    A failure of the notebook, its kernel, the renderer or the disk is a :class:`QuireError` naming
    where the partial notebook was kept; nothing is published.
    """
    from quire import formatting
    from quire.brand import list_brands, load_brand
    from quire.execute import EXECUTION_LOG, check_complete, get_engine
    from quire.notebook.setup import prepare_notebook
    from quire.pdf import render_pdf
    from quire.render import cover_defaults, render_html

    settings = settings or get_settings()
    t0 = time.perf_counter() - plan.prepared_in
    spec, params, tenant = plan.spec, plan.params, plan.tenant
    try:
        brand = load_brand(plan.brand, settings.templates_dir)
    except ConfigError as exc:
        if tenant is None:
            raise
        if plan.brand in list_brands(settings.templates_dir):
            # The kit is there but broken: fixed in its files, not by re-branding a white-label client.
            raise ConfigError(f"client {tenant.slug!r}: its brand kit fails: {exc.message}", hint=exc.hint) from None
        # The warehouse names a client's kit: say where the name came from, as the fix may be there.
        raise ConfigError(f"client {tenant.slug!r}: the brand its warehouse record names fails: {exc.message}",
                          hint=f"{exc.hint + '; or ' if exc.hint else ''}fix clients.brand (or its organization's "
                               "brand) in the warehouse") from None
    own = {"locale": tenant.locale, "currency": tenant.currency} if tenant else {}
    conventions = formatting.for_brand(brand, own)  # how the run writes figures and dates
    started = datetime.now(timezone.utc)
    # The client's slug (validated, and found in the warehouse) names its runs' folders.
    run_id = run_id or new_run_id(started) + (f"-{tenant.slug}" if tenant else "")
    executor = get_engine(engine)
    executor.check_kernel(settings.kernel_name)  # a setting's mistake: said before a folder or a notebook exists
    folder = RunFolder(settings.outputs_dir, spec.id, run_id, f"{started:%Y-%m-%d}")
    try:
        staging = folder.create()
    except OSError as exc:
        raise OutputError(f"run {folder.run_id} of {spec.id} could not start: {describe_os_error(exc)}",
                          report=spec.id, run=folder.run_id) from None
    timings = {"validate": plan.prepared_in}
    try:
        step = "running the notebook"  # named in the message of an OSError (which often has no file name)
        t = time.perf_counter()
        # The brand's house style goes in front, so an analyst's plain pandas/matplotlib output is dressed too.
        source = prepare_notebook(spec.notebook_path(settings.home), staging / "report.ipynb", brand.key, settings.templates_dir,
                                  own)
        nb = executor.execute(
            source, staging / "report.ipynb", params, cwd=settings.notebooks_dir,
            kernel_name=settings.kernel_name, timeout=settings.execution_timeout, progress=progress)
        check_complete(nb, staging / "report.ipynb")
        timings["execute"] = time.perf_counter() - t
        meta, headline = report_outputs(nb)
        # The tables' data beside the report (CSV each, one report.xlsx), linked from the HTML.
        step = "writing the data files"
        t = time.perf_counter()
        with formatting.using(conventions):  # money columns, the cover's period and date as the run writes them
            data_files = [f.record() for f in write_data_files(report_tables(nb), staging,
                                                                header_color=brand.colors.primary, creator=brand.name)]
            cover, generated = cover_defaults(spec, params), formatting.long_date(started)
        timings["data_files"] = time.perf_counter() - t
        meta = {"title": spec.title, **cover, **meta, "report_id": spec.id, "run_id": folder.run_id,
                "generated": generated, "client": tenant.name if tenant else meta.get("client"),
                # A run for a tenant is read by that client: the brand's client lines, never the internal ones.
                "audience": "client" if tenant else "internal", "data_files": data_files}
        step = "writing the report"
        t = time.perf_counter()
        warnings: list[str] = []
        html = render_html(nb, brand=brand, meta=meta, notes=warnings)
        (staging / "report.html").write_text(html, encoding="utf-8")
        timings["render_html"] = time.perf_counter() - t
        if "pdf" in spec.formats:
            t = time.perf_counter()
            (staging / "report.pdf").write_bytes(render_pdf(html, settings))
            timings["render_pdf"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        write_json(staging / "run.json", {
            "run_id": folder.run_id, "report": spec.id, "title": meta.get("title"), "status": "succeeded",
            "parameters": params, "period": meta.get("period"), "conclusion": meta.get("conclusion"),
            "client": tenant.slug if tenant else None, "client_name": meta.get("client"), "brand": brand.key,
            # Which data the figures come from: after an import of other data, runs of either stay apart.
            "warehouse": masked_url(settings.warehouse),
            **conventions.to_dict(),  # what the headline's money and dates are in
            "started_at": started.isoformat(), "finished_at": datetime.now(timezone.utc).isoformat(),
            "timings": {k: round(v, 3) for k, v in timings.items()}, "versions": dict(versions()), "headline": headline,
            "data_files": data_files, "warnings": warnings,
        })
        (staging / EXECUTION_LOG).unlink(missing_ok=True)  # kept only with a failed run
        step = "publishing the run"
        published = folder.publish()
    except QuireError as exc:
        raise _parked(folder, spec.id, params, exc) from None
    except OSError as exc:  # a full disk or a permission while writing the run
        raise _parked(folder, spec.id, params, OutputError(f"{describe_os_error(exc)} while {step}")) from None
    except Exception as exc:  # a bug: keep what the run left for whoever fixes it, then let it show
        _parked(folder, spec.id, params, QuireError(f"{type(exc).__name__}: {exc}"))
        raise
    except BaseException:  # interrupted by the user: nothing to keep
        folder.discard()
        raise
    return RunResult(folder.run_id, spec.id, published, params, headline, timings, tenant.slug if tenant else None,
                     warnings)


def _parked(folder: RunFolder, report: str, params: dict[str, Any], exc: QuireError) -> QuireError:
    """Move the failed run to ``_failed/`` (or leave it in staging if even that fails); the error to raise."""
    try:
        parked = folder.park_failed(f"report {report}, run {folder.run_id}\nparameters: {params}\n{exc}")
    except OSError as move_exc:
        where = f"what it wrote is left in {folder.staging} ({describe_os_error(move_exc)})"
    else:
        notebook = parked / "report.ipynb"
        where = f"partial notebook kept in {notebook}" if notebook.is_file() else f"details in {parked / 'FAILED.txt'}"
    return type(exc)(f"run {folder.run_id} of {report} failed: {exc.message}", hint=where, report=report, run=folder.run_id)


def fan_out_clients(filters: dict[str, str], settings: Settings | None = None,
                    notes: list[str] | None = None) -> list[str]:
    """Slugs of the active clients matching every ``field=value`` filter (sector, plan, region, brand).

    An unknown field, or filters that match no active client, are :class:`ParameterError`s
    that list what exists. A client the filters match that cannot be run is left out, and a line saying why goes
    to ``notes`` when given: an active one without a slug (runs, files and e-mails are named by it) or with spaces
    around it, and one whose
    status is neither active nor churned ('Active', say), which would otherwise silently get no report.
    """
    from quire.warehouse import queries
    from quire.warehouse.engine import connection
    from quire.warehouse.schema import CLIENT_STATUSES

    settings = settings or get_settings()
    with connection(settings.warehouse) as conn:
        clients = queries.clients(conn)
    unknown = clients[~clients["status"].isin(CLIENT_STATUSES)]
    active = clients[clients["status"] == "active"]
    nameless = active[active["slug"].isna() | (active["slug"].astype(str).str.strip() == "")]
    active = active.drop(index=nameless.index)
    spaced = active[active["slug"].astype(str).str.strip() != active["slug"].astype(str)]
    active = active.drop(index=spaced.index)
    for field_name, value in filters.items():
        if field_name not in FAN_OUT_FIELDS:
            raise ParameterError(f"cannot select clients by {field_name!r}; {did_you_mean(field_name, FAN_OUT_FIELDS)}"
                                 f"use one of {', '.join(FAN_OUT_FIELDS)}")
        in_use = sorted({str(v) for v in active[field_name].dropna()})  # a client may leave its segment empty
        if _segment_key(value) not in {_segment_key(v) for v in in_use}:
            raise ParameterError(f"no active client has {field_name}={value}; {did_you_mean(value, in_use)}values in use: "
                                 f"{', '.join(in_use) or 'none (no client has one)'}")
        # 'Municipality' and 'municipality ' are the segment the filter names: matched exactly, such a client was
        # silently left out of its own segment's run.
        active, nameless, spaced, unknown = (frame[frame[field_name].map(_segment_key) == _segment_key(value)]
                                             for frame in (active, nameless, spaced, unknown))
    if notes is not None and len(nameless):
        notes.append(f"client_id {', '.join(str(i) for i in nameless['client_id'])}: left out, the clients table gives "
                     "no slug, which runs and their files are named by; give each client one")
    if notes is not None and len(spaced):
        notes.append(f"{', '.join(map(repr, spaced['slug']))}: left out, the clients table writes the slug with spaces "
                     "around it, which runs and their files are named by; remove them")
    if notes is not None and len(unknown):
        shown = ", ".join(f"{slug} ({status!r})" for slug, status in zip(unknown["slug"], unknown["status"]))
        notes.append(f"{shown}: left out, a status other than {' or '.join(CLIENT_STATUSES)} in the clients table; "
                     "correct it")
    if active.empty and not filters:
        raise ParameterError("the warehouse has no active client (status 'active'); `quire clients` lists them all")
    if active.empty:
        raise ParameterError("no active client matches " + " and ".join(f"{k}={v}" for k, v in filters.items()))
    return sorted(set(active["slug"]))  # a slug two clients share runs once, and is refused with why


def _segment_key(value: Any) -> str | None:
    """A segment's value as a filter compares it: without case or surrounding spaces (None stays None)."""
    return None if not isinstance(value, str) else value.strip().casefold()


__all__ = ["ClientNotSubscribedError", "RunPlan", "RunResult", "Tenant", "check_subscribed", "subscribed_in",
           "subscription_spans", "fan_out_clients", "prepare",
           "report_outputs", "report_tables", "run_plan", "run_report", "QuireError"]
