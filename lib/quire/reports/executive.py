"""The executive report: company KPIs for one period, each against the previous period when the data has it.

:func:`~quire.reports.executive_data.load` is the only I/O (one read-only warehouse connection);
everything after it is computed by the pure functions of :mod:`quire.metrics`, the KPIs of a period
by :func:`~quire.reports.executive_data.period_figures`. This module presents them: the notebook
calls :func:`build` once and then displays one section per cell.

A rate computed from a handful of answers, projects or churned accounts moves by many
points with one more or one fewer: such a KPI is shown as "—" with a note saying why
(:data:`~quire.reports.executive_data.MIN_BASIS`), and raises no alert.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

import pandas as pd

from quire import formatting, metrics
from quire.charts import executive as charts
from quire.chart_style import use_brand
from quire.errors import EmptyDataError
from quire.display import Alerts, Callout, Grid, KpiCards, ReportHeader, Section, Table
from quire.formatting.units import BY_ROW
from quire.glossary import glossary
from quire.metrics.alerts import MIN_HISTORY
from quire.metrics.forecast import MIN_BACKTEST_ERRORS
from quire.metrics.forecast import MIN_POINTS as FORECAST_MIN_MONTHS
from quire.metrics.kpi import Kpi
from quire.periods import Period, add_months, parse_period
from quire.reports.executive_data import (
    CHURN_MONTHS,
    HISTORY_PERIODS,
    MIN_BASIS,
    ExecutiveData,
    churn_estimate,
    clv_margin,
    load,
    period_figures,
    period_kpis,
)
from quire.reports.prose import join_words
from quire.contract import absent_note, missing_phrase

HEALTH_TABLES = ("product_usage", "support_tickets", "survey_responses")
# KPIs (and glossary entries) that need an optional table of the contract: without it they are left out.
NEEDS = {"on_time_rate": "projects", "project_margin": "projects", "hours_overrun": "projects", "clv": "projects",
         "nps": "survey_responses", "csat": "survey_responses"}

AT_RISK_ROWS = 10
FORECAST_LEVEL = 0.9  # the forecast's interval: 90 %

GLOSSARY_KEYS = ["mrr", "arr", "mrr_growth", "mrr_bridge", "nrr", "grr", "logo_churn", "revenue_churn", "arpa",
                 "clv", "customers", "on_time_rate", "hours_overrun", "project_margin", "nps", "csat",
                 "health_score", "at_risk", "forecast", "alerts", "previous_period"]

# key: (label, unit, direction)
KPI_DEFS = {
    "mrr": ("MRR", "currency", "up_is_good"),
    "arr": ("ARR", "currency", "up_is_good"),
    "mrr_growth": ("MRR growth", "percent", "up_is_good"),
    "nrr": ("Net revenue retention", "percent", "up_is_good"),
    "grr": ("Gross revenue retention", "percent", "up_is_good"),
    "logo_churn": ("Logo churn", "percent", "down_is_good"),
    "revenue_churn": ("Revenue churn", "percent", "down_is_good"),
    "customers": ("Paying accounts", "number", "up_is_good"),
    "arpa": ("ARPA", "currency", "up_is_good"),
    "clv": ("Customer lifetime value", "currency", "up_is_good"),
    "on_time_rate": ("On-time delivery", "percent", "up_is_good"),
    "project_margin": ("Project margin", "percent", "up_is_good"),
    "nps": ("NPS", "points", "up_is_good"),
    "csat": ("CSAT", "percent", "up_is_good"),
}
# Rates of the accounts paying at the start of the period: none before the data's first month.
STARTING_RATES = ("mrr_growth", "nrr", "grr", "logo_churn", "revenue_churn")
# Averages over the accounts paying at a period's end: none when no account is paying then.
ENDING_AVERAGES = ("arpa", "clv")
ANOMALY_KPIS = ["mrr_growth", "nrr", "grr", "logo_churn", "on_time_rate", "project_margin", "nps", "csat"]
HEADLINE = ["mrr", "arr", "mrr_growth", "nrr", "grr", "logo_churn", "arpa", "clv", "on_time_rate", "nps", "csat", "customers"]


class ExecutiveReport:
    """The computed report; each public method returns one displayable section."""

    def __init__(self, data: ExecutiveData, forecast_months: int = 6) -> None:
        self.data = data
        self.period = data.period
        self.forecast_months = forecast_months

    # -- computed once ------------------------------------------------------------------
    @cached_property
    def figures(self) -> tuple[dict[str, float | None], dict[str, int]]:
        return period_figures(self.data, self.period)

    @property
    def current(self) -> dict[str, float | None]:
        return self.figures[0]

    @property
    def compared(self) -> bool:
        """Whether the data holds the previous period (it does not for the first period of the data)."""
        return self.period.previous().start >= self.data.first_month

    @cached_property
    def previous_figures(self) -> tuple[dict[str, float | None], dict[str, int]] | None:
        """:func:`period_figures` of the previous period (None when the data does not hold it)."""
        return period_figures(self.data, self.period.previous()) if self.compared else None

    @property
    def previous(self) -> dict[str, float | None] | None:
        return self.previous_figures[0] if self.previous_figures else None

    @cached_property
    def history(self) -> pd.DataFrame:
        """KPIs of the trailing periods that lie within the data, oldest first (no rows, same columns, when none does)."""
        periods = [self.period.shift(-k) for k in range(HISTORY_PERIODS - 1, -1, -1)]
        # A period's KPIs need its starting MRR, the end of the month before it: Q3 2024 of data from June 2024 has it
        # (its own report shows its NRR), though the quarter before it is not wholly in the data.
        periods = [p for p in periods if p.start > self.data.first_month]
        rows = [{"period": p.key, **period_kpis(self.data, p)} for p in periods]
        return pd.DataFrame(rows, columns=["period", *KPI_DEFS])

    @cached_property
    def mrr_forecast(self) -> tuple[pd.Series, pd.DataFrame | None, str]:
        """Monthly MRR from the first month of the data, its forecast (None if the history is too short) and why not."""
        months = [pd.Timestamp(m) for m in self._all_months()]
        series = metrics.mrr_series(self.data.ledger, months)
        if len(series) and series.iloc[-1] <= 0:
            # Smoothing would hold a level the company no longer has ("about $3,446 through April 2027").
            # The forecast needs both a paying account and a year of history: "returns with the first paying
            # account" promised one to a data set of 11 months.
            needs = ("" if len(series) >= FORECAST_MIN_MONTHS else
                     f" and {FORECAST_MIN_MONTHS} months of MRR history (the data holds {len(series)} to this period)")
            return series, None, (f"No account is paying at the end of {self.period.label}, so there is no MRR to "
                                  f"forecast: a forecast needs a paying account at the end of the period{needs}.")
        try:
            return series, metrics.forecast_mrr(series, horizon=self.forecast_months, level=FORECAST_LEVEL), ""
        except EmptyDataError as exc:
            return series, None, f"{exc.message} {self._forecast_advice()}"

    def shown(self, keys: list[str]) -> list[str]:
        """``keys`` without the KPIs whose source table the warehouse lacks (see :data:`NEEDS`)."""
        return [k for k in keys if NEEDS.get(k) not in self.data.absent]

    @property
    def scores_health(self) -> bool:
        """Whether the warehouse holds any of the health score's sources."""
        return any(t not in self.data.absent for t in HEALTH_TABLES)

    def _left_out(self, tables: list[str]) -> Callout | None:
        """The note for the optional ``tables`` the warehouse lacks (None when it holds them all)."""
        missing = [t for t in tables if t in self.data.absent]
        if not missing:
            return None
        return Callout(absent_note("executive", missing, self.data.lacking), "info", title="Not in this report:")

    def kpi(self, key: str) -> Kpi:
        label, unit, direction = KPI_DEFS[key]
        prev = self.previous.get(key) if self.previous else None
        return Kpi(key=key, label=label, value=self.current[key], unit=unit, previous=prev, direction=direction,
                   decimals=self.card_places.get(key, 0))

    @cached_property
    def thresholded(self) -> dict[str, float | None]:
        """The KPIs as the business thresholds read them: logo churn as a monthly rate."""
        return {**self.current, "logo_churn": self._monthly_churn(self.current["logo_churn"])}

    @cached_property
    def card_places(self) -> dict[str, int]:
        """Decimals a card needs to read as its threshold alert (99.98 %, not 100.0 %), for KPIs whose card shows the
        value the alert compares (a quarter's logo churn is not the monthly rate its alert reads)."""
        places = metrics.threshold_places(self.thresholded, self.period.n_months)
        return {k: d for k, d in places.items() if k != "logo_churn" or self.period.n_months == 1}

    def thin_note(self, keys: list[str]) -> str:
        """Why KPIs of ``keys`` show "—" (too small a basis, see :data:`MIN_BASIS`) and how CLV's churn was taken."""
        thin, churn = self.figures[1], churn_estimate(self.data, self.period)
        reasons = [f"{KPI_DEFS[k][0]} rests on {self._basis(k, thin[k], self.period)}" if k != "clv" or churn.months else
                   f"{KPI_DEFS[k][0]} needs churn from the months before, and the data starts in "
                   f"{formatting.month_year(self.data.first_month)}" for k in keys if k in thin]
        note = f"— marks a figure with too small a basis: {'; '.join(reasons)}." if reasons else ""
        unstarted = [k for k in keys if k in STARTING_RATES and self.current[k] is None]
        if unstarted:
            names = _names(unstarted)
            note = (note or "—") + (f" {_capital(names)} need accounts paying at the start of {self.period.label}; there were "
                                    f"none{self._since(self.period)}.")
        # The previous period's "—" (in the cards' comparison and the retention table) has the same cause.
        unstarted_before = [k for k in keys if k in STARTING_RATES and k not in unstarted and self.previous
                            and self.previous[k] is None]
        if unstarted_before:
            before = self.period.previous()
            note += (f" {before.label} has no {_names(unstarted_before)} to compare with: no account was paying at its "
                     f"start{self._since(before)}.")
        # A figure shown without its change: the previous period's basis was too small for one.
        thin_before = self.previous_figures[1] if self.previous_figures else {}
        compared_thin = [k for k in keys if k in thin_before and k not in thin]
        if compared_thin:
            before = self.period.previous()
            # The data's first month has no churn before it to count: not "0 accounts churned" in it.
            unmeasured = f"there is no churn before it to count{self._since(before)}" \
                if "clv" in compared_thin and not churn_estimate(self.data, before).months else ""
            basis = {k: self._basis(k, thin_before[k], before) for k in compared_thin}
            if len(compared_thin) == 1:
                reasons = unmeasured or basis[compared_thin[0]]
            else:
                reasons = "; ".join(f"for {_in_sentence(KPI_DEFS[k][0])} {unmeasured}" if k == "clv" and unmeasured else
                                    f"{_in_sentence(KPI_DEFS[k][0])} rests on {basis[k]}" for k in compared_thin)
            note += f" {before.label} has no {_names(compared_thin)} to compare with: {reasons}."
        unpaid = [k for k in keys if k in ENDING_AVERAGES and k not in thin and self.current[k] is None
                  and not self.current["customers"]]
        if unpaid:
            note = (note or "—") + (f" {_capital(_names(unpaid))} need{'s' if len(unpaid) == 1 else ''} accounts paying at "
                                    f"the end of {self.period.label}; there were none.")
        unpaid_before = [k for k in keys if k in ENDING_AVERAGES and self.previous and self.previous[k] is None
                         and not self.previous["customers"]]
        if unpaid_before:
            note += (f" {self.period.previous().label} has no {_names(unpaid_before)} to compare with: no account was "
                     "paying at its end.")
        margin = clv_margin(self.data, self.period)
        if "clv" in keys and "clv" not in thin and margin is not None and margin <= 0 and self.current["arpa"]:
            note = (note or "—") + (f" Customer lifetime value shows — as projects made no profit over the twelve "
                                    f"months to {formatting.month_year(self.period.last_month)} (margin "
                                    f"{metrics.format_value(margin, 'percent')}), the margin it multiplies by.")
        if "clv" in keys and self.current["clv"] is not None and churn.months < CHURN_MONTHS:
            held = "the one month" if churn.months == 1 else f"the {churn.months} months"
            note += f" Customer lifetime value divides by the churn of {held} the data holds, not {CHURN_MONTHS}."
        return note.strip()

    def _basis(self, key: str, count: int, period: Period) -> str:
        """What a thin KPI of ``period`` rests on: "4 survey answers in November 2025 (at least 10 needed)"; CLV's
        churned accounts are those of its churn window."""
        basis = MIN_BASIS[key]
        where = period.label
        if key == "clv":
            months, last = churn_estimate(self.data, period).months, formatting.month_year(period.last_month)
            where = f"the {months} months to {last}" if months > 1 else last
        return f"{count} {basis.one if count == 1 else basis.things} in {where} (at least {basis.least} needed)"

    def _since(self, period: Period) -> str:
        """" (the data starts in January 2025)" when ``period`` is the data's first one, else ""."""
        return (f" (the data starts in {formatting.month_year(self.data.first_month)})"
                if period.start == self.data.first_month else "")

    # -- sections -------------------------------------------------------------------------
    def header(self) -> ReportHeader:
        before = self.period.previous()
        # A year whose previous year the data holds in part (June to December) is not the data's first.
        why = ("there is no earlier period to compare with" if before.last_month < self.data.first_month else
               f"it is not compared with {before.label}, which the data holds only in part")
        subtitle = (f"Company KPIs compared with {before.label}" if self.compared else
                    f"Company KPIs; the data starts in {formatting.month_year(self.data.first_month)}, so {why}")
        return ReportHeader("Executive report", self.period.label, subtitle=subtitle, extra={"period_key": self.period.key})

    def headline(self) -> KpiCards:
        keys = self.shown(HEADLINE)
        return KpiCards([self.kpi(k) for k in keys], comparison_label=self.period.previous().label,
                        note=self.thin_note(keys))

    def alerts(self) -> Section:
        # Levels (MRR, ARR, accounts, ARPA, CLV) trend by design, so "far from their own median" would
        # flag every growing month; anomalies are looked for in rates only. Revenue churn is 1 − GRR and
        # would repeat GRR's alert. Logo churn is compared as a monthly rate, like its threshold.
        hist = self.history.copy()
        labels = [parse_period(key).label for key in hist["period"]]
        # An ordered categorical keeps period order while the alert messages read "October 2026".
        hist["period"] = pd.Categorical(labels, categories=labels, ordered=True)
        hist["logo_churn"] = hist["logo_churn"].map(self._monthly_churn)
        # Rows without a figure stay: the report's own period is the latest even when it has no rates.
        hist = hist.melt(id_vars="period", value_vars=ANOMALY_KPIS, var_name="kpi", value_name="value")
        hist["direction"] = hist["kpi"].map(lambda k: KPI_DEFS[k][2])
        hist["unit"] = hist["kpi"].map(lambda k: KPI_DEFS[k][1])
        hist["label"] = hist["kpi"].map(lambda k: "Monthly logo churn" if k == "logo_churn" else KPI_DEFS[k][0])
        found = metrics.merge_alerts(metrics.threshold_alerts(self.thresholded, self.period.n_months)
                                     + metrics.detect_anomalies(hist))
        earlier = len(self.history) - 1
        kind = self.period.kind
        there = "there is none" if earlier <= 0 else "there is 1" if earlier == 1 else f"there are {earlier}"
        # The data's first period has no rates: nothing came before it; a first quarter or year that begins after
        # the data does (2024 from June) is not even whole.
        whole = Period.containing(self.data.first_month, kind).start == self.data.first_month
        reason = (f"the data's first {kind} has none: nothing came before it" if whole else
                  f"the data's first {kind} is only partly in it and has none")
        unchecked = (None if earlier >= MIN_HISTORY else
                     f"Whether a KPI is unusual needs {MIN_HISTORY} earlier {kind}s with figures ({reason}); {there}.")
        quiet = ("No anomalies: every KPI is within its usual range." if unchecked is None else
                 f"No KPI is past a business threshold. {unchecked}")
        # Each KPI needs its own history: a rate of too few projects or answers has no figure in some periods.
        tested = set(metrics.testable_kpis(hist)) if unchecked is None else set(ANOMALY_KPIS)
        # A KPI whose source table the warehouse lacks is in no part of the report: it is not named here either.
        untested = [k for k in self.shown(ANOMALY_KPIS) if k not in tested]
        if untested:
            not_checked = (f"{_names(untested)}, with too few {kind}s with a figure to tell (a KPI needs one for "
                           f"this {kind} and for {MIN_HISTORY} earlier {kind}s; a {kind} with too few projects "
                           "delivered or answers has none).")
            unchecked = _capital(not_checked)
            quiet = f"No anomalies among the KPIs checked. Not checked: {not_checked}"
        # With alerts shown, the caveat still holds: the thresholds were checked, the usual ranges were not.
        caveat = [Callout(unchecked, "info", title="Not checked for anomalies:")] if found and unchecked else []
        return Section("Alerts", [Alerts(found, empty_message=quiet), *caveat],
                       lead="KPIs outside their usual range or past a business threshold.")

    def _monthly_churn(self, rate: float | None) -> float | None:
        return None if rate is None or pd.isna(rate) else metrics.monthly_rate(rate, self.period.n_months)

    def revenue(self) -> Section:
        bridge = metrics.mrr_bridge(self.data.ledger, self.period)
        frame = bridge.as_frame()
        start_label = f"end of {self.period.previous().label}"
        # Nothing at the start, the end or in between: no bars to draw (the lead and the table say so).
        still = not frame["amount"].astype(float).any()
        waterfall = [] if still else [charts.bridge_waterfall(frame, start_label, f"end of {self.period.label}")]
        # One MRR chart: the last two years, with the forecast when there is one (the forecast section
        # gives its figures), rather than the same line drawn twice.
        series, fc, _ = self.mrr_forecast
        shown = [*waterfall, Table(frame.rename(columns={"step": "Movement", "amount": "MRR"}), caption="MRR bridge",
                                   units={"MRR": "currency"})]
        if len(series) >= 2:  # one month is not a trend
            drawn = series.tail(24)
            chart = charts.mrr_trend(drawn, fc, highlight=drawn.index[-1] if fc is not None else None)
            chart.data = Table(pd.DataFrame({"Month": [Period.containing(m, "month").key for m in drawn.index],
                                             "MRR": drawn.to_numpy()}),
                               caption="MRR by month", units={"MRR": "currency"})
            shown.insert(0, chart)
        start, end = (metrics.format_value(v, "currency") for v in (bridge.start_mrr, bridge.end_mrr))
        lead = f"MRR moved from {start} to {end} in {self.period.label}." if start != end else \
            f"MRR stayed at {end} in {self.period.label}."
        if self.period.start <= self.data.first_month <= self.period.last_month:
            # The ledger's first month holds every account that was paying before it starts, as "new".
            lead += (f" The data starts in {formatting.month_year(self.data.first_month)}: the accounts already "
                     "paying then count as new MRR in it.")
        relabelled = self._relabelled()
        if relabelled:
            shown.append(Callout(relabelled, "info", title="Counted by effect:"))
        quiet = self._quiet_since()
        if quiet:
            shown.insert(0, Callout(quiet, "info", title="No MRR change:"))
        return Section("Recurring revenue", shown, lead=lead)

    def _quiet_since(self) -> str:
        """When the ledger ends before the period does, what that means ("" if not): the months run as far as the
        data does, and no row in a month is no change in it. (A quiet month with changes after it needs no word.)"""
        months = self.data.ledger.frame["month"]
        if months.empty:
            return ""
        ends = pd.Timestamp(self.data.ledger_ends) if self.data.ledger_ends is not None else months.max()
        if ends >= pd.Timestamp(self.period.last_month):
            return ""
        last = formatting.month_year(ends)
        mrr = metrics.format_value(metrics.mrr_series(self.data.ledger, [ends]).iloc[0], "currency")
        return (f"The MRR ledger has no movement after {last}: no account's MRR changed since, so MRR stays at "
                f"{last}'s {mrr} through {formatting.month_year(self.period.last_month)}. If the billing data ends in "
                f"{last}, import the months after it.")

    def _relabelled(self) -> str:
        """The period's movements whose ledger label says otherwise than their effect on MRR, which the bridge
        counts them by ("" when there is none)."""
        frame = self.data.ledger.frame
        inside = frame[(frame["month"] >= pd.Timestamp(self.period.start))
                       & (frame["month"] <= pd.Timestamp(self.period.last_month))]
        moved = inside[inside["movement"] != inside["labelled"]].sort_values(["month", "client_id"], kind="stable")
        if moved.empty:
            return ""
        names = self.data.clients.set_index("client_id")["name"] if "client_id" in self.data.clients else pd.Series()
        money = lambda v: metrics.format_value(v, "currency")  # noqa: E731
        # Several movements of one client in one month (netted by the ledger: "churn + new") count together.
        together = moved["labelled"].map(lambda labelled: len(metrics.netted_labels(labelled)) > 1)
        said = []
        relabelled = moved[~together]
        if len(relabelled):
            listed = [f"{names.get(r.client_id, f'client {r.client_id}')}'s “{r.labelled}” of {money(r.amount)} in "
                      f"{formatting.month_year(r.month)} counts as {r.movement}" for r in relabelled.head(3).itertuples()]
            more = f", and {len(relabelled) - 3} more" if len(relabelled) > 3 else ""
            one = len(relabelled) == 1
            said.append(f"{len(relabelled)} {'movement' if one else 'movements'} of {self.period.label} in "
                        f"mrr_movements {'is' if one else 'are'} labelled otherwise than {'its' if one else 'their'} "
                        f"effect on MRR, which the bridge counts {'it' if one else 'them'} by: {'; '.join(listed)}{more}. "
                        "Correct the labels in the source to make them agree.")
        netted = moved[together]
        if len(netted):
            def effect(r) -> str:
                kinds = " and ".join(f"“{k}”" for k in metrics.netted_labels(r.labelled))
                what = ("leave its MRR as it was" if r.movement == metrics.UNCHANGED
                        else f"count as one {r.movement} of {money(r.amount)}")
                return f"{names.get(r.client_id, f'client {r.client_id}')}'s {kinds} in {formatting.month_year(r.month)} {what}"

            listed = [effect(r) for r in netted.head(3).itertuples()]
            more = f", and {len(netted) - 3} more" if len(netted) > 3 else ""
            said.append("MRR is measured at the end of each month, so one account's movements within a month count by "
                        f"what they do together: {'; '.join(listed)}{more}.")
        return " ".join(said)

    def retention(self) -> Section:
        keys = self.shown(["nrr", "grr", "logo_churn", "revenue_churn", "customers", "arpa", "clv"])
        # Figures, each in its row's unit, so that the data files keep them as numbers ("98.7%" was text there).
        frame = pd.DataFrame({"KPI": [KPI_DEFS[k][0] for k in keys],
                              "This period": [self.current[k] for k in keys],
                              "Previous period": [self.previous[k] if self.previous else None for k in keys]},
                             dtype=object)
        children = [Table(frame, caption="Retention and account economics",
                          units={"This period": BY_ROW, "Previous period": BY_ROW},
                          row_units=[KPI_DEFS[k][1] for k in keys])]
        hist = self.history.dropna(subset=["nrr", "grr"])
        if len(hist) >= 2:
            chart = charts.rate_trend(hist, {"nrr": "NRR", "grr": "GRR"}, ylabel="Retention", reference=1.0)
            chart.data = Table(hist[["period", "nrr", "grr"]].rename(columns={"period": "Period", "nrr": "NRR",
                                                                              "grr": "GRR"}),
                               caption=f"NRR and GRR by {self.period.kind}", units={"NRR": "percent", "GRR": "percent"})
            children.insert(0, chart)
        # Every "—" of the table is explained beside it, as the cards' note explains theirs.
        note = self.thin_note(keys)
        # CLV needs the project margin. Project delivery's section gives the whole note on the missing
        # table; here one sentence says what it takes from this table.
        left_out = (Callout("Customer lifetime value is left out: its margin comes from the projects table, which this "
                            "report goes without (Project delivery says why).", "info")
                    if "projects" in self.data.absent else None)
        return Section("Retention and churn", [Grid(children)] + ([note] if note else []) + ([left_out] if left_out else []))

    def forecast(self) -> Section:
        series, fc, why = self.mrr_forecast
        if fc is None:
            return Section("Forecast", [Callout(why, "info")])
        last = fc.iloc[-1]
        band = formatting.percent(FORECAST_LEVEL, 0)
        low, high = f"Low ({band})", f"High ({band})"
        # To the cent: a model's estimate has no more digits worth keeping in the data files.
        table = Table(fc.round({"forecast": 2, "lower": 2, "upper": 2})
                      .assign(month=pd.to_datetime(fc["month"]).map(formatting.short_month_year)).rename(
            columns={"month": "Month", "forecast": "Forecast", "lower": low, "upper": high}),
            caption="MRR forecast", units={"Forecast": "currency", low: "currency", high: "currency"},
            shared_decimals=["Forecast", low, high])  # one precision a row: not "$1,928" beside "$672.21"
        money = lambda v: metrics.format_value(v, "currency")  # noqa: E731
        first, now = fc.iloc[0], float(series.iloc[-1])
        month = lambda row: formatting.month_year(pd.Timestamp(row["month"]))  # noqa: E731
        # Where the model starts, beside where MRR is: a smoothed level can start well off the latest MRR (a
        # jump read as noise), and "MRR reaches $12,595" after a year of growth read as a fall it never said.
        interval = f"({band} interval {money(last['lower'])} to {money(last['upper'])})"
        if not fc.attrs.get("trend", True):  # the model without a trend: a level held
            # Not "no trend": MRR may well have grown; its month-to-month changes are too uneven to project one.
            expects = (f"its month-to-month changes are too uneven to project a trend from, so the model holds MRR at "
                       f"about {money(first['forecast'])} through {month(last)} {interval}")
        elif len(fc) == 1:
            expects = f"the model expects about {money(first['forecast'])} in {month(first)} {interval}"
        else:
            expects = (f"the model expects about {money(first['forecast'])} in {month(first)} and, if recent trends "
                       f"hold, about {money(last['forecast'])} by {month(last)} {interval}")
        lead = (f"MRR is {money(now)} at the end of {self.period.label}; {expects}; the MRR chart under Recurring "
                f"revenue draws it with its interval. {_band_check(fc, band)}")
        children = [table]
        # The forecast starts from the model's level at the last month, not from MRR itself; the first month's
        # interval less one month of trend is how far from that level MRR may be and still be the model's. (The
        # first month's interval itself lies a month of growth ahead: steady growth would always fall below it.)
        start = float(fc.attrs.get("level", now))
        step = float(first["forecast"]) - start
        low_now, high_now = first["lower"] - step, first["upper"] - step
        if not low_now <= now <= high_now:
            side = "above" if now > high_now else "below"
            children.append(Callout(
                f"MRR at the end of {self.period.label} ({money(now)}) lies {side} the level the model starts its "
                f"forecast from ({money(start)}), beyond a month's {band} uncertainty ({money(low_now)} to "
                f"{money(high_now)}): the model reads the latest change as noise rather than a new level. Read the "
                "forecast as the trend before that change.", "warning", title="Off the latest MRR:"))
        return Section("Forecast", children, lead=lead)

    def _forecast_advice(self) -> str:
        """Which period has enough history for a forecast, from where the data starts and ends."""
        ready = add_months(self.data.first_month, FORECAST_MIN_MONTHS - 1)
        if ready > self.data.last_month:
            held = len(self._all_months(until=self.data.last_month))
            return f"The data holds {held} months of MRR history, so no period can be forecast yet."
        first = Period.containing(ready, self.period.kind)
        if first.last_month > self.data.last_month:  # e.g. the quarter that has it is still running
            month = Period.containing(ready, "month")
            return (f"The first {self.period.kind} with enough history, {first.label}, is not complete in the data yet; "
                    f"the months from {month.label} on have it: choose {month.key} or later.")
        return f"The first {self.period.kind} with enough history is {first.label}: choose {first.key} or later."

    def delivery(self) -> Section:
        if "projects" in self.data.absent:
            return Section("Project delivery", [self._left_out(["projects"])])
        d = metrics.project_delivery(self.data.projects, self.period)
        if not d.delivered:
            return Section("Project delivery", [Callout(f"No project was delivered in {self.period.label}.", "info")])
        least = MIN_BASIS["on_time_rate"].least
        prev = metrics.project_delivery(self.data.projects, self.period.previous()) if self.compared else None
        now, was = _delivery_rates(d, least), _delivery_rates(prev, least)
        kpis = [Kpi("on_time_rate", "On-time delivery", now[0], "percent", was[0], "up_is_good",
                    self.card_places.get("on_time_rate", 0)),
                Kpi("project_margin", "Project margin", now[1], "percent", was[1], "up_is_good"),
                Kpi("hours_overrun", "Hours overrun", now[2], "percent", was[2], "down_is_good"),
                Kpi("delivered", "Projects delivered", float(d.delivered), "number",
                    float(prev.delivered) if prev else None, "up_is_good")]
        note = (f"— marks a rate over too few projects: {d.delivered} delivered in {self.period.label} "
                f"(at least {least} needed)." if d.delivered < least else "")
        if prev is not None and prev.delivered < least <= d.delivered:  # shown, but without a change
            before = self.period.previous().label
            note += (f"{before} has no rates to compare with: {prev.delivered} "
                     f"{'project' if prev.delivered == 1 else 'projects'} delivered there (at least {least} needed).")
        unmeasured = d.delivered - d.overrun_basis
        if unmeasured:
            note += (f"{' ' if note else ''}{unmeasured} of the {d.delivered} projects delivered in {self.period.label} "
                     f"{'has' if unmeasured == 1 else 'have'} no estimate or no actual hours recorded, so the hours overrun "
                     f"leaves {'it' if unmeasured == 1 else 'them'} out")
            note += (f", and shows — as it rests on {d.overrun_basis} {'project' if d.overrun_basis == 1 else 'projects'} "
                     f"(at least {least} needed)." if d.overrun_basis < least <= d.delivered else ".")
        if d.delivered >= least and d.gross_margin is None:  # internal projects: a margin of nothing is no figure
            which = "it records" if d.delivered == 1 else f"the {d.delivered} projects record"
            note += f"{' ' if note else ''}Project margin shows — as {which} no revenue."
        worst = metrics.worst_overruns(self.data.projects, self.period, limit=5)
        cards = KpiCards(kpis, comparison_label=self.period.previous().label, note=note)
        if worst.empty:  # a table of headers alone said nothing
            lead = f"No project delivered in {self.period.label} took more hours than estimated." if d.overrun_basis else ""
            return Section("Project delivery", [cards], lead=lead)
        clients = self.data.clients.set_index("client_id")["name"]
        worst = worst.assign(client=worst["client_id"].map(clients))[["name", "client", "estimated_hours", "actual_hours", "overrun", "on_time"]]
        worst = worst.rename(columns={"name": "Project", "client": "Client", "estimated_hours": "Est. hours",
                                      "actual_hours": "Actual hours", "overrun": "Overrun", "on_time": "On time"})
        worst["On time"] = worst["On time"].map({True: "yes", False: "no"})
        table = Table(worst, caption="Largest hour overruns", units={"Est. hours": "number", "Actual hours": "number", "Overrun": "percent"})
        return Section("Project delivery", [cards, table])

    def customers(self) -> Section:
        scores = metrics.health_scores(self.data.clients, metrics.mrr_by_client(self.data.ledger, pd.Timestamp(self.period.last_month)),
                                       self.data.usage, self.data.tickets, self.data.surveys, as_of=self.period.end,
                                       tickets_recorded="support_tickets" not in self.data.absent)
        dist = metrics.health_distribution(scores)
        sat = self.shown(["nps", "csat"])
        at_risk = scores[scores["band"] == "at_risk"].sort_values("mrr", ascending=False).head(AT_RISK_ROWS)
        children = [KpiCards([self.kpi(k) for k in sat], comparison_label=self.period.previous().label,
                             note=self.thin_note(sat))] if sat else []
        left_out = self._left_out(list(HEALTH_TABLES))
        if not self.scores_health:
            return Section("Customers: satisfaction and health", [*children, Callout(
                f"Satisfaction and account health are left out: {missing_phrase(HEALTH_TABLES, self.data.lacking)}. "
                "With them, this section shows NPS and CSAT, how the accounts' health is distributed and which "
                "accounts are at risk.",
                "info", title="Not in this report:")])
        if scores.empty or not (scores["mrr"] > 0).any():
            # Nothing to score: an all-zero chart under "no account is at risk" would read as good health.
            return Section("Customers: satisfaction and health", [*children, Callout(
                f"No account is paying at the end of {self.period.label}, so there is no account health to show.",
                "info")])
        children.append(Grid([charts.health_bands(dist), Table(
            dist.assign(band=dist["band"].str.replace("_", " ").str.capitalize(),
                        share=formatting.shares_rounded(dist["share"], charts.SHARE_DECIMALS)).rename(
                columns={"band": "Band", "clients": "Accounts", "mrr": "MRR", "share": "Share of MRR"}),
            caption="Health distribution", units={"MRR": "currency", "Share of MRR": "percent"})]))
        if left_out:
            children.append(left_out)
        unscored = int((scores["band"] == "unknown").sum())
        if unscored == len(scores) and unscored:
            children.append(Callout(f"None of the {unscored} active accounts could be scored: none has the usage, "
                                    "support or NPS data a health score is built from (ticket load is counted per "
                                    "seat, so it needs product usage too).", "info"))
        elif at_risk.empty:
            children.append(Callout("No active account is at risk" + (
                f" among those scored ({unscored} could not be, for lack of data)." if unscored else "."), "good"))
        else:
            children.append(Table(at_risk[["name", "mrr", "score", "drivers"]].rename(
                columns={"name": "Account", "mrr": "MRR", "score": "Health", "drivers": "Weakest drivers"}),
                caption=f"At-risk accounts ({len(scores[scores['band'] == 'at_risk'])}), by MRR at stake",
                units={"MRR": "currency", "Health": "number"}))
        return Section("Customers: satisfaction and health", children)

    def glossary(self):
        # "Compared with the previous period" is only true when the data holds that period.
        keys = [k for k in self.shown(GLOSSARY_KEYS) if k != "previous_period" or self.compared]
        return glossary([k for k in keys if k not in ("health_score", "at_risk") or self.scores_health])

    def _all_months(self, until: date | None = None) -> list[date]:
        months, m = [], self.data.first_month
        while m <= (until or self.period.last_month):
            months.append(m)
            m = add_months(m, 1)
        return months


