"""For the tests of the fast path: a report that takes as long as it is told, how to find its runs, and
``quire warm`` started and stopped."""

from __future__ import annotations

import select
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from support import ROOT, notebook_home, run_quire, wait_for

CELLS = [
    ("client: str = ''\ndelay: float = 0.0", ["parameters"]),
    ("import time\ntime.sleep(delay)", []),
    ("from IPython.display import Markdown\nMarkdown(f'Report for **{client}**')", []),
]


def slow_home(tmp_path: Path) -> Path:
    """A QUIRE_HOME whose one report, ``slow``, runs per client and sleeps ``delay`` seconds (HTML only)."""
    return notebook_home(
        tmp_path, "slow", CELLS,
        "reports:\n  slow:\n    title: Slow\n    notebook: notebooks/slow.ipynb\n    description: d\n"
        "    owner: o@example.com\n    formats: [html]\n    fan_out: clients\n"
        "    parameters:\n      client: {type: client}\n      delay: {type: float, min: 0, max: 60}\n")


def history(outputs: Path) -> list[dict]:
    """The run history of the outputs folder ``outputs``, newest first."""
    from quire.state import open_state
    from quire.state import runs as runs_history

    return runs_history.query(open_state(f"sqlite:///{outputs / '.quire' / 'state.db'}"))


def run_processes(marker: str = "quire-run ") -> list[psutil.Process]:
    """Processes whose command line (a run's title: ``quire-run <run id> <report>``) holds ``marker``."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if marker in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def gone(proc: psutil.Process) -> bool:
    """Whether ``proc`` has ended."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE  # dead, only not yet reaped by whoever adopted it
    except psutil.NoSuchProcess:
        return True


def started_run(ancestor: subprocess.Popen) -> psutil.Process:
    """The first run process started under the process ``ancestor`` (waits for it, bounded)."""
    def under_ancestor(proc: psutil.Process) -> bool:
        try:
            return bool(proc.ppid()) and ancestor.pid in [a.pid for a in proc.parents()]
        except psutil.NoSuchProcess:  # a run (of another test, the suite runs in parallel) that ended meanwhile
            return False

    def mine():
        assert ancestor.poll() is None, ancestor.communicate()
        return [p for p in run_processes() if under_ancestor(p)]

    return wait_for(mine, timeout=120, interval=0.1, message="a run to start")[0]


def start_service(env: dict[str, str]) -> subprocess.Popen:
    """``quire warm`` for ``env``, once it has said it is ready (bounded wait)."""
    service = subprocess.Popen([sys.executable, "-m", "quire.cli", "warm"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([service.stdout], [], [], 180)
    line = service.stdout.readline() if ready else ""
    if "ready" not in line:
        service.kill()
        pytest.fail(f"quire warm did not get ready: {line!r} {service.stderr.read() if service.poll() is not None else ''}")
    return service


def stop_service(service: subprocess.Popen) -> str:
    """Stop the service as an operator would (SIGTERM); what it logged."""
    service.terminate()
    try:
        _, logged = service.communicate(timeout=60)
    finally:
        service.kill()
    return logged


def run_warm(env: dict[str, str], commands: list[tuple[str, ...]], *, timeout: int = 600) -> list[subprocess.CompletedProcess]:
    """Each ``quire`` command (two at a time) with ``quire warm`` up for ``env``'s outputs: for tests of what
    many runs publish, each command then costs its run, not a warm-up of its own."""
    service = start_service(env)
    try:
        with ThreadPoolExecutor(2) as pool:  # one command waits on its run while the other's is printed
            return list(pool.map(lambda args: run_quire(env, *args, timeout=timeout), commands))
    finally:
        stop_service(service)
