"""Every report that takes a period runs through ``quire run`` for the first and the last valid period of each
granularity (month, quarter, year) of its own data, and the cohort report runs on a warehouse without an MRR ledger.

The tiny warehouse here ends on 31 December 2025, so its 14 months (November 2024 – December 2025) hold one
complete year; the session's tiny warehouse ends in October and holds none. The experiment report takes no period.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from quire.periods import Period, add_months
from support import ROOT, published_runs, quire_free_env, run_quire, warehouse_copy
from support.runs import run_warm

pytestmark = pytest.mark.slow

REPORTS = ("executive", "cohort", "client")


@pytest.fixture(scope="module")
def year_warehouse(tmp_path_factory) -> str:
    from quire.warehouse.load import build_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('year') / 'tiny.duckdb'}"
    build_warehouse(url, scale="tiny", seed=7, end=date(2025, 12, 31))
    return url


def edge_periods(first: date, last: date) -> list[str]:
    """The first and last month, quarter and complete year within ``first``..``last`` (first-of-month dates)."""
    found = []
    for kind in ("month", "quarter", "year"):
        start = Period.containing(first, kind)
        start = start if start.start >= first else start.shift(1)
        end = Period.containing(last, kind)
        end = end if end.last_month <= last else end.shift(-1)
        if start.start <= end.start:
            found += [start.key, end.key]
    return list(dict.fromkeys(found))


def runs_for(url: str) -> list[tuple[str, str]]:
    """(report, period) for every report and each of its edge periods, read from its own data."""
    from quire.warehouse import coverage
    from quire.warehouse.engine import connection

    with connection(url) as conn:
        ranges = {report: coverage.report_range(report, conn) for report in REPORTS}
    return [(report, period) for report in REPORTS for period in edge_periods(*ranges[report])]


def run_all(env: dict[str, str], runs: list[tuple[str, str]], client: str) -> dict:
    commands = [("run", report, "-p", f"period={period}", *(("-p", f"client={client}") if report == "client" else ()))
                for report, period in runs]
    return dict(zip(runs, run_warm(env, commands), strict=True))


def earliest_active_client(url: str) -> str:
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(url) as conn:
        clients = queries.clients(conn)
    active = clients[clients["status"] == "active"].sort_values(["signup_date", "slug"])
    return str(active["slug"].iloc[0])


def test_edge_periods_of_the_year_warehouse():
    assert edge_periods(date(2024, 11, 1), date(2025, 12, 1)) == ["2024-11", "2025-12", "2025-Q1", "2025-Q4", "2025"]
    assert edge_periods(date(2025, 9, 1), date(2026, 10, 1)) == ["2025-09", "2026-10", "2025-Q4", "2026-Q3"]
    assert add_months(date(2024, 11, 1), 13) == date(2025, 12, 1)


def test_every_report_runs_for_its_first_and_last_periods(year_warehouse, tmp_path):
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=year_warehouse, QUIRE_HOME=str(ROOT), QUIRE_OUTPUTS=str(tmp_path / "outputs"))
    runs = runs_for(year_warehouse)
    assert {period for _, period in runs} >= {"2024-11", "2025-Q1", "2025", "2025-12", "2025-Q4"}
    done = run_all(env, runs, earliest_active_client(year_warehouse))
    failed = {run: proc.stderr.strip()[-400:] for run, proc in done.items() if proc.returncode != 0}
    assert not failed, failed
    assert not [proc.stderr for proc in done.values() if "Traceback" in proc.stderr or "not used" in proc.stderr]
    published = {}
    for report in REPORTS:
        for folder in published_runs(tmp_path / "outputs", report):
            period = json.loads((folder / "run.json").read_text())["parameters"]["period"]
            published.setdefault((report, period), []).append(folder)
    assert sorted(published) == sorted(runs)  # every run published once, for its own period
    for run, [folder] in published.items():
        assert (folder / "report.pdf").stat().st_size > 10_000, run


def test_the_cohort_report_runs_without_an_mrr_ledger(tiny_warehouse, tmp_path):
    path = tmp_path / "no-ledger.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from mrr_movements")
    env = quire_free_env()
    env.update(QUIRE_WAREHOUSE_URL=f"duckdb:///{path}", QUIRE_HOME=str(ROOT), QUIRE_OUTPUTS=str(tmp_path / "out"))
    proc = run_quire(env, "run", "cohort")
    assert proc.returncode == 0, proc.stderr
    [folder] = published_runs(tmp_path / "out", "cohort")
    assert (folder / "report.pdf").exists()
    proc = run_quire(env, "run", "executive", timeout=60)
    assert proc.returncode == 1 and "the warehouse holds no MRR data" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
