"""Revenue metrics against hand-computed values, and the MRR bridge on random ledgers."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from quire.errors import WarehouseError
from quire.metrics import (ChurnEstimate, arpa, clv, ledger, monthly_rate, mrr_bridge, mrr_by_client, mrr_series, retention,
                           trailing_churn)
from quire.metrics.revenue import MrrBridge
from quire.periods import Period, add_months, parse_period

# Six clients, Nov 2025 – Jun 2026. MRR at the end of each month (hand-summed):
#            Nov Dec Jan Feb Mar | Apr May Jun
#   c1         .   . 100 150 150 | 150 120 120   new, expansion +50 (Feb), contraction −30 (May)
#   c2         .   . 200 200 200 |   0   0   0   new, churn −200 (Apr)
#   c3         .   .   .  80  80 |   0   0 100   new (Feb), churn −80 (Apr), reactivation +100 (Jun)
#   c4         .   .   .   .   . |   .  40  40   new (May)
#   c5        60  60   0   0   0 |   0  70  70   new (Nov), churn (Jan), reactivation +70 (May)
#   c6         .   .  50  50  50 |  50  50  75   new (Jan), expansion +25 (Jun)
#   total     60  60 350 480 480 | 200 280 405
LEDGER = pd.DataFrame([
    (1, "2026-01", "new", 100.0), (1, "2026-02", "expansion", 50.0), (1, "2026-05", "contraction", -30.0),
    (2, "2026-01", "new", 200.0), (2, "2026-04", "churn", -200.0),
    (3, "2026-02", "new", 80.0), (3, "2026-04", "churn", -80.0), (3, "2026-06", "reactivation", 100.0),
    (4, "2026-05", "new", 40.0),
    (5, "2025-11", "new", 60.0), (5, "2026-01", "churn", -60.0), (5, "2026-05", "reactivation", 70.0),
    (6, "2026-01", "new", 50.0), (6, "2026-06", "expansion", 25.0),
], columns=["client_id", "month", "movement", "amount"]).assign(month=lambda f: pd.to_datetime(f["month"]))

Q2 = parse_period("2026-Q2")


def test_mrr_by_client_lists_only_paying_clients():
    assert mrr_by_client(LEDGER, pd.Timestamp("2026-03-01")).to_dict() == {1: 150.0, 2: 200.0, 3: 80.0, 6: 50.0}
    # c5 churned in January: 60 − 60 = 0, so it is not a paying client.
    assert mrr_by_client(LEDGER, date(2026, 1, 1)).to_dict() == {1: 100.0, 2: 200.0, 6: 50.0}
    assert mrr_by_client(LEDGER, "2025-10").empty


def test_float_dust_is_not_a_paying_client():
    ledger = pd.DataFrame({"client_id": [7, 7, 7], "month": pd.to_datetime(["2026-01-01"] * 3),
                           "movement": ["new", "expansion", "churn"], "amount": [0.1, 0.2, -0.3]})
    assert 0.1 + 0.2 - 0.3 != 0  # the residue the function must ignore
    assert mrr_by_client(ledger, "2026-01").empty
    assert mrr_series(ledger, ["2026-01"]).iloc[0] == 0.0


def test_mrr_series_totals_each_month():
    months = [date(2025, 10, 1), *(add_months(date(2025, 11, 1), i) for i in range(8)), date(2026, 9, 1)]
    series = mrr_series(LEDGER, months)
    assert series.tolist() == [0, 60, 60, 350, 480, 480, 200, 280, 405, 405]
    assert series.index[0] == pd.Timestamp("2025-10-01") and series.index.name == "month"


def test_bridge_of_a_quarter():
    b = mrr_bridge(LEDGER, Q2)
    # start = end of March = 480; new c4 40; expansion c6 25; reactivation c3 100 + c5 70 = 170;
    # contraction c1 30; churn c2 200 + c3 80 = 280; end = 480 + 40 + 25 + 170 − 30 − 280 = 405.
    assert (b.start_mrr, b.new, b.expansion, b.reactivation, b.contraction, b.churn, b.end_mrr) == (
        480, 40, 25, 170, 30, 280, 405)
    assert b.closes


def test_bridge_of_a_month_without_some_movements():
    b = mrr_bridge(LEDGER, parse_period("2026-05"))
    # April end 200; May: new 40 (c4), reactivation 70 (c5), contraction 30 (c1) → 280.
    assert (b.start_mrr, b.new, b.expansion, b.reactivation, b.contraction, b.churn, b.end_mrr) == (200, 40, 0, 70, 30, 0, 280)
    frame = b.as_frame()
    assert frame["step"].tolist() == ["Start MRR", "New", "Expansion", "Reactivation", "Contraction", "Churn", "End MRR"]
    assert frame["amount"].tolist() == [200, 40, 0, 70, -30, 0, 280]
    assert not any(np.signbit(frame["amount"]) & (frame["amount"] == 0))  # no "−0" in the table


def test_bridge_closure_check_can_fail():
    assert not MrrBridge(100.0, 10.0, 0.0, 0.0, 0.0, 0.0, end_mrr=120.0).closes
    assert MrrBridge(100.0, 10.0, 5.0, 2.0, 3.0, 1.0, end_mrr=100 + 10 + 5 + 1 - 2 - 3).closes


def test_retention_of_the_starting_cohort():
    r = retention(LEDGER, Q2)
    # Cohort = paying at end of March: c1 150, c2 200, c3 80, c6 50 → 480 (c5 was at 0).
    # At end of June: c1 120, c2 0, c3 100 (churned in April, back in June: counts at its end MRR), c6 75 → 295.
    assert r.start_mrr == 480 and r.retained_mrr == 295
    assert r.nrr == pytest.approx(295 / 480)  # 0.6146
    # GRR caps each at its start: 120 + 0 + min(100, 80) + min(75, 50) = 250.
    assert r.grr == pytest.approx(250 / 480)  # 0.5208
    assert r.revenue_churn_rate == pytest.approx(230 / 480)
    assert r.logo_churn_rate == pytest.approx(1 / 4)  # only c2 ends at zero; c3 came back
    # End: c1 c3 c4 c5 c6 = 5; c4 is new (no history), c5 reactivated (paid in 2025).
    assert (r.customers_start, r.customers_end, r.new_customers, r.reactivated_customers, r.churned_customers) == (4, 5, 1, 1, 1)


def test_retention_excludes_new_and_reactivated_accounts_from_nrr():
    without_newcomers = LEDGER[~LEDGER["client_id"].isin([4, 5])]
    assert retention(without_newcomers, Q2).nrr == retention(LEDGER, Q2).nrr


def test_retention_without_a_starting_cohort():
    r = retention(LEDGER, parse_period("2025-10"))
    assert (r.nrr, r.grr, r.logo_churn_rate, r.revenue_churn_rate) == (None, None, None, None)
    assert r.customers_start == 0 and r.customers_end == 0


def test_arpa():
    assert arpa(LEDGER, "2026-06") == pytest.approx(405 / 5)  # 81
    assert arpa(LEDGER, "2026-03") == pytest.approx(480 / 4)  # 120
    assert arpa(LEDGER, "2025-10") is None


def test_clv():
    assert clv(81.0, 0.6, 0.05) == pytest.approx(972.0)  # 81 × 0.6 / 0.05
    assert clv(81.0, 0.6, 0.0) is None
    assert clv(None, 0.6, 0.05) is None
    assert clv(81.0, float("nan"), 0.05) is None
    assert clv(81.0, -0.3, 0.05) is None and clv(81.0, 0.0, 0.05) is None  # a loss is no lifetime value


def test_monthly_rate():
    # 1 − 0.75^(1/3) = 1 − 0.908560 = 0.091440
    assert monthly_rate(0.25, 3) == pytest.approx(0.091440, abs=1e-6)
    assert monthly_rate(0.03, 1) == pytest.approx(0.03)
    assert 1 - (1 - monthly_rate(0.4, 12)) ** 12 == pytest.approx(0.4)
    with pytest.raises(ValueError):
        monthly_rate(1.5, 3)
    with pytest.raises(ValueError):
        monthly_rate(0.1, 0)


# LEDGER with a row of a kind no bridge step takes.
UNKNOWN_KIND = pd.concat([LEDGER, pd.DataFrame({"client_id": [9], "month": [pd.Timestamp("2026-04-01")],
                                                "movement": ["upgrade"], "amount": [10.0]})])


def test_unknown_movement_is_rejected():
    with pytest.raises(WarehouseError, match="upgrade"):
        mrr_bridge(UNKNOWN_KIND, Q2)


def test_functions_do_not_modify_their_input():
    ledger = LEDGER.assign(month=LEDGER["month"].dt.date)  # dates as the warehouse may return them
    before = ledger.copy()
    mrr_bridge(ledger, Q2), retention(ledger, Q2), mrr_series(ledger, ["2026-06"]), mrr_by_client(ledger, "2026-06")
    pd.testing.assert_frame_equal(ledger, before)
    assert mrr_bridge(ledger, Q2) == mrr_bridge(LEDGER, Q2)


def test_categorical_movements_as_the_generator_produces_them():
    categorical = LEDGER.astype({"movement": pd.CategoricalDtype(["new", "expansion", "contraction", "churn", "reactivation"])})
    assert mrr_bridge(categorical, Q2) == mrr_bridge(LEDGER, Q2)
    assert retention(categorical, Q2) == retention(LEDGER, Q2)


# -- random ledgers -------------------------------------------------------------------------

def random_ledger(seed: int, clients: int = 60, months: int = 30) -> pd.DataFrame:
    """A valid ledger: each client moves through new → expansion/contraction → churn → reactivation."""
    rng = np.random.default_rng(seed)
    rows = []
    for client in range(clients):
        mrr, ever = 0.0, False
        for m in range(months):
            month = add_months(date(2024, 1, 1), m)
            roll = rng.random()
            if mrr == 0 and roll < 0.15:
                mrr = round(float(rng.uniform(50, 2000)), 2)
                rows.append((client, month, "reactivation" if ever else "new", mrr))
                ever = True
            elif mrr > 0 and roll < 0.06:
                rows.append((client, month, "churn", -mrr))
                mrr = 0.0
            elif mrr > 0 and roll < 0.25:
                change = round(float(rng.uniform(-0.5, 0.8)) * mrr, 2)
                if change:
                    rows.append((client, month, "expansion" if change > 0 else "contraction", change))
                    mrr = round(mrr + change, 2)
    return pd.DataFrame(rows, columns=["client_id", "month", "movement", "amount"])


def naive_retention(ledger: pd.DataFrame, period: Period) -> tuple[float, float, float]:
    """NRR, GRR and logo churn by a plain loop over clients: an independent reference."""
    start, end = {}, {}
    for row in ledger.itertuples():
        if row.month < period.start:
            start[row.client_id] = start.get(row.client_id, 0.0) + row.amount
        if row.month <= period.last_month:
            end[row.client_id] = end.get(row.client_id, 0.0) + row.amount
    cohort = [c for c, v in start.items() if v > 0.005]
    base = sum(start[c] for c in cohort)
    kept = sum(max(end[c], 0.0) for c in cohort)
    capped = sum(min(max(end[c], 0.0), start[c]) for c in cohort)
    lost = sum(1 for c in cohort if end[c] < 0.005)
    return kept / base, capped / base, lost / len(cohort)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_bridge_closes_and_retention_matches_reference_on_random_ledgers(seed):
    ledger = random_ledger(seed)
    for period in [Period(date(2024, 7, 1), "month"), Period(date(2025, 4, 1), "quarter"), Period(date(2025, 1, 1), "year"),
                   Period(date(2026, 6, 1), "month")]:
        b = mrr_bridge(ledger, period)
        assert b.closes, (seed, period, b)
        totals = mrr_series(ledger, [add_months(period.start, -1), period.last_month])
        assert b.start_mrr == pytest.approx(totals.iloc[0], abs=1e-6)
        assert b.end_mrr == pytest.approx(totals.iloc[1], abs=1e-6)
        assert mrr_by_client(ledger, period.last_month).sum() == pytest.approx(b.end_mrr, abs=1e-6)
        assert min(b.new, b.expansion, b.contraction, b.churn, b.reactivation) >= 0

        r = retention(ledger, period)
        if r.customers_start == 0:
            continue
        nrr, grr, logo = naive_retention(ledger, period)
        assert (r.nrr, r.grr, r.logo_churn_rate) == pytest.approx((nrr, grr, logo))
        assert 0 <= r.grr <= 1 and r.grr <= r.nrr
        assert r.customers_end == r.customers_start - r.churned_customers + r.new_customers + r.reactivated_customers


def test_trailing_churn_pools_the_months_by_hand():
    # Accounts paying at the end of the month before → still paying at the end of the month (see the table):
    # Dec 1→1, Jan 1→0 (c5), Feb 3, Mar 4, Apr 4→2 (c2, c3), May 2, Jun 4: 3 churned of 19 account-months.
    # Before December nobody paid at the start of a month, so only 7 of the 12 months count.
    assert trailing_churn(LEDGER, "2026-06") == ChurnEstimate(3 / 19, 3, 19, 7)
    assert trailing_churn(LEDGER, "2026-06", months=3) == ChurnEstimate(2 / 10, 2, 10, 3)  # Apr, May, Jun
    assert trailing_churn(LEDGER, "2026-03", months=2) == ChurnEstimate(0.0, 0, 7, 2)
    assert trailing_churn(LEDGER, "2025-10") == ChurnEstimate(None, 0, 0, 0)
    assert trailing_churn(LEDGER.iloc[0:0], "2026-06") == ChurnEstimate(None, 0, 0, 0)


def test_trailing_churn_equals_an_independent_sql_count(tiny_warehouse):
    """Pooled churn of the tiny warehouse's last twelve months, counted with SQL window sums instead of pandas."""
    import sqlalchemy as sa

    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    sql = sa.text("""
        with months as (select cast(unnest(generate_series(date '2025-10-01', date '2026-10-01', interval 1 month))
                                    as date) as m),
             accounts as (select distinct client_id from mrr_movements),
             snap as (select a.client_id, months.m,
                             (select coalesce(sum(amount), 0) from mrr_movements x
                              where x.client_id = a.client_id and x.month <= months.m) as mrr
                      from accounts a cross join months)
        select sum(case when b.mrr >= 0.005 and e.mrr < 0.005 then 1 else 0 end) as churned,
               sum(case when b.mrr >= 0.005 then 1 else 0 end) as exposure
        from snap e join snap b on b.client_id = e.client_id and b.m = e.m - interval 1 month""")
    with connection(tiny_warehouse) as conn:
        churned, exposure = conn.execute(sql).one()
        movements = queries.mrr_movements(conn, until=date(2026, 10, 1))
    estimate = trailing_churn(movements, "2026-10")
    assert (estimate.churned, estimate.exposure, estimate.months) == (churned, exposure, 12)
    assert estimate.rate == pytest.approx(churned / exposure)
    assert exposure > 50  # the check has substance: a year of accounts


