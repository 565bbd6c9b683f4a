"""Every report type in every brand, printed to PDF and checked the way a reader looks at it.

Each report notebook is executed once (the real CLI against the tiny warehouse) and its
executed notebook is re-rendered in every shipped brand, which is what a brand changes.
Per PDF: A4 pages, a sane page count, the running header on page 2, the brand's logo on
the cover (a tagged Figure whose alt text is the brand's name), the contents page numbers
resolved, and no page whose text is only a heading or only the contact/legal lines. Page 1
of each goes to ``tests/artifacts/visual/<report>-<brand>.png`` for people to look at.
"""

from __future__ import annotations

import html as html_lib
import io
import os
import re
import subprocess

import duckdb
import nbformat
import pytest
from pypdf import PdfReader

from quire.brand import list_brands, load_brand
from quire.pipeline import report_outputs
from quire.render import render_html, render_pdf
from support import ROOT, published_runs, run_quire

pytestmark = pytest.mark.slow
REPORTS = ("executive", "client", "cohort", "experiment")
BRANDS = tuple(list_brands(ROOT / "templates"))
ARTIFACTS = ROOT / "tests" / "artifacts" / "visual"
A4 = (595.28, 841.89)


@pytest.fixture(scope="session")
def executed(tiny_warehouse, tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """Each report type executed once against the tiny warehouse (a white-label client for the client report)."""
    con = duckdb.connect(tiny_warehouse.removeprefix("duckdb:///"), read_only=True)
    try:
        client, = con.execute("""select c.slug from clients c join organizations o using (org_id)
                                 where c.status = 'active' and coalesce(c.brand, o.brand) <> 'quire'
                                 order by c.slug limit 1""").fetchone()
    finally:
        con.close()
    outputs = tmp_path_factory.mktemp("visual-outputs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIRE_")}
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(ROOT))
    notebooks = {}
    for report in REPORTS:
        args = ["-p", f"client={client}"] if report == "client" else []
        proc = run_quire(env, "run", report, *args)
        assert proc.returncode == 0, f"{report}: {proc.stderr[-2000:]}"
        [folder] = published_runs(outputs, report)
        notebooks[report] = nbformat.read(folder / "report.ipynb", as_version=4)
    return notebooks


class Rendered:
    """One report in one brand: its HTML, PDF and per-page text."""

    def __init__(self, report: str, brand_name: str, nb: nbformat.NotebookNode) -> None:
        self.brand = load_brand(brand_name, ROOT / "templates")
        meta, _ = report_outputs(nb)
        self.meta = {"title": report.title(), **meta, "report_id": report, "run_id": "20261101T060000Z-visual",
                     "generated": "1 November 2026"}
        self.html = render_html(nb, brand=self.brand, meta=self.meta)
        self.pdf = render_pdf(self.html)
        self.reader = PdfReader(io.BytesIO(self.pdf))
        self.pages = [page.extract_text() or "" for page in self.reader.pages]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = ARTIFACTS / f"{report}-{brand_name}"
        stem.with_suffix(".pdf").write_bytes(self.pdf)
        # -singlefile: page 1 only, written as <stem>.png
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                        str(stem.with_suffix(".pdf")), str(stem)], check=True)

    def headings(self) -> set[str]:
        """Texts of the report's h2/h3 headings, as pdftotext would show them."""
        found = re.findall(r"<h[23][^>]*>(.*?)</h[23]>", self.html, re.DOTALL)
        return {html_lib.unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in found}

    def body_lines(self, number: int) -> list[str]:
        """Page ``number``'s own lines: without what every page after the cover repeats (header, footer) or its page number."""
        def lines(text: str) -> list[str]:
            return [line.strip() for line in text.splitlines() if line.strip()]
        repeated = set(lines(self.pages[1]))
        for text in self.pages[2:]:
            repeated &= set(lines(text))
        return [line for line in lines(self.pages[number - 1])
                if line not in repeated and not re.fullmatch(r"Page \d+ of \d+", line)]

    def cover_figures(self) -> list[str]:
        """Alt texts of the tagged figures on page 1."""
        pages = {page.indirect_reference.idnum: i + 1 for i, page in enumerate(self.reader.pages)}
        found: list[str] = []

        def walk(node, page=None):
            node = node.get_object()
            if isinstance(node, list):
                for child in node:
                    walk(child, page)
                return
            if not hasattr(node, "get"):
                return
            page = node.get("/Pg", page)
            if node.get("/S") == "/Figure" and page is not None and pages.get(page.idnum) == 1:
                found.append(str(node.get("/Alt", "")))
            if node.get("/K") is not None:
                walk(node["/K"], page)

        walk(self.reader.trailer["/Root"]["/StructTreeRoot"])
        return found


