from datetime import date

import duckdb
import pytest
from support import ROOT

from quire.catalog import ParameterSpec
from quire.config import Settings
from quire.errors import ParameterError
from quire.parameters import DeclaredParameter, closest, coerce, did_you_mean, parse_assignments, validate_parameters
from quire.pipeline import prepare

DECLARED = {
    "period": DeclaredParameter("period", ParameterSpec(type="period"), "latest"),
    "forecast_months": DeclaredParameter("forecast_months", ParameterSpec(type="int", min=1, max=24), 6),
    "segment": DeclaredParameter("segment", ParameterSpec(type="choice", choices=("all", "municipality")), "all"),
    "show_detail": DeclaredParameter("show_detail", ParameterSpec(type="bool"), True),
    "as_of": DeclaredParameter("as_of", ParameterSpec(type="date"), "2026-10-31"),
}


def test_defaults_and_overrides_are_typed():
    values = validate_parameters("executive", DECLARED, {"forecast_months": "12", "show_detail": "no", "period": "2026-Q3"})
    assert values == {"period": "2026-Q3", "forecast_months": 12, "segment": "all", "show_detail": False, "as_of": "2026-10-31"}


def test_unknown_parameter_lists_known_and_suggests():
    with pytest.raises(ParameterError) as info:
        validate_parameters("executive", DECLARED, {"nosuch": "1"})
    assert "unknown parameter 'nosuch' for report 'executive'" in str(info.value)
    assert "forecast_months" in str(info.value)
    with pytest.raises(ParameterError, match="did you mean 'period'"):
        validate_parameters("executive", DECLARED, {"perod": "2026-10"})
    with pytest.raises(ParameterError, match="did you mean 'forecast_months'"):
        validate_parameters("executive", DECLARED, {"forecast": "3"})


@pytest.mark.parametrize("given,known,expected", [
    ("checkout", ["homepage-aa", "checkout-redesign", "search-ranking"], "checkout-redesign"),  # the start of one name
    ("CHECKOUT", ["checkout-redesign"], "checkout-redesign"),
    ("city", ["city-of-bridgeview", "city-of-springford"], None),       # the start of two: no guess
    ("ashveiw-builders", ["ashview-builders", "brightlane-labs"], "ashview-builders"),  # a typo
    # The start of a name, misspelt after: brand shares more letters with grain, granularity its beginning.
    ("grain", ["activation_days", "behaviour", "brand", "cohorts", "granularity", "horizon", "period"], "granularity"),
    ("perido", ["period", "horizon"], "period"),
    ("city-of-springfeld", ["city-of-springfield", "city-of-springford"], "city-of-springfield"),  # then the nearest
    ("zzz", ["ashview-builders"], None),
    ("", ["ashview-builders"], None),
    ("x", [], None),
])
def test_closest_prefers_the_one_name_a_prefix_begins(given, known, expected):
    assert closest(given, known) == expected


@pytest.mark.parametrize("given,suggested", [
    # Two clients whose names made the same slug: naming one of them could send a user to the other's report.
    ("cafe-zurich", "did you mean 'cafe-zurich-6' or 'cafe-zurich-7'? "),
    ("café-zurich-6", "did you mean 'cafe-zurich-6'? "),  # the accent a slug leaves out
    ("Riverton-Realty", "did you mean 'riverton-realty'? "),
    ("rivertn-realty", "did you mean 'riverton-realty'? "),
    ("zzz", ""),
])
def test_did_you_mean_names_every_equally_likely_name(given, suggested):
    assert did_you_mean(given, ["cafe-zurich-6", "cafe-zurich-7", "riverton-realty"]) == suggested


@pytest.mark.parametrize("name,value,message", [
    ("forecast_months", "six", "is not a whole number"),
    ("forecast_months", "99", "out of range; use a value between 1 and 24"),
    ("forecast_months", "2.5", "is not a whole number"),
    ("segment", "startups", "choose one of all, municipality"),
    ("show_detail", "maybe", "use true or false"),
    ("as_of", "31/10/2026", "use YYYY-MM-DD"),
    ("period", "banana", "YYYY-MM"),
])
def test_bad_values_name_the_parameter(name, value, message):
    with pytest.raises(ParameterError) as info:
        validate_parameters("executive", DECLARED, {name: value})
    assert f"parameter '{name}'" in str(info.value)
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_typed_values_from_a_schedule_pass():
    assert coerce("n", ParameterSpec(type="int"), 3) == 3
    assert coerce("d", ParameterSpec(type="date"), date(2026, 1, 2)) == "2026-01-02"
    with pytest.raises(ParameterError):
        coerce("n", ParameterSpec(type="int"), True)


