"""The partial notebook the in-process engine saves while a run's cells execute."""

from __future__ import annotations

import nbformat

from quire.batch.inprocess import _write_partial


def _notebook(lines: int, image: bytes = b"") -> nbformat.NotebookNode:
    outputs = [nbformat.v4.new_output("stream", name="stdout", text="a line\n" * lines)]
    if image:
        outputs.append(nbformat.v4.new_output("display_data", {"image/png": ""}))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print()", outputs=outputs)])
    if image:  # as the shell captures it: bytes, which nbformat's constructors would refuse
        nb.cells[0].outputs[1].data["image/png"] = image
    return nb


def test_a_save_replaces_the_whole_file_even_when_it_is_shorter_than_the_one_before(tmp_path):
    """Saves overwrite in place (no truncation to nothing first): what a longer save left must not trail a shorter one."""
    path = tmp_path / "report.ipynb"
    _write_partial(_notebook(500), path)
    _write_partial(_notebook(2), path)
    assert path.read_text(encoding="utf-8").endswith("}")
    assert nbformat.read(path, as_version=4).cells[0].outputs[0].text == "a line\n" * 2


def test_bytes_in_outputs_are_saved_as_nbformat_saves_them(tmp_path):
    path = tmp_path / "report.ipynb"
    _write_partial(_notebook(1, image=b"\x89PNG"), path)
    assert nbformat.read(path, as_version=4).cells[0].outputs[1].data["image/png"] == "iVBORw=="
