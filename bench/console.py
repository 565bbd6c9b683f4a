"""Console pages with a long history: server time of each page with N runs in the state database (default 10,000).

Fills a fresh SQLite state database (and, with ``--postgres-url``, a PostgreSQL one) with N
runs over four reports and six clients, publishes a run folder (run.json with a headline)
for the newest runs of the compared client, starts a real ``quire serve`` on it, and asks
every console page and API list ``--repeat`` times. It prints the server's own time (the
``Server-Timing`` header each console response carries) and the wall time per page, and
exits 1 if any page's median server time is above ``--budget-ms`` (300).

    .venv/bin/python bench/console.py                  # 10,000 runs, tiny warehouse built in a temp folder
    .venv/bin/python bench/console.py --runs 50000 --repeat 5
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "console"))

REPORTS = ["executive", "cohort", "experiment", "client"]
CLIENTS = ["town-of-fairdale", "riverton-realty", "vectorwave-systems", "riverhaven-food-bank",
           "village-of-summerbrook", "quantalane-health"]
STATUSES = ["succeeded"] * 8 + ["failed", "timed_out"]
TOKEN = "bench-console-token"


def fill(engine, outputs: Path, n: int) -> str:
    """N runs, newest last; returns the id of the newest run of the compared client (with 12 published before it)."""
    from quire.state.schema import runs

    rng = random.Random(7)
    start = datetime(2025, 1, 1)
    rows = []
    for i in range(n):
        report = REPORTS[i % 4]
        client = CLIENTS[rng.randrange(6)] if report == "client" else None
        status = rng.choice(STATUSES)
        created = start + timedelta(minutes=45 * i)
        run_id = f"{created:%Y%m%dT%H%M%SZ}-{i:06x}" + (f"-{client}" if client else "")
        rows.append(dict(run_id=run_id, report=report, client=client, trigger="schedule", attempt=1, status=status,
                         parameters={"period": f"{created:%Y-%m}", **({"client": client} if client else {})},
                         created_at=created, started_at=created + timedelta(seconds=2),
                         finished_at=created + timedelta(seconds=9), transient=False,
                         error="cell 4 raised ValueError: no data" if status != "succeeded" else None))
    with engine.begin() as conn:
        for chunk in range(0, n, 2000):
            conn.execute(runs.insert(), rows[chunk:chunk + 2000])
    # The compared client's 13 newest succeeded runs get a folder with run.json (headline) and files.
    chosen = [r for r in rows if r["client"] == CLIENTS[0] and r["status"] == "succeeded"][-13:]
    for k, row in enumerate(chosen):
        folder = outputs / "client" / f"{row['created_at']:%Y-%m-%d}" / row["run_id"]
        folder.mkdir(parents=True)
        headline = [{"name": f"kpi{j}", "label": f"KPI {j}", "value": 100 + 7 * k + j, "unit": "number",
                     "direction": "up_is_good"} for j in range(7)]
        (folder / "run.json").write_text(json.dumps({"run_id": row["run_id"], "title": "Client report",
                                                     "period": row["parameters"]["period"], "headline": headline,
                                                     "timings": {"total": 6.0}, "data_files": []}), encoding="utf-8")
        for name in ("report.html", "report.pdf", "report.ipynb"):
            (folder / name).write_text("x", encoding="utf-8")
        with engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.run_id == row["run_id"]).values(output_folder=str(folder)))
    return chosen[-1]["run_id"]


def measure(host: str, port: int, path: str, repeat: int) -> tuple[list[float], list[float], int]:
    server_ms, wall_ms, status = [], [], 0
    for _ in range(repeat):
        conn = http.client.HTTPConnection(host, port, timeout=60)
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"} if path.startswith("/api") else
                     {"Cookie": COOKIE})
        response = conn.getresponse()
        response.read()
        wall_ms.append((time.perf_counter() - t0) * 1000)
        status = response.status
        timing = re.search(r"dur=([\d.]+)", response.getheader("Server-Timing") or "")
        server_ms.append(float(timing.group(1)) if timing else float("nan"))
        conn.close()
    return server_ms, wall_ms, status


COOKIE = ""


def login(host: str, port: int, server_token: str) -> str:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", f"/console/?token={server_token}")
    response = conn.getresponse()
    response.read()
    return "; ".join(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [])


def main() -> int:
    global COOKIE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--budget-ms", type=float, default=300.0)
    parser.add_argument("--postgres-url", help="Also measure on this (empty) PostgreSQL state database.")
    args = parser.parse_args()

    from datetime import date

    from console_support import SERVER_TOKEN, make_home, start_serve, stop

    from quire.state import open_state, tokens
    from quire.warehouse.load import build_warehouse

    failures = 0
    with tempfile.TemporaryDirectory(prefix="quire-bench-console-") as tmp:
        base = Path(tmp)
        warehouse = f"duckdb:///{base / 'tiny.duckdb'}"
        build_warehouse(warehouse, scale="tiny", seed=7, end=date(2026, 10, 31))
        targets = [("sqlite", f"sqlite:///{base / 'state.db'}")] + (
            [("postgresql", args.postgres_url)] if args.postgres_url else [])
        for label, state_url in targets:
            case = base / label
            case.mkdir()
            env = {k: v for k, v in os.environ.items() if not k.startswith("QUIRE_")}
            env.update(QUIRE_HOME=str(make_home(case)), QUIRE_OUTPUTS=str(case / "outputs"),
                       QUIRE_WAREHOUSE_URL=warehouse, QUIRE_STATE_URL=state_url, QUIRE_SERVE_TOKEN=SERVER_TOKEN)
            engine = open_state(state_url)
            t0 = time.perf_counter()
            compared = fill(engine, case / "outputs", args.runs)
            global TOKEN
            _, TOKEN = tokens.create(engine, role="admin", name="bench")
            print(f"\n{label}: {args.runs:,} runs written in {time.perf_counter() - t0:.1f} s")
            server = start_serve(env, case / "serve.log")
            try:
                COOKIE = login(server.host, server.port, SERVER_TOKEN)
                pages = ["/console/", "/console/reports/client", "/console/runs", "/console/runs?report=client&status=failed",
                         f"/console/runs?client={CLIENTS[0]}&period=2025-06", "/console/runs?offset=9000",
                         f"/console/runs/{compared}", f"/console/runs/{compared}/compare", "/console/schedules",
                         "/api/v1/runs?limit=200", f"/api/v1/runs/{compared}/compare", "/api/v1/reports"]
                measure(server.host, server.port, pages[1], 2)  # warm: the notebook's parameters, the warehouse lists
                print(f"{'page':58} {'server ms (median / max)':>26} {'wall ms':>9}")
                for path in pages:
                    server_ms, wall_ms, status = measure(server.host, server.port, path, args.repeat)
                    median = statistics.median(server_ms)
                    over = median > args.budget_ms or status != 200
                    failures += over
                    print(f"{path[:58]:58} {median:12.1f} / {max(server_ms):8.1f} {statistics.median(wall_ms):9.1f}"
                          f"{'  OVER BUDGET' if median > args.budget_ms else ''}{'' if status == 200 else f'  HTTP {status}'}")
            finally:
                stop(server.process)
    print(f"\nbudget {args.budget_ms:.0f} ms: {'all pages within' if not failures else f'{failures} page(s) over'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
