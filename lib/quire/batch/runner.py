"""One run in a process of its own, forked from a warm worker, and everything that can end it.

:class:`ForkExecutor` starts each run as a child of the multiprocessing *forkserver*,
whose preload (:mod:`quire.batch.warm`) has imported and prepared everything once.
The child executes the notebook in-process (no kernel), renders and publishes exactly
as :func:`quire.pipeline.run_plan` always does, sends its :class:`Outcome` back through
a pipe and exits. A fresh process per run is the tenant boundary: whatever one client's
run computed dies with its process.

The parent bounds each run by a wall-clock timeout and, on timeout or cancel, kills the
child's whole process tree. A child that dies without an outcome (killed, out of memory,
``os._exit`` in a cell) is reported as such, with its partial notebook parked.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from quire.archive import staged_folders
from quire.errors import describe_os_error

if TYPE_CHECKING:
    from quire.catalog import ReportSpec
    from quire.config import Settings
    from quire.pipeline import RunPlan

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


@dataclass
class Outcome:
    """How one run ended (``status``: succeeded | failed | timed_out | cancelled)."""

    status: str
    output_folder: str | None = None
    partial_notebook: str | None = None
    error: str | None = None
    error_type: str | None = None
    transient: bool = False
    headline: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: The parameters as validated and resolved ("latest" → "2026-10"), once the run got that far.
    parameters: dict[str, Any] | None = None
    #: A succeeded run's warnings, as its run.json lists them (see :attr:`quire.pipeline.RunResult.warnings`).
    warnings: list[str] = field(default_factory=list)

    def cancelled(self, reason: str, error_type: str) -> "Outcome":
        """This failed run as the cancel that took its process down ended it: said as :func:`lost_run_outcome`
        says a cancelled run, with where its partial notebook is (a stop's run read otherwise depending on which
        of the two saw the stop first)."""
        return replace(self, status="cancelled", error=f"cancelled: {reason}{_kept(self.partial_notebook)}",
                       error_type=error_type, transient=True)


def _kept(partial_notebook: str | None) -> str:
    """Where a run's partial notebook is, as its error ends, or "" when none was kept."""
    return f" (partial notebook kept in {partial_notebook})" if partial_notebook else ""


@dataclass(frozen=True)
class RunRequest:
    """What to run: a report with parameters (validated in the run's process) or an already validated plan."""

    run_id: str
    report: str
    parameters: dict[str, Any]
    plan: RunPlan | None = None
    engine: str = "batch"
    #: The report's catalog entry as the caller read it (None: read ``reports.yaml`` in the run's process).
    spec: ReportSpec | None = None
    #: Address of the Chromium print service of the batch (None: the renderer starts what it needs).
    print_service: str | None = None
    #: Tenant-free data the whole batch shares (see :mod:`quire.batch.shared`), keyed by what it was computed from.
    shared: dict[tuple, Any] = field(default_factory=dict)


def run_request(request: RunRequest, settings: Settings) -> Outcome:
    """Validate (unless a plan is given), run and publish one report here; the outcome (never raises for a Quire error)."""
    import sqlalchemy as sa

    from quire.errors import QuireError
    from quire.pipeline import prepare, run_plan

    done = already_published(settings, request)
    if done is not None:
        return done  # a re-run of a run that was published before its worker died: not a second copy
    try:
        plan = request.plan or prepare(request.spec or request.report, request.parameters, settings)
    except QuireError as exc:  # nothing ran: a parameter, or the warehouse while validating
        return _failure(exc)
    except sa.exc.OperationalError as exc:
        return _unreachable(exc)
    try:
        result = run_plan(plan, settings=settings, engine=request.engine, run_id=request.run_id)
    except QuireError as exc:  # the run failed; the pipeline parked what it left
        outcome = _failure(exc)
        outcome.partial_notebook = parked_notebook(settings, request.report, request.run_id)
        outcome.parameters = plan.params
        return outcome
    except sa.exc.OperationalError as exc:
        return _unreachable(exc)
    return Outcome("succeeded", output_folder=str(result.folder), headline=result.headline, parameters=plan.params,
                   timings={k: round(v, 3) for k, v in result.timings.items()}, warnings=result.warnings)


def _failure(exc) -> Outcome:
    from quire.errors import WarehouseError

    # The warehouse may be back in a minute; a notebook, a parameter, the disk or wrong data needs a person.
    return Outcome("failed", error=str(exc), error_type=type(exc).__name__,
                   transient=isinstance(exc, WarehouseError) and exc.transient)


