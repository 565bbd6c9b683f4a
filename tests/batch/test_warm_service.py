"""The warm service: with ``quire warm`` up, ``quire run`` hands its runs to it and keeps every guarantee.

Real processes throughout: the service, the commands, the runs they fork and the Chromium the
service keeps; the report is a small per-client notebook that sleeps as long as it is told.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import AuthenticationError, Client
from pathlib import Path

import psutil
import pytest

from quire import local_socket
from quire.batch.warm_service import ANSWER_TIMEOUT
from support import ROOT, published_runs, run_quire, wait_for
from support.runs import gone, history, slow_home, start_service, started_run, stop_service

pytestmark = pytest.mark.slow

CLIENTS = ("town-of-fairdale", "village-of-summerbrook")  # the tiny warehouse's two municipalities


@pytest.fixture
def env(quire_env, tmp_path) -> dict[str, str]:
    return {**quire_env, "QUIRE_HOME": str(slow_home(tmp_path)), "QUIRE_OUTPUTS": str(tmp_path / "outputs")}


def test_runs_of_quire_run_are_forked_by_the_warm_service_one_clean_process_each(env):
    service = start_service(env)
    try:
        single = run_quire(env, "run", "slow", "-p", f"client={CLIENTS[0]}")
        fan_out = run_quire(env, "run", "slow", "--clients", "sector=municipality")
        children = psutil.Process(service.pid).children(recursive=True)
        chromium = [p for p in children if "chrom" in p.name().lower()]  # the service's warm Chromium
    finally:
        logged = stop_service(service)
    assert single.returncode == 0 and fan_out.returncode == 0, single.stderr + fan_out.stderr
    assert "note:" not in single.stderr + fan_out.stderr  # the service was used, not refused
    outputs = Path(env["QUIRE_OUTPUTS"])
    rows = history(outputs)
    assert len(rows) == 3 and {r["status"] for r in rows} == {"succeeded"}
    for row in rows:  # the service ran each of them: it logs every run it forked, with its outcome
        assert f"slow {row['run_id']}: succeeded" in logged
    # Each run is a process of its own, forked from the same warm server: one client's run shows
    # nothing of the client run before it on that server.
    for folder in published_runs(outputs, "slow"):
        own = next(c for c in CLIENTS if folder.name.endswith(c))
        html = (folder / "report.html").read_text(encoding="utf-8")
        assert f"Report for <strong>{own}</strong>" in html
        for path in folder.iterdir():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [c for c in CLIENTS if c != own and c in text], (folder.name, path.name)
    assert chromium and all(gone(p) for p in children)  # it closes Chromium and its fork server when it stops


def test_a_command_killed_mid_run_takes_its_run_on_the_service_with_it_and_the_service_goes_on(env):
    service = start_service(env)
    try:
        cli = subprocess.Popen([sys.executable, "-m", "quire.cli", "run", "slow", "-p", f"client={CLIENTS[0]}",
                                "-p", "delay=60"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            run = started_run(service)
            assert cli.poll() is None
            cli.kill()
            cli.wait(timeout=10)
            wait_for(lambda: gone(run), timeout=15, message="the run to die with its command")
        finally:
            cli.kill()
        assert service.poll() is None  # one command's end is not the service's
        after = run_quire(env, "run", "slow", "-p", f"client={CLIENTS[1]}")
    finally:
        stop_service(service)
    assert after.returncode == 0, after.stderr
    outputs = Path(env["QUIRE_OUTPUTS"])
    [done] = [r["run_id"] for r in history(outputs) if r["status"] == "succeeded"]
    assert [p.name for p in published_runs(outputs, "slow")] == [done]
    parked = list((outputs / "_failed" / "slow").glob(f"*/*-{CLIENTS[0]}/FAILED.txt"))
    assert len(parked) == 1 and "cancelled: the command that started it ended" in parked[0].read_text()


def test_the_warm_service_gives_the_same_answers_to_mistakes_and_timeouts(env):
    mistakes = [("-p", "client=no-such-client"), ("-p", f"client={CLIENTS[0]}", "-p", "delay=soon"),
                ("-p", f"client={CLIENTS[0]}", "-p", "dealy=1"), ("-p", f"client={CLIENTS[0].upper()}")]
    alone = [run_quire(env, "run", "slow", *args) for args in mistakes]
    service = start_service(env)
    try:
        served = [run_quire(env, "run", "slow", *args) for args in mistakes]
        timed_out = run_quire({**env, "QUIRE_RUN_TIMEOUT": "5"}, "run", "slow", "-p", f"client={CLIENTS[0]}",
                              "-p", "delay=60")
    finally:
        stop_service(service)
    for here, there in zip(alone, served, strict=True):
        assert there.returncode == here.returncode == 2
        assert there.stderr == here.stderr and there.stderr.startswith("error: ") and "Traceback" not in there.stderr
    assert served[-1].stderr.strip().endswith(f"did you mean '{CLIENTS[0]}'?")  # the warehouse's key, from the service
    assert timed_out.returncode == 1
    assert timed_out.stderr.startswith("error: timed out: the run took longer than 5 s and was killed")
    [row] = history(Path(env["QUIRE_OUTPUTS"]))  # the mistakes never started a run
    assert row["status"] == "timed_out" and Path(row["partial_notebook"]).is_file()


def test_a_service_older_than_the_files_on_disk_is_not_used_and_stops(env):
    home = Path(env["QUIRE_HOME"])
    (home / "templates").unlink()  # a copy of the templates that this test may change
    shutil.copytree(ROOT / "templates", home / "templates")
    service = start_service(env)
    try:
        second = subprocess.run([sys.executable, "-m", "quire.cli", "warm"], env=env, cwd=ROOT, capture_output=True,
                                text=True, timeout=120)
        css = next((home / "templates").rglob("*.css"))
        os.utime(css, ns=(css.stat().st_atime_ns, css.stat().st_mtime_ns + 10**9))
        result = run_quire(env, "run", "slow", "-p", f"client={CLIENTS[0]}")
        service.wait(timeout=30)
    finally:
        stop_service(service)
    assert second.returncode == 1 and f"a warm service (pid {service.pid}) already serves" in second.stderr
    assert result.returncode == 0, result.stderr
    assert f"note: the warm service (pid {service.pid}) was not used: Quire's code, templates or packages changed" \
        in result.stderr.replace("\n", " ")
    assert len(published_runs(Path(env["QUIRE_OUTPUTS"]), "slow")) == 1  # run here instead
    assert not (Path(env["QUIRE_OUTPUTS"]) / ".quire" / "warm.json").exists()


def test_a_killed_service_leaves_no_process_behind_and_commands_run_alone(env):
    service = start_service(env)
    try:
        children = psutil.Process(service.pid).children(recursive=True)
        service.kill()
        service.wait(timeout=10)
        wait_for(lambda: all(gone(p) for p in children), timeout=15,
                 message="the fork server, Playwright's driver and Chromium to end with the killed service")
    finally:
        service.kill()
    address = Path(env["QUIRE_OUTPUTS"]) / ".quire" / "warm.json"
    assert address.stat().st_mode & 0o077 == 0  # its address (with the key) is its user's only, and stays behind...
    result = run_quire(env, "run", "slow", "-p", f"client={CLIENTS[0]}")
    assert result.returncode == 0, result.stderr  # ...and is passed over without a word
    assert "note:" not in result.stderr and len(published_runs(Path(env["QUIRE_OUTPUTS"]), "slow")) == 1


def test_a_silent_or_stray_peer_and_a_stopped_service_hold_up_no_command(env):
    service = start_service(env)
    address = json.loads((Path(env["QUIRE_OUTPUTS"]) / ".quire" / "warm.json").read_text(encoding="utf-8"))
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(address["path"])  # connects and never says a word: it held up every connection after it
    try:
        served = run_quire(env, "run", "slow", "-p", f"client={CLIENTS[0]}", timeout=120)
        # (after that run, which bounds the wait for a service held up by the silent peer)
        with pytest.raises(AuthenticationError):
            Client(address["path"], family="AF_UNIX", authkey=b"not the key")
        for stray in (42, ("run",), ("run", {"no": "stamp"})):
            with local_socket.connect(address["path"], address["key"], timeout=30) as conn:
                conn.send(stray)
                assert conn.poll(30) and conn.recv() == ("refused", "not a request of `quire run`")
        os.kill(service.pid, signal.SIGSTOP)  # Ctrl-Z: its socket still takes connections, nothing answers them
        try:
            alone = run_quire(env, "run", "slow", "-p", f"client={CLIENTS[1]}", timeout=120)
        finally:
            os.kill(service.pid, signal.SIGCONT)
    finally:
        silent.close()
        logged = stop_service(service)
    assert served.returncode == 0 and "note:" not in served.stderr, served.stderr
    assert alone.returncode == 0, alone.stderr
    assert (f"note: the warm service (pid {service.pid}) did not answer within {ANSWER_TIMEOUT} s (stopped with "
            f"Ctrl-Z? `kill -CONT {service.pid}` resumes it); running here instead") in alone.stderr.replace("\n", " ")
    by_client = {row["client"]: row["run_id"] for row in history(Path(env["QUIRE_OUTPUTS"]))}
    assert f"slow {by_client[CLIENTS[0]]}: succeeded" in logged and by_client[CLIENTS[1]] not in logged
    assert "Traceback" not in logged


def test_a_service_stopped_mid_run_holds_its_command_up_no_longer_than_the_runs_timeout(env, settings_for, monkeypatch):
    """Ctrl-Z on ``quire warm`` while a command's run is in flight: the run's own process (a session of its own)
    goes on and publishes, but the service cannot say so. The command (its executor, here in this process) waited
    for the stopped service for ever; now, past the run's timeout and a grace, it ends the run as what it became
    (published), and a validation call to the stopped service is bounded too."""
    import threading

    from quire.archive import new_run_id
    from quire.batch import warm_service
    from quire.batch.runner import RunRequest
    from quire.batch.warm_service import WarmServiceError
    from support.runs import run_processes

    settings = settings_for(env)
    monkeypatch.setattr(warm_service, "RUN_ANSWER_GRACE", 3)
    monkeypatch.setattr(warm_service, "CALL_TIMEOUT", 1)
    monkeypatch.setattr(warm_service, "ANSWER_TIMEOUT", 1)
    service = start_service(env)
    try:
        executor, why = warm_service.find(settings)
        assert executor is not None, why
        request = RunRequest(new_run_id(), "slow", {"client": CLIENTS[0], "delay": 3})
        ended = {}
        thread = threading.Thread(target=lambda: ended.update(outcome=executor.run(request, settings, timeout=8)),
                                  daemon=True)
        thread.start()
        wait_for(lambda: run_processes(f"quire-run {request.run_id}"), timeout=60, interval=0.1, message="the run")
        os.kill(service.pid, signal.SIGSTOP)
        try:
            thread.join(timeout=60)
            assert not thread.is_alive(), "the command still waits for the stopped service"
            with pytest.raises(WarmServiceError) as silent:
                executor.call(os.getpid, (), settings)
        finally:
            os.kill(service.pid, signal.SIGCONT)
    finally:
        stop_service(service)
    outcome = ended["outcome"]
    assert outcome.status == "succeeded", outcome.error
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "slow")
    assert outcome.output_folder == str(folder) and folder.name == request.run_id
    assert silent.value.message == (f"the warm service (pid {service.pid}) did not answer (stopped with Ctrl-Z? "
                                    f"`kill -CONT {service.pid}` resumes it)")


def _left_behind(result: subprocess.CompletedProcess) -> int:
    """The pid of the warm service a ``quire run`` said it left behind."""
    assert result.returncode == 0, result.stderr
    found = re.search(r"a warm service \(pid (\d+)\) now keeps Quire ready", result.stderr.replace("\n", " "))
    assert found, result.stderr
    return int(found.group(1))


def _session(pid: int) -> list[int]:
    """The processes of the session ``pid`` leads."""
    return [p for p in psutil.pids() if _sid(p) == pid]


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def test_a_run_leaves_a_warm_service_that_runs_the_next_ones_and_stops_once_idle(env):
    env = {**env, "QUIRE_WARM_LINGER": "15"}
    state = Path(env["QUIRE_OUTPUTS"]) / ".quire"
    pid = _left_behind(run_quire(env, "run", "slow", "--clients", "sector=municipality"))
    try:
        assert _sid(pid) == pid  # a session of its own: a Ctrl-C in the command's terminal does not reach it
        waited = run_quire(env, "warm", "--wait")
        assert waited.returncode == 0 and f"the warm service (pid {pid}) is ready" in waited.stdout, waited.stderr
        assert json.loads((state / "warm.json").read_text())["pid"] == pid
        single = run_quire(env, "run", "slow", "-p", f"client={CLIENTS[1]}")
        fan_out = run_quire(env, "run", "slow", "--clients", "sector=municipality")
        logged = (state / "warm.log").read_text(encoding="utf-8")
        psutil.Process(pid).wait(timeout=15 + 60)  # idle for its 15 s, it stops by itself
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    assert single.returncode == 0 and fan_out.returncode == 0, single.stderr + fan_out.stderr
    assert "note:" not in single.stderr + fan_out.stderr  # it was used, and no second service was left
    rows = history(Path(env["QUIRE_OUTPUTS"]))
    assert len(rows) == 5 and {r["status"] for r in rows} == {"succeeded"}
    for row in rows[:3]:  # the three runs after the first command's two: forked by the service
        assert f"slow {row['run_id']}: succeeded" in logged
    assert "no command used this warm service for 15 s: stopping" in (state / "warm.log").read_text(encoding="utf-8")
    assert not (state / "warm.json").exists()
    wait_for(lambda: not _session(pid), timeout=15, message="the service's fork server and Chromium to end with it")


def test_quire_warm_stop_ends_a_service_left_behind_even_while_it_warms_up(env):
    env = {**env, "QUIRE_WARM_LINGER": "600"}
    lock = Path(env["QUIRE_OUTPUTS"]) / ".quire" / "warm.lock"
    pid = _left_behind(run_quire(env, "run", "slow", "-p", f"client={CLIENTS[0]}"))
    try:
        # The command handed the outputs' lock to the service it started: held, and naming it, from the start.
        assert lock.read_text() == str(pid)
        refused = run_quire(env, "warm")  # a second service for the same outputs
        stopped = run_quire(env, "warm", "--stop")
        wait_for(lambda: not _session(pid), timeout=15, message="every process of the stopped service to end")
        again = run_quire(env, "warm", "--stop")
        waited = run_quire(env, "warm", "--wait")
        both = run_quire(env, "warm", "--stop", "--wait")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    assert refused.returncode == 1 and f"a warm service (pid {pid}) already serves" in refused.stderr
    assert stopped.returncode == 0 and f"stopped the warm service (pid {pid})" in stopped.stdout, stopped.stderr
    assert again.returncode == 0 and "no warm service serves" in again.stdout
    assert waited.returncode == 0 and "no warm service serves" in waited.stdout, waited.stderr
    assert both.returncode == 2 and "give one of them" in both.stderr
    assert not history(Path(env["QUIRE_OUTPUTS"]))[0]["error"]  # the first run itself was not disturbed


def test_a_lock_file_that_cannot_be_opened_is_said_plainly(env):
    (Path(env["QUIRE_OUTPUTS"]) / ".quire" / "warm.lock").mkdir(parents=True)  # a folder where the file should be
    started = run_quire(env, "warm")
    stopped = run_quire(env, "warm", "--stop")
    for result in (started, stopped):
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.startswith("error: cannot open the warm service's lock file "), result.stderr
        assert "Traceback" not in result.stderr
