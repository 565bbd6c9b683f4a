"""quire.formatting writes money, numbers, percentages and dates as Babel (CLDR) does for the run's locale,
with Quire's house rules on top: a typographic minus, a value that rounds to zero unsigned, "—" for missing."""

from __future__ import annotations

import math
import threading
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import (format_compact_currency, format_currency, format_decimal, format_percent,
                           get_decimal_symbol)

from quire import formatting
from quire.errors import WarehouseError
from quire.formatting import (MINUS, Conventions, compact, format_change, format_day, format_value, long_date, money,
                              month_year, number, percent, quarter_year, shares_percent, using)
from quire.formatting.axes import MoneyFormatter, PercentStepFormatter

ROOT = Path(__file__).resolve().parents[2]
#: (locale, currency) of the runs these tests write in
RUNS = [("en-US", "USD"), ("de-DE", "EUR"), ("fr-FR", "EUR"), ("en-GB", "GBP")]


def babel(tag: str) -> str:
    return tag.replace("-", "_")


def typographic(text: str) -> str:
    """Babel's text with Quire's minus."""
    return text.replace("-", MINUS)


@pytest.fixture(params=RUNS, ids=[tag for tag, _ in RUNS])
def run(request):
    tag, code = request.param
    with using(Conventions(tag, code)):
        yield tag, code


# -- money, numbers, percentages against Babel's own output ---------------------------------

def test_money_with_cents_is_babels_currency_format(run):
    tag, code = run
    assert money(1234.56, 2) == format_currency(1234.56, code, locale=babel(tag))
    assert money(-1234.56, 2) == typographic(format_currency(-1234.56, code, locale=babel(tag)))


def test_whole_money_is_babels_format_without_the_cents(run):
    tag, code = run
    cents = get_decimal_symbol(babel(tag)) + "00"
    assert money(97_993) == format_currency(97_993, code, locale=babel(tag)).replace(cents, "")
    assert money(-1_500) == typographic(format_currency(-1_500, code, locale=babel(tag)).replace(cents, ""))


def test_numbers_and_percentages_are_babels(run):
    tag, _ = run
    assert number(-1_234_567.891, 3) == typographic(format_decimal(-1_234_567.891, locale=babel(tag)))
    assert number(1_234.5, 1) == format_decimal(1_234.5, locale=babel(tag))
    assert percent(0.123) == format_percent(0.123, locale=babel(tag), decimal_quantization=False)
    assert percent(-0.25, 0) == typographic(format_percent(-0.25, locale=babel(tag)))


def test_the_german_acceptance_figures():
    with using(Conventions("de-DE", "EUR")):
        assert money(1234.56, 2) == "1.234,56\u00a0€"
        assert format_value(97_993, "currency") == "97.993\u00a0€"
        assert format_change(0.012, "pct_points") == "+1,2 pts"
        assert percent(0.123) == "12,3\u00a0%"


def test_the_default_writes_as_quire_always_did():
    assert formatting.current() == Conventions("en-US", "USD")
    assert format_value(97_993, "currency") == "$97,993"
    assert format_change(-1200, "currency") == "−$1,200"
    assert format_change(0.0123, "pct_points") == "+1.2 pts"
    assert format_value(-4, "points") == "−4 pts"
    assert compact(98_500, "currency") == "$98.5k" and compact(98_000, "currency") == "$98k"


# -- signs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [-0.004, -0.0, 0.0, 0.004])
def test_money_that_rounds_to_zero_is_unsigned(run, value):
    assert money(value) == money(0) == format_change(value, "currency")
    assert MINUS not in money(value) and "+" not in format_change(value, "currency")


def test_a_change_that_rounds_to_zero_is_unsigned(run):
    for unit, tiny in (("relative", -0.0004), ("pct_points", -0.0004), ("points", -0.4), ("months", -0.04)):
        text = format_change(tiny, unit)
        assert MINUS not in text and "+" not in text and not text.startswith("-"), (unit, text)
        assert formatting.rounds_to_zero(tiny, unit)


