"""The client report: one client's content performance for one period, white-label, in the client's brand.

:func:`load` is the only I/O (one read-only warehouse connection). Tenant isolation:
every query it runs is filtered by this client's id in SQL
(:mod:`quire.warehouse.client_queries`), except the portfolio comparison, which reads
only anonymous per-client sums and shows nothing but percentile ranks and, for a
portfolio of at least five clients, its quartiles. No revenue is loaded. No text this
module displays names the reporting platform: the brand kit speaks for the report.

The notebook calls :func:`build` once and then displays one section per cell. For a
client without views in the period, the engagement section says so once, and the
sections that need activity (platforms, top content, comparison, recommendations)
return None, which a notebook cell displays as nothing: no empty charts, no repetition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import pandas as pd

from quire.chart_style import use_brand
from quire.charts import client as charts
from quire.config import get_settings
from quire.display import Callout, KpiCards, ReportHeader, Section, Table
from quire.errors import ParameterError
from quire.glossary import glossary
from quire.metrics import engagement as eng
from quire.metrics.health import HEALTHY_MIN, WATCH_MIN, health_scores
from quire.metrics.kpi import Kpi, format_value
from quire.periods import Period, resolve_period
from quire.warehouse import client_queries, coverage, queries
from quire.warehouse.engine import connection

TOP_CONTENT = 10
# Windows the health score reads before the period's end (and the previous period's end).
USAGE_LOOKBACK = timedelta(weeks=16)
TICKET_LOOKBACK = timedelta(days=120)
SURVEY_LOOKBACK = timedelta(days=200)

GLOSSARY_KEYS = ["views", "clicks", "conversions", "engagements", "ctr", "content_conversion_rate",
                 "engagement_rate", "views_growth", "engagement_trend", "health_score", "portfolio_percentile",
                 "recommendations", "previous_period"]

PLATFORM_LABELS = {"web": "Website", "linkedin": "LinkedIn", "instagram": "Instagram", "facebook": "Facebook",
                   "newsletter": "Newsletter"}
TYPE_LABELS = {"article": "Article", "video": "Video", "social_post": "Social post", "newsletter": "Newsletter",
               "landing_page": "Landing page"}
TYPE_NOUNS = {"article": "articles", "video": "videos", "social_post": "social posts", "newsletter": "newsletters",
              "landing_page": "landing pages"}  # for sentences: "Do more videos"
METRIC_LABELS = {"ctr": "Click-through rate", "conversion_rate": "Conversion rate", "engagement_rate": "Engagement rate",
                 "views_growth": "Views growth"}
# key: (label, unit) — every headline KPI is better when it goes up.
KPI_DEFS = {
    "views": ("Views", "number"),
    "clicks": ("Clicks", "number"),
    "ctr": ("Click-through rate", "percent"),
    "conversions": ("Conversions", "number"),
    "conversion_rate": ("Conversion rate", "percent"),
    "engagement_rate": ("Engagement rate", "percent"),
    "health_score": ("Health score", "number"),
}


def _label(value: str, labels: dict[str, str]) -> str:
    return labels.get(value, str(value).replace("_", " ").capitalize())


def _signed_pct(value: float | None, decimals: int = 0) -> str:
    """+12% / −8% / — (for changes shown in tables)."""
    if value is None or pd.isna(value):
        return "—"
    rounded = round(value * 100, decimals)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else ""
    return f"{sign}{abs(rounded):.{decimals}f}%"


@dataclass(frozen=True)
class ClientData:
    """Everything the report reads from the warehouse: the client's own rows and anonymous portfolio sums."""

    period: Period
    first_month: date
    client: pd.Series          # the client's own record (name, slug, effective brand…)
    content: pd.DataFrame      # the client's content
    engagement: pd.DataFrame   # the client's daily rows, previous period start .. period end
    portfolio: pd.DataFrame    # anonymous per-client sums (no client column)
    usage: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    paying: bool               # MRR above zero at the end of the period (no amount is loaded)
    paying_before: bool        # … at the end of the previous period
    last_activity: date | None = None  # the client's last day with views up to the period's end


