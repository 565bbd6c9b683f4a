"""The house style for an analyst's plain notebook: figures, DataFrames, the run's setup cell, warehouse queries."""

from __future__ import annotations

import re
from types import SimpleNamespace

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest

from quire.display import TABLES_MIME
from quire.errors import WarehouseError
from quire.notebook.figures import ChartDescriptionWarning, describe, figure_chart
from quire.notebook.frames import column_decimals, frame_table
from quire.notebook.setup import SETUP_TAG, prepare_notebook
from quire.notebook.warehouse import query, report_period
from quire.render import add_contents, cover_defaults

TOC = "<!--q-toc-->"


# -- figures --------------------------------------------------------------------------------------------

def test_a_titled_figure_gets_a_caption_and_alt_text_from_what_it_says():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [4, 5, 7], label="North")
    ax.plot([1, 2, 3], [3, 5, 6], label="South")
    ax.axhline(5)  # a reference line is not a series
    ax.set(title="Sales by region", xlabel="Month", ylabel="Sales ($)")
    ax.legend()
    chart = figure_chart(fig)
    assert chart.caption == "Sales by region"
    assert chart.alt == "Line chart: Sales by region (horizontal axis Month; vertical axis Sales ($); series North, South)."
    # The title moves to the caption (said once, under the chart) and is back on the figure afterwards.
    assert b"Sales by region" not in chart.image and b"Month" in chart.image
    assert ax.title.get_visible() and ax.get_title() == "Sales by region"
    plt.close(fig)


def test_a_legend_never_covers_the_data():
    fig, ax = plt.subplots()
    for i, name in enumerate(["enterprise", "growth", "starter"]):
        ax.plot(range(12), [30 - 2 * i + (m % 3) for m in range(12)], label=name)  # lines across the whole chart
    ax.set(title="MRR by plan")
    ax.legend(loc="center", title="plan")
    figure_chart(fig)
    fig.canvas.draw()
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "plan" and [t.get_text() for t in legend.get_texts()] == [
        "enterprise", "growth", "starter"]
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1  # beside the plot area, not on it
    plt.close(fig)


def test_bar_scatter_heatmap_and_figures_of_several_charts_are_told_apart():
    fig, (left, right) = plt.subplots(1, 2)
    left.bar(["a", "b"], [1, 2])
    left.set_title("Orders")
    right.scatter([1, 2], [3, 4])
    right.set_ylabel("Revenue")
    fig.suptitle("Orders and revenue")
    alt, caption = describe(fig)
    assert caption == "Orders and revenue"
    assert alt == "Figure of 2 charts: Orders and revenue. 1) Bar chart (“Orders”). 2) Scatter plot (vertical axis Revenue)."
    plt.close(fig)
    fig, ax = plt.subplots()
    ax.imshow(np.eye(3))
    ax.set_title("Matrix")
    assert describe(fig)[0].startswith("Heatmap: Matrix")
    plt.close(fig)


def test_a_figure_that_says_nothing_is_shown_with_its_kind_and_a_warning():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [1, 3, 2])
    with pytest.warns(ChartDescriptionWarning, match="no title, axis label or legend"):
        chart = figure_chart(fig)
    assert chart.alt == "Line chart." and chart.caption == ""
    plt.close(fig)


# -- DataFrames ----------------------------------------------------------------------------------------

def _cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>([^<]*)</td>", html)


def test_a_dataframe_becomes_a_report_table_with_numbers_written_for_people():
    frame = pd.DataFrame({"sales": [1234.5, -0.001, np.nan], "share": [0.1234, 0.5, 0.25], "orders": [3, -4, 5],
                          "day": pd.to_datetime(["2026-10-01", "2026-10-02", None])},
                         index=pd.Index(["North", "South", "West"], name="region"))
    frame.attrs["caption"] = "Sales <by> region"
    html = frame_table(frame).html()
    assert "<caption>Sales &lt;by&gt; region</caption>" in html
    assert re.findall(r'<th[^>]*>([^<]*)</th>', html) == ["region", "sales", "share", "orders", "day"]
    assert _cells(html) == ["North", "1,234", "0.12", "3", "2026-10-01",
                            "South", "0", "0.50", "−4", "2026-10-02",
                            "West", "—", "0.25", "5", "—"]