def test_signed_values_put_plus_where_the_locale_puts_its_minus(run):
    tag, code = run
    plus, minus = money(1200, signed=True), money(-1200)
    assert plus.replace("+", MINUS) == minus
    assert minus == typographic(format_currency(-1200, code, locale=babel(tag)).replace(get_decimal_symbol(babel(tag)) + "00", ""))


def test_swiss_negative_pattern_keeps_its_place():
    """de-CH writes the sign after the symbol ("CHF-1'234.50"); Quire's minus goes there too."""
    with using(Conventions("de-CH", "CHF")):
        assert money(-1234.5, 2) == typographic(format_currency(-1234.5, "CHF", locale="de_CH"))


def test_a_currency_code_is_kept_off_its_number():
    """CLDR's currency spacing, which Babel leaves out: "CHF 1,200" with a no-break space, "$1,200" with none."""
    assert money(1200, currency="CHF") == "CHF\u00a01,200"
    assert money(-1200, currency="CHF") == "−CHF\u00a01,200"
    assert money(1200, currency="USD") == "$1,200"


def test_a_currency_without_cents_is_never_written_with_them():
    with using(Conventions("ja-JP", "JPY")):
        assert money(1234.56, 2) == format_currency(1235, "JPY", locale="ja_JP")


# -- missing values -----------------------------------------------------------------------------

@pytest.mark.parametrize("missing", [None, math.nan, math.inf, -math.inf, pd.NA])
def test_missing_values_are_a_dash(run, missing):
    if missing is pd.NA:
        assert format_day(pd.NaT) == "—"
        return
    assert money(missing) == percent(missing) == number(missing) == compact(missing, "currency") == "—"
    assert format_value(missing, "currency") == format_change(missing, "relative") == "—"


# -- compact figures and chart axes ---------------------------------------------------------------

def test_compact_money_is_babels_short_form_where_the_locale_abbreviates(run):
    tag, code = run
    million = format_compact_currency(1_234_567, code, locale=babel(tag), fraction_digits=1)
    assert compact(1_234_567, "currency") == million
    if tag in ("fr-FR", "en-GB"):
        assert compact(98_500, "currency") == format_compact_currency(98_500, code, locale=babel(tag), fraction_digits=1)


def test_german_writes_thousands_in_full_and_english_thousands_as_k():
    with using(Conventions("de-DE", "EUR")):
        assert compact(98_500, "currency") == "98.500\u00a0€"  # CLDR de has no short form below a million
        assert compact(1_234_567, "currency") == "1,2\u00a0Mio.\u00a0€"
    assert compact(98_500, "currency") == "$98.5k"  # CLDR en-US says "K"; Quire has always written "k"
    with using(Conventions("fr-FR", "EUR")):
        assert compact(98_500, "currency") == "98,5\u00a0k\u00a0€"
        assert compact(-1_500, "currency") == "−1,5\u00a0k\u00a0€"


AXIS = [80_000, 82_500, 85_000, 87_500, 90_000]


@pytest.mark.parametrize("tag,code,expected", [
    ("en-US", "USD", ["$80.0k", "$82.5k", "$85.0k", "$87.5k", "$90.0k"]),
    ("de-DE", "EUR", ["80.000\u00a0€", "82.500\u00a0€", "85.000\u00a0€", "87.500\u00a0€", "90.000\u00a0€"]),
    ("fr-FR", "EUR", ["80,0\u00a0k\u00a0€", "82,5\u00a0k\u00a0€", "85,0\u00a0k\u00a0€", "87,5\u00a0k\u00a0€", "90,0\u00a0k\u00a0€"]),
    ("en-GB", "GBP", ["£80.0k", "£82.5k", "£85.0k", "£87.5k", "£90.0k"]),
])
def test_money_axis_shares_one_abbreviation_and_the_step_decimals(tag, code, expected):
    with using(Conventions(tag, code)):
        assert MoneyFormatter().format_ticks(AXIS) == expected


def test_smaller_ticks_of_a_shared_abbreviation_are_not_zero_padded():
    assert MoneyFormatter().format_ticks([6_000, 8_000, 10_000, 12_000, 14_000]) == ["$6k", "$8k", "$10k", "$12k", "$14k"]
    with using(Conventions("fr-FR", "EUR")):
        assert MoneyFormatter().format_ticks([500_000, 1_000_000, 1_500_000]) == [
            "0,5\u00a0M\u00a0€", "1,0\u00a0M\u00a0€", "1,5\u00a0M\u00a0€"]


