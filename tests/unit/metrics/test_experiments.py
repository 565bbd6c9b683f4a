"""Experiment statistics against independent computations, seeded simulations and the verdict rules."""

import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from quire.errors import EmptyDataError, ParameterError, WarehouseError
from quire.metrics.experiment_analysis import analyse, describe_comparison, verdict
from quire.metrics.experiment_format import p_sentence
from quire.metrics.power import PowerResult, power_and_mde, power_curve
from quire.metrics.experiments import (
    SrmResult,
    adjust_cuped,
    adjust_p_values,
    cohens_h,
    conversion_by_variant,
    conversion_from_counts,
    cuped,
    pairwise_vs_control,
    srm_check,
    welch_test,
)

TOL = 1e-6
Z95 = 1.959963984540054


# ---------------------------------------------------------------- helpers


def users(counts: dict[str, tuple[int, int]], revenue: dict[str, float] | None = None, seed: int = 0) -> pd.DataFrame:
    """Assignments with exact (users, conversions) per variant; revenue ~ N(mean, 10) when given."""
    rng = np.random.default_rng(seed)
    frames = []
    for variant, (n, x) in counts.items():
        mean = (revenue or {}).get(variant, 50.0)
        pre = rng.normal(50, 10, n)
        frames.append(pd.DataFrame({"variant": variant, "converted": np.arange(n) < x,
                                    "revenue": mean + rng.normal(0, 10, n), "pre_revenue": pre}))
    return pd.concat(frames, ignore_index=True)


def simulate(n: int, rates: dict[str, float], seed: int, revenue_lift: dict[str, float] | None = None,
             rho: float = 0.7) -> pd.DataFrame:
    """Per-user data: Bernoulli conversion; revenue = 50 + lift + rho·(pre − 50) + noise, corr(pre, revenue) = rho."""
    rng = np.random.default_rng(seed)
    frames = []
    for variant, rate in rates.items():
        pre = rng.normal(50, 10, n)
        noise = math.sqrt(1 - rho**2) * rng.normal(0, 10, n)
        frames.append(pd.DataFrame({"variant": variant, "converted": rng.random(n) < rate,
                                    "revenue": 50 + (revenue_lift or {}).get(variant, 0.0) + rho * (pre - 50) + noise,
                                    "pre_revenue": pre}))
    return pd.concat(frames, ignore_index=True)


def plan(*names: str, allocation: list[float] | None = None) -> pd.DataFrame:
    share = allocation or [1 / len(names)] * len(names)
    return pd.DataFrame({"variant": list(names), "is_control": [i == 0 for i in range(len(names))], "allocation": share})


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927) score interval, closed form."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def holm(p: list[float]) -> list[float]:
    """Holm (1979) step-down, written out: sort, multiply by m − i, running max, cap at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


# ---------------------------------------------------------------- SRM


@pytest.mark.parametrize("observed, shares", [
    ({"a": 10_400, "b": 9_600}, {"a": 0.5, "b": 0.5}),
    ({"a": 5_100, "b": 2_400, "c": 2_600}, {"a": 0.5, "b": 0.25, "c": 0.25}),
])
def test_srm_matches_hand_chi_square(observed, shares):
    total = sum(observed.values())
    chi2 = sum((observed[v] - total * w) ** 2 / (total * w) for v, w in shares.items())
    res = srm_check(observed, shares)
    assert res.statistic == pytest.approx(chi2, abs=TOL)
    assert res.p_value == pytest.approx(stats.chi2.sf(chi2, len(shares) - 1), abs=TOL)
    assert res.expected == pytest.approx({v: total * w for v, w in shares.items()})


def test_srm_flags_10400_vs_9600_and_passes_10020_vs_9980():
    bad = srm_check({"control": 10_400, "treatment": 9_600}, {"control": 0.5, "treatment": 0.5})
    assert bad.mismatch and bad.statistic == pytest.approx(32.0) and bad.p_value < 1e-7  # 2 · 400² / 10,000
    good = srm_check({"control": 10_020, "treatment": 9_980}, {"control": 0.5, "treatment": 0.5})
    assert not good.mismatch and good.statistic == pytest.approx(0.08) and good.p_value > 0.7


def test_srm_counts_a_planned_variant_without_users_as_zero_and_rejects_unplanned_ones():
    res = srm_check({"a": 100}, {"a": 0.5, "b": 0.5})
    assert res.observed == {"a": 100, "b": 0} and res.mismatch
    with pytest.raises(WarehouseError, match="without a planned allocation: c"):
        srm_check({"a": 10, "c": 10}, {"a": 0.5, "b": 0.5})


def test_srm_a_variant_planned_at_zero_counts_only_when_it_has_users():
    # An arm switched off (0 %) and empty: the test runs on the others, as if it were not planned.
    off = srm_check({"a": 1_040, "b": 960}, {"a": 0.5, "b": 0.5, "off": 0.0})
    plain = srm_check({"a": 1_040, "b": 960}, {"a": 0.5, "b": 0.5})
    assert (off.statistic, off.p_value, off.unplanned) == (plain.statistic, plain.p_value, ())
    assert off.expected["off"] == 0 and off.observed["off"] == 0
    # Users where the plan sends none: a mismatch, whatever the others' split.
    stray = srm_check({"a": 500, "b": 500, "off": 3}, {"a": 0.5, "b": 0.5, "off": 0.0})
    assert stray.mismatch and stray.unplanned == ("off",) and stray.p_value == 0 and math.isinf(stray.statistic)
    # All traffic planned for one arm: nothing to test while it all went there, a mismatch once it did not.
    assert not srm_check({"a": 90}, {"a": 1.0, "b": 0.0}).mismatch
    assert srm_check({"a": 90, "b": 10}, {"a": 1.0, "b": 0.0}).unplanned == ("b",)


@pytest.mark.parametrize("shares, ok", [
    ({"a": 0.3, "b": 0.8}, False),                     # a typing error, not a plan
    ({"a": 0.2, "b": 0.2}, False),
    ({"a": 0.5, "b": -0.1, "c": 0.6}, False),
    ({"a": 0.5, "b": math.nan}, False),
    ({"a": 0.33, "b": 0.33, "c": 0.33}, True),         # whole percents of a third each
    ({"a": 0.5, "b": 0.5}, True),
])
def test_srm_refuses_shares_that_are_not_a_split_of_the_traffic(shares, ok):
    counts = dict.fromkeys(shares, 100)
    if ok:
        assert srm_check(counts, shares).expected == pytest.approx({v: 100.0 for v in shares})
    else:
        with pytest.raises(WarehouseError, match="experiment_variants.allocation"):
            srm_check(counts, shares)


# ---------------------------------------------------------------- conversion


def restricted_score(theta: float, x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """The score statistic of p_t/p_c = theta with the rates' constrained maximum-likelihood estimates found by
    a numeric search of the likelihood (not the quadratic's closed form the product uses)."""
    def minus_loglik(p_c: float) -> float:
        p_t = theta * p_c
        return -(stats.binom.logpmf(x_t, n_t, p_t) + stats.binom.logpmf(x_c, n_c, p_c))
    found = optimize.minimize_scalar(minus_loglik, bounds=(1e-12, min(1.0, 1 / theta) - 1e-12), method="bounded",
                                     options={"xatol": 1e-13})
    p_c = found.x
    p_t = theta * p_c
    return (x_t / n_t - theta * x_c / n_c) / math.sqrt(p_t * (1 - p_t) / n_t + theta ** 2 * p_c * (1 - p_c) / n_c)


def test_wilson_newcombe_koopman_and_z_match_hand_formulas():
    # control 100 / 1,000 = 10 %, treatment 130 / 1,100 = 11.8 %
    table = conversion_by_variant(users({"ctl": (1_000, 100), "trt": (1_100, 130)}), control="ctl")
    assert table["variant"].tolist() == ["ctl", "trt"] and table["is_control"].tolist() == [True, False]
    ctl, trt = table.iloc[0], table.iloc[1]
    (lc, uc), (lt, ut) = wilson(100, 1_000), wilson(130, 1_100)
    assert (ctl.rate_ci_low, ctl.rate_ci_high) == pytest.approx((lc, uc), abs=TOL)
    assert (trt.rate_ci_low, trt.rate_ci_high) == pytest.approx((lt, ut), abs=TOL)
    pc, pt = 0.1, 130 / 1_100
    d = pt - pc
    newcombe = (d - math.sqrt((pt - lt) ** 2 + (uc - pc) ** 2), d + math.sqrt((ut - pt) ** 2 + (pc - lc) ** 2))
    assert trt.abs_lift == pytest.approx(d, abs=TOL)
    assert (trt.abs_lift_ci_low, trt.abs_lift_ci_high) == pytest.approx(newcombe, abs=TOL)
    # a second, independent implementation of Newcombe's method 10
    assert newcombe == pytest.approx(confint_proportions_2indep(130, 1_100, 100, 1_000, method="newcomb"), abs=TOL)
    ratio = pt / pc
    assert trt.rel_lift == pytest.approx(ratio - 1, abs=TOL)
    # Koopman's interval: the ratios whose score statistic is ±z at its bounds ...
    low, high = trt.rel_lift_ci_low + 1, trt.rel_lift_ci_high + 1
    assert restricted_score(low, 130, 1_100, 100, 1_000) == pytest.approx(Z95, abs=1e-5)
    assert restricted_score(high, 130, 1_100, 100, 1_000) == pytest.approx(-Z95, abs=1e-5)
    # ... and statsmodels' implementation of it (whose root search stops at ~1e-5 of the bound)
    assert (low, high) == pytest.approx(confint_proportions_2indep(130, 1_100, 100, 1_000, method="score",
                                                                   compare="ratio", correction=False), rel=1e-4)
    pooled = 230 / 2_100
    z = d / math.sqrt(pooled * (1 - pooled) * (1 / 1_000 + 1 / 1_100))
    assert trt.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), abs=TOL)
    assert math.isnan(ctl.abs_lift) and math.isnan(ctl.p_value)