def test_the_bridge_leaves_no_float_residue_of_cents():
    # 10.10 + 20.20 − 30.30 is 3.6e-15 in floats: a "paying" start of April that turned the month's growth into −2.8e18 %.
    ledger = pd.DataFrame({"client_id": [1, 1, 1, 2], "month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]),
                           "movement": ["new", "expansion", "churn", "new"], "amount": [10.10, 20.20, -30.30, 100.0]})
    assert mrr_bridge(ledger, parse_period("2025-02")).end_mrr == 30.3
    april = mrr_bridge(ledger, parse_period("2025-04"))
    assert (april.start_mrr, april.new, april.end_mrr) == (0.0, 100.0, 100.0) and april.closes
    assert mrr_bridge(ledger, parse_period("2025-03")).churn == 30.3


def test_a_subscription_whose_amounts_add_to_a_cent_by_their_rounding_ends_at_zero():
    # An annual plan's 2990/12 a month, upgraded by 2000/12 and churned, each amount stored in cents:
    # 249.17 + 166.67 - 415.83 = 0.01, and the churned account counted as paying ever after.
    ledger = pd.DataFrame({"client_id": [1, 1, 1, 2, 1], "movement": ["new", "expansion", "churn", "new", "reactivation"],
                           "month": pd.to_datetime(["2025-01-01", "2025-06-01", "2025-09-01", "2025-01-01", "2025-11-01"]),
                           "amount": [249.17, 166.67, -415.83, 100.0, 10.0]})
    september = parse_period("2025-09")
    assert mrr_by_client(ledger, "2025-09").to_dict() == {2: 100.0}
    assert mrr_by_client(ledger, "2025-10").to_dict() == {2: 100.0}
    assert retention(ledger, september).logo_churn_rate == 0.5  # one of the two accounts churned
    bridge = mrr_bridge(ledger, september)
    assert bridge.closes and bridge.end_mrr == 100.0 and bridge.churn == pytest.approx(415.84)
    assert arpa(ledger, "2025-09") == 100.0
    assert trailing_churn(ledger, "2025-09", months=1).churned == 1
    # The cent is the client's, not lost: its next row gets it back, so every total still equals the ledger's sum.
    assert mrr_by_client(ledger, "2025-11").to_dict() == pytest.approx({1: 10.01, 2: 100.0})
    assert mrr_series(ledger, ["2025-11"]).iloc[0] == pytest.approx(ledger["amount"].sum())
    # More than half a cent per row from zero is MRR: two rows ending at 0.02 are a paying account.
    two = pd.DataFrame({"client_id": [3, 3], "movement": ["new", "contraction"], "amount": [50.0, -49.98],
                        "month": pd.to_datetime(["2025-01-01", "2025-02-01"])})
    assert mrr_by_client(two, "2025-02").to_dict() == pytest.approx({3: 0.02})


