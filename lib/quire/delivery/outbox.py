"""Who receives a finished run, and sending what the outbox holds.

Recipients come from the run record (DESIGN convention 9): a client run goes to the
contact e-mail of *that* client's warehouse row and to nobody else; another report to
the catalog's ``recipients``. A failed run goes to no recipient: the report's ``owner``
gets an alert instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from quire.catalog import load_catalog
from quire.config import Settings
from quire.errors import DeliveryError, QuireError
from quire.state import outbox
from quire.state import runs as history

log = logging.getLogger("quire.delivery")
FINAL_FAILURES = ("failed", "timed_out")


def client_contact(slug: str, settings: Settings) -> str | None:
    """The contact e-mail of the client ``slug`` (looked up by that slug only), or None."""
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(settings.warehouse) as conn:
        row = queries.client_by_slug(conn, slug)
    if row is None or row["slug"] != slug:  # the recipient must belong to this run's client, never another
        return None
    return str(row["contact_email"]).strip() or None


def recipients_for(spec, status: str, client: str | None, settings: Settings) -> list[tuple[str, str]]:
    """``(recipient, kind)`` pairs for a run that ended with ``status`` (final: no retry follows)."""
    if status in FINAL_FAILURES:
        return [(spec.owner, "alert")] if spec.owner else []
    if status != "succeeded":
        return []
    if client:
        contact = client_contact(client, settings)
        return [(contact, "report")] if contact else []
    return [(r, "report") for r in spec.recipients]


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "recipient (run): error"

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed)


def deliver_pending(engine: Engine, settings: Settings, *, claimer: str, run_id: str | None = None,
                    channel: str = "smtp") -> DeliveryReport:
    """Send every pending outbox row (of ``run_id``, or all): claim, send, mark — one row at a time."""
    from quire.delivery import get_deliverer
    from quire.delivery.compose import alert_message, report_message

    rows = outbox.pending(engine, run_id)
    report = DeliveryReport()
    if not rows:
        return report
    deliverer = get_deliverer(channel, settings)
    deliverer.check()  # unconfigured: say so, and leave every row pending
    catalog = load_catalog(settings.catalog_path)
    runs_seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not outbox.claim(engine, row["id"], claimer):
            continue  # sent meanwhile, or another live sender has it
        run = runs_seen.get(row["run_id"]) or history.get(engine, row["run_id"])
        runs_seen[row["run_id"]] = run
        label = f"{row['recipient']} ({row['run_id']})"
        try:
            spec = catalog.get(run["report"])
            compose = alert_message if row["kind"] == "alert" else report_message
            deliverer.send(compose(run, spec, row["recipient"]))
        except (DeliveryError, QuireError) as exc:
            outbox.mark_failed(engine, row["id"], str(exc), give_up=True)
            report.failed.append(f"{label}: {exc}")
            log.error("delivery failed: %s: %s", label, exc)
            continue
        outbox.mark_sent(engine, row["id"])
        report.sent.append(label)
        log.info("delivered %s %s", row["kind"], label)
    return report
