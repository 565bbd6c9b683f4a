"""Acquisition cohorts: user and revenue retention matrices, LTV curves, cohort comparison.

Inputs are the warehouse's ``users`` (``user_id``, ``signed_up_at``, …) and ``events``
(``user_id``, ``event_type``, ``occurred_at``, ``revenue`` set on purchases) as
DataFrames. Every function is pure: DataFrames in, DataFrame or frozen dataclass out; no
I/O and the inputs are never modified. Rates are fractions (0.42 = 42 %).

Definitions shared by every matrix (the report's glossary words the same rules):

* **Cohort** — the users who signed up in the same calendar *week* (Monday–Sunday) or
  *month*, labelled by the first day of that period.
* **Age k** — the k-th period after the signup period; age 0 is the signup period itself.
* **Observed** — age k of cohort c is observed when period c+k is complete by ``as_of``
  (its last day ≤ ``as_of``). Unobserved cells are ``NaN``, never 0 %: a young cohort
  has not yet had the chance to come back.
* **Reported cohorts** — only complete signup periods (so sizes are final and age 0 is
  observed): users who signed up in the period still in progress at ``as_of``, or later,
  are left out. Cohorts run from the first to the last signup period with users;
  periods in between without signups are kept as rows of size 0 whose rates are all
  ``NaN`` (0 of 0 is undefined), so gaps in acquisition stay visible.
* **Events before signup** are data errors, not activity: they are ignored everywhere
  (compared at the instant, so an event earlier on the signup day is ignored too).
  Events of users outside the reported cohorts are ignored as well.
* **Missing periods** (``missing``: the first days of months or weeks the data holds no event in, though the
  periods around them have plenty, see :func:`quire.warehouse.coverage.missing_periods`) are unknown, not 0 %:
  their cells are ``NaN`` like unobserved ones and flagged in the matrices' ``missing``; a cumulative figure (LTV,
  revenue to date) is unknown from the first missing period on, and a revenue base is never taken after one.

Periods are computed as integer ordinals with numpy (months since 1970-01, weeks since
Monday 1969-12-29) and cells are counted with ``np.bincount``: no Python loops over
users or events, so a million events take well under a second.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol

import numpy as np
import pandas as pd
from scipy.stats import ttest_ind

from quire.errors import EmptyDataError, ParameterError, WarehouseError
from quire.warehouse.schema import EVENT_TYPES

Granularity = Literal["week", "month"]
GRANULARITIES: tuple[str, ...] = ("week", "month")
ACTIVE_EVENTS: tuple[str, ...] = ("session_start", "feature_use", "purchase")
USER_COLUMNS = ("user_id", "signed_up_at")
EVENT_COLUMNS = ("user_id", "event_type", "occurred_at")
# 1970-01-01 was a Thursday; shifting days by 3 makes week 0 start on Monday 1969-12-29.
_WEEK_SHIFT = 3

DateLike = date | pd.Timestamp | str


# --------------------------------------------------------------------------- results

@dataclass(frozen=True, eq=False)
class RetentionMatrix:
    """User retention by cohort and age (users active at each age).

    * ``rates`` — cohort × age (0..horizon): share of the cohort's users with at least
      one active event in period cohort+age; ``NaN`` = not observed (or empty cohort).
    * ``counts`` — the active users behind each rate (float; ``NaN`` = not observed).
    * ``sizes`` — cohort → number of users who signed up in it.
    * ``missing`` — cohort × age, True where the cell's period is a missing period (its ``NaN`` is unknown).
    """

    rates: pd.DataFrame
    counts: pd.DataFrame
    sizes: pd.Series
    granularity: str
    as_of: date
    missing: pd.DataFrame | None = None


@dataclass(frozen=True, eq=False)
class RevenueRetention:
    """Revenue retention by cohort and age.

    * ``rates`` — cohort × age: the cohort's revenue in period cohort+age ÷ its base
      revenue; ``NaN`` = not observed, or no base (the cohort has earned nothing yet).
    * ``revenue`` — cohort × age: the cohort's revenue in that period (``NaN`` = not observed).
    * ``base`` — cohort → base revenue: revenue at age 0, or, when that is not positive,
      at the first observed age with positive revenue (``NaN`` when there is none).
    * ``base_age`` — cohort → age the base comes from (``NaN`` when there is none).
    * ``sizes`` — cohort → number of users.
    * ``missing`` — cohort × age, True where the cell's period is a missing period.
    """

    rates: pd.DataFrame
    revenue: pd.DataFrame
    base: pd.Series
    base_age: pd.Series
    sizes: pd.Series
    granularity: str
    as_of: date
    missing: pd.DataFrame | None = None


class _HasRates(Protocol):
    rates: pd.DataFrame


# --------------------------------------------------------------------------- periods

def _check_granularity(granularity: str) -> None:
    if granularity not in GRANULARITIES:
        raise ParameterError(f"cohort granularity {granularity!r} is not supported; use 'week' or 'month'",
                             parameter="granularity")


def _ordinal(instants: np.ndarray, granularity: str) -> np.ndarray:
    """Integer period of each datetime64 value: months since 1970-01 or weeks since 1969-12-29."""
    if granularity == "month":
        return instants.astype("datetime64[M]").astype(np.int64)
    return (instants.astype("datetime64[D]").astype(np.int64) + _WEEK_SHIFT) // 7


def _starts(ordinals: np.ndarray, granularity: str) -> np.ndarray:
    """First day of each period ordinal, as datetime64[ns]."""
    if granularity == "month":
        return ordinals.astype("datetime64[M]").astype("datetime64[ns]")
    return (ordinals * 7 - _WEEK_SHIFT).astype("datetime64[D]").astype("datetime64[ns]")


def _day(value: DateLike) -> date:
    return pd.Timestamp(value).date()


def _last_complete(as_of: date, granularity: str) -> int:
    """Ordinal of the last period whose last day is on or before ``as_of``."""
    return int(_ordinal(np.array([np.datetime64(as_of + timedelta(days=1), "D")]), granularity)[0]) - 1


def observed_until(as_of: DateLike, granularity: Granularity) -> date:
    """The last day of the last complete period by ``as_of``: the end of what the matrices, LTV and revenue to
    date count (Sunday 25 October for weeks as of 31 October; 31 October itself for months)."""
    _check_granularity(granularity)
    last = _last_complete(_day(as_of), granularity)
    return (pd.Timestamp(_starts(np.array([last + 1]), granularity)[0]) - pd.Timedelta(days=1)).date()


def _instants(values: pd.Series) -> np.ndarray:
    """``values`` as naive UTC datetime64 (any resolution)."""
    series = pd.to_datetime(values)
    if series.dt.tz is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy()


def _require(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise WarehouseError(f"{name} lack column(s) {', '.join(missing)}")


def _check_event_types(types: Iterable[str], parameter: str) -> tuple[str, ...]:
    types = (types,) if isinstance(types, str) else tuple(types)
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown or not types:
        raise ParameterError(f"unknown event type(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                             f"expected some of {', '.join(EVENT_TYPES)}", parameter=parameter)
    return types


# --------------------------------------------------------------------------- cohorts

def assign_cohorts(users: pd.DataFrame, granularity: Granularity) -> pd.DataFrame:
    """Each user's cohort: ``user_id`` and ``cohort``, the Monday of the signup week or the 1st of its month.

    ``cohort`` is datetime64 (midnight). Raises :class:`EmptyDataError` when ``users`` is empty.
    """
    _check_granularity(granularity)
    _require(users, USER_COLUMNS, "users")
    if users.empty:
        raise EmptyDataError("there are no users to assign to cohorts (the users table is empty)")
    signup = _instants(users["signed_up_at"])
    if np.isnat(signup).any():
        raise WarehouseError("users hold rows without a signup instant (signed_up_at is empty)")
    return pd.DataFrame({
        "user_id": users["user_id"].to_numpy(),
        "cohort": _starts(_ordinal(signup, granularity), granularity),
    }, index=users.index)


@dataclass(frozen=True)
class _Cohorts:
    """The reported cohorts and their users, as arrays (internal)."""

    granularity: str
    as_of: date
    horizon: int
    first: int               # ordinal of the first cohort
    user_index: pd.Index     # user_id of each reported user
    signup: np.ndarray       # their signup instants
    cohort: np.ndarray       # their cohort, 0-based from ``first``
    sizes: np.ndarray        # users per cohort
    observed: np.ndarray     # bool, cohort × age (not a missing period's cell either)
    missing: np.ndarray      # bool, cohort × age: the cell's period is a missing period

    @property
    def width(self) -> int:
        return self.horizon + 1

    @property
    def index(self) -> pd.DatetimeIndex:
        starts = _starts(self.first + np.arange(self.sizes.size), self.granularity)
        return pd.DatetimeIndex(starts, name="cohort")

    def frame(self, values: np.ndarray) -> pd.DataFrame:
        """A cohort × age DataFrame of ``values``."""
        return pd.DataFrame(values, index=self.index, columns=pd.RangeIndex(self.width, name="age"))

    def series(self, values: np.ndarray, name: str) -> pd.Series:
        """A cohort → value Series of ``values``."""
        return pd.Series(values, index=self.index, name=name)


def _cohorts(users: pd.DataFrame, granularity: str, as_of: DateLike, horizon: int,
             since: DateLike | None, missing: Iterable[DateLike] = ()) -> _Cohorts:
    """Select the users of the reported cohorts (see the module's definitions)."""
    _check_granularity(granularity)
    if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 0:
        raise ParameterError(f"horizon must be a whole number of periods ≥ 0, not {horizon!r}", parameter="horizon")
    _require(users, USER_COLUMNS, "users")
    as_of = _day(as_of)
    if users.empty:
        raise EmptyDataError("there are no users to build cohorts from (the users table is empty)")
    if not users["user_id"].is_unique:
        raise WarehouseError("users hold duplicate user_id values; each user must appear once")
    signup = _instants(users["signed_up_at"])
    if np.isnat(signup).any():
        raise WarehouseError("users hold rows without a signup instant (signed_up_at is empty)")
    period = _ordinal(signup, granularity)
    last = _last_complete(as_of, granularity)
    keep = period <= last
    low = None
    if since is not None:
        low = int(_ordinal(np.array([np.datetime64(_day(since), "D")]), granularity)[0])
        keep &= period >= low
    if not keep.any():
        span = (f"from the {granularity} of {_day(since)} " if low is not None else "") + \
            f"up to {observed_until(as_of, granularity)}"
        raise EmptyDataError(
            f"no users signed up in a complete {granularity} {span} (as_of {as_of}; "
            f"the {granularity} still in progress is not reported)", hint="choose a later as_of or an earlier since")
    first, final = int(period[keep].min()), int(period[keep].max())
    cohort = period[keep] - first
    n = final - first + 1
    periods = (first + np.arange(n))[:, None] + np.arange(horizon + 1)[None, :]
    gaps = _ordinal(np.array([np.datetime64(_day(d), "D") for d in missing], dtype="datetime64[D]"), granularity)
    absent = np.isin(periods, gaps) & (periods <= last)
    return _Cohorts(granularity=granularity, as_of=as_of, horizon=int(horizon), first=first,
                    user_index=pd.Index(users["user_id"].to_numpy()[keep]), signup=signup[keep], cohort=cohort,
                    sizes=np.bincount(cohort, minlength=n), observed=(periods <= last) & ~absent, missing=absent)


def _cells(c: _Cohorts, events: pd.DataFrame, types: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events of ``types`` that fall in an observed cell: (user position, cell, row position in ``events``).

    A cell is ``cohort * (horizon + 1) + age``. Events of unknown users, before the
    user's signup, beyond the horizon or in unobserved periods are dropped.
    """
    _require(events, EVENT_COLUMNS, "events")
    rows = np.flatnonzero(events["event_type"].isin(types).to_numpy())
    pos = c.user_index.get_indexer(events["user_id"].to_numpy()[rows])
    rows, pos = rows[pos >= 0], pos[pos >= 0]
    occurred = _instants(events["occurred_at"].iloc[rows])
    ok = ~np.isnat(occurred)
    ok[ok] = occurred[ok] >= c.signup[pos[ok]]  # before signup: a data error, not activity
    rows, pos, occurred = rows[ok], pos[ok], occurred[ok]
    age = _ordinal(occurred, c.granularity) - c.first - c.cohort[pos]
    cell = c.cohort[pos] * c.width + np.minimum(age, c.horizon)
    ok = (age <= c.horizon) & c.observed.ravel()[cell]
    return pos[ok], cell[ok], rows[ok]


def _masked(c: _Cohorts, values: np.ndarray) -> np.ndarray:
    """Cohort × age float array with ``NaN`` where the cell is not observed."""
    return np.where(c.observed, values.reshape(-1, c.width).astype(float), np.nan)


def _revenue_cells(c: _Cohorts, events: pd.DataFrame, revenue_event: str) -> np.ndarray:
    """Revenue of each cohort × age cell (``NaN`` where not observed)."""
    revenue_event = _check_event_types((revenue_event,), "revenue_event")[0]
    _require(events, ("revenue",), "events")
    _, cell, rows = _cells(c, events, (revenue_event,))
    amounts = pd.to_numeric(events["revenue"]).to_numpy(dtype=float, na_value=np.nan)[rows]
    amounts = np.where(np.isnan(amounts), 0.0, amounts)  # a purchase without an amount earned nothing
    return _masked(c, np.bincount(cell, weights=amounts, minlength=c.sizes.size * c.width))


# --------------------------------------------------------------------------- matrices

def retention_matrix(users: pd.DataFrame, events: pd.DataFrame, granularity: Granularity, as_of: DateLike,
                     horizon: int = 12, active_events: Sequence[str] = ACTIVE_EVENTS, *,
                     since: DateLike | None = None, missing: Iterable[DateLike] = ()) -> RetentionMatrix:
    """User retention: for cohort c and age k, the share of c's users active in period c+k.

    Active means at least one event of ``active_events`` in that period, at or after the
    user's signup (``signup`` is not an active event, so age 0 is not 100 % by
    construction). Ages run 0..``horizon``; cells whose period is not complete by
    ``as_of`` are ``NaN``, as are those of ``missing`` periods. ``since`` (optional) drops cohorts before the period
    holding that date. Reported cohorts, empty cohorts and missing periods follow the module's definitions.

    Raises :class:`EmptyDataError` when no user signed up in a complete period of the range.
    """
    active_events = _check_event_types(active_events, "active_events")
    c = _cohorts(users, granularity, as_of, horizon, since, missing)
    pos, cell, _ = _cells(c, events, active_events)
    # A user counts once per cell however many events they have there.
    user_cells = pd.unique(pos.astype(np.int64) * c.width + cell % c.width)
    users_pos, age = np.divmod(user_cells, c.width)
    counts = _masked(c, np.bincount(c.cohort[users_pos] * c.width + age, minlength=c.sizes.size * c.width))
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(c.sizes[:, None] > 0, counts / c.sizes[:, None], np.nan)
    sizes = c.series(c.sizes, "users")
    return RetentionMatrix(rates=c.frame(rates), counts=c.frame(counts), sizes=sizes,
                           granularity=granularity, as_of=c.as_of, missing=c.frame(c.missing))


def revenue_retention_matrix(users: pd.DataFrame, events: pd.DataFrame, granularity: Granularity,
                             as_of: DateLike, horizon: int = 12, *, since: DateLike | None = None,
                             revenue_event: str = "purchase", missing: Iterable[DateLike] = ()) -> RevenueRetention:
    """Revenue retention: cohort c's revenue in period c+k ÷ its base revenue.

    Revenue is the sum of ``revenue`` on ``revenue_event`` events (purchases), at or
    after the buyer's signup. The base is the cohort's revenue at age 0; when that is
    not positive (nobody bought in the signup period), the base is the revenue of the
    first *observed* age with positive revenue, and the ages before it show 0 (they
    earned nothing) or less (refunds netted against purchases exceeded them). A cohort with no positive revenue yet has no base: its row is
    ``NaN``. Observation rules and reported cohorts as in :func:`retention_matrix`. A base is never taken after a
    ``missing`` period: what the cohort spent in it is unknown, so a cohort without positive revenue before its
    first missing period (one that signed up in it) has no base.
    """
    c = _cohorts(users, granularity, as_of, horizon, since, missing)
    revenue = _revenue_cells(c, events, revenue_event)
    positive = (np.nan_to_num(revenue, nan=0.0) > 0) & ~np.logical_or.accumulate(c.missing, axis=1)
    has_base = positive.any(axis=1)
    base_age = np.where(has_base, positive.argmax(axis=1), -1)
    base = np.where(has_base, revenue[np.arange(revenue.shape[0]), np.maximum(base_age, 0)], np.nan)
    rates = revenue / base[:, None]
    return RevenueRetention(
        rates=c.frame(rates), revenue=c.frame(revenue),
        base=c.series(base, "base_revenue"),
        base_age=c.series(np.where(has_base, base_age, np.nan), "base_age"),
        sizes=c.series(c.sizes, "users"), granularity=granularity, as_of=c.as_of, missing=c.frame(c.missing))


def ltv_curves(users: pd.DataFrame, events: pd.DataFrame, granularity: Granularity, as_of: DateLike,
               horizon: int = 12, *, since: DateLike | None = None, revenue_event: str = "purchase",
               missing: Iterable[DateLike] = ()) -> pd.DataFrame:
    """Cumulative revenue per cohort user by age: revenue of ages 0..k ÷ cohort size.

    Every user of the cohort is in the denominator, buyers or not. ``NaN`` beyond the
    observed ages and for empty cohorts, and from a ``missing`` period's age on (the sum is unknown from there).
    Revenue and observation as in :func:`revenue_retention_matrix`.
    """
    c = _cohorts(users, granularity, as_of, horizon, since, missing)
    revenue = _revenue_cells(c, events, revenue_event)
    # Observation is a prefix of ages; a missing period's NaN carries on through the cumulative sum, as it should.
    with np.errstate(invalid="ignore", divide="ignore"):
        ltv = np.where(c.sizes[:, None] > 0, np.cumsum(revenue, axis=1) / c.sizes[:, None], np.nan)
    return c.frame(ltv)


def revenue_to_date(users: pd.DataFrame, events: pd.DataFrame, granularity: Granularity, as_of: DateLike, *,
                    since: DateLike | None = None, revenue_event: str = "purchase",
                    missing: Iterable[DateLike] = ()) -> pd.Series:
    """Each cohort's revenue from signup to the end of the last complete period by ``as_of``, at every age.

    Unlike the matrices, not cut at a horizon: an old cohort's revenue to date includes
    what it bought after the ages the report draws. Revenue as in
    :func:`revenue_retention_matrix`; 0 for a cohort that bought nothing, ``NaN`` for one that lived through a
    ``missing`` period (its sum is unknown).
    """
    oldest = _cohorts(users, granularity, as_of, 0, since)
    # The oldest cohort's age at the last complete period: every cohort's whole observed life.
    c = _cohorts(users, granularity, as_of, _last_complete(oldest.as_of, granularity) - oldest.first, since, missing)
    total = np.nansum(_revenue_cells(c, events, revenue_event), axis=1)
    return c.series(np.where(c.missing.any(axis=1), np.nan, total), "revenue_to_date")


# --------------------------------------------------------------------------- comparison and filter

#: A cohort with fewer users than this share of the median cohort counts in no average: a month with four
#: signups among months of hundreds moves a plain mean of cohorts by many points with each of its users.
TINY_COHORT_SHARE = 0.1


def tiny_cohorts(sizes: pd.Series) -> pd.Index:
    """The cohorts of ``sizes`` (cohort → users) that hold users, but fewer than :data:`TINY_COHORT_SHARE`
    of the median cohort with users; empty cohorts are not among them (they have no rates to average)."""
    peopled = sizes[sizes > 0]
    return peopled.index[peopled < TINY_COHORT_SHARE * peopled.median()] if len(peopled) else sizes.index[:0]


#: A cohort whose base revenue per user is below this share of the median cohort's counts in no average of
#: revenue retention: a base of a cent (one refund-like purchase in the signup month) makes the next month's
#: ordinary spending read 200,000 %, which outweighs every other cohort in a plain mean.
THIN_BASE_SHARE = 0.1


def base_per_user(matrix: RevenueRetention) -> pd.Series:
    """Each cohort's base revenue divided by its users, for the cohorts that have users and a base."""
    return (matrix.base / matrix.sizes.where(matrix.sizes > 0)).dropna()


def thin_revenue_bases(matrix: RevenueRetention) -> pd.Index:
    """The cohorts of ``matrix`` whose base revenue per user is below :data:`THIN_BASE_SHARE` of the median cohort's
    (among the cohorts that have a base)."""
    per_user = base_per_user(matrix)
    return per_user.index[per_user < THIN_BASE_SHARE * per_user.median()] if len(per_user) else matrix.base.index[:0]


def compare_recent(matrix: _HasRates | pd.DataFrame, recent: int = 3, at_ages: Iterable[int] = (1, 3, 6)) -> pd.DataFrame:
    """Recent cohorts against earlier ones at selected ages.

    For each age, the cohorts observed at that age (non-``NaN`` rate) are split into
    the ``recent`` newest and all earlier ones; each side's value is the plain mean of
    its cohorts' rates (each cohort counts once, whatever its size). Returns one row per
    age with ``recent`` and ``earlier`` (fractions), ``difference_pts`` (recent − earlier,
    in percentage points), ``n_recent`` and ``n_earlier`` (cohorts averaged) and ``p_value``:
    Welch's t-test of the two sides' cohort rates, so that a difference is weighed against how much
    cohorts differ from one another anyway (``NaN`` unless each side has two cohorts and some spread).
    A side with no cohort is ``NaN``. ``matrix`` is a :class:`RetentionMatrix`,
    :class:`RevenueRetention` or a rates DataFrame (cohort × age).
    """
    rates = matrix if isinstance(matrix, pd.DataFrame) else matrix.rates
    if isinstance(recent, bool) or not isinstance(recent, (int, np.integer)) or recent < 1:
        raise ParameterError(f"recent must be a whole number of cohorts ≥ 1, not {recent!r}", parameter="recent")
    ages = list(at_ages)
    beyond = [a for a in ages if a not in rates.columns]
    if beyond:
        raise ParameterError(f"age(s) {', '.join(map(str, beyond))} are not in the matrix (ages "
                             f"{rates.columns.min()}..{rates.columns.max()})", parameter="at_ages")
    rows = []
    for age in ages:  # a handful of ages, not a loop over data
        seen = rates[age].dropna().sort_index()
        split = len(seen) - min(recent, len(seen))
        new, old = seen.iloc[split:], seen.iloc[:split]
        new_mean = float(new.mean()) if len(new) else np.nan
        old_mean = float(old.mean()) if len(old) else np.nan
        rows.append((new_mean, old_mean, (new_mean - old_mean) * 100, len(new), len(old), _welch(new, old)))
    return pd.DataFrame(rows, index=pd.Index(ages, name="age"),
                        columns=["recent", "earlier", "difference_pts", "n_recent", "n_earlier", "p_value"])


def _welch(a: pd.Series, b: pd.Series) -> float:
    """Two-sided p-value of Welch's t-test of ``a`` against ``b`` (NaN with fewer than two values a side, or none
    varying: no spread to weigh the difference against)."""
    # Rates equal but for float noise (1.0 and 1.0000000000000002) are equal.
    a, b = (np.round(side.to_numpy(float), 12) for side in (a, b))
    if len(a) < 2 or len(b) < 2 or (a.std() == 0 and b.std() == 0):
        return float("nan")
    with warnings.catch_warnings():
        # One side without spread (every cohort 0 % at that age) still gives Welch's test; scipy's caution about
        # "nearly identical" data would otherwise be printed into the report's notebook.
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(ttest_ind(a, b, equal_var=False).pvalue)


def behavioural_filter(users: pd.DataFrame, events: pd.DataFrame, event_type: str = "activation",
                       within_days: int = 7) -> pd.DataFrame:
    """The users (rows of ``users``, order kept) who did ``event_type`` within ``within_days`` days after signup.

    Within means ``signed_up_at ≤ occurred_at ≤ signed_up_at + within_days × 24 h``;
    events before signup do not qualify. Raises :class:`EmptyDataError` naming the
    filter when no user passes it (or ``users`` is empty).
    """
    event_type = _check_event_types((event_type,), "event_type")[0]
    if isinstance(within_days, bool) or not isinstance(within_days, (int, np.integer)) or within_days < 0:
        raise ParameterError(f"within_days must be a whole number of days ≥ 0, not {within_days!r}",
                             parameter="within_days")
    _require(users, USER_COLUMNS, "users")
    _require(events, EVENT_COLUMNS, "events")
    described = f"users who did '{event_type}' within {within_days} days after signup"
    if users.empty:
        raise EmptyDataError(f"no users to filter to {described} (the users table is empty)")
    signup = pd.Series(_instants(users["signed_up_at"]), index=users["user_id"].to_numpy())
    if not signup.index.is_unique:
        raise WarehouseError("users hold duplicate user_id values; each user must appear once")
    rows = np.flatnonzero((events["event_type"] == event_type).to_numpy())
    pos = signup.index.get_indexer(events["user_id"].to_numpy()[rows])
    rows, pos = rows[pos >= 0], pos[pos >= 0]
    occurred = _instants(events["occurred_at"].iloc[rows])
    start = signup.to_numpy()[pos]
    hit = (occurred >= start) & (occurred <= start + np.timedelta64(within_days, "D"))
    chosen = np.zeros(len(users), dtype=bool)
    chosen[pos[hit]] = True
    if not chosen.any():
        raise EmptyDataError(f"the behavioural filter left no users: none of the {len(users)} users are {described}",
                             hint="widen within_days or drop the filter")
    return users.iloc[np.flatnonzero(chosen)]
