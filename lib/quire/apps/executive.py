"""Executive app: company KPIs for a chosen period, for the whole company or one segment (sector or plan)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from quire.apps.base import App, opened, period_options
from quire.config import get_settings
from quire.display import Callout, ReportHeader
from quire.reports import executive, executive_data
from quire.warehouse import coverage, queries
from quire.warehouse.engine import connection

SEGMENT_FIELDS = ("sector", "plan")
ALL = "all"


def segment_options(clients) -> list[tuple[str, str]]:
    """(label, value) of the segments the data has: every sector and plan in use, after 'All clients'."""
    options = [("All clients", ALL)]
    for field in SEGMENT_FIELDS:
        options += [(f"{field.capitalize()}: {v}", f"{field}:{v}") for v in sorted(set(clients[field].dropna()))]
    return options


def restrict(data: executive_data.ExecutiveData, segment: str) -> executive_data.ExecutiveData:
    """``data`` limited to the clients of ``segment`` ('all', 'sector:<name>' or 'plan:<name>'); pure."""
    if segment == ALL:
        return data
    field, _, value = segment.partition(":")
    clients = data.clients[data.clients[field] == value]
    ids = set(clients["client_id"])
    keep = {name: frame[frame["client_id"].isin(ids)] for name, frame in
            (("movements", data.movements), ("projects", data.projects), ("surveys", data.surveys),
             ("usage", data.usage), ("tickets", data.tickets))}
    return replace(data, clients=clients, **keep)


class ExecutiveApp(App):
    title = "Executive KPIs"

    def __init__(self, url: str | None = None) -> None:
        url = url or get_settings().warehouse
        with connection(url) as conn:
            first, last = coverage.report_range("executive", conn)
            clients = queries.clients(conn)
        periods = period_options(first, last)
        super().__init__({"period": ("Period", periods, periods[0][1]),
                          "segment": ("Segment", segment_options(clients), ALL)}, url=url)

    def sections(self, values: Mapping[str, str]):
        executive.wear()  # as the report's build does: the app builds from a segment's data, not through it
        report = executive.ExecutiveReport(restrict(executive_data.load(values["period"], self.url), values["segment"]))
        segment = dict((v, k) for k, v in self.pickers["segment"].options)[values["segment"]]
        header = ReportHeader("Executive KPIs", report.period.label,
                              subtitle=f"{segment} — compared with {report.period.previous().label}" if report.compared
                              else f"{segment} — no earlier period in the data to compare with")
        return [header, report.headline(), report.revenue(), report.retention()]


def app(url: str | None = None) -> ExecutiveApp | Callout:
    """The executive app, computed for the newest complete month and all clients."""
    return opened(lambda: ExecutiveApp(url))
