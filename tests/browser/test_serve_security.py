"""What ``quire serve`` refuses: requests without the token, paths outside the published runs, code from the browser."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import unquote, urlsplit
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from browser_support import ARTIFACTS, DAY, RUNS, TRAPS, open_app, settled_log, start_server, stop_server
from support import run_quire

EXECUTIVE_RUN = f"executive/{DAY}/{RUNS[0][1]}"


@pytest.mark.parametrize("path", ["/", "/voila/render/executive.ipynb", f"/archive/{EXECUTIVE_RUN}/report.html",
                                  "/api/kernels/6f1f2b4e-0000-4000-8000-000000000000", "/?token=wrong-token"])
def test_a_request_without_the_token_is_refused(server, path):
    response = server.get(path, token=False)
    assert response.status in (302, 403), f"{path} answered {response.status} without a token"
    if response.status == 302:
        assert "/login" in response.getheader("Location")
    assert b"Executive" not in response.body and b"report.html" not in response.body


def test_the_sign_in_page_is_quires_and_its_token_signs_in(server, page):
    # It was jupyter_server's page: "jupyter server list", localhost:8888 and "Setup a Password".
    page.goto(server.url("/", token=False))
    assert "/login" in page.url and page.title() == "Sign in"
    text = page.inner_text("body")
    for foreign in ("jupyter server list", "8888", "Setup a Password", "enable a password"):
        assert foreign not in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "login.png"))  # for people to look at
    page.fill("#password_input", "not-the-token")
    page.click("#login_submit")
    assert "/login" in page.url  # refused, still on the page
    page.fill("#password_input", server.token)
    page.click("#login_submit")
    page.wait_for_url(server.base + "/")
    assert "Executive" in page.inner_text("body") and not page.external_requests


@pytest.mark.parametrize("path", ["/", "/console/", "/console/runs?report=executive"])
def test_a_token_in_a_page_address_signs_in_and_leaves_the_address(server, path):
    """The start line's link carries ?token=: it stayed in the address bar and the history of the landing page and
    the console (app pages already dropped it)."""
    response = server.get(path + ("&" if "?" in path else "?") + f"token={server.token}", token=False)
    assert response.status == 302 and response.getheader("Location") == path, response.getheader("Location")
    assert "token=" not in response.getheader("Location") and response.getheader("Set-Cookie")


def test_a_mistyped_token_still_leads_to_the_page_that_was_asked_for(server, browser):
    # Each refused attempt encoded the address once more (%252F…): the right token then landed on "/".
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url("/voila/render/cohort.ipynb", token=False), wait_until="commit")
        for _ in range(2):
            page.fill("#password_input", "not-the-token")
            page.click("#login_submit")
            assert "/login" in page.url and "%25" not in page.url, page.url
        page.fill("#password_input", server.token)
        page.click("#login_submit")
        page.wait_for_url(server.base + "/voila/render/cohort.ipynb**", wait_until="commit")
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/?token=", "/voila/render/cohort.ipynb?token=", "/console/runs?report=executive&token="])
def test_a_mistyped_token_does_not_follow_the_visitor_to_the_sign_in_page(server, path):
    """A link whose token is wrong (a near-miss of the secret: a truncated paste, an old token) led to the sign-in
    page with the whole address, token included, in its own address and form: the history kept it."""
    near_miss = server.token[:-1]
    response = server.get(path + near_miss, token=False)
    assert response.status == 302
    login = response.getheader("Location")
    assert "/login" in login and near_miss not in login and "token" not in login.split("next=", 1)[1], login
    followed = server.get(_local(login), token=False)
    if followed.status == 302:  # the sign-in page sends itself to the same page without the token
        login = followed.getheader("Location")
        followed = server.get(_local(login), token=False)
    assert followed.status == 200 and near_miss.encode() not in followed.body and b"token%3D" not in followed.body
    assert path.split("?")[0] in unquote(login)  # still leads back to the page asked for


def _local(location: str) -> str:
    """A redirect's target as a path and query, whether the server gave it absolute or not."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.mark.parametrize("path", [
    "/archive/../outputs/.quire/state.sqlite",
    "/archive/.quire/state.sqlite",
    "/archive/%2e%2e/%2e%2e/etc/passwd",
    "/archive/..%2f..%2fetc%2fpasswd",
    "/archive/%252e%252e%252f.quire/state.sqlite",
    f"/archive/executive/{DAY}/..%2f..%2f.quire/state.sqlite",
    f"/archive/executive/{DAY}/{RUNS[0][1]}/../../../.quire/state.sqlite",
    f"/archive/{EXECUTIVE_RUN}/report.ipynb",      # the executed notebook is the audit trail, not for stakeholders
    f"/archive/{EXECUTIVE_RUN}/run.json",
    f"/archive/{EXECUTIVE_RUN}/",
    "/archive/executive/",
    "/archive//etc/passwd",
    "/archive/%2Fetc%2Fpasswd",
    "/voila/render/../executive.ipynb",
    "/voila/render/%2e%2e/executive.ipynb",
    "/voila/render/executive.ipynb/..%2f..%2freports.yaml",
])
def test_paths_outside_the_published_runs_are_refused(server, path):
    response = server.get(path)
    assert response.status in (403, 404), f"{path} answered {response.status}"
    assert b"secret state" not in response.body and b"root:" not in response.body


