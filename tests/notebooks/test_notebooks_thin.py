"""Report notebooks are committed without outputs and stay thin (logic lives in quire)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from quire.validation import notebook_outputs

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FORBIDDEN = {
    "a function definition": re.compile(r"^\s*(async\s+)?def\s", re.M),
    "a class definition": re.compile(r"^\s*class\s", re.M),
    "SQL": re.compile(r"\b(select|insert|update|delete)\b.+\b(from|into|set)\b", re.I),
    "direct database access": re.compile(r"sqlalchemy|duckdb|create_engine"),
    "branching": re.compile(r"^\s*(if|for|while)\s", re.M),
}


def test_there_are_notebooks():
    assert {"executive", "client", "cohort", "experiment"} <= {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs(notebook):
    assert notebook_outputs(notebook) == 0, "clear the outputs before committing"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
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
