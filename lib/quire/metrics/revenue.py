"""Recurring-revenue metrics from the MRR ledger: MRR, the MRR bridge, retention, ARPA, CLV.

The input is the ``mrr_movements`` ledger as a DataFrame with columns ``client_id``,
``month`` (first day of the month the change takes effect), ``movement`` (new |
expansion | contraction | churn | reactivation) and ``amount`` (the signed change of
MRR: contraction and churn are negative). A client's MRR at the end of month M is the
sum of its amounts with ``month <= M``; the ledger never takes a client below zero.
Every function also takes a :class:`Ledger`, the same movements checked and normalised once.

A movement counts by what it does to its client's MRR, whatever its label says
(:func:`_by_effect`): a "contraction" to $0 is churn, a "new" account that paid before is a
reactivation. An imported ledger labelled otherwise showed "Churn $0" beside a 33 % logo churn.

Every function is pure: DataFrame in, value out; no I/O and the input is never modified.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from quire.errors import WarehouseError
from quire.metrics.kpi import finite_or_none
from quire.periods import Period
from quire.warehouse.schema import MOVEMENTS, ROUNDING_PER_ROW

LEDGER_COLUMNS = ("client_id", "month", "movement", "amount")
# Amounts are money with cents; summing floats leaves residue like 1e-12 where a client
# has churned. Anything smaller than half a cent is zero MRR, not a paying account.
ZERO_MRR = 0.005
# How closely the bridge must close: well below a cent, well above float summation error.
BRIDGE_TOLERANCE = 1e-6

Month = date | pd.Timestamp | str


def _month(value: Month) -> pd.Timestamp:
    """The first day of ``value``'s month as a Timestamp."""
    return pd.Timestamp(value).to_period("M").to_timestamp()


@dataclass(frozen=True, eq=False)
class Ledger:
    """Movements checked and normalised once (:func:`ledger`), to pass to this module's functions in their place.

    Each function checks and normalises the movements it is given (month starts, float amounts, the rounding
    residue of ended subscriptions); a report that computes many figures from the same movements (a year of
    periods for its trend and alerts) does that once with this instead of once per figure.
    """

    frame: pd.DataFrame


def ledger(movements: pd.DataFrame) -> Ledger:
    """``movements`` checked and normalised for the functions of this module; raises as they would."""
    return Ledger(_ledger(movements))


def _ledger(movements: pd.DataFrame | Ledger) -> pd.DataFrame:
    """The ledger with ``month`` as month-start Timestamps and float amounts; rejects unknown movements."""
    if isinstance(movements, Ledger):
        return movements.frame
    missing = [c for c in LEDGER_COLUMNS if c not in movements.columns]
    if missing:
        raise WarehouseError(f"MRR movements lack column(s) {', '.join(missing)}; expected {', '.join(LEDGER_COLUMNS)}")
    unknown = sorted({str(kind) for kind in movements["movement"].unique()} - set(MOVEMENTS))
    if unknown:
        # Such a row (or one without a kind) would count in end MRR but in no step of the bridge.
        raise WarehouseError(f"MRR movements hold unknown movement kind(s) {', '.join(unknown)}; "
                             f"expected {', '.join(MOVEMENTS)}")
    return _by_effect(_netted(_without_rounding_residue(pd.DataFrame({
        "client_id": movements["client_id"].to_numpy(),
        "month": pd.to_datetime(movements["month"]).dt.to_period("M").dt.to_timestamp().to_numpy(),
        "movement": movements["movement"].to_numpy(),
        "amount": movements["amount"].astype(float).to_numpy(),
    }))))


#: How a netted month's labels are joined ("churn + new"): :func:`netted_labels` reads them back.
LABEL_JOIN = " + "


def netted_labels(labelled: str) -> list[str]:
    """The ledger labels a month's row nets (``labelled`` of :class:`Ledger`'s frame): one, or several."""
    return labelled.split(LABEL_JOIN)


