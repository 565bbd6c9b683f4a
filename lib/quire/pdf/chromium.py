"""PDF from Chromium: one warm headless browser per pool, shared by its runs through a print service.

Starting Chromium costs more than printing a report with it, so the process that runs
a batch (the CLI, the scheduler, a Dask worker) starts one browser with Playwright
(which talks to it over a pipe, not a network port) and a :class:`PrintService` in
front of it: a Unix socket, private to the user and guarded by a random key, on which
the runs' processes send their HTML and get PDF bytes back. Each print uses a fresh
page that loads nothing from outside: every request the page makes is refused, and
the HTML carries its images and styles inline.

A report with a contents list needs each section's page, which Chromium (without
``target-counter()``) only tells in a print's outline: see :meth:`PrintService._print_report`.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import shutil
import tempfile
import threading
from concurrent.futures import Future, wait
from dataclasses import dataclass
from multiprocessing.connection import Listener
from pathlib import Path

from quire import local_socket
from quire.errors import RenderError, first_line_of

CHROMIUM = "/usr/bin/chromium"
#: Debian's build of Chromium's headless shell (package ``chromium-headless-shell``): the same Blink and Skia as
#: ``chromium``, without the desktop browser around them. Preferred for printing: the desktop browser composes
#: every PDF in a ``PrintCompositor`` process it starts for that print and ends after it; the shell starts no
#: process to print. Same PDF (pages, text, tags and outline, page images pixel for pixel at 150 dpi),
#: a third less CPU per print (94 against 140 ms for a client report) and a quicker start.
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
#: Flags for a headless browser on a closed network: no sandbox when root (containers), no GPU,
#: and none of the background traffic a closed network would refuse many times over. The desktop
#: Chromium still calls Google by itself whatever the flags say (the account list of its profile, component
#: update checks, seconds after it starts; the headless shell makes no such calls): no host name is resolved,
#: so those calls fail inside the browser and nothing leaves the machine (the reports it prints are inline
#: HTML; any request they make is refused before that, see _Browser._page).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage",
                 "--host-resolver-rules=MAP * ~NOTFOUND"]
#: Environment variable through which runs find the print service of their pool.
SERVICE_ENV = "QUIRE_PRINT_SERVICE"
#: Seconds a browser may take to start (a loaded machine's first start of Chromium reads ~300 MB from disk).
START_TIMEOUT = 60.0
PRINT_TIMEOUT = 120.0
#: Reports printed on one page before it is replaced (see :meth:`_Browser._print`).
PRINTS_PER_PAGE = 25
#: Report layouts whose section pages the print service remembers (see :meth:`PrintService._print_report`):
#: each is a few counts and page numbers; the nearest of them is looked for at each print.
REMEMBERED_LAYOUTS = 256
#: Printed once as the browser starts: a browser's first print costs two to three times a later one
#: (the page's renderer, fonts, the PDF and tagging code all load then). The print a report waits for
#: is then a warm one; in a single run the warm-up happens while the report's cells execute.
WARM_UP_HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Warm-up</title><style>
@page { size: A4; margin: 20mm 16mm; @bottom-right { content: "Page " counter(page) " of " counter(pages); } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }
td, th { border: 1px solid #ccc; padding: 2px 6px; }
</style></head><body><main><h1>Warm-up</h1><p>Text in <b>bold</b> and <i>italic</i>.</p>
<table><thead><tr><th>Metric</th><th>Value</th></tr></thead><tbody><tr><td>One</td><td>1,234</td></tr></tbody></table>
<img alt="A chart" src="data:image/svg+xml;utf8,%3Csvg xmlns='http://www.w3.org/2000/svg' width='200' height='100'%3E%3Cpath
 d='M0 90 L100 40 L200 60' stroke='%23333' fill='none'/%3E%3Ctext x='10' y='20' font-size='10'%3E12%25%3C/text%3E%3C/svg%3E">
</main></body></html>"""


def chromium_path() -> str | None:
    """The Chromium executable that prints, if installed (Debian's packages; never Playwright's own download):
    ``QUIRE_CHROMIUM``, else Debian's headless shell (:data:`HEADLESS_SHELL`), else its desktop ``chromium``."""
    if configured := os.environ.get("QUIRE_CHROMIUM"):
        return configured
    found = (path for path in (HEADLESS_SHELL, CHROMIUM) if Path(path).exists())
    return next(found, None) or shutil.which("chromium-headless-shell") or shutil.which("chromium")


@dataclass(frozen=True)
class ServiceAddress:
    """Where a print service listens, and the key a client must present."""

    path: str
    key: str

    def encode(self) -> str:
        return f"{self.key}@{self.path}"

    @classmethod
    def decode(cls, text: str) -> ServiceAddress:
        key, _, path = text.partition("@")
        return cls(path, key)


