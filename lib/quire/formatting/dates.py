"""Dates in the run's locale, written by Babel: "5 November 2026", "November 2026", "Q4 2026".

Each style is a CLDR skeleton, so every locale orders and spells it its own way ("5. November
2026" in de-DE, "5 novembre 2026" in fr-FR). The default locale, en-US, keeps the day-first
forms Quire's reports have always used ("5 November 2026" rather than CLDR's "November 5, 2026").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date, format_interval, format_skeleton

from quire.formatting.conventions import DEFAULT_LOCALE, babel_locale, current
from quire.formatting.numbers import MISSING

#: style -> (CLDR skeleton for any locale, the pattern Quire's en-US reports use)
STYLES: dict[str, tuple[str, str]] = {
    "day": ("yMMMMd", "d MMMM y"),          # 5 November 2026
    "day_month": ("MMMMd", "d MMMM"),       # 5 November
    "day_month_short": ("MMMd", "d MMM"),   # 5 Nov
    "day_short": ("yMMMd", "d MMM y"),      # 5 Nov 2026
    "month": ("yMMMM", "MMMM y"),           # November 2026
    "month_name": ("MMMM", "MMMM"),         # November
    "month_abbr": ("MMM", "MMM"),           # Nov
    "month_short": ("yMMM", "MMM y"),       # Nov 2026
    "quarter": ("yQQQ", "QQQ y"),           # Q4 2026
}


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp (NaT has no date)
        if value != value:
            return None
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"not a date: {value!r}")


def format_day(value: Any, style: str = "day") -> str:
    """``value`` (a date, datetime or pandas Timestamp) in ``style`` of :data:`STYLES`; missing → "—"."""
    day = _day(value)
    if day is None:
        return MISSING
    skeleton, house = STYLES[style]
    tag = current().locale
    if tag == DEFAULT_LOCALE:
        return format_date(day, house, locale=babel_locale(tag))
    return format_skeleton(skeleton, day, locale=babel_locale(tag))


def day_span(first: Any, last: Any) -> str:
    """The days ``first`` to ``last`` without the year: "3–9 Nov", "28 Oct–3 Nov" (de-DE "3.–9. Nov.").

    One day alone is "3 Nov".
    """
    a, b = _day(first), _day(last)
    if a is None or b is None:
        return MISSING
    if a == b:
        return format_day(a, "day_month_short")
    tag = current().locale
    if tag == DEFAULT_LOCALE:
        start = str(a.day) if (a.year, a.month) == (b.year, b.month) else format_day(a, "day_month_short")
        return f"{start}–{format_day(b, 'day_month_short')}"
    return format_interval(a, b, "MMMd", locale=babel_locale(tag))


def long_date(value: Any) -> str:
    """"5 November 2026" / "5. November 2026"."""
    return format_day(value, "day")


def month_year(value: Any) -> str:
    """"November 2026" / "novembre 2026"."""
    return format_day(value, "month")


def short_month_year(value: Any) -> str:
    """"Nov 2026" / "Nov. 2026"."""
    return format_day(value, "month_short")


def quarter_year(value: Any) -> str:
    """The quarter ``value`` falls in: "Q4 2026" / "T4 2026" (fr-FR)."""
    return format_day(value, "quarter")


__all__ = ["STYLES", "format_day", "day_span", "long_date", "month_year", "short_month_year", "quarter_year"]
