"""Notebook execution behind a small engine seam (papermill's own idea: engines in a registry).

The default engine runs the notebook with Papermill in a fresh kernel. Whatever the
engine, :func:`check_complete` decides whether the executed notebook is a whole
report: every code cell ran, none raised.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, ClassVar

import nbformat

from quire.errors import ConfigError, ExecutionError, first_message_line
from quire.notebook.setup import SETUP_TAG


class Engine(ABC):
    """Executes a notebook with parameters and writes the executed copy to ``output``."""

    name: ClassVar[str]

    @abstractmethod
    def execute(self, notebook: Path, output: Path, parameters: dict[str, Any], *, cwd: Path,
                kernel_name: str, timeout: int, progress: bool) -> nbformat.NotebookNode:
        """Run ``notebook``; on a cell error raise :class:`ExecutionError` with the partial notebook saved at ``output``."""

    def check_kernel(self, kernel_name: str) -> None:
        """Raise :class:`ConfigError` before a run starts if it needs a kernel that is not installed (by default
        no engine does)."""


#: Written beside the executed notebook: what the kernel process and the executor logged. The pipeline
#: keeps it only with a failed run (under ``_failed/``); nothing of it reaches the terminal.
EXECUTION_LOG = "execution.log"


class PapermillEngine(Engine):
    """Papermill with a fresh Jupyter kernel per run (papermill's own nbclient engine)."""

    name = "papermill"

    def _output_to(self, log):  # noqa: ARG002 (the kernel is a process of its own: see _papermill_options)
        """Where what the cells write to file descriptors 1 and 2 goes while they run (their kernel's log)."""
        return nullcontext()

    def check_kernel(self, kernel_name: str) -> None:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            KernelSpecManager().get_kernel_spec(kernel_name)
        except NoSuchKernel:
            raise _no_kernel(kernel_name) from None

    def _papermill_options(self, log) -> dict[str, Any]:
        # The kernel listens on 127.0.0.1 only; its warning that TCP is unencrypted is noise in the log.
        return {"kernel_manager_class": _kernel_manager_writing_to(log),
                "extra_arguments": ["--IPKernelApp.log_level=ERROR"]}

    def execute(self, notebook, output, parameters, *, cwd, kernel_name, timeout, progress):
        import papermill
        from jupyter_client.kernelspec import NoSuchKernel
        from nbclient.exceptions import DeadKernelError
        from papermill.exceptions import PapermillExecutionError

        log_path = Path(output).with_name(EXECUTION_LOG)
        try:
            with open(log_path, "ab") as log, _executor_log_to(log_path), self._output_to(log):
                return papermill.execute_notebook(
                    str(notebook), str(output), parameters=parameters, cwd=str(cwd), kernel_name=kernel_name,
                    # Python whatever the notebook's metadata says (a notebook written by a script names no language).
                    language="python", progress_bar=progress, log_output=False, execution_timeout=timeout,
                    **self._papermill_options(log))
        except PapermillExecutionError as exc:
            cell = raised_in(Path(output), exc.exec_count) or f"cell {exc.exec_count}"
            raise ExecutionError(f"{cell} raised {exc.ename}: {first_message_line(exc.evalue)}",
                                 partial_notebook=str(output), cell=cell) from None
        except TimeoutError as exc:  # nbclient's CellTimeoutError is a TimeoutError
            raise ExecutionError(f"a cell ran longer than {timeout} s and was stopped ({first_message_line(str(exc))})",
                                 partial_notebook=str(output)) from None
        except DeadKernelError:
            cell = stopped_at(Path(output))
            where = f"while running {cell}" if cell is not None else "during the run"
            raise ExecutionError(f"the kernel died {where} (killed, out of memory, or a cell ended its process)",
                                 partial_notebook=str(output), cell=cell) from None
        except NoSuchKernel:
            raise _no_kernel(kernel_name) from None
        except RuntimeError as exc:  # jupyter_client: the kernel died or hung while starting
            if "kernel" not in str(exc).lower():
                raise
            raise ExecutionError(f"the kernel did not start: {first_message_line(str(exc))}",
                                 hint=f"see {log_path}", partial_notebook=str(output)) from None
        finally:
            if log_path.is_file() and not log_path.stat().st_size:
                log_path.unlink()


def _kernel_manager_writing_to(log) -> type:
    """A kernel manager class whose kernels write their stdout and stderr to ``log``, not to our terminal.

    The kernel otherwise inherits the terminal: its log lines ("KeyboardInterrupt caught in
    kernel" when the executor interrupts it at shutdown) and anything a C library prints
    would land between the command's own messages.
    """
    from jupyter_client import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.update(stdout=log, stderr=log)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggedKernelManager


@contextmanager
def _executor_log_to(path: Path):
    """Send papermill's and nbclient's log records (e.g. "Kernel died …") to the execution log during one run.

    Without a handler, Python prints warnings and errors of these loggers on stderr.
    """
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    logger = logging.getLogger("papermill")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


def stopped_at(output: Path) -> str | None:
    """The cell that was running when the run stopped (see :func:`cell_name`), read from the saved partial notebook;
    None if unknown."""
    nb = _read_partial(output)
    started = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.source.strip()
               and cell.get("metadata", {}).get("papermill", {}).get("start_time")] if nb else []
    return cell_name(nb, started[-1]) if started else None


