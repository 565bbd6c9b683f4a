"""The production-database path: the warehouse on a real PostgreSQL server.

The tiny sample warehouse is loaded into PostgreSQL and into DuckDB from the same seed;
every report type must read exactly the same frames (values and dtypes) from both, and
`quire run` must publish a report from PostgreSQL. This also covers the plain-rows read
path (DuckDB's columnar fetch is used only on DuckDB).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from quire.reports import client as client_report
from quire.reports import cohort
from quire.reports import executive_data, experiment_data
from support import published_runs, run_quire

pytestmark = pytest.mark.slow


def _frames(data) -> dict[str, pd.DataFrame | pd.Series]:
    return {f.name: getattr(data, f.name) for f in dataclasses.fields(data)
            if isinstance(getattr(data, f.name), (pd.DataFrame, pd.Series))}


def _assert_same(duck, pg) -> None:
    ours, theirs = _frames(duck), _frames(pg)
    assert ours.keys() == theirs.keys() and ours
    for name, frame in ours.items():
        if isinstance(frame, pd.Series):
            pd.testing.assert_series_equal(frame, theirs[name], obj=name)
        else:
            pd.testing.assert_frame_equal(frame.reset_index(drop=True), theirs[name].reset_index(drop=True), obj=name)


@pytest.mark.parametrize("load", [
    pytest.param(lambda url: executive_data.load("latest", url), id="executive"),
    pytest.param(lambda url: cohort.load("latest", "week", 8, url), id="cohort"),
    pytest.param(lambda url: experiment_data.load("pricing-page-layout", url), id="experiment"),
    pytest.param(lambda url: client_report.load("", "latest", url), id="client"),
])
def test_every_report_reads_the_same_data_from_postgresql(load, tiny_warehouse, pg_tiny_warehouse):
    _assert_same(load(tiny_warehouse), load(pg_tiny_warehouse))


def test_quire_run_publishes_from_postgresql(quire_env, pg_tiny_warehouse, tiny_warehouse):
    runs = {}
    for name, url in (("pg", pg_tiny_warehouse), ("duckdb", tiny_warehouse)):
        env = {**quire_env, "QUIRE_WAREHOUSE_URL": url, "QUIRE_OUTPUTS": f"{quire_env['QUIRE_OUTPUTS']}-{name}"}
        proc = run_quire(env, "run", "executive")
        assert proc.returncode == 0, proc.stderr
        [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "executive")
        runs[name] = json.loads((folder / "run.json").read_text())
    assert runs["pg"]["headline"] == runs["duckdb"]["headline"]
