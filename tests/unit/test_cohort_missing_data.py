"""A month (or week) without any event between months with plenty is missing data: the cohort report shows its
cells as unknown (—), not as a real 0 %, and ``warehouse check`` names it; a quiet small product is not flagged."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from quire.charts.cohort import cell_labels
from quire.contract.check import check_warehouse
from quire.display import Callout
from quire.metrics.cohorts import compare_recent
from quire.reports import cohort
from quire.warehouse import coverage
from quire.warehouse.engine import connection
from support import warehouse_copy

JUNE = date(2026, 6, 1)


def _copy(tiny_warehouse, tmp_path_factory, name: str, *statements: str) -> str:
    path = tmp_path_factory.mktemp(name) / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        for sql in statements:
            con.execute(sql)
    return f"duckdb:///{path}"


@pytest.fixture(scope="module")
def june_missing(tiny_warehouse, tmp_path_factory) -> str:
    """The tiny warehouse with every event of June 2026 removed (an export that skipped a month)."""
    return _copy(tiny_warehouse, tmp_path_factory, "june-missing",
                 "DELETE FROM events WHERE occurred_at >= TIMESTAMP '2026-06-01' AND occurred_at < TIMESTAMP '2026-07-01'")


def test_a_month_without_any_event_is_unknown_not_a_real_zero(tiny_warehouse, june_missing):
    # Before: June's cells read "0%" ("a real zero") and the newest cohorts' month-1 retention fell by ~26 pts.
    full, gap = cohort.build(url=tiny_warehouse), cohort.build(url=june_missing)
    assert gap.data.missing == (JUNE,) and full.data.missing == ()
    m = gap.active
    june = pd.Timestamp(JUNE)
    # Each cohort's cell that falls in June: the June cohort at age 0, May at age 1, … November 2025 at age 7.
    cells = [(c, (june.year - c.year) * 12 + june.month - c.month) for c in m.rates.index if c <= june]
    assert all(m.missing.loc[c, a] and np.isnan(m.rates.loc[c, a]) for c, a in cells)
    assert int(m.missing.to_numpy().sum()) == len(cells)
    assert not any(cell_labels(m.rates).loc[c, a] == "0%" for c, a in cells)
    # Every other cell is the complete data's.
    expected = full.active.rates.mask(m.missing)
    pd.testing.assert_frame_equal(m.rates, expected)
    # The headline averages leave June out: the newest cohorts' month-1 retention is the complete data's without it.
    kpi = {k.key: k for k in gap.kpis()}["user_retention_age1"]
    row = compare_recent(gap.averaged(expected), at_ages=[1]).loc[1]
    assert kpi.value == pytest.approx(row["recent"]) and kpi.previous == pytest.approx(row["earlier"])
    assert abs(kpi.value - {k.key: k for k in full.kpis()}["user_retention_age1"].value) < 0.05
    # Revenue: the June cohort has no known base; LTV and revenue to date are unknown from June on.
    assert np.isnan(gap.revenue_matrix.base[june]) and not np.isnan(full.revenue_matrix.base[june])
    assert gap.ltv_frame.loc[pd.Timestamp("2026-05-01"), 1:].isna().all()
    assert gap.ltv_frame.loc[pd.Timestamp("2026-05-01"), 0] == full.ltv_frame.loc[pd.Timestamp("2026-05-01"), 0]
    lived = gap.revenue_to_date.index <= june
    assert gap.revenue_to_date[lived].isna().all()
    pd.testing.assert_series_equal(gap.revenue_to_date[~lived], full.revenue_to_date[~lived])
    # Said on the page, with what to do.
    section = gap.retention()
    [note] = [c for c in section.children if isinstance(c, Callout) and c.title == "Missing data."]
    assert "no event at all in June 2026" in note.message and "Load the missing events" in note.message
    assert "No event is recorded in June 2026" in gap.headline().note
    assert "unknown" in section.children[1].caption and "(no event recorded in June 2026)" in gap._dash
    assert "June 2026" not in (full.headline().note or "") and not full.gap_note


def test_weekly_cohorts_leave_every_week_that_overlaps_the_missing_month_unknown(june_missing):
    report = cohort.build(period="2026-07", granularity="week", url=june_missing)
    # 1 June 2026 is a Monday; the week of 29 June runs into July, its June days missing.
    assert report.data.missing == tuple(date(2026, 6, d) for d in (1, 8, 15, 22, 29))
    assert report.active.missing.to_numpy().any() and "the weeks of" in report.gap_note


def test_warehouse_check_names_the_missing_month(tiny_warehouse, june_missing):
    with connection(june_missing) as conn:
        found = [f for f in check_warehouse(conn, ["cohort"]).reports["cohort"].findings if f.code == "missing_months"]
    assert [(f.severity, f.table, f.column, f.examples) for f in found] == [
        ("warning", "events", "occurred_at", ("2026-06",))]
    assert found[0].message.startswith("no event at all in 2026-06, between months that have plenty")
    assert "import again" in found[0].message
    with connection(tiny_warehouse) as conn:
        assert not [f for f in check_warehouse(conn, ["cohort"]).reports["cohort"].findings
                    if f.code == "missing_months"]


def test_a_quiet_small_product_has_no_missing_month(tiny_warehouse, tmp_path_factory):
    # Six users, and March without any event of theirs: with so few, an empty month is a quiet one, not a gap.
    url = _copy(tiny_warehouse, tmp_path_factory, "quiet",
                "DELETE FROM events WHERE user_id NOT IN (SELECT user_id FROM events GROUP BY user_id HAVING "
                "min(occurred_at) < TIMESTAMP '2026-02-01' AND max(occurred_at) >= TIMESTAMP '2026-05-01' "
                "ORDER BY user_id LIMIT 6)",
                "DELETE FROM events WHERE occurred_at >= TIMESTAMP '2026-03-01' AND occurred_at < TIMESTAMP '2026-04-01'")
    with connection(url) as conn:
        from quire.warehouse.cohort_queries import active_users_by_period
        active = active_users_by_period(conn, "month")
        first, last = min(active), max(active)
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        assert len(active) < months and date(2026, 3, 1) not in active  # empty months inside the span
        assert coverage.missing_periods(conn, "month") == [] and coverage.missing_periods(conn, "week") == []
    assert cohort.build(url=url).data.missing == ()


@pytest.mark.parametrize("active, expected", [
    # One empty month between two busy ones.
    ({date(2026, 1, 1): 40, date(2026, 3, 1): 50}, [date(2026, 2, 1)]),
    # Two in a row: one gap, both months.
    ({date(2026, 1, 1): 40, date(2026, 4, 1): 50}, [date(2026, 2, 1), date(2026, 3, 1)]),
    # Too few users on one side: a quiet month may be real.
    ({date(2026, 1, 1): 40, date(2026, 3, 1): coverage.GAP_USERS_AROUND - 1}, []),
    ({date(2026, 1, 1): coverage.GAP_USERS_AROUND, date(2026, 3, 1): coverage.GAP_USERS_AROUND}, [date(2026, 2, 1)]),
    # The data's first and last months have events by definition; nothing before or after them is a gap.
    ({date(2026, 1, 1): 40, date(2026, 2, 1): 50}, []),
    ({date(2026, 1, 1): 40}, []),
    ({}, []),
])
def test_which_empty_months_count_as_missing(active, expected):
    assert coverage.silent_periods(active, "month") == expected


def test_an_empty_week_between_busy_weeks_is_missing():
    assert coverage.silent_periods({date(2026, 6, 1): 12, date(2026, 6, 15): 12}, "week") == [date(2026, 6, 8)]
