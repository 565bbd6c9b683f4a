"""A preheated app's page carries its charts: shown before any script runs, replaced by the live widgets after.

Plus what makes the page fast to come live again: compressed, long-cached static files, and
a kernel handed to a page that the culler leaves alone until its websocket connects.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest
from browser_support import ARTIFACTS, open_app, settled_log

APPS = ["executive", "client", "cohort", "experiment"]
# app -> (picker to change, option label to pick on the tiny warehouse)
CHANGES = {"executive": ("segment", "Sector: municipality"), "cohort": ("granularity", "Weekly cohorts")}


class Snapshot(HTMLParser):
    """The page as the browser parses it before any script: the charts in the app's snapshot, outside scripts.

    HTMLParser, as a browser, reads a ``<script>``'s content as text: a chart inside the
    output JSON Voilà's scripts render later is not counted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0            # > 0: inside the .q-widget-snapshot element
        self.charts: list[str] = []
        self.in_figure = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += tag not in VOID
        elif tag == "div" and "q-widget-snapshot" in classes:
            self.depth = 1
        if self.depth and tag == "figure" and "q-chart" in classes:
            self.in_figure = True
        if self.depth and self.in_figure and tag in ("img", "svg"):
            self.charts.append(dict(attrs).get("src") or "<svg>")
            self.in_figure = False

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


VOID = {"img", "br", "hr", "input", "meta", "link", "source", "wbr", "col", "area", "base", "embed", "track"}


def _page_html(server, app: str) -> tuple[str, str]:
    """The served HTML of an app page (raw GETs, no script run: signed in with the token, then by the
    cookie the server set) and the kernel it was given."""
    response = _get(server, f"/voila/render/{app}.ipynb?token={server.token}")
    if response.status == 302:
        cookies = "; ".join(c.split(";")[0] for c in response.headers.get_all("Set-Cookie"))
        response = _get(server, response.getheader("Location"), cookie=cookies)
    assert response.status == 200
    html = response.body.decode()
    config = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    return html, json.loads(config.group(1))["kernelId"]


