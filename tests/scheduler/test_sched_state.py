"""The state database on SQLite and PostgreSQL: tables on first use, the lease, outbox claims, orphan detection."""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from quire.state import open_state
from quire.state import outbox
from quire.state import runs as history
from quire.state.lease import Lease
from quire.state.schema import leases


def test_tables_are_created_on_first_use(state_url):
    engine = open_state(state_url)
    assert {"quire_runs", "quire_outbox", "quire_leases"} <= set(sa.inspect(engine).get_table_names())


def test_a_table_another_process_creates_meanwhile_is_no_error(tmp_path):
    """Two processes opening a new SQLite state database at once: one creates a table between the other's
    check and create (the race that failed a scheduler test); the loser looks again instead of failing."""
    import sqlite3

    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateTable

    from quire.state.schema import metadata

    path = tmp_path / "state.db"
    table = metadata.sorted_tables[0]
    ddl = str(CreateTable(table).compile(dialect=sqlite_dialect.dialect()))

    def created_elsewhere(*_args, **_kw):
        with sqlite3.connect(path) as other:
            other.execute(ddl)

    sa.event.listen(table, "before_create", created_elsewhere, once=True)
    try:
        eng = open_state(f"sqlite:///{path}")
    finally:
        if sa.event.contains(table, "before_create", created_elsewhere):
            sa.event.remove(table, "before_create", created_elsewhere)
    assert set(metadata.tables) <= set(sa.inspect(eng).get_table_names())


def test_a_sqlite_state_database_waits_for_another_writer_as_long_as_its_url_says(tmp_path):
    import sqlite3

    from quire.errors import StateError

    path = tmp_path / "state.db"
    open_state(f"sqlite:///{path}")  # the tables, created before the lock below
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for url, seconds in ((f"sqlite:///{path}?timeout=0.5", 0.5), (f"sqlite:///{path}", 30.0)):
            with open_state(url).connect() as conn:
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == seconds * 1000
        start = time.monotonic()
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            history.create(open_state(f"sqlite:///{path}?timeout=0.5"), report="executive", parameters={}, trigger="manual")
        assert 0.4 < time.monotonic() - start < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for bad in ("abc", "0", "-1", "nan", "99999"):
        with pytest.raises(StateError, match=f"timeout='{bad}' is not a number of seconds from 0.1 to 3600"):
            open_state(f"sqlite:///{tmp_path / 'other.db'}?timeout={bad}")


def test_one_lease_holder_at_a_time_and_takeover_after_expiry(state_url):
    engine = open_state(state_url)
    first, second = Lease(engine, seconds=3), Lease(engine, seconds=3)
    assert first.acquire() and not second.acquire()
    assert first.renew() and not second.renew()
    # A holder on another host that stops heartbeating: its lease must expire before anyone takes over.
    with engine.begin() as conn:
        conn.execute(leases.update().values(host="elsewhere"))
    assert not second.acquire()
    time.sleep(3.2)
    assert second.acquire() and not first.renew()  # the old holder learns it lost the lease
    second.release()
    assert first.acquire()


def test_a_dead_holder_on_this_host_is_replaced_at_once(state_url):
    engine = open_state(state_url)
    dead = Lease(engine, seconds=600)
    dead.pid = 2 ** 22 + 12345  # no such process
    assert dead.acquire()
    assert Lease(engine).acquire()


def test_outbox_rows_are_claimed_by_one_sender(state_url):
    engine = open_state(state_url)
    run_id = history.create(engine, report="r", parameters={}, trigger="schedule")
    history.finish(engine, run_id, "succeeded", deliveries=[("a@example.com", "report"), ("A@example.com", "report")])
    [row] = outbox.pending(engine, run_id)  # the same address once, whatever its case
    assert outbox.claim(engine, row["id"], "one") and not outbox.claim(engine, row["id"], "two")
    outbox.mark_sent(engine, row["id"])
    assert not outbox.claim(engine, row["id"], "one") and outbox.pending(engine) == []
    # A run ends once: a late finish (e.g. after recovery marked it) changes nothing and queues nothing.
    history.finish(engine, run_id, "failed", deliveries=[("owner@example.com", "alert")])
    assert history.get(engine, run_id)["status"] == "succeeded" and outbox.pending(engine) == []


