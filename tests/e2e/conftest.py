"""End-to-end fixtures: the real ``quire`` command against the tiny warehouse, outputs in a temp folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def quire_env(tiny_warehouse, tmp_path) -> dict[str, str]:
    """Environment for a ``quire`` subprocess: tiny warehouse, a fresh outputs folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIRE_")}
    env.update(QUIRE_WAREHOUSE_URL=tiny_warehouse, QUIRE_OUTPUTS=str(tmp_path / "outputs"), QUIRE_HOME=str(ROOT))
    return env


def run_quire(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "quire.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def published_runs(outputs: Path, report: str) -> list[Path]:
    return sorted(p for p in (outputs / report).glob("*/*") if p.is_dir()) if (outputs / report).exists() else []
