"""Each report runs on its own required tables alone, through the real CLI, and says what it left out.

Every warehouse here holds only one report's required tables, and of those only the
required columns (created from the data contract, rows copied from the tiny warehouse):
the cohort report on users and events, the experiment report on its assignments without
the pre-period metric, the client report on clients, content and engagement, the
executive report on clients and the MRR ledger. `quire warehouse check` says, for each,
that this report can run and why the others cannot.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support import ROOT, published_runs, quire_free_env, run_quire
from support.contract_data import subset_warehouse

pytestmark = pytest.mark.slow

# report -> (its required tables, the run's parameters, what its HTML must say about what is left out)
CASES = {
    "cohort": (["users", "events"], ["-p", "period=2026-10"], []),
    "experiment": (["experiment_assignments"], ["-p", "experiment=experiment-3"],
                   ["The warehouse has no experiments table, so each experiment is named experiment-&lt;experiment_id&gt;",
                    "The assignments have no pre_revenue column", "the planned split is equal"]),
    "client": (["clients", "content", "engagement_daily"], ["-p", "client=village-of-summerbrook", "-p", "period=2026-10"],
               ["The health score is left out: the warehouse has no product_usage, support_tickets or survey_responses "
                "table"]),
    "executive": (["clients", "mrr_movements"], ["-p", "period=2026-10"],
                  ["The warehouse has no projects table, so project delivery, on-time rate and project margin are left out",
                   "Satisfaction and account health are left out: the warehouse has no product_usage"]),
}


@pytest.fixture(scope="module")
def minimal(tiny_warehouse, tmp_path_factory) -> dict[str, str]:
    """report -> URL of a warehouse holding only that report's required tables and columns."""
    folder = tmp_path_factory.mktemp("minimal")
    return {report: subset_warehouse(tiny_warehouse, folder / f"{report}.duckdb", report=report, tables=tables,
                                     required_only=True)
            for report, (tables, _, _) in CASES.items()}


def _env(url: str, outputs: Path) -> dict[str, str]:
    env = quire_free_env()
    return {**env, "QUIRE_WAREHOUSE_URL": url, "QUIRE_OUTPUTS": str(outputs), "QUIRE_HOME": str(ROOT)}


@pytest.fixture(scope="module")
def runs(minimal, tmp_path_factory) -> dict[str, Path]:
    """report -> its published run folder (two runs at a time)."""
    outputs = {report: tmp_path_factory.mktemp(f"min-{report}") / "outputs" for report in CASES}

    def run(report: str):
        return run_quire(_env(minimal[report], outputs[report]), "run", report, *CASES[report][1])

    with ThreadPoolExecutor(2) as pool:
        procs = dict(zip(CASES, pool.map(run, CASES), strict=True))
    folders = {}
    for report, proc in procs.items():
        assert proc.returncode == 0, f"{report}: {proc.stderr}"
        (folders[report],) = published_runs(outputs[report], report)
    return folders


@pytest.mark.parametrize("report", list(CASES))
def test_a_report_runs_on_its_required_tables_alone_and_notes_what_it_leaves_out(report, runs):
    folder = runs[report]
    assert (folder / "report.pdf").stat().st_size > 10_000
    html = (folder / "report.html").read_text(encoding="utf-8")
    for note in CASES[report][2]:
        assert note in html, f"{report}: no note {note!r}"
    if report == "experiment":
        assert "CUPED variance reduction" not in html  # no card or chart made up without the covariate
    if report == "client":
        assert "Health score" not in html.split("q-appendix")[0]  # no empty health card either


@pytest.mark.parametrize("report", list(CASES))
def test_check_says_which_reports_can_run_on_it_and_why_not(report, minimal, tmp_path):
    proc = run_quire(_env(minimal[report], tmp_path / "outputs"), "warehouse", "check", "--json")
    assert proc.returncode == 1, proc.stderr  # the other three cannot run
    doc = json.loads(proc.stdout)
    assert [name for name, r in doc["reports"].items() if r["can_run"]] == [report]
    for name, r in doc["reports"].items():
        if name != report:
            missing = [f["table"] for f in r["findings"] if f["severity"] == "error"]
            assert missing and all(f["code"] == "missing_table" for f in r["findings"] if f["severity"] == "error")
