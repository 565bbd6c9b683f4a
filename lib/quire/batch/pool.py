"""A batch of runs on every core: the warm local pool, or a Dask cluster when one is configured.

:func:`run_batch` keeps ``workers`` runs going at once (one per core by default), each
in its own forked process (:class:`~quire.batch.runner.ForkExecutor`) or, with
``QUIRE_DASK_SCHEDULER`` set, on a Dask worker (:mod:`quire.batch.dask`). Around the
runs it starts what they share and no tenant owns: the warm fork server, the Chromium
print service, and the batch's tenant-free data (:mod:`quire.batch.shared`).

Memory stays bounded however long the batch: every run is a process that exits, and
the parent keeps only each run's small :class:`~quire.batch.runner.Outcome`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from quire.batch.runner import Cancel, ForkExecutor, Outcome, RunRequest, _failure, start_warming
from quire.config import default_workers

if TYPE_CHECKING:
    from quire.config import Settings


class Executor(Protocol):
    """Runs one request to its end; blocking, called from the batch's threads."""

    name: str

    def connect(self) -> None:
        """Make sure the runs can be sent (a cluster reached): a QuireError before any run is recorded, if not."""

    def run(self, request: RunRequest, settings: Settings, *, timeout: float,
            cancel: Cancel | None = None, on_start: Callable[[int], None] | None = None) -> Outcome: ...


def executor_for(settings: Settings) -> Executor:
    """Dask when ``QUIRE_DASK_SCHEDULER`` names a scheduler, else the local warm pool."""
    if settings.dask_scheduler:
        from quire.batch.dask import DaskExecutor

        return DaskExecutor(settings.dask_scheduler)
    return ForkExecutor()


def run_batch(requests: Sequence[RunRequest], settings: Settings, *, workers: int | None = None,
              timeout: float | None = None, executor: Executor | None = None,
              on_start: Callable[[RunRequest, int], None] | None = None,
              on_done: Callable[[RunRequest, Outcome], None] | None = None,
              cancel: Cancel | None = None) -> list[Outcome]:
    """Run every request, ``workers`` at a time; the outcomes in the requests' order.

    ``on_start(request, pid)`` and ``on_done(request, outcome)`` are called from the batch's
    threads as runs start and end (run history, progress). One failing run never stops the
    others; ``cancel`` stops the rest (runs in progress are killed and come back cancelled).
    """
    from quire.batch import shared

    executor = executor or executor_for(settings)
    if workers is None:  # as many at once as there are cores to run them: here, or the cluster's threads
        workers = executor.total_threads() if hasattr(executor, "total_threads") else default_workers()
    workers = max(1, min(workers, len(requests) or 1))
    timeout = timeout or settings.run_timeout
    cancel = cancel if cancel is not None else Cancel()  # set by Ctrl-C, below, when the caller has none
    with ExitStack() as stack:
        if executor.name == "local":
            start_warming()  # imports in the fork server while the rest is prepared
            service = stack.enter_context(print_service_for(settings))
            if service is not None:
                requests = [replace(r, print_service=service.address.encode()) for r in requests]
        requests = shared.attach(list(requests), settings)

        def one(request: RunRequest) -> Outcome:
            if cancel.is_set():
                outcome = Outcome("cancelled", error="cancelled before it started", error_type="Cancelled", transient=True)
            else:
                try:
                    outcome = executor.run(request, settings, timeout=timeout, cancel=cancel,
                                           on_start=(lambda pid: on_start(request, pid)) if on_start else None)
                except Exception as exc:  # the executor itself broke (a cluster lost): this run's outcome, recorded
                    outcome = _failure(exc)
                if cancel.is_set() and outcome.status == "failed":
                    # Failed as the cancel took its helpers down (Chromium's print, stopped by the same Ctrl-C):
                    # the cancel's doing, not the report's.
                    outcome = outcome.cancelled(cancel.reason, "Cancelled")
            if on_done:
                on_done(request, outcome)
            return outcome

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="quire-batch") as pool:
            try:
                return list(pool.map(one, requests))
            except KeyboardInterrupt:
                # Ctrl-C: the runs in progress are killed and recorded cancelled, the rest not started, before
                # the interrupt goes on to the command (the pool's exit waits for its threads to say so).
                cancel.set("interrupted (Ctrl-C)")
                raise


def print_service_for(settings: Settings):
    """The Chromium print service when PDFs are printed with Chromium, else nothing to start."""
    from contextlib import nullcontext

    from quire.pdf import renderer_name

    if renderer_name(settings) != "chromium":
        return nullcontext()
    from quire.pdf.chromium import PrintService

    return PrintService()
