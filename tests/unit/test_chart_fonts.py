"""The charts' font lookups: remembered per text, always the files matplotlib itself would pick."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.font_manager import FontManager, FontProperties

from quire.chart_style import SCRIPT_FALLBACK_FONTS, font_families


def _matplotlibs_own(prop: FontProperties) -> list[str]:
    """What matplotlib's font manager answers without the remembering (the class's own method)."""
    return FontManager._find_fonts_by_props(font_manager.fontManager, prop)


def _lookup(prop: FontProperties) -> list[str]:
    return font_manager.fontManager._find_fonts_by_props(prop)


STACKS = ("Inter, 'Helvetica Neue', Arial, sans-serif", "Georgia, serif", "DejaVu Sans", "'Noto Sans Thai', sans-serif")


@pytest.mark.parametrize("stack", STACKS)
def test_every_text_gets_the_files_matplotlib_would_pick(stack):
    families = [*font_families(stack), "sans-serif"]
    with matplotlib.rc_context({"font.family": families, "font.sans-serif": font_families(stack)}):
        for weight in ("normal", "bold"):
            for style in ("normal", "italic"):
                for size in (8, 9.5, 11):
                    prop = FontProperties(family=families, weight=weight, style=style, size=size)
                    first, again = _lookup(prop), _lookup(prop.copy())
                    assert first == again == _matplotlibs_own(prop), (stack, weight, style, size)


def test_a_text_of_another_size_scores_no_font_again(monkeypatch):
    # A run forked from the warm server inherits its lookups; charts draw bold text in sizes the rehearsal may not
    # have (a client's "you" label at 8.5 pt), and each new size used to score every installed font again.
    scored = []
    own = font_manager.fontManager.findfont
    monkeypatch.setattr(font_manager.fontManager, "findfont", lambda *a, **k: scored.append(a[0]) or own(*a, **k))
    families = ["DejaVu Sans", "sans-serif"]
    # An rc value no other test sets: these lookups are new to both caches whatever ran before in this process.
    with matplotlib.rc_context({"font.cursive": ["Quire Size Test Cursive"]}):
        first = _lookup(FontProperties(family=families, weight="bold", size=7.25))
        assert scored, "the first lookup of these properties scores the fonts"
        scored.clear()
        props = [FontProperties(family=families, weight="bold", size=size) for size in (8.5, 13, "x-large")]
        found = [_lookup(prop) for prop in props]
        assert scored == [], "a text of a new size scored the fonts again"
        assert found == [first] * 3 == [_matplotlibs_own(prop) for prop in props]


def test_a_changed_rc_parameter_changes_the_answer():
    installed = {f.name for f in font_manager.fontManager.ttflist}
    other = next((name for name in SCRIPT_FALLBACK_FONTS if name in installed), None)
    if other is None:
        pytest.skip("no script fallback font installed (.ci/system-packages.sh installs them)")
    generic = FontProperties(family=["sans-serif"])
    answers = []
    for sans in (["DejaVu Sans"], [other], ["DejaVu Sans"]):
        with matplotlib.rc_context({"font.sans-serif": sans}):
            answers.append(_lookup(generic))
            assert answers[-1] == _matplotlibs_own(generic)
    assert answers[0] != answers[1] and answers[0] == answers[2]


def test_a_font_added_after_a_lookup_is_found(tmp_path: Path):
    # DejaVu Sans under a family name nothing else has: looked up before it exists, then added.
    font = TTFont(font_manager.findfont("DejaVu Sans"))
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = "Quire Test Sans"
    path = tmp_path / "QuireTestSans.ttf"
    font.save(path)
    prop = FontProperties(family=["Quire Test Sans", "DejaVu Sans"])
    before = _lookup(prop)
    assert str(path) not in map(str, before)
    font_manager.fontManager.addfont(str(path))
    try:
        after = _lookup(prop)
        assert str(after[0]) == str(path) and after == _matplotlibs_own(prop)
    finally:
        font_manager.fontManager.ttflist[:] = [f for f in font_manager.fontManager.ttflist if f.fname != str(path)]
        font_manager.fontManager._findfont_cached.cache_clear()
