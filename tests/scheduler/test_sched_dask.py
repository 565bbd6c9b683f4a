"""Runs on a real Dask cluster: a scheduler and two workers on 127.0.0.1, started by the test.

The service's Runner submits each run to Dask (``QUIRE_DASK_SCHEDULER``); each Dask worker runs
it as a local batch does (forked from its warm server). A Dask worker SIGKILLed in the middle
of a run takes the run's process with it; Dask runs the task again on the other worker, and
the run is still published once, recorded once and e-mailed once, with no process left over.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest
from sched_support import CATALOG_HEAD, MUNICIPALITIES, client_report, free_port, processes_of_run, wait_for
from support import silent_server, within

from quire.scheduler.jobs import Runner
from quire.state import open_state
from quire.state import runs as history

pytestmark = pytest.mark.slow
DASK = str(Path(sys.executable).parent / "dask")  # the venv's `dask` command (scheduler, worker)


class Cluster:
    """`dask scheduler` and `dask worker` processes; every one killed (with its children) at the end."""

    def __init__(self, env: dict[str, str], logs: Path, workers: int = 2) -> None:
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        # Dask workers are daemonic by default, and a daemonic process may not start the run's processes.
        self.env = {**env, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
        self.procs: list[subprocess.Popen] = []
        self._start("scheduler", logs / "scheduler.log", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
        for n in range(workers):
            self._start("worker", logs / f"worker{n}.log", self.address, "--host", "127.0.0.1", "--nthreads", "1",
                        "--no-dashboard", "--name", f"w{n}")

    def _start(self, role: str, log: Path, *args: str) -> None:
        handle = open(log, "ab")
        self.procs.append(subprocess.Popen([DASK, role, *args], env=self.env, stdout=handle,
                                           stderr=subprocess.STDOUT, start_new_session=True))

    def workers_ready(self, count: int) -> bool:
        from distributed import Client

        with Client(self.address, timeout=10) as client:
            return len(client.scheduler_info()["workers"]) >= count

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)


def _schedule(delay: float) -> str:
    return (f"    schedule:\n      interval_minutes: 60\n      clients: {{sector: municipality}}\n"
            f"      timeout_seconds: 120\n      parameters: {{delay: {delay}}}\n")


@pytest.fixture
def dask_runner(make_env, state_url, smtp, settings_for, tmp_path):
    env = make_env(CATALOG_HEAD + client_report(schedule=_schedule(8)), state_url, smtp.port)
    cluster = Cluster(env, tmp_path)
    try:
        wait_for(lambda: cluster.workers_ready(2), timeout=120, interval=1, message="two Dask workers")
        settings = settings_for({**env, "QUIRE_DASK_SCHEDULER": cluster.address})
        runner = Runner(settings, open_state(state_url), "dask-runner", scheduler=None)
        yield runner, cluster
        runner.stop()
        runner.executor.close()
    finally:
        cluster.stop()


def _worker_of(pid: int, cluster: Cluster) -> psutil.Process | None:
    """The Dask worker process a run process descends from (run → fork server → worker)."""
    roots = {p.pid for p in cluster.procs}
    try:
        proc = psutil.Process(pid)
        chain = proc.parents()
    except psutil.Error:
        return None
    for i, parent in enumerate(chain):
        if i + 1 < len(chain) and chain[i + 1].pid in roots:  # the nanny we started is its parent
            return parent
    return None


def test_a_killed_dask_worker_has_its_run_done_elsewhere_once(dask_runner, state_url, smtp, tiny_warehouse):
    runner, cluster = dask_runner
    thread = threading.Thread(target=runner.fire, args=("clientmail",))
    thread.start()

    staging = runner.settings.outputs_dir / ".quire" / "staging"

    def running_run():  # a run that is staging its files in a process of a Dask worker
        rows = [r for r in history.query(runner.engine) if r["status"] == "running"]
        for row in rows:
            if not list(staging.glob(f"{row['run_id']}.*")):
                continue
            for pid in processes_of_run(row["run_id"]):
                worker = _worker_of(pid, cluster)
                if worker is not None:
                    return row["run_id"], worker
        return None

    run_id, worker = wait_for(running_run, timeout=180, interval=0.5, message="a run in progress on a Dask worker")
    worker.send_signal(signal.SIGKILL)
    thread.join(timeout=400)
    assert not thread.is_alive()

    rows = [r for r in history.query(runner.engine) if r["report"] == "clientmail"]
    assert {r["client"] for r in rows} == MUNICIPALITIES
    assert all(r["status"] == "succeeded" for r in rows), [(r["client"], r["status"], r["error"]) for r in rows]
    outputs = runner.settings.outputs_dir
    for row in rows:  # published once: one folder per run id, nothing left in staging
        assert len(list((outputs / "clientmail").glob(f"*/{row['run_id']}"))) == 1
    assert not list(staging.glob("*"))
    # What the killed execution had staged is kept with the failed runs, saying what happened to it.
    [parked] = (outputs / "_failed" / "clientmail").glob(f"*/{run_id}*")
    assert "Dask worker died" in (parked / "FAILED.txt").read_text()
    # Each client's contact got its report once; the killed run's process is gone.
    wait_for(lambda: len(smtp.messages) >= len(rows), timeout=60, message="the reports' e-mails")
    sent = smtp.by_run()
    assert sorted(sent.values()) == [1] * len(rows), sent
    assert {key[0] for key in sent} == {r["run_id"] for r in rows}
    wait_for(lambda: not processes_of_run(run_id), timeout=30, message="the killed run's processes to exit")


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_runs_published_while_the_scheduler_stopped_answering_are_recorded_as_published(dask_runner, state_url, smtp,
                                                                                          monkeypatch):
    """The Dask scheduler is stopped (SIGSTOP) while both runs are on workers. They finish and publish there; the
    batch gives up waiting for the scheduler past its bound and records each run as what it became: succeeded
    with its folder, e-mailed once (it used to record them timed out beside their published reports)."""
    from quire.batch import dask as dask_executor

    runner, cluster = dask_runner
    monkeypatch.setattr(dask_executor, "WAIT_FACTOR", 0)  # the bound from submission: WAIT_GRACE alone
    monkeypatch.setattr(dask_executor, "WAIT_GRACE", 45)
    thread = threading.Thread(target=runner.fire, args=("clientmail",))
    thread.start()

    def both_on_workers():
        running = [r["run_id"] for r in history.query(runner.engine) if r["status"] == "running"]
        on_workers = [run_id for run_id in running
                      if any(_worker_of(pid, cluster) for pid in processes_of_run(run_id))]
        return len(on_workers) == len(MUNICIPALITIES) or None

    scheduler = cluster.procs[0]
    try:
        wait_for(both_on_workers, timeout=180, interval=0.5, message="both runs in progress on Dask workers")
        os.killpg(scheduler.pid, signal.SIGSTOP)
        thread.join(timeout=120)
        assert not thread.is_alive()
    finally:
        os.killpg(scheduler.pid, signal.SIGCONT)  # so that the teardown's client can say goodbye
        thread.join(timeout=120)

    rows = [r for r in history.query(runner.engine) if r["report"] == "clientmail"]
    assert {r["client"] for r in rows} == MUNICIPALITIES
    assert all(r["status"] == "succeeded" for r in rows), [(r["client"], r["status"], r["error"]) for r in rows]
    for row in rows:
        [folder] = (runner.settings.outputs_dir / "clientmail").glob(f"*/{row['run_id']}")
        assert row["output_folder"] == str(folder) and (folder / "report.pdf").is_file()
    wait_for(lambda: len(smtp.messages) >= len(rows), timeout=60, message="the reports' e-mails")
    assert sorted(smtp.by_run().values()) == [1] * len(rows)


def test_something_at_the_scheduler_address_that_never_answers_is_a_clear_error_not_a_hang(monkeypatch):
    # distributed waits for ever for the handshake of a peer that takes the connection and says nothing
    # (something else listening on that port, or a hung scheduler): `quire run` hung with it.
    from quire.batch import dask as dask_executor
    from quire.errors import ConfigError

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 2)
    with silent_server() as port:
        address = f"tcp://127.0.0.1:{port}"
        refused = within(60, lambda: dask_executor.DaskExecutor(address).client, "the connection to Dask")
    assert isinstance(refused, ConfigError)
    assert refused.message == f"the Dask scheduler at {address} took the connection but did not answer within 3 s"
    assert "QUIRE_DASK_SCHEDULER" in refused.hint


def test_a_fan_out_to_a_dask_scheduler_out_of_reach_records_no_run(quire_env, settings_for, monkeypatch, tmp_path,
                                                                       capfd):
    # Its runs were recorded as running before the connection failed and never ended: the next `quire runs`
    # called them "interrupted: `quire run` died", and the cause reached no history row.
    from quire import cli
    from quire.batch import dask as dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 2)
    state = f"sqlite:///{tmp_path / 'state.db'}"
    with silent_server() as port:
        settings_for({**quire_env, "QUIRE_DASK_SCHEDULER": f"tcp://127.0.0.1:{port}", "QUIRE_STATE_URL": state})
        monkeypatch.setattr(sys, "argv", ["quire", "run", "client", "--clients", "sector=municipality",
                                          "-p", "period=2026-10"])
        code = within(60, cli._run_app, "the refused fan-out")
    assert code == 2 and f"the Dask scheduler at tcp://127.0.0.1:{port} took the connection but did not answer" in \
        " ".join(capfd.readouterr().err.split())
    assert history.query(open_state(state)) == []


def test_a_run_the_executor_fails_to_send_is_recorded_with_its_own_cause(quire_env, settings_for, tmp_path):
    # An executor that broke (a cluster lost between runs) raised out of the batch: its runs stayed "running", and
    # the next command called them "interrupted: `quire run` died".
    from quire import cli
    from quire.errors import ConfigError
    from quire.pipeline import prepare_runs

    class LostCluster:
        name = "lost"

        def connect(self) -> None:
            pass

        def run(self, request, settings, *, timeout, cancel=None, on_start=None):
            raise ConfigError(f"the Dask scheduler went away before {request.run_id}")

    state = f"sqlite:///{tmp_path / 'state.db'}"
    settings = settings_for({**quire_env, "QUIRE_STATE_URL": state})
    plans, _, _ = prepare_runs([("client", {"period": "2026-10", "client": slug}, True)
                                for slug in sorted(MUNICIPALITIES)], settings, False)
    assert cli._run_plans(plans, workers=2, engine="batch", executor=LostCluster()) == len(MUNICIPALITIES)
    rows = history.query(open_state(state))
    assert sorted(r["client"] for r in rows) == sorted(MUNICIPALITIES)
    assert all((r["status"], r["error"], r["error_type"]) ==
               ("failed", f"the Dask scheduler went away before {r['run_id']}", "ConfigError") for r in rows), rows