def test_parse_assignments():
    assert parse_assignments(["period=2026-10", "x=a=b"]) == {"period": "2026-10", "x": "a=b"}
    with pytest.raises(ParameterError, match=r"name=value \(e.g. -p period=2026-10\)"):
        parse_assignments(["period"])
    with pytest.raises(ParameterError, match=r"'sector'; write it as name=value \(e.g. --clients sector=nonprofit\)"):
        parse_assignments(["sector"], example="--clients sector=nonprofit")
    with pytest.raises(ParameterError, match="given twice"):
        parse_assignments(["a=1", "a=2"])


@pytest.mark.parametrize("kind, words", [("client", "a client key"), ("experiment", "an experiment key")])
def test_a_key_that_could_name_a_path_is_refused_by_its_syntax(kind: str, words: str):
    for bad in ("../../etc", "Acme Corp", "acme;drop", "ACME"):
        with pytest.raises(ParameterError, match=f"is not {words} "):
            coerce(kind, ParameterSpec(type=kind), bad)
    assert coerce(kind, ParameterSpec(type=kind), "acme-2") == "acme-2"


def _first(url: str, query: str) -> tuple:
    con = duckdb.connect(url.removeprefix("duckdb:///"), read_only=True)
    try:
        return con.execute(query).fetchone()
    finally:
        con.close()


def _refusal(report: str, given: dict[str, str], settings: Settings) -> str:
    with pytest.raises(ParameterError) as caught:
        prepare(report, given, settings)
    assert caught.value.parameter == next(iter(given))
    return str(caught.value)


def test_a_key_typed_as_a_name_or_a_path_is_answered_from_the_warehouse(tiny_warehouse, tmp_path):
    # A client's name where its key goes got no suggestion at all, and a path got the key it spells ("../../etc" →
    # "did you mean 'etc'?"), which named no client.
    settings = Settings(home=ROOT, outputs=tmp_path / "out", warehouse_url=tiny_warehouse)
    slug, name = _first(tiny_warehouse, "select slug, name from clients where name like '% %' order by slug")
    for typed in (name, f"  {name.upper().replace(' ', '   ')} "):
        assert _refusal("client", {"client": typed}, settings).endswith(f"did you mean '{slug}'?")
    path = _refusal("client", {"client": "../../etc"}, settings)
    assert "is not a client key" in path and "did you mean" not in path and path.endswith("`quire clients` lists them")
    key, title = _first(tiny_warehouse, "select key, name from experiments order by key")
    assert _refusal("experiment", {"experiment": title}, settings).endswith(f"did you mean '{key}'?")
    # A warehouse that cannot say: the mistake as the text alone shows it.
    gone = Settings(home=ROOT, outputs=tmp_path / "out", warehouse_url=f"duckdb:///{tmp_path / 'none.duckdb'}")
    assert _refusal("client", {"client": slug.upper()}, gone).endswith(f"is not a client key (lower-case letters, "
                                                                        f"digits and dashes); did you mean '{slug}'?")


def test_a_key_or_choice_in_the_wrong_case_or_spelling_gets_the_likely_one():
    for typed in ("Riverton-Realty", "riverton_realty", "rivértön-realty"):  # case, underscores, accents
        with pytest.raises(ParameterError, match=r"is not a client key \(.*\); did you mean 'riverton-realty'\?$"):
            coerce("client", ParameterSpec(type="client"), typed)
    with pytest.raises(ParameterError) as caught:
        coerce("client", ParameterSpec(type="client"), "Acme Corp")
    assert "did you mean" not in str(caught.value)
    grain = ParameterSpec(type="choice", choices=["week", "month"])
    for given, meant in (("Month", "month"), ("weekly", "week"), ("WEEK", "week")):
        with pytest.raises(ParameterError, match=rf"'{given}' is not allowed; did you mean '{meant}'\? choose one of"):
            coerce("granularity", grain, given)
    with pytest.raises(ParameterError, match=r"'day' is not allowed; choose one of week, month$"):
        coerce("granularity", grain, "day")


@pytest.mark.parametrize("kind,value", [("int", float("inf")), ("int", float("-inf")), ("int", float("nan")),
                                        ("float", float("inf"))])
def test_a_number_past_a_float_is_a_parameter_error_not_a_crash(kind, value):
    # The API's JSON "forecast_months": 1e400 arrives as infinity: int() raised OverflowError, a 500.
    with pytest.raises(ParameterError, match=r"^parameter 'n': .* is not a (whole|finite) number"):
        coerce("n", ParameterSpec(type=kind), value)


@pytest.mark.parametrize("value", ["٣", "３", "1\u00a02", "1_2"])
def test_a_number_is_written_in_ascii_digits(value):
    # Python's int() reads Arabic-Indic and full-width digits (-p forecast_months=٣ ran with 3) and "1_2" as 12.
    with pytest.raises(ParameterError, match=r"is not a whole number"):
        coerce("n", ParameterSpec(type="int"), value)
    with pytest.raises(ParameterError, match=r"is not a number"):
        coerce("x", ParameterSpec(type="float"), value)
