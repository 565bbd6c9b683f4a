"""Tenant isolation on the fast path: consecutive client runs on one warm worker share nothing.

Every client's name and content titles carry its own marker; a fan-out on a single worker
runs the clients one after another from the same warm fork server, and every file of every
run must hold its own client's marker and no other. A probe notebook also plants state in
the process (a module attribute, a file-level global, an environment variable) and reports
what the previous run left: nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from support import notebook_home, published_runs, run_quire, warehouse_copy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def marked(tiny_warehouse, tmp_path_factory):
    """A copy of the tiny warehouse where each client's name and titles carry MARK<client_id>X; (url, {slug: marker})."""
    path = tmp_path_factory.mktemp("marked") / "warehouse.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("update clients set name = name || ' MARK' || client_id || 'X'")
        con.execute("update content set title = title || ' MARK' || client_id || 'X'")
        rows = con.execute("select slug, client_id from clients order by slug").fetchall()
    return f"duckdb:///{path}", {slug: f"MARK{cid}X" for slug, cid in rows}


def _texts(folder: Path) -> dict[str, str]:
    pdf = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    return {name: (folder / name).read_text() for name in ("report.ipynb", "report.html", "run.json")} | {"report.pdf": pdf}


def test_consecutive_runs_on_one_warm_worker_hold_only_their_own_client(marked, quire_env):
    url, markers = marked
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": url}
    proc = run_quire(env, "run", "client", "--all-clients", "--workers", "1", timeout=900)
    assert proc.returncode == 0, proc.stderr
    runs = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    assert len(runs) >= 3, "the tiny warehouse should have several active clients"
    for folder in runs:
        slug = json.loads((folder / "run.json").read_text())["client"]
        own = markers[slug]
        for name, text in _texts(folder).items():
            found = set(re.findall(r"MARK\d+X", text))
            assert found <= {own}, f"{slug}: {name} holds other clients' markers {sorted(found - {own})}"
            if name != "run.json":
                assert own in text, f"{slug}: {name} should show the client's own marked data"


PROBE = [
    ("client: str = ''", ["parameters"]),
    ("import os, quire, json\n"
     "left = {'module': getattr(quire, 'left_by_previous_run', None), 'env': os.environ.get('QUIRE_PROBE'),\n"
     "        'global': globals().get('planted_global')}\n"
     "print(json.dumps(left))", []),
    ("quire.left_by_previous_run = client\nos.environ['QUIRE_PROBE'] = client\nplanted_global = client", []),
]


def test_a_run_sees_nothing_a_previous_run_left_in_its_process(tmp_path, tiny_warehouse):
    import nbformat

    from quire.batch import RunRequest, run_batch
    from quire.config import Settings

    home = notebook_home(
        tmp_path, "probe", PROBE,
        "reports:\n  probe:\n    title: Probe\n    notebook: notebooks/probe.ipynb\n    description: d\n"
        "    owner: o@example.com\n    formats: [html]\n    parameters:\n      client: {type: str}\n")
    settings = Settings(home=home, outputs=tmp_path / "outputs", warehouse_url=tiny_warehouse, pdf_renderer="weasyprint")
    requests = [RunRequest(f"probe-{name}", "probe", {"client": name}) for name in ("alpha", "beta", "gamma")]
    outcomes = run_batch(requests, settings, workers=1)
    assert [o.status for o in outcomes] == ["succeeded"] * 3, [o.error for o in outcomes]
    for outcome in outcomes:
        nb = nbformat.read(Path(outcome.output_folder) / "report.ipynb", as_version=4)
        printed = next(o.text for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
        assert json.loads(printed) == {"module": None, "env": None, "global": None}
