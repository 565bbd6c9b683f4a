"""The e-mails Quire sends: a finished report to its recipients, a failure alert to the report's owner."""

from __future__ import annotations

import hashlib
import json
from html import escape
from pathlib import Path
from typing import Any

from quire.catalog import ReportSpec
from quire.delivery import Message
from quire.delivery.headers import header_text, printable
from quire.errors import DeliveryError


def message_id(run_id: str, recipient: str, kind: str = "report") -> str:
    """The left part of the Message-ID (the sender's domain completes it when the e-mail is built), stable per
    (run, recipient, kind): a resend after a crash carries the same id, so mail systems can drop it; the alert to an
    owner who also got the report is another message, with an id of its own."""
    key = recipient.lower() if kind == "report" else f"{kind}:{recipient.lower()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{run_id}.{digest}"


def _figure(kpi: dict[str, Any]) -> str:
    """The figure as the report's card shows it ("+0.6 pts", "0.113"); formatted from its unit for a run.json
    written before cards recorded their text."""
    from quire.metrics.kpi import format_value

    return str(kpi.get("text") or format_value(kpi.get("value"), kpi.get("unit") or "count"))


def report_message(run: dict[str, Any], spec: ReportSpec, recipient: str) -> Message:
    """The e-mail of a published run: headline figures from its ``run.json``, the PDF attached."""
    folder = Path(run["output_folder"] or "")
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"run {run['run_id']}: cannot read its run.json in {folder} ({exc})") from None
    # One line each: they go into the subject, and a client's name comes from the warehouse as it was typed.
    title = header_text(record.get("title") or spec.title)
    who = header_text(record.get("client_name") or run["client"]) if run.get("client") else None
    period = header_text(record.get("period") or run["parameters"].get("period") or "")
    subject = " — ".join(p for p in (title, who, period) if p)
    from quire.formatting import from_record, using

    with using(from_record(record)):  # the run's own locale and currency, as its report shows them
        figures = [(k.get("label") or k.get("name") or "?", _figure(k), str(k.get("change_text") or ""))
                   for k in record.get("headline") or []]
    lines = [f"{title}" + (f" for {who}" if who else "") + (f", {period}" if period else "") + ".", ""]
    # What the report concludes (an experiment's verdict), before the figures it rests on.
    conclusion = printable(record.get("conclusion") or "", limit=2000)
    if conclusion:
        lines += [conclusion, ""]
    if figures:
        lines += ["Headline figures:"] + [f"  {label}: {value}" + (f" ({change})" if change else "")
                                          for label, value, change in figures] + [""]
    pdf = folder / "report.pdf"
    # A server's folder means nothing to a client reading the e-mail elsewhere: they get the run's reference.
    attached = ("The full report is attached as a PDF." if pdf.is_file() else
                f"The report's reference is {run['run_id']}." if run.get("client") else f"The report is in {folder}.")
    lines.append(attached)
    signed, colour = _sender(record)
    if signed:
        lines += ["", *signed]
    rows = "".join(f"<tr><td>{escape(label)}</td><td style='text-align:right'><b>{escape(value)}</b></td>"
                   f"<td>{escape(change)}</td></tr>" for label, value, change in figures)
    html = (f"<html><body style='font-family:sans-serif'><h2 style='color:{colour}'>{escape(title)}</h2>"
            + (f"<p>{escape(who)}</p>" if who else "") + (f"<p>{escape(period)}</p>" if period else "")
            + (f"<p><b>{escape(conclusion)}</b></p>" if conclusion else "")
            + (f"<table cellpadding='4'>{rows}</table>" if rows else "")
            + f"<p>{escape(attached)}</p>"
            + "".join(f"<p style='color:#52606d;font-size:90%'>{escape(line)}</p>" for line in signed)
            + "</body></html>")
    return Message(recipient=recipient, subject=subject, text="\n".join(lines) + "\n", html=html,
                   message_id=message_id(run["run_id"], recipient), attachments=(pdf,) if pdf.is_file() else (),
                   headers={"X-Report-Run": run["run_id"], "X-Report-Kind": "report"})


