"""Report notebooks are committed without outputs and stay thin (logic lives in quire)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from quire.catalog import load_catalog
from quire.validation import notebook_outputs

ROOT = Path(__file__).resolve().parents[2]
# Every report's notebook, wherever the catalog keeps it: a glob of notebooks/*.ipynb left out the worked example
# in notebooks/examples/, the one the README tells analysts to copy.
NOTEBOOKS = sorted({spec.notebook_path(ROOT) for spec in load_catalog(ROOT / "reports.yaml").reports.values()})
NAMES = [p.relative_to(ROOT / "notebooks").with_suffix("").as_posix() for p in NOTEBOOKS]
# The product's reports keep their logic in quire; the worked example shows an analyst's own way (SQL in its cells).
PRODUCT = [p for p in NOTEBOOKS if p.parent == ROOT / "notebooks"]
FORBIDDEN = {
    "a function definition": re.compile(r"^\s*(async\s+)?def\s", re.M),
    "a class definition": re.compile(r"^\s*class\s", re.M),
    "SQL": re.compile(r"\b(select|insert|update|delete)\b.+\b(from|into|set)\b", re.I),
    "direct database access": re.compile(r"sqlalchemy|duckdb|create_engine"),
    "branching": re.compile(r"^\s*(if|for|while)\s", re.M),
}


def test_there_are_notebooks():
    assert {"executive", "client", "cohort", "experiment", "examples/revenue_by_plan"} <= set(NAMES)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NAMES)
def test_committed_without_outputs(notebook):
    assert notebook_outputs(notebook) == 0, "clear the outputs before committing"


@pytest.mark.parametrize("notebook", PRODUCT, ids=[p.stem for p in PRODUCT])
def test_notebook_is_thin(notebook):
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell must be tagged 'parameters'"
    for cell in code:
        for what, pattern in FORBIDDEN.items():
            assert not pattern.search(cell.source), f"{notebook.name}: {what} in a cell; move it into the quire package"
        # The parameters cell is one declaration per line, however many; every other cell is a call or two.
        if cell is not code[0]:
            assert len(cell.source.splitlines()) <= 6, f"{notebook.name}: a cell of more than 6 lines"