def _band_check(fc: pd.DataFrame, band: str) -> str:
    """What the forecast's interval was checked against: widened to what it held in a backtest, or not checkable."""
    widened, errors = float(fc.attrs.get("widened", 1.0)), int(fc.attrs.get("backtest_errors", 0))
    if errors < MIN_BACKTEST_ERRORS:
        return ("The history is too short to check the interval against the months that followed earlier forecasts; "
                "the model's own interval leaves out the uncertainty of its estimates, so it is likely too narrow.")
    if widened > 1.0:
        return (f"The interval is {formatting.number(widened, 1)} times as wide as the model's own: refitted at "
                f"earlier months of the history, the model's own {band} interval held fewer than {band} of "
                f"{formatting.number(errors)} forecasts checked against the MRR that followed, so it is widened until "
                f"it held {band} of them.")
    return (f"Refitted at earlier months of the history, the model's {band} interval held at least {band} of "
            f"{formatting.number(errors)} forecasts checked against the MRR that followed.")


def _names(keys: list[str]) -> str:
    """KPI labels as a list in a sentence: "MRR growth, net revenue retention and logo churn"."""
    return join_words([_in_sentence(KPI_DEFS[k][0]) for k in keys])


def _capital(words: str) -> str:
    """``words`` opening a sentence: 'net revenue retention' → 'Net revenue retention'."""
    return words[0].upper() + words[1:]


def _in_sentence(label: str) -> str:
    """A KPI label inside a sentence: 'Net revenue retention' → 'net revenue retention'; 'MRR growth' stays."""
    return label if label[1:2].isupper() else label[0].lower() + label[1:]


def _delivery_rates(d: metrics.Delivery | None, least: int) -> tuple[float | None, float | None, float | None]:
    """On-time rate, margin and hours overrun, or Nones when there are fewer than ``least`` projects (or no period);
    the overrun alone is None when fewer than ``least`` of them have its hours."""
    if d is None or d.delivered < least:
        return None, None, None
    return d.on_time_rate, d.gross_margin, d.avg_hours_overrun if d.overrun_basis >= least else None


def wear(brand: str = "quire") -> None:
    """Draw the charts in ``brand``'s palette and write figures and dates in its locale and currency, from now on."""
    from quire.brand import load_brand

    kit = load_brand(brand)
    use_brand(kit)
    formatting.use(kit.conventions)


def build(period: str = "latest", forecast_months: int = 6, brand: str = "quire", url: str | None = None) -> ExecutiveReport:
    """Load the data for ``period`` and prepare the report; charts use ``brand``'s palette."""
    wear(brand)
    return ExecutiveReport(load(period, url), forecast_months)
