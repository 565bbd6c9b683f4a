"""Money, percentages and plain numbers in the run's conventions, written by Babel.

Babel (the Unicode CLDR's data) decides the digits, separators, the currency symbol and where
it goes: ``$1,234.56`` in en-US, ``1.234,56 €`` in de-DE, ``1 234,56 €`` in fr-FR. Quire adds
its house rules on top, the same in every locale:

* the value is rounded first, to the precision shown, and *that* decides the sign: a value
  that rounds to zero is written unsigned ("0.0%", "$0", never "−0.0%");
* a negative value gets the typographic minus "−" (U+2212), wherever the locale puts its sign;
  a ``signed`` value gets "+" in the same place ("+$1,200", "+1.200 €");
* a missing value (None, NaN, ±inf) is "—".
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import (NumberPattern, get_currency_precision, get_currency_symbol, get_minus_sign_symbol,
                           get_plus_sign_symbol)

from quire.formatting.conventions import DEFAULT_LOCALE, babel_locale, current

MISSING = "—"
MINUS = "\u2212"  # the typographic minus of every report, chart and table
NBSP = "\u00a0"
_BIDI_MARKS = "\u200e\u200f\u061c"
_THOUSANDS = "K"  # CLDR's English abbreviation; Quire writes the SI prefix "k" ("$98.5k"), as it always has


def finite_or_none(value: Any) -> float | None:
    """``value`` as a plain float, or None when it is missing (None, NaN, ±inf)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


#: Significant digits a figure keeps where it is written as data (run.json, the CSV and XLSX files).
SIGNIFICANT_DIGITS = 12


def as_data(number: float) -> float | int:
    """``number`` without its binary noise, for data files: a sum's 243901.90999999997 is 243901.91
    (12 significant digits keep cents exact below ten billion); a whole number is an int, so a count
    held in a float column reads "29" in a CSV, not "29.0"."""
    figure = float(f"{number:.{SIGNIFICANT_DIGITS}g}")
    return int(figure) if figure.is_integer() and abs(figure) < 10 ** SIGNIFICANT_DIGITS else figure


def _rounded(number: float, decimals: int) -> Decimal:
    """``number`` rounded as Python rounds it (the float's exact value), as an exact Decimal for Babel."""
    return Decimal(repr(round(number, decimals)))


@lru_cache(maxsize=512)
def _pattern(tag: str, kind: str, decimals: int) -> NumberPattern:
    """The locale's standard pattern for ``kind`` (decimal, percent, currency) with exactly ``decimals`` decimals."""
    locale = babel_locale(tag)
    base = {"decimal": locale.decimal_formats[None], "percent": locale.percent_formats[None],
            "currency": locale.currency_formats["standard"]}[kind]
    pattern = copy.copy(base)
    pattern.frac_prec = (decimals, decimals)
    return pattern


def _signed(rounded: Decimal, render: Callable[[Decimal], str], *, plus: bool) -> str:
    """``render`` of the rounded value with Quire's signs, placed where the locale puts its minus."""
    if rounded == 0:
        return render(Decimal(0))
    if rounded > 0 and not plus:
        return render(rounded)
    locale = babel_locale(current().locale)
    minus = get_minus_sign_symbol(locale).strip(_BIDI_MARKS) or "-"
    sign = MINUS if rounded < 0 else (get_plus_sign_symbol(locale).strip(_BIDI_MARKS) or "+")
    return render(-abs(rounded)).replace(minus, sign, 1)


def _spaced(text: str, symbol: str) -> str:
    """CLDR's currency spacing, which Babel leaves out: a no-break space between a code such as "CHF" and a digit."""
    if symbol[-1:].isalpha():
        text = re.sub(f"({re.escape(symbol)})(?=[0-9])", "\\1" + NBSP, text)
    if symbol[:1].isalpha():
        text = re.sub(f"(?<=[0-9])({re.escape(symbol)})", NBSP + "\\1", text)
    return text


def _write(number: float, kind: str, decimals: int, *, signed: bool, scale: int = 0, currency: str | None = None) -> str:
    conventions = current()
    locale = babel_locale(conventions.locale)
    pattern = _pattern(conventions.locale, kind, decimals)
    rounded = _rounded(number * 10**scale, decimals)
    text = _signed(rounded, lambda v: pattern.apply(v.scaleb(-scale), locale, currency=currency, currency_digits=False),
                   plus=signed)
    return _spaced(text, get_currency_symbol(currency, locale)) if currency else text


