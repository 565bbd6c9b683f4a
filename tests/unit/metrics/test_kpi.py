"""Kpi comparisons and the one number formatter."""

import json

import numpy as np
import pytest

from quire.metrics import Kpi, format_value


def test_delta_and_direction():
    mrr = Kpi("mrr", "MRR", 110_000.0, "currency", 100_000.0, "up_is_good")
    assert mrr.delta == 10_000 and mrr.delta_pct == pytest.approx(0.10) and mrr.is_good is True
    churn = Kpi("logo_churn", "Logo churn", 0.03, "percent", 0.02, "down_is_good")
    assert churn.delta == pytest.approx(0.01) and churn.delta_pct == pytest.approx(0.5) and churn.is_good is False
    assert Kpi("logo_churn", "Logo churn", 0.01, "percent", 0.02, "down_is_good").is_good is True


def test_negative_previous_uses_its_magnitude():
    # NPS from −20 to −10 is a 50 % improvement, not −50 %.
    nps = Kpi("nps", "NPS", -10.0, "points", -20.0)
    assert nps.delta == 10 and nps.delta_pct == pytest.approx(0.5) and nps.is_good is True


def test_unknown_and_flat_changes():
    assert Kpi("nps", "NPS", 41.0, "points", None).delta is None
    assert Kpi("nps", "NPS", 41.0, "points", None).is_good is None
    assert Kpi("arpa", "ARPA", 5.0, "currency", 0.0).delta_pct is None
    assert Kpi("arpa", "ARPA", 5.0, "currency", 0.0).is_good is True
    assert Kpi("nrr", "NRR", 0.1 + 0.2, "percent", 0.3).is_good is None  # equal up to float noise: flat
    assert Kpi("mrr", "MRR", 1_000_000.0 + 1e-7, "currency", 1_000_000.0).is_good is None  # relative noise too
    assert Kpi("nrr", "NRR", float("nan"), "percent", 0.3).value is None  # pandas' "no data"


def test_to_dict_is_json_safe():
    kpi = Kpi("mrr", "MRR", np.float64(110_000.0), "currency", float("inf"))
    record = kpi.to_dict()
    assert record == {"name": "mrr", "label": "MRR", "value": 110_000.0, "unit": "currency", "previous": None,
                      "delta": None, "change": None, "change_unit": None, "direction": "up_is_good"}
    assert type(record["value"]) is int  # a plain Python number (not numpy); a whole one is an int
    json.dumps(record, allow_nan=False)


def test_the_record_keeps_the_change_its_card_shows():
    # run.json's delta is value − previous ($9.41 of LTV) while the card says "+29.8%": the record says both.
    ltv, rate = Kpi("ltv", "LTV", 41.0, "currency", 31.59), Kpi("nrr", "NRR", 0.973, "percent", 1.029)
    assert (ltv.to_dict()["delta"], ltv.to_dict()["change_unit"], ltv.change_text()) == (9.41, "relative", "+29.8%")
    assert ltv.to_dict()["change"] == pytest.approx(9.41 / 31.59)
    assert (rate.to_dict()["change"], rate.to_dict()["change_unit"], rate.change_text()) == (-0.056, "pct_points", "−5.6 pts")


def test_rejects_unknown_unit_and_direction():
    with pytest.raises(ValueError, match="unit"):
        Kpi("x", "X", 1.0, "dollars")
    with pytest.raises(ValueError, match="direction"):
        Kpi("x", "X", 1.0, "number", None, "sideways")


@pytest.mark.parametrize("value,unit,expected", [
    (1_234_567, "currency", "$1,234,567"),
    (1_234_566.6, "currency", "$1,234,567"),
    (-1_234.4, "currency", "−$1,234"),
    (-0.004, "currency", "$0"),  # rounds to zero: no sign
    (4.16, "currency", "$4.16"), (0.35, "currency", "$0.35"), (5.0, "currency", "$5"),  # cents below $100
    (99.995, "currency", "$100"), (100.4, "currency", "$100"),
    (0.123, "percent", "12.3%"),
    (1.0, "percent", "100.0%"),
    (-0.0004, "percent", "0.0%"),
    (-0.021, "percent", "−2.1%"),
    (1234, "number", "1,234"),
    (1234.4, "number", "1,234"),
    (2.34, "number", "2.3"),  # an average keeps a decimal
    (3.0, "number", "3"),
    (4, "points", "+4 pts"),
    (-3.6, "points", "−4 pts"),
    (0.2, "points", "0 pts"),
    (18.24, "months", "18.2 months"),
    (None, "currency", "—"),
    (float("nan"), "percent", "—"),
])
def test_format_value(value, unit, expected):
    assert format_value(value, unit) == expected


def test_format_value_currencies_and_errors():
    assert format_value(1500, "currency", currency="EUR") == "€1,500"
    # A code is kept off its number by a no-break space (CLDR's currency spacing): never split over two lines.
    assert format_value(1500, "currency", currency="CHF") == "CHF\u00a01,500"
    with pytest.raises(ValueError, match="unknown unit"):
        format_value(1.0, "dollars")
