"""The real service process end to end: interval runs, a crash and restart, two schedulers on one database.

Parametrized over SQLite and PostgreSQL state databases. The service runs as
`quire scheduler` in a subprocess against the tiny warehouse, a real SMTP server and a
test project whose notebook is the smallest that still renders a report with a headline.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from sched_support import CATALOG_HEAD, MUNICIPALITIES, client_report, describe_processes, processes_of_run, wait_for

from quire.state import open_state
from quire.state.schema import outbox as outbox_table
from quire.state.schema import runs as runs_table
from support import run_quire

pytestmark = pytest.mark.slow


def _schedule(interval: int, *, timeout: int = 90, params: str = "") -> str:
    extra = f"      parameters: {{{params}}}\n" if params else ""
    return (f"    schedule:\n      interval_seconds: {interval}\n      clients: {{sector: municipality}}\n"
            f"      timeout_seconds: {timeout}\n{extra}")


def _succeeded(url: str, at_least: int) -> list[dict] | None:
    """The succeeded runs once there are ``at_least``; a failed run fails the test at once (its error says why)."""
    rows = _runs(url)
    bad = [r for r in rows if r["status"] in ("failed", "timed_out")]
    assert not bad, bad[0]["error"]
    done = [r for r in rows if r["status"] == "succeeded"]
    return done if len(done) >= at_least else None


def _runs(url: str, **where) -> list[dict]:
    stmt = sa.select(runs_table).order_by(runs_table.c.created_at)
    for key, value in where.items():
        stmt = stmt.where(runs_table.c[key] == value)
    with open_state(url).connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def _contacts(warehouse_url: str) -> dict[str, str]:
    from quire.warehouse import queries
    from quire.warehouse.engine import engine

    eng = engine(warehouse_url)
    try:
        with eng.connect() as conn:
            frame = queries.clients(conn)
    finally:
        eng.dispose()
    return dict(zip(frame["slug"], frame["contact_email"]))


def _attachment(msg: Message) -> bytes | None:
    for part in msg.walk():
        if part.get_filename() == "report.pdf":
            return part.get_payload(decode=True)
    return None


def test_interval_schedule_runs_publishes_and_mails(make_env, state_url, smtp, services, tmp_path, tiny_warehouse):
    env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(5)), state_url, smtp.port)
    svc = services(env, tmp_path / "service.log")
    done = wait_for(lambda: _succeeded(state_url, 2), timeout=90, message="two succeeded runs")
    wait_for(lambda: all((r["run_id"], _contacts(tiny_warehouse)[r["client"]]) in smtp.by_run() for r in done),
             timeout=60, message="their e-mails")
    assert svc.stop() == 0, svc.text()
    assert "scheduler stopped" in svc.text()

    contacts = _contacts(tiny_warehouse)
    for run in done:
        assert run["client"] in MUNICIPALITIES and run["trigger"] == "schedule" and run["attempt"] == 1
        # The history names the month the run covered, not the notebook's default 'latest'.
        assert run["parameters"] == {"client": run["client"], "period": "2026-10", "delay": 0.0}, run["parameters"]
        folder = Path(run["output_folder"])
        assert folder.name == run["run_id"] and {"report.pdf", "report.html", "run.json"} <= {p.name for p in folder.iterdir()}
        record = json.loads((folder / "run.json").read_text())
        assert record["client"] == run["client"]
        [mail] = [m for m in smtp.messages if m["X-Report-Run"] == run["run_id"]]
        # Exactly the run's own client, nobody else.
        assert mail["To"] == contacts[run["client"]] and mail["X-Envelope-To"] == contacts[run["client"]]
        assert "Scheduler test" in mail["Subject"] and record["client_name"] in mail["Subject"] and "2026-10" in mail["Subject"]
        text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
        assert "Runs per month: 1,234" in text
        assert _attachment(mail).startswith(b"%PDF")

    # As wide as the table is made for: narrower, a long run id folds (and no longer reads as one string).
    listing = run_quire({**env, "COLUMNS": "100"}, "runs", "--report", "clientmail", "--status", "succeeded")
    assert listing.returncode == 0 and done[0]["run_id"] in listing.stdout
    shown = run_quire(env, "runs", "show", done[0]["run_id"])
    assert shown.returncode == 0 and "report → " in shown.stdout and ": sent" in shown.stdout
    assert run_quire(env, "runs", "show", "nope").returncode == 1


# Each engine and each state database once (pairwise: how runs die is the engine's part, how they
# are found and retried the database's), the production pair among them.
@pytest.mark.parametrize("engine,state_url", [("batch", "postgresql"), ("papermill", "sqlite")], indirect=["state_url"])
def test_sigkill_mid_run_is_marked_retried_and_mailed_once(engine, make_env, state_url, smtp, services, tmp_path,
                                                           tiny_warehouse):
    # Each run sleeps 6 s in its notebook, so the service can be killed while runs are in flight; one
    # run at a time, so the fan-out's second client is still waiting for a worker when the kill comes.
    env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(4, params="delay: 6")), state_url, smtp.port,
                   QUIRE_ENGINE=engine, QUIRE_SCHEDULER_WORKERS="1")
    svc = services(env, tmp_path / "first.log")
    processes = 2 if engine == "papermill" else 1  # a run process, and its kernel when there is one

    def in_flight():
        running = [r for r in _runs(state_url, status="running") if r["child_pid"]]
        return running if running and all(len(processes_of_run(r["run_id"])) >= processes for r in running) else None

    running = wait_for(in_flight, timeout=120, message="runs in flight")
    svc.kill()
    # Every client of the fan-out has its row, the one not reached yet too: each is retried below.
    killed = [r for r in _runs(state_url) if r["status"] in ("queued", "running")]
    assert {r["client"] for r in killed} == MUNICIPALITIES and {r["status"] for r in killed} == {"queued", "running"}
    # Recorded with the month they are due for: a re-run in a later month still covers this one.
    assert {r["parameters"]["period"] for r in killed} == {"2026-10"}
    # The run processes (and kernels) die with the service: nothing finishes behind its back.
    for run in running:
        try:
            wait_for(lambda: not processes_of_run(run["run_id"]), timeout=15, message=f"processes of {run['run_id']} to exit")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {describe_processes(processes_of_run(run['run_id']))}") from None
    assert {r["status"] for r in _runs(state_url) if r["run_id"] in {k["run_id"] for k in running}} == {"running"}

    svc2 = services(env, tmp_path / "second.log")

    def retried():
        rows = _runs(state_url)
        retries = [r for r in rows if r["retry_of"] in {k["run_id"] for k in killed} and r["status"] == "succeeded"]
        return retries if len(retries) == len(killed) else None

    # Two runs of 6 s one after the other (one worker), a kernel each: ~25 s when idle, three times that
    # beside the rest of the suite on two cores.
    retries = wait_for(retried, timeout=180, message="the interrupted runs to be retried")
    contacts = _contacts(tiny_warehouse)
    wait_for(lambda: all((r["run_id"], contacts[r["client"]]) in smtp.by_run() for r in retries), timeout=60,
             message="the retried runs' e-mails")
    # The stop cancels the due time's runs in flight; a kernel's shutdown (papermill) on a machine busy
    # with the rest of the suite once took longer than the default 30 s (about 1 s when idle).
    assert svc2.stop(timeout=90) == 0, svc2.text()

    rows = {r["run_id"]: r for r in _runs(state_url)}
    for run in killed:
        marked = rows[run["run_id"]]
        assert marked["status"] == "failed" and marked["error"] == "interrupted: service died", marked
        [retry] = [r for r in rows.values() if r["retry_of"] == run["run_id"]]  # retried exactly once
        assert retry["attempt"] == 2 and retry["trigger"] == "retry" and retry["client"] == run["client"]
        # Its record says so: `quire runs --status failed` lists it, `show` names what replaced it.
        shown = run_quire(env, "runs", "show", run["run_id"]).stdout
        assert f"run again as: {retry['run_id']} (succeeded)" in shown, shown
    sent = smtp.by_run()
    assert all(n == 1 for n in sent.values()), sent  # nobody got any run twice
    assert not [key for key in sent if key[0] in {k["run_id"] for k in killed}]  # nor the interrupted run
    for retry in retries:
        assert sent[(retry["run_id"], contacts[retry["client"]])] == 1
    assert "recovered" in svc2.text()


@pytest.mark.parametrize("engine,state_url", [("batch", "sqlite"), ("papermill", "sqlite")], indirect=["state_url"])
def test_sigterm_mid_run_stops_every_process_of_the_runs_and_cancels_them(engine, make_env, state_url, smtp, services,
                                                                          tmp_path):
    # What systemd's stop sends to the service process alone: the runs in flight are cancelled, not finished behind
    # its back. A papermill kernel runs in a session of its own (jupyter_client), so the run's process group dying
    # does not take it along; a batch run is a child of the warm server, not of the service.
    env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(4, timeout=300, params="delay: 120")), state_url,
                   smtp.port, QUIRE_ENGINE=engine, QUIRE_SCHEDULER_WORKERS="1")
    svc = services(env, tmp_path / "svc.log")
    processes = 2 if engine == "papermill" else 1

    def in_flight():
        running = [r for r in _runs(state_url, status="running") if r["child_pid"]]
        return running if running and all(len(processes_of_run(r["run_id"])) >= processes for r in running) else None

    running = wait_for(in_flight, timeout=120, message="runs in flight")
    pids = {run["run_id"]: processes_of_run(run["run_id"]) for run in running}
    assert svc.stop(timeout=90) == 0, svc.text()
    # The notebooks sleep two minutes: any process of theirs still here was left behind by the stop. Gone ones
    # are waited for briefly, as a killed process is reaped by init once its parent has exited.
    for run_id in pids:
        try:
            wait_for(lambda: not processes_of_run(run_id), timeout=15, message=f"processes of {run_id} to exit")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {describe_processes(processes_of_run(run_id))}") from None
    rows = {r["run_id"]: r for r in _runs(state_url)}
    for run_id in pids:
        assert rows[run_id]["status"] == "cancelled", rows[run_id]
        assert rows[run_id]["error"].startswith("cancelled: the scheduler stopped"), rows[run_id]
    assert not [r for r in rows.values() if r["status"] in ("queued", "running")], rows
    assert smtp.by_run() == {}  # nobody hears of a run the operator stopped


class SilentMailServer:
    """A TCP server that accepts connections and never says a word (an SMTP server that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        # A listening socket closed under a blocked accept() goes on accepting (a client's retry would
        # hang there unseen): shut down, it wakes the accept thread, which ends before the rest is closed.
        self.sock.shutdown(socket.SHUT_RDWR)
        self.acceptor.join(timeout=10)
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def _stop_while_mail_hangs(make_env, state_url, services, log: Path, interval: int) -> list[dict]:
    """Start the service against a mail server that hangs, stop it once it is sending: promptly, every
    e-mail still pending and none claimed (a claim left behind would hold it for 10 minutes). The rows."""
    silent = SilentMailServer()
    try:
        env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(interval)), state_url, silent.port,
                       QUIRE_SMTP_TIMEOUT="4")
        svc = services(env, log)
        wait_for(lambda: silent.accepted or None, timeout=90, message="an e-mail to be tried")
        started = time.monotonic()
        # Four attempts of 4 s for each e-mail, then the owner's alert, would hold the stop for half a minute
        # and more (under systemd, past its 90 s to SIGKILL with a realistic timeout): one attempt at most.
        assert svc.stop(timeout=60) == 0, svc.text()
        assert time.monotonic() - started < 10, svc.text()
    finally:
        silent.close()
    with open_state(state_url).connect() as conn:
        mails = [dict(r) for r in conn.execute(sa.select(outbox_table)).mappings()]
    assert mails and {m["status"] for m in mails} == {"pending"} and {m["kind"] for m in mails} == {"report"}, mails
    assert not [m for m in mails if m["claimed_by"]], mails
    return mails


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_a_stop_while_the_mail_server_hangs_is_prompt_and_keeps_the_mail(make_env, state_url, smtp, services, tmp_path,
                                                                         tiny_warehouse):
    # Stopped while a run's own e-mail is being sent, then while the start-up pass over the outbox is.
    mails = _stop_while_mail_hangs(make_env, state_url, services, tmp_path / "first.log", interval=2)
    again = _stop_while_mail_hangs(make_env, state_url, services, tmp_path / "middle.log", interval=3600)
    assert [m["id"] for m in again] == [m["id"] for m in mails]

    # The next start, with a mail server that answers, sends each of them once.
    env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(3600)), state_url, smtp.port)
    svc = services(env, tmp_path / "second.log")
    contacts = _contacts(tiny_warehouse)
    runs = {r["run_id"]: r for r in _runs(state_url)}
    expected = {(m["run_id"], contacts[runs[m["run_id"]]["client"]]) for m in mails}
    wait_for(lambda: expected <= set(smtp.by_run()) or None, timeout=60, message="the kept e-mails")
    assert svc.stop() == 0, svc.text()
    assert all(n == 1 for n in smtp.by_run().values()), smtp.by_run()


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_a_run_cancelled_by_a_stop_is_run_again_as_the_same_attempt_and_the_log_says_so(make_env, state_url, smtp,
                                                                                     settings_for, caplog):
    # The next start's log said "attempt 2" of a cancelled run, whose re-run is attempt 1 again (a stop is no failure).
    import logging

    from quire.scheduler.jobs import Runner
    from quire.scheduler.recovery import recover
    from quire.scheduler.service import build_scheduler
    from quire.state import runs as history

    settings = settings_for(make_env(CATALOG_HEAD + client_report(), state_url, smtp.port))
    engine = open_state(state_url)
    cancelled = history.create(engine, report="clientmail", parameters={"period": "2026-09", "client": "town-of-fairdale"},
                               trigger="schedule", client="town-of-fairdale", attempt=1, retry_of=None, worker="gone")
    history.finish(engine, cancelled, "cancelled", error="cancelled: the scheduler stopped",
                   error_type="ServiceStopped", transient=True)
    scheduler = build_scheduler(engine, settings)
    scheduler.start(paused=True)
    runner = Runner(settings, engine, "next-start", scheduler)
    try:
        with caplog.at_level(logging.INFO, logger="quire.scheduler"):
            assert recover(runner) == [cancelled]
        said = [r.getMessage() for r in caplog.records if cancelled in r.getMessage()]
        assert said == [f"run {cancelled}: cancelled by a stop, run again now as attempt 1"], said
        assert scheduler.get_job(f"retry:{cancelled}") is not None
    finally:
        scheduler.remove_all_jobs()
        scheduler.shutdown(wait=False)
        runner.stop()


