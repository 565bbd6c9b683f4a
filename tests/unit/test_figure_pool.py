"""Blank spare figures (quire.figure_pool): taken only where they are what pyplot would build, and drawn alike.

The end-to-end proof (runs forked from a rehearsed server take the spares and publish byte for byte
what runs without them publish, every report type) is in tests/batch/test_rehearsal.py.
"""

from __future__ import annotations

from collections import Counter
from functools import partial

import matplotlib
import matplotlib.pyplot as plt
import pytest

from quire import figure_pool
from quire.brand import load_brand
from quire.chart_style import figure_svg, use_brand
from quire.figure_pool import expect, make_spares, next_report, recording, subplots


@pytest.fixture(autouse=True)
def _no_spares(monkeypatch):
    monkeypatch.setattr(figure_pool, "_spares", {})
    monkeypatch.setattr(figure_pool, "_shapes", {})
    monkeypatch.setattr(figure_pool, "_ticks", {})
    monkeypatch.setattr(figure_pool, "_expected", Counter())  # what the report modules imported so far expect
    with matplotlib.rc_context():
        yield
    plt.close("all")


def _rehearse(*figures: dict) -> None:
    """Ask for ``figures`` (subplots keywords) as a rehearsed report would; no spares are taken meanwhile."""
    for kwargs in figures:
        fig, _ = subplots(**kwargs)
        plt.close(fig)


def _spare_ids() -> set[int]:
    return {id(fig) for kept in figure_pool._spares.values() for fig, _ in kept}


def _chart(fig, axes) -> bytes:
    for ax, values in zip(axes, ([3, 1, 2], [10, 40, 20]), strict=True):
        ax.plot(values, label="this period")
        ax.set_title("Views per day", loc="left")
    fig.legend(loc="upper center")
    return figure_svg(fig)


def test_a_spare_is_taken_only_for_the_same_figure_in_the_same_style():
    quire, harbor = load_brand("quire"), load_brand("harbor")
    with recording():
        _rehearse({"nrows": 1, "ncols": 2, "figsize": (8, 3), "sharey": True}, {"figsize": (6, 2)})
        assert not _spare_ids(), "nothing is built while the rehearsal asks"
        assert make_spares([partial(use_brand, quire)]) == 2
    spares = _spare_ids()

    use_brand(quire)
    fig, axes = subplots(1, 2, figsize=(7.5, 2.5), sharey=True)
    assert id(fig) in spares and len(axes) == 2 and axes[0].get_shared_y_axes().joined(axes[0], axes[1])
    assert tuple(fig.get_size_inches()) == (7.5, 2.5), "the size asked for, not the spare's"
    assert all(plt.figure(number) is not fig for number in plt.get_fignums()), "not one a cell would show"
    assert type(fig.canvas) is type(plt.figure().canvas), "the canvas a new figure of this backend has"
    again, _ = subplots(1, 2, figsize=(7.5, 2.5), sharey=True)
    assert id(again) not in spares, "one spare of each figure the rehearsal asked for once"
    other, _ = subplots(1, 2, figsize=(7.5, 2.5))
    assert id(other) not in spares, "another grid (not shared)"

    use_brand(harbor)
    branded, _ = subplots(figsize=(6, 2))
    assert id(branded) not in spares, "another brand's colours and fonts"
    use_brand(quire)
    single, _ = subplots(figsize=(6, 2))
    assert id(single) in spares


def test_spares_are_counted_per_report_not_over_the_rehearsal():
    with recording():
        _rehearse({"figsize": (6, 2)}, {"figsize": (6, 2)})
        next_report()
        _rehearse({"figsize": (6, 2)})
        assert make_spares([lambda: None]) == 2


def test_a_figure_the_rehearsal_never_asks_for_is_spared_when_a_chart_module_expects_it():
    expect(3, 1, squeeze=False)
    expect(3, 1, squeeze=False)
    with recording():
        _rehearse({"figsize": (6, 2)})
        assert make_spares([lambda: None]) == 2, "one of each"
    spares = _spare_ids()
    fig, axes = subplots(3, 1, figsize=(6, 3), squeeze=False)
    assert id(fig) in spares and axes.shape == (3, 1)


