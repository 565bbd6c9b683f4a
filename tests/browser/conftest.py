"""Fixtures of the browser tests (helpers in ``browser_support``: a unique module name, since every
test folder has a ``conftest``)."""

from __future__ import annotations


import pytest
from support import quire_free_env
from browser_support import ROOT, Server, publish_fake_runs, start_server, stop_server


def _env(tiny_warehouse: str) -> dict[str, str]:
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_HOME=str(ROOT))
    return env


@pytest.fixture
def serve_env(tiny_warehouse) -> dict[str, str]:
    """The environment of a ``quire serve`` process on the tiny warehouse (add QUIRE_OUTPUTS)."""
    return _env(tiny_warehouse)


@pytest.fixture(scope="session")
def server(tiny_warehouse, tmp_path_factory) -> Server:
    """``quire serve`` in internal mode: the four apps, each with one preheated kernel."""
    base = tmp_path_factory.mktemp("serve")
    outputs = base / "outputs"
    publish_fake_runs(outputs)
    srv = start_server(_env(tiny_warehouse), outputs, base / "serve.log", "--pool-size", "1", pools=4)
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def client_server(tiny_warehouse, tmp_path_factory) -> Server:
    """``quire serve --client quantalane-health``: client-facing mode."""
    base = tmp_path_factory.mktemp("serve-client")
    outputs = base / "outputs"
    publish_fake_runs(outputs)
    srv = start_server(_env(tiny_warehouse), outputs, base / "serve.log", "--client", "quantalane-health", pools=1)
    yield srv
    stop_server(srv)


@pytest.fixture
def page(browser):
    """A fresh page (own cookies) that records every request leaving 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.external_requests = []
    page.console = []  # what the page logged: printed when a test fails, to tell a stalled frontend from a slow kernel
    page.on("console", lambda m: page.console.append(f"{m.type}: {m.text}"[:300]))
    page.on("pageerror", lambda e: page.console.append(f"pageerror: {e}"[:300]))
    page.on("request", lambda r: page.external_requests.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:", "ws://127.0.0.1")) else None)
    yield page
    context.close()
