"""Faults during ``quire run``: a kernel (or warm run process) that dies, a full disk, a ``quire run`` that is killed.

Each through the real CLI, with both engines where the fault differs (the batch engine runs
the cells in the run's own process; papermill in a kernel), on small notebooks written here. Whatever
happens, the user reads one error line (no traceback), nothing is published, the partial
notebook is kept under ``outputs/_failed/`` with ``FAILED.txt``, and the run history ends
the run ``failed`` (at once, or at the next ``quire run``/``quire runs`` when the process
itself died).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from support import ROOT, notebook_home, published_runs, run_quire

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 120


def make_home(tmp_path: Path, cells: list[str], params: str = "pid_file: str = ''") -> Path:
    """A QUIRE_HOME whose catalog has one report, ``fault``, over a notebook of ``cells`` (after the parameters cell)."""
    name = params.split(":")[0]
    return notebook_home(
        tmp_path, "fault", [(params, ["parameters"]), *((src, []) for src in cells)],
        "reports:\n  fault:\n    title: Fault\n    notebook: notebooks/fault.ipynb\n    description: faults\n"
        f"    owner: ops@example.com\n    formats: [html, pdf]\n    parameters:\n      {name}: {{type: str}}\n")


def history(outputs: Path) -> list[dict]:
    from quire.state import open_state
    from quire.state import runs as runs_history

    return runs_history.query(open_state(f"sqlite:///{outputs / '.quire' / 'state.db'}"))


def assert_failed_cleanly(proc: subprocess.CompletedProcess, outputs: Path, message: str) -> Path:
    """One error line naming ``message`` and the kept notebook; nothing published; the run parked with FAILED.txt."""
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not published_runs(outputs, "fault")
    assert not list((outputs / ".quire" / "staging").glob("*"))
    [failed] = list(outputs.glob("_failed/fault/*/*"))
    assert str(failed / "report.ipynb") in lines[0]
    assert (failed / "FAILED.txt").is_file()
    return failed


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while not (path.is_file() and path.read_text().strip()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)
    return path.read_text().strip()


#: What the error line says when the process running the cells dies, per engine.
DIED = {"batch": "the run's process died while running ", "papermill": "the kernel died while running "}


@pytest.fixture
def fault_env(quire_env, tmp_path):
    return {**quire_env, "QUIRE_OUTPUTS": str(tmp_path / "outputs")}


@pytest.mark.parametrize("engine", list(DIED))
def test_a_kernel_killed_mid_run_fails_the_run_cleanly(engine, fault_env, tmp_path):
    home = make_home(tmp_path, [
        "import os, pathlib\nprint('first cell ran')\npathlib.Path(pid_file).write_text(str(os.getpid()))",
        # Says when it has started, so that the kill lands in this cell and not at the end of the first one.
        "import time\npathlib.Path(pid_file + '.sleeping').write_text('yes')\nfor _ in range(1200):\n    time.sleep(0.1)",
        "print('never reached')",
    ])
    env = {**fault_env, "QUIRE_HOME": str(home)}
    pid_file = tmp_path / "kernel.pid"
    proc = subprocess.Popen([sys.executable, "-m", "quire.cli", "run", "fault", "-p", f"pid_file={pid_file}",
                             "--engine", engine], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file(pid_file.with_name(pid_file.name + ".sleeping"), proc)
        os.kill(int(wait_for_file(pid_file, proc)), signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        proc.kill()
    outputs = Path(env["QUIRE_OUTPUTS"])
    failed = assert_failed_cleanly(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), outputs,
                                   DIED[engine])
    # The cell the kernel died in, named as in the analyst's notebook: the parameters cell is its first code cell.
    assert 'while running code cell 3 ("import time")' in stderr
    partial = nbformat.read(failed / "report.ipynb", as_version=4)
    assert "first cell ran" in str([cell.outputs for cell in partial.cells if "print('first" in cell.source])
    if engine == "papermill":
        assert "Kernel died" in (failed / "execution.log").read_text()  # the executor's own account, kept with the run
    [run] = history(outputs)
    assert run["status"] == "failed" and DIED[engine].split(" while")[0] in run["error"]
    assert run["partial_notebook"] == str(failed / "report.ipynb")


@pytest.mark.parametrize("engine", list(DIED))
def test_a_cell_that_ends_its_kernel_process_fails_the_run_cleanly(engine, fault_env, tmp_path):
    home = make_home(tmp_path, ["print('before')", "import os\nos._exit(0)", "print('never reached')"])
    env = {**fault_env, "QUIRE_HOME": str(home)}
    proc = run_quire(env, "run", "fault", "--engine", engine, timeout=RUN_TIMEOUT)
    outputs = Path(env["QUIRE_OUTPUTS"])
    assert_failed_cleanly(proc, outputs, DIED[engine])
    assert 'while running code cell 3 ("import os")' in proc.stderr
    [run] = history(outputs)
    assert run["status"] == "failed"


@pytest.mark.parametrize("engine", list(DIED))
def test_what_the_kernel_process_prints_stays_off_the_terminal(engine, fault_env, tmp_path):
    # The kernel logs "KeyboardInterrupt caught in kernel." when the executor interrupts it at
    # shutdown, and C libraries write straight to file descriptors 1 and 2: none of it is the user's business.
    kernel_log = "get_ipython().kernel.log.error('KeyboardInterrupt caught in kernel.')\n" if engine == "papermill" else ""
    home = make_home(tmp_path, [
        kernel_log + "import os\nos.write(2, b'Kernel is running over TCP without encryption.\\n')\n"
        "os.write(1, b'straight to fd 1\\n')\nprint('cell output')",
    ])
    env = {**fault_env, "QUIRE_HOME": str(home)}
    proc = run_quire(env, "run", "fault", "--engine", engine, timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "fd 1" not in proc.stdout
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "fault")
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "report.ipynb", "report.pdf", "run.json"]


@pytest.mark.parametrize("ids", ["missing", "repeated", "malformed"])
def test_a_notebook_without_good_cell_ids_validates_and_runs_without_library_warnings(fault_env, tmp_path, ids):
    # Notebooks written by a script (jupytext, a generator) often have no cell ids, or one copied from cell to
    # cell; nbformat mends them as it reads and warns each time, in two lines naming its own source file. An id it
    # does not accept ("bad id!") passed validate and failed every run's HTML export.
    home = make_home(tmp_path, ["print('cell output')", "print('more')"])
    notebook = home / "notebooks" / "fault.ipynb"
    raw = json.loads(notebook.read_text())
    for number, cell in enumerate(raw["cells"]):
        if ids == "missing":
            del cell["id"]
        else:
            cell["id"] = "same" if ids == "repeated" else f"bad id {number}!"
    notebook.write_text(json.dumps(raw))
    env = {**fault_env, "QUIRE_HOME": str(home)}
    checked = run_quire(env, "validate", timeout=RUN_TIMEOUT)
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
    proc = run_quire(env, "run", "fault", timeout=RUN_TIMEOUT)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "fault")
    archived = [cell.get("id") for cell in nbformat.read(folder / "report.ipynb", as_version=4).cells]
    assert all(archived) and len(set(archived)) == len(archived)


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (needs root); unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                                            capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_fails_the_run_with_one_line_and_the_history_catches_up(fault_env, tmp_path, small_disk):
    # The notebook's output is larger than the disk: saving the executed notebook fails half-way, and
    # with the disk full the run history (on the same disk) cannot record the end of the run either.
    home = make_home(tmp_path, ["print('x' * 4_000_000)", "print('never reached')"], params="label: str = 'big'")
    outputs = small_disk / "outputs"
    env = {**fault_env, "QUIRE_HOME": str(home), "QUIRE_OUTPUTS": str(outputs)}
    proc = run_quire(env, "run", "fault", timeout=RUN_TIMEOUT)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "No space left on device" in errors[0], proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2  # the error, and the warning that the end is not recorded
    assert not published_runs(outputs, "fault")
    assert not list((outputs / ".quire" / "staging").glob("*"))
    [failed] = list(outputs.glob("_failed/fault/*/*"))
    assert (failed / "report.ipynb").is_file()
    assert history(outputs)[0]["status"] == "running"  # the disk was full: the end could not be written
    (failed / "report.ipynb").unlink()  # the operator frees space
    listing = run_quire({**env, "COLUMNS": "100"}, "runs", timeout=60)
    assert listing.returncode == 0, listing.stderr
    [run] = history(outputs)
    assert run["status"] == "failed" and "interrupted" in run["error"]
    assert "failed" in listing.stdout and "running" not in listing.stdout


@pytest.mark.parametrize("engine", list(DIED))
def test_a_killed_quire_run_is_reconciled_by_the_next_one(engine, fault_env, tmp_path):
    home = make_home(tmp_path, [  # with pid_file=none the run is quick
        "import os, pathlib\nif pid_file != 'none':\n    pathlib.Path(pid_file).write_text(str(os.getpid()))",
        "import time\nfor _ in range(1200 if pid_file != 'none' else 0):\n    time.sleep(0.1)",
    ])
    env = {**fault_env, "QUIRE_HOME": str(home)}
    pid_file = tmp_path / "kernel.pid"
    proc = subprocess.Popen([sys.executable, "-m", "quire.cli", "run", "fault", "-p", f"pid_file={pid_file}",
                             "--engine", engine], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        kernel = int(wait_for_file(pid_file, proc))
        proc.kill()  # the `quire run` process dies; its kernel (or warm run process) is in its own session
        proc.wait(timeout=30)
    finally:
        proc.kill()
        try:
            os.kill(kernel, signal.SIGKILL)
        except (ProcessLookupError, NameError):
            pass
    outputs = Path(env["QUIRE_OUTPUTS"])
    assert history(outputs)[0]["status"] == "running"
    again = run_quire(env, "run", "fault", "-p", "pid_file=none", timeout=RUN_TIMEOUT)
    assert again.returncode == 0, again.stderr
    second, first = history(outputs)
    assert second["status"] == "succeeded"
    assert first["status"] == "failed" and "interrupted" in first["error"]
    assert first["partial_notebook"] and Path(first["partial_notebook"]).parent.parent.parent.name == "fault"
    assert (Path(first["partial_notebook"]).parent / "FAILED.txt").is_file()
