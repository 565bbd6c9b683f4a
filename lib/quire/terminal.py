"""The terminal the ``quire`` commands write to: one Rich console for results, one for messages.

Results (tables, paths of published runs) go to stdout, progress and errors to stderr,
so ``quire run … > list.txt`` keeps only what a script wants. Every command module
imports the consoles from here (never from each other).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console

# Piped or logged output has no terminal width; Rich would assume 80 columns and squeeze
# tables into one letter per line, so it gets room for a run id, a path and an error side by side.
PIPED_WIDTH = 240


def _console(*, stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # soft_wrap: paths and messages stay on one line whatever the terminal width (scripts grep them).
    # A terminal, or COLUMNS when set (Rich reads it itself), decides the width; a bare pipe gets PIPED_WIDTH.
    sized = stream.isatty() or os.environ.get("COLUMNS", "").isdigit()
    return Console(stderr=stderr, soft_wrap=True, width=None if sized else PIPED_WIDTH)


out = _console(stderr=False)
err = _console(stderr=True)


#: Parameter types that say which run it is, in the order a run's label names them.
KEY_TYPES = ("client", "experiment", "period")


def run_label(report: str, params: dict[str, Any], types: dict[str, str]) -> str:
    """``report · client-or-experiment · period``: which run a line is about (``types``: parameter name -> type)."""
    keys = [str(params[name]) for kind in KEY_TYPES for name, t in types.items()
            if t == kind and params.get(name) not in (None, "")]
    return " · ".join([report, *keys])


def error_line(message: str) -> None:
    """Print one ``error: …`` line on stderr, the message shown as plain text (no markup read from it)."""
    err.print("[red]error:[/red] ", end="", highlight=False)
    err.print(message, highlight=False, markup=False)


__all__ = ["out", "err", "error_line", "run_label", "KEY_TYPES", "PIPED_WIDTH"]
