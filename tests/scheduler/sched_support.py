"""Helpers of the scheduler tests (bounded waits, a project on disk, the service as a subprocess, /proc scans)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from support import wait_for  # noqa: F401  (re-exported for the scheduler tests)

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).resolve().parent / "project"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CATALOG_HEAD = "reports:\n"
OK_PARAMS = """    parameters:
      client: {type: client}
      period: {type: period}
      delay: {type: float, min: 0, max: 120}
"""


def write_project(tmp_path: Path, catalog: str) -> Path:
    """A QUIRE_HOME with the test notebooks, the real templates and ``catalog`` as reports.yaml."""
    home = tmp_path / "home"
    shutil.copytree(PROJECT / "notebooks", home / "notebooks")
    (home / "templates").symlink_to(ROOT / "templates")
    (home / "reports.yaml").write_text(catalog, encoding="utf-8")
    return home


MUNICIPALITIES = {"village-of-summerbrook", "town-of-fairdale"}  # the active municipalities of the tiny warehouse


def client_report(*, schedule: str = "", timeout: int | None = None, notebook: str = "ok", owner: str = "owner@example.com",
                  rid: str = "clientmail", extra_params: str = "") -> str:
    """A per-client catalog entry over the test notebook ``notebook``."""
    params = OK_PARAMS if notebook == "ok" else "    parameters:\n      client: {type: client}\n"
    return (f"  {rid}:\n    title: Client mail test\n    notebook: notebooks/{notebook}.ipynb\n    description: test\n"
            f"    owner: {owner}\n    fan_out: clients\n{params}{extra_params}{schedule}")


def run_once(runner, spec, params: dict, client: str | None = None) -> str:
    """One scheduled attempt of ``spec`` by the service's Runner, as a due time makes it: recorded, run, concluded."""
    run_id = runner.record(spec.id, params, "schedule", client, 1, None)
    runner.execute(run_id, spec, params, client, 1)
    mail_tried(runner)
    return run_id


def mail_tried(runner) -> None:
    """Wait until the e-mail the runner's runs queued so far has been tried (it is sent on a thread of its own)."""
    runner.mailer.submit(lambda: None).result(timeout=120)


class ServiceProcess:
    """`quire scheduler` as a real subprocess (own process group), its log in a file."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        self.handle = open(log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "quire.cli", "scheduler", *args], env=env, cwd=ROOT,
                                     stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # its threads' stacks, into the log (see `quire scheduler`)
            deadline = time.monotonic() + 5
            while "most recent call first" not in self.text() and time.monotonic() < deadline:
                time.sleep(0.1)
            raise AssertionError(f"the service did not stop within {timeout:g} s; its log:\n{self.text()[-8000:]}") from None
        finally:
            self.handle.close()

    def kill(self) -> None:
        """SIGKILL the service process only (a crash): its run processes must die with it."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.handle.close()


def processes_of_run(run_id: str) -> list[int]:
    """PIDs of this run, from /proc: the run's process (its title names the run) and any process whose
    environment carries the run id (a kernel it started)."""
    found = []
    needle = f"QUIRE_RUN_ID={run_id}".encode()
    title = f"quire-run {run_id}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0") or title in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def describe_processes(pids: list[int]) -> str:
    """Each process's pid, state, parent and command line, for a failure message (gone ones are skipped)."""
    import psutil

    parts = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            parent = proc.parent()
            origin = f"{parent.pid}: {' '.join(parent.cmdline())[:80]}" if parent else "none"
            parts.append(f"{pid} ({proc.status()}, parent {origin}) {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            continue
    return "; ".join(parts) or "none left"
