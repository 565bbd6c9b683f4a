"""Content titles that fit the client's trade and the season of publication, unique within each client.

Per item: a topic the client's trade writes about and that is timely in the month of
publication (in the client's hemisphere), a title pattern for its content type, and slots
filled from the client (its place or product name) and the date. A title a client has
already used is drawn again; the rare title still repeated after that names its month.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quire.warehouse.generator import vocabulary as v
from quire.warehouse.generator.base import Calendar
from quire.warehouse.generator.clients import REGIONS, Accounts
from quire.warehouse.schema import SECTORS

AUDIENCE = {"municipality": "residents", "dental": "patients", "startup": "users", "food_bank": "supporters",
            "foundation": "supporters", "library": "members", "arts": "members", "youth_sports": "families",
            "history": "members", "animal_rescue": "supporters", "literacy": "volunteers"}
SOUTHERN_REGIONS = (REGIONS.index("Australia & NZ"),)  # seasons are six months apart there
TIMELY_WEIGHT = 3.0  # a topic in its season is this much likelier than an evergreen one
REDRAWS = 20         # attempts to replace a title the client already used
MAX_PATTERNS = 16    # more title patterns than any kind has for one content type
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
SEASONS = ("winter", "winter", "spring", "spring", "spring", "summer", "summer", "summer", "autumn", "autumn",
           "autumn", "winter")  # by local month, 0 = January

BUSINESS_TRADES = {"Dental": "dental", "Builders": "builders", "Realty": "realty", "Logistics": "logistics",
                   "Outfitters": "outfitters", "Bakery": "bakery", "Manufacturing": "manufacturing"}
NONPROFIT_CAUSES = {"Food Bank": "food_bank", "Community Foundation": "foundation", "Library": "library",
                    "Arts Council": "arts", "Youth League": "youth_sports", "Historical Society": "history",
                    "Animal Rescue": "animal_rescue", "Literacy Project": "literacy"}


def trade(name: str, sector: str) -> str:
    """What a client does, read from its name and sector ('dental', 'food_bank', 'municipality'...)."""
    if sector == "business":
        if " & " in name:
            return "firm"
        return next((t for suffix, t in BUSINESS_TRADES.items() if name.endswith(suffix)), "firm")
    if sector == "nonprofit":
        return next((c for suffix, c in NONPROFIT_CAUSES.items() if name.endswith(suffix)), "foundation")
    return sector


def place(name: str) -> str:
    """The place a client is named after ('City of Maplewood' -> 'Maplewood'), else its first word."""
    match = re.fullmatch(r"(?:City|Town|Village) of (.+)|Friends of (.+) Library|(.+) County", name)
    if match:
        return next(g for g in match.groups() if g)
    return name.split()[0]


def topics_of(trade_key: str) -> tuple[v.Topic, ...]:
    """The topics a client of this trade writes about."""
    if trade_key in v.BUSINESS:
        return v.BUSINESS[trade_key] + v.BUSINESS_COMMON + v.EVERYONE
    if trade_key in v.NONPROFIT:
        return v.NONPROFIT[trade_key] + v.NONPROFIT_COMMON + v.EVERYONE
    return {"municipality": v.MUNICIPALITY, "startup": v.STARTUP}[trade_key] + v.EVERYONE


@dataclass(frozen=True)
class _Catalog:
    """One trade's topics as arrays: when each may be published and which content types it has patterns for."""

    topics: tuple[v.Topic, ...]
    weight: np.ndarray    # (hemisphere 0 north / 1 south, topic, calendar month 0-11): 0 when out of season
    patterns: np.ndarray  # int (topic, content type): how many title patterns fit
    templates: dict[tuple[int, int, int], tuple[str, tuple[str, ...]]]  # compiled on first use

    @classmethod
    def of(cls, trade_key: str) -> "_Catalog":
        topics = topics_of(trade_key)
        allowed = np.ones((2, len(topics), 12), dtype=bool)
        for i, topic in enumerate(topics):
            if topic.months is None:
                continue
            for south in (0, 1):
                shift = 6 if south and not topic.calendar else 0
                allowed[south, i] = [(m + shift) % 12 + 1 in topic.months for m in range(12)]
        timely = np.array([1.0 if t.months is None else TIMELY_WEIGHT for t in topics])
        patterns = np.array([[len(p) for p in v.PATTERNS[t.kind]] for t in topics])
        return cls(topics, allowed * timely[None, :, None], patterns, {})

    def template(self, topic: int, ctype: int, pattern: int) -> tuple[str, tuple[str, ...]]:
        """A title pattern with the topic's phrase and verb written in: a positional format string and its slots.

        A slot that starts a capitalised phrase is named with a trailing ``^`` (its value is capitalised).
        """
        key = (topic, ctype, pattern)
        if key not in self.templates:
            chosen = self.topics[topic]
            phrase, verb = chosen.phrase, chosen.verb
            capital = phrase[:1].upper() + phrase[1:] if not phrase.startswith("{") else \
                phrase.replace("}", "^}", 1)
            text = v.PATTERNS[chosen.kind][ctype][pattern].replace("{t}", phrase).replace("{T}", capital) \
                .replace("{verb}", verb).replace("{Verb}", verb[:1].upper() + verb[1:])
            parsed = list(string.Formatter().parse(text))
            self.templates[key] = ("".join(literal.replace("{", "{{").replace("}", "}}") + ("{}" if field else "")
                                           for literal, field, _, _ in parsed),
                                   tuple(field for _, field, _, _ in parsed if field))
        return self.templates[key]


