"""The experiment report against messy warehouse data: empty (NULL) and non-finite values where the demo has none.

Each test plants the mess in a copy of the ``tiny`` warehouse (the columns' NOT NULL
dropped first, as a warehouse of the user's own has none) and holds the report to its own
rules: an experiment without a key or a start date is refused in one line, not a traceback
or a report of nothing; a user without a recorded conversion or revenue counts as not
converted or as 0, as the glossary defines the rates, and the report says how many.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quire.display import Callout
from quire.errors import ParameterError, WarehouseDataError
from quire.metrics.experiment_analysis import has_covariate
from quire.reports import experiment as er
from quire.warehouse import experiment_queries
from quire.warehouse.engine import engine


def planted(tiny_warehouse: str, path, *statements: str, nullable: tuple[tuple[str, str], ...] = ()) -> str:
    """The URL of a copy of the tiny warehouse at ``path`` with ``statements`` run, after dropping NOT NULL from the
    ``nullable`` (table, column) pairs."""
    from support import warehouse_copy

    with warehouse_copy(tiny_warehouse, path) as con:
        for table, column in nullable:
            con.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP NOT NULL')
        for statement in statements:
            con.execute(statement)
    return f"duckdb:///{path}"


def notes(report: er.ExperimentReport, title: str) -> list[str]:
    """The messages of the verdict section's callouts titled ``title``."""
    return [c.message for c in report.verdict().children if isinstance(c, Callout) and c.title == title]


# --------------------------------------------------------------------------- the experiments table


@pytest.fixture(scope="module")
def keyless_and_undated(tiny_warehouse, tmp_path_factory) -> str:
    """homepage-aa without a key, pricing-page-layout without a start date."""
    return planted(tiny_warehouse, tmp_path_factory.mktemp("messy") / "wh.duckdb",
                   "UPDATE experiments SET key = NULL WHERE key = 'homepage-aa'",
                   "UPDATE experiments SET started_on = NULL WHERE key = 'pricing-page-layout'",
                   nullable=(("experiments", "key"), ("experiments", "started_on")))


def test_an_experiment_without_a_key_is_not_offered_as_nan(keyless_and_undated, tmp_path):
    # The known keys read "…, nan, …" and -p experiment=nan failed with "'NoneType' object is not subscriptable".
    from quire.config import Settings
    from quire.pipeline import prepare

    eng = engine(keyless_and_undated)
    with eng.connect() as conn:
        keys = experiment_queries.experiment_keys(conn)
        assigned = experiment_queries.assigned_experiment_keys(conn)
    eng.dispose()
    assert keys == ["checkout-redesign", "onboarding-upsell", "search-ranking", "pricing-page-layout"]
    assert "nan" not in assigned and "None" not in assigned
    settings = Settings(outputs=tmp_path / "out", warehouse_url=keyless_and_undated)
    with pytest.raises(ParameterError) as err:
        prepare("experiment", {"experiment": "nan"}, settings)
    assert "no experiment 'nan'" in str(err.value) and ", nan" not in str(err.value)


def test_an_experiment_without_a_start_date_is_refused_naming_it_and_the_column(keyless_and_undated, tmp_path):
    # It was published with the period "— – 13 August 2026 (nan days)" and "all users were assigned outside the dates".
    from quire.config import Settings
    from quire.pipeline import prepare

    with pytest.raises(WarehouseDataError) as err:
        er.build("pricing-page-layout", url=keyless_and_undated)
    message = str(err.value)
    assert "'pricing-page-layout' has no start date" in message and "started_on" in message
    assert "\n" not in message
    settings = Settings(outputs=tmp_path / "out", warehouse_url=keyless_and_undated)
    with pytest.raises(WarehouseDataError, match="'pricing-page-layout' has no start date"):
        prepare("experiment", {"experiment": "pricing-page-layout"}, settings)


def test_latest_is_never_an_experiment_without_a_start_date(tiny_warehouse, tmp_path):
    # NULL sorts after every date: the undated experiment was "the one that started last", refused every time.
    url = planted(tiny_warehouse, tmp_path / "wh.duckdb",
                  "UPDATE experiments SET started_on = NULL WHERE key = 'checkout-redesign'",
                  nullable=(("experiments", "started_on"),))
    eng = engine(url)
    with eng.connect() as conn:
        assert experiment_queries.experiment_keys(conn)[-1] == "checkout-redesign"
        assert experiment_queries.newest_experiment_key(conn) == "search-ranking"
    eng.dispose()


def test_an_experiment_that_has_not_started_is_refused_saying_when_it_starts(tiny_warehouse, tmp_path):
    # A planned experiment was published as "Since 1 March 2027 (still running)", over nobody.
    from datetime import date, timedelta

    start = date.today() + timedelta(days=90)
    url = planted(tiny_warehouse, tmp_path / "wh.duckdb",
                  f"UPDATE experiments SET started_on = DATE '{start}', ended_on = NULL WHERE key = 'search-ranking'")
    with pytest.raises(ParameterError) as err:
        er.build("search-ranking", url=url)
    assert "'search-ranking' has not started" in str(err.value) and str(start.year) in str(err.value)
    assert err.value.parameter == "experiment"


# --------------------------------------------------------------------------- the assignments


@pytest.fixture(scope="module")
def upsell(tiny_warehouse) -> er.ExperimentReport:
    return er.build("onboarding-upsell", url=tiny_warehouse)


