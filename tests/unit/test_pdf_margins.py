"""The PDF's running header and footer as a reader sees them, from both printers: where each word and the logo land.

Measured on the printed pages: words with ``pdftotext -bbox``, the logo by its colour in ``pdftoppm``'s image of
the page at 72 dpi (a pixel is a point).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from quire.brand import load_brand
from quire.display import Section, Table
from quire.pdf import chromium
from quire.render import render_html, render_pdf

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdftoppm"), reason="poppler-utils")]

ROOT = Path(__file__).resolve().parents[2]
MM = 72 / 25.4  # points in a millimetre
PAGE_WIDTH, PAGE_HEIGHT, SIDE_MARGIN = 595.28, 841.89, 17 * MM
LOGO_RED = (200, 16, 46)  # #c8102e: no other colour of the page
CLIENT = ("Ассоциация муниципальных цифровых служб и партнёров по развитию Extraordinarily Long Holding "
          "Company of Regional Digital Services International")
TITLE, PERIOD = "Performance report", "November 2026"


def _wide_logo_kit(tmp_path: Path) -> Path:
    """The stock ``quire`` kit with a 2000 × 60 PNG logo, all red: the templates folder holding it."""
    from PIL import Image

    templates = tmp_path / "templates"
    kit = templates / "brands" / "wide"
    shutil.copytree(ROOT / "templates" / "brands" / "quire", kit)
    Image.new("RGB", (2000, 60), LOGO_RED).save(kit / "logo.png")
    text = (kit / "brand.yaml").read_text()
    (kit / "brand.yaml").write_text(re.sub(r"(?m)^logo: .*$", "logo: logo.png", text))
    return templates


def _notebook() -> nbformat.NotebookNode:
    """Three pages or so: a cover and a table that runs over a page break."""
    rows = pd.DataFrame({"Account": [f"Account {i:02d}" for i in range(70)], "Views": range(1000, 1070)})
    section = Section("Accounts", [Table(rows, caption="Views by account", units={"Views": "number"})])
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data=section._repr_mimebundle_())]
    return nbformat.v4.new_notebook(cells=[cell])


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> str:
    brand = load_brand("wide", _wide_logo_kit(tmp_path_factory.mktemp("kit")))
    meta = {"title": TITLE, "period": PERIOD, "client": CLIENT, "generated": "1 December 2026",
            "report_id": "client", "run_id": "20261201T060000Z-abc123"}
    return render_html(_notebook(), brand=brand, meta=meta)


def _chromium_pdf(html: str) -> bytes:
    if not chromium.chromium_path():
        pytest.fail("Chromium is not installed at /usr/bin/chromium (make setup-test installs it)")
    with chromium.PrintService() as service:
        return chromium.print_report(service.address.encode(), html)


@pytest.fixture(scope="module", params=["chromium", "weasyprint"])
def printed(request, html, tmp_path_factory) -> Path:
    pdf = (_chromium_pdf if request.param == "chromium" else render_pdf)(html)
    path = tmp_path_factory.mktemp(request.param) / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(path.with_name("page"))], check=True)  # to look at
    return path


def _words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """(x min, y min, x max, y max, word) of every word of ``page``, in points from the top left."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', out)
    return [(float(a), float(b), float(c), float(d), word) for a, b, c, d, word in found]


def _logo_box(pdf: Path, page: int) -> tuple[int, int, int, int]:
    """Left, top, right and bottom (points) of the logo's red on ``page``."""
    from PIL import Image

    stem = pdf.with_name(f"logo-{page}")
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                    str(stem)], check=True)
    with Image.open(stem.with_suffix(".png")) as image:
        rgb = image.convert("RGB")
        red = [(x, y) for y in range(rgb.height) for x in range(rgb.width)
               if all(abs(a - b) <= 40 for a, b in zip(rgb.getpixel((x, y)), LOGO_RED, strict=True))]
    assert red, f"no logo on page {page}"
    xs, ys = [x for x, _ in red], [y for _, y in red]
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


def test_a_wide_logo_stays_in_its_box_beside_the_title_and_period(printed):
    # A 2000 × 60 logo ran from the left margin past the page's right edge, over the title and the period.
    left, top, right, bottom = _logo_box(printed, 2)
    assert left >= SIDE_MARGIN - 2 and right <= SIDE_MARGIN + 45 * MM + 2, (left, right)
    assert bottom <= 25 * MM, "the logo is in the header"
    header = [w for w in _words(printed, 2) if w[3] <= 25 * MM]
    title = next(w for w in header if w[4] == TITLE.split()[0])
    period = [w for w in header if w[4] in PERIOD.split()]
    assert title[0] >= right + 2 * MM, "the title starts after the logo"
    assert period and all(w[0] > title[2] for w in period)
    assert max(w[2] for w in header) <= PAGE_WIDTH - SIDE_MARGIN + 1, "nothing runs past the right margin"


def test_a_long_client_name_keeps_the_footer_on_one_line_before_the_page_number(printed):
    # "…Extraor… Page 2 of 7": cut twice, no gap before the number, and wrapped onto a second line.
    footer = [w for w in _words(printed, 2) if w[1] >= PAGE_HEIGHT - 20 * MM]
    number = next(i for i, w in enumerate(footer) if w[4] == "Page")
    line = footer[:number]
    assert line and " ".join(w[4] for w in footer[number:]).startswith("Page 2 of")
    assert max(w[1] for w in line) - min(w[1] for w in line) < 2, "the footer is one line"
    assert max(w[2] for w in line) + 3 * MM <= footer[number][0], "a gap before the page number"
    text = " ".join(w[4] for w in line)
    assert text.startswith("Prepared for Ассоциация") and text.count("…") == 1 and text.endswith("…")
