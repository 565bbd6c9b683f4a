"""Product analytics: users of the clients' products, their sessions and events (signup, activation, purchase...)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import Calendar, cat, cents, explode, ns, serial, table_frame
from quire.warehouse.generator.clients import COUNTRIES, PLAN_WEIGHT, Accounts
from quire.warehouse.generator.revenue import Ledger
from quire.warehouse.generator.scales import Scale
from quire.warehouse.schema import EVENT_TYPES

CHANNELS = ("organic", "paid", "referral", "partner")
CHANNEL_SHARE = np.array([0.45, 0.25, 0.18, 0.12])
ACTIVATION = np.array([0.38, 0.28, 0.55, 0.45])  # share of users who activate, per channel
HOME_COUNTRY_SHARE = 0.85


def product(rng: np.random.Generator, sc: Scale, cal: Calendar, acc: Accounts,
             led: Ledger) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Users sign up with paying clients; activated users stay active far longer (retention curves)."""
    weight = led.active * (acc.size * PLAN_WEIGHT[acc.plan])[:, None] * 1.02 ** np.arange(cal.n) * cal.days
    counts = rng.multinomial(sc.users, (weight / weight.sum()).ravel())
    cell = np.repeat(np.arange(counts.size), counts)
    client, month = cell // cal.n, cell % cal.n
    signup = cal.random_instant(rng, month)
    order = np.argsort(signup, kind="stable")
    client, month, signup = client[order], month[order], signup[order]
    n = len(client)
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_SHARE)
    activation = signup + np.minimum(rng.exponential(1.5 * 86400, n), 14 * 86400).astype(np.int64)
    activated = (rng.random(n) < ACTIVATION[channel] * (0.6 + 0.5 * led.health[client, month])) \
        & (activation < cal.end_s)
    users = table_frame(schema.users, user_id=serial(n), client_id=client + 1, signed_up_at=ns(signup),
                        channel=cat(channel, CHANNELS), country=_countries(rng, acc.region[client]))
    sessions, session_user, session_start, duration = _sessions(rng, cal, led, client, signup, activated)
    events = _events(rng, n, signup, activated, activation, session_user, session_start, duration,
                     acc.plan[client], cal.end_s)
    return users, sessions, events


def _countries(rng: np.random.Generator, region: np.ndarray) -> pd.Categorical:
    """Mostly the client's home region, some from anywhere; each country equally likely within a region."""
    codes = [c for group in COUNTRIES for c in group]
    offset = np.cumsum([0] + [len(g) for g in COUNTRIES])
    sizes = np.diff(offset)
    home = np.where(rng.random(len(region)) < HOME_COUNTRY_SHARE, region, rng.integers(0, len(COUNTRIES), len(region)))
    return cat(offset[home] + (rng.random(len(region)) * sizes[home]).astype(np.int64), codes)


def _sessions(rng: np.random.Generator, cal: Calendar, led: Ledger, client: np.ndarray, signup: np.ndarray,
              activated: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """A first session at signup, then sessions spread over an exponentially decaying horizon per user."""
    n = len(client)
    count = 1 + rng.negative_binomial(2, np.where(activated, 2 / 15, 2 / 3), n)
    horizon_days = np.where(activated, 35.0, 4.0) * rng.lognormal(0, 0.5, n)
    user, nth = explode(count)
    gap = np.where(nth == 0, 0, rng.exponential(horizon_days[user] * 86400)).astype(np.int64)
    start = signup[user] + 60 + gap
    duration = np.clip(rng.lognormal(np.log(300), 0.9, len(user)), 10, 4 * 3600).astype(np.int64)
    keep = start + duration < cal.end_s
    user, start, duration = user[keep], start[keep], duration[keep]
    keep = led.active[client[user], cal.month_of(start)]  # users of a churned client stop
    user, start, duration = user[keep], start[keep], duration[keep]
    order = np.argsort(start, kind="stable")
    user, start, duration = user[order], start[order], duration[order]
    frame = table_frame(schema.sessions, session_id=serial(len(user)), user_id=user + 1, started_at=ns(start),
                        duration_s=duration)
    return frame, user, start, duration


def _events(rng: np.random.Generator, n_users: int, signup: np.ndarray, activated: np.ndarray,
            activation: np.ndarray, s_user: np.ndarray, s_start: np.ndarray, s_duration: np.ndarray,
            plan: np.ndarray, end_s: np.datetime64) -> pd.DataFrame:
    """Signup, activation, one session_start per session, feature uses and purchases within sessions."""
    engaged = activated[s_user]
    f_session, _ = explode(rng.poisson(np.where(engaged, 1.8, 0.5)))
    p_session = np.flatnonzero(rng.random(len(s_user)) < np.where(engaged, 0.05, 0.008))

    def within(session: np.ndarray) -> np.ndarray:
        return s_start[session] + (rng.random(len(session)) * s_duration[session]).astype(np.int64)

    acts = np.flatnonzero(activated)
    parts = [  # (user index, event type, instant)
        (np.arange(n_users), "signup", signup),
        (acts, "activation", activation[acts]),
        (s_user, "session_start", s_start),
        (s_user[f_session], "feature_use", within(f_session)),
        (s_user[p_session], "purchase", within(p_session)),
    ]
    user = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), EVENT_TYPES.index(p[1]), np.int64) for p in parts])
    when = np.concatenate([p[2] for p in parts])
    purchase = kind == EVENT_TYPES.index("purchase")
    revenue = np.full(len(user), np.nan)
    revenue[purchase] = cents(rng.lognormal(np.log(40), 0.6, purchase.sum()) * PLAN_WEIGHT[plan[user[purchase]]] ** 0.3)
    keep = when < end_s
    order = np.argsort(when[keep], kind="stable")
    return table_frame(schema.events, event_id=serial(len(order)), user_id=user[keep][order] + 1,
                       event_type=cat(kind[keep][order], EVENT_TYPES), occurred_at=ns(when[keep][order]),
                       revenue=revenue[keep][order])
