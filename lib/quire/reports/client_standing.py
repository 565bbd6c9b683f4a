"""The client report's "How you compare": the client's anonymised standing among the other clients.

:class:`ClientStanding` turns the client's own figures and the anonymous per-client sums of the
portfolio into the rows :func:`quire.metrics.peers.standing` allows to publish (no figure from
which one of the other clients can be recovered), and words them: which clients it is compared
with, the standing table and chart, and why a metric shows less than the portfolio's figures.
:class:`~quire.reports.client.ClientReport` builds one per report and delegates to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from quire.charts import client as charts
from quire.display import Callout, Section, Table
from quire.formatting import long_date, relative_change
from quire.metrics import engagement as eng
from quire.metrics import peers
from quire.metrics.kpi import format_value
from quire.reports.prose import join_words

METRIC_LABELS = {"ctr": "Click-through rate", "conversion_rate": "Conversion rate", "engagement_rate": "Engagement rate",
                 "views_growth": "Views growth"}


def _metric_text(metric: str, value: float | None, bound: str = "") -> str:
    """A comparison metric as printed: "4.9%", "+12.5%" for growth, "<0.5%" for a bound."""
    text = relative_change(value, 1) if metric == "views_growth" else format_value(value, "percent")
    return f"{bound}{text}" if bound and text != "—" else text


def _band_left_open(standing: pd.DataFrame) -> pd.Series:
    """Rows shown as figures without a band: a quartile published as a bound ("<0.5%", ">+299.5%") leaves open
    which side of it the reader's own figure lies."""
    return (standing["shown"] == "figures") & standing["band"].isna()


def peer_count(standing: pd.DataFrame) -> int:
    """How many other clients a standing compares with: those with a figure of every compared metric (the
    group of every row; click-through rate is always among the metrics it is grouped on)."""
    return int(standing.set_index("metric").at["ctr", "peers"])


