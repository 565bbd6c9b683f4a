"""Delivery through a real SMTP server: recipients per run, 4xx retried with backoff, 5xx reported, once per recipient."""

from __future__ import annotations

import json
import os
import socket

import pytest
import sqlalchemy as sa
from sched_support import CATALOG_HEAD, client_report

from quire.catalog import load_catalog
from quire.delivery.outbox import deliver_pending, recipients_for
from quire.state import open_state
from quire.state import runs as history
from quire.state.schema import outbox
from support import run_quire

CATALOG = CATALOG_HEAD + client_report() + (
    "  board:\n    title: Board pack\n    notebook: notebooks/ok.ipynb\n    description: d\n    owner: cfo@example.com\n"
    "    recipients: [board@example.com, ceo@example.com]\n"
    "    parameters:\n      client: {type: str}\n      period: {type: period}\n      delay: {type: float}\n")


@pytest.fixture
def setup(make_env, state_url, smtp, settings_for, tmp_path):
    env = make_env(CATALOG, state_url, smtp.port)
    settings = settings_for(env)
    return env, settings, open_state(state_url)


def _published_run(engine, settings, tmp_path, report="board") -> str:
    """A succeeded run with a published folder (run.json + PDF) and its outbox rows, as the service leaves it."""
    run_id = history.create(engine, report=report, parameters={"period": "2026-10"}, trigger="schedule", worker="t")
    folder = tmp_path / "outputs" / report / "2026-11-30" / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"title": "Board pack", "period": "October 2026", "client": None,
                                                 "headline": [{"label": "MRR", "value": 125000.0, "unit": "currency"}]}))
    (folder / "report.pdf").write_bytes(b"%PDF-1.7 test\n")
    spec = load_catalog(settings.catalog_path).get(report)
    history.mark_running(engine, run_id)
    history.finish(engine, run_id, "succeeded", output_folder=str(folder),
                   deliveries=recipients_for(spec, "succeeded", None, settings))
    return run_id


def _rows(engine, run_id):
    with engine.connect() as conn:
        return {r["recipient"]: dict(r) for r in conn.execute(sa.select(outbox).where(outbox.c.run_id == run_id)).mappings()}


def test_recipients_belong_to_the_run(setup, tiny_warehouse):
    _, settings, _ = setup
    catalog = load_catalog(settings.catalog_path)
    client_spec, board = catalog.get("clientmail"), catalog.get("board")
    from quire.delivery.outbox import client_contact

    fairdale = client_contact("town-of-fairdale", settings)
    assert fairdale and fairdale != client_contact("village-of-summerbrook", settings)
    assert recipients_for(client_spec, "succeeded", "town-of-fairdale", settings) == [(fairdale, "report")]
    # No address for the client (none found, or none given): its owner is told instead.
    assert recipients_for(client_spec, "succeeded", "no-such-client", settings) == [("owner@example.com", "alert")]
    # A failed run never reaches the client: only its owner, as an alert.
    assert recipients_for(client_spec, "failed", "town-of-fairdale", settings) == [("owner@example.com", "alert")]
    assert recipients_for(board, "timed_out", None, settings) == [("cfo@example.com", "alert")]
    assert recipients_for(board, "succeeded", None, settings) == [("board@example.com", "report"), ("ceo@example.com", "report")]


def test_each_recipient_gets_one_mail_however_often_delivery_runs(setup, smtp, tmp_path):
    _, settings, engine = setup
    run_id = _published_run(engine, settings, tmp_path)
    first = deliver_pending(engine, settings, claimer="a")
    again = deliver_pending(engine, settings, claimer="b")
    assert len(first.sent) == 2 and not again
    assert sorted(m["To"] for m in smtp.messages) == ["board@example.com", "ceo@example.com"]
    mail = smtp.messages[0]
    assert mail["Subject"] == "Board pack — October 2026" and "MRR: $125,000" in mail.get_body(("plain",)).get_content()
    assert {r["status"] for r in _rows(engine, run_id).values()} == {"sent"}
    # The outbox itself refuses a second row for the same run and recipient.
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(outbox.insert().values(run_id=run_id, recipient="board@example.com", kind="report",
                                            status="pending", attempts=0, created_at=history.utcnow()))


def test_smtp_4xx_is_retried_with_backoff_then_sent(setup, smtp, tmp_path):
    _, settings, engine = setup
    smtp.replies.extend(["451 4.3.0 mailbox busy, try later"] * 2)
    run_id = _published_run(engine, settings, tmp_path)
    result = deliver_pending(engine, settings, claimer="a")
    assert len(result.sent) == 2 and not result.failed
    assert smtp.attempts == 4 and len(smtp.messages) == 2  # 2 refused + 2 accepted
    assert {r["status"] for r in _rows(engine, run_id).values()} == {"sent"}


