"""Experiment app: the verdict, headline figures and conversion of a chosen experiment."""

from __future__ import annotations

from collections.abc import Mapping

from quire.apps.base import App, opened
from quire.config import get_settings
from quire.display import Callout
from quire.errors import WarehouseError
from quire.reports import experiment as experiment_report
from quire.warehouse import queries
from quire.warehouse.engine import CHECK_HINT, connection


class ExperimentApp(App):
    title = "Experiments"

    def __init__(self, url: str | None = None) -> None:
        url = url or get_settings().warehouse
        with connection(url) as conn:
            frame = queries.experiments(conn).dropna(subset=["key"])  # a run is named by its key: none, no choice
        if frame.empty:
            raise WarehouseError("the warehouse holds no experiments", hint=CHECK_HINT)
        frame = frame.sort_values("started_on", ascending=False)
        options = [(f"{name} ({key})", key) for name, key in zip(frame["name"], frame["key"], strict=True)]
        super().__init__({"experiment": ("Experiment", options, options[0][1])}, url=url)

    def sections(self, values: Mapping[str, str]):
        report = experiment_report.build(experiment=values["experiment"], url=self.url)
        return [report.header(), report.verdict(), report.headline(), report.conversion()]


def app(url: str | None = None) -> ExperimentApp | Callout:
    """The experiment app, opened on the most recently started experiment."""
    return opened(lambda: ExperimentApp(url))