SECRETS = (b"secret state", b"secret warehouse", b"Riverton", b"failed")


def _refused(response, path: str) -> None:
    assert response.status == 404, f"{path} answered {response.status}"
    assert not any(secret in response.body for secret in SECRETS), f"{path} leaked {response.body[:80]!r}"


@pytest.mark.parametrize("path", [
    f"executive/{DAY}/{TRAPS['warehouse']}/report.pdf",      # -> outputs/.quire/warehouse.duckdb
    f"executive/{DAY}/{TRAPS['warehouse']}/report.html",     # -> outputs/.quire/state.sqlite
    f"client/{DAY}/{TRAPS['other-report']}/report.html",     # -> another client's report
    f"client/{DAY}/{TRAPS['other-folder']}/report.html",     # the run folder is a link
    f"client/{DAY}/{TRAPS['linked-record']}/report.html",    # its run.json is a link
    f"executive/{DAY}/{TRAPS['fifo']}/report.pdf",           # not a regular file (and must not hang the server)
    f"executive/{DAY}/{TRAPS['failed']}/report.html",        # not a succeeded run
])
def test_the_archive_follows_no_link_and_serves_only_published_regular_files(server, path):
    _refused(server.get(f"/archive/{path}"), path)


@pytest.mark.parametrize("trap", ["other-report", "other-folder", "linked-record"])
def test_client_mode_serves_no_other_clients_report_through_a_link(client_server, trap):
    path = f"/archive/client/{DAY}/{TRAPS[trap]}/report.html"
    _refused(client_server.get(path), path)
    own = client_server.get(f"/archive/client/{DAY}/{RUNS[2][1]}/report.html")
    assert own.status == 200  # its own report
    assert own.getheader("Cache-Control") == "private, max-age=60"  # no shared cache keeps one client's report


def test_head_answers_as_get_does_without_the_body(client_server):
    # A link checker or `curl -I` asks with HEAD (it was 405); what it may not GET, it may not HEAD either.
    path = f"/archive/client/{DAY}/{RUNS[2][1]}/report.pdf"
    got, head = client_server.get(path), client_server.get(path, method="HEAD")
    assert head.status == 200 and head.body == b"", head.status
    assert head.getheader("Content-Length") == str(len(got.body)) and len(got.body) > 0
    for name in ("Content-Type", "Cache-Control", "X-Content-Type-Options"):
        assert head.getheader(name) == got.getheader(name), name
    refused = f"/archive/client/{DAY}/{TRAPS['other-report']}/report.html"
    assert client_server.get(refused, method="HEAD").status == 404
    assert client_server.get(path, token=False, method="HEAD").status in (302, 403)


@pytest.mark.parametrize("fixture", ["server", "client_server"])
def test_the_landing_page_lists_no_run_the_archive_would_refuse(request, fixture):
    srv = request.getfixturevalue(fixture)
    body = srv.get("/").body.decode()
    assert not [name for name, run_id in TRAPS.items() if run_id in body]
    listed = [run_id for _, run_id, slug, _, _ in RUNS if run_id in body]
    assert listed == ([r[1] for r in RUNS] if fixture == "server" else [RUNS[2][1]])


@pytest.mark.parametrize("junk", ["%0A", "%0D%0A", "%0D", "%09", "%00", "%0B", "%0C", "%1F", "%7F", "%20", "%C2%85",
                                  "%E2%80%A8", ".", "%2F", "/", "/.", "%3B", ";x", "~"])
def test_junk_after_a_report_name_is_404(server, junk):
    path = f"/archive/{EXECUTIVE_RUN}/report.html{junk}"
    response = server.get(path)
    assert response.status == 404, f"{path} answered {response.status}"


