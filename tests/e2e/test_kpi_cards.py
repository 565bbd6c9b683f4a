"""A KPI card's value stays inside its card, however long it is, on screen and in print (Chromium).

At 15 pt in a quarter of an A4 page, "$1,830,000,000" ran under the next card ("$1,830,000,00" showed)
and "$135,600,000" past its card's edge.
"""

from __future__ import annotations

import pytest

from quire.display import KpiCards
from quire.metrics.kpi import Kpi
from support import ROOT

pytestmark = pytest.mark.slow
VALUES = [("mrr", 1_830_000_000.0, "currency"), ("arr", 135_600_000.0, "currency"), ("nrr", 10_000.0, "percent"),
          ("arpa", 13_560_000.0, "currency"), ("logo_churn", 0.052, "percent"), ("paying", 42.0, "number")]


def page_html() -> str:
    css = (ROOT / "templates" / "quire" / "static" / "report.css").read_text()
    kpis = [Kpi(key, key.replace("_", " ").upper(), value, unit, previous=value * 0.9) for key, value, unit in VALUES]
    cards = KpiCards(kpis[:4], comparison_label="October 2026").html() + \
        KpiCards(kpis[4:] + [Kpi("plain", "NO COMPARISON", 1_830_000_000.0, "currency")]).html()
    return f"<!doctype html><html><head><style>{css}</style></head><body><main class='q-body'>{cards}</main></body></html>"


@pytest.mark.parametrize("media, width", [("screen", 900), ("screen", 700), ("print", 680)])  # print: A4 less margins
def test_every_kpi_value_stays_inside_its_card(browser, media, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.emulate_media(media=media)
        page.set_content(page_html())
        spill = page.evaluate("""() => [...document.querySelectorAll('.q-kpi-value')].map(v => {
            const card = v.closest('.q-kpi').getBoundingClientRect(), range = document.createRange();
            range.selectNodeContents(v);
            const text = range.getBoundingClientRect();
            return [v.textContent, text.right - (card.right - 1), card.left + 1 - text.left];
        })""")
        texts = [t for t, *_ in spill]
        assert "$1,830,000,000" in texts and "$135,600,000" in texts, texts
        assert all(max(right, left) <= 0 for _, right, left in spill), spill
        # A smaller value stays level with its neighbours' (cards with a comparison, one grid row at a time).
        rows: dict[int, list[float]] = {}
        for card_top, value_top in page.evaluate("""() => [...document.querySelectorAll('.q-kpi')]
                .filter(card => card.querySelector('.q-kpi-delta'))
                .map(card => [card.getBoundingClientRect().top,
                              card.querySelector('.q-kpi-value').getBoundingClientRect().top])"""):
            rows.setdefault(round(card_top), []).append(value_top)
        assert all(max(tops) - min(tops) <= 1 for tops in rows.values()), rows
    finally:
        page.close()
