"""The experiment report's section on the measure per user (revenue unless the experiment says otherwise).

Welch's t-test of each treatment against the control, and CUPED's adjustment by the same users'
pre-period values beside it, with the notes that say when CUPED is left out or when its
estimate and the raw one disagree. Mixed into :class:`~quire.reports.experiment.ExperimentReport`,
whose analysis, measure, level and p-value labels it reads.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from quire.charts import experiment as charts
from quire.charts.experiment import amount, interval_text, signed
from quire.display import Callout, Section
from quire.formatting import number, percent
from quire.formatting.numbers import not_zero
from quire.formatting.units import UNITS
from quire.metrics.experiment_analysis import (describe_comparison, metric_correlation, mirrors_metric,
                                              varies_within_variants)
from quire.metrics.experiment_format import p_sentence, p_text
from quire.metrics.experiments import CupedResult
from quire.reports.experiment_data import CONTRACT
from quire.reports.experiment_display import Estimate, FormattedTable, interval_change, mark_control, reduction_text


class RevenueSection:
    """:meth:`revenue` and its tables and sentences (see the module docstring)."""

    def revenue(self) -> Section | None:
        """The measure per user (revenue unless the experiment says otherwise): Welch's t-test per treatment, and the
        CUPED-adjusted comparison beside it."""
        a = self.analysis
        if a is None:
            return None
        name = self.measure.name
        title = self.measure.title + (" (guardrail)" if self.metric != "revenue" else "")
        if not a.has_revenue:
            value = float(self.data.assignments["revenue"].iloc[0])
            why = f"the experiment recorded no {name}" if value == 0 else "the same for every user"
            return Section(title, [Callout(f"Every assigned user's {name} is {amount(value, False)}: {why}, so there "
                                           f"is no {name} comparison.", "info", title="Not shown:")])
        lead = " ".join(describe_comparison(r, self.level, several=self.several) for _, r in a.revenue_comparisons.iterrows())
        if not a.cuped:
            return Section(title, [self.welch_table(), self.no_covariate_note()], lead=lead)
        cuped_frame = pd.DataFrame([row for v in self.treatments for row in _cuped_rows(a.cuped[v])])
        flips = [self.sign_flip(c) if c.sign_flipped else self.imbalance(c)
                 for c in (a.cuped[t] for t in self.treatments) if c.sign_flipped or c.imbalanced]
        return Section(title, [self.welch_table(), self.cuped_sentence(), *flips,
                               charts.cuped_intervals(cuped_frame, self.level), self.cuped_table()], lead=lead)

    def no_covariate_note(self) -> Callout:
        """Why there is no CUPED: the assignments lack the pre-period metric (an optional column of the contract)."""
        col = CONTRACT.table("experiment_assignments").column("pre_revenue")
        name, needed_for = self.measure.name, self.measure.reword(col.needed_for)
        values = self.data.assignments[col.name] if col.name in self.data.assignments else None
        missing = 0 if values is None else int((~np.isfinite(values.astype(float))).sum())
        if missing:
            whose = "no user" if missing == len(values) else f"{number(len(values) - missing)} of {number(len(values))} users"
            infinite = self.data.infinite_pre_revenue
            aside = (f" ({number(infinite)} {'holds' if infinite == 1 else 'hold'} an infinite value, set aside as none)"
                     if infinite else "")
            # Not run on the users that have one: the adjusted test would compare other users than the raw one beside
            # it, and those without a pre-period value need not be like the others.
            return Callout(f"The assignments record a {col.name} ({name} before the experiment) for {whose}{aside}, so "
                           f"{needed_for} is left out: it adjusts every user's {name} by their own {col.name}.", "info",
                           title="Not shown:")
        if values is not None and mirrors_metric(self.data.assignments):
            r = metric_correlation(self.data.assignments)
            return Callout(f"Every user's {col.name} moves in step with their {name} during the experiment (a "
                           f"correlation of {number(r, 4) if abs(r) < 0.99995 else number(round(r))}): it is the same "
                           "measurement, not one taken before the experiment, so "
                           f"{needed_for} is left out. Map each user's {name} before assignment to {col.name}.",
                           "info", title="Not shown:")
        if values is not None and not varies_within_variants(self.data.assignments):
            return Callout(f"Every user of each variant has the same {name}: there is no noise for the {col.name} to "
                           f"remove, so {needed_for} is left out.", "info", title="Not shown:")
        if values is not None:
            value = float(values.iloc[0])
            return Callout(f"Every user's {col.name} ({name} before the experiment) is {amount(value, False)}, which "
                           f"explains none of the noise in {name}, so {needed_for} is left out.", "info",
                           title="Not shown:")
        return Callout(f"The assignments have no {col.name} column (each user's {name} before the experiment), so "
                       f"{needed_for} is left out.", "info", title="Not shown:")

    def welch_table(self) -> FormattedTable:
        a = self.analysis
        w0 = a.welch[self.treatments[0]]
        p_by = a.revenue_comparisons.set_index("variant")
        mean = f"Mean {self.measure.per_user}"
        rows = [{"Variant": mark_control(a.control, True), "Users": number(w0.n_b), mean: amount(w0.mean_b, False),
                 "Difference": "—", self._p_label(): "—", "Cohen's d": "—"}]
        for v in self.treatments:
            w = a.welch[v]
            rows.append({"Variant": v, "Users": number(w.n_a), mean: amount(w.mean_a, False),
                         "Difference": Estimate(amount(w.diff), interval_text(w.ci_low, w.ci_high, "revenue")),
                         self._p_label(): p_text(self._decision_p(p_by.loc[v]), self.alpha), "Cohen's d": signed(w.cohen_d)})
        data = pd.DataFrame([{"Variant": mark_control(a.control, True), "Users": w0.n_b, mean: w0.mean_b}] + [
            {"Variant": v, "Users": a.welch[v].n_a, mean: a.welch[v].mean_a, **_bounds("Difference", a.welch[v]),
             self._p_label(): self._decision_p(p_by.loc[v]), "Cohen's d": a.welch[v].cohen_d} for v in self.treatments])
        unit = self._measure_unit
        # The caption says how to read the table; the glossary has the formulas.
        none = "users who bought nothing" if self.measure.is_money else f"users without {self.measure.name}"
        return FormattedTable.figures(pd.DataFrame(rows), f"Welch's t-test of mean {self.measure.per_user} ({none} "
                                                          f"count as {self.measure.zero}), treatment − control, "
                                                          f"{self._ci_caption()}; Cohen's d in standard deviations",
                                      data, {"Users": "number", mean: unit, **dict.fromkeys(_bound_columns("Difference"), unit)})

    @property
    def _measure_unit(self) -> str:
        """The unit of the continuous measure's figures in the data files."""
        return self.measure.unit if self.measure.unit in UNITS else "number"

    def _cuped_p(self, c: CupedResult) -> float:
        """The CUPED p-value decisions read: adjusted across the treatments like every other test."""
        return float(c.p_adjusted if self.several else c.adjusted.p_value)

    def cuped_sentence(self) -> str:
        """What CUPED did, in words, for the focus treatment (or the first one), and which estimate to trust."""
        v = self.focus if self.focus in self.treatments else self.treatments[0]
        c = self.analysis.cuped[v]
        u, adj = c.unadjusted, c.adjusted
        text = (f"CUPED uses each user's {self.measure.name} before the experiment to remove noise{' (' + v + ')' if self.several else ''}: "
                # A θ of 0.003 and 0.3 % less variance are not "θ = 0.00, 0% less variance" (the table says 0.003, 0.3%).
                f"θ = {not_zero(lambda d: number(c.theta, d), c.theta, 2)}, "
                f"{reduction_text(c.variance_reduction)} less variance; the "
                f"{percent(self.level, 0)} interval of the "
                f"difference is {interval_change(c.ci_width_ratio)} (±{amount((adj.ci_high - adj.ci_low) / 2, False)} instead "
                f"of ±{amount((u.ci_high - u.ci_low) / 2, False)}). The pre-period lies before assignment, so the adjustment "
                "removes noise without biasing the effect.")
        p_adj = self._cuped_p(c)
        if (u.p_value < self.alpha) != (p_adj < self.alpha) and not self.several:
            # Say which of the two the decision reads (the CUPED one whenever it ran, as the glossary says).
            read = self.analysis.decided_on if self.metric == "revenue" else self.analysis.guardrail
            adjusted = read is not None and bool((read["metric"] == "revenue_cuped").all())
            which = "verdict" if self.metric == "revenue" else "guardrail check"
            precise = "; it is the more precise estimate" if adjusted and c.ci_width_ratio < 1 else ""
            text += (f" Note: the adjusted difference is {'' if p_adj < self.alpha else 'not '}significant "
                     f"({p_sentence(p_adj, self.alpha)}) while the unadjusted one is {'' if u.p_value < self.alpha else 'not '}"
                     f"(the {which} reads the {'adjusted' if adjusted else 'unadjusted'} test{precise}).")
        return text

    def _before(self, c: CupedResult) -> str:
        """"already spent $2.00 more per user" / "already had 1.50 less game rounds per user": the pre-period gap."""
        pre, m = ("more" if c.covariate_diff > 0 else "less"), self.measure
        return (f"already spent {amount(abs(c.covariate_diff), False)} {pre} per user" if m.is_money else
                f"already had {amount(abs(c.covariate_diff), False)} {pre} {m.per_user}")

    def _beyond_chance(self, c: CupedResult) -> str:
        """What a pre-period gap larger than chance means, and what to check."""
        return (f"more than a random split plausibly gives ({p_sentence(c.covariate_p)}): check the assignment, and "
                "that pre_revenue was recorded before it (measured after, it carries the effect itself, and CUPED "
                "removes the effect with it)")

    def imbalance(self, c: CupedResult) -> Callout:
        """A warning that the arms' pre-period differs beyond chance (where CUPED does not reverse the sign)."""
        who = f" for {c.treatment}" if self.several else ""
        text = (f"The treatment's users{who} {self._before(c)} than the control's before the experiment began, "
                f"{self._beyond_chance(c)}. The unadjusted difference carries θ × {amount(c.covariate_diff)} = "
                f"{amount(c.theta * c.covariate_diff)} of that gap; CUPED's estimate does not.")
        return Callout(text, "warning", title="Pre-period imbalance.")

    def sign_flip(self, c: CupedResult) -> Callout:
        """Which estimate to trust when CUPED reverses the sign of the raw difference, and why."""
        who = f" for {c.treatment}" if self.several else ""
        carried = amount(c.theta * c.covariate_diff)
        m = self.measure
        # "A chance imbalance of the random split" is no explanation beside a failed sample ratio check, nor beside a
        # gap too large for chance; then the callout is a warning, and CUPED's estimate no plain "trust this".
        mismatch = self.analysis.srm.mismatch
        why = (self._beyond_chance(c) if c.imbalanced else
               "with a split that does not match the plan (see the sample ratio check), perhaps a bias of the "
               "assignment" if mismatch else "a chance imbalance of the random split, not an effect of the change")
        text = (f"CUPED reverses the sign of the difference in {m.name}{who}: {amount(c.unadjusted.diff)} unadjusted, "
                f"{amount(c.adjusted.diff)} adjusted. The treatment's users {self._before(c)} than the control's before the "
                f"experiment began — {why} — and the raw difference carries "
                f"that imbalance with it (θ × {amount(c.covariate_diff)} = {carried}). CUPED removes it, and its estimate "
                f"has {reduction_text(c.variance_reduction)} less variance. Neither "
                "direction is established while its interval "
                f"includes {m.zero}.")
        if c.imbalanced or mismatch:
            return Callout(text, "warning", title="CUPED reverses the sign; check the assignment first.")
        return Callout(text, "info", title="Trust the CUPED-adjusted estimate.")

    def cuped_table(self) -> FormattedTable:
        rows = []
        for v in self.treatments:
            c = self.analysis.cuped[v]
            rows.append({"Treatment": v, "θ": number(c.theta, 3), "Variance reduction": percent(c.variance_reduction, 1),
                         "Unadjusted difference": Estimate(amount(c.unadjusted.diff), interval_text(
                             c.unadjusted.ci_low, c.unadjusted.ci_high, "revenue")),
                         "CUPED difference": Estimate(amount(c.adjusted.diff), interval_text(
                             c.adjusted.ci_low, c.adjusted.ci_high, "revenue")),
                         self._cuped_p_label(): p_text(self._cuped_p(c), self.alpha)})
        data = pd.DataFrame([{"Treatment": v, "θ": c.theta, "Variance reduction": c.variance_reduction,
                              **_bounds("Unadjusted difference", c.unadjusted), **_bounds("CUPED difference", c.adjusted),
                              self._cuped_p_label(): self._cuped_p(c)}
                             for v, c in ((v, self.analysis.cuped[v]) for v in self.treatments)])
        unit = self._measure_unit
        name = self.measure.name
        return FormattedTable.figures(pd.DataFrame(rows), f"CUPED: {name} adjusted by the same users' pre-period "
                                                          f"{name}, {self._ci_caption()}", data,
                                      {"Variance reduction": "percent",
                                       **dict.fromkeys([*_bound_columns("Unadjusted difference"), *_bound_columns("CUPED difference")], unit)})

    def _cuped_p_label(self) -> str:
        return f"CUPED p ({self.adjustment}-adj.)" if self.several else "CUPED p-value"


def _bound_columns(name: str) -> tuple[str, str, str]:
    """The data-file columns of an estimate called ``name``: its value and its interval's bounds."""
    return name, f"{name} CI low", f"{name} CI high"


def _bounds(name: str, estimate) -> dict[str, float]:
    """``estimate``'s diff, ci_low and ci_high under :func:`_bound_columns` of ``name``."""
    return dict(zip(_bound_columns(name), (estimate.diff, estimate.ci_low, estimate.ci_high), strict=True))


def _cuped_rows(c: CupedResult) -> list[dict[str, object]]:
    return [{"variant": c.treatment, "method": m, "diff": w.diff, "ci_low": w.ci_low, "ci_high": w.ci_high}
            for m, w in (("Unadjusted", c.unadjusted), ("CUPED", c.adjusted))]
