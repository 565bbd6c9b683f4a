"""Text made to fit: cut where a reader sees a character end (never inside an emoji sequence or before a combining
mark), and a name made a key (``Café Zürich`` → ``cafe-zurich``)."""

from __future__ import annotations

import re
import unicodedata

ZWJ = "\u200d"


def _joined(ch: str) -> bool:
    """Whether ``ch`` belongs to the character before it: a combining mark, a joiner, a variation selector, a skin tone."""
    return (unicodedata.combining(ch) > 0 or ch == ZWJ or "\ufe00" <= ch <= "\ufe0f"
            or "\U0001f3fb" <= ch <= "\U0001f3ff" or unicodedata.category(ch) == "Mn")


def _regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def grapheme_cut(text: str, index: int) -> int:
    """The nearest place at or before ``index`` where ``text`` may be cut: not inside "👨‍👩‍👧", "é" written as e and
    a mark, or a flag (two regional indicators)."""
    index = max(0, min(index, len(text)))
    while 0 < index < len(text) and (_joined(text[index]) or text[index - 1] == ZWJ):
        index -= 1
    run = 0
    while index - run > 0 and _regional(text[index - run - 1]):
        run += 1
    return index - 1 if run % 2 else index  # a cut after half a flag leaves a lone letter


#: Explicit direction embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI). A name never
#: needs them (its letters carry their own direction), and one left open in a name turns the report's text after it
#: around ("…yreV emaN gnoL"). The marks (LRM, RLM, ALM) change no text but their neighbours', and stay.
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_direction_controls(text: str) -> str:
    """``text`` without :data:`DIRECTION_CONTROLS`, so that it cannot reverse the text it is put into."""
    return DIRECTION_CONTROLS.sub("", text)


def wide(ch: str) -> bool:
    """Whether ``ch`` takes two columns (East Asian wide or full-width: 東, Ｗ)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


#: What a client slug or an experiment key must look like: it names runs and their folders
#: (``-p client=…``, ``…-<slug>`` run ids), so the parameters check and the data contracts accept nothing else.
KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
#: Letters no accent-stripping makes ASCII, spelt out in slugs ("Ærø Shipping" → aero-shipping, not r-shipping).
SLUG_LETTERS = {"æ": "ae", "ø": "o", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}


def slug(text: str) -> str:
    """``text`` as a key: lower-case letters, digits and dashes, at most 80 characters ("" when nothing is left)."""
    text = text.lower()
    for letter, spelt in SLUG_LETTERS.items():
        text = text.replace(letter, spelt)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80].strip("-")


__all__ = ["DIRECTION_CONTROLS", "SLUG_LETTERS", "grapheme_cut", "slug", "wide", "without_direction_controls"]
