"""Every report notebook runs top to bottom with its default parameters (nbval, real kernel)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quire.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
# Every report's notebook, wherever the catalog keeps it: a glob of notebooks/*.ipynb left out the worked example
# in notebooks/examples/, the one the README tells analysts to copy.
NOTEBOOKS = sorted({spec.notebook_path(ROOT) for spec in load_catalog(ROOT / "reports.yaml").reports.values()})
NAMES = [p.relative_to(ROOT / "notebooks").with_suffix("").as_posix() for p in NOTEBOOKS]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NAMES)
def test_notebook_runs_with_defaults_under_nbval(notebook, tiny_warehouse, tmp_path):
    env = {**os.environ, "QUIRE_WAREHOUSE_URL": tiny_warehouse, "QUIRE_OUTPUTS": str(tmp_path)}
    # --nbval-lax: the committed notebooks have no outputs to compare; every cell must run without error.
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", str(notebook)],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
