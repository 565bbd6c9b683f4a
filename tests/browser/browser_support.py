"""Helpers of the browser tests: a real ``quire serve`` subprocess and Debian's chromium through Playwright.

Each server runs on a free 127.0.0.1 port against the tiny warehouse, with an outputs
folder holding a few published runs (written here: a run's files and ``run.json``, as the
pipeline publishes them). Screenshots go to ``tests/artifacts/browser/`` (git-ignored).
Every wait is bounded; a server that does not come up fails the test with its log.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (one definition for every test folder)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS.mkdir(parents=True, exist_ok=True)  # screenshots land here
TOKEN = "browser-test-token-3f9a"
DAY = "2026-11-02"

# Published runs the landing page must list: (report, run id, client slug, client name, period)
RUNS = [
    ("executive", "20261102T060000Z-aaaaaa", None, None, "October 2026"),
    ("cohort", "20261102T060100Z-bbbbbb", None, None, "October 2026"),
    ("client", "20261102T060200Z-cccccc-quantalane-health", "quantalane-health", "Quantalane Health", "October 2026"),
    ("client", "20261102T060300Z-dddddd-riverton-realty", "riverton-realty", "Riverton Realty", "October 2026"),
]


# Run folders planted by plant_traps: what each one tries.
TRAPS = {
    "warehouse": "20261102T061000Z-link01",                               # report.pdf/html -> warehouse, state db
    "other-report": "20261102T061100Z-link02-quantalane-health",          # report.html -> another client's report
    "other-folder": "20261102T061200Z-link03-quantalane-health",          # the run folder -> another client's run
    "linked-record": "20261102T061300Z-link04-quantalane-health",         # run.json -> the pinned client's record
    "fifo": "20261102T061400Z-fifo01",                                    # report.pdf is a FIFO
    "failed": "20261102T061500Z-fail01",                                  # a failed run's report
}


@dataclass
class Server:
    """A running ``quire serve``: where it listens, its token and log, and the outputs it serves."""

    base: str
    host: str
    port: int
    token: str
    outputs: Path
    log: Path
    process: subprocess.Popen

    def url(self, path: str, token: bool = True) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}" + (f"{sep}token={self.token}" if token else "")

    def get(self, path: str, token: bool = True, method: str = "GET") -> http.client.HTTPResponse:
        """A raw GET (no redirect following, the path sent as given: ``..`` and %-escapes included); the token in
        the Authorization header, as a program sends it (a page given ``?token=`` is redirected to drop it)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.request(method, path, headers={"Authorization": f"token {self.token}"} if token else {})
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        return response


def settled_log(server: Server, timeout: float = 20) -> str:
    """The server's log once every request sent so far is in it: a marker request's line is awaited (bounded)."""
    marker = f"/settle-{time.monotonic_ns()}"
    server.get(marker, token=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = server.log.read_text(errors="replace")
        if marker in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"the request {marker} did not reach the log within {timeout} s")


def open_app(page, url: str, name: str, timeout_ms: int = 60_000) -> float:
    """Open an app page and wait (bounded) for its first chart; the seconds it took.

    No reload on failure: a page that stays at "Executing 1 of 2" is the defect the apps'
    HTML output area fixed (an ipywidgets Output made Voilà hang now and then), so it fails
    the test, with a screenshot and the browser console.
    """
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    try:
        page.wait_for_selector(".q-app-output .q-chart img", timeout=timeout_ms)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{name}-timeout.png"), full_page=True)
        raise AssertionError(f"{name}: no chart within {timeout_ms / 1000:.0f} s (spinner: "
                             f"{page.locator('#loading_text').all_inner_texts()}); console:\n"
                             + "\n".join(page.console[-30:])) from None
    return time.perf_counter() - t0


