"""The report's metadata and headline read back from an executed notebook's outputs."""

from __future__ import annotations

import pickle

import nbformat

from quire.display import KPIS_MIME, META_MIME
from quire.pipeline import report_outputs


def test_the_headline_reads_back_as_plain_data_that_unpickles_without_nbformat():
    # A run's outcome carries the headline, pickled, to the command waiting for a warm service; a
    # NotebookNode in it made that command import nbformat and jsonschema (~0.15 s) just to unpickle it.
    meta = {"title": "Client report", "period": {"key": "2026-10", "label": "October 2026"}}
    kpis = [{"label": "Views", "value": 9986, "change": None, "extra": {"unit": "count"}},
            {"label": "Conversion rate", "value": 0.022, "change": -0.1}]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("report.header()"), nbformat.v4.new_code_cell("report.headline()")]
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "", META_MIME: meta})]
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "", KPIS_MIME: kpis})]
    executed = nbformat.reads(nbformat.writes(nb), as_version=4)  # as a run reads its notebook: NotebookNodes
    assert isinstance(executed.cells[1].outputs[0].data[KPIS_MIME][0], nbformat.NotebookNode)

    got_meta, got_kpis = report_outputs(executed)

    assert (got_meta, got_kpis) == (meta, kpis)
    assert b"nbformat" not in pickle.dumps((got_meta, got_kpis))
