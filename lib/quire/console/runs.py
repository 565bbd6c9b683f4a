"""Runs as the console shows them: the history row, its ``run.json`` and the files a requester may download.

A run's files are looked up in the folder the run history recorded, which must lie inside
the archive (``outputs/``); only names of the fixed set below are ever served — the report,
its executed notebook, its data files, and for a failed run its partial notebook — and
only to a requester who may see the run's client.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from quire.console.access import Access
from quire.console.reports import NotFound
from quire.datafiles import CSV_NAME, XLSX_NAME
from quire.errors import StateError
from quire.state import runs as history

#: The downloadable files of a published run, with their media types.
REPORT_FILES = {"report.html": "text/html; charset=utf-8", "report.pdf": "application/pdf",
                "report.ipynb": "application/x-ipynb+json", XLSX_NAME:
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PARTIAL = "partial.ipynb"
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
LIVE = ("queued", "running")


#: The largest offset into the history a page may ask for: beyond any history, and within every
#: database's integers (a larger one overflowed SQLite's).
MAX_OFFSET = 10**12

@dataclass
class RunView:
    """One run: its history row, its record (``run.json``) and where its files are."""

    row: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None
    outputs: Path | None = None

    @property
    def id(self) -> str:
        return self.row["run_id"]

    @property
    def live(self) -> bool:
        return self.row["status"] in LIVE

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to now while running)."""
        start, end = self.row.get("started_at"), self.row.get("finished_at")
        if start is None:
            return None
        if end is None:
            from quire.state import utcnow

            end = utcnow()
        return max(0.0, (end - start).total_seconds())

    @property
    def period(self) -> str:
        """The period parameter as the run was asked for (e.g. ``2026-10``): the same in lists and details."""
        return str((self.row.get("parameters") or {}).get("period") or "")

    @property
    def period_label(self) -> str:
        """The period as the published report names it (e.g. ``October 2026``), else :attr:`period`."""
        return str(self.record.get("period") or self.period)

    def files(self) -> list[dict[str, Any]]:
        """The files a requester may download: name, label, media type, size."""
        found = []
        if self.folder is not None:
            for name, label in (("report.html", "HTML report"), ("report.pdf", "PDF report"),
                                (XLSX_NAME, "All tables (Excel)"), ("report.ipynb", "Executed notebook")):
                path = self.folder / name
                if path.is_file():
                    found.append({"name": name, "label": label, "type": REPORT_FILES[name], "bytes": path.stat().st_size})
            for data in self.record.get("data_files") or []:
                path = self.folder / str(data.get("file", ""))
                if CSV_NAME.match(path.name) and path.is_file():
                    found.append({"name": path.name, "label": f"{data.get('caption') or path.name} (CSV)",
                                  "type": "text/csv; charset=utf-8", "bytes": path.stat().st_size})
        partial = self.partial_path()
        if partial is not None:
            found.append({"name": PARTIAL, "label": "Partial notebook (where it failed)",
                          "type": REPORT_FILES["report.ipynb"], "bytes": partial.stat().st_size})
        return found

    def partial_path(self) -> Path | None:
        """A failed run's partial notebook, if it is still there (inside the archive)."""
        text = self.row.get("partial_notebook")
        if not text or self.outputs is None:
            return None
        path = Path(text)
        if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(self.outputs.resolve()):
            return None
        return path

    def summary(self) -> dict[str, Any]:
        """The run as the API lists it."""
        r = self.row
        return {"run_id": r["run_id"], "report": r["report"], "client": r["client"], "status": r["status"],
                "trigger": r["trigger"], "attempt": r["attempt"], "retry_of": r["retry_of"],
                "parameters": r["parameters"], "period": self.period or None,
                "created_at": _iso(r["created_at"]), "started_at": _iso(r["started_at"]),
                "finished_at": _iso(r["finished_at"]), "duration_seconds": _round(self.duration),
                "error": r["error"], "requested_by": r.get("requested_by")}

    def detail(self) -> dict[str, Any]:
        """Everything the API gives about one run."""
        return {**self.summary(), "period_label": self.period_label or None, "title": self.record.get("title"),
                "client_name": self.record.get("client_name"), "conclusion": self.record.get("conclusion"),
                "headline": self.record.get("headline") or [], "timings": self.record.get("timings") or {},
                "files": [{k: f[k] for k in ("name", "label", "type", "bytes")} for f in self.files()],
                "error_type": self.row.get("error_type")}


def _iso(moment: datetime | None) -> str | None:
    return f"{moment.isoformat(timespec='seconds')}Z" if moment else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def inside(outputs: Path, text: str | None) -> Path | None:
    """``text`` as a folder inside the archive, or None (missing, elsewhere, or a symlink out)."""
    if not text:
        return None
    root = outputs.resolve()
    folder = Path(text).resolve()
    return folder if folder.is_relative_to(root) and folder != root and folder.is_dir() else None


def read_record(folder: Path | None) -> dict[str, Any]:
    if folder is None:
        return {}
    try:
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def view(row: dict[str, Any], outputs: Path, access: Access, *, with_record: bool = True) -> RunView:
    """A RunView of a history row as ``access`` may see it (its record read from its folder when ``with_record``).

    A client's user is not told which token requested a run (an internal one, maybe), as they are not told
    which changed a schedule."""
    if access.client is not None:
        row = {**row, "requested_by": None}
    folder = inside(outputs, row.get("output_folder")) if row.get("status") == "succeeded" else None
    return RunView(row, read_record(folder) if with_record else {}, folder, outputs)


def load(engine: Engine, outputs: Path, run_id: str, access: Access, reports: set[str] | None = None) -> RunView:
    """The run ``run_id`` if the requester may see it; :class:`NotFound` if there is none (on this server)
    or it is another client's — the same answer, so that a client's token cannot tell which of another
    client's run ids exist."""
    if not RUN_ID.match(run_id or ""):
        raise NotFound(f"no run {run_id!r}")
    try:
        row = history.get(engine, run_id)
    except StateError:
        raise NotFound(f"no run {run_id!r}") from None
    if reports is not None and row["report"] not in reports:
        raise NotFound(f"no run {run_id!r}")
    if not access.sees(row["client"]):
        raise NotFound(f"no run {run_id!r}")
    return view(row, outputs, access)


def file_path(run: RunView, name: str) -> tuple[Path, str]:
    """(path, media type) of a downloadable file of ``run``; :class:`NotFound` for anything else."""
    if name == PARTIAL:
        partial = run.partial_path()
        if partial is not None:
            return partial, REPORT_FILES["report.ipynb"]
        raise NotFound(f"run {run.id} has no partial notebook")
    for f in run.files():
        if f["name"] == name:
            path = (run.folder / name) if run.folder else None
            if path is not None and path.is_file() and not path.is_symlink():
                return path, f["type"]
    raise NotFound(f"run {run.id} has no file {name!r}")