@pytest.mark.parametrize("seed", [0, 1])
def test_a_ledger_checked_once_gives_every_figure_the_movements_give(seed):
    # A churned annual plan whose stored cents leave 0.01 is planted: the normalisation the Ledger keeps is exercised.
    residue = pd.DataFrame({"client_id": [900, 900, 900, 900], "movement": ["new", "expansion", "churn", "reactivation"],
                            "month": [date(2024, 3, 1), date(2024, 8, 1), date(2025, 2, 1), date(2025, 6, 1)],
                            "amount": [249.17, 166.67, -415.83, 10.0]})
    movements = pd.concat([random_ledger(seed), residue], ignore_index=True)
    checked = ledger(movements)
    for period in [Period(date(2024, 1, 1), "month"), Period(date(2025, 1, 1), "quarter"), Period(date(2025, 2, 1), "month"),
                   Period(date(2026, 6, 1), "month"), Period(date(2025, 1, 1), "year")]:
        assert mrr_bridge(checked, period) == mrr_bridge(movements, period)
        assert retention(checked, period) == retention(movements, period)
        pd.testing.assert_series_equal(mrr_by_client(checked, period.last_month), mrr_by_client(movements, period.last_month))
        assert arpa(checked, period.last_month) == arpa(movements, period.last_month)
        assert trailing_churn(checked, period.last_month) == trailing_churn(movements, period.last_month)
    months = [add_months(date(2024, 1, 1), m) for m in range(30)]
    pd.testing.assert_series_equal(mrr_series(checked, months), mrr_series(movements, months))
    assert mrr_by_client(checked, "2025-02").get(900) is None  # the churned plan's cent is not a paying account


