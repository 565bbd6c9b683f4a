"""Who receives a finished run, and sending what the outbox holds.

Recipients come from the run record (DESIGN convention 9): a client run goes to the
contact e-mail of *that* client's warehouse row and to nobody else; another report to
the catalog's ``recipients``. A failed run goes to no recipient: the report's ``owner``
gets an alert instead — as they do when a report e-mail cannot be sent (a recipient that
is not one address, a refusal by the SMTP server, …): that row ends ``failed`` with the
reason and the owner's alert lists the failed deliveries of the run.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from quire.catalog import Catalog, load_catalog
from quire.config import Settings
from quire.delivery import Message
from quire.delivery.headers import one_recipient, printable
from quire.errors import DeliveryError, QuireError, WarehouseDataError
from quire.state import outbox
from quire.state import runs as history
from quire.state.schema import outbox as outbox_table

log = logging.getLogger("quire.delivery")
FINAL_FAILURES = ("failed", "timed_out")
RECIPIENT_LENGTH = outbox_table.c.recipient.type.length


def client_contact(slug: str, settings: Settings) -> str | None:
    """The contact e-mail of the client ``slug`` (looked up by that slug only), or None."""
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(settings.warehouse) as conn:
        try:
            row = queries.client_by_slug(conn, slug)
        except WarehouseDataError as exc:  # several clients with this slug: none of them is surely this run's
            log.warning("%s", exc)
            return None
    if row is None or row["slug"] != slug:  # the recipient must belong to this run's client, never another
        return None
    value = row["contact_email"]
    # A missing value reads as NaN or None depending on the warehouse: neither is an address (NaN printed "nan").
    return (value.strip() or None) if isinstance(value, str) else None


def _fits(recipient: str) -> str:
    """``recipient`` as the outbox stores it: normalised as it is sent (spaces around it gone, its Unicode composed,
    the domain in lower case), so that one address written two ways is one row and one e-mail, not two with
    different Message-IDs. One that is no address is kept as given, cut to the column's 320 characters: its row
    fails at sending with the reason, not the run's record (no address is that long; 254 at most)."""
    try:
        return one_recipient(recipient)
    except DeliveryError:
        return recipient[:RECIPIENT_LENGTH]


def recipients_for(spec, status: str, client: str | None, settings: Settings) -> list[tuple[str, str]]:
    """``(recipient, kind)`` pairs for a run that ended with ``status`` (final: no retry follows)."""
    if status in FINAL_FAILURES:
        return [(_fits(spec.owner), "alert")] if spec.owner else []
    if status != "succeeded":
        return []
    if client:
        contact = client_contact(client, settings)
        if contact:
            return [(_fits(contact), "report")]
        # Published and sent to nobody: the owner hears of it (the alert says the client has no contact).
        log.warning("client %s has no contact_email in the warehouse: its report is not e-mailed", client)
        return [(_fits(spec.owner), "alert")] if spec.owner else []
    return [(_fits(r), "report") for r in spec.recipients]


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "recipient (run): error"

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed)


