"""NPS and CSAT reference values."""

from datetime import date

import pandas as pd
import pytest

from quire.errors import WarehouseDataError
from quire.metrics import csat, nps, satisfaction
from quire.periods import parse_period


def test_nps_reference_value():
    # 5 promoters (9–10), 3 passives (7–8), 2 detractors (0–6) of 10: 50 % − 20 % = 30.
    assert nps([9, 10, 9, 10, 9, 7, 8, 7, 0, 6]) == pytest.approx(30.0)


@pytest.mark.parametrize("scores,expected", [
    ([10, 10], 100.0),
    ([6, 0, 3], -100.0),
    ([7, 8], 0.0),  # passives only count in the base
    ([9, 6], 0.0),  # the boundaries: 9 promotes, 6 detracts
    ([9, 8, 7, 6], 0.0),
    ([10, 7, 7, 7], 25.0),  # 1/4 promoters, no detractors
])
def test_nps_boundaries(scores, expected):
    assert nps(scores) == pytest.approx(expected)


def test_csat_is_share_of_four_and_five():
    assert csat([5, 4, 3, 2, 5]) == pytest.approx(3 / 5)
    assert csat(pd.Series([1, 2, 3])) == 0.0


def test_empty_and_missing_scores_give_none():
    assert nps([]) is None and csat([]) is None
    assert nps([float("nan")]) is None
    assert nps([10, float("nan"), 0]) == pytest.approx(0.0)  # the missing answer is not counted


def test_out_of_range_scores_are_bad_data():
    with pytest.raises(WarehouseDataError, match="0–10"):
        nps([11, 9])
    with pytest.raises(WarehouseDataError, match="1–5"):
        csat([0, 5])


def test_satisfaction_of_a_period():
    responses = pd.DataFrame({
        "responded_on": [date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 15), date(2026, 10, 31),
                         date(2026, 10, 2), date(2026, 10, 3), date(2026, 11, 1)],
        "survey": ["nps", "nps", "nps", "nps", "csat", "csat", "csat"],
        "score": [0, 10, 9, 3, 5, 2, 1],
    })
    s = satisfaction(responses, parse_period("2026-10"))
    # October NPS answers 10, 9, 3 → (2 − 1) / 3 = 33.3; CSAT answers 5, 2 → 1/2.
    assert s.nps == pytest.approx(100 / 3) and s.nps_responses == 3
    assert s.csat == pytest.approx(0.5) and s.csat_responses == 2


def test_satisfaction_without_answers():
    empty = pd.DataFrame({"responded_on": [], "survey": [], "score": []})
    s = satisfaction(empty, parse_period("2026-10"))
    assert (s.nps, s.csat, s.nps_responses, s.csat_responses) == (None, None, 0, 0)