def _unreachable(exc) -> Outcome:
    return Outcome("failed", error=f"database unreachable: {str(exc.orig or exc).splitlines()[0][:300]}",
                   error_type="OperationalError", transient=True)


def already_published(settings: Settings, request: RunRequest) -> Outcome | None:
    """The outcome recorded in the run's published ``run.json`` (it succeeded), None if it was not published."""
    import json

    for folder in (settings.outputs_dir / request.report).glob(f"*/{request.run_id}"):
        record = folder / "run.json"
        if record.is_file():
            data = json.loads(record.read_text(encoding="utf-8"))
            return Outcome("succeeded", output_folder=str(folder), headline=data.get("headline", []),
                           timings=data.get("timings", {}), parameters=data.get("parameters"),
                           warnings=data.get("warnings", []))
    return None


def parked_notebook(settings: Settings, report: str, run_id: str) -> str | None:
    """Where a failed run's partial notebook was parked, if anywhere."""
    from quire.archive import FAILED_DIR

    found = sorted((settings.outputs_dir / FAILED_DIR / report).glob(f"*/{run_id}/report.ipynb"))
    return str(found[-1]) if found else None


def kill_tree(pid: int, *, grace: float = 10.0) -> int:
    """SIGKILL ``pid``, its descendants and their process groups; returns how many processes were killed.

    Groups matter: a Jupyter kernel starts in a session of its own, so killing the run's
    group alone would leave it running.
    """
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    return kill_processes(procs, grace)


def kill_processes(procs: list[psutil.Process], grace: float) -> int:
    """SIGKILL ``procs`` and the process groups they lead or belong to (not this process's own); how many."""
    own = os.getpgrp()
    groups = set()
    for proc in procs:
        try:
            groups.add(os.getpgid(proc.pid))
        except ProcessLookupError:
            pass
    for group in groups - {own}:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for proc in procs:  # anything that shared our own group
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    wait_dead(procs, grace)
    return len(procs)


def wait_dead(procs: list[psutil.Process], grace: float) -> None:
    """Wait (at most ``grace`` seconds) until ``procs`` are dead; those that are our children are reaped.

    Dead is enough for the others: one whose parent died first waits for init to reap it, which
    takes a second or two here, and the run it belonged to is over meanwhile.
    """
    deadline = time.monotonic() + grace
    alive = procs
    while alive and time.monotonic() < deadline:
        _, alive = psutil.wait_procs(alive, timeout=0.05)
        alive = [proc for proc in alive if not _dead(proc)]


def _dead(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def kill_descendants(*, grace: float = 10.0) -> int:
    """SIGKILL every process this one started that still runs, however far down and in whatever session; how many.

    Complete only in a child subreaper (see :func:`adopt_orphans`): elsewhere a descendant whose
    parent died first is no longer ours to find. A few rounds, since a process forking as it is
    killed leaves us its child.
    """
    killed = 0
    for _ in range(5):
        procs = psutil.Process().children(recursive=True)
        if not procs:
            break
        killed += kill_processes(procs, grace)
    return killed


def adopt_orphans() -> None:
    """Make this process a child subreaper: what its descendants start stays its descendant when they die.

    A process whose parent dies is otherwise handed to init, out of reach: a ``subprocess.Popen(...,
    start_new_session=True)`` in a cell, a kernel's helper once the kernel is shut down.
    """
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value)
    except (OSError, AttributeError):
        pass  # not Linux: the parent's timeout still bounds the run, and kills what it can find of its tree


def run_leftovers(run_id: str, session: int) -> list[psutil.Process]:
    """The processes of run ``run_id`` still running once its process is gone (whose session was ``session``).

    Found three ways, since its descendants were handed to init when it died: its session (what did not leave
    it), the run id in their environment (every program the run executed inherits :data:`RUN_ENV`, in a session
    of its own or not), and the run's title (what it forked without executing anything).
    """
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if (os.getsid(proc.pid) == session or proc.environ().get(RUN_ENV) == run_id
                    or f"quire-run {run_id}" in " ".join(proc.cmdline())):
                found.append(proc)
        except (psutil.Error, OSError):  # gone meanwhile, or another user's (not ours to kill)
            pass
    return found


