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
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from quire.errors import ParameterError
from quire.warehouse import schema
from quire.warehouse.schema import CONTENT_TYPES, EVENT_TYPES, MOVEMENTS, PLANS, PLATFORMS, SECTORS


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
        Scale("demo", clients=40, months=30, users=32_000, content_rate=8.0, experiment_share=0.5),
        Scale("large", clients=600, months=36, users=720_000, content_rate=8.0, experiment_share=0.3),
    )
}


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


def default_end(today: date | None = None) -> date:
    """The last day of the previous calendar month: data through the last complete month."""
    return (today or date.today()).replace(day=1) - timedelta(days=1)


def generate(scale: str = "demo", seed: int = 7, end: date | None = None) -> dict[str, pd.DataFrame]:
    """Generate every table of the schema; keys are table names, in load (dependency) order.

    ``end`` is the last day of the data (default :func:`default_end`); history starts on the
    first day of the month ``scale.months - 1`` months before it.
    """
    if scale not in SCALES:
        raise ParameterError(f"unknown warehouse scale {scale!r}; choose one of {', '.join(SCALES)}", parameter="scale")
    sc = SCALES[scale]
    cal = _Calendar.ending(end or default_end(), sc.months)
    rng = _Streams(seed, sc.name)
    acc = _accounts(rng("accounts"), sc, cal)
    led = _ledger(rng("ledger"), acc, cal)
    content, engagement = _content(rng("content"), sc, cal, acc, led)
    tickets, csat = _tickets(rng("tickets"), cal, acc, led)
    users, sessions, events = _product(rng("product"), sc, cal, acc, led)
    experiments, variants, assignments = _experiments(rng("experiments"), sc, cal, users)
    frames = {
        "organizations": _organizations(),
        "clients": _clients(cal, acc, led),
        "mrr_movements": _movements(cal, led),
        "subscriptions": _subscriptions(cal, acc, led),
        "invoices": _invoices(rng("invoices"), cal, led),
        "projects": _projects(rng("projects"), cal, acc, led),
        "content": content,
        "engagement_daily": engagement,
        "product_usage": _usage(rng("usage"), cal, acc, led),
        "support_tickets": tickets,
        "survey_responses": _surveys(rng("surveys"), cal, acc, led, csat),
        "users": users,
        "sessions": sessions,
        "events": events,
        "experiments": experiments,
        "experiment_variants": variants,
        "experiment_assignments": assignments,
    }
    return {t.name: frames[t.name] for t in schema.TABLES}


# --------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------

class _Streams:
    """Independent random streams per section, derived from the seed, the scale and a name."""

    def __init__(self, seed: int, scale: str) -> None:
        self.seed, self.scale = seed, zlib.crc32(scale.encode())

    def __call__(self, section: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.scale, zlib.crc32(section.encode())])


@dataclass(frozen=True)
class _Calendar:
    """The months of history and the last day of data (numpy datetime64 throughout)."""

    months: np.ndarray  # datetime64[M], oldest first
    end: np.datetime64  # datetime64[D], inclusive

    @classmethod
    def ending(cls, end: date, n_months: int) -> "_Calendar":
        last = np.datetime64(end, "M")
        return cls(last - np.arange(n_months - 1, -1, -1), np.datetime64(end, "D"))

    @property
    def n(self) -> int:
        return len(self.months)

    @property
    def start(self) -> np.ndarray:
        """First day of each month."""
        return self.months.astype("datetime64[D]")

    @property
    def days(self) -> np.ndarray:
        """Days of each month that lie within the data (the last month may be partial)."""
        nxt = np.minimum((self.months + 1).astype("datetime64[D]"), self.end + 1)
        return (nxt - self.start).astype(np.int64)

    @property
    def moy(self) -> np.ndarray:
        """Month of year per month, 0 = January."""
        return self.months.astype(np.int64) % 12

    @property
    def end_s(self) -> np.datetime64:
        """The first instant after the data (exclusive bound for timestamps)."""
        return (self.end + 1).astype("datetime64[s]")

    def month_of(self, when: np.ndarray) -> np.ndarray:
        """Month index of datetime64 values (days or seconds)."""
        return (when.astype("datetime64[M]") - self.months[0]).astype(np.int64)

    def random_day(self, rng: np.random.Generator, month: np.ndarray) -> np.ndarray:
        """A uniformly random day (datetime64[D]) within each given month, never after ``end``."""
        return self.start[month] + (rng.random(len(month)) * self.days[month]).astype(np.int64)

    def random_instant(self, rng: np.random.Generator, month: np.ndarray) -> np.ndarray:
        """A uniformly random second (datetime64[s]) within each given month, never after ``end``."""
        return self.start[month].astype("datetime64[s]") + (rng.random(len(month)) * self.days[month] * 86400).astype(np.int64)


