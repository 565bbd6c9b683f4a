"""Page breaks of a real report's PDF: a table's caption and header never end a page without a row of it.

A weekly cohort report of 36 cohorts on the tiny warehouse put "Cohort sizes and user retention" and its header
row at the foot of page 2 and every row on page 3: near a table's start, the rows' keep-together rules left the
break between the header and the first row the only one Chromium could take.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from support import published_runs, run_quire

pytestmark = pytest.mark.slow
ROW = re.compile(r"^\s*W \d{4}-\d\d-\d\d\s+\d")


def _pages(pdf: Path) -> list[list[str]]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [[line for line in page.splitlines() if line.strip()] for page in text.split("\f")]


def test_a_tables_caption_and_header_stay_with_its_first_rows(quire_env):
    proc = run_quire(quire_env, "run", "cohort", "-p", "granularity=week", "-p", "cohorts=36", "-p", "horizon=36")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [folder] = published_runs(Path(quire_env["QUIRE_OUTPUTS"]), "cohort")
    pages = _pages(folder / "report.pdf")
    [(number, lines)] = [(i, p) for i, p in enumerate(pages, start=1)
                         if any(line.strip().startswith("Cohort sizes and user retention") for line in p)]
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Cohort sizes and user retention"))
    assert any(ROW.match(line) for line in lines[start:]), f"page {number} ends with the table's caption and header"
