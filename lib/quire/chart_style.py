"""One chart look per brand, and the one way a figure becomes a report chart.

:func:`use_brand` sets matplotlib/seaborn defaults from a :class:`~quire.brand.Brand`
(palette, fonts, sizes that stay readable when a chart is scaled to half a page, a
light horizontal grid, no top/right spines). :func:`to_chart` turns a finished figure
into a :class:`~quire.display.Chart` holding *reproducible* SVG: the same data gives the
same bytes, so executed notebooks diff cleanly and nbval can compare them.
"""

from __future__ import annotations

import functools
import io
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

import matplotlib


def headless_backend() -> None:
    """Draw without a display (kernels, the scheduler and CI have none), keeping Jupyter's inline backend.

    The inline backend is headless too, and it is what shows an analyst's plain ``plt`` figures in
    a notebook: switching a kernel to Agg would make those figures vanish from the report.
    """
    try:
        current = matplotlib.get_backend(auto_select=False)  # matplotlib >= 3.10: never resolves a backend
    except TypeError:
        current = matplotlib.rcParams._get("backend")
    if "inline" not in str(current or "").lower():
        matplotlib.use("Agg")


headless_backend()

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from quire.display import Chart  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from quire.brand import Brand

#: Fixed salt for the ids matplotlib writes into SVG (clip paths, glyphs): stable output.
SVG_HASH_SALT = "report-chart"
FALLBACK_FONT = "DejaVu Sans"  # ships with matplotlib, so it is always there
#: Fonts for the scripts DejaVu Sans lacks, after it, where installed (``.ci/system-packages.sh`` installs them): a
#: client named in Japanese or a post titled in Thai is measured by its own glyphs, not by DejaVu's empty box. The
#: browser that draws the SVG falls back the same way; colour emoji are left to it (matplotlib cannot draw them).
SCRIPT_FALLBACK_FONTS = ("Noto Sans CJK JP", "Noto Sans Thai", "Noto Sans Devanagari", "Noto Sans Bengali",
                         "Noto Sans Tamil")
GENERIC_FAMILIES = {"sans-serif", "serif", "monospace", "cursive", "fantasy", "system-ui"}

#: rcParams every chart gets, brand or not.
BASE_RC: dict[str, object] = {
    "svg.hashsalt": SVG_HASH_SALT,
    # Text stays text: crisp, selectable and searchable in the PDF, a third smaller than glyph
    # outlines and much faster for WeasyPrint to draw. Viewers without the font fall back to
    # their sans-serif (matplotlib writes the family list with a generic fallback).
    "svg.fonttype": "none",
    "figure.dpi": 100,
    "savefig.dpi": 150,  # only matters for PNG fallbacks
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.linewidth": 0.6,
    "grid.alpha": 0.8,
    "axes.axisbelow": True,
    "lines.linewidth": 2.0,
    "legend.frameon": False,
    "date.converter": "concise",  # "Jan 2026, Apr, Jul" instead of crowded "2026-01-01" ticks
    "axes.formatter.useoffset": False,  # never "+1e5" above an axis; readers want the numbers
    # Titles at a fixed height above the axes. Left to itself (None), matplotlib measures every
    # axis's tick labels again at each drawing to lift a title clear of a top axis or an offset
    # text, which report charts never have: a large share of each chart's drawing time.
    "axes.titley": 1.0,
}


#: The rc parameters matplotlib's font manager keys its own lookups with (``FontManager.findfont``).
_FONT_RC = ("family", "style", "variant", "weight", "stretch", "size", "serif", "sans-serif", "cursive", "fantasy",
            "monospace")


#: The size every TrueType lookup is cached under (see :func:`_remember_font_files`).
SIZE_FREE_KEY = 10.0


