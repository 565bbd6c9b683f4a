"""The service while its state database is locked or away: it waits, says so once, and goes on when it is back.

A SQLite state database write-locked by another connection for longer than its busy timeout
(30 s by default) made APScheduler's job store raise in APScheduler's own thread, which died: the process
lived on and kept its lease, and nothing ever ran again. Should that thread die anyway, the
service must give its lease up and exit rather than look healthy.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import timezone

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sched_support import CATALOG_HEAD, client_report, free_port, mail_tried, wait_for

from quire.errors import StateError
from quire.state import open_state, utcnow
from quire.state.schema import outbox as outbox_table
from quire.state.schema import runs as runs_table

SCHEDULE = "    schedule:\n      interval_seconds: 8\n      clients: {sector: municipality}\n      timeout_seconds: 90\n"


def _runs_since(url: str, since) -> list[dict]:
    stmt = sa.select(runs_table).where(runs_table.c.created_at >= since).order_by(runs_table.c.created_at)
    with open_state(url).connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


@pytest.mark.slow
def test_a_write_lock_beyond_the_busy_timeout_delays_the_schedule_and_does_not_stop_it(make_env, smtp, services,
                                                                                      tmp_path):
    db = tmp_path / "state.db"
    url = f"sqlite:///{db}?timeout=4"  # a busy timeout of 4 s, not the default 30: the same story, sooner
    # A lease long enough that the heartbeat, itself waiting out the lock, is not reported late (a stack dump).
    env = make_env(CATALOG_HEAD + client_report(schedule=SCHEDULE), url, smtp.port, QUIRE_LEASE_SECONDS="60")
    svc = services(env, tmp_path / "service.log")
    wait_for(lambda: "schedule report:clientmail: next run" in svc.text(), timeout=90, message="the service's start")
    before_lock = len(svc.text().splitlines())

    # Another writer holds the database: the next due time's job-store update (in APScheduler's thread) and the
    # recording of its runs (in the job's) each wait out the busy timeout, and fail; the lock is held until both
    # have (or APScheduler's thread died of it).
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    failed_both = ("schedules: the state database", "recording due runs: the state database")
    try:
        wait_for(lambda: all(s in svc.text() for s in failed_both) or "Exception in thread" in svc.text(),
                 timeout=90, message=f"both to find the database locked; log:\n{svc.text()[-6000:]}")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    released = utcnow()

    # The due time caught by the lock is recorded once the database answers, and the schedule goes on firing.
    def two_due_times_ran():
        done = [r for r in _runs_since(url, released) if r["status"] == "succeeded"]
        # A due time's runs are recorded together; the next due time's at least a few seconds later.
        spread = (done[-1]["created_at"] - done[0]["created_at"]).total_seconds() if done else 0
        return done if len(done) >= 4 and spread >= 4 else None

    wait_for(lambda: "Exception in thread" not in svc.text() and two_due_times_ran(), timeout=120,
             message=f"runs of two due times after the lock; log:\n{svc.text()[-6000:]}")
    assert svc.proc.poll() is None
    text = svc.text()
    assert "Exception in thread" not in text and "Traceback" not in text, text[-6000:]
    for part in ("schedules", "recording due runs"):
        assert f"{part}: the state database {url} does not answer (database is locked)" in text
        assert f"{part}: the state database {url} answers again" in text
    # One line when the database stopped answering and one when it was back, for each part that waited: not a
    # traceback at every try. (The runs' own lines come after; a few per run.)
    lines = text.splitlines()[before_lock:]
    assert sum("does not answer" in line for line in lines) <= 4, "\n".join(lines)
    assert len(lines) < 60, "\n".join(lines)
    assert svc.stop() == 0, svc.text()[-4000:]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_heartbeat_gives_the_lease_up_when_apscheduler_s_thread_has_died(make_env, settings_for, tmp_path, caplog):
    from quire.scheduler.service import Service

    class BrokenStore(MemoryJobStore):
        """A job store with a bug: its update raises in APScheduler's thread, which ends it."""

        def update_job(self, job):
            raise ValueError("a bug in the job store")

    settings = settings_for(make_env("reports: {}\n", f"sqlite:///{tmp_path / 'state.db'}", QUIRE_LEASE_SECONDS="3"))
    service = Service(settings)
    assert service.lease.acquire()
    service.scheduler = BackgroundScheduler(jobstores={"default": BrokenStore()}, timezone=timezone.utc)
    service.scheduler.add_job(int, "interval", seconds=0.2)
    service.scheduler.start()
    wait_for(lambda: not service.scheduler_alive(), timeout=30, message="APScheduler's thread to die")
    assert service.lease.current()["holder"] == service.lease.holder

    with caplog.at_level(logging.INFO, logger="quire.scheduler"), pytest.raises(StateError, match="main loop stopped"):
        service.heartbeat()  # renews no more: raises at its next beat (a second)
    service.shutdown()
    assert service.lease.current() is None  # a --wait standby takes over at once
    [said] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "main loop has stopped" in said.getMessage() and "releasing the lease" in said.getMessage()


