"""A job thread calls APScheduler exactly while the service stops; prints "stopped" if the stop ends.

Run as a subprocess by test_sched_service (whatever is wrong here hangs, and is killed there).
Two job threads do what the service's own jobs do at such a moment: a console poll reads the
jobs, and a run that failed for a transient reason schedules its retry. Each waits until the
shutdown holds APScheduler's job-store lock, the moment the hang needs.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from apscheduler.schedulers.base import STATE_STOPPED

from quire.config import get_settings
from quire.scheduler import jobs
from quire.scheduler.service import Service
from quire.state import runs as history

service = Service(get_settings())
started = threading.Barrier(3)


def _when_shutdown_holds_the_lock() -> None:
    scheduler = service.scheduler
    lock = scheduler._jobstores_lock  # APScheduler's own: its shutdown holds it while it waits for job threads
    for _ in range(20_000):  # 20 s at most
        if scheduler.state == STATE_STOPPED:
            if not lock.acquire(blocking=False):
                return
            lock.release()  # not taken yet
        time.sleep(0.001)
    raise SystemExit("the shutdown never took APScheduler's lock")


def console_poll() -> None:
    started.wait(10)
    _when_shutdown_holds_the_lock()
    jobs.poll_console()


def failed_run_schedules_its_retry(run_id: str) -> None:
    started.wait(10)
    _when_shutdown_holds_the_lock()
    jobs._runner().schedule_retry(run_id, 1)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    assert service.acquire()
    service.start()
    run_id = history.create(service.engine, report="board", parameters={}, trigger="schedule", attempt=1,
                            worker=service.lease.holder)
    history.finish(service.engine, run_id, "failed", error="the warehouse is down", transient=True)
    service.scheduler.add_job(console_poll, jobstore="memory", id="probe:poll")
    service.scheduler.add_job(failed_run_schedules_its_retry, args=[run_id], jobstore="memory", id="probe:retry")
    started.wait(10)
    service.shutdown()
    print("stopped", run_id, flush=True)


if __name__ == "__main__":
    sys.exit(main())
