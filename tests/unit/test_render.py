"""Rendering a report notebook to HTML and PDF: self-contained, branded, paginated, no code.

The notebook is synthetic: code cells whose outputs are the display objects a real
report shows (built here, without a kernel). Page images of the PDFs are written to
``tests/artifacts/render/`` for people to look at.
"""

from __future__ import annotations

import copy
import http.server
import itertools
from html.parser import HTMLParser
import re
import shutil
import subprocess
import threading
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from quire.brand import load_brand
from quire.chart_style import SCRIPT_FALLBACK_FONTS, SVG_HASH_SALT, to_chart, use_brand
from quire.display import (KPIS_MIME, META_MIME, Alerts, Callout, Chart, Glossary, Grid, KpiCards, ReportHeader,
                           Section, Table)
from quire.errors import RenderError
from support.hostile_html import VECTORS
from quire.metrics.kpi import Kpi
from quire.render import (PRINTED_CHARS, PRINTED_LINES, REPORT_POLICY, clean_html, get_exporter, render_html,
                          render_pdf, with_policy)
from support import brand_chart_style

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
ARTIFACTS = ROOT / "tests" / "artifacts" / "render"
TITLE = "Quarterly performance"
SECRET_SOURCE = "secret_source_marker = 42  # code never reaches a report"
SECTION_TITLES = ["Alerts", "Recurring revenue", "Accounts", "Segments"]
HOSTILE = '<script>alert(1)</script><img src="https://evil.example/x.png">'
META = {"title": TITLE, "subtitle": "Company KPIs compared with Q2 2026", "period": "Q3 2026", "client": "Riverside Council",
        "generated": "1 October 2026", "report_id": "executive", "run_id": "20261001T060000Z-abc123"}


class _Alert:
    def __init__(self, severity: str, message: str) -> None:
        self.kpi, self.severity, self.message = "kpi", severity, message


def _output(obj) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=obj._repr_mimebundle_())


def _cell(*objs, source: str = "report.section()") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [_output(o) for o in objs]
    return cell


def _charts(brand) -> tuple[Chart, Chart]:
    with brand_chart_style(brand):
        rng = np.random.default_rng(7)
        months = pd.date_range("2025-01-01", periods=21, freq="MS")
        fig, ax = plt.subplots(figsize=(8, 3.4))
        ax.plot(months, 100_000 + np.cumsum(rng.normal(3000, 1500, 21)), label="MRR")
        ax.plot(months, 95_000 + np.cumsum(rng.normal(2500, 1500, 21)), label="Plan", linestyle="--")
        ax.legend(loc="upper left")
        wide = to_chart(fig, "Line chart of MRR by month, rising from $100k to $160k", caption="MRR by month")
        fig, ax = plt.subplots(figsize=(4.6, 3.2))
        ax.bar(["Healthy", "Watch", "At risk"], [40, 12, 6], color=brand.palette[:3])
        half = to_chart(fig, "Bar chart of accounts by health band: 40 healthy, 12 watch, 6 at risk")
        return wide, half