_cache: dict[tuple[str, str], Rendered] = {}


@pytest.fixture
def rendered(executed, request) -> Rendered:
    report, brand = request.param
    if (report, brand) not in _cache:
        _cache[(report, brand)] = Rendered(report, brand, executed[report])
    return _cache[(report, brand)]


CASES = [(r, b) for r in REPORTS for b in BRANDS]


@pytest.mark.parametrize("rendered", CASES, indirect=True, ids=[f"{r}-{b}" for r, b in CASES])
def test_report_prints_well_in_every_brand(rendered):
    r = rendered
    for page in r.reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=1)
    assert 3 <= len(r.pages) <= 20
    title = r.meta["title"][:40]
    assert title in r.pages[1], "running header on page 2"
    assert f"Page 2 of {len(r.pages)}" in r.pages[1] and r.brand.footer in r.pages[1]
    assert r.brand.name in r.cover_figures(), "the brand's logo is on the cover"
    assert "contents" in r.pages[0].lower(), "the cover lists the contents"
    headings = r.headings()
    colophon = {r.brand.contact, r.brand.legal}
    for number in range(2, len(r.pages) + 1):
        body = r.body_lines(number)
        assert body, f"page {number} is empty"
        # A stray callout or a colophon spilled onto a page of its own is a few lines long.
        assert len(body) >= 5, f"page {number} holds almost nothing: {body}"
        bare = [re.sub(r"^\d+(\.\d+)?\s+", "", line) for line in body]
        assert not all(line in headings for line in bare), f"page {number} holds only a heading: {body}"
        assert not all(line in colophon for line in body), f"page {number} holds only the contact/legal lines"
        last = bare[-1]
        assert last not in headings, f"page {number} ends with the heading {last!r}"


@pytest.mark.parametrize("rendered", [(r, BRANDS[0]) for r in REPORTS], indirect=True, ids=list(REPORTS))
def test_contents_lists_sections_with_page_numbers(rendered):
    r = rendered
    nav = re.search(r'<nav class="q-toc".*?</nav>', r.html, re.DOTALL)
    assert nav, "every report type has enough sections for a table of contents"
    targets = re.findall(r'href="#(q-s\d+)"', nav.group(0))
    assert targets and all(f'id="{t}"' in r.html for t in targets)
    numbers = [int(n) for n in re.findall(r"\.\s*(\d+)\s*$", r.pages[0], re.MULTILINE)]
    assert len(numbers) == len(targets), r.pages[0]
    assert numbers == sorted(numbers) and 2 <= numbers[0] and numbers[-1] <= len(r.pages)


@pytest.mark.parametrize("rendered", [(r, BRANDS[0]) for r in REPORTS], indirect=True, ids=list(REPORTS))
def test_html_is_accessible(rendered):
    html = rendered.html
    assert re.search(r'<html lang="[a-z]{2}', html)
    levels = [int(h) for h in re.findall(r"<h([1-6])\b", html)]
    assert levels[0] == 1
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, f"heading level skips from h{before} to h{after}"
    assert not re.search(r"<th(?=[\s>])(?![^>]*\bscope=)[^>]*>", html), "every header cell has a scope"
    for img in re.findall(r"<img\b[^>]*>", html):
        assert re.search(r'\salt="', img), img[:80]
    charts = re.findall(r'<figure class="q-chart"><img [^>]*alt="([^"]*)"', html)
    assert charts and all(alt.strip() for alt in charts)
