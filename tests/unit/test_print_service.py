"""The Chromium print service: real PDFs from a real browser, and pages that do not live for ever."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from quire.pdf import chromium
from support import CHROMIUM


@pytest.fixture
def service(monkeypatch):
    if not chromium.chromium_path():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (make setup-test installs it)")
    monkeypatch.setattr(chromium, "PRINTS_PER_PAGE", 2)
    with chromium.PrintService() as svc:
        svc.wait_ready()
        yield svc


def test_each_page_prints_a_bounded_number_of_reports_then_is_replaced(service):
    """A renderer keeps memory from every report it laid out: a 1,000-report batch must not print them all on one."""
    browser = service._browser
    used = []
    original = browser._page

    async def recording_page():
        page = await original()
        used.append(page)
        return page

    browser._page = recording_page
    for n in range(5):
        pdf = chromium.print_with_service(service.address.encode(), f"<html><body><h1>Report {n}</h1></body></html>",
                                          chromium.PDF_OPTIONS)
        assert f"Report {n}" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert len(used) == 5 and len({id(p) for p in used}) == 3  # two prints each: pages 1, 1, 2, 2, 3
    assert [p.is_closed() for p in used] == [True, True, True, True, False]
    assert len(browser.context.pages) == 1  # the closed ones are gone from the browser too