def resolve_client(conn, slug: str) -> pd.Series:
    """The client named by ``slug`` (empty: the first active client by name); ParameterError if unknown."""
    if not isinstance(slug, str):
        raise ParameterError(f"parameter 'client' must be a client slug, not {type(slug).__name__}", parameter="client")
    slug = slug.strip()
    row = queries.client_by_slug(conn, slug) if slug else client_queries.first_active_client(conn)
    if row is None:
        if not slug:
            raise ParameterError("parameter 'client': the warehouse has no active client to report on", parameter="client")
        # Other clients' slugs are not listed: this message can end up in a notebook.
        raise ParameterError(f"parameter 'client': no client {slug!r} in the warehouse; `quire clients` lists the slugs",
                             parameter="client")
    return row


def load(client: str, period: str, url: str | None = None) -> ClientData:
    """Read the client's data for ``period`` (and the previous period) from the warehouse."""
    with connection(url or get_settings().warehouse) as conn:
        row = resolve_client(conn, client)
        first, last = coverage.report_range("client", conn)
        p = resolve_period(period, first_month=first, last_month=last)
        prev = p.previous()
        cid = int(row["client_id"])
        return ClientData(
            period=p, first_month=first, client=row,
            content=client_queries.client_content(conn, cid, p.end),
            engagement=client_queries.client_engagement(conn, cid, prev.start, p.end),
            portfolio=client_queries.portfolio_engagement(conn, p.start, p.end, prev.start, prev.end),
            usage=client_queries.client_usage(conn, cid, prev.end - USAGE_LOOKBACK, p.end),
            tickets=client_queries.client_tickets(conn, cid, prev.end - TICKET_LOOKBACK, p.end),
            surveys=client_queries.client_surveys(conn, cid, prev.end - SURVEY_LOOKBACK, p.end),
            paying=client_queries.client_is_paying(conn, cid, p.last_month),
            paying_before=client_queries.client_is_paying(conn, cid, prev.last_month),
            last_activity=client_queries.client_last_activity(conn, cid, p.end),
        )


