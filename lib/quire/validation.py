"""``quire validate``: check the catalog, notebooks and brand kits together, collecting every problem."""

from __future__ import annotations

from pathlib import Path

from quire.config import Settings
from quire.errors import ConfigError, QuireError, WarehouseError


def notebook_outputs(path) -> int:
    """Number of code cells in a committed notebook that still carry outputs or execution counts."""
    from quire.notebook.setup import read_notebook

    nb = read_notebook(path)
    return sum(1 for c in nb.cells if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count")))


def validate_project(settings: Settings, warnings: list[str] | None = None) -> list[str]:
    """Every problem found, one line each; an empty list means the project is valid. ``warnings`` (a list) gets what
    is not wrong but will show: see :func:`brand_warnings` and :func:`schedule_data_findings`."""
    from quire.brand import list_brands, load_brand
    from quire.catalog import load_catalog
    from quire.parameters import declared_parameters

    from quire.render import check_template

    problems: list[str] = []
    try:
        catalog = load_catalog(settings.catalog_path)
    except QuireError as exc:
        return [str(exc)]
    try:
        check_template(settings.templates_dir)
    except QuireError as exc:
        problems.append(str(exc))
    for spec in catalog.reports.values():
        try:
            declared_parameters(spec, settings.home)  # the notebook declares its parameters readably
        except QuireError as exc:
            # Which report's: "notebook not found" did not say (once: the parameter checks name it themselves).
            problems.append(str(exc) if exc.context.get("report") == spec.id else f"report {spec.id}: {exc}")
            continue
        try:
            dirty = notebook_outputs(spec.notebook_path(settings.home))
            if dirty:
                problems.append(f"{spec.notebook}: {dirty} cell(s) have outputs; clear them before committing")
            load_brand(spec.brand, settings.templates_dir)
        except QuireError as exc:
            problems.append(str(exc))
    for name in list_brands(settings.templates_dir):
        try:
            load_brand(name, settings.templates_dir)
        except QuireError as exc:
            problems.append(str(exc))
    problems += schedule_parameter_problems(catalog, settings)
    data_problems, data_warnings = schedule_data_findings(catalog, settings)
    if warnings is not None:
        warnings += brand_warnings(settings) + data_warnings
    return problems + data_problems


def brand_warnings(settings: Settings) -> list[str]:
    """What is not wrong but will show in every report of a kit: an SVG logo with parts reports leave out (scripts,
    handlers, linked artwork, which prints as an empty logo). ``quire brand check`` says the same, with a sample."""
    from quire.brand import list_brands, load_brand

    warnings = []
    for name in list_brands(settings.templates_dir):
        try:
            logo = load_brand(name, settings.templates_dir).logo_warning()
        except QuireError:
            continue  # a broken kit is a problem of validate_project
        if logo:
            warnings.append(f"brand {name}: {logo} (`quire brand check {name}` renders a sample)")
    return warnings


def schedule_parameter_problems(catalog, settings: Settings, *, unreadable: bool = False) -> list[str]:
    """A line for each schedule whose parameters its notebook would refuse, saying where in the catalog: a scheduled
    run would fail only when due (and again at every due time), so ``quire validate`` and the scheduler's start
    check them now. ``unreadable``: also a line for each scheduled report whose notebook cannot be read (missing,
    not a notebook), for the scheduler's start; ``quire validate`` reports those on its own."""
    from quire.parameters import declared_parameters, validate_parameters

    problems = []
    for spec in catalog.reports.values():
        if not (spec.schedule and (spec.schedule.parameters or unreadable)):
            continue
        try:
            declared = declared_parameters(spec, settings.home)
        except QuireError as exc:
            if unreadable:
                problems.append(f"{settings.catalog_path}: reports.{spec.id}.notebook: {exc}")
            continue
        if not spec.schedule.parameters:
            continue
        try:
            validate_parameters(spec.id, declared, dict(spec.schedule.parameters))
        except QuireError as exc:
            problems.append(f"{settings.catalog_path}: reports.{spec.id}.schedule.parameters: {exc}")
    return problems


def refuse_schedule_problems(catalog, settings: Settings, *, unreadable: bool = False) -> None:
    """Raise :class:`ConfigError` with the first of :func:`schedule_parameter_problems` (and how many more), for the
    scheduler: at its start, and when reports.yaml changes while it runs."""
    problems = schedule_parameter_problems(catalog, settings, unreadable=unreadable)
    if problems:
        raise ConfigError(problems[0] + (f" (and {len(problems) - 1} more; `quire validate` lists them)"
                                         if len(problems) > 1 else ""))


def schedule_data_findings(catalog, settings: Settings) -> tuple[list[str], list[str]]:
    """What the warehouse says of the schedules, as (problems, warnings): each would fail when due, at every due time.

    Problems: a ``clients`` filter that matches no active client, a fixed client or experiment it does not hold.
    Warnings: a fixed ``period`` it does not cover (its next load may bring it), a warehouse that cannot be
    reached from here (validating offline: the runs still refuse such schedules when due) or that the report
    cannot read (a column of the wrong type: the warehouse is at fault, not the schedule).
    """
    scheduled = [spec for spec in catalog.reports.values()
                 if spec.schedule and (spec.schedule.clients or spec.schedule.parameters)]
    if not scheduled or _file_not_built(settings.warehouse):
        return [], []  # a warehouse file not built yet (a fresh install): nothing to check against, nothing to say
    unreachable = _unreachable(settings.warehouse)
    if unreachable:
        return [], [f"the schedules' client filters and data parameters are not checked against the warehouse, which "
                    f"cannot be reached from here ({unreachable})"]
    problems: list[str] = []
    warnings: list[str] = []
    ranges: dict = {}  # each report's months, read once
    for spec in scheduled:
        if spec.fan_out == "clients" and spec.schedule.clients:
            problem = _client_filter_problem(spec, settings)
            if problem:
                problems.append(problem)
        found = _data_parameter_problem(spec, settings, ranges)
        if found:
            line, warning = found
            (warnings if warning else problems).append(line)
    return problems, warnings


def _file_not_built(url: str) -> bool:
    """Whether ``url`` names a DuckDB or SQLite file that does not exist (yet)."""
    from quire.warehouse.engine import database_file

    path = database_file(url)
    return path is not None and not path.exists()


def _unreachable(url: str) -> str:
    """Why the warehouse at ``url`` cannot be connected to from here; "" when it can."""
    import sqlalchemy as sa

    from quire.errors import WarehouseError
    from quire.warehouse.engine import connection

    try:
        with connection(url):  # which connects, or says why it cannot
            pass
    except (WarehouseError, sa.exc.SQLAlchemyError) as exc:
        return (getattr(exc, "message", None) or str(exc)).splitlines()[0]  # without the hint: said in a parenthesis
    return ""


def _client_filter_problem(spec, settings: Settings) -> str | None:
    """A scheduled fan-out whose ``clients`` filter matches no active client (``sector: municipalty``)."""
    from quire.pipeline import fan_out_clients

    try:
        fan_out_clients(dict(spec.schedule.clients), settings)
    except QuireError as exc:
        return f"report {spec.id}: schedule 'clients': {exc}"
    return None


def _data_parameter_problem(spec, settings: Settings, ranges: dict) -> tuple[str, bool] | None:
    """The schedule's fixed data parameters (a period, a client, an experiment) checked as a run checks them: the
    line, and whether it is a warning (a period not covered yet, a warehouse the report cannot read) rather than
    a mistake of the schedule."""
    from quire.parameters import declared_parameters, validate_parameters
    from quire.pipeline import resolve_data_parameters

    given = dict(spec.schedule.parameters or {})
    try:
        declared = declared_parameters(spec, settings.home)
        values = validate_parameters(spec.id, declared, given)
    except QuireError:
        return None  # an unreadable notebook, or a value refused as it stands: reported on their own
    data = {name: d for name, d in declared.items()
            if name in given and d.spec.type in ("period", "client", "experiment")}
    if not data:
        return None
    try:
        resolve_data_parameters(data, {name: values[name] for name in data}, settings,
                                report=Path(spec.notebook).stem, ranges=ranges)
    except WarehouseError as exc:
        # The warehouse, not the schedule, is wrong (a column of the wrong type, say): said, but no error of the
        # catalog, which a CI gate on another warehouse must not fail on.
        return (f"report {spec.id}: the schedule's data parameters are not checked, as the {Path(spec.notebook).stem} "
                f"report cannot read the warehouse: {exc}; its runs fail when due until the warehouse is mended", True)
    except QuireError as exc:
        refused = data.get(getattr(exc, "parameter", None) or "")
        about_period = refused is not None and refused.spec.type == "period"
        return (f"{settings.catalog_path}: reports.{spec.id}.schedule.parameters: {exc}"
                + ("; its runs fail when due until the warehouse covers that period" if about_period else ""),
                about_period)
    return None
