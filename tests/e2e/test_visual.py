"""Every report type in every brand, printed to PDF and checked the way a reader looks at it.

Each report notebook is executed once (the real CLI against the tiny warehouse) and its
executed notebook is re-rendered in every shipped brand, which is what a brand changes.
Per PDF: A4 pages, a sane page count, the running header on page 2, the brand's logo on
the cover (a tagged Figure whose alt text is the brand's name), the contents page numbers
resolved, no page whose text is only a heading or only the contact/legal lines, and no page
but the cover and the last less than 60% full (measured on the page image: how far down the
content area the last ink reaches). Page 1 of each goes to
``tests/artifacts/visual/<report>-<brand>.png`` for people to look at.

Also here: the footer line of each audience (internal reports, a client's report), and the
house style on an analyst's plain pandas/matplotlib notebook and on the worked example.
"""

from __future__ import annotations

import base64
import csv
import html as html_lib
import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import duckdb
import nbformat
import openpyxl
import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from quire.brand import list_brands, load_brand
from quire.pipeline import report_outputs
from quire.render import render_html, render_pdf, report_audience
from support import ROOT, published_runs, quire_free_env, run_quire
from support.runs import run_warm

pytestmark = pytest.mark.slow
REPORTS = ("executive", "client", "cohort", "experiment")
BRANDS = tuple(list_brands(ROOT / "templates"))
ARTIFACTS = ROOT / "tests" / "artifacts" / "visual"
A4 = (595.28, 841.89)
#: The page's content area, from report.css's @page margins (mm of A4's 297): the running header
#: and footer sit outside it.
CONTENT_TOP_MM, CONTENT_BOTTOM_MM = 25.0, 20.0
#: Every page but the cover and the last reaches at least this far down its content area.
MIN_FILL = 0.6
#: matplotlib's own default colours (tab10): a plain figure still wearing them was not styled.
MATPLOTLIB_DEFAULTS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"}


def quire_env(tiny_warehouse: str, outputs: Path, home: Path = ROOT) -> dict[str, str]:
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(home))
    return env


def active_client(tiny_warehouse: str, *, quire_brand: bool) -> tuple[str, str]:
    """(slug, name) of the first active client whose effective brand is (or is not) ``quire``."""
    con = duckdb.connect(tiny_warehouse.removeprefix("duckdb:///"), read_only=True)
    try:
        return con.execute(f"""select c.slug, c.name from clients c join organizations o using (org_id)
                               where c.status = 'active' and coalesce(c.brand, o.brand) {'=' if quire_brand else '<>'} 'quire'
                               order by c.slug limit 1""").fetchone()
    finally:
        con.close()


