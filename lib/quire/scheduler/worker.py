"""Run one attempt in a child process, bounded by a wall-clock timeout.

The child gets its own session (process group). On timeout or cancel the whole tree is
killed: the child's group and the group of every descendant — the Jupyter kernel runs
in a session of its own (jupyter_client starts it so), so killing only the child's group
would leave the kernel running.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import psutil  # ships with ipykernel; used to find the kernel among the child's descendants

from quire.archive import RunFolder
from quire.config import Settings

log = logging.getLogger("quire.scheduler")
RUN_ENV = "QUIRE_RUN_ID"  # set in the child's environment, inherited by its kernel: lets tests find strays


@dataclass
class Outcome:
    """How an attempt ended."""

    status: str  # succeeded | failed | timed_out | cancelled
    output_folder: str | None = None
    partial_notebook: str | None = None
    error: str | None = None
    error_type: str | None = None
    transient: bool = False


def kill_tree(pid: int, *, grace: float = 10.0) -> int:
    """SIGKILL ``pid``, its descendants and their process groups; returns how many processes were killed."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    own = os.getpgrp()
    groups = set()
    for proc in procs:
        try:
            groups.add(os.getpgid(proc.pid))
        except ProcessLookupError:
            pass
    for group in groups - {own}:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for proc in procs:  # anything that shared our own group
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=grace)
    return len(procs)


def park_staging(settings: Settings, report: str, run_id: str, reason: str) -> str | None:
    """Move what a killed run left in staging to ``_failed`` (like the pipeline does); the partial notebook's path."""
    day = f"{datetime.now(timezone.utc):%Y-%m-%d}"
    folder = RunFolder(settings.outputs_dir, report, run_id, day)
    if not folder.staging.is_dir():
        return None
    parked = folder.park_failed(reason)
    notebook = parked / "report.ipynb"
    return str(notebook) if notebook.is_file() else None


def execute_in_child(settings: Settings, run_id: str, report: str, parameters: dict[str, Any], *, timeout: float,
                     on_start: Callable[[int], None] | None = None, cancel: threading.Event | None = None) -> Outcome:
    """Run one report attempt in a child process; kill its whole tree after ``timeout`` seconds or on ``cancel``."""
    workdir = settings.state_dir / "runs" / run_id
    workdir.mkdir(parents=True, exist_ok=True)
    request, result = workdir / "request.json", workdir / "result.json"
    request.write_text(json.dumps({"run_id": run_id, "report": report, "parameters": parameters}), encoding="utf-8")
    env = {**os.environ, RUN_ENV: run_id, "QUIRE_OUTPUTS": str(settings.outputs_dir), "QUIRE_HOME": str(settings.home)}
    with open(workdir / "child.log", "wb") as logfile:
        proc = subprocess.Popen([sys.executable, "-m", "quire.scheduler.child", str(request), str(result), str(os.getpid())],
                                stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT, env=env,
                                cwd=settings.home, start_new_session=True)
    if on_start:
        try:
            on_start(proc.pid)
        except Exception as exc:  # a state-database blip must not leave the child running unsupervised
            log.warning("run %s: could not record its start (%s); it runs on", run_id, exc)
    deadline = time.monotonic() + timeout
    stopped = None
    while proc.poll() is None:
        if cancel is not None and cancel.is_set():
            stopped = "cancelled"
        elif time.monotonic() >= deadline:
            stopped = "timed_out"
        if stopped:
            killed = kill_tree(proc.pid)
            proc.wait(timeout=10)
            log.warning("run %s %s; killed %d process(es)", run_id, stopped.replace("_", " "), killed)
            break
        try:
            proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    if stopped == "timed_out":
        reason = f"timed out: the run took longer than {timeout:g} s and was killed with its kernel"
        return Outcome("timed_out", error=reason, error_type="Timeout",
                       partial_notebook=park_staging(settings, report, run_id, reason))
    if stopped == "cancelled":
        reason = "cancelled: the scheduler stopped"
        return Outcome("cancelled", error=reason, error_type="ServiceStopped", transient=True,
                       partial_notebook=park_staging(settings, report, run_id, reason))
    if not result.is_file():
        # Killed by something else (OOM killer, a signal): not the notebook's own error, so worth another try.
        reason = f"the run process died (exit code {proc.returncode}); see {workdir / 'child.log'}"
        return Outcome("failed", error=reason, error_type="WorkerDied", transient=True,
                       partial_notebook=park_staging(settings, report, run_id, reason))
    data = json.loads(result.read_text(encoding="utf-8"))
    return Outcome(data["status"], output_folder=data.get("output_folder"), partial_notebook=data.get("partial_notebook"),
                   error=data.get("error"), error_type=data.get("error_type"), transient=bool(data.get("transient")))
