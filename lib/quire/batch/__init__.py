"""The batch engine: many runs on every core (or a Dask cluster), each in a clean process forked warm.

One face: :func:`run_batch` runs :class:`RunRequest` objects and returns their
:class:`Outcome` objects. Inside: :mod:`~quire.batch.warm` (what a worker imports once),
:mod:`~quire.batch.inprocess` (cells executed without a kernel),
:mod:`~quire.batch.runner` (one run in a forked process, with its timeout),
:mod:`~quire.batch.pool` (the batch), :mod:`~quire.batch.shared` (tenant-free data
computed once per batch) and :mod:`~quire.batch.dask` (the cluster executor).
"""

from quire.batch.pool import default_workers, executor_for, run_batch
from quire.batch.runner import Cancel, ForkExecutor, Outcome, RunRequest, kill_tree, run_request

__all__ = ["Cancel", "ForkExecutor", "Outcome", "RunRequest", "default_workers", "executor_for", "kill_tree",
           "run_batch", "run_request"]
