"""What ``quire serve`` sends and refuses: a CSP on every page (Voilà's too), cookie flags, --base-url, --no-auth,
and a closed app page that frees its kernel at once."""

from __future__ import annotations

import os

import pytest
from console_support import console_env
from console_support import ARTIFACTS, SERVER_TOKEN, sign_in, start_serve, stop, wait_for

PAGES = ["/", "/login", "/console/", "/console/runs", "/console/reports/client", "/console/schedules",
         "/console/runs/20990101T000000Z-ffffff", "/voila/render/nope.ipynb", "/api/v1/reports"]


@pytest.fixture(scope="module")
def prefixed(tiny_warehouse, tmp_path_factory):
    """A server under a path prefix, as behind a reverse proxy (``--base-url /reports/``)."""
    base = tmp_path_factory.mktemp("console-prefix")
    server = start_serve(console_env(tiny_warehouse, base), base / "serve.log", prefix="/reports/")
    yield server
    stop(server.process)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_a_content_security_policy(api_world, path):
    # The login page is what a visitor without a token gets; every other page with the token.
    status, _, response = api_world.server.get(path, token=None if path == "/login" else SERVER_TOKEN)
    csp = response.getheader("Content-Security-Policy") or ""
    assert status in (200, 404), (path, status)
    assert "default-src 'none'" in csp or "default-src 'self'" in csp, (path, csp)
    assert "frame-ancestors" in csp and "*" not in csp.replace("'", "")
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_console_pages_allow_no_inline_script(api_world):
    _, _, response = api_world.server.get("/console/", token=SERVER_TOKEN)
    csp = response.getheader("Content-Security-Policy")
    assert "script-src 'self';" in csp and "unsafe" not in csp


def test_cookies_are_httponly_and_samesite(api_world):
    _, _, signed_in = api_world.server.get(f"/console/reports/client?token={SERVER_TOKEN}")  # a link's redirect
    cookies = {c.split("=", 1)[0]: c.lower() for c in signed_in.headers.get_all("Set-Cookie")}
    _, _, page = api_world.server.get("/console/reports/client", headers={"Cookie": "; ".join(
        c.split(";", 1)[0] for c in signed_in.headers.get_all("Set-Cookie"))})
    cookies |= {c.split("=", 1)[0]: c.lower() for c in page.headers.get_all("Set-Cookie") or []}
    login = next(v for k, v in cookies.items() if k.startswith("username-"))
    assert "httponly" in login and "samesite=lax" in login
    # The _xsrf cookie is read by the page's own script (double submit), so it cannot be HttpOnly; SameSite it is.
    assert "samesite=lax" in cookies["_xsrf"]


def test_the_server_tokens_link_signs_in_the_operator_over_a_client_tokens_cookie(api_world):
    # A browser signed in with a client's token, then opened the operator's ?token= link: redirected without a
    # new cookie, it stayed the client's (403 on the executive form, the client's landing page).
    server = api_world.server
    status, _, _, client_cookie = sign_in(server, "/console/reports/client", api_world.tokens["client_a"])
    assert status == 200
    assert server.get("/console/reports/executive", headers={"Cookie": client_cookie})[0] in (403, 404)
    status, _, response = server.get(f"/console/reports/executive?token={SERVER_TOKEN}", headers={"Cookie": client_cookie})
    assert status == 302, status
    jar = dict(c.split(";", 1)[0].split("=", 1) for c in client_cookie.split("; "))
    jar |= dict(c.split(";", 1)[0].split("=", 1) for c in response.headers.get_all("Set-Cookie") or [])
    operator_cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    assert operator_cookie != client_cookie
    assert server.get("/console/reports/executive", headers={"Cookie": operator_cookie})[0] == 200


def test_base_url_serves_everything_under_the_prefix(prefixed):
    status, body, _ = prefixed.get("/console/", token=SERVER_TOKEN)
    assert status == 200 and b'href="/reports/console/runs"' in body and b'href="/reports/quire/report/report.css"' in body
    status, body, _ = prefixed.get(f"/api/v1/runs?token={SERVER_TOKEN}")
    assert status == 200 and body["runs"] == []
    status, body, _ = prefixed.get("/api/v1/openapi.json", headers={"Authorization": f"token {SERVER_TOKEN}"})
    assert body["servers"] == [{"url": "/reports/api/v1"}]
    # What a proxy on another host sends in front of every request (the README's way instead of --no-auth).
    status, body, _ = prefixed.get("/api/v1", headers={"Authorization": f"Bearer {SERVER_TOKEN}"})
    assert status == 200 and body["you"] == {"role": "admin", "client": None}
    status, body, _ = prefixed.get("/", token=SERVER_TOKEN)
    assert status == 200 and b"/reports/voila/render/" in body
    # Nothing answers outside the prefix.
    outside = prefixed.__class__(prefixed.host, prefixed.port, "/", prefixed.process, prefixed.log, prefixed.env)
    assert outside.get("/console/", token=SERVER_TOKEN)[0] == 404


