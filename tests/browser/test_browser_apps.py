"""The stakeholder apps in a real browser: first render, a widget change, the landing page, no CDN."""

from __future__ import annotations

import time

import pytest
from browser_support import ARTIFACTS, DAY, RUNS, axe_violations, open_app

# app -> (picker to change, option label to pick on the tiny warehouse)
CHANGES = {
    "executive": ("segment", "Sector: municipality"),
    "client": ("client", "Riverton Realty"),
    "cohort": ("granularity", "Weekly cohorts"),
    "experiment": ("experiment", "Guided setup upsell (onboarding-upsell)"),
}
RERENDER_TIMEOUT = 30_000


def _first_chart_and_table(page) -> tuple[str, str]:
    return (page.inner_html(".q-app-output .q-chart >> nth=0"), page.inner_html(".q-app-output .q-table >> nth=0"))


@pytest.mark.parametrize("app", list(CHANGES))
def test_app_renders_and_follows_a_widget(server, page, app):
    page.goto(server.url("/"))  # the token sets the login cookie, as a stakeholder's link would
    first_render = open_app(page, server.url(f"/voila/render/{app}.ipynb", token=False), app)
    chart, table = _first_chart_and_table(page)
    page.screenshot(path=str(ARTIFACTS / f"{app}.png"))

    picker, label = CHANGES[app]
    t1 = time.perf_counter()
    page.select_option(f".q-app-picker-{picker} select", label=label)
    page.wait_for_selector('.q-app-status [data-render="2"]', timeout=RERENDER_TIMEOUT)
    page.wait_for_selector(".q-app-output .q-chart img", timeout=RERENDER_TIMEOUT)
    rerender = time.perf_counter() - t1
    new_chart, new_table = _first_chart_and_table(page)
    page.screenshot(path=str(ARTIFACTS / f"{app}-changed.png"), full_page=True)
    # The charts and tables below the fold get their own pictures.
    page.locator(".q-app-output .q-chart >> nth=0").screenshot(path=str(ARTIFACTS / f"{app}-chart.png"))
    page.locator(".q-app-output .q-table-wrap >> nth=0").screenshot(path=str(ARTIFACTS / f"{app}-table.png"))
    print(f"{app}: first chart {first_render:.2f} s, re-render {rerender:.2f} s")

    # axe-core (npm): no violation of any impact. The pickers were outside every landmark ("region") and, in a
    # <main> without a ground of its own, the subtitle stood on JupyterLab's grey shell (contrast 4.25).
    assert axe_violations(page) == []

    assert new_chart != chart, "the chart did not change with the widget"
    assert new_table != table, "the table did not change with the widget"
    assert page.locator(".q-app-message .q-callout").count() == 0
    # Code is hidden, and nothing is loaded from outside this server (the lab template's Font Awesome CDN is gone).
    assert page.locator(".jp-InputArea").count() == 0 or not page.locator(".jp-InputArea").first.is_visible()
    assert page.external_requests == []


# Where the last chart or table of an app's report is, against the window: [top, bottom, window height].
LAST_FIGURE = """() => { const e = [...document.querySelectorAll('.q-app-output :is(.q-chart, .q-table-wrap)')].pop();
    const r = e.getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight]; }"""
WHEEL_STEPS = 30  # of 600 px: more than any app's report is long on the tiny warehouse


def _last_figure_in_view(page) -> bool:
    top, bottom, height = page.evaluate(LAST_FIGURE)
    return top >= 0 and bottom <= height


def _settled(page, check, timeout_ms: int = 10_000) -> bool:
    """``check(page)`` once it holds, or after ``timeout_ms`` (a wheel or key scrolls smoothly, over frames; slowly on
    a loaded machine)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not check(page) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return check(page)


def _at_rest(page, timeout_ms: int = 10_000) -> None:
    """Wait until the page's scroll position has held for three frames' polls: a key pressed while the previous
    key's smooth scroll still runs is taken from wherever that scroll was (End then stopped short of the end)."""
    deadline, last, still = time.monotonic() + timeout_ms / 1000, None, 0
    while still < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        now = page.evaluate("() => window.scrollY")
        still, last = (still + 1 if now == last else 0), now


