"""The ``quire`` command's entry point.

A Ctrl-C while the command still imports its modules (the first ~0.7 s) ends it as one later does: "aborted",
exit status 130, where it printed a ``KeyboardInterrupt`` traceback through the imports.
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    """Import the command line with Ctrl-C ending it quietly, then run it with Python's own Ctrl-C handling."""
    # Only where Ctrl-C would raise: a command started with SIGINT ignored (in the background) keeps it ignored.
    interruptible = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if interruptible:
        signal.signal(signal.SIGINT, _aborted)
    from quire import cli

    if interruptible:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    cli.main()


def _aborted(*_: object) -> None:
    sys.stderr.write("aborted\n")
    os._exit(130)  # nothing has started yet that would need cleaning up
