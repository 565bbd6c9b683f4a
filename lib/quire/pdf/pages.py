"""The running header and footer, and the contents' page numbers, for a printer without CSS running elements.

WeasyPrint moves the report's ``.q-running-header`` and ``.q-running-footer`` into the
page margins (``position: running()``) and numbers the contents with ``target-counter()``.
Chromium supports neither, but it does draw ``@page`` margin boxes with text, counters and
images. :func:`for_chromium` therefore writes the same header and footer as margin-box
content, read from those two elements of the HTML, so both printers give the same pages;
:func:`number_contents` puts the page of each section into the contents once a first print
has told where the sections fell.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from bs4 import BeautifulSoup

from quire.formatting.text import grapheme_cut, wide

#: Share of the header line per character of the period (8 pt text, about 1.4 mm a character, on A4's
#: 176 mm between the margins), and the bounds of the period's share.
PERCENT_PER_CHARACTER, PERIOD_MIN_PERCENT, PERIOD_MAX_PERCENT = 0.85, 22, 48
#: The title's share of the line per character (it is bold, and wide letters must fit too), and the width of the
#: line: A4 less report.css's side margins.
BOLD_PERCENT_PER_CHARACTER, CONTENT_WIDTH_MM = 1.1, 176
#: The running title's em: 8 pt in millimetres.
TITLE_EM_MM = 8 * 25.4 / 72
#: Height of the logo in the running header, and its widest (as ``.q-running-logo`` in report.css): a 2000 × 60
#: logo otherwise ran over the title and the period, past the page's edge. The stock logos are 4.2 times as wide
#: as high (27 mm).
LOGO_HEIGHT_MM, LOGO_MAX_WIDTH_MM = 6.5, 45
#: The footer's line and the page number beside it (``@bottom-left`` and ``@bottom-right`` in report.css): the
#: number's box, the gap before it, and what is left for the line, which is cut once to fit on one line.
PAGE_NUMBER_MM, FOOTER_GAP_MM = 30, 4
FOOTER_ROOM_MM = CONTENT_WIDTH_MM - PAGE_NUMBER_MM - FOOTER_GAP_MM
#: Chromium draws margin-box text with ligatures whatever font-variant-ligatures says, and its text layer
#: then holds "ﬁ" for "fi" (search, copy and screen readers stumble); any letter spacing turns them off.
NO_LIGATURES = "letter-spacing: 0.01px;"
_RUNNING = re.compile(r'<div\b[^>]*\bclass="q-running-(header|footer)"[^>]*>.*?</div>', re.DOTALL)
_ROOT_VARS = re.compile(r"--q-([a-z-]+):\s*([^;]+);")
_BODY = re.compile(r'<body class="q-doc')


@dataclass(frozen=True)
class Running:
    """What the running header and footer show: from the report's own elements."""

    logo: str | None
    title: str
    period: str
    footer: str


def running_parts(html: str) -> Running | None:
    """The running header's logo, title and period and the footer's line; None for a report without a cover."""
    found = {m.group(1): m.group(0) for m in _RUNNING.finditer(html)}
    if "header" not in found:
        return None
    header = BeautifulSoup(found["header"], "html.parser")
    logo = header.find("img", class_="q-running-logo")
    title = header.find(class_="q-running-title")
    period = header.find(class_="q-running-period")
    footer = BeautifulSoup(found.get("footer", ""), "html.parser").get_text()
    return Running(logo["src"] if logo is not None else None, title.get_text() if title else "",
                   period.get_text() if period else "", footer.strip())


