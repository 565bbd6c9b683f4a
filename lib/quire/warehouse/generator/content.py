"""Content and its daily engagement per client."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import Calendar, cat, choose, explode, ns, season, serial, table_frame
from quire.warehouse.generator.clients import PLAN_WEIGHT, Accounts
from quire.warehouse.generator.revenue import Ledger
from quire.warehouse.generator.scales import Scale
from quire.warehouse.generator.titles import titles
from quire.warehouse.generator.vocabulary import KIND_INTENT
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
# Views: a web page keeps a steady share of its first-day audience from search for its whole tracked window,
# so a client's site has a baseline; posts and newsletters are read over a few days after publication.
BASE_VIEWS = np.array([120.0, 300.0, 400.0, 250.0, 550.0])  # expected first-day views per platform
DECAY = np.array([0.10, 0.40, 0.45, 0.40, 0.55])             # daily decay rate of views per platform
TRACKED_DAYS = np.array([90, 14, 10, 12, 7])                  # days of engagement recorded per platform
SEARCH_FLOOR = np.array([0.30, 0.0, 0.0, 0.0, 0.0])           # evergreen share of first-day views (web search)
VIEW_SPREAD = 0.5                                             # log-sd of an item's audience around the expected
# Views by day of week (Monday first): work platforms are read on weekdays, Instagram and Facebook also at weekends.
WEEKDAY_VIEWS = np.array([[1.08, 1.12, 1.10, 1.06, 0.96, 0.60, 0.66],   # web
                          [1.12, 1.16, 1.14, 1.08, 0.92, 0.52, 0.58],   # linkedin
                          [0.96, 0.98, 1.00, 1.00, 1.02, 1.03, 1.01],   # instagram
                          [0.97, 0.99, 1.00, 1.00, 1.02, 1.02, 1.00],   # facebook
                          [1.14, 1.16, 1.12, 1.06, 0.92, 0.58, 0.62]])  # newsletter
WEEKEND_PUBLISHING = 0.25  # share of weekend publication dates kept; the rest move to the nearest weekday
CTR = np.array([0.040, 0.012, 0.006, 0.010, 0.080])
TYPE_CTR = np.array([1.0, 0.8, 1.0, 1.0, 2.5])  # a landing page is built around one call to action
# Conversions per click by content type, scaled by the topic's intent (a registration page converts, a notice
# informs: vocabulary.KIND_INTENT).
TYPE_CVR = np.array([0.035, 0.02, 0.015, 0.045, 0.10])
ENGAGEMENT_RATE = np.array([0.005, 0.040, 0.060, 0.045, 0.010])
TYPE_VIEWS = np.array([1.0, 1.4, 1.0, 1.0, 0.8])


def content(rng: np.random.Generator, words: np.random.Generator, sc: Scale, cal: Calendar, acc: Accounts,
            led: Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Content items of paying clients and their daily engagement (returned as two frames)."""
    client, month = np.nonzero(led.active)
    lam = sc.content_rate * PLAN_WEIGHT[acc.plan[client]] ** 0.5 / np.sqrt(3) * cal.days[month] / 30.4 \
        * (0.6 + 0.5 * led.health[client, month])
    owner, _ = explode(rng.poisson(lam))
    client, month = client[owner], month[owner]
    platform = choose(rng, PLATFORM_BY_SECTOR, acc.sector[client])
    ctype = choose(rng, TYPE_BY_PLATFORM, platform)
    published = _weekday(rng, cal, cal.random_day(rng, month))
    order = np.lexsort((client, published))
    client, platform, ctype, published = client[order], platform[order], ctype[order], published[order]
    title, kind = titles(words, cal, acc, client, ctype, published)
    items = table_frame(schema.content, content_id=serial(len(client)), client_id=client + 1, title=title,
                        content_type=cat(ctype, CONTENT_TYPES), platform=cat(platform, PLATFORMS),
                        published_on=ns(published))
    return items, _engagement(rng, cal, acc, led, client, platform, ctype, KIND_INTENT[kind], published)


def _weekday(rng: np.random.Generator, cal: Calendar, day: np.ndarray) -> np.ndarray:
    """Most weekend publication dates moved to the nearest weekday of the same month (agencies publish on workdays)."""
    weekday = _day_of_week(day)
    move = (weekday >= 5) & (rng.random(len(day)) >= WEEKEND_PUBLISHING)
    friday, monday = day - (weekday - 4), day + (7 - weekday)
    same_month = (monday.astype("datetime64[M]") == day.astype("datetime64[M]")) & (monday <= cal.end)
    nearest = np.where((weekday == 6) & same_month, monday, friday)
    nearest = np.where(nearest.astype("datetime64[M]") == day.astype("datetime64[M]"), nearest, day)
    return np.where(move, nearest, day)


def _day_of_week(day: np.ndarray) -> np.ndarray:
    """Monday 0 ... Sunday 6 (1970-01-01 was a Thursday)."""
    return (day.astype(np.int64) + 3) % 7


def _engagement(rng: np.random.Generator, cal: Calendar, acc: Accounts, led: Ledger, client: np.ndarray,
                platform: np.ndarray, ctype: np.ndarray, intent: np.ndarray, published: np.ndarray) -> pd.DataFrame:
    """Daily rows per content item for its tracked window: views decay from publication, with seasonality.

    Clicks follow the platform's and type's click-through rate; conversions the type's
    conversion rate scaled by the topic's intent, so action content (registrations,
    bookings, appeals) converts and notices mostly inform.
    """
    n = len(client)
    growth = 1.02 ** (cal.month_of(published) - acc.join[client])  # audiences grow with tenure
    first_day = BASE_VIEWS[platform] * TYPE_VIEWS[ctype] * acc.size[client] ** 0.7 * growth \
        * rng.lognormal(-VIEW_SPREAD ** 2 / 2, VIEW_SPREAD, n)
    ctr = CTR[platform] * TYPE_CTR[ctype] * rng.lognormal(0, 0.3, n)
    cvr = np.minimum(TYPE_CVR[ctype] * intent * rng.lognormal(-0.06, 0.35, n), 0.6)
    owner, age = explode(TRACKED_DAYS[platform])
    day = published[owner] + age
    keep = day <= cal.end
    owner, age, day = owner[keep], age[keep], day[keep]
    m = cal.month_of(day)
    keep = led.active[client[owner], m]  # tracking stops while the client does not pay
    owner, age, day, m = owner[keep], age[keep], day[keep], m[keep]
    c, p = client[owner], platform[owner]
    expected = first_day[owner] * (np.exp(-DECAY[p] * age) + SEARCH_FLOOR[p]) \
        * season(acc.sector[c], cal.moy[m]) * (0.6 + 0.5 * led.health[c, m]) * WEEKDAY_VIEWS[p, _day_of_week(day)]
    views = rng.poisson(expected)
    clicks = rng.binomial(views, np.minimum(ctr[owner], 0.5))
    conversions = rng.binomial(clicks, cvr[owner])
    engagements = rng.binomial(views, ENGAGEMENT_RATE[p])
    order = np.lexsort((owner, day))  # by day, then content: sorting the arrays is much cheaper than the frame
    return table_frame(schema.engagement_daily, content_id=owner[order] + 1, client_id=c[order] + 1,
                       day=ns(day[order]), views=views[order], clicks=clicks[order], conversions=conversions[order],
                       engagements=engagements[order])
