"""One error hierarchy for Quire.

Every error a user can cause or fix is a :class:`QuireError`; the CLI prints its
message on one line and exits with :attr:`QuireError.exit_code`, never a traceback.
Subclasses carry the context (report, run, client, parameter) that makes the
message actionable.
"""

from __future__ import annotations

import errno


class QuireError(Exception):
    """Root of every error Quire raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for it (a notebook cell, ``%load_ext``, a run's partial notebook): the error and its
        hint, as the command line does, then the path through Quire's own code that raised it, one line (a
        partial notebook is the audit trail), rather than a page of stack before the message."""
        return [f"{type(self).__name__}: {self}", *_quire_path(self.__traceback__)]


def _quire_path(tb) -> list[str]:
    """``["(raised in reports/client.py:640 build → warehouse/engine.py:171 read)"]`` for the frames of ``tb`` in the
    quire package, the last six; [] when none is."""
    import os

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith(package):
            frames.append(f"{code.co_filename[len(package):]}:{tb.tb_lineno} {code.co_name}")
        tb = tb.tb_next
    return [f"(raised in {' → '.join(frames[-6:])})"] if frames else []


class ConfigError(QuireError):
    """Configuration, catalog, brand or notebook declaration is invalid."""

    exit_code = 2


class ParameterError(QuireError):
    """A run parameter is unknown, mistyped or out of range."""

    exit_code = 2

    def __init__(self, message: str, *, parameter: str | None = None, **kw: object) -> None:
        super().__init__(message, parameter=parameter, **kw)
        self.parameter = parameter


class WarehouseError(QuireError):
    """The warehouse cannot be reached, or lacks the data a report needs."""

    #: Whether trying again later may help: a database that is down may be back in a minute.
    transient = True


class WarehouseDataError(WarehouseError):
    """The warehouse holds data a report refuses until someone fixes it (a ledger that takes a client below zero)."""

    transient = False


class ExecutionError(QuireError):
    """A notebook failed while running (a cell raised, timed out or stopped early)."""

    def __init__(self, message: str, *, partial_notebook: str | None = None, cell: str | None = None,
                 **kw: object) -> None:
        super().__init__(message, partial_notebook=partial_notebook, cell=cell, **kw)
        self.partial_notebook = partial_notebook
        self.cell = cell  # as its analyst finds it in their notebook: see quire.execute.cell_name


class RenderError(QuireError):
    """An executed notebook could not be rendered to HTML or PDF."""


class OutputError(QuireError):
    """A run's files could not be written or moved (a full disk, missing permissions)."""


def first_message_line(text: str, limit: int = 300, empty: str = "(no message)") -> str:
    """The first line of ``text``, cut to ``limit`` characters; ``empty`` when it says nothing.

    A library's error in one line of a message: Playwright's holds a whole command line, a driver's its SQL,
    a cell's traceback its whole stack.
    """
    return ((text or "").strip().splitlines() or [empty])[0][:limit]


def first_line_of(exc: BaseException, limit: int = 300) -> str:
    """The first line of what ``exc`` says (:func:`first_message_line`); its type's name when it says nothing."""
    return first_message_line(str(exc), limit, empty=type(exc).__name__)


def describe_os_error(exc: OSError) -> str:
    """One line for an :class:`OSError`: what failed, on which file, and for a full disk what to do."""
    text = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename:
        text += f": {exc.filename}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        text += "; free some space where the outputs are written (QUIRE_OUTPUTS, default outputs/)"
    return text


class EmptyDataError(QuireError):
    """The requested slice of data holds nothing to report on (e.g. an empty period)."""


class StateError(QuireError):
    """Quire's own state database (run history, outbox, job store) cannot be used."""


class SchedulerBusyError(QuireError):
    """Another scheduler already holds the state database's lease."""

    exit_code = 3


class DeliveryError(QuireError):
    """A report or alert could not be delivered; ``transient`` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool = False, code: int | None = None, **kw: object) -> None:
        super().__init__(message, code=code, **kw)
        self.transient = transient
        self.code = code