def test_an_unreachable_state_database_is_one_line_when_it_goes_and_one_when_it_is_back(make_env, settings_for,
                                                                                       tmp_path, caplog):
    from quire.scheduler import jobs

    # A PostgreSQL state database on a port where nothing listens: every connection is refused.
    away = f"postgresql+psycopg://quire:s3cret@127.0.0.1:{free_port()}/state"
    settings = settings_for(make_env("reports: {}\n", away))
    runner = jobs.Runner(settings, sa.create_engine(away), "outage-test")
    runner.install()
    try:
        with caplog.at_level(logging.INFO, logger="quire.scheduler"):
            for _ in range(4):
                jobs.poll_console()  # every few seconds in the service: no traceback, no error raised
            said = [r.getMessage() for r in caplog.records if r.name == "quire.scheduler"]
            assert len(said) == 1 and said[0].startswith("console queue: the state database"), said
            assert "quire:***@127.0.0.1" in said[0] and "s3cret" not in said[0] and "[SQL" not in said[0]
            assert caplog.records[0].levelno == logging.WARNING

            runner.engine = open_state(f"sqlite:///{tmp_path / 'state.db'}")  # the database is back
            jobs.poll_console()
            jobs.poll_console()
            said = [r.getMessage() for r in caplog.records if r.name == "quire.scheduler"]
            assert len(said) == 2 and said[1] == f"console queue: the state database {away.replace('s3cret', '***')} "\
                                                 "answers again", said

        # A real mistake is not an outage: it is raised (APScheduler logs its traceback).
        runner.engine = sa.create_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")
        with pytest.raises(sa.exc.OperationalError, match="no such table"):
            jobs.poll_console()
    finally:
        runner.stop()


def test_the_heartbeat_says_once_that_the_database_is_away_and_once_that_it_is_back(make_env, settings_for, tmp_path,
                                                                                    caplog):
    import threading

    from quire.scheduler.service import Service

    settings = settings_for(make_env("reports: {}\n", f"sqlite:///{tmp_path / 'state.db'}", QUIRE_LEASE_SECONDS="3"))
    service = Service(settings)
    assert service.lease.acquire()
    here = service.lease.engine
    away = sa.create_engine(f"postgresql+psycopg://quire:s3cret@127.0.0.1:{free_port()}/state")
    tries = []
    sa.event.listen(away, "do_connect", lambda *args: tries.append(1))  # each renewal's connection attempt
    service.lease.engine = away
    beating = threading.Thread(target=service.heartbeat)
    with caplog.at_level(logging.INFO, logger="quire.scheduler"):
        beating.start()
        try:
            wait_for(lambda: len(tries) >= 3, timeout=60, message="three heartbeats on the unreachable database")
            service.lease.engine = here
            wait_for(lambda: any("answers again" in r.getMessage() for r in caplog.records), timeout=60,
                     message="the heartbeat to find the database back")
        finally:
            service.stop_event.set()
            beating.join(timeout=30)
    said = [r.getMessage() for r in caplog.records if r.name == "quire.scheduler"]
    assert len(said) == 2, said
    assert said[0].startswith("lease heartbeat: the state database") and "does not answer" in said[0]
    assert "[SQL" not in said[0] and "\n" not in said[0]
    assert said[1] == f"lease heartbeat: the state database sqlite:///{tmp_path / 'state.db'} answers again"
    service.shutdown()


def test_a_run_that_ends_while_the_database_is_away_is_recorded_with_its_e_mails_once_it_is_back(
        make_env, settings_for, tmp_path, caplog):
    # The report was published, but its end could not be written: the run stayed "running", no e-mail was queued,
    # and the only line ("report slow: connection failed") did not name the run, until the service's next start.
    import threading

    from quire.batch.runner import Outcome
    from quire.catalog import load_catalog
    from quire.scheduler import jobs
    from quire.state import runs as history

    catalog = CATALOG_HEAD + client_report(rid="mailed").replace("fan_out: clients\n", "recipients: [team@example.com]\n")
    here = f"sqlite:///{tmp_path / 'state.db'}"
    settings = settings_for(make_env(catalog, here, free_port()))
    spec = load_catalog(settings.catalog_path).get("mailed")
    runner = jobs.Runner(settings, open_state(here), "outage-test")
    try:
        run_id = runner.record("mailed", {}, "schedule", None, 1, None)
        history.mark_running(runner.engine, run_id)
        back = runner.engine
        runner.engine = sa.create_engine(f"postgresql+psycopg://quire@127.0.0.1:{free_port()}/state")  # away
        ended = Outcome("succeeded", output_folder=str(tmp_path / "out" / "mailed" / run_id))
        with caplog.at_level(logging.INFO, logger="quire.scheduler"):
            concluding = threading.Thread(target=runner.conclude, args=(run_id, spec, None, 1, ended), daemon=True)
            concluding.start()
            wait_for(lambda: any(f"run {run_id}: recording its end" in r.getMessage() for r in caplog.records),
                     timeout=60, message="the end's first try")
            assert history.get(back, run_id)["status"] == "running"
            runner.engine = back  # the database is back
            concluding.join(timeout=90)
            assert not concluding.is_alive()
        assert history.get(back, run_id)["status"] == "succeeded"
        # Queued once it is back, and tried (here without an SMTP server or a real run folder: in vain, which does
        # not matter) before it is looked at: the mail thread's timing decides nothing.
        mail_tried(runner)
        with back.connect() as conn:
            mails = conn.execute(sa.select(outbox_table).where(outbox_table.c.run_id == run_id)).mappings().all()
        assert [m["recipient"] for m in mails if m["kind"] == "report"] == ["team@example.com"], mails
        said = [r.getMessage() for r in caplog.records if run_id in r.getMessage()]
        assert any("does not answer" in line for line in said) and any("answers again" in line for line in said), said
    finally:
        runner.stop()
