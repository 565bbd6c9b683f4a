"""The service: hold the lease, keep APScheduler's jobs in step with ``reports.yaml``, run until stopped.

Policy, set explicitly on every report job (see scheduler/README.md):

* ``coalesce=True`` — however many due times passed while the service was down, one
  catch-up run happens (a report describes a period; five identical runs help nobody);
* ``misfire_grace_time`` — the schedule's ``misfire_grace_seconds`` (default an hour):
  a catch-up later than that after the last due time is skipped and logged;
* ``max_instances=1`` — a report whose previous fan-out is still running is not started
  again on top of it (APScheduler logs the skipped due time).
"""

from __future__ import annotations

import faulthandler
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from quire.catalog import Catalog, ScheduleSpec, load_catalog
from quire.config import Settings
from quire.crontab import crontab_trigger
from quire.errors import SchedulerBusyError, StateError
from quire.state import open_state, outbox
from quire.state.db import Outage, patiently, redact
from quire.state.lease import Lease

log = logging.getLogger("quire.scheduler")
JOB_TABLE = "quire_apscheduler_jobs"
REPORT_PREFIX = "report:"


class WallClockCronTrigger(CronTrigger):
    """A cron trigger that fires each wall-clock time at most once, also on the day the clock falls back.

    APScheduler's own CronTrigger fires a time inside the repeated hour twice (02:30 CEST
    and 02:30 CET): a daily report would go out twice. Here the second occurrence is
    skipped. On the spring-forward day a time inside the skipped hour fires once, at
    the first instant after the gap (02:30 becomes 03:30 CEST), as APScheduler does.
    """

    def get_next_fire_time(self, previous_fire_time, now):
        nxt = super().get_next_fire_time(previous_fire_time, now)
        # Every time of the repeated hour's second pass is a wall time that already ran in its first: skipped. (Only
        # the time just run was compared before, so */30 ran 02:00 and 02:30 twice.) An hour of minutes at most.
        for _ in range(61):
            if nxt is None or not self._second_pass(nxt):
                return nxt
            nxt = super().get_next_fire_time(nxt, nxt)
        return nxt

    def _second_pass(self, moment) -> bool:
        """Whether ``moment`` is in the second pass of a wall-clock hour the clock falls back through."""
        wall = moment.astimezone(self.timezone).replace(tzinfo=None)
        first, second = (wall.replace(tzinfo=self.timezone, fold=fold) for fold in (0, 1))
        return first.utcoffset() != second.utcoffset() and moment.astimezone(timezone.utc) == second.astimezone(timezone.utc)


def trigger_for(schedule: ScheduleSpec):
    """The APScheduler trigger of a catalog schedule (cron read in its time zone, or an interval)."""
    zone = ZoneInfo(schedule.timezone)
    if schedule.cron:
        base = crontab_trigger(schedule.cron, zone)
        trigger = WallClockCronTrigger.__new__(WallClockCronTrigger)
        trigger.__setstate__(base.__getstate__())  # a plain CronTrigger is built; keep its fields
        return trigger
    seconds = schedule.interval_seconds or schedule.interval_minutes * 60
    return IntervalTrigger(seconds=seconds, timezone=zone)


#: Changes with the way a schedule is read (crontab's weekdays, the fall-back hour): the jobs an older Quire stored,
#: with the trigger it pickled, are replaced rather than kept.
TRIGGER_RULES = "crontab-weekdays"


def fingerprint(schedule: ScheduleSpec) -> str:
    """Changes whenever anything of the schedule, or the way it is read, changes: a changed schedule replaces its job."""
    return hashlib.sha256(f"{TRIGGER_RULES}\0{schedule.model_dump_json()}".encode()).hexdigest()[:10]


