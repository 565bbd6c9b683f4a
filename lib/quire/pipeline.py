"""One report run, end to end: validate -> execute -> check -> render -> publish.

Nothing is published unless every step succeeded; a failed run keeps its partial
notebook under ``outputs/_failed/`` and raises a :class:`QuireError` whose message
says what went wrong and where to look.
"""

from __future__ import annotations

import difflib
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat

from quire import __version__
from quire.archive import RunFolder, new_run_id, write_json
from quire.catalog import ReportSpec, load_catalog
from quire.config import Settings, get_settings
from quire.display import KPIS_MIME, META_MIME
from quire.errors import ExecutionError, ParameterError, QuireError, RenderError
from quire.execute import check_complete, get_engine
from quire.parameters import DeclaredParameter, declared_parameters, validate_parameters
from quire.periods import resolve_period

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

    @property
    def files(self) -> dict[str, Path]:
        return {p.suffix.lstrip(".") or p.name: p for p in sorted(self.folder.iterdir())}


def versions() -> dict[str, str]:
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
                            settings: Settings) -> tuple[dict[str, Any], Tenant | None]:
    """Check data-dependent parameters against the warehouse before any kernel starts.

    A ``period`` must lie within the complete months of the data (``latest`` becomes the
    concrete month, so the run record says exactly what was reported); a ``client`` or
    ``experiment`` must exist. Each failure is a :class:`ParameterError` that says what exists.
    """
    kinds = {name: d.spec.type for name, d in declared.items() if d.spec.type in ("period", "client", "experiment")}
    if not kinds:
        return params, None
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    resolved, tenant = dict(params), None
    with connection(settings.warehouse) as conn:
        for name, kind in kinds.items():
            if kind == "period":
                first, last = queries.data_range(conn)
                resolved[name] = resolve_period(params[name], first_month=first, last_month=last, parameter=name).key
            elif kind == "client":
                row = queries.client_by_slug(conn, params[name]) if params[name] else None
                if row is None:
                    _unknown(name, params[name], queries.clients(conn)["slug"].tolist(), "client", "quire clients")
                tenant = Tenant(row["slug"], row["name"], row["brand"])
            else:
                known = queries.experiments(conn)["key"].tolist()
                if params[name] not in known:
                    _unknown(name, params[name], known, "experiment", None)
    return resolved, tenant


def _unknown(name: str, value: str, known: list[str], kind: str, command: str | None) -> None:
    listed = ", ".join(known[:8]) + (f" … ({len(known)} in all; `{command}` lists them)" if len(known) > 8 and command else "")
    if not value:
        raise ParameterError(f"parameter '{name}' is required: name a {kind}, e.g. -p {name}={known[0] if known else '…'}",
                             parameter=name)
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ParameterError(f"parameter '{name}': no {kind} {value!r} in the warehouse; {hint}known: {listed}", parameter=name)


def prepare(report: str, given: dict[str, Any], settings: Settings) -> RunPlan:
    """Look the report up and validate its parameters; raises before anything is written."""
    t0 = time.perf_counter()
    spec = load_catalog(settings.catalog_path).get(report)
    declared = declared_parameters(spec, settings.home)
    params = validate_parameters(spec.id, declared, given)
    resolved, tenant = resolve_data_parameters(declared, params, settings)
    return RunPlan(spec, resolved, tenant, prepared_in=time.perf_counter() - t0)


def report_outputs(nb: nbformat.NotebookNode) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report's own metadata and headline KPIs, read back from its display outputs."""
    meta: dict[str, Any] = {}
    kpis: list[dict[str, Any]] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if META_MIME in data:
                meta.update(data[META_MIME])
            if KPIS_MIME in data:
                kpis.extend(data[KPIS_MIME])
    return meta, kpis


def run_report(report: str, given: dict[str, Any] | None = None, *, settings: Settings | None = None,
               progress: bool = False, engine: str = "papermill") -> RunResult:
    """Validate, run and publish one report; see the module docstring for the guarantees."""
    settings = settings or get_settings()
    return run_plan(prepare(report, given or {}, settings), settings=settings, progress=progress, engine=engine)


