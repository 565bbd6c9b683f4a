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


def resolve_data_parameters(declared: dict[str, DeclaredParameter], params: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Check data-dependent parameters against the warehouse before any kernel starts.

    A ``period`` must lie within the complete months of the data (``latest`` becomes the
    concrete month, so the run record says exactly what was reported); a ``client`` or
    ``experiment`` must exist. Each failure is a :class:`ParameterError` that says what exists.
    """
    kinds = {name: d.spec.type for name, d in declared.items() if d.spec.type in ("period", "client", "experiment")}
    if not kinds:
        return params
    from quire.warehouse import queries
    from quire.warehouse.engine import engine as warehouse_engine

    resolved = dict(params)
    eng = warehouse_engine(settings.warehouse)
    try:
        with eng.connect() as conn:
            for name, kind in kinds.items():
                if kind == "period":
                    first, last = queries.data_range(conn)
                    resolved[name] = resolve_period(params[name], first_month=first, last_month=last, parameter=name).key
                elif kind == "client":
                    _require(name, params[name], queries.clients(conn)["slug"].tolist(), "client", "quire clients")
                else:
                    _require(name, params[name], queries.experiments(conn)["key"].tolist(), "experiment", None)
    finally:
        eng.dispose()
    return resolved


def _require(name: str, value: str, known: list[str], kind: str, command: str | None) -> None:
    if value in known:
        return
    listed = ", ".join(known[:8]) + (f" … ({len(known)} in all; `{command}` lists them)" if len(known) > 8 and command else "")
    if not value:
        raise ParameterError(f"parameter '{name}' is required: name a {kind}, e.g. -p {name}={known[0] if known else '…'}",
                             parameter=name)
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ParameterError(f"parameter '{name}': no {kind} {value!r} in the warehouse; {hint}known: {listed}", parameter=name)


def prepare(report: str, given: dict[str, Any], settings: Settings) -> tuple[ReportSpec, dict[str, Any]]:
    """Look the report up and validate its parameters; raises before anything is written."""
    spec = load_catalog(settings.catalog_path).get(report)
    declared = declared_parameters(spec, settings.home)
    params = validate_parameters(spec.id, declared, given)
    return spec, resolve_data_parameters(declared, params, settings)


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
    """Run one report and publish it; see the module docstring for the guarantees."""
    from quire.brand import load_brand
    from quire.render import render_html, render_pdf

    settings = settings or get_settings()
    t0 = time.perf_counter()
    spec, params = prepare(report, given or {}, settings)
    brand = load_brand(params.get("brand") or spec.brand, settings.templates_dir)
    started = datetime.now(timezone.utc)
    folder = RunFolder(settings.outputs_dir, spec.id, new_run_id(started), f"{started:%Y-%m-%d}")
    staging = folder.create()
    timings = {"validate": time.perf_counter() - t0}
    try:
        t = time.perf_counter()
        nb = get_engine(engine).execute(
            spec.notebook_path(settings.home), staging / "report.ipynb", params, cwd=settings.notebooks_dir,
            kernel_name=settings.kernel_name, timeout=settings.execution_timeout, progress=progress)
        check_complete(nb, staging / "report.ipynb")
        timings["execute"] = time.perf_counter() - t
        meta, headline = report_outputs(nb)
        meta = {"title": spec.title, **meta, "report_id": spec.id, "run_id": folder.run_id,
                "generated": f"{started:%d %B %Y}"}
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
            "parameters": params, "period": meta.get("period"), "client": meta.get("client"), "brand": brand.key,
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
    return RunResult(folder.run_id, spec.id, published, params, headline, timings)


__all__ = ["RunResult", "run_report", "prepare", "report_outputs", "QuireError"]
