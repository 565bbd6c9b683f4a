"""Text that goes into an e-mail's headers, and the one address each e-mail is sent to.

Header values come from data — a client's name from the warehouse, a report title, a
period — and a CR or LF in one would end the header (the ``email`` library refuses to
build such a message; an older one would have let a ``Bcc:`` ride along). Every value is
made one line of printable text here. A recipient is one mailbox: a ``contact_email``
holding "a@x, b@y" is refused with the reason, never put in ``To:``.
"""

from __future__ import annotations

import unicodedata
from email.utils import getaddresses

from email_validator import EmailNotValidError, validate_email

from quire.errors import DeliveryError
from quire.terminal import visible

HEADER_LIMIT = 300  # characters of one header value (a subject longer than this is not read anyway)
_LINE_BREAKING = {"Cc", "Zl", "Zp"}  # control characters, LINE SEPARATOR, PARAGRAPH SEPARATOR


def header_text(value: object, limit: int = HEADER_LIMIT) -> str:
    """``value`` as one line of text for a header: control characters become spaces, runs of space one."""
    text = "".join(" " if unicodedata.category(c) in _LINE_BREAKING else c for c in str(value))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def printable(value: object, limit: int = 120) -> str:
    """``value`` for a one-line message or log: control characters shown escaped (``\\r\\n``), long text cut."""
    text = visible(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def one_recipient(value: str) -> str:
    """The single e-mail address ``value`` holds, normalised; a permanent :class:`DeliveryError` otherwise.

    Exactly one plain address (``name@example.com``): no list, no display name, no
    control character. Deliverability (DNS) is the mail server's business, not checked here.
    """
    if not isinstance(value, str):
        raise DeliveryError(f"recipient {value!r} is not an e-mail address", transient=False)
    # Only pieces with an @ are addresses: "[/]omar@example.org" splits into "/" and the address, which is one
    # malformed address (validate_email says why), not "2 addresses".
    listed = [addr for _, addr in getaddresses([value]) if "@" in addr]
    try:
        if len(listed) > 1:
            raise EmailNotValidError(f"it holds {len(listed)} addresses")
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        raise DeliveryError(f"recipient '{printable(value)}' is not one e-mail address ({reason}); "
                            "give exactly one address, e.g. name@example.com", transient=False) from None