def test_no_auth_serves_without_a_token(tiny_warehouse, tmp_path):
    server = start_serve(console_env(tiny_warehouse, tmp_path), tmp_path / "serve.log", "--no-auth")
    try:
        status, body, _ = server.get("/api/v1")
        assert status == 200 and body["you"] == {"role": "admin", "client": None}
        assert server.get("/console/runs")[0] == 200
        assert server.get("/")[0] == 200
        # A console token still narrows what its holder may do.
        from quire.state import open_state, tokens

        _, secret = tokens.create(open_state(server.env["QUIRE_STATE_URL"]), role="viewer", client="town-of-fairdale")
        assert server.get("/api/v1", token=secret)[1]["you"] == {"role": "viewer", "client": "town-of-fairdale"}
    finally:
        stop(server.process)


def test_a_closed_app_page_frees_its_kernel(tiny_warehouse, tmp_path, browser):
    """Leaving an app page shuts its kernel down at once (it used to get 403 '_xsrf' missing and wait for the culler).

    The page comes from a preheated kernel, as by default: that path never set the _xsrf cookie the page's
    shutdown request needs. Client-facing mode preheats one app only.
    """
    server = start_serve(console_env(tiny_warehouse, tmp_path), tmp_path / "serve.log", "--cull-idle-timeout", "0",
                         "--client", "town-of-fairdale", pools=1, timeout=240)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{server.base}?token={SERVER_TOKEN}")
        response = page.goto(f"{server.base}voila/render/client.ipynb", wait_until="commit")
        page.wait_for_selector(".q-app-output .q-chart img", timeout=180_000)
        page.screenshot(path=str(ARTIFACTS / "app-under-csp.png"))
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'self'" in csp and "connect-src 'self'" in csp
        assert not problems, f"the app page broke its CSP: {problems[:3]}"
        kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
        assert server.get(f"/api/kernels/{kernel_id}", token=SERVER_TOKEN)[0] == 200
        page.goto(f"{server.base}")  # leaving the page: Voilà sends the kernel's shutdown request
        wait_for(lambda: server.get(f"/api/kernels/{kernel_id}", token=SERVER_TOKEN)[0] == 404, timeout=30,
                 message="the closed page's kernel to be shut down")
        refused = [line for line in server.log.read_text().splitlines() if "/voila/api/shutdown/" in line]
        assert not refused, f"the page's shutdown request was refused: {refused}"
    finally:
        context.close()
        stop(server.process)


def test_an_open_app_says_so_when_its_token_is_revoked(tiny_warehouse, tmp_path, browser):
    """An app page left open after its token was revoked went dead in silence: its widgets did nothing. At the page's
    next message the server closes its socket (4003, above); the page now says why, in an alert above the app."""
    import time

    from quire.console.access import RECHECK
    from quire.state import open_state, tokens

    server = start_serve(console_env(tiny_warehouse, tmp_path), tmp_path / "serve.log")
    engine = open_state(server.env["QUIRE_STATE_URL"])
    row, secret = tokens.create(engine, role="viewer")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server.base}?token={secret}")
        page.goto(f"{server.base}voila/render/cohort.ipynb", wait_until="commit")
        page.wait_for_selector(".q-app-output .q-chart img", timeout=180_000)
        notice = page.locator("#q-app-ended[role=alert]")
        assert notice.count() == 0
        tokens.revoke(engine, row["id"])
        # The server sees the revocation within RECHECK, at a message of the page's: the reader changes a widget.
        deadline, turn = time.monotonic() + RECHECK + 30, 0
        while notice.count() == 0 and time.monotonic() < deadline:
            page.select_option(".q-app-picker-granularity select", label=("Weekly cohorts", "Monthly cohorts")[turn % 2])
            turn += 1
            try:
                notice.wait_for(timeout=2_000)
            except Exception:  # not yet: the next change is the next message
                continue
        page.screenshot(path=str(ARTIFACTS / "app-revoked.png"))
        assert notice.count() == 1 and "access to this app has ended" in notice.inner_text()
        assert notice.is_visible()
    finally:
        context.close()
        stop(server.process)


