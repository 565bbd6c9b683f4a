"""Hostile data through the display objects and through real report runs.

Client names and content titles are data: a client can call itself ``<script>…``. Whatever
comes from the warehouse must reach the reader as text: no script element, no event
handler attribute, no remote or ``javascript:`` URL in the HTML (checked by parsing it, as a
browser would), the text visible in the PDF, and a 10,000-character name wrapped inside the
page rather than overflowing it or crashing the renderer.
"""

from __future__ import annotations

import base64
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import nbformat
import pandas as pd
import pytest
from markupsafe import Markup
from pypdf import PdfReader

from quire.brand import load_brand
from quire.display import Callout, Chart, Glossary, KpiCards, ReportHeader, Section, Table, sanitize_html
from quire.metrics.kpi import Kpi
from quire.render import render_html, render_pdf
from support import ROOT, published_runs, quire_free_env, run_quire, warehouse_copy

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = '<svg onload="alert(1)"><circle r="4"/></svg>'
JS_LINK = '<a href="javascript:alert(1)">click me</a>'
LONG = "W" * 10_000
HOSTILE = [SCRIPT, IMG, SVG, JS_LINK]
REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


class _Parsed(HTMLParser):
    """Tags, attributes and inline SVG images of an HTML document, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]

    handle_startendtag = handle_starttag


def assert_safe_html(document: str) -> None:
    parsed = _Parsed()
    parsed.feed(document)
    assert "script" not in parsed.tags, "a script element reached the report"
    assert not [a for a in parsed.attrs if a[1].lower().startswith("on")], "an event handler attribute reached the report"
    for tag, name, value in parsed.attrs:
        if name in ("src", "srcset", "data", "poster", "action", "formaction", "xlink:href"):
            assert value.startswith("data:") or not REMOTE.search(value), f"<{tag} {name}={value[:60]!r}> loads something"
        if name == "href":
            assert not value.strip().lower().startswith(("javascript:", "vbscript:", "data:")), f"<{tag} href={value[:60]!r}>"
            if tag != "a":
                assert value.startswith(("#", "data:")), f"<{tag} href={value[:60]!r}> loads something"
        if name == "src" and value.startswith("data:image/svg+xml;base64,"):
            svg = ET.fromstring(base64.b64decode(value.split(",", 1)[1]))
            for element in svg.iter():
                assert not element.tag.lower().endswith("script"), "a chart SVG holds a script"
                assert not [k for k in element.attrib if k.rsplit("}", 1)[-1].lower().startswith("on")], "SVG handler"


def pdf_text_and_overflow(pdf_path: Path) -> tuple[str, list[str]]:
    """The PDF's text, and the words that stick out of their page (from pdftotext -bbox)."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(pdf_path).pages)
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    overflow: list[str] = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', bbox, re.DOTALL):
        width = float(page.group(1))
        for word in re.finditer(r'<word xMin="([-\d.]+)" yMin="[-\d.]+" xMax="([-\d.]+)"[^>]*>(.*?)</word>', page.group(3)):
            if float(word.group(1)) < -1 or float(word.group(2)) > width + 1:
                overflow.append(word.group(3)[:40])
    return text, overflow


# -- the display objects -----------------------------------------------------------------------

@pytest.mark.parametrize("payload", HOSTILE + [LONG])
def test_display_objects_escape_every_field(payload):
    frame = pd.DataFrame({payload: [payload, "ok"], "n": [1, 2]})
    objects = [
        ReportHeader(payload, payload, subtitle=payload, client=payload),
        KpiCards([Kpi("k", payload, 1.0, "number", 0.5)], comparison_label=payload),
        Section(payload, [payload, Table(frame, caption=payload), Callout(payload, payload, title=payload)], lead=payload),
        Glossary([(payload, payload)], title=payload),
        Chart(b'<svg xmlns="http://www.w3.org/2000/svg"/>', alt=payload, caption=payload),
    ]
    for obj in objects:
        html = obj.html()
        assert_safe_html(html)
        if payload.startswith("<"):
            assert payload not in html  # shown as text, i.e. escaped


def test_markup_passing_through_is_sanitized_with_nh3():
    dirty = Markup(f'<p class="q-text">kept</p>{SCRIPT}{IMG}{JS_LINK}<img src="https://evil.example/t.gif" alt="t">'
                   f'<a href="https://docs.example/">docs</a><div style="background:url(https://x.example)">s</div>')
    html = Section("Notes", [dirty]).html()
    assert_safe_html(html)
    assert '<p class="q-text">kept</p>' in html and "alert(" not in html
    assert "evil.example" not in html and "javascript:" not in html and "style=" not in html
    assert 'href="https://docs.example/"' in html  # a link is the reader's choice, not an automatic load
    assert str(sanitize_html(SCRIPT + "text")) == "text"