def _netted(ledger: pd.DataFrame) -> pd.DataFrame:
    """``ledger`` with one row per client and month: the month's amounts summed, its labels joined ("churn + new").

    MRR is measured at month ends, so a month's rows count by what they do together: a plan switch booked as
    churn −$112.85 and new +$150 is an expansion of $37.15, and a churn on the 10th undone by a comeback on the
    25th moves nothing. Counted row by row in ledger order they showed as churn and reactivation, differently
    for the same MRR when two rows' ids were swapped, beside a logo churn that did not count them.
    """
    if not ledger.duplicated(["client_id", "month"]).any():
        return ledger
    grouped = ledger.groupby(["client_id", "month"], sort=False)
    return pd.DataFrame({
        "amount": grouped["amount"].sum().round(9),  # a churn and its comeback net to exactly 0, not 1e-13
        "movement": grouped["movement"].agg(lambda labels: LABEL_JOIN.join(dict.fromkeys(map(str, labels)))),
    }).reset_index()[["client_id", "month", "movement", "amount"]]


#: The kind of a month whose movements, together, leave its client's MRR as it was (a churn and a comeback).
UNCHANGED = "unchanged"


def _by_effect(ledger: pd.DataFrame) -> pd.DataFrame:
    """``ledger`` (one row per client and month, :func:`_netted`) with each row's kind as its effect on its
    client's MRR.

    From 0 to more: ``new`` for a client's first MRR, ``reactivation`` after; to 0: ``churn``; otherwise
    ``expansion`` or ``contraction`` by its sign. A row that leaves MRR below 0 keeps its label (the warehouse
    check refuses it), and so does one that moves nothing, unless it nets several movements: that is
    :data:`UNCHANGED`. The labels as given are kept in ``labelled``.
    """
    if ledger.empty:
        return ledger.assign(labelled=ledger["movement"])
    order = ledger.sort_values(["client_id", "month"], kind="stable")
    after = order.groupby("client_id", sort=False)["amount"].cumsum()
    before = after - order["amount"]
    paid = (after > ZERO_MRR).groupby(order["client_id"], sort=False).cummax()
    paid_before = paid.groupby(order["client_id"], sort=False).shift(fill_value=False).astype(bool)
    was, now = before > ZERO_MRR, after > ZERO_MRR
    kind = order["movement"].astype(object)  # a copy: the labels stay as given
    kind[~was & now] = "new"
    kind[~was & now & paid_before] = "reactivation"
    kind[was & (after.abs() <= ZERO_MRR)] = "churn"
    kind[was & now & (order["amount"] > 0)] = "expansion"
    kind[was & now & (order["amount"] < 0)] = "contraction"
    kind[(order["amount"] == 0) & order["movement"].astype(str).str.contains(LABEL_JOIN, regex=False)] = UNCHANGED
    return ledger.assign(movement=kind.reindex(ledger.index), labelled=ledger["movement"])


def _without_rounding_residue(ledger: pd.DataFrame) -> pd.DataFrame:
    """``ledger`` with each client's MRR at a month's end exactly 0 where it is 0 but for the rounding of its amounts.

    Each amount is stored in cents on its own, so a subscription that ends adds up to a cent or two either side of
    0 (an annual plan's 249.1667 a month, upgraded by 166.6667 and churned, is 249.17 + 166.67 − 415.83 = 0.01): a
    client that churned would count as a paying account ever after. A running MRR within half a cent per ledger row
    so far (:data:`~quire.warehouse.schema.ROUNDING_PER_ROW`, the rule the reports' negative-MRR check uses) is 0;
    the client's last row of that month takes up the cents, and so the bridge still closes.
    """
    if ledger.empty:
        return ledger
    order = ledger.sort_values(["client_id", "month"], kind="stable")
    per_client = order.groupby("client_id", sort=False)
    running = per_client["amount"].cumsum()
    rows = per_client.cumcount() + 1
    month_end = ~order.duplicated(["client_id", "month"], keep="last")
    residue = month_end & (running != 0) & (running.abs() <= rows * ROUNDING_PER_ROW)
    if not residue.any():
        return ledger
    # Take the residue out where it is found and give it back on the client's next row (a reactivation,
    # say): the other amounts stay exactly as stored.
    taken = (-running).where(residue, 0.0)
    given = taken.groupby(order["client_id"], sort=False).shift(fill_value=0.0)
    return ledger.assign(amount=(order["amount"] + taken - given).reindex(ledger.index))


