"""What an experiment's continuous metric measures, read from its optional experiments columns."""

from __future__ import annotations

import pytest

from quire.errors import WarehouseDataError
from quire.formatting.conventions import Conventions, current, use
from quire.metrics.experiment_measure import REVENUE, Measure, measure_from


@pytest.mark.parametrize("name,unit", [(None, None), ("", ""), ("  ", None), (float("nan"), float("nan"))])
def test_blank_columns_mean_revenue_in_money(name, unit):
    assert measure_from(name, unit) == REVENUE


@pytest.mark.parametrize("name,unit,expected", [
    ("Game rounds", "number", Measure("game rounds", "number")),  # a capitalised word reads lower-case in a sentence
    ("ARPU", " Currency ", Measure("ARPU", "currency")),  # an acronym keeps its capitals; the unit is read loosely
    ("minutes watched", None, Measure("minutes watched", "currency")),
])
def test_a_named_measure_is_read_as_a_sentence_uses_it(name, unit, expected):
    assert measure_from(name, unit) == expected


def test_an_unknown_unit_or_a_name_too_long_for_the_titles_is_refused_with_the_way_out():
    with pytest.raises(WarehouseDataError) as err:
        measure_from("game rounds", "rounds")
    assert "experiments.metric_unit" in err.value.message and "currency" in err.value.hint
    assert not err.value.transient  # the data must change: retrying the run will not help
    with pytest.raises(WarehouseDataError, match="longer than 24 characters"):
        measure_from("average number of game rounds played", "number")


def test_amounts_are_money_with_cents_or_plain_numbers_in_the_run_locale():
    rounds = Measure("game rounds", "number")
    before = current()
    try:
        use(Conventions("en-US", "USD"))
        assert REVENUE.format(2.834, signed=True) == "+$2.83" and REVENUE.zero == "$0"
        assert rounds.format(1234.5, signed=True) == "+1,234.50" and rounds.zero == "0"
        assert rounds.title == "Game rounds per user" and rounds.axis_unit == "game rounds per user"
        use(Conventions("de-DE", "EUR"))
        assert rounds.format(1234.5) == "1.234,50"
    finally:
        use(before)


def test_glossary_text_written_of_revenue_is_said_of_the_measure():
    rounds = Measure("game rounds", "number")
    assert rounds.reword("Revenue: Welch's t-test on revenue, or money per user.") == (
        "Game rounds: Welch's t-test on game rounds, or game rounds per user.")
    assert REVENUE.reword("Revenue stays") == "Revenue stays"
