"""The cell ``quire run`` puts in front of a report notebook: the brand's house style, before any of its cells.

The cell is part of the executed notebook (the audit trail shows exactly what ran) and tagged
``remove-cell``, so the report never shows it. Being an ordinary cell, it works with any
execution engine.
"""

from __future__ import annotations

import json
import re
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import nbformat

SETUP_TAG = "quire-house-style"


@contextmanager
def cell_ids_filled_quietly() -> Iterator[None]:
    """Read notebooks without nbformat's two-line warning for cells that have no id.

    Notebooks written by a script (jupytext, a generator) often lack cell ids; nbformat gives them ids as it reads,
    and warns on every read, naming its own source file: noise on each validate and run. The notebook Quire
    archives is written with the ids.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cell is missing an id field")
        warnings.filterwarnings("ignore", message="Non-unique cell id")  # nbformat renumbers a copied cell's id
        yield


#: What nbformat accepts as a cell id; another ("bad id!") passed every check and failed the run's HTML export.
CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """``path`` as an nbformat 4 notebook, each cell with an id of its own that nbformat accepts (quietly):
    missing, repeated or malformed ids are replaced."""
    with cell_ids_filled_quietly():
        nb = nbformat.read(path, as_version=4)
    seen: set[str] = set()
    for cell in nb.cells:
        if "id" in cell and (not CELL_ID.fullmatch(str(cell.id)) or cell.id in seen):
            cell.id = uuid.uuid4().hex[:8]
        seen.add(cell.get("id", ""))
    return nb


def house_style_cell(brand: str, templates_dir: Path | None = None,
                     conventions: Mapping[str, str | None] | None = None) -> nbformat.NotebookNode:
    """A code cell that applies ``brand``'s house style (a validated kit key, from ``templates_dir``).

    ``conventions``: a client's own ``locale`` and ``currency`` (validated), which override the brand's.
    """
    # JSON literals: the values arrive in the kernel as data, whatever characters a path holds.
    where = f", templates_dir={json.dumps(str(templates_dir))}" if templates_dir is not None else ""
    where += "".join(f", {name}={json.dumps(value)}" for name, value in (conventions or {}).items()
                     if name in ("locale", "currency") and value)
    source = ("# Added by quire run, not shown in the report: the brand's look for plain pandas and matplotlib output.\n"
              "from quire.notebook.house_style import use_house_style\n"
              f"use_house_style({json.dumps(brand)}{where})")
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell", SETUP_TAG]})


def prepare_notebook(source: Path, target: Path, brand: str, templates_dir: Path | None = None,
                     conventions: Mapping[str, str | None] | None = None) -> Path:
    """Write ``source`` with the house-style cell in front to ``target`` (the run's notebook); returns ``target``."""
    nb = read_notebook(source)
    nb.cells = [c for c in nb.cells if SETUP_TAG not in c.get("metadata", {}).get("tags", [])]
    nb.cells.insert(0, house_style_cell(brand, templates_dir, conventions))
    nbformat.write(nb, target)
    return target


__all__ = ["prepare_notebook", "house_style_cell", "read_notebook", "cell_ids_filled_quietly", "SETUP_TAG"]
