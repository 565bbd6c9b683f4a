"""Helpers shared by the test folders (importable as ``support`` through pytest's ``pythonpath``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Debian's Chromium, driven by Playwright in the browser tests (never Playwright's own download).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def quire_free_env() -> dict[str, str]:
    """This process' environment without its ``QUIRE_*`` settings, for a ``quire`` subprocess that a test configures.

    A ``quire run`` there leaves no warm service behind (``QUIRE_WARM_LINGER=0``): one per test would
    hold a fork server and Chromium for ten minutes. The tests of that service ask for one.
    """
    return {k: v for k, v in os.environ.items() if not k.startswith("QUIRE_")} | {"QUIRE_WARM_LINGER": "0"}


def run_quire(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "quire.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def published_files(folder: Path) -> list[str]:
    """What a published run must hold: the report's four files and its tables' data (report.xlsx and one CSV
    per table, as its run.json lists them); raises if the run recorded no table (every report shows some)."""
    import json

    data = [f["file"] for f in json.loads((folder / "run.json").read_text(encoding="utf-8")).get("data_files") or []]
    assert data, f"{folder.name}: no table data recorded"
    return sorted(["report.html", "report.ipynb", "report.pdf", "run.json", "report.xlsx", *data])


def published_runs(outputs: Path, report: str) -> list[Path]:
    return sorted(p for p in (outputs / report).glob("*/*") if p.is_dir()) if (outputs / report).exists() else []


@contextmanager
def warehouse_copy(url: str, path: Path) -> Iterator:
    """A writable copy at ``path`` of the DuckDB warehouse at ``url``, open for planting test data; closed on exit.

    The copy's URL is ``f"duckdb:///{path}"``.
    """
    import duckdb

    shutil.copy(url.removeprefix("duckdb:///"), path)
    con = duckdb.connect(str(path))
    try:
        yield con
    finally:
        con.close()


def rebuild_table(con, table: str, columns: str = "*") -> None:
    """Replace ``table`` of the DuckDB connection ``con`` by ``SELECT {columns}`` of it: without its constraints (NOT
    NULL, keys), as a view or another database's table may be, and retyped where ``columns`` says so
    (``* REPLACE (CAST(day AS VARCHAR) AS day)``)."""
    con.execute(f"CREATE TABLE {table}__rebuilt AS SELECT {columns} FROM {table}")
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {table}__rebuilt RENAME TO {table}")


@contextmanager
def brand_chart_style(brand) -> Iterator[None]:
    """Charts drawn inside are in ``brand``'s style (a brand's name or a loaded ``Brand``), as a report draws them;
    matplotlib's settings are put back after, so that no later test draws in a style this one left behind."""
    import matplotlib

    from quire.brand import load_brand
    from quire.chart_style import use_brand

    with matplotlib.rc_context():
        use_brand(load_brand(brand) if isinstance(brand, str) else brand)
        yield


@contextmanager
def silent_server() -> Iterator[int]:
    """The port of a TCP server on 127.0.0.1 that takes connections and never says a word (a hung database or
    scheduler, or another program on its port): the kernel completes each connection into the listen queue,
    nothing accepts or answers it."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def within(seconds: float, call, message: str = "the call"):
    """``call()``'s result, or the exception it raised (returned, not raised); fails the test if the call has
    not returned after ``seconds``. A call that hangs is left behind in a daemon thread, not waited for."""
    import threading

    outcome: list = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=target, daemon=True)
    waiter.start()
    waiter.join(seconds)
    assert outcome, f"{message} was still waiting after {seconds} s"
    return outcome[0]


def wait_for(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


def notebook_home(tmp_path: Path, report: str, cells: list[tuple[str, list[str]]], catalog: str) -> Path:
    """A QUIRE_HOME with the project's templates, one notebook ``<report>.ipynb`` of ``(source, tags)`` cells
    and ``catalog`` as its reports.yaml."""
    import nbformat

    home = tmp_path / "home"
    (home / "notebooks").mkdir(parents=True)
    (home / "templates").symlink_to(ROOT / "templates")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, metadata={"tags": tags})
                                         for source, tags in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, home / "notebooks" / f"{report}.ipynb")
    (home / "reports.yaml").write_text(catalog)
    return home