def test_svg_chart_with_onload_is_cleaned():
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">'
           b'<script>alert(2)</script><image xlink:href="https://evil.example/x.png"/>'
           b'<a xlink:href="javascript:alert(3)"><rect width="4" height="4" onclick="alert(4)"/></a>'
           b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>')
    chart = Chart(svg, alt="A square")
    for bad in (b"onload", b"<script", b"alert(2)", b"evil.example", b"javascript:", b"onclick", b"foreignObject"):
        assert bad not in chart.image, bad
    assert_safe_html(chart.html())


def test_chart_needs_alt_text_and_an_image_type():
    with pytest.raises(ValueError, match="alt text"):
        Chart(b"<svg/>", alt="  ")
    with pytest.raises(ValueError, match="not supported"):
        Chart(b"x", alt="x", mime='image/png" onerror="alert(1)')


def test_long_name_wraps_inside_the_pdf_page():
    brand = load_brand("northwind", ROOT / "templates")
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data=obj._repr_mimebundle_()) for obj in (
        ReportHeader("Report", "October 2026", client=LONG),
        Section("About " + LONG[:300], [f"Prepared for {LONG}", Table(pd.DataFrame({"Client": [LONG], "MRR": [1.0]}))]),
    )]
    html = render_html(nbformat.v4.new_notebook(cells=[cell]), brand=brand,
                       meta={"title": "Report", "client": LONG + SCRIPT, "period": "October 2026"})
    assert_safe_html(html)
    assert re.search(r"<title>[^<]{0,400}</title>", html), "the document title is cut to a readable length"
    pdf = Path(ROOT / "tests" / "artifacts" / "hostile")
    pdf.mkdir(parents=True, exist_ok=True)
    (pdf / "long-name.pdf").write_bytes(render_pdf(html))
    text, overflow = pdf_text_and_overflow(pdf / "long-name.pdf")
    assert overflow == []
    assert text.count("W") >= 10_000


# -- real report runs --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_runs(tiny_warehouse, tmp_path_factory):
    """Run the client and executive reports on a warehouse whose names and titles are hostile."""

    path = tmp_path_factory.mktemp("hostile") / "warehouse.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        target, = con.execute("select slug from clients where status = 'active' order by slug limit 1").fetchone()
        # Every client's name carries a payload (the executive report lists accounts); the target's is 10,000 characters long.
        con.execute("update clients set name = ? || ' ' || name where slug <> ?", [SCRIPT + IMG, target])
        # "</style>" would end the style element the PDF's running header is printed from (its CSS then printed
        # as text, or the whole report left out of the PDF).
        con.execute("update clients set name = ? where slug = ?", [SCRIPT + "</style>" + IMG + " " + LONG, target])
        # Each title ends in a word too long for its column: unbroken, it pushed every figure column off the page.
        con.execute("""update content set title = case content_id % 3 when 0 then ? when 1 then ? else ? end || ' ' || title
                       || ' ' || repeat('A', 150)""", [SVG, JS_LINK, SCRIPT])
    outputs = tmp_path_factory.mktemp("hostile-outputs")
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=f"duckdb:///{path}", QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(ROOT))
    procs = {"client": run_quire(env, "run", "client", "-p", f"client={target}"), "executive": run_quire(env, "run", "executive")}
    return outputs, procs


@pytest.mark.slow
@pytest.mark.parametrize("report", ["client", "executive"])
def test_real_report_with_hostile_names_is_safe(hostile_runs, report):
    outputs, procs = hostile_runs
    assert procs[report].returncode == 0, procs[report].stderr[-2000:]
    [folder] = published_runs(outputs, report)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert_safe_html(html)
    # Shown to the reader as text (a table cell may break the long word: <wbr>).
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in re.sub(r"<wbr/?>", "", html)
    text, overflow = pdf_text_and_overflow(folder / "report.pdf")
    assert "alert(1)" in text
    assert overflow == [], f"text sticks out of the page: {overflow[:3]}"
    assert "vertical-align" not in text and "@page" not in text  # no CSS printed as text
    if report == "client":
        assert "WWWWWWWWWW" in text
        # Every figure of the top content table is on the page, beside its long title.
        [top] = [pd.read_csv(f) for f in folder.glob("table-*-content-*.csv") if "Title" in pd.read_csv(f).columns]
        assert len(top) and all(f"{views:,}" in text for views in top["Views"]), top
