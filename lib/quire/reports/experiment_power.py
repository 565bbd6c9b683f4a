"""The experiment report's power section: the minimum detectable effect of the sample, its power curves,
and the sample a conclusive test of the observed effect would need.

Mixed into :class:`~quire.reports.experiment.ExperimentReport`, whose analysis, treatments and
focus it reads. The power is the design's (the MDE at the target power), never the "achieved"
power of the observed effect.
"""

from __future__ import annotations

import math

import pandas as pd

from quire.charts import experiment as charts
from quire.display import Callout, Grid, Section
from quire.formatting import number, percent, significant
from quire.metrics.experiment_format import compared_places
from quire.metrics.power import TARGET_POWER, exact_users_needed, power_curve, sample_size_per_arm
from quire.metrics.experiments import tested_exactly
from quire.reports.experiment_display import FormattedTable, effect_text, round_users, times


class PowerSection:
    """:meth:`power` and its table and sentences (see the module docstring)."""

    def power(self) -> Section | None:
        """The minimum detectable effect of the sample, its power curve, and the sample a conclusive test would need."""
        a = self.analysis
        if a is None:
            return None
        flat = [v for v in self.treatments if a.power[v].kind == "continuous" and a.power[v].mde is None]
        if flat:
            return Section("Power and minimum detectable effect", [Callout(
                f"{self.measure.title} is the same for every user of {' and of '.join([a.control, *flat])}, so the t-test "
                "has no spread to measure a difference against: there is no minimum detectable effect to show.",
                "info", title="Not shown:")])
        if any(a.power[v].at_ceiling for v in self.treatments):  # no curve to draw: every effect upwards is impossible
            return Section("Power and minimum detectable effect", [Callout(self.power_sentence(), "info", title="Not shown:")])
        if any(a.power[v].floor_p is not None for v in self.treatments):
            # The curves are the large-sample formula's: they would reach 80 % where the exact test rejects nothing.
            shown = [self.power_table()]
        else:
            chart = self._power_chart()
            # Beside the chart there is room for two treatments' columns: more were cut off at the page's edge, so
            # they go below it, a treatment a row.
            shown = ([Grid([chart, self.power_table()])] if len(self.treatments) <= 2 else
                     [chart, self.power_table(across=False)])
        return Section("Power and minimum detectable effect", shown, lead=f"{self.power_sentence()} {self.sample_sentence()}")

    def _power_chart(self):
        """Each treatment's power curve, with its MDE and observed effect marked."""
        marks, curves = [], []
        for v in self.treatments:
            p = self.analysis.power[v]
            curve = power_curve(p, self._control_rate() if p.kind == "proportion" else None)
            curves.append(curve.assign(variant=v))
            marks.append({"variant": v, "mde": p.mde, "observed": abs(p.observed_effect or 0.0)})
        return charts.power_curves(pd.concat(curves, ignore_index=True), pd.DataFrame(marks), TARGET_POWER,
                                   measure_units=self.metric == "revenue")

    def _control_rate(self) -> float:
        conv = self.analysis.conversion
        return float(conv.loc[conv["is_control"], "rate"].iloc[0])

    def power_sentence(self) -> str:
        """The design's power in words: the smallest true change this sample detects reliably (not post-hoc power)."""
        v = self.focus
        p = self.analysis.power[v]
        metric = self.tested
        sample = f"With {number(p.n_control)} users in {self.analysis.control} and {number(p.n_treatment)} in {v}"
        if p.at_ceiling:
            return (f"{sample}: {self.analysis.control} converted every user, so conversion cannot rise and there is no "
                    "minimum detectable effect (MDE) upwards.")
        if p.floor_p is not None:
            return (f"{sample}, no outcome can be significant at {self._power_alpha(p)}: even every user of one arm "
                    f"converting and none of the other gives p = {p.floor_p:.3f} by Fisher's exact test. The test cannot "
                    "detect any change, so it has no minimum detectable effect (MDE).")
        if p.mde is None:
            return (f"{sample}, no possible change in {metric} is detected with {percent(TARGET_POWER, 0)} probability at "
                    f"{self._power_alpha(p)}: the sample is too small to have a minimum detectable effect (MDE).")
        # A rate's MDE is that of a rise or of a fall (they differ), the one observed; a mean's is either.
        change = ("a fall" if p.downward else "a rise") if p.kind == "proportion" else "a change"
        places = self.compared_places(p)
        text = (f"{sample}, the test detects {change} in {metric} of at least "
                f"{effect_text(p.mde, self.metric, places).lstrip('+')} with {percent(TARGET_POWER, 0)} probability: its "
                f"minimum detectable effect (MDE) at {self._power_alpha(p)}.")
        if p.observed_effect is not None and p.mde is not None and not self.data.is_aa:
            size = "larger" if abs(p.observed_effect) >= p.mde else "smaller"
            text += f" The observed {effect_text(p.observed_effect, self.metric, places)} is {size} than the MDE."
        return text

    def compared_places(self, p) -> int | None:
        """The decimals that tell the observed effect and the MDE apart where the report sets one against the other
        (an observed 1.852 pts "smaller than" an MDE of 1.894 pts both read "1.9 pts"); None: the unit's own."""
        if p.observed_effect is None or p.mde is None or self.data.is_aa:
            return None
        # A conversion difference at the decimals the verdict writes it with: "−0.16 pts" there, not "−0.2" here.
        written = self.conversion_places if self.metric == "conversion" else None
        return compared_places(abs(p.observed_effect), p.mde, p.kind, written)

    def _power_alpha(self, p) -> str:
        """"alpha 0.05", or with several treatments "alpha 0.0125 (0.05 ÷ 4 treatments, the Holm correction's strictest
        threshold)": the alpha the power and the MDE are computed at."""
        alpha = f"alpha {significant(p.alpha, 6)}"
        if not self.several:
            return alpha
        return (f"{alpha} ({significant(self.alpha, 6)} ÷ {len(self.treatments)} treatments, the {self.adjustment} "
                "correction's strictest threshold)")

    def sample_sentence(self) -> str:
        """How many users a conclusive answer about the observed effect needs, against what the test had."""
        v = self.focus
        p = self.analysis.power[v]
        if self.data.is_aa:
            return "In an A/A test the MDE is the smallest bias in the assignment or the metrics the check could reveal."
        if p.floor_p is not None:
            return (f"Fisher's exact test can be significant at alpha {significant(p.alpha, 6)} from "
                    f"{number(exact_users_needed(p.alpha))} users an arm (an even split); detecting a real change "
                    "reliably takes many more.")
        needed = sample_size_per_arm(p.observed_effect_size, p.alpha)
        # Power follows 1/n_control + 1/n_treatment: uneven arms are worth their harmonic mean per variant.
        current = 2 / (1 / p.n_control + 1 / p.n_treatment)
        had = (f"the test had {number(current)}" if p.n_control == p.n_treatment else
               f"the test's {number(p.n_control)} and {number(p.n_treatment)} users are worth {number(current)} per "
               "variant of an even split")
        effect = effect_text(p.observed_effect, self.metric, self.compared_places(p))  # as the sentence before it
        # The formulas are for a large sample: with few conversions the test is exact and needs more than they say.
        caveat = (" With so few conversions the p-value is Fisher's exact test's, which has less power than these "
                  "large-sample formulas give: the power figures are optimistic." if self._tested_exactly(v) else "")
        if needed is None:
            # Not "no sample would do": the verdict rightly says a true effect below the MDE needs more users.
            return ("The observed difference is exactly zero, so there is no observed effect to size a sample for; "
                    f"a true effect smaller than the MDE would take more than the test's {number(current)} users per "
                    f"variant to detect.{caveat}")
        if needed <= current:
            return ((f"Detecting an effect of {effect} with {percent(TARGET_POWER, 0)} power needs about "
                     f"{number(round_users(needed))} users per variant by the large-sample formula, and {had}.{caveat}")
                    if caveat else
                    f"The sample was large enough: detecting an effect of {effect} with {percent(TARGET_POWER, 0)} power "
                    f"needs about {number(round_users(needed))} users per variant, and {had}.")
        return (f"To detect an effect of {effect} (the one observed) with {percent(TARGET_POWER, 0)} power would take about "
                f"{number(round_users(needed))} users per variant, {times(needed / current)} as many: {had}. "
                f"Smaller effects need more: the sample grows with one over the square of the effect.{caveat}")

    def _tested_exactly(self, variant: str) -> bool:
        """Whether ``variant``'s conversion against the control is tested by Fisher's exact test (few conversions)."""
        if self.metric != "conversion":
            return False
        conv = self.analysis.conversion.set_index("variant")
        t, c = conv.loc[variant], conv.loc[self.analysis.control]
        return tested_exactly(int(t["conversions"]), int(t["users"]), int(c["conversions"]), int(c["users"]))

    def power_table(self, across: bool = True) -> FormattedTable:
        """Measures down, treatments ``across`` (narrow enough to sit beside the power chart), or a treatment a row."""
        columns, data = {}, []
        mde = f"MDE at {percent(TARGET_POWER, 0)} power"
        needed_label = "Users per variant to detect the observed effect"
        for v in self.treatments:
            p = self.analysis.power[v]
            # Where no outcome can be significant, the large-sample formula's count is no count of users that detect it.
            needed = sample_size_per_arm(p.observed_effect_size, p.alpha) if p.floor_p is None else None
            places = self.compared_places(p)
            columns[v] = [f"{number(p.n_control)} / {number(p.n_treatment)}",
                          effect_text(p.observed_effect, self.metric, places),
                          effect_text(p.mde, self.metric, places).lstrip("+") if p.mde is not None else "—",
                          number(round_users(needed)) if needed else "—"]
            # The files hold a row per treatment, as figures: the page's rows of text are measures of mixed units.
            data.append({"Treatment": v, "Users (control)": p.n_control, "Users (treatment)": p.n_treatment,
                         "Observed effect": p.observed_effect, mde: p.mde, needed_label: math.ceil(needed) if needed else None})
        measures = ["Users (control / treatment)", "Observed effect", mde, needed_label]
        data = pd.DataFrame(data)
        if self.data.is_aa:  # the observed effect of an A/A test is noise: no sample "detects" it
            measures, columns, data = measures[:-1], {v: c[:-1] for v, c in columns.items()}, data.drop(columns=needed_label)
        frame = (pd.DataFrame({"": measures, **columns}) if across else
                 pd.DataFrame([[v, *texts] for v, texts in columns.items()], columns=["Treatment", *measures]))
        unit = "percent" if self.metric == "conversion" else self._measure_unit
        return FormattedTable.figures(frame, f"Power of the {self.tested} test", data,
                                      {"Users (control)": "number", "Users (treatment)": "number", "Observed effect": unit,
                                       mde: unit, **({needed_label: "number"} if needed_label in data else {})})