def build_notebook(brand) -> nbformat.NotebookNode:
    """A report-shaped notebook: header, KPI cards, sections with charts, a 40-row table, glossary."""
    wide, half = _charts(brand)
    rng = np.random.default_rng(3)
    accounts = pd.DataFrame({
        "Account": [f"Client {i:02d}" for i in range(40)],
        "Sector": ["municipality", "business", "startup", "nonprofit"] * 10,
        "MRR": rng.integers(800, 60_000, 40).astype(float),
        "Health": rng.integers(20, 95, 40),
        "Tickets": rng.integers(0, 30, 40),
    })
    wide_table = pd.DataFrame({"Segment": [f"Segment {i}" for i in range(6)],
                               **{f"Metric {i}": rng.integers(1_000, 10**7, 6) for i in range(8)}})
    kpis = KpiCards([
        Kpi("mrr", "MRR", 182_340.0, "currency", 171_200.0),
        Kpi("arr", "ARR", 2_188_080.0, "currency", 2_054_400.0),
        Kpi("nrr", "Net revenue retention", 1.032, "percent", 1.041),
        Kpi("logo_churn", "Logo churn", 0.021, "percent", 0.018, "down_is_good"),
        Kpi("grr", "Gross revenue retention", 0.962, "percent", 0.962),
        Kpi("arpa", "ARPA", 2_431.0, "currency", 2_380.0),
        Kpi("clv", "Customer lifetime value", 16_573.0, "currency"),
        Kpi("nps", "NPS", 41.0, "points", 37.0),
    ], comparison_label="Q2 2026")
    glossary = Glossary([
        ("MRR", "Monthly recurring revenue: active subscriptions' monthly fees at the end of the month."),
        ("ARR", "Annual recurring revenue: MRR × 12."),
        ("NRR", "Net revenue retention: MRR now from the accounts paying a year ago, over their MRR then."),
        ("Logo churn", "Share of paying accounts at the start of the period that stopped paying within it."),
    ])
    parameters = nbformat.v4.new_code_cell("period = 'latest'", metadata={"tags": ["parameters"]})
    silent = nbformat.v4.new_code_cell(SECRET_SOURCE)
    cells = [
        parameters, silent,
        _cell(ReportHeader(TITLE, "Q3 2026", subtitle="Company KPIs compared with Q2 2026", client="Riverside Council",
                           extra={"period_key": "2026-Q3"}), source=SECRET_SOURCE),
        _cell(kpis),
        _cell(Section("Alerts", [Alerts([_Alert("warning", "Logo churn rose to 2.1%, above its usual range."),
                                         _Alert("critical", "NRR fell below 100% for municipal clients.")])],
                      lead="KPIs outside their usual range or past a business threshold.")),
        _cell(Section("Recurring revenue", [wide, Grid([half, Table(accounts.head(6)[["Account", "MRR"]], caption="Top accounts",
                                                                    units={"MRR": "currency"})])],
                      lead="MRR grew by 6.5% over the quarter.")),
        _cell(Section("Accounts", [Table(accounts, caption="Accounts by MRR", units={"MRR": "currency"}),
                                   Callout("Two accounts moved from watch to at risk.", "warning", title="Heads up:")])),
        _cell(Section("Segments", [Table(wide_table, caption="Segments"), Callout("All segments grew.", "good"),
                                   Callout(HOSTILE, "info")])),
        _cell(glossary),
    ]
    # Noise a report must not show: warnings on stderr, and a JSON-only output.
    cells[-1].outputs.append(nbformat.v4.new_output("stream", name="stderr", text="UserWarning: noisy library\n"))
    cells[-1].outputs.append(nbformat.v4.new_output("display_data", data={KPIS_MIME: [{"name": "only_json"}]}))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def brand():
    return load_brand("northwind", TEMPLATES)


@pytest.fixture(scope="module")
def notebook(brand):
    return build_notebook(brand)


@pytest.fixture(scope="module")
def html(notebook, brand):
    return render_html(notebook, brand=brand, meta=META)


@pytest.fixture(scope="module")
def pdf(html):
    data = render_pdf(html)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(data)
    (ARTIFACTS / "report.html").write_text(html, encoding="utf-8")
    if shutil.which("pdftoppm"):
        for old in ARTIFACTS.glob("page-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(ARTIFACTS / "report.pdf"), str(ARTIFACTS / "page")], check=True)
    return data


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(__import__("io").BytesIO(pdf)).pages]


# -- HTML --------------------------------------------------------------------------------------

def test_html_is_a_document_with_language_and_title(html):
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert re.search(r'<html[^>]* lang="en"', html)
    assert f"<title>{TITLE} — Riverside Council — Q3 2026</title>" in html