def axe_violations(page) -> list[tuple[str, str, str]]:
    """axe-core's violations on the page: (rule, impact, the first offending element). The page's CSP allows
    the inline script Playwright injects (Voilà's pages need 'unsafe-inline'), or its context bypasses the CSP."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make setup` (npm ci --prefix tests/browser)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], v["nodes"][0]["html"][:120]) for v in result["violations"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def publish_fake_runs(outputs: Path) -> None:
    """Write published run folders (report.html, report.pdf, report.ipynb, run.json) as the pipeline does."""
    for report, run_id, slug, name, period in RUNS:
        folder = outputs / report / DAY / run_id
        folder.mkdir(parents=True)
        (folder / "report.html").write_text(f"<!DOCTYPE html><title>{report}</title><h1>{report} {name or ''}</h1>",
                                            encoding="utf-8")
        (folder / "report.pdf").write_bytes(b"%PDF-1.4\n% test\n")
        (folder / "report.ipynb").write_text("{}", encoding="utf-8")
        (folder / "run.json").write_text(json.dumps({
            "run_id": run_id, "report": report, "status": "succeeded", "period": period, "client": slug,
            "client_name": name, "started_at": f"{DAY}T06:00:00+00:00", "finished_at": f"{DAY}T06:00:05+00:00"}),
            encoding="utf-8")
    # Things under outputs/ that must never be served.
    (outputs / ".quire").mkdir(exist_ok=True)
    (outputs / ".quire" / "state.sqlite").write_bytes(b"secret state")
    (outputs / ".quire" / "warehouse.duckdb").write_bytes(b"secret warehouse")
    plant_traps(outputs)


def _trap_run(outputs: Path, report: str, run_id: str, client: str | None = None, status: str = "succeeded") -> Path:
    folder = outputs / report / DAY / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"run_id": run_id, "report": report, "status": status, "client": client,
                                                 "client_name": client, "period": "October 2026"}), encoding="utf-8")
    return folder


def plant_traps(outputs: Path) -> None:
    """Run folders that look published but whose files must never be served (see :data:`TRAPS`)."""
    riverton = f"../{RUNS[3][1]}"  # the other client's run, beside the traps in client/<DAY>/
    linked = _trap_run(outputs, "executive", TRAPS["warehouse"])
    (linked / "report.pdf").symlink_to("../../../.quire/warehouse.duckdb")
    (linked / "report.html").symlink_to("../../../.quire/state.sqlite")
    # A run of the pinned client whose report is a link into another client's run.
    (_trap_run(outputs, "client", TRAPS["other-report"], "quantalane-health") / "report.html").symlink_to(
        f"{riverton}/report.html")
    # A run folder that is itself a link to another client's run.
    (outputs / "client" / DAY / TRAPS["other-folder"]).symlink_to(RUNS[3][1])
    # A report beside a run.json that is a link to the pinned client's record.
    folder = outputs / "client" / DAY / TRAPS["linked-record"]
    folder.mkdir()
    (folder / "report.html").write_text("<h1>Riverton Realty, copied</h1>", encoding="utf-8")
    (folder / "run.json").symlink_to(f"../{RUNS[2][1]}/run.json")
    # A FIFO under a served name: opening it for reading must not hang the server.
    os.mkfifo(_trap_run(outputs, "executive", TRAPS["fifo"]) / "report.pdf")
    (_trap_run(outputs, "executive", TRAPS["failed"], status="failed") / "report.html").write_text("<h1>failed</h1>")


def start_server(env: dict[str, str], outputs: Path, log: Path, *args: str, pools: int, timeout: float = 120,
                 token: str | None = TOKEN) -> Server:
    """Start ``quire serve`` and wait (bounded) until it answers and ``pools`` preheated apps have rendered.

    ``token=None``: the server generates its token (``Server.token`` is then empty).
    """
    port = free_port()
    env = {**env, "QUIRE_OUTPUTS": str(outputs), "PYTHONUNBUFFERED": "1"}
    if token:
        env["QUIRE_SERVE_TOKEN"] = token
    handle = log.open("w")
    process = subprocess.Popen([sys.executable, "-m", "quire.cli", "serve", "--port", str(port), *args],
                               env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", "127.0.0.1", port, token or "", outputs, log, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"quire serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        text = log.read_text()
        # Voilà logs a pool "filled" when its kernels have started; the app logs "[quire] … ready" once rendered.
        if text.count("[quire] ") >= pools and "Quire apps" in text:
            try:
                if server.get("/quire/static/app.css", token=False).status == 200:
                    return server
            except OSError:
                pass
        time.sleep(0.25)
    stop_server(server)
    pytest.fail(f"quire serve was not ready within {timeout} s:\n{log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