def test_smtp_4xx_that_persists_is_reported_and_deliver_retry_sends_later(setup, smtp, tmp_path):
    env, settings, engine = setup
    smtp.always = "451 4.3.0 try again later"
    run_id = _published_run(engine, settings, tmp_path)
    result = deliver_pending(engine, settings, claimer="a")
    # Both reports, then the owner's alert about them (the same server refuses it too).
    assert len(result.failed) == 3 and smtp.attempts == 3 * settings.smtp_attempts and not smtp.messages
    rows = _rows(engine, run_id)
    assert {r["status"] for r in rows.values()} == {"failed"} and "SMTP 451" in rows["board@example.com"]["last_error"]
    assert rows["cfo@example.com"]["kind"] == "alert"
    # Reported by the CLI too, in one line each, exit code 1.
    proc = run_quire(env, "deliver", "--retry")
    assert proc.returncode == 1 and proc.stderr.count("SMTP 451") == 3 and "Traceback" not in proc.stderr
    smtp.always = None  # the server is back: the reports go out, and the owner's alert about them is moot
    proc = run_quire(env, "deliver", "--retry")
    assert proc.returncode == 0 and proc.stdout.count("sent to") == 2
    assert run_quire(env, "deliver").stdout.strip() == "nothing to deliver"
    assert sorted(m["To"] for m in smtp.messages) == ["board@example.com", "ceo@example.com"]
    assert set(_rows(engine, run_id)) == {"board@example.com", "ceo@example.com"}
    # In UTC, said so: "-0000" means "zone unknown" (RFC 5322, 3.3).
    assert all(m["Date"].endswith((" GMT", " +0000")) for m in smtp.messages), [m["Date"] for m in smtp.messages]


def test_smtp_5xx_is_reported_at_once_and_not_resent(setup, smtp, tmp_path):
    env, settings, engine = setup
    smtp.always = "550 5.1.1 no such mailbox"
    run_id = _published_run(engine, settings, tmp_path)
    result = deliver_pending(engine, settings, claimer="a")
    assert len(result.failed) == 3 and smtp.attempts == 3  # one attempt each (the owner's alert too): a 5xx is final
    rows = _rows(engine, run_id)
    assert all(r["status"] == "failed" and r["attempts"] == 1 and "SMTP 550" in r["last_error"] for r in rows.values())
    smtp.always = None
    # Failed stays failed without --retry, and the command says so and how to send them.
    lines = run_quire(env, "deliver").stdout.strip().splitlines()
    assert lines[:2] == ["nothing to deliver", "3 e-mail(s) failed earlier and are tried again only with --retry:"]
    assert lines[2] == f"  board@example.com ({run_id}): SMTP 550: 5.1.1 no such mailbox", lines
    assert len(lines) == 6 and "quire deliver --retry" in lines[-1] and not smtp.messages


def test_a_server_that_stores_the_mail_but_confirms_too_late_gets_it_once(make_env, state_url, smtp, settings_for,
                                                                          tmp_path):
    # It stored each try and answered after the client's timeout: the recipient got one copy per try (4 by default),
    # and the owner was told it had failed. Sent again, it may be a copy; the operator decides (--retry).
    env = make_env(CATALOG, state_url, smtp.port, QUIRE_SMTP_TIMEOUT="1", QUIRE_SMTP_ATTEMPTS="3")
    settings, engine = settings_for(env), open_state(state_url)
    smtp.confirm_after = 2.5
    run_id = _published_run(engine, settings, tmp_path)
    result = deliver_pending(engine, settings, claimer="a")
    received = smtp.by_run()  # the reports, and the owner's alert about them: each once
    assert set(received.values()) == {1} and {(run_id, "board@example.com"), (run_id, "ceo@example.com")} <= set(received)
    rows = _rows(engine, run_id)
    assert {rows[r]["attempts"] for r in ("board@example.com", "ceo@example.com")} == {1}, rows
    assert "received the e-mail but did not confirm it" in rows["board@example.com"]["last_error"]
    assert "it may have been delivered" in rows["board@example.com"]["last_error"] and len(result.failed) >= 2


def test_what_the_server_does_not_support_fails_at_once_with_its_reason(make_env, state_url, smtp, settings_for):
    # STARTTLS asked of a server without it (or a non-ASCII address of one without SMTPUTF8) was "SMTP server
    # unreachable", tried 4 times over 16 s: trying again cannot help.
    from quire.delivery import Message
    from quire.delivery.smtp import SmtpDeliverer
    from quire.errors import DeliveryError

    settings = settings_for(make_env(CATALOG, state_url, smtp.port, QUIRE_SMTP_STARTTLS="true"))
    with pytest.raises(DeliveryError) as raised:
        SmtpDeliverer(settings).send(Message("board@example.com", "Report", "text", "<p>html</p>", "id-1"))
    assert not raised.value.transient and "unreachable" not in str(raised.value), raised.value
    assert "STARTTLS" in str(raised.value) and smtp.attempts == 0