def _zero_dust(values: pd.Series) -> pd.Series:
    """Set float residue below :data:`ZERO_MRR` to exactly 0."""
    return values.where(values.abs() >= ZERO_MRR, 0.0)


def _settled(total: float) -> float:
    """A sum of amounts without its float residue: 0 below :data:`ZERO_MRR` (10.10 + 20.20 − 30.30 is 3.6e-15,
    which made the next month's growth −2.8e18 %), and 30.299999999999997 back to 30.3."""
    total = float(total)
    return 0.0 if abs(total) < ZERO_MRR else round(total, 9)


def _client_mrr(ledger: pd.DataFrame, through: pd.Timestamp) -> pd.Series:
    """MRR of every client in the ledger at the end of month ``through`` (zeros included)."""
    upto = ledger[ledger["month"] <= through]
    return _zero_dust(upto.groupby("client_id")["amount"].sum())


def _month_before(value: Month) -> pd.Timestamp:
    return _month(value) - pd.offsets.MonthBegin(1)


def mrr_by_client(movements: pd.DataFrame | Ledger, month: Month) -> pd.Series:
    """MRR of each paying client at the end of ``month``: ``client_id`` → MRR, only clients above zero."""
    mrr = _client_mrr(_ledger(movements), _month(month))
    return mrr[mrr > 0].rename("mrr")


def mrr_series(movements: pd.DataFrame | Ledger, months: Iterable[Month]) -> pd.Series:
    """Total MRR at the end of each of ``months``, indexed by month start (``DatetimeIndex`` named ``month``)."""
    ledger = _ledger(movements)
    running = ledger.groupby("month")["amount"].sum().sort_index().cumsum()
    index = pd.DatetimeIndex([_month(m) for m in months], name="month")
    if running.empty:
        return pd.Series(0.0, index=index, name="mrr")
    # asof: the running total at the latest ledger month on or before each month; NaN before the first.
    return _zero_dust(running.asof(index).fillna(0.0)).rename("mrr").rename_axis("month")


@dataclass(frozen=True)
class MrrBridge:
    """How MRR moved over a period. Contraction and churn are positive magnitudes.

    ``start_mrr`` is MRR at the end of the month before the period, ``end_mrr`` at the end
    of its last month; the five movements are the ledger's amounts inside the period,
    summed by kind, each client's month counted by its net effect. A client that churns in one
    month of the period and comes back in a later one appears in both ``churn`` and ``reactivation``.
    """

    start_mrr: float
    new: float
    expansion: float
    contraction: float
    churn: float
    reactivation: float
    end_mrr: float

    @property
    def closes(self) -> bool:
        """True when start + new + expansion + reactivation − contraction − churn equals end (within 1e-6)."""
        moved = self.start_mrr + self.new + self.expansion + self.reactivation - self.contraction - self.churn
        return math.isclose(moved, self.end_mrr, rel_tol=0.0, abs_tol=BRIDGE_TOLERANCE)

    def as_frame(self) -> pd.DataFrame:
        """Waterfall table: columns ``step`` and ``amount`` (signed); first row the start, last the end."""
        steps = [("Start MRR", self.start_mrr), ("New", self.new), ("Expansion", self.expansion),
                 ("Reactivation", self.reactivation), ("Contraction", 0.0 - self.contraction),
                 ("Churn", 0.0 - self.churn), ("End MRR", self.end_mrr)]
        return pd.DataFrame(steps, columns=["step", "amount"])