#: Paths of the template and static handlers that answered 500 with a traceback logged (or 403 for a missing file).
VOILA_PATHS = [
    "/voila/templates/", "/voila/templates/lab", "/voila/templates/lab/", "/voila/templates/lab/index.html.j2",
    "/voila/templates/lab/static/", "/voila/templates/lab/static", "/voila/templates/nosuch/x",
    "/voila/templates/nosuch/static/x", "/voila/templates/lab/nbextensions/x", "/voila/templates/lab/static/nosuch.css",
    "/voila/templates/lab/static/../../../../../../etc/passwd", "/voila/templates/lab/static/..%2f..%2fbase/404.html",
    "/voila/templates/..%2f..%2f..%2fetc%2fpasswd", "/voila/static/nosuch.js", "/voila/static/../../../etc/passwd",
    "/voila/static/", "/voila/api/themes/nosuch", "/quire/report/..%2freport.css", "/quire/static/nosuch.css",
]


@pytest.mark.parametrize("path", VOILA_PATHS)
def test_voila_template_and_static_paths_that_do_not_exist_are_404(server, path):
    response = server.get(path)
    assert response.status == 404, f"{path} answered {response.status}"
    assert b"root:" not in response.body


def test_no_websocket_hands_out_request_info_without_the_token(server):
    # Voilà's /voila/query/<kernel id> websocket is unauthenticated: it gave a preheated kernel's
    # viewer's request to whoever connected with that kernel's id. Quire's apps never ask for it.
    from tornado.httpclient import HTTPClientError
    from tornado.websocket import websocket_connect

    async def connect() -> None:
        ws = await websocket_connect(f"ws://{server.host}:{server.port}/voila/query/{uuid.uuid4()}")
        ws.close()

    # Playwright's sync API may own this thread's event loop: the client runs in a thread of its own.
    with ThreadPoolExecutor(1) as pool, pytest.raises(HTTPClientError) as refused:
        pool.submit(asyncio.run, connect()).result(timeout=30)
    assert refused.value.code == 404


def test_probing_voila_paths_logs_no_traceback_and_logout_works(server):
    before = len(settled_log(server))
    for path in VOILA_PATHS + ["/api/kernels/6f1f2b4e-0000-4000-8000-000000000000", "/voila/render/nosuch.ipynb"]:
        assert server.get(path).status == 404, path
    assert server.get("/logout").status == 200  # jupyter_server's page needed a static_path this server lacks: 500
    logged = settled_log(server)[before:]
    assert "Traceback" not in logged and "Uncaught exception" not in logged, logged[-3000:]
    assert server.get("/").status == 200  # logging out without the cookie changes nothing for a token request


def test_the_token_is_never_written_to_the_log(server):
    # Requests whose URL carries the token and which tornado logs: 404s, a 403, a login, a wrong token.
    for path in ["/nosuch", f"/archive/{EXECUTIVE_RUN}/report.ipynb", "/voila/files/x", "/voila/templates/lab/",
                 "/login", "/voila/render/nosuch.ipynb"]:
        server.get(path)
    server.get("/?token=not-the-token", token=False)
    text = settled_log(server)
    assert server.token not in text
    assert "token=[secret]" in text  # the requests are logged, their token is not
    assert "not-the-token" not in text
    assert "Quire apps (internal mode) at http://127.0.0.1:" in text


def test_kernels_do_not_inherit_the_token(server):
    import psutil

    kernels = [p for p in psutil.Process(server.process.pid).children(recursive=True)
               if "ipykernel" in " ".join(p.cmdline())]
    assert kernels, "the server's preheated kernels were not found"
    for kernel in kernels:
        assert server.token.encode() not in open(f"/proc/{kernel.pid}/environ", "rb").read()


def test_a_generated_token_goes_to_a_private_file_not_the_log(serve_env, tmp_path):
    import stat

    outputs = tmp_path / "outputs"
    outputs.mkdir()
    srv = start_server(serve_env, outputs, tmp_path / "serve.log", "--no-preheat", pools=0, token=None)
    try:
        token_file = outputs / ".quire" / f"serve-{srv.port}.token"
        token = token_file.read_text().strip()
        assert len(token) >= 24 and stat.S_IMODE(token_file.stat().st_mode) == 0o600
        srv.token = token
        assert srv.get("/").status == 200 and srv.get("/", token=False).status == 302
        text = settled_log(srv)
        assert token not in text and f"the token is in {token_file}" in text

        # A second server on the same port is refused before it writes anything: the running one's token stays.
        env = {**serve_env, "QUIRE_OUTPUTS": str(outputs)}
        second = run_quire(env, "serve", "--port", str(srv.port), "--no-preheat", timeout=60)
        assert second.returncode == 2 and f"port {srv.port} is in use" in second.stderr, second.stderr
        assert "Traceback" not in second.stderr and token_file.read_text().strip() == token
        assert srv.get("/").status == 200
    finally:
        stop_server(srv)


