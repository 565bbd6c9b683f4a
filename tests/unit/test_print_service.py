"""The Chromium print service: real PDFs from a real browser, and pages that do not live for ever."""

from __future__ import annotations

import io
import json
import socket
import threading
from multiprocessing.connection import AuthenticationError, Client
from pathlib import Path

import psutil
import pytest
from pypdf import PdfReader

from quire.pdf import chromium
from support import CHROMIUM, within


def require_chromium() -> None:
    if not chromium.chromium_path():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (make setup-test installs it)")


@pytest.fixture
def service(monkeypatch):
    require_chromium()
    monkeypatch.setattr(chromium, "PRINTS_PER_PAGE", 2)
    with chromium.PrintService() as svc:
        svc.wait_ready()
        assert svc._browser.warmed.result(60), "the warm-up document did not print"
        yield svc


def test_a_print_service_closed_as_its_browser_starts_closes_it_without_an_error(monkeypatch):
    """A batch whose runs all fail at once (or a Ctrl-C) closes the service while Chromium is still starting:
    the command must not print a thread's traceback, and no browser may be left running."""
    require_chromium()
    errors = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}

    service = chromium.PrintService()
    assert not service._browser.ready.done(), "the browser had started already: nothing closed it as it started"
    service.close()

    assert not service._browser.thread.is_alive()
    assert [(e.exc_type, e.exc_value) for e in errors] == []
    started = [p for p in me.children(recursive=True) if p.pid not in before]
    _, alive = psutil.wait_procs(started, timeout=10)
    assert [p.name() for p in alive] == []


def pages_used(service) -> list:
    """The page of every print the service's browser makes from now on, in order."""
    browser = service._browser
    used = []
    original = browser._page

    async def recording_page():
        page = await original()
        used.append(page)
        return page

    browser._page = recording_page
    return used


def test_each_page_prints_a_bounded_number_of_reports_then_is_replaced(service):
    """A renderer keeps memory from every report it laid out: a 1,000-report batch must not print them all on one."""
    used = pages_used(service)
    for n in range(6):
        pdf = chromium.print_report(service.address.encode(), f"<html><body><h1>Report {n}</h1></body></html>")
        assert f"Report {n}" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    # Two prints each: the warm-up's page takes report 0, then pages 2, 2, 3, 3, 4.
    assert len(used) == 6 and len({id(p) for p in used}) == 4
    assert [p.is_closed() for p in used] == [True, True, True, True, True, False]
    assert len(service._browser.context.pages) == 1  # the closed ones are gone from the browser too


def test_a_report_printed_on_a_page_holds_nothing_of_the_report_before_it(service):
    """Consecutive reports share a page: the second one's PDF has its own pages and text only."""
    used = pages_used(service)
    dot = ('<img alt="marker" src="data:image/svg+xml;utf8,%3Csvg xmlns=\'http://www.w3.org/2000/svg\' width=\'40\' '
           'height=\'40\'%3E%3Ccircle cx=\'20\' cy=\'20\' r=\'15\'/%3E%3C/svg%3E">')
    first = ("<html><head><title>A</title></head><body><h1>Client A</h1><p>MARKER-OF-CLIENT-A</p>" + dot
             + '<div style="break-before: page">MARKER-OF-CLIENT-A again</div></body></html>')
    second = "<html><head><title>B</title></head><body><h1>Client B</h1><p>figures of B</p></body></html>"
    chromium.print_report(service.address.encode(), "<html><body><h1>Before</h1></body></html>")  # the warm-up's page
    pdf_a = PdfReader(io.BytesIO(chromium.print_report(service.address.encode(), first)))
    pdf_b = PdfReader(io.BytesIO(chromium.print_report(service.address.encode(), second)))
    assert used[-1] is used[-2], "the two reports were meant to share a page"
    assert len(pdf_a.pages) == 2 and "MARKER-OF-CLIENT-A" in pdf_a.pages[0].extract_text()
    assert len(pdf_b.pages) == 1 and "Client B" in pdf_b.pages[0].extract_text()
    assert "CLIENT-A" not in pdf_b.pages[0].extract_text() and pdf_b.metadata.title == "B"
    # Printed again on a new page, B draws exactly the same: nothing of A was left on the shared one.
    fresh = PdfReader(io.BytesIO(chromium.print_report(service.address.encode(), second)))
    assert used[-1] is not used[-2]
    assert fresh.pages[0].get_contents().get_data() == pdf_b.pages[0].get_contents().get_data()