class _Browser:
    """A Playwright-driven Chromium on an asyncio loop of its own thread."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.loop = asyncio.new_event_loop()
        self.ready: Future = Future()
        self.warmed: Future = Future()  # done once the warm-up print has ended (see WARM_UP_HTML)
        self.idle: list = []
        self.prints: dict = {}  # page -> reports printed on it
        self.thread = threading.Thread(target=self._main, name="quire-chromium", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.starting = self.loop.create_task(self._start())
        self.loop.run_forever()

    async def _start(self) -> None:
        try:
            from playwright.async_api import async_playwright

            self.playwright = await async_playwright().start()
            self.browser = await self.playwright.chromium.launch(executable_path=self.executable, args=CHROMIUM_ARGS)
            self.ready.set_result(True)
        except Exception as exc:
            # Playwright's own message holds the whole launch command line: its first line says what happened.
            self.ready.set_exception(RenderError(
                f"{self.executable} is not a Chromium that starts ({first_line_of(exc)})",
                hint="install Debian's chromium-headless-shell package (`.ci/system-packages.sh demo`), or set "
                     f"QUIRE_CHROMIUM to its path, e.g. {HEADLESS_SHELL} (QUIRE_PDF_RENDERER=weasyprint prints "
                     "without it)"))
            self.warmed.set_result(False)
            return
        try:
            await self._print(WARM_UP_HTML, PDF_OPTIONS)
            self.warmed.set_result(True)
        except Exception:  # a report's print will fail too, and say why
            self.warmed.set_result(False)

    async def _page(self):
        """A page from the idle ones, or a new one: pages are kept, a new page costs a renderer process."""
        if self.idle:
            return self.idle.pop()
        if not hasattr(self, "context"):
            # No scripts, no network: the HTML carries everything inline; any request it makes is refused.
            self.context = await self.browser.new_context(java_script_enabled=False, offline=True)
            await self.context.route("**/*", lambda route: route.abort())
        page = await self.context.new_page()
        # Laid out for print from the start: a page laid out for the screen is laid out again when it prints.
        # Same PDF (text and page images alike), a quarter less of the renderer's time per print.
        await page.emulate_media(media="print")
        return page

    async def _print(self, html: str, pdf_options: dict) -> bytes:
        page = await self._page()
        try:
            # The next report's set_content replaces this one's document as a whole (Playwright opens the
            # document anew), so a page is not blanked between reports: that navigation cost an eighth of a print.
            await page.set_content(html, wait_until="load")
            pdf = await page.pdf(**pdf_options)
        except Exception:
            self.prints.pop(page, None)
            await page.close()
            raise
        self.prints[page] = self.prints.get(page, 0) + 1
        if self.prints[page] >= PRINTS_PER_PAGE:
            # A page's renderer keeps some of every report it laid out: a new one bounds the browser's memory.
            del self.prints[page]
            await page.close()
        else:
            self.idle.append(page)
        return pdf

    def print(self, html: str, pdf_options: dict) -> bytes:
        self.ready.result(timeout=START_TIMEOUT)
        return asyncio.run_coroutine_threadsafe(self._print(html, pdf_options), self.loop).result(PRINT_TIMEOUT)

    def close(self) -> None:
        async def stop():
            self.starting.cancel()  # a start that outlasted the wait below is abandoned
            if hasattr(self, "browser"):
                await self.browser.close()
            if hasattr(self, "playwright"):
                await self.playwright.stop()

        if self.thread.is_alive():
            # A browser closed as it starts (a batch whose runs all failed at once, a Ctrl-C) is let finish
            # starting, so that the browser it launches is closed too rather than left running.
            wait([self.warmed], timeout=START_TIMEOUT)
            try:
                asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
            except Exception:  # closing a browser that already died
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)


class PrintService:
    """A warm Chromium and the Unix socket through which runs print with it (see the module docstring)."""

    def __init__(self, executable: str | None = None) -> None:
        executable = executable or chromium_path()
        if not executable:
            raise RenderError("Chromium is not installed",
                              hint="install it with `make setup` (Debian package chromium-headless-shell)")
        self._browser = _Browser(executable)
        self._dir = tempfile.mkdtemp(prefix="quire-print-")  # mode 0700: only this user can reach the socket
        key = secrets.token_hex(16)
        self.address = ServiceAddress(os.path.join(self._dir, "print.sock"), key)
        self._listener = Listener(self.address.path, family="AF_UNIX")
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._section_pages: dict = {}  # pages.Layout -> its sections' pages, as last found
        threading.Thread(target=self._accept, name="quire-print-accept", daemon=True).start()

    def _accept(self) -> None:
        # What reading a print's outline needs is loaded now, while Chromium starts, rather than when
        # the first report waits for it (~0.2 s for a single run's process).
        import pypdf  # noqa: F401

        from quire.pdf import pages  # noqa: F401

        local_socket.serve_forever(self._listener, self.address.key, self._serve, self._closed, "quire-print")

    def _serve(self, conn) -> None:
        with conn:
            while True:
                try:
                    html = conn.recv()
                except (EOFError, OSError):
                    return
                try:
                    answer = ("ok", self._print_report(html))
                except Exception as exc:
                    answer = ("error", f"{type(exc).__name__}: {exc}")
                try:
                    conn.send(answer)
                except (EOFError, OSError):  # the run asking was killed (its timeout): nobody to answer
                    return

    def _print_report(self, html: str) -> bytes:
        """A report's PDF; with a contents list, each section's page printed after its title.

        Chromium has no ``target-counter()``: the pages come from a print's outline, and the
        contents are printed again with them. Reports of one kind mostly put their sections on the
        same few sets of pages, so the service remembers the pages it found for recent layouts
        (:class:`~quire.pdf.pages.Layout`: counts of rows, paragraphs, images and characters per
        section) and prints a report at once with the pages of the nearest one; when the outline
        confirms them, that print is the report (one print instead of two), otherwise it prints
        again with the pages found. A report only ever shows pages its own outline gave: what is
        remembered of other reports decides whether it is printed once or twice, never what it shows.
        """
        from quire.pdf import pages

        titles = pages.contents_titles(html)
        if not titles:
            return self._browser.print(html, PDF_OPTIONS)
        layout = pages.layout_of(html, titles)
        with self._lock:
            guess = self._nearest_pages(layout)
        pdf = self._browser.print(pages.number_contents(html, guess) if guess else html, PDF_OPTIONS)
        found = pages.section_pages(pdf, titles)
        if found != guess:
            pdf = self._browser.print(pages.number_contents(html, found), PDF_OPTIONS)
        with self._lock:
            self._section_pages.pop(layout, None)
            self._section_pages[layout] = found
            while len(self._section_pages) > REMEMBERED_LAYOUTS:
                self._section_pages.pop(next(iter(self._section_pages)))
        return pdf

    def _nearest_pages(self, layout) -> dict[str, int] | None:
        """The pages last found for the remembered layout nearest to ``layout`` (the latest of equally near ones),
        None when none has the same contents."""
        from quire.pdf import pages

        best, best_distance = None, math.inf
        for known, found in self._section_pages.items():
            distance = pages.layout_distance(layout, known)
            if distance <= best_distance and distance < math.inf:
                best, best_distance = found, distance
        return best

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the browser has started (raises RenderError if it cannot)."""
        try:
            self._browser.ready.result(timeout=timeout)
        except RenderError:
            raise
        except Exception as exc:
            raise RenderError(f"Chromium did not start: {exc}") from exc

    def close(self) -> None:
        self._closed.set()
        try:
            self._listener.close()
        except OSError:
            pass
        self._browser.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PrintService:
        os.environ[SERVICE_ENV] = self.address.encode()
        return self

    def __exit__(self, *exc) -> None:
        if os.environ.get(SERVICE_ENV) == self.address.encode():
            del os.environ[SERVICE_ENV]
        self.close()