def test_a_ledger_rejects_unknown_movements_when_it_is_built():
    with pytest.raises(WarehouseError, match="upgrade"):
        ledger(UNKNOWN_KIND)


def test_a_movement_counts_by_what_it_does_to_mrr_not_by_its_label():
    # An imported ledger: client 1 "contracts" from $1,000 to $0 in August (it churned), client 2, gone since
    # 2025, comes back as "new" (a reactivation), client 3 "expands" by a negative amount (a contraction). The
    # bridge read "Contraction −$1,000, Churn $0, New $2,000" beside a logo churn of 1 in 3.
    mislabelled = pd.DataFrame([
        (1, "2025-01", "new", 1000.0), (1, "2026-08", "contraction", -1000.0),
        (2, "2025-01", "new", 500.0), (2, "2025-06", "churn", -500.0), (2, "2026-08", "new", 2000.0),
        (3, "2025-01", "new", 800.0), (3, "2026-08", "expansion", -300.0),
    ], columns=["client_id", "month", "movement", "amount"]).assign(month=lambda f: pd.to_datetime(f["month"]))
    august = parse_period("2026-08")
    b = mrr_bridge(mislabelled, august)
    assert (b.new, b.expansion, b.contraction, b.churn, b.reactivation) == (0.0, 0.0, 300.0, 1000.0, 2000.0)
    assert b.closes and b.start_mrr == 1800.0 and b.end_mrr == 2500.0
    assert retention(mislabelled, august).churned_customers == 1  # the bridge's churn and the logo churn agree
    # The labels as given stay beside the kinds counted, for the report to say which it corrected.
    frame = ledger(mislabelled).frame
    moved = frame[frame["movement"] != frame["labelled"]]
    assert sorted(zip(moved["client_id"], moved["labelled"], moved["movement"])) == [
        (1, "contraction", "churn"), (2, "new", "reactivation"), (3, "expansion", "contraction")]
    # A ledger labelled by effect is counted exactly as labelled.
    assert mrr_bridge(LEDGER, Q2) == mrr_bridge(LEDGER.assign(movement="new"), Q2)