def page_fill(pdf: Path) -> list[float]:
    """Per page: how far down its content area the last ink reaches (0 empty … 1 full to the footer)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-png", "-gray", "-r", "40", str(pdf), f"{tmp}/page"], check=True)
        fills = []
        for png in sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
            pixels = np.asarray(Image.open(png).convert("L"))
            top = int(pixels.shape[0] * CONTENT_TOP_MM / 297)
            bottom = int(pixels.shape[0] * (1 - CONTENT_BOTTOM_MM / 297))
            inked = np.flatnonzero((pixels[top:bottom] < 235).any(axis=1))
            fills.append(0.0 if inked.size == 0 else (inked[-1] + 1) / (bottom - top))
        return fills


@pytest.fixture(scope="session")
def runs(tiny_warehouse, tmp_path_factory) -> dict[str, Path]:
    """Each report type run once against the tiny warehouse (a white-label client for the client report)."""
    client, _ = active_client(tiny_warehouse, quire_brand=False)
    env = quire_env(tiny_warehouse, tmp_path_factory.mktemp("visual-outputs"))
    folders = {}
    commands = [("run", r, *(("-p", f"client={client}") if r == "client" else ())) for r in REPORTS]
    for report, proc in zip(REPORTS, run_warm(env, commands), strict=True):
        assert proc.returncode == 0, f"{report}: {proc.stderr[-2000:]}"
        [folders[report]] = published_runs(Path(env["QUIRE_OUTPUTS"]), report)
    return folders


@pytest.fixture(scope="session")
def executed(runs) -> dict[str, nbformat.NotebookNode]:
    """The executed notebook of each report type."""
    return {report: nbformat.read(folder / "report.ipynb", as_version=4) for report, folder in runs.items()}


class Rendered:
    """One report in one brand: its HTML, PDF and per-page text."""

    def __init__(self, report: str, brand_name: str, nb: nbformat.NotebookNode) -> None:
        self.brand = load_brand(brand_name, ROOT / "templates")
        meta, _ = report_outputs(nb)
        self.meta = {"title": report.title(), **meta, "report_id": report, "run_id": "20261101T060000Z-visual",
                     "generated": "1 November 2026"}
        self.html = render_html(nb, brand=self.brand, meta=self.meta)
        lines = self.brand.lines_for(report_audience(self.meta), str(self.meta.get("client") or ""))
        self.footer, self.legal = lines["footer"], lines["legal"]
        self.pdf = render_pdf(self.html)
        self.reader = PdfReader(io.BytesIO(self.pdf))
        self.pages = [page.extract_text() or "" for page in self.reader.pages]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = ARTIFACTS / f"{report}-{brand_name}"
        stem.with_suffix(".pdf").write_bytes(self.pdf)
        self.fills = page_fill(stem.with_suffix(".pdf"))
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
    assert f"Page 2 of {len(r.pages)}" in r.pages[1] and r.footer in r.pages[1]
    assert r.brand.name in r.cover_figures(), "the brand's logo is on the cover"
    assert "contents" in r.pages[0].lower(), "the cover lists the contents"
    headings = r.headings()
    colophon = {r.brand.contact, r.legal}
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
    # No page is left mostly empty by a block that would not fit below (a grid, a chart, a run of
    # callouts, a forced break): only the cover and the last page may end high.
    for number, full in enumerate(r.fills[1:-1], start=2):
        assert full >= MIN_FILL, f"page {number} of {len(r.pages)} is only {full:.0%} full (fills: {r.fills})"


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
    charts = re.findall(r'<figure class="q-chart[^"]*"[^>]*><img [^>]*alt="([^"]*)"', html)
    assert charts and all(alt.strip() for alt in charts)


@pytest.mark.parametrize("rendered", [(r, BRANDS[0]) for r in REPORTS], indirect=True, ids=list(REPORTS))
def test_html_passes_axe(rendered, browser):
    """axe-core (npm, injected by Playwright) finds no violation in the report, in any impact: the facts and power
    tables' empty header cells were announced as nameless columns ("empty-table-header")."""
    axe = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.exists():
        pytest.skip("axe-core is not installed (make setup installs it)")
    # axe is an inline script, which the report's Content-Security-Policy refuses.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        page = context.new_page()
        page.set_content(rendered.html, wait_until="load")
        page.add_script_tag(path=str(axe))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        found = [(v["id"], v["impact"], v["nodes"][0]["html"][:120]) for v in result["violations"]]
        assert found == [], found
    finally:
        context.close()


@pytest.mark.parametrize("rendered", [(r, BRANDS[0]) for r in REPORTS], indirect=True, ids=list(REPORTS))
def test_html_reads_on_a_phone(rendered, browser):
    # At 390 px a wide table's caption was laid out at the table's width and cut mid-word at its box's edge.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_content(rendered.html, wait_until="load")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, "the page itself scrolls sideways"
        captions = page.evaluate("""[...document.querySelectorAll('.q-table caption')].map(c => {
            const r = c.getBoundingClientRect(); return [c.textContent.trim().slice(0, 40), r.left, r.right]; })""")
        assert captions
        cut = [(text, left, right) for text, left, right in captions if left < 0 or right > 390]
        assert not cut, f"captions beyond the screen: {cut}"
    finally:
        context.close()


# -- footer lines per audience ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def quire_brand_client_run(tiny_warehouse, tmp_path_factory) -> tuple[Path, str]:
    """A client report for a client in the ``quire`` brand (Quire's own kit, whose internal line says "internal use only")."""
    slug, name = active_client(tiny_warehouse, quire_brand=True)
    env = quire_env(tiny_warehouse, tmp_path_factory.mktemp("quire-client"))
    proc = run_quire(env, "run", "client", "-p", f"client={slug}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    return folder, name


def _page_texts(pdf: Path) -> list[str]:
    # Lines joined: a footer line may wrap on the cover.
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(pdf).pages]


def test_client_report_carries_the_client_line_on_every_page(quire_brand_client_run):
    folder, name = quire_brand_client_run
    quire = load_brand("quire", ROOT / "templates")
    client_line = quire.lines_for("client", name)["footer"]
    assert client_line == f"Prepared for {name}. Confidential."
    pages = _page_texts(folder / "report.pdf")
    for number, text in enumerate(pages, start=1):
        assert client_line in text, f"page {number} lacks the client's footer line"
        assert "internal use" not in text.lower(), f"page {number} of a client's report says 'internal use'"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "internal use" not in html.lower() and quire.lines_for("internal")["legal"] not in html


def test_internal_report_carries_the_internal_line_on_every_page(runs):
    internal_line = load_brand("quire", ROOT / "templates").lines_for("internal")["footer"]
    for number, text in enumerate(_page_texts(runs["executive"] / "report.pdf"), start=1):
        assert internal_line in text, f"executive page {number} lacks the internal footer line"


# -- the house style on an analyst's plain notebook -------------------------------------------------------

