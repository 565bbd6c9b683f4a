"""Import a ~1 GB CSV of events and report the time and the peak memory of ``quire warehouse import``.

The data is generated here (by DuckDB, streaming: the generator needs little memory
either) in the user's conventions the example shop uses (epoch milliseconds, cents, its
own event names), with a users file to check every event's user against. The import
runs as a separate process, as a user runs it, so its peak resident memory (``ru_maxrss``
of the child) is what the import itself needed. Nothing is kept unless ``--keep``.

    python bench/import_memory.py                      # ~1 GB, memory limit 1GB
    python bench/import_memory.py --gb 0.2 --memory-limit 256MB
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

BYTES_PER_EVENT = 31  # "123456,visit,1767571200000,\n" on average, orders with their cents
USERS_PER_EVENT = 1 / 40

MAPPING = """\
company: {name: Bench shop}
tables:
  users:
    source: users.csv
    rename: {customer_id: user_id, created: signed_up_at}
    dates: {signed_up_at: epoch_seconds}
  events:
    source: events.csv
    rename: {customer_id: user_id, action: event_type, ts: occurred_at, amount_cents: revenue}
    dates: {occurred_at: epoch_millis}
    multiply: {revenue: 0.01}
    values:
      event_type: {account_created: signup, profile_completed: activation, visit: session_start,
                   wishlist_add: feature_use, order: purchase}
"""


def generate(folder: Path, gigabytes: float) -> tuple[int, int]:
    """Write users.csv and events.csv (about ``gigabytes`` GB) into ``folder``; returns (users, events)."""
    events = int(gigabytes * 1e9 / BYTES_PER_EVENT)
    users = max(int(events * USERS_PER_EVENT), 1)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"""COPY (SELECT 100000 + i AS customer_id, 1735689600 + i * 20 AS created, 'organic' AS channel,
                                 'DE' AS country FROM range({users}) t(i))
                    TO '{folder / "users.csv"}' (HEADER)""")
    con.execute(f"""COPY (SELECT 100000 + (hash(i) % {users}) AS customer_id,
                                 ['visit', 'visit', 'visit', 'wishlist_add', 'order'][1 + (i % 5)] AS action,
                                 (1735689600 + {users} * 20 + (i // 10)) * 1000 AS ts,
                                 CASE WHEN i % 5 = 4 THEN 500 + hash(i) % 9000 END AS amount_cents
                          FROM range({events}) t(i))
                    TO '{folder / "events.csv"}' (HEADER)""")
    con.close()
    return users, events


# The import is started by this small launcher, which reports its child's peak RSS. Measured from
# the big process directly, ru_maxrss would include the caller's own memory: Linux keeps the
# high-water mark of the memory a vforked child shared with its parent until exec.
_LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def run_import(folder: Path, memory_limit: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """``quire warehouse import`` in a child process; (seconds, peak RSS in MB, the process)."""
    env = {**os.environ, "QUIRE_WAREHOUSE_URL": f"duckdb:///{folder / 'warehouse.duckdb'}",
           "QUIRE_OUTPUTS": str(folder / "outputs")}
    peak_file = folder / "peak-rss-kib"
    command = [sys.executable, "-m", "quire.cli", "warehouse", "import", str(folder / "mapping.yaml"),
               "--memory-limit", memory_limit]
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, str(peak_file), *command], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    proc.args = command
    return seconds, int(peak_file.read_text()) / 1024, proc  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=1.0, help="size of the events file in GB (default 1)")
    parser.add_argument("--memory-limit", default="1GB", help="the import's --memory-limit (default 1GB)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and the warehouse")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="quire-import-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        users, events = generate(folder, args.gb)
        (folder / "mapping.yaml").write_text(MAPPING)
        size = (folder / "events.csv").stat().st_size
        print(f"generated {events:,} events ({size / 1e9:.2f} GB) and {users:,} users in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        seconds, peak, proc = run_import(folder, args.memory_limit)
        if proc.returncode != 0:
            sys.exit(f"import failed (exit {proc.returncode}): {proc.stderr.strip()}")
        warehouse = (folder / "warehouse.duckdb").stat().st_size
        print(f"import: {seconds:.0f} s, {size / 1e6 / seconds:.0f} MB/s, peak RSS {peak:,.0f} MB "
              f"(memory limit {args.memory_limit}), warehouse {warehouse / 1e6:,.0f} MB")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
