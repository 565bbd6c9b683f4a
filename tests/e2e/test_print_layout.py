"""Every report type, printed: nothing runs past the right margin of A4, and no number breaks across lines.

Each report runs once through the real CLI against the tiny warehouse; its HTML is laid out
by WeasyPrint exactly as the PDF renderer prints it, and the check reads WeasyPrint's boxes
(see ``support.layout``), which is exact where text extracted from the PDF is not. The
experiment report is also checked at the demo scale, where its figures are widest, in
``tests/unit/test_experiment_report.py``.
"""

from __future__ import annotations


import duckdb
import pytest

from support import ROOT, published_runs, quire_free_env
from support.layout import broken_numbers, layout, overflows
from support.runs import run_warm

pytestmark = pytest.mark.slow
REPORTS = ("executive", "client", "cohort", "experiment")


@pytest.fixture(scope="module")
def printed(tiny_warehouse, tmp_path_factory) -> dict[str, object]:
    """Each report type run once (the three-variant experiment, the client with the longest name) and laid out."""
    con = duckdb.connect(tiny_warehouse.removeprefix("duckdb:///"), read_only=True)
    try:
        client, = con.execute("select slug from clients where status = 'active' "
                              "order by length(name) desc, slug limit 1").fetchone()
    finally:
        con.close()
    args = {"client": ["-p", f"client={client}"], "experiment": ["-p", "experiment=pricing-page-layout"]}
    outputs = tmp_path_factory.mktemp("layout-outputs")
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(ROOT))
    documents = {}
    for report, proc in zip(REPORTS, run_warm(env, [("run", r, *args.get(r, [])) for r in REPORTS]), strict=True):
        assert proc.returncode == 0, f"{report}: {proc.stderr[-2000:]}"
        [folder] = published_runs(outputs, report)
        documents[report] = layout((folder / "report.html").read_text())
    return documents


@pytest.mark.parametrize("report", REPORTS)
def test_nothing_runs_past_the_right_margin(printed, report):
    assert [str(o) for o in overflows(printed[report])] == []


@pytest.mark.parametrize("report", REPORTS)
def test_no_number_breaks_across_lines(printed, report):
    assert broken_numbers(printed[report]) == []
