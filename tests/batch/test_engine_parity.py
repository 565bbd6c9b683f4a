"""Both engines publish the same report: the batch engine (cells in a warm worker) and papermill (a kernel per run).

For every report type, the same run through ``quire run --engine batch`` and
``--engine papermill`` must publish the same headline figures in run.json and the same
report text (the HTML's visible text, the run's own id aside).
"""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import pytest

from support import published_runs, run_quire

pytestmark = pytest.mark.slow

RUNS = {
    "executive": ["-p", "period=2026-09"],
    "cohort": ["-p", "granularity=month"],
    "experiment": ["-p", "experiment=pricing-page-layout"],
    "client": ["-p", "client=town-of-fairdale", "-p", "period=2026-10"],
}


def _visible_text(folder: Path) -> str:
    page = (folder / "report.html").read_text(encoding="utf-8")
    page = re.sub(r"(?s)<(style|script)[^>]*>.*?</\1>", " ", page)
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", page))
    return " ".join(text.replace(folder.name, "RUN").split())


@pytest.mark.parametrize("report", list(RUNS))
def test_both_engines_publish_the_same_report(report, quire_env, tmp_path):
    published = {}
    for engine in ("batch", "papermill"):
        env = {**quire_env, "QUIRE_OUTPUTS": str(tmp_path / engine)}
        proc = run_quire(env, "run", report, *RUNS[report], "--engine", engine, timeout=600)
        assert proc.returncode == 0, proc.stderr
        [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), report)
        published[engine] = folder
    records = {engine: json.loads((folder / "run.json").read_text()) for engine, folder in published.items()}
    batch, papermill = records["batch"], records["papermill"]
    assert batch["parameters"] == papermill["parameters"]
    assert [k["name"] for k in batch["headline"]] == [k["name"] for k in papermill["headline"]]
    for ours, theirs in zip(batch["headline"], papermill["headline"], strict=True):
        for field in ("value", "previous", "delta"):
            expected = theirs.get(field)
            same = ours.get(field) is None if expected is None else ours.get(field) == pytest.approx(expected, rel=1e-12)
            assert same, (ours["name"], field, ours.get(field), expected)
    assert _visible_text(published["batch"]) == _visible_text(published["papermill"])
