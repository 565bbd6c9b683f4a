"""docs/contracts.md is generated from the contracts: the committed page must say what the code declares."""

from __future__ import annotations

from quire.contract import CONTRACTS, markdown
from quire.contract.docs import PAGE_PATH, REGENERATE
from support import ROOT


def test_the_committed_reference_page_matches_the_contracts():
    committed = (ROOT / PAGE_PATH).read_text(encoding="utf-8")
    assert committed == markdown(), f"docs/contracts.md is out of date: run `{REGENERATE}`"


def test_the_page_names_every_table_and_column_of_every_report():
    page = markdown()
    for c in CONTRACTS.values():
        assert f"## {c.title} (`{c.report}`)" in page
        for t in c.tables:
            assert f"#### `{t.name}` — {'optional' if t.optional else 'required'}" in page
            for col in t.columns:
                assert f"| `{col.name}` | {col.kind} | `{col.sql_type}` |" in page


def test_the_readme_links_the_page():
    assert "[docs/contracts.md](docs/contracts.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
