"""The built wheel, installed without extras into a fresh virtualenv, runs the commands a user starts with.

The test environment holds the dev extras (pypdf, playwright…), so an import that only
they satisfy passes every other test; here nothing but the declared runtime dependencies
is installed. pip resolves them as a user's pip would (its cache and configured indexes
make the second time fast). The wheel holds the package only: notebooks, templates and
the catalog come from the checkout through QUIRE_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, published_files, published_runs

pytestmark = pytest.mark.slow

BUILD_TIMEOUT = 300
INSTALL_TIMEOUT = 1200
COMMAND_TIMEOUT = 300


def _run(args: list, timeout: int, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory) -> Path:
    """A fresh virtualenv holding the wheel built from this checkout and its runtime dependencies only."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy: an in-tree build would leave build/ in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "lib", source / "lib", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", work / "dist", source], BUILD_TIMEOUT)
    [wheel] = (work / "dist").glob("quire-*.whl")
    venv = work / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", venv], BUILD_TIMEOUT)
    # No byte-compiling of every dependency at install (half the install time): what runs compiles on import.
    _run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile", wheel], INSTALL_TIMEOUT)
    return venv


@pytest.fixture(scope="session")
def wheel_env(wheel_venv, tmp_path_factory) -> dict[str, str]:
    outputs = tmp_path_factory.mktemp("wheel-outputs")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUIRE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(QUIRE_HOME=str(ROOT), QUIRE_OUTPUTS=str(outputs), QUIRE_WARM_LINGER="0",
               QUIRE_WAREHOUSE_URL=f"duckdb:///{outputs / '.quire' / 'warehouse.duckdb'}",
               PATH=f"{wheel_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return env


def quire(venv: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # Run from a folder outside the checkout, so nothing is imported from lib/ by accident.
    return _run([venv / "bin" / "quire", *args], COMMAND_TIMEOUT, env=env, cwd=env["QUIRE_OUTPUTS"])


def test_the_fresh_venv_has_no_dev_extras_and_imports_quire_from_the_wheel(wheel_venv, wheel_env):
    python = wheel_venv / "bin" / "python"
    for module in ("aiosmtpd", "distributed"):  # a dev extra, and the dask extra
        probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, timeout=60, env=wheel_env)
        assert probe.returncode != 0, f"{module} (an extra) must not be in the fresh virtualenv"
    where = _run([python, "-c", "import quire; print(quire.__file__)"], 60, env=wheel_env, cwd=wheel_env["QUIRE_OUTPUTS"])
    assert str(wheel_venv) in where.stdout


def test_brand_check_and_validate_run(wheel_venv, wheel_env):
    brand = quire(wheel_venv, wheel_env, "brand", "check", "quire")
    assert "brand 'quire' (Quire) is valid" in brand.stdout and "sample pdf" in brand.stdout
    assert quire(wheel_venv, wheel_env, "validate").stderr == ""


def test_a_report_runs_on_a_tiny_warehouse(wheel_venv, wheel_env):
    quire(wheel_venv, wheel_env, "warehouse", "build", "--scale", "tiny")
    run = quire(wheel_venv, wheel_env, "run", "executive")
    assert run.stdout.startswith("✓ executive")
    [folder] = published_runs(Path(wheel_env["QUIRE_OUTPUTS"]), "executive")
    assert sorted(p.name for p in folder.iterdir()) == published_files(folder)
