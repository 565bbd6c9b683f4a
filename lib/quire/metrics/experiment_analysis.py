"""What an A/B(/n) experiment's statistics mean: the whole analysis and its verdict in plain words.

:func:`analyse` runs the statistics of :mod:`quire.metrics.experiments` (SRM, lift, Welch,
CUPED, multiplicity) and :mod:`quire.metrics.power` (power, MDE) for one experiment
and decides with :func:`verdict` (or :func:`aa_verdict` for an A/A test);
:func:`describe_comparison` says one comparison in a sentence. Conventions are those of
:mod:`quire.metrics.experiments`; how the figures are written (their precision, p-values) is
:mod:`quire.metrics.experiment_format`'s.
"""

from __future__ import annotations

import math

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np
import pandas as pd

from quire.errors import EmptyDataError, ParameterError, WarehouseError
from quire.formatting.numbers import not_zero, number, percent, percentage_points, significant
from quire.metrics.experiment_format import compared_places, format_amount, format_effect, p_sentence, rate_places
from quire.metrics.experiment_measure import current as current_measure, metric_label
from quire.metrics.power import PowerResult, power_and_mde
from quire.metrics.experiments import (ADJUSTMENTS, METRICS, MIN_USERS_FOR_MEANS, CupedResult, Decision,
                                       Metric, SrmResult, WelchResult, adjust_cuped, alpha_for,
                                       conversion_by_variant, cuped, cuped_comparisons, pairwise_vs_control,
                                       require_columns, srm_check, welch_test)


# --------------------------------------------------------------------------- verdict


@dataclass(frozen=True)
class Verdict:
    """The plain-language decision: ``ship`` ``variant``, ``don't ship``, or ``inconclusive``."""

    decision: Decision
    variant: str | None
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    guardrail_loss: bool = False  # the variant to ship is significantly worse on the guardrail metric
    #: The assignment failed a check (the sample ratio, or the pre-period's balance): no figure can be trusted.
    untrusted: bool = False


def verdict(comparisons: pd.DataFrame, srm: SrmResult, power: Mapping[str, PowerResult] | None = None, *,
            guardrail: pd.DataFrame | None = None, level: float = 0.95, currency: str | None = None,
            aa: bool = False, pre_period: Mapping[str, CupedResult] | None = None) -> Verdict:
    """Decide from the primary metric's comparisons (:func:`pairwise_vs_control`) and the checks of the assignment:
    the SRM check and the pre-period's balance (``pre_period``: the CUPED results, whichever metric and test decide).

    An A/A test (``aa``: every arm got the same experience) has nothing to ship: it checks
    the assignment and the metrics, see :func:`aa_verdict`. Otherwise:

    * **ship** the treatment with the largest gain among those significantly better (after
      the multiplicity adjustment) — only when the assignment passes both checks;
    * **don't ship** when a treatment is significant but the SRM check failed or a treatment's users differed
      before the experiment beyond chance (:attr:`CupedResult.imbalanced`; the data are suspect: fix the
      assignment first), or when no treatment is better and one is significantly worse;
    * **inconclusive** otherwise, saying whether the test was underpowered (its interval still
      reaches beyond the minimum detectable effect of its sample, :meth:`PowerResult.underpowered`)
      or rules out effects as large as that.

    A significant loss on the ``guardrail`` metric for the variant to ship is one of the
    reasons (the decision to ship weighs it; ``guardrail_loss``), not a warning beside them.
    Warnings: SRM failure; low power for a comparison (a significant result from a
    low-powered test tends to overstate the effect). Higher is better for both metrics.
    """
    power = power or {}
    gaps = [c for c in (pre_period or {}).values() if c.imbalanced]
    if aa:
        return aa_verdict(comparisons, srm, power, guardrail=guardrail, level=level, currency=currency, gaps=gaps)
    several = len(comparisons) > 1
    rows = [row for _, row in comparisons.iterrows()]

    places = rate_places(rows, power)

    def say(row: pd.Series) -> str:
        return describe_comparison(row, level, currency, several, places=places)

    warn = [_srm_message(srm)] if srm.mismatch else []
    untestable = _untestable(rows)
    if untestable:
        return Verdict("inconclusive", None, [*map(say, rows), f"{untestable}: there is no difference to test, however "
                       "long the experiment runs. Check how conversions are recorded (experiment_assignments.converted) "
                       "before reading anything into it; an experiment judged on its continuous metric instead says so "
                       "with primary_metric revenue (an import mapping: experiment_metric with primary: true)."], warn)
    if rows and all(r["metric"] != "conversion" and pd.isna(r["p_value"]) for r in rows):
        # Welch's test is undefined without spread: a copied value, not a per-user measurement.
        name = current_measure().name
        return Verdict("inconclusive", None, [*map(say, rows), f"Every user of each variant has the same {name}: with no "
                       f"spread within the variants there is no chance to test a difference against, however long the "
                       f"experiment runs. Check how {name} is recorded (experiment_assignments.revenue): a value copied to "
                       "every user of a variant, such as its price, is no measurement of each user."], warn)
    under = [(str(r["variant"]), power[r["variant"]], r) for r in rows
             if r["variant"] in power and _low_power(r, power[r["variant"]])]
    warn += [_low_power_message(v, p, currency, r, level, places) for v, p, r in under]
    # The guardrail's mean too: its card shows a difference, significant or not, whatever the verdict.
    means = rows + ([r for _, r in guardrail.iterrows()] if guardrail is not None else [])
    warn += [_few_users_message(r) for r in means
             if r["metric"] != "conversion" and min(r["n_control"], r["n_treatment"]) < MIN_USERS_FOR_MEANS]
    better = [r for r in rows if r["significant"] and r["diff"] > 0]
    worse = [r for r in rows if r["significant"] and r["diff"] < 0]
    if srm.mismatch or gaps:
        # A biased split biases every comparison either way: no power advice ("more traffic") applies to it. Arms
        # that differed before the experiment began are as sure a sign of one as a split off the plan.
        trusted = ("the significant result below cannot be trusted" if better or worse else
                   "no result below can be trusted, a difference or its absence")
        causes = ([f"users were not split between the variants {_as_planned(srm)} (sample ratio mismatch)"]
                  if srm.mismatch else []) + ([_imbalance_cause(gaps, several)] if gaps else [])
        fix = ("Find and fix the cause (the assignment, or a pre-period recorded after it), then rerun the experiment."
               if gaps else "Find and fix the cause, then rerun the experiment.")
        return Verdict("don't ship" if better or worse else "inconclusive", None, [
            f"Data quality first: {' and '.join(causes)}, so {trusted}. {fix}",
            *map(say, better + worse if better or worse else rows)], warn, untrusted=True)
    if better:
        best = max(better, key=lambda r: r["diff"])
        losses = []
        if guardrail is not None:
            hit = guardrail[(guardrail["variant"] == best["variant"]) & guardrail["significant"] & (guardrail["diff"] < 0)]
            # At the precision the report writes the guardrail's rates with, where all its rows are shown.
            shown = rate_places([r for _, r in guardrail.iterrows()])
            losses = [f"Guardrail: {describe_comparison(r, level, currency, several, shown)} Weigh this loss against "
                      "the gain before shipping." for _, r in hit.iterrows()]
        return Verdict("ship", str(best["variant"]), [say(best), *losses, *map(say, worse)], warn,
                       guardrail_loss=bool(losses))
    if worse:
        return Verdict("don't ship", None, list(map(say, worse)), warn)
    reasons = list(map(say, rows))
    if under:
        variant, p, row = under[0]
        reasons.append(_underpowered_reason(p, row, level, currency, f" for {variant}" if several else "", places))
    else:  # every interval lies within the MDE either way: the test answers the question it was sized for
        reasons += [_ruled_out_reason(power[r["variant"]], r, level, currency, f" for {r['variant']}" if several else "",
                                      places)
                    for r in rows if r["variant"] in power and power[r["variant"]].mde is not None
                    and not power[r["variant"]].at_ceiling]
    return Verdict("inconclusive", None, reasons, warn)


