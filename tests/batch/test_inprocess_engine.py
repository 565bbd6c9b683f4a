"""The in-process engine records what a kernel would: the same outputs, in the same cells, for the same notebook."""

from __future__ import annotations

import nbformat
import pytest

from quire.errors import ExecutionError
from quire.execute import get_engine

pytestmark = pytest.mark.slow

CELLS = [
    ("x: int = 1", ["parameters"]),
    ("print('hello')\nprint('again')\nimport sys\nprint('warn', file=sys.stderr)", []),
    ("from IPython.display import HTML, display\ndisplay(HTML('<b>shown</b>'))\nx * 21", []),
    ("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.title('drawn')", []),
    ("y = x + 1", []),
    ("y", []),
]


def _notebook(path, cells) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, path)


def _shape(nb) -> list:
    """Per code cell: its execution count and its outputs without volatile payloads (images, reprs)."""
    shapes = []
    for cell in nb.cells:
        outputs = []
        for out in cell.outputs:
            item = {"output_type": out.output_type}
            if out.output_type == "stream":
                item.update(name=out.name, text=out.text)
            elif out.output_type in ("display_data", "execute_result"):
                item["mimetypes"] = sorted(out.data)
                if "text/html" in out.data:
                    item["html"] = out.data["text/html"]
                if out.output_type == "execute_result":
                    item["execution_count"] = out.execution_count  # a kernel gives the cell's own count
                    if "image/png" not in out.data:
                        item["text"] = out.data.get("text/plain")
            elif out.output_type == "error":
                item.update(ename=out.ename, evalue=out.evalue)
            outputs.append(item)
        shapes.append((cell.execution_count, outputs))
    return shapes


def _execute(engine, src, out, params, timeout):
    return get_engine(engine).execute(src, out, params, cwd=src.parent, kernel_name="python3", timeout=timeout,
                                      progress=False)


def _run(engine, tmp_path, cells, params, name, timeout=60):
    """Execute in a fresh process, as the batch engine does: the shell takes over process-wide hooks."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    src = tmp_path / f"{name}.ipynb"
    _notebook(src, cells)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_execute, engine, src, tmp_path / f"{name}-out.ipynb", params, timeout).result()


def test_outputs_match_a_real_kernel(tmp_path):
    kernel = _run("papermill", tmp_path, CELLS, {"x": 2}, "kernel")
    warm = _run("batch", tmp_path, CELLS, {"x": 2}, "warm")
    assert _shape(warm) == _shape(kernel)
    # The injected parameters cell, papermill's metadata, and a figure as PNG, as with a kernel.
    assert warm.cells[1].metadata["tags"] == ["injected-parameters"]
    assert all(c.metadata.papermill["status"] == "completed" for c in warm.cells)
    figure = [o for o in warm.cells[4].outputs if o.output_type == "display_data"]
    assert figure and "image/png" in figure[0].data
    last_count, last_outputs = _shape(warm)[-1]
    assert last_outputs == [{"output_type": "execute_result", "mimetypes": ["text/plain"], "text": "3",
                             "execution_count": last_count}]


def test_a_raising_cell_fails_the_run_with_the_partial_notebook(tmp_path):
    cells = [*CELLS[:2], ("raise ValueError('broken on purpose')", []), ("print('never')", [])]
    with pytest.raises(ExecutionError) as failed:
        _run("batch", tmp_path, cells, {}, "boom")
    assert "ValueError" in str(failed.value) and "broken on purpose" in str(failed.value)
    partial = nbformat.read(failed.value.partial_notebook, as_version=4)
    assert partial.cells[-1].outputs == [] and partial.cells[-1].execution_count is None
    error = [o for o in partial.cells[-2].outputs if o.output_type == "error"]
    assert error and error[0].ename == "ValueError"


def test_a_cell_over_the_timeout_is_stopped(tmp_path):
    cells = [("x = 1", ["parameters"]), ("import time\nwhile True:\n    time.sleep(0.05)", [])]
    with pytest.raises(ExecutionError) as failed:
        _run("batch", tmp_path, cells, {}, "slow", timeout=1)
    assert "CellTimeout" in str(failed.value) or "longer than" in str(failed.value)


READ_OWN_PARTIAL = """import nbformat
seen = nbformat.read(OUTPUT, as_version=4)
nbformat.validate(seen)
print([c.outputs[0]["text"] if c.outputs else None for c in seen.cells if c.cell_type == "code"])
print([c.metadata.papermill.status for c in seen.cells])"""


def test_a_run_that_dies_leaves_a_readable_partial_notebook_and_a_finished_one_is_written_as_nbformat_does(tmp_path):
    """What is on disk while a cell runs is all a killed run leaves: it must be a valid notebook with the
    cells before and their outputs, the running cell marked. The finished notebook is nbformat's own layout."""
    out = tmp_path / "partial-out.ipynb"
    cells = [("OUTPUT = ''", ["parameters"]), ("print('first')\nprint('second line')", []), (READ_OWN_PARTIAL, [])]
    nb = _run("batch", tmp_path, cells, {"OUTPUT": str(out)}, "partial")
    stdout = nb.cells[-1].outputs[0]["text"].splitlines()
    # The parameters cell, the injected one, the printing cell (its output kept whole), and this cell, still running.
    assert stdout[0] == str([None, None, "first\nsecond line\n", None])
    assert stdout[1] == str(["completed", "completed", "completed", "running"])
    assert out.read_text(encoding="utf-8") == nbformat.writes(nbformat.read(out, as_version=4))