def mrr_bridge(movements: pd.DataFrame | Ledger, period: Period) -> MrrBridge:
    """The MRR bridge of ``period``: start MRR, each kind of movement in the period, end MRR.

    ``end_mrr`` is summed from the whole ledger independently of the movements, so
    :attr:`MrrBridge.closes` is a real check that every movement was classified.
    """
    ledger = _ledger(movements)
    start, last = _month(period.start), _month(period.last_month)
    before = ledger["month"] < start
    through_end = ledger["month"] <= last
    by_kind = ledger.loc[~before & through_end].groupby("movement")["amount"].sum()

    def kind(name: str) -> float:
        return _settled(by_kind.get(name, 0.0))

    return MrrBridge(
        start_mrr=_settled(ledger.loc[before, "amount"].sum()),
        new=kind("new"),
        expansion=kind("expansion"),
        # "0.0 −" rather than unary minus, so an absent movement is 0.0 and not −0.0.
        contraction=0.0 - kind("contraction"),
        churn=0.0 - kind("churn"),
        reactivation=kind("reactivation"),
        end_mrr=_settled(ledger.loc[through_end, "amount"].sum()),
    )


@dataclass(frozen=True)
class Retention:
    """Retention of the accounts paying at the start of a period (the *starting cohort*).

    * ``nrr`` — net revenue retention: the cohort's MRR at the end of the period ÷ its
      MRR at the start. Includes the cohort's expansion, contraction and churn (and a
      member's churn-then-reactivation inside the period: it counts at its end MRR);
      new accounts and accounts reactivated from before the period are excluded.
    * ``grr`` — gross revenue retention: like NRR, but each account counts at most its
      starting MRR (expansion cannot offset losses), so ``grr <= 1``.
    * ``logo_churn_rate`` — cohort accounts with zero MRR at the end ÷ cohort accounts.
    * ``revenue_churn_rate`` — ``1 − grr``: the share of starting MRR lost to
      contraction and churn.

    Rates are None when nobody paid at the start. The counts compare the two snapshots,
    so ``customers_end == customers_start − churned + new + reactivated``:
    ``new_customers`` pay at the end with no ledger history before the period;
    ``reactivated_customers`` pay at the end, did not at the start, but paid earlier.
    An account that joins and leaves inside the period is in none of them.
    """

    start_mrr: float
    retained_mrr: float
    nrr: float | None
    grr: float | None
    logo_churn_rate: float | None
    revenue_churn_rate: float | None
    customers_start: int
    customers_end: int
    new_customers: int
    reactivated_customers: int
    churned_customers: int


def retention(movements: pd.DataFrame | Ledger, period: Period) -> Retention:
    """NRR, GRR, logo and revenue churn of ``period``'s starting cohort, and account counts (see :class:`Retention`)."""
    ledger = _ledger(movements)
    start = _client_mrr(ledger, _month_before(period.start))
    end = _client_mrr(ledger, _month(period.last_month))
    cohort_start = start[start > 0]
    cohort_end = end.reindex(cohort_start.index, fill_value=0.0)
    paying_end = end[end > 0]

    joined = paying_end.index.difference(cohort_start.index)
    # Paid at the end of an earlier month, as the bridge's reactivation means: a trial that began and ended within
    # one month never paid at a month's end, and its comeback is new.
    # The ledger holds one row per client and month (:func:`_netted`): its running sums are month-end MRRs.
    before = ledger.loc[ledger["month"] < _month(period.start)].sort_values("month", kind="stable")
    month_ends = before.groupby("client_id", sort=False)["amount"].cumsum()
    had_history = before.loc[month_ends > ZERO_MRR, "client_id"].unique()
    reactivated = int(joined.isin(had_history).sum())
    churned = int((cohort_end <= 0).sum())

    base = float(cohort_start.sum())
    retained = float(cohort_end.sum())
    grr = float(cohort_end.clip(upper=cohort_start).sum()) / base if base > 0 else None
    return Retention(
        start_mrr=base,
        retained_mrr=retained,
        nrr=retained / base if base > 0 else None,
        grr=grr,
        logo_churn_rate=churned / len(cohort_start) if len(cohort_start) else None,
        revenue_churn_rate=1.0 - grr if grr is not None else None,
        customers_start=len(cohort_start),
        customers_end=len(paying_end),
        new_customers=len(joined) - reactivated,
        reactivated_customers=reactivated,
        churned_customers=churned,
    )