#: Said after a power claim about a comparison Fisher's exact test decided: its MDE is the large-sample formula's.
EXACT_CAVEAT = (" With so few conversions the p-value is Fisher's exact test's, which has less power than the "
                "large-sample formula behind this MDE: the smallest effect it detects is larger.")


def _exact(row: pd.Series | Mapping[str, object]) -> str:
    """:data:`EXACT_CAVEAT` for a comparison decided by Fisher's exact test, else ''."""
    return EXACT_CAVEAT if bool(row.get("exact", False)) else ""


def _low_power(row: pd.Series, p: PowerResult) -> bool:
    """Whether a comparison's test lacked the power its result needs: a significant effect smaller than the MDE (it
    tends to overstate the true one), or a result that is not significant whose interval still reaches beyond the
    MDE (:meth:`PowerResult.underpowered`)."""
    if row["significant"]:
        return bool(p.below_mde)
    return bool(p.underpowered(float(row["ci_low"]), float(row["ci_high"])))


def _beyond_mde(p: PowerResult, low: float, high: float, currency: str | None, places: int | None = None) -> str:
    """The ends of an interval that reach past the MDE that way, each beside its MDE: "a fall of 0.39 pts, beyond the
    smallest fall it detects with 80% power (its MDE, 0.34 pts)"; '' when neither does. A rate's with at least
    ``places`` decimals, those of the interval as its sentence writes it."""
    sides = []
    for edge, downward in ((low, True), (high, False)):
        mde = p.mde_toward(downward)
        if math.isfinite(edge) and (edge < 0 if downward else edge > 0) and mde is not None and abs(edge) >= mde:
            sides.append(("fall" if downward else "rise", abs(edge), mde))
    if not sides:
        return ""
    places = max(compared_places(edge, mde, p.kind, places) for _, edge, mde in sides)
    written = [(word, *(format_effect(v, p.kind, currency, signed=False, decimals=places) for v in (edge, mde)))
               for word, edge, mde in sides]
    power = percent(p.target_power, 0)
    if len(written) == 1:
        [(word, edge, mde)] = written
        return f"a {word} of {edge}, beyond the smallest {word} it detects with {power} power (its MDE, {mde})"
    (_, fall, fall_mde), (_, rise, rise_mde) = written
    return (f"a fall of {fall} and a rise of {rise}, beyond the smallest fall and rise it detects with {power} power "
            f"(its MDEs, {fall_mde} and {rise_mde})")


