"""The next due time the console shows for a schedule: the one the scheduler will use."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from quire.console.schedules import JOB_TABLE, stored_next_runs
from quire.state import open_state


def _nothing() -> None:
    """The job's work: none (the test reads only its times)."""


def test_a_resumed_interval_schedule_keeps_the_phase_it_started_with(tmp_path):
    # Resumed from the console, an every-45-seconds schedule read "next run" 45 s after the resume, from a trigger
    # made afresh; the scheduler's own resume keeps the job's phase and ran it 28 s earlier.
    engine = open_state(f"sqlite:///{tmp_path / 'state.db'}")
    started = datetime.now(timezone.utc) - timedelta(seconds=100)
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
                                    timezone=timezone.utc)
    scheduler.start(paused=True)
    try:
        trigger = IntervalTrigger(seconds=45, start_date=started, timezone=timezone.utc)
        job = scheduler.add_job(_nothing, trigger, id="report:executive")
        job.pause()
        now = datetime.now(timezone.utc)
        shown = stored_next_runs(engine)["executive"]
        due = trigger.get_next_fire_time(None, now)  # what APScheduler's resume_job sets
        assert abs((shown - due).total_seconds()) < 1, (shown, due)
        assert (shown - started).total_seconds() % 45 < 1 or (shown - started).total_seconds() % 45 > 44
    finally:
        scheduler.shutdown(wait=False)
