"""Text cut for room (the PDF's running title, a long word in a table cell) is cut where a character ends."""

from __future__ import annotations

import pytest

from quire.display import breakable
from quire.formatting.text import grapheme_cut
from quire.pdf.pages import TITLE_EM_MM, _title_font, fitted, shortened

FAMILY = "👨\u200d👩\u200d👧\u200d👦"


@pytest.mark.parametrize("text,index,cut", [
    ("ab" + FAMILY + "xy", 4, 2),        # inside the family: before it
    ("ab" + FAMILY + "xy", 9, 9),        # after it
    ("x🇩🇪🇫🇷y", 2, 1), ("x🇩🇪🇫🇷y", 3, 3),  # half a flag is a lone letter
    ("cafe\u0301", 4, 3),                # e and its accent stay together
])
def test_a_cut_never_splits_what_reads_as_one_character(text, index, cut):
    assert grapheme_cut(text, index) == cut


def test_the_running_title_is_cut_by_its_width_not_its_letters():
    # 58 bold W's printed over the period though 59 characters "fitted"; a title of i's may run longer.
    wide_title, narrow_title = fitted("Report: " + "W" * 58, 115), fitted("Report: " + "i" * 120, 115)
    font = _title_font()
    for title in (wide_title, narrow_title):
        assert title.endswith("…") and font.getlength(title) / 100 * TITLE_EM_MM <= 115
    assert len(narrow_title) > len(wide_title) + 20
    assert fitted("Performance report · Town of Fairdale", 115) == "Performance report · Town of Fairdale"
    assert fitted("東" * 80, 115).count("東") <= 115 / TITLE_EM_MM  # a wide character is a full em
    assert not fitted("Report " + "x" * 60 + "🇩🇪🇫🇷", 115).endswith("🇩…")
    assert shortened("ab" + FAMILY, 4) == "ab…"
    # A CR/LF in a client's name: the font's layout engine refused it and failed the run.
    assert fitted("Town of Fairdale\r\nBcc: intruder@example.net " + "x" * 80, 115).endswith("…")


def test_a_long_word_breaks_between_characters_not_inside_one():
    assert str(breakable(FAMILY * 4)).split("<wbr>") == [FAMILY] * 4
    assert str(breakable("A" * 30)).split("<wbr>") == ["A" * 12, "A" * 12, "A" * 6]