def test_a_published_report_is_served(server):
    response = server.get(f"/archive/{EXECUTIVE_RUN}/report.pdf")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/pdf"
    assert response.body.startswith(b"%PDF")


def _message(msg_type: str, content: dict) -> str:
    header = {"msg_id": uuid.uuid4().hex, "username": "test", "session": uuid.uuid4().hex, "msg_type": msg_type,
              "version": "5.3", "date": datetime.now(timezone.utc).isoformat()}
    return json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content,
                       "channel": "shell", "buffers": []})


async def _received(ws, wait: float):
    """The JSON messages a kernel's websocket sends, as they come, for at most ``wait`` seconds (the caller stops
    reading once it has what it waits for)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while loop.time() < deadline:
        raw = await asyncio.wait_for(ws.read_message(), timeout=max(0.1, deadline - loop.time()))
        if raw is None:
            return
        if isinstance(raw, str):
            yield json.loads(raw)


def _app_kernel_socket(server, page, name: str) -> str:
    """The websocket address of the kernel behind the executive app, opened in ``page``, with the server's token."""
    page.goto(server.url("/"))
    open_app(page, server.url("/voila/render/executive.ipynb", token=False), name)
    kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    return f"ws://{server.host}:{server.port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}&token={server.token}"


async def _probe(url: str, code: str, wait: float = 15.0) -> list[str]:
    """Send execute_request then kernel_info_request on the kernel's websocket; the reply types received."""
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(url)
    try:
        await ws.write_message(_message("execute_request", {
            "code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False,
            "stop_on_error": True}))
        await ws.write_message(_message("kernel_info_request", {}))
        seen: list[str] = []
        async for message in _received(ws, wait):
            seen.append(message["header"]["msg_type"])
            if "kernel_info_reply" in seen:
                break
        # Shell messages are handled in order: had the execute_request reached the kernel, its reply would be in.
        await asyncio.sleep(1.0)
        return seen
    finally:
        ws.close()


def test_execute_request_from_the_browser_does_not_run(server, page, tmp_path):
    url = _app_kernel_socket(server, page, "executive-ws")
    marker = tmp_path / "ran.txt"
    # Playwright's sync API owns this thread's event loop: the websocket client runs in a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, _probe(url, f"open({str(marker)!r}, 'w').write('code ran')")).result(timeout=60)
    assert "kernel_info_reply" in seen, f"the websocket did not answer at all: {seen}"
    assert "execute_reply" not in seen and "execute_input" not in seen
    assert not marker.exists(), "an execute_request sent over the websocket ran code in the kernel"


async def _crafted_widget_messages(url: str, wait: float = 30.0) -> list[str]:
    """Send widget messages no page would send (a widget of an unknown model, one of junk state, a message to
    a widget that does not exist); the text of every stream and error message the kernel sends back, until
    it has reported on each (bounded by ``wait``)."""
    from tornado.websocket import websocket_connect

    opens = [{"state": {"_model_name": "NoSuchModel", "_model_module": "@jupyter-widgets/controls",
                        "_model_module_version": "2.0.0"}, "buffer_paths": []},
             {"state": "junk", "buffer_paths": []}]
    ws = await websocket_connect(url)
    try:
        for data in opens:
            message = json.loads(_message("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget",
                                                         "data": data}))
            message["metadata"] = {"version": "2.1.0"}  # the widget protocol's: otherwise refused before the state
            await ws.write_message(json.dumps(message))
        await ws.write_message(_message("comm_msg", {"comm_id": uuid.uuid4().hex,
                                                     "data": {"method": "update", "state": {"index": 1}}}))
        texts: list[str] = []
        async for message in _received(ws, wait):
            if message["header"]["msg_type"] in ("stream", "error"):
                content = message["content"]
                texts.append(content.get("text") or "\n".join(content.get("traceback", [])))
            # Each refused message is reported once, as it is handled: the two opens, then the unknown widget.
            if sum("comm" in t for t in texts) >= 3:
                break
        return texts
    finally:
        ws.close()


def test_a_crafted_widget_message_gets_no_traceback_back(server, page):
    # The kernel reported each with its traceback, on the page's own stream: the server's paths, files and versions.
    url = _app_kernel_socket(server, page, "executive-comm")
    with ThreadPoolExecutor(1) as pool:
        texts = pool.submit(asyncio.run, _crafted_widget_messages(url)).result(timeout=90)
    said = "".join(texts)
    assert said.count("Exception opening comm") == 2 and "No such comm" in said, said
    assert "Traceback" not in said and "File \"" not in said and "site-packages" not in said, said