class _Resources(HTMLParser):
    """Every tag name, and every URL-valued attribute of every tag, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action", "style") and value:
                self.urls.append((tag, name, value))

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag):
        self._in_style = False


def test_html_has_no_script_and_no_remote_resources(html):
    parsed = _Resources()
    parsed.feed(html)
    assert "script" not in parsed.tags and "iframe" not in parsed.tags and "link" not in parsed.tags
    remote = re.compile(r"(?:https?:)?//", re.IGNORECASE)
    assert [u for u in parsed.urls if remote.search(u[2].split(",", 1)[0]) and not u[2].startswith("data:")] == []
    assert all(value.startswith(("data:", "#")) for tag, name, value in parsed.urls if name in ("src", "href"))
    css = "\n".join(parsed.styles)
    assert not re.search(r"url\(\s*['\"]?\s*(?!data:)[a-z]+:", css, re.IGNORECASE) and "@import" not in css


def test_html_shows_outputs_but_never_code(html):
    assert "secret_source_marker" not in html
    assert "report.section()" not in html
    assert "period = " not in html
    assert "In&nbsp;[" not in html and "Out[" not in html and "jp-" not in html


def test_html_has_cover_logo_and_brand_variables(html, brand):
    assert 'class="q-cover"' in html
    assert f'<h1 class="q-cover-title">{TITLE}</h1>' in html
    assert "Prepared for Riverside Council" in html and "1 October 2026" in html and "Q3 2026" in html
    assert f'src="{brand.logo_data_uri()}"' in html
    assert f"--q-primary: {brand.colors.primary};" in html
    assert brand.cover_text in html and brand.footer.for_audience("client", "Riverside Council") in html


def test_html_renders_every_display_object(html):
    for cls in ("q-kpis", "q-kpi-delta q-good", "q-kpi-delta q-bad", "q-alerts", "q-section", "q-chart", "q-table",
                "q-num", "q-grid", "q-callout q-warning", "q-glossary"):
        assert f'class="{cls}' in html or f"{cls}" in html, cls
    assert html.count('class="q-kpi"') == 8
    assert html.count("data:image/svg+xml;base64,") >= 3  # logo (cover + header) and charts


def test_html_ignores_json_mimetypes_stderr_and_escapes_data(html):
    assert "only_json" not in html and "period_key" not in html
    assert "noisy library" not in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "Traceback" not in html


def test_white_label_brand_never_names_quire(html):
    assert "quire" not in html.lower()


def test_the_reference_is_the_run_id_not_the_catalogs_key(notebook, brand):
    # A client's white-label report read "Reference client / 2026…": the catalog's key printed as if it were a word.
    html = render_html(notebook, brand=brand, meta={**META, "report_id": "client"})
    assert "Reference 20261001T060000Z-abc123" in html and "Reference client" not in html


def test_powered_by_only_when_the_brand_asks(notebook):
    own = render_html(notebook, brand=load_brand("quire", TEMPLATES), meta=META)
    assert "Powered by Quire" in own


def test_errors_and_markup_that_would_load_things_are_dropped(brand):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1/0")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                               traceback=["Traceback (most recent call last):", "ZeroDivisionError: division by zero"]),
        nbformat.v4.new_output("display_data", data={"text/html": '<div onclick="x()">ok</div><iframe src="https://x.example"></iframe>'
                                                     '<img src="http://x.example/a.png" alt="remote"><link rel="stylesheet" href="//cdn.example/a.css">'
                                                     '<a href="https://docs.example/">docs</a>'}),
    ]
    html = render_html(nb, brand=brand, meta=META)
    assert "Traceback" not in html and "ZeroDivisionError" not in html
    assert "could not be produced" in html
    assert "onclick" not in html and "<iframe" not in html and "x.example/a.png" not in html and "cdn.example" not in html
    assert '<a href="https://docs.example/">docs</a>' in html  # a link is the reader's choice, not a load


def test_display_priority_prefers_html_then_images_then_markdown_then_text(brand):
    bundle = {"text/plain": "PLAIN", "text/markdown": "**MARKDOWN**", "image/png": "iVBORw0KGgo=", "text/html": "<b>HTML</b>"}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    order = ["text/html", "image/png", "text/markdown", "text/plain"]
    shown = []
    for i in range(len(order)):
        data = {k: v for k, v in bundle.items() if k in order[i:]}
        nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", data=data, execution_count=1)]
        body = render_html(nb, brand=brand, meta=META).split('<main class="q-body">')[1]
        shown.append([m for m, probe in (("text/html", "<b>HTML</b>"), ("image/png", "data:image/png;base64"),
                                         ("text/markdown", "<strong>MARKDOWN</strong>"), ("text/plain", "PLAIN"))
                      if probe in body])
    assert shown == [[m] for m in order]


def _printing_cell(*texts: str, tags: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """A code cell whose outputs are ``texts`` printed on stdout, a chart-like display between the first two."""
    cell = nbformat.v4.new_code_cell("print(df.to_string())", metadata={"tags": list(tags)})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in texts]
    cell.outputs.insert(1, nbformat.v4.new_output("display_data", data={"text/html": "<b>SHOWN</b>"}))
    return cell


def test_long_printed_text_is_cut_in_the_report_with_a_note(brand):
    # A printed 190,000-row DataFrame made a 2,873-page PDF: each cell's stdout, however it is split in outputs,
    # shows its first lines and a note; report.ipynb (the notebook given) keeps every line.
    rows = [f"row {i:05d}\n" for i in range(1_000)]
    nb = nbformat.v4.new_notebook(cells=[
        _printing_cell("".join(rows[:150]), "".join(rows[150:])),
        _printing_cell("y" * 100_000),  # one line of 100,000 characters
        _printing_cell("".join(rows), tags=("remove-output",)),
        _printing_cell("short\n", "output\n"),
    ])
    notes: list[str] = []
    html = render_html(nb, brand=brand, meta=META, notes=notes)
    assert len(re.findall(r"row \d{5}", html)) == PRINTED_LINES
    assert f"row {PRINTED_LINES - 1:05d}" in html and f"row {PRINTED_LINES:05d}" not in html
    assert html.count("<b>SHOWN</b>") == 3  # what the cell displays is not printed text
    assert "… 800 more lines not shown in the report (the run's report.ipynb holds them all)" in html
    assert "y" * PRINTED_CHARS in html and "y" * (PRINTED_CHARS + 1) not in html
    assert f"… {100_000 - PRINTED_CHARS:,} more characters not shown in the report" in html
    assert "short\n</pre>" in html and "output\n</pre>" in html and html.count('class="q-plain-cut"') == 2
    assert notes == ['the cell "print(df.to_string())" printed 1,000 lines: the report shows the first '
                     f"{PRINTED_LINES} lines (report.ipynb holds them all)",
                     'the cell "print(df.to_string())" printed 100,000 characters: the report shows the first '
                     f"{PRINTED_CHARS:,} characters (report.ipynb holds them all)"]
    assert nb.cells[0].outputs[2].text == "".join(rows[150:]) and len(nb.cells[1].outputs[0].text) == 100_000


def test_markdown_cells_render_without_remote_images(brand):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## Commentary\n\nRevenue **grew**. ![tracker](https://track.example/p.gif)"),
        nbformat.v4.new_raw_cell("<script>raw()</script>"),
    ])
    html = render_html(nb, brand=brand, meta=META)
    assert '<div class="q-markdown q-md-heading">' in html and "<strong>grew</strong>" in html
    assert "track.example" not in html and "raw()" not in html


def test_inline_html_of_a_markdown_cell_keeps_its_tags(brand):
    # nbconvert's image embedding re-parsed "<b>" alone: "Line with <b></b>bold text".
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Line with <b>bold</b> and <em>stress</em> text, and a picture <img alt=\"dot\" src=\"data:image/gif;base64,"
        "R0lGODlhAQABAAAAACw=\">.")])
    html = render_html(nb, brand=brand, meta=META)
    assert "<b>bold</b>" in html and "<em>stress</em>" in html and 'alt="dot"' in html


def test_exporter_is_built_once_per_templates_folder():
    first, lock = get_exporter(TEMPLATES)
    again, lock_again = get_exporter(TEMPLATES)
    assert first is again and lock is lock_again


def test_missing_template_is_a_render_error(tmp_path, notebook, brand):
    with pytest.raises(RenderError, match="report template not found"):
        render_html(notebook, brand=brand, meta=META, templates_dir=tmp_path)


def test_clean_html_leaves_clean_markup_alone():
    fragment = '<div class="q-kpi"><img src="data:image/png;base64,AAAA" alt="x"/></div>'
    assert clean_html(fragment) == fragment


@pytest.mark.parametrize("hostile", ['<svg/onload=alert(1)><circle r="4"/></svg>',
                                     '<img alt="x" src="data:image/png;base64,AAAA"onerror=alert(1)>',
                                     "<img alt='x' src='data:image/png;base64,AAAA'/onerror=alert(1)>"])
def test_clean_html_drops_an_event_handler_however_its_attribute_is_set_apart(hostile):
    cleaned = clean_html(f"<p>before</p>{hostile}<p>after</p>")
    assert "alert" not in cleaned and "onload" not in cleaned and "onerror" not in cleaned
    assert cleaned.startswith("<p>before</p>") and cleaned.endswith("<p>after</p>")



@pytest.mark.parametrize("name", sorted(VECTORS))
def test_clean_html_leaves_no_markup_a_browser_would_read_differently(name):
    # Whether a browser runs any of them is checked in Chromium (tests/e2e/test_offline_html.py); here, what the
    # cleaning writes: nothing but escaped text where a browser's parser and Python's could part ways.
    cleaned = clean_html(f"<p>before</p>{VECTORS[name]}<p>after</p>")
    assert cleaned.startswith("<p>before</p>") and cleaned.endswith("<p>after</p>")
    assert not re.search(r"<!|<\?|<(?:noscript|xmp|noembed|animate|set)\b", cleaned, re.IGNORECASE)
    assert not re.search(r"<style>[^<]*<", cleaned)
    assert not re.search(r"=\s*[\"']?[\x00-\x20]*j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t\s*:", cleaned, re.IGNORECASE)
    # What a raw-text element keeps is text: its attribute values come out escaped.
    for raw in re.findall(r"<(textarea|title)>(.*?)</\1>", cleaned, re.DOTALL):
        assert "<img" not in raw[1]


def test_clean_html_drops_remote_candidates_of_a_srcset_and_pings():
    cleaned = clean_html('<img alt="a" srcset="data:image/png;base64,AAAA 1x, https://tracker.example/p.png 2x"/>'
                         '<a href="#top" ping="https://tracker.example/ping">top</a>')
    assert "tracker.example" not in cleaned and 'href="#top"' in cleaned and 'alt="a"' in cleaned


def test_clean_html_keeps_the_document_type_and_the_page_around_what_it_removes():
    document = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><style>p > b { color: red }</style>'
                '</head><body><p>kept <b>bold</b></p><script>alert(1)</script></body></html>')
    cleaned = clean_html(document)
    assert cleaned.startswith("<!DOCTYPE html>") and "<style>p > b { color: red }</style>" in cleaned
    assert "<p>kept <b>bold</b></p>" in cleaned and "script" not in cleaned


def test_with_policy_puts_the_content_security_policy_right_after_the_character_set():
    page = with_policy('<!DOCTYPE html>\n<html><head>\n<meta charset="utf-8"/>\n<title>t</title></head><body></body></html>')
    head = page.split("<title>")[0]
    assert head.endswith(f'<meta charset="utf-8"/>\n<meta http-equiv="Content-Security-Policy" content="{REPORT_POLICY}"/>\n')
    assert "script-src" not in REPORT_POLICY and "default-src 'none'" in REPORT_POLICY
    assert with_policy("<html><head><title>t</title>") == (
        f'<html><head>\n<meta http-equiv="Content-Security-Policy" content="{REPORT_POLICY}"/><title>t</title>')


def test_a_rendered_report_carries_the_policy_even_when_an_output_brings_its_own(notebook, brand):
    nb = copy.deepcopy(notebook)  # the fixture is shared by the module's tests
    hostile = nbformat.v4.new_output("display_data", data={
        "text/html": '<meta http-equiv="Content-Security-Policy" content="script-src *"/><p>note</p>'})
    nb.cells[-1].outputs.append(hostile)
    page = render_html(nb, brand=brand, meta=META)
    assert page.count("Content-Security-Policy") == 1 and "script-src *" not in page
    assert f'content="{REPORT_POLICY}"' in page and "<p>note</p>" in page

# -- PDF ---------------------------------------------------------------------------------------

pytestmark_pdf = pytest.mark.slow


@pytestmark_pdf
def test_pdf_is_a4_with_several_pages(pdf):
    reader = PdfReader(__import__("io").BytesIO(pdf))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(595.28, abs=1)
        assert float(page.mediabox.height) == pytest.approx(841.89, abs=1)


@pytestmark_pdf
def test_cover_has_no_running_header_or_page_number(pages):
    cover = pages[0]
    assert TITLE in cover and "riverside council" in cover.lower() and "Q3 2026" in cover
    assert "Page 1 of" not in cover


@pytestmark_pdf
def test_running_header_and_page_numbers(pages, brand):
    n = len(pages)
    assert TITLE in pages[1]
    for i, text in enumerate(pages[1:], start=2):
        assert f"Page {i} of {n}" in text
        assert brand.footer.for_audience("client", "Riverside Council") in text
    assert f"Page {n} of {n}" in pages[-1]


def _body_lines(text: str) -> list[str]:
    """A page's own text: what comes before the running header (WeasyPrint writes margin boxes last)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith(TITLE):
            return lines[:i]
    return lines