def start_guard(run_id: str) -> int:
    """Fork the guard of this run process: it ends the run's processes if this one dies before it could (killed
    with its service, by the out-of-memory killer, ``os._exit`` in a cell); the guard's pid.

    A run that ends kills its guard with the rest of its descendants (:func:`kill_descendants`).
    """
    run = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    try:
        _title_process(f"quire-run-guard {run_id}")
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # nobody reading a command's output waits for the guard
            os.dup2(devnull, fd)
        os.closerange(3, 1 << 16)  # nor for a pipe it would hold open (the outcome's, above all)
        _wait_for_exit(run)
        for _ in range(5):  # a few rounds: a process forking as it is killed
            leftovers = run_leftovers(run_id, session=run)
            if not leftovers:
                break
            kill_processes(leftovers, grace=10.0)
    finally:
        os._exit(0)


def _wait_for_exit(pid: int) -> None:
    """Block until process ``pid`` (this one's parent) has ended."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (OSError, AttributeError):  # a kernel older than 5.3: polled
        while os.getppid() == pid:
            time.sleep(0.5)
        return
    if os.getppid() == pid:  # not already gone (and its pid taken by another process)
        select.select([fd], [], [])
    os.close(fd)


def park_staging(settings: Settings, report: str, run_id: str, reason: str) -> str | None:
    """Move what a killed run left in staging to ``_failed`` (as the pipeline does); the partial notebook's path."""
    from quire.execute import EXECUTION_LOG

    notebook = None
    for folder in staged_folders(settings.outputs_dir, report, run_id, f"{datetime.now(timezone.utc):%Y-%m-%d}"):
        log = folder.staging / EXECUTION_LOG
        if log.is_file() and not log.stat().st_size:  # the killed run never got to drop it, as a run that ends does
            log.unlink()
        parked = folder.park_failed(reason) / "report.ipynb"
        notebook = str(parked) if parked.is_file() else notebook
    return notebook


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a killed service leaves no run behind)."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _let_go_of_the_fork_server() -> None:
    """Close this process's copy of the fork server's lifeline.

    multiprocessing gives every child of the fork server the write end of the pipe whose end of
    file tells the server that its client is gone (so that the child could start processes through
    the server too; a run never does). While a run held it, the server outlived a killed service,
    and the run, which dies with the server (:func:`die_with_parent`), went on to finish behind the
    dead service's back.
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver  # the module's singleton: multiprocessing has no public handle on it
    if server._forkserver_alive_fd is not None:
        try:
            os.close(server._forkserver_alive_fd)
        except OSError:
            pass
        server._forkserver_alive_fd = None


def start_forked_child(settings: Settings, title: str) -> None:
    """What a process forked from the warm server does first: its own session (so a timeout kills its tree),
    death with the server, ``title`` for ``ps``, and ``settings`` in place of the server's."""
    os.setsid()
    # In this order: the server cannot exit while this process holds its lifeline, so the death
    # signal is in place before the server can die, even if the service was killed a moment ago.
    die_with_parent()
    _let_go_of_the_fork_server()
    _title_process(title)
    from quire.config import replace_environment, settings_environment

    # The fork server's environment is the one it started with: these settings replace it,
    # so that code reading get_settings() (the report modules do) sees exactly these.
    replace_environment(settings_environment(settings))


def _child(request: RunRequest, settings: Settings, conn) -> None:
    """The run's process: the run, the outcome to the parent."""
    # The run id in the process title and environment: `ps` shows which run a process is, and start-up
    # recovery (and the tests) can tell a run's process and whatever it starts (a kernel inherits the variable).
    start_forked_child(settings, f"quire-run {request.run_id} {request.report}")
    from quire.batch import shared
    from quire.pdf.chromium import SERVICE_ENV
    from quire.warehouse.engine import keep_engines

    os.environ[RUN_ENV] = request.run_id
    if request.print_service:
        os.environ[SERVICE_ENV] = request.print_service
    keep_engines()  # this process runs one report and exits: it opens the warehouse once
    shared.install(request.shared)
    # Whatever the run starts ends with it, succeeded or not: a cell's subprocess, a kernel's helpers, in a
    # session of their own or not. This process keeps them as descendants to kill them as it ends, and its guard
    # kills them if it is killed first.
    adopt_orphans()
    start_guard(request.run_id)
    try:
        outcome = _profiled(request, settings) if settings.profile_dir else run_request(request, settings)
    except BaseException as exc:  # a bug: still an outcome, so the parent need not guess
        outcome = Outcome("failed", error=f"{type(exc).__name__}: {exc}", error_type=type(exc).__name__,
                          partial_notebook=None)
    kill_descendants()  # before the outcome: a run recorded as ended has nothing left running
    conn.send(outcome)
    conn.close()


