"""Benchmark: `quire run` versus plain papermill + nbconvert + weasyprint, for one report and a fan-out.

Both paths execute the same notebook with the same parameters against the same
warehouse and produce HTML and PDF; each is run several times in this one process
run (alternating, so drift affects both) and the medians and their ratio are printed.
Two scenarios: the executive report (one run), and the client report for every active
client of one sector (`quire run client --clients sector=…`, one process for all).

    .venv/bin/python bench/run_vs_naive.py [--runs 5] [--scale demo] [--sector nonprofit]

The naive path is what a team without Quire would script: three CLI calls per report
(`papermill`, `jupyter nbconvert --to html --no-input`, `weasyprint`), looped over clients.
"""

from __future__ import annotations

import argparse
import os
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
    env = {**os.environ, "QUIRE_OUTPUTS": str(work / "outputs"), "QUIRE_WAREHOUSE_URL": f"duckdb:///{work}/warehouse.duckdb"}
    subprocess.run([str(BIN / "quire"), "warehouse", "build", "--scale", args.scale], env=env, check=True, capture_output=True)
    clients = sector_clients(env, args.sector)
    scenarios = {
        "executive report": (
            [[str(BIN / "quire"), "run", "executive", *(a for k, v in EXECUTIVE.items() for a in ("-p", f"{k}={v}"))]],
            lambda i: naive_cmds(work, "executive", EXECUTIVE, str(i))),
        f"client report x {len(clients)} ({args.sector})": (
            [[str(BIN / "quire"), "run", "client", "--clients", f"sector={args.sector}"]],
            lambda i: [c for slug in clients for c in naive_cmds(work, "client", {"client": slug}, f"{slug}-{i}")]),
    }
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for scenario, (ours, naive) in scenarios.items():
            timings = results[scenario] = {"quire run": [], "papermill + nbconvert + weasyprint": []}
            for i in range(args.runs):
                timings["quire run"].append(timed(ours, env, ROOT))
                timings["papermill + nbconvert + weasyprint"].append(timed(naive(i), env, ROOT))
                print(f"{scenario}, run {i + 1}/{args.runs}: "
                      + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in timings.items()), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for scenario, timings in results.items():
        ours, naive = (statistics.median(v) for v in timings.values())
        print(f"\n{scenario}, {args.scale} warehouse, {args.runs} runs each (HTML + PDF)")
        for name, values in timings.items():
            print(f"  {name:<36} median {statistics.median(values):6.2f} s   min {min(values):6.2f} s   max {max(values):6.2f} s")
        print(f"  ratio naive / quire: {naive / ours:.2f}x")


if __name__ == "__main__":
    main()