def test_long_frames_say_how_many_rows_are_shown_and_series_and_nested_columns_work():
    html = frame_table(pd.Series(range(120), name="n")).html()
    assert html.count("<tr>") == 51 and "Showing 50 of 120 rows." in html
    nested = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("MRR", "2025"), ("MRR", "2026")]))
    assert re.findall(r'<th[^>]*>([^<]*)</th>', frame_table(nested).html()) == ["MRR · 2025", "MRR · 2026"]


@pytest.mark.parametrize("values,decimals", [([1, 2, 3], 0), ([1234.5, 99.2], 0), ([12.34, 15.1], 1),
                                             ([0.123, 0.5], 2), ([0.0012, 0.003], 3), ([np.nan, 2.0], 0)])
def test_one_number_of_decimals_per_column(values, decimals):
    assert column_decimals(pd.Series(values)) == decimals


def test_in_a_session_plain_output_is_dressed_and_plot_call_results_are_not_shown(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from quire.notebook import house_style

    shell = InteractiveShell.instance()
    monkeypatch.setattr(house_style, "_applied", None)
    try:
        house_style.use_house_style("northwind")
        assert house_style.applied_brand() == "northwind"
        fig, ax = plt.subplots()
        lines = ax.plot([1, 2], [3, 4])
        text = ax.set_title("Trend")
        formatted = [shell.display_formatter.format(obj)[0] for obj in (lines, text, ax, [1, 2])]
        assert formatted[:3] == [{"text/plain": ""}, {}, {}] and formatted[3]["text/plain"] == "[1, 2]"
        bundle = shell.display_formatter.format(pd.DataFrame({"a": [1.5, None], "b": ["x", "y"]}))[0]
        assert 'class="q-table"' in bundle["text/html"] and "1.5" in bundle["text/plain"]
        # Its data too, for the run's CSV and report.xlsx, as a built-in table gives it.
        [table] = bundle[TABLES_MIME]
        assert table["columns"] == ["a", "b"] and table["rows"] == [[1.5, "x"], [None, "y"]]
        assert shell.display_formatter.format(pd.Series([3, 4], name="n"))[0][TABLES_MIME][0]["rows"] == [[3], [4]]
        long = shell.display_formatter.format(pd.DataFrame({"x": range(120)}))[0]  # shows 50 rows, saves all
        assert "Showing 50 of 120 rows" in long["text/html"] and len(long[TABLES_MIME][0]["rows"]) == 120
        with capture_output() as captured:
            shell.display_formatter.format(fig)
        [output] = captured.outputs
        assert '<figure class="q-chart"' in output.data["text/html"] and "<figcaption>Trend</figcaption>" in output.data["text/html"]
        assert "#1b4332" in plt.rcParams["axes.prop_cycle"].by_key()["color"][0]
        plt.close(fig)
    finally:
        InteractiveShell.clear_instance()


# -- the run's setup cell ---------------------------------------------------------------------------------

def test_the_run_puts_the_house_style_in_front_of_the_notebook_once(tmp_path):
    source = tmp_path / "r.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("period = 'latest'", metadata={"tags": ["parameters"]})])
    nbformat.write(nb, source)
    target = prepare_notebook(source, tmp_path / "run.ipynb", "harbor")
    again = prepare_notebook(target, target, "northwind", tmp_path / 'my "templates"')
    cells = nbformat.read(again, as_version=4).cells
    assert len(cells) == 2 and cells[1].metadata["tags"] == ["parameters"]
    assert set(cells[0].metadata["tags"]) == {"remove-cell", SETUP_TAG}
    assert cells[0].source.endswith(f'use_house_style("northwind", templates_dir="{tmp_path}/my \\"templates\\"")')
    compile(cells[0].source, "setup", "exec")
    assert nbformat.read(source, as_version=4).cells == nb.cells  # the analyst's notebook is untouched


# -- the cover of a plain notebook ---------------------------------------------------------------------

def test_cover_defaults_come_from_the_catalog_and_the_period_parameter():
    spec = SimpleNamespace(description="Sales by region.", parameters={
        "brand": SimpleNamespace(type="brand"), "period": SimpleNamespace(type="period")})
    assert cover_defaults(spec, {"period": "2026-Q3", "brand": "quire"}) == {"subtitle": "Sales by region.", "period": "Q3 2026"}
    assert cover_defaults(spec, {"period": "latest"}) == {"subtitle": "Sales by region."}


def test_markdown_headings_are_numbered_sections_in_the_contents():
    body = (f"{TOC}<div class=\"q-markdown\"><h2 id=\"Sales\">Sales &amp; <em>more</em></h2></div>"
            "<section class=\"q-section\"><h2 class=\"q-section-title\">Accounts</h2></section>"
            "<div class=\"q-markdown\"><h2>Mix</h2><h3>Detail</h3></div>"
            "<section class=\"q-section q-appendix\"><h2 class=\"q-section-title\">Appendix</h2></section>")
    html = add_contents(body)
    assert '<h2 class="q-section-title q-md-section" id="q-s1">Sales &amp; <em>more</em></h2>' in html
    titles = re.findall(r'<span class="q-toc-number">(\d*)</span><span class="q-toc-title">([^<]*)</span>', html)
    assert titles == [("1", "Sales &amp; more"), ("2", "Accounts"), ("3", "Mix"), ("", "Appendix")]


# -- querying the warehouse ------------------------------------------------------------------------------

def test_query_binds_parameters_and_reads_only(tiny_warehouse):
    frame = query("select slug, status from clients where status = :status order by slug", url=tiny_warehouse, status="active")
    assert len(frame) > 0 and set(frame["status"]) == {"active"}
    # A value is a value, never SQL.
    assert query("select count(*) as n from clients where name = :name", url=tiny_warehouse,
                 name="x' or '1'='1")["n"].iloc[0] == 0
    with pytest.raises(WarehouseError, match="refused the query"):
        query("delete from clients", url=tiny_warehouse)
    with pytest.raises(WarehouseError, match=r"uses :since but no value was given"):
        query("select * from clients where signup_date >= :since", url=tiny_warehouse)
    with pytest.raises(WarehouseError, match="refused the query: .*nosuch"):
        query("select * from nosuch", url=tiny_warehouse)


def test_report_period_resolves_latest_against_the_data(tiny_warehouse):
    assert report_period("latest", url=tiny_warehouse).label == "October 2026"
    assert report_period("2026-Q3", url=tiny_warehouse).key == "2026-Q3"



def test_ipython_shows_a_quire_error_as_its_message_not_a_stack():
    # `QUIRE_BRAND=nosuch` and `%load_ext quire.notebook` (or any mistake in a notebook cell) printed a page of
    # stack before the message that says what to do.
    import os
    import subprocess
    import sys
    from pathlib import Path

    ipython = Path(sys.executable).with_name("ipython")
    env = {**os.environ, "QUIRE_BRAND": "nosuch"}
    proc = subprocess.run([str(ipython), "--colors=nocolor", "-c", "%load_ext quire.notebook"], env=env,
                          capture_output=True, text=True, timeout=120)
    shown = (proc.stdout + proc.stderr).strip()
    assert shown.startswith("ConfigError: unknown brand 'nosuch'; available brands: "), shown
    assert "Traceback" not in shown and "File " not in shown, shown
    # Where in Quire it was raised stays, on one line: a partial notebook is the run's audit trail.
    assert shown.splitlines()[-1].startswith("(raised in notebook/__init__.py:") and "brand.py:" in shown, shown
