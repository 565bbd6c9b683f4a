"""What ``quire serve`` refuses: requests without the token, paths outside the published runs, code from the browser."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from browser_support import DAY, RUNS, open_app

EXECUTIVE_RUN = f"executive/{DAY}/{RUNS[0][1]}"


@pytest.mark.parametrize("path", ["/", "/voila/render/executive.ipynb", f"/archive/{EXECUTIVE_RUN}/report.html",
                                  "/api/kernels/6f1f2b4e-0000-4000-8000-000000000000", "/?token=wrong-token"])
def test_a_request_without_the_token_is_refused(server, path):
    response = server.get(path, token=False)
    assert response.status in (302, 403), f"{path} answered {response.status} without a token"
    if response.status == 302:
        assert "/login" in response.getheader("Location")
    assert b"Executive" not in response.body and b"report.html" not in response.body


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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while "kernel_info_reply" not in seen and loop.time() < deadline:
            raw = await asyncio.wait_for(ws.read_message(), timeout=max(0.1, deadline - loop.time()))
            if raw is None:
                break
            if isinstance(raw, str):
                seen.append(json.loads(raw)["header"]["msg_type"])
        # Shell messages are handled in order: had the execute_request reached the kernel, its reply would be in.
        await asyncio.sleep(1.0)
        return seen
    finally:
        ws.close()


def test_execute_request_from_the_browser_does_not_run(server, page, tmp_path):
    page.goto(server.url("/"))
    open_app(page, server.url("/voila/render/executive.ipynb", token=False), "executive-ws")
    kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    marker = tmp_path / "ran.txt"
    url = f"ws://{server.host}:{server.port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}&token={server.token}"
    # Playwright's sync API owns this thread's event loop: the websocket client runs in a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, _probe(url, f"open({str(marker)!r}, 'w').write('code ran')")).result(timeout=60)
    assert "kernel_info_reply" in seen, f"the websocket did not answer at all: {seen}"
    assert "execute_reply" not in seen and "execute_input" not in seen
    assert not marker.exists(), "an execute_request sent over the websocket ran code in the kernel"