def test_an_open_app_says_so_when_its_kernel_dies_or_its_server_goes(tiny_warehouse, tmp_path, browser):
    """A page whose kernel died (the server starts a new one, without the app) or whose server stopped kept its old
    report and pickers that did nothing, in silence. It now says so, in an alert above the app, with a reload button."""
    import signal
    import subprocess

    server = start_serve(console_env(tiny_warehouse, tmp_path), tmp_path / "serve.log")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pages = [context.new_page(), context.new_page()]
    try:
        pages[0].goto(f"{server.base}?token={SERVER_TOKEN}")
        for page in pages:
            page.goto(f"{server.base}voila/render/cohort.ipynb", wait_until="commit")
            page.wait_for_selector(".q-app-output .q-chart img", timeout=180_000)
        notices = [page.locator("#q-app-ended[role=alert]") for page in pages]
        assert [notice.count() for notice in notices] == [0, 0]

        kernel_id = pages[0].evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
        pids = subprocess.run(["pgrep", "-f", f"kernel-{kernel_id}.json"], capture_output=True, text=True).stdout.split()
        assert pids, f"no process for kernel {kernel_id}"
        for pid in pids:
            os.kill(int(pid), signal.SIGKILL)
        notices[0].wait_for(timeout=30_000)
        pages[0].screenshot(path=str(ARTIFACTS / "app-kernel-died.png"))
        assert notices[0].get_attribute("data-reason") == "kernel"
        assert "stopped on the server" in notices[0].inner_text() and notices[0].locator("button").count() == 1
        assert notices[1].count() == 0, "the other page's kernel is alive"

        stop(server.process)
        notices[1].wait_for(timeout=30_000)
        assert notices[1].get_attribute("data-reason") == "lost"
        assert "lost its connection" in notices[1].inner_text()
    finally:
        context.close()
        stop(server.process)


def test_a_client_token_gets_its_own_app_pinned_and_in_its_brand(tiny_warehouse, tmp_path, browser):
    """On an internal server a client's token opens the client app only, pinned to its client (a kernel of its own)."""
    from quire.brand import load_brand
    from quire.state import open_state, tokens
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    server = start_serve(console_env(tiny_warehouse, tmp_path), tmp_path / "serve.log")
    _, secret = tokens.create(open_state(server.env["QUIRE_STATE_URL"]), role="viewer", client="town-of-fairdale")
    with connection(tiny_warehouse) as conn:
        brand = load_brand(str(queries.client_by_slug(conn, "town-of-fairdale")["brand"]))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server.base}?token={secret}")
        assert page.locator(".q-app-card").all_inner_texts() and page.locator(".q-app-card[data-app]").count() == 1
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
        assert server.get("/quire/brand.css", headers={"Cookie": cookie})[1].decode() == brand.css_variables()
        # A browser cannot pin itself elsewhere: its own X-Quire-Tenant header is dropped.
        page.set_extra_http_headers({"X-Quire-Tenant": "riverton-realty"})
        page.goto(f"{server.base}voila/render/client.ipynb", wait_until="commit")
        page.wait_for_selector(".q-app-output .q-chart img", timeout=180_000)
        page.screenshot(path=str(ARTIFACTS / "client-token-app.png"))
        controls = page.locator(".q-app-controls").inner_text()
        assert "Period" in controls and "Client" not in controls  # no client picker: pinned
        assert "Town of Fairdale" in page.locator(".q-app-output").inner_text()
        assert page.goto(f"{server.base}voila/render/executive.ipynb").status == 403
        page.screenshot(path=str(ARTIFACTS / "client-token-other-app.png"))
        # Not a bare "403: Forbidden": the page says why, and leads back to what the token opens.
        said = page.inner_text("main")
        assert "does not open this app: a client's token opens its own client's app only" in said, said
        assert page.locator("main a", has_text="All apps and reports").count() == 1
    finally:
        context.close()
        stop(server.process)