def test_one_address_written_several_ways_gets_one_e_mail(setup, smtp, tmp_path):
    # Spaces around it, or "ö" composed or not: three copies and two, each with its own Message-ID.
    import unicodedata
    from types import SimpleNamespace

    _, settings, engine = setup
    jorg = "jörg@example.com"
    spec = SimpleNamespace(owner="cfo@example.com", recipients=(
        "board@example.com", " board@example.com", "board@example.com ", "Board@Example.com",
        unicodedata.normalize("NFC", jorg), unicodedata.normalize("NFD", jorg), "not an address"))
    deliveries = recipients_for(spec, "succeeded", None, settings)
    run_id = history.create(engine, report="board", parameters={"period": "2026-10"}, trigger="schedule", worker="t")
    history.mark_running(engine, run_id)
    history.finish(engine, run_id, "succeeded", output_folder=str(tmp_path), deliveries=deliveries)
    assert sorted(_rows(engine, run_id)) == ["board@example.com", unicodedata.normalize("NFC", jorg), "not an address"]


def test_deliver_retry_without_an_smtp_server_changes_nothing(setup, smtp, tmp_path):
    # It said "e-mail delivery needs an SMTP server" after setting every failed e-mail back to pending, and the
    # next scheduler start sent them without anyone asking again.
    env, settings, engine = setup
    smtp.always = "550 5.1.1 no such mailbox"
    run_id = _published_run(engine, settings, tmp_path)
    deliver_pending(engine, settings, claimer="a")
    before = {k: r["status"] for k, r in _rows(engine, run_id).items()}
    assert set(before.values()) == {"failed"}
    proc = run_quire({k: v for k, v in env.items() if k != "QUIRE_SMTP_HOST"}, "deliver", "--retry")
    assert proc.returncode == 2 and "needs an SMTP server" in proc.stderr and "Traceback" not in proc.stderr
    assert {k: r["status"] for k, r in _rows(engine, run_id).items()} == before


def test_an_owner_among_the_recipients_gets_the_alert_about_another_recipient(make_env, state_url, smtp, settings_for,
                                                                             tmp_path):
    # The shipped catalog names the owner among the recipients: the alert about board@ collided with the owner's own
    # report e-mail (one outbox row per run and recipient) and was never queued.
    catalog = CATALOG.replace("owner: cfo@example.com", "owner: ceo@example.com")
    settings = settings_for(make_env(catalog, state_url, smtp.port))
    engine = open_state(state_url)
    run_id = _published_run(engine, settings, tmp_path)
    smtp.replies.append("550 5.1.1 no such mailbox")  # board@, the first e-mail; the rest go through
    result = deliver_pending(engine, settings, claimer="a")
    assert len(result.failed) == 1 and len(result.sent) == 2, result
    sent = sorted((m["To"], m["X-Report-Kind"]) for m in smtp.messages)
    assert sent == [("ceo@example.com", "alert"), ("ceo@example.com", "report")], sent
    alert = next(m for m in smtp.messages if m["X-Report-Kind"] == "alert")
    assert "board@example.com" in alert.get_body(("plain",)).get_content() and alert["X-Report-Run"] == run_id
    assert len({m["Message-ID"] for m in smtp.messages}) == 2  # two messages, not one sent twice


def test_smtp_server_down_is_retried_then_reported(make_env, state_url, settings_for, tmp_path):
    from sched_support import free_port

    settings = settings_for(make_env(CATALOG, state_url, free_port()))  # nothing listens on this port
    engine = open_state(state_url)
    run_id = _published_run(engine, settings, tmp_path)
    result = deliver_pending(engine, settings, claimer="a")
    assert len(result.failed) == 3 and not result.sent  # the two reports and the owner's alert
    assert all("unreachable" in r["last_error"] and r["status"] == "failed" for r in _rows(engine, run_id).values())


def test_quire_deliver_says_when_another_sender_holds_the_e_mails(setup, smtp, tmp_path):
    from quire.state import outbox as rows

    env, settings, engine = setup
    run_id = _published_run(engine, settings, tmp_path)
    sender = f"{socket.gethostname()}:{os.getpid()}:abcdef"  # a live process: a scheduler sending them right now
    for row in rows.pending(engine, run_id):
        assert rows.claim(engine, row["id"], sender)
    proc = run_quire(env, "deliver")
    assert proc.returncode == 0 and "nothing to deliver" not in proc.stdout and not smtp.messages
    assert f"2 e-mail(s) are being sent by another process ({sender})" in proc.stdout
    rows.release(engine, sender)  # that scheduler stopped cleanly: they are anyone's to send
    proc = run_quire(env, "deliver")
    assert proc.returncode == 0 and proc.stdout.count("sent to") == 2