def _underpowered_reason(p: PowerResult, row: pd.Series, level: float, currency: str | None, who: str,
                         places: int | None = None) -> str:
    """Why a result that is not significant settles nothing: its interval still holds effects beyond the MDE, or no
    change at all is detectable with this sample."""
    power = percent(p.target_power, 0)
    if p.mde is None:
        return (f"The experiment was underpowered: it could not reliably detect (with {power} power) {_any_possible(p)}"
                f"{who}, with {number(p.n_control)} and {number(p.n_treatment)} users. More traffic or a longer run is "
                f"needed to tell whether an effect is real.{_exact(row)}")
    beyond = _beyond_mde(p, float(row["ci_low"]), float(row["ci_high"]), currency, places)
    if not beyond:  # the other way, no change reaches the target power at all
        return (f"The experiment was underpowered{who}: it could reliably detect (with {power} power) only "
                f"{_changes(p)} of at least {format_effect(p.mde, p.kind, currency, signed=False)}, and no "
                f"{'rise' if p.downward else 'fall'} at all. More traffic or a longer run is needed to tell whether an "
                f"effect is real.{_exact(row)}")
    return (f"The experiment was underpowered{who}: its {percent(level, 0)} interval still includes {beyond}, so no "
            "effect and one larger than the MDE both fit the data. More traffic or a longer run is needed to tell them "
            f"apart.{_exact(row)}")


def _ruled_out_reason(p: PowerResult, row: pd.Series, level: float, currency: str | None, who: str,
                      places: int | None = None) -> str:
    """That a result that is not significant rules out effects as large as the MDE: its whole interval lies within
    it either way, so no more traffic is asked for (it would only detect a smaller effect)."""
    power = percent(p.target_power, 0)
    down, up = p.mde_toward(True), p.mde_toward(False)
    # Each MDE with the decimals that set it apart from the end of the interval on its side ("+0.17" within "0.19",
    # not "0.2"), and no more: the power section writes the same MDE.
    places = max(compared_places(abs(float(row["ci_low"])), down, p.kind, places),
                 compared_places(abs(float(row["ci_high"])), up, p.kind, places))
    if p.kind == "proportion":
        within = (f"between a fall of {format_effect(down, p.kind, currency, signed=False, decimals=places)} and a rise "
                  f"of {format_effect(up, p.kind, currency, signed=False, decimals=places)}, the smallest it detects")
    else:
        within = (f"within ±{format_effect(p.mde, p.kind, currency, signed=False, decimals=places)}, the smallest "
                  "change it detects")
    return (f"The test rules out an effect as large as its MDE{who}: its whole {percent(level, 0)} interval lies "
            f"{within} with {power} power. A true effect, if there is one, is smaller than that; only an effect that "
            f"small would need more traffic to detect.{_exact(row)}")


def aa_verdict(comparisons: pd.DataFrame, srm: SrmResult, power: Mapping[str, PowerResult] | None = None, *,
               guardrail: pd.DataFrame | None = None, level: float = 0.95, currency: str | None = None,
               gaps: list[CupedResult] | None = None) -> Verdict:
    """The verdict of an A/A test: identical arms, so the check passes when nothing differs.

    **A/A passed** when the split matches the plan (no SRM), the arms did not differ before the
    experiment beyond chance (no CUPED result of ``gaps``) and no comparison, on the
    primary or the guardrail metric, is significant: the assignment and the metrics look
    unbiased. **A/A failed** otherwise, saying what differed. "More traffic" is never the
    advice: the true difference is zero by design, and the minimum detectable effect
    states how small a bias the check could have revealed.
    """
    several = len(comparisons) > 1
    tables = [comparisons] + ([guardrail] if guardrail is not None else [])
    rows = [row for t in tables for _, row in t.iterrows()]
    differing = [r for r in rows if r["significant"]]
    warn = [_srm_message(srm)] if srm.mismatch else []
    if not srm.mismatch and not gaps and not differing:
        reasons = [f"Every arm got the same experience, and neither the split between them (sample ratio check "
                   f"{p_sentence(srm.p_value)}, a mismatch needs p < {significant(srm.alpha, 6)}) nor any metric differs by more than chance.",
                   *(describe_comparison(r, level, currency, several, places=rate_places(rows)) for r in rows)]
        first = next((p for p in (power or {}).values() if p.mde is not None), None)
        untestable = _untestable([r for _, r in comparisons.iterrows()])
        if untestable:  # a check that could not have found anything on conversion
            reasons.append(f"{untestable}, so the check says nothing about conversion: check how conversions are "
                           "recorded (experiment_assignments.converted).")
        elif first is not None:
            reasons.append(f"The check would have revealed a bias in {metric_label(str(comparisons.iloc[0]['metric'])).lower()} "
                           f"of {format_effect(first.mde, first.kind, currency, signed=False)} or more "
                           f"(its minimum detectable effect at {percent(first.target_power, 0)} power).")
        return Verdict("A/A passed", None, reasons, warn)
    reasons = []
    if srm.mismatch:
        reasons.append(f"Users were not split {_as_planned(srm)} (sample ratio mismatch): the assignment or its "
                       "logging is biased. Find the cause before trusting any experiment that uses this assignment.")
    if gaps:
        cause = _imbalance_cause(gaps, several)
        reasons.append(f"{cause[0].upper()}{cause[1:]}: the assignment is biased, or the pre-period was recorded after "
                       "it. Find the cause before trusting any experiment that uses this assignment.")
    if differing:
        one_in = round(1 / alpha_for(level))
        reasons.append(f"Arms that got the same experience differ significantly. By chance alone about 1 A/A test in "
                       f"{one_in} shows such a difference on a given metric, so rerun the check; if it fails again, look "
                       "for a bias in the assignment, in how the metric is logged, or in the analysis.")
        reasons += [describe_comparison(r, level, currency, several, places=rate_places(differing)) for r in differing]
    return Verdict("A/A failed", None, reasons, warn)