@pytestmark_pdf
def test_no_heading_is_left_alone_at_the_bottom_of_a_page(pages):
    headings = set(SECTION_TITLES) | {"Appendix: metric definitions"}
    for number, text in enumerate(pages[1:], start=2):
        body = _body_lines(text)
        assert body, f"page {number} is empty"
        last = re.sub(r"^\d+\s+", "", body[-1])
        assert last not in headings, f"page {number} ends with the heading {last!r}"
        assert not all(re.sub(r"^\d+\s+", "", line) in headings for line in body), f"page {number} holds only a heading"


@pytestmark_pdf
def test_long_table_repeats_its_header_on_the_next_page(pages):
    row = re.compile(r"Client \d\d (?:municipality|business|startup|nonprofit)")
    spanned = [text for text in pages if row.search(text)]
    assert len(spanned) >= 2, "the 40-row table should run over a page break"
    for text in spanned:
        assert re.search(r"ACCOUNT\s+SECTOR\s+MRR\s+HEALTH\s+TICKETS", text)
    assert sum(len(row.findall(text)) for text in spanned) == 40


@pytestmark_pdf
def test_pdf_renderer_fetches_nothing_from_the_network(html):
    """A remote image in the HTML is refused by the fetcher: the local server sees no request."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's API)
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/pixel.png"
        hostile = (f'<html><head><link rel="stylesheet" href="{url}.css"></head><body><p>x</p>'
                   f'<img src="{url}"><div style="background: url({url}?bg)"></div></body></html>')
        data = render_pdf(hostile)
    finally:
        server.shutdown()
        server.server_close()
    assert data.startswith(b"%PDF") and hits == []


@pytestmark_pdf
def test_each_brand_renders(notebook):
    for name in ("quire", "harbor"):
        html = render_html(notebook, brand=load_brand(name, TEMPLATES), meta=META)
        assert len(PdfReader(__import__("io").BytesIO(render_pdf(html))).pages) >= 3


# -- chart style -------------------------------------------------------------------------------

def test_use_brand_sets_palette_fonts_and_spines(brand):
    with matplotlib.rc_context():
        use_brand(brand)
        assert plt.rcParams["axes.prop_cycle"].by_key()["color"][:3] == brand.palette[:3]
        families = plt.rcParams["font.sans-serif"]
        # The brand's installed fonts, DejaVu Sans, then the fonts of the scripts DejaVu lacks; named in font.family
        # (matplotlib falls back glyph by glyph only within named families), the generic last for the SVG's readers.
        assert families[families.index("DejaVu Sans") + 1:] == list(SCRIPT_FALLBACK_FONTS)
        assert plt.rcParams["font.family"] == [*families, "sans-serif"]
        assert plt.rcParams["axes.spines.top"] is False and plt.rcParams["axes.spines.right"] is False
        assert plt.rcParams["svg.hashsalt"] == SVG_HASH_SALT


def test_to_chart_gives_reproducible_svg_and_closes_the_figure(brand):
    def draw() -> Chart:
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([1, 2, 3], [3, 1, 2])
        return to_chart(fig, "A line falling then rising", caption="Demo")

    before = len(plt.get_fignums())
    with brand_chart_style(brand):
        first, second = draw(), draw()
    assert len(plt.get_fignums()) == before
    assert first.image == second.image
    assert first.image.lstrip().startswith(b"<?xml") and b"<svg" in first.image
    assert b"dc:date" not in first.image
    assert first.mime == "image/svg+xml" and first.alt == "A line falling then rising" and first.caption == "Demo"


def test_to_chart_needs_alt_text():
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="alt text"):
        to_chart(fig, "  ")
    assert not plt.fignum_exists(fig.number)


def test_meta_mime_is_data_not_display(html):
    assert META_MIME not in html


# -- contents, long names, tagging --------------------------------------------------------------

def test_contents_list_the_sections_with_links(html):
    from quire.render import TOC_MARKER

    assert TOC_MARKER not in html
    nav = re.search(r'<nav class="q-toc".*?</nav>', html, re.DOTALL).group(0)
    assert re.findall(r'<span class="q-toc-title">([^<]*)</span>', nav) == SECTION_TITLES + ["Appendix: metric definitions"]
    assert re.findall(r'<span class="q-toc-number">(\d*)</span>', nav) == ["1", "2", "3", "4", ""]
    for anchor in re.findall(r'href="#([^"]+)"', nav):
        assert f'<h2 class="q-section-title" id="{anchor}">' in html


def test_few_sections_give_no_contents(brand):
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [_output(Section("Only one", ["text"]))]
    html = render_html(nbformat.v4.new_notebook(cells=[cell]), brand=brand, meta=META)
    assert "q-toc" not in html.split("</style>")[-1] and "<!--q-toc-->" not in html


def test_long_client_name_is_shortened_in_title_and_running_header(notebook, brand):
    html = render_html(notebook, brand=brand, meta={**META, "client": "N" * 10_000})
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert len(title) < 300 and title.count("N") < 100 and "…" in title
    running = re.search(r'<span class="q-running-title">(.*?)</span>', html).group(1)
    assert len(running) < 300


@pytestmark_pdf
def test_pdf_is_tagged_with_language_and_figure_alt_text(pdf):
    from pypdf import PdfReader as Reader

    root = Reader(__import__("io").BytesIO(pdf)).trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and root["/Lang"] == "en" and "/StructTreeRoot" in root


@pytestmark_pdf
def test_contents_show_page_numbers_in_the_pdf(pages):
    numbers = re.findall(r"\.\s*(\d+)\s*$", pages[0], re.MULTILINE)
    assert len(numbers) == len(SECTION_TITLES) + 1 and numbers == sorted(numbers, key=int)


@pytest.mark.parametrize(("count", "rows"), [(5, [3, 2]), (6, [3, 3]), (7, [4, 3]), (8, [4, 4])])
def test_kpi_cards_fill_their_rows_evenly_in_print(brand, tmp_path, count, rows):
    # Five cards as 4 + 1 left one card alone on its row.
    names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"][:count]
    cards = KpiCards([Kpi(name.lower(), name, 1000.0 + i, "number", 900.0) for i, name in enumerate(names)])
    nb = nbformat.v4.new_notebook(cells=[_cell(ReportHeader(TITLE, "Q3 2026")), _cell(cards)])
    (tmp_path / "cards.pdf").write_bytes(render_pdf(render_html(nb, brand=brand, meta=META)))
    words = subprocess.run(["pdftotext", "-bbox", str(tmp_path / "cards.pdf"), "-"], check=True, capture_output=True,
                           text=True).stdout
    tops = {m[2]: round(float(m[1])) for m in re.finditer(r'yMin="([\d.]+)"[^>]*>(\w+)</word>', words) if m[2] in names}
    assert set(tops) == set(names), words
    assert [len(list(group)) for _, group in itertools.groupby(names, key=tops.get)] == rows, tops
