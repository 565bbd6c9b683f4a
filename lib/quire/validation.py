"""``quire validate``: check the catalog, notebooks and brand kits together, collecting every problem."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from pathlib import Path

from quire.config import Settings
from quire.errors import QuireError


def notebook_outputs(path) -> int:
    """Number of code cells in a committed notebook that still carry outputs or execution counts."""
    from quire.notebook.setup import read_notebook

    nb = read_notebook(path)
    return sum(1 for c in nb.cells if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count")))


def validate_project(settings: Settings) -> list[str]:
    """Every problem found, one line each; an empty list means the project is valid."""
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
            problems.append(f"report {spec.id}: {exc}")  # which report's: "notebook not found" did not say
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
    return problems + schedule_parameter_problems(catalog, settings) + schedule_data_problems(catalog, settings)


def brand_warnings(settings: Settings) -> list[str]:
    """What is not wrong but will show in every report of a kit: an SVG logo with parts reports leave out (scripts,
    handlers, linked artwork, which prints as an empty logo). ``quire brand check`` says the same, with a sample."""
    from quire.brand import list_brands, load_brand

    warnings = []
    for name in list_brands(settings.templates_dir):
        try:
            removed = load_brand(name, settings.templates_dir).logo_removals()
        except QuireError:
            continue  # a broken kit is a problem of validate_project
        if removed:
            warnings.append(f"brand {name}: reports leave out of its logo: {', '.join(removed)}; if its artwork is a "
                            f"linked image, export the logo again with it embedded (`quire brand check {name}` "
                            "renders a sample)")
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


def schedule_data_problems(catalog, settings: Settings) -> list[str]:
    """A line for each schedule the warehouse refuses: a ``clients`` filter that matches no active client, a fixed
    ``period`` the data does not cover (yet), an experiment it does not hold. Each would fail only when due, at
    every due time. Checked when the warehouse can be reached; without it (validating offline) the scheduler's
    runs still refuse them when due."""
    import sqlalchemy as sa

    from quire.errors import WarehouseDataError, WarehouseError

    problems: list[str] = []
    try:
        # One at a time: the problems found before the warehouse went away are kept.
        for problem in chain(_schedule_client_filters(catalog, settings), _schedule_data_parameters(catalog, settings)):
            problems.append(problem)
    except WarehouseDataError as exc:  # the data itself is wrong: the run would say so when due
        problems.append(str(exc))
    except (WarehouseError, sa.exc.SQLAlchemyError):
        pass  # the warehouse is not reachable from here: nothing more to check against
    return problems


def _schedule_data_parameters(catalog, settings: Settings) -> Iterator[str]:
    """The schedules' fixed data parameters (a period, an experiment, a client) checked as a run checks them."""
    from quire.errors import ParameterError
    from quire.parameters import declared_parameters, validate_parameters
    from quire.pipeline import resolve_data_parameters

    ranges: dict = {}
    for spec in catalog.reports.values():
        given = dict(spec.schedule.parameters) if spec.schedule and spec.schedule.parameters else {}
        if not given:
            continue
        try:
            declared = declared_parameters(spec, settings.home)
            values = validate_parameters(spec.id, declared, given)
        except QuireError:
            continue  # an unreadable notebook, or a value refused as it stands: reported on their own
        data = {name: d for name, d in declared.items()
                if name in given and d.spec.type in ("period", "client", "experiment")}
        if not data:
            continue
        try:
            resolve_data_parameters(data, {name: values[name] for name in data}, settings,
                                    report=Path(spec.notebook).stem, ranges=ranges)
        except ParameterError as exc:
            yield f"{settings.catalog_path}: reports.{spec.id}.schedule.parameters: {exc}"


def _schedule_client_filters(catalog, settings: Settings) -> Iterator[str]:
    """A scheduled fan-out whose ``clients`` filter matches no active client (``sector: municipalty``)."""
    from quire.errors import ParameterError
    from quire.pipeline import fan_out_clients

    for spec in catalog.reports.values():
        if spec.fan_out != "clients" or not spec.schedule or not spec.schedule.clients:
            continue
        try:
            fan_out_clients(dict(spec.schedule.clients), settings)
        except ParameterError as exc:
            yield f"report {spec.id}: schedule 'clients': {exc}"
