"""What ``quire serve`` reads from the archive: a published run's report and data files, nothing else.

A file is served only when

* its URL path is exactly ``<report>/<day>/<run>/`` and the report (``report.html``, ``report.pdf``) or its data
  (``report.xlsx``, ``table-NN-….csv``) (:data:`ARCHIVE_FILE`,
  anchored at the very end: no trailing newline or other junk) for a report this server shows;
* every folder on the way from ``outputs/`` and the file itself are opened with
  ``O_NOFOLLOW`` relative to their parent: a symbolic link anywhere on the path (to the
  warehouse, the state database, another client's run) is a miss, and what is checked is
  what is read — no window between a check and the read;
* it is a regular file (not a FIFO, device or folder), as is the run's ``run.json``;
* that ``run.json`` says the run *succeeded*, names this report and, in client-facing mode,
  the pinned client (the tenant comes from the record the pipeline wrote, never from the URL).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from quire.archive import latest_runs

#: The only archive paths served; ``\Z`` (not ``$``, which also matches before a final newline).
ARCHIVE_FILE = re.compile(r"(?P<report>[a-z0-9][a-z0-9_-]{0,63})/(?P<day>\d{4}-\d{2}-\d{2})/"
                          r"(?P<run>[A-Za-z0-9][A-Za-z0-9_-]{0,127})/(?P<file>report\.html|report\.pdf|report\.xlsx|table-\d{2}(-[a-z0-9-]{1,40})?\.csv)\Z")
#: Listed for each run on the landing page (the data files are linked from the report and the console).
SERVED_FILES = ("report.html", "report.pdf")
RUNS_PER_REPORT = 5
SCANNED_RUNS = 200  # newest folders looked at per report: some may be another client's or not servable
MAX_RUN_RECORD = 1 << 20  # a run.json is a few KB; anything this large is not one the pipeline wrote

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted under a served name must not hang the server.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open_folder(outputs: Path, parts: Iterable[str]) -> int | None:
    """A descriptor of ``outputs/<parts…>``, each part opened without following a link; None if any step fails."""
    try:
        fd = os.open(outputs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the configured root may be a link
    except OSError:
        return None
    for part in parts:
        try:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError:
            child = None
        os.close(fd)
        if child is None:
            return None
        fd = child
    return fd


def _read_regular(folder_fd: int, name: str, limit: int | None = None) -> bytes | None:
    """The bytes of the regular file ``name`` in the open folder (no link followed), or None."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder_fd)
    except OSError:
        return None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or (limit is not None and info.st_size > limit):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _is_regular(folder_fd: int, name: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _published_record(folder_fd: int, report: str, client: str | None) -> dict[str, Any] | None:
    """The run's ``run.json`` when it is a succeeded run of ``report`` (and of ``client``, when one is pinned)."""
    raw = _read_regular(folder_fd, "run.json", MAX_RUN_RECORD)
    try:
        record = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("status") != "succeeded" or record.get("report") != report:
        return None
    if client is not None and (report != "client" or record.get("client") != client):
        return None
    return record


def read_archive_file(outputs: Path, path: str, reports: set[str], client: str | None) -> tuple[str, bytes] | None:
    """``(file name, content)`` of the archive file an ``/archive/`` URL path names, or None (a 404).

    See the module docstring for every condition.
    """
    m = ARCHIVE_FILE.fullmatch(path)
    if not m or m["report"] not in reports:
        return None
    folder = _open_folder(outputs, (m["report"], m["day"], m["run"]))
    if folder is None:
        return None
    try:
        if _published_record(folder, m["report"], client) is None:
            return None
        data = _read_regular(folder, m["file"])
        return (m["file"], data) if data is not None else None
    finally:
        os.close(folder)


def published_run(outputs: Path, run_folder: Path, client: str | None) -> tuple[dict[str, Any], list[str]] | None:
    """``(run.json, files the archive serves)`` of a run folder under ``outputs``, or None when it serves nothing."""
    try:
        report, day, run = run_folder.relative_to(outputs).parts
    except ValueError:
        return None
    folder = _open_folder(outputs, (report, day, run))
    if folder is None:
        return None
    try:
        record = _published_record(folder, report, client)
        files = [name for name in SERVED_FILES if _is_regular(folder, name)]
    finally:
        os.close(folder)
    return (record, files) if record is not None and files else None


#: Parameters the landing page's other columns show already (or that change no figure).
_SHOWN_ELSEWHERE = {"period", "client", "brand", "experiment"}


def run_details(record: dict[str, Any], defaults: dict[str, Any], warehouse: str | None = None) -> str:
    """What tells a run from its report's others besides its period and client: an experiment's name (from its
    title), the parameters it changed from their defaults ("granularity week, behaviour activated"), and
    "another warehouse" when it read other data than ``warehouse`` (the served one; its address is not shown: a
    client-facing page has no business with it)."""
    title = str(record.get("title") or "")
    subject = [title.split(": ", 1)[1]] if ": " in title else []
    changed = [f"{name.replace('_', ' ')} {value}" for name, value in (record.get("parameters") or {}).items()
               if name not in _SHOWN_ELSEWHERE and name in defaults and value != defaults[name]]
    read = record.get("warehouse")  # absent from runs published before it was recorded: nothing to say
    elsewhere = ["another warehouse"] if warehouse and read and read != warehouse else []
    return ", ".join(subject + changed + elsewhere)


def page_period(record: dict[str, Any]) -> str:
    """The run's period in the page's own language ("November 2026" beside "November 2026", where the run's record
    has its report's: "novembre 2026"); the record's words for a period that is no period key (an experiment's)."""
    from quire.errors import QuireError
    from quire.periods import parse_period

    key = (record.get("parameters") or {}).get("period")
    try:
        period = parse_period(str(key)) if key else None  # None for "latest"
    except QuireError:
        period = None
    return period.label if period is not None else str(record.get("period") or "")


def collect_runs(outputs: Path, report_titles: dict[str, str], client: str | None,
                 defaults: dict[str, dict[str, Any]] | None = None, warehouse: str | None = None) -> list[dict[str, Any]]:
    """For each report shown: its title and latest published runs (date, period, client, details, links);
    ``warehouse``: see :func:`run_details`."""
    shown = []
    for report, title in report_titles.items():
        runs = []
        for folder in latest_runs(outputs, report, limit=SCANNED_RUNS):
            found = published_run(outputs, folder, client)
            if found is None:
                continue
            record, files = found
            rel = folder.relative_to(outputs).as_posix()
            links = {name.removeprefix("report."): f"archive/{rel}/{name}" for name in files}
            finished = str(record.get("finished_at") or record.get("started_at") or folder.parent.name)
            runs.append({
                "date": finished[:16].replace("T", " "),
                "period": page_period(record), "client": record.get("client_name") or "",
                "details": run_details(record, (defaults or {}).get(report, {}), warehouse),
                "status": record["status"], "html": links.get("html"), "pdf": links.get("pdf"),
            })
            if len(runs) >= RUNS_PER_REPORT:
                break
        shown.append({"id": report, "title": title, "runs": runs})
    return shown
