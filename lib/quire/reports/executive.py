"""The executive report: company KPIs for one period, each against the previous period.

:func:`load` is the only I/O (one read-only warehouse connection); everything after it
is computed by the pure functions of :mod:`quire.metrics`. The notebook calls
:func:`build` once and then displays one section per cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import pandas as pd

from quire import metrics
from quire.charts import executive as charts
from quire.chart_style import use_brand
from quire.config import get_settings
from quire.errors import EmptyDataError
from quire.display import Alerts, Callout, Grid, KpiCards, ReportHeader, Section, Table
from quire.glossary import glossary
from quire.metrics.kpi import Kpi
from quire.periods import Period, add_months, parse_period, resolve_period
from quire.warehouse import queries
from quire.warehouse.engine import connection

HISTORY_PERIODS = 12  # trailing periods used for the alert baselines and retention trend
AT_RISK_ROWS = 10

GLOSSARY_KEYS = ["mrr", "arr", "mrr_growth", "mrr_bridge", "nrr", "grr", "logo_churn", "revenue_churn", "arpa",
                 "clv", "customers", "on_time_rate", "hours_overrun", "project_margin", "nps", "csat",
                 "health_score", "at_risk", "forecast", "alerts", "previous_period"]


@dataclass(frozen=True)
class ExecutiveData:
    """Everything the report reads from the warehouse for one period."""

    period: Period
    first_month: date
    clients: pd.DataFrame
    movements: pd.DataFrame
    projects: pd.DataFrame
    surveys: pd.DataFrame
    usage: pd.DataFrame
    tickets: pd.DataFrame


def load(period: str, url: str | None = None) -> ExecutiveData:
    """Read the period's data (and the history its comparisons need) from the warehouse."""
    with connection(url or get_settings().warehouse) as conn:
        first, last = queries.data_range(conn)
        p = resolve_period(period, first_month=first, last_month=last)
        since = max(first, add_months(p.start, -HISTORY_PERIODS * p.n_months))
        end = p.end
        return ExecutiveData(
            period=p, first_month=first,
            clients=queries.clients(conn),
            movements=queries.mrr_movements(conn, until=p.last_month),
            projects=queries.projects(conn, since, end),
            surveys=queries.survey_responses(conn, since, end),
            usage=queries.product_usage(conn, end - timedelta(weeks=16), end),
            tickets=queries.support_tickets(conn, end - timedelta(days=120), end),
        )


