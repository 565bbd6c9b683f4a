"""A brand kit in de-DE and EUR, end to end: `quire run` writes every figure and date of its reports the German
way — cards, tables, chart axes, alt text, the PDF — and a client's own locale and currency override its brand's.

The kit lives in a QUIRE_HOME of its own (the checkout's catalog, notebooks and templates, plus the kit); the
warehouse is a copy of the tiny one in which one client wears the kit and another has its own locale.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml
from babel.dates import format_skeleton
from bs4 import BeautifulSoup
from pypdf import PdfReader

from support import ROOT, published_runs, quire_free_env, run_quire, warehouse_copy

pytestmark = pytest.mark.slow

KIT = {"name": "Kontor Digital", "logo": "logo.svg", "locale": "de-DE", "currency": "EUR",
       "colors": {"primary": "#243b53", "secondary": "#b44d12", "accent": "#2f855a"},
       "footer": "Vertraulich", "contact": "berichte@kontor.example"}
#: German money: "13.071 €", "−1.330 €", "2,83 €" (a no-break space before the euro sign)
GERMAN_MONEY = re.compile(r"(?<![\d.,])[+\u2212]?\d{1,3}(?:\.\d{3})*(?:,\d{2})?\u00a0€")
#: Figures written the en-US way: "1,234" (not a German decimal such as "0,012"), "12.3", "12.3%"
ENGLISH_FIGURE = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+(?![\d,])|(?<![\d.])\d+\.\d{1,2}(?![\d.])|\d%")
SVG = "{http://www.w3.org/2000/svg}"
RUNS = {"executive": ["executive", "-p", "brand=kontor"], "experiment": ["experiment", "-p", "brand=kontor"],
        "cohort": ["cohort", "-p", "brand=kontor"], "client": ["client", "-p", "client=riverton-realty"],
        "example": ["example", "-p", "brand=kontor"]}


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """The checkout's catalog, notebooks and templates, with one more brand kit: ``kontor`` (de-DE, EUR)."""
    home = tmp_path_factory.mktemp("home")
    (home / "reports.yaml").symlink_to(ROOT / "reports.yaml")
    (home / "notebooks").symlink_to(ROOT / "notebooks")
    brands = home / "templates" / "brands"
    brands.mkdir(parents=True)
    for item in (ROOT / "templates").iterdir():
        if item.name != "brands":
            (home / "templates" / item.name).symlink_to(item)
    for kit in (ROOT / "templates" / "brands").iterdir():
        (brands / kit.name).symlink_to(kit)
    (brands / "kontor").mkdir()
    shutil.copy(ROOT / "templates" / "brands" / "quire" / "logo.svg", brands / "kontor" / "logo.svg")
    (brands / "kontor" / "brand.yaml").write_text(yaml.safe_dump(KIT, allow_unicode=True), encoding="utf-8")
    return home


@pytest.fixture(scope="module")
def warehouse(tiny_warehouse, tmp_path_factory) -> str:
    """The tiny warehouse with Riverton Realty in the kit, Quantalane Health in fr-FR and CHF, Fairdale in a bad locale."""
    path = tmp_path_factory.mktemp("german") / "warehouse.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("update clients set brand = 'kontor' where slug = 'riverton-realty'")
        con.execute("update clients set locale = 'fr-FR', currency = 'CHF' where slug = 'quantalane-health'")
        con.execute("update clients set locale = 'xx-YY' where slug = 'town-of-fairdale'")
    return f"duckdb:///{path}"


def _env(home: Path, warehouse: str, outputs: Path) -> dict[str, str]:
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=warehouse, QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(home))
    return env


@pytest.fixture(scope="module")
def runs(home, warehouse, tmp_path_factory) -> dict[str, Path]:
    """One published run per entry of RUNS, side by side (DuckDB lets several read-only processes share the file)."""
    def run(name: str) -> Path:
        outputs = tmp_path_factory.mktemp(name) / "outputs"
        proc = run_quire(_env(home, warehouse, outputs), "run", *RUNS[name])
        assert proc.returncode == 0, proc.stderr[-3000:]
        [folder] = published_runs(outputs, RUNS[name][0])
        return folder

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(RUNS, pool.map(run, RUNS), strict=True))


