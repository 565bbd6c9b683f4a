"""The console end to end in Debian's Chromium, with a real scheduler executing the queued runs.

A client report is run from the form by keyboard alone (a bad period first: inline error, nothing
queued; then a good one), followed to its end, its CSV, XLSX and PDF downloaded, re-run, compared
with the previous run; a schedule is paused and resumed and the running scheduler follows. Every
console page then passes axe-core without serious or critical violations. Screenshots go to
``tests/artifacts/console/``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from console_support import CLIENT_A, console_env
from console_support import ARTIFACTS, AXE, SERVER_TOKEN, start_scheduler, start_serve, stop, wait_for

from quire.state import open_state
from quire.state import runs as history

pytestmark = pytest.mark.slow
RUN_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def world(tiny_warehouse, tmp_path_factory):
    base = tmp_path_factory.mktemp("console-e2e")
    env = console_env(tiny_warehouse, base)
    server = start_serve(env, base / "serve.log")
    scheduler = start_scheduler(env, base / "scheduler.log")
    yield server, scheduler, open_state(env["QUIRE_STATE_URL"]), base
    stop(scheduler)
    stop(server.process)


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _tab_to(page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has focus (the keyboard's own path through the page)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def _wait_succeeded(page, name: str) -> str:
    run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    try:  # console.js follows the run and reloads the page when it ends
        page.wait_for_selector("#run-status .q-status-succeeded, #run-status .q-status-failed", timeout=RUN_TIMEOUT_MS)
    except Exception:
        _shot(page, f"{name}-timeout")
        raise
    _shot(page, name)
    assert page.locator("#run-status .q-status-succeeded").count() == 1, page.locator(".c-problem").all_inner_texts()
    return run_id


def _download(page, link_text: str) -> tuple[str, bytes]:
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("link", name=link_text, exact=False).first.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_run_follow_download_rerun_compare_and_schedules(world, browser):
    server, _, engine, base = world
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server.base}console/?token={SERVER_TOKEN}")
    _shot(page, "reports")

    # 1. The run form, by keyboard alone: a period in the future first.
    page.goto(f"{server.base}console/reports/client")
    before = history.count(engine)
    _tab_to(page, "p-client")
    page.keyboard.type("Town of F")  # a select's type-ahead picks the client
    assert page.eval_on_selector("#p-client", "e => e.value") == CLIENT_A
    _tab_to(page, "p-period")
    page.keyboard.press("Control+A")
    page.keyboard.type("2031-01")
    _tab_to(page, "run-submit")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    _shot(page, "form-error")
    assert page.evaluate("document.activeElement.id") == "error-summary"  # the error is announced and focused
    error = page.locator("#p-period-error").inner_text()
    assert "2031-01 is in the future" in error and page.get_attribute("#p-period", "aria-invalid") == "true"
    assert page.input_value("#p-period") == "2031-01" and history.count(engine) == before  # nothing queued

    # 2. A good period: the run is queued, the scheduler runs it, the page follows it to the end.
    page.fill("#p-period", "2026-10")
    page.focus("#run-submit")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/runs/*")
    assert page.locator("#run-status .q-status").inner_text() in ("queued", "running", "succeeded")
    first = _wait_succeeded(page, "run-detail")
    row = history.get(engine, first)
    assert row["trigger"] == "console" and row["parameters"] == {"client": CLIENT_A, "period": "2026-10"}

    # 3. Downloads: a table's CSV, the workbook and the PDF.
    name, data = _download(page, "(CSV)")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert name.startswith("table-01-") and len(rows) > 1 and rows[0][0] == "Week"
    name, data = _download(page, "All tables (Excel)")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    assert name == f"{first}-report.xlsx" and len(book.sheetnames) >= 5
    assert [c.value for c in book.worksheets[0][2]][0] == "Week" and book.worksheets[0]["A2"].font.b
    name, data = _download(page, "PDF report")
    assert name == f"{first}-report.pdf" and data.startswith(b"%PDF")
    frame = page.frame_locator("iframe.c-report")
    assert "town of fairdale" in frame.locator(".q-cover").inner_text().lower()

    # 4. Re-run with the same parameters.
    page.get_by_role("button", name="Re-run with the same parameters").click()
    page.wait_for_url(lambda url: url.rstrip("/").rsplit("/", 1)[-1] not in (first,) and "/console/runs/" in url)
    second = _wait_succeeded(page, "rerun-detail")
    assert history.get(engine, second)["parameters"] == row["parameters"]

    # 5. Compare with the previous run (the first one).
    page.get_by_role("link", name="Compare with the previous run").click()
    page.wait_for_selector("table.c-compare")
    _shot(page, "compare")
    assert page.locator(f".c-compare-runs a[href$='/{first}']").count() == 1
    assert page.locator("tr[data-figure='views'] svg.q-spark").count() == 1
    assert page.locator("tr[data-figure='views'] td.q-num").count() == 3  # this run, previous run, change

    # Re-run with edited parameters: the form comes back filled in with the run's own.
    page.goto(f"{server.base}console/runs/{second}")
    page.get_by_role("link", name="Edit parameters and re-run").click()
    page.wait_for_selector("#run-form")
    assert page.locator("#run-form-title").inner_text() == f"Run again, from run {second}"
    assert page.input_value("#p-period") == "2026-10" and page.input_value("#p-client") == CLIENT_A

    # 6. Pause and resume the client schedule; the running scheduler follows without a restart.
    page.get_by_role("link", name="Schedules").click()
    page.get_by_role("button", name="Pause client").click()
    page.wait_for_selector("#schedule-client .q-status-paused")
    _shot(page, "schedules-paused")
    wait_for(lambda: _next_run(engine) is None, timeout=30, message="the scheduler to pause the job")
    page.get_by_role("button", name="Resume client").click()
    page.wait_for_selector("#schedule-client .q-status-active")
    wait_for(lambda: _next_run(engine) is not None, timeout=30, message="the scheduler to resume the job")
    _shot(page, "schedules")
    assert not violations, violations[:3]
    context.close()


def _next_run(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT next_run_time FROM quire_apscheduler_jobs WHERE id = 'report:client'")).scalar()


def test_every_console_page_passes_axe(world, browser):
    """axe-core (npm, injected by Playwright) finds no serious or critical violation on any console page."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make setup` (npm ci --prefix tests/browser)")
    server, _, engine, _ = world
    runs = history.query(engine, report="client", status="succeeded", limit=1)
    assert runs, "the end-to-end test leaves a succeeded run"
    run_id = runs[0]["run_id"]
    # Injecting axe needs an inline script: this context bypasses the CSP (the CSP is tested on its own).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{server.base}console/?token={SERVER_TOKEN}")
    pages = ["console/", "console/reports/client", "console/reports/alltypes", "console/runs",
             "console/runs?status=exploded", f"console/runs/{run_id}", f"console/runs/{run_id}/compare",
             "console/schedules", "console/runs/20990101T000000Z-ffffff"]
    found = {}
    for path in pages:
        page.goto(server.base + path)
        _shot(page, "axe-" + (path.split("?")[0].strip("/").replace("/", "-")[:60] or "console"))
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        if bad:
            found[path] = bad
    # The form with its inline error too.
    page.goto(server.base + "console/reports/client")
    page.select_option("#p-client", CLIENT_A)
    page.fill("#p-period", "2031-01")
    page.click("#run-submit")
    page.wait_for_selector("#error-summary")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [f"{v['id']} ({v['impact']})" for v in result["violations"] if v["impact"] in ("serious", "critical")]
    if bad:
        found["form with errors"] = bad
    context.close()
    assert not found, found


def test_no_form_control_runs_past_a_phones_screen(world, browser):
    """At 390 px the run history's client filter (its options "Name (slug)") ran past the right edge, cut off."""
    server = world[0]
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(f"{server.base}console/?token={SERVER_TOKEN}")
    wide = {}
    for path in ("console/runs", "console/reports/client"):
        page.goto(server.base + path)
        over = page.evaluate("""() => [...document.querySelectorAll('main input, main select')]
            .filter(e => e.type !== 'hidden' && e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .map(e => e.id || e.name)""")
        if over:
            wide[path] = over
    context.close()
    assert not wide, wide
