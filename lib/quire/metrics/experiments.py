"""The statistics of an A/B(/n) experiment report: SRM, lift, Welch, CUPED, multiplicity.

The power and minimum detectable effect of these tests are :mod:`quire.metrics.power`'s; what they
mean (the whole analysis, the verdict and its wording) is :mod:`quire.metrics.experiment_analysis`.

Input is the warehouse's ``experiment_assignments`` table as a DataFrame (one row per
user: ``variant``, ``converted`` bool, ``revenue`` = the continuous metric,
``pre_revenue`` = the same metric in the pre-period) and ``experiment_variants``
(``variant``, ``is_control``, ``allocation``). Every function is pure.

Conventions, the same in every function:

* differences are **treatment − control**; rates are fractions (0.123 = 12.3 %), so an
  absolute lift of 0.014 is "+1.4 pts"; money is in the warehouse's currency;
* two-sided tests; the test level is ``alpha = 1 − level`` so that a confidence interval
  and the test it accompanies use the same threshold;
* with several treatments, each is compared with the control only (k − 1 tests), and the
  p-values are adjusted together (Holm by default). Confidence intervals are per
  comparison (not simultaneous).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import optimize, stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from quire.errors import EmptyDataError, ParameterError, WarehouseError

Metric = Literal["conversion", "revenue"]
Decision = Literal["ship", "don't ship", "inconclusive", "A/A passed", "A/A failed"]
METRICS: tuple[str, ...] = ("conversion", "revenue")
ADJUSTMENTS: dict[str, str] = {"holm": "Holm", "bonferroni": "Bonferroni"}
MIN_USERS_FOR_MEANS = 30  # users an arm below which a revenue mean is flagged as resting on too few users
SRM_ALPHA = 0.001  # the usual SRM threshold: a false alarm costs an investigation, a miss costs a wrong decision


# --------------------------------------------------------------------------- SRM


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio-mismatch check: observed assignment counts against the planned allocation."""

    observed: dict[str, int]
    expected: dict[str, float]
    statistic: float
    p_value: float
    alpha: float
    mismatch: bool
    # The expected split is an assumption (equal shares), not a recorded plan: messages say so.
    assumed: bool = False
    #: Variants that have users although the plan gives them no share (each alone a mismatch).
    unplanned: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.observed.values())


def srm_check(counts: Mapping[str, int], allocation: Mapping[str, float], alpha: float = SRM_ALPHA) -> SrmResult:
    """Chi-square goodness-of-fit test of the users per variant against the planned allocation.

    ``expected_i = N · w_i / Σw`` (N = all assigned users, w = planned shares);
    ``χ² = Σ (observed_i − expected_i)² / expected_i`` with k − 1 degrees of freedom
    (``scipy.stats.chisquare``), over the variants with a planned share. ``mismatch`` is ``p < alpha``; alpha
    defaults to 0.001, the usual SRM threshold (Fabijan et al. 2019, "Diagnosing Sample Ratio Mismatch in
    Online Controlled Experiments", KDD). A planned variant without users counts as 0. A variant planned at 0 %
    (an arm switched off) is fine while it has no users; users in it are a mismatch whatever the others' split
    (χ² is infinite; :attr:`SrmResult.unplanned` names them). Raises :class:`~quire.errors.WarehouseError` for
    users in a variant the plan does not list, or shares that do not add up to 100 %.
    """
    unknown = sorted(set(counts) - set(allocation))
    if unknown:
        raise WarehouseError(f"users were assigned to variants without a planned allocation: {', '.join(unknown)}")
    weights = {v: float(w) for v, w in allocation.items()}
    if len(weights) < 2:
        raise ParameterError("SRM needs at least two variants", parameter="allocation")
    _check_shares(weights)
    observed = {v: int(counts.get(v, 0)) for v in weights}
    total = sum(observed.values())
    if total == 0:
        raise EmptyDataError("no users were assigned: there is nothing to check the sample ratio against")
    # Shares written to whole percents (3 × 33 %) are read as the split they stand for.
    share_sum = sum(weights.values())
    expected = {v: total * w / share_sum for v, w in weights.items()}
    unplanned = tuple(v for v, w in weights.items() if w == 0 and observed[v])
    if unplanned:
        return SrmResult(observed, expected, math.inf, 0.0, alpha, True, unplanned=unplanned)
    tested = [v for v, w in weights.items() if w > 0]
    if len(tested) < 2:  # all users planned for one variant, and all of them there: nothing to test
        return SrmResult(observed, expected, 0.0, 1.0, alpha, False)
    result = stats.chisquare([observed[v] for v in tested], [expected[v] for v in tested])
    p_value = float(result.pvalue)
    return SrmResult(observed, expected, float(result.statistic), p_value, alpha, p_value < alpha)