def _warm_server(pid: int):
    """The warm fork server of the service process ``pid``, once it has one."""
    import psutil

    return next((child for child in psutil.Process(pid).children()
                 if "multiprocessing.forkserver" in " ".join(child.cmdline())), None)


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_a_stop_while_runs_wait_for_the_warm_server_is_prompt(make_env, state_url, smtp, services, tmp_path):
    # A run's process is forked by the warm server, which first imports and rehearses the reports: seconds
    # on a quiet host, a minute on a busy one. A stop in that time waited for all of it, since a run being
    # started does not see the cancel. Here the server is held (SIGSTOP), so that a start waits for ever.
    import os
    import signal

    env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(2)), state_url, smtp.port)
    svc = services(env, tmp_path / "svc.log")
    server = wait_for(lambda: _warm_server(svc.proc.pid), timeout=60, message="the service's warm server")
    os.kill(server.pid, signal.SIGSTOP)
    try:
        held = wait_for(lambda: _runs(state_url, status="queued"), timeout=60, message="a run waiting to start")
        started = time.monotonic()
        assert svc.stop(timeout=30) == 0, svc.text()
        assert time.monotonic() - started < 10, svc.text()
    finally:
        if server.is_running():
            os.kill(server.pid, signal.SIGCONT)
    rows = {r["run_id"]: r for r in _runs(state_url)}
    assert not [r for r in rows.values() if r["status"] in ("queued", "running")], (rows, svc.text())
    for run in held:  # cancelled, not failed: re-run at the next start without using up an attempt
        assert rows[run["run_id"]]["status"] == "cancelled", rows[run["run_id"]]
        assert rows[run["run_id"]]["error"].startswith("cancelled: the scheduler stopped")
    assert not server.is_running(), "the warm server outlived its service"


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_a_hanging_mail_server_holds_up_no_run_of_the_fan_out(make_env, state_url, services, tmp_path):
    # One run worker and a mail server that accepts and never answers: the second client's run must not
    # wait for the first one's e-mail (five minutes per attempt here; with 1,000 clients, the whole batch).
    silent = SilentMailServer()
    try:
        env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(5)), state_url, silent.port,
                       QUIRE_SMTP_TIMEOUT="300", QUIRE_SCHEDULER_WORKERS="1")
        svc = services(env, tmp_path / "svc.log")
        done = wait_for(lambda: _succeeded(state_url, len(MUNICIPALITIES)), timeout=90,
                        message="every run of the fan-out while the first e-mail hangs")
        assert {r["client"] for r in done} == MUNICIPALITIES
        assert silent.accepted, "no e-mail was tried"
        with open_state(state_url).connect() as conn:
            mails = [dict(r) for r in conn.execute(sa.select(outbox_table)).mappings()]
        assert {m["status"] for m in mails} == {"pending"}, mails  # still being tried, not given up
    finally:
        silent.close()  # the hanging session ends, so the stop below is prompt
    assert svc.stop(timeout=60) == 0, svc.text()


