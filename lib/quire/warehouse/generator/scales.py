"""Scales of the sample warehouse and the default last day of its data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Scale:
    """How big a generated warehouse is."""

    name: str
    clients: int             # clients that ever sign up
    months: int              # months of history, the month of ``end`` included
    users: int               # product users signing up over the history (drives events)
    content_rate: float      # mean content items per active growth-plan client per month
    experiment_share: float  # share of eligible product users enrolled in each experiment


SCALES: dict[str, Scale] = {
    s.name: s for s in (
        Scale("tiny", clients=8, months=14, users=300, content_rate=3.0, experiment_share=0.8),
        Scale("demo", clients=40, months=30, users=32_000, content_rate=8.0, experiment_share=0.8),
        Scale("large", clients=600, months=36, users=720_000, content_rate=8.0, experiment_share=0.3),
    )
}


def default_end(today: date | None = None) -> date:
    """The last day of the previous calendar month: data through the last complete month."""
    return (today or date.today()).replace(day=1) - timedelta(days=1)
