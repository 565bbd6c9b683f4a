"""What happens when a schedule is due: fan-out into runs, one child process per run, retries, delivery.

APScheduler stores jobs by reference to the module-level functions :func:`fire_report`
and :func:`retry_run`; they hand over to the :class:`Runner` of the running service.
One attempt = one history row: transient failures (warehouse or database unreachable,
a run process that died) are retried as a new attempt after an exponential backoff,
through a persistent one-off APScheduler job, so a retry survives a restart. A
notebook's own error and a timeout are final: the report's owner gets an alert.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.catalog import Catalog, ReportSpec, load_catalog
from quire.config import Settings
from quire.delivery.outbox import deliver_pending, recipients_for
from quire.errors import QuireError, WarehouseError
from quire.batch import Cancel, Outcome, RunRequest, executor_for
from quire.state import outbox, queue, schedules
from quire.state import runs as history
from quire.state.db import Outage, patiently, reason, redact

log = logging.getLogger("quire.scheduler")
MAX_BACKOFF = 3600.0
_CURRENT: Runner | None = None


def fire_report(report_id: str) -> None:
    """APScheduler job: the schedule of ``report_id`` is due."""
    _runner().fire(report_id)


def retry_run(run_id: str) -> None:
    """APScheduler job: try a failed or interrupted run again as its next attempt."""
    _runner().retry(run_id)


def deliver_outbox() -> None:
    """APScheduler job: send whatever the outbox still holds (e.g. after a crash)."""
    runner = _runner()
    with runner.outages["outbox"].watch():  # the database away: one line, and the next pass tries again
        runner.deliver()


def poll_console() -> None:
    """APScheduler job (every few seconds): pause/resume schedules as the state database says, start queued runs."""
    runner = _runner()
    with runner.outages["console"].watch():  # the database away: one line, not a traceback every few seconds
        runner.apply_schedule_states()
        runner.start_queued()


def _runner() -> Runner:
    if _CURRENT is None:
        raise RuntimeError("no scheduler service is running in this process")
    return _CURRENT


def import_working_set(settings: Settings) -> None:
    """Import what a due report needs in this process: papermill (a notebook's parameters), pandas and
    the warehouse's driver (its data's range, its clients).

    Done before the lease is taken. A first import reads tens of megabytes of libraries, seconds
    on a host busy with disk, and a C extension holds the interpreter's lock while it loads: done
    in the first due time, with the lease held, it is the likely cause of a whole-process stall
    seen there, long enough for a standby to take over.
    """
    import pandas  # noqa: F401
    import papermill  # noqa: F401

    import quire.pipeline  # noqa: F401

    try:
        sa.engine.make_url(settings.warehouse).get_dialect().import_dbapi()
    except (ImportError, sa.exc.ArgumentError):
        pass  # a warehouse URL that cannot work: each run says so, and what to fix


def backoff(attempt: int, base: float) -> float:
    """Seconds before attempt ``attempt + 1``: base, 2·base, 4·base … capped at an hour."""
    return min(base * 2 ** (attempt - 1), MAX_BACKOFF)


def _version(path) -> tuple[int, int] | None:
    """Which version of a file this is, by its modification time and size (None: it cannot be read)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class Runner:
    """Executes the runs of one service process in a bounded pool of worker threads (one child process each)."""

    def __init__(self, settings: Settings, engine: Engine, holder: str, scheduler=None) -> None:
        self.settings, self.engine, self.holder, self.scheduler = settings, engine, holder, scheduler
        self.pool = ThreadPoolExecutor(max_workers=settings.scheduler_workers, thread_name_prefix="quire-run")
        # E-mail goes out on a thread of its own: a slow or hanging SMTP server must not hold a run worker
        # (the next clients of a fan-out would wait out each e-mail's timeouts before they start).
        self.mailer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quire-mail")
        self.mail_requested = False  # a pass over the outbox waits on the mail thread
        self.executor = executor_for(settings)
        if self.executor.name == "local":
            from quire.batch.runner import start_warming

            start_warming()  # the first due run should not wait for the imports
        self.cancel = Cancel()
        self.scheduler_lock = threading.Lock()  # around each call into APScheduler: see `stop_firing`
        self.queued_in_flight = 0  # console runs claimed and not yet concluded
        self.last_valid_catalog: Catalog | None = None
        self.catalog_error = ""  # what was wrong with reports.yaml when last read, if anything
        self.schedules_checked: tuple[int, int] | None = None  # the version of reports.yaml whose schedules passed
        self.lock = threading.Lock()
        # What the log says while the state database is away: once per outage for each of these, not at each try.
        self.database = database = redact(settings.state)
        self.outages = {name: Outage(what, database, log) for name, what in
                        (("console", "console queue"), ("outbox", "outbox"), ("record", "recording due runs"))}

    def install(self) -> None:
        """Make this runner the one the job functions use."""
        global _CURRENT
        _CURRENT = self

    def stop_firing(self, reason: str) -> None:
        """Cancel the runs in progress and make job threads leave APScheduler alone: before its shutdown.

        APScheduler's shutdown waits for its job threads while it holds its job-store lock; a job
        thread calling the scheduler then (a console poll reading the jobs, a run adding its retry)
        would wait for that lock for ever, and the service would never stop. ``cancel`` is set
        under the lock that each such call holds: none is under way once this returns, and none
        starts after.
        """
        with self.scheduler_lock:
            self.cancel.set(reason)
        if self.executor.name == "local":
            from quire.batch.runner import stop_warm_server

            # A run whose process the warm server has not forked yet (it imports and rehearses first, a
            # minute on a busy host) cannot see the cancel: without its server, its start gives up at once.
            stop_warm_server(os.getpid())

    @contextmanager
    def _scheduler(self) -> Iterator[Any]:
        """APScheduler for one call from a job thread, or None when there is none or the service is stopping."""
        with self.scheduler_lock:
            yield None if self.cancel.is_set() else self.scheduler

    def stop(self) -> None:
        """Kill the runs in progress (recorded cancelled, retried at the next start) and wait for their threads."""
        global _CURRENT
        self.cancel.set("the scheduler stopped")
        waited = threading.Event()
        if self.executor.name == "local":
            # A run that passed its cancel check just before stop_firing killed the warm server starts a new one
            # and waits for its imports (seconds, a minute on a busy host): kept down, its start gives up at once.
            threading.Thread(target=self._keep_warm_server_down, args=(waited,), name="quire-stop-warm",
                             daemon=True).start()
        self.pool.shutdown(wait=True)  # queued attempts see `cancel` and are recorded cancelled
        waited.set()
        self.mailer.shutdown(wait=True)  # no e-mail is begun once `cancel` is set; one being sent may end
        if _CURRENT is self:
            _CURRENT = None

    @staticmethod
    def _keep_warm_server_down(waited: threading.Event) -> None:
        from quire.batch.runner import stop_warm_server

        while not waited.wait(0.2):
            stop_warm_server(os.getpid())

    def catalog(self) -> Catalog:
        """``reports.yaml`` as it is now, or as it last was valid if an edit broke it.

        An analyst saving a half-finished edit must not stop every schedule: the runs go on
        with the last valid catalog; the log says what to fix (once per error) and when it is fixed.
        """
        try:
            version = _version(self.settings.catalog_path)  # before reading: an edit meanwhile is checked next time
            catalog = load_catalog(self.settings.catalog_path)
            if version != self.schedules_checked:
                from quire.validation import refuse_schedule_problems

                # A schedule parameter its notebook refuses (`forecast_months: 99` saved while the service runs)
                # failed every due time and alerted the owner each time: refused as the service's start refuses it.
                refuse_schedule_problems(catalog, self.settings)
                self.schedules_checked = version
            self.last_valid_catalog = catalog
        except QuireError as exc:
            if self.last_valid_catalog is None:
                raise
            if str(exc) != self.catalog_error:  # said once per new error, not at every run and e-mail
                log.error("%s; runs use its last valid version until it is fixed (`quire validate` checks it)", exc)
                self.catalog_error = str(exc)
        else:
            if self.catalog_error:
                log.info("%s is valid again", self.settings.catalog_path)
                self.catalog_error = ""
        return self.last_valid_catalog

    def _spec(self, report_id: str) -> ReportSpec:
        return self.catalog().get(report_id)

    def fire(self, report_id: str, *, trigger: str = "schedule", attempt: int = 1, retry_of: str | None = None,
             parameters: dict[str, Any] | None = None) -> None:
        """One run per selected client (or one run), executed in the pool; returns when all have ended.

        ``parameters``: those of the due time this fire repeats (a fan-out that failed as a whole),
        instead of the schedule's as they are now.
        """
        from quire.pipeline import fan_out_clients, resolve_latest

        try:
            spec = self._spec(report_id)
        except QuireError as exc:  # taken out of reports.yaml since the service started: its job goes at the next start
            log.error("report %s is due but %s", report_id, exc)
            return
        schedule = spec.schedule
        params = dict(parameters if parameters is not None else schedule.parameters if schedule else {})
        try:  # 'latest' fixed now: a run re-run later (a crash, a stop, a retry) covers the month it was due for
            params = resolve_latest(spec, params, self.settings)
        except (QuireError, sa.exc.SQLAlchemyError) as exc:
            log.warning("report %s: each run resolves 'latest' itself (%s)", report_id, exc)
        if spec.fan_out == "clients":
            try:
                unrunnable: list[str] = []
                slugs = fan_out_clients(dict(schedule.clients) if schedule else {}, self.settings, unrunnable)
                for note in unrunnable:
                    log.warning("report %s: %s", report_id, note)
            except (QuireError, sa.exc.OperationalError) as exc:
                # No client list without the warehouse: recorded, and the whole fan-out tried again later.
                # A filter that matches no client (a value mistyped, a segment gone) is final: recorded, and
                # the owner told, rather than the report silently not going out.
                unreachable = isinstance(exc, (WarehouseError, sa.exc.OperationalError))
                outcome = (Outcome("failed", error=f"fan-out: {exc}", error_type="WarehouseError", transient=True)
                           if unreachable else
                           Outcome("failed", error=f"cannot select clients: {exc}", error_type=type(exc).__name__))
                self.conclude(self.record(spec.id, params, trigger, None, attempt, retry_of), spec, None, attempt,
                              outcome)
                return
            requests = [({**params, "client": slug}, slug) for slug in slugs]
        else:
            requests = [(params, None)]
        log.info("report %s due: %d run(s)", report_id, len(requests))
        # Every run is recorded before any starts: a service killed mid fan-out leaves a queued row
        # for each client it had not reached, which the next start's recovery retries like the others.
        run_ids = [self.record(spec.id, p, trigger, client, attempt, retry_of) for p, client in requests]
        futures = [self._submit(self.execute, run_id, spec, p, client, attempt)
                   for run_id, (p, client) in zip(run_ids, requests)]
        wait(futures)
        for future in futures:
            if not future.cancelled() and future.exception():
                log.error("report %s: %s", report_id, future.exception())

    def retry(self, run_id: str) -> None:
        """Run ``run_id`` again as its next attempt, unless a later attempt exists already."""
        prev = history.get(self.engine, run_id)
        if history.retries_of(self.engine, run_id):
            return  # already retried (a recovery and its retry job raced, or a restart replayed the job)
        # A run cancelled by a clean stop did not fail: its re-run does not use up an attempt.
        attempt = prev["attempt"] + (prev["status"] != "cancelled")
        try:
            spec = self._spec(prev["report"])
        except QuireError as exc:  # taken out of reports.yaml meanwhile: one failed attempt says so, once
            retry_id = self.record(prev["report"], prev["parameters"], "retry", prev["client"], attempt, run_id)
            history.finish(self.engine, retry_id, "failed", error=f"not run again: {exc}", error_type=type(exc).__name__)
            log.error("run %s is not run again: %s", run_id, exc)
            return
        if spec.fan_out == "clients" and not prev["client"]:
            self.fire(spec.id, trigger="retry", attempt=attempt, retry_of=run_id, parameters=prev["parameters"])
            return
        # A retry of a run queued from the console is still an on-demand run: nobody is e-mailed.
        deliver = queue.origin(self.engine, run_id) != queue.TRIGGER
        # Recorded now (a service killed before the run starts leaves it queued, for recovery), and not
        # waited for: a retry job must not hold one of APScheduler's threads while its run waits for a
        # worker (after a restart with many runs to re-run, the console's polling starved).
        retry_id = self.record(spec.id, prev["parameters"], "retry", prev["client"], attempt, run_id)
        future = self._submit(self.execute, retry_id, spec, prev["parameters"], prev["client"], attempt,
                              deliver=deliver)
        future.add_done_callback(lambda f: f.cancelled() or not f.exception() or
                                 log.error("run %s: its retry could not run: %s", run_id, f.exception()))

    def _submit(self, work, *args, **kwargs) -> Future:
        """``work(*args)`` on a run worker; here and now once the service is stopping and its pool is shut.

        A run recorded by a job thread still going as the runner stopped (a fan-out between its
        clients' rows and their start) was left queued, to be failed as "interrupted" at the next
        start. Run here, ``work`` sees the cancel and records it cancelled, re-run as the same attempt.
        """
        try:
            return self.pool.submit(work, *args, **kwargs)
        except RuntimeError:  # "cannot schedule new futures after shutdown"
            if not self.cancel.is_set():
                raise
        future: Future = Future()
        try:
            future.set_result(work(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def record(self, report: str, params: dict[str, Any], trigger: str, client: str | None, attempt: int,
               retry_of: str | None) -> str:
        """A new queued history row for one attempt of this service's; its run id.

        Tried again while the state database is locked or away (until the service stops): a due time
        whose row could not be written was lost, with no run, no retry and no alert.
        """
        run_id = history.make_run_id(client)  # one id for every try: see history.create
        return patiently(lambda: history.create(self.engine, report=report, parameters=params, trigger=trigger,
                                                client=client, attempt=attempt, retry_of=retry_of,
                                                worker=self.holder, run_id=run_id), self.outages["record"], self.cancel)

    def execute(self, run_id: str, spec: ReportSpec, params: dict[str, Any], client: str | None, attempt: int,
                *, deliver: bool = True) -> None:
        """Run the recorded run ``run_id`` in a child process and conclude it."""
        if self.cancel.is_set():
            outcome = Outcome("cancelled", error="cancelled: the scheduler stopped", error_type="ServiceStopped",
                              transient=True)
        else:
            timeout = (spec.schedule.timeout_seconds if spec.schedule else None) or self.settings.run_timeout
            request = RunRequest(run_id, spec.id, params, engine=self.settings.engine, spec=spec)
            try:
                outcome = self.executor.run(request, self.settings, timeout=timeout, cancel=self.cancel,
                                            on_start=lambda pid: history.mark_running(self.engine, run_id,
                                                                                      child_pid=pid))
            except Exception as exc:  # noqa: BLE001 — an error here (not the report's) must not leave it "running"
                log.exception("run %s: the service could not run or follow it", run_id)
                outcome = Outcome("failed", error=f"the service could not run it: {reason(exc)}",
                                  error_type=type(exc).__name__, transient=True)
            if outcome.status == "failed" and self.cancel.is_set():
                # The stop reached the run's process before the executor saw `cancel` (a SIGTERM to the whole
                # group): "process died … out of memory" and a used-up attempt, for a run the operator stopped.
                outcome = outcome.cancelled("the scheduler stopped", "ServiceStopped")
        self.conclude(run_id, spec, client, attempt, outcome, deliver=deliver)

    def start_queued(self) -> int:
        """Claim queued console runs while workers are free and start them; returns how many started."""
        with self.lock:
            free = self.settings.scheduler_workers - self.queued_in_flight
            if free <= 0 or self.cancel.is_set():
                return 0
            rows = queue.claim(self.engine, self.holder, free)
            self.queued_in_flight += len(rows)
        for row in rows:
            log.info("run %s (%s) queued from the console: starting", row["run_id"], row["report"])
            self._submit(self._run_queued, row)
        return len(rows)

    def _run_queued(self, row: dict[str, Any]) -> None:
        try:
            try:
                spec = self._spec(row["report"])
            except QuireError as exc:
                history.finish(self.engine, row["run_id"], "failed", error=str(exc), error_type=type(exc).__name__)
                return
            self.execute(row["run_id"], spec, row["parameters"], row["client"], row["attempt"], deliver=False)
        except Exception:
            log.exception("run %s: could not be executed", row["run_id"])
        finally:
            with self.lock:
                self.queued_in_flight -= 1

    def apply_schedule_states(self) -> None:
        """Pause or resume each report's job as the state database says (set from the console)."""
        if self.scheduler is None:
            return
        paused = schedules.paused(self.engine)
        with self._scheduler() as scheduler:
            for job in scheduler.get_jobs() if scheduler else ():
                if not job.id.startswith("report:"):
                    continue
                report = job.id.removeprefix("report:")
                if report in paused and job.next_run_time is not None:
                    scheduler.pause_job(job.id)
                    log.info("schedule %s paused", job.id)
                elif report not in paused and job.next_run_time is None:
                    job = scheduler.resume_job(job.id)
                    log.info("schedule %s resumed: next run %s", getattr(job, "id", report),
                             getattr(job, "next_run_time", "?"))

    def conclude(self, run_id: str, spec: ReportSpec, client: str | None, attempt: int, outcome: Outcome,
                 *, deliver: bool = True) -> None:
        """Record the outcome with its deliveries in one transaction, then schedule a retry or send.

        ``deliver=False`` (runs queued from the console): the outcome is recorded, nobody is e-mailed.
        """
        retry = outcome.status == "failed" and outcome.transient and attempt < self.settings.retry_limit
        deliveries: list[tuple[str, str]] = []
        if deliver and not retry and outcome.status != "cancelled":
            try:
                deliveries = recipients_for(spec, outcome.status, client, self.settings)
            except (QuireError, sa.exc.SQLAlchemyError) as exc:
                # Succeeded, but the client's contact cannot be looked up: the owner hears of it instead.
                log.error("run %s: no recipients (%s); alerting the owner", run_id, exc)
                deliveries = [(spec.owner, "alert")]
        # Tried again while the state database is away (until the service stops): a run that ended then was
        # published but stayed "running", and its e-mails were never queued, until the next start. A finish is
        # recorded once, so a try whose commit the lost connection hid cannot record it twice.
        patiently(lambda: history.finish(
            self.engine, run_id, outcome.status, output_folder=outcome.output_folder,
            partial_notebook=outcome.partial_notebook, error=outcome.error, error_type=outcome.error_type,
            transient=outcome.transient, deliveries=deliveries, parameters=outcome.parameters),
            Outage(f"run {run_id}: recording its end", self.database, log), self.cancel)
        label = f"{spec.id}" + (f" · {client}" if client else "")
        if outcome.status == "succeeded":
            log.info("run %s (%s) succeeded → %s", run_id, label, outcome.output_folder)
            for warning in outcome.warnings:
                log.warning("run %s (%s): %s", run_id, label, warning)
        else:
            said = outcome.error or ""
            log.warning("run %s (%s) %s", run_id, label, said if said.startswith(outcome.status) else
                        f"{outcome.status}: {said}")
        if retry:
            self.schedule_retry(run_id, attempt)
        if deliveries:
            self.request_delivery()

    def schedule_retry(self, run_id: str, attempt: int, delay: float | None = None, *, rerun: bool = False) -> None:
        """A persistent one-off job that runs attempt ``attempt + 1`` after the backoff; ``rerun``: a run that
        a stop cancelled, run again now as the same attempt (see :meth:`retry`)."""
        delay = backoff(attempt, self.settings.retry_base_seconds) if delay is None else delay
        when = datetime.now(timezone.utc) + timedelta(seconds=delay)
        with self._scheduler() as scheduler:
            if scheduler is None:  # stopping: the next start's recovery finds the run without its retry
                log.info("run %s: attempt %d at the next start", run_id, attempt + 1)
                return
            if rerun:
                log.info("run %s: cancelled by a stop, run again now as attempt %d", run_id, attempt)
            else:
                log.info("run %s: attempt %d in %.0f s", run_id, attempt + 1, delay)
            # misfire_grace_time=None: a retry that fell due while the service was down still runs at the next start.
            scheduler.add_job("quire.scheduler.jobs:retry_run", "date", run_date=when, args=[run_id],
                              id=f"retry:{run_id}", name=f"retry {run_id}", replace_existing=True,
                              misfire_grace_time=None, coalesce=True, max_instances=1)

    def request_delivery(self) -> None:
        """Have the mail thread send what the outbox holds; one pass waiting to start serves every request."""
        with self.lock:
            if self.mail_requested:
                return
            self.mail_requested = True
        try:
            self.mailer.submit(self._deliver_requested)
        except RuntimeError:  # stopped: the outbox keeps the e-mail for the next start
            log.info("e-mail left in the outbox for the next start (stopping)")

    def _deliver_requested(self) -> None:
        with self.lock:
            self.mail_requested = False
        try:
            self.deliver()
        except Exception:  # noqa: BLE001 — the rows stay pending; the outbox job tries them again
            log.exception("e-mail delivery stopped; the outbox is tried again within 5 minutes")

    def deliver(self) -> None:
        """Send the pending outbox rows; failures are recorded on the rows."""
        if not self.settings.smtp_host:
            waiting = len(outbox.pending(self.engine))
            if waiting:
                log.warning("e-mail delivery is off (QUIRE_SMTP_HOST is not set); %d e-mail(s) wait in the outbox", waiting)
            return
        deliver_pending(self.engine, self.settings, claimer=self.holder, stop=self.cancel, catalog=self.catalog())
