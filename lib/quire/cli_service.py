"""``quire scheduler``, ``quire runs`` and ``quire deliver``: the commands of the scheduling service."""

from __future__ import annotations

import logging
import signal
import sys
from datetime import datetime, timedelta
from typing import Annotated, Optional

import typer
from rich.table import Table

from quire.config import get_settings
from quire.errors import ParameterError

runs_app = typer.Typer(help="The run history: scheduled, retried and manual runs.", invoke_without_command=True)


def _fmt(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else ""


def _since(text: str) -> datetime:
    """``2026-11-01``, ``2026-11-01T08:00`` (UTC) or a span back from now: ``30m``, ``12h``, ``7d``."""
    from quire.state import utcnow

    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return utcnow() - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise ParameterError(f"--since {text!r}: use a date (2026-11-01), a UTC time (2026-11-01T08:00) "
                             "or a span such as 30m, 12h, 7d") from None


def scheduler(
    wait: Annotated[bool, typer.Option("--wait", help="If another scheduler is active, stand by and take over when it stops.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also log APScheduler's own messages.")] = False,
) -> None:
    """Run the scheduling service in the foreground (Ctrl-C or SIGTERM stops it cleanly)."""
    from quire.scheduler.service import Service

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    service = Service(get_settings(), wait=wait)
    signal.signal(signal.SIGTERM, lambda *_: service.stop_event.set())
    try:
        service.run()
    except KeyboardInterrupt:  # Ctrl-C: `run` already shut down cleanly in its finally
        pass
    logging.getLogger("quire.scheduler").info("scheduler stopped")


@runs_app.callback()
def runs(
    ctx: typer.Context,
    report: Annotated[Optional[str], typer.Option(help="Only this report.")] = None,
    client: Annotated[Optional[str], typer.Option(help="Only this client's runs (slug).")] = None,
    status: Annotated[Optional[str], typer.Option(help="queued, running, succeeded, failed, timed_out or cancelled.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Created at or after: 2026-11-01, 2026-11-01T08:00 (UTC), 12h, 7d.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 50,
) -> None:
    """List runs, newest first; `quire runs show RUN_ID` gives one in full."""
    from quire.cli import out
    from quire.state import open_state
    from quire.state import runs as history
    from quire.state.schema import RUN_STATUSES

    if ctx.invoked_subcommand:
        return
    if status and status not in RUN_STATUSES:
        raise ParameterError(f"--status {status!r}: use one of {', '.join(RUN_STATUSES)}")
    rows = history.query(open_state(get_settings().state), report=report, client=client, status=status,
                         since=_since(since) if since else None, limit=limit)
    table = Table("run id", "report", "client", "trigger", "try", "status", "started", "output / error")
    for column in table.columns:
        column.overflow = "fold"
    table.columns[0].no_wrap = True  # run ids are copied into `quire runs show`: never broken
    colour = {"succeeded": "green", "failed": "red", "timed_out": "red", "running": "yellow"}
    for r in rows:
        shown = f"[{colour[r['status']]}]{r['status']}[/]" if r["status"] in colour else r["status"]
        table.add_row(r["run_id"], r["report"], r["client"] or "", r["trigger"], str(r["attempt"]), shown,
                      _fmt(r["started_at"] or r["created_at"]), r["output_folder"] or r["error"] or "")
    out.print(table if rows else "no runs match", highlight=False)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="A run id from `quire runs`.")]) -> None:
    """Everything recorded about one run, and its deliveries."""
    from quire.cli import out
    from quire.state import open_state
    from quire.state import runs as history

    engine = open_state(get_settings().state)
    row = history.get(engine, run_id)
    for key in ("run_id", "report", "client", "parameters", "trigger", "attempt", "retry_of", "status", "created_at",
                "started_at", "finished_at", "output_folder", "partial_notebook", "error", "worker", "host", "pid"):
        value = row[key]
        if isinstance(value, datetime):
            value = _fmt(value)
        if value not in (None, ""):
            out.print(f"{key:>16}: {value}", highlight=False, markup=False)
    for d in history.deliveries(engine, run_id):
        extra = f"  {d['last_error']}" if d["last_error"] else ""
        out.print(f"{'delivery':>16}: {d['kind']} → {d['recipient']}: {d['status']} "
                  f"(attempts {d['attempts']}{', sent ' + _fmt(d['sent_at']) if d['sent_at'] else ''}){extra}",
                  highlight=False, markup=False)


def deliver(
    retry: Annotated[bool, typer.Option("--retry", help="Also try again the e-mails that failed before.")] = False,
) -> None:
    """Send what the delivery outbox still holds (pending e-mails; with --retry also failed ones)."""
    from rich.markup import escape

    from quire.cli import err, out
    from quire.delivery.outbox import deliver_pending
    from quire.state import open_state, outbox
    from quire.state.lease import Lease

    # The lines below report every failure once; the library's log records would repeat them on stderr.
    logging.getLogger("quire.delivery").addHandler(logging.NullHandler())
    settings = get_settings()
    engine = open_state(settings.state)
    revived = outbox.revive_failed(engine) if retry else 0
    result = deliver_pending(engine, settings, claimer=Lease(engine, name="deliver").holder)
    # Recipients and reasons come from data: never read as Rich markup (a "[" in an address would raise).
    for line in result.sent:
        out.print(f"[green]✓[/green] sent to {escape(line)}", highlight=False)
    for line in result.failed:
        err.print(f"[red]✗[/red] {escape(line)}", highlight=False, soft_wrap=True)
    if not result:
        out.print("nothing to deliver" + (f" ({revived} failed e-mail(s) revived)" if revived else ""))
    if result.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the service's commands to the ``quire`` app."""
    app.command("scheduler")(scheduler)
    app.add_typer(runs_app, name="runs")
    app.command("deliver")(deliver)