def run_plan(plan: RunPlan, *, settings: Settings | None = None, progress: bool = False,
             engine: str = "papermill", run_id: str | None = None) -> RunResult:
    """Run one already validated plan (from :func:`prepare`) and publish it.

    ``run_id``: the id the run history already gave this run, so the archive folder has the same name.
    """
    from quire.brand import load_brand
    from quire.notebook.setup import prepare_notebook
    from quire.render import cover_defaults, render_html, render_pdf

    settings = settings or get_settings()
    t0 = time.perf_counter() - plan.prepared_in
    spec, params, tenant = plan.spec, plan.params, plan.tenant
    brand = load_brand(plan.brand, settings.templates_dir)
    started = datetime.now(timezone.utc)
    # The client's slug (validated, and found in the warehouse) names its runs' folders.
    run_id = run_id or new_run_id(started) + (f"-{tenant.slug}" if tenant else "")
    folder = RunFolder(settings.outputs_dir, spec.id, run_id, f"{started:%Y-%m-%d}")
    staging = folder.create()
    timings = {"validate": plan.prepared_in}
    try:
        t = time.perf_counter()
        # The brand's house style goes in front, so an analyst's plain pandas/matplotlib output is dressed too.
        source = prepare_notebook(spec.notebook_path(settings.home), staging / "report.ipynb", brand.key, settings.templates_dir)
        nb = get_engine(engine).execute(
            source, staging / "report.ipynb", params, cwd=settings.notebooks_dir,
            kernel_name=settings.kernel_name, timeout=settings.execution_timeout, progress=progress)
        check_complete(nb, staging / "report.ipynb")
        timings["execute"] = time.perf_counter() - t
        meta, headline = report_outputs(nb)
        meta = {"title": spec.title, **cover_defaults(spec, params), **meta, "report_id": spec.id, "run_id": folder.run_id,
                "generated": f"{started:%d %B %Y}", "client": tenant.name if tenant else meta.get("client"),
                # A run for a tenant is read by that client: the brand's client lines, never the internal ones.
                "audience": "client" if tenant else "internal"}
        t = time.perf_counter()
        html = render_html(nb, brand=brand, meta=meta)
        (staging / "report.html").write_text(html, encoding="utf-8")
        timings["render_html"] = time.perf_counter() - t
        if "pdf" in spec.formats:
            t = time.perf_counter()
            (staging / "report.pdf").write_bytes(render_pdf(html))
            timings["render_pdf"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        write_json(staging / "run.json", {
            "run_id": folder.run_id, "report": spec.id, "title": meta.get("title"), "status": "succeeded",
            "parameters": params, "period": meta.get("period"),
            "client": tenant.slug if tenant else None, "client_name": meta.get("client"), "brand": brand.key,
            "started_at": started.isoformat(), "finished_at": datetime.now(timezone.utc).isoformat(),
            "timings": {k: round(v, 3) for k, v in timings.items()}, "versions": versions(), "headline": headline,
        })
        published = folder.publish()
    except (ExecutionError, RenderError) as exc:
        parked = folder.park_failed(f"report {spec.id}, run {folder.run_id}\nparameters: {params}\n{exc}")
        raise type(exc)(f"run {folder.run_id} of {spec.id} failed: {exc.message}",
                        hint=f"partial notebook kept in {parked}", report=spec.id, run=folder.run_id) from None
    except BaseException:
        folder.discard()
        raise
    return RunResult(folder.run_id, spec.id, published, params, headline, timings, tenant.slug if tenant else None)


def fan_out_clients(filters: dict[str, str], settings: Settings | None = None) -> list[str]:
    """Slugs of the active clients matching every ``field=value`` filter (sector, plan, region, brand).

    An unknown field, or filters that match no active client, are :class:`ParameterError`s
    that list what exists.
    """
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    settings = settings or get_settings()
    with connection(settings.warehouse) as conn:
        clients = queries.clients(conn)
    active = clients[clients["status"] == "active"]
    for field_name, value in filters.items():
        if field_name not in FAN_OUT_FIELDS:
            raise ParameterError(f"cannot select clients by {field_name!r}; use one of {', '.join(FAN_OUT_FIELDS)}")
        if value not in set(active[field_name]):
            known = ", ".join(sorted(set(active[field_name])))
            raise ParameterError(f"no active client has {field_name}={value}; values in use: {known}")
        active = active[active[field_name] == value]
    if active.empty:
        raise ParameterError("no active client matches " + " and ".join(f"{k}={v}" for k, v in filters.items()))
    return sorted(active["slug"])


FAN_OUT_FIELDS = ("sector", "plan", "region", "brand")

__all__ = ["RunPlan", "RunResult", "Tenant", "fan_out_clients", "prepare", "report_outputs", "run_plan", "run_report", "QuireError"]