def describe_comparison(row: pd.Series | Mapping[str, object], level: float = 0.95, currency: str | None = None,
                        several: bool = False, places: int | None = None) -> str:
    """One sentence for a row of :func:`pairwise_vs_control`.

    E.g. "Conversion rose from 10.2% to 11.6% (+1.4 pts, 95% CI +0.6 to +2.2 pts, p = 0.001)."
    With ``several`` comparisons the sentence names the variant and the p-value is the adjusted one.
    """
    metric = str(row["metric"])
    as_rate = metric == "conversion"
    subject = metric_label(metric) + (f" in {row['variant']}" if several else "")
    diff, control_value, treatment_value = float(row["diff"]), float(row["control_value"]), float(row["treatment_value"])
    # As many decimals as it takes for the two figures to differ by the difference shown beside them.
    if not as_rate:
        places = 2  # money: cents
    elif places is None:
        places = rate_places([row])
    level_fmt = (lambda v: percent(v, places)) if as_rate else (lambda v: format_amount(v, currency))
    low, high = float(row["ci_low"]), float(row["ci_high"])
    # The difference as its interval's bounds: one that is not 0 never reads "0.0 pts" or "$0.00".
    bound = ((lambda v: not_zero(lambda d: percentage_points(v, d), v, places)) if as_rate
             else (lambda v: not_zero(lambda d: current_measure().format(v, d, signed=True, currency=currency), v,
                                      current_measure().decimals)))
    interval = (f"{bound(diff)}, {percent(level, 0)} CI "
                + (f"{bound(low).removesuffix(' pts')} to {bound(high)}" if math.isfinite(low) and math.isfinite(high)
                   else "not defined"))
    alpha = alpha_for(level)
    if several:
        p_text = f"{ADJUSTMENTS[str(row['adjustment'])]}-adjusted {p_sentence(float(row['p_adjusted']), alpha)}"
    else:
        p_text = p_sentence(float(row["p_value"]), alpha)
    if bool(row["significant"]):
        verb = "rose" if diff > 0 else "fell"
        return f"{subject} {verb} from {level_fmt(control_value)} to {level_fmt(treatment_value)} ({interval}, {p_text})."
    # Both figures name their variant ("2.6% against 2.0% in Psa" left the reader to guess whose 2.6% it was).
    treated = "" if several else f" in {row['variant']}"
    # Each alone would call it (a Newcombe interval clear of zero beside Fisher's p = 0.056 at 50 users an arm). With
    # several treatments the p-value is corrected and the intervals are not: that they differ is no news there.
    decided = float(row["p_adjusted" if several else "p_value"])
    split = (not several and math.isfinite(low) and math.isfinite(high) and math.isfinite(decided)
             and (decided < alpha) != (low > 0 or high < 0))
    return (f"{subject} was {level_fmt(treatment_value)}{treated} against {level_fmt(control_value)} in "
            f"{row['control']} ({interval}, {p_text}): no significant difference"
            + (": the test and the interval disagree at this sample size, and a difference counts only when both "
               "find it." if split else "."))


def _imbalance_cause(gaps: list[CupedResult], several: bool) -> str:
    """"the arms' revenue before the experiment differs more than a random split plausibly gives (C, p < 0.001)": the
    failed balance check of the pre-period, as the report's warning words it."""
    who = " and ".join(f"{c.treatment}, {p_sentence(c.covariate_p)}" if several else p_sentence(c.covariate_p)
                       for c in gaps)
    return (f"the arms' {current_measure().name} before the experiment differs more than a random split plausibly "
            f"gives ({who})")


def _as_planned(srm: SrmResult) -> str:
    return "equally, the split assumed without a recorded plan" if srm.assumed else "as planned"


