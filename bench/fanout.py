"""Benchmark: a client fan-out (HTML + PDF per client) on the batch engine, the papermill engine and the naive loop.

    .venv/bin/python bench/fanout.py [--clients 200] [--baseline-clients 20] [--reps 3] [--workers N] [--scale large]

Three paths render the same client report for the same clients of one warehouse,
alternating within each repetition so that drift hits all of them:

- **batch**: Quire's batch engine (``quire run client --all-clients``'s path): warm forked
  workers on every core, cells run in-process, Chromium (or WeasyPrint) printing;
- **papermill engine**: the same pool and publishing, but a Jupyter kernel per run (``--engine papermill``);
- **naive loop**: what a team without Quire scripts: per client, ``papermill.execute_notebook``,
  nbconvert's ``HTMLExporter`` and WeasyPrint, one after another in one process.

The two baselines run on the first ``--baseline-clients`` clients only (a naive loop over
200 clients takes 20 minutes); per-report figures are comparable, totals are projected.
Printed per path: seconds per report (wall), reports per minute, CPU-seconds per report
(the whole machine's busy time from /proc/stat, so run it on a quiet machine: the load
average is printed), cores used, peak memory of the benchmark's process tree (summed PSS), and the
projected time for 1,000 reports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def machine_busy_seconds() -> float:
    """Busy CPU time of the whole machine so far (user+nice+system+irq+softirq+steal), in seconds."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def proportional_set_size(pid: int) -> int:
    """The process's PSS in bytes: its private memory plus its share of pages shared with others.

    Summed over a process tree, PSS counts each page once; RSS would count the pages a forked
    worker shares with its warm parent (the imported libraries) once per worker.
    """
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakMemory:
    """Samples the summed PSS of this process and all its descendants every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proportional_set_size(proc.pid)
                except OSError:
                    pass  # the process ended between the listing and the read
            self.peak = max(self.peak, total)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Measure:
    reports: int
    wall: float
    cpu: float
    peak: int
    failures: int = 0


@dataclass
class Series:
    name: str
    runs: list[Measure] = field(default_factory=list)


def measured(fn, reports: int) -> Measure:
    cpu0, wall0 = machine_busy_seconds(), time.perf_counter()
    with PeakMemory() as mem:
        failures = fn()
    return Measure(reports, time.perf_counter() - wall0, machine_busy_seconds() - cpu0, mem.peak, failures)


def batch_path(settings, plans, workers: int, engine: str):
    from quire.batch import RunRequest, run_batch
    from quire.state.runs import make_run_id

    def run() -> int:
        requests = [RunRequest(make_run_id(p.tenant.slug), p.spec.id, p.params, plan=p, engine=engine) for p in plans]
        outcomes = run_batch(requests, settings, workers=workers)
        return sum(o.status != "succeeded" for o in outcomes)
    return run


def naive_path(settings, plans, work: Path):
    """papermill + nbconvert HTMLExporter + WeasyPrint per client, one after another."""
    def run() -> int:
        import papermill
        import weasyprint
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(exclude_input=True)
        notebook = plans[0].spec.notebook_path(settings.home)
        for plan in plans:
            out = work / f"naive-{plan.tenant.slug}.ipynb"
            nb = papermill.execute_notebook(str(notebook), str(out), parameters=plan.params, progress_bar=False,
                                            cwd=str(notebook.parent), kernel_name=settings.kernel_name,
                                            # the kernel's warning that local TCP is unencrypted, once per client
                                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
            html, _ = exporter.from_notebook_node(nb)
            weasyprint.HTML(string=html).write_pdf(str(out.with_suffix(".pdf")))
        return 0
    return run


def client_plans(settings, count: int) -> list:
    """``count`` client reports: every active client for the latest month, then the month before, and so on
    (a warehouse of 500 clients gives 1,000 distinct reports over two months)."""
    from quire.errors import ParameterError
    from quire.periods import parse_period
    from quire.pipeline import Preparer, fan_out_clients

    slugs = fan_out_clients({}, settings)
    plans: list = []
    with Preparer(settings) as preparer:
        latest = parse_period(preparer.prepare("client", {"client": slugs[0]}).params["period"])
        month = latest
        while len(plans) < count:
            for slug in slugs:
                if len(plans) == count:
                    break
                try:
                    plans.append(preparer.prepare("client", {"client": slug, "period": month.key}))
                except ParameterError:
                    continue  # not subscribed in that month
            month = month.previous()
            if month.start.year < latest.start.year - 3:
                sys.exit(f"could not find {count} client reports in this warehouse")
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200,
                        help="client reports rendered by the batch engine (default 200; beyond the active clients, "
                             "earlier months are added)")
    parser.add_argument("--baseline-clients", type=int, default=20,
                        help="clients rendered by the papermill engine and the naive loop (default 20; 0: the batch "
                             "engine alone)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the three paths (default 3)")
    parser.add_argument("--workers", type=int, default=None, help="batch workers (default: one per core)")
    parser.add_argument("--scale", default="large", help="warehouse scale (default large: 500+ clients)")
    parser.add_argument("--warehouse", help="an existing warehouse URL to use instead of building one")
    args = parser.parse_args()
    if min(args.clients, args.reps) < 1 or args.baseline_clients < 0:
        parser.error("--clients and --reps take 1 or more, --baseline-clients 0 or more")

    work = Path(tempfile.mkdtemp(prefix="quire-fanout-"))
    os.environ.update(QUIRE_OUTPUTS=str(work / "outputs"),
                      QUIRE_WAREHOUSE_URL=args.warehouse or f"duckdb:///{work}/warehouse.duckdb")
    from quire.batch import default_workers
    from quire.config import get_settings
    from quire.pdf import renderer_name
    from quire.pdf.chromium import chromium_path
    from quire.warehouse.load import build_warehouse

    settings = get_settings()
    if not args.warehouse:
        t = time.perf_counter()
        build_warehouse(settings.warehouse, scale=args.scale, seed=7)
        print(f"built the {args.scale} warehouse in {time.perf_counter() - t:.0f} s", flush=True)
    plans = client_plans(settings, args.clients)
    baseline = plans[:args.baseline_clients]
    workers = args.workers or default_workers()
    printer = renderer_name(settings)
    printer += f" ({chromium_path()})" if printer == "chromium" else ""
    print(f"{len(plans)} clients (baselines: {len(baseline)}), {workers} workers, PDF by {printer}, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)
    paths = {"batch engine": (batch_path(settings, plans, workers, "batch"), len(plans))}
    if baseline:
        paths["papermill engine"] = (batch_path(settings, baseline, workers, "papermill"), len(baseline))
        paths["naive loop"] = (naive_path(settings, baseline, work), len(baseline))
    results = {name: Series(name) for name in paths}
    try:
        for rep in range(1, args.reps + 1):
            for name, (fn, n) in paths.items():
                m = measured(fn, n)
                results[name].runs.append(m)
                print(f"rep {rep}: {name:<17} {n:4d} reports {m.wall:7.1f} s  {m.wall / n:5.2f} s/report  "
                      f"{m.cpu / n:5.2f} CPU-s/report  peak {m.peak / 2**20:6.0f} MB  failures {m.failures}  "
                      f"(load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    source = "the given warehouse" if args.warehouse else f"{args.scale} warehouse"
    print(f"\nmedians over {args.reps} repetitions, {source}, HTML + PDF per report:")
    per_report = {}
    for name, path in results.items():
        wall = statistics.median(m.wall / m.reports for m in path.runs)
        cpu = statistics.median(m.cpu / m.reports for m in path.runs)
        peak = max(m.peak for m in path.runs)
        per_report[name] = wall
        print(f"  {name:<17} {wall:5.2f} s/report  {60 / wall:6.1f} reports/min  {cpu:5.2f} CPU-s/report  "
              f"{cpu / wall:4.2f} cores  peak {peak / 2**20:5.0f} MB  1,000 reports in {1000 * wall / 60:5.1f} min")
    ours = per_report["batch engine"]
    for name in [name for name in per_report if name != "batch engine"]:
        print(f"  batch engine vs {name}: {per_report[name] / ours:.1f}x faster")


if __name__ == "__main__":
    main()
