"""Every module the installed package imports comes from a runtime dependency it declares itself.

Not from the dev extra (only for the tests), and not by luck through another package's
dependencies (which may drop it in any release). A feature's own extra (``dask``: batches on
a cluster) may hold what only that feature imports, imported where the feature starts.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"^[A-Za-z0-9_.\-]+", requirement.strip())[0]).lower()


def imported_modules() -> dict[str, set[str]]:
    """Top-level modules imported anywhere in lib/quire (at module level or inside functions) -> importing files."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "lib" / "quire").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_is_a_declared_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for name, reqs in project["optional-dependencies"].items() if name != "dev" for r in reqs]
    declared = {_name(r) for r in project["dependencies"] + extras}
    provided_by = metadata.packages_distributions()
    missing = {}
    for module, files in imported_modules().items():
        if module in sys.stdlib_module_names or module == "quire":
            continue
        distributions = {_name(d) for d in provided_by.get(module, [module])}
        if not distributions & declared:
            missing[module] = sorted(files)
    assert not missing, f"imported but not declared in [project].dependencies: {missing}"
