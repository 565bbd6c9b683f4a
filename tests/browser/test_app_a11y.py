"""The stakeholder apps for keyboard and screen-reader users, in a real browser: where the focus is, what is announced,
what a page says when its server stops answering, and what axe-core finds on a phone."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from browser_support import ARTIFACTS, axe_violations, open_app

TAB_STOPS = 12  # more than the links and pickers before an app's first picker


def _luminance(rgb: tuple[int, ...]) -> float:
    """WCAG relative luminance of an sRGB colour."""
    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(one: str, other: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(…)`` colours."""
    lighter, darker = sorted((_luminance(tuple(int(float(v)) for v in re.findall(r"[\d.]+", c)[:3]))
                              for c in (one, other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


FOCUS_STYLE = """e => { const s = getComputedStyle(e); const panel = getComputedStyle(e.closest('.q-app-controls'));
    return {tag: e.tagName, picker: !!e.closest('.q-app-controls'), width: parseFloat(s.outlineWidth),
            style: s.outlineStyle, colour: s.outlineColor, offset: parseFloat(s.outlineOffset),
            panel: panel.backgroundColor}; }"""


def test_a_picker_reached_with_the_keyboard_shows_a_clear_focus_ring(server, page):
    """Tabbing to a picker changed only its 1-px border, grey to light blue (2.2:1 on white): the focused picker
    looked like the others."""
    page.goto(server.url("/"))
    open_app(page, server.url("/voila/render/client.ipynb", token=False), "client-focus")
    page.wait_for_selector(".q-app-controls select:not([disabled])")
    for _ in range(TAB_STOPS):
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('.q-app-controls')"):
            break
    focused = page.evaluate(f"({FOCUS_STYLE})(document.activeElement)")
    page.locator(".q-app-controls").screenshot(path=str(ARTIFACTS / "client-picker-focus.png"))
    assert focused["picker"] and focused["tag"] == "SELECT", focused
    assert focused["style"] == "solid" and focused["width"] >= 2 and focused["offset"] >= 1, focused
    # Against the page and against the pickers' panel, which the ring stands on (WCAG 1.4.11: 3:1).
    assert _contrast(focused["colour"], "rgb(255, 255, 255)") >= 3, focused
    assert _contrast(focused["colour"], focused["panel"]) >= 3, focused
    # The other picker, not focused, has no ring: the two are told apart by the ring alone.
    others = page.locator(".q-app-controls select:not(:focus)")
    assert others.count() >= 1
    assert others.first.evaluate(FOCUS_STYLE)["style"] == "none"


def _newest_client_and_a_period_before_it(warehouse: str) -> tuple[str, str]:
    """The name of the tiny warehouse's newest active client and the label of a period the client app offers from
    before that client signed up."""
    import pandas as pd

    from quire.apps import client
    from quire.periods import parse_period
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(warehouse) as conn:
        clients = queries.clients(conn)
    active = clients[clients["status"] == "active"]
    late = active.loc[pd.to_datetime(active["signup_date"]).idxmax()]
    signup = pd.Timestamp(late["signup_date"]).date()
    before = [label for label, key in client.ClientApp(warehouse).pickers["period"].options
              if parse_period(key).end < signup]
    assert before, f"every offered period is after {late['name']} signed up"
    return str(late["name"]), before[0]


def test_the_status_line_and_nothing_to_show_are_announced(server, page, tiny_warehouse):
    """A screen reader heard nothing when a picker changed: neither "Updating…" then "Updated in 2.1 s", nor that
    there was nothing to show for the period chosen. Both were plain text."""
    page.goto(server.url("/"))
    open_app(page, server.url("/voila/render/client.ipynb", token=False), "client-announce")
    status = page.locator(".q-app-controls .q-app-status[role=status]")
    status.wait_for(timeout=10_000)
    assert "Updated in" in status.inner_text()

    name, before = _newest_client_and_a_period_before_it(tiny_warehouse)
    for picker, label in (("client", name), ("period", before)):
        render = int(page.get_attribute(".q-app-status [data-render]", "data-render"))
        # The select's value is the label with plain spaces (the option's text has no-break spaces).
        if page.eval_on_selector(f".q-app-picker-{picker} select", "s => s.value") != label:
            page.select_option(f".q-app-picker-{picker} select", label=label)
            page.wait_for_selector(f'.q-app-status [data-render="{render + 1}"]', timeout=30_000)
    alert = page.locator(".q-app-output [role=alert]")
    assert alert.count() == 1 and alert.inner_text().startswith("Nothing to show."), alert.all_inner_texts()
    assert f"{name} had no subscription in {before}" in alert.inner_text()
    assert page.locator(".q-app-controls .q-app-status[role=status]").count() == 1


def test_the_page_title_names_what_the_app_shows(server, page):
    """Every tab of an app read "Client performance", whichever client and period it showed (WCAG 2.4.2)."""
    page.goto(server.url("/"))
    open_app(page, server.url("/voila/render/client.ipynb", token=False), "client-title")
    page.locator(".q-app-controls .q-app-status[role=status]").wait_for(timeout=10_000)
    picker = page.locator(".q-app-picker-client select")
    first, other = picker.evaluate(
        "s => [[...s.options].find(o => o.selected), [...s.options].find(o => !o.selected)].map(o => [o.value, o.text])")
    period = page.locator(".q-app-picker-period select").evaluate("s => s.options[s.selectedIndex].text")

    def words(text: str) -> str:
        return " ".join(text.split())  # the options' texts have no-break spaces

    assert page.title() == f"Client performance — {words(first[1])}, {words(period)}"
    render = int(page.get_attribute(".q-app-status [data-render]", "data-render"))
    picker.select_option(value=other[0])
    page.wait_for_selector(f'.q-app-status [data-render="{render + 1}"]', timeout=30_000)
    assert page.title() == f"Client performance — {words(other[1])}, {words(period)}"


@pytest.mark.parametrize("app", ["client", "experiment"])
def test_on_a_phone_the_wide_tables_and_charts_are_reachable_with_the_keyboard(server, browser, app):
    """At 390 px axe-core found "scrollable-region-focusable" (serious): wide tables and charts scroll sideways in
    their own box, which had no tabindex, so keyboard users of some browsers could not reach their right-hand side."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(server.url("/"))
        open_app(page, server.url(f"/voila/render/{app}.ipynb", token=False), f"{app}-phone-keys")
        scrolling = page.evaluate("""() => [...document.querySelectorAll('.q-app-output :is(.q-table-wrap, .q-chart)')]
            .filter(e => e.scrollWidth > e.clientWidth).length""")
        assert scrolling, "nothing scrolls sideways at 390 px: the test shows nothing"
        assert axe_violations(page) == []
        regions = page.locator(".q-app-output .q-table-wrap[role=region][tabindex='0']")
        assert regions.count() == page.locator(".q-app-output .q-table-wrap").count() >= 1
        assert all(label.strip() for label in regions.evaluate_all("rs => rs.map(r => r.getAttribute('aria-label'))"))
    finally:
        context.close()


LOST_AFTER_S = 10  # index.html.j2's LOST_AFTER_MS


def test_a_change_the_server_does_not_answer_says_updating_then_that_the_connection_is_lost(server, page):
    """With the server hung (or a connection dropped without being closed, which no socket reports), a changed picker
    showed the new choice over the old report, "Updated in 0.7 s", and no notice. The server is stopped here for real
    (SIGSTOP): the page says "Updating…" at once, the lost-connection notice after 10 s, and recovers once the
    server goes on (SIGCONT)."""
    page.goto(server.url("/"))
    open_app(page, server.url("/voila/render/experiment.ipynb", token=False), "experiment-hung")
    page.locator(".q-app-controls .q-app-status[role=status]").wait_for(timeout=10_000)
    picker = page.locator(".q-app-picker-experiment select")
    other = picker.evaluate("s => [...s.options].find(o => !o.selected).value")
    notice = page.locator("#q-app-ended[role=alert]")
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        picker.select_option(value=other)
        changed = time.monotonic()
        page.wait_for_function("() => document.querySelector('.q-app-status').innerText.trim() === 'Updating…'",
                               timeout=2_000)
        assert notice.count() == 0
        notice.wait_for(timeout=(LOST_AFTER_S + 8) * 1000)
        waited = time.monotonic() - changed
        page.screenshot(path=str(ARTIFACTS / "experiment-hung-server.png"))
        assert waited >= LOST_AFTER_S - 1, f"the notice came {waited:.1f} s after the change"
        assert notice.get_attribute("data-reason") == "lost" and "lost its connection" in notice.inner_text()
        assert notice.locator("button", has_text="Reload").count() == 1
        assert page.inner_text(".q-app-status").strip() == "Updating…"
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    # The server goes on: the change is applied, and the notice, which no longer holds, is taken back.
    page.wait_for_selector('.q-app-status [data-render="2"]', timeout=60_000)
    notice.wait_for(state="detached", timeout=10_000)
    assert page.inner_text(".q-app-status").startswith("Updated in")
    assert other.split(" (")[0] in page.inner_text(".q-app-output")  # "Guided setup upsell (onboarding-upsell)"