def test_a_table_too_small_for_the_delta_method_gives_its_relative_lift_no_interval():
    # 1 of 2 against 218 of 2,000: Katz gave +14% to +1,745% ("significant") beside Fisher's p = 0.21.
    small = conversion_from_counts({"c": 2_000, "t": 2}, {"c": 218, "t": 1}, "c").iloc[1]
    assert small.p_value == pytest.approx(stats.fisher_exact([[1, 1], [218, 1_782]]).pvalue, abs=TOL)
    assert small.abs_lift_ci_low < 0 < small.abs_lift_ci_high
    assert small.rel_lift == pytest.approx(0.5 / 0.109 - 1, abs=TOL)
    assert math.isnan(small.rel_lift_ci_low) and math.isnan(small.rel_lift_ci_high)
    # Counts large enough for the z-test keep the relative interval (every expected count 5 or more).
    enough = conversion_from_counts({"c": 200, "t": 200}, {"c": 20, "t": 30}, "c").iloc[1]
    assert math.isfinite(enough.rel_lift_ci_low) and math.isfinite(enough.rel_lift_ci_high)


@pytest.mark.parametrize("n", [20, 40, 60, 100, 400])
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_the_relative_interval_excludes_no_lift_exactly_when_the_z_test_rejects(n, level):
    # Katz's log interval held 0 beside p = 0.028 and a significant call (2 of 20 against 8 of 20: −3% to
    # +1,555%); the score interval inverts the z-test itself, so the table never says both.
    checked = 0
    for x_c in range(1, n + 1, max(1, n // 40)):
        for x_t in range(0, n + 1, max(1, n // 40)):
            row = conversion_from_counts({"c": n, "t": n}, {"c": x_c, "t": x_t}, "c", level=level).iloc[1]
            if math.isnan(row.rel_lift_ci_low):
                continue
            assert row.rel_lift_ci_low <= row.rel_lift <= row.rel_lift_ci_high
            rejects = proportions_ztest([x_t, x_c], [n, n])[1] < 1 - level
            assert rejects == (row.rel_lift_ci_low > 0 or row.rel_lift_ci_high < 0), (x_t, x_c, row.p_value)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(("x_t", "n_t", "x_c", "n_c"), [(0, 1_000, 30, 1_000), (0, 400, 398, 400), (12, 300, 300, 300),
                                                      (290, 300, 300, 300), (500, 500, 470, 500)])
def test_the_relative_interval_where_an_arm_converted_nobody_or_everybody(x_t, n_t, x_c, n_c):
    row = conversion_from_counts({"c": n_c, "t": n_t}, {"c": x_c, "t": x_t}, "c").iloc[1]
    low, high = row.rel_lift_ci_low + 1, row.rel_lift_ci_high + 1
    assert 0 <= low <= row.rel_lift + 1 <= high < math.inf
    if x_t == 0:
        assert low == 0  # no treatment conversion: the rates may differ by −100%
    else:
        assert restricted_score(low, x_t, n_t, x_c, n_c) == pytest.approx(Z95, abs=1e-5)
    assert restricted_score(high, x_t, n_t, x_c, n_c) == pytest.approx(-Z95, abs=1e-5)
    # The interval of control ÷ treatment is this one turned over (statsmodels' own collapses to a point when
    # the control converted everyone, so the comparison is made the other way round there).
    if x_t:
        swapped = conversion_from_counts({"c": n_t, "t": n_c}, {"c": x_t, "t": x_c}, "c").iloc[1]
        assert (1 / high, 1 / low) == pytest.approx((swapped.rel_lift_ci_low + 1, swapped.rel_lift_ci_high + 1),
                                                    rel=1e-9)


def test_wilson_at_the_edges_and_another_level():
    table = conversion_from_counts({"c": 50, "t": 40}, {"c": 0, "t": 40}, "c", level=0.9)
    z90 = stats.norm.ppf(0.95)
    assert (table.at[0, "rate_ci_low"], table.at[0, "rate_ci_high"]) == pytest.approx(wilson(0, 50, z90), abs=TOL)
    assert (table.at[1, "rate_ci_low"], table.at[1, "rate_ci_high"]) == pytest.approx(wilson(40, 40, z90), abs=TOL)
    assert table.at[0, "rate_ci_low"] == pytest.approx(0.0, abs=1e-12) and table.at[1, "rate_ci_high"] == pytest.approx(1.0)
    assert math.isnan(table.at[1, "rel_lift"])  # control rate 0: no ratio


def test_known_two_point_lift_is_recovered():
    data = simulate(20_000, {"control": 0.10, "treatment": 0.12}, seed=2024)
    trt = conversion_by_variant(data, "control").iloc[1]
    assert trt.abs_lift_ci_low < 0.02 < trt.abs_lift_ci_high
    assert trt.abs_lift_ci_low > 0 and trt.p_value < 1e-6
    assert trt.rel_lift_ci_low < 0.2 < trt.rel_lift_ci_high  # true relative lift 0.12 / 0.10 − 1


def test_aa_false_positive_rate_over_200_simulations():
    rng = np.random.default_rng(7)
    conversions = rng.binomial(5_000, 0.1, size=(200, 2))  # all 200 A/A experiments at once
    p = [conversion_from_counts({"a": 5_000, "b": 5_000}, {"a": int(xa), "b": int(xb)}, "a").at[1, "p_value"]
         for xa, xb in conversions]
    rate = np.mean(np.array(p) < 0.05)
    assert 0.02 <= rate <= 0.08
    revenue = rng.lognormal(3, 1, size=(200, 2, 300))  # skewed like money
    welch_rate = np.mean([welch_test(a, b).p_value < 0.05 for a, b in revenue])
    assert 0.02 <= welch_rate <= 0.08


# ---------------------------------------------------------------- Welch


def test_welch_matches_scipy_and_welch_satterthwaite():
    rng = np.random.default_rng(3)
    a, b = rng.normal(11, 4, 180), rng.normal(10, 2, 250)  # unequal variances and sizes
    res = welch_test(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    assert res.t == pytest.approx(ref.statistic, abs=TOL) and res.p_value == pytest.approx(ref.pvalue, abs=TOL)
    assert res.dof == pytest.approx(dof, abs=TOL)
    diff, half = a.mean() - b.mean(), stats.t.ppf(0.975, dof) * math.sqrt(va + vb)
    assert (res.diff, res.ci_low, res.ci_high) == pytest.approx((diff, diff - half, diff + half), abs=TOL)
    assert (res.ci_low, res.ci_high) == pytest.approx(tuple(ref.confidence_interval(0.95)), abs=TOL)
    sd = math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    assert res.cohen_d == pytest.approx(diff / sd, abs=TOL) and res.cohen_d > 0
    assert welch_test(b, a).cohen_d == pytest.approx(-res.cohen_d)  # signed, unlike pingouin's |d|


def test_welch_needs_two_values_per_group():
    with pytest.raises(EmptyDataError, match="at least 2 values"):
        welch_test([1.0], [1.0, 2.0])


# ---------------------------------------------------------------- CUPED


@pytest.fixture(scope="module")
def correlated() -> pd.DataFrame:
    """10,000 users per arm, corr(pre, revenue) = 0.7, true revenue lift +0.5."""
    return simulate(10_000, {"A": 0.1, "B": 0.1}, seed=11, revenue_lift={"B": 0.5})


def test_cuped_theta_matches_covariance_and_ols_slope(correlated):
    res = cuped(correlated, "A", "B")
    y, x = correlated["revenue"].to_numpy(), correlated["pre_revenue"].to_numpy()
    assert res.theta == pytest.approx(np.cov(y, x)[0, 1] / np.var(x, ddof=1), abs=TOL)
    assert res.theta == pytest.approx(sm.OLS(y, sm.add_constant(x)).fit().params[1], abs=TOL)
    adjusted = y - res.theta * (x - x.mean())
    assert res.variance_reduction == pytest.approx(1 - adjusted.var(ddof=1) / y.var(ddof=1), abs=TOL)
    assert res.variance_reduction == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2, abs=TOL)  # the identity 1 − ρ²
    control = (correlated["variant"] == "A").to_numpy()  # centring keeps each arm's adjusted mean on the metric's scale
    assert res.adjusted.mean_b == pytest.approx(y[control].mean() - res.theta * (x[control].mean() - x.mean()), abs=TOL)


def test_cuped_effect_agrees_with_ancova(correlated):
    res = cuped(correlated, "A", "B")
    y, x = correlated["revenue"].to_numpy(), correlated["pre_revenue"].to_numpy()
    treated = (correlated["variant"] == "B").to_numpy()
    fit = sm.OLS(y, sm.add_constant(np.column_stack([treated, x - x.mean()]).astype(float))).fit()
    # The two differ only in the slope: CUPED uses θ over both arms pooled, OLS the
    # within-arm slope β, so CUPED − OLS = (β − θ)(X̄_t − X̄_c) exactly. Randomisation makes
    # X̄_t − X̄_c of order σ_X·√(2/n) (≈ 0.14 here) and β − θ of order lift·(X̄_t − X̄_c)/var(X),
    # so the gap is orders of magnitude below the standard error: we require < 1 % of it.
    gap = (fit.params[2] - res.theta) * (x[treated].mean() - x[~treated].mean())
    assert res.adjusted.diff - fit.params[1] == pytest.approx(gap, abs=1e-9)
    assert abs(res.adjusted.diff - fit.params[1]) < 0.01 * res.adjusted.se
    assert res.adjusted.se == pytest.approx(fit.bse[1], rel=1e-3)  # equal arms: Welch SE ≈ OLS SE


def test_cuped_removes_rho_squared_of_the_variance_and_narrows_the_ci(correlated):
    res = cuped(correlated, "A", "B")
    assert res.variance_reduction == pytest.approx(0.49, abs=0.05)  # ρ² = 0.7²; what remains is 1 − 0.49
    assert res.ci_width_ratio == pytest.approx(math.sqrt(1 - 0.49), abs=0.05)
    assert res.adjusted.ci_low < 0.5 < res.adjusted.ci_high
    assert res.unadjusted.diff == pytest.approx(welch_test(correlated.revenue[correlated.variant == "B"],
                                                           correlated.revenue[correlated.variant == "A"]).diff)


def test_cuped_without_covariate_signal_changes_nothing():
    data = users({"A": (300, 30), "B": (300, 30)}).assign(pre_revenue=5.0)
    res = cuped(data, "A", "B")
    assert res.theta == 0 and res.variance_reduction == 0 and res.adjusted.diff == pytest.approx(res.unadjusted.diff)


# ---------------------------------------------------------------- power


@pytest.mark.parametrize("n_c, n_t, d", [(500, 700, 0.1), (20_000, 20_000, 0.02), (40, 25, -0.6)])
def test_power_matches_statsmodels(n_c, n_t, d):
    res = power_and_mde(n_c, n_t, effect_size=d, sd=12.5)
    assert res.achieved_power == pytest.approx(TTestIndPower().power(abs(d), n_c, 0.05, ratio=n_t / n_c), abs=TOL)
    mde = TTestIndPower().solve_power(None, nobs1=n_c, alpha=0.05, power=0.8, ratio=n_t / n_c)
    assert res.mde_effect_size == pytest.approx(mde, rel=1e-4)  # two root-finders, each to its own tolerance
    assert res.mde == pytest.approx(res.mde_effect_size * 12.5) and res.observed_effect == pytest.approx(d * 12.5)
    at_mde = TTestIndPower().power(res.mde_effect_size, n_c, 0.05, ratio=n_t / n_c)
    assert at_mde == pytest.approx(0.8, abs=1e-6)  # the MDE is where power reaches the target


def test_power_for_proportions_uses_cohens_h():
    res = power_and_mde(20_000, 20_000, baseline_rate=0.10, observed_rate=0.11)
    h = 2 * math.asin(math.sqrt(0.11)) - 2 * math.asin(math.sqrt(0.10))
    assert res.observed_effect_size == pytest.approx(h, abs=TOL) == cohens_h(0.11, 0.10)
    # at this size the t-based power is the normal-approximation power of the z-test
    assert res.achieved_power == pytest.approx(NormalIndPower().power(h, 20_000, 0.05), abs=1e-4)
    assert cohens_h(0.10 + res.mde, 0.10) == pytest.approx(res.mde_effect_size, abs=TOL)  # MDE in points maps back
    assert res.mde == pytest.approx(0.0086, abs=2e-4) and res.observed_effect == pytest.approx(0.01)
    assert res.kind == "proportion" and res.below_mde is False
    small = power_and_mde(2_000, 2_000, baseline_rate=0.10, observed_rate=0.11)
    assert small.below_mde and small.achieved_power < 0.8 and small.mde > 0.01


# ---------------------------------------------------------------- several variants


def test_holm_matches_hand_implementation():
    p = [0.01, 0.04, 0.03, 0.005, 0.2]
    assert adjust_p_values(p) == pytest.approx(holm(p), abs=TOL)  # 0.04, 0.09, 0.09, 0.025, 0.2
    assert adjust_p_values(p, "bonferroni") == pytest.approx([min(1, 5 * x) for x in p], abs=TOL)
    assert np.isnan(adjust_p_values([0.01, math.nan, 0.02])).tolist() == [False, True, False]
    # An undefined p-value (both arms the same constant) is a comparison made: it counts, as p = 1 would.
    assert adjust_p_values([0.01, math.nan, 0.02])[[0, 2]] == pytest.approx(np.array(holm([0.01, 1.0, 0.02]))[[0, 2]])
    assert adjust_p_values([math.nan, 0.0452])[1] == pytest.approx(0.0904)
    assert adjust_p_values([math.nan, 0.0452], "bonferroni")[1] == pytest.approx(0.0904)


@pytest.mark.parametrize("method", ["holm", "bonferroni"])
def test_adjusted_p_values_equal_statsmodels_multipletests(method):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(11)
    # (Few draws: statsmodels collects garbage at every Holm call, 0.2 s each in a test process.)
    for m in (1, 2, 3, 7):
        for _ in range(4):
            p = rng.uniform(0, 0.3, m).round(2)  # ties included, and products past 1 capped
            assert adjust_p_values(p, method) == pytest.approx(multipletests(p, method=method)[1], abs=1e-12)


def test_holm_flags_only_the_better_variant():
    data = simulate(20_000, {"control": 0.10, "b": 0.10, "c": 0.12}, seed=5, revenue_lift={"c": 0.6})
    table = pairwise_vs_control(data, "control", "conversion")
    assert table["variant"].tolist() == ["b", "c"] and table["significant"].tolist() == [False, True]
    assert table["p_adjusted"].tolist() == pytest.approx(holm(table["p_value"].tolist()), abs=TOL)
    revenue = pairwise_vs_control(data, "control", "revenue", method="bonferroni")
    assert revenue["significant"].tolist() == [False, True]
    assert revenue["p_adjusted"].tolist() == pytest.approx([min(1, 2 * p) for p in revenue["p_value"]], abs=TOL)
    welch_c = welch_test(data.revenue[data.variant == "c"], data.revenue[data.variant == "control"])
    assert revenue.iloc[1][["diff", "ci_low", "ci_high", "p_value", "effect_size"]].tolist() == pytest.approx(
        [welch_c.diff, welch_c.ci_low, welch_c.ci_high, welch_c.p_value, welch_c.cohen_d], abs=TOL)


def test_pairwise_rejects_unknown_metric_and_method():
    data = users({"a": (10, 1), "b": (10, 2)})
    with pytest.raises(ParameterError, match="metric"):
        pairwise_vs_control(data, "a", "clicks")
    with pytest.raises(ParameterError, match="holm, bonferroni"):
        pairwise_vs_control(data, "a", "conversion", method="fdr_bh")


# ---------------------------------------------------------------- verdict


SRM_OK = SrmResult({"control": 10_000, "treatment": 10_000}, {"control": 1e4, "treatment": 1e4}, 0.0, 1.0, 0.001, False)
SRM_BAD = srm_check({"control": 10_400, "treatment": 9_600}, {"control": 0.5, "treatment": 0.5})


def comparison(n: int, x_control: int, x_treatment: int) -> pd.DataFrame:
    return pairwise_vs_control(users({"control": (n, x_control), "treatment": (n, x_treatment)}), "control", "conversion")


def powers(table: pd.DataFrame) -> dict[str, PowerResult]:
    return {r.variant: power_and_mde(r.n_control, r.n_treatment, baseline_rate=r.control_value,
                                     observed_rate=r.treatment_value) for r in table.itertuples()}


def test_sentence_for_a_significant_lift_reads_as_specified():
    row = pd.Series({"metric": "conversion", "variant": "B", "control": "A", "control_value": 0.102,
                     "treatment_value": 0.116, "diff": 0.014, "ci_low": 0.006, "ci_high": 0.022, "p_value": 0.001,
                     "p_adjusted": 0.002, "significant": True, "adjustment": "holm"})
    assert describe_comparison(row) == "Conversion rose from 10.2% to 11.6% (+1.4 pts, 95% CI +0.6 to +2.2 pts, p = 0.001)."
    assert describe_comparison(row, several=True) == (
        "Conversion in B rose from 10.2% to 11.6% (+1.4 pts, 95% CI +0.6 to +2.2 pts, Holm-adjusted p = 0.002).")
    money = row.copy()
    money[["metric", "control_value", "treatment_value", "diff", "ci_low", "ci_high", "p_value", "significant"]] = [
        "revenue", 12.3, 11.8, -0.5, -1.1, 0.1, 0.12, False]
    assert describe_comparison(money, currency="EUR") == (
        "Revenue per user was €11.80 in B against €12.30 in A (−€0.50, 95% CI −€1.10 to +€0.10, p = 0.120): "
        "no significant difference.")


@pytest.mark.parametrize("p, level, shown", [
    (0.04997, 0.95, "p = 0.04997"),   # "fell … p = 0.050" read as not significant at 0.05
    (0.0502, 0.95, "p = 0.0502"),     # "0.050" beside "no significant difference" at 0.05
    (0.0996, 0.90, "p = 0.0996"),
    (0.0699, 0.93, "p = 0.0699"),     # any level: the test's own alpha decides
    (0.0503, 0.90, "p = 0.050"),      # far from that alpha: three decimals, as ever
    (0.05, 0.95, "p = 0.050"),        # on the level itself: not significant, and read so
])
def test_a_p_value_near_the_level_keeps_the_decimals_that_tell_its_side(p, level, shown):
    row = pd.Series({"metric": "conversion", "variant": "B", "control": "A", "control_value": 0.102,
                     "treatment_value": 0.116, "diff": 0.014, "ci_low": 0.0001, "ci_high": 0.028, "p_value": p,
                     "p_adjusted": p, "significant": p < round(1 - level, 12), "adjustment": "holm"})
    assert f"{shown})" in describe_comparison(row, level=level) or f"{shown}):" in describe_comparison(row, level=level)
    assert p_sentence(p) == f"p = {p:.3f}"  # without a level: three decimals


@pytest.mark.parametrize("low, high, p, disagree", [
    (0.009, 0.214, 0.056, True),     # 45/50 against 50/50: the interval leaves out 0, Fisher's p does not reject
    (-0.001, 0.03, 0.04, True),      # the other way round
    (-0.02, 0.05, 0.40, False),      # both find nothing
])
def test_a_non_significant_sentence_says_when_the_test_and_the_interval_disagree(low, high, p, disagree):
    row = pd.Series({"metric": "conversion", "variant": "B", "control": "A", "control_value": 0.90,
                     "treatment_value": 1.0, "diff": 0.10, "ci_low": low, "ci_high": high, "p_value": p,
                     "p_adjusted": p, "significant": False, "adjustment": "holm"})
    said = describe_comparison(row)
    assert said.endswith("no significant difference." if not disagree else
                         "no significant difference: the test and the interval disagree at this sample size, and a "
                         "difference counts only when both find it."), said


def test_rates_keep_the_decimals_that_make_them_differ_by_the_difference_shown():
    # "Conversion was 8.1% in B against 8.1% in A (+0.1 pts …)": 8.05 % and 8.14 %, each rounded to one decimal.
    row = pd.Series({"metric": "conversion", "variant": "B", "control": "A", "control_value": 0.0805,
                     "treatment_value": 0.0814, "diff": 0.0009, "ci_low": -0.0021, "ci_high": 0.0039, "p_value": 0.55,
                     "p_adjusted": 0.55, "significant": False, "adjustment": "holm"})
    assert describe_comparison(row) == ("Conversion was 8.14% in B against 8.05% in A (+0.09 pts, 95% CI −0.21 to +0.39 "
                                        "pts, p = 0.550): no significant difference.")
    row[["control_value", "treatment_value", "diff"]] = [0.0812, 0.0923, 0.0111]  # agree at one decimal: unchanged
    assert describe_comparison(row).startswith("Conversion was 9.2% in B against 8.1% in A (+1.1 pts")


@pytest.mark.parametrize("before, after, decimals, places", [
    (0.0805, 0.0814, 1, 2), (0.102, 0.116, 1, 1), (0.0174, 0.0065, 1, 2), (0.5, 0.5, 1, 1),
    # 10.001 % against 10.004 % agreed at one decimal as "10.0%", "10.0%" and "0.0 pts": no difference, as it read.
    (0.10001, 0.10004, 1, 3), (0.1, 0.1004, 1, 2)])
def test_agreeing_decimals(before, after, decimals, places):
    from quire.formatting.numbers import agreeing_decimals

    assert agreeing_decimals(before, after, after - before, decimals, scale=100) == places


def test_printed_rates_differ_by_the_printed_difference():
    # Checked on what the formatters print: float noise at .x5 once split "6.2% to 9.2% (+2.9 pts)".
    from decimal import Decimal

    from quire.formatting import MINUS, percent, percentage_points
    from quire.formatting.numbers import agreeing_decimals

    def figure(text: str) -> Decimal:
        return Decimal(text.replace(MINUS, "-").removesuffix(" pts").removesuffix("%").replace(",", ""))

    rng = np.random.default_rng(11)
    for a, b in rng.integers(0, 100_000, size=(20_000, 2)) / 100_000:
        a, b = float(a), float(b)
        places = agreeing_decimals(a, b, b - a, 1, scale=100)
        if places < 3:  # agreement within the most decimals allowed
            assert figure(percent(b, places)) - figure(percent(a, places)) == figure(percentage_points(b - a, places)), (a, b)


def test_verdict_ships_a_significant_gain():
    table = comparison(10_000, 1_000, 1_160)  # 10.0 % → 11.6 %
    v = verdict(table, SRM_OK, powers(table))
    assert v.decision == "ship" and v.variant == "treatment" and v.warnings == []
    row = table.iloc[0]
    expected = (f"Conversion rose from 10.0% to 11.6% (+1.6 pts, 95% CI +{100 * row.ci_low:.1f} to "
                f"+{100 * row.ci_high:.1f} pts, p < 0.001).")
    assert v.reasons == [expected]


def test_verdict_ships_the_largest_of_several_significant_gains():
    data = users({"control": (10_000, 1_000), "b": (10_000, 1_200), "c": (10_000, 1_150), "d": (10_000, 880)})
    table = pairwise_vs_control(data, "control", "conversion")
    assert table["significant"].tolist() == [True, True, True]
    v = verdict(table, SRM_OK, powers(table))
    assert v.decision == "ship" and v.variant == "b"
    # Two decimals throughout: the power section sets d's −1.20 pts against its MDE of 1.16 pts, and the verdict
    # writes the same lift as it does.
    assert v.reasons[0].startswith("Conversion in b rose from 10.00% to 12.00% (+2.00 pts")
    assert v.reasons[1].startswith("Conversion in d fell from 10.00% to 8.80% (−1.20 pts")


def test_verdict_does_not_ship_a_significant_loss():
    table = comparison(10_000, 1_000, 850)
    v = verdict(table, SRM_OK, powers(table))
    assert v.decision == "don't ship" and v.variant is None
    assert v.reasons[0].startswith("Conversion fell from 10.0% to 8.5% (−1.5 pts")


def test_verdict_puts_data_quality_first_when_srm_fails():
    table = comparison(10_000, 1_000, 1_160)
    v = verdict(table, SRM_BAD, powers(table))
    assert v.decision == "don't ship"
    assert v.reasons[0].startswith("Data quality first") and "rose" in v.reasons[1]
    assert len(v.warnings) == 1 and v.warnings[0].startswith("Sample ratio mismatch: users per variant control 10,400")


def test_verdict_is_inconclusive_and_says_underpowered():
    table = comparison(2_000, 200, 235)  # +1.75 pts, interval −0.18 to +3.68 pts, with an MDE near 2.8 pts
    v = verdict(table, SRM_OK, powers(table))
    assert v.decision == "inconclusive" and v.variant is None
    assert "no significant difference" in v.reasons[0]
    assert re.search(r"underpowered: its 95% interval still includes a rise of 3\.68 pts, beyond the smallest rise it "
                     r"detects with 80% power \(its MDE, 2\.\d\d pts\)", v.reasons[1]), v.reasons[1]
    assert len(v.warnings) == 1 and v.warnings[0].startswith("Low power for treatment")
    assert "neither found nor ruled out" in v.warnings[0]


def test_verdict_inconclusive_with_srm_failure_leads_with_it_and_asks_for_no_more_traffic():
    # The SRM came last, after "underpowered ... More traffic or a longer run is needed".
    table = comparison(2_000, 200, 215)
    v = verdict(table, SRM_BAD, powers(table))
    assert v.decision == "inconclusive" and v.warnings[0].startswith("Sample ratio mismatch")
    assert v.reasons[0].startswith("Data quality first: users were not split between the variants as planned")
    assert "no result below can be trusted" in v.reasons[0] and "no significant difference" in v.reasons[1]
    assert len(v.reasons) == 2 and not any("More traffic" in r for r in v.reasons)


def test_verdict_warns_when_a_shipped_gain_had_low_power():
    table = comparison(5_000, 500, 570)  # p ≈ 0.025: significant, observed power ≈ 0.6
    v = verdict(table, SRM_OK, powers(table))
    assert v.decision == "ship" and 0.01 < table.at[0, "p_value"] < 0.05
    assert len(v.warnings) == 1 and "overstate the effect" in v.warnings[0]


def test_verdict_warns_about_a_guardrail_loss():
    primary = comparison(10_000, 1_000, 1_160)
    guard = pairwise_vs_control(users({"control": (10_000, 0), "treatment": (10_000, 0)},
                                      revenue={"control": 50.0, "treatment": 49.0}), "control", "revenue")
    v = verdict(primary, SRM_OK, guardrail=guard)
    # Part of the decision, not a warning beside it: shipping has to weigh it (one treatment: no name, no correction).
    assert v.decision == "ship" and v.guardrail_loss and not v.warnings
    assert v.reasons[1].startswith("Guardrail: Revenue per user fell")
    assert v.reasons[1].endswith("Weigh this loss against the gain before shipping.")
    # A guardrail that did not move significantly changes nothing.
    flat = pairwise_vs_control(users({"control": (10_000, 0), "treatment": (10_000, 0)},
                                     revenue={"control": 50.0, "treatment": 50.0}), "control", "revenue")
    plain = verdict(primary, SRM_OK, guardrail=flat)
    assert plain.decision == "ship" and not plain.guardrail_loss and len(plain.reasons) == 1


# ---------------------------------------------------------------- analyse


def test_aa_experiment_finds_nothing():
    data = simulate(10_000, {"A": 0.1, "B": 0.1}, seed=8)
    result = analyse(data, plan("A", "B"), "conversion")
    assert not result.srm.mismatch and result.verdict.decision == "inconclusive"
    assert not result.conversion_comparisons["significant"].any() and not result.revenue_comparisons["significant"].any()
    assert result.cuped["B"].adjusted.p_value > 0.05


def test_analyse_ties_everything_together():
    data = simulate(20_000, {"control": 0.10, "b": 0.10, "c": 0.12}, seed=5, revenue_lift={"c": 0.6})
    data = data.sample(frac=1.0, random_state=1)  # order of rows must not matter
    result = analyse(data, plan("control", "b", "c"), "revenue")
    assert result.control == "control" and result.conversion["variant"].tolist() == ["control", "b", "c"]
    assert result.verdict.decision == "ship" and result.verdict.variant == "c"
    assert result.comparisons is result.revenue_comparisons
    # The verdict and the power read CUPED's test (a pre-period covariate is there): its spread, its MDE.
    assert (result.decided_on["metric"] == "revenue_cuped").all()
    assert result.decided_on.set_index("variant").at["c", "diff"] == pytest.approx(result.cuped["c"].adjusted.diff)
    assert result.power["c"].kind == "continuous" and result.power["c"].mde == pytest.approx(
        result.power["c"].mde_effect_size * result.cuped["c"].adjusted.sd_pooled)
    assert result.cuped["c"].variance_reduction == pytest.approx(0.49, abs=0.05)
    assert result.welch["c"].diff == pytest.approx(result.revenue_comparisons.iloc[1]["diff"])


def test_analyse_rejects_empty_and_single_variant_experiments():
    with pytest.raises(EmptyDataError, match="no assignments"):
        analyse(pd.DataFrame(columns=["variant", "converted", "revenue", "pre_revenue"]), plan("A", "B"), "conversion")
    with pytest.raises(EmptyDataError, match="only one variant"):
        analyse(users({"A": (100, 10)}), plan("A", "B"), "conversion")
    with pytest.raises(EmptyDataError, match="defines only one variant"):
        analyse(users({"A": (100, 10)}), plan("A"), "conversion")
    with pytest.raises(EmptyDataError, match="control variant 'A' has no assigned users"):
        analyse(users({"B": (100, 10), "C": (100, 10)}), plan("A", "B", "C"), "conversion")
    with pytest.raises(WarehouseError, match="without a planned allocation: Z"):
        analyse(users({"A": (100, 10), "Z": (100, 10)}), plan("A", "B"), "conversion")
    with pytest.raises(ParameterError, match="primary metric"):
        analyse(users({"A": (100, 10), "B": (100, 10)}), plan("A", "B"), "clicks")


# ---------------------------------------------------------------- CUPED across treatments, A/A tests, power wording


def test_cuped_p_values_are_adjusted_across_treatments_like_the_other_tests():
    data = simulate(3_000, {"control": 0.1, "b": 0.1, "c": 0.1, "d": 0.1}, seed=11, revenue_lift={"c": 0.5, "d": 0.8})
    single = {v: cuped(data, "control", v) for v in ("b", "c", "d")}
    raw = [single[v].adjusted.p_value for v in ("b", "c", "d")]
    assert all(single[v].p_adjusted == single[v].adjusted.p_value for v in single)  # one comparison: nothing to adjust
    for method, expected in (("holm", holm(raw)), ("bonferroni", [min(1, 3 * p) for p in raw])):
        adjusted = adjust_cuped(single, method)
        assert [adjusted[v].p_adjusted for v in ("b", "c", "d")] == pytest.approx(expected, abs=TOL)
        assert {a.adjustment for a in adjusted.values()} == {method}
        assert adjusted["c"].adjusted == single["c"].adjusted  # the estimates themselves are untouched
    result = analyse(data, plan("control", "b", "c", "d"), "revenue", method="bonferroni")
    assert [result.cuped[v].p_adjusted for v in ("b", "c", "d")] == pytest.approx([min(1, 3 * p) for p in raw], abs=TOL)
    with pytest.raises(ParameterError, match="holm, bonferroni"):
        adjust_cuped(single, "fdr_bh")


def test_cuped_reports_the_pre_period_imbalance_it_removes():
    data = simulate(2_000, {"A": 0.1, "B": 0.1}, seed=4)
    res = cuped(data, "A", "B")
    x = data.set_index("variant")["pre_revenue"]
    assert res.covariate_diff == pytest.approx(x["B"].mean() - x["A"].mean(), abs=TOL)
    assert res.unadjusted.diff - res.adjusted.diff == pytest.approx(res.theta * res.covariate_diff, abs=1e-9)


def test_an_aa_test_passes_when_nothing_differs_and_fails_when_something_does():
    same = pairwise_vs_control(users({"control": (10_000, 1_000), "treatment": (10_000, 1_010)}), "control", "conversion")
    guard = pairwise_vs_control(users({"control": (10_000, 1_000), "treatment": (10_000, 1_010)}), "control", "revenue")
    passed = verdict(same, SRM_OK, powers(same), guardrail=guard, aa=True)
    assert passed.decision == "A/A passed" and passed.variant is None and passed.warnings == []
    assert "no significant difference" in " ".join(passed.reasons)
    assert re.search(r"revealed a bias in conversion of 1\.\d pts or more", passed.reasons[-1])
    assert not any("underpowered" in r or "More traffic" in r for r in passed.reasons)
    differ = comparison(10_000, 1_000, 1_160)
    failed = verdict(differ, SRM_OK, powers(differ), aa=True)
    assert failed.decision == "A/A failed" and "rerun the check" in failed.reasons[0]
    assert failed.reasons[1].startswith("Conversion rose from 10.0% to 11.6%")
    skewed = verdict(same, SRM_BAD, powers(same), aa=True)
    assert skewed.decision == "A/A failed" and skewed.reasons[0].startswith("Users were not split as planned")
    assert skewed.warnings[0].startswith("Sample ratio mismatch")


def test_low_power_warnings_speak_of_the_mde_not_of_post_hoc_power():
    said = {}
    for name, table in (("significant", comparison(5_000, 500, 570)), ("not", comparison(2_000, 200, 235))):
        v = verdict(table, SRM_OK, powers(table))
        p = powers(table)["treatment"]
        assert f"{p.achieved_power:.0%} chance" not in v.warnings[0] and "chance of detecting" not in v.warnings[0]
        said[name] = v.warnings[0]
    assert "only rises of at least" in said["significant"] and "is smaller" in said["significant"]
    assert "beyond the smallest rise it detects with 80% power (its MDE" in said["not"]


@pytest.mark.parametrize("baseline, observed, up, down", [
    (0.036, 0.0, 0.0608, 0.0317),   # the audit's zero-conversion arm: −3.6 pts is past the downward MDE
    (0.95, 0.91, 0.0341, 0.0518),  # a high baseline: −4.0 pts is short of it
])
def test_a_rates_mde_is_taken_in_the_direction_of_the_observed_effect(baseline, observed, up, down):
    # From 3.6 % a rise needs +6.1 pts to be detected, a fall only 3.2: the report compared a fall with the
    # rise's MDE and called −3.6 pts "smaller than the MDE" while saying the sample was large enough.
    n = 250 if baseline < 0.5 else 400
    h = float(TTestIndPower().solve_power(nobs1=n, ratio=1.0, alpha=0.05, power=0.8))
    angle = math.asin(math.sqrt(baseline))
    assert math.sin(angle + h / 2) ** 2 - baseline == pytest.approx(up, abs=5e-4)  # recomputed from Cohen's h
    assert baseline - math.sin(angle - h / 2) ** 2 == pytest.approx(down, abs=5e-4)
    rise = power_and_mde(n, n, baseline_rate=baseline, observed_rate=baseline + 0.01)
    fall = power_and_mde(n, n, baseline_rate=baseline, observed_rate=observed)
    assert (rise.downward, rise.mde) == (False, pytest.approx(up, abs=5e-4))
    assert (fall.downward, fall.mde) == (True, pytest.approx(down, abs=5e-4))
    assert fall.below_mde == (abs(observed - baseline) < down)
    assert (fall.mde_toward(True), fall.mde_toward(False)) == (fall.mde, pytest.approx(up, abs=5e-4))
    curve = power_curve(fall, baseline)
    assert float(np.interp(down, curve["effect"], curve["power"])) == pytest.approx(0.8, abs=0.01)


@pytest.mark.parametrize("control, treatment, fisher_p", [
    ((20, 0), (20, 4), 0.106),  # z-test p = 0.035, beside a Newcombe interval from −0.1 pts
    ((2, 0), (2, 2), 0.333),  # z-test p = 0.046 with two users an arm
    ((3, 0), (3, 3), 0.100),  # z-test p = 0.014
])
def test_small_counts_get_fishers_exact_test_and_are_not_shipped(control, treatment, fisher_p):
    table = pairwise_vs_control(users({"a": control, "b": treatment}), "a", "conversion")
    [row] = table.to_dict("records")
    assert row["p_value"] == pytest.approx(stats.fisher_exact([[treatment[1], treatment[0] - treatment[1]],
                                                               [control[1], control[0] - control[1]]]).pvalue)
    assert round(row["p_value"], 3) == fisher_p and not row["significant"]
    assert verdict(table, srm_check({"a": control[0], "b": treatment[0]}, {"a": 0.5, "b": 0.5})).decision == "inconclusive"


def test_a_significant_conversion_difference_always_has_an_interval_without_zero():
    # Every table of up to 60 users an arm: the report never calls a difference significant beside an
    # interval that holds 0 (the z-test and the Newcombe interval disagree on some of them).
    for n in (5, 12, 30, 60):
        for x_c in range(0, n + 1, max(1, n // 10)):
            for x_t in range(0, n + 1):
                [row] = pairwise_vs_control(users({"a": (n, x_c), "b": (n, x_t)}), "a", "conversion").to_dict("records")
                if row["significant"]:
                    assert row["ci_low"] > 0 or row["ci_high"] < 0, (n, x_c, x_t, row)


@pytest.mark.parametrize("n, warned", [(2, True), (29, True), (30, False)])
def test_a_revenue_mean_over_few_users_is_flagged(n, warned):
    table = pairwise_vs_control(users({"control": (n, 0), "treatment": (n, 0)},
                                      revenue={"control": 0.5, "treatment": 100.5}), "control", "revenue")
    few = [w for w in verdict(table, SRM_OK).warnings if w.startswith("Few users for a mean of revenue")]
    assert bool(few) == warned, few
    if warned:
        assert f"{n} in treatment and {n} in the control" in few[0]


def test_a_revenue_verdict_reads_cuped_when_the_pre_period_explains_most_of_the_spread():
    # The audit's pricing test: the raw difference (+$0.59, p = 0.25) was called inconclusive and underpowered
    # while the same report's CUPED test found +$1.08, p < 0.001 — and the glossary says to trust CUPED.
    data = simulate(1_500, {"control": 0.1, "B": 0.1}, seed=13, revenue_lift={"B": 0.5}, rho=0.95)
    result = analyse(data, plan("control", "B"), "revenue")
    raw = result.revenue_comparisons.iloc[0]
    assert not raw["significant"]  # the raw Welch test alone would be inconclusive
    # Recomputed independently: OLS of revenue on the arm and the pre-period revenue (ANCOVA, Deng et al.'s CUPED
    # equivalent), whose arm coefficient is the adjusted effect.
    fit = sm.OLS(data["revenue"].to_numpy(), sm.add_constant(np.column_stack([
        (data["variant"] == "B").to_numpy(float), data["pre_revenue"].to_numpy()]))).fit()
    decided = result.decided_on.iloc[0]
    assert decided["metric"] == "revenue_cuped" and decided["diff"] == pytest.approx(fit.params[1], rel=0.02)
    assert fit.pvalues[1] < 0.001 and decided["significant"]
    assert (result.verdict.decision, result.verdict.variant) == ("ship", "B")
    assert result.verdict.reasons[0].startswith("Revenue per user adjusted for the pre-period (CUPED) rose from")
    assert result.power["B"].mde < raw["ci_high"] - raw["ci_low"]  # CUPED's MDE, not the raw test's
    # Without the covariate the raw test decides, as before.
    plain = analyse(data.drop(columns="pre_revenue"), plan("control", "B"), "revenue")
    assert plain.verdict.decision == "inconclusive" and (plain.decided_on["metric"] == "revenue").all()


def test_a_revenue_result_that_one_user_decides_is_flagged():
    # Cookie Cats: one player's 49,854 game rounds turned −1.02 (p = 0.018) into −2.14 (p = 0.074, inconclusive).
    rng = np.random.default_rng(3)
    control, treatment = rng.exponential(50, 3_000), rng.exponential(50, 3_000) - 4.0
    control[0] = 49_854.0  # one extreme user in the control
    data = pd.DataFrame({"variant": ["control"] * 3_000 + ["B"] * 3_000, "converted": False,
                         "revenue": np.r_[control, np.clip(treatment, 0, None)]})
    result = analyse(data, plan("control", "B"), "revenue")
    without = stats.ttest_ind(np.sort(np.clip(treatment, 0, None))[:-1], np.sort(control)[:-1], equal_var=False)
    assert without.pvalue < 0.05 and not result.revenue_comparisons.iloc[0]["significant"]  # recomputed by scipy
    [warning] = [w for w in result.verdict.warnings if w.startswith("One user decides this result")]
    assert "without the largest revenue of control and of B ($49,854.00, $" in warning
    assert f"{p_sentence(without.pvalue)})" in warning and "fell from" in warning
    # Without the outlier nothing turns over: no warning.
    calm = analyse(data.assign(revenue=np.r_[np.r_[50.0, control[1:]], np.clip(treatment, 0, None)]),
                   plan("control", "B"), "revenue")
    assert not any(w.startswith("One user decides") for w in calm.verdict.warnings)
