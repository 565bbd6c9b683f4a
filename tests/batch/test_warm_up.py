"""What the warm fork server imports: everything for a batch, the base only for a single run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from quire.batch.runner import SINGLE_RUN_ENV

pytestmark = pytest.mark.slow

PROBE = "import sys, quire.batch.warm as warm; print(warm.MISSED); print(' '.join(sorted(sys.modules)))"


def warmed(*, single_run: bool) -> tuple[str, set[str]]:
    """(what the warm-up missed, the modules imported) for a fresh server process."""
    env = {k: v for k, v in os.environ.items() if k != SINGLE_RUN_ENV}
    if single_run:
        env[SINGLE_RUN_ENV] = "1"
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    missed, modules = done.stdout.strip().splitlines()[-2:]
    return missed, set(modules.split())


def test_a_batch_server_imports_every_report_and_a_single_run_server_only_the_base():
    batch_missed, batch = warmed(single_run=False)
    single_missed, single = warmed(single_run=True)
    assert batch_missed == "[]" and single_missed == "[]"
    for name in ("quire.pipeline", "papermill", "nbconvert", "IPython", "duckdb_engine", "quire.batch.inprocess"):
        assert name in batch and name in single, name
    # What only some reports use: a single run imports it itself if (and only if) it needs it.
    for name in ("pingouin", "quire.reports.experiment", "openpyxl"):
        assert name in batch and name not in single, name
