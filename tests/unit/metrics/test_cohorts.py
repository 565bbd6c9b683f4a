"""Cohort metrics: against an independent loop-based computation, hand fixtures and edge cases.

The reference implementation below deliberately shares nothing with the library: it
walks users and events one by one with ``datetime`` arithmetic, dicts and sets, where
the library uses integer period ordinals, numpy and ``bincount``.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from quire.errors import EmptyDataError, ParameterError
from quire.metrics.cohorts import (
    ACTIVE_EVENTS,
    assign_cohorts,
    behavioural_filter,
    compare_recent,
    ltv_curves,
    retention_matrix,
    revenue_retention_matrix,
)

NAN = float("nan")


# --------------------------------------------------------------------------- reference (plain Python)

def _period_start(day: date, granularity: str) -> date:
    if granularity == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def _next_period(start: date, granularity: str) -> date:
    if granularity == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=7)


def _shift(start: date, k: int, granularity: str) -> date:
    for _ in range(k):
        start = _next_period(start, granularity)
    return start


def _age(cohort: date, period: date, granularity: str) -> int:
    if granularity == "month":
        return (period.year - cohort.year) * 12 + period.month - cohort.month
    return (period - cohort).days // 7


class Reference:
    """Cohort metrics computed by loops over users and events (no pandas grouping)."""

    def __init__(self, users: list[tuple], events: list[tuple], granularity: str, as_of: date, horizon: int):
        self.g, self.as_of, self.horizon = granularity, as_of, horizon
        self.signup: dict[int, datetime] = {}
        self.cohort_of: dict[int, date] = {}
        for user_id, signed_up_at in users:
            start = _period_start(signed_up_at.date(), granularity)
            if self.complete(start):  # only complete signup periods are reported
                self.signup[user_id] = signed_up_at
                self.cohort_of[user_id] = start
        self.cohorts: list[date] = []
        if self.cohort_of:
            current, last = min(self.cohort_of.values()), max(self.cohort_of.values())
            while current <= last:
                self.cohorts.append(current)
                current = _next_period(current, granularity)
        self.size = {c: 0 for c in self.cohorts}
        for c in self.cohort_of.values():
            self.size[c] += 1
        self.events = events

    def complete(self, start: date) -> bool:
        return _next_period(start, self.g) - timedelta(days=1) <= self.as_of

    def observed(self, cohort: date, k: int) -> bool:
        return self.complete(_shift(cohort, k, self.g))

    def _cell(self, user_id: int, occurred_at: datetime) -> tuple[date, int] | None:
        if user_id not in self.signup or occurred_at < self.signup[user_id]:
            return None
        cohort = self.cohort_of[user_id]
        k = _age(cohort, _period_start(occurred_at.date(), self.g), self.g)
        return (cohort, k) if k <= self.horizon else None

    def logo(self, active=ACTIVE_EVENTS) -> list[list[float]]:
        active_users: dict[tuple[date, int], set[int]] = {}
        for user_id, event_type, occurred_at, _revenue in self.events:
            cell = self._cell(user_id, occurred_at) if event_type in active else None
            if cell is not None:
                active_users.setdefault(cell, set()).add(user_id)
        return [[len(active_users.get((c, k), set())) / self.size[c]
                 if self.observed(c, k) and self.size[c] else NAN
                 for k in range(self.horizon + 1)] for c in self.cohorts]

    def revenue(self) -> dict[tuple[date, int], float]:
        total: dict[tuple[date, int], float] = {}
        for user_id, event_type, occurred_at, revenue in self.events:
            cell = self._cell(user_id, occurred_at) if event_type == "purchase" else None
            if cell is not None:
                total[cell] = total.get(cell, 0.0) + (0.0 if revenue is None or math.isnan(revenue) else revenue)
        return total

    def revenue_retention(self) -> tuple[list[list[float]], list[int | None]]:
        total = self.revenue()
        rows, base_ages = [], []
        for c in self.cohorts:
            ages = [k for k in range(self.horizon + 1) if self.observed(c, k)]
            base_age = next((k for k in ages if total.get((c, k), 0.0) > 0), None)
            base_ages.append(base_age)
            rows.append([total.get((c, k), 0.0) / total[(c, base_age)]
                         if base_age is not None and k in ages else NAN for k in range(self.horizon + 1)])
        return rows, base_ages

    def ltv(self) -> list[list[float]]:
        total = self.revenue()
        rows = []
        for c in self.cohorts:
            row, running = [], 0.0
            for k in range(self.horizon + 1):
                running += total.get((c, k), 0.0)
                row.append(running / self.size[c] if self.observed(c, k) and self.size[c] else NAN)
            rows.append(row)
        return rows


# --------------------------------------------------------------------------- generated data

AS_OF = date(2025, 9, 17)  # a Wednesday in mid-month: the current week and month are incomplete


def _generated(seed: int = 20250917, cents: bool = False) -> tuple[list[tuple], list[tuple]]:
    """~300 users (Jan–Sep 2025, none in March, a few after AS_OF) and ~4,000 events.

    Events start up to 15 days *before* signup (data errors), run past AS_OF, include
    unknown users and every event type; purchases carry whole-unit revenue (exact float
    sums in any order) unless ``cents``. The last 20 users have no events at all.
    """
    rng = np.random.default_rng(seed)
    origin, span = datetime(2025, 1, 1), (datetime(2025, 9, 26) - datetime(2025, 1, 1)).total_seconds()
    users = []
    while len(users) < 300:
        signed_up_at = origin + timedelta(seconds=int(rng.integers(0, span)))
        if signed_up_at.month != 3:  # a month without signups
            users.append((len(users) + 1, signed_up_at))
    events = []
    types = ("signup", "activation", "session_start", "feature_use", "purchase")
    for _ in range(4000):
        user_id, signed_up_at = users[int(rng.integers(0, 280))]
        if rng.random() < 0.01:
            user_id = 10_000 + int(rng.integers(0, 5))  # a user the users table does not know
        occurred_at = signed_up_at + timedelta(seconds=int(rng.integers(-15 * 86400, 200 * 86400)))
        event_type = types[int(rng.integers(0, 5))]
        revenue = NAN
        if event_type == "purchase":
            revenue = float(rng.integers(1, 60)) if not cents else round(float(rng.uniform(0.5, 60)), 2)
        events.append((user_id, event_type, occurred_at, revenue))
    return users, events


def _frames(users: list[tuple], events: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    users_df = pd.DataFrame(users, columns=["user_id", "signed_up_at"]).assign(
        client_id=1, channel="organic", country="NL")
    events_df = pd.DataFrame(events, columns=["user_id", "event_type", "occurred_at", "revenue"])
    events_df.insert(0, "event_id", np.arange(len(events_df)))
    return users_df, events_df


def _assert_exact(result: pd.DataFrame, expected: list[list[float]], cohorts: list[date], horizon: int) -> None:
    assert list(result.index) == [pd.Timestamp(c) for c in cohorts]
    assert list(result.columns) == list(range(horizon + 1))
    got, want = result.to_numpy(dtype=float), np.array(expected, dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(want)), "NaN (not observed) pattern differs"
    assert np.array_equal(got, want, equal_nan=True), f"values differ at {np.argwhere(~np.isclose(got, want, equal_nan=True))[:5].tolist()}"


CASES = [("week", 12), ("month", 6)]


@pytest.fixture(scope="module")
def generated() -> tuple[list[tuple], list[tuple], pd.DataFrame, pd.DataFrame]:
    users, events = _generated()
    return (users, events, *_frames(users, events))


@pytest.mark.parametrize(("granularity", "horizon"), CASES)
def test_generated_data_exercises_the_rules(generated, granularity, horizon):
    """Guard the generator: the independent checks below are only meaningful if these hold."""
    users, events, _, _ = generated
    ref = Reference([(u, s) for u, s in users], events, granularity, AS_OF, horizon)
    assert len(ref.cohorts) > 6
    young = [c for c in ref.cohorts if not ref.observed(c, horizon)]
    assert young and ref.observed(young[0], 0), "need cohorts younger than the horizon"
    signup = dict(users)
    presignup_in_reported = [e for e in events if e[0] in ref.signup and e[2] < signup[e[0]] and e[1] in ACTIVE_EVENTS]
    assert len(presignup_in_reported) > 50
    assert any(u not in {e[0] for e in events} for u in ref.signup), "need a user without events"
    _, base_ages = ref.revenue_retention()
    if granularity == "week":
        assert any(b not in (None, 0) for b in base_ages), "need a cohort whose base is not age 0"
        assert any(ref.size[c] == 0 for c in ref.cohorts), "need empty weeks"
    else:
        assert ref.size[date(2025, 3, 1)] == 0


@pytest.mark.parametrize(("granularity", "horizon"), CASES)
def test_retention_matches_independent_computation(generated, granularity, horizon):
    users, events, users_df, events_df = generated
    ref = Reference(users, events, granularity, AS_OF, horizon)
    matrix = retention_matrix(users_df, events_df, granularity, AS_OF, horizon)
    _assert_exact(matrix.rates, ref.logo(), ref.cohorts, horizon)
    assert matrix.sizes.tolist() == [ref.size[c] for c in ref.cohorts]


@pytest.mark.parametrize(("granularity", "horizon"), CASES)
def test_retention_with_other_active_events_matches(generated, granularity, horizon):
    users, events, users_df, events_df = generated
    ref = Reference(users, events, granularity, AS_OF, horizon)
    matrix = retention_matrix(users_df, events_df, granularity, AS_OF, horizon, active_events=("feature_use",))
    _assert_exact(matrix.rates, ref.logo(active=("feature_use",)), ref.cohorts, horizon)


@pytest.mark.parametrize(("granularity", "horizon"), CASES)
def test_revenue_retention_matches_independent_computation(generated, granularity, horizon):
    users, events, users_df, events_df = generated
    ref = Reference(users, events, granularity, AS_OF, horizon)
    expected, base_ages = ref.revenue_retention()
    result = revenue_retention_matrix(users_df, events_df, granularity, AS_OF, horizon)
    _assert_exact(result.rates, expected, ref.cohorts, horizon)
    assert [None if math.isnan(a) else int(a) for a in result.base_age] == base_ages


@pytest.mark.parametrize(("granularity", "horizon"), CASES)
def test_ltv_matches_independent_computation(generated, granularity, horizon):
    users, events, users_df, events_df = generated
    ref = Reference(users, events, granularity, AS_OF, horizon)
    _assert_exact(ltv_curves(users_df, events_df, granularity, AS_OF, horizon), ref.ltv(), ref.cohorts, horizon)


@pytest.mark.parametrize(("granularity", "horizon"), CASES)
def test_revenue_in_cents_matches_to_rounding(granularity, horizon):
    """Amounts with cents: summation order may differ in the last bit, nothing more."""
    users, events = _generated(seed=7, cents=True)
    users_df, events_df = _frames(users, events)
    ref = Reference(users, events, granularity, AS_OF, horizon)
    got = ltv_curves(users_df, events_df, granularity, AS_OF, horizon).to_numpy()
    np.testing.assert_allclose(got, np.array(ref.ltv()), rtol=1e-12, equal_nan=True)
    got = revenue_retention_matrix(users_df, events_df, granularity, AS_OF, horizon).rates.to_numpy()
    np.testing.assert_allclose(got, np.array(ref.revenue_retention()[0]), rtol=1e-12, equal_nan=True)


def test_since_drops_earlier_cohorts(generated):
    users, events, users_df, events_df = generated
    full = retention_matrix(users_df, events_df, "month", AS_OF, 6)
    later = retention_matrix(users_df, events_df, "month", AS_OF, 6, since=date(2025, 4, 15))
    assert later.rates.index[0] == pd.Timestamp("2025-04-01")
    pd.testing.assert_frame_equal(later.rates, full.rates.loc["2025-04-01":])


def test_inputs_are_not_modified(generated):
    _, _, users_df, events_df = generated
    before_users, before_events = users_df.copy(), events_df.copy()
    retention_matrix(users_df, events_df, "week", AS_OF)
    revenue_retention_matrix(users_df, events_df, "week", AS_OF)
    behavioural_filter(users_df, events_df)
    pd.testing.assert_frame_equal(users_df, before_users)
    pd.testing.assert_frame_equal(events_df, before_events)


# --------------------------------------------------------------------------- hand-computed fixture

# Month cohorts, as_of 2025-03-31 (March complete, April in progress), horizon 3.
#   u1  signup Jan 10  session Jan 12 (a0), feature_use Feb 3 (a1), purchase 30 Mar 15 (a2), session Apr 5 (a3: not observed)
#   u2  signup Jan 25  session Jan 20 + purchase 100 Jan 24 (before signup: ignored), purchase 10 Feb 10 (a1), session Mar 1 (a2)
#   u3  signup Feb 14  activation Feb 15 (not an active event), session + purchase 40 Feb 20 (a0), purchase 20 Mar 3 (a1)
#   u4  signup Feb 28  no events: in the size, never active
#   u5  signup Apr 2   April is in progress: not reported
# Logo     Jan (2 users): a0 1/2  a1 2/2  a2 2/2  a3 NaN     Feb (2 users): a0 1/2  a1 1/2  a2 NaN  a3 NaN
# Revenue  Jan: 0, 10, 30, NaN -> base = a1 (10): 0, 1, 3, NaN      Feb: 40, 20 -> base a0 (40): 1, 0.5, NaN, NaN
# LTV      Jan: 0/2, 10/2, 40/2 = 0, 5, 20, NaN                    Feb: 40/2, 60/2 = 20, 30, NaN, NaN
TINY_USERS = pd.DataFrame({
    "user_id": [1, 2, 3, 4, 5],
    "client_id": 1,
    "signed_up_at": pd.to_datetime(["2025-01-10 10:00", "2025-01-25 09:00", "2025-02-14 12:00",
                                    "2025-02-28 23:59", "2025-04-02 08:00"]),
    "channel": "organic", "country": "NL",
})
TINY_EVENTS = pd.DataFrame([
    (1, "session_start", "2025-01-12 08:00", None), (1, "feature_use", "2025-02-03 10:00", None),
    (1, "purchase", "2025-03-15 10:00", 30.0), (1, "session_start", "2025-04-05 10:00", None),
    (2, "session_start", "2025-01-20 10:00", None), (2, "purchase", "2025-01-24 10:00", 100.0),
    (2, "purchase", "2025-02-10 10:00", 10.0), (2, "session_start", "2025-03-01 00:00", None),
    (3, "activation", "2025-02-15 10:00", None), (3, "session_start", "2025-02-20 15:00", None),
    (3, "purchase", "2025-02-20 15:10", 40.0), (3, "purchase", "2025-03-03 10:00", 20.0),
    (5, "session_start", "2025-04-03 10:00", None),
], columns=["user_id", "event_type", "occurred_at", "revenue"]).assign(
    occurred_at=lambda f: pd.to_datetime(f["occurred_at"]), revenue=lambda f: f["revenue"].astype(float))
TINY_AS_OF = date(2025, 3, 31)
TINY_COHORTS = pd.DatetimeIndex(["2025-01-01", "2025-02-01"], name="cohort")


def _frame(rows: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=TINY_COHORTS, columns=pd.RangeIndex(4, name="age"), dtype=float)


def test_tiny_logo_retention():
    m = retention_matrix(TINY_USERS, TINY_EVENTS, "month", TINY_AS_OF, horizon=3)
    pd.testing.assert_frame_equal(m.rates, _frame([[0.5, 1.0, 1.0, NAN], [0.5, 0.5, NAN, NAN]]), check_index_type=False)
    pd.testing.assert_frame_equal(m.counts, _frame([[1, 2, 2, NAN], [1, 1, NAN, NAN]]), check_index_type=False)
    assert m.sizes.tolist() == [2, 2] and list(m.sizes.index) == list(TINY_COHORTS)
    assert m.granularity == "month" and m.as_of == TINY_AS_OF


def test_tiny_revenue_retention_and_ltv():
    r = revenue_retention_matrix(TINY_USERS, TINY_EVENTS, "month", TINY_AS_OF, horizon=3)
    pd.testing.assert_frame_equal(r.rates, _frame([[0.0, 1.0, 3.0, NAN], [1.0, 0.5, NAN, NAN]]), check_index_type=False)
    pd.testing.assert_frame_equal(r.revenue, _frame([[0, 10, 30, NAN], [40, 20, NAN, NAN]]), check_index_type=False)
    assert r.base.tolist() == [10.0, 40.0] and r.base_age.tolist() == [1.0, 0.0]
    ltv = ltv_curves(TINY_USERS, TINY_EVENTS, "month", TINY_AS_OF, horizon=3)
    pd.testing.assert_frame_equal(ltv, _frame([[0, 5, 20, NAN], [20, 30, NAN, NAN]]), check_index_type=False)


def test_tiny_assign_cohorts():
    weeks = assign_cohorts(TINY_USERS, "week")
    # Jan 10 2025 is a Friday (-> Mon Jan 6); Jan 25 a Saturday (-> Jan 20); Feb 14 a Friday (-> Feb 10);
    # Feb 28 23:59 a Friday (-> Feb 24); Apr 2 a Wednesday (-> Mar 31).
    assert weeks["cohort"].tolist() == list(pd.to_datetime(["2025-01-06", "2025-01-20", "2025-02-10",
                                                            "2025-02-24", "2025-03-31"]))
    assert weeks["user_id"].tolist() == [1, 2, 3, 4, 5]
    months = assign_cohorts(TINY_USERS, "month")
    assert months["cohort"].tolist() == list(pd.to_datetime(["2025-01-01", "2025-01-01", "2025-02-01",
                                                             "2025-02-01", "2025-04-01"]))
    assert str(months["cohort"].dtype).startswith("datetime64")


# --------------------------------------------------------------------------- edge cases

def test_young_cohort_is_nan_not_zero_past_its_observed_ages():
    m = retention_matrix(TINY_USERS, TINY_EVENTS, "month", TINY_AS_OF, horizon=3)
    feb = m.rates.loc["2025-02-01"]
    assert feb[[0, 1]].notna().all() and feb[[2, 3]].isna().all()
    # Jan's age 3 is April, in progress on as_of, although u1 already has an April session.
    assert math.isnan(m.rates.loc["2025-01-01", 3]) and math.isnan(m.counts.loc["2025-01-01", 3])


def test_events_before_signup_do_not_count():
    users = TINY_USERS[TINY_USERS.user_id == 2]
    events = TINY_EVENTS[(TINY_EVENTS.user_id == 2) & (TINY_EVENTS.occurred_at < "2025-02-01")]
    # Both January events of u2 precede the signup (Jan 25 09:00), in the signup month itself.
    assert retention_matrix(users, events, "month", TINY_AS_OF, horizon=1).rates.loc["2025-01-01", 0] == 0.0
    assert revenue_retention_matrix(users, events, "month", TINY_AS_OF, horizon=1).rates.isna().all().all()
    # An event one second after signup does count.
    late = events.assign(occurred_at=pd.Timestamp("2025-01-25 09:00:01"))
    assert retention_matrix(users, late, "month", TINY_AS_OF, horizon=1).rates.loc["2025-01-01", 0] == 1.0


def test_month_without_signups_is_a_size_zero_row_of_nan():
    users = TINY_USERS[TINY_USERS.user_id.isin([1, 2])]
    march = pd.DataFrame({"user_id": [9], "client_id": 1, "signed_up_at": [pd.Timestamp("2025-03-05")],
                          "channel": "paid", "country": "DE"})
    m = retention_matrix(pd.concat([users, march]), TINY_EVENTS, "month", TINY_AS_OF, horizon=2)
    assert list(m.rates.index) == list(pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]))
    assert m.sizes.loc["2025-02-01"] == 0
    assert m.rates.loc["2025-02-01"].isna().all()
    assert m.counts.loc["2025-02-01"].tolist()[:2] == [0.0, 0.0]  # observed, nobody there to be active
    assert ltv_curves(pd.concat([users, march]), TINY_EVENTS, "month", TINY_AS_OF, 2).loc["2025-02-01"].isna().all()
    # compare_recent skips it: an empty cohort is not an observed one.
    assert compare_recent(m, recent=1, at_ages=(0,)).loc[0, "n_recent"] + \
        compare_recent(m, recent=1, at_ages=(0,)).loc[0, "n_earlier"] == 2


def test_user_without_events_counts_in_size_not_as_active():
    m = retention_matrix(TINY_USERS, TINY_EVENTS, "month", TINY_AS_OF, horizon=3)
    assert m.sizes.loc["2025-02-01"] == 2  # u3 and the silent u4
    assert m.counts.loc["2025-02-01", 0] == 1


def test_week_is_complete_only_once_its_sunday_has_passed():
    users = pd.DataFrame({"user_id": [1], "signed_up_at": [pd.Timestamp("2025-01-06 12:00")]})  # a Monday
    events = pd.DataFrame({"user_id": [1, 1], "event_type": ["session_start"] * 2,
                           "occurred_at": pd.to_datetime(["2025-01-07 00:00", "2025-01-13 08:00"])})
    on_sunday = retention_matrix(users, events, "week", date(2025, 1, 19), horizon=2)
    assert on_sunday.rates.iloc[0].tolist()[:2] == [1.0, 1.0] and math.isnan(on_sunday.rates.iloc[0, 2])
    on_saturday = retention_matrix(users, events, "week", date(2025, 1, 18), horizon=2)
    assert on_saturday.rates.iloc[0, 0] == 1.0 and on_saturday.rates.iloc[0, 1:].isna().all()


def test_horizon_and_granularity_are_checked():
    with pytest.raises(ParameterError, match="granularity"):
        retention_matrix(TINY_USERS, TINY_EVENTS, "quarter", TINY_AS_OF)
    with pytest.raises(ParameterError, match="horizon"):
        retention_matrix(TINY_USERS, TINY_EVENTS, "month", TINY_AS_OF, horizon=-1)
    with pytest.raises(ParameterError, match="login"):
        retention_matrix(TINY_USERS, TINY_EVENTS, "month", TINY_AS_OF, active_events=("login",))


# --------------------------------------------------------------------------- compare_recent

def test_compare_recent_on_hand_fixture():
    rates = pd.DataFrame([
        [1.0, 0.5, 0.4, 0.3],   # 2025-01
        [1.0, 0.6, 0.5, 0.2],   # 2025-02
        [NAN, NAN, NAN, NAN],   # 2025-03: no signups
        [1.0, 0.3, 0.2, NAN],   # 2025-04
        [1.0, 0.4, NAN, NAN],   # 2025-05
        [1.0, NAN, NAN, NAN],   # 2025-06
    ], index=pd.date_range("2025-01-01", periods=6, freq="MS", name="cohort"), columns=pd.RangeIndex(4, name="age"))
    out = compare_recent(rates, recent=2, at_ages=(1, 2, 3))
    assert list(out.columns) == ["recent", "earlier", "difference_pts", "n_recent", "n_earlier", "p_value"]
    # age 1: recent = Apr, May (0.3, 0.4); earlier = Jan, Feb (0.5, 0.6)
    assert out.loc[1, "recent"] == pytest.approx(0.35) and out.loc[1, "earlier"] == pytest.approx(0.55)
    assert out.loc[1, "difference_pts"] == pytest.approx(-20.0)
    # Welch: t = −0.2 / √(0.005/2 + 0.005/2) = −2√2 on 2 degrees of freedom, whose two-sided p is 1 − |t| / √(2 + t²).
    assert out.loc[1, "p_value"] == pytest.approx(1 - 2 * math.sqrt(2) / math.sqrt(10))
    assert math.isnan(out.loc[2, "p_value"])  # one earlier cohort: no spread to weigh the difference against
    # age 2: recent = Feb, Apr (0.5, 0.2); earlier = Jan (0.4)
    assert out.loc[2, "recent"] == pytest.approx(0.35) and out.loc[2, "earlier"] == pytest.approx(0.4)
    assert out.loc[2, "difference_pts"] == pytest.approx(-5.0)
    # age 3: only Jan and Feb are observed: both recent, nothing to compare against
    assert out.loc[3, "recent"] == pytest.approx(0.25) and math.isnan(out.loc[3, "earlier"])
    assert math.isnan(out.loc[3, "difference_pts"])
    assert out["n_recent"].tolist() == [2, 2, 2] and out["n_earlier"].tolist() == [2, 1, 0]


def test_compare_recent_accepts_a_matrix_and_checks_arguments():
    m = retention_matrix(TINY_USERS, TINY_EVENTS, "month", TINY_AS_OF, horizon=3)
    out = compare_recent(m, recent=1, at_ages=(0, 1))
    assert out.loc[1, "recent"] == 0.5 and out.loc[1, "earlier"] == 1.0 and out.loc[1, "difference_pts"] == -50.0
    with pytest.raises(ParameterError, match="age"):
        compare_recent(m, at_ages=(6,))
    with pytest.raises(ParameterError, match="recent"):
        compare_recent(m, recent=0)


# --------------------------------------------------------------------------- behavioural filter

def test_behavioural_filter_on_hand_fixture():
    signup = pd.Timestamp("2025-05-01 12:00")
    users = pd.DataFrame({"user_id": [10, 11, 12, 13, 14, 15], "signed_up_at": [signup] * 6,
                          "channel": list("abcdef")}, index=[5, 4, 3, 2, 1, 0])
    events = pd.DataFrame([
        (10, "activation", signup + pd.Timedelta(days=2)),                      # in
        (11, "activation", signup + pd.Timedelta(days=7)),                      # in: exactly 7 days
        (12, "activation", signup + pd.Timedelta(days=7, seconds=1)),           # out: too late
        (13, "activation", signup - pd.Timedelta(hours=1)),                     # out: before signup
        (14, "session_start", signup + pd.Timedelta(hours=1)),                  # out: other event type
        (99, "activation", signup),                                             # unknown user
        (10, "activation", signup + pd.Timedelta(days=3)),                      # second hit, still one row
    ], columns=["user_id", "event_type", "occurred_at"])
    chosen = behavioural_filter(users, events)
    pd.testing.assert_frame_equal(chosen, users.loc[[5, 4]])
    assert behavioural_filter(users, events, within_days=2)["user_id"].tolist() == [10]
    assert behavioural_filter(users, events, event_type="session_start", within_days=1)["user_id"].tolist() == [14]


def test_behavioural_filter_feeds_the_matrix():
    active = behavioural_filter(TINY_USERS, TINY_EVENTS, event_type="activation", within_days=7)
    assert active["user_id"].tolist() == [3]
    m = retention_matrix(active, TINY_EVENTS, "month", TINY_AS_OF, horizon=1)
    assert m.sizes.tolist() == [1] and m.rates.iloc[0].tolist() == [1.0, 1.0]


# --------------------------------------------------------------------------- empty data

def test_empty_users_table():
    with pytest.raises(EmptyDataError, match="users table is empty"):
        retention_matrix(TINY_USERS.iloc[:0], TINY_EVENTS, "month", TINY_AS_OF)
    with pytest.raises(EmptyDataError, match="users table is empty"):
        assign_cohorts(TINY_USERS.iloc[:0], "week")


def test_no_user_in_a_complete_period_names_the_range():
    only_april = TINY_USERS[TINY_USERS.user_id == 5]
    with pytest.raises(EmptyDataError, match=r"complete month up to 2025-03-31 \(as_of 2025-04-15") as err:
        retention_matrix(only_april, TINY_EVENTS, "month", date(2025, 4, 15))
    assert "in progress is not reported" in str(err.value)
    with pytest.raises(EmptyDataError, match=r"complete week from the week of 2025-03-03 up to 2025-03-30"):
        ltv_curves(TINY_USERS, TINY_EVENTS, "week", TINY_AS_OF, since=date(2025, 3, 3))
    with pytest.raises(EmptyDataError, match="complete month"):
        revenue_retention_matrix(TINY_USERS, TINY_EVENTS, "month", date(2024, 12, 31))


def test_behavioural_filter_that_keeps_nobody_names_the_filter():
    with pytest.raises(EmptyDataError, match="'purchase' within 0 days after signup"):
        behavioural_filter(TINY_USERS, TINY_EVENTS, event_type="purchase", within_days=0)
    with pytest.raises(EmptyDataError, match="users table is empty"):
        behavioural_filter(TINY_USERS.iloc[:0], TINY_EVENTS)
