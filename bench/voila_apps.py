"""Benchmark: the stakeholder apps of `quire serve`, with and without preheated kernels.

For each configuration a real `quire serve` is started on a free port and every app is
opened several times in Debian's chromium. Printed per app:

* HTML served: the page's HTML complete in the browser (the server's part: with preheating
  the app was already computed, without it a kernel starts and runs the notebook first);
* first render: from navigation to the app's first chart on screen, for a new visitor
  (first visit, cold browser cache: Voilà's scripts are downloaded) and for a returning
  one (later visits in the same browser context);
* re-render: from changing a picker to the app showing its second render (the kernel
  recomputes through quire.reports and the Output widget redraws);
* RSS per open app: the resident memory of one app's kernel (the unit of memory a visit
  costs until the page is closed and the kernel culled).

Then the culler is checked: with a short idle timeout, the kernels of closed pages are
shut down and the server falls back to its preheated pool.

    .venv/bin/python bench/voila_apps.py [--visits 3] [--warehouse duckdb:///…]

With ``--timeline`` it compares instead the browser timeline of preheated apps between the
code of a git ref (``--baseline``, default ``main``: its lib/, notebooks/, templates/ and
reports.yaml, exported to a temporary folder) and this checkout, one visit each in turn, the
server idle (every pool refilled) before each visit. Printed per visit, with the load average:
DOMContentLoaded, load, kernel websocket open, first chart visible (the first chart image or
svg of the app attached and visible, whether the served HTML or the live widget shows it),
widgets live (the first chart of the widget output visible), bytes transferred and the number
of script requests; for a new visitor (fresh browser context, empty cache) and a returning one
(the same context as that configuration's earlier visits); then the distribution per app.

    .venv/bin/python bench/voila_apps.py --timeline [--visits 10] [--baseline main] [--throttle 20]

The default warehouse is the demo one (outputs/.quire/warehouse.duckdb), opened
read-only; the served archive is an empty temporary folder.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# app -> (picker to change, index of the option to pick): works on any warehouse with two options per picker
CHANGES = {"executive": ("segment", 1), "client": ("client", 1), "cohort": ("granularity", 1), "experiment": ("experiment", 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """One `quire serve` subprocess and its log."""

    def __init__(self, warehouse: str, outputs: Path, log: Path, *args: str, home: Path = ROOT) -> None:
        """``home``: the checkout whose code is served (another one than this: its lib/ comes first on the path)."""
        self.port = free_port()
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUIRE_")}
        env.update(QUIRE_WAREHOUSE_URL=warehouse, QUIRE_OUTPUTS=str(outputs), QUIRE_HOME=str(home),
                   QUIRE_SERVE_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
        if home != ROOT:  # kernels inherit it: they import that checkout's quire too
            env["PYTHONPATH"] = str(home / "lib")
        self.process = subprocess.Popen([sys.executable, "-m", "quire.cli", "serve", "--port", str(self.port), *args],
                                        env=env, cwd=home, stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"

    def filled(self, app: str | None = None) -> int:
        """Preheated renders completed (of ``app``): the apps log one line when rendered; Voilà's
        "pool filled" only means the kernel started."""
        text = self.log.read_text()
        return text.count(f"[quire] {app.capitalize()}App ready") if app else text.count("[quire] ")

    def wait(self, predicate, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"quire serve exited:\n{self.log.read_text()[-2000:]}")
            if predicate():
                return
            time.sleep(0.2)
        raise SystemExit(f"timed out waiting for quire serve:\n{self.log.read_text()[-2000:]}")

    def kernels(self) -> list[psutil.Process]:
        found = []
        for p in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if p.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(p.cmdline()):
                    found.append(p)
            except psutil.Error:  # a kernel that has just been culled
                pass
        return found

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def visit(context, serve: Serve, app: str) -> tuple[float, float, float, int]:
    """Open ``app`` in a new page of ``context``: seconds to the full HTML and to the first chart, seconds to
    re-render after a change, and the kernel's RSS."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{serve.base}/?token={TOKEN}")
    before = {p.pid for p in serve.kernels()}
    t0 = time.perf_counter()
    page.goto(f"{serve.base}/voila/render/{app}.ipynb", wait_until="commit")
    page.wait_for_selector(".q-app-output .q-chart img")
    first = time.perf_counter() - t0
    served = page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd") / 1000
    kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    picker, index = CHANGES[app]
    t1 = time.perf_counter()
    page.select_option(f".q-app-picker-{picker} select", index=index)
    page.wait_for_selector('.q-app-status [data-render="2"]')
    rerender = time.perf_counter() - t1
    rss = 0
    for proc in serve.kernels():
        try:
            if kernel_id in " ".join(proc.cmdline()) or (proc.pid not in before and not rss):
                rss = proc.memory_info().rss
        except psutil.Error:
            pass
    page.close()
    return served, first, rerender, rss


failures: list[str] = []


