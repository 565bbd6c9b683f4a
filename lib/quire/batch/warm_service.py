"""A warm service that outlives commands: ``quire warm`` keeps what runs need ready, ``quire run`` hands its runs to it.

Without it every ``quire run`` starts its own warm fork server, whose imports (~2 s) come
before the run can start, and its own Chromium. :class:`WarmService` starts both once:
the fork server with everything every report needs imported (:mod:`quire.batch.warm`)
and the Chromium print service. It listens on a Unix socket whose address and key it
writes to ``<outputs>/.quire/warm.json`` (mode 0600); :func:`find` reads that file, and
:class:`WarmServiceExecutor` sends each run there. A run is executed exactly as in a
batch (:class:`~quire.batch.runner.ForkExecutor`: a fresh process forked warm, its
timeout, its partial notebook parked): only the process that forks it lives longer.

What a run sees is the command's: its settings travel with the run and replace the
service's (``QUIRE_*``) in the run's process. A run dies with its command: the service
cancels it (and kills its process tree) when the command's connection closes. A service
whose code, templates, installed packages or interpreter differ from the command's is
not used (:func:`stamp`); one that finds its own files changed since it started stops,
since every run it would fork would run code older than what is on disk.

A ``quire run`` that found no service leaves one behind as it ends (:func:`leave_behind`),
the way build tools keep a daemon: the next run starts at once instead of after ~2 s of
imports. Such a service *lingers*: it stops once no command has used it for
``QUIRE_WARM_LINGER`` seconds, or once its address file is gone. One lock per outputs
folder (``warm.lock``, held for the service's life) keeps a second service from starting
beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from multiprocessing.connection import Listener
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from quire import local_socket
from quire.batch.runner import (Cancel, ForkExecutor, Outcome, RunRequest, fork_and_wait, fork_context, kill_processes,
                                lost_run_outcome, start_forked_child, start_warming, wait_dead)
from quire.errors import QuireError

if TYPE_CHECKING:
    from quire.config import Settings

log = logging.getLogger(__name__)

ADDRESS_FILE = "warm.json"
LOCK_FILE = "warm.lock"
LOG_FILE = "warm.log"
#: Past this size, the log of the services ``quire run`` leaves behind starts again (the old one kept as ``warm.log.1``).
LOG_KEPT_BYTES = 1_000_000
#: Seconds a :meth:`WarmServiceExecutor.call` may take (validating a fan-out over a thousand clients takes a few).
CALL_TIMEOUT = 600
#: Seconds a command waits for a warm service to answer before running without it: one stopped with Ctrl-Z still
#: accepts connections but never answers them (an answer takes milliseconds, even with both cores busy).
ANSWER_TIMEOUT = 10
#: Seconds past a run's timeout that a command waits for the service to end the run: the service kills a run at its
#: timeout and answers once its processes are gone (within ``kill_tree``'s 10 s). A service silent past that was
#: stopped (Ctrl-Z) or hangs: the command ends the run itself, as published if the run's own process (in a session
#: of its own, so not stopped with the service) published it, else failed with what it staged parked.
RUN_ANSWER_GRACE = 30


class WarmServiceError(QuireError):
    """The warm service cannot start (another one serves these outputs) or stopped answering a command."""


def stamp(settings: Settings) -> str:
    """A digest of what the warm state is made from: Quire's code, the templates, the installed packages, the interpreter.

    Files are taken by path, size and modification time (no reading: a few milliseconds).
    """
    import quire

    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{sys.executable}\0{quire.__version__}".encode())
    for root in (Path(quire.__file__).parent, settings.templates_dir):
        for path in sorted(root.rglob("*")):
            if "__pycache__" not in path.parts and path.is_file():
                info = path.stat()
                digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    for packages in site.getsitepackages():  # a package installed, removed or upgraded changes the folder
        if os.path.isdir(packages):
            digest.update(f"{packages}\0{os.stat(packages).st_mtime_ns}\0".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Address:
    """Where a warm service listens, the key a command must present, and the service's process."""

    path: str
    key: str
    pid: int

    @classmethod
    def read(cls, settings: Settings) -> Address | None:
        try:
            data = json.loads((settings.state_dir / ADDRESS_FILE).read_text(encoding="utf-8"))
            return cls(str(data["path"]), str(data["key"]), int(data["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def connect(self, timeout: float | None = None):
        """A key-checked connection to the service (:class:`TimeoutError` when it does not answer within ``timeout``)."""
        return local_socket.connect(self.path, self.key, timeout)


class WarmServiceExecutor:
    """Runs requests on a warm service (the :class:`~quire.batch.pool.Executor` of ``quire run`` when one is up)."""

    name = "warm-service"

    def __init__(self, address: Address, settings: Settings) -> None:
        self.address = address
        self.stamp = stamp(settings)

    def connect(self) -> None:
        """Nothing to do: the service was found up, and a run it cannot take fails on its own."""

    def run(self, request: RunRequest, settings: Settings, *, timeout: float,
            cancel: Cancel | None = None, on_start=None) -> Outcome:
        """Run ``request`` on the service; closing early (``cancel``, or this process dying) cancels it there."""
        try:
            conn = self.address.connect(ANSWER_TIMEOUT)
        except OSError as exc:  # TimeoutError among them: stopped since the command found it
            return Outcome("failed", error=f"the warm service could not be reached: {exc}", error_type="WarmServiceGone",
                           transient=True)
        deadline = time.monotonic() + timeout + RUN_ANSWER_GRACE
        with conn:
            conn.send(("run", {"stamp": self.stamp, "request": request, "settings": settings, "timeout": timeout}))
            while True:
                if cancel is not None and cancel.is_set():
                    # The service kills the run and answers with its outcome.
                    conn.send(("cancel", cancel.reason))
                    cancel = None
                try:
                    if not conn.poll(0.5):
                        if time.monotonic() > deadline:
                            silent = _silent(self.address.pid, f"end the run within its {timeout:g} s timeout and "
                                                                f"{RUN_ANSWER_GRACE} s more")
                            return lost_run_outcome(settings, request, "failed", "WarmServiceSilent", silent,
                                                    transient=True)
                        continue
                    kind, value = conn.recv()
                except (EOFError, OSError):
                    return lost_run_outcome(settings, request, "failed", "WarmServiceGone",
                                            "the warm service stopped during the run{where}", transient=True)
                if kind == "started" and on_start:
                    on_start(value)
                elif kind == "outcome":
                    return value
                elif kind == "refused":
                    return Outcome("failed", error=f"the warm service refused the run: {value}",
                                   error_type="WarmServiceRefused", transient=True)

    def call(self, function: Callable[..., Any], args: tuple, settings: Settings) -> Any:
        """``function(*args)`` under ``settings`` in a fresh process forked from the service's warm server;
        its result, or its error raised here.

        ``function`` travels by name (a module-level function); ``args`` and the result are pickled.
        Used to validate runs where everything validation imports is already imported.
        """
        try:  # the service bounds the call itself at CALL_TIMEOUT
            kind, value = _ask(self.address, ("call", {"stamp": self.stamp, "function": function, "args": args,
                                                       "settings": settings}), CALL_TIMEOUT + ANSWER_TIMEOUT)
        except TimeoutError:
            raise WarmServiceError(_silent(self.address.pid, "answer"),
                                   hint="resume or stop it, and run the command again") from None
        except (OSError, EOFError) as exc:
            raise WarmServiceError(f"the warm service stopped answering ({exc or type(exc).__name__})",
                                   hint="run the command again; it runs here when no service is up") from None
        if kind == "result":
            return value
        if kind == "error":
            raise value
        raise WarmServiceError(f"the warm service could not {function.__name__.replace('_', ' ')}: {value}")


def _ask(address: Address, message: tuple, wait: float) -> tuple[str, Any]:
    """Send ``message`` to the service and return its one answer; TimeoutError when none comes within ``wait`` s."""
    with address.connect(ANSWER_TIMEOUT) as conn:
        conn.send(message)
        if not conn.poll(wait):
            raise TimeoutError
        return conn.recv()


def find(settings: Settings) -> tuple[WarmServiceExecutor | None, str]:
    """The warm service serving ``settings``' outputs, if one is up and runs what this command would; else why not.

    The reason is empty when no service was started (the usual case) and a sentence when one
    is up but cannot be used (it runs other code: restart it).
    """
    address = Address.read(settings)
    if address is None:
        return None, ""
    executor = WarmServiceExecutor(address, settings)
    try:
        kind, value = _ask(address, ("hello", executor.stamp), ANSWER_TIMEOUT)
    except TimeoutError:
        return None, _silent(address.pid, f"answer within {ANSWER_TIMEOUT} s")
    except (OSError, EOFError, ValueError):
        return None, ""  # a service that stopped without removing its address file
    if kind != "ok":
        return None, f"the warm service (pid {address.pid}) was not used: {value}"
    return executor, ""


def _take_lock(settings: Settings, *, service: bool = False, inherited: int | None = None):
    """The outputs' warm-service lock, held (an open file: the kernel releases it when the holder dies), or None
    when a service (starting, serving, or stopped with Ctrl-Z) holds it. A ``service`` writes its pid in it.

    ``inherited``: the descriptor of the lock as the command that started this service held it (see
    :func:`leave_behind`); locking it again only confirms the lock this process already shares.
    """
    path = settings.state_dir / LOCK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Held for the service's life.
        lock = open(path, "a+", encoding="utf-8") if inherited is None else os.fdopen(inherited, "a+", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise WarmServiceError(f"cannot open the warm service's lock file {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    except OSError as exc:  # a filesystem without locks
        lock.close()
        raise WarmServiceError(f"cannot lock {path}: {exc.strerror or exc}",
                               hint="keep the outputs folder on a local filesystem, or set QUIRE_WARM_LINGER=0"
                               ) from None
    # Who holds it, for `quire warm --stop` (a service still warming up has no address yet); an inherited lock
    # already names this process (the command that started it wrote it, and writing it again could double it).
    if service and inherited is None:
        _name_holder(lock, os.getpid())
    return lock


def _name_holder(lock, pid: int) -> None:
    lock.truncate(0)
    lock.write(str(pid))
    lock.flush()


def _holder(settings: Settings) -> int | None:
    """The pid of the process holding the outputs' warm-service lock, or None when none holds it."""
    lock = _take_lock(settings)
    if lock is not None:
        lock.close()
        return None
    try:
        pid = int((settings.state_dir / LOCK_FILE).read_text(encoding="utf-8"))
        # Taken a moment ago, the file may still name the service before it: only a live `quire warm` counts.
        return pid if "warm" in psutil.Process(pid).cmdline()[1:] else None
    except (OSError, ValueError, psutil.Error):
        return None


def stop_service(settings: Settings, timeout: float = 30) -> int | None:
    """Stop the warm service of ``settings``' outputs as Ctrl-C in its terminal would, and wait until it has ended;
    its pid, or None when no service serves (or is warming up for) those outputs."""
    pid = _holder(settings)
    if pid is None:
        return None
    leads_session = _session(pid) == pid  # one left behind by `quire run`, not one in someone's terminal
    try:
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)  # one stopped with Ctrl-Z ends too
    except ProcessLookupError:
        pass
    except PermissionError:
        raise WarmServiceError(f"the warm service (pid {pid}) runs as another user",
                               hint="stop it as that user (`quire warm --stop`)") from None
    deadline = time.monotonic() + timeout
    while _holder(settings) == pid:
        if time.monotonic() > deadline:
            raise WarmServiceError(f"the warm service (pid {pid}) did not stop within {timeout:g} s",
                                   hint=f"end it with `kill -KILL {pid}`")
        time.sleep(0.1)
    if leads_session:  # a service stopped while warming up leaves its fork server importing: nothing waits for it
        kill_processes([proc for proc in psutil.process_iter() if _session(proc.pid) == pid], grace=10)
    return pid


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def leave_behind(settings: Settings) -> int | None:
    """Start a lingering warm service for ``settings``' outputs, in a session of its own, unless one is already up or
    starting; its pid, or None. Called as a ``quire run`` ends: its warm-up waits for that command to exit."""
    lock = _take_lock(settings)
    if lock is None:
        return None
    log_path = settings.state_dir / LOG_FILE
    with contextlib.suppress(OSError):  # a line per run: kept to the last few thousand runs or so
        if log_path.stat().st_size > LOG_KEPT_BYTES:
            os.replace(log_path, log_path.with_suffix(".log.1"))
    # The service inherits the lock as this command holds it, so it is never free in between: a command ending at
    # the same moment starts no second service, and `quire warm --wait` run right after this one finds this one.
    with lock, open(log_path, "a", encoding="utf-8") as log_file:
        command = [sys.executable, "-m", "quire.cli", "warm", "--linger", str(settings.warm_linger),
                   "--after", str(os.getpid()), "--lock-fd", str(lock.fileno())]
        service = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                                   start_new_session=True, pass_fds=(lock.fileno(),))
        _name_holder(lock, service.pid)
    return service.pid


def wait_until_ready(settings: Settings, timeout: float = 120) -> int | None:
    """Wait until the warm service of ``settings``' outputs, serving or still warming up, is ready; its pid, or None
    when none serves or is starting for them. Raises :class:`WarmServiceError` when it is not ready within
    ``timeout`` seconds or cannot be used."""
    deadline = time.monotonic() + timeout
    while True:
        executor, why_not = find(settings)
        if executor is not None:
            return executor.address.pid
        if why_not:
            raise WarmServiceError(why_not, hint="stop it (`quire warm --stop`); the next `quire run` leaves a new one")
        pid = _holder(settings)
        if pid is None:
            return None
        if time.monotonic() > deadline:
            raise WarmServiceError(f"the warm service (pid {pid}) is not ready after {timeout:g} s",
                                   hint=f"its log is {settings.state_dir / LOG_FILE}")
        time.sleep(0.2)  # a service writes its address once warm: nothing to wait on but the file


class WarmService:
    """The fork server and the Chromium print service, kept ready for the runs of ``quire run`` commands."""

    def __init__(self, settings: Settings, *, after: int | None = None, lock_fd: int | None = None) -> None:
        """Warm up and serve; with ``after`` (a pid), warm up once that process has ended (within a minute): a
        service left behind by a command would otherwise warm up beside the command's own fork server and Chromium.
        ``lock_fd``: the lock that command held for this service (:func:`leave_behind`)."""
        from quire.batch.pool import print_service_for

        self._lock_file = _take_lock(settings, service=True, inherited=lock_fd)
        if self._lock_file is None:
            holder = _holder(settings)
            raise WarmServiceError(f"a warm service{f' (pid {holder})' if holder else ''} already serves "
                                   f"{settings.outputs_dir}", hint="stop it first (`quire warm --stop`)")
        if after:  # a zombie counts as ended, for a parent that never waits for the command
            with contextlib.suppress(psutil.NoSuchProcess):
                wait_dead([psutil.Process(after)], grace=60)
        self.settings = settings
        self.stamp = stamp(settings)
        started = time.perf_counter()
        start_warming()
        self._stack = ExitStack()
        self._printer = self._stack.enter_context(print_service_for(settings))
        _wait_until_warm()
        self.warm_seconds = time.perf_counter() - started
        self._dir = tempfile.mkdtemp(prefix="quire-warm-")  # mode 0700: only this user reaches the socket
        self.address = Address(os.path.join(self._dir, "warm.sock"), secrets.token_hex(16), os.getpid())
        self._listener = Listener(self.address.path, family="AF_UNIX")
        self.stopped = threading.Event()
        self._runs: set[Cancel] = set()
        self._lock = threading.Lock()
        self._connections = 0  # open now; a service lingers only while none is
        self._last_used = time.monotonic()
        self._write_address()
        threading.Thread(target=local_socket.serve_forever, name="quire-warm-accept", daemon=True,
                         args=(self._listener, self.address.key, self._serve, self.stopped, "quire-warm-run")).start()

    def _write_address(self) -> None:
        # Readable by this user only from its first byte: the key lets whoever reads it run code in the fork server.
        path = self.settings.state_dir / ADDRESS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
            json.dump({"path": self.address.path, "key": self.address.key, "pid": self.address.pid}, out)
        os.replace(partial, path)

    def _refusal(self, their_stamp: str) -> str | None:
        """Why a command's run cannot be served here (None: it can); stops the service if its own files changed."""
        if their_stamp == self.stamp:
            return None
        if stamp(self.settings) != self.stamp:
            log.warning("Quire's code, templates or packages changed since this warm service started: stopping")
            self.stopped.set()
            return "Quire's code, templates or packages changed since it started (it stops now; start `quire warm` again)"
        return "it runs another installation of Quire (its code, templates, packages or Python differ from this command's)"

    def _serve(self, conn) -> None:
        with self._lock:
            self._connections += 1
        try:
            self._answer(conn)
        finally:
            with self._lock:
                self._connections -= 1
                self._last_used = time.monotonic()

    def _answer(self, conn) -> None:
        with conn:
            try:
                kind, message = conn.recv()
                their_stamp = message if kind == "hello" else message["stamp"]
            except (EOFError, OSError):
                return
            except Exception:  # not what a `quire run` sends (a stranger holding the key): answered, not logged
                with contextlib.suppress(OSError):
                    conn.send(("refused", "not a request of `quire run`"))
                return
            why = self._refusal(their_stamp)
            if kind == "hello":
                conn.send(("refused", why) if why else ("ok", None))
            elif why:
                conn.send(("refused", why))
            elif kind == "call":
                self._call(conn, message)
            else:
                self._run(conn, message)

    def _call(self, conn, message: dict) -> None:
        reply, stopped = fork_and_wait(_call_child, (message["function"], message["args"], message["settings"]),
                                       name="quire-warm-call", timeout=CALL_TIMEOUT)
        if reply is None:
            reply = ("failed", "timed out" if stopped else "its process died")
        try:
            conn.send(reply)
        except OSError:
            pass

    def _run(self, conn, message: dict) -> None:
        request: RunRequest = message["request"]
        if hasattr(self._printer, "address"):  # Chromium prints (not WeasyPrint)
            request = replace(request, print_service=self._printer.address.encode())
        cancel = Cancel()
        with self._lock:
            self._runs.add(cancel)

        def watch() -> None:  # anything from the command (a cancel, or the end of its connection) cancels the run
            reason = "the command that started it ended"
            try:
                _, reason = conn.recv()  # ("cancel", why) from a command that cancels its run
            except (EOFError, OSError, ValueError, TypeError):
                pass
            cancel.set(reason)

        def started(pid: int) -> None:
            try:
                conn.send(("started", pid))
            except OSError:
                cancel.set("the command that started it ended")

        threading.Thread(target=watch, name="quire-warm-watch", daemon=True).start()
        try:
            outcome = ForkExecutor().run(request, message["settings"], timeout=message["timeout"], cancel=cancel,
                                         on_start=started)
        finally:
            with self._lock:
                self._runs.discard(cancel)
        log.info("%s %s: %s", request.report, request.run_id, outcome.status)
        try:
            conn.send(("outcome", outcome))
        except OSError:
            pass  # the command is gone; its run was cancelled and parked

    def wait(self, linger: float | None = None) -> None:
        """Serve until :attr:`stopped` is set (by :meth:`close`, a signal handler or a stale check); with ``linger``,
        also until no command has used the service for ``linger`` seconds, or its address file is gone."""
        while not self.stopped.wait(1.0):
            if linger is None:
                continue
            with self._lock:
                idle = None if self._connections else time.monotonic() - self._last_used
            if idle is None:
                continue
            if idle > linger:
                log.info("no command used this warm service for %d s: stopping", linger)
                return
            if Address.read(self.settings) != self.address:  # no command can find it (the outputs were removed)
                log.info("its address file %s is gone: stopping", self.settings.state_dir / ADDRESS_FILE)
                return

    def close(self) -> None:
        """Stop serving: runs in progress are cancelled (killed, their partial notebooks parked), Chromium closed."""
        self.stopped.set()
        if Address.read(self.settings) == self.address:
            (self.settings.state_dir / ADDRESS_FILE).unlink(missing_ok=True)
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            runs = list(self._runs)
        for cancel in runs:
            cancel.set("the warm service stopped")
        deadline = time.monotonic() + 15
        while self._runs and time.monotonic() < deadline:
            time.sleep(0.1)
        self._stack.close()
        shutil.rmtree(self._dir, ignore_errors=True)
        self._lock_file.close()

    def __enter__(self) -> WarmService:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _silent(pid: int, what: str) -> str:
    """What a command says of a service that did not ``what``: most likely stopped, and how to resume it."""
    return f"the warm service (pid {pid}) did not {what} (stopped with Ctrl-Z? `kill -CONT {pid}` resumes it)"


def _call_child(function: Callable[..., Any], args: tuple, settings: Settings, conn) -> None:
    """The process of a :meth:`WarmServiceExecutor.call`: the function's result, or the error it raised, to the parent."""
    import traceback

    start_forked_child(settings, f"quire-warm-call {function.__name__}")
    try:
        reply = ("result", function(*args))
    except QuireError as exc:
        reply = ("error", exc)
    except Exception:  # a bug: its traceback, since the parent cannot show it otherwise
        reply = ("failed", traceback.format_exc(limit=-8))
    conn.send(reply)
    conn.close()


def _ready() -> None:
    """Nothing: forked once so that the service announces itself only when the fork server has warmed up."""


def _wait_until_warm() -> None:
    proc = fork_context().Process(target=_ready, name="quire-warm-ready")
    proc.start()
    proc.join()
