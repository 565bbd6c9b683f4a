"""The data of a run's tables as files beside the report: one CSV per table and one ``report.xlsx``.

The tables come out of the executed notebook as JSON (``application/vnd.quire.tables+json``,
see :mod:`quire.display`): raw values, not the formatted text of the HTML, so a
spreadsheet can compute with them. The workbook has a sheet per table with the report's
column headers formatted (bold, brand colour, frozen, filtered), number formats from the
table's units and the caption above. File names come from the table's position and
caption, built here (never from outside input), e.g. ``table-03-mrr-bridge.csv``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quire.formatting.units import BY_ROW, column_decimals

XLSX_NAME = "report.xlsx"
CSV_NAME = re.compile(r"^table-\d{2}(-[a-z0-9-]{1,40})?\.csv$")
#: Excel number formats of the KPI units (percent values are fractions, as in the report); money and
#: plain numbers are written as :func:`_number_format` says. Excel shows separators as the reader's own
#: settings say.
#: A change of a rate (``pct_points``, a fraction as the rates are) is written signed, as the report writes it.
NUMBER_FORMATS = {"percent": "0.0%", "points": "0", "months": "0.0", "pct_points": "+0.0%;-0.0%;0.0%",
                  "relative": "+0.0%;-0.0%;0.0%"}


def _currency_format(cents: bool = False) -> str:
    """Excel's format for amounts of the run's currency, placed as its locale places it: "$"#,##0 / #,##0" €"
    (with ``cents``: "$"#,##0.00)."""
    from quire.formatting import currency_affixes

    prefix, suffix = (f'"{part}"' if part else "" for part in currency_affixes())
    return f"{prefix}#,##0{'.00' if cents else ''}{suffix}"


def _number_format(unit: str, values: Sequence[Any]) -> str | None:
    """Excel's number format of cells of ``values`` in ``unit`` (a column, or one cell of a column of mixed
    units), None for a unit without one (a count, text). Money and plain numbers keep the decimals the
    report shows them with ($1.78, not $2; 2.5, not 3), for every cell of the column alike."""
    if unit == "currency":
        return _currency_format(cents=column_decimals(values, unit) > 0)
    if unit == "number":  # not "#,##0.##", which Excel writes as "3." for a whole 3
        return "#,##0.0" if column_decimals(values, unit) else "#,##0"
    return NUMBER_FORMATS.get(unit)


@dataclass(frozen=True)
class DataFile:
    """One table saved: its file name, caption and size."""

    file: str
    caption: str
    rows: int
    sheet: str

    def record(self) -> dict[str, Any]:
        return {"file": self.file, "caption": self.caption, "rows": self.rows, "sheet": self.sheet}


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) <= limit:
        return slug
    cut = slug[:limit + 1]  # one more: a word that ends exactly at the limit is kept whole
    return cut.rsplit("-", 1)[0] if "-" in cut else slug[:limit]


def _name(number: int, table: dict[str, Any]) -> str:
    slug = _slug(table.get("caption") or table.get("section") or "")
    return f"table-{number:02d}" + (f"-{slug}" if slug else "") + ".csv"


def _sheet_title(number: int, table: dict[str, Any], used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ , unique in the workbook.
    base = re.sub(r"[\[\]:*?/\\]", " ", table.get("caption") or table.get("section") or "Table")
    base = re.sub(r"\s+", " ", base).strip()
    title = f"{number} {base}"[:31].rstrip()
    while title.lower() in used:
        title = f"{number}-{len(used)} {base}"[:31].rstrip()
    used.add(title.lower())
    return title


def write_data_files(tables: list[dict[str, Any]], folder: Path, *, header_color: str = "1F3A5F",
                     creator: str = "") -> list[DataFile]:
    """Write every table as CSV and all of them into ``report.xlsx`` in ``folder``; what was written.

    ``creator`` is the workbook's author as a spreadsheet shows it: the brand the report speaks for (a white-label
    report names no platform, in its files' properties neither). Nothing is written for a report without tables.
    """
    if not tables:
        return []
    written, used = [], set()
    for number, table in enumerate(tables, start=1):
        name = _name(number, table)
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([inert(c) for c in table["columns"]])
            writer.writerows(["" if v is None else inert(v) for v in row] for row in table["rows"])
        written.append(DataFile(name, table.get("caption") or table.get("section") or f"Table {number}",
                                len(table["rows"]), _sheet_title(number, table, used)))
    _write_workbook(tables, written, folder / XLSX_NAME, header_color.lstrip("#"), creator)
    return written


#: What a spreadsheet reads as the start of a formula in a text cell (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """``value`` as a CSV cell no spreadsheet runs: text starting like a formula gets a leading apostrophe.

    Texts come from the warehouse (a client's name, a post's title): ``=HYPERLINK(…)`` or
    ``=cmd|' /C calc'!A0`` in one would otherwise run when staff open the file. Numbers are left alone.
    """
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _as_text(cells) -> None:
    """Keep the workbook's text cells text: openpyxl stores a string starting with "=" as a formula."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"


def _write_workbook(tables: list[dict[str, Any]], files: list[DataFile], path: Path, header_color: str,
                    creator: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=header_color)
    for table, info in zip(tables, files, strict=True):
        sheet = book.create_sheet(info.sheet)
        sheet.append([info.caption])
        sheet["A1"].font = Font(bold=True, size=12)
        columns = table["columns"]
        sheet.append(columns)
        for cell in sheet[2]:
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        for row in table["rows"]:
            sheet.append(row)
        for cells in sheet.iter_rows():
            _as_text(cells)
        units = table.get("units") or {}
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            unit = units.get(column, "")
            # A column of figures of different kinds (a KPI a row) takes each row's unit; a column without a
            # unit is left alone, without a look at its cells.
            values = [row[index - 1] for row in table["rows"]]
            if unit == BY_ROW:
                formats = [_number_format(u, [v]) for u, v in zip(table["row_units"], values, strict=True)]
            else:
                formats = [_number_format(unit, values)] * len(values) if unit else []
            if any(formats):  # the cells of a column without a format are left alone
                for number_format, (cell,) in zip(formats, sheet.iter_rows(min_row=3, min_col=index, max_col=index)):
                    if number_format:
                        cell.number_format = number_format
            widest = max([len(str(column))] + [len(str(r[index - 1])) for r in table["rows"][:200] if r[index - 1] is not None])
            sheet.column_dimensions[letter].width = min(max(10, widest + 2), 60)
        sheet.freeze_panes = "A3"
        if table["rows"]:
            sheet.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{len(table['rows']) + 2}"
    book.properties.creator = creator  # openpyxl's default is "openpyxl"
    book.save(path)
