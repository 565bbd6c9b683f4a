"""The experiment report against the sample warehouse: every section renders, the headline is right, effects are recovered.

Two warehouses, both seed 7 and ending 2026-10-31:

* ``tiny_warehouse`` (≈ 120–240 users per experiment): every experiment renders and its
  headline equals a direct SQL recomputation — but effects of a few points are far below
  what ~60 users per arm can detect, so on tiny the intervals only have to *contain* the
  truth;
* ``demo`` (≈ 20,000–26,000 users per experiment, built once per module, ≈ 4 s): the
  report must *recover* the generator's true effects (interval contains the truth and
  excludes 0), flag the SRM and pick the right variant.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from scipy import stats

from quire.display import KPIS_MIME, Callout, Chart, Section
from quire.errors import ParameterError
from quire.formatting import number, percent
from quire.metrics import experiment_measure
from quire.metrics.experiment_measure import REVENUE, Measure
from quire.metrics.power import sample_size_per_arm
from quire.reports import experiment as er
from quire.reports.experiment_data import ExperimentData, variant_label, variant_labels
from quire.reports.experiment_display import times
from quire.metrics.experiment_format import p_text
from quire.warehouse import experiment_queries
from quire.warehouse.engine import engine
from quire.warehouse.generator import EXPERIMENT_TRUTH
from support import brand_chart_style

KEYS = list(EXPERIMENT_TRUTH)
SVG = "{http://www.w3.org/2000/svg}"
SECTIONS = ("verdict", "assignment", "conversion", "revenue", "power", "multiple_comparisons")


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def tiny_reports(tiny_warehouse) -> dict[str, er.ExperimentReport]:
    return {key: er.build(key, url=tiny_warehouse) for key in KEYS}


@pytest.fixture(scope="module")
def tiny_sections(tiny_reports) -> dict[str, dict[str, object]]:
    """Each report's sections, rendered once (charts take a few tenths of a second each)."""
    return {key: {name: getattr(report, name)() for name in SECTIONS} for key, report in tiny_reports.items()}


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory, tiny_end) -> str:
    """The demo scale, where the generated effects are large enough to be detected."""
    from quire.warehouse.load import build_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('demo') / 'demo.duckdb'}"
    build_warehouse(url, scale="demo", seed=7, end=tiny_end)
    return url


@pytest.fixture(scope="module")
def demo_reports(demo_warehouse) -> dict[str, er.ExperimentReport]:
    return {key: er.build(key, url=demo_warehouse) for key in KEYS}


def walk(item):
    """Every display object inside a section (grids and sections opened up)."""
    yield item
    for child in getattr(item, "children", ()):
        yield from walk(child)


def headline(report: er.ExperimentReport) -> dict[str, dict]:
    return {k["name"]: k for k in report.headline()._repr_mimebundle_()[KPIS_MIME]}


def sql_counts(url: str, key: str) -> pd.DataFrame:
    """Users, conversions and revenue per variant, aggregated in SQL — independent of the report's code path."""
    stmt = sa.text(
        "select a.variant, count(*) as users, sum(case when a.converted then 1 else 0 end) as conversions, "
        "avg(a.revenue) as revenue, v.is_control from experiment_assignments a "
        "join experiments e on e.experiment_id = a.experiment_id "
        "join experiment_variants v on v.experiment_id = a.experiment_id and v.variant = a.variant "
        "where e.key = :key group by a.variant, v.is_control")
    eng = engine(url)
    with eng.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt, {"key": key}).mappings().all())
    eng.dispose()
    frame["rate"] = frame["conversions"].astype(float) / frame["users"].astype(float)
    return frame.set_index("variant")


def sql_cuped_diff(url: str, key: str, control: str, treatment: str) -> float:
    """CUPED's treatment − control, written out over rows read in SQL: θ = cov(Y, X) / var(X) over both arms,
    each arm's mean of Y − θ(X − X̄)."""
    stmt = sa.text("select a.variant, a.revenue, a.pre_revenue from experiment_assignments a "
                   "join experiments e on e.experiment_id = a.experiment_id where e.key = :key")
    eng = engine(url)
    with eng.connect() as conn:
        rows = pd.DataFrame(conn.execute(stmt, {"key": key}).mappings().all())
    eng.dispose()
    rows = rows[rows["variant"].isin([control, treatment])].dropna().astype({"revenue": float, "pre_revenue": float})
    theta = rows["revenue"].cov(rows["pre_revenue"]) / rows["pre_revenue"].var()
    adjusted = rows["revenue"] - theta * (rows["pre_revenue"] - rows["pre_revenue"].mean())
    means = adjusted.groupby(rows["variant"]).mean()
    return float(means[treatment] - means[control])