@dataclass(frozen=True)
class ClientStanding:
    """What the comparison with the other clients needs to know of the client's period, and how it is worded."""

    period: str  # the period's label, "October 2026"
    previous_period: str  # the previous period's label
    #: The previous period lies wholly inside the data: growth is among the compared metrics.
    in_data: bool
    #: The client has a whole previous period in the data to compare with (see ``ClientReport.comparable``).
    comparable: bool
    #: The day the client's subscription ended, when that lies inside the period before its last day.
    ended_within: date | None
    #: The client's signup day when it falls after the previous period began.
    signed_up_within: date | None

    def frame(self, now: eng.Totals, before: eng.Totals, portfolio: pd.DataFrame) -> pd.DataFrame:
        """The client's standing among the other clients, as it may be published (:func:`metrics.peers.standing`),
        with each figure as printed (``you_text``, ``p25_text``…) and each metric's label."""
        # A period cut short by the subscription's end is a part set against a whole: not a growth to rank.
        whole = self.comparable and self.ended_within is None
        growth = eng.change(float(now.views), float(before.views)) if whole else None
        own = {"ctr": now.ctr, "conversion_rate": now.conversion_rate,
               "engagement_rate": now.engagement_rate, "views_growth": growth}
        others = peers.portfolio_metrics(portfolio)
        frame = peers.standing(own, others, grouped_on=self.grouped_on)
        texts = {f"{q}_text": [_metric_text(m, v, b) for m, v, b in zip(frame["metric"], frame[q], frame[f"{q}_bound"], strict=True)]
                 for q in ("p25", "p50", "p75")}
        return frame.assign(label_metric=frame["metric"].map(METRIC_LABELS),
                            you_text=[_metric_text(m, v) for m, v in zip(frame["metric"], frame["value"], strict=True)], **texts)

    @property
    def grouped_on(self) -> tuple[str, ...]:
        """The metrics every other client compared must have a figure of: growth only where the previous period
        lies in the data (in the data's first period nobody's growth is comparable)."""
        return peers.PORTFOLIO_METRICS if self.in_data else tuple(m for m in peers.PORTFOLIO_METRICS
                                                                  if m != "views_growth")

    def section(self, frame: pd.DataFrame) -> Section:
        """The "How you compare" section of the standing ``frame`` (:meth:`frame`)."""
        title = "How you compare"
        others = peer_count(frame)
        if others < peers.MIN_PEERS_BAND:
            return Section(title, [Callout(f"Fewer than {peers.MIN_PEERS_BAND} other clients {self.group_words}: too "
                                           "few for a comparison that keeps every client's figures private, so none is "
                                           "shown.", "info")])
        if (frame["shown"] == "none").all():
            return Section(title, [Callout(" ".join(self.withheld_notes(frame)), "info", title="Not shown:")])
        figures = (frame["shown"] == "figures").any()
        table = pd.DataFrame({"Metric": frame["label_metric"], "You": frame["you_text"],
                              "Standing": [b if isinstance(b, str) else "—" for b in frame["band"]]})
        if figures:
            shown = frame["shown"] == "figures"
            table["Portfolio median"] = frame["p50_text"].where(shown, "—")
            table["Middle half"] = (frame["p25_text"] + " to " + frame["p75_text"]).where(shown, "—")
        # The figures come formatted (a rate, or a band where the figure is withheld): aligned as numbers.
        figure_columns = dict.fromkeys(["You", "Portfolio median", "Middle half"] if figures else ["You"], "text")
        children = [charts.standing_ranges(frame),
                    Table(table, caption="Your standing among comparable clients", units=figure_columns,
                          **self._standing_data(frame, figures))]
        children = [c for c in children if c is not None]
        notes = self.withheld_notes(frame[((frame["shown"] != "figures") & ((frame["shown"] == "none") | figures))
                                          | _band_left_open(frame)])
        if notes:
            children.append(Callout(" ".join(notes), "info"))
        return Section(title, children, lead=self._lead(frame, others, figures))

    @staticmethod
    def _standing_data(frame: pd.DataFrame, figures: bool) -> dict:
        """The standing table's data files as numbers, the figures as published ("'+5.2%" was text in the CSV); a
        quartile published as a bound ("<0.5%") says so in a column of its own."""
        data = pd.DataFrame({"Metric": frame["label_metric"],
                             "You": [None if v is None or pd.isna(v) else peers.published(v) for v in frame["value"]],
                             "Standing": frame["band"].where(frame["band"].map(lambda b: isinstance(b, str)))})
        if figures:
            shown = frame["shown"] == "figures"
            for q, name in ((25, "Lower quartile"), (50, "Portfolio median"), (75, "Upper quartile")):
                data[name] = frame[f"p{q}"].where(shown)
                if (frame[f"p{q}_bound"] != "").any():
                    data[f"{name} is a bound"] = frame[f"p{q}_bound"].where(shown & (frame[f"p{q}_bound"] != ""))
        units = {c: "percent" for c in ("You", "Lower quartile", "Portfolio median", "Upper quartile") if c in data}
        return {"data": data, "data_units": units}

    def withheld_notes(self, frame: pd.DataFrame) -> list[str]:
        """Why each metric of ``frame`` shows less than the portfolio's figures, one sentence per reason."""
        why = {
            "no_value": lambda m: f"{m}: no figure of yours for {self.period}, so there is nothing to compare.",
            "few_peers": lambda m: (f"{m}: fewer than {peers.MIN_PEERS_FIGURES} other clients to compare with, so only "
                                    "your band is shown, or nothing."),
            "alike": lambda m: (f"{m}: the other clients' figures are too alike to summarise without giving them "
                                "away, so none is shown."),
            "edge": lambda m: (f"{m}: your figure sits at the very edge of the scale, where even a band would give "
                               "other clients' figures away, so none is shown."),
        }
        notes = [why[reason](join_words(group["label_metric"].tolist()))
                 for reason, group in frame.groupby("withheld", sort=False) if reason in why]
        if ((frame["withheld"] == "no_value") & (frame["metric"] == "views_growth")).any():
            ended = self.ended_within
            notes.append(f"Growth needs views in the whole of {self.previous_period}"
                         + (f" and of {self.period}, and your subscription ended on {long_date(ended)}."
                            if ended is not None and self.comparable else
                            f", and your subscription started on {long_date(self.signed_up_within)}."
                            if self.in_data and self.signed_up_within else "."))
        open_band = frame.loc[_band_left_open(frame)]
        if len(open_band):
            notes.append(f"{join_words(open_band['label_metric'].tolist())}: your figure and a quartile are at the same "
                         "end of the scale, where the quartile is shown only as a bound, so no band is given.")
        return notes

    @property
    def group_words(self) -> str:
        """Which other clients the standing compares with (see :func:`metrics.peers.comparable`)."""
        words = f"had content views and clicks in {self.period}"
        return words + (f" and had been clients, with views, for the whole of {self.previous_period}"
                        if "views_growth" in self.grouped_on else "")

    def _lead(self, frame: pd.DataFrame, others: int, figures: bool) -> str:
        """The section's lead: whom the client is compared with, what the bands and figures mean."""
        first = f"Your results against the {others} other clients that {self.group_words}, anonymously. "
        if figures:
            rows = frame.set_index("metric").loc[list(self.grouped_on)]
            lacking = rows.loc[rows["value"].isna(), "label_metric"].tolist()
            whose = (f"not yours, as only clients with every figure are compared and you have no "
                     f"{join_words(lacking).lower()}" if lacking else "yours included")
            how = ("Top quarter means above the portfolio's upper quartile, bottom quarter below its lower quartile. The "
                   f"median and quartiles are estimated from all these clients' values together, {whose}, so that "
                   "none of them is any one client's figure, and they are shown only when at least "
                   f"{peers.MIN_PEERS_FIGURES} other clients can be compared. ")
        else:
            how = ("Top quarter means at least three quarters of them did no better than you; bottom quarter, at least "
                   "three quarters did no worse. With fewer than "
                   f"{peers.MIN_PEERS_FIGURES} other clients, no portfolio figures are given. ")
        return first + how + "No other client's figures are shown."