def money(value: Any, decimals: int = 0, *, signed: bool = False, currency: str | None = None,
          beyond_minor_units: bool = False) -> str:
    """Money in the run's currency: ``$1,234`` (en-US), ``1.234 €`` (de-DE, EUR); ``decimals=2`` keeps cents.

    ``currency`` overrides the run's (an ISO code). Amounts are written with no more decimals than
    the currency's minor units (none for JPY), unless ``beyond_minor_units``: an average of fractions
    of a cent per user ($0.0043) is no amount anyone paid, and "$0.00" would hide it.
    """
    number = finite_or_none(value)
    if number is None:
        return MISSING
    code = currency or current().currency
    places = decimals if beyond_minor_units else min(decimals, get_currency_precision(code))
    return _write(number, "currency", places, signed=signed, currency=code)


def percent(fraction: Any, decimals: int = 1, *, signed: bool = False) -> str:
    """A fraction as a percentage: 0.123 → ``12.3%`` (en-US), ``12,3 %`` (de-DE)."""
    number = finite_or_none(fraction)
    return MISSING if number is None else _write(number, "percent", decimals, signed=signed, scale=2)


def agreeing_decimals(before: float, after: float, difference: float, decimals: int, *, scale: float = 1.0,
                      most: int = 2) -> int:
    """The fewest decimals, from ``decimals`` up to ``decimals + most``, at which two figures and their difference
    read alike as printed: 8.05 % and 8.14 % at one decimal read "8.1% against 8.1%" beside "+0.1 pts"; at two,
    "8.05% against 8.14%" beside "+0.09 pts". A difference that is not 0 must not read as 0 either: 10.00 % and
    10.04 % agree at one decimal with a difference of "0.0", which says they are the same; at two they read
    "10.00% against 10.04%" beside "+0.04 pts". ``scale``: 100 for fractions shown as percentages."""
    for places in range(decimals, decimals + most + 1):
        a, b, d = (_rounded(v * scale, places) for v in (before, after, difference))  # as the formatters round
        if b - a == d and (d != 0 or difference == 0):
            return places
    return decimals + most


def ordered_decimals(before: float, after: float, difference: float, decimals: int, *, scale: float = 1.0,
                     most: int = 2) -> int:
    """The fewest decimals, from ``decimals`` up to ``decimals + most``, at which two figures read in the order they
    are (two that differ never read alike: "8.1% against 8.1%" of 8.05 % and 8.14 %) and a difference that is not 0
    does not read 0. Unlike :func:`agreeing_decimals` the printed difference may be one step of the last decimal off
    the printed figures' own, as any rounding leaves it. ``scale``: 100 for fractions shown as percentages."""
    order = (after > before) - (after < before)
    for places in range(decimals, decimals + most + 1):
        a, b, d = (_rounded(v * scale, places) for v in (before, after, difference))
        if (b > a) - (b < a) == order and (d != 0 or difference == 0):
            return places
    return decimals + most


def worth_decimals(low: float, high: float, decimals: int, *, scale: float = 1.0, most: int = 2,
                   steps: int = 1000) -> int:
    """The most decimals, from ``decimals`` up to ``decimals + most``, worth writing of figures known only within
    ``low`` to ``high`` (an interval): as long as its width spans no more than ``steps`` steps of the last decimal.
    An interval of −1.755 to +72.101 pts spans 739 steps of 0.1 and 7,390 of 0.01: "+26.1 pts" says what is known,
    "+26.075 pts" adds two digits of noise. One of −0.18 to +3.68 pts is narrow enough for "+1.75". An interval
    that is not known (not finite) limits nothing."""
    width = abs(high - low) * scale
    if not math.isfinite(width) or width == 0:
        return decimals + most
    return max(decimals, min(decimals + most, math.floor(math.log10(steps / width))))


def shares_rounded(fractions: Any, decimals: int = 0) -> list[float | None]:
    """Shares of one whole rounded to ``decimals`` decimals of a percent so that they add up to 100 % (largest
    remainder): 0.069, 0.066 and 0.865 at whole percents are 0.07, 0.07 and 0.86, not 0.07 + 0.07 + 0.87 = 101 %.
    Missing values stay None."""
    figures = [finite_or_none(f) for f in fractions]
    known = [i for i, f in enumerate(figures) if f is not None]
    steps = 100 * 10 ** decimals  # steps of the shown precision in a whole
    exact = [figures[i] * steps for i in known]
    whole = [math.floor(e) for e in exact]
    total = round(sum(exact))
    for i in sorted(range(len(known)), key=lambda j: whole[j] - exact[j])[:max(0, total - sum(whole))]:
        whole[i] += 1
    rounded = dict(zip(known, whole, strict=True))
    return [rounded[i] / steps if i in rounded else None for i in range(len(figures))]


