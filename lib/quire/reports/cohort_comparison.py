"""When the cohort report calls the newest cohorts' difference from the earlier ones a change.

A row of :func:`quire.metrics.cohorts.compare_recent` (``recent``, ``earlier``, ``difference_pts``, ``p_value``)
reads "about as well" when the difference is small both in points and against the earlier rate, and a change
only when it is not and the spread between cohorts does not explain it. The reading's prose and the headline
cards' colours follow the same rules, so a card is never coloured for a difference the reading calls none.
"""

from __future__ import annotations

import pandas as pd

from quire.metrics.kpi import format_change

SAME_PTS = 1.0            # a difference below this many points reads as "about the same"…
SAME_SHARE = 0.05         # …and below this share of the earlier rate (3.1 % against 3.6 % is no "about as well")
ALPHA = 0.05              # a difference of the newest cohorts is told from chance below this p-value (Welch, cohorts as units)


def about_the_same(row: pd.Series) -> bool:
    """Whether a row of :func:`compare_recent` reads "about as well": under SAME_PTS points, and under SAME_SHARE
    of the earlier rate."""
    diff = row["difference_pts"]
    return abs(diff) < SAME_PTS and abs(diff) <= SAME_SHARE * 100 * row["earlier"]


def a_change(row: pd.Series, *, rate: bool) -> bool:
    """Whether the newest cohorts differ from the earlier ones as the reading tells a change: not about the same
    (a ``rate``'s rule; money has none) and beyond the spread between cohorts (a NaN p-value is too few to tell)."""
    return not (rate and about_the_same(row)) and bool(row["p_value"] < ALPHA)


def pts(diff: float) -> str:
    """A difference in percentage points (3.2 → "+3.2 pts"; one that rounds to zero → "0.0 pts")."""
    return "—" if pd.isna(diff) else format_change(diff / 100, "pct_points")
