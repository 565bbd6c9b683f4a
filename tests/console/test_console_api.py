"""The JSON API of ``quire serve`` (/api/v1), against a real server: every endpoint, validation, roles, tenants."""

from __future__ import annotations

import html

import pytest
from console_support import CLIENT_A, CLIENT_B, CONCLUSION
from console_support import SERVER_TOKEN, run_count, sign_in

from quire.errors import ParameterError
from quire.periods import parse_period

# One bad value per parameter type of the `alltypes` test report (every type the catalog knows).
BAD_VALUES = {
    "text": "",
    "count": "eleven",
    "ratio": 1.5,
    "flag": "maybe",
    "day": "2026-13-45",
    "period": "2031-01",
    "mode": "c",
    "brand": "acme",
    "client": "no-such-client",
    "experiment": "no-such-experiment",
}
GOOD = {"client": CLIENT_A, "period": "2026-10"}


def test_index_says_who_is_asking(api_world):
    status, body, _ = api_world.server.get("/api/v1", token=api_world.tokens["client_a"])
    assert status == 200
    assert body["you"] == {"role": "runner", "client": CLIENT_A}
    assert body["openapi"].endswith("/api/v1/openapi.json")


@pytest.mark.parametrize("token", [None, "quire_not-a-real-token", "revoked"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_without_a_valid_token_the_api_asks_for_one(api_world, token, method):
    """401 with a Bearer challenge (a known requester without the right gets 403); a POST without any
    credentials is not mistaken for a browser session missing its _xsrf token."""
    secret = api_world.tokens.get(token, token)
    before = run_count(api_world.engine)
    body = {"report": "client", "parameters": {"client": CLIENT_A}} if method == "POST" else None
    status, answer, response = api_world.server.request(method, "/api/v1/runs", token=secret, body=body)
    assert status == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="quire"'
    assert answer["status"] == 401 and "Authorization: Bearer" in answer["error"] and "runs" not in answer
    assert run_count(api_world.engine) == before


def test_an_unknown_api_address_is_a_json_404(api_world):
    for path in ("/api/v1/nothing/here", "/api/v1/runs/%C3%A9t%C3%A9/files", "/api/v1/runs/x/compare/more"):
        status, body, response = api_world.server.get(path, token=api_world.tokens["viewer"])
        assert status == 404 and response.headers["Content-Type"].startswith("application/json"), path
        assert body["status"] == 404 and "GET /api/v1 lists" in body["error"]
    assert api_world.server.get("/api/v1/nothing/here")[0] == 401
    status, body, response = api_world.server.get("/api/v1/schedules/client/pause", token=api_world.tokens["admin"])
    assert status == 405 and response.headers["Allow"] == "POST" and body["status"] == 405


def test_reports_carry_a_json_schema_from_the_parameter_types(api_world):
    status, body, _ = api_world.server.get("/api/v1/reports", token=api_world.tokens["viewer"])
    assert status == 200
    reports = {r["id"]: r for r in body["reports"]}
    assert {"executive", "cohort", "experiment", "client", "alltypes"} <= set(reports)
    props = reports["alltypes"]["parameters"]["properties"]
    assert props["count"] == {**props["count"], "type": "integer", "minimum": 1, "maximum": 10, "default": 3}
    assert props["ratio"]["type"] == "number" and props["ratio"]["maximum"] == 1.0
    assert props["flag"]["type"] == "boolean" and props["flag"]["default"] is False
    assert props["day"]["format"] == "date"
    assert props["period"]["pattern"].startswith("^(latest")
    assert props["mode"]["enum"] == ["a", "b"]
    assert props["brand"]["enum"] == ["harbor", "northwind", "quire"]
    assert CLIENT_A in props["client"]["enum"] and "clearwave-health" not in props["client"]["enum"]  # churned
    assert "pricing-page-layout" in props["experiment"]["enum"]
    # The experiment report's default, "latest", is one of the values its form and schema offer.
    experiment = reports["experiment"]["parameters"]["properties"]["experiment"]
    assert experiment["enum"][0] == "latest" == experiment["default"]
    assert props["text"]["minLength"] == 1
    assert reports["alltypes"]["parameters"]["required"] == ["client"]


def test_a_client_token_sees_only_client_reports_and_its_own_client(api_world):
    status, body, _ = api_world.server.get("/api/v1/reports", token=api_world.tokens["client_a"])
    assert status == 200
    assert {r["id"] for r in body["reports"]} == {"client", "alltypes"}
    client_param = next(r for r in body["reports"] if r["id"] == "client")["parameters"]["properties"]["client"]
    assert client_param["enum"] == [CLIENT_A]
    assert api_world.server.get("/api/v1/reports/executive", token=api_world.tokens["client_a"])[0] == 404


def test_report_detail_has_its_latest_run(api_world):
    status, body, _ = api_world.server.get("/api/v1/reports/client", token=api_world.tokens["viewer"])
    assert status == 200 and body["latest_run"]["report"] == "client"
    assert api_world.server.get("/api/v1/reports/nope", token=api_world.tokens["viewer"])[0] == 404


def test_openapi_document_describes_every_endpoint_and_each_reports_parameters(api_world):
    import jsonschema

    status, doc, _ = api_world.server.get("/api/v1/openapi.json", token=api_world.tokens["viewer"])
    assert status == 200 and doc["openapi"].startswith("3.1")
    assert {"/reports", "/reports/{report_id}", "/runs", "/runs/{run_id}", "/runs/{run_id}/rerun", "/runs/{run_id}/files",
            "/runs/{run_id}/files/{name}", "/runs/{run_id}/compare", "/schedules", "/schedules/{report_id}/pause",
            "/schedules/{report_id}/resume"} == set(doc["paths"])
    schemas = doc["components"]["schemas"]
    # A run request checked against the document's own schema (its $refs resolve inside the document).
    validator = jsonschema.Draft202012Validator({"components": {"schemas": schemas}, **schemas["RunRequest"]})
    validator.validate({"report": "alltypes", "parameters": {"count": 4, "mode": "b", "client": CLIENT_A}})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"report": "alltypes", "parameters": {"count": 40, "client": CLIENT_A}})


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_each_parameter_type_is_validated_with_the_clis_message(api_world, name, tiny_warehouse, monkeypatch):
    before = run_count(api_world.engine)
    status, body, _ = api_world.server.post("/api/v1/runs", {"report": "alltypes",
                                                             "parameters": {**GOOD, name: BAD_VALUES[name]}},
                                            token=api_world.tokens["runner"])
    assert status == 422, body
    assert body["parameter"] == name
    assert run_count(api_world.engine) == before, "a refused request queued a run"
    # The same message `quire run` prints: the same validation code (pipeline.prepare) in this process.
    expected = _prepare_error(api_world, monkeypatch, {**GOOD, name: BAD_VALUES[name]})
    assert body["error"] == expected


