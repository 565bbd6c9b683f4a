"""Benchmark: `quire warehouse check` on a warehouse of millions of rows (default: the large sample, 21 M rows).

    .venv/bin/python bench/warehouse_check.py                           # builds `large` into a temp folder (~1 min)
    .venv/bin/python bench/warehouse_check.py --url duckdb:///path.duckdb --repeat 5
    .venv/bin/python bench/warehouse_check.py --views                   # the same tables behind views (no keys)

Prints the check's own time (every table scanned, every foreign key anti-joined, every
report's range read) per repeat, their median and the peak memory, and exits 1 when the
median is above ``--budget`` seconds (default 5). ``--views`` puts a view in front of each
table, so that no key is known to be enforced and repeated keys are counted too.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from quire.contract import check_warehouse, warehouse_tables
from quire.warehouse.engine import connection
from quire.warehouse.load import build_warehouse


def _views(url: str) -> None:
    """Rename every contract table to ``<name>_data`` and put a view of its old name in front of it."""
    import duckdb

    con = duckdb.connect(url.removeprefix("duckdb:///"))
    try:
        for name in warehouse_tables():
            con.execute(f'alter table "{name}" rename to "{name}_data"')
            con.execute(f'create view "{name}" as select * from "{name}_data"')
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing warehouse (default: build the sample at --scale in a temp folder)")
    parser.add_argument("--scale", default="large")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--views", action="store_true", help="check views over the tables (a temp copy is changed)")
    parser.add_argument("--budget", type=float, default=5.0, help="seconds the median check may take")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="quire-check-bench-"))
    try:
        url = args.url
        if url is None:
            url = f"duckdb:///{work / args.scale}.duckdb"
            stats = build_warehouse(url, scale=args.scale)
            print(f"built {args.scale}: {stats.total_rows:,} rows in {stats.seconds:.1f} s", flush=True)
        if args.views:
            if args.url:
                shutil.copy(args.url.removeprefix("duckdb:///"), work / "copy.duckdb")
                url = f"duckdb:///{work / 'copy.duckdb'}"
            _views(url)
        times = []
        for i in range(args.repeat):
            with connection(url) as conn:
                result = check_warehouse(conn)
            times.append(result.seconds)
            rows = sum(t.rows or 0 for t in result.tables.values())
            print(f"check {i + 1}: {result.seconds:.2f} s over {rows:,} rows; "
                  f"{sum(r.can_run for r in result.reports.values())} of {len(result.reports)} reports can run", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    median = statistics.median(times)
    print(f"median {median:.2f} s; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    sys.exit(0 if median <= args.budget else 1)


if __name__ == "__main__":
    main()