def test_nothing_is_spared_outside_a_rehearsal():
    expect(1, 1)
    _rehearse({"figsize": (6, 2)})
    assert make_spares([lambda: None]) == 0
    fig, _ = subplots(figsize=(6, 2))
    assert fig.number in plt.get_fignums()


def test_a_chart_drawn_on_a_spare_is_the_chart_drawn_on_a_new_figure():
    kit = load_brand("northwind")
    use_brand(kit)
    fresh = _chart(*subplots(1, 2, figsize=(8, 3), sharex=True))
    with recording():
        _rehearse({"nrows": 1, "ncols": 2, "figsize": (5, 5), "sharex": True})
        make_spares([partial(use_brand, kit)])
    spares = _spare_ids()
    fig, axes = subplots(1, 2, figsize=(8, 3), sharex=True)
    assert id(fig) in spares
    assert _chart(fig, axes) == fresh


def test_spares_are_built_in_the_style_of_the_first_kits_and_a_broken_kit_is_left_out(tmp_path):
    import shutil

    from quire.batch.rehearsal import SPARE_BRANDS, _brand_styles
    from quire.config import get_settings

    kits = tmp_path / "templates" / "brands"
    for n in range(SPARE_BRANDS + 2):
        shutil.copytree(get_settings().templates_dir / "brands" / "harbor", kits / f"kit{n:02d}")
    (kits / "kit00" / "brand.yaml").write_text("name: [unclosed\n")
    styles = _brand_styles(get_settings().model_copy(update={"home": tmp_path}))
    assert [style.args[0].key for style in styles] == [f"kit{n:02d}" for n in range(1, SPARE_BRANDS)]


def _styled_chart(fig, axes, values) -> bytes:
    """A chart that changes its ticks after the figure is made, as the report charts do."""
    for ax in axes:
        ax.barh([f"row {n}" for n in range(len(values))], values)
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0, labelsize=7)
    axes[1].set_xticks([0, 10, 20, 30])
    return figure_svg(fig, fixed_layout=True)


def test_a_spare_comes_with_the_ticks_its_rehearsed_chart_drew_and_draws_the_same_chart():
    kit = load_brand("harbor")
    use_brand(kit)
    shape = {"nrows": 1, "ncols": 2, "sharey": True}
    many, few = [5, 30, 12, 7, 19, 26, 3, 22], [4, 9]
    fresh = {len(v): _styled_chart(*subplots(figsize=(8, 3), **shape), v) for v in (many, few)}

    def ticks(axes) -> tuple:
        return tuple((len(ax.xaxis.majorTicks), len(ax.yaxis.majorTicks)) for ax in axes)

    with recording():
        drawn = []
        for values in (few, many):
            fig, axes = subplots(figsize=(5, 5), **shape)
            _styled_chart(fig, axes, values)
            drawn.append(ticks(axes))
        assert make_spares([partial(use_brand, kit)]) == 2
    spares = _spare_ids()
    floor = figure_pool.TICKS_AT_LEAST
    most = tuple((max(a[0], b[0], floor), max(a[1], b[1], floor)) for a, b in zip(*drawn, strict=True))
    assert max(max(axis) for axis in most) > floor, "a chart drew more ticks than a spare has at least"
    assert {ticks(axes) for kept in figure_pool._spares.values() for _, axes in kept} == {most}, \
        "each axis of a spare has the most ticks the rehearsed charts drew on it, and at least the floor"
    for values in (many, few):  # a chart with as many rows as rehearsed, and one with fewer
        fig, axes = subplots(1, 2, figsize=(8, 3), sharey=True)
        assert id(fig) in spares
        assert _styled_chart(fig, axes, values) == fresh[len(values)]