def _srm_message(srm: SrmResult) -> str:
    parts = ", ".join(f"{v} {number(srm.observed[v])} (expected {number(srm.expected[v])})" for v in srm.observed)
    if srm.unplanned:
        return (f"Sample ratio mismatch: users per variant {parts}; the plan gives "
                f"{' and '.join(srm.unplanned)} no share of the traffic, so no user should be there. This usually means "
                "a bug in assignment or logging (or a plan that is out of date); results may be biased.")
    head = (f"Sample ratio mismatch: users per variant {parts}; χ² = {number(srm.statistic, 1)}, {p_sentence(srm.p_value)} "
            f"(threshold {significant(srm.alpha, 6)}). ")
    if srm.assumed:
        return head + ("The split differs from an equal one, which the report assumed because no plan is recorded: "
                       "if the experiment split the traffic unevenly by design, record its allocation; if not, this "
                       "usually means a bug in assignment or logging, and results may be biased.")
    return head + ("The split differs from the plan by more than chance allows, which usually means a bug in "
                   "assignment or logging; results may be biased.")


def _untestable(rows: list[pd.Series]) -> str:
    """"No user converted in any variant (2,000 users)" (or every user did) when that holds for every
    conversion comparison of ``rows``: no test is possible (p not defined) and more users would not
    change that; most likely the conversions are not being recorded. '' otherwise."""
    rates = {float(r[column]) for r in rows for column in ("control_value", "treatment_value")}
    if not rows or any(r["metric"] != "conversion" for r in rows) or rates not in ({0.0}, {1.0}):
        return ""
    users = sum(int(r["n_treatment"]) for r in rows) + int(rows[0]["n_control"])
    said = "No user converted in any variant" if rates == {0.0} else "Every user converted in every variant"
    return f"{said} ({number(users)} users)"


def _few_users_message(row: pd.Series) -> str:
    # Welch's test is exact for normal data only; a mean of revenue (mostly zeros and a few large
    # purchases) is near normal only over a few dozen users (the central limit theorem's usual 30).
    # Each count names its arm: "3 and 3 in the control" read as two counts of the control.
    name = current_measure().name
    return (f"Few users for a mean of {name}: {number(row['n_treatment'])} in {row['variant']} and "
            f"{number(row['n_control'])} in the control. Welch's test takes each arm's mean {name} to be roughly "
            f"normal, which it rarely is below about {MIN_USERS_FOR_MEANS} users an arm: take the result as indicative "
            "only.")


def _low_power_message(variant: str, p: PowerResult, currency: str, row: pd.Series, level: float,
                       places: int | None = None) -> str:
    # Stated through the minimum detectable effect of the sample, not the "achieved" power of the
    # observed effect: that post-hoc power is a restatement of the p-value and adds nothing.
    significant = bool(row["significant"])
    # Not significant, the verdict's own reason says it (once): the warning need not.
    caveat = _exact(row) if significant else ""
    consequence = ("Significant results from low-powered tests tend to overstate the effect." if significant
                   else "A small real effect would usually be missed." if not p.observed_effect
                   else "A real effect of the observed size would usually be missed.")
    if p.mde is None:  # not even the largest possible change (a rate going to 100 %) reaches the target power
        return (f"Low power for {variant}: with {number(p.n_control)} and {number(p.n_treatment)} users the test cannot "
                f"detect {_any_possible(p)} with {percent(p.target_power, 0)} power. {consequence}{caveat}")
    beyond = "" if significant else _beyond_mde(p, float(row["ci_low"]), float(row["ci_high"]), currency, places)
    if beyond:  # the verdict's reason: an interval too wide to tell no effect from one the test is sized for
        return (f"Low power for {variant}: with {number(p.n_control)} and {number(p.n_treatment)} users the "
                f"{percent(level, 0)} interval still includes {beyond}. An effect that large is neither found nor "
                f"ruled out.{caveat}")
    places = compared_places(abs(p.observed_effect or 0.0), p.mde, p.kind, places)
    return (f"Low power for {variant}: with {number(p.n_control)} and {number(p.n_treatment)} users the test detects (with "
            f"{percent(p.target_power, 0)} power) only {_changes(p)} of at least "
            f"{format_effect(p.mde, p.kind, currency, signed=False, decimals=places)}; the observed "
            f"{format_effect(p.observed_effect, p.kind, currency, decimals=places)} is smaller. {consequence}{caveat}")


def _changes(p: PowerResult) -> str:
    """What the MDE is the least of: a rate's "rises" or "falls" (their MDEs differ), a mean's "changes"."""
    return ("falls" if p.downward else "rises") if p.kind == "proportion" else "changes"


def _any_possible(p: PowerResult) -> str:
    """What no effect reaches the power for. A rate's MDE is taken in the observed direction, and the other may
    still be detectable (a fall from 8 % is at most 8 points, a rise can be far larger): "any possible fall". When
    no outcome at all can be significant (``floor_p``), it is any change."""
    if p.floor_p is not None:
        return "any possible change"
    return {"rises": "any possible rise", "falls": "any possible fall"}.get(_changes(p), "any possible change")


# --------------------------------------------------------------------------- all together


