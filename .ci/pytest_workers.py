"""How many pytest workers `make test` starts: one per CPU the suite may use, and one more.

A quarter of the suite's time is spent waiting (on servers, schedules, processes ending), not computing,
hence the one more. The CPUs are those of the process's affinity, fewer when a container's CPU quota says
so (a 2-CPU quota on a 64-core host would give 65 workers, each starting kernels, servers and Chromium),
and at most MOST, so that a big host does not start more of those at once than its memory holds.
"""

import os
from pathlib import Path

MOST = 6


def quota() -> float | None:
    """The CPUs a cgroup quota allows (v2, else v1), or None without one."""
    try:
        limit, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        try:
            limit = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text().strip()
            period = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    return None if limit in ("max", "-1") else int(limit) / int(period)


cpus = len(os.sched_getaffinity(0))
if (allowed := quota()) is not None:
    cpus = min(cpus, max(1, round(allowed)))
print(min(cpus, MOST) + 1)