class ClientReport:
    """The computed report; each public method returns one displayable section (or None: nothing to show)."""

    def __init__(self, data: ClientData) -> None:
        self.data = data
        self.period = data.period
        self.previous_period = data.period.previous()
        self.name = str(data.client["name"])

    # -- computed once ------------------------------------------------------------------
    @cached_property
    def daily(self) -> pd.DataFrame:
        """The client's daily rows with each item's title, platform and content type."""
        content = self.data.content[["content_id", "title", "platform", "content_type", "published_on"]]
        return self.data.engagement.merge(content, on="content_id", how="left", validate="many_to_one")

    @cached_property
    def current_rows(self) -> pd.DataFrame:
        return eng.window(self.daily, self.period.start, self.period.end)

    @cached_property
    def previous_rows(self) -> pd.DataFrame:
        return eng.window(self.daily, self.previous_period.start, self.previous_period.end)

    @cached_property
    def now(self) -> eng.Totals:
        return eng.totals(self.current_rows)

    @cached_property
    def before(self) -> eng.Totals:
        return eng.totals(self.previous_rows)

    @property
    def active(self) -> bool:
        return self.now.active

    @property
    def freq(self) -> str:
        return "day" if self.period.kind == "month" else "week"

    def _health(self, as_of: date, paying: bool) -> pd.Series | None:
        """The client's health-score row at ``as_of`` (None when not paying then, or without data)."""
        if not paying:
            return None
        cid = int(self.data.client["client_id"])
        clients = pd.DataFrame({"client_id": [cid], "name": [self.name]})
        # A unit weight stands in for MRR: health_scores only needs to know the account pays.
        scores = health_scores(clients, pd.Series({cid: 1.0}), self.data.usage, self.data.tickets, self.data.surveys, as_of=as_of)
        row = scores.iloc[0] if not scores.empty else None
        return None if row is None or pd.isna(row["score"]) else row

    @cached_property
    def health_now(self) -> pd.Series | None:
        return self._health(self.period.end, self.data.paying)

    @cached_property
    def health_before(self) -> pd.Series | None:
        return self._health(self.previous_period.end, self.data.paying_before)

    @cached_property
    def health_parts(self) -> pd.DataFrame | None:
        if self.health_now is None:
            return None
        return eng.health_components(self.health_now, eng.recent_tickets(self.data.tickets, self.period.end))

    def _values(self, totals: eng.Totals, health: pd.Series | None) -> dict[str, float | None]:
        values: dict[str, float | None] = {k: None for k in KPI_DEFS}
        if totals.active:
            values.update({k: v for k, v in totals.as_dict().items() if k in KPI_DEFS})
        values["health_score"] = float(health["score"]) if health is not None else None
        return values

    @cached_property
    def by_platform(self) -> pd.DataFrame:
        frame = eng.breakdown(self.current_rows, self.previous_rows, "platform")
        return frame.assign(label=frame["platform"].map(lambda v: _label(v, PLATFORM_LABELS)))

    @cached_property
    def by_type(self) -> pd.DataFrame:
        frame = eng.breakdown(self.current_rows, self.previous_rows, "content_type")
        return frame.assign(label=frame["content_type"].map(lambda v: _label(v, TYPE_LABELS)),
                            noun=frame["content_type"].map(lambda v: TYPE_NOUNS.get(v, _label(v, TYPE_LABELS).lower() + " content")))

    @cached_property
    def top(self) -> pd.DataFrame:
        return eng.top_content(self.current_rows, TOP_CONTENT)

    @cached_property
    def standing(self) -> pd.DataFrame:
        """The client's percentile ranks among the anonymous portfolio (see :func:`metrics.engagement.standing`)."""
        own = {"ctr": self.now.ctr, "conversion_rate": self.now.conversion_rate,
               "engagement_rate": self.now.engagement_rate,
               "views_growth": eng.change(float(self.now.views), float(self.before.views))}
        frame = eng.standing(own, eng.portfolio_metrics(self.data.portfolio))
        return frame.assign(label_metric=frame["metric"].map(METRIC_LABELS))

    def _no_activity(self) -> Callout:
        """What replaces the sections that need activity: one callout, in the first of them."""
        last = self.data.last_activity
        if self.before.active:
            since = f" In {self.previous_period.label} it had {self.before.views:,} views."
        elif last is not None:
            since = f" The most recent views were on {last.day} {last:%B %Y}."
        else:
            since = ""
        return Callout(f"{self.name} had no content views in {self.period.label}.{since} Platforms, top content, "
                       f"the comparison with other clients and recommendations need activity in the period, so they "
                       f"are left out of this report.", "info", title="No activity.")

    # -- sections -------------------------------------------------------------------------
    def header(self) -> ReportHeader:
        return ReportHeader("Performance report", self.period.label, client=self.name,
                            subtitle=f"Content, engagement and results compared with {self.previous_period.label}",
                            extra={"period_key": self.period.key})

    def headline(self) -> KpiCards:
        now = self._values(self.now, self.health_now)
        before = self._values(self.before, self.health_before)
        kpis = [Kpi(key, label, now[key], unit, before[key], "up_is_good") for key, (label, unit) in KPI_DEFS.items()]
        return KpiCards(kpis, comparison_label=self.previous_period.label)

    def engagement(self) -> Section:
        title = "Engagement over time"
        if not self.active:
            return Section(title, [self._no_activity()])
        p, prev = self.period, self.previous_period
        current = eng.time_series(self.current_rows, p.start, p.end, self.freq)
        previous = eng.time_series(self.previous_rows, prev.start, prev.end, self.freq) if self.before.active else None
        chart = charts.engagement_over_time(current, previous, current_label=p.label, previous_label=prev.label, freq=self.freq)
        return Section(title, [chart, self._blocks_table()], lead=self._engagement_lead(current))

    def _blocks_table(self) -> Table:
        """The period week by week (a month) or month by month (a quarter or year): the chart's figures."""
        by = "week" if self.period.kind == "month" else "month"
        frame = eng.blocks(self.current_rows, self.period.start, self.period.end, by)
        if by == "week":
            when = [f"{a.day}–{b.day} {b:%b}" if a != b else f"{a.day} {a:%b}" for a, b in zip(frame["start"], frame["end"], strict=True)]
        else:
            when = [f"{a:%B %Y}" for a in frame["start"]]
        table = pd.DataFrame({by.capitalize(): when, "Views": frame["views"], "Clicks": frame["clicks"], "CTR": frame["ctr"],
                              "Conversions": frame["conversions"], "Conv. rate": frame["conversion_rate"],
                              "Engagements": frame["engagements"], "Engagement rate": frame["engagement_rate"]})
        return Table(table, caption=f"{self.period.label} {'week' if by == 'week' else 'month'} by {by}",
                     units={"Views": "number", "Clicks": "number", "Conversions": "number", "Engagements": "number",
                            "CTR": "percent", "Conv. rate": "percent", "Engagement rate": "percent"})

    def _engagement_lead(self, current: pd.DataFrame) -> str:
        views = f"{self.now.views:,} views"
        moved = eng.change(float(self.now.views), float(self.before.views))
        if moved is None:
            first = f"{self.name} had {views} in {self.period.label} (no views in {self.previous_period.label} to compare with)."
        else:
            verb = "up" if moved >= 0 else "down"
            first = (f"{self.name} had {views} in {self.period.label}, {verb} {abs(moved):.0%} on "
                     f"{self.previous_period.label} ({self.before.views:,}).")
        # Leading days without views (a client that started mid-period) are not part of the trend.
        seen = current["views"].to_numpy().nonzero()[0]
        t = eng.trend(current["views"].iloc[seen[0]:] if len(seen) else current["views"])
        if t.direction in ("unknown", "flat"):
            second = " Within the period, daily views held steady." if t.direction == "flat" else ""
        else:
            per_week = abs(t.slope) * (7 if self.freq == "day" else 1)
            more = "more" if t.slope > 0 else "fewer"
            second = (f" Within the period, daily views were {t.direction}: about {per_week:,.0f} {more} "
                      f"views a day each week, on a straight-line fit.")
        return first + second

    def channels(self) -> Section | None:
        title = "Platforms and content types"
        if not self.active:
            return None  # said once, in the engagement section
        parts = []
        for frame, name, heading in ((self.by_platform, "platform", "By platform"), (self.by_type, "content type", "By content type")):
            chart = charts.breakdown_bars(frame, dimension=name)
            parts.append(Section(heading, [chart, self._breakdown_table(frame, name)], level=3))
        best = self.by_platform.iloc[0]
        lead = (f"{best['label']} brought the most views ({best['views']:,}, "
                f"{best['views'] / self.now.views:.0%} of the total). Conversion rate is conversions per click.")
        return Section(title, parts, lead=lead)

    def _breakdown_table(self, frame: pd.DataFrame, name: str) -> Table:
        rows = frame.loc[frame["views"] > 0]
        table = pd.DataFrame({
            name.capitalize(): rows["label"],
            "Items": rows["items"],
            "Views": rows["views"],
            "Views change": [("new" if prev == 0 else _signed_pct(ch))
                             for prev, ch in zip(rows["previous_views"], rows["views_change"], strict=True)],
            "Clicks": rows["clicks"],
            "CTR": rows["ctr"],
            "Conversions": rows["conversions"],
            "Conv. rate": rows["conversion_rate"],
            "Engagement rate": rows["engagement_rate"],
        })
        return Table(table, caption=f"Engagement by {name}, {self.period.label} (views change: on {self.previous_period.label})",
                     units={"Items": "number", "Views": "number", "Clicks": "number", "Conversions": "number",
                            "CTR": "percent", "Conv. rate": "percent", "Engagement rate": "percent"})

    def top_content(self) -> Section | None:
        title = "Top content"
        if not self.active:
            return None  # said once, in the engagement section
        top = self.top
        table = pd.DataFrame({
            "Title": top["title"],
            "Platform": top["platform"].map(lambda v: _label(v, PLATFORM_LABELS)),
            "Type": top["content_type"].map(lambda v: _label(v, TYPE_LABELS)),
            "Published": pd.to_datetime(top["published_on"]).map(lambda d: f"{d.day} {d:%b %Y}"),
            "Views": top["views"], "CTR": top["ctr"], "Conversions": top["conversions"], "Conv. rate": top["conversion_rate"],
        })
        ranked_all = self.now.items <= len(top)
        if not ranked_all:
            share = top["conversions"].sum() / self.now.conversions if self.now.conversions else None
            lead = f"The {len(top)} pieces of content with the most conversions in {self.period.label}"
            lead += f", together {share:.0%} of all conversions." if share is not None else " (ranked by clicks and views: there were no conversions)."
        else:
            lead = (f"All {len(top)} pieces of content seen in {self.period.label}, ranked by conversions." if len(top) > 1
                    else f"The one piece of content seen in {self.period.label}.")
        caption = "Content ranked by conversions" if ranked_all else f"Top {len(top)} by conversions"
        return Section(title, [Table(table, caption=caption,
                                     units={"Views": "number", "Conversions": "number", "CTR": "percent", "Conv. rate": "percent"})],
                       lead=lead)

    def health(self) -> Section:
        title = "Account health"
        if not self.data.paying:
            return Section(title, [Callout(f"The account had no active subscription at the end of {self.period.label}, "
                                           f"so no health score is given.", "info")])
        if self.health_now is None:
            return Section(title, [Callout("There is not yet enough usage, support or survey data to score the "
                                           "account's health.", "info")])
        score = float(self.health_now["score"])
        band = "healthy" if score >= HEALTHY_MIN else "worth watching" if score >= WATCH_MIN else "at risk"
        lead = f"Health score {score:.0f} of 100 at the end of {self.period.label}: {band}."
        if self.health_before is not None:
            delta = score - float(self.health_before["score"])
            lead += (f" That is {abs(delta):.0f} points {'up' if delta > 0 else 'down'} on {self.previous_period.label}."
                     if round(delta) else f" Unchanged on {self.previous_period.label}.")
        parts = self.health_parts
        chart = charts.health_components(parts, score)
        table = Table(pd.DataFrame({"Driver": parts["label"], "What we see": parts["measure"],
                                    "Score": (parts["score"] * 100).round()}),
                      caption="Health drivers (score 0–100; below 50 is weak)", units={"Score": "number"})
        return Section(title, [chart, table], lead=lead + " The score combines how much your team uses the service, "
                       "support load and your latest feedback.")

    def portfolio(self) -> Section | None:
        title = "How you compare"
        if not self.active:
            return None  # said once, in the engagement section
        frame = self.standing
        n = int(frame["n"].max()) if not frame.empty else 0
        if frame["percentile"].isna().all():
            return Section(title, [Callout(f"Fewer than {eng.MIN_PORTFOLIO_RANK} comparable clients were active in "
                                           f"{self.period.label}: too few for a fair, anonymous comparison.", "info")])
        bands = frame["p50"].notna().any()
        table = pd.DataFrame({
            "Metric": frame["label_metric"],
            "You": [_signed_pct(v, 1) if m == "views_growth" else format_value(v, "percent")
                    for m, v in zip(frame["metric"], frame["value"], strict=True)],
            "Percentile rank": frame["percentile"].round(),
            "Standing": frame["label"],
        })
        if bands:
            table["Portfolio median"] = [_signed_pct(v, 1) if m == "views_growth" else format_value(v, "percent")
                                         for m, v in zip(frame["metric"], frame["p50"], strict=True)]
            table["Middle half"] = [f"{_signed_pct(lo, 1)} to {_signed_pct(hi, 1)}" if m == "views_growth" else
                                    f"{format_value(lo, 'percent')} to {format_value(hi, 'percent')}"
                                    for m, lo, hi in zip(frame["metric"], frame["p25"], frame["p75"], strict=True)]
        children = [charts.standing_dots(frame), Table(table, caption="Your standing among comparable clients",
                                                       units={"Percentile rank": "number"})]
        if not bands:
            children.append(Callout(f"With fewer than {eng.MIN_PORTFOLIO_BANDS} comparable clients, only your rank is "
                                    f"shown.", "info"))
        lead = (f"Your results ranked anonymously against the {n} clients with content views in {self.period.label}. "
                f"A percentile rank of 80 means you did as well as or better than 80% of them. No other client's "
                f"figures are shown.")
        return Section(title, children, lead=lead)

    def recommendations(self) -> Section | None:
        title = "Recommendations"
        if not self.active:
            return None  # said once, in the engagement section
        evidence = eng.Evidence(current=self.now, previous=self.before if self.before.active else None,
                                by_platform=self.by_platform, by_type=self.by_type, standing=self.standing,
                                top=self.top, health=self.health_parts, previous_label=self.previous_period.label)
        found = eng.recommendations(evidence)
        if not found:
            return Section(title, [Callout("No single change stands out this period: results are in line with "
                                           f"{self.previous_period.label} and with comparable clients. Keep the current plan.", "good")])
        items = [Callout(r.message, r.severity, title=f"{i}. {r.title}.") for i, r in enumerate(found, 1)]
        return Section(title, items, lead="What the figures in this report suggest doing next, most important first.")

    def glossary(self):
        return glossary(GLOSSARY_KEYS)


def build(client: str = "", period: str = "latest", url: str | None = None) -> ClientReport:
    """Load ``client``'s data for ``period`` and prepare the report in the client's brand.

    An empty ``client`` picks the first active client by name (for exploring); the pipeline
    always names one. Raises :class:`~quire.errors.ParameterError` for an unknown client or
    a period outside the data.
    """
    from quire.brand import load_brand

    data = load(client, period, url)
    use_brand(load_brand(str(data.client["brand"])))
    return ClientReport(data)


__all__ = ["ClientData", "ClientReport", "build", "load", "resolve_client"]
