"""A failed run names the cell as its analyst finds it in their own notebook, not by the run's execution count."""

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from quire.execute import cell_name


def _run_notebook():
    """A run's notebook: Quire's house-style cell, the analyst's cells, papermill's injected parameters."""
    style = new_code_cell("from quire.notebook.house_style import use_house_style\nuse_house_style('quire')")
    style.metadata["tags"] = ["quire-house-style"]
    params = new_code_cell("period: str = 'latest'")
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell("# Parameters\nperiod = \"2026-10\"\n")
    injected.metadata["tags"] = ["injected-parameters"]
    return new_notebook(cells=[
        style, new_markdown_cell("# Regional revenue"), params, injected,
        new_code_cell("\n\nfrom quire.metrics import regional\n"), new_markdown_cell("## By region"),
        new_code_cell("table = regional.revenue_by_region(period, some_rather_long_argument_name=True, another=1)"),
    ])


def test_an_analyst_s_cell_is_named_by_its_place_among_their_code_cells_and_its_first_line():
    nb = _run_notebook()
    assert cell_name(nb, 2) == 'code cell 1 ("period: str = \'latest\'")'
    assert cell_name(nb, 4) == 'code cell 2 ("from quire.metrics import regional")'
    # Jupyter counted it [4] in the run's notebook (house style and injected parameters ahead of it).
    named = cell_name(nb, 6)
    assert named.startswith('code cell 3 ("table = regional.revenue_by_region(period, some_rather_') and named.endswith('…")')
    assert len(named) < 80


def test_the_cells_a_run_adds_are_named_as_such():
    nb = _run_notebook()
    assert cell_name(nb, 0) == "the house-style cell Quire adds"
    assert cell_name(nb, 3) == "the parameters cell Quire injects"
