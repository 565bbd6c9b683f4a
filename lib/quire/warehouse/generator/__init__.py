"""Seeded, vectorised sample data: one pandas DataFrame per table of :mod:`quire.warehouse.schema`.

The data behaves like a real agency business so that every report shows real signal:
three agencies (brands ``quire``, ``northwind``, ``harbor``) with clients in all four
sectors that arrive over time; an MRR ledger with expansion, contraction, churn and
reactivation; projects that overrun; content whose engagement decays after publication
and dips in summer and December; weekly product usage, tickets and survey scores that
follow a latent account health, which falls in the months *before* a client churns (so
at-risk accounts are visible ahead of time); product users whose activity decays after
signup; and experiments with known true effects (:data:`EXPERIMENT_TRUTH`).

How it is built: a client-by-month simulation (a loop over at most ~40 months, vectorised
over clients) decides each account's MRR and health; everything with many rows
(engagement, usage, users, sessions, events, assignments) is drawn as whole numpy arrays
from those matrices - there is no Python loop over rows.

Determinism: each section draws from its own random stream derived from ``(seed, scale,
section)``, so one seed always gives identical frames and a change to one section does
not reshuffle the others.

Frame conventions: columns and column order are the schema's; dates and instants are
``datetime64[ns]`` (``NaT`` for NULL); low-cardinality text (sector, plan, movement,
platform, event type...) is ``category``; money is ``float64`` rounded to cents.

The package has one module per part of the business: :mod:`.clients` (organizations and
clients), :mod:`.revenue` (the MRR ledger, subscriptions, invoices), :mod:`.projects`,
:mod:`.content` (content and daily engagement), :mod:`.health` (usage, tickets, surveys),
:mod:`.product` (users, sessions, events) and :mod:`.experiments`; :mod:`.base` holds what
they share. This module is the face: :func:`generate`, :data:`SCALES` and the experiments'
truth.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from quire.errors import ParameterError
from quire.warehouse import schema
from quire.warehouse.generator import clients, content, experiments, health, product, projects, revenue
from quire.warehouse.generator.base import Calendar, Streams
from quire.warehouse.generator.clients import slugify
from quire.warehouse.generator.experiments import EXPERIMENT_TRUTH, EXPERIMENTS, ExperimentTruth
from quire.warehouse.generator.scales import SCALES, Scale, default_end

__all__ = ["EXPERIMENTS", "EXPERIMENT_TRUTH", "SCALES", "ExperimentTruth", "Scale", "default_end", "generate", "slugify"]


def generate(scale: str = "demo", seed: int = 7, end: date | None = None) -> dict[str, pd.DataFrame]:
    """Generate every table of the schema; keys are table names, in load (dependency) order.

    ``end`` is the last day of the data (default :func:`default_end`); history starts on the
    first day of the month ``scale.months - 1`` months before it.
    """
    if scale not in SCALES:
        raise ParameterError(f"unknown warehouse scale {scale!r}; choose one of {', '.join(SCALES)}", parameter="scale")
    sc = SCALES[scale]
    cal = Calendar.ending(end or default_end(), sc.months)
    rng = Streams(seed, sc.name)
    acc = clients.accounts(rng("accounts"), sc, cal)
    led = revenue.ledger(rng("ledger"), acc, cal)
    items, engagement = content.content(rng("content"), rng("titles"), sc, cal, acc, led)
    tickets, csat = health.tickets(rng("tickets"), cal, acc, led)
    users, sessions, events = product.product(rng("product"), sc, cal, acc, led)
    tests, variants, assignments = experiments.experiments(rng("experiments"), sc, cal, users)
    frames = {
        "organizations": clients.organizations(),
        "clients": clients.clients(cal, acc, led),
        "mrr_movements": revenue.movements(cal, led),
        "subscriptions": revenue.subscriptions(cal, acc, led),
        "invoices": revenue.invoices(rng("invoices"), cal, led),
        "projects": projects.projects(rng("projects"), cal, acc, led),
        "content": items,
        "engagement_daily": engagement,
        "product_usage": health.usage(rng("usage"), cal, acc, led),
        "support_tickets": tickets,
        "survey_responses": health.surveys(rng("surveys"), cal, acc, led, csat),
        "users": users,
        "sessions": sessions,
        "events": events,
        "experiments": tests,
        "experiment_variants": variants,
        "experiment_assignments": assignments,
    }
    return {t.name: frames[t.name] for t in schema.TABLES}
