"""Helpers of the console tests: a project home, a real ``quire serve`` (and scheduler), published runs, HTTP calls.

Every wait is bounded. Servers run on free 127.0.0.1 ports with their own outputs folder
and SQLite state database; the test process reads and writes the same state database
(tokens, run rows) through ``quire.state`` as the server does.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from support import CHROMIUM, CHROMIUM_ARGS, quire_free_env, wait_for  # noqa: F401  (one definition for every test folder)

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "tests" / "artifacts" / "console"
ARTIFACTS.mkdir(parents=True, exist_ok=True)  # screenshots land here
SERVER_TOKEN = "console-test-server-token-7c1e"
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"


def make_home(base: Path, *, extra_catalog: str = "") -> Path:
    """A QUIRE_HOME: the real notebooks and templates, the real catalog plus the ``alltypes`` test report."""
    home = base / "home"
    shutil.copytree(ROOT / "notebooks", home / "notebooks")
    shutil.copy(HERE / "project" / "notebooks" / "alltypes.ipynb", home / "notebooks" / "alltypes.ipynb")
    (home / "templates").symlink_to(ROOT / "templates")
    catalog = (ROOT / "reports.yaml").read_text(encoding="utf-8").rstrip() + "\n\n"
    catalog += (HERE / "project" / "alltypes.yaml").read_text(encoding="utf-8") + extra_catalog
    (home / "reports.yaml").write_text(catalog, encoding="utf-8")
    return home


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running ``quire serve``."""

    host: str
    port: int
    prefix: str
    process: subprocess.Popen
    log: Path
    env: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}{self.prefix}"

    def request(self, method: str, path: str, *, token: str | None = None, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any, http.client.HTTPResponse]:
        """One HTTP request to ``prefix + path``; (status, JSON or bytes, response)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body) if not isinstance(body, (bytes, str)) else body
            sent.setdefault("Content-Type", "application/json")
        conn.request(method, self.prefix.rstrip("/") + path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        if (response.getheader("Content-Type") or "").startswith("application/json"):
            return response.status, json.loads(raw), response
        return response.status, raw, response

    def get(self, path: str, token: str | None = None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path: str, body: Any = None, token: str | None = None, **kw):
        return self.request("POST", path, token=token, body=body, **kw)


def sign_in(server: Server, path: str, token: str) -> tuple[int, Any, http.client.HTTPResponse, str]:
    """Open ``path`` as a browser does a link that carries ``?token=``: the redirect that signs in and drops the
    token, then the page with the cookie it set. (status, body, response, every cookie set as one Cookie header)."""
    status, _, response = server.get(f"{path}?token={token}")
    assert status == 302 and response.getheader("Location").endswith(path), (status, response.getheader("Location"))
    jar = dict(c.split(";", 1)[0].split("=", 1) for c in response.headers.get_all("Set-Cookie") or [])
    status, body, response = server.get(path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    jar |= dict(c.split(";", 1)[0].split("=", 1) for c in response.headers.get_all("Set-Cookie") or [])
    return status, body, response, "; ".join(f"{k}={v}" for k, v in jar.items())


def start_serve(env: dict[str, str], log: Path, *args: str, prefix: str = "/", timeout: float = 90,
                pools: int = 0) -> Server:
    """``quire serve``; without ``pools`` no kernel is preheated (the console needs none), else it waits
    until that many preheated apps have rendered. Returns once it answers."""
    port = free_port()
    handle = log.open("w")
    extra = ["--base-url", prefix] if prefix != "/" else []
    extra += ["--pool-size", "1"] if pools else ["--no-preheat"]
    process = subprocess.Popen([sys.executable, "-m", "quire.cli", "serve", "--port", str(port), *extra, *args],
                               env={**env, "PYTHONUNBUFFERED": "1"}, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    server = Server("127.0.0.1", port, prefix, process, log, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"quire serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            # An app logs "[quire] … ready" once its preheated kernel has rendered it.
            if log.read_text().count("[quire] ") >= pools and server.get("/quire/static/app.css")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.25)
    stop(process)
    pytest.fail(f"quire serve was not ready within {timeout} s:\n{log.read_text()[-3000:]}")


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen:
    """``quire scheduler`` as a real subprocess (its own session, so its runs can be found and stopped)."""
    return subprocess.Popen([sys.executable, "-m", "quire.cli", "scheduler"], env={**env, "PYTHONUNBUFFERED": "1"},
                            cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# ------------------------------------------------------------------------------------------ runs
def publish_run(engine, outputs: Path, *, report: str, client: str | None, period: str, figures: dict[str, float],
                created: datetime, status: str = "succeeded", run_id: str | None = None,
                conclusion: str | None = None) -> str:
    """A run as the pipeline publishes it (files, run.json with a headline) and its history row."""
    from quire.periods import parse_period
    from quire.state.schema import runs

    run_id = run_id or f"{created:%Y%m%dT%H%M%SZ}-{abs(hash((report, client, created))) % 0xFFFFFF:06x}" + (
        f"-{client}" if client else "")
    folder = outputs / report / f"{created:%Y-%m-%d}" / run_id
    row = dict(run_id=run_id, report=report, client=client, parameters={"period": period, **({"client": client} if client else {})},
               trigger="schedule", attempt=1, status=status, created_at=created, started_at=created,
               finished_at=created + timedelta(seconds=7), transient=False)
    if status == "succeeded":
        folder.mkdir(parents=True)
        (folder / "report.html").write_text(f"<!DOCTYPE html><title>{report}</title><h1>{report} {client or ''}</h1>"
                                            '<a href="report.xlsx" download>xlsx</a>', encoding="utf-8")
        (folder / "report.pdf").write_bytes(b"%PDF-1.4\n% test\n")
        (folder / "report.ipynb").write_text("{}", encoding="utf-8")
        (folder / "report.xlsx").write_bytes(b"PK\x03\x04 test workbook")
        (folder / "table-01-figures.csv").write_text("name,value\n" + "".join(f"{k},{v}\n" for k, v in figures.items()),
                                                     encoding="utf-8")
        (folder / "run.json").write_text(json.dumps({
            "run_id": run_id, "report": report, "title": f"{report.title()} report", "status": "succeeded",
            "period": parse_period(period).label, "client": client, "client_name": client, "parameters": row["parameters"],
            "timings": {"execute": 3.2, "total": 6.5}, "conclusion": conclusion,
            "headline": [{"name": k, "label": k.title(), "value": v, "unit": "number", "direction": "up_is_good"}
                         for k, v in figures.items()],
            "data_files": [{"file": "table-01-figures.csv", "caption": "Figures", "rows": len(figures), "sheet": "1 Figures"}],
        }), encoding="utf-8")
        row["output_folder"] = str(folder)
    else:
        row.update(error="cell 3 raised ValueError: boom", error_type="ExecutionError")
    with engine.begin() as conn:
        conn.execute(runs.insert().values(**row))
    return run_id


def run_count(engine, **where) -> int:
    import sqlalchemy as sa

    from quire.state.schema import runs

    stmt = sa.select(sa.func.count()).select_from(runs)
    for key, value in where.items():
        stmt = stmt.where(runs.c[key] == value)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


CLIENT_A = "town-of-fairdale"
CLIENT_B = "riverton-realty"
# What a report concludes in words, as run.json records it (with markup that must be shown as text).
CONCLUSION = "Verdict: ship <b>B</b> & keep watching refunds."


def console_env(tiny_warehouse: str, base: Path, **extra: str) -> dict[str, str]:
    """The environment of a console server: tiny warehouse, test home, its own outputs and state database."""

    home = make_home(base)
    env = quire_free_env()
    env.update(QUIRE_HOME=str(home), QUIRE_OUTPUTS=str(base / "outputs"), QUIRE_WAREHOUSE_URL=tiny_warehouse,
               QUIRE_STATE_URL=f"sqlite:///{base / 'state.db'}", QUIRE_SERVE_TOKEN=SERVER_TOKEN,
               QUIRE_QUEUE_POLL_SECONDS="1", **extra)
    return env