def _websocket(server, kernel_id: str, token: str) -> int:
    """The status a kernel's widget websocket answers with ``token``: 101 when it connects."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def connect() -> int:
        url = f"ws://{server.host}:{server.port}/api/kernels/{kernel_id}/channels"
        try:
            socket = await asyncio.wait_for(websocket_connect(
                HTTPRequest(url, headers={"Authorization": f"Bearer {token}"})), timeout=30)
        except HTTPClientError as exc:
            return exc.code
        socket.close()
        return 101

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, connect()).result()


def test_an_app_kernel_answers_only_the_user_whose_page_got_it(tiny_warehouse, tmp_path):
    """Whoever learns another page's kernel id (a log line, a shared screen) can neither read that app through
    its websocket, nor see or shut down its kernel: to anyone but the page's own user it does not exist.

    Before, any signed-in user could: a client's token drove the operator's app (which offers every
    client) to another client and read that client's figures."""
    import re

    from quire.state import open_state, tokens

    server = start_serve(console_env(tiny_warehouse, tmp_path), tmp_path / "serve.log")
    engine = open_state(server.env["QUIRE_STATE_URL"])
    _, fairdale = tokens.create(engine, role="viewer", client="town-of-fairdale")
    _, riverton = tokens.create(engine, role="runner", client="riverton-realty")

    def kernel_of(token: str) -> str:
        status, body, _ = server.get("/voila/render/client.ipynb", token=token)
        assert status == 200
        return re.search(rb'"kernelId": "([0-9a-f-]{36})"', body).group(1).decode()

    try:
        theirs, operators = kernel_of(fairdale), kernel_of(SERVER_TOKEN)
        for token, kernel in ((riverton, theirs), (SERVER_TOKEN, theirs), (fairdale, operators), (riverton, operators)):
            assert server.get(f"/api/kernels/{kernel}", token=token)[0] == 404
            assert _websocket(server, kernel, token) == 404
            assert server.request("DELETE", f"/api/kernels/{kernel}", token=token)[0] == 404
            assert server.post(f"/voila/api/shutdown/{kernel}", token=token)[0] in (403, 404)  # 403: no _xsrf
        # Their own users still reach them, and the refused shutdowns shut nothing down.
        assert server.get(f"/api/kernels/{theirs}", token=fairdale)[0] == 200
        assert server.get(f"/api/kernels/{operators}", token=SERVER_TOKEN)[0] == 200
        assert _websocket(server, theirs, fairdale) == 101 and _websocket(server, operators, SERVER_TOKEN) == 101
        assert server.request("DELETE", f"/api/kernels/{theirs}", token=fairdale)[0] == 204
    finally:
        stop(server.process)


def test_an_open_app_socket_is_closed_once_its_token_is_revoked(tiny_warehouse, tmp_path):
    """Revoking a token refused new connections, while an app page already open kept working: its socket
    was checked only when it opened. The next message after the revocation (seen within RECHECK) closes it."""
    import asyncio
    import json
    import re
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    from quire.console.access import RECHECK
    from quire.state import open_state, tokens

    server = start_serve(console_env(tiny_warehouse, tmp_path), tmp_path / "serve.log")
    engine = open_state(server.env["QUIRE_STATE_URL"])
    row, secret = tokens.create(engine, role="viewer", client="town-of-fairdale")
    status, body, _ = server.get("/voila/render/client.ipynb", token=secret)
    kernel = re.search(rb'"kernelId": "([0-9a-f-]{36})"', body).group(1).decode()

    def info_request() -> str:
        header = {"msg_id": uuid.uuid4().hex, "username": "test", "session": "s", "msg_type": "kernel_info_request",
                  "version": "5.3", "date": ""}
        return json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"})

    async def replies_then_closed() -> tuple[bool, int | None]:
        url = f"ws://{server.host}:{server.port}/api/kernels/{kernel}/channels"
        socket = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"Bearer {secret}"}))
        await socket.write_message(info_request())
        answered = False
        while not answered:  # bounded by the wait_for below
            raw = await asyncio.wait_for(socket.read_message(), timeout=30)
            answered = raw is not None and "kernel_info_reply" in raw
        tokens.revoke(engine, row["id"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECHECK + 15
        while loop.time() < deadline:
            await socket.write_message(info_request())
            try:
                while (raw := await asyncio.wait_for(socket.read_message(), timeout=1.0)) is not None:
                    pass
                return answered, socket.close_code  # read_message gives None once the socket is closed
            except asyncio.TimeoutError:
                continue
        return answered, None

    try:
        assert status == 200
        with ThreadPoolExecutor(1) as pool:
            answered, code = pool.submit(asyncio.run, replies_then_closed()).result()
        assert answered and code == 4003
        # Its kernel is shut down at once, not left to the idle culler minutes later.
        wait_for(lambda: f"Kernel shutdown: {kernel}" in server.log.read_text(), timeout=30,
                 message="the revoked page's kernel to be shut down")
    finally:
        stop(server.process)
