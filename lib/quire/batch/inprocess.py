"""Run a notebook's cells in this process, recording outputs exactly where a kernel would put them.

A Jupyter kernel is a second process that has to start, import pandas, matplotlib and
Quire, and shut down again for every report: about 3 of the 5 seconds a report used to
cost. A warm batch worker has imported all of that once; this module lets it execute
the cells itself, in an IPython shell whose display publisher, display hook, streams
and traceback printer record nbformat outputs (``display_data``, ``execute_result``,
``stream``, ``error``) instead of sending kernel messages. The shell is IPython's own,
so magics, ``display()``, rich reprs and the inline matplotlib backend behave as in a
kernel.

It is a papermill engine (``quire-inprocess``): papermill still injects the parameters
cell, keeps its cell metadata and writes the executed notebook, so the archived
``report.ipynb`` looks like one a kernel produced. Run it in a process of its own
(a forked child of a warm worker): the shell's namespace and any module state the
notebook touched die with that process, so nothing leaks from one report to the next.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import sys
from contextlib import contextmanager
from typing import Any

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from papermill.engines import Engine as PapermillEngine
from papermill.engines import papermill_engines

ENGINE_NAME = "quire-inprocess"


class _Outputs:
    """The outputs of the cell being run (nbformat dicts), in the order they were produced."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []

    @property
    def items(self) -> list[dict[str, Any]]:
        """The outputs so far, each stream's pieces joined."""
        return [{**output, "text": "".join(output["text"])} if output["output_type"] == "stream" else output
                for output in self._items]

    def add(self, output: dict[str, Any]) -> None:
        self._items.append(output)

    def stream(self, name: str, text: str) -> None:
        last = self._items[-1] if self._items else None
        # Consecutive writes make one output, as a kernel's do. Kept as pieces, joined once: adding each write to
        # the text so far copied all of it every time (a cell of 100,000 one-line prints: 3.7 s, now 2.7 s).
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"].append(text)
        else:
            self.add({"output_type": "stream", "name": name, "text": [text]})

    def clear(self) -> None:
        self._items.clear()


class _Publisher(DisplayPublisher):
    """``display()`` and friends: a display_data output."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:  # noqa: ARG002
        self.shell.outputs.add({"output_type": "display_data", "data": dict(data), "metadata": dict(metadata or {})})

    def clear_output(self, wait: bool = False) -> None:  # noqa: ARG002
        self.shell.outputs.clear()


class _DisplayHook(DisplayHook):
    """The value of a cell's last expression: an execute_result output."""

    def start_displayhook(self) -> None:
        pass

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:
        self.shell.outputs.add({"output_type": "execute_result", "data": dict(format_dict),
                                "metadata": dict(md_dict or {}), "execution_count": self.prompt_count})

    def finish_displayhook(self) -> None:
        pass


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr while a cell runs."""

    def __init__(self, shell: CellShell, name: str) -> None:
        self.shell, self.name = shell, name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self.shell.outputs.stream(self.name, text)
        return len(text)


class CellShell(InteractiveShell):
    """An IPython shell that records each cell's outputs instead of printing them."""

    def __init__(self, **kwargs: Any) -> None:
        from traitlets.config import Config

        config = Config()
        # No history database: it would start a writer thread (which does not survive a fork) and
        # keep every report's code in ~/.ipython.
        config.HistoryManager.enabled = False
        self.outputs = _Outputs()
        super().__init__(config=config, displayhook_class=_DisplayHook, display_pub_class=_Publisher,
                         colors="nocolor", **kwargs)
        self.enable_matplotlib("inline")  # what a kernel does: open figures become PNG outputs at cell end

    def _showtraceback(self, etype, evalue, stb) -> None:  # noqa: ARG002
        self.outputs.add({"output_type": "error", "ename": etype.__name__ if etype else "Error",
                          "evalue": str(evalue), "traceback": list(stb)})

    def enable_gui(self, gui=None) -> None:  # noqa: ARG002
        pass  # no event loop to integrate: the inline backend draws nothing interactive

    def init_io(self) -> None:  # a terminal shell would rebind sys.stdout here; we redirect per cell
        pass

    def run(self, source: str, timeout: float | None) -> tuple[list[dict[str, Any]], bool]:
        """Run one cell; its outputs, and whether it raised (a cell over ``timeout`` seconds raises TimeoutError)."""
        self.outputs = _Outputs()
        with _redirected(self), _deadline(timeout):
            result = self.run_cell(source, store_history=True)
        return self.outputs.items, not result.success


