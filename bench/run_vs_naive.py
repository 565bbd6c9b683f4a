"""Benchmark: `quire run` versus plain papermill + nbconvert + weasyprint, for one report and a fan-out.

Every path executes the same notebook with the same parameters against the same
warehouse and produces HTML and PDF; each is run several times in this one process
run (alternating, so drift affects all of them) and the medians and ratios are printed.
Two scenarios: the executive report (one run), and the client report for every active
client of one sector (`quire run client --clients sector=…`, one process for all).
`quire run` is measured twice: on its own (it starts its warm worker and Chromium) and
with a warm service up (`quire warm`, started once for the benchmark, serving another
outputs folder so that the first path does not find it).

    .venv/bin/python bench/run_vs_naive.py [--runs 5] [--scale demo] [--sector nonprofit]

The naive path is what a team without Quire would script: three CLI calls per report
(`papermill`, `jupyter nbconvert --to html --no-input`, `weasyprint`), looped over clients.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXECUTIVE = {"period": "latest", "forecast_months": "6", "brand": "quire"}


def timed(cmds: list[list[str]], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    for cmd in cmds:
        subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def naive_cmds(work: Path, report: str, params: dict[str, str], tag: str) -> list[list[str]]:
    notebook, out = ROOT / "notebooks" / f"{report}.ipynb", work / f"naive-{report}-{tag}.ipynb"
    flags = [arg for k, v in params.items() for arg in ("-p", k, v)]
    return [
        [str(BIN / "papermill"), str(notebook), str(out), *flags, "--cwd", str(notebook.parent)],
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
        [str(BIN / "weasyprint"), str(out.with_suffix(".html")), str(out.with_suffix(".pdf"))],
    ]


def sector_clients(env: dict[str, str], sector: str) -> list[str]:
    """The active clients of one sector, as `quire run --clients sector=…` selects them."""
    code = ("from quire.pipeline import fan_out_clients; "
            f"print(' '.join(fan_out_clients({{'sector': {sector!r}}})))")
    return subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each path (default 5)")
    parser.add_argument("--scale", default="demo", help="warehouse scale to build for the benchmark (default demo)")
    parser.add_argument("--sector", default="nonprofit", help="sector whose clients the fan-out scenario runs")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="quire-bench-"))
    # QUIRE_WARM_LINGER=0: `quire run` alone stays alone (else its first run would leave a warm service for the rest).
    env = {**os.environ, "QUIRE_OUTPUTS": str(work / "outputs"), "QUIRE_WAREHOUSE_URL": f"duckdb:///{work}/warehouse.duckdb",
           "QUIRE_WARM_LINGER": "0"}
    warm_env = {**env, "QUIRE_OUTPUTS": str(work / "outputs-warm")}
    subprocess.run([str(BIN / "quire"), "warehouse", "build", "--scale", args.scale], env=env, check=True, capture_output=True)
    clients = sector_clients(env, args.sector)
    executive = [str(BIN / "quire"), "run", "executive", *(a for k, v in EXECUTIVE.items() for a in ("-p", f"{k}={v}"))]
    fan_out = [str(BIN / "quire"), "run", "client", "--clients", f"sector={args.sector}"]
    scenarios = {
        "executive report": (executive, lambda i: naive_cmds(work, "executive", EXECUTIVE, str(i))),
        f"client report x {len(clients)} ({args.sector})": (
            fan_out, lambda i: [c for slug in clients for c in naive_cmds(work, "client", {"client": slug}, f"{slug}-{i}")]),
    }
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    service = start_warm_service(warm_env)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for scenario, (ours, naive) in scenarios.items():
            paths = {"quire run": lambda i: ([ours], env), "quire run, quire warm up": lambda i: ([ours], warm_env),
                     "papermill + nbconvert + weasyprint": lambda i: (naive(i), env)}
            timings = results[scenario] = {name: [] for name in paths}
            for i in range(args.runs):
                for name, path in paths.items():
                    timings[name].append(timed(*path(i), ROOT))
                print(f"{scenario}, run {i + 1}/{args.runs}: "
                      + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in timings.items()), flush=True)
    finally:
        service.terminate()
        service.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for scenario, timings in results.items():
        medians = {name: statistics.median(values) for name, values in timings.items()}
        naive = medians["papermill + nbconvert + weasyprint"]
        print(f"\n{scenario}, {args.scale} warehouse, {args.runs} runs each (HTML + PDF)")
        for name, values in timings.items():
            print(f"  {name:<36} median {medians[name]:6.2f} s   min {min(values):6.2f} s   max {max(values):6.2f} s"
                  f"   naive / this {naive / medians[name]:5.2f}x")


def start_warm_service(env: dict[str, str]) -> subprocess.Popen:
    """`quire warm` for ``env``'s outputs, once it says it is ready (bounded wait)."""
    service = subprocess.Popen([str(BIN / "quire"), "warm"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    ready, _, _ = select.select([service.stdout], [], [], 300)
    line = service.stdout.readline() if ready else ""  # the ready line; EOF if it failed
    if "ready" not in line:
        service.kill()
        raise SystemExit(f"quire warm did not start: {line!r}")
    return service


if __name__ == "__main__":
    main()
