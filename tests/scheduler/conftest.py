"""Real servers for the scheduler tests: SMTP (aiosmtpd) and PostgreSQL on 127.0.0.1, a throw-away project.

Every wait is bounded. The PostgreSQL server is started once per session from Debian's
binaries (as the ``postgres`` OS user when the tests run as root); each test gets a
fresh database on it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import threading
from collections import deque
from pathlib import Path

import pytest
from sched_support import ServiceProcess, free_port, write_project
from support import postgres, quire_free_env

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).resolve().parent / "project"


# ---------------------------------------------------------------------------------------------- SMTP
class Mailbox:
    """What the SMTP server received, and how it should answer (a queue of reply codes, then 250)."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.replies: deque[str] = deque()  # e.g. "451 4.3.0 try later"; consumed one per DATA
        self.always: str | None = None  # answer every DATA with this
        self.attempts = 0
        self.lock = threading.Lock()
        self.confirm_after = 0.0  # seconds the server waits, having stored the message, before its 250

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            reply = self.always or (self.replies.popleft() if self.replies else None)
            if reply:
                return reply
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            msg["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
            self.messages.append(msg)
        if self.confirm_after:
            await asyncio.sleep(self.confirm_after)
        return "250 OK"

    def by_run(self) -> dict[tuple[str, str], int]:
        """(run id, recipient) -> number of messages."""
        counts: dict[tuple[str, str], int] = {}
        with self.lock:
            for m in self.messages:
                key = (m["X-Report-Run"], m["To"])
                counts[key] = counts.get(key, 0) + 1
        return counts


@pytest.fixture
def smtp():
    """An aiosmtpd server on 127.0.0.1 collecting messages; ``.port``, ``.mailbox``."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request, tmp_path) -> str:
    """The state database URL: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return postgres.new_database(request.getfixturevalue("pg_server"))


# ---------------------------------------------------------------------------------------------- a project
@pytest.fixture
def make_env(tiny_warehouse, tmp_path):
    """Builds the environment of a `quire` process against a test project and a state database."""

    def build(catalog: str, state_url: str, smtp_port: int | None = None, **extra: str) -> dict[str, str]:
        home = write_project(tmp_path, catalog) if not (tmp_path / "home").exists() else tmp_path / "home"
        (home / "reports.yaml").write_text(catalog, encoding="utf-8")
        env = quire_free_env()
        env.update(QUIRE_HOME=str(home), QUIRE_OUTPUTS=str(tmp_path / "outputs"), QUIRE_WAREHOUSE_URL=tiny_warehouse,
                   QUIRE_STATE_URL=state_url, QUIRE_RETRY_BASE_SECONDS="1", QUIRE_LEASE_SECONDS="6",
                   QUIRE_SMTP_BACKOFF_SECONDS="0.2", PYTHONUNBUFFERED="1")
        if smtp_port:
            env.update(QUIRE_SMTP_HOST="127.0.0.1", QUIRE_SMTP_PORT=str(smtp_port))
        env.update(extra)
        return env

    return build


@pytest.fixture
def services():
    """Start services with ``services(env, log, *args)``; all are stopped (then killed) at the end."""
    started: list[ServiceProcess] = []

    def start(env, log, *args):
        started.append(ServiceProcess(env, log, *args))
        return started[-1]

    yield start
    for svc in started:
        if svc.proc.poll() is None:
            try:
                svc.stop(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(svc.proc.pid, signal.SIGKILL)


