"""The console's web pages: reports and their run form, run history, run detail, compare, schedules.

Server-rendered HTML (Jinja, autoescaped) in the report stylesheet's look; the one script
(``console.js``, served from here) only moves focus to an error summary and follows a live
run's status. Every form posts with tornado's ``_xsrf`` token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tornado import web
from tornado.ioloop import IOLoop

from quire.console import compare as comparing
from quire.console import runs as run_views
from quire.console import schedules as schedule_views
from quire.console.api import run_filters, send_file
from quire.console.base import ConsoleHandler
from quire.console.reports import AccessError, fields, form_values, json_safe
from quire.errors import ParameterError, QuireError
from quire.state import queue
from quire.state import runs as history
from quire.state import schedules as states
from quire.state.schema import RUN_STATUSES

PAGE_SIZE = 50


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


class Page(ConsoleHandler):
    def page(self, template: str, status: int = 200, **context: Any) -> None:
        self.render_page(template, status, when=when, seconds=seconds, **context)

    def load_run(self, run_id: str) -> run_views.RunView:
        c = self.console
        return run_views.load(c.engine, c.outputs, run_id, self.access, c.reports)

    def latest(self, report: str) -> run_views.RunView | None:
        rows = history.query(self.console.engine, report=report, client=self.access.client, limit=1)
        return run_views.view(rows[0], self.console.outputs, self.access, with_record=False) if rows else None


class ReportsPage(Page):
    """``/console/``: the catalog, with each report's schedule and latest run."""

    @web.authenticated
    def get(self) -> None:
        c = self.console
        schedules = {s["report"]: s for s in schedule_views.for_access(c.engine, c.catalog.reports(self.access),
                                                                       self.access)}
        cards = [{"spec": spec, "schedule": schedules.get(spec.id), "latest": self.latest(spec.id)}
                 for spec in c.catalog.reports(self.access)]
        self.page("reports.html.j2", cards=cards, title="Reports", nav="reports",
                  client_name=c.catalog.client_name)


class ReportPage(Page):
    """``/console/reports/<id>``: the run form (from the catalog's parameter types) and the report's recent runs."""

    def form(self, spec, values: dict[str, Any], errors: dict[str, str], status: int = 200,
             summary: str | None = None, source: run_views.RunView | None = None) -> None:
        c = self.console
        options = c.catalog.options()
        report_fields = fields(spec, c.catalog.declared(spec), options, self.access)
        recent = history.query(c.engine, report=spec.id, client=self.access.client, limit=10)
        self.page("report.html.j2", status, spec=spec, fields=report_fields, values=values, errors=errors,
                  summary=summary, options_error=options.error, source=source, title=spec.title, nav="reports",
                  recent=[run_views.view(r, c.outputs, self.access, with_record=False) for r in recent],
                  client_name=c.catalog.client_name, can_run=self.access.allows("runner"))

    @web.authenticated
    def get(self, report_id: str) -> None:
        spec = self.console.catalog.get(report_id, self.access)
        source = None
        values: dict[str, Any] = {}
        if self.get_argument("from", ""):
            # A run of this report only: another report's parameters are not this form's.
            c = self.console
            source = run_views.load(c.engine, c.outputs, self.get_argument("from"), self.access, {spec.id})
            values = dict(source.row["parameters"])
        self.form(spec, values, {}, source=source)

    @web.authenticated
    async def post(self, report_id: str) -> None:
        c = self.console
        spec = c.catalog.get(report_id, self.access)
        access = self.require("runner")
        report_fields = fields(spec, c.catalog.declared(spec), c.catalog.options(), access)
        values: dict[str, str] = {}
        try:
            values = form_values(self.request.body_arguments, report_fields)
            plan = await IOLoop.current().run_in_executor(None, c.catalog.plan, spec.id, values, access)
        except (ParameterError, AccessError) as exc:
            name = getattr(exc, "parameter", None)
            errors = {name: str(exc)} if name else {}
            self.form(spec, values, errors, 422 if isinstance(exc, ParameterError) else 403, summary=str(exc))
            return
        run_id = queue.enqueue(c.engine, report=spec.id, parameters=json_safe(plan.params),
                               client=plan.tenant.slug if plan.tenant else None, requested_by=access.name,
                               retry_of=None)
        self.redirect(f"{self.base_url}console/runs/{run_id}", status=303)


class RunsPage(Page):
    """``/console/runs``: the run history, filtered, newest first, paged."""

    @web.authenticated
    def get(self) -> None:
        c = self.console
        raw = {n: self.get_argument(n, "").strip() for n in ("report", "client", "status", "period", "since", "until")}
        error = None
        try:
            filters = run_filters(self, raw.get)
        except QuireError as exc:
            error, filters = str(exc), {"client": self.access.client,
                                        "reports": sorted(c.reports) if c.server_client else None}
        try:
            offset = min(max(int(self.get_argument("offset", "0")), 0), run_views.MAX_OFFSET)
        except ValueError:
            offset = 0
        rows = history.query(c.engine, **filters, limit=PAGE_SIZE, offset=offset)
        total = history.count(c.engine, **filters)
        kept = {k: v for k, v in raw.items() if v}
        self.page("runs.html.j2", status=422 if error else 200, runs=[run_views.view(r, c.outputs, self.access, with_record=False)
                                                                        for r in rows],
                  total=total, offset=offset, page_size=PAGE_SIZE, raw=raw, error=error, title="Run history",
                  nav="runs", reports=c.catalog.reports(self.access), statuses=RUN_STATUSES, client_name=c.catalog.client_name,
                  clients=[] if self.access.client else c.catalog.options().clients,
                  older=f"?{urlencode({**kept, 'offset': offset + PAGE_SIZE})}" if offset + PAGE_SIZE < total else None,
                  newer=f"?{urlencode({**kept, 'offset': max(offset - PAGE_SIZE, 0)})}" if offset else None)