@contextmanager
def _redirected(shell: CellShell):
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stream(shell, "stdout"), _Stream(shell, "stderr")
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextmanager
def descriptors_to(log):
    """Point file descriptors 1 and 2 at the open file ``log`` for the block, then back."""
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


class CellTimeout(TimeoutError):
    """A cell ran longer than the execution timeout."""


@contextmanager
def _deadline(seconds: float | None):
    """Raise :class:`CellTimeout` inside the running cell after ``seconds`` (main thread only, as in a kernel)."""
    import threading

    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):  # noqa: ARG001
        raise CellTimeout(f"the cell ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class InProcessEngine(PapermillEngine):
    """A papermill engine that executes the cells in this process (see the module docstring)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, execution_timeout=None, **kwargs):  # noqa: ARG003
        shell = CellShell.instance()
        with _saving_partial_notebooks(nb_man):
            cls._run_cells(nb_man, shell, execution_timeout)
        return nb_man.nb

    @staticmethod
    def _run_cells(nb_man, shell: CellShell, execution_timeout: float | None) -> None:
        for index, cell in enumerate(nb_man.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue  # nbclient skips empty cells too
            nb_man.cell_start(cell, index)
            outputs, failed = shell.run(cell.source, execution_timeout)
            cell.execution_count = shell.execution_count - 1
            cell.outputs = [nbformat.from_dict(o) for o in outputs]
            if failed:
                nb_man.cell_exception(cell, index)
                nb_man.cell_complete(cell, index)
                break  # papermill's own engine stops at the first error too
            nb_man.cell_complete(cell, index)


@contextmanager
def _saving_partial_notebooks(nb_man):
    """Papermill saves the whole notebook (charts included) at every cell's start and end, the way it
    writes the finished one. While the cells run, those saves only matter for a run that dies: its
    partial notebook (the cells before, with their outputs, and which cell was running). So the save
    at a cell's end is left out (the next start's save follows at once, and papermill writes the
    complete notebook at the end), and the others are written as compact JSON, which nbformat
    reads as it reads its own layout: a third of the time of the indented, line-split layout.
    The finished notebook, and one that failed, are still written by papermill as usual."""
    save, complete = nb_man.save, nb_man.cell_complete

    def save_partial(**kwargs):  # noqa: ARG001
        if isinstance(nb_man.output_path, (str, os.PathLike)):
            _write_partial(nb_man.nb, nb_man.output_path)
        else:
            save()

    def cell_complete(cell, cell_index=None, **kwargs):
        nb_man.save = lambda **kw: None
        try:
            complete(cell, cell_index, **kwargs)
        finally:
            nb_man.save = save_partial

    nb_man.save, nb_man.cell_complete = save_partial, cell_complete
    try:
        yield
    finally:
        nb_man.save, nb_man.cell_complete = save, complete


def _write_partial(nb, path) -> None:
    """``nb`` as compact JSON at ``path`` (bytes in outputs base64-encoded, as nbformat writes them)."""
    text = json.dumps(nb, ensure_ascii=False, separators=(",", ":"), default=_bytes_as_base64)
    # Overwritten in place and cut at its new end, never truncated to nothing first: on ext4 a file
    # truncated to zero is flushed to disk when it is closed, and the next save's truncation waits for
    # that write (0.5 ms a save on an idle disk, ~5 ms during a batch: 60 ms a client report asleep).
    # A run killed mid-save leaves a torn partial notebook either way; its reader then names no cell.
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o666), "w", encoding="utf-8") as file:
        file.write(text)
        file.truncate()


def _bytes_as_base64(value: object) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"an output of type {type(value).__name__} cannot be saved in a notebook")


papermill_engines.register(ENGINE_NAME, InProcessEngine)