#: Environment variable holding the run id in a run's process and everything it starts.
RUN_ENV = "QUIRE_RUN_ID"


def _profiled(request: RunRequest, settings: Settings) -> Outcome:
    """:func:`run_request` under cProfile, its statistics written to ``QUIRE_PROFILE_DIR`` (see the README)."""
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(run_request, request, settings)
    finally:
        # The run is published (or parked) by now: a profile that cannot be written must not make it "failed".
        try:
            settings.profile_dir.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(settings.profile_dir / f"{request.run_id}.prof")
        except OSError as exc:
            print(f"quire: run {request.run_id}: its profile was not written to QUIRE_PROFILE_DIR "
                  f"({describe_os_error(exc)})", file=sys.stderr)


def _title_process(title: str) -> None:
    # Before anything touches the environment: setproctitle finds its room at its first call and
    # silently gives up if the environment was moved.
    try:
        from setproctitle import setproctitle

        setproctitle(title)
    except ImportError:
        pass


def is_run_process(pid: int, run_id: str) -> bool:
    """Whether ``pid`` is the process of run ``run_id`` (by its title)."""
    try:
        return f"quire-run {run_id}" in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


#: Set in the fork server's environment when it will serve one run only (see :func:`start_warming`).
SINGLE_RUN_ENV = "QUIRE_WARM_SINGLE_RUN"
#: Set in the fork server's environment to the reports it will run, when not all (comma-separated catalog ids).
REPORTS_ENV = "QUIRE_WARM_REPORTS"

_context_lock = threading.Lock()
_context: Any = None


def fork_context():
    """The forkserver context whose server preloads :mod:`quire.batch.warm` (started at its first use)."""
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["quire.batch.warm"])
            _context = ctx
        return _context


def start_warming(*, single_run: bool = False, reports: Sequence[str] | None = None) -> None:
    """Start the warm server now (it imports for a few seconds) so that the first run does not wait for it.

    ``single_run``: this process will run one report only, so the server imports just what
    every run needs (see :func:`quire.batch.warm.warm_up`). ``reports``: the only reports it
    will run (the server rehearses those, see :mod:`quire.batch.rehearsal`); None: any. The
    first call decides.
    """
    import atexit
    from multiprocessing import forkserver

    fork_context()
    atexit.unregister(stop_warm_server)  # once, however often this is called
    atexit.register(stop_warm_server, os.getpid())
    told = {SINGLE_RUN_ENV: "1" if single_run else None, REPORTS_ENV: ",".join(reports) if reports else None}
    for name, value in told.items():  # the server inherits this process's environment
        if value is not None:
            os.environ[name] = value
    try:
        forkserver.ensure_running()
    finally:
        for name in told:
            os.environ.pop(name, None)


def stop_warm_server(owner: int) -> None:
    """Stop this process's warm server at once, even in the middle of its imports (at exit, see start_warming,
    and when a scheduler stops: a run waiting for the server to fork it would hold the stop until it is ready).

    Left alone it stops by itself, but only once its imports are done and it sees this process
    gone; until then it holds this process's stdout and stderr open, so whoever reads them
    (``out=$(quire run …)``, a script, a test) waits seconds after a command that ended at once —
    on a mistyped parameter, say. Runs forked from it have ended by then. ``owner``: the pid of the
    process that started it (another process leaves it alone).
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver  # multiprocessing has no public way to stop it
    if server._forkserver_pid is None or owner != os.getpid():
        return  # none, or not this process's: a process forked from its owner inherits the exit handler
    try:
        os.kill(server._forkserver_pid, signal.SIGKILL)
        server._stop()  # reaps it and removes its socket
    except (ProcessLookupError, ChildProcessError):
        pass  # already gone, or reaped elsewhere: nothing holds the output any more


def lost_run_outcome(settings: Settings, request: RunRequest, status: str, error_type: str, reason: str, *,
                     transient: bool = False) -> Outcome:
    """The outcome of a run whose process ended without one, or that was given up: what it left parked, and where,
    in the message; its published outcome if it was published first (the publish is what makes a run done).

    ``{where}`` in ``reason`` becomes " while running code cell N (…)" when the partial notebook tells.
    """
    from quire.execute import stopped_at

    # Replaced, not str.format: a reason may quote an error's text, braces and all.
    parked = park_staging(settings, request.report, request.run_id, reason.replace("{where}", ""))
    # Parked first, then looked for: a publish and a parking each rename the staging folder, so one of the two
    # wins, and an execution still going (on a worker, under a silent service) publishes either before this
    # finds it or not at all.
    published = already_published(settings, request)
    if published is not None:
        return published
    cell = stopped_at(Path(parked)) if parked else None
    message = reason.replace("{where}", f" while running {cell}" if cell is not None else "") + _kept(parked)
    return Outcome(status, error=message, error_type=error_type, transient=transient, partial_notebook=parked)


class Cancel(threading.Event):
    """A cancel signal that can say why the run is cancelled (for its error and history row)."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = "the run was stopped"

    def set(self, reason: str | None = None) -> None:
        if reason and not self.is_set():
            self.reason = reason
        super().set()