#: How far a planned share may be from the split it stands for: half a percentage point, as shares written to whole
#: percents are (three variants at 33 % add up to 99 %, seven at 14 % to 98 %).
SHARE_ROUNDING = 0.005


def _check_shares(weights: Mapping[str, float]) -> None:
    """Refuse planned shares that cannot be a split of the traffic: negative, not a number, or not adding up to 100 %
    (a plan of 30 % and 80 % is a typing error, and no rescaling of it is the plan)."""
    bad = [v for v, w in weights.items() if not math.isfinite(w) or w < 0]
    if bad:
        raise WarehouseError(f"the planned share of {', '.join(map(repr, bad))} is not a share between 0 and 1; "
                             "correct experiment_variants.allocation")
    total = sum(weights.values())
    if abs(total - 1) > SHARE_ROUNDING * len(weights):
        shares = ", ".join(f"{v} {w:.4g}" for v, w in weights.items())
        raise WarehouseError(f"the planned shares of the variants add up to {total:.4g}, not 1 ({shares}); correct "
                             "experiment_variants.allocation so that each experiment's shares add up to 1")


# --------------------------------------------------------------------------- conversion


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ParameterError(f"confidence level must lie strictly between 0 and 1, not {level}", parameter="level")
    return float(stats.norm.ppf(0.5 + level / 2))


def alpha_for(level: float) -> float:
    """The test level that goes with a confidence level; rounded because 1 − 0.95 is 0.050000000000000044."""
    return round(1 - level, 12)


#: The smallest expected count of the 2×2 table for which the z-test's normal approximation is used
#: (Cochran's rule); below it, the p-value is Fisher's exact test's.
MIN_EXPECTED_COUNT = 5


def _small_table(x_t: int, n_t: int, x_c: int, n_c: int) -> bool:
    """Whether an expected count of the 2×2 table is below :data:`MIN_EXPECTED_COUNT`: normal approximations fail."""
    converted, n = x_t + x_c, n_t + n_c
    return min(converted, n - converted) * min(n_t, n_c) / n < MIN_EXPECTED_COUNT


def tested_exactly(x_t: int, n_t: int, x_c: int, n_c: int) -> bool:
    """Whether a comparison of x_t/n_t against x_c/n_c is made by Fisher's exact test (see :func:`_two_proportion_p`),
    whose power at so few users is below what the large-sample formulas of the power figures give."""
    return _small_table(x_t, n_t, x_c, n_c)


