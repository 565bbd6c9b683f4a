"""Delivery of finished runs: a small :class:`Deliverer` base class and a registry (DESIGN convention 4).

A deliverer sends one composed :class:`Message` to one recipient. It raises
:class:`~quire.errors.DeliveryError` with ``transient=True`` when trying again later may
help (SMTP 4xx, server unreachable) and ``transient=False`` when it will not (5xx).
Who receives what, and the outbox bookkeeping, live in :mod:`quire.delivery.outbox`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from quire.config import Settings
from quire.errors import ConfigError


@dataclass(frozen=True)
class Message:
    """One e-mail to one recipient; ``message_id`` (the Message-ID's left part) is stable per (run, recipient) so a
    resend can be recognised."""

    recipient: str
    subject: str
    text: str
    html: str
    message_id: str
    attachments: tuple[Path, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)


class Deliverer(ABC):
    """Sends messages through one channel."""

    name: ClassVar[str]

    def __init__(self, settings: Settings, stop: threading.Event | None = None) -> None:
        self.settings = settings
        # Set when the service is stopping: no new attempt starts and backoff waits end at once.
        self.stop = stop or threading.Event()

    def check(self) -> None:
        """Raise :class:`~quire.errors.ConfigError` if this channel is not configured (nothing is claimed then)."""

    @abstractmethod
    def send(self, message: Message) -> None:
        """Send ``message`` or raise :class:`~quire.errors.DeliveryError`."""


DELIVERERS: dict[str, type[Deliverer]] = {}


def register(cls: type[Deliverer]) -> type[Deliverer]:
    """Class decorator: make a deliverer available by its ``name``."""
    DELIVERERS[cls.name] = cls
    return cls


def get_deliverer(name: str, settings: Settings, stop: threading.Event | None = None) -> Deliverer:
    """An instance of the deliverer ``name`` (giving up between attempts once ``stop`` is set); a
    :class:`ConfigError` lists the known ones."""
    import quire.delivery.smtp  # noqa: F401  (imported for its side effect: it registers itself)

    try:
        return DELIVERERS[name](settings, stop)
    except KeyError:
        raise ConfigError(f"unknown deliverer {name!r}; available: {', '.join(DELIVERERS)}") from None


__all__ = ["DELIVERERS", "Deliverer", "Message", "get_deliverer", "register"]
