"""Keep ``quire serve``'s token out of its log.

Tornado writes the request URI into its access lines and into the warnings and
tracebacks of failed requests (``GET /x?token=… (127.0.0.1)``, ``HTTPServerRequest(uri=…)``),
and a server's log is read by more people than the token is meant for. Every log
record of this process is redacted when it is created — its message, and the text of
an attached traceback — so no handler, whoever installed it, can write the token out.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[secret]"
#: Any ``token=`` query value (the right token, or a wrong one a visitor typed) up to the next separator.
_TOKEN_PARAM = re.compile(r"(token=)[^&\s'\"<>]+", re.IGNORECASE)


class _Secret:
    """The token being redacted, and whether the record factory is in place (installed once per process)."""

    token = ""
    installed = False


def redact(text: str, token: str) -> str:
    """``text`` with every ``token=…`` value and every occurrence of ``token`` replaced."""
    text = _TOKEN_PARAM.sub(r"\1" + REDACTED, text)
    return text.replace(token, REDACTED) if token else text


def _redact_record(record: logging.LogRecord, token: str) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: the handler will report it; leave it as it is
        return
    cleaned = redact(message, token)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, token)


def redact_token_in_logs(token: str) -> None:
    """From now on, redact ``token`` (and any ``token=`` value) from every log record of this process."""
    _Secret.token = token
    if _Secret.installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record, _Secret.token)
        return record

    logging.setLogRecordFactory(factory)
    _Secret.installed = True