def _two_proportion_p(x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """Two-sided p-value of p_t = p_c: the pooled two-proportion z-test, or Fisher's exact test when an
    expected count of the 2×2 table is below :data:`MIN_EXPECTED_COUNT` (0/3 against 3/3 is p = 0.014
    by the z-test, 0.100 exactly); NaN when both arms are all 0 or all 1 (no variance)."""
    converted, n = x_t + x_c, n_t + n_c
    if converted in (0, n):
        return math.nan
    if _small_table(x_t, n_t, x_c, n_c):
        return float(stats.fisher_exact([[x_t, n_t - x_t], [x_c, n_c - x_c]]).pvalue)
    _, p_value = proportions_ztest([x_t, x_c], [n_t, n_c])
    return float(p_value)


def conversion_from_counts(users: Mapping[str, int], conversions: Mapping[str, int], control: str,
                           level: float = 0.95) -> pd.DataFrame:
    """Conversion per variant and lift against ``control``, from counts (see :func:`conversion_by_variant`)."""
    z = _z(level)
    if control not in users:
        raise EmptyDataError(f"the control variant {control!r} has no users")
    order = [control, *[v for v in users if v != control]]
    n_c, x_c = int(users[control]), int(conversions.get(control, 0))
    p_c = x_c / n_c
    low_c, high_c = _wilson(x_c, n_c, level)
    rows = []
    for variant in order:
        n, x = int(users[variant]), int(conversions.get(variant, 0))
        if n <= 0:
            raise EmptyDataError(f"variant {variant!r} has no users")
        p = x / n
        low, high = _wilson(x, n, level)
        row = {"variant": variant, "is_control": variant == control, "users": n, "conversions": x, "rate": p,
               "rate_ci_low": float(low), "rate_ci_high": float(high)}
        if variant == control:
            row |= dict.fromkeys(("abs_lift", "abs_lift_ci_low", "abs_lift_ci_high", "rel_lift", "rel_lift_ci_low",
                                  "rel_lift_ci_high", "p_value"), math.nan)
        else:
            diff = p - p_c
            # Newcombe (1998) method 10: combine the two Wilson intervals (hybrid score).
            row["abs_lift"] = diff
            row["abs_lift_ci_low"] = diff - math.sqrt((p - low) ** 2 + (high_c - p_c) ** 2)
            row["abs_lift_ci_high"] = diff + math.sqrt((high - p) ** 2 + (p_c - low_c) ** 2)
            row |= _relative_lift(x, n, x_c, n_c, z)
            row["p_value"] = _two_proportion_p(x, n, x_c, n_c)
        rows.append(row)
    return pd.DataFrame(rows)


def _wilson(x: int, n: int, level: float) -> tuple[float, float]:
    """Wilson score interval of x/n, exactly 0 at x = 0 and 1 at x = n and never excluding x/n.

    statsmodels' bounds come out as 4e-19 or 0.9999999999999999 there for some n, which put
    the estimate outside its own interval (and a negative length on its error bar).
    """
    low, high = proportion_confint(x, n, alpha=1 - level, method="wilson")
    rate = x / n
    return (0.0 if x == 0 else min(float(low), rate)), (1.0 if x == n else max(float(high), rate))


def _relative_lift(x_t: int, n_t: int, x_c: int, n_c: int, z: float) -> dict[str, float]:
    """Relative lift p_t/p_c − 1 with Koopman's score interval; NaN bounds where it has none (see below)."""
    if x_c == 0:
        return {"rel_lift": math.nan, "rel_lift_ci_low": math.nan, "rel_lift_ci_high": math.nan}
    ratio = (x_t / n_t) / (x_c / n_c)
    # Both arms converted every user: the ratio has no spread to build an interval from. Or the table is too small
    # for an asymptotic interval: 1 of 2 against 218 of 2,000 gave +14% to +1,745% by Katz's log method,
    # "significant" beside Fisher's p = 0.21 and a difference interval that holds 0.
    if (x_t == n_t and x_c == n_c) or _small_table(x_t, n_t, x_c, n_c):
        return {"rel_lift": ratio - 1, "rel_lift_ci_low": math.nan, "rel_lift_ci_high": math.nan}
    low, high = ratio_score_interval(x_t, n_t, x_c, n_c, z)
    return {"rel_lift": ratio - 1, "rel_lift_ci_low": low - 1, "rel_lift_ci_high": high - 1}


def ratio_score(theta: float, x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """The score statistic of p_t / p_c = ``theta`` (Koopman 1984; Miettinen & Nurminen 1985 without their
    N/(N − 1) factor): ``(p̂_t − θ·p̂_c) / √(p̃_t(1 − p̃_t)/n_t + θ²·p̃_c(1 − p̃_c)/n_c)`` with p̃ the rates'
    maximum-likelihood estimates under p_t = θ·p_c (the smaller root of a quadratic). At θ = 1 it is the pooled
    two-proportion z statistic. Decreasing in θ."""
    a, c = (n_t + n_c) * theta, x_t + x_c
    minus_b = n_t * theta + x_t + n_c + x_c * theta
    # The smaller root as 2c / (−b + √D): (−b − √D) / 2a loses its digits to cancellation when 4ac ≪ b².
    p_c = 2 * c / (minus_b + math.sqrt(max(minus_b * minus_b - 4 * a * c, 0.0)))
    p_t = theta * p_c
    variance = p_t * (1 - p_t) / n_t + theta ** 2 * p_c * (1 - p_c) / n_c
    return (x_t / n_t - theta * x_c / n_c) / math.sqrt(variance)


def ratio_score_interval(x_t: int, n_t: int, x_c: int, n_c: int, z: float) -> tuple[float, float]:
    """Koopman's asymptotic score interval of p_t / p_c: every ratio the score test at ``z`` does not reject.

    Unlike Katz's log interval it is the interval of the pooled z-test itself, so it holds 1 exactly when the
    z-test's p-value is at least the test level: Katz's could hold 1 beside p = 0.028 (2 of 20 against 8 of 20).
    It also has a bound where an arm has no conversion or converted everyone (lower bound 0 without treatment
    conversions). Needs x_c > 0 and not both arms at 100%. statsmodels' ``confint_proportions_2indep(...,
    compare="ratio", method="score")`` collapses to a point when the control converted everyone, so the bounds
    are found here, in log θ, where the statistic crosses ±z.
    """
    def crossing(target: float, start: float) -> float:
        def gap(t: float) -> float:
            return ratio_score(math.exp(t), x_t, n_t, x_c, n_c) - target
        low, high, step = start - 1, start + 1, 1.0
        for _ in range(60):  # the statistic runs from +∞ to −∞ over a few dozen units of log θ
            if gap(low) > 0:
                break
            low, step = low - step, step * 2
        step = 1.0
        for _ in range(60):
            if gap(high) < 0:
                break
            high, step = high + step, step * 2
        return math.exp(optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-12))

    start = math.log(max(x_t, 0.5) / n_t / (x_c / n_c))
    return (0.0 if x_t == 0 else crossing(z, start)), crossing(-z, start)


def conversion_by_variant(assignments: pd.DataFrame, control: str, level: float = 0.95) -> pd.DataFrame:
    """Conversion rate per variant with its interval, and the lift of every treatment over ``control``.

    One row per variant (control first): ``users``, ``conversions``, ``rate`` = conversions /
    users, and

    * ``rate_ci_low/high`` — Wilson score interval (Wilson 1927; statsmodels
      ``proportion_confint(method="wilson")``):
      ``(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)``;
    * ``abs_lift`` = p_t − p_c with the **Newcombe hybrid-score interval** (Newcombe 1998,
      method 10), built from the two Wilson intervals [l, u]:
      ``d − √((p_t−l_t)² + (u_c−p_c)²)`` to ``d + √((u_t−p_t)² + (p_c−l_c)²)``. It keeps its
      coverage for small counts and rates near 0 where the Wald interval does not;
    * ``rel_lift`` = p_t / p_c − 1 with **Koopman's score interval** (Koopman 1984): the ratios θ whose
      score statistic (:func:`ratio_score`) lies within ±z — the inverted pooled z-test, so it excludes 0
      exactly when the z-test rejects; none (NaN) where an expected count is below 5, as the asymptotic
      test fails there (the p-value is Fisher's), where both arms converted everyone, or without control
      conversions;
    * ``p_value`` — two-sided pooled two-proportion z-test (statsmodels ``proportions_ztest``):
      ``z = (p_t − p_c) / √(p̄(1−p̄)(1/n_t + 1/n_c))``, p̄ = pooled rate; Fisher's exact test
      (scipy ``fisher_exact``) when an expected count of the 2×2 table is below 5.

    Lift columns are NaN on the control row. z is the normal quantile for ``level``.
    """
    require_columns(assignments, ("variant", "converted"))
    grouped = assignments.groupby("variant", sort=False)["converted"]
    users = grouped.size().to_dict()
    conversions = grouped.sum().astype(int).to_dict()
    return conversion_from_counts({str(k): v for k, v in users.items()},
                                  {str(k): v for k, v in conversions.items()}, control, level)


def smallest_p(n_control: int, n_treatment: int) -> float:
    """The smallest two-sided p-value a conversion comparison of these arm sizes can have: one arm converting every
    user and the other none, by the test :func:`pairwise_vs_control` uses (Fisher's exact test at such sizes)."""
    return _two_proportion_p(n_treatment, n_treatment, 0, n_control)


def cohens_h(p_treatment: float, p_control: float) -> float:
    """Cohen's h, the effect size of two proportions: ``2·asin(√p_t) − 2·asin(√p_c)`` (Cohen 1988, §6.2)."""
    return 2 * math.asin(math.sqrt(p_treatment)) - 2 * math.asin(math.sqrt(p_control))


# --------------------------------------------------------------------------- Welch


@dataclass(frozen=True)
class WelchResult:
    """Welch's unequal-variance t-test of mean(a) − mean(b), with the CI of the difference and Cohen's d."""

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    diff: float
    se: float
    t: float
    dof: float
    p_value: float
    ci_low: float
    ci_high: float
    cohen_d: float
    sd_pooled: float
    level: float


def welch_test(a: Sequence[float] | np.ndarray | pd.Series, b: Sequence[float] | np.ndarray | pd.Series,
               level: float = 0.95) -> WelchResult:
    """Welch t-test of the difference of means ``mean(a) − mean(b)`` (a = treatment, b = control).

    ``se = √(s_a²/n_a + s_b²/n_b)``, ``t = (x̄_a − x̄_b) / se``, degrees of freedom by
    Welch–Satterthwaite ``(s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a−1) + (s_b²/n_b)²/(n_b−1))``,
    two-sided p from Student's t (Welch 1947); run by ``pingouin.ttest(a, b, correction=True)``.
    The CI is ``diff ± t_{dof, 1−α/2} · se`` — recomputed from the same formula because
    pingouin rounds its ``CI95`` column to 2 decimals. ``cohen_d`` is signed like ``diff``:
    ``diff / s_pooled``, ``s_pooled = √(((n_a−1)s_a² + (n_b−1)s_b²) / (n_a+n_b−2))`` (pingouin
    reports |d|). Missing values are dropped.
    """
    x = pd.Series(a, dtype=float).dropna().to_numpy()
    y = pd.Series(b, dtype=float).dropna().to_numpy()
    if len(x) < 2 or len(y) < 2:
        raise EmptyDataError(f"a t-test needs at least 2 values per group (got {len(x)} and {len(y)})")
    _z(level)  # validates the level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant samples: pingouin yields NaN, which we keep
        res = pg.ttest(x, y, correction=True, confidence=level).iloc[0]
    va, vb = x.var(ddof=1), y.var(ddof=1)
    se = math.sqrt(va / len(x) + vb / len(y))
    diff = float(x.mean() - y.mean())
    dof = float(res["dof"])
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se if se > 0 else math.nan
    sd_pooled = math.sqrt(((len(x) - 1) * va + (len(y) - 1) * vb) / (len(x) + len(y) - 2))
    if se == 0:
        # Every user of each group has the same value: t is d/0, which is no evidence of anything,
        # however pingouin rounds it (an infinite t and p = 0 would "ship" on two constants).
        return WelchResult(len(x), len(y), float(x.mean()), float(y.mean()), diff, se, math.nan, dof, math.nan,
                           math.nan, math.nan, math.nan, sd_pooled, level)
    return WelchResult(len(x), len(y), float(x.mean()), float(y.mean()), diff, se, float(res["T"]), dof,
                       float(res["p_val"]), diff - half, diff + half, math.copysign(float(res["cohen_d"]), diff),
                       sd_pooled, level)


# --------------------------------------------------------------------------- CUPED


#: The pre-period's difference between two arms is called more than chance below this p-value: as strict as the
#: sample ratio check, as it too runs on every experiment and speaks of the assignment, not of an effect.
PRE_PERIOD_ALPHA = 0.001


@dataclass(frozen=True)
class CupedResult:
    """CUPED-adjusted comparison of one treatment with the control, beside the unadjusted one."""

    treatment: str
    control: str
    theta: float
    variance_reduction: float
    adjusted: WelchResult
    unadjusted: WelchResult
    #: Mean covariate, treatment − control: the chance pre-period imbalance CUPED removes
    #: (``adjusted.diff = unadjusted.diff − θ · covariate_diff``).
    covariate_diff: float = 0.0
    #: Welch's p-value of that imbalance: a random split makes one below :data:`PRE_PERIOD_ALPHA` very rare.
    covariate_p: float = math.nan
    #: The adjusted test's p-value after the multiplicity correction across the treatments
    #: (:func:`adjust_cuped`); equal to ``adjusted.p_value`` with a single treatment.
    p_adjusted: float = math.nan
    adjustment: str | None = None

    @property
    def imbalanced(self) -> bool:
        """The pre-period differs between the arms more than a random split plausibly gives."""
        return bool(self.covariate_p < PRE_PERIOD_ALPHA)

    @property
    def sign_flipped(self) -> bool:
        """The adjusted and the raw difference point in opposite directions (after rounding to cents)."""
        return round(self.adjusted.diff, 2) * round(self.unadjusted.diff, 2) < 0

    @property
    def ci_width_ratio(self) -> float:
        """Width of the adjusted CI over the unadjusted one (≈ √(1 − variance_reduction))."""
        return (self.adjusted.ci_high - self.adjusted.ci_low) / (self.unadjusted.ci_high - self.unadjusted.ci_low)


def cuped(assignments: pd.DataFrame, control: str, treatment: str, level: float = 0.95, *,
          metric: str = "revenue", covariate: str = "pre_revenue") -> CupedResult:
    """CUPED: the treatment effect on ``metric`` with variance removed by a pre-period covariate.

    Deng, Xu, Kohavi & Walker (2013), "Improving the Sensitivity of Online Controlled
    Experiments by Utilizing Pre-Experiment Data", WSDM. Over the users of both arms
    together: ``θ = cov(Y, X) / var(X)``, ``Y_adj = Y − θ(X − X̄)``; then a Welch test
    (:func:`welch_test`) of Y_adj, treatment − control. ``variance_reduction = 1 −
    var(Y_adj)/var(Y)`` over both arms, which equals corr(X, Y)². Because the covariate is
    measured before assignment, the adjustment removes noise without biasing the effect.
    The SE treats θ as known (its estimation error is O(1/n)). θ = 0 when X is constant.
    """
    require_columns(assignments, ("variant", metric, covariate))
    rows = assignments.loc[assignments["variant"].isin([control, treatment]), ["variant", metric, covariate]].dropna()
    y = rows[metric].to_numpy(float)
    x = rows[covariate].to_numpy(float)
    is_t = (rows["variant"] == treatment).to_numpy()
    if is_t.sum() < 2 or (~is_t).sum() < 2:
        raise EmptyDataError(f"CUPED needs at least 2 users in {control!r} and in {treatment!r}")
    var_x = x.var(ddof=1)
    theta = float(np.cov(y, x)[0, 1] / var_x) if var_x > 0 else 0.0
    y_adj = y - theta * (x - x.mean())
    var_y = y.var(ddof=1)
    reduction = float(1 - y_adj.var(ddof=1) / var_y) if var_y > 0 else 0.0
    adjusted = welch_test(y_adj[is_t], y_adj[~is_t], level)
    return CupedResult(treatment, control, theta, reduction, adjusted=adjusted,
                       unadjusted=welch_test(y[is_t], y[~is_t], level),
                       covariate_diff=float(x[is_t].mean() - x[~is_t].mean()), p_adjusted=adjusted.p_value,
                       covariate_p=welch_test(x[is_t], x[~is_t], level).p_value)


def adjust_cuped(results: Mapping[str, CupedResult], method: str = "holm") -> dict[str, CupedResult]:
    """The CUPED results of several treatments with their p-values adjusted together.

    The same correction (Holm or Bonferroni) as :func:`pairwise_vs_control` applies to the
    conversion and Welch tests: k treatments compared with one control are k chances of a
    false positive whichever test makes them.
    """
    keys = list(results)
    adjusted = adjust_p_values([results[k].adjusted.p_value for k in keys], method)
    return {k: replace(results[k], p_adjusted=float(p), adjustment=method) for k, p in zip(keys, adjusted, strict=True)}


def cuped_comparisons(results: Mapping[str, CupedResult]) -> pd.DataFrame:
    """The CUPED results as the rows of :func:`pairwise_vs_control` (metric ``revenue_cuped``, adjusted means,
    difference, interval and corrected p-value): what a revenue experiment's verdict reads when CUPED ran."""
    rows = [{"variant": variant, "control": r.control, "metric": "revenue_cuped", "n_control": a.n_b,
             "n_treatment": a.n_a, "control_value": a.mean_b, "treatment_value": a.mean_a, "diff": a.diff,
             "ci_low": a.ci_low, "ci_high": a.ci_high, "rel_diff": a.diff / a.mean_b if a.mean_b else math.nan,
             "p_value": a.p_value, "effect_size": a.cohen_d, "p_adjusted": r.p_adjusted,
             # as pairwise_vs_control: the corrected p below alpha and an interval clear of zero
             "significant": bool(r.p_adjusted < alpha_for(a.level) and (a.ci_low > 0 or a.ci_high < 0)),
             "adjustment": r.adjustment}
            for variant, r in results.items() for a in (r.adjusted,)]
    return pd.DataFrame(rows)

# --------------------------------------------------------------------------- several variants


def pairwise_vs_control(assignments: pd.DataFrame, control: str, metric: Metric, method: str = "holm",
                        level: float = 0.95) -> pd.DataFrame:
    """Every treatment against the control on one metric, with p-values adjusted for the k − 1 comparisons.

    ``conversion``: difference of rates, Newcombe CI, pooled z-test or Fisher's exact test
    (:func:`conversion_by_variant`); ``revenue``: difference of means, Welch CI and test
    (:func:`welch_test`). ``p_adjusted`` (:func:`adjust_p_values`): Holm's step-down
    (Holm 1979; the i-th smallest of m p-values times m − i + 1, made monotone, capped at 1 —
    controls the family-wise error rate like Bonferroni but is uniformly more powerful) or
    Bonferroni (p · m). ``significant``: ``p_adjusted < 1 − level`` and the interval excludes 0.
    The two agree but for a conversion's Newcombe interval, which is not the z-test's own: a
    report must not call a difference significant beside an interval that holds no difference
    (0/20 against 4/20: z-test p = 0.035, interval −0.1 to +41.6 pts). The CIs are per comparison.
    ``effect_size`` is Cohen's h (conversion) or Cohen's d (revenue), treatment − control.
    """
    if metric not in METRICS:
        raise ParameterError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}", parameter="metric")
    _require_method(method)
    require_columns(assignments, ("variant", "converted" if metric == "conversion" else "revenue"))
    if metric == "conversion":
        table = conversion_by_variant(assignments, control, level)
        control_row = table.iloc[0]
        rows = [{"variant": r.variant, "n_control": control_row.users, "n_treatment": r.users,
                 "control_value": control_row.rate, "treatment_value": r.rate, "diff": r.abs_lift,
                 "ci_low": r.abs_lift_ci_low, "ci_high": r.abs_lift_ci_high, "rel_diff": r.rel_lift,
                 "p_value": r.p_value, "effect_size": cohens_h(r.rate, control_row.rate),
                 "exact": tested_exactly(r.conversions, r.users, control_row.conversions, control_row.users)}
                for r in table.iloc[1:].itertuples()]
    else:
        by_variant = {str(v): g["revenue"] for v, g in assignments.groupby("variant", sort=False)}
        if control not in by_variant:
            raise EmptyDataError(f"the control variant {control!r} has no users")
        rows = []
        for variant in (v for v in by_variant if v != control):
            w = welch_test(by_variant[variant], by_variant[control], level)
            rows.append({"variant": variant, "n_control": w.n_b, "n_treatment": w.n_a, "control_value": w.mean_b,
                         "treatment_value": w.mean_a, "diff": w.diff, "ci_low": w.ci_low, "ci_high": w.ci_high,
                         "rel_diff": w.diff / w.mean_b if w.mean_b else math.nan, "p_value": w.p_value,
                         "effect_size": w.cohen_d})
    if not rows:
        raise EmptyDataError(f"only the control {control!r} has users: there is no treatment to compare")
    out = pd.DataFrame(rows)
    out.insert(1, "control", control)
    out.insert(2, "metric", metric)
    out["p_adjusted"] = adjust_p_values(out["p_value"].to_numpy(float), method)
    out["significant"] = (out["p_adjusted"] < alpha_for(level)) & ((out["ci_low"] > 0) | (out["ci_high"] < 0))
    out["adjustment"] = method
    return out


