"""Past one machine: runs executed on a Dask distributed cluster, each Dask worker a warm Quire worker.

With ``QUIRE_DASK_SCHEDULER=tcp://host:8786`` a batch submits one task per run to that
scheduler. On the Dask worker, the task runs exactly as a local batch run does: forked
from the worker's own warm fork server, printed by the worker's own Chromium, bounded
by the same wall-clock timeout that kills the run's process tree
(:class:`~quire.batch.runner.ForkExecutor`).

A Dask worker that dies mid-run takes its runs with it (they die with their parent), and
Dask runs those tasks again on another worker. The run id travels with the task, so a
re-run finds a run that was already published and reports it instead of publishing it
twice; the history row and the e-mails are recorded once, by the process that submitted
the batch, from the one outcome it receives. What a killed execution had staged is parked
with the failed runs once the run has ended. See ``scheduler/DASK.md`` for deployment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from quire.batch.runner import Cancel, ForkExecutor, Outcome, RunRequest, lost_run_outcome, park_staging
from quire.errors import ConfigError

if TYPE_CHECKING:
    from quire.config import Settings

INTERRUPTED_ON_WORKER = "interrupted: its Dask worker died mid-run; the run was done again on another worker"
#: Seconds to reach the Dask scheduler. distributed retries a refused connection for that long, but waits for ever
#: for the handshake of something that takes the connection and never answers (not a Dask scheduler, or a hung
#: one): the wait for the client as a whole is bounded here too, at half as long again.
CONNECT_TIMEOUT = 30
#: How long a run is waited for: its own timeout (enforced on the worker) this many times, for queueing and for
#: re-runs after a worker died, and these seconds more. Past that, or when Dask gives up on it, the run ends here:
#: as published if its worker published it meanwhile (a scheduler that stopped answering does not stop a run
#: already on a worker), else timed out or failed, with what it staged parked (an execution still going on a
#: worker then finds its folder gone and publishes nothing).
WAIT_FACTOR = 4
WAIT_GRACE = 60

_worker_lock = threading.Lock()
_worker_service = None


def _print_service_address(settings: Settings) -> str | None:
    """This Dask worker's print service (started at its first run, kept for the worker's life)."""
    global _worker_service
    from quire.pdf import renderer_name

    if renderer_name(settings) != "chromium":
        return None
    with _worker_lock:
        if _worker_service is None:
            from quire.pdf.chromium import PrintService

            _worker_service = PrintService()
        return _worker_service.address.encode()


def run_on_worker(request: RunRequest, settings: Settings, timeout: float) -> Outcome:
    """The task a Dask worker runs: one run in a fork of this worker's warm server."""
    import multiprocessing
    from dataclasses import replace

    from quire.batch.runner import start_warming

    if multiprocessing.current_process().daemon:
        raise ConfigError("this Dask worker cannot start run processes (it is daemonic)",
                          hint="start Dask workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (see scheduler/DASK.md)")
    start_warming()
    address = _print_service_address(settings)
    return ForkExecutor().run(replace(request, print_service=address), settings, timeout=timeout)


class DaskExecutor:
    """Submits each run to a Dask scheduler and waits for its outcome (see the module docstring)."""

    name = "dask"

    def __init__(self, address: str) -> None:
        self.address = address
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                try:
                    from distributed import Client
                except ImportError:
                    raise ConfigError("QUIRE_DASK_SCHEDULER is set but Dask's distributed package is not installed",
                                      hint="pip install 'quire[dask]', or unset it to run on this machine") from None

                self._client = _connected_client(Client, self.address)
            return self._client

    def connect(self) -> None:
        """Connect to the scheduler now (a ConfigError when it cannot be reached), rather than at the first run."""
        self.client  # noqa: B018 -- the property connects

    def total_threads(self) -> int:
        """How many runs the cluster executes at once (its workers' threads)."""
        return sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()) or 1

    def run(self, request: RunRequest, settings: Settings, *, timeout: float,
            cancel: Cancel | None = None, on_start: Callable[[int], None] | None = None) -> Outcome:
        from distributed import TimeoutError as DaskTimeout

        future = self.client.submit(run_on_worker, request, settings, timeout, key=f"quire-run-{request.run_id}",
                                    pure=False)
        if on_start:
            on_start(0)  # the process is on another machine; the run id is what identifies it
        deadline = time.monotonic() + WAIT_FACTOR * timeout + WAIT_GRACE
        while True:
            try:
                outcome = future.result(timeout=1.0)
            except DaskTimeout:
                if cancel is not None and cancel.is_set():
                    future.cancel()
                    return lost_run_outcome(settings, request, "cancelled", "Cancelled",
                                            f"cancelled: {cancel.reason}", transient=True)
                if time.monotonic() > deadline:
                    future.cancel()
                    return lost_run_outcome(settings, request, "timed_out", "Timeout",
                                            "timed out waiting for the Dask cluster")
            except Exception as exc:  # KilledWorker after repeated worker deaths, a lost scheduler…
                said = (str(exc).splitlines() or [""])[0][:300]
                return lost_run_outcome(settings, request, "failed", type(exc).__name__,
                                        f"Dask: {type(exc).__name__}: {said}", transient=True)
            else:
                # The run has ended on some worker: whatever else of it is still staged was left by an
                # execution whose worker died mid-run. Keep it with the failed runs, saying so.
                park_staging(settings, request.report, request.run_id, INTERRUPTED_ON_WORKER)
                return outcome

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _connected_client(client_class, address: str):
    """A Dask client of the scheduler at ``address``, or a ConfigError once :data:`CONNECT_TIMEOUT` (and half as
    long again for a handshake that never comes) has passed."""
    made: list = []

    def connect() -> None:
        try:
            made.append(client_class(address, timeout=CONNECT_TIMEOUT, set_as_default=False))
        except BaseException as exc:
            made.append(exc)

    # A daemon thread: one stuck in distributed's handshake does not keep the command from ending.
    connecting = threading.Thread(target=connect, name="quire-dask-connect", daemon=True)
    connecting.start()
    connecting.join(CONNECT_TIMEOUT * 1.5)
    hint = "check QUIRE_DASK_SCHEDULER (`dask scheduler` prints its address), or unset it to run on this machine"
    if not made:
        raise ConfigError(f"the Dask scheduler at {address} took the connection but did not answer within "
                          f"{CONNECT_TIMEOUT * 1.5:g} s", hint=hint)
    if isinstance(made[0], OSError):
        raise ConfigError(f"cannot reach the Dask scheduler at {address} ({made[0]})", hint=hint) from None
    if isinstance(made[0], BaseException):
        raise made[0]
    return made[0]
