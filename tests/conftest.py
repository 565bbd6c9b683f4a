"""Fixtures shared by the whole test suite (unit, notebooks, e2e)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from support import quire_free_env

ROOT = Path(__file__).resolve().parents[1]
# A `quire` subprocess given this process' environment leaves no warm service behind (see quire_free_env).
os.environ.setdefault("QUIRE_WARM_LINGER", "0")


@pytest.fixture(scope="session")
def tiny_end() -> date:
    """Last day of the tiny warehouse's data: fixed, so that 'latest' is always 2026-10."""
    return date(2026, 10, 31)


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory, tiny_end: date) -> str:
    """SQLAlchemy URL of the ``tiny`` sample warehouse (seed 7, data through 2026-10-31).

    Built once per test session into a temporary DuckDB file (about a second). Treat it
    as read-only: open it with ``quire.warehouse.engine.engine(url)`` and dispose the
    engine when done (DuckDB allows many read-only users, but no writer beside them).
    """
    from quire.warehouse.load import build_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('warehouse') / 'tiny.duckdb'}"
    build_warehouse(url, scale="tiny", seed=7, end=tiny_end)
    return url


@pytest.fixture
def quire_env(tiny_warehouse, tmp_path) -> dict[str, str]:
    """Environment for a ``quire`` subprocess: tiny warehouse, a fresh outputs folder."""
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_OUTPUTS=str(tmp_path / "outputs"), QUIRE_HOME=str(ROOT))
    return env


@pytest.fixture
def settings_for(monkeypatch):
    """Apply an environment (``quire_env``, a scheduler test's ``make_env``) to this process' ``QUIRE_*`` variables and return fresh Settings."""
    from quire.config import Settings, get_settings

    def apply(env: dict[str, str]) -> Settings:
        for key in [k for k in os.environ if k.startswith("QUIRE_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            if key.startswith("QUIRE_"):
                monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        return get_settings()

    yield apply
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL 15 server on 127.0.0.1 for the session (see tests/support/postgres.py); yields its port."""
    from support import postgres

    if not postgres.installed():
        pytest.skip("PostgreSQL 15 binaries not installed (make setup installs them)")
    with postgres.server() as port:
        yield port


@pytest.fixture(scope="session")
def pg_tiny_warehouse(pg_server, tiny_end: date) -> str:
    """The tiny sample warehouse loaded into PostgreSQL (same seed and end as ``tiny_warehouse``)."""
    from quire.warehouse.load import build_warehouse
    from support import postgres

    url = postgres.new_database(pg_server)
    build_warehouse(url, scale="tiny", seed=7, end=tiny_end)
    return url


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (its own browser download is never used), one for the whole session.

    One per session, shared by every test folder: Playwright's sync API runs an event loop in
    this thread, and a second one started while the first is open is refused.
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    from support import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session", autouse=True)
def no_warm_service_outlives_the_tests(tmp_path_factory):
    """A warm service left behind by a test's ``quire run`` fails the session (after it is stopped): tests ask for
    ``QUIRE_WARM_LINGER=0`` unless they test that service, and those stop what they start."""
    yield
    import psutil

    ours = str(tmp_path_factory.getbasetemp())
    left = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "warm" in (proc.info["cmdline"] or [])[1:] and proc.environ().get("QUIRE_OUTPUTS", "").startswith(ours):
                left.append(proc)
        except psutil.Error:
            continue
    for proc in left:
        proc.kill()
    assert not left, f"warm services left running by the tests: {[p.pid for p in left]}"