def raised_in(output: Path, execution_count: int | None) -> str | None:
    """The cell of the saved partial notebook that ran as ``execution_count`` (see :func:`cell_name`); None if
    unknown."""
    nb = _read_partial(output)
    for index, cell in enumerate(nb.cells if nb and execution_count is not None else []):
        if cell.cell_type == "code" and cell.get("execution_count") == execution_count:
            return cell_name(nb, index)
    return None


def _read_partial(output: Path) -> nbformat.NotebookNode | None:
    try:
        return nbformat.read(output, as_version=4)
    except Exception:  # unreadable or missing: the message then names no cell
        return None


#: Cells a run adds to the analyst's notebook, by their tag (papermill's for the parameters it injects).
ADDED_CELLS = {SETUP_TAG: "the house-style cell Quire adds",
               "injected-parameters": "the parameters cell Quire injects"}


def cell_name(nb: nbformat.NotebookNode, index: int) -> str:
    """Cell ``index`` of a run's notebook named as its analyst finds it in their own notebook: its place among
    the notebook's code cells and its first line, ``code cell 3 ("df = regional.revenue(period)")``.

    Jupyter's count (the ``[5]`` beside a cell) would not do: it counts the cells a run adds ahead of the
    analyst's (:data:`ADDED_CELLS`), and so named a cell two past the one that failed.
    """
    def added(cell) -> str | None:
        tags = cell.get("metadata", {}).get("tags", [])
        return next((name for tag, name in ADDED_CELLS.items() if tag in tags), None)

    cell = nb.cells[index]
    if added(cell):
        return added(cell)
    place = sum(1 for c in nb.cells[:index + 1] if c.cell_type == "code" and not added(c))
    return f'code cell {place} ("{first_line(cell.source)}")'


def first_line(source: str) -> str:
    """A cell's first line of code (blank lines skipped), cut to 60 characters: how a message quotes a cell."""
    # Imported here, not at the top: a message is rare, and the module imports BeautifulSoup.
    from quire.pdf.pages import shortened

    return shortened(next((line.strip() for line in source.splitlines() if line.strip()), ""), 60)


class InProcessEngine(PapermillEngine):
    """Papermill executing the cells in this process (no kernel): for warm batch workers, see :mod:`quire.batch`."""

    name = "batch"

    def _output_to(self, log):
        # The cells run in this process: what C code or a subprocess writes straight to file descriptors
        # 1 and 2 (the terminal of `quire run`) goes to the execution log instead, as a kernel's would.
        from quire.batch.inprocess import descriptors_to

        return descriptors_to(log)

    def check_kernel(self, kernel_name: str) -> None:  # noqa: ARG002 (the cells run here, without a kernel)
        return None

    def _papermill_options(self, log) -> dict[str, Any]:  # noqa: ARG002 (no kernel: nothing of its own to log)
        from quire.batch.inprocess import ENGINE_NAME

        return {"engine_name": ENGINE_NAME}


ENGINES: dict[str, type[Engine]] = {PapermillEngine.name: PapermillEngine, InProcessEngine.name: InProcessEngine}


def get_engine(name: str = "papermill") -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise ConfigError(f"unknown execution engine {name!r}; available: {', '.join(ENGINES)}") from None


def _no_kernel(kernel_name: str) -> ConfigError:
    from jupyter_client.kernelspec import find_kernel_specs

    installed = ", ".join(sorted(find_kernel_specs())) or "none"
    return ConfigError(f"QUIRE_KERNEL_NAME={kernel_name!r}: no Jupyter kernel of that name is installed "
                       f"(installed: {installed})", hint="set QUIRE_KERNEL_NAME to one of them, or unset it")


def check_complete(nb: nbformat.NotebookNode, path: Path) -> None:
    """Raise :class:`ExecutionError` if any code cell did not run or left an error output."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue  # nbclient does not run empty cells
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                named = cell_name(nb, index)
                raise ExecutionError(f"{named} raised {out.get('ename')}: {first_message_line(out.get('evalue', ''))}",
                                     partial_notebook=str(path), cell=named)
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if cell.get("execution_count") is None or status not in (None, "completed"):
            named = cell_name(nb, index)
            raise ExecutionError(f"the notebook stopped early: {named} never completed", partial_notebook=str(path),
                                 cell=named)
