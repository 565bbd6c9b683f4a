"""Experiments with known true effects (:data:`EXPERIMENT_TRUTH`), their variants and per-user assignments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import Calendar, cents, ns, serial, table_frame
from quire.warehouse.generator.scales import Scale


#: Shape of the gamma distribution (mean 1) of users' purchase propensity: most users seldom buy, a few often.
PROPENSITY_SHAPE = 0.25
#: Mean value of one purchase (before any effect).
ORDER_VALUE = 60.0
ORDER_VALUE_SPREAD = 0.5  # log-sd of a user's typical order value around ORDER_VALUE
ORDER_NOISE = 0.3         # log-sd of one order around the user's typical value
#: Purchases per 28 days of a user with propensity 1 outside any experiment (the pre-period's rate).
BASE_PURCHASE_RATE = 0.3
#: The pre-period: the days before assignment whose revenue is CUPED's covariate (only days after signup count).
PRE_PERIOD_DAYS = 56


def purchase_rate(conversion: float) -> float:
    """Mean purchases per user in an experiment whose share of buyers is ``conversion``.

    Purchases of a user with propensity λ are Poisson(rate · λ), λ ~ Gamma(k, 1/k), so the
    share with at least one is 1 - (1 + rate/k)^-k; this inverts it, so every variant's
    conversion rate is exactly its true rate in expectation.
    """
    k = PROPENSITY_SHAPE
    return k * ((1 - conversion) ** (-1 / k) - 1)


@dataclass(frozen=True)
class ExperimentTruth:
    """One generated experiment and the true effects an analysis should recover.

    A user converts by buying at least once while in the experiment; revenue is what the
    user spent then (0 for a user who bought nothing), pre_revenue what they spent in the
    :data:`PRE_PERIOD_DAYS` before assignment.
    """

    key: str
    name: str
    hypothesis: str
    primary_metric: str                # conversion | revenue
    variants: tuple[str, ...]          # the first is the control
    allocation: tuple[float, ...]      # planned share of traffic per variant (sums to 1)
    conversion: tuple[float, ...]      # true conversion rate per variant
    revenue_effect: tuple[float, ...]  # true additive effect on revenue per user through order value, per variant
    starts_months_before_end: int      # start month, counted back from the month of ``end``
    days: int | None                   # duration; None = still running at the end of the data
    served: tuple[float, ...] | None = None  # actual traffic shares when they break the plan (SRM)

    @property
    def control(self) -> str:
        return self.variants[0]

    def conversion_lift(self, variant: str) -> float:
        """True absolute conversion lift of ``variant`` over the control (e.g. 0.025 = +2.5 points)."""
        return self.conversion[self.variants.index(variant)] - self.conversion[0]

    def revenue_per_user(self, variant: str) -> float:
        """True mean revenue per assigned user of ``variant`` (non-buyers count as $0)."""
        i = self.variants.index(variant)
        return purchase_rate(self.conversion[i]) * ORDER_VALUE + self.revenue_effect[i]

    def revenue_lift(self, variant: str) -> float:
        """True additive revenue effect per user of ``variant`` over the control (more buyers, larger orders)."""
        return self.revenue_per_user(variant) - self.revenue_per_user(self.control)


EXPERIMENTS: tuple[ExperimentTruth, ...] = (
    ExperimentTruth(
        "checkout-redesign", "One-page checkout",
        "Replacing the three-step checkout with a single page raises the share of users who buy.",
        "conversion", ("control", "one_page"), (0.5, 0.5), (0.10, 0.13), (0.0, 0.0), 6, 42),
    ExperimentTruth(
        "homepage-aa", "Homepage A/A check",
        "Two identical homepages: any difference is noise (validates assignment and analysis).",
        "conversion", ("control", "copy"), (0.5, 0.5), (0.08, 0.08), (0.0, 0.0), 5, 28),
    ExperimentTruth(
        "pricing-page-layout", "Pricing page layout",
        "Showing customer logos next to the plans raises sign-ups; an annual-price toggle does not.",
        "conversion", ("control", "annual_toggle", "social_proof"), (1 / 3, 1 / 3, 1 / 3),
        (0.06, 0.06, 0.084), (0.0, 0.0, 0.0), 4, 42),
    ExperimentTruth(
        "onboarding-upsell", "Guided setup upsell",
        "A guided setup call during onboarding raises revenue per user in the following weeks.",
        "revenue", ("control", "guided_setup"), (0.5, 0.5), (0.20, 0.20), (0.0, 5.0), 3, 35),
    ExperimentTruth(
        "search-ranking", "Semantic search ranking",
        "Semantic ranking of search results raises conversion.",
        # A routing bug serves the control more often than planned: the demo's sample ratio mismatch.
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
    tests = table_frame(schema.experiments, experiment_id=ids, key=[t.key for t in EXPERIMENTS],
                        name=[t.name for t in EXPERIMENTS], hypothesis=[t.hypothesis for t in EXPERIMENTS],
                        primary_metric=[t.primary_metric for t in EXPERIMENTS], started_on=ns(started),
                        ended_on=ns(np.where(running, np.datetime64("NaT", "D"), stop - 1)),
                        # Every sample experiment measures revenue, the default of an empty measure.
                        metric_name=[None] * len(EXPERIMENTS), metric_unit=[None] * len(EXPERIMENTS))
    variants = table_frame(schema.experiment_variants,
                           experiment_id=np.repeat(ids, [len(t.variants) for t in EXPERIMENTS]),
                           variant=[v for t in EXPERIMENTS for v in t.variants],
                           is_control=[v == t.control for t in EXPERIMENTS for v in t.variants],
                           allocation=[a for t in EXPERIMENTS for a in t.allocation])
    buyers = _Buyers.draw(rng, users["signed_up_at"].to_numpy().astype("datetime64[s]"))
    assignments = pd.concat([_assign(rng, sc, t, i, buyers, a, b)
                             for t, i, a, b in zip(EXPERIMENTS, ids, started, stop)], ignore_index=True)
    return tests, variants, table_frame(schema.experiment_assignments, **assignments.to_dict("series"))


@dataclass(frozen=True)
class _Buyers:
    """What every product user brings to any experiment: when they signed up and how they buy."""

    signup: np.ndarray      # datetime64[s]
    propensity: np.ndarray  # mean 1, heavily skewed
    order_value: np.ndarray  # the user's typical order, mean ORDER_VALUE

    @classmethod
    def draw(cls, rng: np.random.Generator, signup: np.ndarray) -> "_Buyers":
        n = len(signup)
        spread = ORDER_VALUE_SPREAD
        return cls(signup, rng.gamma(PROPENSITY_SHAPE, 1 / PROPENSITY_SHAPE, n),
                   ORDER_VALUE * rng.lognormal(-spread ** 2 / 2, spread, n))


def _assign(rng: np.random.Generator, sc: Scale, truth: ExperimentTruth, experiment_id: int, buyers: _Buyers,
            started: np.datetime64, stop: np.datetime64) -> pd.DataFrame:
    """Randomise a share of the users known before ``stop``; outcomes follow the true effects.

    The same propensity and order value drive a user's purchases before and during the
    experiment, so pre_revenue predicts revenue (CUPED's covariate) as far as real
    behaviour allows: many users have no pre-period purchase at all.
    """
    start_s, stop_s = started.astype("datetime64[s]"), stop.astype("datetime64[s]")
    eligible = np.flatnonzero(buyers.signup < stop_s)
    user = np.sort(rng.choice(eligible, size=round(sc.experiment_share * len(eligible)), replace=False))
    n = len(user)
    entry = np.maximum(buyers.signup[user], start_s)
    assigned = entry + (rng.random(n) * (stop_s - entry).astype(np.int64)).astype(np.int64)
    variant = rng.choice(len(truth.variants), n, p=np.array(truth.served or truth.allocation))
    rate = np.array([purchase_rate(c) for c in truth.conversion])[variant]
    uplift = np.array(truth.revenue_effect)[variant] / rate  # per purchase, so that per user it is revenue_effect
    propensity, value = buyers.propensity[user], buyers.order_value[user]
    purchases = rng.poisson(rate * propensity)
    history = np.clip((assigned - buyers.signup[user]).astype(np.int64) / 86400, 0, PRE_PERIOD_DAYS)
    earlier = rng.poisson(BASE_PURCHASE_RATE * propensity * history / 28)
    return pd.DataFrame({
        "experiment_id": experiment_id, "user_id": user + 1, "variant": np.array(truth.variants, dtype=object)[variant],
        "assigned_at": ns(assigned), "converted": purchases > 0,
        "revenue": _spend(rng, purchases, value, uplift), "pre_revenue": _spend(rng, earlier, value, np.zeros(n)),
    })


def _spend(rng: np.random.Generator, purchases: np.ndarray, value: np.ndarray, uplift: np.ndarray) -> np.ndarray:
    """Each user's total over their purchases: one order each around the user's typical value, in cents."""
    owner = np.repeat(np.arange(len(purchases)), purchases)
    orders = cents(value[owner] * rng.lognormal(-ORDER_NOISE ** 2 / 2, ORDER_NOISE, len(owner)) + uplift[owner])
    return cents(np.bincount(owner, weights=np.maximum(orders, 0.01), minlength=len(purchases)))
