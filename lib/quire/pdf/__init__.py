"""PDF renderers behind one face: the report's HTML printed to a tagged A4 PDF.

Two renderers print the same HTML and stylesheet to the same document (pages, running
header and footer, page numbers, contents with page numbers, tags):

- ``chromium`` — a warm headless Chromium shared by a batch's runs (:mod:`quire.pdf.chromium`);
  about five times less CPU per report than WeasyPrint, so it is the default where
  Debian's ``chromium`` is installed.
- ``weasyprint`` — pure Python with Pango, nothing else to run; the fallback.

``QUIRE_PDF_RENDERER`` chooses (``auto``, ``chromium`` or ``weasyprint``).
"""

from __future__ import annotations

import atexit
import os
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from quire.config import Settings


class PdfRenderer(ABC):
    """Prints a report's HTML (from :func:`quire.render.render_html`) to PDF bytes."""

    name: ClassVar[str]

    @abstractmethod
    def render(self, html: str) -> bytes:
        """The PDF; raises :class:`~quire.errors.RenderError`."""


class WeasyPrintRenderer(PdfRenderer):
    name = "weasyprint"

    def render(self, html: str) -> bytes:
        from quire.render import render_pdf

        return render_pdf(html)


class ChromiumRenderer(PdfRenderer):
    name = "chromium"

    def render(self, html: str) -> bytes:
        from quire.pdf.chromium import SERVICE_ENV, print_report

        return print_report(os.environ.get(SERVICE_ENV) or _own_service(), html)


RENDERERS: dict[str, type[PdfRenderer]] = {r.name: r for r in (ChromiumRenderer, WeasyPrintRenderer)}


def renderer_name(settings: Settings | None = None) -> str:
    """The renderer the settings ask for, ``auto`` resolved: Chromium where it is installed."""
    from quire.config import get_settings
    from quire.pdf.chromium import chromium_path

    wanted = (settings or get_settings()).pdf_renderer
    if wanted == "auto":
        return "chromium" if chromium_path() else "weasyprint"
    return wanted  # one of RENDERERS: the setting is checked where it is read


def render_pdf(html: str, settings: Settings | None = None) -> bytes:
    """Print ``html`` with the configured renderer."""
    return RENDERERS[renderer_name(settings)]().render(html)


_own_lock = threading.Lock()
_own = None


def _own_service() -> str:
    """A print service for this process alone (a single run outside a batch), closed at exit."""
    global _own
    with _own_lock:
        if _own is None:
            from quire.pdf.chromium import PrintService

            _own = PrintService()
            atexit.register(_own.close)
        return _own.address.encode()