def deliver_pending(engine: Engine, settings: Settings, *, claimer: str, run_id: str | None = None,
                    channel: str = "smtp", stop: threading.Event | None = None,
                    catalog: Catalog | None = None) -> DeliveryReport:
    """Send every pending outbox row (of ``run_id``, or all): claim, send, mark — one row at a time.

    Whatever goes wrong with one e-mail (a recipient that is not one address, a header that
    cannot be built, an attachment gone, the SMTP server's refusal) fails that row with the
    reason, queues an alert to the report's owner, and the next row is sent all the same.
    Once ``stop`` is set (the service is stopping) no further e-mail is tried, and one that
    failed for a passing reason stays pending for the next start rather than failing.
    ``catalog`` (default: ``reports.yaml`` as it is now) gives the reports' titles and owners.
    """
    from quire.delivery import get_deliverer

    outbox.release_dead(engine)  # e-mails a killed sender had claimed go now, not once its claim is stale
    queue = deque(outbox.pending(engine, run_id))
    report = DeliveryReport()
    if not queue:
        return report
    deliverer = get_deliverer(channel, settings, stop)
    deliverer.check()  # unconfigured: say so, and leave every row pending
    catalog = catalog or load_catalog(settings.catalog_path)
    runs_seen: dict[str, dict[str, Any]] = {}
    while queue and not deliverer.stop.is_set():
        row = queue.popleft()
        if not outbox.claim(engine, row["id"], claimer):
            continue  # sent meanwhile, or another live sender has it
        label = f"{printable(row['recipient'])} ({row['run_id']})"
        try:
            run = runs_seen.get(row["run_id"]) or history.get(engine, row["run_id"])
            runs_seen[row["run_id"]] = run
            message = compose(engine, catalog, run, row)
            if message is None:
                outbox.withdraw(engine, row["id"])
                log.info("alert to %s withdrawn: every report e-mail of run %s has been sent", label, row["run_id"])
                continue
            deliverer.send(message)
        except Exception as exc:  # noqa: BLE001 — one e-mail's failure, whatever it is, must not stop the others
            reason = _reason(exc)
            if deliverer.stop.is_set() and isinstance(exc, DeliveryError) and exc.transient:
                outbox.mark_failed(engine, row["id"], reason, give_up=False)  # unclaimed: sent at the next start
                log.warning("delivery of %s left for the next start (stopping): %s", label, reason)
                break
            outbox.mark_failed(engine, row["id"], reason, give_up=True)
            report.failed.append(f"{label}: {reason}")
            log.error("delivery failed: %s: %s", label, reason, exc_info=not isinstance(exc, QuireError))
            queue.extend(_alert_owner(engine, catalog, runs_seen.get(row["run_id"]), row))
            continue
        outbox.mark_sent(engine, row["id"])
        report.sent.append(label)
        log.info("delivered %s %s", row["kind"], label)
    return report


def _reason(exc: Exception) -> str:
    """One line for the outbox row and the CLI: Quire's message, or the type and text of anything else."""
    text = str(exc) if isinstance(exc, QuireError) else f"unexpected {type(exc).__name__}: {exc}"
    return printable(text, limit=1000)


def compose(engine: Engine, catalog: Catalog, run: dict[str, Any], row: dict[str, Any]) -> Message | None:
    """The message of one outbox row: the report, the alert of a failed run, or the alert of failed deliveries.

    None for an alert about report e-mails that have all been sent since (``quire deliver
    --retry`` after the SMTP server came back): there is nothing left to tell the owner.
    """
    from quire.delivery.compose import alert_message, delivery_alert_message, report_message

    spec = catalog.get(run["report"])
    recipient = one_recipient(row["recipient"])  # exactly one address, or the row fails with the reason
    if row["kind"] != "alert":
        return report_message(run, spec, recipient)
    if run["status"] in FINAL_FAILURES:
        return alert_message(run, spec, recipient)
    reports = [d for d in history.deliveries(engine, run["run_id"]) if d["kind"] == "report"]
    failures = [(d["recipient"], d["last_error"] or "") for d in reports if d["status"] == "failed"]
    if reports and not failures:
        return None
    return delivery_alert_message(run, spec, recipient, failures)


def _alert_owner(engine: Engine, catalog: Catalog, run: dict[str, Any] | None,
                 row: dict[str, Any]) -> list[dict[str, Any]]:
    """Queue an alert to the report's owner about a report e-mail that failed (once per run); the new row, if any."""
    if row["kind"] != "report" or run is None:
        return []  # an alert that fails is not alerted about: the owner is the one it could not reach
    try:
        owner = catalog.get(run["report"]).owner
    except QuireError:
        return []
    if not owner or owner.strip().lower() == str(row["recipient"]).strip().lower():
        return []
    added = outbox.add(engine, row["run_id"], _fits(owner), "alert")  # None: already queued or sent for this run
    return [added] if added else []
