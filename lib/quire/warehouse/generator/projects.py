"""Projects: fixed-price work that overruns its hours and sometimes its due date; cost follows actual hours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import Calendar, cents, explode, ns, season, serial, table_frame
from quire.warehouse.generator.clients import PLAN_WEIGHT, Accounts
from quire.warehouse.generator.revenue import Ledger
from quire.warehouse.schema import SECTORS

PROJECT_KINDS = ("Website redesign", "Brand refresh", "Campaign", "Annual report", "SEO audit",
                 "Newsletter program", "Video series", "Landing pages", "Social media kit", "Analytics dashboard")
PROJECT_HOURS = np.array([320.0, 160.0, 90.0, 120.0, 40.0, 60.0, 140.0, 50.0, 45.0, 110.0])
PROJECT_RATE = np.array([0.12, 0.25, 0.5])   # projects per paying month, per plan
HOURLY_RATE = np.array([110.0, 125.0, 140.0])  # billed per estimated hour (fixed-price quotes)
MUNICIPALITY = SECTORS.index("municipality")
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def projects(rng: np.random.Generator, cal: Calendar, acc: Accounts, led: Ledger) -> pd.DataFrame:
    """Fixed-price projects: hours overrun (more with revisions), some deliver late; cost follows actual hours."""
    client, month = np.nonzero(led.active)
    lam = PROJECT_RATE[acc.plan[client]] * season(acc.sector[client], cal.moy[month])
    owner, _ = explode(rng.poisson(lam))
    client, month = client[owner], month[owner]
    k = len(client)
    kind = rng.integers(0, len(PROJECT_KINDS), k)
    health = led.health[client, month]
    started = cal.random_day(rng, month)
    estimated = np.round(PROJECT_HOURS[kind] * PLAN_WEIGHT[acc.plan[client]] ** 0.3 * rng.lognormal(0, 0.3, k) * 2) / 2
    planned_days = np.maximum(7, estimated / 25 * 7 * rng.uniform(0.8, 1.3, k)).astype(np.int64)
    due = started + planned_days
    revisions = np.minimum(rng.poisson(1.0 + 0.8 * (acc.sector[client] == MUNICIPALITY) + 1.2 * (1 - health)), 8)
    overrun = rng.lognormal(0.02, 0.15, k) * (1 + 0.03 * revisions)
    actual = np.round(estimated * overrun * 2) / 2
    slip = rng.normal(-6, 4, k) + 0.5 * planned_days * (overrun - 1) + 2.0 * (revisions - 1)
    delivered = due + np.round(slip).astype(np.int64)
    delivered = np.maximum(delivered, started + 1)
    done = delivered <= cal.end
    rate = HOURLY_RATE[acc.plan[client]] * rng.uniform(0.95, 1.1, k)
    cost_rate = rate * rng.uniform(0.55, 0.72, k)
    # Work in progress has cost what its elapsed share of the estimate cost so far.
    elapsed = np.clip((cal.end - started).astype(np.int64) / np.maximum((delivered - started).astype(np.int64), 1), 0, 1)
    hours_so_far = np.where(done, actual, estimated * elapsed)
    month_label = np.array([f"{MONTH_ABBR[m % 12]} {m // 12 + 1970}" for m in cal.months.astype(np.int64)], dtype=object)
    label = np.array(PROJECT_KINDS, dtype=object)[kind] + ", " + month_label[month]
    return table_frame(
        schema.projects, sort=["started_on", "client_id"], project_id=0, client_id=client + 1, name=label,
        started_on=ns(started), due_on=ns(due), delivered_on=ns(np.where(done, delivered, np.datetime64("NaT", "D"))),
        estimated_hours=estimated, actual_hours=np.where(done, actual, np.nan), revision_rounds=revisions,
        revenue=cents(estimated * rate), cost=cents(hours_so_far * cost_rate),
    ).assign(project_id=lambda f: serial(len(f)))
