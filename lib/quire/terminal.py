"""The terminal the ``quire`` commands write to: one Rich console for results, one for messages.

Results (tables, paths of published runs) go to stdout, progress and errors to stderr,
so ``quire run … > list.txt`` keeps only what a script wants. Every command module
imports the consoles from here (never from each other).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Piped or logged output has no terminal width; Rich would assume 80 columns and squeeze
# tables into one letter per line, so it gets room for a run id, a path and an error side by side.
PIPED_WIDTH = 240


def _console(*, stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # soft_wrap: paths and messages stay on one line whatever the terminal width (scripts grep them).
    # A terminal, or COLUMNS when set (Rich reads it itself), decides the width; a bare pipe gets PIPED_WIDTH.
    sized = stream.isatty() or os.environ.get("COLUMNS", "").isdigit()
    # emoji=False: a value quoted in a message (":x:" typed as a period) is shown as typed, not as an emoji.
    return Console(stderr=stderr, soft_wrap=True, width=None if sized else PIPED_WIDTH, emoji=False)


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


#: What a terminal acts on rather than shows: C0 and C1 controls (ESC among them), line and paragraph separators, and
#: the bidirectional overrides that reorder what follows; and the characters it shows as nothing (zero-width space,
#: word joiner and invisible operators, byte-order mark), with which a client's name lists exactly like another's.
#: A no-break space or an emoji's joiner is text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def visible(text: object) -> str:
    """``text`` with its control characters written out (``\\x1b``, ``\\n``): data read from the warehouse or a file
    (a client's name holding an escape sequence) cannot recolour the terminal, retitle its window or clear it."""
    return "".join(repr(c)[1:-1] if _CONTROL.match(c) else c for c in str(text))


def cell(value: object, style: str = "") -> Text:
    """A listing's cell of data, shown as :func:`visible` text."""
    return Text(visible(value), style)


def error_line(message: str) -> None:
    """Print one ``error: …`` line on stderr, the message shown as plain text (no markup read from it, no control
    character of a value it quotes)."""
    err.print("[red]error:[/red] ", end="", highlight=False)
    err.print(visible(message), highlight=False, markup=False)


__all__ = ["out", "err", "cell", "error_line", "listing", "run_label", "visible", "KEY_TYPES", "PIPED_WIDTH"]
