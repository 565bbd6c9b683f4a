"""The archive of runs under ``outputs/``.

A run is written into a private staging folder and moved into
``outputs/<report>/<date>/<run-id>/`` with one atomic ``rename`` only once every
file is complete, so a reader never sees half a run. A failed run is moved to
``outputs/_failed/<report>/<date>/<run-id>/`` instead, with ``FAILED.txt`` saying
why; nothing of it is published. Paths are built here from validated ids, never
from parameter text.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from quire.errors import OutputError

FAILED_DIR = "_failed"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique run id: UTC time plus random suffix, e.g. ``20261122T204501Z-3fa9c1``."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunFolder:
    """Where one run is staged and where it will be published or parked as failed."""

    outputs: Path
    report: str
    run_id: str
    day: str  # YYYY-MM-DD of the run (UTC)
    #: Tells two executions of one run apart (a run re-run after its worker died, on a shared
    #: filesystem): each stages in a folder of its own, and only the first to finish publishes.
    attempt: str = field(default_factory=lambda: f"{os.getpid()}-{secrets.token_hex(2)}")

    @property
    def staging(self) -> Path:
        return staging_root(self.outputs) / f"{self.run_id}.{self.attempt}"

    @property
    def published(self) -> Path:
        return self.outputs / self.report / self.day / self.run_id

    @property
    def failed(self) -> Path:
        return self.outputs / FAILED_DIR / self.report / self.day / self.run_id

    def create(self) -> Path:
        for path in (self.staging, self.published, self.failed):  # refused before the run, not after it
            _not_through_a_link(self.outputs, path)
        self.staging.mkdir(parents=True, exist_ok=False)
        return self.staging

    def publish(self) -> Path:
        """Atomically move the complete staging folder into the archive.

        If another execution of the same run published first, its copy stays, this one is
        discarded, and the published folder is returned: a run is published once.
        """
        try:
            return self._move(self.published)
        except OSError:
            if (self.published / "run.json").is_file():
                self.discard()
                return self.published
            raise

    def park_failed(self, reason: str) -> Path:
        """Keep what the failed run produced (its partial notebook) under ``_failed`` with the reason.

        The folder is moved first (a rename needs no free space), then ``FAILED.txt`` is written.
        On a full disk the failed run's rendered files are dropped to make room for the reason;
        its notebook, the audit trail, stays.
        """
        target = self.failed
        if target.exists():  # an earlier execution of this run was parked already: keep both
            target = target.with_name(f"{self.run_id}.{self.attempt}")
        target = self._move(target)
        text = reason.rstrip() + "\n"
        try:
            (target / "FAILED.txt").write_text(text, encoding="utf-8")
        except OSError:
            for path in target.iterdir():
                if path.name not in ("report.ipynb", "FAILED.txt") and path.is_file():
                    path.unlink()
            try:
                (target / "FAILED.txt").write_text(text, encoding="utf-8")
            except OSError:
                pass  # the reason is in the error message and, if it can be written, the run history
        return target

    def _move(self, target: Path) -> Path:
        _not_through_a_link(self.outputs, target)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same filesystem (staging lives inside outputs/), so this is a single atomic rename.
        os.replace(self.staging, target)
        return target

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _not_through_a_link(outputs: Path, path: Path) -> None:
    """Refuse ``path`` if a folder between ``outputs`` and it is a symbolic link (``outputs`` itself may be one).

    A run written through a link lands outside the outputs folder, where the archive, which follows no link,
    never serves it, and where a link planted in the outputs folder could aim it.
    """
    current = outputs
    for part in path.relative_to(outputs).parts:
        current = current / part
        if current.is_symlink():
            raise OutputError(f"{current} is a symbolic link (to {os.readlink(current)}); runs are written only "
                              "inside the outputs folder",
                              hint="replace the link with a folder, or point QUIRE_OUTPUTS at the disk it leads to")


def staging_root(outputs: Path) -> Path:
    """Where runs are assembled before they are published (inside ``outputs/``, so a publish is a rename)."""
    return outputs / ".quire" / "staging"


def staged_folders(outputs: Path, report: str, run_id: str, day: str) -> list[RunFolder]:
    """The staging folders that executions of ``run_id`` left behind (a killed run's), oldest first."""
    root = staging_root(outputs)
    found = sorted(root.glob(f"{run_id}.*"), key=lambda p: p.stat().st_mtime) if root.is_dir() else []
    return [RunFolder(outputs, report, run_id, day, attempt=p.name[len(run_id) + 1:]) for p in found if p.is_dir()]


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def latest_runs(outputs: Path, report: str, limit: int = 10) -> list[Path]:
    """Published run folders of ``report``, newest first (run ids sort by time)."""
    root = outputs / report
    if not root.is_dir():
        return []
    runs = [p for day in root.iterdir() if day.is_dir() for p in day.iterdir() if (p / "run.json").is_file()]
    return sorted(runs, key=lambda p: p.name, reverse=True)[:limit]
