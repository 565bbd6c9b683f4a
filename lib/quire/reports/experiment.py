"""The experiment report: one A/B(/n) test read the way a product manager decides on it.

:func:`~quire.reports.experiment_data.load` is the only I/O (one read-only warehouse
connection); the statistics are the pure functions of :mod:`quire.metrics.experiments`, run
once by :func:`~quire.metrics.experiment_analysis.analyse`; how figures read (p-values,
effects, intervals, the report's tables and cards) is :mod:`quire.reports.experiment_display`.
The sections on the measure per user (Welch, CUPED) and on power are
:mod:`~quire.reports.experiment_revenue` and :mod:`~quire.reports.experiment_power`. The notebook
calls :func:`build` once, then displays one section per cell: the verdict first, then the
evidence behind it, then the glossary.

``level`` (confidence level of every interval and test, alpha = 1 − level) and
``correction`` (Holm or Bonferroni across the treatments) apply throughout.
"""

from __future__ import annotations

import math
from datetime import date
from functools import cached_property

import pandas as pd

from quire import formatting
from quire.formatting import format_day, long_date, number, percent, significant
from quire.chart_style import use_brand
from quire.charts import experiment as charts
from quire.charts.experiment import amount, interval_text, pct, pts, signed
from quire.display import Callout, ReportHeader, Section
from quire.errors import EmptyDataError, WarehouseError
from quire.glossary import glossary
from quire.metrics.experiment_analysis import ExperimentAnalysis, analyse, describe_comparison
from quire.metrics.experiment_format import p_sentence, p_text, rate_places
from quire.metrics import experiment_measure
from quire.metrics.experiment_measure import metric_label
from quire.metrics.power import TARGET_POWER
from quire.metrics.experiments import ADJUSTMENTS
from quire.metrics.kpi import Kpi
from quire.contract import absent_note
from quire.reports.experiment_data import ExperimentData, check_parameters, load
from quire.reports.experiment_power import PowerSection
from quire.reports.experiment_revenue import RevenueSection
from quire.reports.experiment_display import (Estimate, ExperimentCards, FlowingGlossary, FormattedTable, chance,
                                              effect_text, interval_change, mark_control, once_in,
                                              reduction_text, relative_estimate, relative_value, sentence, share_off)

DECISION_TITLES = {"ship": "Verdict: ship {variant}.", "don't ship": "Verdict: don't ship.",
                   "inconclusive": "Verdict: inconclusive.",
                   "A/A passed": "A/A check passed: the split and metrics look unbiased.",
                   "A/A failed": "A/A check failed."}
DECISION_SEVERITY = {"ship": "good", "don't ship": "critical", "inconclusive": "info", "A/A passed": "good",
                     "A/A failed": "critical"}
GLOSSARY_KEYS = ["verdict", "srm", "conversion_rate", "absolute_lift", "relative_lift", "confidence_interval",
                 "p_value", "revenue_per_user", "welch_test", "cohens_d", "cuped", "variance_reduction", "power", "mde",
                 "guardrail_metric"]


# --------------------------------------------------------------------------- the report


