"""Every table a report shows leaves the notebook as data and is saved as CSV and in report.xlsx."""

from __future__ import annotations

import csv
import re

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from quire.datafiles import XLSX_NAME, write_data_files
from quire.display import TABLES_MIME, Grid, Section, Table
from quire.pipeline import report_tables

FRAME = pd.DataFrame({"Client": ["Ann & Co", "Bo"], "MRR": [1200.5, None], "Churn": [0.031, 0.2], "Seats": [3, 4]})


def _section() -> Section:
    inner = Table(FRAME, caption="Accounts: MRR and churn", units={"MRR": "currency", "Churn": "percent"}, max_rows=1)
    return Section("Revenue", [Grid([inner, "a note"]), Table(pd.DataFrame({"x": [1]}))])


def test_tables_inside_sections_and_grids_travel_in_the_bundle_with_all_rows():
    bundle = _section()._repr_mimebundle_()
    tables = bundle[TABLES_MIME]
    assert [t["caption"] for t in tables] == ["Accounts: MRR and churn", ""]
    first = tables[0]
    assert first["columns"] == ["Client", "MRR", "Churn", "Seats"] and first["section"] == "Revenue"
    assert first["rows"] == [["Ann & Co", 1200.5, 0.031, 3], ["Bo", None, 0.2, 4]]  # raw values, every row
    assert first["units"] == {"MRR": "currency", "Churn": "percent"}
    assert "Showing 1 of 2 rows" in bundle["text/html"]  # the HTML still shows max_rows


def test_the_pipeline_collects_tables_in_report_order():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data=b)])
                for b in ({"text/plain": "x"}, _section()._repr_mimebundle_(), Table(FRAME, caption="Last")._repr_mimebundle_())]
    assert [t["caption"] for t in report_tables(nb)] == ["Accounts: MRR and churn", "", "Last"]


def test_a_table_outside_sections_belongs_to_the_markdown_heading_above_it(tmp_path):
    nb = nbformat.v4.new_notebook()
    table = nbformat.v4.new_output("display_data", data=Table(FRAME)._repr_mimebundle_())
    nb.cells = [nbformat.v4.new_code_cell(outputs=[table]),  # before any heading: no section
                nbformat.v4.new_markdown_cell("## MRR by plan\n\nMonthly, by plan."),
                nbformat.v4.new_code_cell(outputs=[table]),
                nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data",
                                                                          data=_section()._repr_mimebundle_())])]
    tables = report_tables(nb)
    assert [t.get("section") for t in tables] == [None, "MRR by plan", "Revenue", "Revenue"]
    names = [f.file for f in write_data_files(tables, tmp_path)]
    assert names == ["table-01.csv", "table-02-mrr-by-plan.csv", "table-03-accounts-mrr-and-churn.csv",
                     "table-04-revenue.csv"]


def test_csv_and_xlsx_with_formatted_headers(tmp_path):
    written = write_data_files(_section().tables(), tmp_path, header_color="#1F3A5F")
    assert [f.file for f in written] == ["table-01-accounts-mrr-and-churn.csv", "table-02-revenue.csv"]
    with open(tmp_path / written[0].file, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["Client", "MRR", "Churn", "Seats"], ["Ann & Co", "1200.5", "0.031", "3"], ["Bo", "", "0.2", "4"]]
    book = load_workbook(tmp_path / XLSX_NAME)
    assert book.sheetnames == ["1 Accounts MRR and churn", "2 Revenue"]
    sheet = book["1 Accounts MRR and churn"]
    assert sheet["A1"].value == "Accounts: MRR and churn"
    assert [c.value for c in sheet[2]] == ["Client", "MRR", "Churn", "Seats"]
    assert sheet["B2"].font.b and sheet["B2"].fill.fgColor.rgb.endswith("1F3A5F")
    assert sheet["B3"].value == 1200.5 and sheet["B3"].number_format == '"$"#,##0'
    assert sheet["C3"].number_format == "0.0%" and sheet.freeze_panes == "A3"


def test_no_tables_no_files(tmp_path):
    assert write_data_files([], tmp_path) == [] and list(tmp_path.iterdir()) == []


def test_numbers_lose_their_binary_noise_and_long_captions_end_at_a_word(tmp_path):
    frame = pd.DataFrame({"Revenue": [243901.90999999997, 0.1 + 0.2, 1234567890.12], "Users": [3, 4, 5]})
    caption = "Net revenue retention by acquisition cohort, month by month"  # cut at 40: "…-acquisition-coh"
    [written] = write_data_files(Table(frame, caption=caption).tables(), tmp_path)
    assert written.file == "table-01-net-revenue-retention-by-acquisition.csv"
    with open(tmp_path / written.file, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows[1:]] == ["243901.91", "0.3", "1234567890.12"]
    assert load_workbook(tmp_path / XLSX_NAME).active["A3"].value == 243901.91