@dataclass(frozen=True)
class ExperimentAnalysis:
    """Everything the experiment report shows, for one experiment (variants in plan order, control first)."""

    primary_metric: Metric
    control: str
    level: float
    srm: SrmResult
    conversion: pd.DataFrame  # per variant: rate, Wilson CI, lift and its CIs (conversion_by_variant)
    conversion_comparisons: pd.DataFrame  # each treatment vs control, adjusted p (pairwise_vs_control)
    revenue_comparisons: pd.DataFrame
    welch: dict[str, WelchResult]  # revenue, per treatment
    cuped: dict[str, CupedResult]  # revenue adjusted by pre_revenue, per treatment (empty without pre_revenue)
    power: dict[str, PowerResult]  # primary metric, per treatment (of the test the verdict reads)
    verdict: Verdict
    decided_on: pd.DataFrame  # the comparisons the verdict reads: the primary metric's, CUPED's for revenue when it ran
    guardrail: pd.DataFrame | None  # the other metric's, as the verdict reads them (revenue by CUPED); None: no revenue

    @property
    def has_revenue(self) -> bool:
        """Whether revenue was compared (False when every user's revenue is the same: nothing was recorded)."""
        return bool(self.welch)

    @property
    def comparisons(self) -> pd.DataFrame:
        """The primary metric's treatment-vs-control table, unadjusted."""
        return self.conversion_comparisons if self.primary_metric == "conversion" else self.revenue_comparisons


def revenue_decision(revenue_cmp: pd.DataFrame, cuped_results: Mapping[str, CupedResult]) -> pd.DataFrame:
    """The comparisons a revenue verdict decides on: CUPED's when it ran, as the glossary says to trust it (the
    same effect without the users' chance pre-period difference, a narrower interval), else ``revenue_cmp``."""
    # CUPED refines a test that exists: revenue with no spread within the arms has none (t = 5/0), adjusted or not.
    defined = bool(np.isfinite(revenue_cmp["p_value"].to_numpy(float)).all())
    return cuped_comparisons(cuped_results) if cuped_results and defined else revenue_cmp


def _resting_on_one_user(rows: pd.DataFrame, control: str, order: list[str], decided: pd.DataFrame, method: str,
                         level: float, currency: str | None) -> list[str]:
    """Warnings for the treatments whose revenue result (significant or not) turns over when the largest revenue of
    each arm is left out: a mean of heavy-tailed revenue can rest on one user (one player's 49,854 game rounds
    made a −2.14, p = 0.074 of a −1.04, p = 0.016). The same test as ``decided``, CUPED's when it decided."""
    rows = rows.reset_index(drop=True)
    largest = rows.groupby("variant", sort=False)["revenue"].idxmax()
    reduced = rows.drop(index=largest.to_numpy())
    if reduced["variant"].value_counts().reindex(order, fill_value=0).min() < 2:
        return []
    revenue_cmp = pairwise_vs_control(reduced, control, "revenue", method, level)
    cuped_results = (adjust_cuped({v: cuped(reduced, control, v, level) for v in order[1:]}, method)
                     if (decided["metric"] == "revenue_cuped").all() else {})
    again = revenue_decision(revenue_cmp, cuped_results)
    several = len(order) > 2
    warnings = []
    for row in decided.itertuples():
        match = again[again["variant"] == row.variant]
        if len(match) and bool(match["significant"].iloc[0]) != bool(row.significant):
            left = ", ".join(format_amount(float(rows.at[largest[v], "revenue"]), currency) for v in (control, row.variant))
            said = describe_comparison(match.iloc[0], level, currency, several)
            warnings.append(f"One user decides this result{' for ' + row.variant if several else ''}: without the "
                            f"largest {current_measure().name} of {control} and of {row.variant} ({left}), "
                            f"{said[0].lower() + said[1:]} Take it as fragile until more users confirm it.")
    return warnings


#: One user holding more than this share of an arm's total makes its mean that user's (checked from
#: :data:`DOMINANT_FROM` users an arm; fewer are flagged as few users already).
DOMINANT_SHARE = 0.5
DOMINANT_FROM = MIN_USERS_FOR_MEANS


def _one_users_share(rows: pd.DataFrame, order: list[str], currency: str | None) -> list[str]:
    """Warnings for the arms in which one user holds most of the metric's total (a whale's 50,000 among a thousand
    users' 5): the arm's mean is then that user's, significant or not."""
    warnings = []
    for variant in order:
        values = rows.loc[rows["variant"] == variant, "revenue"].astype(float)
        total = float(values.sum())
        if len(values) < DOMINANT_FROM or total <= 0 or values.max() <= DOMINANT_SHARE * total:
            continue
        name = current_measure().name
        warnings.append(f"One user holds {percent(values.max() / total, 0)} of {variant}'s {name} "
                        f"({format_amount(float(values.max()), currency)} of {format_amount(total, currency)} over "
                        f"{number(len(values))} users): its mean {name} per user is mostly that user's. Look at that "
                        f"user, or cap each user's {name} before comparing.")
    return warnings


def varies(values: pd.Series) -> bool:
    """Whether a metric takes more than one value across the users (a constant one cannot be tested or regressed on)."""
    return values.astype(float).nunique(dropna=True) > 1


def has_covariate(assignments: pd.DataFrame) -> bool:
    """Whether CUPED can run: a finite ``pre_revenue`` for every user that varies across users, as revenue does
    (the contract makes the column optional; a constant one explains nothing, its slope is 0/0; CUPED
    adjusts every user, so one without a pre-period value leaves it out, as does an infinite one, which made
    every adjusted value NaN)."""
    return ("pre_revenue" in assignments and bool(np.isfinite(assignments["pre_revenue"].astype(float)).all())
            and varies(assignments["pre_revenue"]) and varies_within_variants(assignments)
            and not mirrors_metric(assignments))