def _require_method(method: str) -> None:
    if method not in ADJUSTMENTS:
        raise ParameterError(f"adjustment must be one of {', '.join(ADJUSTMENTS)}, not {method!r}", parameter="method")


def adjust_p_values(p_values: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values (Holm's step-down or Bonferroni); NaN p-values stay NaN but count.

    A comparison whose p-value is undefined (both arms the same constant, revenue 0 for everyone) was still
    made: the family is every comparison, as the report says ("2 comparisons per metric"), and such a
    comparison ranks as p = 1, last. Leaving it out halved the other arm's Holm p-value.

    Written out rather than statsmodels' ``multipletests``, which runs a full garbage collection
    at every Holm call: 0.13 s each in a process with a large heap, several times per report.
    The tests check it against statsmodels.
    """
    _require_method(method)
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    finite = np.isfinite(p)
    m, found = p.size, int(finite.sum())
    if found:
        q = p[finite]
        if method == "bonferroni":
            adjusted = q * m
        else:  # Holm: the i-th smallest (from 0) times m − i, each at least the one before
            order = np.argsort(q, kind="stable")
            adjusted = np.empty(found)
            adjusted[order] = np.maximum.accumulate(q[order] * np.arange(m, m - found, -1))
        out[finite] = np.minimum(adjusted, 1.0)
    return out


def require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise :class:`~quire.errors.WarehouseError` naming the ``columns`` that ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise WarehouseError(f"the experiment data lack the column(s) {', '.join(missing)}")