class ExperimentReport(RevenueSection, PowerSection):
    """The computed report; each public method returns one displayable section (None: nothing to show)."""

    def __init__(self, data: ExperimentData, level: float = 0.95, correction: str = "holm") -> None:
        check_parameters(level, correction)
        self.data, self.level, self.correction = data.labelled(), level, correction
        self.alpha = round(1 - level, 12)
        self.metric = data.primary_metric
        # The report's sentences, charts and glossary name the experiment's own measure (revenue unless it says
        # otherwise); the shared formatters read it as they read the run's locale.
        self.measure = data.measure.sized_for(data.assignments.groupby("variant", observed=True)["revenue"].mean())
        experiment_measure.use(self.measure)

    # -- computed once ------------------------------------------------------------------
    @cached_property
    def _outcome(self) -> tuple[ExperimentAnalysis | None, Callout | None]:
        """The analysis, or why there is none: no users is a fact to report, not a crash."""
        try:
            return analyse(self.data.assignments, self.data.variants, self.metric, self.level,
                           method=self.correction, aa=self.data.is_aa,
                           plan_assumed=self.data.plan_assumed), None
        except EmptyDataError as exc:
            if self.data.assignments.empty and self.data.outside_dates:
                n = self.data.outside_dates
                who = "the one user was" if n == 1 else f"all {number(n)} users were"
                return None, Callout(f"{who[0].upper()}{who[1:]} assigned outside the experiment's dates, "
                                     f"{self.dates_label()}, so there is nothing to compare. Check the experiment's "
                                     "started_on and ended_on in the warehouse.", "warning", title="Nothing to analyse.")
            # An experiment that has ended will get no more users: no "yet", no results that "will appear".
            ended = self.data.ended_on is not None and pd.Timestamp(self.data.ended_on).date() < date.today()
            then = exc.hint or ("" if ended else
                                "The results will appear once users are assigned to at least the control and one treatment.")
            return None, Callout(f"{sentence(exc.message)} {then}".strip(), "warning",
                                 title="Nothing to analyse." if ended else "Nothing to analyse yet.")
        except WarehouseError as exc:
            return None, Callout(f"{sentence(exc.message)} Fix the experiment's records before reading any result.",
                                 "critical", title="The experiment data are inconsistent.")

    @property
    def analysis(self) -> ExperimentAnalysis | None:
        return self._outcome[0]

    @property
    def problem(self) -> Callout | None:
        """Why the experiment cannot be analysed (None when it can)."""
        return self._outcome[1]

    @property
    def treatments(self) -> list[str]:
        return [str(v) for v in self.analysis.comparisons["variant"]] if self.analysis else []

    @property
    def several(self) -> bool:
        """Several treatments: p-values are adjusted and sentences name the variant."""
        return len(self.treatments) > 1

    @property
    def adjustment(self) -> str:
        return ADJUSTMENTS[self.correction]

    @cached_property
    def focus(self) -> str | None:
        """The treatment the headline is about: the one to ship, else the largest gain on the primary metric."""
        if self.analysis is None:
            return None
        if self.analysis.verdict.variant:
            return self.analysis.verdict.variant
        cmp = self.analysis.decided_on
        diffs = cmp["diff"].astype(float)
        return str(cmp.loc[diffs.idxmax(), "variant"]) if diffs.notna().any() else str(cmp["variant"].iloc[0])

    @cached_property
    def conversion_places(self) -> int:
        """The decimals of every conversion figure the report writes (each rate, lift and interval bound, in the
        verdict, the sentences, the cards, the table and the chart): the verdict's, :func:`rate_places`."""
        a = self.analysis
        power = a.power if self.metric == "conversion" and not self.data.is_aa else None
        return rate_places([r for _, r in a.conversion_comparisons.iterrows()], power) or 1

    @property
    def tested(self) -> str:
        """The metric the verdict and the power read, inside a sentence: "conversion", "revenue per user", or
        "revenue per user adjusted for the pre-period (CUPED)"."""
        label = metric_label(str(self.analysis.decided_on["metric"].iloc[0]))
        return label[0].lower() + label[1:]

    @property
    def measure_unit(self) -> str:
        """The unit of the measure's cards: "currency" or "number"."""
        return "currency" if self.measure.is_money else "number"

    def _p_label(self) -> str:
        return f"p ({self.adjustment}-adj.)" if self.several else "p-value"

    def _decision_p(self, row: pd.Series) -> float:
        """The p-value the decision uses: adjusted when several treatments share the control."""
        return float(row["p_adjusted"] if self.several else row["p_value"])

    # -- sections -------------------------------------------------------------------------
    def header(self) -> ReportHeader:
        d = self.data
        conclusion = self.decision() or self.problem
        return ReportHeader(f"Experiment report: {d.name}", self.dates_label(), subtitle=d.hypothesis,
                            extra={"experiment": d.key, "primary_metric": d.primary_metric, "level": self.level,
                                   "correction": self.correction,
                                   # run.json's and the e-mail's: the figures alone do not say ship or not
                                   "conclusion": conclusion.text() if conclusion else None})

    def dates_label(self) -> str:
        """When the experiment ran: "3 April – 14 May 2026 (42 days)" or "Since 3 September 2026 (running)"."""
        start, end = self.data.started_on, self.data.ended_on
        if end is None:
            return f"Since {long_date(start)} (still running)"
        days = (end - start).days + 1
        if days == 1:  # a test on one day, or an export that dates every assignment the same
            return f"{long_date(end)} (1 day)"
        first = format_day(start, "day_month") if start.year == end.year else long_date(start)
        return f"{first} – {long_date(end)} ({days} days)"

    def verdict(self) -> Section:
        """The decision in plain language, its warnings, and what the experiment was."""
        notes = [self.defaults_note()] if self.data.absent else []
        if self.data.outside_dates and not self.data.assignments.empty:  # else the problem itself says so
            n = self.data.outside_dates
            notes.append(Callout(f"{number(n)} {'user was' if n == 1 else 'users were'} assigned outside the experiment's "
                                 f"dates ({self.dates_label()}) and {'is' if n == 1 else 'are'} left out of every figure.",
                                 "warning", title="Left out:"))
        notes += self.unrecorded_notes()
        if self.analysis is None:
            return Section("Verdict", [self.problem, self.facts(), *notes])
        warnings = [Callout(w, "warning", title="Warning:")
                    for w in [*self.control_warning(), *self.analysis.verdict.warnings, *self.pre_period_warning(),
                              *self.interim_warning()]]
        return Section("Verdict", [self.decision(), *warnings, self.facts(), *notes])

    def decision(self) -> Callout | None:
        """The verdict and its reasons in plain language (None when the experiment cannot be analysed)."""
        if self.analysis is None:
            return None
        v = self.analysis.verdict
        # A biased split makes every figure below suspect, whatever the decision: the box says so by its colour too.
        # A gain bought with a guardrail loss is no plain "ship": amber, and its title says what to weigh.
        severity = ("critical" if self.analysis.srm.mismatch or v.untrusted else "warning" if v.guardrail_loss
                    else DECISION_SEVERITY[v.decision])
        title = (f"Verdict: ship {v.variant} only if its guardrail loss is acceptable." if v.guardrail_loss
                 else DECISION_TITLES[v.decision].format(variant=v.variant))
        if self.interim_warning():  # the title is the run's conclusion, e-mailed alone: it says so itself
            title = f"{title.removesuffix('.')} (interim look: the experiment is still running)."
        return Callout(" ".join(v.reasons), severity, title=title)

    def pre_period_warning(self) -> list[str]:
        """The treatments whose users already differed before the experiment, beyond what a random split gives: as
        strict a sign of a faulty assignment as the sample ratio check, so the verdict says it, not only its section
        (and decides on it: :func:`~quire.metrics.experiment_analysis.verdict`)."""
        gaps = [c for v, c in self.analysis.cuped.items() if v in self.treatments and c.imbalanced]
        if not gaps:
            return []
        who = " and ".join(f"{c.treatment}, {p_sentence(c.covariate_p)}" if self.several else p_sentence(c.covariate_p)
                           for c in gaps)
        return [f"The arms' {self.measure.name} before the experiment differs more than a random split plausibly gives "
                f"({who}): check the assignment, and that the pre-period was recorded before it, before trusting any "
                f"figure of this report (the CUPED part of the {self.measure.name} section shows the gap)."]

    def interim_warning(self) -> list[str]:
        """Why a significant result of a running experiment is no decision yet (empty once it has ended, or when
        nothing is significant: more data cannot make "no difference" a false alarm)."""
        if self.data.ended_on is not None or self.analysis.verdict.decision not in ("ship", "don't ship", "A/A failed"):
            return []
        return [f"The experiment is still running, so this is an interim look. Its p-values and intervals hold for "
                f"one look at a planned end: deciding now, or looking again until a result is significant, makes a "
                f"false result more likely than alpha {significant(self.alpha, 6)} allows. Decide at the planned "
                "end, with the sample the power section asks for."]

    def control_warning(self) -> list[str]:
        """Why the control may be the wrong one: the report had to guess it (no plan, no variant named so), or more
        than one variant's name says it is the control."""
        if not (self.data.control_guessed or self.data.control_rivals):
            return []
        control = str(self.data.variants.loc[self.data.variants["is_control"], "variant"].iloc[0])
        if self.data.control_guessed:
            why = (f"No variant's name says it is the control (control, baseline, original, old, A…), so the report "
                   f"took “{control}”, the first by name, for it.")
        else:
            rivals = " and ".join(f"“{v}”" for v in self.data.control_rivals)
            why = (f"{rivals} also {'reads' if len(self.data.control_rivals) == 1 else 'read'} as a control; the report "
                   f"took “{control}” (control, baseline, original, old… are tried in that order).")
        return [f"{why} If another variant is the control, every difference below has the wrong sign and the decision "
                "may be reversed: record the control in an experiment_variants table (is_control), or, for an "
                "import, give its mapping experiment_plan: {control: <its name>, split: {<variant>: <planned share>, …}}."]

    def unrecorded_notes(self) -> list[Callout]:
        """What the report counted for the users whose conversion or measure the warehouse does not record (as not
        converted, as 0: the rules of the glossary's definitions), per variant: gaps in one arm alone can make or
        hide a difference, and the figures do not show them."""
        d, m = self.data, self.measure
        notes = []
        if d.unrecorded_conversions:
            n = sum(d.unrecorded_conversions.values())
            notes.append(Callout(
                f"{self._users(n)} no conversion recorded (experiment_assignments.converted is empty) and "
                f"{'counts' if n == 1 else 'count'} as not converted, as every assigned user counts in the conversion "
                f"rate: {self._by_variant(d.unrecorded_conversions)}. If they did convert, record it before trusting "
                "the conversion figures.", "warning", title="Counted as not converted:"))
        n = sum(d.unrecorded_revenue.values())
        # Every user without a value is the revenue section's own "recorded no revenue": said there once.
        if n and n < len(d.assignments):
            none = "users who bought nothing do" if m.is_money else f"users without {m.name} do"
            notes.append(Callout(
                f"{self._users(n)} no {m.name} recorded (experiment_assignments.revenue is empty or not a finite "
                f"number) and {'counts' if n == 1 else 'count'} as {m.zero}, as {none}: "
                f"{self._by_variant(d.unrecorded_revenue)}. If they had {m.name}, record it before trusting the "
                f"{m.name} figures.", "warning", title=f"Counted as {m.zero}:"))
        return notes

    @staticmethod
    def _users(n: int) -> str:
        return "1 user has" if n == 1 else f"{number(n)} users have"

    def _by_variant(self, counts) -> str:
        """"Control 1,204 of 10,068, One page 0 of 9,888": each variant's count of its users, in the plan's order."""
        users = self.data.assignments["variant"].value_counts()
        return ", ".join(f"{v} {number(counts.get(v, 0))} of {number(int(users.get(v, 0)))}"
                         for v in self.data.variants["variant"] if users.get(v, 0))

    def defaults_note(self) -> Callout:
        """What the report assumed for the optional tables the warehouse lacks."""
        return Callout(absent_note("experiment", self.data.absent, self.data.lacking), "info", title="Assumed:")

    def facts(self) -> FormattedTable:
        """What was tested, on whom, and by which rule."""
        d = self.data
        shares = dict(zip(d.variants["variant"], d.variants["allocation"], strict=True))
        if self.analysis is not None and d.plan_assumed:  # the split the sample ratio check assumed (stray arms out)
            srm = self.analysis.srm
            shares = {v: srm.expected[v] / srm.total if v in srm.expected else None for v in shares}
        # A third is 33.3 %: three "33%" shares would add up to 99 %.
        places = 0 if all(a is None or abs(a * 100 - round(a * 100)) < 1e-9 for a in shares.values()) else 1
        controls = set(d.variants.loc[d.variants["is_control"].astype(bool), "variant"])
        split = ", ".join(f"{mark_control(v, v in controls)} "
                          + ("left out (a single user)" if a is None else percent(a, places)) for v, a in shares.items())
        rule = f"{percent(self.level, 0)} confidence (alpha {significant(self.alpha, 6)}), two-sided tests"
        compared = len(self.treatments) if self.analysis else len(d.variants) - 1  # a planned variant may have no users
        if compared > 1:
            rule += f"; {self.adjustment} correction across the {compared} treatments"
        rows = [("Experiment key", d.key), *([("Hypothesis", d.hypothesis)] if d.hypothesis.strip() else []),
                ("Primary metric", self.metric_noun()),
                ("Variants (split assumed equal)" if d.plan_assumed else "Variants (planned split)",
                 split), ("Dates", self.dates_label()),
                ("Users assigned", number(len(d.assignments))), ("Decision rule", rule)]
        if d.is_aa:
            rows.insert(1, ("Design", f"A/A test, as {d.aa_sign} says: every arm gets the same experience, so any "
                                      "difference is chance or a bias in the assignment or the metrics"))
        return FormattedTable(pd.DataFrame(rows, columns=["About this experiment", ""]))

    def metric_noun(self) -> str:
        """The primary metric as the facts table names it: "conversion (share of users who converted)"."""
        if self.metric == "conversion":
            return "conversion (share of users who converted)"
        return f"{self.measure.per_user} (mean over all assigned users)"

    def headline(self) -> ExperimentCards | None:
        """The headline figures (recorded in ``run.json``) for the focus treatment, in the order a PM reads them.

        Conversion experiments: users, both rates, absolute and relative lift, p-value, the
        minimum detectable effect and the revenue guardrail. Revenue experiments: users, the
        revenue difference, CUPED's variance reduction, p-value, the minimum detectable effect,
        then conversion as the guardrail. The power shown is the design's (the MDE at the target
        power), never the "achieved" power of the observed effect, which only restates the p-value.
        """
        a = self.analysis
        if a is None:
            return None
        cards = self._conversion_cards() if self.metric == "conversion" else self._revenue_cards()
        return ExperimentCards([k for k, _, _ in cards], texts={k.key: (text, note) for k, text, note in cards})

    def _common_cards(self) -> dict[str, tuple[Kpi, str, str]]:
        """Every card either kind of experiment shows: key -> (Kpi, value text, note)."""
        a, focus, lvl = self.analysis, self.focus, f"{percent(self.level, 0)} CI"
        conv = a.conversion.set_index("variant")
        lift = a.conversion_comparisons.set_index("variant").loc[focus]
        p = self._decision_p(a.decided_on.set_index("variant").loc[focus])
        power = a.power[focus]
        n = len(self.data.assignments)
        places = self.conversion_places
        guard = " (guardrail)"
        cards = {
            "users": (Kpi("users", "Users", float(n), "number"), number(n), f"{len(conv)} variants"),
            "control_rate": (Kpi("control_rate", f"Conversion, {a.control}" + (guard if self.metric == "revenue" else ""),
                                 conv.at[a.control, "rate"], "percent"),
                             pct(conv.at[a.control, "rate"], places),
                             f"{number(int(conv.at[a.control, 'users']))} users"),
            "best_rate": (Kpi("best_rate", f"Conversion, {focus}", conv.at[focus, "rate"], "percent"),
                          pct(conv.at[focus, "rate"], places), f"{number(int(conv.at[focus, 'users']))} users"),
            # Beside the MDE's card, whose decimals tell the two apart when the lift is what the MDE sizes.
            "abs_lift": (Kpi("abs_lift", "Absolute lift", lift["diff"], "percent"),
                         effect_text(lift["diff"], "conversion", places),
                         f"{lvl} {interval_text(lift['ci_low'], lift['ci_high'], 'conversion', places)}"),
            "rel_lift": (Kpi("rel_lift", "Relative lift", lift["rel_diff"], "percent"),
                         relative_value(lift["rel_diff"]), "of the control's rate"),
            "p_value": (Kpi("p_value", f"p-value ({self.adjustment}-adjusted)" if self.several else "p-value", p, "number",
                            direction="down_is_good"),
                        p_text(p, self.alpha), f"{self.tested}; significant below {significant(self.alpha, 6)}"),
            "mde": (Kpi("mde", "Minimum detectable effect", power.mde,
                        "percent" if self.metric == "conversion" else self.measure_unit),
                    effect_text(power.mde, self.metric, self.compared_places(power)).lstrip("+")
                    if power.mde is not None else "—",
                    f"detected with {percent(TARGET_POWER, 0)} power at this sample size"
                    # Fisher's exact test decides at so few conversions, with less power than the formula gives.
                    + (" (large-sample formula: the exact test used has less power)" if self.metric == "conversion"
                       and bool(lift.get("exact", False)) else "") if power.mde is not None
                    else f"{a.control} converted every user: no rise is possible" if power.at_ceiling
                    else "no outcome can be significant at this sample size" if power.floor_p is not None
                    else f"no possible change is detected with {percent(TARGET_POWER, 0)} power at this sample size"),
        }
        if a.has_revenue:
            # As a guardrail, the difference the verdict checks (CUPED's when it ran); as the primary metric the
            # raw one, with CUPED's on a card of its own.
            compared = a.guardrail if self.metric == "conversion" else a.revenue_comparisons
            rev = compared.set_index("variant").loc[focus]
            title = self.measure.title
            label = (f"{title}, difference" if self.metric == "revenue" else
                     # A card's title has two lines in print: "Revenue per user, difference (CUPED) (guardrail)" lost its end.
                     f"{title}, CUPED{guard}" if rev["metric"] == "revenue_cuped" else f"{title}, difference{guard}")
            cards["revenue_diff"] = (
                Kpi("revenue_diff", label, rev["diff"], self.measure_unit),
                amount(rev["diff"]), f"{lvl} {interval_text(rev['ci_low'], rev['ci_high'], 'revenue')}")
        return cards

    def _conversion_cards(self) -> list[tuple[Kpi, str, str]]:
        c = self._common_cards()
        return [c[k] for k in ("users", "control_rate", "best_rate", "abs_lift", "rel_lift", "p_value", "mde", "revenue_diff")
                if k in c]

    def _revenue_cards(self) -> list[tuple[Kpi, str, str]]:
        c = self._common_cards()
        a = self.analysis
        cu = a.cuped.get(self.focus)
        cuped_cards = [] if cu is None else [
            (Kpi("variance_reduction", "CUPED variance reduction", cu.variance_reduction, "percent"),
             reduction_text(cu.variance_reduction),
             f"interval {interval_change(cu.ci_width_ratio)}")]
        decided = a.decided_on.set_index("variant").loc[self.focus]
        if decided["metric"] == "revenue_cuped":  # the difference the verdict reads, beside the raw one
            cuped_cards.insert(0, (Kpi("cuped_diff", f"{self.measure.title}, difference (CUPED)", decided["diff"],
                                       self.measure_unit),
                                   amount(decided["diff"]), f"{percent(self.level, 0)} CI "
                                   f"{interval_text(decided['ci_low'], decided['ci_high'], 'revenue')}"))
        return [c["users"], c["revenue_diff"], *cuped_cards, c["p_value"], c["mde"], c["control_rate"], c["best_rate"],
                c["abs_lift"]]

    def assignment(self) -> Section | None:
        """Users per variant against the planned split, and the sample-ratio-mismatch test in words."""
        a = self.analysis
        if a is None:
            return None
        srm = a.srm
        # An expected count is a share of the users (20,489 / 2 = 10,244.5): shown whole, it and its difference
        # would round apart (10,244 expected, 10,169 users, "−76").
        places = 0 if all(abs(e - round(e)) < 1e-6 for e in srm.expected.values()) else 1
        rows = [{"Variant": mark_control(v, v == a.control), "Planned share": percent(srm.expected[v] / srm.total, 1),
                 "Expected users": number(srm.expected[v], places), "Users": number(n),
                 "Actual share": percent(n / srm.total, 2),
                 "Difference": f"{signed(n - srm.expected[v], places)} ({share_off(n, srm.expected[v])})"}
                for v, n in srm.observed.items()]
        assumed = self.data.plan_assumed
        data = pd.DataFrame([{"Variant": mark_control(v, v == a.control), "Planned share": srm.expected[v] / srm.total,
                              "Expected users": srm.expected[v], "Users": n, "Actual share": n / srm.total,
                              "Difference": n - srm.expected[v],
                              "Relative difference": (n - srm.expected[v]) / srm.expected[v] if srm.expected[v] else None}
                             for v, n in srm.observed.items()])
        units = {"Planned share": "percent", "Expected users": "number", "Users": "number", "Actual share": "percent",
                 "Difference": "number", "Relative difference": "percent"}
        table = FormattedTable.figures(pd.DataFrame(rows), "Users per variant against an equal split (no plan "
                                       "recorded)" if assumed else "Users per variant against the plan", data, units)
        # The test result is a callout, not the lead: it is the check a reader looks for (passed or not), and a
        # heading + lead directly above a short table trips WeasyPrint into an early page break.
        if srm.mismatch and assumed:
            # An unequal split by design (a 96/4 hold-out) must not read as a broken assignment.
            check = Callout(self.srm_sentence() + " The warehouse records no planned split, so the check assumes an "
                            "equal one: if the experiment was meant to split the traffic otherwise, record its "
                            "allocation (experiment_variants) and the check will use it; if it was meant to be equal, "
                            "do not trust the comparisons below until the cause is found.", "critical",
                            title="Sample ratio mismatch, against an assumed equal split.")
        elif srm.mismatch:
            check = Callout(self.srm_sentence() + " Do not trust the comparisons below until the cause is found: a "
                            "mismatch usually means users were lost or double-counted in one variant, which biases "
                            "the results in unknown ways.", "critical", title="Sample ratio mismatch.")
        elif self.srm_borderline:
            check = Callout(self.srm_sentence(), "info", title="Sample ratio check passed, narrowly.")
        else:
            check = Callout(self.srm_sentence(), "good", title="Sample ratio check passed.")
        return Section("Assignment and sample ratio", [check, table])

    @property
    def srm_borderline(self) -> bool:
        """No mismatch at the SRM threshold, but a p-value the effect tests would call significant."""
        srm = self.analysis.srm
        return not srm.mismatch and srm.p_value < self.alpha

    def srm_sentence(self) -> str:
        """The SRM test in words, with the threshold it uses and why that is stricter than the effects' alpha."""
        srm = self.analysis.srm
        # Without a recorded plan the users are tested against an equal split, and the sentence says that.
        plan = "an equal split (no plan is recorded; " if srm.assumed else "the plan ("
        test = (f"chi-square test of the users per variant against {'an equal' if srm.assumed else 'the planned'} split: "
                f"χ² = {number(srm.statistic, 2)}, {p_sentence(srm.p_value)}")
        if srm.unplanned:
            who = " and ".join(f"{v} ({number(srm.observed[v])})" for v in srm.unplanned)
            return (f"The split does not match the plan: users were assigned to {who}, which the plan gives no share "
                    "of the traffic.")
        if srm.mismatch:
            return (f"The split does not match {plan}{test}, below the {significant(srm.alpha, 6)} threshold): a difference "
                    f"this large happens by chance less than {once_in(srm.alpha)} experiments.")
        why = (f"A mismatch is flagged only below p = {significant(srm.alpha, 6)}, not at the effects' {significant(self.alpha, 6)}: the check runs "
               f"on every experiment, and at {significant(self.alpha, 6)} it would raise a false alarm in one healthy experiment in "
               f"{round(1 / self.alpha)}, while a real assignment fault gives a p-value far below {significant(srm.alpha, 6)}.")
        if self.srm_borderline:
            return (f"The split is close to {plan}{test}): an imbalance this large happens by chance in about "
                    f"{chance(srm.p_value)} of experiments whose split is right. {why} If a rerun shows the same "
                    "imbalance, check the assignment.")
        return f"The split matches {plan}{test}): the differences are within chance. {why}"

    def conversion(self) -> Section | None:
        """Conversion per variant with intervals, lift against the control, and the test of each treatment."""
        a = self.analysis
        if a is None:
            return None
        cmp = a.conversion_comparisons
        chart = charts.conversion_panels(a.conversion, cmp, self.level, adjusted_label=self._adj_note(),
                                         places=self.conversion_places)
        title = "Conversion by variant" + (" (guardrail)" if self.metric != "conversion" else "")
        rows = [r for _, r in cmp.iterrows()]
        lead = " ".join(describe_comparison(r, self.level, several=self.several, places=self.conversion_places)
                        for r in rows)
        return Section(title, [chart, self.conversion_table()], lead=lead)

    def _adj_note(self) -> str:
        return f" after {self.adjustment} adjustment" if self.several else ""

    def _ci_caption(self) -> str:
        return f"{percent(self.level, 0)} confidence interval below each figure"

    def conversion_table(self) -> FormattedTable:
        a = self.analysis
        p_by = a.conversion_comparisons.set_index("variant")
        rows, places = [], self.conversion_places
        for r in a.conversion.itertuples():
            control = bool(r.is_control)
            rows.append({
                "Variant": mark_control(r.variant, control), "Users": number(r.users),
                "Conversions": number(r.conversions),
                "Rate": Estimate(pct(r.rate, places), f"{pct(r.rate_ci_low, places)}–{pct(r.rate_ci_high, places)}"),
                "Abs. lift": "—" if control else
                Estimate(pts(r.abs_lift, places), interval_text(r.abs_lift_ci_low, r.abs_lift_ci_high, "conversion",
                                                                places)),
                "Rel. lift": "—" if control else relative_estimate(r.rel_lift, r.rel_lift_ci_low, r.rel_lift_ci_high),
                self._p_label(): "—" if control else p_text(self._decision_p(p_by.loc[r.variant]), self.alpha),
            })
        p_label = self._p_label()
        data = pd.DataFrame({
            "Variant": [mark_control(v, bool(c)) for v, c in zip(a.conversion["variant"], a.conversion["is_control"])],
            "Users": a.conversion["users"], "Conversions": a.conversion["conversions"],
            **{f"{name}{bound}": a.conversion[f"{column}{suffix}"]
               for name, column in (("Rate", "rate"), ("Abs. lift", "abs_lift"), ("Rel. lift", "rel_lift"))
               for bound, suffix in (("", ""), (" CI low", "_ci_low"), (" CI high", "_ci_high"))},
            p_label: [math.nan if c else self._decision_p(p_by.loc[v]) for v, c in
                      zip(a.conversion["variant"], a.conversion["is_control"])]})
        # The p-value has no unit: a number format would round 0.043 to "0.0".
        units = {"Users": "number", "Conversions": "number",
                 **{c: "percent" for c in data.columns if c.startswith(("Rate", "Abs. lift", "Rel. lift"))}}
        return FormattedTable.figures(pd.DataFrame(rows), "Conversion by variant; lifts are treatment − control, "
                                                          f"{self._ci_caption()}", data, units)

    def multiple_comparisons(self) -> Section | None:
        """Raw against adjusted p-values, for experiments with several treatments (None otherwise)."""
        a = self.analysis
        if a is None or not self.several:
            return None
        k = len(self.treatments)
        uncorrected = 1 - (1 - self.alpha) ** k
        lead = (f"{k} treatments are each compared with {a.control}, so there are {k} chances of a false positive per "
                f"metric: with no correction, the chance of at least one would be up to {percent(uncorrected, 1)} instead of "
                f"{percent(self.alpha, 0)}. The {self.adjustment} method adjusts the p-values so that it stays at {percent(self.alpha, 0)}; "
                f"decisions use the adjusted p-values.")
        cuped_too = f"; the CUPED test of {self.measure.per_user} too" if a.cuped else ""
        scope = (f"Each metric is corrected on its own ({k} comparisons per metric{cuped_too}). The confidence intervals elsewhere in the report are per comparison: the correction changes "
                 "the p-values, not the intervals.")
        frames = [a.comparisons, a.revenue_comparisons if self.metric == "conversion" else a.conversion_comparisons]
        # "Primary" marks the tests the verdict reads: a revenue experiment's CUPED test where it ran, not its raw one.
        decided = set(zip(a.decided_on["variant"], a.decided_on["metric"], strict=True))
        primary = lambda v, metric: " (primary)" if (v, metric) in decided else ""  # noqa: E731
        rows = [{"Treatment": r.variant, "Metric": metric_label(r.metric) + primary(r.variant, r.metric),
                 "Difference": effect_text(r.diff, r.metric), "Raw p": p_text(r.p_value, self.alpha),
                 f"{self.adjustment}-adjusted p": p_text(r.p_adjusted, self.alpha),
                 f"Significant at {significant(self.alpha, 6)}": "yes" if r.significant else "no"}
                for f in frames for r in f.itertuples()]
        rows += [{"Treatment": v, "Metric": f"{self.measure.title}, CUPED" + primary(v, "revenue_cuped"),
                  "Difference": amount(c.adjusted.diff),
                  "Raw p": p_text(c.adjusted.p_value, self.alpha),
                  f"{self.adjustment}-adjusted p": p_text(c.p_adjusted, self.alpha),
                  f"Significant at {significant(self.alpha, 6)}": "yes" if c.p_adjusted < self.alpha else "no"}
                 for v, c in ((v, a.cuped[v]) for v in self.treatments if v in a.cuped)]
        frame = pd.DataFrame(rows)
        # The files hold the figures; a difference is in its metric's own unit (a rate's as a fraction).
        raw = [(r.variant, r.metric, r.diff, r.p_value, r.p_adjusted, bool(r.significant)) for f in frames
               for r in f.itertuples()]
        raw += [(v, "revenue_cuped", c.adjusted.diff, c.adjusted.p_value, c.p_adjusted, bool(c.p_adjusted < self.alpha))
                for v, c in ((v, a.cuped[v]) for v in self.treatments if v in a.cuped)]
        data = pd.DataFrame([(v, label, *rest) for (v, _, *rest), label in zip(raw, frame["Metric"], strict=True)],
                            columns=list(frame.columns))
        table = FormattedTable(frame, caption=f"p-values before and after the {self.adjustment} correction",
                               units=dict.fromkeys(frame.columns[2:5], "text"), data=data)
        return Section("Multiple comparisons", [scope, table], lead=lead)

    def glossary(self) -> FlowingGlossary:
        keys = [k for k in GLOSSARY_KEYS if self.data.has_covariate or k not in ("cuped", "variance_reduction")]
        if self.analysis is not None and not self.analysis.has_revenue:
            keys = [k for k in keys if k not in ("revenue_per_user", "welch_test", "cohens_d")]
        keys = keys + (["multiple_comparisons"] if self.several else []) + (["aa_test"] if self.data.is_aa else [])
        appendix = glossary(keys)
        entries = appendix.entries
        if self.measure != experiment_measure.REVENUE:  # the definitions are written of revenue in money
            per_user = glossary(["revenue_per_user"]).entries[0]
            own = (self.measure.title, f"{self.measure.name[:1].upper() + self.measure.name[1:]} during the experiment ÷ "
                                       "users assigned to the variant; users without any count as 0.")
            entries = [own if entry == per_user and not self.measure.is_money else
                       (self.measure.reword(entry[0]), self.measure.reword(entry[1])) for entry in entries]
        return FlowingGlossary(entries, title=appendix.title)


def build(experiment: str = "latest", level: float = 0.95, correction: str = "holm", brand: str = "quire",
          url: str | None = None) -> ExperimentReport:
    """Load ``experiment`` and prepare its report; charts use ``brand``'s palette.

    Raises :class:`~quire.errors.ParameterError` for an unknown experiment key (listing the known ones),
    a level outside 0.5..1 or an unknown correction.
    """
    from quire.brand import load_brand

    check_parameters(level, correction)  # before touching the warehouse
    kit = load_brand(brand)
    use_brand(kit)
    formatting.use(kit.conventions)  # figures and dates in the brand's locale and currency
    return ExperimentReport(load(experiment, url), level, correction)
