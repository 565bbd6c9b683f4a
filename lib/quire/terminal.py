"""The terminal the ``quire`` commands write to: one Rich console for results, one for messages.

Results (tables, paths of published runs) go to stdout, progress and errors to stderr,
so ``quire run … > list.txt`` keeps only what a script wants. Every command module
imports the consoles from here (never from each other).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

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


def listing(*headers: str, keep_whole: tuple[int, ...] = (0,)) -> Table:
    """A table for a listing: a rule under the header, no frame (more room for the cells in a narrow terminal).

    Cells wrap and fold instead of being cut with "…"; the columns in ``keep_whole`` (ids a user
    copies into a command) are never broken.
    """
    table = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for index, column in enumerate(table.columns):
        column.overflow = "fold"
        column.no_wrap = index in keep_whole
    return table


def error_line(message: str) -> None:
    """Print one ``error: …`` line on stderr, the message shown as plain text (no markup read from it)."""
    err.print("[red]error:[/red] ", end="", highlight=False)
    err.print(message, highlight=False, markup=False)


__all__ = ["out", "err", "error_line", "listing", "run_label", "KEY_TYPES", "PIPED_WIDTH"]
