"""The README's "Your own data" works as written: its three commands take the example shop's CSV files
to a published cohort report, and its mapping excerpt is the example's own mapping.

The commands are read from the README itself (the first ``bash`` block of the section),
so the README cannot drift from what runs. They run from the project folder, as a user
would, but into a warehouse and outputs of their own.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from support import ROOT, published_files, published_runs, run_quire

pytestmark = pytest.mark.slow


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Your own data\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", _section(), flags=re.S)


def _commands() -> list[list[str]]:
    """The quire commands of the section's first bash block, without the ``.venv/bin/quire`` and comments."""
    commands = []
    for line in _blocks("bash")[0].splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == ".venv/bin/quire", line
            commands.append(words[1:])
    return commands


def test_the_mapping_excerpt_is_the_examples_own():
    mapping = (ROOT / "examples" / "retail" / "mapping.yaml").read_text(encoding="utf-8")
    [excerpt] = _blocks("yaml")
    assert excerpt.strip() in mapping


def test_three_commands_from_csv_to_a_cohort_report(quire_env: dict[str, str], tmp_path: Path):
    commands = _commands()
    assert [c[:2] for c in commands] == [["warehouse", "import"], ["warehouse", "check"], ["run", "cohort"]]
    outputs = tmp_path / "outputs"
    env = {**quire_env, "QUIRE_OUTPUTS": str(outputs), "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'shop.duckdb'}"}
    for command in commands:
        proc = run_quire(env, *command, timeout=600)
        assert proc.returncode == 0, f"quire {' '.join(command)}: {proc.stderr}"
    [run] = published_runs(outputs, "cohort")
    assert sorted(p.name for p in run.iterdir()) == published_files(run)
    record = json.loads((run / "run.json").read_text())
    # The example's data runs to 31 October 2026: its last complete month, with every customer who signed up.
    assert record["parameters"]["period"] == "2026-10"
    users = next(k for k in record["headline"] if k["name"] == "users")
    assert users["value"] > 0
