"""A plain pandas DataFrame (or Series) as a report table.

Meaningful indexes (named, or anything but 0, 1, 2…) become leading columns; nested column
labels are joined; numbers are written the way the reports write them — thousands separators,
a typographic minus, one number of decimals per column chosen from its typical size, and no
"−0.00" — and dates without a time of day as dates. ``frame.attrs["caption"]`` becomes the caption.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from quire.display import Table, with_index_columns
from quire.metrics.kpi import format_number

#: Rows shown of a long frame (the table then says "Showing 50 of N rows").
MAX_ROWS = 50


def frame_table(data: pd.DataFrame | pd.Series) -> Table:
    """``data`` as a :class:`~quire.display.Table` whose numbers are already formatted (aligned right)."""
    frame, caption = _plain(data, rows=MAX_ROWS)
    units: dict[str, str] = {}
    for index, column in enumerate(frame.columns):
        values = frame.iloc[:, index]
        if pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_numeric_dtype(values):
            decimals = column_decimals(values)
            frame.isetitem(index, values.map(lambda v, d=decimals: None if _missing(v) else format_number(v, d)))
            units[column] = "text"
        elif pd.api.types.is_datetime64_any_dtype(values):
            frame.isetitem(index, values.map(_date_text))
    return Table(frame, caption=caption, units=units, max_rows=MAX_ROWS, total_rows=len(data))


def frame_data(data: pd.DataFrame | pd.Series) -> list[dict]:
    """The data of :func:`frame_table`'s table as the run saves it (CSV, report.xlsx): every row, raw values."""
    frame, caption = _plain(data)
    return Table(frame, caption=caption).tables()


def _plain(data: pd.DataFrame | pd.Series, rows: int | None = None) -> tuple[pd.DataFrame, str]:
    """``data`` (its first ``rows``) as a frame of its own with index columns and flat labels, and its caption."""
    frame = with_index_columns(data.to_frame() if isinstance(data, pd.Series) else data)
    frame = (frame if rows is None else frame.head(rows)).copy()
    frame.columns = [_label(c) for c in frame.columns]
    return frame, str(data.attrs.get("caption") or "")


def column_decimals(values: pd.Series) -> int:
    """Decimals for a column of numbers: none for whole numbers or large ones, more as they get smaller."""
    finite = pd.to_numeric(values, errors="coerce").astype(float)
    finite = finite[np.isfinite(finite)]
    if finite.empty or bool((finite == finite.round()).all()):
        return 0
    typical = float(finite.abs()[finite != 0].median()) if bool((finite != 0).any()) else 0.0
    if typical >= 100:
        return 0
    if typical >= 10:
        return 1
    return 2 if typical >= 0.1 else 3


def _label(column: object) -> str:
    if isinstance(column, tuple):
        return " · ".join(str(part) for part in column if str(part))
    return str(column)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _date_text(value: object) -> object:
    if _missing(value) or value is pd.NaT:
        return None
    stamp = pd.Timestamp(value)
    return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else f"{stamp:%Y-%m-%d %H:%M}"


__all__ = ["frame_table", "frame_data", "column_decimals", "MAX_ROWS"]
