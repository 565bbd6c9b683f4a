"""The cohort report: acquisition cohorts by signup week or month, followed age by age.

:func:`~quire.reports.cohort_data.load` is the only I/O: the users of the reported cohorts
and their events up to the report's as-of date. Everything after it is computed by the pure
functions of :mod:`quire.metrics.cohorts`; the notes the sections show about the data itself (thin
or swollen cohorts, missing periods, what the figures leave out) are worded by
:mod:`quire.reports.cohort_notes`. The notebook calls :func:`build` once and then displays one
section per cell.

Which cohorts: the ``cohorts`` most recent *complete* signup periods at the end of
``period`` (the as-of date). A period still in progress is never a cohort, so sizes
are final. With ``behaviour="activated"`` every matrix counts only the users who
activated within ``activation_days`` of signup.

Degenerate data never raises from a section: when no user is left to report on, the
headline is a :class:`Callout` saying why and the other sections return ``None``
(nothing is displayed). Bad parameters raise :class:`ParameterError` before any I/O.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

from quire import formatting
from quire.charts import cohort as charts
from quire.chart_style import use_brand
from quire.display import Callout, Glossary, KpiCards, ReportHeader, Section, Table
from quire.errors import EmptyDataError
from quire.formatting import format_day, long_date, month_year, number, percent, significant
from quire.formatting.units import column_decimals
from quire.glossary import glossary
from quire.metrics.cohorts import (
    RetentionMatrix,
    RevenueRetention,
    behavioural_filter as filter_users,
    compare_recent,
    ltv_curves,
    observed_until,
    retention_matrix,
    revenue_retention_matrix,
    revenue_to_date,
    thin_revenue_bases,
    tiny_cohorts,
)
from quire.metrics.kpi import Kpi, format_value
from quire.reports import cohort_notes
from quire.reports.cohort_calendar import (
    cohort_count,
    empty_cohorts_advice,
    few_cohorts_advice,
)
from quire.reports.cohort_comparison import ALPHA, a_change, about_the_same, pts
from quire.reports.cohort_data import ACTIVATION_EVENT, REVENUE_EVENT, CohortData, check_parameters, load
from quire.reports.prose import join_words

RECENT = 3                # newest cohorts compared with the earlier ones
KPI_AGES = (1, 3)         # ages of the headline retention KPIs
LTV_AGE = 3               # age of the headline LTV and revenue retention
TABLE_AGES = (1, 3, 6)    # ages of the summary and comparison tables
SMALL_COHORT = 100        # below this many users a cohort's rates move by several points per user
GLOSSARY_KEYS = ["cohort", "cohort_size", "cohort_age", "user_retention", "revenue_retention", "ltv_curve",
                 "cohort_comparison"]


def pooled_rate(matrix: RetentionMatrix, age: int) -> float:
    """Active users ÷ users over the cohorts observed at ``age`` (each user counts once; NaN if none)."""
    counts = matrix.counts[age]
    seen = counts.notna()
    users = matrix.sizes[seen].sum()
    return float(counts[seen].sum() / users) if users else float("nan")


def _age_for(frame: pd.DataFrame, target: int, lowest: int = 0) -> int | None:
    """``target``, or the largest smaller age (≥ ``lowest``) at which some cohort has a value (None if there is none)."""
    ages = [a for a in frame.columns if lowest <= a <= target and frame[a].notna().any()]
    return max(ages) if ages else None


class CohortReport:
    """The computed report; each public method returns one displayable section (or ``None`` to show nothing)."""

    def __init__(self, data: CohortData, horizon: int = 12, behaviour: str = "all", activation_days: int = 7) -> None:
        check_parameters(data.granularity, data.requested, horizon, behaviour, activation_days)
        self.data = data
        self.period = data.period
        self.granularity = data.granularity
        self.horizon = horizon
        self.behaviour = behaviour
        self.activation_days = activation_days
        self.unit = charts.age_unit(data.granularity)  # "Month" | "Week"

    # -- computed once ------------------------------------------------------------------
    @property
    def filtered(self) -> bool:
        return self.behaviour == "activated"

    @property
    def window_label(self) -> str:
        return self._span(self.data.first_cohort, self.data.last_cohort)

    @property
    def partial_note(self) -> str:
        """Why the signups of the data's first, incomplete cohort count nowhere ('' when there are none to tell)."""
        return cohort_notes.partial_note(self.data)

    def _span(self, first: date, last: date) -> str:
        """Cohorts from ``first`` to ``last`` as the cover names them: "November 2024 – October 2025"."""
        if self.granularity == "month":
            names = [month_year(first), month_year(last)]
        else:
            names = [f"week of {format_day(d, 'day_short')}" for d in (first, last)]
        return names[0] if first == last else " – ".join(names)

    @property
    def activation_window(self) -> str:
        """"7 days", "1 day": how long after signup a user may activate and still count."""
        return f"{self.activation_days} day{'' if self.activation_days == 1 else 's'}"

    @property
    def who(self) -> str:
        return (f"users who activated within {self.activation_window} of signup" if self.filtered else "all users")

    @cached_property
    def users(self) -> pd.DataFrame:
        """The users the matrices count: all of the cohorts' users, or those passing the behavioural filter."""
        if self.data.users.empty:
            d, g = self.data, self.granularity
            whole = max(d.whole_start, d.first_cohort)
            if whole > d.last_cohort:
                said = (f"No complete {g}ly cohort of the data ends by {long_date(d.as_of)}, so there are no cohorts "
                        "to report on.")
            else:
                n = cohort_count(whole, d.last_cohort, g)
                said = (f"No user signed up in the {n} {g}ly cohort{'s' if n != 1 else ''} "
                        f"{self._span(whole, d.last_cohort)} (as of {long_date(d.as_of)}), so there are no cohorts to "
                        "report on.")
            raise EmptyDataError(" ".join(filter(None, [said, self.partial_note, empty_cohorts_advice(d)])))
        if not self.filtered:
            return self.data.users
        try:
            return filter_users(self.data.users, self.data.events, ACTIVATION_EVENT, self.activation_days)
        except EmptyDataError as exc:
            n = len(self.data.users)
            users = "The one user of these cohorts" if n == 1 else f"None of the {number(n)} users of these cohorts"
            if not (self.data.events["event_type"] == ACTIVATION_EVENT).any():
                # Not "too slow to activate": the data has no activation at all (an order log, say).
                whose = "The one user of these cohorts has" if n == 1 else f"These cohorts' {number(n)} users have"
                raise EmptyDataError(
                    f"{whose} no {ACTIVATION_EVENT} event at all, so "
                    "the filtered report is empty: the data records no activation. Set behaviour=all, or map the "
                    f"event that means activation in your data onto {ACTIVATION_EVENT}.") from exc
            if not self._activated_later:
                # More days would not help: nobody activated at all by the as-of date.
                raise EmptyDataError(
                    f"{users} {'did not activate' if n == 1 else 'activated'} by {long_date(self.data.as_of)}, the end "
                    "of the period, so the filtered report is empty. A later period gives them more time; "
                    "behaviour=all shows every user.") from exc
            raise EmptyDataError(
                f"{users} {'did not activate' if n == 1 else 'activated'} within {self.activation_window} of signup, "
                "so the filtered report is empty. Allow more activation_days, or set behaviour=all "
                "to see every user.") from exc

    @property
    def _activated_later(self) -> bool:
        """Whether any user of the cohorts activated after signup by the as-of date, later than the filter allows."""
        e = self.data.events
        acts = e.loc[e["event_type"] == ACTIVATION_EVENT, ["user_id", "occurred_at"]].merge(self.data.users, on="user_id")
        return bool((acts["occurred_at"] >= acts["signed_up_at"]).any())

    def _args(self) -> dict:
        return {"granularity": self.granularity, "as_of": self.data.as_of, "horizon": self.horizon,
                "since": self.data.first_cohort, "missing": self.data.missing}

    @cached_property
    def active(self) -> RetentionMatrix:
        return retention_matrix(self.users, self.data.events, **self._args())

    @cached_property
    def active_all(self) -> RetentionMatrix:
        """User retention of every user of the cohorts, filter or not (the filter section compares with it)."""
        return self.active if not self.filtered else retention_matrix(self.data.users, self.data.events, **self._args())

    @cached_property
    def revenue_matrix(self) -> RevenueRetention:
        return revenue_retention_matrix(self.users, self.data.events, revenue_event=REVENUE_EVENT, **self._args())

    @cached_property
    def ltv_frame(self) -> pd.DataFrame:
        """Cumulative revenue per user, cohort × age."""
        return ltv_curves(self.users, self.data.events, revenue_event=REVENUE_EVENT, **self._args())

    @cached_property
    def revenue_to_date(self) -> pd.Series:
        """Each cohort's purchase revenue up to the as-of date, ages beyond the horizon included."""
        args = {k: v for k, v in self._args().items() if k != "horizon"}
        return revenue_to_date(self.users, self.data.events, revenue_event=REVENUE_EVENT, **args)

    @cached_property
    def problem(self) -> str | None:
        """Why there is nothing to report (no users, or none left by the filter), else None."""
        try:
            self.active  # noqa: B018 - computing it is the check
        except EmptyDataError as exc:
            return exc.message + (f" ({exc.hint})" if exc.hint else "")
        return None

    @cached_property
    def max_age(self) -> int:
        """The oldest age any reported cohort has reached (later ages are blank everywhere and not drawn)."""
        observed = self.active.counts.notna().any(axis=0)
        return int(observed[observed].index.max())

    def _shown(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[:, : self.max_age]

    @property
    def peopled(self) -> pd.DatetimeIndex:
        """The reported cohorts that hold a user (a month nobody signed up in is a row of 0 users)."""
        sizes = self.active.sizes
        return sizes.index[sizes > 0]

    @cached_property
    def first_cohort_note(self) -> str | None:
        """A warning when the data's first cohorts are far larger than the others (see
        :func:`~quire.reports.cohort_notes.first_cohort_note`)."""
        return cohort_notes.first_cohort_note(self.active_all.sizes, self.data)

    @property
    def gap_note(self) -> str:
        """Why the cells of missing periods show "—" and count nowhere ('' when no period is missing)."""
        return cohort_notes.gap_note(self.data)

    @staticmethod
    def _newest(n: float) -> str:
        return "newest cohort, which has" if n == 1 else f"{int(n)} newest cohorts that have"

    @staticmethod
    def _earlier(n: float) -> str:
        return "earlier cohort" if n == 1 else f"{int(n)} earlier cohorts"

    def _age(self, age: int) -> str:
        return f"{self.unit.lower()} {age}"

    @cached_property
    def tiny(self) -> pd.Index:
        """The cohorts too small to count in an average (see :func:`~quire.metrics.cohorts.tiny_cohorts`)."""
        return tiny_cohorts(self.active.sizes)

    @cached_property
    def thin_bases(self) -> pd.Index:
        """The cohorts whose revenue base is too thin for revenue retention's averages (see
        :func:`~quire.metrics.cohorts.thin_revenue_bases`), other than the :attr:`tiny` ones, left out anyway."""
        return thin_revenue_bases(self.revenue_matrix).difference(self.tiny)

    def averaged(self, frame: pd.DataFrame, *, revenue: bool = False) -> pd.DataFrame:
        """``frame`` (cohort × age) without the :attr:`tiny` cohorts: the cohorts every average counts; for revenue
        retention (``revenue``) also without the cohorts on a :attr:`thin base <thin_bases>`, and each cohort only
        after the age of its base: the 0 % before a later base is the definition's, and a cohort that has bought
        nothing yet counts at no age, so counting those zeros would make an age's average depend on later months;
        the base's own age is 100 % by construction (a month-1 base pulled month 1's average of the others up)."""
        if not revenue:
            return frame.drop(index=self.tiny)
        kept = frame.drop(index=self.tiny.union(self.thin_bases))
        base_age = self.revenue_matrix.base_age.reindex(kept.index)
        return kept.where(np.asarray(kept.columns)[None, :] > base_age.to_numpy()[:, None])

    def thin_base_note(self) -> str:
        """Which cohorts count in no average of revenue retention for their thin base, and why ('' when none)."""
        return cohort_notes.thin_base_note(self.revenue_matrix, self.thin_bases, self.granularity)

    def tiny_note(self) -> str:
        """Which cohorts count in no average, and why ('' when every cohort does)."""
        return cohort_notes.tiny_note(self.active.sizes, self.tiny, self.granularity)

    def comparison_frame(self, matrix, ages) -> pd.DataFrame:
        """compare_recent at the ``ages`` that exist in the matrix, newest ``RECENT`` cohorts against the rest."""
        ages = [a for a in ages if a <= self.horizon]
        return compare_recent(self.averaged(matrix.rates, revenue=isinstance(matrix, RevenueRetention)),
                              recent=RECENT, at_ages=ages)

    # -- sections -------------------------------------------------------------------------
    def header(self) -> ReportHeader:
        d = self.data
        cohorts = f"{d.requested} {self.granularity}ly signup cohorts ({self.window_label})"
        reported = d.requested
        start = d.whole_start
        if start > d.last_cohort:
            reported = 0
            cohorts = f"no complete {self.granularity}ly signup cohort ({d.requested} were asked for; the data begins later)"
        elif start > d.first_cohort:
            # The data begins inside the window: the cover names the cohorts it can have, not the empty months
            # before it ("12 cohorts (July 2023 – June 2024), of which 1 has users" in a dataset's first month).
            reported = cohort_count(start, d.last_cohort, self.granularity)
            plural = "s" if reported != 1 else ""
            begins = "then" if reported == 1 else "with the first"
            cohorts = (f"{reported} {self.granularity}ly signup cohort{plural} ({self._span(start, d.last_cohort)}: the "
                       f"data begins {begins}; {d.requested} were asked for)")
        if not self.problem and len(self.peopled) < reported:
            # E.g. the first months of the data: the cover must not promise cohorts that hold nobody.
            shown = [pd.Timestamp(c).date() for c in self.peopled]
            who = "activated users" if self.filtered else "users"
            cohorts += (f", of which {len(shown)} {'has' if len(shown) == 1 else 'have'} {who} "
                        f"({self._span(shown[0], shown[-1])})")
        subtitle = (f"{cohorts}, followed for up to {self.horizon} {self.unit.lower()}{'' if self.horizon == 1 else 's'} as of "
                    f"{long_date(d.as_of)} — {self.who}")
        return ReportHeader("Cohort report", self.period.label, subtitle=subtitle,
                            extra={"period_key": self.period.key, "granularity": self.granularity,
                                   "behaviour": self.behaviour, "as_of": d.as_of.isoformat()})

    def kpis(self) -> list[Kpi]:
        """The headline figures: cohort users, then the newest cohorts against the earlier ones."""
        return list(self._kpis)

    @cached_property
    def _kpis(self) -> tuple[Kpi, ...]:
        # Worked out once: the headline shows them and the tables take their ages as columns (_headline_ages).
        who = "Activated users" if self.filtered else "Users"
        shown = len(self.peopled)  # as the cover counts them: a cohort of 0 users holds none of these users
        found = [Kpi("users", f"{who} in {shown} cohort{'s' if shown != 1 else ''}", float(self.active.sizes.sum()),
                     "number")]
        # Age 0 is left out of the rates: user retention is ~100% there by construction, revenue retention exactly.
        wanted = [("user_retention", "user retention", "percent", self.active.rates, age, 1) for age in KPI_AGES]
        wanted += [("revenue_retention", "revenue retention", "percent", self.revenue_matrix.rates, LTV_AGE, 1),
                   ("ltv", "LTV", "currency", self.ltv_frame, LTV_AGE, 0)]
        seen = set()
        for key, name, unit, frame, target, lowest in wanted:
            kept = self.averaged(frame, revenue=key == "revenue_retention")
            age = _age_for(kept, target, lowest)
            if age is None or (key, age) in seen:
                continue
            seen.add((key, age))
            row = compare_recent(kept, recent=RECENT, at_ages=[age]).loc[age]
            label = f"LTV by {self._age(age)}" if key == "ltv" else f"{self.unit} {age} {name}"
            label += f", newest\u00a0{int(row['n_recent'])}"  # the count never on a line of its own
            found.append(Kpi(f"{key}_age{age}", label, row["recent"], unit, row["earlier"],
                             within_noise=not a_change(row, rate=unit == "percent")))
        return tuple(found)

    def _headline_ages(self, key: str) -> set[int]:
        """The ages of the headline's ``key`` cards: a short horizon's "Month 2 user retention" is a column of the
        tables too, which otherwise show months 1, 3 and 6 only."""
        return {int(k.key.rsplit("_age", 1)[1]) for k in self.kpis() if k.key.startswith(f"{key}_age")}

    def headline(self) -> KpiCards | Callout:
        if self.problem:
            return Callout(self.problem, "warning", title="Nothing to report.")
        revenue_card = any(k.key.startswith("revenue_retention") for k in self.kpis())
        total = int(self.active.sizes.sum())
        # One cohort of a handful of users has no comparison section to warn in: its cards read "100.0%" of one user.
        few = (f"Only {number(total)} user{'' if total == 1 else 's'} in these cohorts: each moves a rate by many points, "
               "so read the figures as indicative." if total < SMALL_COHORT else "")
        grey = ("A change in grey is too small, or too near the spread between cohorts, to call better or worse."
                if any(k.within_noise and not k.flat for k in self.kpis()) else "")
        gap = (f"No event is recorded in {cohort_notes.missing_names(self.data)} (most likely missing data): these "
               f"figures leave {'it' if len(self.data.missing) == 1 else 'them'} out." if self.data.missing else "")
        note = " ".join(filter(None, [gap, few, self.tiny_note(), self.thin_base_note() if revenue_card else "", grey]))
        return KpiCards(self.kpis(), comparison_label="earlier cohorts", note=note)

    @property
    def _dash(self) -> str:
        """What "—" stands for in the tables of one row per cohort."""
        unknown = (f", or unknown (no event recorded in {cohort_notes.missing_names(self.data)})"
                   if self.data.missing else "")
        return "— = not yet observed" + (", or no users" if (self.active.sizes == 0).any() else "") + unknown

    def summary_table(self) -> Table:
        """Cohort sizes and user retention at a few ages, one row per cohort."""
        # Not an age no cohort has reached yet: a column blank in every row (the lead says they are not yet observed).
        ages = sorted(a for a in {a for a in TABLE_AGES if a <= self.horizon} | self._headline_ages("user_retention")
                      if a <= self.max_age)
        frame = pd.DataFrame({"Cohort": charts.cohort_labels(self.active.sizes.index, self.granularity),
                              "Users": self.active.sizes.to_numpy()})
        for a in ages:
            frame[f"{self.unit} {a}"] = self.active.rates[a].to_numpy()
        units = {"Users": "number", **{f"{self.unit} {a}": "percent" for a in ages}}
        return Table(frame, caption=f"Cohort sizes and user retention ({self._dash})", units=units)

    def retention(self) -> Section | None:
        if self.problem:
            return None
        m = self.active
        chart = charts.retention_heatmap(self._shown(m.rates), m.sizes, self.granularity, metric="User retention",
                                         meaning=f"share of the cohort's users active in that {self.unit.lower()}",
                                         unknown=self._shown(m.missing))
        means = [(a, self.averaged(m.rates)[a].mean()) for a in KPI_AGES if a <= self.max_age]
        lead = f"Share of each cohort's users who were active in each {self.unit.lower()} after signup."
        if means:
            lead += (" On average a cohort keeps " + " and ".join(
                f"{percent(v, 0)}{' of its users active' if i == 0 else ''} in {self._age(a)}" for i, (a, v) in enumerate(means)) + ".")
        lead += cohort_notes.unobserved_note(self.max_age, self.horizon, self.unit)
        if len(self.peopled) < self.data.requested:
            names = charts.cohort_labels(self.peopled, self.granularity)
            who = "activated users" if self.filtered else "users"
            lead += (f" Only {len(names)} of the {self.data.requested} requested cohorts "
                     + (f"has {who}: {names[0]}." if len(names) == 1 else f"have {who}, from {names[0]} to {names[-1]}."))
            # Those before the first and after the last are not rows; those between are, of 0 users.
            between = charts.cohort_labels(m.sizes.index[m.sizes == 0], self.granularity)
            if between:
                lead += (f" {join_words(list(between))} between them {'has' if len(between) == 1 else 'have'} none: "
                         f"{'an empty row' if len(between) == 1 else 'empty rows'}.")
        note = [Callout(self.gap_note, "warning", title="Missing data.")] if self.gap_note else []
        if self.first_cohort_note:
            note.append(Callout(self.first_cohort_note, "warning", title="First cohort."))
        if self.partial_note:
            note.append(Callout(self.partial_note, "info", title="Left out:"))
        return Section("User retention", [*note, chart, self.summary_table()], lead=lead)

    def revenue(self) -> Section | None:
        if self.problem:
            return None
        r = self.revenue_matrix
        chart = charts.retention_heatmap(self._shown(r.rates), r.sizes, self.granularity, metric="Revenue retention",
                                         meaning=f"revenue in that {self.unit.lower()} as a share of the cohort's "
                                                 "base revenue", unknown=self._shown(r.missing))
        lead = (f"Each cohort's purchase revenue in each {self.unit.lower()} as a share of its revenue in its signup "
                f"{self.unit.lower()}; above {percent(1, 0)} the cohort spends more than when it joined.")
        later = r.base_age > 0
        # Refunds netted against purchases (see the "Netted:" note) can leave a signup period below nothing.
        ages = np.arange(r.revenue.shape[1])
        refunded = int((later & ((r.revenue.to_numpy() < 0) & (ages < r.base_age.to_numpy()[:, None])).any(axis=1)).sum())
        unit = self.unit.lower()
        n = int(later.sum())
        if n:
            lead += (f" {n} cohort{'s' if n > 1 else ''} bought nothing in the signup {unit}"
                     + (f" ({refunded} refunded more than {'they' if refunded > 1 else 'it'} bought)" if refunded else "")
                     + f"; {'their' if n > 1 else 'its'} base is the first {unit} with revenue, and the {unit}s before it "
                     + (f"show {percent(0, 0)}, or below where refunds exceed purchases." if refunded else
                        f"show {percent(0, 0)}."))
        empty = int((r.sizes == 0).sum())
        # A cohort that signed up in a missing period has an unknown base, not none: said apart.
        unknown = r.base.isna() & (r.sizes > 0) & r.missing.to_numpy()[:, 0]
        without = r.base.isna() & (r.sizes > 0) & ~unknown
        # A cohort whose first purchases came after the ages the report follows has revenue, just not here.
        past = int((without & (self.revenue_to_date.reindex(r.base.index, fill_value=0) > 0)).sum())
        none = int(without.sum()) - past
        if none:
            lead += f" {none} cohort{'s have' if none > 1 else ' has'} no revenue yet: blank row{'s' if none > 1 else ''}."
        if past:
            lead += (f" {past} cohort{'s' if past > 1 else ''} bought nothing up to {self._age(self.horizon)}, the last "
                     f"age this report follows, only later (see the revenue to date under the LTV curves): blank "
                     f"row{'s' if past > 1 else ''}.")
        if unknown.any():
            lead += (f" {join_words(charts.cohort_labels(r.base.index[unknown], self.granularity))} signed up in a "
                     f"{unit} with no event recorded: base unknown, blank row{'s' if unknown.sum() > 1 else ''}.")
        if empty:
            lead += (f" {empty} cohort{'s have' if empty > 1 else ' has'} no {'activated ' if self.filtered else ''}"
                     f"users: blank row{'s' if empty > 1 else ''}.")
        thin = self.thin_base_note()
        return Section("Revenue retention", [chart, *([Callout(thin, "info")] if thin else [])], lead=lead)

    def ltv(self) -> Section | None:
        if self.problem:
            return None
        kept = self.averaged(self.ltv_frame)
        age = _age_for(kept, LTV_AGE)
        # The chart draws the two sides of the comparison, so the cohorts left out of it are not drawn.
        chart = charts.ltv_curves(self._shown(kept), self.granularity, highlight=RECENT, at_age=age)
        ages = sorted({a for a in (0, *TABLE_AGES) if a <= self.max_age} | self._headline_ages("ltv"))
        frame = pd.DataFrame({"Cohort": charts.cohort_labels(self.ltv_frame.index, self.granularity),
                              "Users": self.active.sizes.to_numpy(),
                              # A cohort without users has no revenue to date, not $0 of it.
                              "Revenue to date": self.revenue_to_date.where(self.active.sizes.to_numpy() > 0).to_numpy()})
        for a in ages:
            frame[f"LTV by {self._age(a)}"] = self.ltv_frame[a].to_numpy()
        caption = f"Revenue and cumulative revenue per user by cohort ({self._dash})"
        until = observed_until(self.data.as_of, self.granularity)
        if until < self.data.as_of:  # weeks: the week still running on the as-of date is not counted
            caption += (f"; revenue to date counts up to {long_date(until)}, the end of the last complete "
                        f"{self.granularity}")
        ltv_columns = [f"LTV by {self._age(a)}" for a in ages]
        table = Table(frame, caption=caption, units={"Users": "number", "Revenue to date": "currency",
                                                     **dict.fromkeys(ltv_columns, "currency")},
                      shared_decimals=ltv_columns)
        lead = "Cumulative purchase revenue per user, counting every user of the cohort, buyer or not."
        if age is not None:
            row = compare_recent(kept, recent=RECENT, at_ages=[age]).loc[age]
            if row["n_earlier"]:
                # The mean of the cohorts' LTVs, each cohort counting once (as in the comparison table), not
                # the mean over their users: said so, since a reader would take "a user's average" for the latter.
                # Both with cents when one needs them: not "$10 per user … against $12.60".
                places = column_decimals([row["recent"], row["earlier"]], "currency")
                recent, earlier = (format_value(row[k], "currency", decimals=places) for k in ("recent", "earlier"))
                lead += (f" By {self._age(age)}, the {self._newest(row['n_recent'])} reached it "
                         f"brought {recent} per user (each cohort counting once), against "
                         f"{earlier} for the {self._earlier(row['n_earlier'])}.")
        left_out = cohort_notes.early_purchases_note(*self.early_purchases)
        netted = cohort_notes.refunds_note(self.data.events, self.users)
        return Section("Lifetime value (LTV) curves", [chart, table, *left_out, *netted], lead=lead)

    @property
    def early_purchases(self) -> tuple[int, float]:
        """Purchases the reported users (those the filter keeps) made before their signup: (count, revenue)."""
        early = self.data.early_purchases
        if early is None or early.empty:
            return 0, 0.0
        mine = early[early["user_id"].isin(self.users["user_id"])]
        return int(mine["purchases"].sum()), float(mine["revenue"].sum())

    def comparison(self) -> Section | None:
        if self.problem:
            return None
        rows = []
        for metric, key, matrix in (("User retention", "user_retention", self.active),
                                    ("Revenue retention", "revenue_retention", self.revenue_matrix)):
            # The headline's ages too: a short horizon's cards read month 2, which months 1, 3 and 6 skip.
            cmp = self.comparison_frame(matrix, sorted(set(TABLE_AGES) | self._headline_ages(key)))
            cmp = cmp[(cmp["n_recent"] > 0) & (cmp["n_earlier"] > 0)]
            rows += [{"Metric": metric, "Age": f"{self.unit} {age}", f"{RECENT} newest cohorts": r["recent"],
                      "Earlier cohorts": r["earlier"], "Difference": r["difference_pts"] / 100,
                      "Cohorts compared": f"{int(r['n_recent'])} vs {int(r['n_earlier'])}"}
                     for age, r in cmp.iterrows()]
        if not rows:
            return Section("Recent versus earlier cohorts", [Callout(
                f"Too few cohorts to compare: every age has at most {RECENT} observed cohorts"
                + (" that are not too small to count" if len(self.tiny) else "") + ". "
                + few_cohorts_advice(self.data), "info")])
        table = Table(pd.DataFrame(rows), caption=f"Average of the {RECENT} newest cohorts observed at each age against "
                                                  "the earlier ones (each cohort counts once; differences are "
                                                  "taken before rounding)",
                      # The difference as a figure (a fraction, as the rates are), so that the data files keep it as one.
                      units={f"{RECENT} newest cohorts": "percent", "Earlier cohorts": "percent", "Difference": "pct_points"})
        children = [table, Callout(self.reading(), "info", title="Reading.")]
        if len(self.tiny):
            children.append(Callout(self.tiny_note(), "info"))
        if len(self.thin_bases) and any(row["Metric"] == "Revenue retention" for row in rows):
            children.append(Callout(self.thin_base_note(), "info"))
        counted = self.active.sizes.drop(index=self.tiny)  # a tiny cohort counts in no comparison: not this warning's
        if ((counted > 0) & (counted < SMALL_COHORT)).any():
            children.append(Callout(f"Some cohorts have fewer than {SMALL_COHORT} users, so a difference of a few "
                                    "points can be chance.", "warning"))
        return Section("Recent versus earlier cohorts", children,
                       lead=f"Are newer cohorts doing better? The {RECENT} newest cohorts that have reached an age "
                            "against all earlier cohorts at the same age.")

    def reading(self) -> str:
        """One plain-language sentence: the newest cohorts' user retention against earlier ones, age by age."""
        cmp = self.comparison_frame(self.active, sorted({a for a in KPI_AGES if a <= self.horizon}
                                                        | self._headline_ages("user_retention")))
        cmp = cmp[(cmp["n_recent"] > 0) & (cmp["n_earlier"] > 0)]
        parts = []
        for age, r in cmp.iterrows():  # one or two ages
            diff = r["difference_pts"]
            same = about_the_same(r)
            # A difference the cohorts' spread from one to the next explains is no change to act on: the cards
            # leave it grey as "too near the spread to call better or worse", so the words only say which way it went.
            p_value = r["p_value"]
            how = ("about as well" if same else ("better" if diff > 0 else "worse") if a_change(r, rate=True)
                   else f"{'more' if diff > 0 else 'fewer'} of their users")
            chance = ("" if same or p_value < ALPHA else "; too few cohorts to tell it from chance" if pd.isna(p_value)
                      else f"; within the spread between cohorts, p = {significant(p_value, 2)}")
            parts.append(f"{how} in {self._age(age)} ({format_value(r['recent'], 'percent')} of users active against "
                         f"{format_value(r['earlier'], 'percent')}, {pts(diff)}{chance})")
        return f"Compared with earlier cohorts, the {RECENT} newest cohorts to reach each age retain " + " and ".join(parts) + "."

    def behavioural_filter(self) -> Section | None:
        if not self.filtered or self.problem:
            return None
        kept, every = self.active, self.active_all
        n_kept, n_all = int(kept.sizes.sum()), int(every.sizes.sum())
        ages = [a for a in KPI_AGES if a <= self.max_age]
        label = f"Activated within {self.activation_window}"
        frame = pd.DataFrame([
            {"Group": label, "Users": n_kept, "Share of users": n_kept / n_all,
             **{f"{self.unit} {a} retention": pooled_rate(kept, a) for a in ages}},
            {"Group": "All users", "Users": n_all, "Share of users": 1.0,
             **{f"{self.unit} {a} retention": pooled_rate(every, a) for a in ages}},
        ])
        table = Table(frame, caption="Filtered users against all users of the same cohorts (retention pooled over "
                                     "the cohorts observed at that age)",
                      units={"Users": "number", "Share of users": "percent",
                             **{f"{self.unit} {a} retention": "percent" for a in ages}})
        lead = (f"{number(n_kept)} of the {number(n_all)} users of these cohorts ({percent(n_kept / n_all, 0)}) activated within "
                f"{self.activation_window} of signup; every other section of this report counts only them.")
        if ages:
            column = f"{self.unit} {ages[0]} retention"
            lead += (f" In {self._age(ages[0])}, {percent(frame[column].iloc[0], 0)} of them were active, against "
                     f"{percent(frame[column].iloc[1], 0)} of all users.")
        children = [table]
        newest = self.data.users["signed_up_at"].max()  # the last signup, not the newest cohort's last day
        if newest.date() + timedelta(days=self.activation_days) > self.data.as_of:
            children.append(Callout(f"Users who signed up in the last {self.activation_window} before "
                                    f"{long_date(self.data.as_of)} have had less time to activate, so the newest "
                                    "cohort's filtered size may still grow.", "info"))
        return Section("Behavioural filter: activated users", children, lead=lead)

    def glossary(self) -> Glossary:
        return glossary(GLOSSARY_KEYS + (["behavioural_filter"] if self.filtered else []))


def build(period: str = "latest", granularity: str = "month", cohorts: int = 12, horizon: int = 12,
          behaviour: str = "all", activation_days: int = 7, brand: str = "quire", url: str | None = None) -> CohortReport:
    """Load the cohorts for ``period`` and prepare the report; charts use ``brand``'s palette."""
    from quire.brand import load_brand

    check_parameters(granularity, cohorts, horizon, behaviour, activation_days)
    kit = load_brand(brand)
    use_brand(kit)
    formatting.use(kit.conventions)  # figures and dates in the brand's locale and currency
    return CohortReport(load(period, granularity, cohorts, url), horizon, behaviour, activation_days)
