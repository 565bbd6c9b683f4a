"""Organizations and clients: who the clients are (sector, plan, region, size, latent health, names)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quire.warehouse import schema
from quire.warehouse.generator.base import BUSINESS, CHURN, Calendar, cat, choose, ns, serial, table_frame
from quire.warehouse.generator.scales import Scale
from quire.warehouse.schema import PLANS, SECTORS

if TYPE_CHECKING:
    from quire.warehouse.generator.revenue import Ledger

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
class Accounts:
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


def accounts(rng: np.random.Generator, sc: Scale, cal: Calendar) -> Accounts:
    """Draw every client that ever signs up, ordered by signup (index i is client_id i + 1)."""
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

    plan = choose(rng, PLAN_BY_SECTOR, sector)
    size = rng.lognormal(0.0, 0.5, n)
    base_mrr = np.round(PLAN_PRICE[plan] * size ** 0.4 * rng.lognormal(0.0, 0.15, n), -1) * 100
    names = _pick_names(rng, sector)
    pairs = rng.choice(len(FIRST_NAMES) * len(SURNAMES), size=n, replace=False)  # unique contacts
    domain = np.where(np.isin(sector, (BUSINESS, SECTORS.index("startup"))), "example.com", "example.org")
    email = np.array([f"{FIRST_NAMES[p // len(SURNAMES)]}.{SURNAMES[p % len(SURNAMES)].lower()}@{d}"
                      for p, d in zip(pairs, domain)], dtype=object)
    return Accounts(org=org, sector=sector, plan=plan, region=choose(rng, REGION_BY_ORG, org), size=size,
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


def organizations() -> pd.DataFrame:
    """The three agencies (tenants)."""
    return table_frame(schema.organizations, org_id=serial(len(ORGANIZATIONS)),
                       name=[n for n, _ in ORGANIZATIONS], brand=[b for _, b in ORGANIZATIONS])


def clients(cal: Calendar, acc: Accounts, led: Ledger) -> pd.DataFrame:
    """The clients table; status and churn date follow the ledger (churned = no MRR at the end)."""
    churned = led.mrr[:, cal.n - 1] == 0
    churn_cells = np.where(led.code[:, : cal.n] == CHURN, np.arange(cal.n), -1)
    last_churn = churn_cells.max(axis=1)
    churned_on = np.where(churned, led.dated(cal, np.arange(len(acc)), np.maximum(last_churn, 0)),
                          np.datetime64("NaT", "D"))
    return table_frame(
        schema.clients, client_id=serial(len(acc)), org_id=acc.org + 1, name=acc.name,
        slug=[slugify(n) for n in acc.name], sector=cat(acc.sector, SECTORS), plan=cat(acc.plan, PLANS),
        region=cat(acc.region, REGIONS), signup_date=ns(acc.signup), contact_email=acc.email, brand=acc.brand,
        status=cat(churned.astype(int), ("active", "churned")), churned_on=ns(churned_on),
        locale=None, currency=None)  # the sample clients write figures as their brand does