def varies_within_variants(assignments: pd.DataFrame) -> bool:
    """Whether ``revenue`` takes more than one value among the users of some variant: when every user of each
    variant has the same value (a price copied to every row), no test of chance applies and there is no noise
    for CUPED to remove."""
    return bool(assignments.groupby("variant", observed=True)["revenue"].nunique().max() > 1)


#: A pre-period that explains this much of the metric (|correlation|; 99.8 % of its variance) is taken for a copy of it.
MIRROR_CORRELATION = 0.999


def metric_correlation(assignments: pd.DataFrame) -> float:
    """The correlation of ``pre_revenue`` with ``revenue`` over the users (NaN when either is constant)."""
    pre, rev = assignments["pre_revenue"].astype(float), assignments["revenue"].astype(float)
    return float(np.corrcoef(pre, rev)[0, 1]) if varies(pre) and varies(rev) else math.nan


def mirrors_metric(assignments: pd.DataFrame) -> bool:
    """Whether ``pre_revenue`` is (nearly) a straight-line copy of ``revenue``: the same column mapped twice, or the
    experiment's own figure rounded or scaled (|correlation| above :data:`MIRROR_CORRELATION`).

    CUPED would then subtract the metric from itself: what is left of the difference and its
    p-value is rounding noise, and a measure taken after assignment removes the effect with it
    (a real effect of +$0.39 read as "$0.00, 95% CI −$0.003 to +$0.003"). No pre-period measure
    of per-user behaviour explains 99.8 % of a later one.
    """
    return bool(abs(metric_correlation(assignments)) > MIRROR_CORRELATION)