def arpa(movements: pd.DataFrame | Ledger, month: Month) -> float | None:
    """Average MRR per paying account at the end of ``month``; None when no account pays."""
    mrr = mrr_by_client(movements, month)
    return float(mrr.mean()) if len(mrr) else None


@dataclass(frozen=True)
class ChurnEstimate:
    """Monthly logo churn pooled over several months, for figures that need a stable churn rate (CLV).

    ``rate`` = ``churned`` ÷ ``exposure``: the accounts that went from paying at the end
    of one month to paying nothing at the end of the next, over every month of the
    window, divided by the accounts paying at the start of each of those months (one
    account counts once per month it could have left). ``months`` is how many months of
    the window the data covers (fewer than asked when the ledger is younger). ``rate``
    is None when no account was paying.
    """

    rate: float | None
    churned: int
    exposure: int
    months: int


def trailing_churn(movements: pd.DataFrame | Ledger, through: Month, months: int = 12) -> ChurnEstimate:
    """Pooled monthly logo churn over the ``months`` months ending with ``through`` (see :class:`ChurnEstimate`).

    One period's churn of one or two accounts swings a rate by several points; pooling
    a year of months weighs each month by the accounts it had and smooths that out.
    Months before the ledger's first month have no starting accounts and are not counted.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months!r}")
    ledger = _ledger(movements)
    last = _month(through)
    snapshots = pd.date_range(last - pd.DateOffset(months=months), last, freq="MS")
    ledger = ledger[ledger["month"] <= last]
    if ledger.empty:
        return ChurnEstimate(None, 0, 0, 0)
    by_month = ledger.groupby(["client_id", "month"])["amount"].sum().unstack(fill_value=0.0)
    every = pd.date_range(min(by_month.columns.min(), snapshots[0]), last, freq="MS")
    mrr = by_month.reindex(columns=every, fill_value=0.0).cumsum(axis=1)[snapshots]
    paying = mrr >= ZERO_MRR
    start, end = paying.iloc[:, :-1].to_numpy(), paying.iloc[:, 1:].to_numpy()
    exposure, churned = int(start.sum()), int((start & ~end).sum())
    covered = int((snapshots[:-1] >= ledger["month"].min()).sum())
    return ChurnEstimate(churned / exposure if exposure else None, churned, exposure, covered)


def clv(arpa: float | None, gross_margin: float | None, monthly_logo_churn: float | None) -> float | None:
    """Customer lifetime value: ``arpa × gross_margin ÷ monthly_logo_churn``.

    The expected lifetime of an account is ``1 / monthly churn`` months, so this is the
    gross profit an average account brings over it. Pass a stable churn rate
    (:func:`trailing_churn`), not one period's: one account more or less would swing it. None when any input is missing,
    churn is zero (an infinite lifetime is not a number a report should print) or the margin is not positive (a
    "lifetime value" of −$5,197 is a loss, and its change read "▲ +5.1%" as it shrank).
    """
    values = [finite_or_none(v) for v in (arpa, gross_margin, monthly_logo_churn)]
    if None in values or values[2] <= 0 or values[1] <= 0:
        return None
    return values[0] * values[1] / values[2]


def monthly_rate(period_rate: float, n_months: int) -> float:
    """Convert a rate over ``n_months`` to the constant monthly rate that compounds to it: ``1 − (1 − r)^(1/n)``.

    A quarter's 9 % logo churn is ~3.1 % a month, not 3 %: those still paying each month
    face the monthly rate again.
    """
    if not 0.0 <= period_rate <= 1.0:
        raise ValueError(f"period_rate must be a fraction between 0 and 1, got {period_rate!r}")
    if n_months < 1:
        raise ValueError(f"n_months must be at least 1, got {n_months!r}")
    return 1.0 - (1.0 - period_rate) ** (1.0 / n_months)
