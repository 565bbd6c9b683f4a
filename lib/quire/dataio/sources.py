"""The user's files, read through DuckDB's readers into staging tables, with errors that name file and line.

CSV: the header is read here (so an empty file, a binary file or a file that is not
text is told apart before DuckDB sees it), then ``read_csv`` reads every column as
text with explicit options and no guessing (``auto_detect=false``, strict RFC 4180
parsing), gzip included; a ragged or broken row stops the import with its line number.
Every value is converted later by SQL (:mod:`quire.dataio.expressions`), so a bad value
is reported with its row rather than failing the whole read. Parquet: ``read_parquet``
keeps the file's own types. Rows are numbered in file order while they stream in
(``row_number() OVER ()`` is a streaming window in DuckDB and keeps the reader's order),
so no file is ever held in memory whole.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import duckdb

from quire.dataio.errors import DataError
from quire.dataio.mapping import TableMapping, source_format

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 1 << 16
DELIMITERS = (";", "\t", "|", ",")


@dataclass(frozen=True)
class SourceFile:
    """One file a table is read from."""

    path: Path
    label: str    # the name messages use (as the mapping wrote it)
    format: str   # csv | parquet
    gzip: bool = False


def source_files(spec: TableMapping, base: Path, table: str) -> list[SourceFile]:
    """The files of ``spec.source`` (relative to ``base``; a pattern with * or ? matches several), in order."""
    files = []
    for name in spec.sources:
        pattern = base / name
        matches = sorted(glob(str(pattern))) if any(ch in name for ch in "*?[") else [str(pattern)]
        if not matches:
            raise DataError(f"tables.{table}.source: no file matches {name!r} (in {base})")
        for match in matches:
            path = Path(match)
            if path.is_dir():
                raise DataError(f"tables.{table}.source: {path} is a folder; name its files, e.g. {name.rstrip('/')}/*.csv")
            if not path.is_file():
                detail = f"{path} is a link that leads to no file" if path.is_symlink() else f"looked for {path}"
                raise DataError(f"tables.{table}.source: no file {name!r} ({detail})")
            label = name if len(matches) == 1 else str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
            with path.open("rb") as fh:
                head = fh.read(4)
            fmt = source_format(name, spec.format)
            files.append(SourceFile(path, label, fmt, gzip=head.startswith(GZIP_MAGIC)))
    return files


def columns_of(con: duckdb.DuckDBPyConnection, source: SourceFile, spec: TableMapping) -> dict[str, str]:
    """The file's columns and their types (every CSV column is text)."""
    if source.format == "parquet":
        try:
            rows = con.execute("DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(source.path)}).fetchall()
        except duckdb.Error as exc:
            raise DataError(f"{source.label}: not a readable Parquet file ({first_line(exc)})") from exc
        return {name: type_name for name, type_name, *_ in rows}
    return {name: "VARCHAR" for name in _csv_header(source, spec)}


def _csv_header(source: SourceFile, spec: TableMapping) -> list[str]:
    with source.path.open("rb") as fh:
        raw = fh.read(SNIFF_BYTES)
        if source.gzip:
            fh.seek(0)
            try:
                raw = gzip.GzipFile(fileobj=fh).read(SNIFF_BYTES)
            except (OSError, EOFError) as exc:
                raise DataError(f"{source.label}: a broken gzip file ({exc})") from exc
    if not raw.strip():
        raise DataError(f"{source.label}: the file is empty; a CSV file needs a header line and at least one row")
    if raw.startswith(PARQUET_MAGIC):
        raise DataError(f"{source.label}: this is a Parquet file, not CSV; set format: parquet for tables "
                        f"(or name it .parquet)")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and spec.encoding != "utf-16":
        raise DataError(f"{source.label}: the file is UTF-16 text (it starts with UTF-16's byte-order mark); "
                        "set encoding: utf-16 for this table")
    if b"\x00" in raw and spec.encoding != "utf-16":
        raise DataError(f"{source.label}: not a CSV file (it holds binary data); export the data as CSV or Parquet")
    decoder = codecs.getincrementaldecoder(spec.encoding.replace("latin-1", "latin_1"))(errors="strict")
    try:
        text = decoder.decode(raw, final=len(raw) < SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        raise DataError(f"{source.label}: not {spec.encoding} text (byte {exc.start + 1} cannot be read); "
                        f"set encoding: latin-1 (or utf-16) for this table if the file is in that encoding") from exc
    first = next(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=spec.delimiter), [])
    names = [name.strip() for name in first]
    if not names or not any(names):
        raise DataError(f"{source.label}: the first line is empty; a CSV file starts with a header line")
    if len(names) == 1:
        guess = next((d for d in DELIMITERS if d != spec.delimiter and d in names[0]), None)
        if guess:
            shown = "\\t" if guess == "\t" else guess
            raise DataError(f"{source.label}: the header {names[0][:60]!r} is one column when split at "
                            f"{spec.delimiter!r}; is the delimiter {shown!r}? Set delimiter: '{shown}' for this table")
    # A column without a name is most often the row index pandas writes first (",user id,group,…"); it is
    # named as pandas reads it back, so the mapping can ignore it or rename it.
    names = [name or f"Unnamed: {index}" for index, name in enumerate(names)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"{source.label}: the header names the column {name!r} twice")
        seen.add(name)
    return names


def stage(con: duckdb.DuckDBPyConnection, source: SourceFile, spec: TableMapping, header: dict[str, str],
          table: str, needed: list[str], offset: int, first: bool) -> int:
    """Append the ``needed`` columns of ``source`` to the staging table ``table``, rows numbered from ``offset`` + 1.

    Returns the number of rows the file held. The staging table has ``quire_seq`` (the
    row's number across the table's files) and the source columns as they are.
    """
    quoted = ", ".join(_quote(name) for name in needed)
    reader, params = _reader(source, spec, header)
    select = f"SELECT CAST($offset AS BIGINT) + row_number() OVER () AS quire_seq, {quoted} FROM {reader}"
    statement = (f"CREATE TABLE {table} AS {select}" if first else f"INSERT INTO {table} {select}")
    before = 0 if first else con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    try:
        con.execute(statement, {**params, "offset": offset})
    except duckdb.OutOfMemoryException:
        raise  # not the file's fault: the import says so, with the memory limit
    except duckdb.Error as exc:
        raise DataError(_read_error(source, spec, exc)) from exc
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - before
    if rows == 0:
        raise DataError(f"{source.label}: the file holds no rows" + (" (only a header)" if source.format == "csv" else ""))
    return rows


def _reader(source: SourceFile, spec: TableMapping, header: dict[str, str]) -> tuple[str, dict]:
    params: dict = {"path": str(source.path)}
    if source.format == "parquet":
        return "read_parquet($path)", params
    params.update(columns={name: "VARCHAR" for name in header}, delim=spec.delimiter, nulls=spec.nulls,
                  encoding=spec.encoding, compression="gzip" if source.gzip else "none")
    return ("read_csv($path, auto_detect=false, header=true, columns=$columns, delim=$delim, quote='\"', "
            "escape='\"', nullstr=$nulls, allow_quoted_nulls=false, strict_mode=true, encoding=$encoding, "
            "compression=$compression)"), params


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def first_line(exc: Exception) -> str:
    """A DuckDB error's first line, without its "… Error: " prefix."""
    text = str(exc).strip()
    text = re.sub(r"^[A-Za-z ]*Error: ", "", text)
    return text.splitlines()[0] if text else type(exc).__name__


def _read_error(source: SourceFile, spec: TableMapping, exc: duckdb.Error) -> str:
    """DuckDB's reader error as one line: the file, the line and what was wrong there."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f"{source.label} line {line.group(1)}" if line else source.label
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if counts:
        return (f"{where}: {counts.group(2)} values where the header has {counts.group(1)} columns "
                f"(delimiter {spec.delimiter!r}; a value holding the delimiter must be in double quotes)")
    if "unterminated quote" in text:
        return f"{where}: a quoted value is never closed (a \" without its closing \")"
    if "Invalid unicode" in text or "not utf-8" in text.lower():
        return f"{where}: not UTF-8 text; set encoding: latin-1 (or utf-16) for this table if the file is in that encoding"
    longest = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size: ?(\d+)", text)
    if longest:  # a value of megabytes (a log dump, an embedded file): no report reads one
        return (f"{where}: a line of {int(longest.group(2)):,} bytes, longer than the {int(longest.group(1)):,} a CSV "
                "line may have; leave that value out of the export, or shorten it")
    if "state machine" in text or "invalid state" in text:
        return f"{where}: cannot be read as CSV (is it a CSV file, and is the delimiter right?)"
    return f"{where}: {first_line(exc)}"