PLAIN_CELLS = [
    ("code", 'period: str = "latest"\nbrand: str = "quire"', ["parameters"]),
    ("code", "import matplotlib.pyplot as plt\nimport pandas as pd\nimport seaborn as sns", []),
    ("markdown", "## Sales\n\nMonthly sales by region.", []),
    ("code", 'sales = pd.DataFrame({"month": pd.date_range("2026-01-01", periods=6, freq="MS").repeat(3),\n'
             '                      "region": ["North", "South", "West"] * 6, "sales": [float(i * 1234.5 - 800) for i in range(18)]})\n'
             'ax = sns.lineplot(data=sales, x="month", y="sales", hue="region")\n'
             'ax.set(title="Sales by region", xlabel="Month", ylabel="Sales ($)")', []),
    ("markdown", "## Totals", []),
    ("code", 'sales.groupby("region")[["sales"]].sum()', []),
    ("markdown", "## Mix", []),
    ("code", 'plt.bar(["A", "B", "C"], [3, 5, 2])\nplt.title("Orders by product")\nplt.ylabel("Orders")', []),
    ("markdown", "## Notes\n\nNothing else to report.", []),
]


def _plain_project(root: Path) -> Path:
    """A project holding one report made the way the README says: a plain notebook and a catalog entry."""
    shutil.copytree(ROOT / "templates", root / "templates")
    (root / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in PLAIN_CELLS:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(new(source, metadata={"tags": tags} if tags else {}))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "sales.ipynb")
    (root / "reports.yaml").write_text(
        "reports:\n  sales:\n    title: Sales review\n    notebook: notebooks/sales.ipynb\n"
        "    description: Sales by region and product.\n    owner: analyst@example.com\n"
        "    parameters:\n      period: {type: period}\n      brand: {type: brand}\n", encoding="utf-8")
    return root


