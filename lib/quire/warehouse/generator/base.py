"""Shared machinery of the generator: random streams, the calendar, seasonality and frame helpers."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from quire.warehouse.schema import MOVEMENTS, SECTORS


class Streams:
    """Independent random streams per section, derived from the seed, the scale and a name."""

    def __init__(self, seed: int, scale: str) -> None:
        self.seed, self.scale = seed, zlib.crc32(scale.encode())

    def __call__(self, section: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.scale, zlib.crc32(section.encode())])


@dataclass(frozen=True)
class Calendar:
    """The months of history and the last day of data (numpy datetime64 throughout)."""

    months: np.ndarray  # datetime64[M], oldest first
    end: np.datetime64  # datetime64[D], inclusive

    @classmethod
    def ending(cls, end: date, n_months: int) -> "Calendar":
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
# Movement codes of the MRR ledger (index into MOVEMENTS).
NEW, EXPANSION, CONTRACTION, CHURN, REACTIVATION = (MOVEMENTS.index(m) for m in MOVEMENTS)


def season(sector: np.ndarray, moy: np.ndarray) -> np.ndarray:
    """Seasonal factor for (sector, month-of-year) pairs of equal shape."""
    return SEASON[moy] * np.where(sector == BUSINESS, BUSINESS_Q4[moy], 1.0)


def choose(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per element of ``rows`` from the categorical distribution ``probs[row]``."""
    cum = np.cumsum(probs, axis=1)
    picked = (rng.random(len(rows))[:, None] * cum[:, -1][rows][:, None] > cum[rows]).sum(axis=1)
    return np.minimum(picked, probs.shape[1] - 1)


def explode(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner counts: the owner of each child row and the child's position within its owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - first[owner]


def cat(codes: np.ndarray, labels: tuple[str, ...] | list[str]) -> pd.Categorical:
    """Integer codes as a pandas categorical with the given labels."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(labels))


def ns(values: np.ndarray) -> np.ndarray:
    """datetime64 of any unit (NaT allowed) as the frames' datetime64[ns]."""
    return values.astype("datetime64[ns]")


def cents(amount: np.ndarray) -> np.ndarray:
    """Money rounded to cents."""
    return np.round(amount, 2)


def table_frame(table: sa.Table, sort: list[str] | None = None, **columns: object) -> pd.DataFrame:
    """A frame with exactly the table's columns in schema order (a missing column is a bug: KeyError)."""
    frame = pd.DataFrame({c.name: columns[c.name] for c in table.columns})
    if sort:
        frame = frame.sort_values(sort, kind="stable", ignore_index=True)
    return frame


def serial(n: int) -> np.ndarray:
    """Primary keys 1..n."""
    return np.arange(1, n + 1, dtype=np.int64)