def _sender(record: dict[str, Any]) -> tuple[list[str], str]:
    """Who the report's e-mail comes from, as its brand kit says it (name, contact), and the kit's primary colour for
    the heading: a white-label client's e-mail is signed by its agency, as the PDF it carries is. Unsigned and in
    black when the kit cannot be read (the e-mail goes all the same)."""
    from quire.brand import load_brand
    from quire.errors import QuireError

    try:
        brand = load_brand(str(record.get("brand") or "quire"))
    except (QuireError, OSError):
        return [], "#000000"
    name, contact = printable(brand.name, limit=120), printable(brand.contact, limit=300)
    signed = [contact] if contact.startswith(name) else [name, contact] if contact else [name]  # the name once
    return signed, brand.colors.primary


def alert_message(run: dict[str, Any], spec: ReportSpec, recipient: str) -> Message:
    """The owner's alert that a run failed for good (it was not sent to anyone else)."""
    who = f" for client {run['client']}" if run.get("client") else ""
    subject = f"[Quire] {spec.title}{who}: run {run['status'].replace('_', ' ')}"
    lines = [
        f"The run {run['run_id']} of report '{spec.id}'{who} ended {run['status']} (attempt {run['attempt']}).",
        f"Error: {run.get('error') or '(none recorded)'}",
    ]
    if run.get("partial_notebook"):
        lines.append(f"Partial notebook: {run['partial_notebook']}")
    lines += ["", "Nothing was sent to the report's recipients. `quire runs show " + run["run_id"] + "` has the details."]
    html = "<html><body style='font-family:sans-serif'>" + "".join(f"<p>{escape(x)}</p>" for x in lines if x) + "</body></html>"
    return Message(recipient=recipient, subject=subject, text="\n".join(lines) + "\n", html=html,
                   message_id=message_id(run["run_id"], recipient, "alert"),
                   headers={"X-Report-Run": run["run_id"], "X-Report-Kind": "alert"})


def delivery_alert_message(run: dict[str, Any], spec: ReportSpec, recipient: str,
                           failures: list[tuple[str, str]]) -> Message:
    """The owner's alert that a published run could not be e-mailed to some of its recipients, and why."""
    who = f" for client {run['client']}" if run.get("client") else ""
    subject = f"[Quire] {spec.title}{who}: report not delivered"
    intro = (f"The run {run['run_id']} of report '{spec.id}'{who} succeeded, but its e-mail could not be sent to "
             + ("these recipients:" if failures
                else "its client, who has no contact_email in the warehouse (or it could not be read: the service's "
                     "log says which)." if run.get("client")
                else "its recipients (none could be determined; see the service's log)."))
    failed = [f"{printable(to)}: {printable(reason, limit=500)}" for to, reason in failures]
    after = [f"The report is in {run.get('output_folder') or 'the archive'}.",
             "A wrong address: fix it (a client's contact_email in the warehouse, or the recipients in reports.yaml); "
             "the next scheduled run is sent to it. A fault of the mail server: `quire deliver --retry` sends this "
             "e-mail again.",
             f"`quire runs show {run['run_id']}` has the details."]
    text = "\n".join([intro, *(f"  {x}" for x in failed), "", *after]) + "\n"
    html = ("<html><body style='font-family:sans-serif'>" + f"<p>{escape(intro)}</p>"
            + ("<ul>" + "".join(f"<li>{escape(x)}</li>" for x in failed) + "</ul>" if failed else "")
            + "".join(f"<p>{escape(x)}</p>" for x in after) + "</body></html>")
    return Message(recipient=recipient, subject=subject, text=text, html=html,
                   message_id=message_id(run["run_id"], recipient, "alert"),
                   headers={"X-Report-Run": run["run_id"], "X-Report-Kind": "alert"})
