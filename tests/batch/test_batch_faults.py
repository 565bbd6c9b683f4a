"""Faults on the fast path: the warm worker killed mid-batch, a run over its wall-clock timeout.

Through the real ``quire run`` on a small fan-out notebook that takes a few seconds per client.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, published_runs, wait_for
from support.runs import gone, history, run_processes, slow_home, started_run

pytestmark = pytest.mark.slow


def test_a_killed_quire_run_takes_its_run_and_warm_server_with_it(quire_env, tmp_path):
    # The run sleeps a minute: if anything kept it alive, it would still be there when the wait ends.
    env = {**quire_env, "QUIRE_HOME": str(slow_home(tmp_path)), "QUIRE_OUTPUTS": str(tmp_path / "outputs")}
    cli = subprocess.Popen([sys.executable, "-m", "quire.cli", "run", "slow", "-p", "client=town-of-fairdale",
                            "-p", "delay=60"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run = started_run(cli)
        server = run.parent()
        cli.kill()
        cli.wait(timeout=10)
        wait_for(lambda: gone(server) and gone(run), timeout=15,
                 message="the run and its warm server to die with the command")
    finally:
        cli.kill()
    assert not published_runs(Path(env["QUIRE_OUTPUTS"]), "slow")


def test_ctrl_c_cancels_the_run_without_a_traceback(quire_env, tmp_path):
    # Ctrl-C reaches the whole process group: the warm server's imports ended in a KeyboardInterrupt traceback, and
    # the run was recorded "failed: the run's process died".
    env = {**quire_env, "QUIRE_HOME": str(slow_home(tmp_path)), "QUIRE_OUTPUTS": str(tmp_path / "outputs")}
    cli = subprocess.Popen([sys.executable, "-m", "quire.cli", "run", "slow", "-p", "client=town-of-fairdale",
                            "-p", "delay=60"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True,  # its own group, as a terminal's foreground job
                           # A job started in the background inherits an ignored SIGINT: a terminal's is not.
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        run = started_run(cli)
        server = run.parent()
        os.killpg(cli.pid, signal.SIGINT)
        _, stderr = cli.communicate(timeout=60)
        wait_for(lambda: gone(server) and gone(run), timeout=15, message="the run and its warm server to end")
    finally:
        cli.kill()
    assert cli.returncode == 130 and "Traceback" not in stderr, stderr
    [row] = history(Path(env["QUIRE_OUTPUTS"]))
    assert row["status"] == "cancelled" and row["error"].startswith("cancelled: interrupted (Ctrl-C)"), row
    assert not published_runs(Path(env["QUIRE_OUTPUTS"]), "slow")


def test_a_warm_worker_killed_mid_batch_fails_its_run_once_and_the_batch_goes_on(quire_env, tmp_path):
    env = {**quire_env, "QUIRE_HOME": str(slow_home(tmp_path)), "QUIRE_OUTPUTS": str(tmp_path / "outputs")}
    cli = subprocess.Popen([sys.executable, "-m", "quire.cli", "run", "slow", "--clients", "sector=municipality",
                            "-p", "delay=4", "--workers", "1"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        run = started_run(cli)
        server = run.parent()  # the warm fork server the run was forked from
        killed_run = run.cmdline()[0].split()[1]
        server.kill()
        stdout, stderr = cli.communicate(timeout=300)
    finally:
        cli.kill()
    assert cli.returncode == 1, stderr
    assert "Traceback" not in stderr
    outputs = Path(env["QUIRE_OUTPUTS"])
    rows = {r["run_id"]: r for r in history(outputs)}
    assert len(rows) == 2 and rows[killed_run]["status"] == "failed"
    assert "process died" in rows[killed_run]["error"]
    [other] = [r for r in rows.values() if r["run_id"] != killed_run]
    assert other["status"] == "succeeded"  # a new warm server took the rest of the batch
    assert [p.name for p in published_runs(outputs, "slow")] == [other["run_id"]]
    assert "1 of 2 runs succeeded" in stdout
    assert not [p for p in run_processes(f"quire-run {killed_run}")]


def test_a_run_over_the_wall_clock_timeout_is_killed_and_recorded(quire_env, tmp_path):
    env = {**quire_env, "QUIRE_HOME": str(slow_home(tmp_path)), "QUIRE_OUTPUTS": str(tmp_path / "outputs"),
           "QUIRE_RUN_TIMEOUT": "6"}
    proc = subprocess.run([sys.executable, "-m", "quire.cli", "run", "slow", "-p", "client=town-of-fairdale",
                           "-p", "delay=60"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: timed out: the run took longer than 6 s and was killed (raise "
                                  "QUIRE_RUN_TIMEOUT if it needs longer)")
    outputs = Path(env["QUIRE_OUTPUTS"])
    [row] = history(outputs)
    assert row["status"] == "timed_out" and row["partial_notebook"]
    assert Path(row["partial_notebook"]).is_file() and not published_runs(outputs, "slow")
    # The run's log, empty, was kept beside it: an empty file said nothing and read as if it held the cause.
    assert not [p for p in Path(row["partial_notebook"]).parent.iterdir() if p.stat().st_size == 0]
    assert not run_processes(f"quire-run {row['run_id']}")


def test_a_run_given_up_is_recorded_as_published_if_it_was_and_else_cannot_publish_later(tmp_path, tiny_warehouse):
    """What a lost or given-up run ends as (its process gone, its Dask scheduler silent): its published outcome
    when an execution published it meanwhile; otherwise the reason, verbatim even with braces from an error's
    text, and its staging parked, so that an execution still going somewhere cannot publish it afterwards."""
    import json

    from quire.archive import RunFolder
    from quire.batch.runner import RunRequest, lost_run_outcome
    from quire.config import Settings

    settings = Settings(outputs=tmp_path / "outputs", warehouse_url=tiny_warehouse)
    published = RunFolder(settings.outputs_dir, "client", "20261205T010000Z-aaaaaa-x", "2026-12-05")
    (published.create() / "run.json").write_text(json.dumps({"headline": [{"name": "views", "value": 3}],
                                                              "timings": {"total": 1.5},
                                                              "parameters": {"client": "x"}}), encoding="utf-8")
    folder = published.publish()
    lingering = RunFolder(settings.outputs_dir, "client", published.run_id, "2026-12-05")  # another execution's
    lingering.create()
    outcome = lost_run_outcome(settings, RunRequest(published.run_id, "client", {}), "timed_out", "Timeout",
                               "timed out waiting for the Dask cluster")
    assert (outcome.status, outcome.output_folder) == ("succeeded", str(folder))
    assert not lingering.staging.exists() and (folder / "run.json").is_file()  # parked; the published one stays
    assert (outcome.headline, outcome.parameters) == ([{"name": "views", "value": 3}], {"client": "x"})

    going = RunFolder(settings.outputs_dir, "client", "20261205T010000Z-bbbbbb-y", "2026-12-05")
    going.create()
    outcome = lost_run_outcome(settings, RunRequest(going.run_id, "client", {}), "failed", "KeyError",
                               "Dask: KeyError: {'key': 1}{where}")
    assert (outcome.status, outcome.error) == ("failed", "Dask: KeyError: {'key': 1}")
    with pytest.raises(OSError):
        going.publish()
    assert not list((settings.outputs_dir / "client").glob(f"*/{going.run_id}"))
    assert list((settings.outputs_dir / "_failed" / "client").glob(f"*/{going.run_id}"))


def test_each_run_writes_its_profile_where_quire_profile_dir_says(quire_env, tmp_path):
    # Where a run's time goes, for the operator and bench/: py-spy misses most of processes that live a second.
    import pstats

    env = {**quire_env, "QUIRE_HOME": str(slow_home(tmp_path)), "QUIRE_OUTPUTS": str(tmp_path / "outputs"),
           "QUIRE_PROFILE_DIR": str(tmp_path / "profiles")}
    proc = subprocess.run([sys.executable, "-m", "quire.cli", "run", "slow", "--clients", "sector=municipality",
                           "-p", "delay=0"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    runs = {r["run_id"] for r in history(Path(env["QUIRE_OUTPUTS"]))}
    assert len(runs) == 2 and {p.stem for p in (tmp_path / "profiles").glob("*.prof")} == runs
    for profile in (tmp_path / "profiles").glob("*.prof"):
        called = {name for _, _, name in pstats.Stats(str(profile)).stats}
        assert {"run_request", "execute_notebook"} <= called, sorted(called)[:20]
    # A profile that cannot be written (no folder can be made in /proc): the runs stay published and recorded as
    # succeeded (the command said "failed" while the archive held both runs, succeeded).
    proc = subprocess.run([sys.executable, "-m", "quire.cli", "run", "slow", "--clients", "sector=municipality",
                           "-p", "delay=0"], env={**env, "QUIRE_PROFILE_DIR": "/proc/quire-profiles"}, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("its profile was not written to QUIRE_PROFILE_DIR") == 2, proc.stderr
    statuses = [r["status"] for r in history(Path(env["QUIRE_OUTPUTS"])) if r["run_id"] not in runs]
    assert statuses == ["succeeded", "succeeded"]