def analyse(assignments: pd.DataFrame, variants: pd.DataFrame, primary_metric: str, level: float = 0.95, *,
            method: str = "holm", currency: str | None = None, aa: bool = False,
            plan_assumed: bool = False) -> ExperimentAnalysis:
    """The whole experiment analysis: SRM, conversion lift, Welch and CUPED on revenue, power, verdict.

    ``assignments`` and ``variants`` are one experiment's rows of ``experiment_assignments``
    and ``experiment_variants``. ``primary_metric`` (``conversion`` | ``revenue``) is the
    metric the verdict decides on; the other one is the guardrail. Tests use alpha = 1 − level.
    ``aa`` marks an A/A test (identical arms): its verdict says whether the check passed.
    ``plan_assumed``: the variants' allocation is an assumed equal split, not a recorded plan;
    a sample ratio mismatch is then worded as a departure from that assumption.
    CUPED p-values are adjusted across the treatments with ``method``, like the others; the power and the
    MDE of several treatments are at alpha ÷ their number, the correction's strictest threshold;
    without a ``pre_revenue`` column, or with one that is the same for every user, there is no
    CUPED (``cuped`` is empty); when every user's revenue is the same (a conversion-only
    experiment) there is no revenue comparison (``welch`` is empty, ``revenue_comparisons`` has no rows).
    Raises :class:`~quire.errors.EmptyDataError` when there are no assignments, fewer
    than two variants with users, or no revenue in a revenue experiment, :class:`~quire.errors.WarehouseError` when the variants
    are inconsistent.
    """
    if primary_metric not in METRICS:
        raise ParameterError(f"primary metric must be one of {', '.join(METRICS)}, not {primary_metric!r}",
                             parameter="primary_metric")
    require_columns(variants, ("variant", "is_control", "allocation"))
    if assignments.empty:
        raise EmptyDataError("the experiment has no assignments yet: no user has been assigned to a variant")
    require_columns(assignments, ("variant", "converted", "revenue"))
    if "experiment_id" in assignments and assignments["experiment_id"].nunique() > 1:
        raise WarehouseError("the assignments hold several experiments; analyse one experiment at a time")
    controls = variants.loc[variants["is_control"].astype(bool), "variant"].astype(str).tolist()
    if len(controls) != 1:
        raise WarehouseError(f"an experiment needs exactly one control variant, found {len(controls)}")
    control = controls[0]
    planned = variants["variant"].astype(str).tolist()
    if len(planned) < 2:
        raise EmptyDataError(f"the experiment defines only one variant ({control!r}): there is nothing to compare")
    rows = assignments.assign(variant=assignments["variant"].astype(str))
    counts = rows["variant"].value_counts().to_dict()
    srm = replace(srm_check(counts, dict(zip(planned, variants["allocation"].astype(float), strict=True))),
                  assumed=plan_assumed)
    seen = [v for v in planned if counts.get(v, 0) > 0]
    if control not in seen:
        raise EmptyDataError(f"the control variant {control!r} has no assigned users")
    if len(seen) < 2:
        raise EmptyDataError(f"only one variant ({control!r}) has assigned users: there is nothing to compare")
    lone = [v for v in seen if counts[v] < 2]
    # A variant of one user has no variance and no test. The others are still compared (a QA account in a third
    # arm must not hide control against treatment), unless the control is the lone one or no treatment is left.
    if control in lone or len(seen) - len(lone) < 2:
        # A split as lopsided as 50 to 1 is worth saying at once.
        split = ", ".join(f"{v} {number(counts.get(v, 0))}" for v in planned)
        mismatch = (f" Users so far ({split}) were not split {_as_planned(srm)} (sample ratio mismatch, {p_sentence(srm.p_value)}): "
                    "check the assignment." if srm.mismatch else "")
        raise EmptyDataError(f"{', '.join(repr(v) for v in lone)} {'has' if len(lone) == 1 else 'have'} a single "
                             f"assigned user, and comparing variants needs at least 2 users in each.{mismatch}")
    seen = [v for v in seen if v not in lone]
    if lone and plan_assumed:
        # No plan says the stray arm was meant to get a third of the traffic: the split assumed equal is the compared
        # variants' (a perfect 1,500/1,500 split read as a mismatch because of one QA user).
        kept = {v: counts.get(v, 0) for v in planned if v not in lone}
        srm = replace(srm_check(kept, dict.fromkeys(kept, 1 / len(kept))), assumed=True)
    checked = ("the equal split assumed without a plan is the compared variants'" if plan_assumed else
               "the sample ratio check counts every user against the plan")
    left_out = ([f"{', '.join(repr(v) for v in lone)} {'has' if len(lone) == 1 else 'have'} a single assigned user and "
                 f"{'is' if len(lone) == 1 else 'are'} left out of the comparisons, which need at least 2 users in each "
                 f"variant ({checked})."] if lone else [])
    rows = rows[rows["variant"].isin(seen)]
    # Order rows by the plan (control first) so every table lists variants the same way.
    order = [control, *[v for v in seen if v != control]]
    rows = rows.iloc[np.argsort(rows["variant"].map({v: i for i, v in enumerate(order)}).to_numpy(), kind="stable")]
    conversion = conversion_by_variant(rows, control, level)
    conversion_cmp = pairwise_vs_control(rows, control, "conversion", method, level)
    # A conversion-only experiment (every user's revenue the same, typically 0) has no revenue to test:
    # Welch's t is 0/0 there, so the revenue comparison is left out rather than shown as undefined.
    recorded = varies(rows["revenue"])
    if not recorded and primary_metric == "revenue":
        name = current_measure().name
        raise EmptyDataError(f"every assigned user's {name} is {float(rows['revenue'].iloc[0]):g}, so an experiment "
                             f"decided on {name} has no difference to test",
                             hint=f"Record each user's {name} in experiment_assignments.revenue, or make conversion "
                                  "the experiment's primary metric.")
    revenue_cmp = pairwise_vs_control(rows, control, "revenue", method, level) if recorded else conversion_cmp.iloc[0:0]
    by_variant = {v: g for v, g in rows.groupby("variant", sort=False)}
    welch = ({v: welch_test(by_variant[v]["revenue"], by_variant[control]["revenue"], level) for v in order[1:]}
             if recorded else {})
    adjusted = (adjust_cuped({v: cuped(rows, control, v, level) for v in order[1:]}, method)
                if has_covariate(rows) else {})
    # Power at the correction's strictest threshold (alpha ÷ treatments, Holm's first step and Bonferroni's every
    # one): the decisions read adjusted p-values, so an MDE at the plain alpha promised effects they would miss.
    alpha = alpha_for(level) / (len(order) - 1)
    if primary_metric == "conversion":
        c = conversion.set_index("variant")
        power = {v: power_and_mde(int(c.at[control, "users"]), int(c.at[v, "users"]), baseline_rate=c.at[control, "rate"],
                                  observed_rate=c.at[v, "rate"], alpha=alpha) for v in order[1:]}
        # Revenue as a guardrail is judged as it would be judged as the primary metric: by CUPED when it ran.
        primary, guard = conversion_cmp, (revenue_decision(revenue_cmp, adjusted) if recorded else None)
    else:
        primary, guard = revenue_decision(revenue_cmp, adjusted), conversion_cmp
        # The power of the test the verdict reads: CUPED's when it decides (its narrower interval, a smaller MDE).
        tests = ({v: c.adjusted for v, c in adjusted.items()} if (primary["metric"] == "revenue_cuped").all()
                 else welch)
        power = {v: power_and_mde(w.n_b, w.n_a, effect_size=w.cohen_d, sd=w.sd_pooled, alpha=alpha)
                 for v, w in tests.items()}
    decided = verdict(primary, srm, power, guardrail=guard, level=level, currency=currency, aa=aa, pre_period=adjusted)
    decided = replace(decided, warnings=left_out + decided.warnings)
    if primary_metric == "revenue" and not aa:
        fragile = _resting_on_one_user(rows, control, order, primary, method, level, currency)
        dominant = [] if fragile else _one_users_share(rows, order, currency)  # a fragile result names that user
        decided = replace(decided, warnings=decided.warnings + fragile + dominant)
    return ExperimentAnalysis(cast(Metric, primary_metric), control, level, srm, conversion, conversion_cmp,
                              revenue_cmp, welch, adjusted, power, decided, primary, guard)
