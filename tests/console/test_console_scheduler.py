"""The running scheduler executes runs queued from the console and follows schedule pauses, without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from console_support import CLIENT_A, console_env
from console_support import start_scheduler, stop, wait_for

from quire.state import open_state, queue, schedules
from quire.state import runs as history

pytestmark = pytest.mark.slow


def _next_run(engine, job_id: str):
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT next_run_time FROM quire_apscheduler_jobs WHERE id = :id"), {"id": job_id}).first()
    return row


def test_scheduler_runs_queued_runs_and_applies_pauses(tiny_warehouse, tmp_path):
    env = console_env(tiny_warehouse, tmp_path)
    engine = open_state(env["QUIRE_STATE_URL"])
    schedules.set_paused(engine, "client", True, by="test")  # paused before the scheduler even starts
    run_id = queue.enqueue(engine, report="alltypes", parameters={"client": CLIENT_A, "period": "2026-10", "count": 4},
                           client=CLIENT_A, requested_by="test")
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    try:
        row = wait_for(lambda: (r := history.get(engine, run_id))["status"] not in ("queued", "running") and r,
                       timeout=180, message="the queued run to end")
        log = (tmp_path / "scheduler.log").read_text()
        assert row["status"] == "succeeded", f"{row['error']}\n{log[-2000:]}"
        assert row["worker"] and row["started_at"] and row["child_pid"]
        folder = Path(row["output_folder"])
        assert folder.name == run_id and (folder / "report.html").is_file()
        assert (folder / "report.xlsx").is_file() and (folder / "table-01-the-values-given.csv").is_file()
        assert history.deliveries(engine, run_id) == [], "a console run e-mails nobody"
        assert "queued from the console" in log
        # Paused at start: the job exists without a next due time; resumed, it gets one back.
        assert wait_for(lambda: _next_run(engine, "report:client"), timeout=30, message="the client job")[0] is None
        schedules.set_paused(engine, "client", False, by="test")
        wait_for(lambda: (r := _next_run(engine, "report:client")) and r[0], timeout=30, message="resume")
        schedules.set_paused(engine, "client", True, by="test")
        wait_for(lambda: (r := _next_run(engine, "report:client")) and r[0] is None, timeout=30, message="pause")
        assert "schedule report:client paused" in (tmp_path / "scheduler.log").read_text()
    finally:
        stop(scheduler)
