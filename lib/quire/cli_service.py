"""``quire scheduler``, ``quire runs`` and ``quire deliver``: the commands of the scheduling service."""

from __future__ import annotations

import faulthandler
import logging
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from quire.config import get_settings
from quire.errors import ParameterError
from quire.terminal import KEY_TYPES, err, listing, out, run_label, visible

runs_app = typer.Typer(help="The run history: scheduled, retried and manual runs.", invoke_without_command=True)


def _fmt(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else ""


def _since(text: str) -> datetime:
    """``2026-11-01``, ``2026-11-01T08:00`` (UTC) or a span back from now: ``30m``, ``12h``, ``7d``."""
    from quire.state import parse_moment

    try:
        return parse_moment(text)
    except ValueError as exc:
        raise ParameterError(f"--since {exc}") from None


def scheduler(
    wait: Annotated[bool, typer.Option("--wait", help="If another scheduler is active, stand by and take over when it stops.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also log APScheduler's and papermill's own messages.")] = False,
) -> None:
    """Run the scheduling service in the foreground (Ctrl-C or SIGTERM stops it cleanly)."""
    from quire.scheduler.service import Service

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    # Papermill says "Input Notebook: …" each time a notebook's parameters are read (the start's checks, every due
    # time): noise in the service's log, and a second line before a refused start's one.
    logging.getLogger("papermill").setLevel(logging.INFO if verbose else logging.WARNING)
    service = Service(get_settings(), wait=wait)
    def stop(*_) -> None:
        # Said at once: the stop may wait for an e-mail attempt (QUIRE_SMTP_TIMEOUT) before "scheduler stopped".
        logging.getLogger("quire.scheduler").info("stopping: runs in progress are cancelled and re-run at the next start")
        service.stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    # `kill -USR1 <pid>` writes every thread's stack to the log: where a stop or a run is held up.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        service.run()
    except KeyboardInterrupt:  # Ctrl-C: `run` already shut down cleanly in its finally
        pass
    logging.getLogger("quire.scheduler").info("scheduler stopped")


#: The most runs ``quire runs --limit`` lists: more than any terminal shows, and within what the database can count.
MAX_LISTED = 100_000


@runs_app.callback()
def runs(
    ctx: typer.Context,
    report: Annotated[Optional[str], typer.Option(help="Only this report.")] = None,
    client: Annotated[Optional[str], typer.Option(help="Only this client's runs (slug).")] = None,
    status: Annotated[Optional[str], typer.Option(help="queued, running, succeeded, failed, timed_out or cancelled.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Created at or after: 2026-11-01, 2026-11-01T08:00 (UTC), 12h, 7d.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LISTED, help="At most this many rows, newest first.")] = 50,
) -> None:
    """List runs, newest first; `quire runs show RUN_ID` gives one in full."""
    from quire.state import lease, open_state
    from quire.state import runs as history
    from quire.state.recorder import reconcile_or_warn
    from quire.state.schema import RUN_STATUSES

    if ctx.invoked_subcommand:
        return
    if status and status not in RUN_STATUSES:
        raise ParameterError(f"--status {status!r}: use one of {', '.join(RUN_STATUSES)}")
    settings = get_settings()
    since_moment = _since(since) if since else None
    recorded_clients: list[str] = []
    matching = 0
    if _no_state_yet(settings.state):
        rows = []
    else:
        engine = open_state(settings.state)
        reconcile_or_warn(engine, settings)  # a `quire run` that died must not show as running forever
        filters = {"report": report, "client": client, "status": status, "since": since_moment}
        rows = history.query(engine, **filters, limit=limit)
        if client and not rows:
            recorded_clients = history.clients(engine)
        matching = history.count(engine, **filters) if len(rows) == limit else len(rows)
    types = _parameter_types()
    out.print(runs_table(rows, types) if rows else
              f"no runs match{_unknown_report(report, types)}{_unrecorded_client(client, recorded_clients)}",
              highlight=False)
    if rows and matching > len(rows):
        more = (f"--limit {matching} shows them all" if matching <= MAX_LISTED else
                "--report, --client, --status or --since narrow them")
        err.print(f"showing the newest {len(rows)} of {matching:,} matching runs; {more}", highlight=False)
    waiting = [r for r in rows if r["status"] in history.LIVE and r["trigger"] != "manual"]
    if waiting and not lease.held(engine):
        # Its scheduler was killed: the rows say "running" until the next start settles them.
        err.print(f"note: no scheduler is running on this state database: {len(waiting)} queued or running run(s) "
                  "above wait for `quire scheduler`, which re-runs those it finds interrupted", highlight=False,
                  markup=False)


def _no_state_yet(url: str) -> bool:
    """Whether the state database is a SQLite file that does not exist: said on stderr, and nothing created
    (a mistyped QUIRE_STATE_URL must not look like an empty history)."""
    from quire.state import missing_sqlite_file

    missing = missing_sqlite_file(url)
    if missing is not None:
        why_not = _cannot_create(missing)
        if why_not:  # "the first run creates it" would be false: every run warns that it is not recorded
            from quire.errors import StateError

            raise StateError(f"there is no state database at {missing}, and none can be created there ({why_not})",
                             hint="check QUIRE_STATE_URL; runs are not recorded until it names a place Quire can write")
        err.print(f"note: there is no state database at {missing} yet (QUIRE_STATE_URL; the first run creates it)",
                  highlight=False, markup=False)
    return missing is not None


def _cannot_create(path: Path) -> str:
    """Why a file cannot be created at ``path`` (its folders included), tried with a temporary file; "" if it can."""
    import tempfile

    from quire.config import nearest_existing

    folder = nearest_existing(path.parent)
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=folder):
            return ""
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"


def _unknown_report(report: str | None, types: dict[str, dict[str, str]]) -> str:
    """Why a --report filter found nothing when the catalog has no such report (a typo, most likely)."""
    from quire.parameters import closest

    if not report or not types or report in types:
        return ""
    guess = closest(report, types)
    return f"; the catalog has no report {report!r}" + (f" (did you mean {guess!r}?)" if guess else
                                                         f" ({', '.join(sorted(types))})")


def _unrecorded_client(client: str | None, recorded: list[str]) -> str:
    """Why a --client filter found nothing when the history has no run of that client at all (a typo, or a
    client never reported on): the slug nearest to it among those the history has, else how to list clients."""
    from quire.parameters import closest
    from quire.problems import quoted

    if not client or client in recorded:
        return ""
    guess = closest(client, recorded) if recorded else None
    return f"; the history has no run for client {quoted(client)}" + (
        f" (did you mean {guess!r}?)" if guess else " (`quire clients` lists the warehouse's clients by slug)")


def runs_table(rows: list[dict], types: dict[str, dict[str, str]]):
    """The run history as a table that stays readable in a 100-column terminal.

    Each run takes a few lines in the first column: its id (copied into `quire runs show`),
    then which run it is (report, client or experiment, period) with its other parameters,
    then its error if it failed. Status, start and trigger stay in narrow columns beside it,
    so the eye can run down them. The output folder is left to `quire runs show`.
    """
    table = listing("run", "status", "started", "trigger", keep_whole=(1, 2, 3))
    table.columns[0].max_width = 90  # a long error wraps instead of pushing the status off to the far right
    colour = {"succeeded": "green", "failed": "red", "timed_out": "red", "running": "yellow"}
    for r in rows:
        params = dict(r["parameters"] or {})
        kinds = types.get(r["report"], {})
        label = run_label(r["report"], params, kinds)
        others = _compact({k: v for k, v in params.items() if kinds.get(k) not in KEY_TYPES})
        lines = [Text(r["run_id"], style="bold"), _indented(label + (f"  {others}" if others else ""))]
        if r["error"]:
            lines.append(_indented(visible(r["error"]), colour.get(r["status"], "")))
        trigger = r["trigger"] + (f" {r['attempt']}" if r["attempt"] and r["attempt"] > 1 else "")
        table.add_row(Group(*lines), Text(r["status"], colour.get(r["status"], "")),
                      _fmt_short(r["started_at"] or r["created_at"]), Text(trigger))
    return table


def _indented(text: str, style: str = "") -> Padding:
    # Wrapped lines keep the indent, so a run's details never look like the next run's id.
    return Padding(Text(text, style=style), (0, 0, 0, 2))


def _parameter_types() -> dict[str, dict[str, str]]:
    """report -> parameter name -> type, from the catalog (empty if the catalog cannot be read: rows still list)."""
    from quire.catalog import load_catalog
    from quire.errors import QuireError

    try:
        catalog = load_catalog(get_settings().catalog_path)
    except QuireError:
        return {}
    return {rid: {name: p.type for name, p in spec.parameters.items()} for rid, spec in catalog.reports.items()}


def _compact(parameters: dict) -> str:
    """``name=value`` pairs separated by spaces (long values cut), so a narrow column wraps between them."""
    from quire.problems import quoted

    def shown(value) -> str:
        text = str(value)
        return text if len(text) <= 40 and text.isprintable() and " " not in text else quoted(value, 40)

    return " ".join(f"{name}={shown(value)}" for name, value in parameters.items())


def _fmt_short(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="A run id from `quire runs`.")]) -> None:
    """Everything recorded about one run, and its deliveries."""
    from quire.errors import StateError
    from quire.state import missing_sqlite_file, open_state
    from quire.state import runs as history

    settings = get_settings()
    if (missing := missing_sqlite_file(settings.state)) is not None:
        raise StateError(f"no run {run_id!r}: there is no state database at {missing} yet",
                         hint="check QUIRE_STATE_URL; `quire runs` lists the runs recorded")
    engine = open_state(settings.state)
    row = history.get(engine, run_id)
    for key in ("run_id", "report", "client", "parameters", "trigger", "attempt", "retry_of", "status", "created_at",
                "started_at", "finished_at", "output_folder", "partial_notebook", "error", "requested_by", "worker",
                "host", "pid"):
        value = row[key]
        if isinstance(value, datetime):
            value = _fmt(value)
        if value not in (None, ""):
            # visible(): a client's name or an error quoting warehouse data cannot write escape codes or fake lines.
            out.print(f"{key:>16}: {visible(value)}", highlight=False, markup=False)
    # A failed or cancelled run may have been run again since: say by which run, and how it ended.
    for retry in history.retries_of(engine, run_id):
        who = f" · {retry['client']}" if retry["client"] and not row["client"] else ""
        out.print(f"{'run again as':>16}: {retry['run_id']}{visible(who)} ({retry['status']})", highlight=False,
                  markup=False)
    for d in history.deliveries(engine, run_id):
        extra = f"  {visible(d['last_error'])}" if d["last_error"] else ""
        out.print(f"{'delivery':>16}: {d['kind']} → {visible(d['recipient'])}: {d['status']} "
                  f"(attempts {d['attempts']}{', sent ' + _fmt(d['sent_at']) if d['sent_at'] else ''}){extra}",
                  highlight=False, markup=False)


