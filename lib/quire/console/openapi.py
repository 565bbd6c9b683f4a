"""The OpenAPI 3.1 document of ``/api/v1``, generated from the catalog and the same parameter types as the form.

Each report's ``parameters`` schema is :func:`quire.console.reports.parameters_schema` of
its fields, placed under ``components.schemas.<report>Parameters`` and tied to the run
request by the report id (``oneOf`` with a ``report`` constant), so a client generator
knows exactly which parameters each report takes.
"""

from __future__ import annotations

from typing import Any

from quire import __version__
from quire.console.reports import fields, parameters_schema
from quire.state.schema import RUN_STATUSES

_ERROR = {"description": "Error: the one-line message the CLI would print",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _param(name: str, where: str, description: str, schema: dict[str, Any] | None = None, required: bool = False):
    return {"name": name, "in": where, "required": required or where == "path", "description": description,
            "schema": schema or {"type": "string"}}


def _op(summary: str, responses: dict[str, Any], *, params: list | None = None, body: dict | None = None,
        role: str = "viewer", body_required: bool = True) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "description": f"Needs the {role} role.",
                          "responses": {**responses, "401": _ERROR, "403": _ERROR}}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    return op


def document(console, access, base_url: str) -> dict[str, Any]:
    """The OpenAPI document for this server and requester (a client's token sees its own client only)."""
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "required": ["error", "status"],
                  "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                                 "parameter": {"type": "string", "description": "The parameter at fault, if one is"}}},
        "Run": {"type": "object", "properties": {
            "run_id": {"type": "string"}, "report": {"type": "string"}, "client": {"type": ["string", "null"]},
            "status": {"enum": list(RUN_STATUSES)}, "trigger": {"type": "string"}, "attempt": {"type": "integer"},
            "parameters": {"type": "object"},
            "period": {"type": ["string", "null"], "description": "The period parameter as asked for, e.g. 2026-10"},
            "period_label": {"type": ["string", "null"], "description": "One run only: the period as the report names it"},
            "created_at": {"type": "string"}, "started_at": {"type": ["string", "null"]},
            "finished_at": {"type": ["string", "null"]}, "duration_seconds": {"type": ["number", "null"]},
            "error": {"type": ["string", "null"]}, "files": {"type": "array", "items": {"type": "object"}},
            "conclusion": {"type": ["string", "null"],
                           "description": "One run only: what the report concludes in words (an experiment's verdict)"},
            "headline": {"type": "array", "items": {"type": "object"}}, "links": {"type": "object"}}},
        "RunList": {"type": "object", "properties": {"runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
                                                     "total": {"type": "integer"}, "limit": {"type": "integer"},
                                                     "offset": {"type": "integer"}}},
        "Report": {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                                    "description": {"type": "string"}, "parameters": {"type": "object"}}},
        "Schedule": {"type": "object", "properties": {"report": {"type": "string"}, "when": {"type": "string"},
                                                      "paused": {"type": "boolean"},
                                                      "next_run": {"type": ["string", "null"]}}},
    }
    requests = []
    for spec in console.catalog.reports(access):
        report_fields = fields(spec, console.catalog.declared(spec), console.catalog.options(), access)
        name = f"{spec.id.replace('-', '_')}Parameters"
        schema = parameters_schema(spec.id, report_fields)
        schema.pop("$schema", None)
        schemas[name] = schema
        requests.append({"type": "object", "required": ["report"], "additionalProperties": False,
                         "properties": {"report": {"const": spec.id}, "parameters": {"$ref": f"#/components/schemas/{name}"}}})
    schemas["RunRequest"] = {"oneOf": requests}
    run_id = _param("run_id", "path", "A run id")
    filters = [_param("report", "query", "Only this report"), _param("client", "query", "Only this client (slug)"),
               _param("status", "query", "Only this status", {"enum": list(RUN_STATUSES)}),
               _param("period", "query", "Only runs of this period parameter, e.g. 2026-10"),
               _param("since", "query", "Created at or after (UTC), e.g. 2026-11-01", {"type": "string", "format": "date-time"}),
               _param("until", "query", "Created before (UTC)", {"type": "string", "format": "date-time"}),
               _param("limit", "query", "At most this many (1-200, default 50)", {"type": "integer"}),
               _param("offset", "query", "Skip this many (paging)", {"type": "integer"})]
    paths = {
        "/reports": {"get": _op("The reports, each with its parameters as JSON Schema",
                                {"200": {"description": "The reports"}})},
        "/reports/{report_id}": {"get": _op("One report, its parameter schema and latest run",
                                            {"200": _json("Report", "The report"), "404": _ERROR},
                                            params=[_param("report_id", "path", "A report id")])},
        "/runs": {
            "get": _op("Runs, newest first, filtered", {"200": _json("RunList", "Runs"), "404": _ERROR, "422": _ERROR},
                       params=filters),
            "post": _op("Queue a run; the scheduler's workers execute it",
                        {"201": _json("Run", "The queued run"), "404": _ERROR, "422": _ERROR},
                        body={"$ref": "#/components/schemas/RunRequest"}, role="runner")},
        "/runs/{run_id}": {"get": _op("One run: status, parameters, timings, headline, files",
                                      {"200": _json("Run", "The run"), "404": _ERROR}, params=[run_id])},
        "/runs/{run_id}/rerun": {"post": _op("Queue the run again, with some parameters changed (no body: the same)",
                                             {"201": _json("Run", "The new queued run"), "404": _ERROR, "422": _ERROR},
                                             params=[run_id], role="runner", body_required=False,
                                             body={"type": "object", "additionalProperties": False,
                                                   "properties": {"parameters": {"type": "object"}}})},
        "/runs/{run_id}/files": {"get": _op("The files of a run", {"200": {"description": "Names and links"},
                                                                    "404": _ERROR}, params=[run_id])},
        "/runs/{run_id}/files/{name}": {"get": _op("Download one file (report.pdf, report.xlsx, table-NN-….csv …)",
                                                   {"200": {"description": "The file"}, "404": _ERROR},
                                                   params=[run_id, _param("name", "path", "File name")])},
        "/runs/{run_id}/compare": {"get": _op("Headline figures beside the previous run, with deltas and series",
                                              {"200": {"description": "The comparison"}, "404": _ERROR},
                                              params=[run_id])},
        "/schedules": {"get": _op("The schedules, paused or not, with their next due time",
                                  {"200": {"description": "Schedules"}})},
        "/schedules/{report_id}/pause": {"post": _op("Pause a schedule (the running scheduler follows within seconds)",
                                                     {"200": _json("Schedule", "The schedule"), "404": _ERROR},
                                                     params=[_param("report_id", "path", "A report id")], role="admin")},
        "/schedules/{report_id}/resume": {"post": _op("Resume a schedule", {"200": _json("Schedule", "The schedule"),
                                                                            "404": _ERROR},
                                                      params=[_param("report_id", "path", "A report id")], role="admin")},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Quire API", "version": __version__,
                 "description": "Run, browse, compare and download Quire reports. Errors carry the CLI's one-line message."},
        "servers": [{"url": f"{base_url}api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "A token from `quire tokens create`"}}},
    }
