"""Power and minimum detectable effect (MDE) of an experiment's comparisons, and the sample sizes that reach them.

:func:`power_and_mde` gives a comparison's :class:`PowerResult` (the MDE at :data:`TARGET_POWER`,
in the metric's units, and whether a result is underpowered); :func:`power_curve` the power
against a range of true effects; :func:`sample_size_per_arm` and :func:`exact_users_needed`
how many users an arm a test needs. The effect sizes and the tests whose power they state are
:mod:`quire.metrics.experiments`' (Cohen's h of :func:`~quire.metrics.experiments.cohens_h`,
the conversion test of :func:`~quire.metrics.experiments.smallest_p`); its conventions hold here.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats

from quire.errors import EmptyDataError, ParameterError
from quire.metrics.experiments import cohens_h, smallest_p

TARGET_POWER = 0.8  # the power the MDE is planned for
CURVE_POINTS = 60  # points of a power curve
T_BASED_BELOW = 1000  # users per arm under which a sample size differs between the normal and the t-based power


@dataclass(frozen=True)
class PowerResult:
    """Achieved power for the observed effect and the minimum detectable effect (MDE) at the target power.

    ``kind`` is ``proportion`` (effect sizes are Cohen's h, units are rate differences) or
    ``continuous`` (Cohen's d, units are the metric's, e.g. currency). Effects in units are
    treatment − control; the MDE is the size of the smallest effect detectable with
    ``target_power`` (None when it cannot be expressed in units). A rate's MDE in points
    depends on the direction (from 3.6 %: +6.1 pts up, 3.2 pts down): it is taken in the
    observed effect's direction, ``downward`` when the treatment's rate is the lower one.
    """

    kind: Literal["proportion", "continuous"]
    n_control: int
    n_treatment: int
    alpha: float
    target_power: float
    mde_effect_size: float
    mde: float | None
    observed_effect_size: float | None = None
    observed_effect: float | None = None
    achieved_power: float | None = None
    baseline_rate: float | None = None  # the control's rate (proportions)
    downward: bool = False  # a rate's MDE is that of a fall (the observed effect is one)
    #: A rate's smallest p-value at these sizes (one arm converting everyone, the other no one) when even that is
    #: not below alpha: the exact test can reject nothing, and the power is 0 whatever the formulas say (3 users an
    #: arm give p = 0.100 at best). None when some outcome can be significant.
    floor_p: float | None = None

    @property
    def at_ceiling(self) -> bool:
        """The control converted every user and no fall was seen: no rise is possible, so there is no MDE to miss."""
        return (self.kind == "proportion" and self.baseline_rate is not None and self.baseline_rate >= 1
                and not self.downward)

    @property
    def below_mde(self) -> bool | None:
        """True when the observed effect is smaller than the MDE: a *significant* effect that small tends to overstate
        the true one (only the largest of the chance outcomes around a small effect reach significance)."""
        if self.observed_effect_size is None or self.at_ceiling:
            return None
        return self.mde is None or abs(self.observed_effect_size) < self.mde_effect_size

    def mde_toward(self, downward: bool) -> float | None:
        """The MDE of a fall (``downward``) or of a rise, in units: a rate's differ (from 3.6 %: 3.2 pts down, 6.1 up),
        a mean's are the same. None when no change that way reaches the target power."""
        if self.floor_p is not None:
            return None
        if self.kind != "proportion" or downward == self.downward:
            return self.mde
        return rate_mde(self.baseline_rate, self.mde_effect_size, downward)

    def rules_out(self, low: float, high: float) -> bool:
        """Whether an interval of the effect (``low`` to ``high``, treatment − control) lies within the MDE either
        way: the test could detect effects that large with the target power, and its interval excludes them."""
        down, up = self.mde_toward(True), self.mde_toward(False)
        return (down is not None and up is not None and math.isfinite(low) and math.isfinite(high)
                and -down < low and high < up)

    def underpowered(self, low: float, high: float) -> bool | None:
        """Whether a result that is *not* significant, with the interval ``low`` to ``high``, leaves effects the
        design is meant to detect undecided: its interval reaches beyond the MDE (or no change is detectable at all),
        so no effect and one larger than the MDE both fit the data. Not whether the observed effect is smaller than
        the MDE: every result that is not significant is (that is post-hoc power, a restatement of the p-value).
        None where there is nothing to detect (the control converted every user and no fall was seen)."""
        if self.at_ceiling:
            return None
        return not self.rules_out(low, high)


def exact_users_needed(alpha: float, *, limit: int = 1_000) -> int:
    """The fewest users an arm (even arms) at which some conversion outcome is significant at ``alpha``."""
    return next((n for n in range(2, limit) if smallest_p(n, n) < alpha), limit)


def rate_mde(baseline_rate: float, effect_size: float, downward: bool) -> float | None:
    """The change of a rate from ``baseline_rate`` that Cohen's h of ``effect_size`` is, in points as a fraction: a
    fall (``downward``) or a rise; None when the rate cannot move that far (below 0 or above 100 %)."""
    angle = math.asin(math.sqrt(baseline_rate)) + (-effect_size if downward else effect_size) / 2
    if not 0 <= angle <= math.pi / 2:
        return None
    return float(baseline_rate - math.sin(angle) ** 2) if downward else float(math.sin(angle) ** 2 - baseline_rate)


def power_and_mde(n_control: int, n_treatment: int, *, baseline_rate: float | None = None,
                  observed_rate: float | None = None, effect_size: float | None = None, sd: float | None = None,
                  alpha: float = 0.05, power: float = TARGET_POWER) -> PowerResult:
    """Achieved power of a two-sided two-sample test and its minimum detectable effect.

    Both come from ``pingouin.power_ttest2n`` (non-central t with n_c + n_t − 2 degrees of
    freedom, noncentrality ``δ = es / √(1/n_c + 1/n_t)``; Cohen 1988). For a proportion
    metric (give ``baseline_rate`` = control rate, and ``observed_rate`` = treatment rate
    for the achieved power) the effect size is **Cohen's h** (the arcsine transform makes
    the variance 1/n whatever the rate), and the MDE h converts back to rate points:
    ``MDE = sin²(asin(√p_c) + h/2) − p_c`` upwards, ``p_c − sin²(asin(√p_c) − h/2)`` when the
    observed rate is below the control's (the MDE in the direction of the effect). At report
    sizes the t distribution is the normal one, so this is the normal-approximation power of the two-proportion test. For
    a continuous metric give ``effect_size`` = observed Cohen's d and ``sd`` = the pooled
    SD; the MDE in units is ``d_mde · sd``. Achieved ("post-hoc") power is a function of the
    p-value and the report never states it; the MDE is the number to plan by, and whether a result is
    underpowered is read from its interval against the MDE (:meth:`PowerResult.underpowered`).
    """
    if n_control < 2 or n_treatment < 2:
        raise EmptyDataError(f"power needs at least 2 users per arm (got {n_control} and {n_treatment})")
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise ParameterError("alpha and power must lie strictly between 0 and 1", parameter="power")
    mde_es = float(pg.power_ttest2n(n_control, n_treatment, power=power, alpha=alpha))
    downward = False
    if baseline_rate is not None:
        if not 0 <= baseline_rate <= 1:
            raise ParameterError(f"baseline rate must be a fraction in 0..1, not {baseline_rate}", parameter="baseline_rate")
        downward = observed_rate is not None and observed_rate < baseline_rate
        mde = rate_mde(baseline_rate, mde_es, downward)
        observed_es = cohens_h(observed_rate, baseline_rate) if observed_rate is not None else None
        observed = float(observed_rate - baseline_rate) if observed_rate is not None else None
        kind: Literal["proportion", "continuous"] = "proportion"
    elif sd is not None and not float(sd) > 0:
        # A metric that does not vary within the arms has no effect size: nothing is "detectable" by a t-test.
        mde = observed_es = observed = None
        kind = "continuous"
    else:
        mde = mde_es * float(sd) if sd is not None else None
        observed_es = float(effect_size) if effect_size is not None and math.isfinite(effect_size) else None
        observed = observed_es * float(sd) if observed_es is not None and sd is not None else None
        kind = "continuous"
    achieved = (float(pg.power_ttest2n(n_control, n_treatment, d=observed_es, alpha=alpha))
                if observed_es is not None else None)
    floor = smallest_p(n_control, n_treatment) if kind == "proportion" else 0.0
    if floor >= alpha:  # no outcome is significant: nothing is detectable, with any probability
        return PowerResult(kind, n_control, n_treatment, alpha, power, mde_es, None, observed_es, observed,
                           0.0 if achieved is not None else None, baseline_rate, downward, floor_p=floor)
    return PowerResult(kind, n_control, n_treatment, alpha, power, mde_es, mde, observed_es, observed, achieved,
                       baseline_rate, downward)


def sample_size_per_arm(effect_size: float | None, alpha: float, power: float = TARGET_POWER) -> float | None:
    """Users per variant (equal arms) that detect ``effect_size`` (Cohen's h or d) with ``power``.

    Normal approximation of the two-sample test, ``n = 2·((z_{1−α/2} + z_power) / es)²``:
    at experiment sizes it matches the t-based power analysis, and unlike a numerical
    solver it never fails for tiny effects (it just gets very large). Below
    :data:`T_BASED_BELOW` users the t-based answer (pingouin ``power_ttest``, the basis of
    :func:`power_and_mde`) is taken instead: for an effect of h = π the normal approximation
    says 1.6 users, where 2 per arm reach only 41 % power. At least 2 (a test needs two users an
    arm). None for no effect.
    """
    if effect_size is None or not np.isfinite(effect_size) or effect_size == 0:
        return None
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    normal = max(2.0, float(2 * (z / abs(effect_size)) ** 2))
    if normal >= T_BASED_BELOW:
        return normal
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = float(pg.power_ttest(d=abs(effect_size), power=power, alpha=alpha))
    return max(normal, exact) if math.isfinite(exact) else normal


def power_curve(p: PowerResult, baseline_rate: float | None = None, points: int = CURVE_POINTS) -> pd.DataFrame:
    """Power of the experiment's test against a range of true effects (units of the metric), from 0 up.

    The range reaches well past both the MDE and the observed effect so that the chart
    shows where the curve crosses the target. Proportions convert each effect to Cohen's
    h at the control's rate; continuous metrics to Cohen's d with the pooled SD (MDE ÷ d_MDE).
    Power is the two-sided two-sample t-test's (noncentral t, as ``pingouin.power_ttest2n``
    computes it, which gives the MDE), vectorised over the whole curve.
    """
    observed = abs(p.observed_effect or 0.0)
    mde = p.mde if p.mde is not None else observed
    top = max(2.0 * mde, 1.3 * observed) or 1.0
    if p.kind == "proportion":  # in the direction of the MDE: a rate's rise and fall differ
        sign = -1 if p.downward else 1
        top = min(top, baseline_rate if p.downward else 1 - baseline_rate)
        effects = np.linspace(0, top, points)
        sizes = [cohens_h(baseline_rate + sign * e, baseline_rate) for e in effects]
    else:
        sd = p.mde / p.mde_effect_size if p.mde else 1.0
        effects = np.linspace(0, top, points)
        sizes = effects / sd
    dof = p.n_control + p.n_treatment - 2
    noncentrality = np.abs(np.asarray(sizes, dtype=float)) / math.sqrt(1 / p.n_control + 1 / p.n_treatment)
    critical = stats.t.ppf(1 - p.alpha / 2, dof)
    power = stats.nct.sf(critical, dof, noncentrality) + stats.nct.cdf(-critical, dof, noncentrality)
    return pd.DataFrame({"effect": effects, "power": power})