def deliver(
    retry: Annotated[bool, typer.Option("--retry", help="Also try again the e-mails that failed before.")] = False,
) -> None:
    """Send what the delivery outbox still holds (pending e-mails; with --retry also failed ones)."""
    from quire.delivery.headers import printable
    from quire.delivery.outbox import deliver_pending
    from quire.state import open_state, outbox
    from quire.state.lease import Lease

    # The lines below report every failure once; the library's log records would repeat them on stderr.
    logging.getLogger("quire.delivery").addHandler(logging.NullHandler())
    settings = get_settings()
    if _no_state_yet(settings.state):
        out.print("nothing to deliver")
        return
    engine = open_state(settings.state)
    if retry:
        # An SMTP server that is not configured is said before anything changes: reviving first left every failed
        # e-mail pending, and the next scheduler start sent them without anyone asking again.
        from quire.delivery import get_deliverer

        get_deliverer("smtp", settings).check()
    revived = outbox.revive_failed(engine) if retry else 0
    failed_before = {r["id"] for r in outbox.with_status(engine, "failed")}
    result = deliver_pending(engine, settings, claimer=Lease(engine, name="deliver").holder)
    # Recipients and reasons come from data: never read as Rich markup (a "[" in an address would raise).
    for line in result.sent:
        out.print(Text.assemble(("✓", "green"), f" sent to {line}"), highlight=False)
    for line in result.failed:
        err.print(Text.assemble(("✗", "red"), f" {line}"), highlight=False)
    held = [r for r in outbox.pending(engine) if r["claimed_by"]]
    if not result and not held:
        out.print("nothing to deliver" + (f" ({revived} failed e-mail(s) revived)" if revived else ""))
    if held:
        # Claimed by another sender: sent by it, or free again once the claim is stale (its process died).
        stale = int(outbox.STALE_CLAIM.total_seconds() // 60)
        out.print(f"{len(held)} e-mail(s) are being sent by another process ({held[0]['claimed_by']}); if it is "
                  f"no longer running, they can be sent {stale} minutes after its claim", highlight=False, markup=False)
    earlier = [r for r in outbox.with_status(engine, "failed") if r["id"] in failed_before]
    if earlier:
        # Failed rows are not tried again by themselves: the cause (a mailbox that does not exist, a server
        # that was down for long) needs a look first.
        out.print(f"{len(earlier)} e-mail(s) failed earlier and are tried again only with --retry:")
        for row in earlier[:10]:
            out.print(f"  {printable(row['recipient'])} ({row['run_id']}): {row['last_error']}", highlight=False,
                      markup=False)
        if len(earlier) > 10:
            out.print(f"  … and {len(earlier) - 10} more (`quire runs show <run>` lists a run's e-mails)")
        out.print("`quire deliver --retry` sends them once the cause is fixed", markup=False)
    if result.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the service's commands to the ``quire`` app."""
    app.command("scheduler")(scheduler)
    app.add_typer(runs_app, name="runs")
    app.command("deliver")(deliver)
