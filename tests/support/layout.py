"""The printed layout of a report, from WeasyPrint's own boxes: what overflows the page, how full each page is.

``layout(html)`` lays the report out exactly as :func:`quire.render.render_pdf` prints it
(same paged-media marker, base URL and URL fetcher) and returns WeasyPrint's document;
the helpers read its boxes, which is exact where text extraction from the PDF is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from quire import render

#: Layout units are CSS px (1/96 in); half a pixel absorbs rounding.
TOLERANCE = 0.5


def layout(html: str):
    """The WeasyPrint document of ``html`` as the PDF renderer lays it out (pages with their boxes)."""
    import weasyprint

    html = render._PAGED_BODY.sub(r"\1 q-paged", html, count=1)
    root = render._templates_dir(None)
    return weasyprint.HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=render._safe_fetcher(root)).render()


def _boxes(box) -> Iterator:
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _boxes(child)


def _text(box) -> str:
    return "".join(getattr(b, "text", "") for b in _boxes(box)).strip()


@dataclass(frozen=True)
class Overflow:
    page: int  # 1-based
    right: float  # px past the right edge of the page's content area
    what: str  # the box's element and text

    def __str__(self) -> str:
        return f"page {self.page}: {self.what!r} runs {self.right:.1f}px past the right margin"


def overflows(document) -> list[Overflow]:
    """Every box of the page body whose border box ends right of the page's content area.

    The body is the root element's box; margin boxes (running header and footer) and the
    full-bleed cover page, which has no margins by design, are not checked.
    """
    found = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        right_edge = page_box.content_box_x() + page_box.width
        if page_box.margin_left == 0 and page_box.margin_right == 0:
            continue  # the cover: full bleed on purpose
        body = next(c for c in page_box.children if getattr(c, "element_tag", None) == "html")
        for box in _boxes(body):
            if not hasattr(box, "border_width") or box.position_x is None:
                continue
            right = box.border_box_x() + box.border_width()
            if right > right_edge + TOLERANCE and (_text(box) or getattr(box, "element_tag", None) in ("img", "table")):
                found.append(Overflow(number, right - right_edge, f"<{getattr(box, 'element_tag', '?')}> {_text(box)[:80]}"))
    return _dedupe(found)


def _dedupe(found: list[Overflow]) -> list[Overflow]:
    """One entry per page and box description, the largest overflow."""
    worst: dict[tuple[int, str], Overflow] = {}
    for o in found:
        key = (o.page, o.what)
        if key not in worst or o.right > worst[key].right:
            worst[key] = o
    return list(worst.values())


def _lines(box) -> Iterator[str]:
    """The text of each line box, in reading order."""
    if type(box).__name__ == "LineBox":
        yield _text(box)
        return
    for child in getattr(box, "children", ()) or ():
        yield from _lines(child)


def broken_numbers(document) -> list[str]:
    """Lines that end in a sign whose number starts the next line ("−" / "$1.14"), on every page."""
    signs, starts = "+\u2212-\u00b1", "$€£¥0123456789"
    found = []
    for number, page in enumerate(document.pages, start=1):
        lines = [line for line in _lines(page._page_box) if line]
        for this, after in zip(lines, lines[1:], strict=False):
            if this[-1] in signs and after.lstrip("\u2060")[:1] in starts:
                found.append(f"page {number}: {this[-40:]!r} / {after[:20]!r}")
    return found


def fill(document) -> list[float]:
    """For each page after the cover, the share of its content area's height that holds content (0..1)."""
    shares = []
    for page in document.pages:
        page_box = page._page_box
        if page_box.margin_top == 0:
            continue  # the cover
        top = page_box.content_box_y()
        body = next(c for c in page_box.children if getattr(c, "element_tag", None) == "html")
        bottoms = [b.position_y + b.margin_height() for b in _boxes(body)
                   if type(b).__name__ in ("TextBox", "InlineReplacedBox", "BlockReplacedBox") and b.position_y is not None]
        shares.append((max(bottoms, default=top) - top) / page_box.height)
    return shares
