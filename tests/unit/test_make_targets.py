"""The README's make targets: the demo installs only what a report run needs; `make lab` starts as root too."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "system-packages.sh"


def packages(mode: str) -> list[str]:
    proc = subprocess.run(["bash", str(SCRIPT), mode, "--print"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def make_dry_run(target: str) -> str:
    return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True).stdout


def test_the_demo_installs_only_what_a_report_run_needs():
    demo, test = packages("demo"), packages("test")
    # Chromium's headless shell prints the PDFs; the desktop browser is only the browser tests'.
    assert {"libpango-1.0-0", "fonts-dejavu-core", "chromium-headless-shell"} <= set(demo)
    assert not {"chromium", "postgresql", "poppler-utils"} & set(demo)
    assert set(demo) < set(test) and {"chromium", "postgresql", "poppler-utils"} <= set(test)
    assert "system-packages.sh demo" in make_dry_run("demo") and "system-packages.sh test" not in make_dry_run("demo")
    assert "system-packages.sh test" in make_dry_run("test")
    assert subprocess.run(["bash", str(SCRIPT), "everything", "--print"], capture_output=True, timeout=30).returncode == 2


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="Jupyter's root check only bites as root")
def test_make_lab_starts_as_root():
    # `make -o setup`: the environment is there already; only the lab command itself is under test.
    args = "--no-browser --ServerApp.port=0 --ServerApp.ip=127.0.0.1 --ServerApp.open_browser=False"
    proc = subprocess.Popen(["make", "-o", "setup", "lab", f"LAB_ARGS={args}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put("")], daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if not line:
                break  # make ended: the lab did not start
            seen.append(line)
            if re.search(r"http://127\.0\.0\.1:\d+/lab", line):
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    # Under a parent make (CI) the first line is "make[1]: Entering directory"; the command follows it.
    text = "".join(seen)
    command = next((line for line in seen if "jupyter lab" in line), "")
    assert "--allow-root" in command, text[-2000:]
    assert re.search(r"http://127\.0\.0\.1:\d+/lab", text), text[-2000:]