@pytest.mark.parametrize("empty", ["NULL", "'NaN'::DOUBLE", "'Infinity'::DOUBLE"])
def test_a_revenue_not_recorded_counts_as_zero_and_the_report_says_for_how_many(tiny_warehouse, tmp_path, upsell,
                                                                                 empty):
    # A non-buyer left NULL by a LEFT JOIN dropped out of the revenue test alone: on the demo, ship became don't ship.
    url = planted(tiny_warehouse, tmp_path / "wh.duckdb",
                  f"UPDATE experiment_assignments SET revenue = {empty} WHERE variant = 'control' AND revenue = 0 AND "
                  "experiment_id = (SELECT experiment_id FROM experiments WHERE key = 'onboarding-upsell')",
                  nullable=(("experiment_assignments", "revenue"),))
    report = er.build("onboarding-upsell", url=url)
    control = upsell.data.assignments.query("variant == 'Control'")
    zeros, users = int((control["revenue"] == 0).sum()), len(control)
    assert zeros > 0
    for variant, welch in report.analysis.welch.items():  # the same figures as the warehouse that held the 0s
        assert (welch.n_b, welch.mean_b, welch.p_value) == pytest.approx(
            (upsell.analysis.welch[variant].n_b, upsell.analysis.welch[variant].mean_b, upsell.analysis.welch[variant].p_value))
    assert report.analysis.verdict.decision == upsell.analysis.verdict.decision
    treated = len(upsell.data.assignments) - users
    assert notes(report, "Counted as $0:") == [
        f"{zeros:,} users have no revenue recorded (experiment_assignments.revenue is empty or not a finite number) and "
        f"count as $0, as users who bought nothing do: Control {zeros:,} of {users:,}, Guided setup 0 of {treated:,}. "
        "If they had revenue, record it before trusting the revenue figures."]
    assert notes(upsell, "Counted as $0:") == []


def test_a_conversion_not_recorded_counts_as_not_converted_and_the_report_says_for_how_many(tiny_warehouse, tmp_path):
    base = er.build("checkout-redesign", url=tiny_warehouse)
    url = planted(tiny_warehouse, tmp_path / "wh.duckdb",
                  "UPDATE experiment_assignments SET converted = NULL WHERE variant = 'one_page' AND NOT converted AND "
                  "user_id % 4 = 0 AND experiment_id = (SELECT experiment_id FROM experiments WHERE key = 'checkout-redesign')",
                  nullable=(("experiment_assignments", "converted"),))
    report = er.build("checkout-redesign", url=url)
    eng = engine(url)
    with eng.connect() as conn:
        empty = conn.exec_driver_sql("SELECT count(*) FROM experiment_assignments WHERE converted IS NULL").scalar()
    eng.dispose()
    assert empty > 0
    # Not converted, as the rate's definition counts every assigned user: the figures of the untouched warehouse.
    pd.testing.assert_frame_equal(report.analysis.conversion, base.analysis.conversion)
    users = base.analysis.conversion.set_index("variant")["users"]
    assert notes(report, "Counted as not converted:") == [
        f"{empty:,} users have no conversion recorded (experiment_assignments.converted is empty) and count as not "
        f"converted, as every assigned user counts in the conversion rate: Control 0 of {users['Control']:,}, One page "
        f"{empty:,} of {users['One page']:,}. If they did convert, record it before trusting the conversion figures."]
    assert notes(base, "Counted as not converted:") == []


def test_an_infinite_pre_revenue_leaves_cuped_out_not_the_whole_report(tiny_warehouse, tmp_path):
    # A few 'Infinity' covariates published "Nothing to analyse. A t-test needs at least 2 values per group (got 0
    # and 0)" for a conversion experiment: CUPED's slope and every adjusted value were NaN.
    base = er.build("checkout-redesign", url=tiny_warehouse)
    url = planted(tiny_warehouse, tmp_path / "wh.duckdb",
                  "UPDATE experiment_assignments SET pre_revenue = 'Infinity'::DOUBLE WHERE user_id % 10 = 2 AND "
                  "experiment_id = (SELECT experiment_id FROM experiments WHERE key = 'checkout-redesign')")
    report = er.build("checkout-redesign", url=url)
    assert report.problem is None and base.analysis.cuped
    infinite = report.data.infinite_pre_revenue
    assert infinite > 0 and report.analysis.cuped == {}
    pd.testing.assert_frame_equal(report.analysis.conversion_comparisons, base.analysis.conversion_comparisons)
    assert report.analysis.verdict.decision == base.analysis.verdict.decision
    users = len(report.data.assignments)
    [note] = [c.message for c in report.revenue().children if isinstance(c, Callout) and c.title == "Not shown:"]
    assert note.startswith(f"The assignments record a pre_revenue (revenue before the experiment) for "
                           f"{users - infinite:,} of {users:,} users ({infinite:,} hold an infinite value, set aside as "
                           "none), so the CUPED comparison")


def test_cuped_needs_a_finite_pre_revenue_for_every_user():
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"variant": ["a", "b"] * 50, "revenue": rng.normal(10, 2, 100),
                         "pre_revenue": rng.normal(10, 2, 100)})
    assert has_covariate(rows)
    assert not has_covariate(rows.assign(pre_revenue=rows["pre_revenue"].where(rows.index != 7, np.inf)))