def page(folder: Path) -> BeautifulSoup:
    return BeautifulSoup((folder / "report.html").read_text(encoding="utf-8"), "html.parser")


def charts(folder: Path) -> list[tuple[str, list[str]]]:
    """(alt text, the texts drawn in the SVG) of each chart of the report."""
    found = []
    for figure in page(folder).select("figure.q-chart img"):
        svg = ET.fromstring(base64.b64decode(figure["src"].split(",", 1)[1]))
        found.append((figure["alt"], ["".join(t.itertext()).strip() for t in svg.iter(f"{SVG}text")]))
    return found


def pdf_text(folder: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(folder / "report.pdf").pages)


@pytest.mark.parametrize("name", list(RUNS))
def test_no_dollar_anywhere_and_no_english_figures(runs, name):
    folder = runs[name]
    html = (folder / "report.html").read_text(encoding="utf-8")
    text = page(folder).get_text(" ")
    assert "$" not in html and "$" not in pdf_text(folder)
    assert not ENGLISH_FIGURE.findall(text), ENGLISH_FIGURE.findall(text)[:5]
    for alt, drawn in charts(folder):
        assert "$" not in alt and not any("$" in t for t in drawn), alt
        assert not ENGLISH_FIGURE.findall(alt), alt
    record = json.loads((folder / "run.json").read_text())
    assert (record["locale"], record["currency"]) == ("de-DE", "EUR")


def test_executive_cards_table_axis_and_alt_text_in_german(runs):
    folder = runs["executive"]
    soup = page(folder)
    cards = {c.select_one(".q-kpi-label").get_text(): c.select_one(".q-kpi-value").get_text() for c in soup.select(".q-kpi")}
    assert GERMAN_MONEY.fullmatch(cards["MRR"]) and GERMAN_MONEY.fullmatch(cards["ARPA"]), cards
    assert re.fullmatch(r"\d{1,3},\d\u00a0%", cards["Net revenue retention"]), cards
    bridge = next(t for t in soup.select("table.q-table") if "MRR bridge" in t.get_text())
    amounts = [td.get_text() for td in bridge.select("td.q-num")]
    assert amounts and all(GERMAN_MONEY.fullmatch(a) for a in amounts), amounts
    waterfall_alt, waterfall = next(c for c in charts(folder) if c[0].startswith("Waterfall"))
    ticks = [t for t in waterfall if GERMAN_MONEY.fullmatch(t)]
    assert len(ticks) >= 6, waterfall  # the money axis and the bars' labels
    assert len(GERMAN_MONEY.findall(waterfall_alt)) >= 3, waterfall_alt
    trend_alt, _ = next(c for c in charts(folder) if c[0].startswith("Line chart of MRR"))
    assert "Oktober 2026" in trend_alt or "November 2026" in trend_alt  # month names in German
    assert GERMAN_MONEY.search(pdf_text(folder))


def test_the_cover_dates_the_run_in_german(runs):
    folder = runs["executive"]
    started = datetime.fromisoformat(json.loads((folder / "run.json").read_text())["started_at"]).astimezone(timezone.utc)
    assert f"Generated {format_skeleton('yMMMMd', started.date(), locale='de_DE')}" in page(folder).get_text(" ")


def test_experiment_money_keeps_its_cents_the_german_way(runs):
    folder = runs["experiment"]
    text = page(folder).get_text(" ")
    assert re.search(r"\d,\d{2}\u00a0€", text)  # revenue per user: "2,83 €"
    assert any("€ per user" in " ".join(drawn) or "\u00a0€" in " ".join(drawn) for _, drawn in charts(folder))