def pooled_z_p(x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """Two-sided pooled two-proportion z-test, written out (not the library call the report uses)."""
    pooled = (x_t + x_c) / (n_t + n_c)
    z = (x_t / n_t - x_c / n_c) / math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    return float(2 * stats.norm.sf(abs(z)))


def two_proportion_p(x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """The report's conversion test, written out: the pooled z-test, or Fisher's exact test (hypergeometric
    tail, two-sided by probability) when a cell of the 2×2 table expects fewer than 5 users (Cochran's rule)."""
    table = np.array([[x_t, n_t - x_t], [x_c, n_c - x_c]])
    if (np.outer(table.sum(1), table.sum(0)) / table.sum()).min() >= 5:
        return pooled_z_p(x_t, n_t, x_c, n_c)
    converted = x_t + x_c
    dist = stats.hypergeom(n_t + n_c, converted, n_t)
    support = np.arange(max(0, converted - n_c), min(converted, n_t) + 1)
    probabilities = dist.pmf(support)
    return float(min(1.0, probabilities[probabilities <= dist.pmf(x_t) * (1 + 1e-7)].sum()))


def holm(p: list[float]) -> list[float]:
    order = np.argsort(p)
    adjusted, running = np.empty(len(p)), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


# --------------------------------------------------------------------------- every experiment renders


@pytest.mark.parametrize("key", KEYS)
def test_every_section_renders_without_missing_values(tiny_reports, tiny_sections, key):
    report = tiny_reports[key]
    several = len(EXPERIMENT_TRUTH[key].variants) > 2
    for name in SECTIONS:
        section = tiny_sections[key][name]
        if name == "multiple_comparisons" and not several:
            assert section is None  # only with several treatments
            continue
        html = section.html()
        assert isinstance(section, Section) and html.startswith("<section")
        assert not re.search(r"\bnan\b|\bNaN\b|Traceback|\binf\b", html), name
    assert "Experiment report" in report.header().html()
    cards = report.headline()._repr_mimebundle_()
    assert cards[KPIS_MIME] and 'class="q-kpi"' in cards["text/html"]
    glossary = report.glossary().html()
    for term in ("Sample ratio mismatch", "Welch", "CUPED", "Minimum detectable effect", "p-value"):
        assert term in glossary
    assert ("Multiple-comparison correction" in glossary) == several


@pytest.mark.parametrize("key", KEYS)
def test_every_chart_has_alt_text_with_numbers(tiny_sections, key):
    charts = [c for section in tiny_sections[key].values() if section is not None
              for c in walk(section) if isinstance(c, Chart)]
    assert len(charts) == 3  # conversion panels, CUPED intervals, power curves
    for chart in charts:
        assert len(chart.alt) > 80 and re.search(r"\d", chart.alt)
        assert chart.image.startswith(b"<?xml") and b"<svg" in chart.image


@pytest.mark.parametrize("key", KEYS)
def test_headline_equals_a_direct_sql_aggregate(tiny_reports, tiny_warehouse, key):
    report, truth = tiny_reports[key], EXPERIMENT_TRUTH[key]
    labels = variant_labels(truth.variants)
    counts = sql_counts(tiny_warehouse, key).rename(index=labels)
    cards = headline(report)
    control, focus = labels[truth.control], report.focus
    assert cards["users"]["value"] == counts["users"].sum()
    assert cards["control_rate"]["value"] == pytest.approx(counts.at[control, "rate"])
    assert cards["best_rate"]["value"] == pytest.approx(counts.at[focus, "rate"])
    assert cards["abs_lift"]["value"] == pytest.approx(counts.at[focus, "rate"] - counts.at[control, "rate"])
    # A card's title has two lines in print (about 40 characters): "… (CUPED) (guardrail)" lost its end.
    assert all(len(card["label"]) <= 40 for card in cards.values()), [c["label"] for c in cards.values()]
    if truth.primary_metric == "conversion" and "CUPED" in cards["revenue_diff"]["label"]:
        # Revenue as a guardrail is read as the verdict reads it: by CUPED (a chance pre-period gap can turn it over).
        raw = {labels[v]: v for v in truth.variants}
        assert cards["revenue_diff"]["value"] == pytest.approx(sql_cuped_diff(tiny_warehouse, key, raw[control], raw[focus]))
    else:
        assert cards["revenue_diff"]["value"] == pytest.approx(counts.at[focus, "revenue"] - counts.at[control, "revenue"])
    if truth.primary_metric == "conversion":
        treatments = [labels[v] for v in truth.variants if labels[v] != control]
        raw = [two_proportion_p(int(counts.at[v, "conversions"]), int(counts.at[v, "users"]),
                          int(counts.at[control, "conversions"]), int(counts.at[control, "users"])) for v in treatments]
        expected = holm(raw)[treatments.index(focus)] if len(treatments) > 1 else raw[0]
        assert cards["p_value"]["value"] == pytest.approx(expected, rel=1e-6)
    assert cards["mde"]["value"] > 0 and "power" not in cards  # the design's MDE, never post-hoc power


def test_the_focus_is_the_best_treatment_and_units_are_recorded(tiny_reports):
    report = tiny_reports["pricing-page-layout"]
    rates = report.analysis.conversion.set_index("variant")["rate"]
    assert report.focus == rates.drop("Control").idxmax()  # nothing ships on tiny: the largest gain is shown
    cards = headline(report)
    assert cards["abs_lift"]["unit"] == "percent" and cards["p_value"]["unit"] == "number"
    assert cards["p_value"]["direction"] == "down_is_good"


# --------------------------------------------------------------------------- true effects


def test_checkout_interval_contains_the_true_lift_on_tiny(tiny_reports):
    # ~60 users per arm: the interval is about ±14 pts wide, so it cannot exclude 0 — containment only here;
    # recovery (excluding 0) is checked on the demo scale below.
    truth = EXPERIMENT_TRUTH["checkout-redesign"].conversion_lift("one_page")
    row = tiny_reports["checkout-redesign"].analysis.conversion_comparisons.iloc[0]
    assert row["ci_low"] <= truth <= row["ci_high"]


def test_checkout_recovers_the_effect_and_ships_on_demo(demo_reports):
    report = demo_reports["checkout-redesign"]
    truth = EXPERIMENT_TRUTH["checkout-redesign"].conversion_lift("one_page")  # +3 pts
    row = report.analysis.conversion_comparisons.iloc[0]
    assert 0 < row["ci_low"] <= truth <= row["ci_high"]
    assert report.analysis.verdict.decision == "ship" and report.analysis.verdict.variant == "One page"
    verdict = report.verdict()
    assert isinstance(verdict.children[0], Callout) and verdict.children[0].severity == "good"
    assert "Verdict: ship One page." in verdict.html()
    assert "Sample ratio mismatch" not in verdict.html()


def test_aa_test_is_not_a_win_on_tiny(tiny_reports):
    report = tiny_reports["homepage-aa"]
    assert report.analysis.verdict.decision != "ship"
    assert not report.analysis.comparisons["significant"].any()


def test_aa_test_on_demo_is_an_aa_check_and_holds_at_99_percent(demo_warehouse, demo_reports):
    # Any seed has its 1-in-20 false positive at 95% (at seed 7 the demo A/A comes out p ≈ 0.48). What must hold
    # on any seed with high probability is asserted: an A/A is judged as a check, never shipped, and the true
    # difference (0) lies inside the 99% interval, where the check passes.
    assert demo_reports["homepage-aa"].analysis.verdict.decision in ("A/A passed", "A/A failed")
    strict = er.build("homepage-aa", level=0.99, url=demo_warehouse)
    row = strict.analysis.comparisons.iloc[0]
    assert row["ci_low"] <= 0 <= row["ci_high"]
    assert strict.analysis.verdict.decision == "A/A passed"
    assert "A/A check passed: the split and metrics look unbiased." in strict.verdict().html()
    assert "99% CI" in strict.conversion().html()


def test_srm_experiment_gets_the_srm_warning_on_demo(demo_reports):
    report = demo_reports["search-ranking"]
    assert report.analysis.srm.mismatch
    assert any(w.startswith("Sample ratio mismatch") for w in report.analysis.verdict.warnings)
    verdict = report.verdict()
    warnings = [c for c in verdict.children if isinstance(c, Callout) and c.severity == "warning"]
    assert any("Sample ratio mismatch" in w.message for w in warnings)
    # The verdict leads with the biased split, in red, and gives no power advice (it read "More traffic ..." first).
    decision = verdict.children[0]
    assert decision.severity == "critical" and decision.message.startswith("Data quality first")
    assert "More traffic" not in decision.message
    assignment = report.assignment()
    assert assignment.children[0].severity == "critical" and "does not match the plan" in assignment.html()


def test_srm_is_not_flagged_where_the_split_followed_the_plan(demo_reports):
    for key in ("checkout-redesign", "pricing-page-layout", "onboarding-upsell"):
        assert not demo_reports[key].analysis.srm.mismatch, key
        assert demo_reports[key].assignment().children[0].severity in ("good", "info")  # "info": passed narrowly


def test_three_variants_show_adjusted_p_values(demo_reports, demo_warehouse):
    report = demo_reports["pricing-page-layout"]
    assert report.analysis.verdict.variant == "Social proof"  # the variant that truly converts better
    section = report.multiple_comparisons()
    html = section.html()
    assert "Holm-adjusted p" in html and "Raw p" in html
    cmp = report.analysis.comparisons
    assert cmp["p_adjusted"].tolist() == pytest.approx(holm(cmp["p_value"].tolist()))
    assert headline(report)["p_value"]["label"] == "p-value (Holm-adjusted)"
    bonferroni = er.build("pricing-page-layout", correction="bonferroni", url=demo_warehouse)
    assert "Bonferroni-adjusted p" in bonferroni.multiple_comparisons().html()
    b = bonferroni.analysis.comparisons
    assert b["p_adjusted"].tolist() == pytest.approx(np.minimum(1, 2 * b["p_value"]).tolist())


def test_revenue_experiment_recovers_the_effect_with_cuped_on_demo(demo_reports):
    report = demo_reports["onboarding-upsell"]
    truth = EXPERIMENT_TRUTH["onboarding-upsell"].revenue_lift("guided_setup")  # +$5 per user
    cu = report.analysis.cuped["Guided setup"]
    assert 0 < cu.adjusted.ci_low <= truth <= cu.adjusted.ci_high
    assert cu.unadjusted.ci_low <= truth <= cu.unadjusted.ci_high
    assert cu.variance_reduction > 0.3 and cu.ci_width_ratio < 0.85  # pre_revenue is correlated by construction
    cards = headline(report)
    assert cards["variance_reduction"]["value"] == pytest.approx(cu.variance_reduction)
    assert cards["revenue_diff"]["value"] == pytest.approx(cu.unadjusted.diff)
    assert cards["cuped_diff"]["value"] == pytest.approx(cu.adjusted.diff)  # the difference the verdict reads
    assert report.analysis.verdict.decision == "ship"
    assert "adjusted for the pre-period (CUPED)" in report.analysis.verdict.reasons[0]
    assert "Revenue per user" in report.revenue().html() and "(guardrail)" in report.conversion().html()


def test_level_is_used_throughout(tiny_reports, tiny_warehouse):
    wide = tiny_reports["checkout-redesign"]
    narrow = er.build("checkout-redesign", level=0.90, url=tiny_warehouse)
    w, n = wide.analysis.comparisons.iloc[0], narrow.analysis.comparisons.iloc[0]
    assert n["ci_high"] - n["ci_low"] < w["ci_high"] - w["ci_low"]
    for section in (narrow.conversion(), narrow.revenue()):
        assert "90% CI" in section.html() and "95% CI" not in section.html()
    assert "alpha 0.1" in narrow.verdict().html()


def test_sample_size_helper_matches_the_textbook_formula():
    # Large samples: n = 2 (z_.975 + z_.8)² / d², d = 0.05 needs ≈ 6,279 per group.
    assert sample_size_per_arm(0.05, 0.05) == pytest.approx(2 * ((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) / 0.05) ** 2)
    # Smaller ones get the t correction: d = 0.2 needs 393.4 per group (Cohen 1988, table 2.4.1: 393).
    assert sample_size_per_arm(0.2, 0.05) == pytest.approx(393.4, abs=0.1)
    assert sample_size_per_arm(0.0, 0.05) is None


@pytest.mark.parametrize("d", [0.8, 1.5, math.pi])
def test_the_sample_size_said_to_suffice_reaches_the_target_power(d):
    # The report's "the sample was large enough" must agree with its low-power warning (t-based power): with
    # h = π (0 of 2 against 2 of 2) the normal formula says 1.6 users, where 2 per arm have 41 % power.
    needed = math.ceil(sample_size_per_arm(d, 0.05))
    noncentral = stats.nct(2 * needed - 2, d * math.sqrt(needed / 2))
    critical = stats.t.ppf(0.975, 2 * needed - 2)
    assert noncentral.sf(critical) + noncentral.cdf(-critical) >= 0.8


# --------------------------------------------------------------------------- degenerate input


def _data(assignments: pd.DataFrame, variants: pd.DataFrame | None = None) -> ExperimentData:
    variants = variants if variants is not None else pd.DataFrame(
        {"variant": ["control", "b"], "is_control": [True, False], "allocation": [0.5, 0.5]})
    return ExperimentData("new-test", "New test", "B beats A.", "conversion", pd.Timestamp("2026-10-01"), None,
                             variants, assignments)


EMPTY = pd.DataFrame({"user_id": pd.Series(dtype="int64"), "variant": pd.Series(dtype="str"),
                      "converted": pd.Series(dtype=bool), "revenue": pd.Series(dtype=float),
                      "pre_revenue": pd.Series(dtype=float)})


@pytest.mark.parametrize("assignments,expected", [
    (EMPTY, "no user has been assigned"),
    (pd.DataFrame({"user_id": [1, 2, 3], "variant": ["control"] * 3, "converted": [True, False, False],
                   "revenue": [1.0, 2.0, 3.0], "pre_revenue": [1.0, 1.0, 2.0]}), "nothing to compare"),
], ids=["no assignments", "only the control"])
def test_nothing_to_analyse_is_a_callout_not_a_traceback(assignments, expected):
    report = er.ExperimentReport(_data(assignments))
    verdict = report.verdict()
    callout = verdict.children[0]
    assert isinstance(callout, Callout) and callout.severity == "warning" and expected in callout.message
    assert "Nothing to analyse yet." in verdict.html() and "Since 1 October 2026 (still running)" in verdict.html()
    assert report.headline() is None
    assert all(getattr(report, name)() is None for name in SECTIONS[1:])
    assert report.header().meta()["experiment"] == "new-test"


def test_inconsistent_records_are_a_critical_callout():
    rows = pd.DataFrame({"user_id": [1, 2], "variant": ["control", "ghost"], "converted": [True, False],
                         "revenue": [1.0, 2.0], "pre_revenue": [1.0, 1.0]})
    callout = er.ExperimentReport(_data(rows)).verdict().children[0]
    assert callout.severity == "critical" and "ghost" in callout.message


def test_data_from_the_warehouse_is_escaped():
    hostile = _data(EMPTY)
    hostile = ExperimentData(**{**hostile.__dict__, "name": "<script>x</script>", "hypothesis": "<b>bold</b>"})
    report = er.ExperimentReport(hostile)
    assert "<script>" not in report.header().html() and "<b>" not in report.verdict().html()


def test_unknown_experiment_lists_the_known_keys(tiny_warehouse):
    with pytest.raises(ParameterError) as err:
        er.build("checkout-redesing", url=tiny_warehouse)
    message = str(err.value)
    assert "no experiment 'checkout-redesing'" in message and "did you mean 'checkout-redesign'?" in message
    assert all(key in message for key in KEYS)
    assert err.value.parameter == "experiment"


def test_latest_skips_an_experiment_set_up_but_not_started(tiny_warehouse, tmp_path):
    # `quire run experiment` (latest) published an empty "Nothing to analyse yet" report of an experiment
    # declared for next month, while `quire warehouse check` listed only the experiments with users.
    from support import warehouse_copy

    with engine(tiny_warehouse).connect() as conn:
        started_last = experiment_queries.newest_experiment_key(conn)
        newest_start = conn.execute(sa.text("select max(started_on) from experiments")).scalar()
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("INSERT INTO experiments VALUES (9001, 'not-started', 'Not started', 'h', 'conversion', ?, NULL, NULL, NULL)",
                    [newest_start])
        con.execute("UPDATE experiments SET started_on = started_on + INTERVAL 1 DAY WHERE experiment_id = 9001")
    url = f"duckdb:///{path}"
    with engine(url).connect() as conn:
        assert experiment_queries.experiment_keys(conn)[-1] == "not-started"
        assert experiment_queries.newest_experiment_key(conn) == started_last
    assert er.build("latest", url=url).data.key == started_last
    # As a period's LATEST: the run's parameters resolve any case (it was "no experiment 'LATEST'").
    from quire.config import Settings
    from quire.pipeline import prepare

    settings = Settings(outputs=tmp_path / "out", warehouse_url=url)
    assert prepare("experiment", {"experiment": "LATEST"}, settings).params["experiment"] == started_last
    assert er.build("not-started", url=url).problem is not None  # asked for by name, it says there is nothing yet


@pytest.mark.parametrize("kwargs,parameter", [({"level": 1.5}, "level"), ({"correction": "sidak"}, "correction")])
def test_bad_parameters_fail_before_the_warehouse_is_read(tmp_path, kwargs, parameter):
    with pytest.raises(ParameterError) as err:
        er.build("checkout-redesign", url=f"duckdb:///{tmp_path}/absent.duckdb", **kwargs)
    assert err.value.parameter == parameter


# --------------------------------------------------------------------------- queries


def test_queries_follow_the_dtype_conventions(tiny_warehouse):
    eng = engine(tiny_warehouse)
    with eng.connect() as conn:
        row = experiment_queries.experiment_by_key(conn, "pricing-page-layout")
        variants = experiment_queries.variants(conn, int(row["experiment_id"]))
        assignments = experiment_queries.assignments(conn, int(row["experiment_id"]))
        none = experiment_queries.assignments(conn, 10_000)
        keys = experiment_queries.experiment_keys(conn)
        missing = experiment_queries.experiment_by_key(conn, "nosuch")
    eng.dispose()
    assert keys == KEYS and missing is None
    assert variants["variant"].tolist() == ["control", "annual_toggle", "social_proof"]  # control first
    assert variants["is_control"].dtype == bool and variants["allocation"].dtype == "float64"
    assert str(assignments["assigned_at"].dtype) == "datetime64[ns]" and assignments["converted"].dtype == bool
    assert assignments["user_id"].is_unique and len(assignments) > 0
    assert none.empty and list(none.columns) == list(assignments.columns)
    assert dict(none.dtypes) == dict(assignments.dtypes)
    assert isinstance(row["started_on"], pd.Timestamp) and row["started_on"].date() < date(2026, 10, 31)


# --------------------------------------------------------------------------- wording rules, on synthetic experiments


def arms(spec: dict[str, dict], seed: int = 1) -> pd.DataFrame:
    """Assignments with exact users and conversions per variant; revenue follows the pre-period (corr ≈ 0.8).

    ``spec``: variant -> n, rate, effect (added to revenue), pre_shift (added to both periods: a
    chance imbalance of the pre-period that carries into the experiment's revenue).
    """
    rng = np.random.default_rng(seed)
    frames = []
    for variant, s in spec.items():
        n = s["n"]
        pre = 50 + s.get("pre_shift", 0.0) + rng.normal(0, 10, n)
        revenue = 50 + 0.8 * (pre - 50) + rng.normal(0, 6, n) + s.get("effect", 0.0)
        converted = np.zeros(n, dtype=bool)
        converted[: round(s.get("rate", 0.1) * n)] = True
        frames.append(pd.DataFrame({"variant": variant, "converted": converted, "revenue": revenue, "pre_revenue": pre}))
    out = pd.concat(frames, ignore_index=True)
    return out.assign(user_id=np.arange(len(out)))


def experiment(spec: dict[str, dict], *, key: str = "new-test", name: str = "New test", metric: str = "conversion",
               seed: int = 1, measure: Measure = REVENUE, **kwargs) -> er.ExperimentReport:
    names = list(spec)
    variants = pd.DataFrame({"variant": names, "is_control": [i == 0 for i in range(len(names))],
                             "allocation": [1 / len(names)] * len(names)})
    data = ExperimentData(key, name, "B beats A.", metric, pd.Timestamp("2026-09-01"), pd.Timestamp("2026-09-30"),
                          variants, arms(spec, seed), measure=measure)
    return er.ExperimentReport(data, **kwargs)


def everything(report: er.ExperimentReport, alts: bool = True) -> str:
    """All the report shows before its appendix: sections, headline cards (and chart alt texts), as one string."""
    parts = [report.header().html(), report.headline()._repr_mimebundle_()["text/html"]]
    for name in SECTIONS:
        section = getattr(report, name)()
        if section is not None:
            parts.append(section.html())
            parts += [c.alt for c in walk(section) if isinstance(c, Chart) and alts]
    return "\n".join(parts)


def test_a_significant_result_of_a_running_experiment_is_called_an_interim_look():
    # A running test read "Verdict: ship Treatment. … p < 0.001" with no word that its p-value holds for one look
    # at a planned end: stopping at the first significant look makes false wins far more likely than 5%.
    from dataclasses import replace

    spec = {"control": {"n": 3_000, "rate": 0.10}, "treatment": {"n": 3_000, "rate": 0.13}}
    ended = experiment(spec)
    running = er.ExperimentReport(replace(ended.data, ended_on=None))
    assert running.analysis.verdict.decision == "ship"
    said = running.verdict().html()
    assert "still running" in said and "interim" in said and "more likely than alpha 0.05 allows" in said, said
    # The title is the run's conclusion (run.json, the e-mail): it says so too.
    assert running.decision().title == "Verdict: ship Treatment (interim look: the experiment is still running)."
    assert "interim" not in ended.verdict().html()
    quiet = experiment({"control": {"n": 3_000, "rate": 0.10}, "treatment": {"n": 3_000, "rate": 0.10}})
    assert quiet.analysis.verdict.decision == "inconclusive"
    assert "interim" not in er.ExperimentReport(replace(quiet.data, ended_on=None)).verdict().html()


def test_arms_too_small_for_any_significant_outcome_have_no_mde_and_no_power_curve():
    # 0/3 against 3/3: Fisher's p is 0.100 at best, yet the card read "MDE 99.9 pts, detected with 80% power at this
    # sample size" and the power section "needs about 3 users per variant … and the test had 3".
    from quire.metrics.power import power_and_mde

    report = experiment({"control": {"n": 3, "rate": 0.0}, "treatment": {"n": 3, "rate": 1.0}})
    p = report.analysis.power["Treatment"]
    assert p.mde is None and p.achieved_power == 0.0 and p.floor_p == pytest.approx(0.1)
    section = report.power()
    assert "no outcome can be significant at alpha 0.05" in section.lead and "p = 0.100" in section.lead
    assert "from 4 users an arm" in section.lead and "needs about" not in section.lead
    assert not [c for c in walk(section) if isinstance(c, Chart)]
    card = next(k for k in report.headline().kpis if k.key == "mde")
    assert "no outcome can be significant" in report.headline().html() and card.value is None
    # Four users an arm can be significant (p = 0.029 at best): the MDE is back.
    assert power_and_mde(4, 4, baseline_rate=0.0, observed_rate=1.0).floor_p is None
    assert power_and_mde(4, 4, baseline_rate=0.0, observed_rate=1.0).mde is not None


def test_a_small_difference_from_the_planned_split_keeps_its_sign_and_size():
    # "−47 (0.0%)" read as no difference beside a count of 47 fewer users.
    report = experiment({"control": {"n": 5_001}, "B": {"n": 4_999}})
    shown = report.assignment().html()
    assert "+1 (+0.02%)" in shown and "−1 (−0.02%)" in shown
    assert experiment({"control": {"n": 500}, "B": {"n": 500}}).assignment().html().count("0 (0.0%)") == 2


def test_a_borderline_srm_p_states_the_threshold_and_why_it_is_stricter():
    # 5,100 vs 4,900 planned 50/50: χ² = 4.0, p = 0.046 — "significant" at 0.05, not an SRM.
    report = experiment({"control": {"n": 5_100}, "b": {"n": 4_900}})
    assert report.analysis.srm.p_value == pytest.approx(0.0455, abs=1e-4) and not report.analysis.srm.mismatch
    check = report.assignment().children[0]
    assert check.severity == "info" and check.title == "Sample ratio check passed, narrowly."
    assert "p = 0.046" in check.message and "happens by chance in about 4.6% of experiments" in check.message
    assert "flagged only below p = 0.001, not at the effects' 0.05" in check.message
    assert "false alarm in one healthy experiment in 20" in check.message
    assert "If a rerun shows the same imbalance, check the assignment." in check.message
    clean = experiment({"control": {"n": 5_010}, "b": {"n": 4_990}}).assignment().children[0]
    assert clean.severity == "good" and "false alarm in one healthy experiment in 20" in clean.message


def test_the_headline_shows_the_design_mde_never_post_hoc_achieved_power():
    report = experiment({"control": {"n": 5_000, "rate": 0.10}, "b": {"n": 5_000, "rate": 0.20}})
    assert report.analysis.power["B"].achieved_power > 0.999  # what the old headline called "achieved power 100%"
    cards = headline(report)
    assert "power" not in cards and cards["mde"]["label"] == "Minimum detectable effect"
    assert cards["mde"]["value"] == pytest.approx(report.analysis.power["B"].mde)
    shown = everything(report).lower()
    assert "achieved power" not in shown and "hollow diamond" not in shown
    assert "minimum detectable effect" in shown and "mde at 80% power" in shown
    assert "“achieved” power" in report.glossary().html()  # the appendix says why it is not shown


def test_a_cuped_sign_flip_says_which_estimate_to_trust_and_why():
    # B's users happened to spend $0.60 more before the experiment (p = 0.02: chance); B itself costs $0.30 per user.
    report = experiment({"control": {"n": 3_000}, "B": {"n": 3_000, "pre_shift": 0.6, "effect": -0.3}}, metric="revenue")
    c = report.analysis.cuped["B"]
    assert c.sign_flipped and c.unadjusted.diff > 0 > c.adjusted.diff and not c.imbalanced
    assert c.unadjusted.diff - c.adjusted.diff == pytest.approx(c.theta * c.covariate_diff)
    section = report.revenue()
    flips = [x for x in section.children if isinstance(x, Callout) and x.title == "Trust the CUPED-adjusted estimate."]
    assert len(flips) == 1
    message = flips[0].message
    assert f"{er.amount(c.unadjusted.diff)} unadjusted, {er.amount(c.adjusted.diff)} adjusted" in message
    assert "already spent $" in message and "more per user than the control's" in message
    assert "chance imbalance of the random split" in message and "less variance" in message
    same = experiment({"control": {"n": 3_000}, "B": {"n": 3_000, "effect": 2.0}}, metric="revenue")
    assert not same.analysis.cuped["B"].sign_flipped
    assert "Trust the CUPED-adjusted estimate." not in same.revenue().html()


def test_a_pre_period_gap_beyond_chance_is_not_called_chance():
    # $2 more before the experiment over 3,000 users an arm (p ≈ 1e-14) was "a chance imbalance of the random split";
    # a random split gives that less than once in a trillion experiments.
    flipped = experiment({"control": {"n": 3_000}, "B": {"n": 3_000, "pre_shift": 2.0, "effect": -0.6}}, metric="revenue")
    c = flipped.analysis.cuped["B"]
    frame = arms({"control": {"n": 3_000}, "B": {"n": 3_000, "pre_shift": 2.0, "effect": -0.6}})
    gap = stats.ttest_ind(frame.loc[frame["variant"] == "B", "pre_revenue"],
                          frame.loc[frame["variant"] == "control", "pre_revenue"], equal_var=False)
    assert c.covariate_p == pytest.approx(gap.pvalue, rel=1e-6) and c.imbalanced and c.sign_flipped
    [flip] = [x for x in flipped.revenue().children if isinstance(x, Callout) and x.title.startswith("CUPED reverses")]
    message = flip.message
    # Its title no longer says "Trust the CUPED-adjusted estimate" above a text that says to check the assignment.
    assert flip.severity == "warning" and flip.title == "CUPED reverses the sign; check the assignment first."
    assert "chance imbalance" not in message
    assert "more than a random split plausibly gives (p < 0.001): check the assignment, and that pre_revenue" in message
    # Without a sign flip, the gap gets a warning of its own.
    kept = experiment({"control": {"n": 3_000}, "B": {"n": 3_000, "pre_shift": 2.0, "effect": 1.0}}, metric="revenue")
    c = kept.analysis.cuped["B"]
    assert c.imbalanced and not c.sign_flipped
    [warning] = [x for x in kept.revenue().children if isinstance(x, Callout) and x.title == "Pre-period imbalance."]
    assert warning.message.startswith("The treatment's users already spent $") and "check the assignment" in warning.message
    assert f"= {er.amount(c.theta * c.covariate_diff)} of that gap" in warning.message
    balanced = experiment({"control": {"n": 3_000}, "B": {"n": 3_000, "effect": 1.0}}, metric="revenue")
    assert not any(isinstance(x, Callout) for x in balanced.revenue().children)
    # The verdict says it too: the gap was buried in the revenue section under "More traffic … is needed".
    for report in (flipped, kept):
        warned = [c.message for c in report.verdict().children if isinstance(c, Callout) and c.severity == "warning"]
        assert any("before the experiment differs more than a random split plausibly gives (p < 0.001)" in w
                   for w in warned), warned
    assert "random split plausibly gives" not in balanced.verdict().html()


def test_a_tiny_variance_reduction_reads_the_same_on_its_card_as_in_its_sentence():
    # The card read "0%" beside the CUPED sentence's "0.02% less variance".
    report = experiment({"control": {"n": 400}, "B": {"n": 400, "effect": 1.0}}, metric="revenue")
    c = report.analysis.cuped["B"]
    object.__setattr__(c, "variance_reduction", 0.000247)
    card = next(text for kpi, text, _ in report._revenue_cards() if kpi.key == "variance_reduction")
    assert card == "0.02%"


def test_a_cuped_sign_flip_beside_a_failed_sample_ratio_check_is_not_called_chance():
    # 3,000 against 1,000 users of a planned 50/50 split: the report flagged the mismatch, then called the pre-period
    # gap "a chance imbalance of the random split" under "Trust the CUPED-adjusted estimate."
    report = experiment({"control": {"n": 3_000}, "B": {"n": 1_000, "pre_shift": 0.8, "effect": -0.4}}, metric="revenue")
    c = report.analysis.cuped["B"]
    assert report.analysis.srm.mismatch and c.sign_flipped and not c.imbalanced
    [flip] = [x for x in report.revenue().children if isinstance(x, Callout) and x.title.startswith("CUPED reverses")]
    assert "chance imbalance" not in flip.message and "does not match the plan" in flip.message


def test_a_pre_period_that_is_the_metric_rounded_is_no_covariate():
    # The audit's pre_revenue = round(0.9 × revenue, 1), a correlation of 0.99994: CUPED subtracted the effect with the
    # metric, turning a real +$0.39 (p = 0.002) into "$0.00, 95% CI −$0.003 to +$0.003" and the verdict into
    # "inconclusive". Here rounded to whole dollars: a correlation of 0.9995.
    frame = arms({"control": {"n": 1_000}, "B": {"n": 1_000, "effect": 4.0}})
    frame["pre_revenue"] = (0.9 * frame["revenue"]).round(0)
    variants = pd.DataFrame({"variant": ["control", "B"], "is_control": [True, False], "allocation": [0.5, 0.5]})
    report = er.ExperimentReport(ExperimentData("copy", "Copy", "B earns more.", "revenue", pd.Timestamp("2026-09-01"),
                                                pd.Timestamp("2026-09-30"), variants, frame))
    assert 0.999 < np.corrcoef(frame["pre_revenue"], frame["revenue"])[0, 1] < 1
    assert not report.analysis.cuped and report.analysis.verdict.decision == "ship"
    note = report.no_covariate_note().message
    r = np.corrcoef(frame["pre_revenue"], frame["revenue"])[0, 1]
    assert f"moves in step with their revenue during the experiment (a correlation of {r:.4f})" in note
    # A pre-period that explains much, as real ones can, is still one.
    assert experiment({"control": {"n": 1_000}, "B": {"n": 1_000}}, metric="revenue").analysis.cuped


def test_when_cuped_and_the_raw_test_disagree_the_note_names_the_test_the_decision_reads():
    # The note said "the verdict uses the unadjusted test" while the verdict (and the glossary) read CUPED's.
    spec = {"control": {"n": 1_000}, "B": {"n": 1_000, "effect": 0.7}}
    report = experiment(spec, metric="revenue", seed=1)
    c = report.analysis.cuped["B"]
    assert c.unadjusted.p_value < 0.05 < c.adjusted.p_value  # raw significant, adjusted not
    assert "(the verdict reads the adjusted test" in report.cuped_sentence()
    assert report.analysis.verdict.decision == "inconclusive"  # as the adjusted test says
    guarded = experiment(spec, seed=1)  # conversion decides; revenue is the guardrail, judged by CUPED too
    assert "(the guardrail check reads the adjusted test" in guarded.cuped_sentence()


def test_expected_users_of_an_uneven_total_keep_the_half_their_difference_has():
    # 20,489 users planned 50/50: 10,244.5 expected each. Shown whole, "10,244" beside 10,169 users read "−76".
    table = experiment({"control": {"n": 10_169}, "b": {"n": 10_320}}).assignment().children[1].frame
    assert table["Expected users"].tolist() == ["10,244.5", "10,244.5"]
    assert [d.split()[0] for d in table["Difference"]] == ["−75.5", "+75.5"]
    even = experiment({"control": {"n": 10_000}, "b": {"n": 10_100}}).assignment().children[1].frame
    assert even["Expected users"].tolist() == ["10,050", "10,050"]


def test_how_many_times_the_users_reads_at_the_precision_of_an_estimate():
    assert times(3.14) == "3.1×" and times(8469.6) == "8,470×"


@pytest.fixture
def revenue_after():
    """The measure is the process's, as the locale is: put the default back for the tests that follow."""
    yield
    experiment_measure.use(REVENUE)


def test_a_measure_that_is_not_money_is_named_and_written_as_a_number_everywhere(revenue_after):
    # A public A/B dataset (Cookie Cats) maps game rounds to the assignments' revenue column: its report read
    # "$51.34 per user". With experiments.metric_name/metric_unit every figure and word follows the measure.
    rounds = Measure("game rounds", "number")
    spec = {"control": {"n": 3_000}, "B": {"n": 3_000, "pre_shift": 2.0, "effect": -0.6}}
    report = experiment(spec, metric="revenue", measure=rounds)
    c = report.analysis.cuped["B"]
    shown = everything(report) + report.glossary().html()
    assert "$" not in shown and "bought" not in shown and "spent" not in shown
    assert "revenue" not in shown.replace("pre_revenue", "").lower()
    assert "Game rounds per user" in shown and "game rounds per user" in shown
    assert f"{number(c.unadjusted.diff, 2, signed=True)} unadjusted, {number(c.adjusted.diff, 2, signed=True)} adjusted" in shown
    assert "already had" in shown and "more game rounds per user than the control" in shown
    cards = headline(report)
    assert cards["revenue_diff"]["label"] == "Game rounds per user, difference" and cards["revenue_diff"]["unit"] == "number"
    # As the guardrail of a conversion experiment, its card title still fits the card's two printed lines.
    guard = headline(experiment(spec, measure=rounds))["revenue_diff"]["label"]
    assert guard == "Game rounds per user, CUPED (guardrail)" and len(guard) <= 40
    # The default measure is still revenue in money.
    assert "$" in everything(experiment(spec, metric="revenue"))


@pytest.mark.parametrize("key,name,expected", [
    ("homepage-aa", "Homepage A/A check", True), ("signup_aa_2026", "Signup check", True),
    ("checkout-redesign", "An A/A check of checkout", True), ("aardvark-launch", "Aardvark launch", False),
    ("pricing-aab", "Pricing", False), ("aa-test", "Sanity", True), ("aa", "Sanity", True),
    # An A/B test whose key starts with "aa-" or whose name says A/A/B was reported as a failed A/A check.
    ("aa-batteries", "Battery bundle offer", False), ("aab-pricing", "Pricing A/A/B test", False),
    ("bundle", "The A/A+ bundle", False),
])
def test_an_aa_test_is_recognised_by_its_key_or_name(key, name, expected):
    assert experiment({"control": {"n": 100}, "copy": {"n": 100}}, key=key, name=name).data.is_aa is expected


def test_an_aa_test_says_whether_the_check_passed_not_that_more_traffic_is_needed():
    same = {"control": {"n": 4_000, "rate": 0.08}, "copy": {"n": 4_000, "rate": 0.08}}
    report = experiment(same, key="signup-aa", name="Signup A/A check")
    verdict = report.verdict()
    assert report.analysis.verdict.decision == "A/A passed"
    assert verdict.children[0].title == "A/A check passed: the split and metrics look unbiased."
    assert verdict.children[0].severity == "good"
    html = everything(report)
    for stale in ("inconclusive", "More traffic", "more traffic", "underpowered", "Low power", "To detect an effect"):
        assert stale not in html
    assert "the smallest bias in the assignment or the metrics the check could reveal" in html
    assert "A/A test" in report.glossary().html()
    differ = experiment({"control": {"n": 4_000, "rate": 0.08}, "copy": {"n": 4_000, "rate": 0.11}},
                        key="signup-aa", name="Signup A/A check")
    callout = differ.verdict().children[0]
    assert differ.analysis.verdict.decision == "A/A failed" and callout.title == "A/A check failed."
    assert callout.severity == "critical" and "rerun the check" in callout.message
    assert "ship" not in callout.title.lower()


def test_multi_arm_cuped_p_values_get_the_same_correction_as_the_other_tests():
    spec = {"control": {"n": 1_500}, "b": {"n": 1_500, "effect": 0.4}, "c": {"n": 1_500, "effect": 0.9}}
    for correction, adjust in (("holm", holm), ("bonferroni", lambda p: [min(1.0, 2 * x) for x in p])):
        report = experiment(spec, metric="revenue", correction=correction)
        raw = [report.analysis.cuped[v].adjusted.p_value for v in ("B", "C")]
        adjusted = [report.analysis.cuped[v].p_adjusted for v in ("B", "C")]
        assert adjusted == pytest.approx(adjust(raw))
        name = er.ADJUSTMENTS[correction]
        table = report.cuped_table()
        assert f"CUPED p ({name}-adj.)" in table.frame.columns
        assert table.frame[f"CUPED p ({name}-adj.)"].tolist() == [p_text(p) for p in adjusted]
        multiple = report.multiple_comparisons().html()
        assert "Revenue per user, CUPED" in multiple and p_text(adjusted[1]) in multiple
    single = experiment({"control": {"n": 1_500}, "b": {"n": 1_500, "effect": 0.9}}, metric="revenue")
    assert "CUPED p-value" in single.cuped_table().frame.columns


def test_the_data_files_of_the_welch_cuped_and_power_tables_hold_numbers():
    # Their CSVs held "+$2.83 (+$1.10 to +$4.55)", "12.3%" and "1,500 / 1,500": text nobody could recompute from.
    report = experiment({"control": {"n": 1_500, "rate": 0.10}, "b": {"n": 1_500, "rate": 0.13, "effect": 0.9}},
                        metric="revenue")
    a = report.analysis

    def rows(table):
        [data] = table.tables()
        return data, {r[0]: dict(zip(data["columns"], r, strict=True)) for r in data["rows"]}

    welch, by = rows(report.welch_table())
    w = a.welch["B"]
    mean = next(c for c in welch["columns"] if c.startswith("Mean"))
    assert by["B"]["Users"] == 1_500 and by["B"][mean] == pytest.approx(w.mean_a)
    assert (by["B"]["Difference"], by["B"]["Difference CI low"], by["B"]["Difference CI high"]) == pytest.approx(
        (w.diff, w.ci_low, w.ci_high))
    assert by["B"]["Cohen's d"] == pytest.approx(w.cohen_d) and by["Control"]["Difference"] is None
    assert welch["units"]["Difference"] == "currency" and welch["units"][mean] == "currency"
    p_column = next(c for c in welch["columns"] if c.startswith("p"))
    assert 0 <= by["B"][p_column] <= 1 and p_column not in welch["units"]

    cuped, by = rows(report.cuped_table())
    c = a.cuped["B"]
    assert by["B"]["θ"] == pytest.approx(c.theta) and by["B"]["Variance reduction"] == pytest.approx(c.variance_reduction)
    assert (by["B"]["CUPED difference"], by["B"]["CUPED difference CI low"]) == pytest.approx((c.adjusted.diff, c.adjusted.ci_low))
    assert by["B"]["Unadjusted difference CI high"] == pytest.approx(c.unadjusted.ci_high)
    assert by["B"]["CUPED p-value"] == pytest.approx(c.adjusted.p_value) and cuped["units"]["Variance reduction"] == "percent"

    power, by = rows(report.power_table())
    p = a.power["B"]
    assert (by["B"]["Users (control)"], by["B"]["Users (treatment)"]) == (1_500, 1_500)
    assert (by["B"]["Observed effect"], by["B"]["MDE at 80% power"]) == pytest.approx((p.observed_effect, p.mde))
    assert by["B"]["Users per variant to detect the observed effect"] >= 2
    assert power["units"]["MDE at 80% power"] == "currency"
    conversion = experiment({"control": {"n": 1_500, "rate": 0.10}, "b": {"n": 1_500, "rate": 0.13}})
    data, by = rows(conversion.power_table())
    assert data["units"]["Observed effect"] == "percent"
    assert by["B"]["Observed effect"] == pytest.approx(conversion.analysis.power["B"].observed_effect)

    three = experiment({"control": {"n": 1_500, "rate": 0.10}, "b": {"n": 1_500, "rate": 0.13, "effect": 0.9},
                        "c": {"n": 1_500, "rate": 0.11}})
    [multiple] = next(c for c in three.multiple_comparisons().children if hasattr(c, "frame")).tables()
    first = dict(zip(multiple["columns"], multiple["rows"][0], strict=True))
    expected = three.analysis.comparisons.iloc[0]
    assert (first["Difference"], first["Raw p"]) == pytest.approx((expected["diff"], expected["p_value"]))
    assert first["Holm-adjusted p"] == pytest.approx(expected["p_adjusted"]) and isinstance(first["Significant at 0.05"], bool)


def test_variant_labels_replace_keys_in_tables_charts_sentences_and_alt_text():
    spec = {"control": {"n": 3_000, "rate": 0.06}, "annual_toggle": {"n": 3_000, "rate": 0.06},
            "social_proof": {"n": 3_000, "rate": 0.09, "effect": -1.0}}
    report = experiment(spec)
    shown = everything(report)
    assert "social_proof" not in shown and "annual_toggle" not in shown
    # (Social proof's revenue fell: its verdict weighs that guardrail loss.)
    assert "Verdict: ship Social proof only if its guardrail loss is acceptable." in shown and "Annual toggle" in shown
    alts = [c.alt for name in SECTIONS if getattr(report, name)() for c in walk(getattr(report, name)())
            if isinstance(c, Chart)]
    assert alts and all("Social proof" in alt for alt in alts)
    assert {k["label"] for k in headline(report).values()} >= {"Conversion, Social proof"}
    assert variant_label("social_proof") == "Social proof" and variant_label("one-page") == "One page"
    assert variant_label("Blue CTA") == "Blue CTA"
    # Two keys that would read the same keep their keys rather than merge.
    assert variant_labels(["one_page", "one-page"]) == {"one_page": "one_page", "one-page": "one-page"}


def test_variants_that_differ_only_by_invisible_characters_are_told_apart():
    # "control" and "contro\u200bl" (a zero-width space) read alike: two rows and two warnings that looked the same.
    report = experiment({"control": {"n": 2_000, "rate": 0.10}, "contro\u200bl": {"n": 2_000, "rate": 0.12},
                         "b": {"n": 2_000, "rate": 0.11}})
    shown = everything(report)
    assert "Contro[U+200B]l" in shown or "contro[U+200B]l" in shown
    assert "\u200b" not in shown
    labels = variant_labels(["control", "contro\u200bl", "b"])
    assert labels["contro\u200bl"] == "contro[U+200B]l" and labels["b"] == "B"
    # An invisible character that makes no look-alike (a joiner inside a Persian word) is left as it is.
    assert variant_labels(["control", "می\u200cخواهم"])["می\u200cخواهم"] == "می\u200cخواهم"


def test_signed_amounts_never_break_between_sign_and_currency():
    report = experiment({"control": {"n": 3_000}, "B": {"n": 3_000, "pre_shift": 2.0, "effect": -2.5}}, metric="revenue")
    shown = everything(report, alts=False)  # HTML only: alt texts are escaped into their img tags there
    assert "\u2212\u2060$" in shown  # the typographic minus is joined to its dollar sign
    assert not re.search("[+\u2212]\\$", shown), "a sign directly before $ lets the line break between them"
    cells = re.findall(r'<td class="q-num[^"]*">(.*?)</td>', shown)
    assert any("\u2212" in c for c in cells) and not any(re.search("[+\u2212]\\$", c) for c in cells)
    assert Callout("fell by −$1.14 and +€2").html().count("\u2060") == 2


# --------------------------------------------------------------------------- printed layout (demo scale)


def report_html(report: er.ExperimentReport) -> str:
    """The report as the pipeline renders it: the output of each of the notebook's cells, in the notebook's order."""
    import nbformat

    from quire.brand import load_brand
    from quire.pipeline import report_outputs
    from quire.render import render_html
    from support import ROOT

    source = nbformat.read(ROOT / "notebooks" / "experiment.ipynb", as_version=4)
    calls = [m.group(1) for cell in source.cells if cell.cell_type == "code"
             for m in [re.fullmatch(r"\s*report\.(\w+)\(\)\s*", cell.source)] if m]
    nb = nbformat.v4.new_notebook()
    for name in calls:
        shown = getattr(report, name)()
        if shown is not None:
            cell = nbformat.v4.new_code_cell(f"report.{name}()")
            cell.outputs = [nbformat.v4.new_output("display_data", data=shown._repr_mimebundle_())]
            nb.cells.append(cell)
    meta, _ = report_outputs(nb)
    meta = {"title": "Experiment report", **meta, "report_id": "experiment", "run_id": "20261101T060000Z-layout",
            "generated": "1 November 2026"}
    return render_html(nb, brand=load_brand("quire"), meta=meta)


@pytest.mark.parametrize("key", KEYS)
def test_demo_reports_fit_a4_without_broken_numbers_or_half_empty_pages(demo_reports, key):
    from support.layout import broken_numbers, fill, layout, overflows

    document = layout(report_html(demo_reports[key]))
    assert [str(o) for o in overflows(document)] == []
    assert broken_numbers(document) == []
    shares = fill(document)
    assert all(share >= 0.6 for share in shares[:-1]), f"pages filled {[f'{s:.0%}' for s in shares]}"


def _without_revenue(report: er.ExperimentReport, *, pre_revenue: float | None = 0.0) -> er.ExperimentReport:
    """The same experiment as a conversion-only dataset records it: revenue 0 for everyone (pre_revenue constant or absent)."""
    d = report.data
    rows = d.assignments.assign(revenue=0.0)
    rows = rows.drop(columns="pre_revenue") if pre_revenue is None else rows.assign(pre_revenue=pre_revenue)
    return er.ExperimentReport(ExperimentData(d.key, d.name, d.hypothesis, d.primary_metric, d.started_on, d.ended_on,
                                              d.variants, rows))


@pytest.mark.parametrize("pre_revenue", [0.0, None], ids=["pre_revenue 0", "no pre_revenue"])
@pytest.mark.parametrize("arms_", [{"control": {"n": 2_000}, "B": {"n": 2_000, "rate": 0.13}},
                                   {"control": {"n": 900}, "B": {"n": 900}, "C": {"n": 900, "rate": 0.15}}],
                         ids=["two arms", "three arms"])
def test_a_conversion_only_experiment_leaves_revenue_out_and_keeps_every_conversion_figure(arms_, pre_revenue):
    full = experiment(arms_)
    bare = _without_revenue(full, pre_revenue=pre_revenue)
    a, b = full.analysis, bare.analysis
    assert not b.has_revenue and not b.welch and not b.cuped and b.revenue_comparisons.empty
    pd.testing.assert_frame_equal(b.conversion_comparisons, a.conversion_comparisons)
    assert (b.verdict.decision, b.verdict.variant) == (a.verdict.decision, a.verdict.variant)
    assert "revenue_diff" not in headline(bare) and set(headline(bare)) == set(headline(full)) - {"revenue_diff"}
    revenue = bare.revenue()
    [note] = revenue.children
    assert isinstance(note, Callout) and "Every assigned user's revenue is $0.00" in note.message
    shown = everything(bare)
    assert "nan" not in shown.lower() and "Welch" not in shown and "CUPED" not in shown
    if bare.several:
        assert "Revenue per user" not in bare.multiple_comparisons().html()
    terms = " ".join(term for term, _ in bare.glossary().entries)
    assert "Welch" not in terms and "CUPED" not in terms


def test_a_revenue_experiment_without_revenue_says_what_to_record():
    report = _without_revenue(experiment({"control": {"n": 1_000}, "B": {"n": 1_000}}, metric="revenue"))
    assert report.analysis is None and report.headline() is None
    [callout] = report.verdict().children[:1]
    assert callout.severity == "warning" and "every assigned user's revenue is 0" in callout.message.lower()
    assert "experiment_assignments.revenue" in callout.message and "The results will appear once" not in callout.message


def test_a_constant_pre_revenue_leaves_cuped_out_and_says_why():
    full = experiment({"control": {"n": 2_000}, "B": {"n": 2_000, "effect": 1.0}}, metric="revenue")
    d = full.data
    flat = er.ExperimentReport(ExperimentData(d.key, d.name, d.hypothesis, d.primary_metric, d.started_on, d.ended_on,
                                              d.variants, d.assignments.assign(pre_revenue=0.0)))
    assert flat.analysis.cuped == {} and flat.analysis.welch["B"].diff == full.analysis.welch["B"].diff
    assert not flat.data.has_covariate and full.data.has_covariate
    [note] = [c for c in flat.revenue().children if isinstance(c, Callout)]
    assert note.message.startswith("Every user's pre_revenue (revenue before the experiment) is $0.00")
    assert "variance_reduction" not in headline(flat)


def test_a_revenue_the_same_for_everyone_is_not_called_unrecorded():
    full = experiment({"control": {"n": 500}, "B": {"n": 500}})
    d = full.data
    flat = er.ExperimentReport(ExperimentData(d.key, d.name, d.hypothesis, d.primary_metric, d.started_on, d.ended_on,
                                              d.variants, d.assignments.assign(revenue=10.0)))
    [note] = flat.revenue().children
    assert note.message == ("Every assigned user's revenue is $10.00: the same for every user, so there is no revenue "
                            "comparison.")


@pytest.mark.parametrize("absent", [(), ("experiment_variants",)], ids=["plan recorded", "no plan recorded"])
def test_a_mismatch_against_an_assumed_equal_split_says_the_plan_was_assumed(absent):
    """A 96/4 hold-out imported without its planned split must not read as a broken assignment only."""
    users = 2_000
    assignments = pd.DataFrame({"user_id": range(users), "variant": ["control" if u % 25 == 0 else "b" for u in range(users)],
                                "converted": [u % 40 == 0 for u in range(users)], "revenue": 0.0, "pre_revenue": 0.0})
    report = er.ExperimentReport(replace(_data(assignments), absent=absent))
    section = report.assignment().html()
    assert "Sample ratio mismatch" in section
    if absent:
        assert "against an assumed equal split" in section and "record its allocation (experiment_variants)" in section
        assert "Users per variant against an equal split (no plan recorded)" in section
        assert "The warehouse has no experiment_variants table" in report.verdict().html()
        verdict = report.verdict().html()
        assert "Variants (split assumed equal)" in verdict
        assert "equally, the split assumed without a recorded plan (sample ratio mismatch)" in verdict
        assert "if the experiment split the traffic unevenly by design, record its allocation" in verdict
    else:
        assert "assumed" not in section and "Users per variant against the plan" in section
        assert "as planned (sample ratio mismatch)" in report.verdict().html() and "assumed" not in report.verdict().html()


@pytest.mark.parametrize("missing", ["all", "some"])
def test_a_pre_revenue_missing_for_users_leaves_cuped_out_and_says_for_how_many(missing):
    full = experiment({"control": {"n": 2_000}, "B": {"n": 2_000, "effect": 1.0}}, metric="revenue")
    d = full.data
    pre = d.assignments["pre_revenue"].astype(float)
    pre = pre * np.nan if missing == "all" else pre.where(d.assignments.index % 10 != 0)
    partial = er.ExperimentReport(replace(d, assignments=d.assignments.assign(pre_revenue=pre)))
    assert partial.analysis.cuped == {} and partial.analysis.welch["B"].diff == full.analysis.welch["B"].diff
    [note] = [c for c in partial.revenue().children if isinstance(c, Callout)]
    whose = "no user" if missing == "all" else f"{int(pre.notna().sum()):,} of 4,000 users"
    assert note.message.startswith(f"The assignments record a pre_revenue (revenue before the experiment) for {whose}, "
                                   "so the CUPED comparison")


def _with(report: er.ExperimentReport, **columns) -> er.ExperimentReport:
    """The same experiment with some assignment columns replaced."""
    d = report.data
    return er.ExperimentReport(ExperimentData(d.key, d.name, d.hypothesis, d.primary_metric, d.started_on, d.ended_on,
                                              d.variants, d.assignments.assign(**columns)))


@pytest.mark.parametrize("n", [301, 497, 500, 1_000])
@pytest.mark.parametrize("rates", [(0.05, 0.0), (0.0, 0.05), (1.0, 1.0), (0.0, 0.0), (1.0, 0.9)])
def test_arms_where_nobody_or_everybody_converted_render_with_bounded_intervals(n, rates):
    # statsmodels' Wilson bound is 4e-19 (not 0) at 0 of some n and 0.9999999999999999 at n of n: the
    # error bar got a negative length and the run failed.
    report = experiment({"control": {"n": n, "rate": rates[0]}, "B": {"n": n, "rate": rates[1]}})
    conv = report.analysis.conversion
    assert (conv["rate_ci_low"] <= conv["rate"]).all() and (conv["rate"] <= conv["rate_ci_high"]).all()
    assert conv.loc[conv["rate"] == 0, "rate_ci_low"].eq(0).all() and conv.loc[conv["rate"] == 1, "rate_ci_high"].eq(1).all()
    shown = everything(report)
    assert "nan" not in shown.lower() and " — to " not in shown
    if rates == (1.0, 1.0):
        # The ratio has no spread to build an interval from when both arms converted everyone: not "0.0% to 0.0%".
        assert "0.0% to 0.0%" not in shown and "interval not defined" in shown
        assert "cannot rise" in report.power().html() and not report.analysis.verdict.warnings


@pytest.mark.parametrize(("rate", "said"), [(0.0, "No user converted in any variant (3,000 users)"),
                                            (1.0, "Every user converted in every variant (3,000 users)")])
def test_no_conversion_anywhere_asks_to_check_the_recording_not_for_more_traffic(rate, said):
    report = experiment({"control": {"n": 1_000, "rate": rate}, "B": {"n": 1_000, "rate": rate},
                         "C": {"n": 1_000, "rate": rate}})
    verdict = report.analysis.verdict
    assert verdict.decision == "inconclusive" and said in verdict.reasons[-1]
    assert "experiment_assignments.converted" in verdict.reasons[-1]
    shown = everything(report)
    assert "More traffic" not in shown and "Low power" not in shown and said in shown
    # One arm converting at all is an experiment with something to test: the usual verdict.
    some = experiment({"control": {"n": 1_000, "rate": 0.0}, "B": {"n": 1_000, "rate": 0.004}})
    assert not any("recorded" in r for r in some.analysis.verdict.reasons)
    # An A/A check passes, but says that it could not have found anything on conversion.
    aa = experiment({"control": {"n": 1_000, "rate": rate}, "copy": {"n": 1_000, "rate": rate}}, key="signup-aa").analysis
    assert aa.verdict.decision == "A/A passed" and not any("would have revealed" in r for r in aa.verdict.reasons)
    assert any(r.startswith(said.replace("3,000", "2,000") + ", so the check says nothing about conversion")
               for r in aa.verdict.reasons), aa.verdict.reasons


def test_a_revenue_constant_within_each_arm_is_no_evidence_and_no_mde():
    base = experiment({"control": {"n": 500}, "B": {"n": 500}}, metric="revenue")
    flat = _with(base, revenue=np.where(base.data.assignments["variant"] == "B", 5.0, 0.0))
    w = flat.analysis.welch["B"]
    assert w.diff == 5.0 and math.isnan(w.p_value) and math.isnan(w.ci_low)
    assert flat.analysis.verdict.decision == "inconclusive"  # not "ship" on t = 5/0
    assert flat.analysis.power["B"].mde is None
    assert "95% CI not defined, p not defined" in flat.verdict().html()
    [note] = flat.power().children
    assert isinstance(note, Callout) and "no minimum detectable effect" in note.message
    assert "$0.00" not in headline(flat).get("mde", {}).get("display", "")


def test_a_pre_revenue_that_copies_revenue_leaves_cuped_out_and_says_why():
    base = experiment({"control": {"n": 400}, "B": {"n": 400, "effect": 1.0}}, metric="revenue")
    same = _with(base, pre_revenue=base.data.assignments["revenue"] * 2)
    assert same.analysis.cuped == {} and not same.data.has_covariate and base.data.has_covariate
    [note] = [c for c in same.revenue().children if isinstance(c, Callout)]
    assert "moves in step with their revenue" in note.message and "variance_reduction" not in headline(same)


def test_uneven_arms_are_judged_by_their_harmonic_mean_not_their_average():
    # 1,900 and 100 users have the power of 190 + 190, not of 1,000 + 1,000.
    report = experiment({"control": {"n": 1_900, "rate": 0.10}, "B": {"n": 100, "rate": 0.15}})
    p = report.analysis.power["B"]
    sentence = report.sample_sentence()
    assert "1,900 and 100 users are worth 190 per variant" in sentence and "1,000" not in sentence
    row = report.analysis.conversion_comparisons.iloc[0]
    assert "large enough" not in sentence and p.underpowered(row["ci_low"], row["ci_high"])


def test_the_decision_rule_counts_the_treatments_that_had_users():
    base = experiment({"control": {"n": 300}, "B": {"n": 300, "rate": 0.2}})
    d = base.data
    planned = pd.concat([d.variants, pd.DataFrame({"variant": ["C"], "is_control": [False]})]).assign(allocation=1 / 3)
    report = er.ExperimentReport(ExperimentData(d.key, d.name, d.hypothesis, d.primary_metric, d.started_on, d.ended_on,
                                                planned, d.assignments))
    assert report.treatments == ["B"]
    assert "correction" not in report.facts().html()
    assert "Holm correction across the 2 treatments" in experiment(
        {"control": {"n": 300}, "B": {"n": 300}, "C": {"n": 300}}).facts().html()


def test_a_variant_with_a_single_user_says_so_and_reports_the_lopsided_split():
    report = experiment({"control": {"n": 50}, "B": {"n": 1}})
    [callout] = report.verdict().children[:1]
    assert isinstance(callout, Callout) and callout.severity == "warning"
    assert callout.message.startswith("'B' has a single assigned user, and comparing variants needs at least 2 users in each.")
    assert "Users so far (Control 50, B 1) were not split as planned (sample ratio mismatch, p < 0.001)" in callout.message
    # Without a plan: "is not equally, the split assumed…" did not parse.
    unplanned = er.ExperimentReport(replace(report.data, absent=(*report.data.absent, "experiment_variants")))
    message = unplanned.verdict().children[0].message
    assert "were not split equally, the split assumed without a recorded plan (sample ratio mismatch" in message, message
    assert "once users are assigned to at least the control" not in callout.message
    assert callout.message.count("at least 2 users") == 1, callout.message  # said once, not again as the hint


@pytest.mark.parametrize("spec, says", [
    ({"control": {"n": 2_000}, "B": {"n": 1_500}}, "The split does not match an equal split (no plan is recorded;"),
    ({"control": {"n": 1_000}, "B": {"n": 1_000}}, "The split matches an equal split (no plan is recorded;"),
])
def test_without_a_recorded_plan_the_sample_ratio_check_speaks_of_an_equal_split_not_of_the_plan(spec, says):
    report = experiment(spec)
    unplanned = er.ExperimentReport(replace(report.data, absent=(*report.data.absent, "experiment_variants")))
    said = unplanned.srm_sentence()
    assert said.startswith(says) and "plan (" not in said and "planned split" not in said, said
    assert "against an equal split" in said
    assert report.srm_sentence().startswith(says.split(" an equal split")[0] + " the plan")  # with a plan: as before


def test_a_stray_variant_of_one_user_is_left_out_and_the_others_are_still_compared():
    # A QA account in a third arm hid control against treatment (2,000 users each) behind "Nothing to analyse yet".
    report = experiment({"control": {"n": 2_000, "rate": 0.10}, "B": {"n": 2_000, "rate": 0.12}, "C": {"n": 1}})
    assert report.problem is None and report.treatments == ["B"]
    assert report.analysis.conversion["variant"].tolist() == ["Control", "B"]  # labelled for display
    assert sum(report.analysis.srm.observed.values()) == 4_001  # the split check still counts every user
    [left_out] = [w for w in report.analysis.verdict.warnings if "single assigned user" in w]
    assert left_out.startswith("'C' has a single assigned user and is left out of the comparisons, which need at "
                               "least 2 users in each variant")
    assert "left out of the comparisons" in report.verdict().html()
    assert "Control 33.3%, B 33.3%, C 33.3%" in report.facts().html()  # not three 33% adding up to 99%
    # Without a recorded plan nothing says C was meant to get a third: the assumed equal split is control's and B's
    # (one QA user made a perfect 2,000/2,000 split a "sample ratio mismatch" and the verdict "don't ship").
    unplanned = er.ExperimentReport(replace(report.data, absent=(*report.data.absent, "experiment_variants")))
    srm = unplanned.analysis.srm
    assert set(srm.observed) == {"Control", "B"} and not srm.mismatch and srm.p_value == pytest.approx(1.0)
    assert any("the equal split assumed without a plan is the compared variants'" in w
               for w in unplanned.analysis.verdict.warnings)
    assert "Control 50%, B 50%, C left out (a single user)" in unplanned.facts().html()
    # The control alone, or no treatment left, is still nothing to compare; an ended experiment gets no "yet".
    for spec in ({"control": {"n": 1}, "B": {"n": 300}}, {"control": {"n": 300}, "B": {"n": 1}, "C": {"n": 1}}):
        assert experiment(spec).problem.title == "Nothing to analyse."
    running = experiment({"control": {"n": 300}, "B": {"n": 1}})
    running = er.ExperimentReport(replace(running.data, ended_on=None))
    assert running.problem.title == "Nothing to analyse yet."
    # Recorded in run.json and led by the e-mail as the run's conclusion, in place of a verdict.
    assert running.header().meta()["conclusion"] == running.problem.text()
    assert running.header().meta()["conclusion"].startswith("Nothing to analyse yet. ")


def test_headline_cards_of_a_degenerate_experiment_say_why_a_figure_is_missing():
    shown = experiment({"control": {"n": 400, "rate": 1.0}, "B": {"n": 400, "rate": 1.0}}).headline().html()
    assert "interval not defined" not in shown  # the card holds the lift alone; its interval is in the table
    assert "Control converted every user: no rise is possible" in shown


def _with_dates(tiny_warehouse, tmp_path, key: str, started_on: str, ended_on: str) -> str:
    import shutil

    import duckdb

    copy = tmp_path / "dates.duckdb"
    shutil.copy(tiny_warehouse.removeprefix("duckdb:///"), copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute("UPDATE experiments SET started_on = ?, ended_on = ? WHERE key = ?", [started_on, ended_on, key])
    return f"duckdb:///{copy}"


def test_an_experiment_whose_every_user_is_outside_its_dates_says_so_not_that_nobody_was_assigned(tiny_warehouse,
                                                                                                 tmp_path):
    # "The experiment has no assignments yet: no user has been assigned to a variant", above a note that every
    # one of its users was assigned outside its dates (dated a year before they were).
    key = "checkout-redesign"
    assigned = er.build(key, url=tiny_warehouse).data.assignments
    report = er.build(key, url=_with_dates(tiny_warehouse, tmp_path, key, "2020-01-01", "2020-01-31"))
    n = len(assigned)
    assert report.problem is not None and report.problem.title == "Nothing to analyse."
    said = report.problem.text()
    assert "no user has been assigned" not in said and "yet" not in said, said
    assert f"All {n:,} users were assigned outside the experiment's dates, {report.dates_label()}, so" in said, said
    assert "started_on" in said and "ended_on" in said  # what to check
    assert report.header().meta()["conclusion"] == said
    assert report.verdict().html().count("outside the experiment") == 1  # said once, not again as a note


def test_an_experiment_that_ends_before_it_starts_is_a_one_line_error_naming_both_dates(tiny_warehouse, tmp_path):
    from quire.errors import WarehouseError

    url = _with_dates(tiny_warehouse, tmp_path, "checkout-redesign", "2026-09-30", "2026-09-01")
    with pytest.raises(WarehouseError) as caught:
        er.build("checkout-redesign", url=url)
    message = str(caught.value)
    assert "ends on 1 September 2026, before it starts on 30 September 2026" in message, message
    assert "\n" not in message and "experiments" in message


def test_users_assigned_outside_the_experiments_dates_are_left_out_and_said_so(tiny_warehouse, tmp_path):
    import shutil

    import duckdb

    copy = tmp_path / "late.duckdb"
    shutil.copy(tiny_warehouse.removeprefix("duckdb:///"), copy)
    key = "checkout-redesign"
    with duckdb.connect(str(copy)) as conn:
        experiment_id, ended_on = conn.execute("SELECT experiment_id, ended_on FROM experiments WHERE key = ?",
                                               [key]).fetchone()
        # 40 converting users of a treatment, assigned long after the experiment ended (a flag left on).
        conn.execute("""
            INSERT INTO experiment_assignments
            SELECT experiment_id, user_id + 10000000, variant, assigned_at + INTERVAL 400 DAY, TRUE, revenue, pre_revenue
            FROM (SELECT * FROM experiment_assignments WHERE experiment_id = ? AND variant <> (
                      SELECT variant FROM experiment_variants WHERE experiment_id = ? AND is_control) LIMIT 40)""",
                     [experiment_id, experiment_id])
    original, late = er.build(key, url=tiny_warehouse), er.build(key, url=f"duckdb:///{copy}")
    assert late.data.outside_dates == 40 and original.data.outside_dates == 0
    pd.testing.assert_frame_equal(late.analysis.conversion, original.analysis.conversion)
    verdict = late.verdict().html()
    assert "40 users were assigned outside the experiment" in verdict and late.dates_label() in verdict


# --------------------------------------------------------------------------- the control, without a plan


@pytest.mark.parametrize("names,control", [
    (["new_page", "old_page"], "old_page"),  # the Udacity landing-page test: "old" before "new" is not by name
    (["control", "treatment_a"], "control"),  # "control" outranks the "a" of a treatment
    (["B", "A"], "A"), (["Variant B", "Original"], "Original"), (["Control group", "Test group"], "Control group"),
    (["oldest", "newest"], None),  # whole words only
    (["b", "c"], None),  # nothing marks one
    (["control_1", "control_2"], "control_1"), (["B", "Control", "control"], "Control"),  # a tie: the first, with a warning
])
def test_the_control_is_found_by_a_word_of_its_name(names, control):
    assert experiment_queries.control_by_name(names) == control


def test_two_variants_whose_names_say_control_are_a_warning_naming_the_one_taken(tiny_warehouse, tmp_path):
    # "baseline" and "control": the report took "control" without a word (the probe's Hillstrom-like test).
    from support import warehouse_copy

    assert experiment_queries.control_rivals(["baseline", "control", "new"]) == ["baseline"]
    assert experiment_queries.control_rivals(["control", "treatment"]) == []
    assert experiment_queries.control_rivals(["control", "treatment_a", "treatment_b"]) == []  # the a of a treatment
    assert experiment_queries.control_rivals(["control", "A", "B"]) == ["A"]  # "A" alone does read as a control
    # Two names that both say it ("No variant's name says it is the control" was the report's word for a tie).
    assert experiment_queries.control_rivals(["B", "Control", "control"]) == ["control"]
    assert not experiment_queries.control_guessed(["B", "Control", "control"])
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("DROP TABLE experiment_variants")
        con.execute("UPDATE experiment_assignments SET variant = 'baseline' WHERE variant <> 'control' AND "
                    "experiment_id = (SELECT experiment_id FROM experiments WHERE key = 'checkout-redesign')")
    report = er.build("checkout-redesign", url=f"duckdb:///{path}")
    assert not report.data.control_guessed and report.analysis.control == "Control"
    warnings = [c.message for c in walk(report.verdict()) if isinstance(c, Callout) and c.severity == "warning"]
    assert any(w.startswith("“Baseline” also reads as a control; the report took “Control” (control, baseline, original, "
                            "old… are tried in that order). If another variant is the control") for w in warnings), warnings


@pytest.mark.parametrize("renamed,control,guessed", [
    ({"control": "old_page", "one_page": "new_page"}, "Old page", False),
    ({"control": "zeta", "one_page": "beta"}, "Beta", True),  # the treatment comes first by name
], ids=["named old", "nothing says"])
def test_without_a_plan_the_control_is_taken_by_name_and_a_guess_is_a_warning(tiny_warehouse, tmp_path, renamed,
                                                                             control, guessed):
    from support import warehouse_copy

    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("DROP TABLE experiment_variants")
        for old, new in renamed.items():
            con.execute("UPDATE experiment_assignments SET variant = ? WHERE variant = ? AND experiment_id = "
                        "(SELECT experiment_id FROM experiments WHERE key = 'checkout-redesign')", [new, old])
    planned = er.build("checkout-redesign", url=tiny_warehouse)
    report = er.build("checkout-redesign", url=f"duckdb:///{path}")
    assert report.data.control_guessed is guessed and report.analysis.control == control
    warnings = [c.message for c in walk(report.verdict()) if isinstance(c, Callout) and c.severity == "warning"]
    said = [w for w in warnings if "No variant's name says it is the control" in w]
    assert said == ([f"No variant's name says it is the control (control, baseline, original, old, A…), so the report "
                     f"took “{control}”, the first by name, for it. If another variant is the control, every difference "
                     "below has the wrong sign and the decision may be reversed: record the control in an "
                     "experiment_variants table (is_control), or, for an import, give its mapping experiment_plan: "
                "{control: <its name>, split: {<variant>: <planned share>, …}}."] if guessed else [])
    lift, planned_lift = headline(report)["abs_lift"]["value"], headline(planned)["abs_lift"]["value"]
    assert lift == pytest.approx(-planned_lift if guessed else planned_lift)


@pytest.mark.parametrize("start,end,label", [
    ("2024-01-15", "2024-01-15", "15 January 2024 (1 day)"),
    ("2024-01-15", "2024-01-16", "15 January – 16 January 2024 (2 days)"),
    ("2023-12-31", "2024-01-01", "31 December 2023 – 1 January 2024 (2 days)"),
])
def test_the_dates_label_counts_days_as_a_reader_does(start, end, label):
    data = replace(_data(EMPTY), started_on=pd.Timestamp(start), ended_on=pd.Timestamp(end))
    assert er.ExperimentReport(data).dates_label() == label


def test_an_interval_bound_just_past_zero_is_not_written_as_zero():
    # "95% CI 0.0 to +8.1 pts" for −0.04 to +8.05: the reader could not tell the interval crosses 0.
    from quire.metrics.experiment_analysis import describe_comparison
    from quire.charts.experiment import interval_text

    assert interval_text(-0.000394, 0.080546, "conversion") == "−0.04 to +8.1 pts"
    assert interval_text(0.006, 0.08, "conversion") == "+0.6 to +8.0 pts"  # no more decimals than needed
    assert interval_text(0.0, 0.02, "conversion") == "0.0 to +2.0 pts"
    row = {"metric": "conversion", "variant": "B", "control": "Control", "diff": 0.04, "control_value": 0.10, "treatment_value": 0.14,
           "ci_low": -0.000394, "ci_high": 0.080546, "significant": False, "p_value": 0.051}
    assert "95% CI −0.04 to +8.1 pts" in describe_comparison(row)


def test_the_lift_chart_writes_a_bound_just_past_zero_as_the_prose_does():
    # The chart read "+2.8 pts (0.0 to +5.6)" where the prose and the card read "+0.01 to +5.6".
    from quire.charts import experiment as experiment_charts
    from quire.charts.experiment import interval_text

    table = pd.DataFrame({"variant": ["Control", "B"], "is_control": [True, False], "rate": [0.10, 0.128],
                          "rate_ci_low": [0.09, 0.117], "rate_ci_high": [0.11, 0.139]})
    comparisons = pd.DataFrame({"variant": ["B"], "diff": [0.028], "ci_low": [0.0001], "ci_high": [0.056],
                                "significant": [True]})
    alt = experiment_charts.conversion_panels(table, comparisons, 0.95).alt
    assert f"B +2.8 pts ({interval_text(0.0001, 0.056, 'conversion')}, significant" in alt, alt
    assert "(+0.01 to +5.6 pts" in alt


def test_power_figures_of_a_test_too_small_for_the_normal_approximation_say_they_are_optimistic():
    # 45/50 against 50/50: "the sample was large enough … needs about 39 users per variant, and the test had 50",
    # while its p-value (Fisher's exact test) was 0.056 and that test's power at 50 users is about 38%.
    small = experiment({"control": {"n": 50, "rate": 0.9}, "B": {"n": 50, "rate": 1.0}}, metric="conversion")
    said = small.sample_sentence()
    assert "large enough" not in said, said
    assert "Fisher's exact test" in said and "optimistic" in said, said
    large = experiment({"control": {"n": 5_000, "rate": 0.10}, "B": {"n": 5_000, "rate": 0.12}}, metric="conversion")
    assert "Fisher" not in large.sample_sentence()


def test_a_verdict_on_a_test_fishers_exact_test_decided_says_its_mde_is_optimistic():
    # 12 users an arm, 0 against 1 conversion: the verdict and the MDE card promised "80% power" for a 31.7-point rise,
    # which Fisher's exact test (the one deciding at such counts) reaches with about 32%.
    from quire.metrics.experiment_analysis import EXACT_CAVEAT

    tiny = experiment({"control": {"n": 12, "rate": 0.0}, "B": {"n": 12, "rate": 1 / 12}}, metric="conversion")
    verdict = tiny.analysis.verdict
    assert verdict.decision == "inconclusive"
    assert [r for r in verdict.reasons if "underpowered" in r][0].endswith(EXACT_CAVEAT)
    assert sum(EXACT_CAVEAT in said for said in verdict.reasons + verdict.warnings) == 1  # said once, where power is
    assert tiny.headline().texts["mde"][1].endswith("(large-sample formula: the exact test used has less power)")
    large = experiment({"control": {"n": 5_000, "rate": 0.10}, "B": {"n": 5_000, "rate": 0.104}}, metric="conversion")
    assert not any(EXACT_CAVEAT in said for said in large.analysis.verdict.reasons + large.analysis.verdict.warnings)
    assert "exact test" not in large.headline().texts["mde"][1]


def test_the_power_charts_caption_promises_a_dot_only_where_one_is_drawn():
    from quire.charts import experiment as experiment_charts

    curves = pd.DataFrame({"variant": "B", "effect": [0.0, 0.05, 0.10], "power": [0.05, 0.3, 0.6]})
    none = experiment_charts.power_curves(curves, pd.DataFrame({"variant": ["B"], "mde": [float("nan")],
                                                                "observed": [0.02]}), 0.8)
    assert "Dot:" not in none.caption and "Dotted line: the observed effect's size." in none.caption, none.caption
    one = experiment_charts.power_curves(curves, pd.DataFrame({"variant": ["B"], "mde": [0.08], "observed": [0.02]}), 0.8)
    assert one.caption.startswith("Dot: the minimum detectable effect (80% power)."), one.caption


def test_one_verdict_writes_the_same_control_rate_the_same_way():
    # Hillstrom: "fell from 1.30% to 0.65%" and then "fell from 1.3% to 0.9%" of one control rate.
    from quire.metrics.experiment_format import rate_places

    report = experiment({"control": {"n": 20_000, "rate": 0.013}, "B": {"n": 20_000, "rate": 0.0065},
                         "C": {"n": 20_000, "rate": 0.009}})
    rows = [r for _, r in report.analysis.conversion_comparisons.iterrows()]
    control = rows[0]["control_value"]
    shown = {percent(control, rate_places(rows))}
    text = report.verdict().html() + report.conversion().lead
    found = set(re.findall(r"from (\d+\.\d+%) to", text)) | set(re.findall(r"against (\d+\.\d+%) in Control", text))
    assert found and found <= shown, (found, shown)


def test_the_data_files_of_the_main_tables_hold_numbers_not_display_text():
    # The run's CSV and workbook held "2.53% (2.4%–2.6%)" and "95,953": nothing a reader could sum or sort.
    report = experiment({"control": {"n": 2_000, "rate": 0.10}, "B": {"n": 2_000, "rate": 0.12}})
    [conversion] = report.conversion_table().tables()
    rows = {r[0]: dict(zip(conversion["columns"], r, strict=True)) for r in conversion["rows"]}
    b = report.analysis.conversion.set_index("variant").loc["B"]
    assert rows["B"]["Users"] == 2_000 and rows["B"]["Rate"] == pytest.approx(b["rate"])
    assert (rows["B"]["Abs. lift CI low"], rows["B"]["Abs. lift CI high"]) == pytest.approx(
        (b["abs_lift_ci_low"], b["abs_lift_ci_high"]))
    assert rows["Control"]["Abs. lift"] is None and conversion["units"]["Rate"] == "percent"
    assert "p-value" not in conversion["units"]  # no format that rounds 0.043 to 0.0
    [split] = next(c for c in report.assignment().children if getattr(c, "data", None) is not None).tables()
    assert [r[split["columns"].index("Users")] for r in split["rows"]] == [2_000, 2_000]
    assert split["units"]["Planned share"] == "percent"


def test_revenue_of_fractions_of_a_cent_a_user_keeps_its_digits(revenue_after):
    # Ad revenue of about $0.004 a user: "rose from $0.00 to $0.00 ($0.00, 95% CI $0.00 to $0.00, p < 0.001)", an
    # MDE of "$0.00" and a power chart whose axis read "$0.00 $0.00 $0.00 $0.01".
    frame = arms({"control": {"n": 4_000}, "B": {"n": 4_000, "effect": 3.0}})
    frame[["revenue", "pre_revenue"]] *= 1e-4
    variants = pd.DataFrame({"variant": ["control", "B"], "is_control": [True, False], "allocation": [0.5, 0.5]})
    report = er.ExperimentReport(ExperimentData("ads", "Ads", "B earns more.", "revenue", pd.Timestamp("2026-09-01"),
                                                pd.Timestamp("2026-09-30"), variants, frame))
    means = frame.groupby("variant")["revenue"].mean()
    welch = stats.ttest_ind(frame.loc[frame["variant"] == "B", "revenue"], frame.loc[frame["variant"] == "control", "revenue"],
                            equal_var=False)
    low, high = welch.confidence_interval(0.95)
    shown = everything(report)
    assert report.measure.decimals == 5  # three significant digits of the smaller mean, $0.00482
    assert f"${means['control']:.5f}" in shown and f"${means['B']:.5f}" in shown
    assert f"+⁠${means['B'] - means['control']:.5f}" in shown  # the difference, signed as the report signs it
    assert f"+⁠${low:.5f} to +⁠${high:.5f}" in shown
    assert not re.search(r"\$0\.00(?!\d)", shown)


def test_long_tick_labels_of_a_difference_axis_never_run_into_each_other(revenue_after):
    # "$0.00000+$0.00005+$0.00010…": eight labels of a fraction of a cent on one axis.
    import matplotlib.pyplot as plt

    from quire.charts.experiment import _signed_ticks

    experiment_measure.use(REVENUE.sized_for([0.004]))
    for high in (0.00035, 0.0035, 3.5):
        fig, ax = plt.subplots(figsize=(6.4, 2.0))
        ax.plot([0, high], [0, 1])
        _signed_ticks(ax, measure_units=True)
        fig.canvas.draw()
        boxes = sorted((t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()), key=lambda b: b.x0)
        assert len(boxes) >= 3 and all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))
        assert any(re.fullmatch(r"\$0(\.0+)?", t.get_text()) for t in ax.get_xticklabels())  # 0 is kept
        plt.close(fig)


def test_rate_and_lift_axes_tick_no_further_than_100(monkeypatch):
    # 0/3 against 3/3: the rate axis ran to a tick at 120% and the lift axis to +120 pts, which no rate can reach.
    from quire.charts import experiment as chart_module

    drawn = []
    monkeypatch.setattr(chart_module, "to_chart", lambda fig, alt: drawn.append(fig))
    report = experiment({"control": {"n": 3, "rate": 0.0}, "treatment": {"n": 3, "rate": 1.0}})
    a = report.analysis
    chart_module.conversion_panels(a.conversion, a.conversion_comparisons, report.level)
    rates, lifts = drawn[0].axes
    drawn[0].canvas.draw()
    assert rates.get_xticks().max() <= 1 + 1e-9 and rates.get_xticks().min() >= -1e-9  # ticks carry float error
    assert lifts.get_xticks().max() <= 1 + 1e-9 and lifts.get_xticks().min() >= -1 - 1e-9
    assert "100%" in [t.get_text() for t in rates.get_xticklabels()]


def test_a_bound_a_fraction_of_a_cent_from_zero_keeps_its_sign(revenue_after):
    # "95% CI $0.00 to +$0.28" for −$0.0041 to +$0.280: money stopped at cents, so the bound lost its sign.
    from quire.charts.experiment import interval_text

    assert interval_text(-0.0041, 0.28, "revenue") == "−$0.004 to +$0.28"
    assert interval_text(-0.12, 0.003, "revenue") == "−$0.12 to +$0.003"


def test_revenue_the_same_for_every_user_of_each_variant_is_no_test_and_no_cuped():
    # $7 for every control user, $9 for every treatment user: the verdict said "no significant difference" while
    # the CUPED paragraph said "the adjusted difference is significant (p < 0.001)", beside "±— " intervals.
    frame = arms({"control": {"n": 400}, "B": {"n": 400}})
    frame["revenue"] = np.where(frame["variant"] == "control", 7.0, 9.0)
    variants = pd.DataFrame({"variant": ["control", "B"], "is_control": [True, False], "allocation": [0.5, 0.5]})
    report = er.ExperimentReport(ExperimentData("price", "Price", "B earns more.", "revenue", pd.Timestamp("2026-09-01"),
                                                pd.Timestamp("2026-09-30"), variants, frame))
    assert not report.data.has_covariate and not report.analysis.cuped
    verdict = report.analysis.verdict
    assert verdict.decision == "inconclusive"
    assert "Every user of each variant has the same revenue: with no spread within the variants" in verdict.reasons[-1]
    shown = everything(report)
    assert "significant (p < 0.001)" not in shown and "±—" not in shown and "(— to —)" not in shown
    assert "Every user of each variant has the same revenue: there is no noise for the pre_revenue to remove" in shown


def test_the_power_table_of_three_treatments_is_a_treatment_a_row_below_the_chart():
    # Beside the chart, the third and fourth treatments' columns ran off the printed page.
    three = experiment({"control": {"n": 2_000}, "B": {"n": 2_000}, "C": {"n": 2_000}, "D": {"n": 2_000}})
    children = three.power().children
    assert not any(type(c).__name__ == "Grid" for c in children)
    table = children[-1]
    assert list(table.frame.columns[:2]) == ["Treatment", "Users (control / treatment)"]
    assert table.frame["Treatment"].tolist() == ["B", "C", "D"]
    two = experiment({"control": {"n": 2_000}, "B": {"n": 2_000}, "C": {"n": 2_000}})
    assert type(two.power().children[0]).__name__ == "Grid"  # two treatments' columns still sit beside the chart


def test_the_multiple_comparisons_table_marks_the_tests_the_verdict_reads():
    # A revenue experiment decided on CUPED: the raw Welch rows were labelled "(primary)" with "yes" beside a
    # verdict that read the CUPED rows.
    report = experiment({"control": {"n": 2_000}, "B": {"n": 2_000, "effect": 1.5}, "C": {"n": 2_000}}, metric="revenue")
    assert set(report.analysis.decided_on["metric"]) == {"revenue_cuped"}
    metrics = report.multiple_comparisons().children[1].frame["Metric"].tolist()
    assert metrics.count("Revenue per user, CUPED (primary)") == 2 and "Revenue per user (primary)" not in metrics
    assert metrics.count("Revenue per user") == 2 and metrics.count("Conversion") == 2
    conversion = experiment({"control": {"n": 2_000}, "B": {"n": 2_000, "rate": 0.14}, "C": {"n": 2_000}})
    assert conversion.multiple_comparisons().children[1].frame["Metric"].tolist().count("Conversion (primary)") == 2


def test_a_single_treatments_guardrail_warning_names_no_correction():
    # "Holm-adjusted p < 0.001" in a test with one treatment, where nothing is adjusted.
    report = experiment({"control": {"n": 3_000, "rate": 0.10}, "B": {"n": 3_000, "rate": 0.15, "effect": -3.0}})
    verdict = report.analysis.verdict
    assert verdict.decision == "ship"
    [guard] = [w for w in verdict.reasons if w.startswith("Guardrail:")]
    assert "Holm" not in guard and "-adjusted p" not in guard and "p < 0.001" in guard
    # A gain bought with a significant guardrail loss is no green "ship B": the box is amber and its title, which
    # run.json and the e-mail quote, says what to weigh; the loss itself is in the reasons they quote too.
    box = report.decision()
    assert box.severity == "warning" and box.title == "Verdict: ship B only if its guardrail loss is acceptable."
    assert guard in report.header().meta()["conclusion"]


def test_identical_arms_get_one_piece_of_advice_about_sample_size():
    # The verdict: "underpowered … more traffic is needed"; the power section: "no sample size would make it
    # significant". Both true of different things, read as a contradiction.
    report = experiment({"control": {"n": 1_000, "rate": 0.1}, "B": {"n": 1_000, "rate": 0.1}})
    assert report.analysis.power["B"].observed_effect == 0
    sentence = report.sample_sentence()
    assert "no sample size would make it significant" not in sentence
    assert sentence == ("The observed difference is exactly zero, so there is no observed effect to size a sample for; a "
                        "true effect smaller than the MDE would take more than the test's 1,000 users per variant to "
                        "detect.")


def test_several_treatments_have_their_mde_at_the_corrections_strictest_threshold():
    # The decisions read Holm-adjusted p-values, but the MDE was at the plain alpha: "detects a rise of 2.8 pts"
    # where, against 0.05 ÷ 4, it takes 3.4.
    from statsmodels.stats.power import NormalIndPower

    report = experiment({"control": {"n": 4_000, "rate": 0.10}, "B": {"n": 4_000, "rate": 0.11},
                         "C": {"n": 4_000, "rate": 0.105}})
    p = report.analysis.power["B"]
    assert p.alpha == pytest.approx(0.025)
    h = NormalIndPower().solve_power(nobs1=4_000, ratio=1.0, alpha=0.025, power=0.8)
    mde = math.sin(math.asin(math.sqrt(0.10)) + h / 2) ** 2 - 0.10
    assert p.mde == pytest.approx(mde, rel=2e-3)
    assert "its minimum detectable effect (MDE) at alpha 0.025 (0.05 ÷ 2 treatments, the Holm correction's strictest " \
           "threshold)." in report.power_sentence()
    one = experiment({"control": {"n": 4_000, "rate": 0.10}, "B": {"n": 4_000, "rate": 0.11}})
    assert one.analysis.power["B"].alpha == pytest.approx(0.05)
    assert one.power_sentence().endswith("MDE) at alpha 0.05. The observed +1.0 pts is smaller than the MDE.")


def test_a_guardrail_mean_over_few_users_is_flagged_like_a_primary_one():
    # Two users an arm: the revenue guardrail's card showed "−$2.59, p = 0.010" with no word that a mean of two
    # users says little; the few-users warning covered the primary metric only.
    report = experiment({"control": {"n": 10, "rate": 0.5}, "B": {"n": 10, "rate": 0.6}})
    assert report.metric == "conversion" and report.analysis.guardrail is not None
    assert any(w.startswith("Few users for a mean of revenue: 10 in B and 10 in the control.")
               for w in report.analysis.verdict.warnings)
    many = experiment({"control": {"n": 100, "rate": 0.5}, "B": {"n": 100, "rate": 0.6}})
    assert not any(w.startswith("Few users") for w in many.analysis.verdict.warnings)


def test_one_user_holding_most_of_an_arms_revenue_is_said_even_without_a_significant_result():
    # One user's 50,000 among a thousand users' $5: "$55.18 against $5.09 … underpowered, more traffic is needed",
    # and nothing about the one user whose purchase is most of that mean.
    frame = arms({"control": {"n": 1_000}, "B": {"n": 1_000}})
    whale = frame.index[frame["variant"] == "B"][0]
    frame.loc[whale, "revenue"] = 50_000.0
    variants = pd.DataFrame({"variant": ["control", "B"], "is_control": [True, False], "allocation": [0.5, 0.5]})
    report = er.ExperimentReport(ExperimentData("whale", "Whale", "B earns more.", "revenue", pd.Timestamp("2026-09-01"),
                                                pd.Timestamp("2026-09-30"), variants, frame))
    total = frame.loc[frame["variant"] == "B", "revenue"].sum()
    [warning] = [w for w in report.analysis.verdict.warnings if w.startswith("One user holds")]
    assert warning.startswith(f"One user holds {percent(50_000 / total, 0)} of B's revenue ($50,000.00 of "
                              f"${total:,.2f} over 1,000 users)")
    assert not report.analysis.comparisons["significant"].any()
    plain = experiment({"control": {"n": 1_000}, "B": {"n": 1_000}}, metric="revenue")
    assert not any(w.startswith("One user") for w in plain.analysis.verdict.warnings)


def test_a_rate_whose_observed_fall_no_sample_could_detect_says_fall_not_any_change():
    # The MDE of a rate is taken in the observed direction: from 8.2 % nothing can fall far enough for 80 % power at
    # alpha 0.005, but a rise can (+26 pts). "Any possible change" denied the rises too.
    report = experiment({"control": {"n": 49, "rate": 4 / 49}, "A": {"n": 71, "rate": 0.0}, "B": {"n": 60, "rate": 0.1}},
                        level=0.99, correction="bonferroni")
    p = report.analysis.power["A"]
    assert p.mde is None and p.downward and p.floor_p is None
    said = " ".join(report.analysis.verdict.reasons + report.analysis.verdict.warnings)
    assert "could not reliably detect (with 80% power) any possible fall for A" in said, said
    assert "Low power for A: with 49 and 71 users the test cannot detect any possible fall" in said, said
    # Arms where no outcome at all can be significant: any change, whichever way.
    tiny = experiment({"control": {"n": 3, "rate": 1.0}, "treatment": {"n": 3, "rate": 0.0}})
    assert tiny.analysis.power["Treatment"].floor_p is not None
    assert "any possible change" in " ".join(tiny.analysis.verdict.reasons)


def test_a_lift_that_is_not_zero_never_reads_as_zero_and_its_rates_differ():
    # 2,000 against 2,008 conversions of 20,000 users an arm: "Conversion was 10.0% in Treatment against 10.0% in
    # Control (0.0 pts, …)" on the verdict, card, table, chart and power section, as identical arms read.
    from quire.charts.experiment import pts

    report = experiment({"control": {"n": 20_000, "rate": 0.10}, "treatment": {"n": 20_000, "rate": 0.1004}})
    row = report.analysis.conversion_comparisons.iloc[0]
    assert row["diff"] == pytest.approx(8 / 20_000) and not row["significant"]
    reasons = " ".join(report.analysis.verdict.reasons)
    assert "Conversion was 10.04% in Treatment against 10.00% in Control (+0.04 pts, 95% CI" in reasons, reasons
    assert report.header().meta()["conclusion"].count("+0.04 pts") == 1
    assert report.headline().texts["abs_lift"][0] == "+0.04 pts"
    shown = everything(report)
    assert "0.0 pts" not in shown and "+0.04 pts" in report.conversion().html()
    [chart] = [c for c in walk(report.conversion()) if isinstance(c, Chart)]
    assert "Control 10.00% (" in chart.alt and "Treatment 10.04% (" in chart.alt and "Treatment +0.04 pts (" in chart.alt
    assert "The observed +0.04 pts is smaller than the MDE." in report.power_sentence()
    assert "To detect an effect of +0.04 pts (the one observed)" in report.sample_sentence()
    # A lift that is exactly 0 still reads as 0, at one decimal.
    same = experiment({"control": {"n": 20_000, "rate": 0.10}, "treatment": {"n": 20_000, "rate": 0.10}})
    assert "Conversion was 10.0% in Treatment against 10.0% in Control (0.0 pts, 95% CI" in " ".join(
        same.analysis.verdict.reasons)
    assert pts(0.0) == "0.0 pts" and pts(0.014) == "+1.4 pts" and pts(-0.00004) == "−0.004 pts"


def test_an_observed_effect_set_against_the_mde_reads_as_different_as_it_is():
    # "only rises of at least 1.9 pts; the observed +1.9 pts is smaller" (1.852 against 1.894): a figure read as
    # smaller than itself. 585 against 500 conversions of 5,000 users an arm: +1.70 pts, an MDE of 1.74 pts.
    report = experiment({"control": {"n": 5_000, "rate": 0.10}, "treatment": {"n": 5_000, "rate": 0.117}})
    p = report.analysis.power["Treatment"]
    assert p.observed_effect == pytest.approx(0.017) and 0.0170 < p.mde < 0.0175
    assert round(p.observed_effect * 100, 1) == round(p.mde * 100, 1)  # one decimal cannot tell them apart
    sentence = report.power_sentence()
    assert "of at least 1.74 pts with 80% probability" in sentence, sentence
    assert sentence.endswith("The observed +1.70 pts is smaller than the MDE."), sentence
    assert report.sample_sentence().startswith("To detect an effect of +1.70 pts (the one observed)")
    [low] = [w for w in report.analysis.verdict.warnings if w.startswith("Low power")]
    assert "only rises of at least 1.74 pts; the observed +1.70 pts is smaller." in low, low
    table = report.power_table().frame.set_index("")
    assert table.at["Observed effect", "Treatment"] == "+1.70 pts" and table.at["MDE at 80% power", "Treatment"] == "1.74 pts"
    cards = report.headline().texts
    assert (cards["abs_lift"][0], cards["mde"][0]) == ("+1.70 pts", "1.74 pts")
    # One decimal where it tells them apart: +1.8 pts against 1.7.
    apart = experiment({"control": {"n": 5_000, "rate": 0.10}, "treatment": {"n": 5_000, "rate": 0.118}})
    assert apart.power_sentence().endswith("The observed +1.8 pts is larger than the MDE.")


@pytest.mark.parametrize("metric, spec", [
    ("revenue", {"control": {"n": 3_000}, "B": {"n": 3_000, "pre_shift": 2.0, "effect": 1.0}}),
    # Conversion decides, CUPED runs on the revenue guardrail only: the same gap, the same rule.
    ("conversion", {"control": {"n": 3_000, "rate": 0.10}, "B": {"n": 3_000, "rate": 0.13, "pre_shift": 2.0}}),
])
def test_a_pre_period_gap_beyond_chance_stops_a_ship_verdict_as_a_sample_ratio_mismatch_does(metric, spec):
    # "Verdict: ship C." above "… differs more than a random split plausibly gives (C, p < 0.001): check the
    # assignment … before trusting any figure of this report"; the e-mailed conclusion recommended shipping C.
    report = experiment(spec, metric=metric)
    assert report.analysis.cuped["B"].imbalanced and not report.analysis.srm.mismatch
    assert report.analysis.decided_on["significant"].all()
    v = report.analysis.verdict
    assert (v.decision, v.variant) == ("don't ship", None) and v.untrusted
    box = report.decision()
    assert box.severity == "critical" and box.title == "Verdict: don't ship."
    assert v.reasons[0] == ("Data quality first: the arms' revenue before the experiment differs more than a random "
                            "split plausibly gives (p < 0.001), so the significant result below cannot be trusted. Find "
                            "and fix the cause (the assignment, or a pre-period recorded after it), then rerun the "
                            "experiment.")
    assert report.header().meta()["conclusion"].startswith("Verdict: don't ship. Data quality first: the arms' revenue")
    assert "random split plausibly gives" in report.verdict().html()  # the warning beside it stays
    # The same experiment with balanced arms ships.
    balanced = {v: {k: x for k, x in s.items() if k != "pre_shift"} for v, s in spec.items()}
    assert experiment(balanced, metric=metric).analysis.verdict.decision == "ship"


def test_a_pre_period_gap_beyond_chance_fails_an_aa_check():
    spec = {"control": {"n": 3_000}, "B": {"n": 3_000, "pre_shift": 2.0}}
    report = experiment(spec, key="homepage-aa", name="Homepage A/A")
    assert report.analysis.cuped["B"].imbalanced
    v = report.analysis.verdict
    assert v.decision == "A/A failed", v.reasons
    assert any(r.startswith("The arms' revenue before the experiment differs more than a random split plausibly gives "
                            "(p < 0.001): the assignment is biased") for r in v.reasons), v.reasons
    spec["B"].pop("pre_shift")
    assert experiment(spec, key="homepage-aa", name="Homepage A/A").analysis.verdict.decision == "A/A passed"


def test_a_result_whose_interval_lies_within_the_mde_rules_effects_that_large_out_instead_of_asking_for_traffic():
    # Every result that was not significant read "The experiment was underpowered … larger than the one observed. More
    # traffic or a longer run is needed", 800,000 users and identical arms alike: the observed effect of such a result
    # is always below the MDE (post-hoc power, which the glossary disowns).
    for spec in ({"control": {"n": 20_000, "rate": 0.10}, "treatment": {"n": 20_000, "rate": 0.1004}},
                 {"control": {"n": 3_000, "rate": 0.10}, "treatment": {"n": 3_000, "rate": 0.10}}):
        report = experiment(spec)
        v = report.analysis.verdict
        said = " ".join(v.reasons)
        assert "underpowered" not in said and "More traffic" not in said, said
        assert v.decision == "inconclusive" and not v.warnings
        row, p = report.analysis.conversion_comparisons.iloc[0], report.analysis.power["Treatment"]
        down, up = p.mde_toward(True), p.mde_toward(False)
        assert -down < row["ci_low"] < 0 < row["ci_high"] < up and not row["significant"]
        found = re.search(r"The test rules out an effect as large as its MDE: its whole 95% interval lies between a "
                          r"fall of (\d\.\d+) pts and a rise of (\d\.\d+) pts, the smallest it detects with 80% power\.",
                          said)
        assert found and [float(x) for x in found.groups()] == [pytest.approx(100 * down, abs=0.05),
                                                                pytest.approx(100 * up, abs=0.05)], said
        # As the power section writes the MDE, and the verdict the difference: "2.3" for identical arms, not "2.27".
        assert f"of at least {found[2]} pts" in report.power_sentence()
        assert len(found[1].partition(".")[2]) == (1 if row["diff"] == 0 else 2)
    # An interval that reaches past the MDE: no effect and one larger than the MDE both fit the data.
    wide = experiment({"control": {"n": 2_000, "rate": 0.10}, "treatment": {"n": 2_000, "rate": 0.1175}})
    row, p = wide.analysis.conversion_comparisons.iloc[0], wide.analysis.power["Treatment"]
    assert not row["significant"] and row["ci_high"] > p.mde_toward(False)
    said = " ".join(wide.analysis.verdict.reasons)
    assert (f"The experiment was underpowered: its 95% interval still includes a rise of {row['ci_high'] * 100:.2f} pts, "
            f"beyond the smallest rise it detects with 80% power (its MDE, {p.mde * 100:.2f} pts), so no effect and one "
            "larger than the MDE both fit the data. More traffic or a longer run is needed") in said, said
    assert "rules out" not in said
    # The appendix says what the verdict now means by it.
    assert "still reaches beyond the MDE" in wide.glossary().html()


TINY_ARM = {"control": {"n": 124, "rate": 9 / 124}, "semantic": {"n": 3, "rate": 1 / 3}}  # 7.258 % against 33.333 %


def chart_texts(chart: Chart) -> list[str]:
    """Every text the chart draws (tick labels, value labels), as its SVG holds it."""
    return ["".join(t.itertext()).strip() for t in ET.fromstring(chart.image).iter(f"{SVG}text")]


@pytest.fixture
def house_style():
    """The brand's chart style, as the report applies it (text stays text in the SVG); undone after."""
    with brand_chart_style("quire"):
        yield


def test_a_tiny_arm_writes_each_conversion_figure_at_one_precision_everywhere(house_style):
    # 124 users against 3: the card read "+26.075 pts" over "95% CI −1.8 to +72.1 pts", the verdict "33.333% …
    # 7.258% (+26.075 pts, 95% CI −1.755 to +72.101 pts)", the chart "+26.1 pts" and "7.258% (3.865% to 13.220%)", the
    # cards and the e-mail (run.json's headline) "7.26%" and "33.33%": three precisions of one result, the
    # third decimal of an interval 74 points wide.
    import html as html_module

    report = experiment(TINY_ARM)
    row = report.analysis.conversion_comparisons.iloc[0]
    assert (row["control_value"], row["treatment_value"]) == (pytest.approx(9 / 124), pytest.approx(1 / 3))
    assert row["ci_high"] - row["ci_low"] > 0.7
    [chart] = [c for c in walk(report.conversion()) if isinstance(c, Chart)]
    page = html_module.unescape(re.sub(r"<[^>]+>", " ", everything(report)))
    recorded = [k["text"] for k in headline(report).values()] + [report.header().meta()["conclusion"]]  # run.json
    shown = "\n".join([page, *chart_texts(chart), *recorded])
    figures = {  # each figure's printed forms, wherever they are
        "control rate": r"(?<![\d.])7\.\d+%", "treatment rate": r"(?<![\d.])33\.\d+%",
        "control rate's interval": r"(?<![\d.])3\.\d+%|(?<![\d.])13\.\d+%",
        "lift": r"\+26\.\d+ pts", "lift's interval": r"−1\.\d+|\+72\.\d+|rise of 72\.\d+"}
    for figure, pattern in figures.items():
        forms = re.findall(pattern, shown)
        assert len(forms) >= 3, (figure, forms)  # the cards or the table, the sentences, the chart
        decimals = {len(re.search(r"\.(\d+)", f)[1]) for f in forms}
        assert decimals == {1}, (figure, sorted(set(forms)))
    for card in ("control_rate", "best_rate", "abs_lift"):
        assert headline(report)[card]["text"] in shown.replace(headline(report)[card]["text"], "", 1)  # said again
    assert headline(report)["abs_lift"]["text"] == "+26.1 pts"


def label_spans(chart: Chart) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    """Each value label of an interval chart (the texts with an interval in brackets): its text, the horizontal
    extent of the white box drawn behind it and that of its axes, in the SVG's points."""
    def xs(path) -> tuple[float, float]:
        found = [float(x) for x in re.findall(r"([-\d.]+) [-\d.]+", path.get("d"))]
        return min(found), max(found)

    spans = []
    for axes in (g for g in ET.fromstring(chart.image).iter(f"{SVG}g") if re.fullmatch(r"axes_\d+", g.get("id", ""))):
        frame = xs(next(axes.iter(f"{SVG}path")))  # the axes' background patch comes first
        for group in axes.iter(f"{SVG}g"):
            text = next(group.iterfind(f"{SVG}text"), None)
            box = next(group.iterfind(f"{SVG}g/{SVG}path"), None)
            if text is not None and box is not None and " to " in "".join(text.itertext()):
                spans.append(("".join(text.itertext()), xs(box), frame))
    return spans


def test_a_value_label_next_to_an_edge_of_its_axes_stays_inside_them(house_style):
    # "7.258% (3.865% to 13.220%)" centred on a point near 0 % of a 0–100 % axis started left of the plot, the
    # y-axis line through it; the labels with room stay centred on their points.
    report = experiment(TINY_ARM)
    [chart] = [c for c in walk(report.conversion()) if isinstance(c, Chart)]
    spans = label_spans(chart)
    assert [text.split(".")[0] for text, _, _ in spans] == ["7", "33", "+26"], spans  # control, treatment, lift
    for text, (left, right), (start, end) in spans:
        assert start <= left and right <= end, (text, (left, right), (start, end))
    anchors = [re.search(r"text-anchor: (\w+)", t.get("style"))[1]
               for t in ET.fromstring(chart.image).iter(f"{SVG}text") if " to " in "".join(t.itertext())]
    assert anchors == ["start", "middle", "middle"], anchors


def test_a_variant_planned_at_zero_is_shown_and_users_in_it_are_a_mismatch():
    base = experiment({"control": {"n": 400}, "B": {"n": 400}, "off": {"n": 5}})
    d = base.data
    plan = d.variants.assign(allocation=[0.5, 0.5, 0.0])
    stray = er.ExperimentReport(replace(d, variants=plan))
    said = stray.srm_sentence()
    assert said.startswith("The split does not match the plan: users were assigned to Off (5)"), said
    html = stray.assignment().html()
    assert "not planned" in html and "inf" not in html.lower()
    assert stray.verdict().children[0].severity == "critical"
    # The same arm switched off before anyone reached it: a clean check over the other two.
    empty = er.ExperimentReport(replace(d, variants=plan, assignments=d.assignments[d.assignments["variant"] != "Off"]))
    assert empty.analysis.srm.p_value == pytest.approx(1.0) and not empty.analysis.srm.mismatch
    assert empty.treatments == ["B"]


def test_planned_shares_that_do_not_add_up_give_an_inconsistent_data_verdict_not_a_rescaled_plan():
    d = experiment({"control": {"n": 100}, "B": {"n": 100}}).data
    report = er.ExperimentReport(replace(d, variants=d.variants.assign(allocation=[0.3, 0.8])))
    assert report.analysis is None and report.problem.severity == "critical"
    assert "add up to 1.1, not 1 (Control 0.3, B 0.8)" in report.problem.message, report.problem.message
