"""The console's state: tokens, the run queue, schedule pauses and the upgrade of older state databases.

SQLite and PostgreSQL alike (a real server from tests/support/postgres.py).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from quire.state import open_state, queue, schedules, tokens
from quire.state import runs as history
from quire.state.db import dispose_all



@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    from support import postgres

    return postgres.new_database(request.getfixturevalue("pg_server"))


def test_tokens_store_only_a_hash_and_revoke_at_once(state_url):
    engine = open_state(state_url)
    row, secret = tokens.create(engine, role="runner", client="town-of-fairdale", name="portal")
    assert secret.startswith("quire_") and len(secret) > 40
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT * FROM quire_tokens")).mappings().one()
    assert secret not in str(dict(stored)) and stored["secret_hash"] == tokens.hash_secret(secret)
    found = tokens.verify(engine, secret)
    assert found["role"] == "runner" and found["client"] == "town-of-fairdale" and found["last_used_at"] is None
    assert tokens.get(engine, row["id"])["last_used_at"] is not None
    assert tokens.verify(engine, secret + "x") is None and tokens.verify(engine, "") is None
    tokens.revoke(engine, row["id"])
    assert tokens.verify(engine, secret) is None
    assert tokens.listing(engine) == [] and len(tokens.listing(engine, include_revoked=True)) == 1


def test_a_token_name_is_one_line_and_an_empty_one_names_the_role(tmp_path):
    # The name is the requester of the token's runs: "x\nadmin" forged a second line in lists and logs.
    from quire.errors import ParameterError

    engine = open_state(f"sqlite:///{tmp_path / 'state.db'}")
    for name in ("nightly\nadmin", "tab\tbed", "x" * (tokens.NAME_LIMIT + 1)):
        with pytest.raises(ParameterError, match="a token's name is one line of at most 120 characters"):
            tokens.create(engine, role="viewer", name=name)
    assert tokens.listing(engine) == []
    assert tokens.create(engine, role="viewer", name="  ")[0]["name"] == "viewer token"
    assert tokens.create(engine, role="viewer", name="x" * tokens.NAME_LIMIT)[0]["name"] == "x" * tokens.NAME_LIMIT


def test_a_queued_run_is_claimed_by_one_worker_only(state_url):
    engine = open_state(state_url)
    ids = [queue.enqueue(engine, report="client", parameters={"client": "x"}, client="x", requested_by="t")
           for _ in range(6)]
    with ThreadPoolExecutor(3) as pool:
        claims = list(pool.map(lambda h: queue.claim(engine, h, 6), ["a", "b", "c"]))
    claimed = [r["run_id"] for c in claims for r in c]
    assert sorted(claimed) == sorted(ids), "every run claimed exactly once"
    assert queue.waiting(engine) == []
    # A queued run nobody has claimed is waiting, not an orphan of a dead scheduler.
    waiting = queue.enqueue(engine, report="client", parameters={}, client=None, requested_by=None)
    assert waiting not in {r["run_id"] for r in history.orphans(engine, "new-holder")}


def test_the_origin_of_a_retry_chain(state_url):
    engine = open_state(state_url)
    first = queue.enqueue(engine, report="client", parameters={}, client=None, requested_by="t")
    second = history.create(engine, report="client", parameters={}, trigger="retry", retry_of=first)
    third = history.create(engine, report="client", parameters={}, trigger="retry", retry_of=second)
    assert queue.origin(engine, third) == "console"
    assert queue.origin(engine, history.create(engine, report="client", parameters={}, trigger="schedule")) == "schedule"


def test_schedule_pauses(state_url):
    engine = open_state(state_url)
    assert schedules.paused(engine) == set()
    schedules.set_paused(engine, "client", True, by="ops")
    schedules.set_paused(engine, "executive", False, by="ops")
    assert schedules.paused(engine) == {"client"}
    schedules.set_paused(engine, "client", False, by="ops")
    assert schedules.paused(engine) == set() and schedules.states(engine)["client"]["changed_by"] == "ops"


def _old_tables(engine) -> None:
    """The run history and outbox as Quire created them before the console (no console trigger, no requested_by)."""
    from quire.state import schema

    old = sa.MetaData()
    sa.Table("quire_runs", old, *[c._copy() for c in schema.runs.columns if c.name != "requested_by"],
             sa.CheckConstraint(f"status IN {schema.RUN_STATUSES}", name="quire_runs_status"),
             sa.CheckConstraint("trigger IN ('schedule', 'manual', 'retry')", name="quire_runs_trigger"))
    # One e-mail per run and recipient, whatever its kind (the owner's alert collided with the owner's report).
    sa.Table("quire_outbox", old, *[c._copy() for c in schema.outbox.columns],
             sa.UniqueConstraint("run_id", "recipient", name="quire_outbox_once"),
             sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="quire_outbox_status"))
    old.create_all(engine)
    now = dt.datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(old.tables["quire_runs"].insert().values(
            run_id="r1", report="client", parameters={}, trigger="schedule", attempt=1, status="succeeded",
            created_at=now, transient=False))
        conn.execute(old.tables["quire_outbox"].insert().values(
            run_id="r1", recipient="a@b.c", kind="report", status="sent", attempts=1, created_at=now))


def test_an_older_state_database_is_upgraded_in_place(state_url):
    """A database made before the console: its rows kept, console runs accepted, the new indexes added."""
    plain = sa.create_engine(state_url)
    _old_tables(plain)
    with pytest.raises(sa.exc.IntegrityError):
        with plain.begin() as conn:  # what a console run met before the upgrade
            conn.execute(sa.text("INSERT INTO quire_runs (run_id, report, parameters, \"trigger\", attempt, status, "
                                 "created_at, transient) VALUES ('x', 'client', '{}', 'console', 1, 'queued', "
                                 "'2026-01-01', false)"))
    plain.dispose()
    dispose_all()
    engine = open_state(state_url)
    run_id = queue.enqueue(engine, report="client", parameters={}, client=None, requested_by="ops")
    assert history.get(engine, run_id)["trigger"] == "console"
    assert history.get(engine, "r1")["status"] == "succeeded" and history.deliveries(engine, "r1")[0]["status"] == "sent"
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("quire_runs")}
    assert {"quire_runs_by_client", "quire_runs_by_created", "quire_runs_by_report"} <= indexes
    with pytest.raises(sa.exc.IntegrityError):  # the constraint is widened, not dropped
        history.create(engine, report="client", parameters={}, trigger="bogus")
    assert history.count(engine, since=dt.datetime(2025, 1, 1)) == 2
    # The outbox's key takes the kind: the owner's alert beside the owner's report, never a second report.
    from quire.state import outbox

    assert outbox.add(engine, "r1", "a@b.c", "alert") is not None
    assert outbox.add(engine, "r1", "a@b.c", "report") is None and outbox.add(engine, "r1", "a@b.c", "alert") is None
    assert [d["kind"] for d in history.deliveries(engine, "r1")] == ["report", "alert"]


@pytest.mark.parametrize("args", [("tokens", "create", "--role", "viewer", "--client", ""),
                                  ("tokens", "create", "--role", "viewer", "--client", "  "),
                                  ("serve", "--client", "", "--no-preheat", "--port", "18899")])
def test_an_empty_client_is_refused_not_read_as_every_client(args, tiny_warehouse, tmp_path):
    """An unset shell variable ($SLUG) must not give a token, or a server, for every client."""
    from console_support import console_env
    from support import run_quire

    env = console_env(tiny_warehouse, tmp_path)
    proc = run_quire(env, *args, timeout=60)
    assert proc.returncode == 2 and "--client is empty" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not tokens.listing(open_state(env["QUIRE_STATE_URL"]))
