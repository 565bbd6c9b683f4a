"""Tenant isolation and fan-out, end to end: the real CLI on a warehouse with planted marker data.

Every other client's name and content titles carry a unique marker; the target client's
carry its own marker. The target's notebook, HTML, PDF text and run.json must contain its
own marker (so the check can see markers at all) and none of the others'.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from support import published_runs, run_quire, warehouse_copy

pytestmark = pytest.mark.slow
OWN = "OWNMARK"


@pytest.fixture(scope="module")
def planted(tiny_warehouse, tmp_path_factory):
    """A copy of the tiny warehouse with markers planted; returns (url, target slug, other markers)."""
    path = tmp_path_factory.mktemp("planted") / "warehouse.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        # A white-label target: an active client whose brand is not the platform's own.
        target, = con.execute("""
            select c.slug from clients c join organizations o using (org_id)
            where c.status = 'active' and coalesce(c.brand, o.brand) <> 'quire' order by c.slug limit 1""").fetchone()
        con.execute("update clients set name = name || ' ' || ? where slug = ?", [OWN, target])
        con.execute("update content set title = title || ' ' || ? where client_id = (select client_id from clients where slug = ?)", [OWN, target])
        con.execute("update clients set name = name || ' ZZCLIENT' || client_id where slug <> ?", [target])
        con.execute("update content set title = title || ' ZZTITLE' || content_id where client_id <> (select client_id from clients where slug = ?)", [target])
    return f"duckdb:///{path}", target


def _texts(folder: Path) -> dict[str, str]:
    pdf = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    return {name: (folder / name).read_text() for name in ("report.ipynb", "report.html", "run.json")} | {"report.pdf": pdf}


def test_a_client_report_holds_only_that_clients_data(planted, quire_env):
    url, target = planted
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": url}
    proc = run_quire(env, "run", "client", "-p", f"client={target}")
    assert proc.returncode == 0, proc.stderr
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    assert folder.name.endswith(target)
    for name, text in _texts(folder).items():
        leaked = sorted(set(re.findall(r"ZZ(?:CLIENT|TITLE)\d+", text)))
        assert not leaked, f"{name} contains other clients' data: {leaked[:5]}"
        if name != "run.json":
            assert OWN in text, f"{name} should show the client's own (marked) name or content"
    record = json.loads((folder / "run.json").read_text())
    assert record["client"] == target and record["brand"] != "quire"


def test_white_label_report_never_names_the_platform(planted, quire_env):
    url, target = planted
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": url}
    proc = run_quire(env, "run", "client", "-p", f"client={target}")
    assert proc.returncode == 0, proc.stderr
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    html = (folder / "report.html").read_text()
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(style|script)[^>]*>.*?</\1>", " ", html))
    assert "quire" not in visible.lower()
    assert "quire" not in _texts(folder)["report.pdf"].lower()


def test_fan_out_runs_each_client_and_continues_past_a_failure(planted, quire_env, tmp_path):
    url, _ = planted
    path = tmp_path / "fanout.duckdb"
    with warehouse_copy(url, path) as con:
        slugs = [r[0] for r in con.execute(
            "select slug from clients where status = 'active' and sector = 'municipality' order by slug").fetchall()]
        assert len(slugs) >= 2, "the tiny warehouse should have several active municipalities"
        broken = slugs[0]
        con.execute("update clients set brand = 'no-such-brand' where slug = ?", [broken])  # a broken brand assignment
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}
    proc = run_quire(env, "run", "client", "--clients", "sector=municipality", timeout=600)
    assert proc.returncode == 1  # one client failed
    runs = published_runs(Path(env["QUIRE_OUTPUTS"]), "client")
    assert sorted(r.name.split("-", 2)[2] for r in runs) == slugs[1:]
    assert f"{len(slugs) - 1} of {len(slugs)} runs succeeded" in proc.stdout
    assert broken in proc.stderr and "no-such-brand" in proc.stderr