def shares_percent(fractions: Any, decimals: int = 0) -> list[str]:
    """Shares of one whole as percentages that add up to 100 % (:func:`shares_rounded`): 0.069, 0.066 and
    0.865 read 7 %, 7 % and 86 %, not 7 + 7 + 87 = 101 %. Missing values stay missing."""
    return [MISSING if f is None else percent(f, decimals) for f in shares_rounded(fractions, decimals)]


def number(value: Any, decimals: int = 0, *, signed: bool = False) -> str:
    """A plain number with ``decimals`` decimals: ``1,234.5`` (en-US), ``1.234,5`` (de-DE), ``1 234,5`` (fr-FR)."""
    figure = finite_or_none(value)
    return MISSING if figure is None else _write(figure, "decimal", decimals, signed=signed)


def counted(value: Any, noun: str, plural: str | None = None) -> str:
    """A whole count and its noun, singular for one: "1 view", "3,784 views", "1 content item"."""
    return f"{number(value)} {noun if value == 1 else plural or noun + 's'}"


def percentage_points(fraction: Any, decimals: int = 1, *, signed: bool = True) -> str:
    """A difference of two percentages, given as a fraction: 0.012 → ``+1.2 pts``."""
    figure = finite_or_none(fraction)
    return MISSING if figure is None else _points(number(figure * 100, decimals, signed=signed))


def score_points(value: Any, decimals: int = 0, *, signed: bool = True) -> str:
    """Score points (NPS, a health score's change): 4 → ``+4 pts``."""
    figure = finite_or_none(value)
    return MISSING if figure is None else _points(number(figure, decimals, signed=signed))


def _points(figure: str) -> str:
    """``figure`` with its unit: "+4 pts", "+1.0 pts", but one whole point is "−1 pt"."""
    return figure + (" pt" if figure.lstrip("+-" + MINUS) == "1" else " pts")


