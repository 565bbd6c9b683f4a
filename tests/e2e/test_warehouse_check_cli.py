"""`quire warehouse check` and `quire warehouse contract` through the real CLI: one screen of 100 columns, --json,
exit codes, and the same answers from PostgreSQL as from DuckDB."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from support import ROOT, quire_free_env, run_quire, warehouse_copy

WIDTH = 100


def _env(url: str, tmp_path, **extra: str) -> dict[str, str]:
    env = quire_free_env()
    return {**env, "QUIRE_WAREHOUSE_URL": url, "QUIRE_OUTPUTS": str(tmp_path / "outputs"), "QUIRE_HOME": str(ROOT),
            **extra}


@pytest.fixture(scope="module")
def broken(tiny_warehouse, tmp_path_factory) -> str:
    """The tiny warehouse without events, with an experiment_assignments column of the wrong type and bad values."""
    path = tmp_path_factory.mktemp("broken") / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("drop table events")
        con.execute("alter table experiment_assignments alter revenue type varchar")
        con.execute("update content set platform = 'tiktok' where content_id in (select min(content_id) from content)")
        con.execute("update engagement_daily set clicks = -1 where day = date '2026-10-01'")
    return f"duckdb:///{path}"


def test_the_screen_fits_100_columns_and_exit_0_when_every_report_can_run(tiny_warehouse, tmp_path):
    proc = run_quire(_env(tiny_warehouse, tmp_path, COLUMNS=str(WIDTH)), "warehouse", "check")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    header = " ".join(line.strip() for line in itertools.takewhile(bool, lines))  # a long path wraps it
    assert header.startswith(f"Warehouse {tiny_warehouse} · duckdb · checked in")
    assert lines[-1] == "✓ all 4 reports can run"
    rows = {line.split()[0]: line for line in lines if line.split() and line.split()[0] in
            ("executive", "client", "cohort", "experiment")}
    assert "✓ yes  2025-09…2026-10  2025-Q4…2026-Q3" in rows["cohort"]
    assert "5 experiments" in rows["experiment"]
    assert any(re.match(r"events +[\d,]+ +2025-09-\d\d +2026-10-31 +14 +cohort +ok *$", line) for line in lines)
    assert len(lines) < 40  # one screen


def test_the_screen_says_what_stops_a_report_and_exits_1(broken, tmp_path):
    proc = run_quire(_env(broken, tmp_path, COLUMNS=str(WIDTH)), "warehouse", "check")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    text = proc.stdout
    assert "✗ 2 of 4 reports can run" in lines[-1]
    assert "needs: events" in text and "mistyped: experiment_assignments.revenue" in text
    assert "experiment_assignments.revenue is VARCHAR; the experiment report reads it as" in " ".join(text.split())
    assert "platform outside web, linkedin" in " ".join(text.split()) and "'tiktok'" in text
    assert "clicks below 0" in text
    # One report asked for: its verdict names it ("all 1 reports can run" before).
    for report, said in (("cohort", "✗ the cohort report cannot run"), ("executive", "✓ the executive report can run")):
        one = run_quire(_env(broken, tmp_path, COLUMNS=str(WIDTH)), "warehouse", "check", "--report", report)
        assert one.stdout.splitlines()[-1] == said


def test_json_for_scripts(broken, tmp_path):
    proc = run_quire(_env(broken, tmp_path), "warehouse", "check", "--json")
    assert proc.returncode == 1 and proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False and doc["dialect"] == "duckdb"
    assert {name: r["can_run"] for name, r in doc["reports"].items()} == {
        "executive": True, "client": True, "cohort": False, "experiment": False}
    (outside,) = [f for f in doc["reports"]["client"]["findings"] if f["code"] == "outside_allowed"]
    assert outside == {"severity": "warning", "code": "outside_allowed", "table": "content", "column": "platform",
                       "count": 1, "examples": ["tiktok"], "message": outside["message"]}
    assert doc["tables"]["experiment_assignments"]["columns"]["revenue"]["status"] == "mistyped"
    only = json.loads(run_quire(_env(broken, tmp_path), "warehouse", "check", "--json", "--report", "client").stdout)
    assert list(only["reports"]) == ["client"] and only["ok"] is True


def test_mistakes_are_one_line_with_exit_2(tiny_warehouse, tmp_path):
    proc = run_quire(_env(tiny_warehouse, tmp_path), "warehouse", "check", "--report", "nosuch")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == ("error: no data contract for report 'nosuch'; known: executive, client, cohort, "
                                   "experiment")
    proc = run_quire(_env(f"duckdb:///{tmp_path}/none.duckdb", tmp_path), "warehouse", "check")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"error: no warehouse at {tmp_path}/none.duckdb")
    # --json: a script reads an answer on stdout too (it got nothing)
    proc = run_quire(_env(f"duckdb:///{tmp_path}/none.duckdb", tmp_path), "warehouse", "check", "--json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 2 and doc["ok"] is False and doc["error"].startswith(f"no warehouse at {tmp_path}/none.duckdb")


def test_the_warehouse_help_lists_what_exists(tmp_path, tiny_warehouse):
    proc = run_quire(_env(tiny_warehouse, tmp_path, COLUMNS="100"), "warehouse", "--help")
    assert proc.returncode == 0
    commands = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 2]
    assert {"build", "check", "contract"} <= set(commands) and "inspect" not in proc.stdout


def test_contract_in_the_terminal_and_as_the_reference_page(tmp_path, tiny_warehouse):
    proc = run_quire(_env(tiny_warehouse, tmp_path, COLUMNS=str(WIDTH)), "warehouse", "contract", "cohort")
    assert proc.returncode == 0 and "Cohort report (cohort)" in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) <= WIDTH
    assert "users   required  user_id integer, signed_up_at timestamp" in proc.stdout
    page = run_quire(_env(tiny_warehouse, tmp_path), "warehouse", "contract", "--markdown")
    assert page.returncode == 0 and page.stdout == (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg_broken(pg_server, tiny_end) -> str:
    """The tiny warehouse on PostgreSQL, then: users behind a view with a text signup column, no experiment_variants,
    and two events of a user who does not exist (their foreign key dropped first)."""
    import psycopg

    from quire.warehouse.load import build_warehouse
    from support import postgres

    url = postgres.new_database(pg_server)
    build_warehouse(url, scale="tiny", seed=7, end=tiny_end)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("alter table events drop constraint events_user_id_fkey")
        conn.execute("alter table experiment_assignments drop constraint experiment_assignments_user_id_fkey")
        conn.execute("alter table users rename to app_users")
        conn.execute("create view users as select user_id, signed_up_at::text as signed_up_at from app_users")
        conn.execute("drop table experiment_variants")
        conn.execute("insert into events values (900001, 424242, 'purchase', '2026-03-01 10:00', 12.5), "
                     "(900002, 424242, 'signup', '2026-03-01 09:00', null)")
    return url


def test_postgresql_gives_the_same_answers_as_duckdb(pg_tiny_warehouse, tiny_warehouse, tmp_path):
    pg = run_quire(_env(pg_tiny_warehouse, tmp_path), "warehouse", "check", "--json")
    duck = run_quire(_env(tiny_warehouse, tmp_path), "warehouse", "check", "--json")
    assert pg.returncode == duck.returncode == 0, pg.stderr
    ours, theirs = json.loads(duck.stdout), json.loads(pg.stdout)
    assert theirs["dialect"] == "postgresql"
    assert theirs["reports"] == ours["reports"]

    def facts(doc):
        return {name: {k: v for k, v in t.items() if k != "columns"} | {
            "columns": {c: {k: v for k, v in col.items() if k != "found"} for c, col in t["columns"].items()}}
            for name, t in doc["tables"].items()}

    assert facts(theirs) == facts(ours)
    assert theirs["tables"]["events"]["columns"]["occurred_at"]["found"] == "timestamp without time zone"


def test_postgresql_views_mistyped_columns_orphans_and_missing_tables(pg_broken, tmp_path):
    proc = run_quire(_env(pg_broken, tmp_path, COLUMNS=str(WIDTH)), "warehouse", "check", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["tables"]["users"]["view"] is True
    cohort = doc["reports"]["cohort"]
    assert not cohort["can_run"]
    (mistyped,) = [f for f in cohort["findings"] if f["severity"] == "error"]
    assert (mistyped["code"], mistyped["table"], mistyped["column"]) == ("mistyped_column", "users", "signed_up_at")
    assert "is text" in mistyped["message"]
    (orphans,) = [f for f in cohort["findings"] if f["code"] == "orphans"]
    assert (orphans["table"], orphans["column"], orphans["count"], orphans["examples"]) == ("events", "user_id", 2,
                                                                                          ["424242"])
    experiment = doc["reports"]["experiment"]
    assert experiment["can_run"] and experiment["left_out"] == ["experiment_variants"]
    assert doc["reports"]["executive"]["can_run"] and doc["reports"]["client"]["can_run"]
    screen = run_quire(_env(pg_broken, tmp_path, COLUMNS=str(WIDTH)), "warehouse", "check")
    assert screen.returncode == 1 and max(len(line) for line in screen.stdout.splitlines()) <= WIDTH
    assert "· postgresql ·" in screen.stdout.splitlines()[0]
