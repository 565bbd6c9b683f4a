"""Project delivery KPIs against hand-computed values."""

from datetime import date

import pandas as pd
import pytest

from quire.metrics import project_delivery, worst_overruns
from quire.periods import parse_period

OCTOBER = parse_period("2026-10")

PROJECTS = pd.DataFrame([
    # id client name         due                delivered          est  actual rounds revenue cost
    (1, 10, "Website", date(2026, 10, 15), date(2026, 10, 10), 100.0, 120.0, 2, 10_000.0, 6_000.0),  # on time, +20 %
    (2, 11, "Campaign", date(2026, 10, 5), date(2026, 10, 20), 50.0, 40.0, 1, 5_000.0, 4_000.0),     # late, −20 %
    (3, 10, "Rebrand", date(2026, 10, 31), date(2026, 10, 31), 80.0, 100.0, 3, 8_000.0, 7_000.0),    # due day = on time, +25 %
    (4, 12, "Next month", date(2026, 11, 1), date(2026, 11, 1), 10.0, 50.0, 9, 1_000.0, 100.0),      # after the period
    (5, 12, "In progress", date(2026, 10, 1), None, 10.0, None, 0, 1_000.0, 100.0),                  # not delivered
    (6, 11, "Last month", date(2026, 9, 30), date(2026, 9, 30), 10.0, 50.0, 9, 1_000.0, 100.0),      # before the period
], columns=["project_id", "client_id", "name", "due_on", "delivered_on", "estimated_hours", "actual_hours",
            "revision_rounds", "revenue", "cost"])


def test_project_delivery_in_a_month():
    d = project_delivery(PROJECTS, OCTOBER)
    assert d.delivered == 3  # projects 1, 2, 3
    assert d.on_time_rate == pytest.approx(2 / 3)  # 1 and 3 (delivered on its due day)
    assert d.avg_hours_overrun == pytest.approx((0.20 - 0.20 + 0.25) / 3)  # 0.0833
    assert d.avg_revision_rounds == pytest.approx((2 + 1 + 3) / 3)
    assert (d.revenue, d.cost) == (23_000, 17_000)
    assert d.gross_margin == pytest.approx(6_000 / 23_000)  # 0.2609, pooled, not a mean of margins


def test_project_delivery_over_a_quarter_includes_september():
    d = project_delivery(PROJECTS, parse_period("2026-Q3"))
    assert d.delivered == 1 and d.on_time_rate == 1.0 and d.avg_hours_overrun == pytest.approx(4.0)  # (50 − 10) / 10


def test_no_delivery_gives_none_not_zero_division():
    d = project_delivery(PROJECTS, parse_period("2025-01"))
    assert d.delivered == 0 and d.revenue == 0 and d.cost == 0
    assert (d.on_time_rate, d.avg_hours_overrun, d.avg_revision_rounds, d.gross_margin) == (None, None, None, None)


def test_worst_overruns_lists_only_projects_over_estimate_largest_first():
    worst = worst_overruns(PROJECTS, OCTOBER, limit=5)
    assert worst["project_id"].tolist() == [3, 1]  # 25 % then 20 %; project 2 came in under estimate
    assert worst["overrun"].tolist() == pytest.approx([0.25, 0.20])
    assert worst["on_time"].tolist() == [True, True]
    assert list(worst.columns) == ["project_id", "client_id", "name", "estimated_hours", "actual_hours", "overrun", "on_time"]
    assert worst_overruns(PROJECTS, OCTOBER, limit=1)["project_id"].tolist() == [3]


def test_accepts_timestamps_and_does_not_modify_input():
    stamped = PROJECTS.assign(due_on=pd.to_datetime(PROJECTS["due_on"]), delivered_on=pd.to_datetime(PROJECTS["delivered_on"]))
    before = stamped.copy()
    assert project_delivery(stamped, OCTOBER) == project_delivery(PROJECTS, OCTOBER)
    pd.testing.assert_frame_equal(stamped, before)


def test_projects_without_an_estimate_or_actual_hours_are_counted_as_left_out_of_the_overrun():
    # A project estimated at 0 hours (or delivered without its hours) was dropped from the mean without a word.
    unestimated = PROJECTS.assign(
        estimated_hours=[0.0, 50.0, 80.0, 10.0, 10.0, 10.0],
        actual_hours=[120.0, float("nan"), 100.0, 50.0, None, 50.0])
    d = project_delivery(unestimated, OCTOBER)
    assert d.delivered == 3 and d.overrun_basis == 1  # only project 3 has both
    assert d.avg_hours_overrun == pytest.approx(0.25)
    assert project_delivery(PROJECTS, OCTOBER).overrun_basis == 3
    assert project_delivery(PROJECTS, parse_period("2025-01")).overrun_basis == 0