def shortened(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, its last one an ellipsis, when it is longer (never inside an emoji)."""
    return text if len(text) <= limit else text[:grapheme_cut(text, limit - 1)].rstrip() + "…"


@lru_cache(maxsize=1)
def _title_font():
    """DejaVu Sans Bold (matplotlib's, always there), wider than most brand fonts: a title that fits in it fits."""
    from PIL import ImageFont

    spec = find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    try:
        return ImageFont.truetype(str(path), 100)
    except OSError:
        return None


def fitted(text: str, room_mm: float) -> str:
    """``text`` cut with "…" to what fits ``room_mm`` in the running title's 8 pt bold (a W is three times an i)."""
    font = _title_font()
    if font is None:
        return shortened(text, int(room_mm * 100 / CONTENT_WIDTH_MM / BOLD_PERCENT_PER_CHARACTER))

    def width(part: str) -> float:  # in mm; a wide character (東) is a full em, which DejaVu has no glyph for
        # A control character (a CR/LF in a client's name) is measured as a space: the layout engine refuses it.
        narrow = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in part if not wide(c))
        try:
            measured = font.getlength(narrow) / 100
        except (OSError, RuntimeError, ValueError):  # text the font's layout cannot take: a character is an em
            measured = len(narrow)
        return (measured + (len(part) - len(narrow))) * TITLE_EM_MM

    if width(text) <= room_mm:
        return text
    low, high = 0, len(text)  # the longest start that fits with its ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if width(text[:middle] + "…") <= room_mm else (low, middle - 1)
    return text[:grapheme_cut(text, low)].rstrip() + "…"


def footer_line(text: str) -> str:
    """The footer's line as printed: on one line, cut once with "…" where it would reach the page number's box (a
    long client name wrapped it onto two lines, or ran it into "Page 2 of 7")."""
    return fitted(" ".join(text.split()), FOOTER_ROOM_MM)


def header_logo_size(width: float, height: float) -> tuple[float, float]:
    """Width and height in mm of a ``width`` × ``height`` logo in the running header: :data:`LOGO_HEIGHT_MM` high,
    or less where that would make it wider than :data:`LOGO_MAX_WIDTH_MM`."""
    drawn = LOGO_HEIGHT_MM * width / height
    if drawn <= LOGO_MAX_WIDTH_MM:
        return drawn, LOGO_HEIGHT_MM
    return LOGO_MAX_WIDTH_MM, LOGO_MAX_WIDTH_MM * height / width


def css_string(text: str) -> str:
    """``text`` as a CSS string literal: quotes, backslashes and control characters escaped, and ``<``, ``>`` and
    ``&`` too, as the literal goes into a ``<style>`` element, which a ``</style>`` in a client's name would end."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "<>&":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


#: A number as SVG writes one in a size (a regular expression on bytes): "30", "2.5", ".5", "1e3".
SVG_NUMBER = rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def intrinsic_size(uri: str) -> tuple[float, float] | None:
    """Width and height of a data-URI image (SVG view box or size attributes; raster pixels)."""
    head, _, payload = uri.partition(",")
    if not head.startswith("data:"):
        return None
    data = base64.b64decode(payload) if head.endswith(";base64") else payload.encode()
    if "svg" in head:
        root = re.search(rb"<svg\b[^>]*>", data)
        if root is None:
            return None
        box = re.search(rb'viewBox=["\']\s*%s[\s,]+%s[\s,]+(%s)[\s,]+(%s)' % ((SVG_NUMBER,) * 4), root.group(0))
        w, h = (re.search(rb'(?<![\w-])%s=["\']\s*(%s)' % (name, SVG_NUMBER), root.group(0)) for name in (b"width", b"height"))
        if box:
            size = float(box.group(1)), float(box.group(2))
        elif w and h:
            size = float(w.group(1)), float(h.group(1))
        else:
            return None
        # A size of 0 (or one past float's range) is no size: the logo is drawn as it comes, never divided by it.
        return size if all(0 < side < math.inf for side in size) else None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return float(image.width), float(image.height)
    except OSError:
        return None


def for_chromium(html: str) -> str:
    """``html`` with its running header and footer as ``@page`` margin boxes (see the module docstring).

    The boxes repeat ``.q-running-header`` and ``.q-running-footer`` of report.css: the logo
    (as the box's background, so that it and the title are centred on one 6.5 mm line), the
    title in the primary colour, the period on the right, a rule under both, the footer line.
    """
    parts = running_parts(html)
    html = _BODY.sub(r'<body class="q-doc q-chromium', html, count=1)
    if parts is None:
        return html
    size = intrinsic_size(parts.logo) if parts.logo else None
    logo = ""
    if size:
        logo_width, logo_height = header_logo_size(*size)
        # A logo cut to the widest is lower than the line: centred on it, as the title beside it.
        placed = (f"bottom {2.5 + (LOGO_HEIGHT_MM - logo_height) / 2:.2f}mm / {logo_width:.2f}mm auto"
                  if logo_width < LOGO_HEIGHT_MM * size[0] / size[1] else f"bottom 2.5mm / auto {LOGO_HEIGHT_MM}mm")
        logo = f"background: url({css_string(parts.logo)}) no-repeat left {placed}; padding-left: {logo_width + 4:.2f}mm;"
    line = (f"vertical-align: bottom; line-height: {LOGO_HEIGHT_MM}mm; padding-bottom: 2.5mm; margin-bottom: 4mm; "
            "border-bottom: 0.6pt solid var(--q-primary-soft); font-family: var(--q-font); font-size: 8pt;"
            f" {NO_LIGATURES}")
    # The period keeps its whole text on one line (an experiment's "3 August – 6 September 2026 (35 days)"
    # was cut at a fixed 22 %); the title takes the rest, as the running header's float does.
    period_width = min(PERIOD_MAX_PERCENT, max(PERIOD_MIN_PERCENT, PERCENT_PER_CHARACTER * len(parts.period or "") + 2))
    # A margin box does not clip its text: a title longer than its box would print over the period.
    room = 100 - period_width - ((header_logo_size(*size)[0] + 4) * 100 / CONTENT_WIDTH_MM if size else 0)
    title = fitted(parts.title, room * CONTENT_WIDTH_MM / 100)
    boxes = f"""
@page {{
  @top-left {{ content: {css_string(title)}; width: {100 - period_width:.0f}%; {line} {logo} font-weight: 700;
               color: var(--q-primary); white-space: nowrap; overflow: hidden; }}
  @top-right {{ content: {css_string(parts.period)}; width: {period_width:.0f}%; {line} text-align: right; color: var(--q-muted);
                white-space: nowrap; }}
  @bottom-left {{ content: {css_string(footer_line(parts.footer))}; vertical-align: top; padding-top: 4mm;
                  font-family: var(--q-font); font-size: 8pt; color: var(--q-muted); {NO_LIGATURES} }}
}}
@page q-cover {{ @top-left {{ content: none; }} @top-right {{ content: none; }} @bottom-left {{ content: none; }} }}
"""
    return html.replace("</head>", f"<style>{boxes}</style>\n</head>", 1)


_TOC_LINK = re.compile(r'(<a href="#(q-s\d+)">)(.*?)(</a>)', re.DOTALL)


def number_contents(html: str, pages: dict[str, int]) -> str:
    """The contents with each section's page (``pages``: section anchor → page number) after its title."""
    def fill(m: re.Match) -> str:
        page = pages.get(m.group(2))
        if page is None:
            return m.group(0)
        return f'{m.group(1)}{m.group(3)}<span class="q-toc-page">{page}</span>{m.group(4)}'

    return _TOC_LINK.sub(fill, html)


def section_pages(pdf: bytes, titles: dict[str, str]) -> dict[str, int]:
    """Page number of each section (``titles``: anchor → heading text) from the PDF's outline (bookmarks)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    wanted = {" ".join(text.split()): anchor for anchor, text in titles.items()}
    found: dict[str, int] = {}

    def walk(items) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            anchor = wanted.get(" ".join(str(item.title).split()))
            if anchor and anchor not in found:
                found[anchor] = reader.get_destination_page_number(item) + 1
    walk(reader.outline)
    return found


_SECTION = re.compile(r'<section class="q-section')
_BLOCK = re.compile(r"<(tr|li|img|p)[\s>]")
_TAG = re.compile(r"<[^>]+>")
#: What a section's table row, list item, image and paragraph weigh against one character of its text in
#: :func:`layout_distance`: a row or an item is about a line (but its text is counted too), a chart about
#: a quarter of a page.
BLOCK_WEIGHTS = (30, 30, 300, 40)


@dataclass(frozen=True)
class Layout:
    """What decides on which pages a report's sections fall: its contents and each section's make-up.

    ``contents`` is a digest of the contents' titles; ``sections`` holds, per section, how many table
    rows, list items, images and paragraphs it has and how many characters of text. Counts only, no
    text: the print service keeps the latest ones in its memory (never on disk) to guess the next
    report's pages, which that report's own outline then confirms or corrects.
    """

    contents: str
    sections: tuple[tuple[int, int, int, int, int], ...]


def layout_of(html: str, titles: dict[str, str]) -> Layout:
    """The :class:`Layout` of a report's ``html`` whose contents list ``titles``."""
    sections = []
    for section in _SECTION.split(html)[1:]:
        blocks = Counter(_BLOCK.findall(section))
        sections.append((blocks["tr"], blocks["li"], blocks["img"], blocks["p"], len(_TAG.sub("", section))))
    digest = hashlib.blake2b(repr(tuple(titles.items())).encode(), digest_size=16).hexdigest()
    return Layout(digest, tuple(sections))


def layout_distance(a: Layout, b: Layout) -> float:
    """How differently two layouts with the same contents fill their pages: characters of text, with each
    block weighted by :data:`BLOCK_WEIGHTS` (infinite for different contents or numbers of sections).

    Over 100 client reports of the ``large`` warehouse printed one after another, the pages of the nearest
    layout printed before were right for 68 of them; an exact match of the make-up (text in steps of 400
    characters) for 19, the last report with the same contents for 41.
    """
    if a.contents != b.contents or len(a.sections) != len(b.sections):
        return float("inf")
    weights = (*BLOCK_WEIGHTS, 1)
    return float(sum(w * abs(x - y) for sa, sb in zip(a.sections, b.sections) for w, x, y in zip(weights, sa, sb)))


def contents_titles(html: str) -> dict[str, str]:
    """The contents' entries: section anchor → the section's heading text (empty without contents)."""
    if 'class="q-toc"' not in html:
        return {}
    return {m.group(2): BeautifulSoup(m.group(3), "html.parser").find(class_="q-toc-title").get_text()
            for m in _TOC_LINK.finditer(html)}