TOC = ('<nav class="q-toc"><ol style="list-style: none">'
       + "".join(f'<li><a href="#{a}"><span class="q-toc-title">{t}</span></a></li>' for a, t in (("q-s1", "Alpha"), ("q-s2", "Beta")))
       + "</ol></nav>")
HEAD = "<html><head><style>.q-toc-page { margin-left: 2em }</style></head><body><h1>Cover</h1>"


def counted_prints(service) -> list[str]:
    """The HTML of every print the service's browser makes from now on."""
    prints = []
    original = service._browser.print

    def counting(html, options):
        prints.append(html)
        return original(html, options)

    service._browser.print = counting
    return prints


def contents_line(pdf: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def report_html(breaks_before_beta: int) -> str:
    """A report with a contents list: Alpha on page 2, Beta ``breaks_before_beta`` pages later."""
    gaps = '<div style="break-before: page">filler</div>' * (breaks_before_beta - 1)
    return (f"{HEAD}{TOC}"
            f'<h2 id="q-s1" style="break-before: page">Alpha</h2><p>text</p>{gaps}'
            f'<h2 id="q-s2" style="break-before: page">Beta</h2><p>text</p></body></html>')


def test_a_report_with_contents_is_printed_once_when_its_pages_are_as_last_time(service):
    """The contents show each section's page; the service prints again only when the pages moved."""
    prints = counted_prints(service)
    address = service.address.encode()
    for breaks, expected_prints, beta_page in ((1, 2, 3), (1, 1, 3), (2, 2, 4), (2, 1, 4), (1, 2, 3)):
        before = len(prints)
        pdf = chromium.print_report(address, report_html(breaks))
        assert len(prints) - before == expected_prints
        assert f"Alpha 2 Beta {beta_page}" in contents_line(pdf)
        assert len(PdfReader(io.BytesIO(pdf)).pages) == beta_page


def sectioned_html(alpha_pages: int, words: int = 0) -> str:
    """A report whose Alpha section holds ``alpha_pages`` paragraphs, one per page, so Beta starts on page 2 + that;
    its first paragraph has ``words`` more words (a few hundred fit on its page)."""
    alpha = f"<p>part 0{' lorem' * words}</p>" + "".join(f'<p style="break-before: page">part {i}</p>' for i in range(1, alpha_pages))
    return (f'{HEAD}{TOC}<section class="q-section"><h2 id="q-s1" style="break-before: page">Alpha</h2>{alpha}</section>'
            f'<section class="q-section"><h2 id="q-s2" style="break-before: page">Beta</h2><p>text</p></section>')


def test_reports_of_two_layouts_in_turn_each_print_once_their_layout_is_known(service):
    """Pages are remembered by layout (the make-up of the sections), not only by the contents' titles:
    a batch whose reports alternate between two layouts prints each report once after the first of each."""
    prints = counted_prints(service)
    address = service.address.encode()
    for alpha_pages, expected_prints in ((1, 2), (2, 2), (1, 1), (2, 1), (2, 1), (1, 1)):
        before = len(prints)
        pdf = chromium.print_report(address, sectioned_html(alpha_pages))
        assert len(prints) - before == expected_prints, alpha_pages
        assert f"Alpha 2 Beta {2 + alpha_pages}" in contents_line(pdf)


def test_a_report_of_a_new_layout_is_printed_once_with_the_pages_of_the_nearest_known_one(service):
    """Client reports of a batch seldom have the same make-up (81 layouts in 100 reports): each new one was printed
    twice. Its pages are guessed from the nearest layout printed before, and checked against its own outline."""
    prints = counted_prints(service)
    address = service.address.encode()
    for alpha_pages, words, expected_prints in ((1, 0, 2), (3, 0, 2), (1, 150, 1), (3, 20, 1), (1, 100, 1)):
        before = len(prints)
        pdf = chromium.print_report(address, sectioned_html(alpha_pages, words))
        assert len(prints) - before == expected_prints, (alpha_pages, words)
        assert f"Alpha 2 Beta {2 + alpha_pages}" in contents_line(pdf)


def test_the_nearest_layout_is_of_the_same_contents_and_counts_rows_images_and_text():
    from quire.pdf.pages import BLOCK_WEIGHTS, layout_distance, layout_of

    def layout(body: str, titles=(("q-s1", "Alpha"),)):
        return layout_of(f'<section class="q-section">{body}</section>', dict(titles))

    base = layout("<p>abc</p>")
    assert layout_distance(base, layout("<p>abcdef</p>")) == 3
    assert layout_distance(base, layout("<p>abc</p><img alt=x>")) == BLOCK_WEIGHTS[2]
    assert layout_distance(base, layout("<p>abc</p><table><tr><td></td></tr></table>")) == BLOCK_WEIGHTS[0]
    assert layout_distance(base, layout("<p>abc</p>", (("q-s1", "Beta"),))) == float("inf")
    assert layout_distance(base, layout_of('<section class="q-section"><p>abc</p></section>' * 2, {"q-s1": "Alpha"})) \
        == float("inf")


def net_log_events(path) -> list[str]:
    """The names of the events of Chromium's network log at ``path`` (a log cut short by the browser's exit included)."""
    text = path.read_text().rstrip().rstrip(",")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:
        log = json.loads(text + "]}")
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    return [names[event["type"]] for event in log["events"]]


@pytest.mark.parametrize("executable", [chromium.HEADLESS_SHELL, chromium.CHROMIUM], ids=["headless-shell", "desktop"])
def test_the_browser_resolves_no_host_name_so_nothing_it_or_a_report_asks_for_leaves_the_machine(executable, monkeypatch,
                                                                                                 tmp_path):
    """A report may name a remote image, and the desktop Chromium (which QUIRE_CHROMIUM may name) asks Google for its
    profile's accounts and for component updates whatever its flags say. Chromium's own network log shows the
    report's request, and no name looked up and no TCP connection made."""
    if not Path(executable).exists():
        pytest.fail(f"{executable} is not installed (make setup-test installs it)")
    log = tmp_path / "net-log.json"
    monkeypatch.setattr(chromium, "CHROMIUM_ARGS", [*chromium.CHROMIUM_ARGS, f"--log-net-log={log}"])
    html = '<html><body><h1>Remote logo</h1><img alt="logo" src="https://example.com/logo.png"></body></html>'
    with chromium.PrintService(executable) as svc:
        svc.wait_ready()
        for _ in range(3):  # a few seconds of the browser's life, in which it makes its own calls
            assert "Remote logo" in PdfReader(io.BytesIO(chromium.print_report(svc.address.encode(), html))).pages[0].extract_text()
    events = net_log_events(log)
    assert "https://example.com/logo.png" in log.read_text(), "the log missed the report's request: the checks prove nothing"
    if executable == chromium.CHROMIUM:  # its own calls asked for names (the headless shell makes none)
        assert "HOST_RESOLVER_MANAGER_REQUEST" in events
    looked_up = sorted({e for e in events if e.startswith(("DNS_TRANSACTION", "HOST_RESOLVER_SYSTEM_TASK", "HOST_RESOLVER_DNS_TASK"))})
    assert looked_up == []
    assert "TCP_CONNECT" not in events and "TCP_CONNECT_ATTEMPT" not in events


@pytest.mark.parametrize("lang, text", [("ja", "東京デザイン株式会社"), ("zh", "北京数据科技有限公司"), ("ko", "서울마케팅"),
                                        ("th", "บริษัท กรุงเทพ จำกัด"), ("hi", "मुंबई डिज़ाइन"), ("en", "Bakery 🥐")])
def test_text_in_scripts_dejavu_lacks_is_printed_in_a_font_that_has_them(service, lang, text):
    """A client or a post named in Japanese, Thai or Hindi, or with an emoji: DejaVu alone printed empty boxes
    (its text still extracts, so only the embedded fonts tell)."""
    html = f'<html lang="{lang}"><head><meta charset="utf-8"><title>t</title></head><body><p>{text}</p></body></html>'
    reader = PdfReader(io.BytesIO(chromium.print_report(service.address.encode(), html)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    kinds = [(str(font.get_object().get("/Subtype")), str(font.get_object().get("/BaseFont", ""))) for font in fonts.values()]
    assert any("DejaVu" not in base for _, base in kinds), kinds


def test_a_peer_that_never_speaks_or_has_the_wrong_key_holds_up_no_print(service):
    # The key used to be checked in the loop that accepts connections: one peer that connected and said
    # nothing (a run stopped with Ctrl-Z) held up every print after it.
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(service.address.path)
    try:
        pdf = within(60, lambda: chromium.print_report(service.address.encode(),
                                                       "<html><body><h1>Still printing</h1></body></html>"), "the print")
        with pytest.raises(AuthenticationError):  # (after the print, which bounds the wait for a blocked service)
            Client(service.address.path, family="AF_UNIX", authkey=b"not the key")
    finally:
        silent.close()
    assert "Still printing" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
