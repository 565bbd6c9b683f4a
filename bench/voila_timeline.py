"""The browser timeline of preheated apps: a baseline's code against this checkout (``voila_apps.py --timeline``).

Two ``quire serve`` run side by side on the same warehouse: one from the code of a git ref
(exported with ``git archive`` to a temporary folder; its ``lib/`` comes first on the Python
path of the server and of its kernels) and one from this checkout. Every app is visited in
turn on each server, ``visits`` rounds, each round a new visitor (fresh browser context) and
a returning one (the context of that server's earlier visits); before each visit the app's
pool has refilled, so that every visit meets a preheated app (other pools may be refilling:
the two servers are visited in turn, app by app, so both see the same background work).

What a visit records comes from the page itself (an init script), in ms since navigation:
DOMContentLoaded and load (Navigation Timing), the kernel websocket open (a ``WebSocket``
subclass), the first chart visible (the first ``.q-chart`` image or svg attached, laid out
and visible, checked every animation frame) and the widgets live (the same, inside the
widget's ``.q-app-output``); and from Resource Timing: bytes transferred (headers and
bodies, the page included; 0 for a cached file) and the number of script requests.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from voila_apps import CHROMIUM_ARGS, ROOT, TOKEN, Serve

#: Runs in every page before its own scripts: records the moments the bench reports.
TIMELINE_JS = """
(() => {
  const t = window.__quireTimeline = {ws: null, chart: null, live: null};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      if (String(url).includes('/api/kernels/')) {
        this.addEventListener('open', () => { if (t.ws === null) t.ws = performance.now(); });
      }
    }
  };
  const shown = (el) => el.isConnected && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && el.getBoundingClientRect().height > 0 && (el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0));
  const any = (selector) => Array.from(document.querySelectorAll(selector)).some(shown);
  const tick = () => {
    const now = performance.now();
    if (t.chart === null && any('.q-chart img, .q-chart svg')) t.chart = now;
    if (t.live === null && any('.q-app-output .q-chart img, .q-app-output .q-chart svg')) t.live = now;
    if (t.chart === null || t.live === null) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

#: Read once the widgets are live and the page has loaded.
COLLECT_JS = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const scripts = resources.filter(r => r.initiatorType === 'script' || /\\.js(\\?|$)/.test(r.name));
  const t = window.__quireTimeline;
  return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, ws: t.ws, chart: t.chart, live: t.live,
          bytes: nav.transferSize + resources.reduce((n, r) => n + r.transferSize, 0),
          html: nav.encodedBodySize, scripts: scripts.length,
          scriptsFetched: scripts.filter(r => r.transferSize > 0).length};
}
"""
FIELDS = ("dcl", "load", "ws", "chart", "live")
LABELS = {"dcl": "DOMContentLoaded", "load": "load", "ws": "websocket open", "chart": "first chart",
          "live": "widgets live"}


def export_ref(ref: str, into: Path) -> Path:
    """The code of ``ref`` (lib/, notebooks/, templates/, reports.yaml) in ``into``; its commit printed."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], check=True, capture_output=True,
                            text=True).stdout.strip()
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "lib", "notebooks", "templates", "reports.yaml"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    print(f"baseline: {ref} ({commit}) exported to {into}", file=sys.stderr)
    return into


def visit(context, serve: Serve, app: str, throttle: float) -> dict:
    """Open ``app`` in a new page of ``context``; the page's timeline (ms) and transfer figures."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:", "ws://127.0.0.1")) else None)
    if throttle:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 20, "downloadThroughput": throttle * 1e6 / 8,
            "uploadThroughput": throttle * 1e6 / 8})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"[:300]))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"[:300]))
    page.goto(f"{serve.base}/voila/render/{app}.ipynb")
    try:
        page.wait_for_function("() => window.__quireTimeline && window.__quireTimeline.live !== null"
                               " && performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    except Exception:  # noqa: BLE001 - a stalled page is a result too: kept, with what it showed and logged
        shot = Path(tempfile.gettempdir()) / f"voila-timeline-stalled-{app}-{time.monotonic_ns()}.png"
        page.screenshot(path=str(shot))
        print(f"    stalled: {app}; screenshot {shot}; console:\n      " + "\n      ".join(console[-15:]),
              file=sys.stderr)
    result = page.evaluate(COLLECT_JS)
    result["external"] = len(external)
    page.close()
    return result


def login(context, serve: Serve) -> None:
    """The token cookie, as a stakeholder's link sets it (the landing page is not part of the timeline)."""
    page = context.new_page()
    page.goto(f"{serve.base}/?token={TOKEN}")
    page.close()


class Config:
    """One server under test: its name, process, returning visitor's context and visit count per app."""

    def __init__(self, name: str, serve: Serve, apps: list[str]) -> None:
        self.name, self.serve, self.apps = name, serve, apps
        self.visits = dict.fromkeys(apps, 0)
        self.returning = None
        self.results: dict[tuple[str, str], list[dict]] = {}

    def rendered(self, app: str | None = None) -> bool:
        """The pool of ``app`` (of every app) refilled: rendered once at start and once more after each visit."""
        return all(self.serve.filled(a) >= 1 + self.visits[a] for a in ([app] if app else self.apps))