def _prepare_error(api_world, monkeypatch, params) -> str:
    from quire.config import get_settings
    from quire.pipeline import prepare

    for key, value in api_world.server.env.items():
        if key.startswith("QUIRE_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(ParameterError) as caught:
            prepare("alltypes", params, get_settings())
    finally:
        get_settings.cache_clear()
    return str(caught.value)


def test_the_cli_prints_the_same_line(api_world):
    from support import run_quire

    result = run_quire(api_world.server.env, "run", "client", "-p", f"client={CLIENT_A}", "-p", "period=2031-01")
    status, body, _ = api_world.server.post("/api/v1/runs", {"report": "client",
                                                             "parameters": {"client": CLIENT_A, "period": "2031-01"}},
                                            token=api_world.tokens["runner"])
    assert result.returncode == 2 and status == 422
    assert body["error"] in result.stderr.replace("\n", "")


def test_unknown_parameter_report_and_malformed_body(api_world):
    token = api_world.tokens["runner"]
    status, body, _ = api_world.server.post("/api/v1/runs", {"report": "client", "parameters": {"perod": "2026-10"}}, token=token)
    assert status == 422 and "did you mean 'period'" in body["error"]
    assert api_world.server.post("/api/v1/runs", {"report": "nope"}, token=token)[0] == 404
    status, body, _ = api_world.server.post("/api/v1/runs", b"{not json", token=token)
    assert status == 422 and "not JSON" in body["error"]
    # A key given twice: JSON parsers keep the last, and the run was queued for the second period without a word.
    for repeated, key in ((b'{"report": "client", "parameters": {"period": "2026-10", "period": "2026-09"}}', "period"),
                          (b'{"report": "client", "report": "executive"}', "report")):
        status, body, _ = api_world.server.post("/api/v1/runs", repeated, token=token)
        assert status == 422 and body["error"] == f"{key!r} is given twice in the request body; give it once", body
    # A misspelt field of the body would otherwise queue the report with its defaults.
    before = run_count(api_world.engine)
    status, body, _ = api_world.server.post("/api/v1/runs", {"report": "client", "parameter": {"client": CLIENT_B}},
                                            token=token)
    assert status == 422 and "unknown field 'parameter'" in body["error"] and "did you mean 'parameters'" in body["error"]
    status, body, _ = api_world.server.post(f"/api/v1/runs/{api_world.runs['a1']}/rerun",
                                            {"report": "executive"}, token=token)
    assert status == 422 and "unknown field 'report'" in body["error"] and "it takes 'parameters'" in body["error"]
    # A value that is no single value (an array, an object, null) is named as JSON calls it; a boolean is read as
    # the command line writes it ("'True' is not a number" spoke Python).
    for value, says in ((["2026-10"], "parameter 'period' is a JSON array; give one value"),
                        ({"m": 10}, "parameter 'period' is a JSON object; give one value"),
                        (None, "parameter 'period' is null; give one value")):
        status, answer, _ = api_world.server.post("/api/v1/runs", {"report": "client", "parameters": {
            "client": CLIENT_A, "period": value}}, token=token)
        assert status == 422 and answer["error"].startswith(says) and answer["parameter"] == "period", answer
    status, answer, _ = api_world.server.post("/api/v1/runs", {"report": "client", "parameters": {
        "client": CLIENT_A, "period": True}}, token=token)
    assert status == 422 and "'true'" in answer["error"] and "True" not in answer["error"], answer
    for body in ({"report": "client", "parameters": None}, {"report": "client", "parameters": ["client"]}):
        status, answer, _ = api_world.server.post("/api/v1/runs", body, token=token)
        assert status == 422 and "'parameters' must be an object" in answer["error"], answer
    # Inputs that raised inside the server (500 and a traceback in its log) are the requester's to fix.
    status, body, _ = api_world.server.post("/api/v1/runs", b"[" * 200_000 + b"]" * 200_000, token=token)
    assert status == 422 and "not JSON" in body["error"]
    for far in ("9999-12", "9999-Q4", "9999"):
        status, body, _ = api_world.server.post("/api/v1/runs", {"report": "client", "parameters": {
            "client": CLIENT_A, "period": far}}, token=token)
        assert status == 422 and body["parameter"] == "period" and "outside the years" in body["error"], body
    assert run_count(api_world.engine) == before
    status, body, _ = api_world.server.get("/api/v1/runs?offset=99999999999999999999", token=token)
    assert status == 200 and body["runs"] == [] and body["total"] > 0
    assert api_world.server.get("/console/runs?offset=99999999999999999999", token=token)[0] == 200


def test_create_queues_a_run_with_resolved_parameters(api_world):
    status, body, _ = api_world.server.post("/api/v1/runs", {"report": "client", "parameters": {"client": CLIENT_B}},
                                            token=api_world.tokens["runner"])
    assert status == 201, body
    assert body["status"] == "queued" and body["trigger"] == "console" and body["client"] == CLIENT_B
    assert body["parameters"] == {"client": CLIENT_B, "period": "2026-10"}  # 'latest' resolved, as quire run does
    assert body["requested_by"] == "token 2 (test runner)"
    assert api_world.server.get(f"/api/v1/runs/{body['run_id']}", token=api_world.tokens["viewer"])[1]["status"] == "queued"
    # The client's own user sees its run, not which internal token asked for it (nor on the run page, nor in lists).
    client_b = api_world.tokens["client_b"]
    status, own, _ = api_world.server.get(f"/api/v1/runs/{body['run_id']}", token=client_b)
    assert status == 200 and own["requested_by"] is None, own
    listed = api_world.server.get(f"/api/v1/runs?client={CLIENT_B}", token=client_b)[1]["runs"]
    assert body["run_id"] in [r["run_id"] for r in listed] and all(r["requested_by"] is None for r in listed)
    page = api_world.server.get(f"/console/runs/{body['run_id']}", token=client_b)[1].decode()
    assert "Requested by" not in page and "test runner" not in page


def test_a_viewer_cannot_create_runs(api_world):
    before = run_count(api_world.engine)
    status, body, _ = api_world.server.post("/api/v1/runs", {"report": "client", "parameters": {"client": CLIENT_A}},
                                            token=api_world.tokens["viewer"])
    assert status == 403 and "runner role" in body["error"]
    assert run_count(api_world.engine) == before


def test_a_client_token_cannot_create_runs_for_another_client(api_world):
    token = api_world.tokens["client_a"]
    before = run_count(api_world.engine)
    for request in ({"report": "client", "parameters": {"client": CLIENT_B}},
                    {"report": "alltypes", "parameters": {"client": CLIENT_B}}):
        status, body, _ = api_world.server.post("/api/v1/runs", request, token=token)
        assert status == 403, (request, body)
        assert CLIENT_A in body["error"]
    # A report not made per client does not exist for it, and the answer names only the client's reports.
    status, body, _ = api_world.server.post("/api/v1/runs", {"report": "executive", "parameters": {}}, token=token)
    assert status == 404 and body["error"] == "unknown report 'executive'; this server has: client, alltypes"
    assert run_count(api_world.engine) == before, "a refused request queued a run"
    status, body, _ = api_world.server.post("/api/v1/runs", {"report": "client", "parameters": {}}, token=token)
    assert status == 201 and body["client"] == CLIENT_A  # its own client is the default


def test_a_client_token_cannot_read_another_clients_runs_or_files(api_world):
    token, other = api_world.tokens["client_a"], api_world.runs["b0"]
    # Another client's run is answered as a run that does not exist: a token cannot tell which ids exist.
    ghost = other.replace(other.split("-")[1], "000000", 1)
    assert ghost != other
    server = api_world.server
    for suffix in ("", "/files", "/files/report.pdf", "/compare"):
        status, body, _ = server.get(f"/api/v1/runs/{other}{suffix}", token=token)
        assert status == 404, suffix
        assert b"%PDF" not in (body if isinstance(body, bytes) else b"")
        ghost_status, ghost_body, _ = server.get(f"/api/v1/runs/{ghost}{suffix}", token=token)
        assert (status, body["error"]) == (ghost_status, ghost_body["error"].replace(ghost, other)), suffix
    assert server.get(f"/api/v1/runs?client={CLIENT_B}", token=token)[0] == 403
    before = run_count(api_world.engine)
    assert server.post(f"/api/v1/runs/{other}/rerun", {}, token=token)[0] == 404
    assert run_count(api_world.engine) == before
    # The same run is there for a token that may see it.
    assert server.get(f"/api/v1/runs/{other}", token=api_world.tokens["viewer"])[0] == 200
    status, body, _ = api_world.server.get("/api/v1/runs?limit=200", token=token)
    assert status == 200 and body["runs"] and {r["client"] for r in body["runs"]} == {CLIENT_A}


def test_runs_list_filters(api_world):
    server, token = api_world.server, api_world.tokens["viewer"]
    assert {r["report"] for r in server.get("/api/v1/runs?report=executive", token=token)[1]["runs"]} == {"executive"}
    assert {r["client"] for r in server.get(f"/api/v1/runs?client={CLIENT_B}", token=token)[1]["runs"]} == {CLIENT_B}
    failed = server.get("/api/v1/runs?status=failed", token=token)[1]
    assert failed["total"] == 1 and failed["runs"][0]["error"].startswith("cell 3 raised")
    by_period = server.get(f"/api/v1/runs?period=2026-09&client={CLIENT_A}", token=token)[1]["runs"]
    assert [r["run_id"] for r in by_period] == [api_world.runs["a1"]]
    window = server.get("/api/v1/runs?since=2026-11-02T06:30&until=2026-11-02T08:30", token=token)[1]["runs"]
    assert [r["run_id"] for r in window] == [api_world.runs["a2"], api_world.runs["a1"]]
    # The same window in Berlin's winter time (UTC+1) and with the UTC sign: converted, not cut off.
    for since, until in (("2026-11-02T07:30%2B01:00", "2026-11-02T09:30%2B01:00"), ("2026-11-02T06:30Z", "2026-11-02T08:30Z")):
        shifted = server.get(f"/api/v1/runs?since={since}&until={until}", token=token)[1]["runs"]
        assert [r["run_id"] for r in shifted] == [r["run_id"] for r in window], since
    page = server.get("/api/v1/runs?limit=2&offset=1", token=token)[1]
    assert len(page["runs"]) == 2 and page["total"] >= 6
    status, body, _ = server.get("/api/v1/runs?status=exploded", token=token)
    assert status == 422 and body["parameter"] == "status"
    assert server.get("/api/v1/runs?since=yesterday", token=token)[0] == 422
    for bad in ("limit=-1", "limit=0", "offset=-5"):  # -1 was read as 1 without a word
        status, body, _ = server.get(f"/api/v1/runs?{bad}", token=token)
        assert status == 422 and "'limit' must be 1 or more" in body["error"], (bad, body)
    assert server.get("/api/v1/runs?limit=100000", token=token)[1]["limit"] == 200  # at most a page
    for odd in ("limit=5_0", "limit=%EF%BC%95", "offset=%D9%A3"):  # 5_0, a full-width 5, an Arabic-Indic 3
        status, body, _ = server.get(f"/api/v1/runs?{odd}", token=token)
        assert status == 422 and "whole numbers" in body["error"], (odd, body)
    # A span back from now, as `quire runs --since 7d` reads it (the API refused it).
    everything = server.get("/api/v1/runs?limit=200", token=token)[1]["total"]
    assert server.get("/api/v1/runs?since=36500d&limit=200", token=token)[1]["total"] == everything
    assert server.get("/api/v1/runs?until=36500d", token=token)[1]["total"] == 0
    status, body, _ = server.get("/api/v1/runs?since=99999999d", token=token)  # before year 1: not a 500
    assert status == 422 and body["error"] == "'since': '99999999d' reaches back before the year 1; use a shorter span or a date"


def test_run_detail_and_files(api_world):
    server, token, run_id = api_world.server, api_world.tokens["client_a"], api_world.runs["a2"]
    status, run, _ = server.get(f"/api/v1/runs/{run_id}", token=token)
    assert status == 200 and run["status"] == "succeeded" and run["timings"]["total"] == 6.5
    # The period reads the same in the list and in the detail, which adds the report's own wording.
    [listed] = [r for r in server.get("/api/v1/runs", token=token)[1]["runs"] if r["run_id"] == run_id]
    assert run["period"] == listed["period"] == run["parameters"]["period"]
    assert run["period_label"] == parse_period(run["period"]).label and run["period_label"] != run["period"]
    assert {f["name"] for f in run["files"]} == {"report.html", "report.pdf", "report.ipynb", "report.xlsx",
                                                 "table-01-figures.csv"}
    assert run["conclusion"] is None  # a report that concludes nothing in words
    status, listing, _ = server.get(f"/api/v1/runs/{run_id}/files", token=token)
    assert status == 200 and len(listing["files"]) == 5
    status, csv, response = server.get(f"/api/v1/runs/{run_id}/files/table-01-figures.csv", token=token)
    assert status == 200 and csv.startswith(b"name,value\nviews,90.0")
    assert "attachment" in response.getheader("Content-Disposition")
    status, pdf, response = server.get(f"/api/v1/runs/{run_id}/files/report.pdf", token=token)
    assert status == 200 and pdf.startswith(b"%PDF") and response.getheader("Content-Type") == "application/pdf"
    status, _, response = server.get(f"/api/v1/runs/{run_id}/files/report.html", token=token)
    assert status == 200 and "sandbox" in response.getheader("Content-Security-Policy")
    for name in ("run.json", "..%2frun.json", "FAILED.txt", "table-99-x.csv"):
        assert server.get(f"/api/v1/runs/{run_id}/files/{name}", token=token)[0] == 404, name
    assert server.get("/api/v1/runs/20990101T000000Z-ffffff", token=token)[0] == 404


def test_failed_run_offers_its_partial_notebook_only_when_kept(api_world):
    status, run, _ = api_world.server.get(f"/api/v1/runs/{api_world.runs['failed']}", token=api_world.tokens["viewer"])
    assert status == 200 and run["status"] == "failed" and run["error_type"] == "ExecutionError"
    assert run["files"] == []


def test_compare_gives_deltas_and_series(api_world):
    status, body, _ = api_world.server.get(f"/api/v1/runs/{api_world.runs['a2']}/compare",
                                           token=api_world.tokens["client_a"])
    assert status == 200
    assert body["previous"]["run_id"] == api_world.runs["a1"]
    views = next(f for f in body["figures"] if f["name"] == "views")
    assert views["value"] == 90.0 and views["previous"] == 120.0 and views["delta"] == -30.0
    assert views["tone"] == "bad" and views["series"] == [100.0, 120.0, 90.0]
    first = api_world.server.get(f"/api/v1/runs/{api_world.runs['a0']}/compare", token=api_world.tokens["viewer"])[1]
    assert first["previous"] is None


def test_rerun_queues_the_same_or_edited_parameters(api_world):
    server, token, source = api_world.server, api_world.tokens["runner"], api_world.runs["a1"]
    status, body, _ = server.post(f"/api/v1/runs/{source}/rerun", {}, token=token)
    assert status == 201 and body["parameters"] == {"client": CLIENT_A, "period": "2026-09"}
    status, body, _ = server.post(f"/api/v1/runs/{source}/rerun", {"parameters": {"period": "2026-Q3"}}, token=token)
    assert status == 201 and body["parameters"]["period"] == "2026-Q3"
    before = run_count(api_world.engine)
    status, body, _ = server.post(f"/api/v1/runs/{source}/rerun", {"parameters": {"period": "someday"}}, token=token)
    assert status == 422 and body["parameter"] == "period" and run_count(api_world.engine) == before


def test_schedules_pause_and_resume_need_admin(api_world):
    server = api_world.server
    status, body, _ = server.get("/api/v1/schedules", token=api_world.tokens["viewer"])
    assert status == 200 and [s["report"] for s in body["schedules"]] == ["client"]
    assert body["schedules"][0]["next_run"] and body["scheduler_active"] is False
    assert server.post("/api/v1/schedules/client/pause", {}, token=api_world.tokens["runner"])[0] == 403
    status, body, _ = server.post("/api/v1/schedules/client/pause", {}, token=api_world.tokens["admin"])
    assert status == 200 and body["paused"] is True and body["next_run"] is None
    assert server.get("/api/v1/schedules", token=api_world.tokens["viewer"])[1]["schedules"][0]["paused"] is True
    # A client's user never learns which token changed a schedule (it may be another client's).
    assert server.get("/api/v1/schedules", token=api_world.tokens["client_b"])[1]["schedules"][0]["changed_by"] is None
    assert server.get("/api/v1/schedules", token=api_world.tokens["viewer"])[1]["schedules"][0]["changed_by"]
    status, body, _ = server.post("/api/v1/schedules/client/resume", {}, token=api_world.tokens["admin"])
    assert status == 200 and body["paused"] is False and body["next_run"]
    # One schedule runs every client's report: even a client's admin may not stop the others'.
    status, body, _ = server.post("/api/v1/schedules/client/pause", {}, token=api_world.tokens["client_a_admin"])
    assert status == 403 and "every client" in body["error"]
    assert server.get("/api/v1/schedules", token=api_world.tokens["viewer"])[1]["schedules"][0]["paused"] is False
    assert server.post("/api/v1/schedules/executive/pause", {}, token=api_world.tokens["admin"])[0] == 404


def test_a_browser_session_must_send_the_xsrf_token(api_world):
    """Cookie-authenticated POSTs without _xsrf are refused (a bearer token needs none: no cookie to forge)."""
    server = api_world.server
    status, _, _, cookies = sign_in(server, "/console/reports/client", SERVER_TOKEN)  # a page with a form
    assert status == 200 and "_xsrf=" in cookies
    before = run_count(api_world.engine)
    status, _, _ = server.post("/api/v1/runs", {"report": "client", "parameters": {"client": CLIENT_A}},
                               headers={"Cookie": cookies})
    assert status == 403 and run_count(api_world.engine) == before
    # A made-up Authorization header beside the cookie does not waive the check (the cookie is what signs in).
    for header in ("Bearer nonsense", "token x"):
        status, _, _ = server.post("/api/v1/runs", {"report": "client", "parameters": {"client": CLIENT_A}},
                                   headers={"Cookie": cookies, "Authorization": header})
        assert status == 403 and run_count(api_world.engine) == before, header
    xsrf = next(c.split("=", 1)[1] for c in cookies.split("; ") if c.startswith("_xsrf="))
    status, body, _ = server.post("/api/v1/runs", {"report": "client", "parameters": {"client": CLIENT_A}},
                                  headers={"Cookie": cookies, "X-XSRFToken": xsrf})
    assert status == 201, body


def test_a_client_token_in_the_browser_gets_its_brand_its_runs_and_its_app_only(api_world, tiny_warehouse):
    from quire.brand import load_brand
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    server = api_world.server
    status, _, _, cookie = sign_in(server, "/console/", api_world.tokens["client_a"])
    assert status == 200
    with connection(tiny_warehouse) as conn:
        brand = load_brand(str(queries.client_by_slug(conn, CLIENT_A)["brand"]))
    assert server.get("/console/brand.css", headers={"Cookie": cookie})[1].decode() == brand.css_variables()
    status, page, _ = server.get("/console/runs", headers={"Cookie": cookie})
    assert status == 200 and CLIENT_A.encode() in page and CLIENT_B.encode() not in page
    assert server.get(f"/console/runs/{api_world.runs['b0']}", headers={"Cookie": cookie})[0] == 404
    assert server.get(f"/console/runs/{api_world.runs['b0']}/files/report.pdf", headers={"Cookie": cookie})[0] == 404
    assert server.get("/voila/render/executive.ipynb", headers={"Cookie": cookie})[0] == 403
    status, landing, _ = server.get("/", headers={"Cookie": cookie})
    assert status == 200 and landing.count(b"voila/render/") == 1 and b"voila/render/client.ipynb" in landing
    # Only the reports made per client are listed: not even the titles of the others.
    assert b'data-report="client"' in landing and b'data-report="executive"' not in landing
    assert b"Executive report" not in landing and b"Cohort report" not in landing
    # Revoked: the signed-in browser is out within seconds (the token is looked up again).
    from quire.state import tokens

    row = next(t for t in tokens.listing(api_world.engine) if t["name"] == "test client_a")
    tokens.revoke(api_world.engine, row["id"])
    try:
        from console_support import wait_for

        wait_for(lambda: server.get("/console/runs", headers={"Cookie": cookie})[0] in (302, 403), timeout=15,
                 message="the revoked token's session to end")
    finally:
        from quire.state.schema import tokens as table

        with api_world.engine.begin() as conn:  # later tests use this token again
            conn.execute(table.update().where(table.c.id == row["id"]).values(revoked_at=None))
        # The server remembers a token's state for a few seconds: later tests find it valid only once it looked again.
        wait_for(lambda: server.get("/console/runs", headers={"Cookie": cookie})[0] == 200, timeout=15,
                 message="the token to be valid again")


def test_compare_follows_the_periods_not_the_order_runs_were_made(tmp_path):
    """September re-run after November is compared with the first September run (never November);
    November with the newest September; a period's first run with the period before."""
    from datetime import datetime, timedelta

    from console_support import publish_run

    from quire.console import compare
    from quire.console.access import Access
    from quire.console.runs import view
    from quire.state import open_state
    from quire.state import runs as history

    engine, outputs, start = open_state(f"sqlite:///{tmp_path / 's.db'}"), tmp_path / "outputs", datetime(2026, 12, 1, 8)
    admin = Access("admin")
    made = {}
    for k, (period, views) in enumerate([("2026-08", 100.0), ("2026-09", 120.0), ("2026-11", 90.0), ("2026-Q3", 7.0),
                                         ("2026-09", 130.0)]):
        made[k] = publish_run(engine, outputs, report="client", client=CLIENT_A, period=period,
                              figures={"views": views}, created=start + timedelta(hours=k))

    def series(run_id):
        previous, figures = compare.compare(engine, outputs, view(history.get(engine, run_id), outputs, admin), admin)
        return previous and previous.id, next(f.series for f in figures if f.name == "views")

    assert series(made[4]) == (made[1], [100.0, 120.0, 130.0])  # September again: what the re-run changed
    assert series(made[1]) == (made[0], [100.0, 120.0])
    assert series(made[2]) == (made[4], [100.0, 130.0, 90.0])  # November: the newest September run
    assert series(made[0]) == (None, [100.0])
    assert series(made[3]) == (None, [7.0])  # a quarter is compared with quarters only



def test_two_clients_whose_names_read_the_same_are_told_apart_by_their_slugs(tiny_warehouse, tmp_path):
    """Riverton's name is set to Fairdale's with a zero-width space: every page that names a client shows the slug
    beside a name that reads like another's (the runs table, the run's title, the filter), and no other name."""
    import re
    from datetime import datetime, timedelta

    from console_support import console_env, publish_run, start_serve, stop
    from markupsafe import escape
    from support import warehouse_copy

    from quire.state import open_state, tokens
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(tiny_warehouse) as conn:
        name = str(queries.client_by_slug(conn, CLIENT_A)["name"])
        clients = queries.clients(conn)
    third = clients[~clients["slug"].isin([CLIENT_A, CLIENT_B]) & (clients["status"] == "active")].iloc[0]
    lookalike = name[:2] + "\u200b" + name[2:]
    with warehouse_copy(tiny_warehouse, tmp_path / "lookalike.duckdb") as con:
        con.execute("UPDATE clients SET name = ? WHERE slug = ?", [lookalike, CLIENT_B])
    env = console_env(f"duckdb:///{tmp_path / 'lookalike.duckdb'}", tmp_path)
    engine = open_state(env["QUIRE_STATE_URL"])
    _, admin = tokens.create(engine, role="admin", client=None, name="test admin")
    created = datetime(2026, 11, 2, 6, 0)
    run_a = publish_run(engine, tmp_path / "outputs", report="client", client=CLIENT_A, period="2026-10",
                        figures={"views": 1.0}, created=created)
    for k, slug in enumerate([CLIENT_B, third["slug"]], start=1):
        publish_run(engine, tmp_path / "outputs", report="client", client=slug, period="2026-10",
                    figures={"views": 2.0}, created=created + timedelta(hours=k))

    def shown(text: str) -> str:  # as the pages write it
        return str(escape(text))

    server = start_serve(env, tmp_path / "serve.log")
    try:
        status, page, _ = server.get("/console/runs", token=admin)
        assert status == 200
        text = page.decode()
        cells = re.findall(r"<td>([^<]*\([a-z-]+\))</td>", text)
        assert sorted(cells) == sorted([shown(f"{name} ({CLIENT_A})"), shown(f"{lookalike} ({CLIENT_B})")])
        assert f"<td>{shown(third['name'])}</td>" in text  # a name that reads like no other stays as it is
        assert f'<option value="{CLIENT_A}">{shown(name)} ({CLIENT_A})</option>' in text  # the filter, as the run form
        status, page, _ = server.get(f"/console/runs/{run_a}", token=admin)
        assert status == 200 and f"<h1>Client report — {shown(name)} ({CLIENT_A})" in page.decode()
        assert f"<dd>{shown(name)} ({CLIENT_A})</dd>" in page.decode()  # the slug once, not twice
    finally:
        stop(server.process)


def test_a_clients_slug_is_shown_only_where_its_name_reads_like_anothers():
    from quire.console.reports import Options

    options = Options(clients=(("a", "Acme Ltd"), ("b", "Acme  Ltd"), ("c", "Ａcme Ltd"), ("d", "Acme\u2060 Ltd"),
                               ("e", "Acme Ltd."), ("f", "acme ltd"), ("g", "Bolt")))
    assert options.client_labels == {"a": "Acme Ltd (a)", "b": "Acme  Ltd (b)", "c": "Ａcme Ltd (c)",
                                     "d": "Acme\u2060 Ltd (d)", "e": "Acme Ltd.", "f": "acme ltd", "g": "Bolt"}


def test_a_runs_conclusion_in_words_is_in_its_detail_and_on_its_page(api_world):
    server, token, run_id = api_world.server, api_world.tokens["admin"], api_world.runs["exec"]
    status, run, _ = server.get(f"/api/v1/runs/{run_id}", token=token)
    assert status == 200 and run["conclusion"] == CONCLUSION
    status, page, _ = server.get(f"/console/runs/{run_id}", token=token)
    assert status == 200
    assert '<p class="c-conclusion">Verdict: ship &lt;b&gt;B&lt;/b&gt; &amp; keep watching refunds.</p>' in page.decode()


@pytest.mark.parametrize("form, says", [
    ("client={a}&period=2026-10&bogus=1", "unknown parameter 'bogus'"),
    ("client={a}&period=2026-10&period=2026-09", "parameter 'period' was given 2 times"),
])
def test_the_run_form_refuses_what_the_api_refuses(api_world, form, says):
    """An unknown field was dropped and a repeated one took its last value: the run was queued all the same."""
    server = api_world.server
    status, _, _, cookies = sign_in(server, "/console/reports/client", SERVER_TOKEN)
    xsrf = next(c.split("=", 1)[1] for c in cookies.split("; ") if c.startswith("_xsrf="))
    before = run_count(api_world.engine)
    status, page, _ = server.post("/console/reports/client", f"_xsrf={xsrf}&" + form.format(a=CLIENT_A),
                                  headers={"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 422 and says in html.unescape(page.decode()), page[:300]
    assert run_count(api_world.engine) == before


def test_the_run_form_is_filled_in_from_a_run_of_its_own_report_only(api_world):
    """"/console/reports/executive?from=<a client's run>" filled the executive form from the client report's run."""
    token = api_world.tokens["runner"]
    status, page, _ = api_world.server.get(f"/console/reports/client?from={api_world.runs['a1']}", token=token)
    assert status == 200 and f"from run {api_world.runs['a1']}" in page.decode()
    status, _, _ = api_world.server.get(f"/console/reports/executive?from={api_world.runs['a1']}", token=token)
    assert status == 404


@pytest.mark.parametrize("period", ["2026-99", "' OR 1=1--", "latest"])
def test_a_history_filter_on_no_period_says_so_rather_than_listing_nothing(api_world, period):
    """"period=2026-99" gave 200 and an empty list, on the page and in the API."""
    from urllib.parse import quote

    token = api_world.tokens["viewer"]
    status, body, _ = api_world.server.get(f"/api/v1/runs?period={quote(period)}", token=token)
    assert status == 422 and body["parameter"] == "period", body
    status, page, _ = api_world.server.get(f"/console/runs?period={quote(period)}", token=token)
    assert status == 422 and "period" in html.unescape(page.decode())
    status, body, _ = api_world.server.get("/api/v1/runs?period=2026-Q3", token=token)  # a real period still lists
    assert status == 200


def test_a_history_query_parameter_misspelt_or_given_twice_is_refused_not_dropped(api_world):
    """"stauts=failed" answered 200 with every run, as if the filter held; "limit=1&limit=2" took the last."""
    server, token = api_world.server, api_world.tokens["viewer"]
    status, body, _ = server.get("/api/v1/runs?stauts=failed", token=token)
    assert status == 422 and body["error"] == ("unknown query parameter 'stauts'; did you mean 'status'? it takes "
                                               "report, client, status, period, since, until, limit, offset"), body
    status, page, _ = server.get("/console/runs?stauts=failed", token=token)
    assert status == 422 and "unknown query parameter 'stauts'; did you mean 'status'?" in html.unescape(page.decode())
    status, body, _ = server.get("/api/v1/runs?limit=1&limit=2", token=token)
    assert status == 422 and body["error"] == "query parameter 'limit' is given 2 times; give it once", body
    status, body, _ = server.get(f"/api/v1/runs?status=failed&token={token}")  # the server's sign-in is no filter
    assert status == 200 and body["total"] == 1, body


def test_the_run_forms_offer_no_client_or_experiment_without_a_slug_or_key(tiny_warehouse, tmp_path, settings_for):
    # A row without one was offered as "nan", which the run then refused as unknown; a client without a name
    # was offered as "nan" too, and its report would have been addressed to "nan".
    from support import rebuild_table, warehouse_copy

    from quire.apps.client import ClientApp
    from quire.apps.experiment import ExperimentApp
    from quire.console.reports import ReportCatalog

    with warehouse_copy(tiny_warehouse, tmp_path / "keyless.duckdb") as con:
        for table in ("clients", "experiments"):  # without their NOT NULL, as a view may be
            rebuild_table(con, table)
        con.execute("UPDATE clients SET slug = NULL WHERE slug = 'riverton-realty'")
        con.execute("UPDATE clients SET name = NULL WHERE slug = 'vectorwave-systems'")
        con.execute("UPDATE experiments SET key = NULL WHERE experiment_id = (SELECT min(experiment_id) FROM experiments)")
    url = f"duckdb:///{tmp_path / 'keyless.duckdb'}"
    options = ReportCatalog(settings_for({"QUIRE_WAREHOUSE_URL": url, "QUIRE_OUTPUTS": str(tmp_path / "out")}))._read_options()
    assert options.error is None and options.clients and options.experiments, options
    assert all(isinstance(slug, str) and slug != "nan" for slug, _ in options.clients), options.clients
    assert "vectorwave-systems" not in dict(options.clients) and "nan" not in dict(options.clients).values()
    assert all(isinstance(key, str) and key != "nan" for key, _ in options.experiments), options.experiments
    offered = ExperimentApp(url).allowed["experiment"]
    assert offered and all(isinstance(key, str) for key in offered), offered
    offered = ClientApp(url).allowed["client"]
    assert offered and all(isinstance(slug, str) for slug in offered), offered


def test_a_run_of_a_report_added_while_the_server_runs_is_found(api_world):
    # The server kept the report list it started with: a run of a report added to the catalog since was queued
    # (and ran), but the API answered 404 "no run", as did its pages, until a restart; a script asked again.
    from console_support import HERE

    catalog = api_world.outputs.parent / "home" / "reports.yaml"
    before = catalog.read_text(encoding="utf-8")
    added = (HERE / "project" / "alltypes.yaml").read_text(encoding="utf-8").replace("alltypes:", "latecomer:", 1)
    catalog.write_text(before + "\n" + added, encoding="utf-8")
    try:
        status, body, _ = api_world.server.post("/api/v1/runs", {"report": "latecomer", "parameters": {"client": CLIENT_A}},
                                                token=api_world.tokens["runner"])
        assert status == 201 and body["report"] == "latecomer", body
        run = body["run_id"]
        assert api_world.server.get(f"/api/v1/runs/{run}", token=api_world.tokens["viewer"])[0] == 200
        assert api_world.server.get(f"/console/runs/{run}", token=api_world.tokens["viewer"])[0] == 200
    finally:
        catalog.write_text(before, encoding="utf-8")


def test_a_run_page_says_what_a_missing_scheduler_means_for_the_run(api_world):
    # A running run whose scheduler was killed read "the run starts when quire scheduler runs", as a queued one does.
    from quire.state import queue, runs

    running = runs.create(api_world.engine, report="executive", parameters={"period": "2026-10"}, trigger="schedule")
    runs.mark_running(api_world.engine, running)
    queued = queue.enqueue(api_world.engine, report="executive", parameters={"period": "2026-10"}, client=None,
                           requested_by="test")
    pages = {run: html.unescape(api_world.server.get(f"/console/runs/{run}", token=api_world.tokens["viewer"])[1]
                                .decode()) for run in (running, queued)}
    assert "the one running this run has stopped" in pages[running] and "the run starts when" not in pages[running]
    assert "the run starts when" in pages[queued] and "has stopped" not in pages[queued]
