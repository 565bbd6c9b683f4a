"""Revenue: the client-by-month MRR simulation (ledger and latent health), subscriptions and invoices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import (BUSINESS, BUSINESS_Q4, CHURN, CONTRACTION, EXPANSION, NEW,
                                            REACTIVATION, Calendar, cat, ns, serial, table_frame)
from quire.warehouse.schema import MOVEMENTS, PLANS

if TYPE_CHECKING:
    from quire.warehouse.generator.clients import Accounts


SECTOR_CHURN = np.array([0.012, 0.024, 0.038, 0.019])  # monthly churn hazard at typical health
PLAN_CHURN = np.array([1.25, 1.0, 0.6])
LOOKAHEAD = 4          # months simulated past the end so that accounts about to churn already decline
MIN_TENURE = 2         # months before a new account can churn (initial contract)
EXPANSION_RATE = 0.07  # monthly probability of an expansion
CONTRACTION_RATE = 0.025
REACTIVATION_RATE = 0.03  # monthly probability for a churned account, from 2 to 15 months after churn
PRE_CHURN_DECLINE = np.array([0.50, 0.42, 0.28, 0.15, 0.07])  # health lost 0, 1, 2, 3, 4 months before churn


@dataclass(frozen=True)
class Ledger:
    """Client-by-month simulation over the history plus LOOKAHEAD months."""

    code: np.ndarray    # movement index per (client, month), -1 = none
    amount: np.ndarray  # signed change of MRR, cents
    mrr: np.ndarray     # MRR in effect during each month (after its movement), cents
    day: np.ndarray     # day of month a dated movement (churn, reactivation) happened, 0-based
    health: np.ndarray  # account health in [0, 1]
    n_months: int       # months of history (the columns after it are the lookahead)

    @property
    def active(self) -> np.ndarray:
        """(client, month) pairs paying during the history."""
        return self.mrr[:, : self.n_months] > 0

    def dated(self, cal: Calendar, client: np.ndarray, month: np.ndarray) -> np.ndarray:
        """The day a movement happened: its month's start plus its drawn day, never after ``end``."""
        return cal.start[month] + np.minimum(self.day[client, month], cal.days[month] - 1)


def ledger(rng: np.random.Generator, acc: Accounts, cal: Calendar) -> Ledger:
    """Simulate MRR movements month by month, vectorised over clients, and derive latent health."""
    n, months = len(acc), cal.n + LOOKAHEAD
    moy = (cal.moy[0] + np.arange(months)) % 12
    drift = _drift(rng, n, months)
    # Weak accounts churn more, and any account more so after a rough patch.
    hazard = SECTOR_CHURN[acc.sector] * PLAN_CHURN[acc.plan] * np.exp(-3.0 * (acc.health - 0.7))
    hazard = np.minimum(hazard[:, None] * np.exp(-4.0 * drift), 0.25)
    code = np.full((n, months), -1, dtype=np.int8)
    amount = np.zeros((n, months), dtype=np.int64)
    mrr = np.zeros((n, months), dtype=np.int64)
    current = np.zeros(n, dtype=np.int64)
    last_paid = np.zeros(n, dtype=np.int64)
    churned_at = np.full(n, -1_000)
    for t in range(months):
        u = rng.random(n)
        p_exp = EXPANSION_RATE * np.where(acc.sector == BUSINESS, BUSINESS_Q4[moy[t]], 1.0)
        live = current > 0
        h = hazard[:, t]
        churn = live & (t - acc.join >= MIN_TENURE) & (u < h)
        expand = live & ~churn & (u >= h) & (u < h + p_exp)
        contract = live & (u >= h + p_exp) & (u < h + p_exp + CONTRACTION_RATE)
        since = t - churned_at
        react = ~live & (since >= 2) & (since <= 15) & (rng.random(n) < REACTIVATION_RATE)
        joins = acc.join == t
        delta = np.zeros(n, dtype=np.int64)
        delta[joins] = acc.base_mrr[joins]
        delta[expand] = np.round(current[expand] * rng.uniform(0.10, 0.40, expand.sum()))
        delta[contract] = -np.round(current[contract] * rng.uniform(0.05, 0.25, contract.sum()))
        delta[churn] = -current[churn]
        delta[react] = np.round(last_paid[react] * rng.uniform(0.7, 1.05, react.sum()))
        for flag, kind in ((joins, NEW), (expand, EXPANSION), (contract, CONTRACTION), (churn, CHURN),
                           (react, REACTIVATION)):
            code[flag, t] = kind
        last_paid[churn], churned_at[churn] = current[churn], t
        current = current + delta
        amount[:, t], mrr[:, t] = delta, current
    return Ledger(code=code, amount=amount, mrr=mrr, day=rng.integers(0, 28, (n, months)),
                   health=_health(acc, drift, code), n_months=cal.n)


