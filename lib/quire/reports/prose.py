"""Pieces of the reports' English prose that more than one report writes."""

from __future__ import annotations


def join_words(words: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
