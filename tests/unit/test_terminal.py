"""What the terminal is given: data shown as text, never acted on."""

from __future__ import annotations

import pytest

from quire.terminal import visible


@pytest.mark.parametrize("text,shown", [
    ("Evil \x1b[31mRED\x1b[0m", "Evil \\x1b[31mRED\\x1b[0m"),  # colour
    ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),                   # window title
    ("a\nb\r\tc", "a\\nb\\r\\tc"),                                # one line stays one line
    ("\u202eevil", "\\u202eevil"),                                # reorders what follows
    ("\x9b2J", "\\x9b2J"),                                        # a C1 control sequence introducer
    ("Ac\u200bme", "Ac\\u200bme"),                                # lists exactly like "Acme"…
    ("Acme\u2060", "Acme\\u2060"),                                # …as does a word joiner
    ("\ufeffAcme", "\\ufeffAcme"),                                # or a byte-order mark
])
def test_what_a_terminal_would_act_on_is_written_out(text, shown):
    assert visible(text) == shown


@pytest.mark.parametrize("text", ["Town\u00a0of Fairdale", "👨\u200d👩\u200d👧", "Café Zürich", "東京"])
def test_text_a_terminal_shows_is_kept(text):
    # A no-break space (French and German exports) and an emoji's joiner read as "\xa0" and "\u200d".
    assert visible(text) == text
