"""``quire run`` end to end: the real CLI, a real kernel, the tiny warehouse, real HTML and PDF."""

from __future__ import annotations

import json
import re
import shutil
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from support import ROOT, published_files, published_runs, quire_free_env, run_quire

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executive_run(tiny_warehouse, tmp_path_factory):
    """One successful run of the executive report shared by the checks below (a run takes seconds)."""

    outputs = tmp_path_factory.mktemp("exec") / "outputs"
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(ROOT))
    proc = run_quire(env, "run", "executive", "-p", "period=latest", "-p", "forecast_months=4")
    assert proc.returncode == 0, proc.stderr
    runs = published_runs(outputs, "executive")
    assert len(runs) == 1
    return runs[0], proc


def test_publishes_the_report_and_its_table_data(executive_run):
    folder, proc = executive_run
    assert sorted(p.name for p in folder.iterdir()) == published_files(folder)
    assert str(folder.name) in proc.stdout  # the CLI says where the run went
    assert not list((folder.parents[2] / ".quire" / "staging").glob(f"{folder.name}*"))


def test_run_json_records_parameters_timings_and_headline(executive_run, tiny_warehouse):
    folder, _ = executive_run
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "succeeded" and record["report"] == "executive"
    assert record["parameters"]["period"] == "2026-10"  # 'latest' resolved against the tiny warehouse (ends Oct 2026)
    assert record["parameters"]["forecast_months"] == 4
    assert {"execute", "render_html", "render_pdf", "total"} <= set(record["timings"])
    assert {"papermill", "nbconvert", "weasyprint", "pandas"} <= set(record["versions"])
    # As installed (the warm server the run was forked from read them once).
    assert {name: version for name, version in record["versions"].items() if name != "python"} == {
        name: metadata.version(name) for name in record["versions"] if name != "python"}
    assert record["warehouse"] == tiny_warehouse  # which data the figures come from
    headline = {k["name"]: k for k in record["headline"]}
    assert {"mrr", "arr", "nrr", "grr", "nps"} <= set(headline)
    mrr = headline["mrr"]
    assert mrr["unit"] == "currency" and mrr["value"] > 0
    assert headline["arr"]["value"] == pytest.approx(12 * mrr["value"])


def test_headline_matches_an_independent_sql_computation(executive_run, tiny_warehouse):
    """The MRR the report displayed equals the ledger summed directly in SQL."""
    import sqlalchemy as sa

    folder, _ = executive_run
    headline = {k["name"]: k for k in json.loads((folder / "run.json").read_text())["headline"]}
    eng = sa.create_engine(tiny_warehouse, connect_args={"read_only": True})
    with eng.connect() as conn:
        total = conn.execute(sa.text("select sum(amount) from mrr_movements where month <= date '2026-10-01'")).scalar()
    eng.dispose()
    assert headline["mrr"]["value"] == pytest.approx(float(total), abs=0.01)


def test_html_is_clean(executive_run):
    folder, _ = executive_run
    html = (folder / "report.html").read_text()
    assert "Traceback" not in html and not re.search(r"\b[A-Z]\w*Error\b", html)
    assert "<script" not in html.lower()
    assert "report.headline()" not in html  # code cells are hidden
    assert "Executive report" in html and "Net revenue retention" in html
    assert "data:image/svg+xml;base64," in html  # charts are embedded


def test_pdf_has_cover_body_and_page_numbers(executive_run):
    folder, _ = executive_run
    reader = PdfReader(folder / "report.pdf")
    pages = len(reader.pages)
    assert pages >= 4
    last = reader.pages[-1].extract_text()
    assert f"Page {pages} of {pages}" in last
    assert "Executive report" in reader.pages[0].extract_text()


def test_executed_notebook_is_the_audit_trail(executive_run):
    folder, _ = executive_run
    nb = nbformat.read(folder / "report.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'period = "2026-10"' in injected[0].source


@pytest.mark.parametrize("args,message", [
    (["-p", "nosuch=1"], "unknown parameter 'nosuch' for report 'executive'"),
    (["-p", "period=banana"], "parameter 'period': 'banana' is not a period"),
    (["-p", "period=2099-01"], "parameter 'period': 2099-01 is in the future"),
    (["-p", "forecast_months=lots"], "parameter 'forecast_months': 'lots' is not a whole number"),
    (["-p", "brand=acme"], "parameter 'brand': no brand kit 'acme'"),
])
def test_bad_parameters_fail_fast_with_one_line_and_no_output(quire_env, args, message):
    proc = run_quire(quire_env, "run", "executive", *args, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    outputs = Path(quire_env["QUIRE_OUTPUTS"])
    assert not published_runs(outputs, "executive")
    assert not list(outputs.glob(".quire/staging/*"))


def test_unknown_report_and_missing_warehouse(quire_env, tmp_path):
    proc = run_quire(quire_env, "run", "nosuch", timeout=60)
    assert proc.returncode == 2 and "unknown report 'nosuch'" in proc.stderr and "executive" in proc.stderr
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path}/absent.duckdb"}
    proc = run_quire(env, "run", "executive", timeout=60)
    assert proc.returncode != 0 and "quire warehouse build" in proc.stderr and "Traceback" not in proc.stderr


def test_a_failing_notebook_publishes_nothing_and_keeps_the_partial_notebook(quire_env, tmp_path):
    home = tmp_path / "home"
    (home / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "templates", home / "templates")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("answer: int = 41", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('first cell ran')"),
        nbformat.v4.new_code_cell("raise ValueError(f'planted failure {answer}')"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, home / "notebooks" / "broken.ipynb")
    (home / "reports.yaml").write_text(
        "reports:\n  broken:\n    title: Broken\n    notebook: notebooks/broken.ipynb\n    description: fails\n"
        "    owner: ops@example.com\n    parameters:\n      answer: {type: int}\n")
    env = {**quire_env, "QUIRE_HOME": str(home)}
    proc = run_quire(env, "run", "broken", timeout=120)
    outputs = Path(env["QUIRE_OUTPUTS"])
    assert proc.returncode == 1
    assert "planted failure 41" in proc.stderr and "_failed" in proc.stderr and "Traceback" not in proc.stderr
    assert not published_runs(outputs, "broken")
    failed = list(outputs.glob("_failed/broken/*/*"))
    assert len(failed) == 1
    assert "planted failure" in (failed[0] / "FAILED.txt").read_text()
    partial = nbformat.read(failed[0] / "report.ipynb", as_version=4)
    assert any("first cell ran" in str(c.get("outputs")) for c in partial.cells)
    assert not any("never reached" in str(c.get("outputs")) for c in partial.cells)
