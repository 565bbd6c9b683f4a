"""One attempt in its child process: a notebook that never ends is killed with its kernel; one that raises is final.

The Runner here is the service's own (history row, child process, outcome, outbox,
delivery to a real SMTP server); only APScheduler is absent, since these runs are not
retried.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psutil
import pytest
from sched_support import CATALOG_HEAD, MUNICIPALITIES, client_report, processes_of_run, run_once, wait_for

from quire.scheduler.jobs import Runner
from quire.state import open_state
from quire.state import runs as history

pytestmark = pytest.mark.slow


def _entry(rid: str, notebook: str, timeout: int) -> str:
    return (f"  {rid}:\n    title: {rid}\n    notebook: notebooks/{notebook}.ipynb\n    description: d\n"
            f"    owner: owner@example.com\n    recipients: [team@example.com]\n"
            f"    parameters:\n      client: {{type: str}}\n"
            f"    schedule: {{interval_minutes: 60, timeout_seconds: {timeout}}}\n")


@pytest.fixture
def runner(make_env, state_url, smtp, settings_for):
    catalog = CATALOG_HEAD + _entry("looping", "loop", 8) + _entry("raising", "boom", 120)
    settings = settings_for(make_env(catalog, state_url, smtp.port))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    yield runner
    runner.stop()


def _spec(runner, rid):
    from quire.catalog import load_catalog

    return load_catalog(runner.settings.catalog_path).get(rid)


def still_running(pid: int) -> bool:
    """Whether ``pid`` runs: a killed process whose parent died first stays a zombie until init reaps it (a second
    or two here), dead all the same."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _start_looping(runner) -> tuple[threading.Thread, dict, list[int]]:
    """The endless notebook's run started in a thread: the thread, where its run id goes, its processes' pids."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(run_id=run_once(runner, _spec(runner, "looping"), {})))
    thread.start()
    [live] = wait_for(lambda: history.query(runner.engine, status="running") or None, timeout=30, message="the run to start")
    # The run process and the process the notebook started in a session of its own are both up.
    pids = wait_for(lambda: p if len(p := processes_of_run(live["run_id"])) >= 2 else None, timeout=30,
                    message="the run's processes to start")
    return thread, result, pids


def test_an_endless_notebook_times_out_and_leaves_no_kernel(runner, smtp):
    thread, result, pids = _start_looping(runner)
    thread.join(timeout=60)
    assert not thread.is_alive()
    run = history.get(runner.engine, result["run_id"])
    assert run["status"] == "timed_out" and "longer than 8 s" in run["error"] and not run["transient"]
    assert processes_of_run(run["run_id"]) == []
    assert not [pid for pid in pids if still_running(pid)]
    # Not retried; the owner hears of it, the recipients do not.
    assert [m["To"] for m in smtp.messages] == ["owner@example.com"]
    assert "timed out" in smtp.messages[0]["Subject"]


def test_a_raising_notebook_is_failed_with_its_partial_notebook_and_not_retried(runner, smtp):
    run_id = run_once(runner, _spec(runner, "raising"), {})
    run = history.get(runner.engine, run_id)
    assert run["status"] == "failed" and run["error_type"] == "ExecutionError" and not run["transient"]
    assert "RuntimeError" in run["error"] and "the notebook itself failed" in run["error"]
    partial = Path(run["partial_notebook"])
    assert partial.is_file() and "_failed" in partial.parts and run_id in partial.parts
    assert "before the error" in partial.read_text()
    assert history.query(runner.engine, report="raising") == [run]  # no second attempt
    [alert] = smtp.messages
    assert alert["To"] == "owner@example.com" and alert["X-Report-Kind"] == "alert"
    assert str(partial) in alert.get_body(("plain",)).get_content()


def _board(rid: str = "board") -> str:
    return (f"  {rid}:\n    title: Board pack\n    notebook: notebooks/ok.ipynb\n    description: d\n"
            "    owner: owner@example.com\n    recipients: [board@example.com]\n"
            "    parameters:\n      client: {type: str}\n      period: {type: period}\n      delay: {type: float}\n"
            "    schedule: {interval_minutes: 60, timeout_seconds: 120}\n")


@pytest.fixture
def scheduled_runner(make_env, state_url, smtp, settings_for, tmp_path):
    """A runner wired to a real APScheduler (for its retry jobs), with a warehouse that is not there yet."""
    from quire.scheduler.service import build_scheduler

    missing = tmp_path / "later" / "warehouse.duckdb"

    def start(**extra):
        settings = settings_for(make_env(CATALOG_HEAD + _board(), state_url, smtp.port,
                                         QUIRE_WAREHOUSE_URL=f"duckdb:///{missing}", **extra))
        engine = open_state(state_url)
        scheduler = build_scheduler(engine, settings)
        scheduler.start()
        runner = Runner(settings, engine, "test-runner", scheduler)
        runner.install()
        started.append((scheduler, runner))
        return runner, missing

    started: list = []
    yield start
    for scheduler, runner in started:
        scheduler.shutdown(wait=False)
        runner.stop()


def test_a_transient_failure_is_retried_with_backoff_and_then_succeeds(scheduled_runner, smtp, tiny_warehouse):
    import shutil

    runner, missing = scheduled_runner(QUIRE_RETRY_BASE_SECONDS="2")
    runner.fire("board")
    [first] = history.query(runner.engine)
    assert first["status"] == "failed" and first["transient"] and "no warehouse" in first["error"]
    assert runner.scheduler.get_job(f"retry:{first['run_id']}") is not None and not smtp.messages  # no alert yet
    missing.parent.mkdir()
    shutil.copy(tiny_warehouse.removeprefix("duckdb:///"), missing)  # the warehouse is back before the retry
    second = wait_for(lambda: [r for r in history.query(runner.engine) if r["retry_of"] == first["run_id"]
                               and r["status"] == "succeeded"], timeout=60, message="the retry to succeed")[0]
    assert second["attempt"] == 2 and second["trigger"] == "retry"
    assert (second["started_at"] - first["finished_at"]).total_seconds() >= 1.5  # it waited the backoff
    wait_for(lambda: smtp.messages, timeout=20, message="the report e-mail")
    assert [m["To"] for m in smtp.messages] == ["board@example.com"]


def test_a_transient_failure_gives_up_after_the_limit_and_alerts_the_owner(scheduled_runner, smtp):
    runner, _ = scheduled_runner(QUIRE_RETRY_LIMIT="2", QUIRE_RETRY_BASE_SECONDS="1")
    runner.fire("board")
    wait_for(lambda: len(history.query(runner.engine, status="failed")) == 2 and smtp.messages, timeout=60,
             message="two failed attempts and an alert")
    attempts = sorted(history.query(runner.engine), key=lambda r: r["attempt"])
    assert [r["attempt"] for r in attempts] == [1, 2] and attempts[1]["retry_of"] == attempts[0]["run_id"]
    assert [(m["To"], m["X-Report-Kind"]) for m in smtp.messages] == [("owner@example.com", "alert")]
    assert smtp.messages[0]["X-Report-Run"] == attempts[1]["run_id"]


def test_a_broken_catalog_edit_does_not_stop_due_runs(make_env, state_url, smtp, settings_for, caplog):
    settings = settings_for(make_env(CATALOG_HEAD + _board(), state_url, smtp.port))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    try:
        runner.fire("board")
        # An analyst saves a half-finished edit: the next due time runs as the last valid catalog says.
        settings.catalog_path.write_text(CATALOG_HEAD + _board() + "  draft: [unclosed\n", encoding="utf-8")
        runner.fire("board")
        runs = history.query(runner.engine)
        assert [r["status"] for r in runs] == ["succeeded", "succeeded"], runs
        wait_for(lambda: len(smtp.messages) == 2 or None, timeout=20, message="both report e-mails")
        assert any("invalid YAML" in r.message and "last valid version" in r.message for r in caplog.records)
        # A value its notebook refuses, saved while the service runs: the service's start refuses the same file, and
        # a running service used it (a failed run and an alert at every due time) instead of the last valid one.
        refused = _board().replace("timeout_seconds: 120}", "timeout_seconds: 120, parameters: {delay: soon}}")
        settings.catalog_path.write_text(CATALOG_HEAD + refused, encoding="utf-8")
        runner.fire("board")
        assert [r["status"] for r in history.query(runner.engine)] == ["succeeded"] * 3
        assert any("reports.board.schedule.parameters: " in r.message and "'soon'" in r.message
                   and "last valid version" in r.message for r in caplog.records), caplog.records
        wait_for(lambda: len(smtp.messages) == 3 or None, timeout=20, message="the third report e-mail")

        # A report taken out of the catalog (its job lives until the next start) is said so, in one line.
        settings.catalog_path.write_text(CATALOG_HEAD + _board("other"), encoding="utf-8")
        caplog.clear()
        runner.fire("board")
        assert len(history.query(runner.engine)) == 3
        assert [r.message for r in caplog.records if r.levelname == "ERROR"] == [
            "report board is due but unknown report 'board'; the catalog has: other"]
    finally:
        runner.stop()


def test_a_schedule_filter_matching_no_client_is_a_failed_run_and_an_alert(make_env, state_url, smtp, settings_for):
    from sched_support import mail_tried

    catalog = CATALOG_HEAD + client_report(schedule="    schedule: {interval_minutes: 60, clients: {sector: municipalty}}\n")
    settings = settings_for(make_env(catalog, state_url, smtp.port))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    try:
        runner.fire("clientmail")
        mail_tried(runner)
    finally:
        runner.stop()
    [run] = history.query(runner.engine)
    assert run["status"] == "failed" and not run["transient"] and run["client"] is None
    assert "no active client has sector=municipalty; did you mean 'municipality'?" in run["error"]
    wait_for(lambda: smtp.messages or None, timeout=20, message="the owner's alert")
    assert [(m["To"], m["X-Report-Kind"]) for m in smtp.messages] == [("owner@example.com", "alert")]


def test_validate_finds_a_schedule_filter_matching_no_client_before_it_is_due(make_env, state_url, smtp, settings_for):

    from quire.validation import validate_project

    schedule = "    schedule: {{interval_minutes: 60, clients: {{sector: {}}}}}\n"
    settings = settings_for(make_env(CATALOG_HEAD + client_report(schedule=schedule.format("municipalty")),
                                     state_url, smtp.port))
    assert ("report clientmail: schedule 'clients': no active client has sector=municipalty; did you mean "
            "'municipality'?") in "\n".join(validate_project(settings))
    settings.catalog_path.write_text(CATALOG_HEAD + client_report(schedule=schedule.format("municipality")),
                                     encoding="utf-8")
    assert not [p for p in validate_project(settings) if "schedule" in p]


def test_retries_after_a_stop_keep_their_attempt_and_a_removed_report_is_said_once(make_env, state_url, smtp,
                                                                                    settings_for):
    settings = settings_for(make_env(CATALOG_HEAD + _board(), state_url, smtp.port))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    engine = runner.engine

    def stopped_run() -> str:
        run_id = history.create(engine, report="board", parameters={"period": "2026-10"}, trigger="schedule",
                                attempt=2, worker="gone")
        history.finish(engine, run_id, "cancelled", error="cancelled: the scheduler stopped", transient=True)
        return run_id

    try:
        # A clean stop is no failure of the run: its re-run is the same attempt again.
        first = stopped_run()
        runner.retry(first)
        retry = wait_for(lambda: [r for r in history.query(engine) if r["retry_of"] == first and
                                  r["status"] == "succeeded"] or None, timeout=60, message="the re-run")[0]
        assert retry["attempt"] == 2 and retry["parameters"]["period"] == "2026-10"
        # The report left reports.yaml meanwhile: one failed attempt says so; asked again, nothing more.
        second = stopped_run()
        settings.catalog_path.write_text(CATALOG_HEAD + _board("other"), encoding="utf-8")
        runner.retry(second)
        runner.retry(second)
        [gone] = [r for r in history.query(engine) if r["retry_of"] == second]
        assert gone["status"] == "failed" and gone["error"].startswith("not run again: unknown report 'board'")
    finally:
        runner.stop()


def test_a_fan_out_that_failed_as_a_whole_is_retried_for_the_period_it_was_due_for(make_env, state_url, smtp,
                                                                                    settings_for):

    catalog = CATALOG_HEAD + client_report(schedule="    schedule: {interval_minutes: 60, clients: {sector: municipality}}\n")
    settings = settings_for(make_env(catalog, state_url, smtp.port))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    engine = runner.engine
    # Due for September, the client list could not be read; by its retry the data's newest month is October.
    failed = history.create(engine, report="clientmail", parameters={"period": "2026-09"}, trigger="schedule",
                            attempt=1, worker="gone")
    history.finish(engine, failed, "failed", error="fan-out: the warehouse is down", error_type="WarehouseError",
                   transient=True)
    try:
        runner.retry(failed)
    finally:
        runner.stop()
    retries = [r for r in history.query(engine) if r["retry_of"] == failed]
    assert len(retries) >= 2 and all(r["client"] for r in retries), retries
    assert {(r["status"], r["attempt"], r["parameters"]["period"]) for r in retries} == {("succeeded", 2, "2026-09")}


def test_a_run_whose_process_a_stop_kills_is_cancelled_not_failed(runner, smtp):
    # SIGTERM to the scheduler's process group reached the run before the executor saw the stop: the run read
    # "failed: the run's process died … (killed, out of memory …)" and its re-run used up an attempt.
    import os
    import signal

    thread, result, pids = _start_looping(runner)
    runner.stop_firing("the scheduler stopped")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    thread.join(timeout=60)
    assert not thread.is_alive()
    run = history.get(runner.engine, result["run_id"])
    # Whichever saw the stop first, the executor or the killed process's end, the run reads the same: cancelled,
    # and where its partial notebook is when one was kept.
    kept = f" (partial notebook kept in {run['partial_notebook']})" if run["partial_notebook"] else ""
    assert run["status"] == "cancelled" and run["error"] == f"cancelled: the scheduler stopped{kept}", run
    assert smtp.messages == []  # nobody is told of a run the operator stopped


def test_a_run_whose_start_cannot_be_recorded_is_killed_and_failed_not_left_running(runner, smtp, monkeypatch):
    # The state database went away just as the run's process was forked: recording the start raised, the run
    # went on with nobody following it, and its row stayed queued until the next start called it interrupted.
    import sqlalchemy as sa

    started: list[int] = []

    def database_gone(engine, run_id, *, child_pid):
        started.append(child_pid)
        raise sa.exc.OperationalError("UPDATE runs", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(history, "mark_running", database_gone)
    run_id = run_once(runner, _spec(runner, "looping"), {})
    run = history.get(runner.engine, run_id)
    assert run["status"] == "failed" and run["transient"], run
    assert run["error"] == "the service could not run it: server closed the connection unexpectedly", run
    assert started and not still_running(started[0]) and processes_of_run(run_id) == []


def test_a_due_run_whose_recording_is_tried_again_is_recorded_once(runner, monkeypatch):
    # The row's commit landed, the connection was lost before the database said so: the try again recorded a
    # second queued run of the same due time, which ran and e-mailed its recipients a second time.
    import pytest
    import sqlalchemy as sa

    real_create, tries = history.create, []

    def commit_then_lose_the_connection(engine, **row):
        tries.append(real_create(engine, **row))
        if len(tries) == 1:
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"),
                                          connection_invalidated=True)
        return tries[-1]

    monkeypatch.setattr(history, "create", commit_then_lose_the_connection)
    run_id = runner.record("looping", {}, "schedule", None, 1, None)
    monkeypatch.setattr(history, "create", real_create)
    assert len(tries) == 2 and set(tries) == {run_id}
    assert [r["run_id"] for r in history.query(runner.engine)] == [run_id]
    with pytest.raises(sa.exc.IntegrityError):  # an id taken by another run is still refused
        history.create(runner.engine, report="raising", parameters={}, trigger="schedule", run_id=run_id)


def test_runs_recorded_as_the_stop_shuts_the_pool_are_cancelled_not_left_queued(make_env, state_url, smtp,
                                                                                settings_for):
    # A fan-out records every client's row, then hands each to the pool; a runner stopped in between had shut
    # the pool, the hand-over raised, and the rows stayed queued (failed as "interrupted" at the next start).
    # Firing after the stop is that race with the timing made certain.
    municipalities = "    schedule: {interval_minutes: 60, clients: {sector: municipality}}\n"
    settings = settings_for(make_env(CATALOG_HEAD + client_report(schedule=municipalities), state_url, smtp.port))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    runner.stop()
    runner.fire("clientmail")
    runs = history.query(runner.engine)
    assert {r["client"] for r in runs} == MUNICIPALITIES
    assert {(r["status"], r["error"], r["attempt"]) for r in runs} == {
        ("cancelled", "cancelled: the scheduler stopped", 1)}, runs
    assert smtp.messages == []


def test_a_run_published_just_before_its_service_died_is_recorded_succeeded_and_mailed_once(
        make_env, state_url, smtp, settings_for):
    # SIGKILL to the scheduler as its run process published: the next start marked the run "interrupted: service
    # died" and ran it again, so the archive held two published runs of one due time.
    import json
    import shutil

    from quire.scheduler.recovery import recover

    settings = settings_for(make_env(CATALOG_HEAD + _board(), state_url, smtp.port))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    try:
        runner.fire("board")
        [done] = history.query(runner.engine)
        wait_for(lambda: len(smtp.messages) == 1 or None, timeout=20, message="the first run's e-mail")
        # The dead service's run: running in the history, published in the archive.
        run_id = history.create(runner.engine, report="board", parameters=done["parameters"], trigger="schedule",
                                worker="a-dead-scheduler")
        history.mark_running(runner.engine, run_id)
        published = Path(done["output_folder"]).parent / run_id
        shutil.copytree(done["output_folder"], published)
        record = json.loads((published / "run.json").read_text())
        (published / "run.json").write_text(json.dumps({**record, "run_id": run_id}))
        assert run_id in recover(runner)
        row = history.get(runner.engine, run_id)
        assert row["status"] == "succeeded" and row["output_folder"] == str(published), row
        assert not history.retries_of(runner.engine, run_id)
        assert [d["recipient"] for d in history.deliveries(runner.engine, run_id)] == ["board@example.com"]
        wait_for(lambda: len(smtp.messages) == 2 or None, timeout=20, message="the recovered run's e-mail")
        assert [m["X-Report-Run"] for m in smtp.messages] == [done["run_id"], run_id]
    finally:
        runner.stop()
