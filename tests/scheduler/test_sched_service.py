"""The real service process end to end: interval runs, a crash and restart, two schedulers on one database.

Parametrized over SQLite and PostgreSQL state databases. The service runs as
`quire scheduler` in a subprocess against the tiny warehouse, a real SMTP server and a
test project whose notebook is the smallest that still renders a report with a headline.
"""

from __future__ import annotations

import json
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from sched_support import CATALOG_HEAD, client_report, processes_of_run, wait_for

from quire.state import open_state
from quire.state.schema import runs as runs_table
from support import run_quire

pytestmark = pytest.mark.slow
MUNICIPALITIES = {"village-of-summerbrook", "town-of-fairdale"}  # the active municipalities of the tiny warehouse


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
        folder = Path(run["output_folder"])
        assert folder.name == run["run_id"] and {"report.pdf", "report.html", "run.json"} <= {p.name for p in folder.iterdir()}
        record = json.loads((folder / "run.json").read_text())
        assert record["client"] == run["client"]
        [mail] = [m for m in smtp.messages if m["X-Quire-Run"] == run["run_id"]]
        # Exactly the run's own client, nobody else.
        assert mail["To"] == contacts[run["client"]] and mail["X-Envelope-To"] == contacts[run["client"]]
        assert "Scheduler test" in mail["Subject"] and record["client_name"] in mail["Subject"] and "2026-10" in mail["Subject"]
        text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
        assert "Runs per month: 1,234" in text
        assert _attachment(mail).startswith(b"%PDF")

    listing = run_quire(env, "runs", "--report", "clientmail", "--status", "succeeded")
    assert listing.returncode == 0 and done[0]["run_id"] in listing.stdout
    shown = run_quire(env, "runs", "show", done[0]["run_id"])
    assert shown.returncode == 0 and "report → " in shown.stdout and ": sent" in shown.stdout
    assert run_quire(env, "runs", "show", "nope").returncode == 1