def _svg_colours(html: str) -> list[set[str]]:
    """The hex colours used in each SVG chart of ``html``."""
    images = re.findall(r'<figure class="q-chart[^"]*"[^>]*><img alt="[^"]*" src="data:image/svg\+xml;base64,([^"]+)"', html)
    return [{c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", base64.b64decode(data).decode("utf-8"))} for data in images]


def _charts(html: str) -> list[tuple[str, str]]:
    """(alt, caption) of each chart figure."""
    return re.findall(r'<figure class="q-chart[^"]*"[^>]*><img alt="([^"]*)" src="data:image/svg\+xml;base64,[^"]+"/>'
                      r'<figcaption>([^<]*)</figcaption></figure>', html)


def test_plain_notebook_wears_the_house_style(tiny_warehouse, tmp_path):
    home = _plain_project(tmp_path / "project")
    env = quire_env(tiny_warehouse, tmp_path / "outputs", home)
    proc = run_quire(env, "run", "sales", "-p", "period=2026-Q3", "-p", "brand=northwind")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [folder] = published_runs(tmp_path / "outputs", "sales")
    html = (folder / "report.html").read_text(encoding="utf-8")
    northwind = load_brand("northwind", home / "templates")
    # Cover: the period parameter, the catalog's description, contents from the markdown headings.
    cover = PdfReader(folder / "report.pdf").pages[0].extract_text() or ""
    assert re.search(r"PERIOD\s+Q3 2026", cover) and "Sales by region and product." in cover
    contents = re.findall(r"^(\d) (\w+) \.+ ?(\d+)$", cover, re.MULTILINE)
    assert [(n, t) for n, t, _ in contents] == [("1", "Sales"), ("2", "Totals"), ("3", "Mix"), ("4", "Notes")], cover
    assert all(2 <= int(page) <= 3 for _, _, page in contents)
    # Figures: brand-coloured SVG charts, titled by a caption, described by derived alt text.
    charts = _charts(html)
    assert [caption for _, caption in charts] == ["Sales by region", "Orders by product"]
    assert charts[0][0].startswith("Line chart: Sales by region") and "vertical axis Sales ($)" in charts[0][0]
    assert "series North, South, West" in charts[0][0] and charts[1][0].startswith("Bar chart: Orders by product")
    lines, bars = _svg_colours(html)
    assert set(northwind.palette[:3]) <= lines and northwind.palette[0] in bars
    assert not (lines | bars) & MATPLOTLIB_DEFAULTS
    assert 'class="dataframe"' not in html and "data:image/png" not in html
    # Tables: the report's table style, numbers formatted; no plot-call reprs ("[Text(…)]") anywhere.
    assert '<th scope="col">region</th><th class="q-num" scope="col">sales</th>' in html
    assert re.search(r'<td>North</td><td class="q-num">[\d,]+</td>', html)
    assert "q-plain" not in html.split("</style>")[-1] and "Text(" not in html and "matplotlib" not in html
    # Its data is saved like a built-in table's: a CSV with the raw sums, and a sheet of report.xlsx.
    [csv_file] = folder.glob("table-*.csv")
    expected = {r: sum(i * 1234.5 - 800 for i in range(18) if ["North", "South", "West"][i % 3] == r)
                for r in ("North", "South", "West")}
    with csv_file.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["region", "sales"] and {r: float(v) for r, v in rows[1:]} == expected
    assert len(openpyxl.load_workbook(folder / "report.xlsx").sheetnames) == 1


def test_worked_example_runs_with_cover_contents_and_brand_colours(tiny_warehouse, tmp_path):
    env = quire_env(tiny_warehouse, tmp_path / "outputs")
    proc = run_quire(env, "run", "example", "-p", "period=2026-10")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [folder] = published_runs(tmp_path / "outputs", "example")
    quire = load_brand("quire", ROOT / "templates")
    cover = PdfReader(folder / "report.pdf").pages[0].extract_text() or ""
    assert re.search(r"PERIOD\s+October 2026", cover), cover
    contents = re.findall(r"^(\d) (.+?) \.+ ?(\d+)$", cover, re.MULTILINE)
    assert [t for _, t, _ in contents] == ["Summary", "MRR by plan", "Movements", "Clients"], cover
    html = (folder / "report.html").read_text(encoding="utf-8")
    charts = _charts(html)
    assert len(charts) == 2 and all(alt and caption for alt, caption in charts)
    for colours in _svg_colours(html):
        assert quire.palette[0] in colours and not colours & MATPLOTLIB_DEFAULTS
    assert html.count('class="q-table"') >= 3 and 'class="q-kpis"' in html


@pytest.mark.parametrize("report", REPORTS)
def test_the_running_header_draws_the_whole_period(runs, report):
    # As `quire run` printed it: an experiment's "3 August – 6 September 2026 (35 days)" was cut at the page's
    # edge ("(35 d"). pdftotext lays the text out as drawn; text extraction alone would not tell.
    folder = runs[report]
    period = re.search(r'class="q-running-period">([^<]*)<', (folder / "report.html").read_text(encoding="utf-8"))
    if period is None:
        pytest.skip(f"the {report} report has no period in its running header")
    drawn = subprocess.run(["pdftotext", "-f", "2", "-l", "2", "-layout", str(folder / "report.pdf"), "-"], check=True,
                           capture_output=True, text=True).stdout
    assert html_lib.unescape(period.group(1)) in drawn.strip().splitlines()[0], drawn[:300]


def _tags(reader: PdfReader) -> list[tuple[str, str]]:
    """The PDF's structure tree in reading order: each element's role and alt text."""
    found: list[tuple[str, str]] = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif hasattr(node, "get"):
            if "/S" in node:
                found.append((str(node["/S"]), str(node.get("/Alt", ""))))
            if node.get("/K") is not None:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


@pytest.fixture(scope="module")
def print_services():
    """A print service on each Chromium: the headless shell that prints by default, the desktop browser."""
    from quire.pdf import chromium

    for path in (chromium.HEADLESS_SHELL, chromium.CHROMIUM):
        if not Path(path).exists():
            pytest.fail(f"{path} is not installed (make setup-test installs it)")
    with chromium.PrintService(chromium.HEADLESS_SHELL) as shell, chromium.PrintService(chromium.CHROMIUM) as desktop:
        shell.wait_ready()
        desktop.wait_ready()
        yield {"shell": shell, "desktop": desktop}


@pytest.mark.parametrize("report", REPORTS)
def test_the_headless_shell_prints_the_document_the_desktop_browser_prints(runs, report, print_services, tmp_path):
    # The shell prints with a third less CPU (no process started per print), and QUIRE_CHROMIUM may name either:
    # one document whichever prints it — pages, text, tags and alt texts, and page images pixel for pixel.
    from quire.pdf.chromium import print_report

    html = (runs[report] / "report.html").read_text(encoding="utf-8")
    readers = {}
    for name, service in print_services.items():
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(print_report(service.address.encode(), html))
        readers[name] = PdfReader(pdf)
        subprocess.run(["pdftoppm", "-png", "-gray", "-r", "60", str(pdf), str(tmp_path / name)], check=True)
    shell, desktop = readers["shell"], readers["desktop"]
    assert len(shell.pages) == len(desktop.pages) >= 2
    assert [p.extract_text() for p in shell.pages] == [p.extract_text() for p in desktop.pages]
    tags = _tags(shell)
    assert tags == _tags(desktop) and len(tags) > 50

    def images(name: str) -> list[Path]:
        return sorted(tmp_path.glob(f"{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))

    assert len(images("shell")) == len(shell.pages)
    for number, (a, b) in enumerate(zip(images("shell"), images("desktop"), strict=True), 1):
        assert np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b))), f"page {number} differs"
