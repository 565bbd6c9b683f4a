"""Benchmark: one executive report through `quire run` versus plain papermill + nbconvert + weasyprint.

Both paths execute the same notebook with the same parameters against the same
warehouse and produce HTML and PDF; each is run several times in this one process
run (alternating, so drift affects both) and the medians and their ratio are printed.

    .venv/bin/python bench/run_vs_naive.py [--runs 5] [--scale demo]

The naive path is what a team without Quire would script: three CLI calls per report
(`papermill`, `jupyter nbconvert --to html --no-input`, `weasyprint`).
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
NOTEBOOK = ROOT / "notebooks" / "executive.ipynb"
PARAMS = {"period": "latest", "forecast_months": "6", "brand": "quire"}


def timed(cmds: list[list[str]], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    for cmd in cmds:
        subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def naive_cmds(work: Path, i: int) -> list[list[str]]:
    out = work / f"naive-{i}.ipynb"
    params = [arg for k, v in PARAMS.items() for arg in ("-p", k, v)]
    return [
        [str(BIN / "papermill"), str(NOTEBOOK), str(out), *params, "--cwd", str(NOTEBOOK.parent)],
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
        [str(BIN / "weasyprint"), str(out.with_suffix(".html")), str(out.with_suffix(".pdf"))],
    ]


def quire_cmds() -> list[list[str]]:
    params = [arg for k, v in PARAMS.items() for arg in ("-p", f"{k}={v}")]
    return [[str(BIN / "quire"), "run", "executive", *params]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each path (default 5)")
    parser.add_argument("--scale", default="demo", help="warehouse scale to build for the benchmark (default demo)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="quire-bench-"))
    env = {**os.environ, "QUIRE_OUTPUTS": str(work / "outputs"), "QUIRE_WAREHOUSE_URL": f"duckdb:///{work}/warehouse.duckdb"}
    subprocess.run([str(BIN / "quire"), "warehouse", "build", "--scale", args.scale], env=env, check=True, capture_output=True)
    timings: dict[str, list[float]] = {"quire run": [], "papermill + nbconvert + weasyprint": []}
    try:
        for i in range(args.runs):
            timings["quire run"].append(timed(quire_cmds(), env, ROOT))
            timings["papermill + nbconvert + weasyprint"].append(timed(naive_cmds(work, i), env, ROOT))
            print(f"run {i + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in timings.items()), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours, naive = (statistics.median(v) for v in timings.values())
    print(f"\nexecutive report, {args.scale} warehouse, {args.runs} runs each (HTML + PDF)")
    for name, values in timings.items():
        print(f"  {name:<36} median {statistics.median(values):6.2f} s   min {min(values):6.2f} s   max {max(values):6.2f} s")
    print(f"  ratio naive / quire: {naive / ours:.2f}x")


if __name__ == "__main__":
    main()
