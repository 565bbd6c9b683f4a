"""Tenant isolation and fan-out, end to end: the real CLI on a warehouse with planted marker data.

Every other client's name and content titles carry a unique marker; the target client's
carry its own marker. The target's notebook, HTML, PDF text and run.json must contain its
own marker (so the check can see markers at all) and none of the others'. On portfolios
cut down from the demo warehouse, the published comparison must not let the client
recover any other client's value (the attacker of ``support.disclosure``).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from support import published_runs, run_quire, warehouse_copy
from support.disclosure import attack, clues_from_row, cut_down_portfolio, read_comparison, true_count

pytestmark = pytest.mark.slow
OWN = "OWNMARK"


@pytest.fixture(scope="module")
def planted(tiny_warehouse, tmp_path_factory):
    """A copy of the tiny warehouse with markers planted; returns (url, target slug, other markers)."""
    path = tmp_path_factory.mktemp("planted") / "warehouse.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        # A white-label target: an active client whose brand is not the platform's own.
        target, = con.execute("""
            select c.slug from clients c join organizations o using (org_id)
            where c.status = 'active' and coalesce(c.brand, o.brand) <> 'quire' order by c.slug limit 1""").fetchone()
        con.execute("update clients set name = name || ' ' || ? where slug = ?", [OWN, target])
        con.execute("update content set title = title || ' ' || ? where client_id = (select client_id from clients where slug = ?)", [OWN, target])
        con.execute("update clients set name = name || ' ZZCLIENT' || client_id where slug <> ?", [target])
        con.execute("update content set title = title || ' ZZTITLE' || content_id where client_id <> (select client_id from clients where slug = ?)", [target])
    return f"duckdb:///{path}", target


def _texts(folder: Path) -> dict[str, str]:
    """The text of every file of a run: the PDF's extracted text, and each part of the workbook (cells and properties)."""
    pdf = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    with zipfile.ZipFile(folder / "report.xlsx") as book:
        workbook = "\n".join(book.read(part).decode() for part in book.namelist())
    data = {f.name: f.read_text() for f in sorted(folder.glob("*.csv"))}
    assert data, "the client report has tables, so data files"
    return ({name: (folder / name).read_text() for name in ("report.ipynb", "report.html", "run.json")}
            | {"report.pdf": pdf, "report.xlsx": workbook} | data)


def test_a_client_report_holds_only_that_clients_data(planted, quire_env):
    url, target = planted
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": url}
    proc = run_quire(env, "run", "client", "-p", f"client={target}")
    assert proc.returncode == 0, proc.stderr
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    assert folder.name.endswith(target)
    for name, text in _texts(folder).items():
        leaked = sorted(set(re.findall(r"ZZ(?:CLIENT|TITLE)\d+", text)))
        assert not leaked, f"{name} contains other clients' data: {leaked[:5]}"
        if name in ("report.ipynb", "report.html", "report.pdf"):
            assert OWN in text, f"{name} should show the client's own (marked) name or content"
    record = json.loads((folder / "run.json").read_text())
    assert record["client"] == target and record["brand"] != "quire"


def test_white_label_report_never_names_the_platform(planted, quire_env):
    url, target = planted
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": url}
    proc = run_quire(env, "run", "client", "-p", f"client={target}")
    assert proc.returncode == 0, proc.stderr
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    html = (folder / "report.html").read_text()
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(style|script)[^>]*>.*?</\1>", " ", html))
    assert "quire" not in visible.lower()
    texts = _texts(folder)
    # The files a client receives, down to the workbook's author (it said "Quire").
    for name in ("report.pdf", "report.xlsx", *(n for n in texts if n.endswith(".csv"))):
        assert "quire" not in texts[name].lower(), name


def test_fan_out_runs_each_client_and_continues_past_a_failure(planted, quire_env, tmp_path):
    url, _ = planted
    path = tmp_path / "fanout.duckdb"
    with warehouse_copy(url, path) as con:
        slugs = [r[0] for r in con.execute(
            "select slug from clients where status = 'active' and sector = 'municipality' order by slug").fetchall()]
        assert len(slugs) >= 2, "the tiny warehouse should have several active municipalities"
        broken = slugs[0]
        con.execute("update clients set brand = 'no-such-brand' where slug = ?", [broken])  # a broken brand assignment
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}
    proc = run_quire(env, "run", "client", "--clients", "sector=municipality", timeout=600)
    assert proc.returncode == 1  # one client failed
    runs = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    assert sorted(r.name.split("-", 2)[2] for r in runs) == slugs[1:]
    assert f"{len(slugs) - 1} of {len(slugs)} runs succeeded" in proc.stdout
    assert broken in proc.stderr and "no-such-brand" in proc.stderr


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory) -> str:
    """The demo warehouse (about 30 active clients) with data up to October 2026."""
    from datetime import date

    from quire.warehouse.load import build_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('demo') / 'demo.duckdb'}"
    build_warehouse(url, scale="demo", seed=7, end=date(2026, 10, 31))
    return url


@pytest.mark.parametrize("size", [6, 11])
def test_a_published_client_report_reveals_no_other_clients_value(demo_warehouse, quire_env, tmp_path, size):
    """`quire run client` on a portfolio cut down to 6 (bands) or 11 clients (portfolio figures): the attacker reads
    the published HTML, PDF and run.json and recovers no other client's value."""
    truth = cut_down_portfolio(demo_warehouse, tmp_path / "cut.duckdb", size)
    target = list(truth)[size // 2]
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'cut.duckdb'}"}
    proc = run_quire(env, "run", "client", "-p", f"client={target}", "-p", "period=2026-10")
    assert proc.returncode == 0, proc.stderr
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    html = (folder / "report.html").read_text()
    comparison = read_comparison(html)
    assert comparison is not None and comparison.others == size - 1 and comparison.rows
    assert "No other client's figures are shown" in comparison.text
    own, others = truth[target], [v for s, v in truth.items() if s != target]
    labels = {"Click-through rate": "ctr", "Conversion rate": "conversion_rate", "Engagement rate": "engagement_rate",
              "Views growth": "views_growth"}
    for label, row in comparison.rows.items():
        metric = labels[label]
        values = [o[metric] for o in others]
        clues = clues_from_row(row, metric, own[metric], len(values), comparison.method)
        assert not attack(clues, true_count(own[metric], values)), f"{label}: another client's value is recoverable"
    shown = {"figures" if row.get("Portfolio median", "—") != "—" else "band" for row in comparison.rows.values()}
    assert shown == ({"figures"} if size - 1 >= 10 else {"band"})
    # The PDF prints the same comparison; run.json records the client's own KPIs and nothing about the others.
    pdf = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    for row in comparison.rows.values():
        for cell in row.values():
            assert cell in pdf, f"the PDF differs from the HTML: {cell!r}"
    record = json.loads((folder / "run.json").read_text())
    headline = {k["name"]: k["value"] for k in record["headline"]}
    assert (headline["views"], headline["clicks"], headline["conversions"]) == (own["views"], own["clicks"], own["conversions"])
    assert not re.search(r"portfolio|percentile|p25|p50|p75|median", json.dumps(record), re.IGNORECASE)
