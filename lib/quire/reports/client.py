"""The client report: one client's content performance for one period, white-label, in the client's brand.

:func:`~quire.reports.client_data.load` is the only I/O (one read-only warehouse connection, every
query filtered by this client's id except the anonymous sums of the portfolio comparison). Of those
sums the report publishes only what :mod:`quire.metrics.peers` allows (no figure from which one of
the other clients can be recovered); the comparison section is :mod:`quire.reports.client_standing`'s.
No text this module displays names the reporting platform: the brand kit speaks for the report.

The notebook calls :func:`build` once and then displays one section per cell. For a
client without views in the period, the engagement section says so once, and the
sections that need activity (platforms, top content, comparison, recommendations)
return None, which a notebook cell displays as nothing: no empty charts, no repetition.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

import pandas as pd

from quire import formatting
from quire.formatting import counted, day_span, format_day, long_date, month_year, number, percent, relative_change
from quire.chart_style import use_brand
from quire.charts import client as charts
from quire.display import Callout, KpiCards, ReportHeader, Section, Table
from quire.glossary import glossary
from quire.metrics import advice
from quire.metrics import engagement as eng
from quire.metrics.health import HEALTHY_MIN, WATCH_MIN, health_scores
from quire.metrics.kpi import Kpi
from quire.reports.client_data import HEALTH_TABLES, ClientData, load, portfolio_for_batch, record_date, resolve_client
from quire.reports.client_standing import ClientStanding
from quire.reports.prose import join_words
from quire.contract import absent_note, missing_phrase

TOP_CONTENT = 10
NOTABLE_CHANGE = 0.20  # a change in total views from which the lead checks whether the usual day changed too
QUIET_END_DAYS = 7  # days at the end of a period without any activity from which the lead says when it stopped

GLOSSARY_KEYS = ["views", "clicks", "conversions", "engagements", "ctr", "content_conversion_rate",
                 "engagement_rate", "views_growth", "engagement_trend", "health_score", "portfolio_comparison",
                 "recommendations", "previous_period"]

#: Terms of the sections only a period with activity has (its trend, its standing among other clients, the advice).
ACTIVE_ONLY_TERMS = {"engagement_trend", "portfolio_comparison", "recommendations"}

PLATFORM_LABELS = {"web": "Website", "linkedin": "LinkedIn", "instagram": "Instagram", "facebook": "Facebook",
                   "newsletter": "Newsletter"}
TYPE_LABELS = {"article": "Article", "video": "Video", "social_post": "Social post", "newsletter": "Newsletter",
               "landing_page": "Landing page"}
TYPE_NOUNS = {"article": "articles", "video": "videos", "social_post": "social posts", "newsletter": "newsletters",
              "landing_page": "landing pages"}  # for sentences: "Do more videos"
# key: (label, unit) — every headline KPI is better when it goes up.
KPI_DEFS = {
    "views": ("Views", "number"),
    "clicks": ("Clicks", "number"),
    "ctr": ("Click-through rate", "percent"),
    "conversions": ("Conversions", "number"),
    "conversion_rate": ("Conversion rate", "percent"),
    "engagement_rate": ("Engagement rate", "percent"),
    "health_score": ("Health score", "score"),  # 0–100: its change is in points, on the card as in the text
}


UNKNOWN_TITLE = "Content not in your content list"


def tied_words(top: eng.TopContent) -> str:
    """" 3 more pieces have as many conversions as the last one listed (1); …" when the table's cut-off falls in a
    tie ("the 10 with the most conversions" while three more had as many as the 10th), else ""."""
    if not top.tied_out:
        return ""
    then = "views" if top.by == "clicks" else "clicks, then views"
    return (f" {top.tied_out} more {'piece has' if top.tied_out == 1 else 'pieces have'} as many {top.by} as the last one "
            f"listed ({number(int(top.frame[top.by].iloc[-1]))}); the table keeps those with the most {then}.")


def _label(value: str, labels: dict[str, str]) -> str:
    return labels.get(value, str(value).replace("_", " ").capitalize())


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
        daily = self.data.engagement.merge(content, on="content_id", how="left", validate="many_to_one")
        # Views recorded against an item the client's content list lacks still count in every breakdown
        # (as unknown), never only in the totals; the item's own record is never read from another client.
        return daily.fillna({"title": UNKNOWN_TITLE, "platform": "unknown", "content_type": "unknown"})

    @cached_property
    def current_rows(self) -> pd.DataFrame:
        return eng.window(self.daily, self.period.start, self.period.end)

    @property
    def _data_start(self) -> str:
        """"in August 2026", or "partway through August 2026" when the data starts within a month.

        Never the day: the warehouse's first day of engagement is some client's first day, which may
        not be this client's (its month is no more than the periods the data offers tell anyway).
        """
        day = self.data.first_day
        return (f"partway through {month_year(day)}" if day is not None and day.day != 1
                else f"in {month_year(self.data.first_month)}")

    @property
    def in_data(self) -> bool:
        """Whether the previous period lies wholly inside the data (the first period of the data has none)."""
        # By day: an export that starts on 15 August holds half of August, no month to compare September with.
        return self.previous_period.start >= (self.data.first_day or self.data.first_month)

    @property
    def signed_up_within(self) -> date | None:
        """The client's signup day when it falls after the previous period began (the client has only part of it)."""
        day = record_date(self.data.client, "signup_date")
        return day if day is not None and day > self.previous_period.start else None

    @property
    def comparable(self) -> bool:
        """Whether the client has a whole previous period in the data to compare with: a client that signed up
        on 17 July read "+662% vs July" in August, against its first fortnight; nor has one whose subscription was
        paused in it."""
        return self.in_data and self.signed_up_within is None and self.data.subscribed_before

    @cached_property
    def previous_rows(self) -> pd.DataFrame:
        # A previous period that starts before the data does would be compared on a fraction of its days.
        if not self.comparable:
            return self.daily.iloc[0:0]
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
        scores = health_scores(clients, pd.Series({cid: 1.0}), self.data.usage, self.data.tickets, self.data.surveys,
                               as_of=as_of, tickets_recorded="support_tickets" not in self.health_absent,
                               usage_through=self.data.usage_through)
        row = scores.iloc[0] if not scores.empty else None
        return None if row is None or pd.isna(row["score"]) else row

    @cached_property
    def health_now(self) -> pd.Series | None:
        return self._health(self.period.end, self.data.paying)

    @cached_property
    def health_before(self) -> pd.Series | None:
        # Scored at the end of a previous period that starts before the data, it would rest on a fraction of its inputs.
        return self._health(self.previous_period.end, self.data.paying_before) if self.comparable else None

    @cached_property
    def health_parts(self) -> pd.DataFrame | None:
        if self.health_now is None:
            return None
        return eng.health_components(self.health_now, eng.recent_tickets(self.data.tickets, self.period.end))

    def _values(self, totals: eng.Totals, health: pd.Series | None, *, counted: bool) -> dict[str, float | None]:
        """The cards' figures of a period; ``counted``: a period the data covers, whose counts are zero without rows."""
        values: dict[str, float | None] = {k: None for k in KPI_DEFS}
        if totals.active:
            values.update({k: v for k, v in totals.as_dict().items() if k in KPI_DEFS})
        elif counted:  # no views is 0 views (a churned client's month), not "—"; its rates per view have no basis
            # (clicks and conversions without views are still counted: a platform may withhold its impressions)
            values.update({k: float(getattr(totals, k)) for k in eng.MEASURES if k in KPI_DEFS})
            if totals.clicks:  # the rate per click has one: 353 conversions of 3,180 newsletter clicks read "—"
                values["conversion_rate"] = totals.conversion_rate
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
    def top(self) -> eng.TopContent:
        return eng.top_content(self.current_rows, TOP_CONTENT)

    @cached_property
    def daily_views(self) -> tuple[pd.Series, pd.Series | None]:
        """Views per day in the period and, when comparable, in the previous period."""
        p, prev = self.period, self.previous_period
        now = eng.time_series(self.current_rows, p.start, p.end, "day")["views"]
        before = eng.time_series(self.previous_rows, prev.start, prev.end, "day")["views"] if self.before.active else None
        return now, before

    def _days_by(self, column: str) -> dict[str, tuple[pd.Series, pd.Series]]:
        """Views per day in the period and the previous period, for each value of ``column`` (e.g. content type)."""
        p, prev = self.period, self.previous_period
        values = [str(v) for v in pd.unique(self.current_rows[column].astype(str))]
        now = eng.daily_views_by(self.current_rows, column, p.start, p.end, values)
        before = eng.daily_views_by(self.previous_rows, column, prev.start, prev.end, values)
        return {v: (now[v], before[v]) for v in values}

    @cached_property
    def comparison(self) -> ClientStanding:
        """What the standing among the other clients knows of this client's period (:mod:`.client_standing`)."""
        return ClientStanding(self.period.label, self.previous_period.label, in_data=self.in_data,
                              comparable=self.comparable, ended_within=self._ended_within,
                              signed_up_within=self.signed_up_within)

    @cached_property
    def standing(self) -> pd.DataFrame:
        """The client's standing among the other clients, as it may be published (:meth:`ClientStanding.frame`)."""
        return self.comparison.frame(self.now, self.before, self.data.portfolio)

    def _no_activity(self) -> Callout:
        """What replaces the sections that need activity: one callout, in the first of them."""
        last = self.data.last_activity
        if self.before.active:
            since = f" In {self.previous_period.label} it had {counted(self.before.views, 'view')}."
        elif last is not None:
            since = f" The most recent views were on {long_date(last)}."
        else:
            since = ""
        return Callout(f"{self.name} had no content views in {self.period.label}.{since} Platforms, top content, "
                       f"the comparison with other clients and recommendations need activity in the period, so they "
                       f"are left out of this report.", "info", title="No views." if self.now.clicks or self.now.conversions
                       or self.now.engagements else "No activity.")

    # -- sections -------------------------------------------------------------------------
    def header(self) -> ReportHeader:
        # A client's first month (none of its content was seen before) is compared with nothing.
        compared = f" compared with {self.previous_period.label}" if self.comparable and self.before.active else ""
        return ReportHeader("Performance report", self.period.label, client=self.name,
                            subtitle=f"Content, engagement and results{compared}",
                            extra={"period_key": self.period.key})

    def headline(self) -> KpiCards:
        now = self._values(self.now, self.health_now, counted=True)
        # A previous period without views is left out of the cards, as of the subtitle: "+9,986" on nothing says nothing.
        before = self._values(self.before, self.health_before, counted=False)
        kpis = [Kpi(key, label, now[key], unit, before[key], "up_is_good") for key, (label, unit) in KPI_DEFS.items()
                if key != "health_score" or self.scores_health]
        return KpiCards(kpis, comparison_label=self.previous_period.label, note=self._unseen_note())

    def _unseen_note(self) -> str:
        """Why the click-through and engagement rates are not the clicks or engagements shown ÷ the views shown, when
        content without views (a platform that withholds its impressions) brought some."""
        t = self.now
        if not t.views:
            return ""
        unseen = [counted(n, noun) for n, noun in ((t.clicks - (t.seen_clicks or 0), "click"),
                                                   (t.engagements - (t.seen_engagements or 0), "engagement")) if n > 0]
        if not unseen:
            return ""
        return (f"{join_words(unseen)} came from content without views in {self.period.label} (a platform may withhold "
                "its views): they count in the totals, not in the rates per view, which have no views to divide them by.")

    def engagement(self) -> Section:
        title = "Engagement over time"
        if not self.active:
            return Section(title, [self._no_activity()])
        p, prev = self.period, self.previous_period
        current, previous = self.series
        chart = charts.engagement_over_time(current, previous, current_label=p.label, previous_label=prev.label,
                                            freq=self.freq, period_kind=p.kind)
        return Section(title, [chart, self._blocks_table()], lead=self.engagement_lead())

    @cached_property
    def series(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The period's (and the previous period's) per-day series at the chart's granularity."""
        p, prev = self.period, self.previous_period
        current = eng.time_series(self.current_rows, p.start, p.end, self.freq)
        previous = eng.time_series(self.previous_rows, prev.start, prev.end, self.freq) if self.before.active else None
        return current, previous

    def _blocks_table(self) -> Table:
        """The period week by week (a month) or month by month (a quarter or year): the chart's figures."""
        by = "week" if self.period.kind == "month" else "month"
        frame = eng.blocks(self.current_rows, self.period.start, self.period.end, by)
        if by == "week":  # the month's last block takes its last 1-3 days: its length is said, or it looks the best week
            when = [day_span(a, b) + ("" if (b - a).days == 6 else f" ({(b - a).days + 1} days)")
                    for a, b in zip(frame["start"], frame["end"], strict=True)]
        else:
            when = [month_year(a) for a in frame["start"]]
        table = pd.DataFrame({by.capitalize(): when, "Views": frame["views"], "Clicks": frame["clicks"], "CTR": frame["ctr"],
                              "Conversions": frame["conversions"], "Conv. rate": frame["conversion_rate"],
                              "Engagements": frame["engagements"], "Engagement rate": frame["engagement_rate"]})
        return Table(table, caption=f"{self.period.label} {'week' if by == 'week' else 'month'} by {by}",
                     units={"Views": "number", "Clicks": "number", "Conversions": "number", "Engagements": "number",
                            "CTR": "percent", "Conv. rate": "percent", "Engagement rate": "percent"})

    def engagement_lead(self) -> str:
        """The engagement section's lead: views against the previous period, then the trend within the period."""
        views = counted(self.now.views, "view")
        moved = eng.change(float(self.now.views), float(self.before.views))
        if not self.comparable:
            signup = self.signed_up_within
            if not self.in_data:
                why = f"the data starts {self._data_start}, so there is no complete {self.previous_period.label} to compare with"
            elif signup is None:  # a subscription paused in the previous period
                why = f"it had no subscription for the whole of {self.previous_period.label} to compare with"
            elif signup >= self.period.start:
                why = f"its subscription started on {long_date(signup)}: {self.period.label} is its first {self.period.kind}"
            else:
                why = (f"its subscription started on {long_date(signup)}, so there is no complete "
                       f"{self.previous_period.label} to compare with")
            first = f"{self.name} had {views} in {self.period.label} ({why})."
        elif moved is None:
            first = f"{self.name} had {views} in {self.period.label} (no views in {self.previous_period.label} to compare with)."
        elif self._ended_within is not None:
            first = f"{self.name} had {views} in {self.period.label}{self._per_subscribed_day()}"
        elif round(abs(moved) * 100) == 0:
            first = f"{self.name} had {views} in {self.period.label}, about as many as in {self.previous_period.label} ({number(self.before.views)})."
        else:
            verb = "up" if moved > 0 else "down"
            first = (f"{self.name} had {views} in {self.period.label}, {verb} {relative_change(moved, signed=False)} on "
                     f"{self.previous_period.label} ({number(self.before.views)}).") + self._typical_day_note(moved)
        return first + self._stopped_sentence() + self._trend_sentence(self.series[0])

    def _per_subscribed_day(self) -> str:
        """", up to the end of its subscription on 17 June 2026 (17 of the month's 30 days): views per day rose 7% on
        May 2026 (18,163 against 16,957).": a period the subscription's end cut short, set against the whole previous
        one per day (its total fell 41% by the days after the end alone, which read as "a few exceptional days")."""
        ended = self._ended_within
        days = (ended - self.period.start).days + 1
        whole = (self.period.end - self.period.start).days + 1
        before_days = (self.previous_period.end - self.previous_period.start).days + 1
        now, before = self.now.views / days, self.before.views / before_days
        moved = eng.change(now, before)
        said = (f", up to the end of its subscription on {long_date(ended)} ({days} of the {self.period.kind}'s {whole} "
                "days): views per day ")
        if moved is None or round(abs(moved) * 100) == 0:
            said += f"held about level with {self.previous_period.label}"
        else:
            said += (f"{'rose' if moved > 0 else 'fell'} {relative_change(moved, signed=False)} on "
                     f"{self.previous_period.label}")
        return said + f" ({number(now, 0)} against {number(before, 0)})."

    def _stopped_sentence(self) -> str:
        """A sentence when nothing at all is recorded for the client's content in the last week or more of the period
        (of its subscription, when that ended within it): a feed that stopped otherwise reads as a collapse alone."""
        rows = self.current_rows
        busy = rows.loc[rows[list(eng.MEASURES)].sum(axis=1) > 0, "day"]
        if busy.empty:
            return ""
        last, ended = pd.Timestamp(busy.max()).date(), self._ended_within
        quiet = ((ended or self.period.end) - last).days
        if quiet < QUIET_END_DAYS:
            return ""
        until = f"its subscription's end on {long_date(ended)}" if ended else f"the end of {self.period.label}"
        return (f" Nothing is recorded for its content after {long_date(last)}: the {quiet} days to {until} have no "
                "views, clicks, engagements or conversions.")

    def _typical_day_note(self, moved: float) -> str:
        """A sentence when a large change in total views is carried by a few days, not by the usual day."""
        now, before = self.daily_views
        days = eng.compare_days(now, before) if before is not None else None
        if days is None or abs(moved) < NOTABLE_CHANGE or days.differs:
            return ""
        typical = eng.change(days.median_now, days.median_before)
        # The usual day moved notably the other way (views up on a few huge days while most days fell to 0).
        against = typical is not None and typical * moved < 0 and abs(typical) >= NOTABLE_CHANGE
        if typical is None or (abs(typical) >= abs(moved) / 2 and not against):
            return ""
        # A median of an even number of days can fall between two counts (634.5): shown whole, it would round.
        now, before = (number(v, 0 if float(v).is_integer() else 1) for v in (days.median_now, days.median_before))
        views = "view" if days.median_now == 1 else "views"
        if against:  # the total rose as the usual day fell (or the reverse): not "changed much less"
            return (f" The median day went the other way ({now} {views} against {before}): a few exceptional days "
                    f"make all of the difference.")
        return (f" The median day changed much less ({now} {views} against {before}): "
                f"a few exceptional days make most of the difference.")

    @property
    def _ended_within(self) -> date | None:
        """The day the client's subscription ended, when that lies inside the period before its last day."""
        ended = record_date(self.data.client, "churned_on")
        return ended if ended is not None and self.period.start <= ended < self.period.end else None

    def _trend_sentence(self, current: pd.DataFrame) -> str:
        # Leading days without views (a client that started mid-period) are not part of the trend, nor are the days
        # after the subscription ended: a year that holds the churn read "a typical day went from 419 views to 11".
        ended = self._ended_within
        if ended is not None:
            current = current.loc[pd.to_datetime(current["date"]).dt.date <= ended]
        seen = current["views"].to_numpy().nonzero()[0]
        t = eng.trend(current["views"].iloc[seen[0]:] if len(seen) else current["views"])
        span = f"Within the {self.period.kind}" + (f", up to the end of the subscription on {long_date(ended)}"
                                                   if ended is not None else "")
        if t.direction == "flat":
            return f" {span}, daily views held steady."
        if t.direction == "unclear":
            return f" {span}, daily views went up and down without a clear trend."
        if t.direction in ("rising", "falling"):
            verb = "rose" if t.direction == "rising" else "fell"
            return (f" {span}, daily views {verb}: a typical day went from {typical_day(t.start)} to "
                    f"{typical_day(t.end)}, on a trend line that single spikes do not sway.")
        return ""

    def channels(self) -> Section | None:
        title = "Platforms and content types"
        if not self.active:
            return None  # said once, in the engagement section
        parts = []
        for frame, name, heading in ((self.by_platform, "platform", "By platform"), (self.by_type, "content type", "By content type")):
            chart = charts.breakdown_bars(frame, dimension=name)
            parts.append(Section(heading, [chart, self._breakdown_table(frame, name)], level=3))
        top = self.by_platform.loc[self.by_platform["views"] == self.by_platform["views"].max()]
        share = percent(top["views"].iloc[0] / self.now.views, 0)
        # A tie is said as one: the first by name alone would be a winner by the alphabet.
        lead = (f"{top['label'].iloc[0]} brought the most views ({number(top['views'].iloc[0])}, {share} of the total). "
                if len(top) == 1 else
                f"{join_words(list(top['label']))} brought the most views ({number(top['views'].iloc[0])} each, {share} "
                "of the total each). ") + "Conversion rate is conversions per click."
        return Section(title, parts, lead=lead)

    def _breakdown_table(self, frame: pd.DataFrame, name: str) -> Table:
        rows = frame.loc[frame[list(eng.MEASURES)].gt(0).any(axis=1)]  # what the period counted, views or not
        table = pd.DataFrame({
            name.capitalize(): rows["label"],
            "Items": rows["items"],
            "Views": rows["views"],
            # "new" only where the data could show views before; the data's first period has nothing to compare with.
            "Views change": [(("new" if now else "—") if prev == 0 and self.comparable else relative_change(ch))
                             for now, prev, ch in zip(rows["views"], rows["previous_views"], rows["views_change"],
                                                      strict=True)],
            "Clicks": rows["clicks"],
            "CTR": rows["ctr"],
            "Conversions": rows["conversions"],
            "Conv. rate": rows["conversion_rate"],
            "Engagement rate": rows["engagement_rate"],
        })
        units = {"Items": "number", "Views": "number", "Clicks": "number", "Conversions": "number", "CTR": "percent",
                 "Conv. rate": "percent", "Engagement rate": "percent"}
        # The files get the change as a number (empty where it is "new" or "—"), not the text "+180%".
        changes = [None if prev == 0 else ch for prev, ch in zip(rows["previous_views"], rows["views_change"], strict=True)]
        return Table(table, caption=f"Engagement by {name}, {self.period.label} (views change: on {self.previous_period.label})",
                     units={**units, "Views change": "text"},
                     data=table.assign(**{"Views change": pd.Series(changes, index=table.index, dtype="float64")}),
                     data_units={**units, "Views change": "percent"})

    def top_content(self) -> Section | None:
        title = "Top content"
        if not self.active:
            return None  # said once, in the engagement section
        top = self.top
        frame = top.frame
        table = pd.DataFrame({
            "Title": frame["title"],
            "Platform": frame["platform"].map(lambda v: ", ".join(_label(x, PLATFORM_LABELS) for x in v.split(", "))),
            "Type": frame["content_type"].map(lambda v: ", ".join(_label(x, TYPE_LABELS) for x in v.split(", "))),
            "Published": pd.to_datetime(frame["published_on"]).map(lambda d: format_day(d, "day_short")),
            "Views": frame["views"], "Clicks": frame["clicks"], "CTR": frame["ctr"], "Conversions": frame["conversions"],
            "Conv. rate": frame["conversion_rate"],
        })
        caption, lead = self._top_words(top)
        lead += tied_words(top)
        return Section(title, [Table(table, caption=caption, units={"Views": "number", "Clicks": "number", "Conversions": "number",
                                                                     "CTR": "percent", "Conv. rate": "percent"})], lead=lead)

    def _top_words(self, top: eng.TopContent) -> tuple[str, str]:
        """Caption and lead of the top-content table, saying truthfully how it was ranked."""
        k, period = len(top.frame), self.period.label
        pieces = "piece" if k == 1 else f"{k} pieces"
        if top.by == "conversions":
            share = top.frame["conversions"].sum() / self.now.conversions
            if top.with_conversions > k:
                return (f"Top {k} by conversions",
                        f"The {k} pieces of content with the most conversions in {period}, together {percent(share, 0)} of all conversions.")
            rest = top.active - k
            others = f"; the other {rest} had none" if rest else ""
            return ("Content with conversions, most first",
                    f"Every piece of content that brought conversions in {period}: {k} of the {top.active} with "
                    f"views, clicks or other activity{others}.")
        why = ("No content had conversions" if top.with_conversions == 0 else
               f"Only {top.with_conversions} piece{'s' if top.with_conversions > 1 else ''} of content had conversions")
        return (f"Top {k} by clicks" if top.active > k else "Content by clicks",
                f"{why} in {period}, too few to rank by, so the table ranks "
                + (f"the {pieces} of content with the most clicks." if top.active > k else
                   f"the {pieces} of content with any activity by clicks."))

    @property
    def health_absent(self) -> list[str]:
        """The health score's source tables the warehouse lacks."""
        return [t for t in HEALTH_TABLES if t in self.data.absent]

    @property
    def scores_health(self) -> bool:
        """Whether the warehouse holds any of the health score's sources (without, no score is shown anywhere)."""
        return len(self.health_absent) < len(HEALTH_TABLES)

    def health(self) -> Section:
        title = "Account health"
        if not self.scores_health:
            return Section(title, [Callout(
                f"The health score is left out: {missing_phrase(HEALTH_TABLES, self.data.lacking)}. With them, this "
                "section scores the account's health from how much the team uses the service, its support load and "
                "its latest feedback.", "info", title="Not in this report:")])
        if not self.data.paying:
            return Section(title, [Callout(f"The account had no active subscription at the end of {self.period.label}, "
                                           f"so no health score is given.", "info")])
        if self.health_now is None:
            return Section(title, [Callout("There is not yet enough usage, support or survey data to score the "
                                           "account's health.", "info")])
        score = float(self.health_now["score"])
        band = "healthy" if score >= HEALTHY_MIN else "worth watching" if score >= WATCH_MIN else "at risk"
        lead = f"Health score {number(score)} of 100 at the end of {self.period.label}: {band}."
        if self.health_before is not None:
            delta = score - float(self.health_before["score"])
            lead += (f" That is {number(abs(delta))} point{'' if round(abs(delta)) == 1 else 's'} "
                     f"{'up' if delta > 0 else 'down'} on {self.previous_period.label}."
                     if round(delta) else f" It is unchanged from {self.previous_period.label}.")
        parts = self.health_parts
        chart = charts.health_components(parts, score)
        table = Table(pd.DataFrame({"Driver": parts["label"], "What we see": parts["measure"],
                                    "Score": (parts["score"] * 100).round()}),
                      caption="Health drivers (score 0–100; below 50 is weak)", units={"Score": "number"})
        missing = ([Callout(absent_note("client", self.health_absent, self.data.lacking), "info",
                            title="Not in this score:")] if self.health_absent else [])
        return Section(title, [chart, table, *missing], lead=lead + " The score combines how much your team uses the "
                       "service, support load and your latest feedback.")

    def portfolio(self) -> Section | None:
        if not self.active:
            return None  # said once, in the engagement section
        return self.comparison.section(self.standing)

    @cached_property
    def recommended(self) -> list[advice.Recommendation]:
        """The recommendations the figures of this report support (:mod:`quire.metrics.advice`)."""
        return advice.recommendations(self.evidence) if self.active else []

    @cached_property
    def evidence(self) -> advice.Evidence:
        """What the recommendations look at: this report's own figures and the client's anonymous standing."""
        days, previous_days = self.daily_views
        return advice.Evidence(current=self.now, previous=self.before if self.before.active else None,
                               by_platform=self.by_platform, by_type=self.by_type, standing=self.standing,
                               top=self.top, health=self.health_parts, previous_label=self.previous_period.label,
                               days=days, previous_days=previous_days, type_days=self._days_by("content_type"))

    def recommendations(self) -> Section | None:
        title = "Recommendations"
        if not self.active:
            return None  # said once, in the engagement section
        # What every rule looked at, fired or not: "nothing to change" then shows its evidence too.
        checked = Table(pd.DataFrame(advice.checks(self.evidence), columns=["Check", "This period", "Calls for action when"]),
                        caption="What was checked")
        if not self.recommended:
            return Section(title, [Callout("Nothing in this period's figures calls for a change of plan: no difference is both "
                                           "large and clear enough to act on.", "good"), checked])
        items = [Callout(r.message, r.severity, title=f"{i}. {r.title}.") for i, r in enumerate(self.recommended, 1)]
        return Section(title, [*items, checked], lead="What the figures in this report suggest doing next, most important "
                                                      "first, and what was checked.")

    def glossary(self):
        # Only the terms of what the report shows: a period without activity has no trend, standing or advice.
        left_out = ({"health_score"} if not self.scores_health else set()) | (set() if self.active else ACTIVE_ONLY_TERMS)
        return glossary([k for k in GLOSSARY_KEYS if k not in left_out])


def typical_day(views: float) -> str:
    """Where a trend line of daily views stands: "about 1,085 views", or "next to no views" where it has reached
    zero (a line fitted to a fall may run below it, and "about 0 views" read as if views had stopped)."""
    return "next to no views" if views < 0.5 else f"about {number(views)} views"


def build(client: str = "", period: str = "latest", url: str | None = None) -> ClientReport:
    """Load ``client``'s data for ``period`` and prepare the report in the client's brand.

    An empty ``client`` picks the first active client by name (for exploring); the pipeline
    always names one. Raises :class:`~quire.errors.ParameterError` for an unknown client or
    a period outside the data.
    """
    from quire.brand import load_brand

    data = load(client, period, url)
    kit = load_brand(str(data.client["brand"]))
    # The client's own locale and currency where the clients table sets them, else its brand's.
    conventions = formatting.for_brand(kit, {**data.conventions, "slug": data.client["slug"]})
    use_brand(kit, conventions.locale)
    formatting.use(conventions)
    return ClientReport(data)


__all__ = ["ClientData", "ClientReport", "build", "load", "portfolio_for_batch", "resolve_client"]
