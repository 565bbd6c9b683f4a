"""Nothing a run started outlives it: whether it succeeded, a cell timed out, or its command was killed.

A cell starts two ``sleep`` processes, one in the run's process group and one in a session of its
own (as a daemon, a driver or a kernel's helper does). Through the real ``quire run``, with both engines.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from support import ROOT, notebook_home, run_quire, wait_for
from support.runs import gone

pytestmark = pytest.mark.slow

SPAWN = ("import pathlib, subprocess\n"
         "same = subprocess.Popen(['sleep', '300'])\n"
         "alone = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
         "pathlib.Path(pid_file).write_text(f'{same.pid} {alone.pid}')")


@pytest.fixture
def spawn_env(quire_env, tmp_path) -> dict[str, str]:
    """A ``quire run`` environment whose report ``spawn`` starts the two children, then sleeps ``hold`` seconds."""
    home = notebook_home(
        tmp_path, "spawn", [("pid_file: str = ''\nhold: float = 0.0", ["parameters"]), (SPAWN, []),
                            ("import time\ntime.sleep(hold)", [])],
        "reports:\n  spawn:\n    title: Spawn\n    notebook: notebooks/spawn.ipynb\n    description: d\n"
        "    owner: o@example.com\n    formats: [html]\n    parameters:\n"
        "      pid_file: {type: str}\n      hold: {type: float, min: 0, max: 300}\n")
    return {**quire_env, "QUIRE_HOME": str(home), "QUIRE_OUTPUTS": str(tmp_path / "outputs")}


def started_children(pid_file: Path, cli: subprocess.Popen) -> list[psutil.Process]:
    """The two processes the run's cell started, once it has (as psutil handles, taken while they run)."""
    def written() -> str:
        assert cli.poll() is None, cli.communicate()
        return pid_file.is_file() and pid_file.read_text()

    return [psutil.Process(int(pid)) for pid in wait_for(written, timeout=120, interval=0.1,
                                                          message="the cell to start its children").split()]


def assert_all_gone(procs: list[psutil.Process]) -> None:
    wait_for(lambda: all(gone(p) for p in procs), timeout=15, message="the run's child processes to end")


@pytest.mark.parametrize("engine", ["batch", "papermill"])
def test_a_successful_run_leaves_no_process_behind(engine, spawn_env, tmp_path):
    pid_file = tmp_path / "children"
    proc = run_quire(spawn_env, "run", "spawn", "-p", f"pid_file={pid_file}", "--engine", engine, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for child in [int(pid) for pid in pid_file.read_text().split()]:  # gone by the time the command has ended
        assert not psutil.pid_exists(child) or gone(psutil.Process(child)), child


@pytest.mark.parametrize("engine", ["batch", "papermill"])
def test_a_cell_timeout_kills_what_the_cell_started(engine, spawn_env, tmp_path):
    pid_file = tmp_path / "children"
    # Every cell has this long: a kernel's first cell imports for seconds on a busy machine.
    env = {**spawn_env, "QUIRE_EXECUTION_TIMEOUT": "10"}
    cli = subprocess.Popen([sys.executable, "-m", "quire.cli", "run", "spawn", "-p", f"pid_file={pid_file}",
                            "-p", "hold=60", "--engine", engine], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        procs = started_children(pid_file, cli)
        _, stderr = cli.communicate(timeout=120)
    finally:
        cli.kill()
    assert cli.returncode == 1 and "ran longer than 10 s" in stderr, stderr
    assert_all_gone(procs)


def test_a_killed_quire_run_takes_what_its_run_started_with_it(spawn_env, tmp_path):
    pid_file = tmp_path / "children"
    cli = subprocess.Popen([sys.executable, "-m", "quire.cli", "run", "spawn", "-p", f"pid_file={pid_file}",
                            "-p", "hold=60"], env=spawn_env, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        procs = started_children(pid_file, cli)
        time.sleep(0.5)
        cli.kill()  # SIGKILL: nothing of the command gets to clean up
        cli.wait(timeout=10)
    finally:
        cli.kill()
    assert_all_gone(procs)