def fork_and_wait(target: Callable, args: tuple, *, name: str, timeout: float, cancel: threading.Event | None = None,
                  on_start: Callable[[int], None] | None = None) -> tuple[Any, str | None]:
    """Call ``target(*args, conn)`` in a fresh child of the warm fork server; what it sent through ``conn``
    (None if it died first) and whether it was stopped (``timed_out``, ``cancelled`` or None).

    The child's process tree is killed after ``timeout`` seconds, when ``cancel`` is set, or when
    it ends without sending anything (whatever it started must not outlive it).
    """
    from multiprocessing.connection import wait

    ctx = fork_context()
    if cancel is not None and cancel.is_set():
        return None, "cancelled"
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, sender), name=name)
    try:
        proc.start()  # waits for the warm server to be ready: its imports and rehearsal, seconds or more
    except (OSError, EOFError):
        # The server went away while this start waited for it: stopped with its service (which does not
        # wait out the imports, see `stop_warm_server`) or killed. Nothing was started.
        receiver.close()
        return None, "cancelled" if cancel is not None and cancel.is_set() else None
    finally:
        sender.close()
    if on_start:
        try:
            on_start(proc.pid)
        except BaseException:  # its start could not be recorded (the state database away): no run behind its back
            kill_tree(proc.pid)
            proc.join(timeout=10)
            receiver.close()
            raise
    deadline = time.monotonic() + timeout
    message: Any = None
    stopped = None
    while message is None and stopped is None:
        ready = wait([receiver, proc.sentinel], timeout=min(0.5, max(0.0, deadline - time.monotonic())))
        if receiver in ready:
            try:
                message = receiver.recv()
            except EOFError:
                break  # died before sending anything
        elif proc.sentinel in ready:
            if not receiver.poll():
                break
        elif cancel is not None and cancel.is_set():
            stopped = "cancelled"
        elif time.monotonic() >= deadline:
            stopped = "timed_out"
    if stopped or message is None:
        kill_tree(proc.pid)
    proc.join(timeout=10)
    receiver.close()
    return message, stopped


class ForkExecutor:
    """Runs each request in a fresh child of the warm forkserver, bounded by a timeout."""

    name = "local"

    def connect(self) -> None:
        """Nothing to reach: the runs are forked here."""

    def run(self, request: RunRequest, settings: Settings, *, timeout: float,
            cancel: Cancel | None = None, on_start: Callable[[int], None] | None = None) -> Outcome:
        """Run ``request``; kill its process tree after ``timeout`` seconds or when ``cancel`` is set."""
        outcome, stopped = fork_and_wait(_child, (request, settings), name=f"quire-run-{request.run_id}",
                                         timeout=timeout, cancel=cancel, on_start=on_start)
        if outcome is not None:
            return outcome
        if stopped == "timed_out":
            limit = ("QUIRE_RUN_TIMEOUT" if timeout == settings.run_timeout
                     else "its schedule's timeout_seconds in reports.yaml")
            return lost_run_outcome(settings, request, "timed_out", "Timeout",
                                    f"timed out: the run took longer than {timeout:g} s and was killed (raise {limit} "
                                    "if it needs longer)")
        if stopped == "cancelled":
            return lost_run_outcome(settings, request, "cancelled", "Cancelled", f"cancelled: {cancel.reason}",
                                    transient=True)
        return lost_run_outcome(settings, request, "failed", "WorkerDied",
                                "the run's process died{where} (killed, out of memory, or a cell ended its process)",
                                transient=True)