def period_kpis(data: ExecutiveData, period: Period) -> dict[str, float | None]:
    """The report's KPIs for any period covered by ``data`` (values as plain floats, rates as fractions)."""
    bridge = metrics.mrr_bridge(data.movements, period)
    ret = metrics.retention(data.movements, period)
    accounts = metrics.mrr_by_client(data.movements, pd.Timestamp(period.last_month))
    arpa = metrics.arpa(data.movements, pd.Timestamp(period.last_month))
    delivery = metrics.project_delivery(data.projects, period)
    year = Period(add_months(period.start, period.n_months - 12), "year") if period.n_months < 12 else period
    margin = metrics.project_delivery(data.projects, year).gross_margin
    monthly_churn = metrics.monthly_rate(ret.logo_churn_rate, period.n_months) if ret.logo_churn_rate is not None else None
    sat = metrics.satisfaction(data.surveys, period)
    return {
        "mrr": bridge.end_mrr,
        "arr": bridge.end_mrr * 12,
        "mrr_growth": (bridge.end_mrr / bridge.start_mrr - 1) if bridge.start_mrr else None,
        "nrr": ret.nrr,
        "grr": ret.grr,
        "logo_churn": ret.logo_churn_rate,
        "revenue_churn": ret.revenue_churn_rate,
        "customers": float(len(accounts)),
        "arpa": arpa,
        "clv": metrics.clv(arpa, margin, monthly_churn) if arpa and margin is not None and monthly_churn else None,
        "on_time_rate": delivery.on_time_rate,
        "project_margin": delivery.gross_margin,
        "nps": sat.nps,
        "csat": sat.csat,
    }


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
    def current(self) -> dict[str, float | None]:
        return period_kpis(self.data, self.period)

    @cached_property
    def previous(self) -> dict[str, float | None] | None:
        prev = self.period.previous()
        return period_kpis(self.data, prev) if prev.start >= self.data.first_month else None

    @cached_property
    def history(self) -> pd.DataFrame:
        """KPIs of the trailing periods that lie within the data, oldest first."""
        periods = [self.period.shift(-k) for k in range(HISTORY_PERIODS - 1, -1, -1)]
        periods = [p for p in periods if p.previous().start >= self.data.first_month]
        rows = [{"period": p.key, **period_kpis(self.data, p)} for p in periods]
        return pd.DataFrame(rows)

    def kpi(self, key: str) -> Kpi:
        label, unit, direction = KPI_DEFS[key]
        prev = self.previous.get(key) if self.previous else None
        return Kpi(key=key, label=label, value=self.current[key], unit=unit, previous=prev, direction=direction)

    # -- sections -------------------------------------------------------------------------
    def header(self) -> ReportHeader:
        return ReportHeader("Executive report", self.period.label, subtitle=f"Company KPIs compared with {self.period.previous().label}",
                            extra={"period_key": self.period.key})

    def headline(self) -> KpiCards:
        return KpiCards([self.kpi(k) for k in HEADLINE], comparison_label=self.period.previous().label)

    def alerts(self) -> Section:
        # Levels (MRR, ARR, accounts, ARPA, CLV) trend by design, so "far from their own median" would
        # flag every growing month; anomalies are looked for in rates only. Revenue churn is 1 − GRR and
        # would repeat GRR's alert.
        rates = [k for k in ANOMALY_KPIS if k in self.history]
        labels = [parse_period(key).label for key in self.history["period"]]
        # An ordered categorical keeps period order while the alert messages read "October 2026".
        hist = self.history.assign(period=pd.Categorical(labels, categories=labels, ordered=True))
        hist = hist.melt(id_vars="period", value_vars=rates, var_name="kpi", value_name="value").dropna(subset=["value"])
        hist["direction"] = hist["kpi"].map(lambda k: KPI_DEFS[k][2])
        hist["unit"] = hist["kpi"].map(lambda k: KPI_DEFS[k][1])
        hist["kpi"] = hist["kpi"].map(lambda k: KPI_DEFS[k][0])
        monthly = dict(self.current)
        if monthly.get("logo_churn") is not None:
            monthly["logo_churn"] = metrics.monthly_rate(monthly["logo_churn"], self.period.n_months)
        found = metrics.threshold_alerts(monthly) + metrics.detect_anomalies(hist)
        return Section("Alerts", [Alerts(found)], lead="KPIs outside their usual range or past a business threshold.")

    def revenue(self) -> Section:
        bridge = metrics.mrr_bridge(self.data.movements, self.period)
        frame = bridge.as_frame()
        start_label = f"end of {self.period.previous().label}"
        waterfall = charts.bridge_waterfall(frame, start_label, f"end of {self.period.label}")
        months = [add_months(self.period.last_month, -k) for k in range(23, -1, -1)]
        months = [m for m in months if m >= self.data.first_month]
        trend = charts.mrr_trend(metrics.mrr_series(self.data.movements, [pd.Timestamp(m) for m in months]))
        table = Table(frame.rename(columns={"step": "Movement", "amount": "MRR"}), caption="MRR bridge", units={"MRR": "currency"})
        return Section("Recurring revenue", [trend, waterfall, table],
                       lead=f"MRR moved from {metrics.format_value(bridge.start_mrr, 'currency')} to "
                            f"{metrics.format_value(bridge.end_mrr, 'currency')} in {self.period.label}.")

    def retention(self) -> Section:
        keys = ["nrr", "grr", "logo_churn", "revenue_churn", "customers", "arpa", "clv"]
        rows = [{"KPI": KPI_DEFS[k][0], "This period": metrics.format_value(self.current[k], KPI_DEFS[k][1]),
                 "Previous period": metrics.format_value(self.previous[k], KPI_DEFS[k][1]) if self.previous else "—"}
                for k in keys]
        children = [Table(pd.DataFrame(rows), caption="Retention and account economics")]
        hist = self.history.dropna(subset=["nrr", "grr"])
        if len(hist) >= 2:
            children.insert(0, charts.rate_trend(hist, {"nrr": "NRR", "grr": "GRR"}, ylabel="Retention", reference=1.0))
        return Section("Retention and churn", [Grid(children)])

    def forecast(self) -> Section:
        months = [pd.Timestamp(m) for m in self._all_months()]
        series = metrics.mrr_series(self.data.movements, months)
        try:
            fc = metrics.forecast_mrr(series, horizon=self.forecast_months, level=0.9)
        except EmptyDataError as exc:
            return Section("Forecast", [Callout(str(exc), "info")])
        last = fc.iloc[-1]
        chart = charts.mrr_trend(series.tail(24), fc, highlight=months[-1])
        table = Table(fc.assign(month=pd.to_datetime(fc["month"]).dt.strftime("%b %Y")).rename(
            columns={"month": "Month", "forecast": "Forecast", "lower": "Low (90%)", "upper": "High (90%)"}),
            caption="MRR forecast", units={"Forecast": "currency", "Low (90%)": "currency", "High (90%)": "currency"})
        lead = (f"If recent trends hold, MRR reaches about {metrics.format_value(last['forecast'], 'currency')} by "
                f"{pd.Timestamp(last['month']):%B %Y} (90% interval {metrics.format_value(last['lower'], 'currency')}"
                f" to {metrics.format_value(last['upper'], 'currency')}).")
        return Section("Forecast", [chart, table], lead=lead)

    def delivery(self) -> Section:
        d = metrics.project_delivery(self.data.projects, self.period)
        if not d.delivered:
            return Section("Project delivery", [Callout(f"No project was delivered in {self.period.label}.", "info")])
        prev = metrics.project_delivery(self.data.projects, self.period.previous())
        kpis = [Kpi("on_time_rate", "On-time delivery", d.on_time_rate, "percent", prev.on_time_rate, "up_is_good"),
                Kpi("project_margin", "Project margin", d.gross_margin, "percent", prev.gross_margin, "up_is_good"),
                Kpi("hours_overrun", "Hours overrun", d.avg_hours_overrun, "percent", prev.avg_hours_overrun, "down_is_good"),
                Kpi("delivered", "Projects delivered", float(d.delivered), "number", float(prev.delivered), "up_is_good")]
        worst = metrics.worst_overruns(self.data.projects, self.period, limit=5)
        clients = self.data.clients.set_index("client_id")["name"]
        worst = worst.assign(client=worst["client_id"].map(clients))[["name", "client", "estimated_hours", "actual_hours", "overrun", "on_time"]]
        worst = worst.rename(columns={"name": "Project", "client": "Client", "estimated_hours": "Est. hours",
                                      "actual_hours": "Actual hours", "overrun": "Overrun", "on_time": "On time"})
        worst["On time"] = worst["On time"].map({True: "yes", False: "no"})
        table = Table(worst, caption="Largest hour overruns", units={"Est. hours": "number", "Actual hours": "number", "Overrun": "percent"})
        return Section("Project delivery", [KpiCards(kpis, comparison_label=self.period.previous().label), table])

    def customers(self) -> Section:
        scores = metrics.health_scores(self.data.clients, metrics.mrr_by_client(self.data.movements, pd.Timestamp(self.period.last_month)),
                                       self.data.usage, self.data.tickets, self.data.surveys, as_of=self.period.end)
        dist = metrics.health_distribution(scores)
        sat = [self.kpi("nps"), self.kpi("csat")]
        at_risk = scores[scores["band"] == "at_risk"].sort_values("mrr", ascending=False).head(AT_RISK_ROWS)
        children = [KpiCards(sat, comparison_label=self.period.previous().label), Grid([charts.health_bands(dist), Table(
            dist.assign(band=dist["band"].str.replace("_", " ").str.capitalize()).rename(
                columns={"band": "Band", "clients": "Accounts", "mrr": "MRR", "share": "Share of MRR"}),
            caption="Health distribution", units={"MRR": "currency", "Share of MRR": "percent"})])]
        if at_risk.empty:
            children.append(Callout("No active account is at risk.", "good"))
        else:
            children.append(Table(at_risk[["name", "mrr", "score", "drivers"]].rename(
                columns={"name": "Account", "mrr": "MRR", "score": "Health", "drivers": "Weakest drivers"}),
                caption=f"At-risk accounts ({len(scores[scores['band'] == 'at_risk'])}), by MRR at stake",
                units={"MRR": "currency", "Health": "number"}))
        return Section("Customers: satisfaction and health", children)

    def glossary(self):
        return glossary(GLOSSARY_KEYS)

    def _all_months(self) -> list[date]:
        months, m = [], self.data.first_month
        while m <= self.period.last_month:
            months.append(m)
            m = add_months(m, 1)
        return months


def build(period: str = "latest", forecast_months: int = 6, brand: str = "quire", url: str | None = None) -> ExecutiveReport:
    """Load the data for ``period`` and prepare the report; charts use ``brand``'s palette."""
    from quire.brand import load_brand

    use_brand(load_brand(brand))
    return ExecutiveReport(load(period, url), forecast_months)