def test_a_client_in_the_kit_gets_its_report_in_german(runs):
    folder = runs["client"]
    text = page(folder).get_text(" ")
    assert "Oktober 2026" in text and re.search(r"\d\.\d{3} views", text)  # "7.747 views"
    assert re.search(r"\d,\d\u00a0%", text)


def test_the_clients_e_mail_quotes_its_cards_in_german(runs):
    from quire.catalog import load_catalog
    from quire.delivery.compose import report_message

    folder = runs["client"]
    record = json.loads((folder / "run.json").read_text())
    run = {"run_id": record["run_id"], "output_folder": str(folder), "client": record["client"],
           "parameters": record["parameters"]}
    message = report_message(run, load_catalog(ROOT / "reports.yaml").get("client"), "contact@example.com")
    cards = {c.select_one(".q-kpi-label").get_text(): c for c in page(folder).select(".q-kpi")}
    lines = dict(line.strip().split(": ", 1) for line in message.text.splitlines() if line.startswith("  "))
    assert lines and set(lines) == set(cards)
    for label, line in lines.items():  # the value, then the change against the month before, as on the card
        card = cards[label]
        value = card.select_one(".q-kpi-value").get_text().replace("\u2060", "")
        delta = card.select_one(".q-kpi-delta")
        shown = value if delta is None else f"{value} ({delta.get_text(' ', strip=True).lstrip('▲▼■ ')})"
        assert line == shown.replace("\u2060", ""), (line, shown)
    assert "$" not in message.text and "September 2026)" in message.text  # against the month before October
    assert re.search(r"\(\+\d+,\d\u00a0% (vs|better than|worse than) ", message.text), message.text  # German figures


def test_an_analysts_plain_notebook_is_dressed_in_the_kits_conventions(runs):
    folder = runs["example"]
    soup = page(folder)
    assert GERMAN_MONEY.fullmatch(soup.select_one(".q-kpi-value").get_text())
    assert "MRR (€)" in soup.get_text(" ")  # the notebook asks for the symbol instead of writing "$"
    cells = [td.get_text() for td in soup.select("table.q-table td.q-num")]
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+", c) for c in cells), cells  # "8.650": a German thousands separator


def test_the_data_files_write_money_in_the_kits_currency(runs):
    from openpyxl import load_workbook

    book = load_workbook(runs["executive"] / "report.xlsx")
    formats = {c.number_format for sheet in book for row in sheet.iter_rows(min_row=3) for c in row}
    assert '#,##0"\u00a0€"' in formats and not any("$" in f for f in formats)


def test_a_clients_own_locale_and_currency_override_its_brand(warehouse):
    from quire.reports import client as client_report

    report = client_report.build(client="quantalane-health", period="2026-10", url=warehouse)
    try:
        assert report.header().period_label == "octobre 2026"
        assert "\u202f" in report.headline().html() or re.search(r"\d,\d\u00a0%", report.headline().html())
    finally:
        from quire import formatting

        formatting.use(formatting.DEFAULT)


def test_a_client_with_a_bad_locale_fails_before_anything_runs(home, warehouse, tmp_path):
    proc = run_quire(_env(home, warehouse, tmp_path / "outputs"), "run", "client", "-p", "client=town-of-fairdale")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "client town-of-fairdale: its locale in the warehouse's clients table: 'xx-YY' is not a locale" in proc.stderr
    assert not published_runs(tmp_path / "outputs", "client")


def test_a_warehouse_without_the_optional_columns_still_runs(tiny_warehouse, tmp_path):
    from quire import formatting
    from quire.reports import client as client_report

    path = tmp_path / "old.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("alter table clients drop column locale")
        con.execute("alter table clients drop column currency")
    try:
        report = client_report.build(client="riverton-realty", period="2026-10", url=f"duckdb:///{path}")
        assert report.header().period_label == "October 2026" and formatting.current() == formatting.DEFAULT
    finally:
        formatting.use(formatting.DEFAULT)