# Engagement by month of year: dips in summer and December, strong spring and autumn.
SEASON = np.array([0.97, 1.02, 1.05, 1.03, 1.00, 0.93, 0.80, 0.78, 1.00, 1.05, 1.06, 0.82])
# Businesses peak in Q4 (campaigns, holiday sales): extra factor on engagement, projects, expansion.
BUSINESS_Q4 = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.2, 1.3, 1.15])
BUSINESS = SECTORS.index("business")


def _season(sector: np.ndarray, moy: np.ndarray) -> np.ndarray:
    """Seasonal factor for (sector, month-of-year) pairs of equal shape."""
    return SEASON[moy] * np.where(sector == BUSINESS, BUSINESS_Q4[moy], 1.0)


def _choose(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per element of ``rows`` from the categorical distribution ``probs[row]``."""
    cum = np.cumsum(probs, axis=1)
    picked = (rng.random(len(rows))[:, None] * cum[:, -1][rows][:, None] > cum[rows]).sum(axis=1)
    return np.minimum(picked, probs.shape[1] - 1)


def _explode(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner counts: the owner of each child row and the child's position within its owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - first[owner]


def _cat(codes: np.ndarray, labels: tuple[str, ...] | list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(labels))


def _ns(values: np.ndarray) -> np.ndarray:
    """datetime64 of any unit (NaT allowed) as the frames' datetime64[ns]."""
    return values.astype("datetime64[ns]")


def _cents(amount: np.ndarray) -> np.ndarray:
    return np.round(amount, 2)


def _frame(table: sa.Table, sort: list[str] | None = None, **columns: object) -> pd.DataFrame:
    """A frame with exactly the table's columns in schema order (a missing column is a bug: KeyError)."""
    frame = pd.DataFrame({c.name: columns[c.name] for c in table.columns})
    if sort:
        frame = frame.sort_values(sort, kind="stable", ignore_index=True)
    return frame


def _ids(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.int64)


# --------------------------------------------------------------------------------------
# Organizations and clients
# --------------------------------------------------------------------------------------

ORGANIZATIONS = (("Quire Studio", "quire"), ("Northwind Digital", "northwind"), ("Harbor & Pine Creative", "harbor"))
ORG_SHARE = np.array([0.45, 0.33, 0.22])
REGIONS = ("North America", "UK & Ireland", "Western Europe", "Nordics", "Australia & NZ")
# Each agency works mostly in its home markets.
REGION_BY_ORG = np.array([[0.70, 0.10, 0.10, 0.00, 0.10],
                          [0.10, 0.45, 0.15, 0.30, 0.00],
                          [0.05, 0.15, 0.45, 0.10, 0.25]])
COUNTRIES = (("US", "CA"), ("GB", "IE"), ("DE", "FR", "NL", "ES", "BE"), ("SE", "NO", "DK", "FI"), ("AU", "NZ"))
SECTOR_SHARE = np.array([0.22, 0.38, 0.25, 0.15])
PLAN_BY_SECTOR = np.array([[0.20, 0.50, 0.30],   # municipality
                           [0.35, 0.45, 0.20],   # business
                           [0.60, 0.35, 0.05],   # startup
                           [0.55, 0.40, 0.05]])  # nonprofit
PLAN_PRICE = np.array([900.0, 2_800.0, 8_500.0])  # list MRR per plan
PLAN_SEATS = np.array([5.0, 15.0, 60.0])
PLAN_WEIGHT = np.array([1.0, 3.0, 8.0])  # audience, product users and workload relative to starter
SECTOR_CHURN = np.array([0.012, 0.024, 0.038, 0.019])  # monthly churn hazard at typical health
PLAN_CHURN = np.array([1.25, 1.0, 0.6])
INITIAL_SHARE = 0.45  # clients already on the books in the first month of history
BRAND_OVERRIDE_SHARE = 0.12

PLACE_HEADS = ("Maple", "Oak", "Cedar", "River", "Lake", "Stone", "Green", "Fair", "Brook", "Clear", "Pine", "Elm",
               "Ash", "Willow", "Silver", "Spring", "Rose", "High", "Glen", "West", "East", "North", "Summer",
               "Red", "Black", "White", "Golden", "Mill", "Bridge", "Hazel")
PLACE_TAILS = ("wood", "field", "ton", "dale", "ford", "view", "brook", "port", "ridge", "haven", "bury", "mont",
               "side", "vale")
SURNAMES = ("Abbott", "Baker", "Carter", "Dalton", "Ellis", "Fischer", "Garcia", "Hughes", "Iverson", "Jensen",
            "Keller", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi", "Sullivan", "Tanaka",
            "Underwood", "Varga", "Walsh", "Xu", "Young", "Zimmer", "Brennan", "Costa", "Duval", "Eriksen")
FIRST_NAMES = ("ana", "ben", "chloe", "david", "elena", "farah", "george", "hana", "ivan", "julia", "kofi", "lena",
               "marco", "nina", "omar", "paula", "raj", "sofia", "tom", "ulla", "victor", "wen", "yara", "zoe",
               "liam", "maya", "noah", "olga", "pierre", "sara")
STARTUP_STEMS = ("Bright", "Clear", "Swift", "Nova", "Lumen", "Quanta", "Orbit", "Pixel", "Kite", "Zephyr", "Vivid",
                 "Arc", "Flux", "Nimbus", "Sprout", "Tandem", "Vector", "Echo", "Mosaic", "Beacon")
STARTUP_TAILS = ("path", "loop", "wave", "stack", "leaf", "mint", "forge", "grid", "hive", "lane")
STARTUP_KINDS = ("Labs", "AI", "Health", "Robotics", "Analytics", "Systems")


def _name_pools() -> list[list[str]]:
    """Candidate client names per sector (in SECTORS order); patterns never overlap, so names are unique."""
    places = [h + t for h in PLACE_HEADS for t in PLACE_TAILS]
    municipal = ("City of {}", "Town of {}", "{} County", "Village of {}")
    business = ("{} Dental", "{} Builders", "{} Realty", "{} Logistics", "{} Outfitters", "{} Bakery")
    nonprofit = ("{} Food Bank", "{} Community Foundation", "Friends of {} Library", "{} Arts Council",
                 "{} Youth League", "{} Historical Society", "{} Animal Rescue", "{} Literacy Project")
    firms = [f"{a} & {b}" for a in SURNAMES for b in SURNAMES if a != b] + [f"{s} Manufacturing" for s in SURNAMES]
    return [
        [p.format(place) for p in municipal for place in places],
        [p.format(place) for p in business for place in places] + firms,
        [f"{s}{t} {k}" for s in STARTUP_STEMS for t in STARTUP_TAILS for k in STARTUP_KINDS],
        [p.format(place) for p in nonprofit for place in places],
    ]


def slugify(name: str) -> str:
    """URL-safe slug: lowercase ASCII words joined by hyphens ('Harbor & Pine' -> 'harbor-and-pine')."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("&", " and ")).strip("-")


@dataclass(frozen=True)
class _Accounts:
    """Client attributes as arrays, ordered by signup (index i is client_id i + 1)."""

    org: np.ndarray
    sector: np.ndarray
    plan: np.ndarray
    region: np.ndarray
    size: np.ndarray       # audience and seat multiplier, ~1
    health: np.ndarray     # latent account health in [0, 1]
    join: np.ndarray       # month index of the first MRR
    signup: np.ndarray     # datetime64[D], within the join month
    base_mrr: np.ndarray   # cents
    name: np.ndarray
    email: np.ndarray
    brand: np.ndarray      # object: brand key or None (use the organization's)

    def __len__(self) -> int:
        return len(self.org)


def _covering(rng: np.random.Generator, n: int, probs: np.ndarray) -> np.ndarray:
    """``n`` categorical draws in which every category occurs at least once when ``n`` allows."""
    drawn = rng.choice(len(probs), size=n, p=probs)
    if n >= len(probs):
        drawn[rng.choice(n, size=len(probs), replace=False)] = np.arange(len(probs))
    return drawn


def _accounts(rng: np.random.Generator, sc: Scale, cal: _Calendar) -> _Accounts:
    n = sc.clients
    sector = _covering(rng, n, SECTOR_SHARE)
    org = _covering(rng, n, ORG_SHARE)
    initial = rng.random(n) < INITIAL_SHARE
    # Arrivals accelerate (the business grows) and cluster in January and September.
    weights = 1.035 ** np.arange(1, cal.n) * np.where(np.isin(cal.moy[1:], (0, 8)), 1.4, 1.0)
    join = np.where(initial, 0, rng.choice(np.arange(1, cal.n), size=n, p=weights / weights.sum()))
    signup = cal.random_day(rng, join)
    order = np.lexsort((signup, join))
    sector, org, join, signup = sector[order], org[order], join[order], signup[order]

    plan = _choose(rng, PLAN_BY_SECTOR, sector)
    size = rng.lognormal(0.0, 0.5, n)
    base_mrr = np.round(PLAN_PRICE[plan] * size ** 0.4 * rng.lognormal(0.0, 0.15, n), -1) * 100
    names = _pick_names(rng, sector)
    pairs = rng.choice(len(FIRST_NAMES) * len(SURNAMES), size=n, replace=False)  # unique contacts
    domain = np.where(np.isin(sector, (BUSINESS, SECTORS.index("startup"))), "example.com", "example.org")
    email = np.array([f"{FIRST_NAMES[p // len(SURNAMES)]}.{SURNAMES[p % len(SURNAMES)].lower()}@{d}"
                      for p, d in zip(pairs, domain)], dtype=object)
    return _Accounts(org=org, sector=sector, plan=plan, region=_choose(rng, REGION_BY_ORG, org), size=size,
                     health=rng.beta(6.0, 2.5, n), join=join, signup=signup, base_mrr=base_mrr.astype(np.int64),
                     name=names, email=email, brand=_brand_overrides(rng, org))


def _pick_names(rng: np.random.Generator, sector: np.ndarray) -> np.ndarray:
    names = np.empty(len(sector), dtype=object)
    for s, pool in enumerate(_name_pools()):
        where = np.flatnonzero(sector == s)
        names[where] = [pool[i] for i in rng.choice(len(pool), size=len(where), replace=False)]
    return names


def _brand_overrides(rng: np.random.Generator, org: np.ndarray) -> np.ndarray:
    """A few clients get a brand other than their agency's (white-label for a partner brand)."""
    brand = np.full(len(org), None, dtype=object)
    chosen = rng.choice(len(org), size=max(1, round(BRAND_OVERRIDE_SHARE * len(org))), replace=False)
    other = (org[chosen] + rng.integers(1, len(ORGANIZATIONS), len(chosen))) % len(ORGANIZATIONS)
    brand[chosen] = [ORGANIZATIONS[o][1] for o in other]
    return brand


def _organizations() -> pd.DataFrame:
    return _frame(schema.organizations, org_id=_ids(len(ORGANIZATIONS)),
                  name=[n for n, _ in ORGANIZATIONS], brand=[b for _, b in ORGANIZATIONS])


def _clients(cal: _Calendar, acc: _Accounts, led: _Ledger) -> pd.DataFrame:
    churned = led.mrr[:, cal.n - 1] == 0
    churn_cells = np.where(led.code[:, : cal.n] == CHURN, np.arange(cal.n), -1)
    last_churn = churn_cells.max(axis=1)
    churned_on = np.where(churned, led.dated(cal, np.arange(len(acc)), np.maximum(last_churn, 0)),
                          np.datetime64("NaT", "D"))
    return _frame(
        schema.clients, client_id=_ids(len(acc)), org_id=acc.org + 1, name=acc.name,
        slug=[slugify(n) for n in acc.name], sector=_cat(acc.sector, SECTORS), plan=_cat(acc.plan, PLANS),
        region=_cat(acc.region, REGIONS), signup_date=_ns(acc.signup), contact_email=acc.email, brand=acc.brand,
        status=_cat(churned.astype(int), ("active", "churned")), churned_on=_ns(churned_on))


# --------------------------------------------------------------------------------------
# Revenue: the MRR ledger, subscriptions, invoices
# --------------------------------------------------------------------------------------

NEW, EXPANSION, CONTRACTION, CHURN, REACTIVATION = (MOVEMENTS.index(m) for m in MOVEMENTS)
LOOKAHEAD = 4          # months simulated past the end so that accounts about to churn already decline
MIN_TENURE = 2         # months before a new account can churn (initial contract)
EXPANSION_RATE = 0.07  # monthly probability of an expansion
CONTRACTION_RATE = 0.025
REACTIVATION_RATE = 0.03  # monthly probability for a churned account, from 2 to 15 months after churn
PRE_CHURN_DECLINE = np.array([0.50, 0.42, 0.28, 0.15, 0.07])  # health lost 0, 1, 2, 3, 4 months before churn


@dataclass(frozen=True)
class _Ledger:
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

    def dated(self, cal: _Calendar, client: np.ndarray, month: np.ndarray) -> np.ndarray:
        """The day a movement happened: its month's start plus its drawn day, never after ``end``."""
        return cal.start[month] + np.minimum(self.day[client, month], cal.days[month] - 1)


def _ledger(rng: np.random.Generator, acc: _Accounts, cal: _Calendar) -> _Ledger:
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
    return _Ledger(code=code, amount=amount, mrr=mrr, day=rng.integers(0, 28, (n, months)),
                   health=_health(acc, drift, code), n_months=cal.n)


def _drift(rng: np.random.Generator, n: int, months: int) -> np.ndarray:
    """Slow month-to-month wandering of each account's health around its base level (AR(1))."""
    drift = np.zeros((n, months))
    shocks = rng.normal(0.0, 0.05, (n, months))
    for t in range(1, months):
        drift[:, t] = 0.7 * drift[:, t - 1] + shocks[:, t]
    return drift


def _health(acc: _Accounts, drift: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Latent health: the account's base level, its drift, and a decline over the months before a churn."""
    n, months = code.shape
    decline = np.zeros((n, months))
    churn = code == CHURN
    for lag, loss in enumerate(PRE_CHURN_DECLINE):
        decline[:, : months - lag] = np.maximum(decline[:, : months - lag], loss * churn[:, lag:])
    decline = np.maximum(decline, 0.08 * (code == CONTRACTION))
    return np.clip(acc.health[:, None] + drift - decline, 0.02, 0.98)


def _movements(cal: _Calendar, led: _Ledger) -> pd.DataFrame:
    client, month = np.nonzero(led.code[:, : cal.n] >= 0)
    return _frame(schema.mrr_movements, sort=["month", "client_id"],
                  movement_id=0, client_id=client + 1, month=_ns(cal.start[month]),
                  movement=_cat(led.code[client, month], MOVEMENTS), amount=led.amount[client, month] / 100
                  ).assign(movement_id=lambda f: _ids(len(f)))


def _subscriptions(cal: _Calendar, acc: _Accounts, led: _Ledger) -> pd.DataFrame:
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
    return _frame(schema.subscriptions, subscription_id=_ids(len(spells)), client_id=client + 1,
                  plan=_cat(acc.plan[client], PLANS), started_on=_ns(started), ended_on=_ns(ended))


def _invoices(rng: np.random.Generator, cal: _Calendar, led: _Ledger) -> pd.DataFrame:
    """One invoice per paying month on its first day; unhealthy accounts pay later, a few never."""
    month, client = np.nonzero(led.active.T)  # month-major: invoices come out in date order
    issued = cal.start[month]
    delay = rng.lognormal(np.log(14 + 25 * (1 - led.health[client, month])), 0.45).astype(np.int64)
    paid = issued + delay
    unpaid = (paid > cal.end) | (rng.random(len(client)) < 0.015)
    return _frame(schema.invoices, invoice_id=_ids(len(client)), client_id=client + 1, issued_on=_ns(issued),
                  due_on=_ns(issued + 30), amount=led.mrr[client, month] / 100,
                  paid_on=_ns(np.where(unpaid, np.datetime64("NaT", "D"), paid)))


# --------------------------------------------------------------------------------------
# Projects
# --------------------------------------------------------------------------------------

PROJECT_KINDS = ("Website redesign", "Brand refresh", "Campaign", "Annual report", "SEO audit",
                 "Newsletter program", "Video series", "Landing pages", "Social media kit", "Analytics dashboard")
PROJECT_HOURS = np.array([320.0, 160.0, 90.0, 120.0, 40.0, 60.0, 140.0, 50.0, 45.0, 110.0])
PROJECT_RATE = np.array([0.12, 0.25, 0.5])   # projects per paying month, per plan
HOURLY_RATE = np.array([110.0, 125.0, 140.0])  # billed per estimated hour (fixed-price quotes)
MUNICIPALITY = SECTORS.index("municipality")
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _projects(rng: np.random.Generator, cal: _Calendar, acc: _Accounts, led: _Ledger) -> pd.DataFrame:
    """Fixed-price projects: hours overrun (more with revisions), some deliver late; cost follows actual hours."""
    client, month = np.nonzero(led.active)
    lam = PROJECT_RATE[acc.plan[client]] * _season(acc.sector[client], cal.moy[month])
    owner, _ = _explode(rng.poisson(lam))
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
    return _frame(schema.projects, sort=["started_on", "client_id"], project_id=0, client_id=client + 1, name=label,
                  started_on=_ns(started), due_on=_ns(due),
                  delivered_on=_ns(np.where(done, delivered, np.datetime64("NaT", "D"))),
                  estimated_hours=estimated, actual_hours=np.where(done, actual, np.nan), revision_rounds=revisions,
                  revenue=_cents(estimated * rate), cost=_cents(hours_so_far * cost_rate)
                  ).assign(project_id=lambda f: _ids(len(f)))


# --------------------------------------------------------------------------------------
# Content and daily engagement
# --------------------------------------------------------------------------------------

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


def _content(rng: np.random.Generator, sc: Scale, cal: _Calendar, acc: _Accounts,
             led: _Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    client, month = np.nonzero(led.active)
    lam = sc.content_rate * PLAN_WEIGHT[acc.plan[client]] ** 0.5 / np.sqrt(3) * cal.days[month] / 30.4 \
        * (0.6 + 0.5 * led.health[client, month])
    owner, _ = _explode(rng.poisson(lam))
    client, month = client[owner], month[owner]
    platform = _choose(rng, PLATFORM_BY_SECTOR, acc.sector[client])
    ctype = _choose(rng, TYPE_BY_PLATFORM, platform)
    published = cal.random_day(rng, month)
    order = np.lexsort((client, published))
    client, platform, ctype, published = client[order], platform[order], ctype[order], published[order]
    topic = rng.integers(0, len(TOPICS[0]), len(client))
    topics = np.array(TOPICS, dtype=object)[acc.sector[client], topic]
    title = np.array(OPENERS, dtype=object)[ctype] + " " + topics
    content = _frame(schema.content, content_id=_ids(len(client)), client_id=client + 1, title=title,
                     content_type=_cat(ctype, CONTENT_TYPES), platform=_cat(platform, PLATFORMS),
                     published_on=_ns(published))
    return content, _engagement(rng, cal, acc, led, client, platform, ctype, published)


def _engagement(rng: np.random.Generator, cal: _Calendar, acc: _Accounts, led: _Ledger, client: np.ndarray,
                platform: np.ndarray, ctype: np.ndarray, published: np.ndarray) -> pd.DataFrame:
    """Daily rows per content item for its tracked window: views decay from publication, with seasonality."""
    growth = 1.02 ** (cal.month_of(published) - acc.join[client])  # audiences grow with tenure
    first_day = BASE_VIEWS[platform] * TYPE_VIEWS[ctype] * acc.size[client] ** 0.7 * growth \
        * rng.lognormal(-0.18, 0.6, len(client))
    ctr = CTR[platform] * rng.lognormal(0, 0.3, len(client))
    cvr = rng.uniform(0.02, 0.08, len(client))
    owner, age = _explode(TRACKED_DAYS[platform])
    day = published[owner] + age
    keep = day <= cal.end
    owner, age, day = owner[keep], age[keep], day[keep]
    m = cal.month_of(day)
    keep = led.active[client[owner], m]  # tracking stops while the client does not pay
    owner, age, day, m = owner[keep], age[keep], day[keep], m[keep]
    c, p = client[owner], platform[owner]
    weekend = (day.astype(np.int64) + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    expected = first_day[owner] * (np.exp(-DECAY[p] * age) + SEARCH_FLOOR[p]) \
        * _season(acc.sector[c], cal.moy[m]) * (0.6 + 0.5 * led.health[c, m]) * np.where(weekend, 0.75, 1.05)
    views = rng.poisson(expected)
    clicks = rng.binomial(views, np.minimum(ctr[owner], 0.5))
    frame = _frame(schema.engagement_daily, content_id=owner + 1, client_id=c + 1, day=_ns(day), views=views,
                   clicks=clicks, conversions=rng.binomial(clicks, cvr[owner]),
                   engagements=rng.binomial(views, ENGAGEMENT_RATE[p]))
    return frame.sort_values(["day", "content_id"], kind="stable", ignore_index=True)


# --------------------------------------------------------------------------------------
# Customer health: weekly usage, support tickets, surveys
# --------------------------------------------------------------------------------------

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_BY_HEALTH = np.array([[0.30, 0.45, 0.18, 0.07],   # healthy
                               [0.18, 0.40, 0.28, 0.14]])  # struggling accounts escalate more
RESOLUTION_HOURS = np.array([60.0, 30.0, 12.0, 4.0])      # median per priority
CATEGORIES = ("how-to", "bug", "billing", "account access", "integration", "feature request", "performance")
CATEGORY_SHARE = np.array([0.28, 0.22, 0.10, 0.12, 0.10, 0.12, 0.06])


def _seats(acc: _Accounts, led: _Ledger) -> np.ndarray:
    """Seats per (client, month) track MRR relative to the client's starting MRR."""
    per_dollar = PLAN_SEATS[acc.plan] * acc.size ** 0.5 / acc.base_mrr
    return np.maximum(2, np.round(per_dollar[:, None] * led.mrr)).astype(np.int64)


def _usage(rng: np.random.Generator, cal: _Calendar, acc: _Accounts, led: _Ledger) -> pd.DataFrame:
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
    return _frame(schema.product_usage, sort=["week", "client_id"], client_id=client + 1, week=_ns(mondays[w]),
                  seats=seats, active_users=active_users, logins=logins)


def _tickets(rng: np.random.Generator, cal: _Calendar, acc: _Accounts,
             led: _Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tickets rise as health falls; returns the tickets and, per closed ticket, what CSAT needs."""
    client, month = np.nonzero(led.active)
    health = led.health[client, month]
    lam = 0.25 * np.sqrt(_seats(acc, led)[client, month]) * (0.5 + 2.0 * (1 - health))
    owner, _ = _explode(rng.poisson(lam))
    client, month, health = client[owner], month[owner], health[owner]
    opened = cal.random_instant(rng, month)
    order = np.argsort(opened, kind="stable")
    client, month, health, opened = client[order], month[order], health[order], opened[order]
    priority = _choose(rng, PRIORITY_BY_HEALTH, (health < 0.45).astype(np.int64))
    hours = rng.lognormal(np.log(RESOLUTION_HOURS[priority]), 0.8) * (2 - health)
    closed = opened + (hours * 3600).astype(np.int64)
    is_closed = closed < cal.end_s
    tickets = _frame(schema.support_tickets, ticket_id=_ids(len(client)), client_id=client + 1, opened_at=_ns(opened),
                     closed_at=_ns(np.where(is_closed, closed, np.datetime64("NaT", "s"))),
                     priority=_cat(priority, PRIORITIES),
                     category=_cat(rng.choice(len(CATEGORIES), len(client), p=CATEGORY_SHARE), CATEGORIES))
    csat = pd.DataFrame({"client": client, "closed": closed, "health": health, "slow": hours > 48})[is_closed]
    return tickets, csat


NPS_COMMENTS = (("Reports arrive late and we keep chasing the team.", "Too expensive for what we get.",
                 "Support takes days to answer."),
                ("Solid work, but onboarding new staff is slow.", "Good results, communication could be better."),
                ("The monthly report is the first thing our board reads.", "Great team, very responsive.",
                 "Engagement has doubled since we started."))
CSAT_COMMENTS = (("Issue not resolved.", "Took far too long."), ("Fine.",), ("Quick and helpful, thanks!", "Solved in minutes."))


def _surveys(rng: np.random.Generator, cal: _Calendar, acc: _Accounts, led: _Ledger,
             csat: pd.DataFrame) -> pd.DataFrame:
    """NPS from contacts of paying clients and CSAT after closed tickets, both driven by health."""
    client, month = np.nonzero(led.active)
    seats = _seats(acc, led)[client, month]
    owner, _ = _explode(rng.poisson(0.3 * (1 + seats ** 0.3)))
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
    frame = _frame(schema.survey_responses, sort=["responded_on", "client_id"], response_id=0,
                   client_id=np.r_[n_client, c["client"].to_numpy()] + 1,
                   responded_on=_ns(np.concatenate([n_day, c_day[answered]])), survey=_cat(survey, ("nps", "csat")),
                   score=score, comment=_comments(rng, survey, bucket))
    return frame.assign(response_id=_ids(len(frame)))


def _comments(rng: np.random.Generator, survey: np.ndarray, bucket: np.ndarray) -> np.ndarray:
    """A canned comment matching the score's sentiment for about a third of responses, else None."""
    pools = [NPS_COMMENTS, CSAT_COMMENTS]
    table = np.array([[pools[s][b][i % len(pools[s][b])] for i in range(3)] for s in (0, 1) for b in (0, 1, 2)],
                     dtype=object).reshape(2, 3, 3)
    text = table[survey, bucket, rng.integers(0, 3, len(survey))]
    return np.where(rng.random(len(survey)) < 0.33, text, None)


# --------------------------------------------------------------------------------------
# Product analytics: users, sessions, events
# --------------------------------------------------------------------------------------

CHANNELS = ("organic", "paid", "referral", "partner")
CHANNEL_SHARE = np.array([0.45, 0.25, 0.18, 0.12])
ACTIVATION = np.array([0.38, 0.28, 0.55, 0.45])  # share of users who activate, per channel
HOME_COUNTRY_SHARE = 0.85


def _product(rng: np.random.Generator, sc: Scale, cal: _Calendar, acc: _Accounts,
             led: _Ledger) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
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
    users = _frame(schema.users, user_id=_ids(n), client_id=client + 1, signed_up_at=_ns(signup),
                   channel=_cat(channel, CHANNELS), country=_countries(rng, acc.region[client]))
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
    return _cat(offset[home] + (rng.random(len(region)) * sizes[home]).astype(np.int64), codes)


def _sessions(rng: np.random.Generator, cal: _Calendar, led: _Ledger, client: np.ndarray, signup: np.ndarray,
              activated: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """A first session at signup, then sessions spread over an exponentially decaying horizon per user."""
    n = len(client)
    count = 1 + rng.negative_binomial(2, np.where(activated, 2 / 15, 2 / 3), n)
    horizon_days = np.where(activated, 35.0, 4.0) * rng.lognormal(0, 0.5, n)
    user, nth = _explode(count)
    gap = np.where(nth == 0, 0, rng.exponential(horizon_days[user] * 86400)).astype(np.int64)
    start = signup[user] + 60 + gap
    duration = np.clip(rng.lognormal(np.log(300), 0.9, len(user)), 10, 4 * 3600).astype(np.int64)
    keep = start + duration < cal.end_s
    user, start, duration = user[keep], start[keep], duration[keep]
    keep = led.active[client[user], cal.month_of(start)]  # users of a churned client stop
    user, start, duration = user[keep], start[keep], duration[keep]
    order = np.argsort(start, kind="stable")
    user, start, duration = user[order], start[order], duration[order]
    frame = _frame(schema.sessions, session_id=_ids(len(user)), user_id=user + 1, started_at=_ns(start),
                   duration_s=duration)
    return frame, user, start, duration


def _events(rng: np.random.Generator, n_users: int, signup: np.ndarray, activated: np.ndarray,
            activation: np.ndarray, s_user: np.ndarray, s_start: np.ndarray, s_duration: np.ndarray,
            plan: np.ndarray, end_s: np.datetime64) -> pd.DataFrame:
    """Signup, activation, one session_start per session, feature uses and purchases within sessions."""
    engaged = activated[s_user]
    f_session, _ = _explode(rng.poisson(np.where(engaged, 1.8, 0.5)))
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
    revenue[purchase] = _cents(rng.lognormal(np.log(40), 0.6, purchase.sum()) * PLAN_WEIGHT[plan[user[purchase]]] ** 0.3)
    keep = when < end_s
    order = np.argsort(when[keep], kind="stable")
    return _frame(schema.events, event_id=_ids(len(order)), user_id=user[keep][order] + 1,
                  event_type=_cat(kind[keep][order], EVENT_TYPES), occurred_at=_ns(when[keep][order]),
                  revenue=revenue[keep][order])


# --------------------------------------------------------------------------------------
# Experiments
# --------------------------------------------------------------------------------------

def _experiments(rng: np.random.Generator, sc: Scale, cal: _Calendar,
                 users: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The experiments of :data:`EXPERIMENTS`, placed in the last months of the data."""
    started = np.array([cal.start[cal.n - 1 - t.starts_months_before_end] + 2 for t in EXPERIMENTS])
    stop = np.array([min(s + t.days, cal.end + 1) if t.days else cal.end + 1 for s, t in zip(started, EXPERIMENTS)])
    running = np.array([t.days is None for t in EXPERIMENTS])
    ids = _ids(len(EXPERIMENTS))
    experiments = _frame(schema.experiments, experiment_id=ids, key=[t.key for t in EXPERIMENTS],
                         name=[t.name for t in EXPERIMENTS], hypothesis=[t.hypothesis for t in EXPERIMENTS],
                         primary_metric=[t.primary_metric for t in EXPERIMENTS], started_on=_ns(started),
                         ended_on=_ns(np.where(running, np.datetime64("NaT", "D"), stop - 1)))
    variants = _frame(schema.experiment_variants, experiment_id=np.repeat(ids, [len(t.variants) for t in EXPERIMENTS]),
                      variant=[v for t in EXPERIMENTS for v in t.variants],
                      is_control=[v == t.control for t in EXPERIMENTS for v in t.variants],
                      allocation=[a for t in EXPERIMENTS for a in t.allocation])
    signup = users["signed_up_at"].to_numpy().astype("datetime64[s]")
    assignments = pd.concat([_assign(rng, sc, t, i, signup, a, b) for t, i, a, b in zip(EXPERIMENTS, ids, started, stop)],
                            ignore_index=True)
    return experiments, variants, _frame(schema.experiment_assignments, **assignments.to_dict("series"))


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
        "assigned_at": _ns(assigned), "converted": rng.random(n) < np.array(truth.conversion)[variant],
        "revenue": _cents(value * rng.lognormal(-0.045, 0.3, n) + np.array(truth.revenue_effect)[variant]),
        "pre_revenue": _cents(value * rng.lognormal(-0.045, 0.3, n)),
    })