def test_money_axis_of_small_amounts_writes_cents_and_zero_unsigned():
    with using(Conventions("de-DE", "EUR")):
        assert MoneyFormatter().format_ticks([-2.5, 0.0, 2.5, 5.0]) == ["−2,50\u00a0€", "0\u00a0€", "2,50\u00a0€", "5,00\u00a0€"]
    assert MoneyFormatter().format_ticks([-2.5, 0.0, 2.5, 5.0]) == ["−$2.50", "$0", "$2.50", "$5.00"]


def test_percent_axis_in_the_locale():
    ticks = [0.975, 0.98, 0.985, 0.99]
    with using(Conventions("de-DE", "EUR")):
        assert PercentStepFormatter().format_ticks(ticks) == ["97,5\u00a0%", "98,0\u00a0%", "98,5\u00a0%", "99,0\u00a0%"]
    assert PercentStepFormatter().format_ticks(ticks) == ["97.5%", "98.0%", "98.5%", "99.0%"]


# -- dates ----------------------------------------------------------------------------------------

def test_dates_follow_the_locale(run):
    tag, _ = run
    day = date(2026, 12, 1)
    if tag == "en-US":  # the day-first forms Quire's reports have always used
        assert (long_date(day), month_year(day)) == ("1 December 2026", "December 2026")
    else:
        assert long_date(day) == format_skeleton("yMMMMd", day, locale=babel(tag))
        assert month_year(day) == format_skeleton("yMMMM", day, locale=babel(tag))
    assert quarter_year(day) == format_skeleton("yQQQ", day, locale=babel(tag))
    assert long_date(datetime(2026, 12, 1, 23, 30)) == long_date(pd.Timestamp("2026-12-01")) == long_date(day)


def test_german_and_french_names():
    with using(Conventions("de-DE", "EUR")):
        assert (long_date(date(2026, 12, 1)), month_year(date(2026, 3, 1))) == ("1. Dezember 2026", "März 2026")
    with using(Conventions("fr-FR", "EUR")):
        assert (month_year(date(2026, 11, 1)), quarter_year(date(2026, 11, 1))) == ("novembre 2026", "T4 2026")


def test_period_labels_are_written_in_the_locale():
    from quire.periods import parse_period

    assert parse_period("2026-03").label == "March 2026" and parse_period("2026-Q2").label == "Q2 2026"
    with using(Conventions("de-DE", "EUR")):
        assert parse_period("2026-03").label == "März 2026"
    with using(Conventions("fr-FR", "EUR")):
        assert parse_period("2026-Q2").label == "T2 2026"


# -- the run's conventions ----------------------------------------------------------------------------

def test_conventions_are_validated_and_normalised():
    assert Conventions("de_de", "eur") == Conventions("de-DE", "EUR")
    for bad in ("xx-YY", "en-ZZ", "english", ""):
        with pytest.raises(ValueError, match="locale"):
            Conventions(bad, "EUR")
    with pytest.raises(ValueError, match="ISO 4217"):
        Conventions("de-DE", "EURO")


def test_use_reaches_code_that_runs_in_another_context_and_using_is_undone():
    """IPython cells and widget callbacks may run in a fresh context: use() is seen there too."""
    seen = []
    try:
        formatting.use(Conventions("de-DE", "EUR"))
        thread = threading.Thread(target=lambda: seen.append(money(1234.5, 2)))
        thread.start()
        thread.join()
        with using(Conventions("fr-FR", "EUR")):
            assert money(5) == "5\u00a0€" and month_year(date(2026, 5, 1)) == "mai 2026"
        assert money(5) == "5\u00a0€" and month_year(date(2026, 5, 1)) == "Mai 2026"
    finally:
        formatting.use(formatting.DEFAULT)
    assert seen == ["1.234,50\u00a0€"] and money(5) == "$5"