def _drift(rng: np.random.Generator, n: int, months: int) -> np.ndarray:
    """Slow month-to-month wandering of each account's health around its base level (AR(1))."""
    drift = np.zeros((n, months))
    shocks = rng.normal(0.0, 0.05, (n, months))
    for t in range(1, months):
        drift[:, t] = 0.7 * drift[:, t - 1] + shocks[:, t]
    return drift


def _health(acc: Accounts, drift: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Latent health: the account's base level, its drift, and a decline over the months before a churn."""
    n, months = code.shape
    decline = np.zeros((n, months))
    churn = code == CHURN
    for lag, loss in enumerate(PRE_CHURN_DECLINE):
        decline[:, : months - lag] = np.maximum(decline[:, : months - lag], loss * churn[:, lag:])
    decline = np.maximum(decline, 0.08 * (code == CONTRACTION))
    return np.clip(acc.health[:, None] + drift - decline, 0.02, 0.98)


def movements(cal: Calendar, led: Ledger) -> pd.DataFrame:
    """The mrr_movements table: one row per (client, month) with a movement."""
    client, month = np.nonzero(led.code[:, : cal.n] >= 0)
    return table_frame(schema.mrr_movements, sort=["month", "client_id"],
                       movement_id=0, client_id=client + 1, month=ns(cal.start[month]),
                       movement=cat(led.code[client, month], MOVEMENTS), amount=led.amount[client, month] / 100
                       ).assign(movement_id=lambda f: serial(len(f)))


def subscriptions(cal: Calendar, acc: Accounts, led: Ledger) -> pd.DataFrame:
    """One subscription per paying spell: from the new/reactivation movement to the churn that ends it."""
    code = led.code[:, : cal.n]
    s_client, s_month = np.nonzero((code == NEW) | (code == REACTIVATION))
    e_client, e_month = np.nonzero(code == CHURN)
    starts = pd.DataFrame({"client": s_client, "month": s_month})
    ends = pd.DataFrame({"client": e_client, "end_month": e_month})
    # Spells alternate start, end, start...: the k-th churn of a client closes its k-th spell.
    starts["k"], ends["k"] = starts.groupby("client").cumcount(), ends.groupby("client").cumcount()
    spells = starts.merge(ends, on=["client", "k"], how="left").sort_values(["month", "client"], ignore_index=True)
    client, month = spells["client"].to_numpy(), spells["month"].to_numpy()
    started = np.where(code[client, month] == NEW, acc.signup[client], led.dated(cal, client, month))
    has_end = spells["end_month"].notna().to_numpy()
    end_month = spells["end_month"].fillna(0).to_numpy(dtype=np.int64)
    ended = np.where(has_end, led.dated(cal, client, end_month), np.datetime64("NaT", "D"))
    return table_frame(schema.subscriptions, subscription_id=serial(len(spells)), client_id=client + 1,
                       plan=cat(acc.plan[client], PLANS), started_on=ns(started), ended_on=ns(ended))


def invoices(rng: np.random.Generator, cal: Calendar, led: Ledger) -> pd.DataFrame:
    """One invoice per paying month on its first day; unhealthy accounts pay later, a few never."""
    month, client = np.nonzero(led.active.T)  # month-major: invoices come out in date order
    issued = cal.start[month]
    delay = rng.lognormal(np.log(14 + 25 * (1 - led.health[client, month])), 0.45).astype(np.int64)
    paid = issued + delay
    unpaid = (paid > cal.end) | (rng.random(len(client)) < 0.015)
    return table_frame(schema.invoices, invoice_id=serial(len(client)), client_id=client + 1, issued_on=ns(issued),
                       due_on=ns(issued + 30), amount=led.mrr[client, month] / 100,
                       paid_on=ns(np.where(unpaid, np.datetime64("NaT", "D"), paid)))
