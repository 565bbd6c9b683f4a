"""Benchmark: build the sample warehouse at each scale into a temporary DuckDB file and print the figures.

    .venv/bin/python bench/warehouse_build.py [tiny demo large ...]   (default: tiny demo)

Each build is one ``build_warehouse`` call (generate + load + checkpoint + rename), timed
end to end; the temporary folder is removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
from pathlib import Path

from quire.warehouse.generator import SCALES
from quire.warehouse.load import build_warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scales", nargs="*", default=["tiny", "demo"], metavar="scale",
                        help=f"scales to build, of {', '.join(SCALES)} (default: tiny demo)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if unknown := [s for s in args.scales if s not in SCALES]:  # argparse's choices reject a list default
        parser.error(f"unknown scale {', '.join(unknown)}; choose from {', '.join(SCALES)}")

    work = Path(tempfile.mkdtemp(prefix="quire-warehouse-bench-"))
    try:
        print(f"{'scale':<7}{'clients':>9}{'events':>13}{'total rows':>13}{'seconds':>9}{'file MB':>9}", flush=True)
        for scale in args.scales:
            stats = build_warehouse(f"duckdb:///{work / scale}.duckdb", scale=scale, seed=args.seed)
            print(f"{scale:<7}{stats.rows['clients']:>9,}{stats.rows['events']:>13,}{stats.total_rows:>13,}"
                  f"{stats.seconds:>9.1f}{stats.size_bytes / 1e6:>9.1f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # ru_maxrss is in KiB on Linux: the peak memory of the whole run (the largest scale dominates).
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB")


if __name__ == "__main__":
    main()
