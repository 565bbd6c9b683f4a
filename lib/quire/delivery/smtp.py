"""E-mail through an SMTP server with :mod:`smtplib` (``QUIRE_SMTP_*`` settings).

4xx replies and an unreachable server are transient: tenacity retries them with
exponential backoff (``smtp_attempts``, ``smtp_backoff_seconds``) before the error is
reported as transient; 5xx replies, what the server does not support (SMTPUTF8, STARTTLS) and a
message the server received without confirming it (it may deliver it) are permanent and reported at once.
"""

from __future__ import annotations

import email.errors
import email.policy
import mimetypes
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_when_event_set, wait_exponential

from quire.delivery import Deliverer, Message, register
from quire.delivery.headers import header_text, one_recipient, printable
from quire.errors import ConfigError, DeliveryError


def build_email(message: Message, sender: str) -> EmailMessage:
    """The MIME message: plain text, an HTML alternative, attachments; a permanent DeliveryError if it cannot be built.

    Every header value is made one line (:func:`~quire.delivery.headers.header_text`) and
    the recipient must be exactly one address, so no data can add a header or a recipient.
    """
    recipient = one_recipient(message.recipient)
    # The id's domain is the sender's: a white-label client's e-mail names the agency that sends it, nobody else.
    domain = sender.rpartition("@")[2].strip("<> ") or "localhost"
    try:
        mail = EmailMessage(policy=email.policy.SMTP)
        headers = {"From": sender, "To": recipient, "Subject": message.subject, "Date": formatdate(usegmt=True),
                   "Message-ID": f"<{message.message_id}@{domain}>", **message.headers}
        for name, value in headers.items():
            mail[header_text(name)] = header_text(value, limit=998)  # RFC 5322's line limit, for ids and addresses
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        for path in message.attachments:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            main, sub = kind.split("/", 1)
            mail.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    except OSError as exc:
        raise DeliveryError(f"cannot attach {exc.filename or 'a file'}: {exc.strerror or exc}",
                            transient=False) from None
    except (ValueError, TypeError, LookupError, email.errors.MessageError) as exc:
        raise DeliveryError(f"cannot build the e-mail to {recipient}: {printable(exc)}", transient=False) from None
    return mail


def _classify(exc: Exception) -> DeliveryError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, exc.smtp_error
    elif isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(exc, smtplib.SMTPException):
        # refused connection, timeout, dropped connection: the server may come back
        return DeliveryError(f"SMTP server unreachable: {exc}", transient=True)
    else:  # e.g. SMTPNotSupportedError: a non-ASCII address and a server without SMTPUTF8; trying again will not help
        # (every SMTPException is an OSError: tested before the catch-all above, this branch was never reached)
        return DeliveryError(f"SMTP: {printable(exc)}", transient=False)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return DeliveryError(f"SMTP {code}: {text}", transient=400 <= code < 500, code=code)


class _Session(smtplib.SMTP):
    """An SMTP session that knows when the whole message has gone out (its closing ``.`` line sent)."""

    message_sent = False

    def send(self, s: str | bytes) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):  # a command never ends so; a message always does
            self.message_sent = True


@register
class SmtpDeliverer(Deliverer):
    """One SMTP session per e-mail (a report mail is rare and large; no connection to keep alive)."""

    name = "smtp"

    def check(self) -> None:
        if not self.settings.smtp_host:
            raise ConfigError("e-mail delivery needs an SMTP server", hint="set QUIRE_SMTP_HOST (and QUIRE_SMTP_PORT)")

    def send(self, message: Message) -> None:
        """Send with retries on transient failures; raise :class:`DeliveryError` when it gives up."""
        self.check()
        s = self.settings
        mail = build_email(message, s.smtp_from)
        retrying = Retrying(
            stop=stop_after_attempt(s.smtp_attempts) | stop_when_event_set(self.stop),
            wait=wait_exponential(multiplier=s.smtp_backoff_seconds, max=max(s.smtp_backoff_seconds * 16, 1)),
            sleep=self.stop.wait,  # a stopping service does not sit out the backoff
            retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and e.transient),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._send_once(mail, str(mail["To"]))

    def _send_once(self, mail: EmailMessage, recipient: str) -> None:
        s = self.settings
        smtp: _Session | None = None
        try:
            with _Session(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
                smtp.send_message(mail, to_addrs=[recipient])
        except (smtplib.SMTPException, OSError) as exc:
            error = _classify(exc)
            answered = isinstance(exc, smtplib.SMTPResponseException)  # a 4xx to the message: not taken
            if error.transient and not answered and smtp is not None and smtp.message_sent:
                # The server has the whole message but did not say it took it (a timeout, a dropped connection):
                # it may well deliver it. Sent again, the recipient got a copy per try; the operator decides.
                raise DeliveryError(f"the SMTP server received the e-mail but did not confirm it ({printable(exc)}); "
                                    "it may have been delivered, so it is not sent again by itself (check with the "
                                    "recipient or the server's log; `quire deliver --retry` sends it again)",
                                    transient=False) from None
            raise error from None
