"""Customer health: weekly product usage, support tickets and survey answers, all driven by latent health."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import SEASON, Calendar, cat, choose, explode, ns, serial, table_frame
from quire.warehouse.generator.clients import PLAN_SEATS, Accounts
from quire.warehouse.generator.revenue import Ledger

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_BY_HEALTH = np.array([[0.30, 0.45, 0.18, 0.07],   # healthy
                               [0.18, 0.40, 0.28, 0.14]])  # struggling accounts escalate more
RESOLUTION_HOURS = np.array([60.0, 30.0, 12.0, 4.0])      # median per priority
CATEGORIES = ("how-to", "bug", "billing", "account access", "integration", "feature request", "performance")
CATEGORY_SHARE = np.array([0.28, 0.22, 0.10, 0.12, 0.10, 0.12, 0.06])


def _seats(acc: Accounts, led: Ledger) -> np.ndarray:
    """Seats per (client, month) track MRR relative to the client's starting MRR."""
    per_dollar = PLAN_SEATS[acc.plan] * acc.size ** 0.5 / acc.base_mrr
    return np.maximum(2, np.round(per_dollar[:, None] * led.mrr)).astype(np.int64)


def usage(rng: np.random.Generator, cal: Calendar, acc: Accounts, led: Ledger) -> pd.DataFrame:
    """Complete ISO weeks (Monday first) of each paying client; activity follows health, interpolated by day."""
    first = np.busday_offset(cal.start[0], 0, roll="forward", weekmask="Mon")
    mondays = np.arange(first, cal.end - 5, 7)  # only weeks that end within the data
    m = cal.month_of(mondays)
    frac = (mondays - cal.start[m]).astype(np.int64) / 30.4
    client, w = np.nonzero(led.active[:, m])
    month = m[w]
    health = led.health[client, month] + frac[w] * (led.health[client, month + 1] - led.health[client, month])
    seats = _seats(acc, led)[client, month]
    share = np.clip(0.15 + 0.75 * health * SEASON[cal.moy[month]], 0.02, 0.97)
    active_users = rng.binomial(seats, share)
    logins = rng.poisson(active_users * (1.0 + 4.0 * health))
    return table_frame(schema.product_usage, sort=["week", "client_id"], client_id=client + 1, week=ns(mondays[w]),
                       seats=seats, active_users=active_users, logins=logins)


def tickets(rng: np.random.Generator, cal: Calendar, acc: Accounts,
             led: Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tickets rise as health falls; returns the tickets and, per closed ticket, what CSAT needs."""
    client, month = np.nonzero(led.active)
    health = led.health[client, month]
    lam = 0.25 * np.sqrt(_seats(acc, led)[client, month]) * (0.5 + 2.0 * (1 - health))
    owner, _ = explode(rng.poisson(lam))
    client, month, health = client[owner], month[owner], health[owner]
    opened = cal.random_instant(rng, month)
    order = np.argsort(opened, kind="stable")
    client, month, health, opened = client[order], month[order], health[order], opened[order]
    priority = choose(rng, PRIORITY_BY_HEALTH, (health < 0.45).astype(np.int64))
    hours = rng.lognormal(np.log(RESOLUTION_HOURS[priority]), 0.8) * (2 - health)
    closed = opened + (hours * 3600).astype(np.int64)
    is_closed = closed < cal.end_s
    tickets = table_frame(
        schema.support_tickets, ticket_id=serial(len(client)), client_id=client + 1, opened_at=ns(opened),
        closed_at=ns(np.where(is_closed, closed, np.datetime64("NaT", "s"))), priority=cat(priority, PRIORITIES),
        category=cat(rng.choice(len(CATEGORIES), len(client), p=CATEGORY_SHARE), CATEGORIES))
    csat = pd.DataFrame({"client": client, "closed": closed, "health": health, "slow": hours > 48})[is_closed]
    return tickets, csat


NPS_COMMENTS = (("Reports arrive late and we keep chasing the team.", "Too expensive for what we get.",
                 "Support takes days to answer."),
                ("Solid work, but onboarding new staff is slow.", "Good results, communication could be better."),
                ("The monthly report is the first thing our board reads.", "Great team, very responsive.",
                 "Engagement has doubled since we started."))
CSAT_COMMENTS = (("Issue not resolved.", "Took far too long."), ("Fine.",), ("Quick and helpful, thanks!", "Solved in minutes."))


def surveys(rng: np.random.Generator, cal: Calendar, acc: Accounts, led: Ledger,
             csat: pd.DataFrame) -> pd.DataFrame:
    """NPS from contacts of paying clients and CSAT after closed tickets, both driven by health."""
    client, month = np.nonzero(led.active)
    seats = _seats(acc, led)[client, month]
    owner, _ = explode(rng.poisson(0.3 * (1 + seats ** 0.3)))
    n_client, n_month = client[owner], month[owner]
    nps = np.clip(np.round(rng.normal(1.5 + 9.0 * led.health[n_client, n_month], 1.4)), 0, 10).astype(np.int64)
    n_day = cal.random_day(rng, n_month)

    c_day = csat["closed"].to_numpy().astype("datetime64[D]") + rng.integers(0, 4, len(csat))
    answered = (rng.random(len(csat)) < 0.45) & (c_day <= cal.end)
    c = csat[answered]
    c_score = np.clip(np.round(rng.normal(1.4 + 3.8 * c["health"].to_numpy() - 0.4 * c["slow"].to_numpy(), 0.7)),
                      1, 5).astype(np.int64)
    survey = np.r_[np.zeros(len(nps), np.int64), np.ones(len(c), np.int64)]
    score = np.r_[nps, c_score]
    # Sentiment bucket 0 negative, 1 neutral, 2 positive, per survey's own scale.
    bucket = np.where(survey == 0, np.digitize(score, [7, 9]), np.digitize(score, [3, 4]))
    frame = table_frame(
        schema.survey_responses, sort=["responded_on", "client_id"], response_id=0,
        client_id=np.r_[n_client, c["client"].to_numpy()] + 1,
        responded_on=ns(np.concatenate([n_day, c_day[answered]])), survey=cat(survey, ("nps", "csat")), score=score,
        comment=_comments(rng, survey, bucket))
    return frame.assign(response_id=serial(len(frame)))


def _comments(rng: np.random.Generator, survey: np.ndarray, bucket: np.ndarray) -> np.ndarray:
    """A canned comment matching the score's sentiment for about a third of responses, else None."""
    pools = [NPS_COMMENTS, CSAT_COMMENTS]
    table = np.array([[pools[s][b][i % len(pools[s][b])] for i in range(3)] for s in (0, 1) for b in (0, 1, 2)],
                     dtype=object).reshape(2, 3, 3)
    text = table[survey, bucket, rng.integers(0, 3, len(survey))]
    return np.where(rng.random(len(survey)) < 0.33, text, None)