class PatientJobStore(SQLAlchemyJobStore):
    """APScheduler's job store in the state database, whose calls from APScheduler's main loop wait out a database
    that is locked or away.

    APScheduler writes each due job's next due time from its main loop's thread, outside any error
    handling: an error there (a SQLite file locked beyond its busy timeout, a PostgreSQL restart)
    ended that thread, and with it every schedule, retry and console run, while the process lived
    on and kept its lease. Here such a call is tried again until the database answers or the
    service stops; the log says once that the database is away and once that it is back.
    """

    def __init__(self, *, stop: threading.Event, database: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._stop = stop
        self._outage = Outage("schedules", database, log)

    def _patiently(self, call, *args):
        return patiently(call, self._outage, self._stop, *args)

    def get_due_jobs(self, now):
        return self._patiently(super().get_due_jobs, now)

    def get_next_run_time(self):
        return self._patiently(super().get_next_run_time)

    def add_job(self, job):
        return self._patiently(super().add_job, job)

    def update_job(self, job):
        return self._patiently(super().update_job, job)

    def remove_job(self, job_id):
        return self._patiently(super().remove_job, job_id)

    def remove_all_jobs(self):
        return self._patiently(super().remove_all_jobs)


def build_scheduler(engine: Engine, settings: Settings, stop: threading.Event | None = None) -> BackgroundScheduler:
    """A BackgroundScheduler whose job store is the state database; times in UTC unless a schedule says otherwise.

    ``stop``: set when the service stops, which ends the job store's waiting for an unreachable database.
    """
    store = PatientJobStore(engine=engine, tablename=JOB_TABLE, stop=stop or threading.Event(),
                            database=redact(settings.state))
    return BackgroundScheduler(
        # "memory": jobs of this process only (the console poll), never written to the database.
        jobstores={"default": store, "memory": MemoryJobStore()},
        # Job threads mostly wait for their runs; the Runner's pool (scheduler_workers) bounds the real work.
        executors={"default": ThreadPoolExecutor(max_workers=8)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=timezone.utc,
    )


def due_lines(scheduler: BackgroundScheduler, now: datetime) -> list[str]:
    """A line per report schedule for the start's log: when it runs next, or, after downtime, whether its catch-up
    runs now or was missed. APScheduler runs the latest due time passed (coalescing the others) when it is no later
    than the schedule's misfire grace, and skips it otherwise; its own log said only "was missed by"."""
    lines = []
    for job in scheduler.get_jobs():
        if not job.id.startswith(REPORT_PREFIX):
            continue
        if job.next_run_time is None:
            lines.append(f"schedule {job.id}: paused (from the console; no run until it is resumed there)")
            continue
        passed, upcoming = [], job.next_run_time
        while upcoming is not None and upcoming <= now:  # as APScheduler lists the due times passed
            passed.append(upcoming)
            upcoming = job.trigger.get_next_fire_time(upcoming, now)
        if not passed:
            lines.append(f"schedule {job.id}: next run {_when(upcoming)}")
            continue
        latest, grace = passed[-1], job.misfire_grace_time
        missed = (f"{len(passed)} due times from {_when(passed[0])}" if len(passed) > 1
                  else f"its due time {_when(latest)}")
        if grace is None or (now - latest).total_seconds() <= grace:
            lines.append(f"schedule {job.id}: {missed} passed while the service was down; one catch-up run starts "
                         f"now (next run {_when(upcoming)})")
        else:
            lines.append(f"schedule {job.id}: {missed} passed while the service was down; no catch-up run, as the "
                         f"latest was {_duration(now - latest)} ago, beyond the schedule's misfire grace of "
                         f"{_duration(timedelta(seconds=grace))} (misfire_grace_seconds); next run {_when(upcoming)}")
    return lines


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M %Z}"


def _duration(span: timedelta) -> str:
    """``span`` to the second ("1 h 00 min 29 s"): rounded, a lateness and the grace it exceeds read the same."""
    hours, rest = divmod(int(span.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or (hours and seconds):
        parts.append(f"{minutes:02d} min" if hours else f"{minutes} min")
    if seconds or not parts:
        parts.append(f"{seconds} s")
    return " ".join(parts)


@dataclass
class SyncResult:
    """What :func:`sync_jobs` changed in the job store."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def sync_jobs(scheduler: BackgroundScheduler, catalog: Catalog) -> SyncResult:
    """Make the stored ``report:<id>`` jobs match the catalog's schedules.

    An unchanged schedule keeps its job (and its next due time, so downtime is caught up);
    a changed one is replaced; a removed one is deleted.
    """
    result = SyncResult()
    stored = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(REPORT_PREFIX)}
    for spec in catalog.reports.values():
        if spec.schedule is None:
            continue
        job_id, name = REPORT_PREFIX + spec.id, f"{spec.id} [{fingerprint(spec.schedule)}]"
        job = stored.pop(job_id, None)
        if job is not None and job.name == name:
            result.kept.append(spec.id)
            continue
        scheduler.add_job("quire.scheduler.jobs:fire_report", trigger_for(spec.schedule), args=[spec.id], id=job_id,
                          name=name, replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=spec.schedule.misfire_grace_seconds)
        (result.replaced if job is not None else result.added).append(spec.id)
    for job_id in stored:
        scheduler.remove_job(job_id)
        result.removed.append(job_id.removeprefix(REPORT_PREFIX))
    return result


class Service:
    """One scheduler process: lease, APScheduler, runner, heartbeat."""

    def __init__(self, settings: Settings, *, wait: bool = False) -> None:
        self.settings, self.wait = settings, wait
        self.engine = open_state(settings.state)
        self.lease = Lease(self.engine, seconds=settings.lease_seconds)
        self.stop_event = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self.runner = None

    def busy_message(self) -> str:
        held = self.lease.current() or {}
        until = f"{held['expires_at']:%Y-%m-%d %H:%M:%S} UTC" if held.get("expires_at") else "?"
        return (f"another scheduler ({held.get('host', '?')} pid {held.get('pid', '?')}) is active on "
                f"{redact(self.settings.state)}; its lease runs to {until}")

    def acquire(self) -> bool:
        """Take the lease, waiting as a standby if asked to; False if stopped while waiting."""
        if self.lease.acquire():
            return True
        if not self.wait:
            raise SchedulerBusyError(self.busy_message(), hint="stop it, or start this one with --wait as a standby")
        log.info("standby: %s", self.busy_message())
        if not self.settings.dask_scheduler:
            from quire.batch.runner import start_warming

            # Warm while waiting: a takeover then runs its first due report at once, not after the warm
            # server's imports and rehearsal (a minute on a busy host, on top of the lease's expiry).
            start_warming()
        while not self.stop_event.wait(max(1.0, self.settings.lease_seconds / 3)):
            if self.lease.acquire():
                return True
        return False

    def start(self) -> None:
        """Lease held: start APScheduler paused, sync jobs, recover, then let jobs fire."""
        from quire.scheduler.jobs import Runner
        from quire.scheduler.recovery import recover

        self.scheduler = build_scheduler(self.engine, self.settings, self.stop_event)
        self.scheduler.start(paused=True)
        self.runner = Runner(self.settings, self.engine, self.lease.holder, self.scheduler)
        self.runner.install()
        synced = sync_jobs(self.scheduler, self.runner.catalog())
        log.info("scheduler %s active on %s; schedules added %s, replaced %s, removed %s, kept %s",
                 self.lease.holder, redact(self.settings.state), synced.added or "-", synced.replaced or "-",
                 synced.removed or "-", synced.kept or "-")
        recovered = recover(self.runner)
        if recovered:
            log.info("recovered %d interrupted run(s)", len(recovered))
        # Pending outbox rows (a crash between run and e-mail) go out now and every 5 minutes. Now is the mail
        # thread's, not a one-off APScheduler job: a stop right after the start made APScheduler look for the
        # finished one-off among its not-yet-started jobs, and its thread died on JobLookupError.
        self.scheduler.add_job("quire.scheduler.jobs:deliver_outbox", "interval", minutes=5, id="quire:outbox",
                               replace_existing=True)
        self.runner.request_delivery()
        # The console's queue and schedule pauses, read from the state database every few seconds.
        self.runner.apply_schedule_states()
        self.scheduler.add_job("quire.scheduler.jobs:poll_console", "interval", seconds=self.settings.queue_poll_seconds,
                               id="quire:console", jobstore="memory", replace_existing=True, coalesce=True,
                               max_instances=1, misfire_grace_time=None)
        # Said before the scheduler runs the catch-ups, which move the due times on.
        for line in due_lines(self.scheduler, datetime.now(timezone.utc)):
            log.info("%s", line)
        self.scheduler.resume()

    def heartbeat(self) -> None:
        """Renew the lease until stopped; losing it stops the service (another scheduler took over).

        A heartbeat late by the lease's length lets a standby take over; should that happen, the
        stacks of every thread are written to the log (by faulthandler's own thread, which needs
        no Python lock), so that the operator sees what held this process up.

        Raises :class:`StateError` if APScheduler's main loop has died: the lease must not be renewed
        for a process that will never fire anything again (the caller's shutdown releases it, and
        the non-zero exit lets systemd restart the service or a ``--wait`` standby take over).
        """
        interval = max(1.0, self.settings.lease_seconds / 3)
        outage = Outage("lease heartbeat", redact(self.settings.state), log)
        try:
            while True:
                faulthandler.dump_traceback_later(self.settings.lease_seconds, exit=False)
                if self.stop_event.wait(interval):
                    return
                if not self.scheduler_alive():
                    log.error("APScheduler's main loop has stopped: no schedule, retry or console run would start "
                              "again; releasing the lease and exiting")
                    raise StateError("the scheduler's main loop stopped (its error is in the log above)",
                                     hint="start `quire scheduler` again (systemd's Restart=on-failure does)")
                try:
                    with outage.watch():  # a database blip: keep trying until the lease would have expired
                        if not self.lease.renew():
                            log.error("lost the scheduler lease (another scheduler took over); stopping")
                            return
                except Exception as exc:  # noqa: BLE001 — anything else: said, and tried again at the next beat
                    log.warning("lease heartbeat failed: %s", exc)
        finally:
            faulthandler.cancel_dump_traceback_later()

    def scheduler_alive(self) -> bool:
        """Whether APScheduler's main loop thread (which fires every job) still runs; True before it is started."""
        if self.scheduler is None:
            return True
        thread = getattr(self.scheduler, "_thread", None)  # BackgroundScheduler's own (APScheduler 3)
        return thread is not None and thread.is_alive()

    def shutdown(self) -> None:
        """Stop firing, cancel runs in progress (re-queued at the next start), release the lease."""
        if self.runner is not None:
            # First, so that the jobs still running end at once: a due time's runs are recorded cancelled,
            # an outbox pass stops after its current e-mail. Then wait for them: a job left running would
            # be cut off by the process's exit while it holds an e-mail's claim.
            self.runner.stop_firing("the scheduler stopped")
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.runner is not None:
            self.runner.stop()
            try:
                outbox.release(self.engine, self.lease.holder)  # nothing this process claimed stays locked
            except Exception as exc:
                log.warning("could not release this scheduler's e-mail claims (they expire by themselves): %s", exc)
        try:
            self.lease.release()
        except Exception as exc:
            log.warning("could not release the lease (it expires by itself): %s", exc)

    def run(self) -> None:
        """The whole life of the service, blocking; ``stop_event`` (SIGTERM, Ctrl-C) ends it cleanly."""
        from quire.scheduler.jobs import import_working_set

        # A catalog that does not validate stops the service before APScheduler starts: stopping a started (even
        # paused) scheduler let it process a due job once, which moved an overdue schedule past its catch-up run.
        from quire.validation import refuse_schedule_problems, schedule_data_findings

        catalog = load_catalog(self.settings.catalog_path)
        # As for a cron typo: a schedule that fails at every due time stops the service at its start.
        refuse_schedule_problems(catalog, self.settings, unreadable=True)
        # What the warehouse refuses today (a period it does not cover yet) it may accept after its next load, and
        # an unreachable warehouse may be back when a report is due: said at the start, not refused.
        problems, warnings = schedule_data_findings(catalog, self.settings)
        for line in [f"{problem}; its runs fail when due until this is fixed" for problem in problems] + warnings:
            log.warning("%s", line)
        try:
            import_working_set(self.settings)
            if not self.acquire():
                return
            self.start()
            self.heartbeat()
        finally:
            self.shutdown()