def _wait_for(predicate, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert predicate(), f"{what} within {timeout:.0f} s"


@pytest.mark.parametrize("app", APPS)
def test_the_first_chart_is_in_the_html_of_a_preheated_app(server, app):
    html, kernel_id = _page_html(server, app)
    assert f"Using pre-heated kernel: {kernel_id} for {app}.ipynb" in settled_log(server)
    parsed = Snapshot()
    parsed.feed(html)
    assert parsed.charts, f"{app}: no chart in the served HTML outside a script"
    assert parsed.charts[0].startswith("data:image/svg+xml;base64,")
    # The live output (Voilà's JSON) no longer carries the snapshot a second time.
    assert html.count("q-app-snapshot-output") == 1
    # No CDN named in the page: neither Font Awesome's links nor nbconvert's Mermaid loader.
    assert "cdn.jsdelivr.net" not in html and "cdnjs.cloudflare.com" not in html


def test_client_facing_mode_snapshot_shows_the_pinned_client_only(client_server):
    html, _ = _page_html(client_server, "client")
    parsed = Snapshot()
    parsed.feed(html)
    text = " ".join(parsed.text)
    assert parsed.charts and "Quantalane Health" in text and "Riverton" not in text


@pytest.mark.parametrize("app", list(CHANGES))
def test_the_chart_shows_without_scripts_and_the_widgets_replace_it(server, page, app):
    page.goto(server.url("/"))
    # Every script refused: what a visitor sees before Voilà's and the widgets' scripts have loaded.
    page.route("**/*", lambda route: route.abort() if route.request.resource_type == "script" else route.continue_())
    page.goto(server.url(f"/voila/render/{app}.ipynb", token=False))
    chart = page.locator(".q-widget-snapshot .q-chart img").first
    chart.wait_for(state="visible", timeout=15_000)
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
    assert not page.locator("#loading").is_visible()  # Voilà's spinner does not cover it
    page.screenshot(path=str(ARTIFACTS / f"{app}-snapshot.png"))

    page.unroute("**/*")
    open_app(page, server.url(f"/voila/render/{app}.ipynb", token=False), f"{app}-snapshot-live")
    assert not page.locator(".q-widget-snapshot").is_visible(), "the snapshot stays visible beside the live app"
    before = page.inner_html(".q-app-output .q-chart >> nth=0")
    picker, label = CHANGES[app]
    page.select_option(f".q-app-picker-{picker} select", label=label)
    page.wait_for_selector('.q-app-status [data-render="2"]')
    assert page.inner_html(".q-app-output .q-chart >> nth=0") != before, "the chart did not follow the widget"
    assert page.locator(".q-app-output .q-chart img").first.is_visible()
    assert not page.locator(".q-widget-snapshot").is_visible()
    page.screenshot(path=str(ARTIFACTS / f"{app}-snapshot-replaced.png"))
    assert page.external_requests == []


def test_a_kernel_handed_to_a_page_starts_its_idle_time_then(client_server):
    """The culler counts idle time from the hand-over, not from the preheating (the page's websocket is not
    connected yet: culled then, the page never comes live)."""
    def refilled() -> bool:  # the kernel waiting in the pool has rendered, and gone idle, before the request
        text = client_server.log.read_text()
        return text.count("[quire] ClientApp ready") > text.count("Using pre-heated kernel")
    _wait_for(refilled, "the client app's pool did not refill")
    handed = datetime.now(timezone.utc)
    _, kernel_id = _page_html(client_server, "client")
    assert f"Using pre-heated kernel: {kernel_id}" in settled_log(client_server)
    model = json.loads(client_server.get(f"/api/kernels/{kernel_id}").body)
    assert datetime.fromisoformat(model["last_activity"]) >= handed


def test_a_token_in_an_app_url_reaches_no_kernel(client_server):
    """Voilà gives a page's URL to the kernel refilling the pool (VOILA_REQUEST_URL): it must hold no token."""
    import psutil

    def renders() -> int:
        return client_server.log.read_text().count("[quire] ClientApp ready")
    before = renders()
    signed_in = _get(client_server, f"/voila/render/client.ipynb?token={client_server.token}&x=1")
    assert signed_in.status == 302 and signed_in.getheader("Location") == "/voila/render/client.ipynb?x=1"
    _page_html(client_server, "client")  # signs in with ?token=, as a stakeholder's link does
    _wait_for(lambda: renders() > before, "the pool did not refill")
    kernels = [p for p in psutil.Process(client_server.process.pid).children(recursive=True)
               if "ipykernel" in " ".join(p.cmdline())]
    assert kernels
    for kernel in kernels:
        assert client_server.token.encode() not in open(f"/proc/{kernel.pid}/environ", "rb").read()


def test_static_files_are_compressed_and_versioned_ones_cached(server):
    html, _ = _page_html(server, "cohort")
    config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  html, re.S).group(1))
    static = config["fullStaticUrl"]
    assert re.fullmatch(r"/voila/static/v-[0-9a-f]{16}", static)
    assert f'src="{static}/voila.js"' in html
    script = _get(server, f"{static}/voila.js", gzip=True)
    assert script.status == 200 and script.getheader("Content-Encoding") == "gzip"
    assert "immutable" in script.getheader("Cache-Control")
    assert _get(server, f"{static}/voila.js").getheader("Content-Encoding") is None  # no gzip asked, none sent
    assert _get(server, "/voila/static/v-0000000000000000/voila.js").status == 404  # another version: not served
    for escape in ("/../../../../../../etc/passwd", "/..%2f..%2f..%2f..%2fetc%2fpasswd", "/nosuch.js", "/"):
        response = _get(server, static + escape, gzip=True)
        assert response.status == 404 and b"root:" not in response.body, escape
    css = re.search(r'href="(/quire/static/app\.css\?v=[0-9a-f]{16})"', html).group(1)
    assert "immutable" in _get(server, css, gzip=True).getheader("Cache-Control")
    assert _get(server, "/quire/static/app.css", gzip=True).getheader("Cache-Control") == "no-cache"
    manager = "@jupyter-widgets/jupyterlab-manager"
    hashed = next(e["load"] for e in config["federated_extensions"] if e["name"] == manager)
    entry = _get(server, f"/voila/labextensions/{manager}/{hashed}", gzip=True)
    assert entry.status == 200 and "immutable" in entry.getheader("Cache-Control")
    assert entry.getheader("Content-Encoding") == "gzip"


def _get(server, path: str, gzip: bool = False, cookie: str | None = None):
    import http.client

    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response