def test_a_difference_of_rates_is_written_signed_in_the_workbook(tmp_path):
    # The cohort comparison's "Difference" (a fraction, "+3.3 pts" in the report) sat in General format beside
    # its two rates formatted as percentages: 0.0333333 and -285.23.
    frame = pd.DataFrame({"Newest": [0.533, 0.2], "Earlier": [0.5, 0.25], "Difference": [0.033, -0.05]})
    table = Table(frame, units={"Newest": "percent", "Earlier": "percent", "Difference": "pct_points"})
    write_data_files(table.tables(), tmp_path)
    sheet = load_workbook(tmp_path / XLSX_NAME).active
    assert {sheet[f"C{r}"].number_format for r in (3, 4)} == {"+0.0%;-0.0%;0.0%"}
    assert sheet["C3"].value == 0.033 and sheet["C4"].value == -0.05


def test_a_column_of_figures_of_different_kinds_keeps_numbers_with_each_rows_unit(tmp_path):
    # The executive's retention table (a KPI a row) was text in its data files: "98.7%", "$154", "—".
    from quire.formatting.units import BY_ROW

    frame = pd.DataFrame({"KPI": ["NRR", "Accounts", "ARPA"], "Now": [0.987, 29.0, 154.2], "Before": [0.99, None, 150.0]},
                         dtype=object)
    table = Table(frame, caption="Retention", units={"Now": BY_ROW, "Before": BY_ROW},
                  row_units=["percent", "number", "currency"])
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table.html())
    assert cells == ["NRR", "98.7%", "99.0%", "Accounts", "29", "—", "ARPA", "$154", "$150"]
    [written] = write_data_files(table.tables(), tmp_path)
    with open(tmp_path / written.file, encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle))[1:] == [["NRR", "0.987", "0.99"], ["Accounts", "29", ""], ["ARPA", "154.2", "150"]]
    sheet = load_workbook(tmp_path / XLSX_NAME).active
    assert [sheet[f"B{r}"].number_format for r in (3, 4, 5)] == ["0.0%", "#,##0", '"$"#,##0']
    assert sheet["B3"].value == 0.987 and sheet["C5"].value == 150.0
    with pytest.raises(ValueError, match="2 units for 3 rows"):
        Table(frame, units={"Now": BY_ROW}, row_units=["percent", "number"])


def test_a_column_of_money_keeps_its_cents_alike_in_the_report_and_the_workbook(tmp_path):
    # A weekly LTV of $1.78 showed as "$2" in Excel while the report said "$1.78"; then a whole $15 read
    # "$15" under "$19.25" in the same column, in the report and in Excel.
    frame = pd.DataFrame({"LTV": [1.78, 15.0, 2345.6, None], "Users": [3.0, 2.5, 40.0, 1.0], "Big": [15.0, 120.0, 99.0, 7.0]})
    table = Table(frame, caption="LTV", units={"LTV": "currency", "Users": "number", "Big": "currency"})
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table.html())
    assert cells[0::3] == ["$1.78", "$15.00", "$2,345.60", "—"]
    assert cells[1::3] == ["3.0", "2.5", "40.0", "1.0"]
    assert cells[2::3] == ["$15", "$120", "$99", "$7"]  # a column of whole amounts stays whole
    [written] = write_data_files(table.tables(), tmp_path)
    sheet = load_workbook(tmp_path / XLSX_NAME).active
    assert {sheet[f"A{r}"].number_format for r in (3, 4, 5)} == {'"$"#,##0.00'}
    assert {sheet[f"B{r}"].number_format for r in (3, 4, 5, 6)} == {"#,##0.0"}
    assert {sheet[f"C{r}"].number_format for r in (3, 4, 5, 6)} == {'"$"#,##0'}
    assert sheet["A3"].value == 1.78 and sheet["A4"].value == 15
    # A column's decimals come from all its rows, shown or not, as the workbook's do.
    long = Table(pd.DataFrame({"LTV": [15.0] * 60 + [19.25]}), units={"LTV": "currency"}, max_rows=50)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", long.html())[0] == "$15.00"


def test_text_from_the_warehouse_never_becomes_a_formula(tmp_path):
    # A post titled =cmd|' /C calc'!A0 was a live formula in report.xlsx and a bare first cell in the CSV.
    evil = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|'/c calc'!A0", "+1+1", "-2+3", '=HYPERLINK("http://x.example","y")']
    table = {"caption": "=Top content", "columns": ["Title", "=Views"], "units": {"=Views": "number"},
             "rows": [[text, -5] for text in evil] + [["Plain title", 7]]}
    write_data_files([table], tmp_path)
    book = load_workbook(tmp_path / XLSX_NAME)
    cells = [cell for row in book.worksheets[0].iter_rows() for cell in row if cell.value is not None]
    assert cells and all(c.data_type in ("s", "n") for c in cells)  # no cell is a formula
    assert [c.value for c in book.worksheets[0]["A"][2:]] == [*evil, "Plain title"]  # the text itself, unchanged
    with open(tmp_path / "table-01-top-content.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Title", "'=Views"]
    assert [r[0] for r in rows[1:]] == [*("'" + t for t in evil), "Plain title"]
    assert [r[1] for r in rows[1:]] == ["-5"] * len(evil) + ["7"]  # numbers are numbers, sign and all