class RunPage(Page):
    """``/console/runs/<id>``: one run — status (followed while live), report, downloads, parameters, timings."""

    @web.authenticated
    def get(self, run_id: str) -> None:
        c = self.console
        run = self.load_run(run_id)
        self.page("run.html.j2", run=run, files=run.files(), deliveries=history.deliveries(c.engine, run.id),
                  title=f"Run {run.id}", nav="runs", spec=c.catalog.catalog().reports.get(run.row["report"]),
                  client_name=c.catalog.client_name, can_run=self.access.allows("runner"),
                  scheduler_active=schedule_views.scheduler_active(c.engine) if run.live else True,
                  retries=_retries(c.engine, run.id))


def _retries(engine, run_id: str) -> list[str]:
    import sqlalchemy as sa

    from quire.state.schema import runs

    with engine.connect() as conn:
        return [r.run_id for r in conn.execute(sa.select(runs.c.run_id).where(runs.c.retry_of == run_id))]


class RerunPage(Page):
    """``POST /console/runs/<id>/rerun``: queue the run again with the same parameters."""

    @web.authenticated
    async def post(self, run_id: str) -> None:
        c = self.console
        access = self.require("runner")
        run = self.load_run(run_id)
        try:
            plan = await IOLoop.current().run_in_executor(None, c.catalog.plan, run.row["report"],
                                                          dict(run.row["parameters"]), access)
        except (ParameterError, AccessError) as exc:
            self.render_error(422 if isinstance(exc, ParameterError) else 403, str(exc))
            return
        new_id = queue.enqueue(c.engine, report=plan.spec.id, parameters=json_safe(plan.params),
                               client=plan.tenant.slug if plan.tenant else None, requested_by=access.name)
        self.redirect(f"{self.base_url}console/runs/{new_id}", status=303)


class ComparePage(Page):
    """``/console/runs/<id>/compare``: headline figures beside the previous run, deltas and sparklines."""

    @web.authenticated
    def get(self, run_id: str) -> None:
        c = self.console
        run = self.load_run(run_id)
        previous, figures = comparing.compare(c.engine, c.outputs, run, self.access)
        self.page("compare.html.j2", run=run, previous=previous, figures=figures, sparkline=comparing.sparkline,
                  title=f"Compare {run.id}", nav="runs", client_name=c.catalog.client_name,
                  history_size=comparing.HISTORY)


class FilePage(Page):
    """``/console/runs/<id>/files/<name>``: a run's file (its client's users only)."""

    @web.authenticated
    def get(self, run_id: str, name: str) -> None:
        send_file(self, self.load_run(run_id), name)


class SchedulesPage(Page):
    """``/console/schedules``: the catalog's schedules; admins pause and resume them."""

    @web.authenticated
    def get(self) -> None:
        c = self.console
        self.page("schedules.html.j2",
                  schedules=schedule_views.for_access(c.engine, c.catalog.reports(self.access), self.access),
                  scheduler_active=schedule_views.scheduler_active(c.engine), title="Schedules", nav="schedules",
                  can_change=schedule_views.may_change(self.access), changed=self.get_argument("changed", ""))

    @web.authenticated
    def post(self, report_id: str) -> None:
        access = self.access
        schedule_views.require_change(access)
        c = self.console
        spec = c.catalog.get(report_id, access)
        action = self.get_body_argument("action", "")
        if spec.schedule is None or action not in ("pause", "resume"):
            raise web.HTTPError(404)
        states.set_paused(c.engine, spec.id, action == "pause", by=access.name)
        self.redirect(f"{self.base_url}console/schedules?{urlencode({'changed': spec.id})}#schedule-{spec.id}",
                      status=303)


class BrandCss(ConsoleHandler):
    """``/console/brand.css``: the requester's brand (a client's user sees their client's)."""

    @web.authenticated
    def get(self) -> None:
        self.set_header("Content-Type", "text/css; charset=utf-8")
        self.set_header("Cache-Control", "private, max-age=300")
        self.finish(self.console.brand_for(self.access).css_variables())


class BrandLogo(ConsoleHandler):
    @web.authenticated
    def get(self) -> None:
        import mimetypes

        brand = self.console.brand_for(self.access)
        self.set_header("Content-Type", mimetypes.guess_type(brand.logo_path.name)[0] or "image/svg+xml")
        self.set_header("Cache-Control", "private, max-age=300")
        self.finish(brand.logo_path.read_bytes())


def page_handlers(base: str, static_dir: str) -> list[tuple]:
    """The pages' routes under ``base``."""
    run = r"(?P<run_id>[A-Za-z0-9][A-Za-z0-9_-]{0,127})"
    return [
        (f"{base}console/?", ReportsPage),
        (f"{base}console/reports/(?P<report_id>[^/]+)", ReportPage),
        (f"{base}console/runs/?", RunsPage),
        (f"{base}console/runs/{run}", RunPage),
        (f"{base}console/runs/{run}/rerun", RerunPage),
        (f"{base}console/runs/{run}/compare", ComparePage),
        (f"{base}console/runs/{run}/files/(?P<name>[^/]+)", FilePage),
        (f"{base}console/schedules/?", SchedulesPage),
        (f"{base}console/schedules/(?P<report_id>[^/]+)", SchedulesPage),
        (f"{base}console/brand\\.css", BrandCss),
        (f"{base}console/brand-logo", BrandLogo),
        (f"{base}console/static/(.*)", web.StaticFileHandler, {"path": static_dir}),
    ]