def _remember_font_files(manager: font_manager.FontManager) -> None:
    """Make ``manager`` remember which font files a text's properties resolve to.

    A text is measured with the file of each family of its list (the brand's fonts, DejaVu Sans
    and the script fallbacks: seven or eight), and matplotlib looks each family up on its own,
    reading eleven rc parameters every time to key its cache: together about 7 % of a client
    report's chart time, for answers that change only with those parameters or the installed
    fonts. They are the key here too, read once per text. Same files, so the same SVG.

    The text's size is left out of the key for TrueType/OpenType lookups: matplotlib lists
    every such font as "scalable", which it scores as fitting any size, so the size never
    changes the file found. Keyed by size, a run forked from the warm server looked the
    fonts up again (about 14 lookups scoring every installed font, ~25 ms of a client
    report) for each size its charts use in bold that the rehearsal had not drawn.
    """
    find = getattr(manager, "_find_fonts_by_props", None)
    if find is None:  # a matplotlib without it: its own lookups, uncached here
        return

    @functools.lru_cache(maxsize=4096)
    def remembered(prop, fontext, directory, fallback_to_default, rebuild_if_missing, _rc, _fonts):
        return tuple(find(prop, fontext, directory, fallback_to_default, rebuild_if_missing))

    @functools.wraps(find)
    def find_fonts(prop, fontext="ttf", directory=None, fallback_to_default=True, rebuild_if_missing=True):
        rc = tuple(tuple(v) if isinstance(v, list) else v for v in (matplotlib.rcParams[f"font.{k}"] for k in _FONT_RC))
        fonts = (len(manager.ttflist), len(manager.afmlist), os.environ.get("MPL_IGNORE_SYSTEM_FONTS"))
        # A copy as the key: the caller's properties may change after (matplotlib's own are mutable).
        key = font_manager.FontProperties._from_any(prop).copy()
        if fontext == "ttf":
            key.set_size(SIZE_FREE_KEY)
        return list(remembered(key, fontext, directory, fallback_to_default, rebuild_if_missing, rc, fonts))

    manager._find_fonts_by_props = find_fonts


_remember_font_files(font_manager.fontManager)


def font_families(font_stack: str, locale: str | None = None) -> list[str]:
    """The families of a CSS ``font_stack`` that matplotlib can find, then DejaVu Sans and the installed
    :data:`SCRIPT_FALLBACK_FONTS`, the CJK one with the Han forms ``locale``'s readers expect (:func:`cjk_font`).

    Filtering first avoids a "findfont: Font family … not found" warning per chart in
    the notebook output for every brand font that is not installed on this machine.
    """
    installed = {f.name for f in font_manager.fontManager.ttflist}
    wanted = [part.strip().strip("'\"") for part in font_stack.split(",")]
    found = [name for name in wanted if name and name not in GENERIC_FAMILIES and name in installed]
    if FALLBACK_FONT not in found:
        found.append(FALLBACK_FONT)
    scripts = [cjk_font(locale) if name == SCRIPT_FALLBACK_FONTS[0] else name for name in SCRIPT_FALLBACK_FONTS]
    return found + [name for name in scripts if name in installed and name not in found]


def cjk_font(locale: str | None) -> str:
    """Noto's CJK family for ``locale``: one font draws many Han characters differently in China, Taiwan, Hong
    Kong, Japan and Korea (直, 骨, 写), and a reader sees the others' forms as foreign. The SVG names the family,
    so the browser draws a chart's labels with it; Japanese where the locale is none of those."""
    language, *subtags = (locale or "").lower().replace("_", "-").split("-")
    if language == "ko":
        return "Noto Sans CJK KR"
    if language == "zh":
        return ("Noto Sans CJK HK" if {"hk", "mo"} & set(subtags) else "Noto Sans CJK TC" if {"hant", "tw"} & set(subtags)
                else "Noto Sans CJK SC")
    return SCRIPT_FALLBACK_FONTS[0]


def use_brand(brand: Brand, locale: str | None = None) -> None:
    """Set the seaborn/matplotlib theme for ``brand``: its palette, fonts, colours and our sizes; the script fonts
    for ``locale`` (the report's, where a client's own replaces its brand's; default the brand's)."""
    import seaborn as sns

    c = brand.colors
    families = font_families(brand.font_stack, locale or brand.locale)
    rc = {
        **BASE_RC,
        # The families by name: matplotlib falls back from one to the next glyph by glyph only within a list
        # of names (behind the generic "sans-serif" it takes the first font it finds); the generic last, for
        # the SVG's readers that have none of them.
        "font.family": [*families, "sans-serif"],
        "font.sans-serif": families,
        "text.color": c.text,
        "axes.labelcolor": c.text,
        "axes.edgecolor": "#9aa5b1",
        "axes.titlecolor": c.text,
        "xtick.color": "#52606d",
        "ytick.color": "#52606d",
        "grid.color": "#e4e7eb",
        "axes.facecolor": c.background,
        "figure.facecolor": c.background,
        "savefig.facecolor": c.background,
        "legend.labelcolor": c.text,
    }
    sns.set_theme(context="notebook", style="whitegrid", palette=brand.palette, rc=rc)
    # set_theme resets what "whitegrid" implies; re-assert the parts we own.
    plt.rcParams.update(rc)
    plt.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=brand.palette)


