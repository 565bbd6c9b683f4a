"""Whose conventions a run writes its figures in: a locale (``de-DE``) and a currency (``EUR``).

A run sets its :class:`Conventions` once — a report's ``build()`` from its brand kit or the
client's own override, the house-style cell of ``quire run`` from the brand kit — with
:func:`use`; every formatter reads :func:`current`, so no formatting call carries them as
arguments. Without any, figures are written as Quire always wrote them: ``en-US`` and ``USD``.

:func:`use` sets a context variable *and* the process-wide default: IPython may run a later
cell, and ipywidgets a callback, in a fresh context, where only the process-wide value is
seen. Code that formats for several tenants in one process wraps each in :func:`using`,
which sets the context variable only and restores it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from babel import Locale, localedata
from babel.core import parse_locale
from babel.numbers import is_currency

DEFAULT_LOCALE = "en-US"
DEFAULT_CURRENCY = "USD"
LOCALE_HELP = "write a language and region such as en-US, en-GB, de-DE or fr-FR"
CURRENCY_HELP = "write an ISO 4217 code such as USD, EUR, GBP or CHF"


def parse_locale_tag(text: Any) -> str:
    """``text`` as a locale tag Babel knows, written ``de-DE``; a ValueError says what to write instead.

    ``de_DE``, ``de-de`` and ``de`` are accepted; a region Babel does not know for the language
    is an error (Babel itself would quietly fall back to another region).
    """
    value = str(text or "").strip()
    try:
        language, territory, script, variant = parse_locale(value.replace("-", "_"))[:4]
    except ValueError:
        raise ValueError(f"{value!r} is not a locale; {LOCALE_HELP}") from None
    parts = [language.lower(), script.title() if script else None, territory.upper() if territory else None,
             variant.upper() if variant else None]
    identifier = "_".join(p for p in parts if p)
    if not localedata.exists(identifier):
        raise ValueError(f"{value!r} is not a locale Quire knows; {LOCALE_HELP}")
    return identifier.replace("_", "-")


def parse_currency_code(text: Any) -> str:
    """``text`` as an ISO 4217 currency code (``eur`` → ``EUR``); a ValueError says what to write instead."""
    value = str(text or "").strip().upper()
    if not is_currency(value):
        raise ValueError(f"{str(text)!r} is not a currency code; {CURRENCY_HELP}")
    return value


#: What to write instead, per kind of convention (a contract column's ``convention``).
CONVENTION_HELP = {"locale": LOCALE_HELP, "currency": CURRENCY_HELP}


def unreadable(values: Iterable[Any], convention: str) -> list[Any]:
    """Those of ``values`` that are no ``locale`` or ``currency`` (``convention``) the formatting can use."""
    parse = parse_locale_tag if convention == "locale" else parse_currency_code
    bad = []
    for value in values:
        try:
            parse(value)
        except ValueError:
            bad.append(value)
    return bad


@lru_cache(maxsize=64)
def babel_locale(tag: str) -> Locale:
    """The Babel :class:`~babel.Locale` of a tag from :func:`parse_locale_tag`."""
    return Locale.parse(tag.replace("-", "_"))


@dataclass(frozen=True)
class Conventions:
    """A locale and a currency, validated and normalised on creation (``de_de`` → ``de-DE``, ``eur`` → ``EUR``)."""

    locale: str = DEFAULT_LOCALE
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        object.__setattr__(self, "locale", parse_locale_tag(self.locale))
        object.__setattr__(self, "currency", parse_currency_code(self.currency))

    @property
    def babel(self) -> Locale:
        return babel_locale(self.locale)

    def to_dict(self) -> dict[str, str]:
        """``{"locale": …, "currency": …}``, as a run records them."""
        return {"locale": self.locale, "currency": self.currency}


DEFAULT = Conventions()
_context: ContextVar[Conventions | None] = ContextVar("quire_formatting_conventions", default=None)
_process_default = DEFAULT


def current() -> Conventions:
    """The conventions figures are written in here and now (see the module's docstring)."""
    return _context.get() or _process_default


def use(conventions: Conventions) -> Conventions:
    """Write this run's figures in ``conventions`` from now on (a kernel, a report build); returns them."""
    global _process_default
    _process_default = conventions
    _context.set(conventions)
    return conventions


@contextmanager
def using(conventions: Conventions) -> Iterator[Conventions]:
    """Write figures in ``conventions`` inside the ``with`` block only (one tenant among several)."""
    token = _context.set(conventions)
    try:
        yield conventions
    finally:
        _context.reset(token)


def _given(value: Any) -> str | None:
    """A set override from a data row: text that is not blank; None, NaN and "" mean "not set"."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def for_brand(brand: Any, client: Mapping[str, Any] | None = None) -> Conventions:
    """The conventions of a run in ``brand`` (a :class:`~quire.brand.Brand`), overridden by ``client``'s own.

    ``client`` is the client's warehouse row (a mapping or pandas Series) with the optional
    ``locale`` and ``currency`` columns; a missing or empty value keeps the brand's. A value
    that is no locale or currency raises :class:`~quire.errors.WarehouseDataError` naming the client and the column.
    """
    locale = getattr(brand, "locale", DEFAULT_LOCALE)
    currency = getattr(brand, "currency", DEFAULT_CURRENCY)
    if client is not None:
        for column in ("locale", "currency"):
            value = _given(client.get(column))
            if value is None:
                continue
            try:
                parsed = parse_locale_tag(value) if column == "locale" else parse_currency_code(value)
            except ValueError as exc:
                from quire.errors import WarehouseDataError

                who = client.get("slug") or client.get("name") or "of this run"
                # Data to correct, not a database that is away: no retry; a fan-out leaves this client out.
                raise WarehouseDataError(f"client {who}: its {column} in the warehouse's clients table: {exc}") from None
            locale, currency = (parsed, currency) if column == "locale" else (locale, parsed)
    return Conventions(locale, currency)


def from_record(record: Mapping[str, Any] | None) -> Conventions:
    """The conventions a run recorded (``run.json``, a report's metadata), or the default when it recorded none."""
    record = record or {}
    try:
        return Conventions(record.get("locale") or DEFAULT_LOCALE, record.get("currency") or DEFAULT_CURRENCY)
    except ValueError:
        return DEFAULT


__all__ = ["Conventions", "DEFAULT", "DEFAULT_LOCALE", "DEFAULT_CURRENCY", "current", "use", "using", "for_brand",
           "from_record", "parse_locale_tag", "parse_currency_code", "babel_locale", "CONVENTION_HELP", "unreadable"]
