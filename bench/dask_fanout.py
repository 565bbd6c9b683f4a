"""Benchmark: a client fan-out through a real Dask cluster (a scheduler and two workers on 127.0.0.1) vs the local pool.

    .venv/bin/python bench/dask_fanout.py [--clients 29] [--scale demo] [--reps 2]

Both paths run the same client reports (HTML + PDF each) with the batch engine; the Dask
path submits each run to the cluster, where each worker forks it from its own warm server
(scheduler/DASK.md). On one machine the cluster cannot be faster than the local pool (same
cores, plus the cluster's own traffic): the figures show what the distribution costs,
before it pays off across machines. Printed: seconds per report, reports per minute, and
the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DASK = str(Path(sys.executable).parent / "dask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(work: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    port = free_port()
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=open(work / "scheduler.log", "wb"), stderr=subprocess.STDOUT,
                              start_new_session=True)]
    address = f"tcp://127.0.0.1:{port}"
    for n in range(workers):
        procs.append(subprocess.Popen([DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                       "--no-dashboard", "--name", f"w{n}"], env=env,
                                      stdout=open(work / f"worker{n}.log", "wb"), stderr=subprocess.STDOUT,
                                      start_new_session=True))
    from distributed import Client

    deadline = time.monotonic() + 120
    while True:
        try:
            with Client(address, timeout=5) as client:
                if len(client.scheduler_info()["workers"]) >= workers:
                    return address, procs
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("the Dask cluster did not come up in 120 s")
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=29)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="quire-dask-"))
    os.environ.update(QUIRE_OUTPUTS=str(work / "outputs"), QUIRE_WAREHOUSE_URL=f"duckdb:///{work}/warehouse.duckdb")
    from quire.batch import RunRequest, run_batch
    from quire.batch.dask import DaskExecutor
    from quire.batch.runner import ForkExecutor
    from quire.config import get_settings
    from quire.pipeline import Preparer, fan_out_clients
    from quire.state.runs import make_run_id
    from quire.warehouse.load import build_warehouse

    settings = get_settings()
    build_warehouse(settings.warehouse, scale=args.scale, seed=7)
    with Preparer(settings) as preparer:
        plans = [preparer.prepare("client", {"client": slug}) for slug in fan_out_clients({}, settings)[:args.clients]]
    address, procs = start_cluster(work, 2)
    dask = DaskExecutor(address)
    times: dict[str, list[float]] = {"local pool": [], "Dask, 2 workers": []}
    try:
        for rep in range(args.reps + 1):  # the first repetition warms both (fork servers, browsers) and is not counted
            for name, executor in (("local pool", ForkExecutor()), ("Dask, 2 workers", dask)):
                requests = [RunRequest(make_run_id(p.tenant.slug), "client", p.params, plan=p) for p in plans]
                t = time.perf_counter()
                outcomes = run_batch(requests, settings, workers=2, executor=executor)
                seconds = time.perf_counter() - t
                failed = sum(o.status != "succeeded" for o in outcomes)
                if rep:
                    times[name].append(seconds)
                print(f"{'warm-up' if not rep else f'rep {rep}'}: {name:<16} {len(plans)} reports in {seconds:6.1f} s "
                      f"({seconds / len(plans):.2f} s/report, {failed} failed, load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        dask.close()
        for proc in procs:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nmedians, {len(plans)} client reports ({args.scale}), HTML + PDF:")
    for name, values in times.items():
        per = statistics.median(values) / len(plans)
        print(f"  {name:<16} {per:.2f} s/report  {60 / per:6.1f} reports/min")


if __name__ == "__main__":
    main()