def to_chart(fig: Figure, alt: str, caption: str = "", *, fixed_layout: bool = False, tall: bool = False) -> Chart:
    """Save ``fig`` as reproducible SVG, close it, and return it as a report :class:`Chart`.

    ``alt`` describes what the chart shows for screen readers and the plain-text
    fallback; it is required because a chart without it is invisible to some readers.
    ``fixed_layout``: see :func:`figure_svg`. ``tall``: see :attr:`Chart.tall`.
    """
    if not alt or not alt.strip():
        plt.close(fig)
        raise ValueError("a chart needs alt text describing what it shows")
    try:
        image = figure_svg(fig, fixed_layout=fixed_layout)
    finally:
        plt.close(fig)
    return Chart(image, alt=alt.strip(), caption=caption, mime="image/svg+xml", tall=tall)


def figure_svg(fig: Figure, *, fixed_layout: bool = False) -> bytes:
    """``fig`` as reproducible SVG bytes (the figure stays open).

    By default the image is cropped to what is drawn (a tight bounding box), which costs
    matplotlib a layout pass and a second measurement of every label before the real drawing.
    A chart whose spacing is set in inches so that its labels fit inside the figure passes
    ``fixed_layout=True``: it is drawn once, at its own size, its texts and legends measured as
    they are drawn; only if one sticks out (an unusually wide label) is it drawn
    again, cropped as usual.
    """
    if fixed_layout:
        boxes: list[Bbox] = []
        with _recording_extents(boxes):
            image = _svg(fig, bbox_inches=None)
        if _inside(fig, boxes):
            return image
    return _svg(fig, bbox_inches="tight")


def _svg(fig: Figure, *, bbox_inches) -> bytes:
    buffer = io.BytesIO()
    with plt.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
        # No date and no creator string: the same figure gives the same bytes on any day
        # and matplotlib version.
        fig.savefig(buffer, format="svg", bbox_inches=bbox_inches, metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


@contextmanager
def _recording_extents(into: list[Bbox]):
    """Collect the extent of each text and legend as it is drawn (tick labels, titles, annotations, legends).

    Measured right after its own drawing, while the figure is at the drawing's resolution and the
    transforms it just used are still valid: measuring after the drawing means changing the
    figure's resolution back, which invalidates every transform of the figure (about a third of the
    time the check took). The classes' methods are swapped for the drawing: a report's charts are
    drawn on one thread, one figure at a time, and matplotlib offers no per-drawing hook that sees
    each text.
    """
    originals = {cls: cls.draw for cls in (Text, Legend)}

    def recorder(draw):
        @functools.wraps(draw)
        def recording(self, renderer, *args, **kwargs):
            draw(self, renderer, *args, **kwargs)
            if self.get_visible() and (isinstance(self, Legend) or self.get_text()):  # an empty text draws nothing
                into.append(self.get_window_extent(renderer))
        return recording

    for cls, draw in originals.items():
        cls.draw = recorder(draw)
    try:
        yield
    finally:
        for cls, draw in originals.items():
            cls.draw = draw


def _inside(fig: Figure, boxes: list[Bbox], tolerance: float = 0.01) -> bool:
    """Whether ``boxes`` (the drawn texts and legends, in points) lie within the figure (``tolerance`` inches allowed).

    On a figure laid out in inches only these can stick out: the axes sit where the layout put
    them and clip what they draw. Measuring them is a fraction of the figure's tight bounding box,
    which works every tick and label out again.
    """
    if not boxes:
        return True
    box = Bbox.union(boxes)
    width, height = fig.get_size_inches() * 72
    margin = tolerance * 72
    return box.x0 >= -margin and box.y0 >= -margin and box.x1 <= width + margin and box.y1 <= height + margin


__all__ = ["use_brand", "to_chart", "figure_svg", "font_families", "headless_backend", "BASE_RC", "SVG_HASH_SALT", "SCRIPT_FALLBACK_FONTS"]
