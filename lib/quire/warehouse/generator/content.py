"""Content and its daily engagement per client."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import Calendar, cat, choose, explode, ns, season, serial, table_frame
from quire.warehouse.generator.clients import PLAN_WEIGHT, Accounts
from quire.warehouse.generator.revenue import Ledger
from quire.warehouse.generator.scales import Scale
from quire.warehouse.schema import CONTENT_TYPES, PLATFORMS

PLATFORM_BY_SECTOR = np.array([[0.35, 0.10, 0.10, 0.25, 0.20],   # web, linkedin, instagram, facebook, newsletter
                               [0.30, 0.30, 0.15, 0.10, 0.15],
                               [0.30, 0.35, 0.15, 0.10, 0.10],
                               [0.20, 0.10, 0.25, 0.30, 0.15]])
TYPE_BY_PLATFORM = np.array([[0.60, 0.20, 0.00, 0.00, 0.20],   # article, video, social_post, newsletter, landing_page
                             [0.25, 0.15, 0.60, 0.00, 0.00],
                             [0.00, 0.30, 0.70, 0.00, 0.00],
                             [0.00, 0.30, 0.70, 0.00, 0.00],
                             [0.00, 0.00, 0.00, 1.00, 0.00]])
BASE_VIEWS = np.array([60.0, 300.0, 400.0, 250.0, 900.0])  # expected first-day views per platform
DECAY = np.array([0.08, 0.5, 0.6, 0.55, 0.9])              # daily decay rate of views per platform
TRACKED_DAYS = np.array([90, 14, 10, 12, 7])                # days of engagement recorded per platform
SEARCH_FLOOR = np.array([0.05, 0.0, 0.0, 0.0, 0.0])         # evergreen share of first-day views (web search)
CTR = np.array([0.040, 0.012, 0.006, 0.010, 0.080])
ENGAGEMENT_RATE = np.array([0.005, 0.040, 0.060, 0.045, 0.010])
TYPE_VIEWS = np.array([1.0, 1.4, 1.0, 1.0, 0.8])
TOPICS = (("road works", "the recycling schedule", "summer events", "the budget town hall", "library hours",
           "the park renovation", "snow clearing", "council elections"),
          ("our spring collection", "customer stories", "the product update", "holiday offers",
           "behind the scenes", "our new store", "the loyalty program", "trade show highlights"),
          ("our launch", "the funding round", "a feature deep-dive", "hiring", "the roadmap",
           "the public beta", "integrations", "our customer advisory board"),
          ("the volunteer drive", "the annual appeal", "our impact report", "the community dinner",
           "donor stories", "the summer camp", "the food drive", "partnership news"))
OPENERS = ("A guide to", "Watch:", "Coming up:", "Monthly update:", "Sign up:")  # per content type


def content(rng: np.random.Generator, sc: Scale, cal: Calendar, acc: Accounts,
             led: Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Content items of paying clients and their daily engagement (returned as two frames)."""
    client, month = np.nonzero(led.active)
    lam = sc.content_rate * PLAN_WEIGHT[acc.plan[client]] ** 0.5 / np.sqrt(3) * cal.days[month] / 30.4 \
        * (0.6 + 0.5 * led.health[client, month])
    owner, _ = explode(rng.poisson(lam))
    client, month = client[owner], month[owner]
    platform = choose(rng, PLATFORM_BY_SECTOR, acc.sector[client])
    ctype = choose(rng, TYPE_BY_PLATFORM, platform)
    published = cal.random_day(rng, month)
    order = np.lexsort((client, published))
    client, platform, ctype, published = client[order], platform[order], ctype[order], published[order]
    topic = rng.integers(0, len(TOPICS[0]), len(client))
    topics = np.array(TOPICS, dtype=object)[acc.sector[client], topic]
    title = np.array(OPENERS, dtype=object)[ctype] + " " + topics
    content = table_frame(schema.content, content_id=serial(len(client)), client_id=client + 1, title=title,
                     content_type=cat(ctype, CONTENT_TYPES), platform=cat(platform, PLATFORMS),
                     published_on=ns(published))
    return content, _engagement(rng, cal, acc, led, client, platform, ctype, published)


def _engagement(rng: np.random.Generator, cal: Calendar, acc: Accounts, led: Ledger, client: np.ndarray,
                platform: np.ndarray, ctype: np.ndarray, published: np.ndarray) -> pd.DataFrame:
    """Daily rows per content item for its tracked window: views decay from publication, with seasonality."""
    growth = 1.02 ** (cal.month_of(published) - acc.join[client])  # audiences grow with tenure
    first_day = BASE_VIEWS[platform] * TYPE_VIEWS[ctype] * acc.size[client] ** 0.7 * growth \
        * rng.lognormal(-0.18, 0.6, len(client))
    ctr = CTR[platform] * rng.lognormal(0, 0.3, len(client))
    cvr = rng.uniform(0.02, 0.08, len(client))
    owner, age = explode(TRACKED_DAYS[platform])
    day = published[owner] + age
    keep = day <= cal.end
    owner, age, day = owner[keep], age[keep], day[keep]
    m = cal.month_of(day)
    keep = led.active[client[owner], m]  # tracking stops while the client does not pay
    owner, age, day, m = owner[keep], age[keep], day[keep], m[keep]
    c, p = client[owner], platform[owner]
    weekend = (day.astype(np.int64) + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    expected = first_day[owner] * (np.exp(-DECAY[p] * age) + SEARCH_FLOOR[p]) \
        * season(acc.sector[c], cal.moy[m]) * (0.6 + 0.5 * led.health[c, m]) * np.where(weekend, 0.75, 1.05)
    views = rng.poisson(expected)
    clicks = rng.binomial(views, np.minimum(ctr[owner], 0.5))
    frame = table_frame(schema.engagement_daily, content_id=owner + 1, client_id=c + 1, day=ns(day), views=views,
                   clicks=clicks, conversions=rng.binomial(clicks, cvr[owner]),
                   engagements=rng.binomial(views, ENGAGEMENT_RATE[p]))
    return frame.sort_values(["day", "content_id"], kind="stable", ignore_index=True)

