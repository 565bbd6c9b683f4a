"""Cohort app: retention by signup week or month, for all users or only those who activated."""

from __future__ import annotations

from collections.abc import Mapping

from quire.apps.base import App, opened, period_options
from quire.config import get_settings
from quire.display import Callout
from quire.reports import cohort
from quire.warehouse import coverage
from quire.warehouse.engine import connection

GRANULARITIES = [("Monthly cohorts", "month"), ("Weekly cohorts", "week")]
ACTIVATION_DAYS = 7
BEHAVIOURS = [("All users", "all"), (f"Activated within {ACTIVATION_DAYS} days", "activated")]


class CohortApp(App):
    title = "Cohorts"

    def __init__(self, url: str | None = None) -> None:
        url = url or get_settings().warehouse
        with connection(url) as conn:
            first, last = coverage.report_range("cohort", conn)
        periods = period_options(first, last, quarters=0)
        super().__init__({"granularity": ("Cohorts", GRANULARITIES, "month"),
                          "behaviour": ("Users", BEHAVIOURS, "all"),
                          "period": ("As of", periods, periods[0][1])}, url=url)

    def sections(self, values: Mapping[str, str]):
        report = cohort.build(period=values["period"], granularity=values["granularity"], behaviour=values["behaviour"],
                              activation_days=ACTIVATION_DAYS, url=self.url)
        return [report.header(), report.headline(), report.retention(), report.behavioural_filter()]


def app(url: str | None = None) -> CohortApp | Callout:
    """The cohort app, monthly cohorts of all users as of the newest complete month."""
    return opened(lambda: CohortApp(url))
