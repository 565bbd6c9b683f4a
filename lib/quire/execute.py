"""Notebook execution behind a small engine seam (papermill's own idea: engines in a registry).

The default engine runs the notebook with Papermill in a fresh kernel. Whatever the
engine, :func:`check_complete` decides whether the executed notebook is a whole
report: every code cell ran, none raised.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import nbformat

from quire.errors import ConfigError, ExecutionError


class Engine(ABC):
    """Executes a notebook with parameters and writes the executed copy to ``output``."""

    name: ClassVar[str]

    @abstractmethod
    def execute(self, notebook: Path, output: Path, parameters: dict[str, Any], *, cwd: Path,
                kernel_name: str, timeout: int, progress: bool) -> nbformat.NotebookNode:
        """Run ``notebook``; on a cell error raise :class:`ExecutionError` with the partial notebook saved at ``output``."""


class PapermillEngine(Engine):
    """Papermill with a fresh Jupyter kernel per run (papermill's own nbclient engine)."""

    name = "papermill"

    def _papermill_options(self) -> dict[str, Any]:
        # The kernel listens on 127.0.0.1 only; its warning that TCP is unencrypted is noise on every run.
        return {"extra_arguments": ["--IPKernelApp.log_level=ERROR"]}

    def execute(self, notebook, output, parameters, *, cwd, kernel_name, timeout, progress):
        import papermill
        from papermill.exceptions import PapermillExecutionError

        try:
            return papermill.execute_notebook(
                str(notebook), str(output), parameters=parameters, cwd=str(cwd), kernel_name=kernel_name,
                progress_bar=progress, log_output=False, execution_timeout=timeout, **self._papermill_options())
        except PapermillExecutionError as exc:
            raise ExecutionError(
                f"cell {exc.exec_count} raised {exc.ename}: {_first_line(exc.evalue)}",
                partial_notebook=str(output), cell=exc.exec_count,
            ) from None
        except TimeoutError as exc:  # nbclient's CellTimeoutError is a TimeoutError
            raise ExecutionError(f"a cell ran longer than {timeout} s and was stopped ({_first_line(str(exc))})",
                                 partial_notebook=str(output)) from None


class InProcessEngine(PapermillEngine):
    """Papermill executing the cells in this process (no kernel): for warm batch workers, see :mod:`quire.batch`."""

    name = "batch"

    def _papermill_options(self) -> dict[str, Any]:
        from quire.batch.inprocess import ENGINE_NAME

        return {"engine_name": ENGINE_NAME}


ENGINES: dict[str, type[Engine]] = {PapermillEngine.name: PapermillEngine, InProcessEngine.name: InProcessEngine}


def get_engine(name: str = "papermill") -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise ConfigError(f"unknown execution engine {name!r}; available: {', '.join(ENGINES)}") from None


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0][:300] if (text or "").strip() else "(no message)"


def check_complete(nb: nbformat.NotebookNode, path: Path) -> None:
    """Raise :class:`ExecutionError` if any code cell did not run or left an error output."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue  # nbclient does not run empty cells
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise ExecutionError(f"cell {index} raised {out.get('ename')}: {_first_line(out.get('evalue', ''))}",
                                     partial_notebook=str(path), cell=index)
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if cell.get("execution_count") is None or status not in (None, "completed"):
            raise ExecutionError(f"the notebook stopped early: cell {index} never completed",
                                 partial_notebook=str(path), cell=index)