def test_a_clients_own_conventions_override_its_brands():
    from quire.brand import load_brand

    kit = load_brand("quire")
    assert formatting.for_brand(kit) == Conventions("en-US", "USD")
    assert formatting.for_brand(kit, {"locale": "fr-FR", "currency": None}) == Conventions("fr-FR", "USD")
    assert formatting.for_brand(kit, {"locale": " ", "currency": "chf"}) == Conventions("en-US", "CHF")
    assert formatting.for_brand(kit, {"locale": math.nan, "currency": math.nan}) == Conventions("en-US", "USD")
    with pytest.raises(WarehouseError, match="client acme: its currency in the warehouse's clients table: 'EURO' is not"):
        formatting.for_brand(kit, {"slug": "acme", "currency": "EURO"})


def test_every_locale_babel_knows_for_a_few_languages_loads():
    for tag in ("de-AT", "de-CH", "fr-CA", "es-ES", "pt-BR", "nl-NL", "sv-SE", "en-IN"):
        assert Conventions(tag, "EUR").babel == Locale.parse(babel(tag))


# -- what reads a run back writes its figures as the run did ---------------------------------------

def test_the_console_compares_figures_in_the_runs_conventions():
    from quire.console.compare import Figure

    german = Figure("mrr", "MRR", "currency", 13_200.0, 12_000.0, "up_is_good", [12_000.0, 13_200.0],
                    Conventions("de-DE", "EUR"))
    assert german.change == "+1.200\u00a0€ (+10,0\u00a0%)" and german.shown(13_200) == "13.200\u00a0€"
    rate = Figure("nrr", "NRR", "percent", 1.043, 1.031, "up_is_good", [], Conventions("de-DE", "EUR"))
    assert rate.change == "+1,2 pts"
    assert Figure("mrr", "MRR", "currency", 13_200.0, 12_000.0, "up_is_good", []).change == "+$1,200 (+10.0%)"


def test_a_change_that_rounds_to_nothing_is_flat_on_the_compare_page_as_on_the_card():
    from quire.console.compare import Figure
    from quire.metrics.kpi import Kpi

    # 1.975 % against 2.002 %: "0.0 pts", grey on the report's card, was red and "(worse)" on the compare page.
    small = Figure("engagement_rate", "Engagement rate", "percent", 0.01975, 0.02002, "up_is_good", [])
    assert Kpi("engagement_rate", "Engagement rate", 0.01975, "percent", 0.02002).is_good is None
    assert small.tone == "flat" and small.change == "no change"
    assert Figure("engagement_rate", "Engagement rate", "percent", 0.0190, 0.0200, "up_is_good", []).tone == "bad"
    assert Figure("churn", "Churn", "percent", 0.0190, 0.0200, "down_is_good", []).tone == "good"


def test_the_report_email_writes_the_headline_as_the_run_did(tmp_path):
    import json

    from quire.catalog import load_catalog
    from quire.delivery.compose import report_message

    spec = load_catalog(ROOT / "reports.yaml").get("executive")
    headline = [{"name": "mrr", "label": "MRR", "value": 13_071.0, "unit": "currency"},
                {"name": "nrr", "label": "NRR", "value": 1.043, "unit": "percent"}]
    (tmp_path / "run.json").write_text(json.dumps({"title": "Executive report", "period": "November 2026",
                                                   "headline": headline, "locale": "de-DE", "currency": "EUR"}))
    run = {"run_id": "r1", "output_folder": str(tmp_path), "client": None, "parameters": {}}
    message = report_message(run, spec, "cfo@example.com")
    assert "MRR: 13.071\u00a0€" in message.text and "NRR: 104,3\u00a0%" in message.text and "$" not in message.text