def test_an_email_claimed_by_a_sender_killed_on_this_host_is_released_at_once(state_url):
    # A scheduler killed while it sent left its claim: the next start, and `quire deliver`, waited 10 minutes.
    import socket

    engine = open_state(state_url)
    run_id = history.create(engine, report="r", parameters={}, trigger="schedule")
    history.finish(engine, run_id, "succeeded", deliveries=[("a@example.com", "report"), ("b@example.com", "report")])
    first, second = outbox.pending(engine, run_id)
    here = socket.gethostname()
    assert outbox.claim(engine, first["id"], f"{here}:{2 ** 22 + 12345}:dead01")  # no such process
    assert outbox.claim(engine, second["id"], f"{here}:{os.getpid()}:live01")  # this one is running
    elsewhere = history.create(engine, report="r", parameters={}, trigger="schedule")
    history.finish(engine, elsewhere, "succeeded", deliveries=[("c@example.com", "report")])
    [third] = outbox.pending(engine, elsewhere)
    assert outbox.claim(engine, third["id"], f"another-host.example:{2 ** 22 + 12345}:far001")  # may be alive
    assert outbox.release_dead(engine) == 1
    assert outbox.claim(engine, first["id"], "next-sender")
    assert not outbox.claim(engine, second["id"], "next-sender") and not outbox.claim(engine, third["id"], "next-sender")


def test_orphans_are_live_runs_whose_process_is_gone(state_url):
    engine = open_state(state_url)
    mine = history.create(engine, report="r", parameters={}, trigger="schedule", worker="me")
    theirs = history.create(engine, report="r", parameters={}, trigger="retry", worker="dead-scheduler")
    manual_alive = history.create(engine, report="r", parameters={}, trigger="manual")  # this test process is alive
    manual_dead = history.create(engine, report="r", parameters={}, trigger="manual")
    with engine.begin() as conn:
        conn.execute(sa.update(history.runs).where(history.runs.c.run_id == manual_dead).values(pid=2 ** 22 + 999))
    finished = history.create(engine, report="r", parameters={}, trigger="schedule", worker="dead-scheduler")
    history.finish(engine, finished, "succeeded")
    assert {r["run_id"] for r in history.orphans(engine, "me")} == {theirs, manual_dead}
    assert mine and manual_alive and os.getpid()


@pytest.mark.slow
def test_quire_run_records_manual_runs(make_env, state_url):
    from sched_support import CATALOG_HEAD, client_report

    from support import run_quire

    env = make_env(CATALOG_HEAD + client_report(), state_url)
    ok = run_quire(env, "run", "clientmail", "-p", "client=town-of-fairdale")
    assert ok.returncode == 0, ok.stderr
    bad = run_quire(env, "run", "clientmail", "-p", "client=town-of-fairdale", "-p", "delay=-1")
    assert bad.returncode == 2  # a parameter error: nothing ran, nothing recorded
    [run] = history.query(open_state(state_url))
    assert run["trigger"] == "manual" and run["status"] == "succeeded" and run["client"] == "town-of-fairdale"
    assert run["output_folder"].endswith(run["run_id"]) and run["run_id"] in ok.stdout


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_a_heartbeat_held_up_past_the_lease_writes_every_threads_stack(state_url, make_env, settings_for, capfd):
    # A stall that lets a standby take over must leave the operator something to go on: where each thread was.
    import threading

    from quire.scheduler.service import Service

    settings = settings_for(make_env("reports: {}\n", state_url, QUIRE_LEASE_SECONDS="3"))
    service = Service(settings)
    held, release = threading.Event(), threading.Event()

    def stuck_renew() -> bool:
        held.set()
        release.wait(30)
        return False  # then it finds the lease gone, and the heartbeat ends

    service.lease.renew = stuck_renew
    beat = threading.Thread(target=service.heartbeat, name="heartbeat")
    beat.start()
    try:
        assert held.wait(10)
        seen, deadline = "", time.monotonic() + 20
        while "stuck_renew" not in seen and time.monotonic() < deadline:
            time.sleep(0.2)
            seen += capfd.readouterr().err
    finally:
        release.set()
        beat.join(10)
    assert "Timeout (0:00:03)!" in seen and "stuck_renew" in seen, seen
    assert not beat.is_alive()


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_quire_runs_says_when_its_limit_leaves_runs_out(make_env, state_url):
    # It showed the newest 50 without a word that 95 more matched (`--limit` is only in its --help).
    from sched_support import CATALOG_HEAD, client_report

    from support import run_quire

    env = make_env(CATALOG_HEAD + client_report(), state_url)
    engine = open_state(state_url)
    for _ in range(3):
        history.finish(engine, history.create(engine, report="clientmail", parameters={}, trigger="manual"), "succeeded")
    cut = run_quire(env, "runs", "--limit", "2")
    assert cut.returncode == 0 and cut.stdout.count("clientmail") == 2, cut.stdout
    assert "showing the newest 2 of 3 matching runs; --limit 3 shows them all" in " ".join(cut.stderr.split())
    whole = run_quire(env, "runs", "--limit", "3")
    assert whole.stdout.count("clientmail") == 3 and "showing" not in whole.stderr, whole.stderr