def run_config(browser, warehouse: str, work: Path, name: str, args: list[str], visits: int, apps: list[str]) -> dict:
    serve = Serve(warehouse, work, work / f"{name}.log", *args)
    preheat = "--no-preheat" not in args
    try:
        serve.wait(lambda: serve.filled() >= len(apps) if preheat else "Quire apps" in serve.log.read_text())
        results = {}
        for app in apps:
            served, firsts, rerenders, rss = [], [], [], []
            # One browser context per app: its first visit loads Voilà's scripts (a new visitor), the
            # next ones find them in the cache (a returning visitor).
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for _ in range(visits):
                filled = serve.filled(app)
                try:
                    h, f, r, m = visit(context, serve, app)
                except Exception as exc:  # noqa: BLE001 - a stalled page is a result too: count it, go on
                    failures.append(f"{name} {app}: {str(exc).splitlines()[0]}")
                    print(f"  {name:<8} {app:<11} FAILED: {failures[-1]}", file=sys.stderr)
                    continue
                print(f"  {name:<8} {app:<11} first render {f:5.2f} s, re-render {r:5.2f} s", file=sys.stderr)
                served.append(h)
                firsts.append(f)
                rerenders.append(r)
                rss.append(m)
                if preheat:  # a real visitor arrives later: let the pool refill as it would
                    serve.wait(lambda: serve.filled(app) > filled, timeout=120)
            context.close()
            if not firsts:
                results[app] = (float("nan"),) * 5
                continue
            warm = statistics.median(firsts[1:]) if len(firsts) > 1 else float("nan")
            results[app] = (statistics.median(served), firsts[0], warm, statistics.median(rerenders),
                            statistics.median(rss))
        kernels = serve.kernels()
        results["_kernels_after"] = (len(kernels), sum(p.memory_info().rss for p in kernels))
        results["_server_rss"] = psutil.Process(serve.process.pid).memory_info().rss
        return results
    finally:
        serve.stop()


def culling(browser, warehouse: str, work: Path, visits: int) -> tuple[int, int, int]:
    """(kernels at start, after ``visits`` closed visits, after the culler ran) with a 5 s idle timeout."""
    serve = Serve(warehouse, work, work / "cull.log", "--pool-size", "1", "--cull-idle-timeout", "5",
                  "--cull-interval", "2")
    try:
        serve.wait(lambda: serve.filled() >= 4)
        start = len(serve.kernels())
        context = browser.new_context()
        for _ in range(visits):
            filled = serve.filled("executive")
            visit(context, serve, "executive")
            serve.wait(lambda: serve.filled("executive") > filled, timeout=120)
        context.close()
        peak = len(serve.kernels())
        serve.wait(lambda: len(serve.kernels()) <= start, timeout=60)
        return start, peak, len(serve.kernels())
    finally:
        serve.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--warehouse", default=f"duckdb:///{ROOT / 'outputs' / '.quire' / 'warehouse.duckdb'}")
    parser.add_argument("--apps", nargs="*", default=list(CHANGES))
    parser.add_argument("--timeline", action="store_true", help="browser timeline: --baseline's code against this one")
    parser.add_argument("--baseline", default="main", help="git ref compared with this checkout (--timeline)")
    parser.add_argument("--throttle", type=float, default=0.0,
                        help="emulate a network of this many Mbit/s and 20 ms latency (--timeline; 0: none)")
    args = parser.parse_args()
    if args.timeline:
        from voila_timeline import compare

        compare(args.warehouse, args.baseline, args.apps, args.visits, args.throttle)
        return

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        work = Path(tmp)
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        configs = {"preheat (pool 1)": ["--pool-size", "1"], "no preheat": ["--no-preheat"]}
        results = {name: run_config(browser, args.warehouse, work, name.split()[0], cli, args.visits, args.apps)
                   for name, cli in configs.items()}
        cull = culling(browser, args.warehouse, work, visits=args.visits)
        browser.close()

    print(f"\nquire serve, {args.visits} visits per app ({psutil.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}); "
          "first render: navigation to first chart, new visitor (cold browser cache) and returning (median)")
    print(f"{'app':<12}{'config':<18}{'HTML served':>12}{'first render new':>17}{'returning':>11}{'re-render':>11}"
          f"{'kernel RSS MB':>15}")
    for app in args.apps:
        for name, res in results.items():
            html, cold, warm, rerender, rss = res[app]
            print(f"{app:<12}{name:<18}{html:>10.2f} s{cold:>15.2f} s{warm:>9.2f} s{rerender:>9.2f} s{rss / 1e6:>15.0f}")
    for name, res in results.items():
        count, total = res["_kernels_after"]
        print(f"{name}: server process {res['_server_rss'] / 1e6:.0f} MB; after the visits {count} kernels, "
              f"{total / 1e6:.0f} MB (pages closed, not yet culled)")
    for failure in failures:
        print(f"failed visit (no chart within 120 s): {failure}")
    print(f"culling (idle timeout 5 s): {cull[0]} kernels at start, {cull[1]} after {args.visits} closed visits, "
          f"{cull[2]} once the culler ran")


if __name__ == "__main__":
    main()
