"""E-mails built from data: a header value stays one line, a recipient is one address, one bad e-mail stops no other.

A client's name with CR/LF and a ``contact_email`` holding two addresses are planted in a
copy of the tiny warehouse and go through the service's own path (run in a child process,
outbox, a real aiosmtpd server); ``quire deliver`` meets rows that cannot be built.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from sched_support import CATALOG_HEAD, client_report, run_once

from quire.catalog import load_catalog
from quire.delivery import Message
from quire.delivery.headers import header_text, one_recipient
from quire.delivery.outbox import deliver_pending, recipients_for
from quire.delivery.smtp import build_email
from quire.errors import DeliveryError
from quire.scheduler.jobs import Runner
from quire.state import open_state
from quire.state import outbox as outbox_rows
from quire.state import runs as history
from quire.state.schema import outbox
from support import run_quire, warehouse_copy

HOSTILE_NAME = "Town of Fairdale\r\nBcc: intruder@example.net\r\n\r\nforged body"
TWO_ADDRESSES = "first@example.com, second@example.com"
BOARD = ("  board:\n    title: Board pack\n    notebook: notebooks/ok.ipynb\n    description: d\n"
         "    owner: cfo@example.com\n    recipients: [board@example.com, ceo@example.com]\n"
         "    parameters:\n      client: {type: str}\n      period: {type: period}\n      delay: {type: float}\n")
CATALOG = CATALOG_HEAD + client_report() + BOARD


# -- header values and recipients, without a server ---------------------------------------------

@pytest.mark.parametrize("value,expected", [
    ("Town of\r\nFairdale", "Town of Fairdale"),
    ("a\nBcc: x@example.com", "a Bcc: x@example.com"),
    ("tab\tand\x00nul\x1bescape\x7fdel", "tab and nul escape del"),
    ("line\u2028separator\u2029paragraph\x85next", "line separator paragraph next"),
    ("Zoë Ünal – Ltd", "Zoë Ünal – Ltd"),
])
def test_header_text_is_one_printable_line(value, expected):
    assert header_text(value) == expected


@pytest.mark.parametrize("value,reason", [
    (TWO_ADDRESSES, "it holds 2 addresses"),
    ("first@example.com; second@example.com", "it holds 2 addresses"),
    ("owner@example.com\r\nBcc: intruder@example.net", "it holds 2 addresses"),
    ("Jane Doe <jane@example.com>", "display name"),
    ("not-an-address", "@-sign"),
    ("", "@-sign"),
    # One malformed address is not "2 addresses" (the count was of getaddresses' pieces).
    ("[/]omar@example.org", "invalid characters before the @-sign"),
    ("ivan.ellis@example.com\nX-Injected: yes", "The part after the @-sign contains invalid characters"),
])
def test_a_recipient_must_be_exactly_one_address(value, reason):
    with pytest.raises(DeliveryError) as err:
        one_recipient(value)
    message = str(err.value)
    assert reason in message and "give exactly one address" in message and not err.value.transient
    assert "\n" not in message and "\r" not in message


def test_one_plain_address_is_accepted():
    assert one_recipient(" board@example.com ") == "board@example.com"


def test_no_data_can_add_a_header_or_a_recipient():
    message = Message(recipient="board@example.com", subject=f"Report — {HOSTILE_NAME}", text="t", html="<p>h</p>",
                      message_id="r.1", headers={"X-Report-Run": "run\r\nBcc: intruder@example.net"})
    raw = build_email(message, "quire@example.com").as_bytes()
    import email
    import email.policy

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["To"] == "board@example.com"
    assert parsed["Subject"] == "Report — Town of Fairdale Bcc: intruder@example.net forged body"
    assert parsed["X-Report-Run"] == "run Bcc: intruder@example.net"
    assert sorted(parsed.keys()) == sorted(["From", "To", "Subject", "Date", "Message-ID", "X-Report-Run",
                                            "Content-Type", "MIME-Version"])
    with pytest.raises(DeliveryError, match="it holds 2 addresses"):
        build_email(Message(recipient=TWO_ADDRESSES, subject="s", text="t", html="h", message_id="m"), "q@x.org")


def test_a_client_reports_e_mail_names_its_sender_and_not_the_platform(tmp_path):
    # A white-label client who looked at the headers read "@quire" in the Message-ID and X-Quire-* fields.
    from quire.catalog import ReportSpec
    from quire.delivery.compose import report_message

    (tmp_path / "run.json").write_text(json.dumps({"title": "Performance report", "client_name": "Town of Fairdale",
                                                   "period": "October 2026", "headline": [], "brand": "harbor"}),
                                       encoding="utf-8")
    run = {"run_id": "20261006T000000Z-abc123-town-of-fairdale", "output_folder": str(tmp_path),
           "client": "town-of-fairdale", "parameters": {"period": "2026-10"}}
    spec = ReportSpec.model_validate({"id": "client", "title": "Performance report", "notebook": "client.ipynb",
                                      "description": "A client's month", "owner": "owner@agency.example"})
    mail = build_email(report_message(run, spec, "board@fairdale.example"), "Reports <reports@agency.example>")
    assert re.fullmatch(rf"<{re.escape(run['run_id'])}\.[0-9a-f]{{12}}@agency\.example>", mail["Message-ID"])
    assert not [name for name, value in mail.items() if "quire" in f"{name} {value}".lower()], mail.items()
    # Signed by the agency whose kit the report wears, as the PDF it carries is.
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert text.rstrip().endswith(".\n\nHarbor Civic Digital · performance@harbor.example")
    assert "Harbor Civic Digital" in html and "quire" not in (text + html).lower()
    assert str(tmp_path) not in text + html and f"reference is {run['run_id']}" in text  # no server path


# -- through the service: the run, the outbox, a real SMTP server ----------------------------------

@pytest.fixture
def planted(tiny_warehouse, tmp_path):
    """A warehouse copy: Fairdale's name carries CR/LF, Summerbrook's contact holds two addresses."""
    path = tmp_path / "planted.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("UPDATE clients SET name = ? WHERE slug = 'town-of-fairdale'", [HOSTILE_NAME])
        con.execute("UPDATE clients SET contact_email = ? WHERE slug = 'village-of-summerbrook'", [TWO_ADDRESSES])
        fairdale = con.execute("SELECT contact_email FROM clients WHERE slug = 'town-of-fairdale'").fetchone()[0]
    return f"duckdb:///{path}", fairdale


@pytest.fixture
def runner(make_env, state_url, smtp, settings_for, planted):
    settings = settings_for(make_env(CATALOG, state_url, smtp.port, QUIRE_WAREHOUSE_URL=planted[0]))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    yield runner
    runner.stop()


def _rows(engine, run_id: str) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.run_id == run_id)).mappings()
        return {r["recipient"]: dict(r) for r in rows}


@pytest.mark.slow
def test_a_client_name_with_cr_lf_and_a_two_address_contact_through_the_service(runner, smtp, planted):
    spec = load_catalog(runner.settings.catalog_path).get("clientmail")
    fairdale_contact = planted[1]
    fairdale = run_once(runner, spec, {"client": "town-of-fairdale"}, "town-of-fairdale")
    summerbrook = run_once(runner, spec, {"client": "village-of-summerbrook"}, "village-of-summerbrook")
    assert history.get(runner.engine, fairdale)["status"] == "succeeded"
    assert history.get(runner.engine, summerbrook)["status"] == "succeeded"

    # Fairdale's report went to its contact only, its name on one subject line, no header or recipient added.
    rows = _rows(runner.engine, fairdale)
    assert rows[fairdale_contact]["status"] == "sent" and len(rows) == 1
    [mail] = [m for m in smtp.messages if m["X-Report-Run"] == fairdale]
    assert mail["To"] == fairdale_contact and mail["X-Envelope-To"] == fairdale_contact and mail["Bcc"] is None
    assert mail["Subject"] == "Scheduler test — Town of Fairdale Bcc: intruder@example.net forged body — 2026-10"
    assert "intruder" not in mail["X-Envelope-To"]

    # Summerbrook's contact holds two addresses: refused with the reason, never in To:; the owner hears of it.
    rows = _rows(runner.engine, summerbrook)
    refused = rows[TWO_ADDRESSES]
    assert refused["status"] == "failed" and "is not one e-mail address (it holds 2 addresses)" in refused["last_error"]
    assert rows["owner@example.com"]["status"] == "sent" and rows["owner@example.com"]["kind"] == "alert"
    [alert] = [m for m in smtp.messages if m["X-Report-Run"] == summerbrook]
    assert alert["To"] == "owner@example.com" and alert["Subject"].endswith("report not delivered")
    body = alert.get_body(("plain",)).get_content()
    assert f"{TWO_ADDRESSES}: recipient '{TWO_ADDRESSES}' is not one e-mail address" in body
    assert "the next scheduled run is sent to it" in body and "quire deliver --retry" in body
    assert not [m for m in smtp.messages if "first@example.com" in m["X-Envelope-To"] or "first@" in (m["To"] or "")]



@pytest.mark.slow
def test_a_client_without_contact_is_published_and_its_owner_told(make_env, state_url, smtp, settings_for,
                                                                   tiny_warehouse, tmp_path):
    path = tmp_path / "no-contact.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("UPDATE clients SET contact_email = NULL WHERE slug = 'village-of-summerbrook'")
    settings = settings_for(make_env(CATALOG, state_url, smtp.port, QUIRE_WAREHOUSE_URL=f"duckdb:///{path}"))
    runner = Runner(settings, open_state(state_url), "test-runner", scheduler=None)
    try:
        spec = load_catalog(settings.catalog_path).get("clientmail")
        run_id = run_once(runner, spec, {"client": "village-of-summerbrook"}, "village-of-summerbrook")
    finally:
        runner.stop()
    assert history.get(runner.engine, run_id)["status"] == "succeeded"
    # No row for "nan" (how pandas reads the missing address): the owner's alert is the only e-mail.
    rows = _rows(runner.engine, run_id)
    assert list(rows) == ["owner@example.com"] and rows["owner@example.com"]["kind"] == "alert"
    [alert] = smtp.messages
    assert alert["To"] == "owner@example.com" and alert["Subject"].endswith("report not delivered")
    assert "its client, who has no contact_email in the warehouse" in alert.get_body(("plain",)).get_content()


def _published(engine, settings, tmp_path, record, *, report="board", recipients=None) -> str:
    """A succeeded run with a published folder and its outbox rows (``recipients``: extra rows, in this order)."""
    run_id = history.create(engine, report=report, parameters={"period": "2026-10"}, trigger="schedule", worker="t")
    folder = tmp_path / "outputs" / report / "2026-11-30" / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(record if isinstance(record, str) else json.dumps(record))
    (folder / "report.pdf").write_bytes(b"%PDF-1.7 test\n")
    history.mark_running(engine, run_id)
    spec = load_catalog(settings.catalog_path).get(report)
    rows = [(r, "report") for r in recipients] if recipients is not None else recipients_for(spec, "succeeded", None,
                                                                                              settings)
    history.finish(engine, run_id, "succeeded", output_folder=str(folder), deliveries=rows)
    return run_id


@pytest.fixture
def setup(make_env, state_url, smtp, settings_for):
    env = make_env(CATALOG, state_url, smtp.port)
    return env, settings_for(env), open_state(state_url)


def test_quire_deliver_fails_each_bad_e_mail_with_its_reason_and_sends_the_others(setup, smtp, tmp_path):
    env, settings, engine = setup
    title = {"title": "Board\r\npack", "period": "October\n2026", "headline": []}
    # Oldest first: rows that cannot be built come before the good ones.
    corrupt = _published(engine, settings, tmp_path, "[]")  # a run.json that is not a record
    mixed = _published(engine, settings, tmp_path, title,
                       recipients=["board@example.com\r\nBcc: intruder@example.net", "a[/x]@example.com, b@example.com",
                                   "ceo@example.com"])
    proc = run_quire(env, "deliver")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    failures = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(failures) == 4, proc.stderr  # two corrupt-run reports, two bad recipients; one line each
    assert sum("unexpected AttributeError" in line for line in failures) == 2
    assert sum("is not one e-mail address" in line for line in failures) == 2
    assert any("board@example.com\\r\\nBcc: intruder@example.net" in line for line in failures)  # shown escaped

    # The good rows after them were sent; the bad ones are failed with their reason, none left claimed.
    assert "sent to ceo@example.com" in proc.stdout
    ceo = [m for m in smtp.messages if m["To"] == "ceo@example.com" and m["X-Report-Run"] == mixed]
    assert len(ceo) == 1 and ceo[0]["Subject"] == "Board pack — October 2026"
    for run_id in (corrupt, mixed):
        for row in _rows(engine, run_id).values():
            assert row["status"] in ("sent", "failed") and row["claimed_by"] is None
            assert (row["status"] == "failed") == bool(row["last_error"])
    # The owner heard of each run's failures, once per run, with every reason.
    alerts = {m["X-Report-Run"]: m for m in smtp.messages if m["X-Report-Kind"] == "alert"}
    assert set(alerts) == {corrupt, mixed} and all(m["To"] == "cfo@example.com" for m in alerts.values())
    body = alerts[mixed].get_body(("plain",)).get_content()
    assert body.count("is not one e-mail address") == 2 and "Bcc" not in str(alerts[mixed]["Subject"])
    assert not [m for m in smtp.messages if "intruder" in m["X-Envelope-To"]]
    again = run_quire(env, "deliver").stdout.splitlines()
    assert again[:2] == ["nothing to deliver", "4 e-mail(s) failed earlier and are tried again only with --retry:"]


def test_an_alert_is_queued_once_per_run_even_when_delivered_again(setup, smtp, tmp_path):
    env, settings, engine = setup
    run_id = _published(engine, settings, tmp_path, {"title": "Board pack"}, recipients=[TWO_ADDRESSES])
    deliver_pending(engine, settings, claimer="a")
    assert run_quire(env, "deliver", "--retry").returncode == 1  # still two addresses
    assert [m["To"] for m in smtp.messages] == ["cfo@example.com"]  # one alert, not one per attempt
    assert outbox_rows.add(engine, run_id, "cfo@example.com", "alert") is None


def test_an_absurdly_long_contact_fails_its_row_not_the_runs_record(make_env, state_url, smtp, settings_for,
                                                                      tiny_warehouse, tmp_path):
    """The outbox column holds 320 characters: a longer contact must not make the run's end state unrecordable."""
    path = tmp_path / "long.duckdb"
    contact = "x" * 390 + "@example.com"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("UPDATE clients SET contact_email = ? WHERE slug = 'town-of-fairdale'", [contact])
    settings = settings_for(make_env(CATALOG, state_url, smtp.port, QUIRE_WAREHOUSE_URL=f"duckdb:///{path}"))
    engine = open_state(state_url)
    spec = load_catalog(settings.catalog_path).get("clientmail")
    run_id = history.create(engine, report="clientmail", parameters={"client": "town-of-fairdale"},
                            client="town-of-fairdale", trigger="schedule", worker="t")
    folder = tmp_path / "outputs" / "clientmail" / "2026-11-30" / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"title": "Client mail test", "client_name": "Town of Fairdale"}))
    history.mark_running(engine, run_id)
    history.finish(engine, run_id, "succeeded", output_folder=str(folder),
                   deliveries=recipients_for(spec, "succeeded", "town-of-fairdale", settings))
    assert history.get(engine, run_id)["status"] == "succeeded"
    result = deliver_pending(engine, settings, claimer="a")
    assert len(result.failed) == 1 and len(result.sent) == 1
    rows = _rows(engine, run_id)
    [refused] = [r for r in rows.values() if r["kind"] == "report"]
    assert refused["status"] == "failed" and "is not one e-mail address" in refused["last_error"]
    assert [m["To"] for m in smtp.messages] == ["owner@example.com"]
