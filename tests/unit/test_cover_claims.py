"""What a report says about its comparisons is said only where it is true."""

from __future__ import annotations

import re

import pytest

from quire.brand import list_brands, load_brand
from quire.glossary import definitions
from quire.reports import cohort, executive, experiment

COMPARISON = re.compile(r"compared with the previous period|previous period of the same length", re.IGNORECASE)


@pytest.mark.parametrize("brand", list_brands())
def test_no_brand_claims_a_comparison_on_every_report(brand):
    """A brand's cover text is printed on every report in that brand, and cohort and experiment reports compare
    nothing with a previous period: the claim belongs to the reports that make the comparison."""
    kit = load_brand(brand)
    lines = [text for audience in ("internal", "client") for text in kit.lines_for(audience, "A client").values()]
    for text in (kit.cover_text, *lines):
        assert not COMPARISON.search(text or ""), (brand, text)


def test_only_reports_that_compare_periods_define_the_comparison():
    assert "previous_period" in executive.GLOSSARY_KEYS  # shown only when the data holds the previous period
    for module in (cohort, experiment):
        keys = getattr(module, "GLOSSARY_KEYS", [])
        assert "previous_period" not in keys
        assert not any(COMPARISON.search(definitions()[k]["definition"]) for k in keys)
