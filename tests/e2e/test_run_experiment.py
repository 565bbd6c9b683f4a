"""``quire run experiment`` end to end: the real CLI, a real kernel, the tiny warehouse, real HTML and PDF."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from support import ROOT, published_files, published_runs, quire_free_env, run_quire

pytestmark = pytest.mark.slow

RUNS = {
    "default": [],  # the experiment that started last, level 0.95, Holm: the notebook's defaults
    "pricing": ["-p", "experiment=pricing-page-layout", "-p", "correction=bonferroni"],
}


@pytest.fixture(scope="module")
def runs(tiny_warehouse, tmp_path_factory):
    """Both successful runs, side by side (each takes seconds; DuckDB lets several read-only processes share the file)."""

    def run(name: str):
        outputs = tmp_path_factory.mktemp(name) / "outputs"
        env = quire_free_env()
        env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(ROOT))
        proc = run_quire(env, "run", "experiment", *RUNS[name])
        assert proc.returncode == 0, proc.stderr
        folders = published_runs(outputs, "experiment")
        assert len(folders) == 1
        return folders[0]

    with ThreadPoolExecutor(max_workers=len(RUNS)) as pool:
        return dict(zip(RUNS, pool.map(run, RUNS), strict=True))


@pytest.mark.parametrize("name", RUNS)
def test_publishes_clean_files_and_table_data(runs, name):
    folder = runs[name]
    assert sorted(p.name for p in folder.iterdir()) == published_files(folder)
    html = (folder / "report.html").read_text()
    assert "Traceback" not in html and not re.search(r"\b[A-Z]\w*Error\b", html)
    assert "<script" not in html.lower() and "report.verdict()" not in html
    assert "Verdict:" in html and "Appendix: metric definitions" in html
    assert html.count("data:image/svg+xml;base64,") >= 3
    reader = PdfReader(folder / "report.pdf")
    assert len(reader.pages) >= 3
    assert "Experiment report" in reader.pages[0].extract_text()


def test_run_json_records_parameters_and_headline(runs, tiny_warehouse):
    record = json.loads((runs["default"] / "run.json").read_text())
    assert record["status"] == "succeeded" and record["report"] == "experiment"
    eng = sa.create_engine(tiny_warehouse, connect_args={"read_only": True})
    with eng.connect() as conn:  # "latest": the experiment that started last, recorded by its key
        key, name = conn.execute(sa.text("select key, name from experiments order by started_on desc, "
                                         "experiment_id desc limit 1")).one()
    assert record["parameters"] == {"experiment": key, "level": 0.95, "correction": "holm", "brand": "quire"}
    assert record["title"] == f"Experiment report: {name}"
    headline = {k["name"]: k for k in record["headline"]}
    assert {"users", "control_rate", "best_rate", "abs_lift", "p_value", "mde"} <= set(headline)
    assert "power" not in headline  # the design's MDE, never a post-hoc "achieved" power
    with eng.connect() as conn:
        users, conversions = conn.execute(sa.text(
            "select count(*), sum(case when converted then 1 else 0 end) from experiment_assignments a "
            "join experiments e using (experiment_id) where e.key = :key and a.variant = 'control'"),
            {"key": key}).one()
        total = conn.execute(sa.text("select count(*) from experiment_assignments a join experiments e "
                                     "using (experiment_id) where e.key = :key"), {"key": key}).scalar()
    eng.dispose()
    assert headline["users"]["value"] == total
    assert headline["control_rate"]["value"] == pytest.approx(conversions / users)


def test_the_verdict_in_words_is_recorded_and_leads_the_e_mail(runs):
    from html import escape, unescape

    from quire.catalog import load_catalog
    from quire.delivery.compose import report_message

    folder = runs["default"]
    record = json.loads((folder / "run.json").read_text())
    # The verdict box of the report, word for word: the headline's figures alone do not say ship or not.
    box = re.search(r'<div class="q-callout q-\w+" role="note"><strong>(Verdict: [^<]*)</strong> ([^<]*)</div>',
                    (folder / "report.html").read_text())
    assert box, "no verdict box in the report"
    assert record["conclusion"] == unescape(f"{box[1]} {box[2]}")
    run = {"run_id": record["run_id"], "output_folder": str(folder), "client": None, "parameters": record["parameters"]}
    message = report_message(run, load_catalog(ROOT / "reports.yaml").get("experiment"), "pm@example.com")
    assert record["conclusion"] in message.text
    assert message.text.index(record["conclusion"]) < message.text.index("Headline figures:")
    assert f"<p><b>{box[1]} {box[2]}</b></p>" in message.html
    # Each figure as the report's card shows it: "+0.6 pts" and "p = 0.113", not "0.6%" and "0.1".
    html = (folder / "report.html").read_text()
    cards = dict(re.findall(r'<div class="q-kpi-label">([^<]*)</div><div class="q-kpi-value[^"]*">([^<]*)</div>', html))
    assert cards and len(cards) == len(record["headline"])
    for kpi in record["headline"]:
        assert cards[escape(kpi["label"])].replace("\u2060", "") == escape(kpi["text"])  # less the HTML's word joiners
        assert f"  {kpi['label']}: {kpi['text']}\n" in message.text


def test_three_variant_run_uses_the_chosen_correction(runs):
    html = (runs["pricing"] / "report.html").read_text()
    assert "Multiple comparisons" in html and "Bonferroni-adjusted p" in html and "Holm-adjusted" not in html
    record = json.loads((runs["pricing"] / "run.json").read_text())
    assert record["parameters"]["correction"] == "bonferroni"
    assert {k["name"]: k for k in record["headline"]}["p_value"]["label"] == "p-value (Bonferroni-adjusted)"


@pytest.mark.parametrize("args,message", [
    (["-p", "experiment=nosuch"], "no experiment 'nosuch' in the warehouse; known: checkout-redesign, homepage-aa, "
                                  "pricing-page-layout, onboarding-upsell, search-ranking"),
    (["-p", "level=2"], "parameter 'level': 2.0 is out of range"),
])
def test_bad_parameters_fail_fast_with_one_line(quire_env, args, message):
    proc = run_quire(quire_env, "run", "experiment", *args, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_an_experiment_that_ends_before_it_starts_is_refused_before_the_run(quire_env, tmp_path):
    # It passed every check, then published a report dated "30 September – 1 September 2026 (-28 days)".
    from support import warehouse_copy

    path = tmp_path / "dates.duckdb"
    with warehouse_copy(quire_env["QUIRE_WAREHOUSE_URL"], path) as con:
        con.execute("UPDATE experiments SET started_on = DATE '2026-09-30', ended_on = DATE '2026-09-01' "
                    "WHERE key = 'checkout-redesign'")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}
    proc = run_quire(env, "run", "experiment", "-p", "experiment=checkout-redesign", timeout=60)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: experiment 'checkout-redesign' ends on 1 September 2026, before it starts on 30 September 2026 "
        "(fix its started_on or ended_on in the experiments table)"], proc.stderr
    outputs = Path(quire_env["QUIRE_OUTPUTS"])
    assert not published_runs(outputs, "experiment") and not (outputs / "_failed").exists()  # refused, not parked
