"""A section's heading never ends a page without what follows it: here, a section that opens with KPI cards.

The executive report of the demo warehouse for November 2026 put "5 Project delivery" at the foot of page 4 and
its cards on page 5: Chromium left the heading behind a grid of cards, whatever the heading's break-after said.
The sweep below moves the section down the page row by row, so that one of its positions is that one.
"""

from __future__ import annotations

import io

import nbformat
import pandas as pd
import pytest
from pypdf import PdfReader

from quire.brand import load_brand
from quire.display import KpiCards, Section, Table
from quire.metrics.kpi import Kpi
from quire.pdf import render_pdf
from quire.render import render_html

pytestmark = pytest.mark.slow


def _report(rows: int) -> str:
    filler = Section("Forecast", [Table(pd.DataFrame({"Month": [f"Month {i}" for i in range(rows)],
                                                      "Forecast": range(rows)}), caption="Filler")])
    cards = Section("Project delivery", [KpiCards([Kpi(f"k{i}", f"Card {i}", 0.5 + i / 100, "percent", 0.5)
                                                   for i in range(4)])])
    cells = [nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output("display_data", fragment._repr_mimebundle_())])
             for fragment in (filler, cards)]
    notebook = nbformat.v4.new_notebook(cells=cells)
    return render_html(notebook, brand=load_brand("quire"), meta={"title": "Headings", "period": "November 2026"})


def test_a_section_heading_stays_on_the_page_of_its_first_cards(quire_env, settings_for):
    settings_for(quire_env)
    seen = set()
    for rows in range(22, 44):
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(_report(rows)))).pages]
        [heading] = [i for i, text in enumerate(pages) if "Project delivery" in text]
        [first_card] = [i for i, text in enumerate(pages) if "Card 0" in text]
        seen.add(heading)
        assert heading == first_card, f"with {rows} filler rows the heading is on page {heading + 1}, its cards on {first_card + 1}"
    assert len(seen) > 1, "the sweep never moved the section to another page: it tests nothing"
