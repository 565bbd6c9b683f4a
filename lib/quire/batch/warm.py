"""What a batch worker does once so that no report pays for it: imports and warm-up.

Importing this module imports everything a report run needs (pandas, matplotlib,
seaborn, pingouin, SQLAlchemy/DuckDB, nbformat, papermill, nbconvert, WeasyPrint,
IPython, the PDF and spreadsheet writers and the report modules), renders one empty
report (which compiles the templates and the CSS selectors that nbconvert and the HTML
cleaning use: each would otherwise be compiled again in every run), loads the matplotlib
font list and the glossary, creates the IPython shell that executes the cells, and
rehearses the reports it will run on synthetic data (:mod:`quire.batch.rehearsal`). It then moves every
object it made into the permanent GC generation (``gc.freeze``), so the forked runs do
not touch (and copy) those pages when they collect garbage.

It is the multiprocessing *forkserver*'s preload: the server imports it once and
forks one child per run from that warm state (see :mod:`quire.batch.runner`). Nothing
tenant-specific is loaded here: a run's own data is queried in its own child.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import warnings

from quire.batch.runner import REPORTS_ENV, SINGLE_RUN_ENV

log = logging.getLogger(__name__)

#: What every run imports, whatever its report: the pipeline, the notebook machinery, the HTML renderer,
#: the house chart style (seaborn).
BASE = (
    "numpy", "pandas", "matplotlib.pyplot", "sqlalchemy", "duckdb", "duckdb_engine", "nbformat", "papermill",
    "nbconvert", "IPython", "matplotlib_inline.backend_inline", "quire.pipeline", "quire.execute",
    "quire.notebook.setup", "quire.render", "quire.chart_style", "quire.display", "seaborn",
)
#: What some reports import beyond the base (statistics, spreadsheets, the report modules): a batch
#: imports them once here; a single run imports only what it uses, in its own process.
BATCH = (
    "scipy.stats", "pingouin", "statsmodels.api", "pypdf", "openpyxl",
    "quire.reports.executive", "quire.reports.client", "quire.reports.cohort", "quire.reports.experiment",
)
PRELOAD = BASE + BATCH


def warm_up(*, single_run: bool = False) -> list[str]:
    """Import and prepare what runs need; returns what could not be prepared (a run then pays for it itself).

    For a ``single_run`` only the base is imported and nothing is rendered ahead: the one run
    waits for this, and whatever else it needs it imports itself, once either way.
    """
    import importlib

    missed = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in (BASE if single_run else PRELOAD + _renderer_modules()):
            try:
                importlib.import_module(name)
            except Exception as exc:  # a missing optional module must not stop the worker
                missed.append(f"{name}: {exc}")
        for step in ((_shell,) if single_run else (_render, _fonts, _glossary, _shell, _rehearse)):
            try:
                step()
            except Exception as exc:
                missed.append(f"{step.__name__.strip('_')}: {exc}")
    if threading.active_count() > 1:
        # A thread would not survive the fork (and could hold a lock the children then wait on).
        missed.append(f"{threading.active_count() - 1} thread(s) started during warm-up")
    gc.collect()
    gc.freeze()
    return missed


def _renderer_modules() -> tuple[str, ...]:
    """WeasyPrint when it prints the PDFs; Chromium prints in its own process and needs no import here."""
    from quire.pdf import renderer_name

    try:
        return ("weasyprint",) if renderer_name() == "weasyprint" else ()
    except Exception:  # a bad setting fails the run itself, with its message; here, prepare for either
        return ("weasyprint",)


def _render() -> None:
    import nbformat

    from quire.brand import load_brand
    from quire.render import clean_html, render_html

    cell = nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
        "display_data", {"text/html": '<p>warm-up</p><img src="data:image/png;base64," alt="">'})])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Warm-up"), cell])
    render_html(notebook, brand=load_brand("quire"), meta={"title": "Warm-up"})
    clean_html("<script></script>")  # a report with HTML of its own goes through the cleaning


def _fonts() -> None:
    from matplotlib import font_manager

    font_manager.findfont("DejaVu Sans")


def _glossary() -> None:
    from quire.glossary import definitions

    definitions()  # the metric definitions every report's appendix quotes: a YAML file of the code, parsed once


def _shell() -> None:
    from quire.batch.inprocess import CellShell

    CellShell.instance()


def _rehearse() -> None:
    from quire.batch.rehearsal import rehearse
    from quire.errors import QuireError

    reports = os.environ.get(REPORTS_ENV)
    try:
        rehearse(reports.split(",") if reports else None)
    except QuireError as exc:
        # Only speed is lost (a deployment may have removed a brand kit the synthetic clients wear):
        # not worth a warning on every command.
        log.info("rehearsal incomplete: %s", exc)


# A Ctrl-C reaches every process of the terminal's group: the fork server's imports ended in a KeyboardInterrupt
# traceback, and each run died as "the run's process died". The server is stopped by its parent, and a run by the
# cancel its parent sets on the interrupt (see quire.batch.pool), which records it as cancelled.
signal.signal(signal.SIGINT, signal.SIG_IGN)
MISSED = warm_up(single_run=bool(os.environ.get(SINGLE_RUN_ENV)))
if MISSED:
    log.warning("batch worker warm-up incomplete: %s", "; ".join(MISSED))
