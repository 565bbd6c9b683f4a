"""A report runs on the few tables it needs: the experiment report on a file of assignments alone.

(The cohort report on a users file and an events file alone is the README's worked
example: tests/e2e/test_readme_own_data.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from support import published_runs, run_quire

pytestmark = pytest.mark.slow


def test_the_experiment_report_runs_on_assignments_alone(tiny_warehouse: str, quire_env: dict[str, str],
                                                         tmp_path: Path):
    con = duckdb.connect(tiny_warehouse.removeprefix("duckdb:///"), read_only=True)
    try:
        # The user's own file: their column names, and a yes/no flag for a conversion.
        con.execute(f"""COPY (SELECT experiment_id AS test, user_id AS visitor, variant AS arm, assigned_at AS seen,
                                     CASE WHEN converted THEN 'yes' ELSE 'no' END AS bought, revenue AS spent,
                                     pre_revenue AS spent_before
                              FROM experiment_assignments ORDER BY experiment_id, user_id)
                        TO '{tmp_path / "assignments.csv"}' (HEADER)""")
        [(experiment, users)] = con.execute("SELECT experiment_id, count(*) FROM experiment_assignments "
                                            "GROUP BY 1 ORDER BY 1 LIMIT 1").fetchall()
    finally:
        con.close()
    (tmp_path / "mapping.yaml").write_text("""
tables:
  experiment_assignments:
    source: assignments.csv
    rename: {test: experiment_id, visitor: user_id, arm: variant, seen: assigned_at, bought: converted,
             spent: revenue, spent_before: pre_revenue}
    values:
      converted: {"yes": true, "no": false}
""")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'ab.duckdb'}",
           "QUIRE_OUTPUTS": str(tmp_path / "outputs")}
    proc = run_quire(env, "warehouse", "import", str(tmp_path / "mapping.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert "made from the others: experiments →" in proc.stdout
    listed = run_quire(env, "experiments")
    assert listed.returncode == 0 and f"experiment-{experiment}" in listed.stdout, listed.stderr
    proc = run_quire(env, "run", "experiment", "-p", f"experiment=experiment-{experiment}", timeout=600)
    assert proc.returncode == 0, proc.stderr
    [run] = published_runs(tmp_path / "outputs", "experiment")
    headline = {k["name"]: k["value"] for k in json.loads((run / "run.json").read_text())["headline"]}
    assert headline["users"] == users


def test_a_conversion_only_ab_file_imports_and_reports_without_revenue(quire_env: dict[str, str], tmp_path: Path):
    """The common public A/B file: user, timestamp, group, converted 0/1, and no revenue at all."""
    rows = ["user_id,timestamp,group,landing_page,converted"]
    for user in range(1_200):
        group = ("control", "treatment")[user % 2]
        converted = int(user % 9 == 0) if group == "control" else int(user % 7 == 1)
        rows.append(f"{700_000 + user},2017-01-{2 + user % 20:02d} 10:{user % 60:02d}:07.556731,{group},"
                    f"{('old_page', 'new_page')[user % 2]},{converted}")
    (tmp_path / "ab_data.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "mapping.yaml").write_text("""
tables:
  experiment_assignments:
    source: ab_data.csv
    rename: {timestamp: assigned_at, group: variant}
    defaults: {experiment_id: 1, revenue: 0, pre_revenue: 0}
""")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'ab.duckdb'}",
           "QUIRE_OUTPUTS": str(tmp_path / "outputs")}
    proc = run_quire(env, "warehouse", "import", str(tmp_path / "mapping.yaml"))
    assert proc.returncode == 0, proc.stderr
    proc = run_quire(env, "run", "experiment", "-p", "experiment=experiment-1", timeout=600)
    assert proc.returncode == 0, proc.stderr
    [run] = published_runs(tmp_path / "outputs", "experiment")
    headline = {k["name"]: k["value"] for k in json.loads((run / "run.json").read_text())["headline"]}
    control = [int(line.split(",")[-1]) for line in rows[1:] if ",control," in line]
    treatment = [int(line.split(",")[-1]) for line in rows[1:] if ",treatment," in line]
    assert headline["users"] == 1_200 and "revenue_diff" not in headline
    assert headline["control_rate"] == pytest.approx(sum(control) / len(control))
    assert headline["abs_lift"] == pytest.approx(sum(treatment) / len(treatment) - sum(control) / len(control))
    html = (run / "report.html").read_text()
    assert "recorded no revenue, so there is no revenue comparison" in html


def test_run_all_on_an_order_log_runs_the_cohort_report_and_says_what_it_skipped(quire_env: dict[str, str],
                                                                               tmp_path: Path):
    from support.order_log import ORDERS_MAPPING, orders_csv

    orders_csv(tmp_path)
    (tmp_path / "mapping.yaml").write_text(ORDERS_MAPPING)
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'shop.duckdb'}",
           "QUIRE_OUTPUTS": str(tmp_path / "outputs")}
    assert run_quire(env, "warehouse", "import", str(tmp_path / "mapping.yaml")).returncode == 0
    proc = run_quire(env, "run", "--all", timeout=600)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    [cohort] = published_runs(tmp_path / "outputs", "cohort")
    assert json.loads((cohort / "run.json").read_text())["status"] == "succeeded"
    skipped = sorted(line.split(":")[0] for line in proc.stderr.splitlines() if ": skipped, " in line)
    assert skipped == ["– client · shop", "– example", "– executive", "– experiment"], proc.stderr
    assert "4 of the runs asked for were skipped" in proc.stderr
    for report in ("client", "example", "executive", "experiment"):
        assert not published_runs(tmp_path / "outputs", report)


def test_run_all_on_a_file_that_is_no_warehouse_is_one_error_line(quire_env: dict[str, str], tmp_path: Path):
    (tmp_path / "broken.duckdb").write_text("not a database")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'broken.duckdb'}",
           "QUIRE_OUTPUTS": str(tmp_path / "outputs")}
    proc = run_quire(env, "run", "--all", timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