def test_two_schedulers_on_one_database_run_each_due_time_once(make_env, state_url, smtp, services, tmp_path):
    env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(3)), state_url, smtp.port)
    first = services(env, tmp_path / "a.log")
    wait_for(lambda: "active on" in first.text(), timeout=30, message="the first scheduler to start")
    # What a due report needs was imported before the lease was taken, not in the first due time
    # (where loading a library's C extension, seconds on a busy host, would hold up the heartbeat).
    mapped = Path(f"/proc/{first.proc.pid}/maps").read_text()
    assert "_duckdb" in mapped and "pandas/_libs" in mapped, "duckdb and pandas are not loaded yet"
    second = services(env, tmp_path / "b.log", "--wait")
    wait_for(lambda: "standby" in second.text(), timeout=30, message="the second scheduler to stand by")
    # Ready while it waits, so that a takeover does not begin with the warm server's imports and rehearsal.
    wait_for(lambda: _warm_server(second.proc.pid), timeout=30, message="the standby's warm server")

    # A third one without --wait refuses, in one line.
    third = run_quire(env, "scheduler", timeout=60)
    assert third.returncode == 3 and "another scheduler" in third.stderr and "Traceback" not in third.stderr
    assert len(third.stderr.strip().splitlines()) == 1, third.stderr

    wait_for(lambda: _succeeded(state_url, 2), timeout=90, message="runs under the first scheduler")
    assert first.stop() == 0, first.text()  # a clean stop hands the lease over at once
    holders = {r["worker"] for r in _runs(state_url)}
    wait_for(lambda: len({r["worker"] for r in _runs(state_url, status="succeeded")} - holders) >= 1, timeout=60,
             message="the standby to take over and run")
    wait_for(lambda: not _runs(state_url, status="running") and not _runs(state_url, status="queued") and
             not [r for r in _runs(state_url, status="cancelled")
                  if not [x for x in _runs(state_url) if x["retry_of"] == r["run_id"]]] or None,
             timeout=60, message="cancelled runs to be re-run by the standby")
    assert second.stop() == 0, second.text()

    rows = _runs(state_url)
    assert len({r["worker"] for r in rows}) == 2
    # Every due time ran once: per client, consecutive scheduled runs are an interval apart, never doubled.
    for client in MUNICIPALITIES:
        times = sorted(r["created_at"] for r in rows if r["client"] == client and r["trigger"] == "schedule")
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        assert gaps and min(gaps) >= 1.5, gaps  # a due time run twice would show as a gap near 0
    # A run cancelled by the first scheduler's stop is run again exactly once (by the standby). One that the
    # second scheduler's own stop cancelled (a due time can fire just before it) waits for the next start.
    for cancelled in [r for r in rows if r["status"] == "cancelled"]:
        assert cancelled["error"].startswith("cancelled: the scheduler stopped"), cancelled["error"]
        if cancelled["worker"] in holders:
            assert len([r for r in rows if r["retry_of"] == cancelled["run_id"]]) == 1


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_a_stop_while_jobs_call_the_scheduler_ends_and_the_retry_is_kept(make_env, state_url, smtp, settings_for,
                                                                        tmp_path):
    # APScheduler's shutdown holds its job-store lock while it waits for its job threads: a job
    # calling the scheduler at that moment (a console poll, a retry being scheduled) once hung the
    # stop for ever. The helper arranges exactly that moment; a hang is killed after 60 s.
    import subprocess
    import sys

    from sched_support import ROOT

    env = make_env("reports: {}\n", state_url, smtp.port)
    log = tmp_path / "stop.log"
    with open(log, "w") as handle:
        try:
            done = subprocess.run([sys.executable, str(Path(__file__).with_name("stop_during_a_scheduler_call.py"))],
                                  env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=handle, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the stop hung with a job calling the scheduler; its log:\n{log.read_text()[-8000:]}")
    assert done.returncode == 0 and done.stdout.startswith("stopped"), done.stdout + log.read_text()
    failed = done.stdout.split()[1]
    assert "attempt 2 at the next start" in log.read_text()
    # The retry the stop held back is made at the next start.
    from quire.scheduler.jobs import Runner
    from quire.scheduler.recovery import recover
    from quire.scheduler.service import build_scheduler

    settings = settings_for(env)
    engine = open_state(state_url)
    scheduler = build_scheduler(engine, settings)
    scheduler.start(paused=True)
    runner = Runner(settings, engine, "next-start", scheduler)
    try:
        assert recover(runner) == [failed]
        assert scheduler.get_job(f"retry:{failed}") is not None
        assert recover(runner) == []  # its retry job is waiting: not scheduled twice
    finally:
        scheduler.remove_all_jobs()  # nothing left due while APScheduler shuts down
        scheduler.shutdown(wait=False)
        runner.stop()