def titles(rng: np.random.Generator, cal: Calendar, acc: Accounts, client: np.ndarray, ctype: np.ndarray,
           published: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A title and a topic kind per content item (items in publication order); titles unique per client."""
    trades = np.array([trade(n, SECTORS[s]) for n, s in zip(acc.name, acc.sector)], dtype=object)
    places = np.array([place(n) for n in acc.name], dtype=object)
    catalogs = {t: _Catalog.of(t) for t in sorted(set(trades))}
    south = np.isin(acc.region, SOUTHERN_REGIONS).astype(np.int64)
    dates = pd.DatetimeIndex(published.astype("datetime64[ns]"))
    context = _Context(client, ctype, dates.month.to_numpy() - 1, dates.year.to_numpy(), dates.day.to_numpy(),
                       south[client], trades[client], places[client])
    title = np.empty(len(client), dtype=object)
    key = np.empty(len(client), dtype=object)  # what must not repeat within a client: the title, or a once-topic
    kind = np.zeros(len(client), dtype=np.int64)
    todo = np.arange(len(client))
    title[todo], key[todo], kind[todo] = _draw(rng, catalogs, context, todo)
    todo = _repeated(client, key)
    used = set(zip(client[_kept(len(client), todo)], key[_kept(len(client), todo)]))
    for _ in range(REDRAWS - 1):
        if not len(todo):
            return title, kind
        title[todo], key[todo], kind[todo] = _draw(rng, catalogs, context, todo)
        todo = _still_repeated(client, key, todo, used)
    for suffix in (" ({month} {year})", " ({day} {month} {year})"):  # seldom needed: the pools are large
        todo = _repeated(client, title)
        title[todo] = title[todo] + np.array([suffix.format(day=d, month=MONTHS[m][:3], year=y) for d, m, y in zip(
            context.day[todo], context.month[todo], context.year[todo])], dtype=object)
    return title, kind


@dataclass(frozen=True)
class _Context:
    """Per item: what a title may depend on."""

    client: np.ndarray
    ctype: np.ndarray
    month: np.ndarray   # calendar month of publication, 0 = January
    year: np.ndarray
    day: np.ndarray
    south: np.ndarray   # 1 when the client is in the southern hemisphere
    trade: np.ndarray   # object
    place: np.ndarray   # object


def _repeated(client: np.ndarray, title: np.ndarray) -> np.ndarray:
    """Positions of items whose title an earlier item of the same client already has."""
    return np.flatnonzero(pd.DataFrame({"c": client, "t": title}).duplicated().to_numpy())


def _kept(n: int, redrawn: np.ndarray) -> np.ndarray:
    """A mask of the items not among ``redrawn``."""
    keep = np.ones(n, dtype=bool)
    keep[redrawn] = False
    return keep


def _still_repeated(client: np.ndarray, key: np.ndarray, redrawn: np.ndarray, used: set) -> np.ndarray:
    """Of the redrawn items, those whose key their client already uses; the others join ``used``."""
    again = []
    for i in redrawn:
        pair = (client[i], key[i])
        if pair in used:
            again.append(i)
        else:
            used.add(pair)
    return np.array(again, dtype=np.int64)


def _draw(rng: np.random.Generator, catalogs: dict[str, _Catalog], ctx: _Context,
          rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fresh topic, pattern and slot values for each of ``rows``: titles, uniqueness keys and topic kinds."""
    title = np.empty(len(rows), dtype=object)
    key = np.empty(len(rows), dtype=object)
    kind = np.zeros(len(rows), dtype=np.int64)
    slots = _slots(rng, ctx, rows)
    for trade_key, catalog in catalogs.items():
        mine = np.flatnonzero(ctx.trade[rows] == trade_key)
        if not len(mine):
            continue
        r = rows[mine]
        ctype = ctx.ctype[r]
        weight = catalog.weight[ctx.south[r], :, ctx.month[r]] * (catalog.patterns[:, ctype].T > 0)
        cum = np.cumsum(weight, axis=1)
        if not cum[:, -1].all():  # a gap in the vocabulary, not in the data
            raise AssertionError(f"no {trade_key} topic fits some item's month and content type")
        topic = (rng.random(len(r))[:, None] * cum[:, -1:] > cum).sum(axis=1)
        pattern = (rng.random(len(r)) * catalog.patterns[topic, ctype]).astype(np.int64)
        # Items that share topic, content type and pattern share a template: format them together.
        combo = (topic * len(v.PATTERNS[0]) + ctype) * MAX_PATTERNS + pattern
        order = np.argsort(combo, kind="stable")
        for group in np.split(order, np.flatnonzero(np.diff(combo[order])) + 1):
            t, at = topic[group[0]], mine[group]
            template, fields = catalog.template(t, ctype[group[0]], pattern[group[0]])
            columns = [_slot(slots, ctx.client[rows[at]], t, name, at) for name in fields]
            text = [template.format(*values) for values in zip(*columns)] if fields else [template] * len(at)
            title[at] = text
            key[at] = f"topic {t}" if catalog.topics[t].once else text
            kind[at] = catalog.topics[t].kind
    return title, key, kind


def _slot(slots: dict[str, np.ndarray], client: np.ndarray, topic: int, name: str, at: np.ndarray) -> np.ndarray:
    """The values of one slot for the items ``at``; ``name^`` capitalises them."""
    if name.endswith("^"):
        return np.array([s[:1].upper() + s[1:] for s in _slot(slots, client, topic, name[:-1], at)], dtype=object)
    if name in slots:
        return slots[name][at]
    # The people of a client's stories: the same person every time a client tells one story (its head baker).
    h = (client + 1) * 2_654_435_761 + (topic + 1) * 40_503
    if name == "person":
        first = np.array(v.PEOPLE_FIRST, dtype=object)[h % len(v.PEOPLE_FIRST)]
        return first + " " + np.array(v.PEOPLE_LAST, dtype=object)[h // 7 % len(v.PEOPLE_LAST)]
    return (34 + h // 11 % 38).astype(str).astype(object)  # adult_age


def _slots(rng: np.random.Generator, ctx: _Context, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Every slot's value for each of ``rows`` (strings), drawn or derived from the date and the client."""
    n = len(rows)
    month, year, south = ctx.month[rows], ctx.year[rows], ctx.south[rows]

    def pick(options) -> np.ndarray:
        return np.array(options, dtype=object)[rng.integers(0, len(options), n)]

    def number(low: int, high: int) -> np.ndarray:
        return rng.integers(low, high + 1, n).astype(str).astype(object)

    local = (month + 6 * south) % 12
    quarter = month // 3 + 1  # this quarter, 1-4; the slot names the next one
    next_quarter = "Q" + (quarter % 4 + 1).astype(str).astype(object)
    return {
        "place": ctx.place[rows], "product": ctx.place[rows],
        "year": year.astype(str).astype(object), "prev_year": (year - 1).astype(str).astype(object),
        "budget_year": np.where(month >= 8, year + 1, year).astype(str).astype(object),
        "Month": np.array(MONTHS, dtype=object)[month], "season": np.array(SEASONS, dtype=object)[local],
        "quarter": next_quarter + " " + (year + quarter // 4).astype(str).astype(object),
        "street": pick(v.STREETS), "park": pick(v.PARKS), "customer": pick(v.CUSTOMERS),
        "pct": pick(v.PERCENTS), "n": number(5, 14), "age": number(9, 16),
        "decade": (rng.integers(189, 197, n) * 10).astype(str).astype(object), "pet": pick(v.PETS),
        "briefing": pick(v.BRIEFINGS), "webinar": pick(v.WEBINARS), "tool": pick(v.TOOLS),
        "funding": pick(v.FUNDING), "weekday": pick(v.WEEKDAYS), "house": pick(v.HOUSES),
        "bread": pick(v.BREADS), "someone": pick(v.PEOPLE_FIRST) + " " + pick(v.PEOPLE_LAST),
        "audience": np.array([AUDIENCE.get(k, "customers") for k in ctx.trade[rows]], dtype=object),
    }
