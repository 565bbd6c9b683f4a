"""The warm server's rehearsal on synthetic data: it changes how fast runs are, never what they publish.

Each server below is a process of its own (a process has one fork server): one rehearses
every built-in report before forking the runs, the other rehearses nothing. That the rehearsal
itself succeeds in this environment (a failed one only logs) is the second test's part.
"""

from __future__ import annotations

import json
import pstats
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from quire.batch.runner import REPORTS_ENV
from support import ROOT

pytestmark = pytest.mark.slow

RUNS = [("client", {"client": "town-of-fairdale", "period": "2026-10"}), ("executive", {"period": "2026-09"}),
        ("cohort", {"granularity": "month"}), ("experiment", {"experiment": "pricing-page-layout"})]

BATCH = """
import json, sys
from quire.batch import RunRequest, run_batch
from quire.config import get_settings
requests = [RunRequest(f"{report}-run", report, params) for report, params in json.loads(sys.argv[1])]
print(json.dumps([[o.status, o.error] for o in run_batch(requests, get_settings(), workers=1)]))
"""


def _publish(env: dict[str, str], outputs: Path, rehearsed: str, profiles: Path | None = None) -> None:
    # "example" has a notebook of its own: a server told it runs only that one has nothing to rehearse.
    env = {**env, "QUIRE_OUTPUTS": str(outputs), REPORTS_ENV: rehearsed}
    if profiles is not None:  # each run's cProfile statistics: what it called, and from where
        env["QUIRE_PROFILE_DIR"] = str(profiles)
    done = subprocess.run([sys.executable, "-c", BATCH, json.dumps(RUNS)], env=env, capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert [status for status, _ in outcomes] == ["succeeded"] * len(RUNS), outcomes


def _cells(path: Path) -> list[tuple]:
    """What a reader of the notebook sees: each cell's source, execution count and outputs."""
    nb = nbformat.read(path, as_version=4)
    return [(c.source, c.get("execution_count"), c.get("outputs")) for c in nb.cells]


def _figures(profile: Path) -> tuple[int, int]:
    """How many figures a run's charts asked :mod:`quire.figure_pool` for, and how many of them it built itself
    (the others were the warm server's blank spares)."""
    stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    asked = built = 0
    for (file, _, name), (_, calls, _, _, callers) in stats.items():
        if name == "subplots" and file.endswith(str(Path("quire", "figure_pool.py"))):
            asked += calls
        elif name == "subplots" and file.endswith(str(Path("matplotlib", "pyplot.py"))):
            built += sum(count[1] for (caller, _, _), count in callers.items() if caller.endswith("figure_pool.py"))
    return asked, built


def test_runs_forked_after_a_rehearsal_publish_exactly_what_unrehearsed_runs_publish(quire_env, tmp_path):
    _publish(quire_env, tmp_path / "rehearsed", ",".join(report for report, _ in RUNS), tmp_path / "profiles")
    _publish(quire_env, tmp_path / "cold", "example")
    # The rehearsed runs drew every chart on a spare figure of the server's (see quire.figure_pool), the cold ones
    # built their own: what follows compares the two.
    spared = {report: _figures(tmp_path / "profiles" / f"{report}-run.prof") for report, _ in RUNS}
    assert all(asked > 0 and built == 0 for asked, built in spared.values()), spared
    for report, _ in RUNS:
        [rehearsed] = (tmp_path / "rehearsed" / report).glob("*/*")
        [cold] = (tmp_path / "cold" / report).glob("*/*")
        files = sorted(p.name for p in cold.iterdir())
        assert sorted(p.name for p in rehearsed.iterdir()) == files
        # The HTML, every table's data and each cell's outputs byte for byte (the same run id and day);
        # the PDF and the spreadsheet carry the time they were written.
        for name in [f for f in files if f.endswith((".html", ".csv"))]:
            assert (rehearsed / name).read_bytes() == (cold / name).read_bytes(), f"{report}: {name}"
        assert _cells(rehearsed / "report.ipynb") == _cells(cold / "report.ipynb"), report
        counts = [count for _, count, _ in _cells(rehearsed / "report.ipynb") if count is not None]
        assert counts == list(range(1, len(counts) + 1)), "the archived notebook numbers its cells from 1"


PROBE = """
import json, os, threading
import matplotlib
import quire.batch.warm  # told to rehearse nothing at import: the probe rehearses below
from quire.batch.inprocess import CellShell
from quire.batch.rehearsal import rehearse
from quire.config import get_settings

def state():
    shell = CellShell.instance()
    return {"env": {k: v for k, v in os.environ.items() if k.startswith("QUIRE_")},
            "settings": get_settings().model_dump(mode="json"),
            "rc": {k: repr(v) for k, v in matplotlib.rcParams.items()},
            "names": sorted(shell.user_ns), "execution_count": shell.execution_count,
            "threads": threading.active_count(), "temp": sorted(os.listdir(os.environ["TMPDIR"])),
            "files": sorted(os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                            if os.path.exists(f"/proc/self/fd/{fd}"))}

before = state()
rehearsed = rehearse()
after = state()
print(json.dumps({"rehearsed": rehearsed, "before": before, "after": after}))
"""


def test_the_rehearsal_leaves_the_server_as_it_found_it(quire_env, tmp_path):
    (tmp_path / "tmp").mkdir()
    env = {**quire_env, "TMPDIR": str(tmp_path / "tmp"), REPORTS_ENV: "example"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["rehearsed"] == ["client", "executive", "cohort", "experiment"]
    before, after = found["before"], found["after"]
    assert before["env"][REPORTS_ENV] == "example" and before["env"]["QUIRE_WAREHOUSE_URL"] == quire_env["QUIRE_WAREHOUSE_URL"]
    for key in ("env", "settings", "rc", "names", "execution_count", "threads", "temp", "files"):
        assert after[key] == before[key], key
    assert after["temp"] == [] and after["threads"] == 1
