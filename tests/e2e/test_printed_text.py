"""A cell that prints a lot (a whole table printed with ``print(df.to_string())``), through the real ``quire run``.

The report shows the first lines of the printed text and a line saying how many more are in the run's
report.ipynb, which keeps them all; the run says so on the terminal and in its run.json. Before, a printed
table of 190,000 rows made a 2,873-page PDF, without a word.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from quire.render import PRINTED_LINES
from support import notebook_home, published_runs, run_quire

pytestmark = pytest.mark.slow

PRINTED = 5_000
ROW = re.compile(r"row \d{5} x")
PRINT = "for i in range(rows):\n    print(f'row {i:05d} ' + 'x' * 60)"


@pytest.fixture
def printed_env(quire_env, tmp_path) -> dict[str, str]:
    """A ``quire run`` environment whose report ``printed`` has a heading and a cell printing :data:`PRINTED` lines."""
    home = notebook_home(
        tmp_path, "printed", [(f"rows: int = {PRINTED}", ["parameters"]),
                              ("from IPython.display import Markdown\nMarkdown('## Engagement')", []), (PRINT, [])],
        "reports:\n  printed:\n    title: Printed\n    notebook: notebooks/printed.ipynb\n    description: d\n"
        "    owner: o@example.com\n    formats: [html, pdf]\n"
        "    parameters:\n      rows: {type: int, min: 1, max: 100000}\n")
    return {**quire_env, "QUIRE_HOME": str(home), "QUIRE_OUTPUTS": str(tmp_path / "outputs"),
            "QUIRE_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}"}


def test_a_long_printed_output_is_cut_in_the_report_and_said(printed_env, tmp_path):
    done = run_quire(printed_env, "run", "printed")
    assert done.returncode == 0, done.stderr
    cut = PRINTED - PRINTED_LINES
    said = f'the cell "for i in range(rows):" printed {PRINTED:,} lines: the report shows the first {PRINTED_LINES}'
    assert "warning:" in done.stderr and said in done.stderr, done.stderr

    [run] = published_runs(Path(printed_env["QUIRE_OUTPUTS"]), "printed")
    assert any(said in w for w in json.loads((run / "run.json").read_text(encoding="utf-8"))["warnings"])
    html = (run / "report.html").read_text(encoding="utf-8")
    assert len(ROW.findall(html)) == PRINTED_LINES
    assert "row 00199 " in html and "row 00200 " not in html
    assert f"… {cut:,} more lines not shown in the report (the run's report.ipynb holds them all)</p>" in html

    pages = PdfReader(io.BytesIO((run / "report.pdf").read_bytes())).pages
    assert len(pages) <= 8, f"{len(pages)} pages"
    assert f"{cut:,} more lines not shown" in "".join(page.extract_text() or "" for page in pages)

    nb = nbformat.read(run / "report.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for cell in nb.cells for o in cell.get("outputs", [])
                      if o.get("name") == "stdout")
    assert len(ROW.findall(printed)) == PRINTED