def test_the_report_email_quotes_each_card_with_its_change_as_the_report_shows_it(tmp_path):
    import json

    from quire.catalog import load_catalog
    from quire.delivery.compose import report_message
    from quire.display import KPIS_MIME, KpiCards
    from quire.metrics.kpi import Kpi

    cards = KpiCards([Kpi("mrr", "MRR", 97_993.4, "currency", 98_396.0),
                      Kpi("nrr", "Net revenue retention", 0.97349, "percent", 1.0291),
                      Kpi("months", "Months to recover", 14.25, "months", decimals=1)],  # no previous period
                     comparison_label="October 2026")
    headline = cards._repr_mimebundle_()[KPIS_MIME]
    (tmp_path / "run.json").write_text(json.dumps({"title": "Executive report", "period": "November 2026",
                                                   "headline": headline}))
    run = {"run_id": "r1", "output_folder": str(tmp_path), "client": None, "parameters": {}}
    message = report_message(run, load_catalog(ROOT / "reports.yaml").get("executive"), "cfo@example.com")
    assert "  MRR: $97,993 (−0.4% worse than October 2026)\n" in message.text
    assert "  Net revenue retention: 97.3% (−5.6 pts worse than October 2026)\n" in message.text
    # Each the card's own text: the figure with the card's decimals, the change with its arrow's sign, better or worse.
    assert [line.split(": ", 1)[1] for line in message.text.splitlines() if line.startswith("  ")] == [
        f"{cards.shown(k)} ({k.change_text()} {cards.compared(k)})" if k.delta is not None else cards.shown(k)
        for k in cards.kpis]
    assert "<td>−0.4% worse than October 2026</td>" in message.html


@pytest.mark.parametrize("shares, whole", [
    ([0.069, 0.066, 0.865], [7, 7, 86]),  # each rounded alone: 7 + 7 + 87 = 101 %
    ([1 / 3, 1 / 3, 1 / 3], [34, 33, 33]),
    ([0.0, 1.0, None], [0, 100, None]),
    ([0.0, 0.0], [0, 0]),
])
def test_shares_of_a_whole_add_up_to_a_hundred(run, shares, whole):
    shown = ["—" if w is None else percent(w / 100, 0) for w in whole]
    assert shares_percent(shares) == shown
    from quire.charts.executive import health_bands

    if None not in shares and sum(shares):
        frame = pd.DataFrame({"band": ["healthy", "watch", "at_risk"][:len(shares)], "clients": [1] + [2] * (len(shares) - 1),
                              "share": shares})
        alt = health_bands(frame).alt
        tenths = shares_percent(shares, 1)[0]  # the chart gives the tenths of the table beside it
        assert alt.startswith(f"Bar chart of active accounts by health band: Healthy 1 account ({tenths} of MRR)"), alt


@pytest.mark.parametrize("shares, tenths", [
    ([0.6549, 0.3101, 0.035], [655, 310, 35]),  # each rounded alone: 65.5 + 31.0 + 3.5 = 100.0 (no change needed)
    ([1 / 3, 1 / 3, 1 / 3], [334, 333, 333]),
    ([0.12345, 0.87655], [123, 877]),
    ([0.0004, 0.9996, None], [0, 1000, None]),
])
def test_shares_of_a_whole_at_tenths_add_up_to_a_hundred(shares, tenths):
    from quire.formatting import shares_rounded

    assert shares_rounded(shares, 1) == [None if t is None else t / 1000 for t in tenths]
    assert shares_percent(shares, 1) == ["—" if t is None else percent(t / 1000, 1) for t in tenths]


@pytest.mark.parametrize("values,decimals", [
    ([74.5, 102.5, 170.5], 1),  # hours: "102" beside 74.5 made the shown overrun 36.9% of a stated 37.6%
    ([102.0, 170.0, None], 0),  # whole numbers stay whole
    ([12_345.6, 3.0], 0),  # a large figure's tenths are noise; alone, they do not spread to the column
])
def test_a_column_of_plain_numbers_keeps_the_tenths_its_figures_have(values, decimals):
    from quire.formatting.units import column_decimals

    assert column_decimals(values, "number") == decimals


@pytest.mark.parametrize("value, text", [(-1, "−1 pt"), (1, "+1 pt"), (0.6, "+1 pt"), (2, "+2 pts"), (0, "0 pts"),
                                         (11, "+11 pts"), (-21, "−21 pts")])
def test_one_whole_point_is_singular(value, text):
    """A health score card read "−1 pts" beside a lead that said "1 point"."""
    from quire.formatting import percentage_points, score_points

    assert score_points(value) == text
    assert percentage_points(value / 100, 0) == text
    assert percentage_points(0.01) == "+1.0 pts"  # with decimals it is a measure, plural as written
