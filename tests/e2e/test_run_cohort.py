"""``quire run cohort`` end to end: the real CLI, a real kernel, the tiny warehouse, real HTML and PDF."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pypdf import PdfReader

from support import ROOT, published_files, published_runs, quire_free_env, run_quire

pytestmark = pytest.mark.slow

KPIS = ["users", "user_retention_age1", "user_retention_age3", "revenue_retention_age3", "ltv_age3"]


RUNS = {"monthly": (), "weekly_activated": ("-p", "granularity=week", "-p", "behaviour=activated")}


@pytest.fixture(scope="module")
def runs(tiny_warehouse, tmp_path_factory) -> dict[str, Path]:
    """One published run per parameter set, both started at once (a run spends much of its time waiting on its kernel)."""
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_HOME=str(ROOT))
    outputs = {name: tmp_path_factory.mktemp(f"cohort-{name}") / "outputs" for name in RUNS}
    with ThreadPoolExecutor(len(RUNS)) as pool:
        procs = dict(zip(RUNS, pool.map(lambda name: run_quire({**env, "QUIRE_OUTPUTS": str(outputs[name])}, "run", "cohort",
                                                                   *RUNS[name]), RUNS), strict=True))
    folders = {}
    for name, proc in procs.items():
        assert proc.returncode == 0, proc.stderr
        published = published_runs(outputs[name], "cohort")
        assert len(published) == 1
        folders[name] = published[0]
    return folders


@pytest.fixture
def monthly_run(runs):
    return runs["monthly"]


@pytest.fixture
def weekly_activated_run(runs):
    return runs["weekly_activated"]


@pytest.fixture(params=["monthly_run", "weekly_activated_run"])
def run_folder(request):
    return request.getfixturevalue(request.param)


def test_publishes_the_report_and_its_table_data(run_folder):
    assert sorted(p.name for p in run_folder.iterdir()) == published_files(run_folder)


def test_html_is_clean_and_complete(run_folder):
    html = (run_folder / "report.html").read_text()
    assert "Traceback" not in html and not re.search(r"\b[A-Z]\w*Error\b", html)
    assert "report.headline()" not in html  # code cells are hidden
    for title in ["Cohort report", "User retention", "Revenue retention", "Lifetime value (LTV) curves",
                  "Recent versus earlier cohorts", "Appendix: metric definitions"]:
        assert title in html
    assert html.count("data:image/svg+xml;base64,") >= 3  # two heatmaps and the LTV curves
    assert "blank = not yet observed" in html


def test_pdf_has_several_pages(run_folder):
    reader = PdfReader(run_folder / "report.pdf")
    assert len(reader.pages) >= 3
    assert "Cohort report" in reader.pages[0].extract_text()


def test_run_json_records_the_headline(monthly_run):
    record = json.loads((monthly_run / "run.json").read_text())
    assert record["status"] == "succeeded" and record["report"] == "cohort"
    assert record["parameters"] == {"period": "2026-10", "granularity": "month", "cohorts": 12, "horizon": 12,
                                    "behaviour": "all", "activation_days": 7, "brand": "quire"}
    headline = {k["name"]: k for k in record["headline"]}
    assert list(headline) == KPIS
    assert headline["users"]["value"] > 0 and headline["users"]["unit"] == "number"
    for name in KPIS[1:4]:
        assert headline[name]["unit"] == "percent" and 0 <= headline[name]["value"] <= 5
        assert headline[name]["previous"] is not None  # compared with the earlier cohorts
    assert headline["ltv_age3"]["unit"] == "currency"


def test_weekly_activated_run_shows_the_filter(weekly_activated_run, monthly_run):
    record = json.loads((weekly_activated_run / "run.json").read_text())
    assert record["parameters"]["granularity"] == "week" and record["parameters"]["behaviour"] == "activated"
    headline = {k["name"]: k for k in record["headline"]}
    assert headline["users"]["label"].startswith("Activated users")
    monthly_users = {k["name"]: k for k in json.loads((monthly_run / "run.json").read_text())["headline"]}["users"]
    assert 0 < headline["users"]["value"] < monthly_users["value"]
    html = (weekly_activated_run / "report.html").read_text()
    assert "Behavioural filter: activated users" in html and "W 2026-10-19" in html


def test_an_unknown_granularity_fails_fast_with_one_line(quire_env):
    proc = run_quire(quire_env, "run", "cohort", "-p", "granularity=daily", timeout=60)
    assert proc.returncode == 2
    # The CLI announces each run ("▶ cohort (1/1)") before it validates; the error itself is one line.
    errors = [line for line in proc.stderr.strip().splitlines() if not line.startswith("▶")]
    assert errors == ["error: parameter 'granularity': 'daily' is not allowed; choose one of week, month"]
    assert "Traceback" not in proc.stderr
    assert not published_runs(Path(quire_env["QUIRE_OUTPUTS"]), "cohort")
