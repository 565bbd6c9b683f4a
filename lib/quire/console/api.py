"""The JSON API under ``/api/v1``: reports with their parameter schemas, runs, files, compare, schedules.

Authentication is the server's (``Authorization: Bearer <token>`` for programs; a logged-in
browser's cookie works too). Errors are JSON ``{"error": "<one line>", "status": n}`` with the
same message the CLI prints, plus ``"parameter"`` when one parameter is at fault.
The document describing all of it is ``/api/v1/openapi.json`` (:mod:`quire.console.openapi`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from tornado import web
from tornado.ioloop import IOLoop

from quire.console import compare as comparing
from quire.console import runs as run_views
from quire.console import schedules as schedule_views
from quire.console.base import API_CSP, ConsoleHandler
from quire.console.reports import AccessError, NotFound, fields, json_safe, parameters_schema
from quire.errors import ParameterError
from quire.parameters import did_you_mean
from quire.periods import parse_period
from quire.state import queue
from quire.state import runs as history
from quire.state import schedules as states
from quire.state.schema import RUN_STATUSES

PAGE_LIMIT = 200


class _RepeatedKey(Exception):
    """A JSON object of the request body names a key twice (``args[0]``)."""


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice: JSON parsers keep the last silently, so a run asked for
    with two periods ran for the second, where the command line and the console's form refuse the repeat."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _RepeatedKey(key)
        data[key] = value
    return data


def given_parameters(body: dict[str, Any]) -> dict[str, Any]:
    """The ``parameters`` object of a request body, each value one JSON string, number or boolean; a boolean as the
    command line writes it ("true"), so that a message about it reads as the request did (not "'True' is not a
    number"). An array, an object or null is refused, naming the parameter."""
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ParameterError("'parameters' must be an object of name: value")
    for name, value in parameters.items():
        if value is None or isinstance(value, (list, dict)):
            what = "null" if value is None else f"a JSON {'array' if isinstance(value, list) else 'object'}"
            raise ParameterError(f"parameter {name!r} is {what}; give one value (a string, a number, true or false), "
                                 "or leave the parameter out for its default", parameter=name)
    return {name: json.dumps(value) if isinstance(value, bool) else value for name, value in parameters.items()}


class ApiHandler(ConsoleHandler):
    csp = API_CSP
    api = True

    def body(self, *fields: str) -> dict[str, Any]:
        """The JSON object of the request body, which may hold only ``fields`` (a misspelt field would
        otherwise be ignored and the run queued with its defaults)."""
        if not self.request.body:
            return {}
        try:
            data = json.loads(self.request.body, object_pairs_hook=_once_each)
        except _RepeatedKey as exc:
            raise ParameterError(f"{exc.args[0]!r} is given twice in the request body; give it once") from None
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise ParameterError("the request body is not JSON; send {\"report\": …, \"parameters\": {…}}") from None
        if not isinstance(data, dict):
            raise ParameterError("the request body must be a JSON object")
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ParameterError(f"unknown field {unknown[0]!r} in the request body; {did_you_mean(unknown[0], fields)}"
                                 f"it takes {' and '.join(repr(f) for f in fields)}")
        return data

    def report_json(self, spec, detail: bool) -> dict[str, Any]:
        console = self.console
        out: dict[str, Any] = {"id": spec.id, "title": spec.title, "description": spec.description,
                               "owner": spec.owner, "formats": list(spec.formats), "fan_out": spec.fan_out,
                               "links": {"self": f"{self.base_url}api/v1/reports/{spec.id}",
                                         "runs": f"{self.base_url}api/v1/runs?report={spec.id}"}}
        if spec.schedule:
            out["schedule"] = schedule_views.describe(spec.schedule)
        report_fields = fields(spec, console.catalog.declared(spec), console.catalog.options(), self.access)
        out["parameters"] = parameters_schema(spec.id, report_fields)
        if detail:
            latest = history.query(console.engine, report=spec.id, client=self.access.client, limit=1)
            out["latest_run"] = run_views.view(latest[0], console.outputs, self.access).summary() if latest else None
        return out

    def run_json(self, run: run_views.RunView, detail: bool = False) -> dict[str, Any]:
        base = f"{self.base_url}api/v1/runs/{run.id}"
        data = run.detail() if detail else run.summary()
        data["links"] = {"self": base, "files": f"{base}/files", "compare": f"{base}/compare",
                         "page": f"{self.base_url}console/runs/{run.id}"}
        if detail:
            for f in data["files"]:
                f["url"] = f"{base}/files/{f['name']}"
        return data

    def load_run(self, run_id: str) -> run_views.RunView:
        c = self.console
        return run_views.load(c.engine, c.outputs, run_id, self.access, c.reports)

    async def queue_run(self, report: str, parameters: dict[str, Any], retry_of: str | None = None) -> dict[str, Any]:
        """Validate like ``quire run`` (off the event loop: it reads the notebook and the warehouse), then queue."""
        access = self.require("runner")
        c = self.console
        plan = await IOLoop.current().run_in_executor(None, c.catalog.plan, report, parameters, access)
        run_id = queue.enqueue(c.engine, report=plan.spec.id, parameters=json_safe(plan.params),
                               client=plan.tenant.slug if plan.tenant else None, requested_by=access.name,
                               retry_of=retry_of)
        return self.run_json(self.load_run(run_id), detail=True)


class IndexApi(ApiHandler):
    @web.authenticated
    def get(self) -> None:
        base = f"{self.base_url}api/v1"
        self.write_json({"reports": f"{base}/reports", "runs": f"{base}/runs", "schedules": f"{base}/schedules",
                         "openapi": f"{base}/openapi.json",
                         "you": {"role": self.access.role, "client": self.access.client}})


class OpenApiDocument(ApiHandler):
    @web.authenticated
    def get(self) -> None:
        from quire.console.openapi import document

        self.write_json(document(self.console, self.access, self.base_url))


class ReportsApi(ApiHandler):
    @web.authenticated
    def get(self, report_id: str | None = None) -> None:
        catalog = self.console.catalog
        if report_id:
            self.write_json(self.report_json(catalog.get(report_id, self.access), detail=True))
        else:
            self.write_json({"reports": [self.report_json(s, detail=False) for s in catalog.reports(self.access)]})


def _time_arg(name: str, text: str | None) -> datetime | None:
    """A ``since``/``until`` filter, read as ``quire runs --since`` reads it (a span such as ``7d`` too)."""
    from quire.state import parse_moment

    if not text:
        return None
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise ParameterError(f"'{name}': {exc}", parameter=name) from None


#: The query parameters of the run history (``GET /api/v1/runs``, ``/console/runs``).
RUN_QUERY = ("report", "client", "status", "period", "since", "until", "limit", "offset")


def check_query(handler: ConsoleHandler, known: tuple[str, ...]) -> None:
    """Refuse a query parameter that ``handler``'s address does not take, or one given twice: a misspelt filter
    (``stauts=failed``) was dropped, and the answer, every run, looked like the filtered one."""
    for name, values in handler.request.query_arguments.items():
        if name == "token":  # the server's own sign-in, which any address takes
            continue
        if name not in known:
            raise ParameterError(f"unknown query parameter {name!r}; {did_you_mean(name, known)}"
                                 f"it takes {', '.join(known)}")
        if len(values) > 1:
            raise ParameterError(f"query parameter {name!r} is given {len(values)} times; give it once", parameter=name)


def run_filters(handler: ConsoleHandler, get) -> dict[str, Any]:
    """The history filters of a request (API query or page form), checked, scoped to the requester."""
    check_query(handler, RUN_QUERY)
    status = get("status") or None
    if status and status not in RUN_STATUSES:
        raise ParameterError(f"'status': {status!r} is not one of {', '.join(RUN_STATUSES)}", parameter="status")
    report = get("report") or None
    if report:
        handler.console.catalog.get(report, handler.access)
    client = get("client") or None
    access = handler.access
    if access.client:
        if client and client != access.client:
            raise AccessError(f"this token sees the runs of client '{access.client}' only, not {client!r}")
        client = access.client
    # A client-facing server shows the runs of its reports only.
    reports = sorted(handler.console.reports) if handler.console.server_client else None
    period = get("period") or None
    if period:  # "2026-99" matched nothing, silently: a period is a key of the history, checked as `quire run` does
        parsed = parse_period(period, parameter="period")
        if parsed is None:
            raise ParameterError("'period': the history records the period each run covered; give one, e.g. 2026-10",
                                 parameter="period")
        period = parsed.key
    return {"report": report, "client": client, "status": status, "period": period,
            "since": _time_arg("since", get("since")), "until": _time_arg("until", get("until")), "reports": reports}


class RunsApi(ApiHandler):
    @web.authenticated
    def get(self) -> None:
        c = self.console
        filters = run_filters(self, lambda n: self.get_argument(n, "").strip())
        given = {name: self.get_argument(name, default).strip() for name, default in (("limit", "50"), ("offset", "0"))}
        # Digits 0-9 only: int() also reads "5_0" as 50 and full-width or Arabic-Indic digits.
        if not all(re.fullmatch(r"-?[0-9]+", v) for v in given.values()):
            raise ParameterError("'limit' and 'offset' must be whole numbers") from None
        limit, offset = int(given["limit"]), int(given["offset"])
        if limit < 1 or offset < 0:  # -1 read as 1 answered a question nobody asked
            raise ParameterError(f"'limit' must be 1 or more (at most {PAGE_LIMIT} are returned) and 'offset' 0 or more")
        limit, offset = min(limit, PAGE_LIMIT), min(offset, run_views.MAX_OFFSET)
        rows = history.query(c.engine, **filters, limit=limit, offset=offset)
        total = history.count(c.engine, **filters)
        self.write_json({"runs": [self.run_json(run_views.view(r, c.outputs, self.access, with_record=False)) for r in rows],
                         "total": total, "limit": limit, "offset": offset})

    @web.authenticated
    async def post(self) -> None:
        data = self.body("report", "parameters")
        report = data.get("report")
        if not isinstance(report, str) or not report:
            raise ParameterError("'report' is required: the id of a report (GET /api/v1/reports lists them)",
                                 parameter="report")
        self.write_json(await self.queue_run(report, given_parameters(data)), 201)


class RunApi(ApiHandler):
    @web.authenticated
    def get(self, run_id: str) -> None:
        self.write_json(self.run_json(self.load_run(run_id), detail=True))


class RerunApi(ApiHandler):
    @web.authenticated
    async def post(self, run_id: str) -> None:
        """Queue the run again with its parameters, each given one replaced (``{"parameters": {…}}``)."""
        run = self.load_run(run_id)
        changes = given_parameters(self.body("parameters"))
        self.write_json(await self.queue_run(run.row["report"], {**run.row["parameters"], **changes}), 201)


class FilesApi(ApiHandler):
    @web.authenticated
    def get(self, run_id: str, name: str | None = None) -> None:
        run = self.load_run(run_id)
        if name is None:
            data = self.run_json(run, detail=True)
            self.write_json({"run_id": run.id, "files": data["files"]})
            return
        send_file(self, run, name)


def send_file(handler: ConsoleHandler, run: run_views.RunView, name: str) -> None:
    """One file of a run, as a download (HTML shown inline, sandboxed)."""
    from quire.console.base import FILE_CSP

    path, media = run_views.file_path(run, name)
    handler.set_header("Content-Security-Policy", FILE_CSP)  # the default header was set before the handler ran
    handler.set_header("Content-Type", media)
    handler.set_header("X-Content-Type-Options", "nosniff")
    handler.set_header("Cache-Control", "private, max-age=60")
    if name != "report.html":
        download = f"{run.id}-{name}" if name in ("report.pdf", "report.ipynb", "report.xlsx", "partial.ipynb") else name
        handler.set_header("Content-Disposition", f'attachment; filename="{download}"')
    handler.finish(path.read_bytes())


class CompareApi(ApiHandler):
    @web.authenticated
    def get(self, run_id: str) -> None:
        c = self.console
        run = self.load_run(run_id)
        previous, figures = comparing.compare(c.engine, c.outputs, run, self.access)
        self.write_json({"run": self.run_json(run), "previous": self.run_json(previous) if previous else None,
                         "figures": [f.record() for f in figures]})


class SchedulesApi(ApiHandler):
    @web.authenticated
    def get(self) -> None:
        c = self.console
        items = schedule_views.for_access(c.engine, c.catalog.reports(self.access), self.access)
        for item in items:
            item["next_run"] = item["next_run"].isoformat() if item["next_run"] else None
            item["links"] = {"pause": f"{self.base_url}api/v1/schedules/{item['report']}/pause",
                             "resume": f"{self.base_url}api/v1/schedules/{item['report']}/resume"}
        self.write_json({"schedules": items, "scheduler_active": schedule_views.scheduler_active(c.engine)})


class ScheduleActionApi(ApiHandler):
    @web.authenticated
    def post(self, report_id: str, action: str) -> None:
        access = self.access
        schedule_views.require_change(access)
        c = self.console
        spec = c.catalog.get(report_id, access)
        if spec.schedule is None:
            raise NotFound(f"report {report_id!r} has no schedule")
        states.set_paused(c.engine, spec.id, action == "pause", by=access.name)
        item = next(i for i in schedule_views.listing(c.engine, [spec]))
        item["next_run"] = item["next_run"].isoformat() if item["next_run"] else None
        self.write_json(item)


class UnknownApi(ApiHandler):
    """Any other address under ``/api/v1``: a JSON 404 (after authentication), never the server's HTML page."""

    @web.authenticated
    def get(self, path: str) -> None:
        raise NotFound(f"no API address /api/v1/{path}; GET /api/v1 lists the entry points")

    post = get


def api_handlers(base: str) -> list[tuple]:
    """The API's routes under ``base`` (the server's base URL)."""
    run = r"(?P<run_id>[A-Za-z0-9][A-Za-z0-9_-]{0,127})"
    return [
        (f"{base}api/v1/?", IndexApi),
        (f"{base}api/v1/openapi.json", OpenApiDocument),
        (f"{base}api/v1/reports/?", ReportsApi),
        (f"{base}api/v1/reports/(?P<report_id>[^/]+)", ReportsApi),
        (f"{base}api/v1/runs/?", RunsApi),
        (f"{base}api/v1/runs/{run}", RunApi),
        (f"{base}api/v1/runs/{run}/rerun", RerunApi),
        (f"{base}api/v1/runs/{run}/files/?", FilesApi),
        (f"{base}api/v1/runs/{run}/files/(?P<name>[^/]+)", FilesApi),
        (f"{base}api/v1/runs/{run}/compare", CompareApi),
        (f"{base}api/v1/schedules/?", SchedulesApi),
        (f"{base}api/v1/schedules/(?P<report_id>[^/]+)/(?P<action>pause|resume)", ScheduleActionApi),
        (f"{base}api/v1/(?P<path>.*)", UnknownApi),
    ]
