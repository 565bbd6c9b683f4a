"""A published report.html opens offline in a real browser with everything it shows.

Chromium (Debian's, driven by Playwright; its own browser download is never used) opens
the report of a real run with the network switched off and every non-file request aborted.
No request may even be attempted beyond the file itself and its ``data:`` URIs, and the
logo and every chart must have decoded (``naturalWidth > 0``).
"""

from __future__ import annotations

import concurrent.futures
import shutil
from pathlib import Path

import pytest

from support import published_runs, quire_free_env, run_quire

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def report_html(tiny_warehouse, tmp_path_factory) -> Path:

    outputs = tmp_path_factory.mktemp("offline-outputs")
    env = quire_free_env()
    root = Path(__file__).resolve().parents[2]
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(root))
    proc = run_quire(env, "run", "executive")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [folder] = published_runs(outputs, "executive")
    # Alone in a folder of its own: nothing beside it could be loaded by accident.
    alone = tmp_path_factory.mktemp("alone") / "report.html"
    shutil.copy(folder / "report.html", alone)
    return alone


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_report_renders_offline_with_logo_and_charts(report_html):
    playwright = pytest.importorskip("playwright.sync_api")
    requested: list[str] = []
    refused: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    def browse():
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                context = browser.new_context()
                context.set_offline(True)
                context.route("**/*", guard)
                page = context.new_page()
                page.on("request", lambda request: requested.append(request.url))
                page.goto(report_html.as_uri(), wait_until="load")
                return (page.evaluate("""() => [...document.images].map(img => ({
                            cls: img.className, parent: img.parentElement.className, alt: img.alt,
                            complete: img.complete, width: img.naturalWidth}))"""),
                        page.evaluate("() => document.scripts.length"),
                        page.evaluate("() => document.documentElement.lang"))
            finally:
                browser.close()

    # Playwright's sync API refuses to run where an asyncio loop is running (another test may
    # have left one in this thread): a thread of its own has none.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        images, scripts, lang = pool.submit(browse).result(timeout=120)
    assert refused == []
    assert [u for u in requested if not u.startswith(("file:", "data:"))] == []
    assert scripts == 0 and lang == "en"
    logos = [i for i in images if i["cls"] == "q-cover-logo"]
    charts = [i for i in images if i["parent"] == "q-chart"]
    assert logos and all(i["width"] > 0 for i in logos), logos
    assert len(charts) >= 3, f"the executive report should show several charts: {images}"
    broken = [i for i in images if not (i["complete"] and i["width"] > 0)]
    assert broken == [], broken
    assert all(i["alt"].strip() for i in charts), "every chart has alt text"
