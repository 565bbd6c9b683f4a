"""The stakeholder apps for keyboard and screen-reader users, in a real browser: where the focus is, what is announced,
what a page says when its server stops answering, and what axe-core finds on a phone."""

from __future__ import annotations

import re

from browser_support import ARTIFACTS, open_app

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
