"""Experiments with known true effects (:data:`EXPERIMENT_TRUTH`), their variants and per-user assignments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import Calendar, cents, ns, serial, table_frame
from quire.warehouse.generator.scales import Scale


@dataclass(frozen=True)
class ExperimentTruth:
    """One generated experiment and the true effects an analysis should recover."""

    key: str
    name: str
    hypothesis: str
    primary_metric: str                # conversion | revenue
    variants: tuple[str, ...]          # the first is the control
    allocation: tuple[float, ...]      # planned share of traffic per variant (sums to 1)
    conversion: tuple[float, ...]      # true conversion rate per variant
    revenue_effect: tuple[float, ...]  # true additive effect on revenue per user, per variant
    starts_months_before_end: int      # start month, counted back from the month of ``end``
    days: int | None                   # duration; None = still running at the end of the data
    served: tuple[float, ...] | None = None  # actual traffic shares when they break the plan (SRM)

    @property
    def control(self) -> str:
        return self.variants[0]

    def conversion_lift(self, variant: str) -> float:
        """True absolute conversion lift of ``variant`` over the control (e.g. 0.025 = +2.5 points)."""
        return self.conversion[self.variants.index(variant)] - self.conversion[0]

    def revenue_lift(self, variant: str) -> float:
        """True additive revenue effect per user of ``variant`` over the control."""
        return self.revenue_effect[self.variants.index(variant)] - self.revenue_effect[0]


#: Mean of the per-user revenue metric in every experiment (before any effect).
EXPERIMENT_REVENUE_MEAN = 50.0

EXPERIMENTS: tuple[ExperimentTruth, ...] = (
    ExperimentTruth(
        "checkout-redesign", "One-page checkout",
        "Replacing the three-step checkout with a single page raises the share of users who buy.",
        "conversion", ("control", "one_page"), (0.5, 0.5), (0.10, 0.125), (0.0, 0.0), 6, 42),
    ExperimentTruth(
        "homepage-aa", "Homepage A/A check",
        "Two identical homepages: any difference is noise (validates assignment and analysis).",
        "conversion", ("control", "copy"), (0.5, 0.5), (0.08, 0.08), (0.0, 0.0), 5, 28),
    ExperimentTruth(
        "pricing-page-layout", "Pricing page layout",
        "Showing customer logos next to the plans raises sign-ups; an annual-price toggle does not.",
        "conversion", ("control", "annual_toggle", "social_proof"), (1 / 3, 1 / 3, 1 / 3),
        (0.06, 0.06, 0.078), (0.0, 0.0, 0.0), 4, 42),
    ExperimentTruth(
        "onboarding-upsell", "Guided setup upsell",
        "A guided setup call during onboarding raises revenue per user in the following weeks.",
        "revenue", ("control", "guided_setup"), (0.5, 0.5), (0.20, 0.20), (0.0, 4.0), 3, 35),
    ExperimentTruth(
        "search-ranking", "Semantic search ranking",
        "Semantic ranking of search results raises conversion (a routing bug skews traffic).",
        "conversion", ("control", "semantic"), (0.5, 0.5), (0.09, 0.09), (0.0, 0.0), 1, None,
        served=(0.53, 0.47)),
)

#: The true effects, keyed by experiment key.
EXPERIMENT_TRUTH: dict[str, ExperimentTruth] = {e.key: e for e in EXPERIMENTS}


def experiments(rng: np.random.Generator, sc: Scale, cal: Calendar,
                 users: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The experiments of :data:`EXPERIMENTS`, placed in the last months of the data."""
    started = np.array([cal.start[cal.n - 1 - t.starts_months_before_end] + 2 for t in EXPERIMENTS])
    stop = np.array([min(s + t.days, cal.end + 1) if t.days else cal.end + 1 for s, t in zip(started, EXPERIMENTS)])
    running = np.array([t.days is None for t in EXPERIMENTS])
    ids = serial(len(EXPERIMENTS))
    experiments = table_frame(schema.experiments, experiment_id=ids, key=[t.key for t in EXPERIMENTS],
                         name=[t.name for t in EXPERIMENTS], hypothesis=[t.hypothesis for t in EXPERIMENTS],
                         primary_metric=[t.primary_metric for t in EXPERIMENTS], started_on=ns(started),
                         ended_on=ns(np.where(running, np.datetime64("NaT", "D"), stop - 1)))
    variants = table_frame(schema.experiment_variants, experiment_id=np.repeat(ids, [len(t.variants) for t in EXPERIMENTS]),
                      variant=[v for t in EXPERIMENTS for v in t.variants],
                      is_control=[v == t.control for t in EXPERIMENTS for v in t.variants],
                      allocation=[a for t in EXPERIMENTS for a in t.allocation])
    signup = users["signed_up_at"].to_numpy().astype("datetime64[s]")
    assignments = pd.concat([_assign(rng, sc, t, i, signup, a, b) for t, i, a, b in zip(EXPERIMENTS, ids, started, stop)],
                            ignore_index=True)
    return experiments, variants, table_frame(schema.experiment_assignments, **assignments.to_dict("series"))


def _assign(rng: np.random.Generator, sc: Scale, truth: ExperimentTruth, experiment_id: int, signup: np.ndarray,
            started: np.datetime64, stop: np.datetime64) -> pd.DataFrame:
    """Randomise a share of the users known before ``stop``; outcomes follow the true effects."""
    start_s, stop_s = started.astype("datetime64[s]"), stop.astype("datetime64[s]")
    eligible = np.flatnonzero(signup < stop_s)
    user = np.sort(rng.choice(eligible, size=round(sc.experiment_share * len(eligible)), replace=False))
    n = len(user)
    entry = np.maximum(signup[user], start_s)
    assigned = entry + (rng.random(n) * (stop_s - entry).astype(np.int64)).astype(np.int64)
    variant = rng.choice(len(truth.variants), n, p=np.array(truth.served or truth.allocation))
    # A user's underlying value drives both periods, so pre_revenue predicts revenue (CUPED's covariate).
    value = rng.gamma(1.5, EXPERIMENT_REVENUE_MEAN / 1.5, n)
    return pd.DataFrame({
        "experiment_id": experiment_id, "user_id": user + 1, "variant": np.array(truth.variants, dtype=object)[variant],
        "assigned_at": ns(assigned), "converted": rng.random(n) < np.array(truth.conversion)[variant],
        "revenue": cents(value * rng.lognormal(-0.045, 0.3, n) + np.array(truth.revenue_effect)[variant]),
        "pre_revenue": cents(value * rng.lognormal(-0.045, 0.3, n)),
    })