def significant(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, trailing zeros dropped: 0.01234 → ``0.0123``, 1.50 → ``1.5``."""
    figure = finite_or_none(value)
    if figure is None:
        return MISSING
    exact = Decimal(f"{figure:.{digits}g}").normalize()
    return number(float(exact), max(0, -exact.as_tuple().exponent))


def exact(value: Any) -> str:
    """A number with every decimal Python writes for it (``1234.5678`` → ``1,234.5678``), in the run's locale."""
    figure = finite_or_none(value)
    if figure is None:
        return MISSING
    text = repr(abs(value)) if isinstance(value, int) and not isinstance(value, bool) else repr(abs(figure))
    decimals = len(text.partition(".")[2]) if "e" not in text.lower() else 6
    return number(figure, 0 if isinstance(value, int) or text.endswith(".0") else min(decimals, 15))


#: A figure in prose written the en-US way: "1,000", "2.5", "95%", "10.0%" (not a bare "2026", left as it is)
_PROSE_FIGURE = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(%)?(?!\w)")


def localise_figures(text: str) -> str:
    """The figures of fixed prose written with en-US conventions ("1,000 views", "p < 0.05", "95%") rewritten
    as the run writes figures ("1.000 views", "p < 0,05", "95 %" in de-DE); other text is left as it is."""
    if current().locale == DEFAULT_LOCALE:
        return text

    def rewrite(found: re.Match) -> str:
        whole, fraction, percent_sign = found.groups()
        if "," not in whole and not fraction and not percent_sign:
            return found[0]
        value, decimals = float(whole.replace(",", "") + "." + (fraction or "0")), len(fraction or "")
        return percent(value / 100, decimals) if percent_sign else number(value, decimals)

    return _PROSE_FIGURE.sub(rewrite, text)


# -- compact figures for chart labels --------------------------------------------------------

@lru_cache(maxsize=256)
def _compact(tag: str, kind: str, magnitude: float) -> tuple[int, NumberPattern | None]:
    """(divisor, pattern) of the locale's short compact form for numbers of ``magnitude``.

    ``(1, None)`` when the locale writes such numbers in full: below a thousand everywhere,
    and e.g. below a million in German ("98.500 €", CLDR has no "Tsd." in its short form).
    """
    locale = babel_locale(tag)
    formats = (locale.compact_currency_formats if kind == "currency" else locale.compact_decimal_formats)["short"]["other"]
    reached = [key for key in formats if magnitude >= int(key)]
    if not reached:
        return 1, None
    key = max(reached, key=int)
    pattern = formats[key]
    written_in_full = set(pattern.pattern) <= {"0"} or "0" not in pattern.pattern
    if written_in_full or (kind == "currency" and "¤" not in pattern.pattern):
        return 1, None
    divisor = int(key) // 10 ** (pattern.pattern.count("0") - 1)
    house = copy.copy(pattern)
    # "¤00K" says how many digits numbers of this magnitude have, not a minimum: an axis that shares the
    # abbreviation of its largest tick writes its smaller ticks "$6k", never "$06k".
    house.int_prec = (1, house.int_prec[1])
    if locale.language == "en":
        house.prefix = tuple(p.replace(_THOUSANDS, "k") for p in pattern.prefix)
        house.suffix = tuple(s.replace(_THOUSANDS, "k") for s in pattern.suffix)
    return divisor, house


def compact_parts(kind: str, magnitude: float) -> tuple[int, NumberPattern | None]:
    """The abbreviation the run's locale uses for ``magnitude`` (``kind``: ``currency`` or ``decimal``)."""
    return _compact(current().locale, kind, float(abs(magnitude)))


def _short_decimals(scaled: float, decimals: int | None) -> int:
    # One decimal when it says something ("$98.5k"), none when it would be ".0" ("$98k").
    if decimals is not None:
        return decimals
    return 1 if round(scaled, 1) != round(scaled) else 0


def compact_decimals(value: Any, kind: str) -> int:
    """The decimals :func:`compact` gives ``value`` by default (1 for "$98.5k", 0 for "$98k" and "$950"), so that
    labels shown together can share the most any of them needs."""
    figure = finite_or_none(value)
    if figure is None:
        return 0
    divisor, pattern = compact_parts(kind, figure)
    return 0 if pattern is None else _short_decimals(figure / divisor, None)


def compact(value: Any, kind: str, *, decimals: int | None = None, scale_of: float | None = None,
            signed: bool = False) -> str:
    """``value`` abbreviated as the run's locale abbreviates it: ``$98.5k``, ``$1.2M`` / ``98.500 €``, ``1,2 Mio. €``.

    ``kind`` is ``currency`` (the run's currency) or ``decimal`` (a count: ``1.2k``). ``decimals``
    defaults to one decimal unless it would be ".0"; ``scale_of`` picks the abbreviation from
    another magnitude (the largest tick of an axis, so the whole axis shares one suffix).
    """
    figure = finite_or_none(value)
    if figure is None:
        return MISSING
    divisor, pattern = compact_parts(kind, figure if scale_of is None else scale_of)
    if pattern is None:
        small_fraction = kind != "currency" and abs(figure) < 10 and not figure.is_integer()
        whole = decimals if decimals is not None else (1 if small_fraction else 0)
        return money(figure, whole, signed=signed) if kind == "currency" else number(figure, whole, signed=signed)
    conventions = current()
    scaled = figure / divisor
    places = _short_decimals(scaled, decimals)
    shaped = copy.copy(pattern)
    shaped.frac_prec = (places, places)
    # Grouped as plain numbers are: a total put in a smaller move's unit reads "$1,125.3M", not "$1125.3M".
    shaped.grouping = (3, 3)
    code = conventions.currency if kind == "currency" else None
    locale = babel_locale(conventions.locale)
    text = _signed(_rounded(scaled, places), lambda v: shaped.apply(v, locale, currency=code, currency_digits=False),
                   plus=signed)
    return _spaced(text, get_currency_symbol(code, locale)) if code else text


def currency_affixes() -> tuple[str, str]:
    """What the run's locale writes before and after a positive amount of its currency: ``("$", "")``, ``("", " €")``."""
    conventions = current()
    locale = babel_locale(conventions.locale)
    pattern = _pattern(conventions.locale, "currency", 0)
    symbol = get_currency_symbol(conventions.currency, locale)
    prefix, suffix = (part[0].replace("¤", symbol) for part in (pattern.prefix, pattern.suffix))
    return prefix, suffix


def currency_symbol() -> str:
    """The run's currency symbol in its locale: ``$``, ``€``, ``£``, ``CHF``."""
    conventions = current()
    return get_currency_symbol(conventions.currency, babel_locale(conventions.locale))


def not_zero(write: Callable[[int], str], value: float, decimals: int, extra: int = 3) -> str:
    """``write(decimals)``, with up to ``extra`` decimals more where a figure that is not 0 would read as 0.

    An interval's bound just under zero written "0.0 pts" hides that the interval crosses it; "−0.04 pts" does not.
    """
    text = write(decimals)
    for more in range(1, extra + 1):
        if not value or any(ch in "123456789" for ch in text):
            break
        text = write(decimals + more)
    return text


__all__ = ["MISSING", "MINUS", "agreeing_decimals", "ordered_decimals", "worth_decimals",
           "counted", "finite_or_none", "money", "not_zero", "percent", "shares_percent", "shares_rounded", "number",
           "percentage_points", "score_points", "significant", "exact", "localise_figures", "compact",
           "compact_decimals", "compact_parts", "currency_affixes", "currency_symbol"]
