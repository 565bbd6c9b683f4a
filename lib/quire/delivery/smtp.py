"""E-mail through an SMTP server with :mod:`smtplib` (``QUIRE_SMTP_*`` settings).

4xx replies and an unreachable server are transient: tenacity retries them with
exponential backoff (``smtp_attempts``, ``smtp_backoff_seconds``) before the error is
reported as transient; 5xx replies are permanent and reported at once.
"""

from __future__ import annotations

import mimetypes
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from quire.delivery import Deliverer, Message, register
from quire.errors import ConfigError, DeliveryError


def build_email(message: Message, sender: str) -> EmailMessage:
    """The MIME message: plain text, an HTML alternative, attachments."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message.message_id
    for name, value in message.headers.items():
        mail[name] = value
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    for path in message.attachments:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, sub = kind.split("/", 1)
        mail.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return mail


def _classify(exc: Exception) -> DeliveryError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, exc.smtp_error
    else:  # refused connection, timeout, dropped connection: the server may come back
        return DeliveryError(f"SMTP server unreachable: {exc}", transient=True)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return DeliveryError(f"SMTP {code}: {text}", transient=400 <= code < 500, code=code)


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
            stop=stop_after_attempt(s.smtp_attempts),
            wait=wait_exponential(multiplier=s.smtp_backoff_seconds, max=max(s.smtp_backoff_seconds * 16, 1)),
            retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and e.transient),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._send_once(mail, message.recipient)

    def _send_once(self, mail: EmailMessage, recipient: str) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
                smtp.send_message(mail, to_addrs=[recipient])
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from None