_connection = None
_connection_for: str | None = None


#: Chromium's print options for a report: the stylesheet's @page size and margins, backgrounds,
#: a tagged PDF (structure for screen readers) and an outline (bookmarks, and the contents' page numbers).
PDF_OPTIONS = {"prefer_css_page_size": True, "print_background": True, "tagged": True, "outline": True}


def print_report(address: str, html: str) -> bytes:
    """The report's PDF, printed by the print service at ``address``, with the same pages as WeasyPrint's.

    The running header and footer become margin boxes; the contents get each section's page
    (see :meth:`PrintService._print_report`).
    """
    from quire.pdf import pages

    return _request(address, pages.for_chromium(html))


def _request(address: str, html: str) -> bytes:
    """Have the print service at ``address`` print ``html`` (one connection per process, reused)."""
    global _connection, _connection_for
    if _connection is None or _connection_for != address:
        where = ServiceAddress.decode(address)
        try:
            _connection = local_socket.connect(where.path, where.key)
        except (OSError, EOFError) as exc:
            raise RenderError(f"the print service is not reachable ({exc})") from exc
        _connection_for = address
    try:
        _connection.send(html)
        status, payload = _connection.recv()
    except (OSError, EOFError) as exc:
        _connection = None
        raise RenderError(f"the print service stopped while printing ({exc})") from exc
    if status != "ok":
        raise RenderError(f"Chromium could not print the report: {payload}")
    return payload
