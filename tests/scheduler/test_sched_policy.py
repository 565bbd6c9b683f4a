"""Schedule policy without waiting: DST fire counts, catch-up after downtime (coalesce, misfire grace), job sync.

The DST counts come from the very triggers the service uses; the downtime cases run
the real APScheduler with its SQLAlchemy job store while time-machine moves the clock.
Only the run execution is replaced here (a runner that counts), not the scheduling.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sched_support import wait_for

from quire.catalog import ScheduleSpec, load_catalog
from quire.scheduler import jobs
from quire.scheduler.service import build_scheduler, due_lines, sync_jobs, trigger_for
from quire.state import open_state

BERLIN = ZoneInfo("Europe/Berlin")


def fires_on(day: datetime, schedule: ScheduleSpec) -> list[datetime]:
    """Every fire time of ``schedule`` on the local calendar day ``day``, as APScheduler computes them."""
    trigger, found, previous, now = trigger_for(schedule), [], None, day
    while (nxt := trigger.get_next_fire_time(previous, now)) is not None and nxt.astimezone(BERLIN).date() == day.date():
        found.append(nxt.astimezone(timezone.utc))
        previous = now = nxt
    return found


@pytest.mark.parametrize(("cron", "day", "expected_utc"), [
    # A normal day: a daily job once, an hourly one 24 times.
    ("30 2 * * *", "2026-03-28", ["01:30"]),
    # Spring forward (02:00 → 03:00 CEST): 02:30 does not exist; the job runs once, at 03:30 CEST.
    ("30 2 * * *", "2026-03-29", ["01:30"]),
    # Fall back (03:00 CEST → 02:00 CET): 02:30 happens twice; the job runs once, at the first (CEST) one.
    ("30 2 * * *", "2026-10-25", ["00:30"]),
    # Times outside the changing hour are untouched: 03:00 local on both days.
    ("0 3 * * *", "2026-03-29", ["01:00"]),
    ("0 3 * * *", "2026-10-25", ["02:00"]),
])
def test_daily_cron_across_dst_runs_exactly_once(cron, day, expected_utc):
    fires = fires_on(datetime.fromisoformat(day).replace(tzinfo=BERLIN), ScheduleSpec(cron=cron, timezone="Europe/Berlin"))
    assert [f"{f:%H:%M}" for f in fires] == expected_utc


@pytest.mark.parametrize(("day", "count"), [("2026-03-28", 24), ("2026-03-29", 23), ("2026-10-25", 24)])
def test_hourly_cron_runs_once_per_wall_clock_hour(day, count):
    fires = fires_on(datetime.fromisoformat(day).replace(tzinfo=BERLIN), ScheduleSpec(cron="0 * * * *", timezone="Europe/Berlin"))
    assert len(fires) == count and len({f.astimezone(BERLIN).strftime("%H") for f in fires}) == count


@pytest.mark.parametrize("cron", ["*/30 * * * *", "15,45 * * * *", "*/15 2 * * *"])
def test_a_sub_hourly_cron_runs_each_wall_time_of_the_repeated_hour_once(cron):
    # Fall back: */30 ran 02:00 and 02:30 both at +02:00 and at +01:00 (50 runs): only the time just run was compared.
    day = datetime(2026, 10, 25, tzinfo=BERLIN)
    fires = fires_on(day, ScheduleSpec(cron=cron, timezone="Europe/Berlin"))
    walls = [f.astimezone(BERLIN).strftime("%H:%M") for f in fires]
    assert len(walls) == len(set(walls)) and len(walls) == len(fires_on(day - timedelta(days=1), ScheduleSpec(
        cron=cron, timezone="Europe/Berlin")))


@pytest.mark.parametrize(("weekday", "days"), [
    ("1", ["Mon"]), ("0", ["Sun"]), ("7", ["Sun"]), ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ("0,6", ["Sat", "Sun"]), ("5-7", ["Fri", "Sat", "Sun"]), ("*/2", ["Sun", "Tue", "Thu", "Sat"]),
    ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]), ("SUN", ["Sun"]),
])
def test_a_numeric_weekday_is_crontabs_sunday_zero(weekday, days):
    # APScheduler counts from Monday = 0: "0 7 * * 1-5", weekdays in any crontab, ran Tuesday to Saturday.
    schedule = ScheduleSpec(cron=f"0 7 * * {weekday}", timezone="Europe/Berlin")
    week = [fire for d in range(7) for fire in fires_on(datetime(2026, 12, 7 + d, tzinfo=BERLIN), schedule)]
    assert sorted({f.astimezone(BERLIN).strftime("%a") for f in week}, key=lambda d: days.index(d) if d in days else 9) == days
    assert all(f.astimezone(BERLIN).strftime("%H:%M") == "07:00" for f in week)


def test_utc_schedules_never_shift():
    fires = fires_on(datetime(2026, 10, 25, tzinfo=BERLIN), ScheduleSpec(cron="0 6 * * *", timezone="UTC"))
    assert [f"{f:%H:%M}" for f in fires] == ["06:00"]


class CountingRunner(jobs.Runner):
    """Records when a report was due instead of running it (the scheduling is what is under test)."""

    def __init__(self) -> None:
        self.fired: list[tuple[str, datetime]] = []

    def fire(self, report_id, **kw):
        self.fired.append((report_id, datetime.now(timezone.utc)))


def _catalog(tmp_path, grace: int):
    (tmp_path / "reports.yaml").write_text(
        "reports:\n  hourly:\n    title: Hourly\n    notebook: notebooks/ok.ipynb\n    description: d\n    owner: o@example.com\n"
        f"    schedule: {{interval_minutes: 60, misfire_grace_seconds: {grace}}}\n", encoding="utf-8")
    return load_catalog(tmp_path / "reports.yaml")


@pytest.mark.parametrize(("grace", "expected_runs"), [(3600, 1), (600, 0)])
def test_downtime_over_several_due_times_gives_one_catch_up_run(tmp_path, settings_for, make_env, state_url, grace,
                                                                expected_runs):
    url = state_url  # APScheduler's job store on SQLite and on PostgreSQL
    settings = settings_for(make_env("reports: {}\n", url))
    engine, catalog = open_state(url), _catalog(tmp_path, grace)
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=True):
        scheduler = build_scheduler(engine, settings)
        scheduler.start(paused=True)
        assert sync_jobs(scheduler, catalog).added == ["hourly"]
        assert due_lines(scheduler, start) == ["schedule report:hourly: next run 2026-11-02 09:00 UTC"]
        scheduler.pause_job("report:hourly")  # as the console pauses it: said, not left out of the start's log
        assert due_lines(scheduler, start) == [
            "schedule report:hourly: paused (from the console; no run until it is resumed there)"]
        scheduler.resume_job("report:hourly")
        scheduler.shutdown(wait=False)  # the service goes down before 09:00
    # Back at 11:30: 09:00, 10:00 and 11:00 were missed (11:00 is 30 minutes late).
    with time_machine.travel(start + timedelta(hours=3, minutes=30), tick=True):
        runner = CountingRunner()
        runner.install()
        try:
            scheduler = build_scheduler(engine, settings)
            scheduler.start(paused=True)
            assert sync_jobs(scheduler, catalog).kept == ["hourly"]  # unchanged: its due time survives the restart
            # The start's log says what happens to the due times passed (it gave the first as the "next run").
            passed = "schedule report:hourly: 3 due times from 2026-11-02 09:00 UTC passed while the service was down; "
            assert due_lines(scheduler, start + timedelta(hours=3, minutes=30)) == [passed + (
                "one catch-up run starts now (next run 2026-11-02 12:00 UTC)" if expected_runs else
                "no catch-up run, as the latest was 30 min ago, beyond the schedule's misfire grace of 10 min "
                "(misfire_grace_seconds); next run 2026-11-02 12:00 UTC")]
            scheduler.resume()
            if expected_runs:
                wait_for(lambda: runner.fired, timeout=15, message="the catch-up run")
            time.sleep(1.5)  # would a second (uncoalesced) run follow?
            assert [r for r, _ in runner.fired] == ["hourly"] * expected_runs
            assert scheduler.get_job("report:hourly").next_run_time == start + timedelta(hours=4)
            scheduler.shutdown(wait=False)
        finally:
            jobs._CURRENT = None


def test_sync_replaces_changed_and_removes_deleted_schedules(tmp_path, settings_for, make_env):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    settings = settings_for(make_env("reports: {}\n", url))
    scheduler = build_scheduler(open_state(url), settings)
    scheduler.start(paused=True)
    try:
        assert sync_jobs(scheduler, _catalog(tmp_path, 3600)).added == ["hourly"]
        assert sync_jobs(scheduler, _catalog(tmp_path, 3600)).kept == ["hourly"]
        assert sync_jobs(scheduler, _catalog(tmp_path, 900)).replaced == ["hourly"]
        job = scheduler.get_job("report:hourly")
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 900)
        (tmp_path / "reports.yaml").write_text("reports: {}\n", encoding="utf-8")
        assert sync_jobs(scheduler, load_catalog(tmp_path / "reports.yaml")).removed == ["hourly"]
        assert scheduler.get_job("report:hourly") is None
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(("schedule", "message"), [
    ("{cron: '61 * * * *'}", "cron"),
    ("{cron: '0 6 * * *', timezone: Mars/Olympus}", "time zone"),
    ("{interval_minutes: 5, interval_seconds: 5}", "exactly one"),
    ("{interval_minutes: 5, parameters: {delya: 2}}", "unknown parameter 'delya'"),
    ("{interval_minutes: 5, parameters: {delay: soon}}", "parameter 'delay'"),
    ("{interval_minutes: 5, clients: {sectr: municipality}}", "cannot select clients by 'sectr'; did you mean 'sector'?"),
    ("{interval_minutes: 5, clients: {sector: municipality}}", "has no 'fan_out: clients'"),
    ("{cron: '0 7 * * 8'}", "weekday 8 is outside 0–7 (0 and 7 are Sunday)"),
    ("{cron: '0 7 * * fri-mon'}", "runs backwards"),
    # crontab runs on either day, APScheduler only on both: refused rather than run on other days.
    ("{cron: '0 7 1 * 1'}", "a day of the month or a day of the week, not both"),
])
def test_validate_rejects_bad_schedules(tmp_path, make_env, schedule, message):
    from support import run_quire

    env = make_env("reports:\n  r:\n    title: x\n    notebook: notebooks/ok.ipynb\n    description: d\n    owner: o@example.com\n"
                   "    parameters:\n      client: {type: str}\n      period: {type: period}\n      delay: {type: float}\n"
                   f"    schedule: {schedule}\n", f"sqlite:///{tmp_path / 's.db'}")
    proc = run_quire(env, "validate")
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_a_start_refused_for_a_broken_catalog_keeps_the_catch_up_run(tmp_path, settings_for, make_env, state_url):
    # The refused start ran APScheduler (paused) and stopped it, which processed the overdue job once: its next run
    # moved on, and the start after the fix never made the catch-up run.
    from quire.errors import QuireError
    from quire.scheduler.service import Service

    engine, catalog = open_state(state_url), _catalog(tmp_path, 3600)
    settings = settings_for(make_env("reports: {}\n", state_url))
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=True):
        scheduler = build_scheduler(engine, settings)
        scheduler.start(paused=True)
        sync_jobs(scheduler, catalog)
        scheduler.shutdown(wait=False)
    broken = settings_for(make_env("reports:\n  hourly: {title: Hourly, schedule: {cron: '0 7 2 * * *'}}\n", state_url))
    with time_machine.travel(start + timedelta(hours=1, minutes=30), tick=True):
        with pytest.raises(QuireError):
            Service(broken).run()
        scheduler = build_scheduler(engine, settings)
        scheduler.start(paused=True)
        try:
            assert scheduler.get_job("report:hourly").next_run_time == start + timedelta(hours=1)  # still due
        finally:
            scheduler.shutdown(wait=False)


@pytest.mark.parametrize(("schedule", "message"), [
    ("{interval_minutes: 5, parameters: {delya: 2}}", "reports.yaml: reports.r.schedule.parameters: unknown parameter 'delya'"),
    ("{interval_minutes: 5, parameters: {delay: soon}}", "reports.yaml: reports.r.schedule.parameters: parameter 'delay'"),
])
def test_a_schedule_its_notebook_would_refuse_is_located_and_stops_the_service_at_its_start(
        tmp_path, make_env, settings_for, schedule, message):
    # `quire validate` refused it without saying where, and the scheduler started anyway: the run failed, with an
    # alert to the owner, at every due time.
    from support import run_quire

    from quire.errors import ConfigError
    from quire.scheduler.service import Service

    env = make_env("reports:\n  r:\n    title: x\n    notebook: notebooks/ok.ipynb\n    description: d\n    owner: o@example.com\n"
                   "    parameters:\n      client: {type: str}\n      period: {type: period}\n      delay: {type: float}\n"
                   f"    schedule: {schedule}\n", f"sqlite:///{tmp_path / 's.db'}")
    assert message in " ".join(run_quire(env, "validate").stderr.split())
    with pytest.raises(ConfigError, match=re.escape(message)):
        Service(settings_for(env)).run()


def test_a_scheduled_report_whose_notebook_is_missing_stops_the_service_at_its_start(tmp_path, make_env, settings_for):
    # `quire validate` refused it without naming the report, and the scheduler started anyway: the report failed at
    # every due time.
    from support import run_quire

    from quire.errors import ConfigError
    from quire.scheduler.service import Service

    env = make_env("reports:\n  weekly:\n    title: x\n    notebook: notebooks/nonexistent.ipynb\n    description: d\n"
                   "    owner: o@example.com\n    schedule: {cron: '0 7 * * *'}\n", f"sqlite:///{tmp_path / 's.db'}")
    proc = run_quire(env, "validate")
    assert proc.returncode == 2 and "report weekly: notebook not found" in proc.stderr, proc.stderr
    with pytest.raises(ConfigError, match=r"reports\.weekly\.notebook: notebook not found"):
        Service(settings_for(env)).run()


def test_a_scheduled_period_the_warehouse_does_not_cover_is_said_by_validate_and_at_the_start(
        tmp_path, make_env, settings_for, caplog):
    # It passed both and failed at every due time: the warehouse may cover it after its next load, so the start
    # says it rather than refusing.
    from support import run_quire

    from quire.scheduler.service import Service

    env = make_env("reports:\n  r:\n    title: x\n    notebook: notebooks/ok.ipynb\n    description: d\n    owner: o@example.com\n"
                   "    parameters:\n      client: {type: str}\n      period: {type: period}\n      delay: {type: float}\n"
                   "    schedule: {interval_minutes: 60, parameters: {period: '2099-01'}}\n", f"sqlite:///{tmp_path / 's.db'}")
    message = "reports.r.schedule.parameters: parameter 'period': 2099-01 is in the future"
    proc = run_quire(env, "validate")
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 0 and f"! {settings_for(env).catalog_path}: {message}" in said, proc.stderr
    assert said.endswith("; its runs fail when due until the warehouse covers that period")
    service = Service(settings_for(env))
    service.stop_event.set()  # started, then stopped at its first heartbeat
    with caplog.at_level(logging.WARNING, logger="quire"):
        service.run()
    [logged] = [r.getMessage() for r in caplog.records if message in r.getMessage()]
    assert logged.endswith("; its runs fail when due until the warehouse covers that period")