def new_context(browser):
    """A browser context (a visitor) whose pages record their timeline."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(TIMELINE_JS)
    return context


def run_visit(browser, config: Config, app: str, kind: str, throttle: float, first_round: bool) -> None:
    """One visit, recorded and printed. The first new visitor of a server is its returning visitor's
    context, which thus has visited every app before its own visits."""
    fresh = kind == "new" and not first_round
    context = new_context(browser) if fresh else config.returning
    login(context, config.serve)
    try:
        result = visit(context, config.serve, app, throttle)
    finally:
        if fresh:
            context.close()
    config.visits[app] += 1
    result["loadavg"] = os.getloadavg()[0]
    config.results.setdefault((app, kind), []).append(result)
    print(f"  {config.name:<9} {app:<11} {kind:<9} load {result['loadavg']:4.1f}  "
          + "  ".join(f"{LABELS[f]} {result[f] / 1000:5.2f}" if result[f] is not None else f"{LABELS[f]}    -"
                      for f in FIELDS)
          + f"  {result['bytes'] / 1e6:5.2f} MB, {result['scripts']} scripts ({result['scriptsFetched']} fetched),"
            f" HTML {result['html'] / 1e3:.0f} kB" + (f", {result['external']} EXTERNAL" if result["external"] else ""),
          file=sys.stderr, flush=True)


def wait_idle(configs: list[Config], app: str | None = None, timeout: float = 180) -> None:
    """Until the pools of ``app`` (of every app) on every server have refilled (bounded)."""
    deadline = time.monotonic() + timeout
    while not all(c.rendered(app) for c in configs):
        if time.monotonic() > deadline:
            state = "; ".join(f"{c.name}: " + ", ".join(f"{a} {c.serve.filled(a)}/{1 + c.visits[a]}" for a in c.apps)
                              for c in configs)
            raise SystemExit(f"timed out waiting for the pools to refill ({state} renders)\n"
                             + "\n".join(f"--- {c.name}\n{c.serve.log.read_text()[-3000:]}" for c in configs))
        for c in configs:
            if c.serve.process.poll() is not None:
                raise SystemExit(f"{c.name}: quire serve exited:\n{c.serve.log.read_text()[-2000:]}")
        time.sleep(0.2)


def summary(configs: list[Config], apps: list[str], visits: int, throttle: float) -> None:
    network = f", network {throttle:g} Mbit/s + 20 ms" if throttle else ""
    loads = [r["loadavg"] for c in configs for rs in c.results.values() for r in rs]
    print(f"\nquire serve, preheated apps, {visits} visits per app and visitor ({os.cpu_count()} CPUs, load average "
          f"during the visits {min(loads):.1f}–{max(loads):.1f}, now {os.getloadavg()[0]:.1f}{network}); "
          "seconds from navigation, median [min–max]")
    print(f"{'app':<11}{'visitor':<10}{'code':<10}" + "".join(f"{LABELS[f]:>20}" for f in FIELDS)
          + f"{'MB':>7}{'scripts':>9}")
    for app in apps:
        for kind in ("new", "returning"):
            for c in configs:
                rs = c.results.get((app, kind), [])
                if not rs:
                    continue
                cells = []
                for f in FIELDS:
                    xs = [r[f] / 1000 for r in rs if r[f] is not None]
                    cells.append(f"{statistics.median(xs):.2f} [{min(xs):.2f}–{max(xs):.2f}]" if xs else "-")
                print(f"{app:<11}{kind:<10}{c.name:<10}" + "".join(f"{x:>20}" for x in cells)
                      + f"{statistics.median(r['bytes'] for r in rs) / 1e6:>7.2f}"
                      + f"{statistics.median(r['scripts'] for r in rs):>9.0f}")
    for c in configs:
        firsts = [r["chart"] / 1000 for (app, kind), rs in c.results.items() for r in rs if r["chart"] is not None]
        within = sum(x <= 1.0 for x in firsts)
        external = sum(r["external"] for rs in c.results.values() for r in rs)
        stalled = sum(r["live"] is None for rs in c.results.values() for r in rs)
        print(f"{c.name}: first chart ≤ 1 s in {within} of {len(firsts)} visits; {stalled} visits whose widgets "
              f"never came live (60 s); {external} requests left 127.0.0.1")


def compare(warehouse: str, baseline: str, apps: list[str], visits: int, throttle: float) -> None:
    """Print the timeline of ``visits`` rounds over ``apps``: ``baseline``'s code, then this checkout's, in turn."""
    from playwright.sync_api import sync_playwright

    # Kernels of closed pages are culled soon: 2 servers x 4 apps x many visits would otherwise pile up.
    cli = ["--pool-size", "1", "--cull-idle-timeout", "20", "--cull-interval", "5"]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        work = Path(tmp)
        home = export_ref(baseline, work / "baseline")
        configs = [Config("baseline", Serve(warehouse, work / "out-b", work / "baseline.log", *cli, home=home), apps),
                   Config("this", Serve(warehouse, work / "out-t", work / "this.log", *cli), apps)]
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            for c in configs:
                c.returning = new_context(browser)
            wait_idle(configs)
            for round_ in range(visits):
                for kind in ("new", "returning"):
                    for app in apps:
                        for c in configs:
                            wait_idle([c], app)
                            run_visit(browser, c, app, kind, throttle, first_round=round_ == 0)
        finally:
            for c in configs:
                c.serve.stop()
            browser.close()
    summary(configs, apps, visits, throttle)
