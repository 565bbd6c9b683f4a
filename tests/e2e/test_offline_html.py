"""A published report.html opens offline in a real browser with everything it shows, and runs nothing.

Chromium (Debian's, driven by Playwright; its own browser download is never used) opens
the report of a real run with the network switched off and every non-file request aborted.
No request may even be attempted beyond the file itself and its ``data:`` URIs, and the
logo and every chart must have decoded (``naturalWidth > 0``).
"""

from __future__ import annotations

import concurrent.futures
import re
import shutil
from pathlib import Path

import pytest

from quire.display import sanitize_svg
from quire.render import clean_html
from support import CHROMIUM, CHROMIUM_ARGS, published_runs, quire_free_env, run_quire
from support.hostile_html import MARKER, SVG_VECTORS, VECTORS

pytestmark = pytest.mark.slow


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


def _in_chromium(work, refused: list[str] | None = None):
    """``work(page)`` in a page of Debian's Chromium with script on and the network off, every request beyond files
    and ``data:`` URIs aborted (and added to ``refused``); from a thread of its own, since Playwright's sync API
    refuses a thread where an asyncio loop runs (another test may have left one in this thread)."""
    playwright = pytest.importorskip("playwright.sync_api")

    def guard(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            if refused is not None:
                refused.append(route.request.url)
            route.abort()

    def browse():
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(java_script_enabled=True, offline=True)
                context.route("**/*", guard)
                return work(context.new_page())
            finally:
                browser.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(browse).result(timeout=120)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_report_renders_offline_with_logo_and_charts(report_html):
    requested: list[str] = []
    refused: list[str] = []

    def visit(page):
        page.on("request", lambda request: requested.append(request.url))
        page.goto(report_html.as_uri(), wait_until="load")
        return (page.evaluate("""() => [...document.images].map(img => ({
                    cls: img.className, parent: img.parentElement.className, alt: img.alt,
                    complete: img.complete, width: img.naturalWidth}))"""),
                page.evaluate("() => document.scripts.length"),
                page.evaluate("() => document.documentElement.lang"))

    images, scripts, lang = _in_chromium(visit, refused)
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


def _ran(page, document: str | None = None, url: str | None = None) -> bool:
    """Whether the page set its title to the marker once loaded and, if it shows "CLICKME", once that is clicked."""
    if url is None:
        page.set_content(f"<!DOCTYPE html><html><head><title>clean</title></head><body>{document}</body></html>")
    else:
        page.goto(url, wait_until="load")
    target = page.get_by_text("CLICKME").first
    if target.count() and target.is_visible():
        target.click(timeout=2000)
    page.wait_for_timeout(100)  # a click's navigation to a javascript: URL runs after the click returns
    return page.title() == MARKER


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_markup_that_runs_in_chromium_runs_no_more_once_cleaned():
    results = _in_chromium(lambda page: {name: (_ran(page, vector), _ran(page, clean_html(vector)))
                                         for name, vector in VECTORS.items()})
    assert [name for name, (raw, _) in results.items() if not raw] == [], "each vector runs in Chromium as written"
    assert [name for name, (_, cleaned) in results.items() if cleaned] == []


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_the_report_policy_stops_script_the_cleaning_would_have_missed(report_html, tmp_path):
    # Markup put into the published file after the cleaning, as if the cleaning had missed it.
    page_html = report_html.read_text(encoding="utf-8")
    body = page_html.index(">", page_html.index("<body")) + 1
    planted = (f"<script>void(document.title='{MARKER}')</script><img src=x onerror=\"void(document.title='{MARKER}')\">"
               f"<a href=\"javascript:void(document.title='{MARKER}')\">CLICKME</a>")
    guarded = tmp_path / "guarded.html"
    guarded.write_text(page_html[:body] + planted + page_html[body:], encoding="utf-8")
    bare = tmp_path / "bare.html"  # the same without the policy: the planted markup runs there
    bare.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", guarded.read_text(encoding="utf-8")),
                    encoding="utf-8")

    def visit(page):
        refused = []
        page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
                else None)
        return _ran(page, url=guarded.as_uri()), refused, _ran(page, url=bare.as_uri())

    ran_guarded, refused, ran_bare = _in_chromium(visit)
    assert ran_bare, "without the policy the planted markup runs"
    assert not ran_guarded and refused, refused


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_an_svg_chart_or_logo_opened_on_its_own_runs_script_no_more_once_cleaned(tmp_path):
    files = {}
    for name, image in SVG_VECTORS.items():
        (raw := tmp_path / f"{name}.svg").write_bytes(image)
        (cleaned := tmp_path / f"{name}-cleaned.svg").write_bytes(sanitize_svg(image))
        files[name] = (raw, cleaned)
    results = _in_chromium(lambda page: {name: (_ran(page, url=raw.as_uri()), _ran(page, url=cleaned.as_uri()))
                                         for name, (raw, cleaned) in files.items()})
    assert [name for name, (raw, _) in results.items() if not raw] == [], "each image runs script as written"
    assert [name for name, (_, cleaned) in results.items() if cleaned] == []