@pytest.mark.parametrize("app", list(CHANGES))
def test_a_person_scrolls_to_the_end_of_the_app_with_the_wheel_and_the_keys(server, browser, app):
    """At 1440x900 the mouse wheel, End and PageDown moved the page 48 px and no further: the cells' <main> was
    clipped, and nothing below the KPI cards could be reached. Element screenshots scroll by script, so the
    wheel and the keys are used here, as a person does."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(server.url("/"))
        open_app(page, server.url(f"/voila/render/{app}.ipynb", token=False), f"{app}-scroll")
        assert not _last_figure_in_view(page), "the report fits the window: nothing to scroll"

        page.mouse.move(720, 600)  # over the report
        for _ in range(WHEEL_STEPS):
            if _last_figure_in_view(page):
                break
            page.mouse.wheel(0, 600)
            page.wait_for_timeout(100)
        in_view = _settled(page, _last_figure_in_view)
        page.screenshot(path=str(ARTIFACTS / f"{app}-wheel-end.png"))
        assert in_view, f"{app}: the wheel left the last chart or table at {page.evaluate(LAST_FIGURE)}"

        # The keys, with no click into the page first.
        # Measured by the page's own scroll position: a chart or table laid out again meanwhile moves the figures.
        scrolled = "() => window.scrollY"
        page.keyboard.press("Home")
        assert _settled(page, lambda p: p.evaluate(scrolled) == 0), f"{app}: Home did not scroll back to the top"
        _at_rest(page)  # as before End: a PageDown pressed while Home's smooth scroll ends was lost on a busy machine
        page.keyboard.press("PageDown")
        assert _settled(page, lambda p: p.evaluate(scrolled) >= 400), f"{app}: PageDown did not scroll"
        _at_rest(page)
        page.keyboard.press("End")
        in_view = _settled(page, _last_figure_in_view)
        page.screenshot(path=str(ARTIFACTS / f"{app}-key-end.png"))
        assert in_view, f"{app}: End left the last chart or table at {page.evaluate(LAST_FIGURE)}"
    finally:
        context.close()


def test_a_long_client_name_stays_inside_the_pickers_panel(server, browser):
    """A 150-character client name made the client picker as wide, past its grey panel, where it was cut off."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(server.url("/"))
        open_app(page, server.url("/voila/render/client.ipynb", token=False), "client-long-name")
        # A picker is as wide as its longest choice: one such choice, chosen, as a long client name would be.
        name = "Ассоциация «Café Zürich» — 北京数字营销有限公司 · Extraordinarily Long Name Holdings International " * 2
        page.eval_on_selector(".q-app-picker-client select",
                              "(s, name) => { s.add(new Option(name, 'long')); s.value = 'long'; }", name)
        panel, picker = (page.locator(sel).bounding_box() for sel in (".q-app-controls", ".q-app-picker-client select"))
        page.locator(".q-app-controls").screenshot(path=str(ARTIFACTS / "client-long-name-picker.png"))
        assert picker["x"] + picker["width"] <= panel["x"] + panel["width"], (picker, panel)
    finally:
        context.close()


def test_landing_lists_apps_and_runs(server, page):
    page.goto(server.url("/"))
    apps = page.locator(".q-app-card").evaluate_all("cards => cards.map(c => c.dataset.app)")
    assert apps == ["executive", "client", "cohort", "experiment"]
    for report, run_id, _, name, _ in RUNS:
        link = page.locator(f'a[href$="archive/{report}/{DAY}/{run_id}/report.html"]')
        assert link.count() == 1, f"run {run_id} of {report} is not listed"
        if name:
            assert page.locator(f'table[data-report="{report}"] >> text={name}').count() == 1
    assert page.locator(".q-status-succeeded").count() == len(RUNS)
    page.screenshot(path=str(ARTIFACTS / "landing.png"), full_page=True)
    # The listed report opens, under a sandboxing Content-Security-Policy.
    response = page.goto(server.url(f"/archive/executive/{DAY}/{RUNS[0][1]}/report.html", token=False))
    assert response.status == 200
    assert "sandbox" in response.headers["content-security-policy"]
    assert page.external_requests == []


def test_the_landing_and_error_pages_pass_axe(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # axe is an inline script
    try:
        page = context.new_page()
        page.goto(server.url("/"))
        assert axe_violations(page) == []
        page.goto(server.url("/voila/render/nope.ipynb", token=False))
        assert "no app or page at this address" in page.inner_text("main")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_on_a_phone_every_listed_run_opens_from_the_screen(server, browser):
    """At 390 px the landing page's runs ended in their link column, off-screen to the right of each table."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(server.url("/"))
        links = page.locator('.q-runs a[href$="/report.html"]')
        assert links.count() == len(RUNS)
        off_screen = links.evaluate_all("links => links.filter(a => a.getBoundingClientRect().left < 0 || "
                                        "a.getBoundingClientRect().right > window.innerWidth).map(a => a.href)")
        page.screenshot(path=str(ARTIFACTS / "landing-phone.png"), full_page=True)
        assert off_screen == []
    finally:
        context.close()


def test_client_facing_mode_pins_the_client(client_server, page):
    page.goto(client_server.url("/"))
    assert page.locator(".q-app-card").evaluate_all("cards => cards.map(c => c.dataset.app)") == ["client"]
    body = page.inner_text("body")
    assert "Riverton Realty" not in body and page.locator('a[href*="riverton"]').count() == 0
    assert page.locator('a[href*="quantalane-health/report.html"]').count() == 1
    page.screenshot(path=str(ARTIFACTS / "client-mode-landing.png"), full_page=True)

    open_app(page, client_server.url("/voila/render/client.ipynb", token=False), "client-mode")
    assert page.locator(".q-app-picker-client").count() == 0, "client-facing mode must not offer a client picker"
    assert page.locator(".q-app-picker-period").count() == 1
    assert "Quantalane Health" in page.inner_text(".q-app-output .q-report-header")
    page.screenshot(path=str(ARTIFACTS / "client-mode-app.png"))
    # The other apps are not served at all in client-facing mode.
    assert page.goto(client_server.url("/voila/render/executive.ipynb", token=False)).status == 404
    assert page.external_requests == []


@pytest.mark.parametrize("app", ["client", "executive"])
def test_on_a_phone_the_report_fits_the_screen_and_wide_tables_scroll_in_place(server, browser, app):
    """At 390 px a wide table (the client's 8-column week by week) made every card and heading 710 px wide."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(server.url("/"))
        open_app(page, server.url(f"/voila/render/{app}.ipynb", token=False), f"{app}-phone")
        outside = page.evaluate("""() => [...document.querySelectorAll(
            '.q-app-output :is(.q-kpi, h1, h2, .q-lead, .q-report-subtitle, .q-table-wrap, .q-chart)')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.className + ': ' + e.innerText.slice(0, 40))""")
        page.screenshot(path=str(ARTIFACTS / f"{app}-phone.png"), full_page=True)
        assert outside == []
    finally:
        context.close()