def month_end_bridge(rows: pd.DataFrame, period: Period) -> dict[str, float]:
    """The bridge of ``period`` by a plain loop over clients' MRR at month ends: an independent reference.

    Each client's month counts by the change of its MRR from the end of the month before to the end of this one.
    """
    totals = {kind: 0.0 for kind in ("new", "expansion", "contraction", "churn", "reactivation")}
    for client, own in rows.groupby("client_id"):
        by_month = own.groupby(own["month"].map(lambda m: pd.Timestamp(m).to_period("M").to_timestamp()))["amount"].sum()
        mrr, ever = 0.0, False
        for month in pd.date_range(by_month.index.min(), pd.Timestamp(period.last_month), freq="MS"):
            before, mrr = mrr, round(mrr + by_month.get(month, 0.0), 6)
            if pd.Timestamp(period.start) <= month:
                change = mrr - before
                if before <= 0 < mrr:
                    totals["reactivation" if ever else "new"] += change
                elif before > 0 >= mrr:
                    totals["churn"] -= change
                elif change > 0:
                    totals["expansion"] += change
                elif change < 0:
                    totals["contraction"] -= change
            ever = ever or mrr > 0
    return totals


def test_several_movements_of_one_account_in_one_month_count_by_their_net_effect():
    # A plan switch booked as churn and new (never at $0 at a month's end), a churn on the 10th undone by a
    # comeback on the 25th, a trial that starts and ends within the month. Counted row by row in ledger order
    # they were churn and reactivation, differently when two rows' ids were swapped.
    rows = pd.DataFrame([
        (1, "2025-01", "new", 112.85), (1, "2026-11", "churn", -112.85), (1, "2026-11", "new", 150.0),
        (2, "2025-01", "new", 3731.05), (2, "2026-11", "churn", -3731.05), (2, "2026-11", "reactivation", 3731.05),
        (3, "2026-11", "new", 40.0), (3, "2026-11", "churn", -40.0),
        (4, "2025-01", "new", 500.0), (4, "2026-11", "churn", -500.0),
    ], columns=["client_id", "month", "movement", "amount"]).assign(month=lambda f: pd.to_datetime(f["month"]))
    november = parse_period("2026-11")
    b = mrr_bridge(rows, november)
    assert (b.new, b.expansion, b.contraction, b.churn, b.reactivation) == (0.0, 37.15, 0.0, 500.0, 0.0)
    assert b.closes
    assert mrr_bridge(rows.iloc[[0, 2, 1, 3, 5, 4, 7, 6, 8, 9]], november) == b  # the order of a month's rows is no matter
    assert retention(rows, november).churned_customers == 1  # as the bridge's churn says
    # A trial that began and ended within a month never paid at a month's end: its later signup is new, not a comeback.
    trial = pd.DataFrame([(5, "2026-06", "new", 40.0), (5, "2026-06", "churn", -40.0), (5, "2026-11", "new", 60.0)],
                         columns=["client_id", "month", "movement", "amount"]).assign(month=lambda f: pd.to_datetime(f["month"]))
    later = mrr_bridge(pd.concat([rows, trial]), november)
    kept = retention(pd.concat([rows, trial]), november)
    assert (later.new, later.reactivation) == (60.0, 0.0) and (kept.new_customers, kept.reactivated_customers) == (1, 0)
    frame = ledger(rows).frame
    assert sorted(zip(frame["client_id"], frame["labelled"], frame["movement"])) == [
        (1, "churn + new", "expansion"), (1, "new", "new"), (2, "churn + reactivation", "unchanged"), (2, "new", "new"),
        (3, "new + churn", "unchanged"), (4, "churn", "churn"), (4, "new", "new")]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_bridge_of_a_ledger_with_split_rows_is_the_month_end_bridge(seed):
    # Every movement booked as two rows of its month in random order, some as a churn of the whole MRR followed
    # by a new row of what is left: the bridge is the one an independent loop over month-end MRR gives.
    rng = np.random.default_rng(seed)
    rows = []
    mrr: dict[int, float] = {}
    for r in random_ledger(seed).itertuples():
        now = round(mrr.get(r.client_id, 0.0) + r.amount, 2)
        if mrr.get(r.client_id, 0.0) > 0 and now > 0 and rng.random() < 0.5:
            pair = [(r.client_id, r.month, "churn", -mrr[r.client_id]), (r.client_id, r.month, "new", now)]
        else:
            part = round(r.amount * float(rng.uniform(0.2, 0.8)), 2)
            pair = [(r.client_id, r.month, r.movement, part), (r.client_id, r.month, r.movement, round(r.amount - part, 2))]
        rows += pair[::-1] if rng.random() < 0.5 else pair
        mrr[r.client_id] = now
    split = pd.DataFrame(rows, columns=["client_id", "month", "movement", "amount"])
    for period in [Period(date(2024, 7, 1), "month"), Period(date(2025, 4, 1), "quarter"), Period(date(2025, 1, 1), "year"),
                   Period(date(2026, 6, 1), "month")]:
        b = mrr_bridge(split, period)
        expected = month_end_bridge(split, period)
        assert b.closes
        assert {k: getattr(b, k) for k in expected} == pytest.approx(expected, abs=1e-6), (seed, period)
        whole = mrr_bridge(random_ledger(seed), period)  # the same month-end MRR, one row a month
        assert {k: getattr(b, k) for k in expected} == pytest.approx({k: getattr(whole, k) for k in expected}, abs=1e-6)
