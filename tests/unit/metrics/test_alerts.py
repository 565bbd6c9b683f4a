"""Anomaly detection (robust z-score) and threshold alerts."""

import pandas as pd
import pytest

from quire.metrics import Alert, detect_anomalies, merge_alerts, robust_z, threshold_alerts, threshold_places

PERIODS = [f"2026-{m:02d}" for m in range(1, 11)]
STEADY = [100.0, 102.0, 98.0, 101.0, 99.0, 103.0, 97.0, 100.0, 101.0]  # median 100, MAD 1 → scale 1.4826


def history(values, kpi="MRR", direction="up_is_good", periods=PERIODS, **extra):
    return pd.DataFrame({"kpi": kpi, "period": periods[: len(values)], "value": values, "direction": direction, **extra})


def test_robust_z_reference_value():
    # median 4; |deviations| 3 2 1 0 1 2 3 → MAD 2 → scale 2.9652; (10 − 4) / 2.9652 = 2.0235
    assert robust_z(10.0, [1, 2, 3, 4, 5, 6, 7]) == pytest.approx(2.0235, abs=1e-4)


def test_robust_z_when_most_values_are_equal():
    # MAD is 0 (5 of 7 equal); mean absolute deviation (0+0+0+0+0+2+2)/7 × 1.2533 = 0.7162 → (12 − 10) / 0.7162
    assert robust_z(12.0, [10, 10, 10, 10, 10, 12, 8]) == pytest.approx(2.7926, abs=1e-4)
    assert robust_z(10.0, [10.0] * 7) == 0.0
    assert robust_z(11.0, [10.0] * 7) == float("inf")


def test_steady_series_raises_nothing():
    assert detect_anomalies(history([*STEADY, 102.5])) == []  # z = 2.5 / 1.4826 = 1.7


def test_planted_spike_is_flagged_by_direction():
    spike = [*STEADY, 130.0]  # z = 30 / 1.4826 = 20
    [good] = detect_anomalies(history(spike))
    assert good == Alert("MRR", "info", good.message)
    assert "MRR is 130 in 2026-10, far above its usual level (median 100 over the previous 9 periods)" in good.message
    [bad] = detect_anomalies(history(spike, kpi="Logo churn", direction="down_is_good"))
    assert bad.severity == "critical" and "unusually good" not in bad.message


def test_moderate_bad_move_is_a_warning():
    # z = (95 − 100) / 1.4826 = −3.37: beyond 2.5, within 2 × 2.5.
    [alert] = detect_anomalies(history([*STEADY, 95.0]))
    assert alert.severity == "warning" and "below its usual level" in alert.message
    assert detect_anomalies(history([*STEADY, 95.0]), z=3.5) == []


def test_units_format_the_message():
    values = [0.95, 0.96, 0.94, 0.95, 0.97, 0.95, 0.93, 0.80]
    [alert] = detect_anomalies(history(values, kpi="GRR", unit="percent"))
    assert "GRR is 80.0% in 2026-08" in alert.message and "median 95.0%" in alert.message


def test_needs_six_trailing_values_and_the_latest_period():
    assert detect_anomalies(history([100, 101, 99, 100, 100, 500])) == []  # only 5 trailing values
    stale = history([*STEADY[:8], 300.0], kpi="Stale")  # spike in 2026-09, nothing for 2026-10
    assert len(detect_anomalies(stale)) == 1  # alone, 2026-09 is its latest period
    current = history([*STEADY, 100.0], kpi="Current")
    assert detect_anomalies(pd.concat([stale, current])) == []  # an old spike is not news in October


def test_a_latest_period_without_figures_is_still_the_latest_period():
    # Every account churned in September: the rates of October and November have no figure. The report for November
    # alerted "MRR growth is −100.0% in September", as if September were the month it reports on.
    rows = history([*STEADY, 10.0, float("nan"), float("nan")], periods=[f"2026-{m:02d}" for m in range(1, 13)])
    assert detect_anomalies(rows) == []
    assert len(detect_anomalies(rows.iloc[:10])) == 1  # September's own report does alert


def test_when_most_months_are_equal_a_value_the_others_reached_is_not_unusual():
    # No churn in 8 of 11 months and 3.1–3.9% in three: 3.1% again read "above its usual level (median 0.0%)".
    trailing = [0.0] * 8 + [0.031, 0.035, 0.039]
    periods = [f"2026-{m:02d}" for m in range(1, 13)]
    assert detect_anomalies(history([*trailing, 0.031], unit="percent", periods=periods,
                                    direction="down_is_good")) == []
    [alert] = detect_anomalies(history([*trailing, 0.06], unit="percent", periods=periods, direction="down_is_good"))
    assert "above its usual level" in alert.message


def test_order_of_rows_does_not_matter_and_missing_values_are_skipped():
    shuffled = history([*STEADY, 130.0]).sample(frac=1, random_state=3)
    assert [a.severity for a in detect_anomalies(shuffled)] == ["info"]
    with_gap = history([*STEADY, 130.0]).astype({"value": float})
    with_gap.loc[2, "value"] = float("nan")
    assert len(detect_anomalies(with_gap)) == 1
    assert detect_anomalies(history([])) == []


@pytest.mark.parametrize("kpis,expected", [
    ({"nrr": 0.95}, [("nrr", "warning", "Net revenue retention is 95.0%, below the 100.0% threshold")]),
    ({"nrr": 0.85}, [("nrr", "critical", "Net revenue retention is 85.0%")]),
    ({"grr": 0.92, "nrr": 1.04, "on_time_rate": 0.80, "nps": 20.0}, []),  # at a threshold is not past it
    ({"logo_churn": 0.031}, [("logo_churn", "warning", "Monthly logo churn is 3.1%, above the 3.0% threshold")]),
    # A critical alert names the line it passed, not the warning's: "above the 3.0% threshold" did not say why.
    ({"logo_churn": 0.06}, [("logo_churn", "critical", "Monthly logo churn is 6.0%, above the 5.0% critical threshold")]),
    ({"on_time_rate": 0.7}, [("on_time_rate", "warning", "On-time delivery is 70.0%, below the 80.0% threshold")]),
    ({"nps": 12.0}, [("nps", "warning", "NPS is +12 pts, below the +20 pts threshold")]),
    ({"nps": -5.0, "grr": 0.7}, [("grr", "critical", "Gross revenue retention is 70.0%, below the 80.0% critical threshold"),
                                 ("nps", "critical", "NPS is −5 pts, below the 0 pts critical threshold")]),
    ({"nrr": None, "nps": float("nan"), "mrr": 1.0}, []),
])
def test_threshold_alerts(kpis, expected):
    alerts = threshold_alerts(kpis)
    assert [(a.kpi, a.severity) for a in alerts] == [(k, s) for k, s, _ in expected]
    for alert, (_, _, text) in zip(alerts, expected, strict=True):
        assert text in alert.message


@pytest.mark.parametrize(("months", "grr", "expected"), [
    (1, 0.958, ("critical", "Gross revenue retention is 95.8%, below the 98.2% critical threshold for a month (80.0% over "
                            "a year)")),
    (1, 0.985, ("warning", "Gross revenue retention is 98.5%, below the 99.1% threshold for a month (90.0% over a year)")),
    (1, 0.992, None),  # 90.8 % over a year
    (3, 0.96, ("warning", "below the 97.4% threshold for a quarter (90.0% over a year)")),
    (12, 0.85, ("warning", "Gross revenue retention is 85.0%, below the 90.0% threshold: too much")),
])
def test_retention_thresholds_are_yearly_and_compound_to_the_period(months, grr, expected):
    # A month that keeps 95.8% of its revenue keeps about 60% over a year: a monthly GRR never reached 90%.
    alerts = threshold_alerts({"grr": grr, "nrr": 1.01}, months)
    assert [(a.severity, a.message) for a in alerts if expected and expected[1] in a.message] == \
        ([(expected[0], alerts[0].message)] if expected else [])
    assert len(alerts) == (1 if expected else 0)
    # NRR's 100% is the same for any period; its critical 90% a year is 99.1% a month.
    assert [a.severity for a in threshold_alerts({"nrr": 0.984}, 1)] == ["critical"]
    assert [a.severity for a in threshold_alerts({"nrr": 0.995}, 1)] == ["warning"]


def test_an_empty_history_raises_nothing_with_or_without_columns():
    # The first period of the data has no earlier period: its history has no rows, and may have no columns.
    assert detect_anomalies(pd.DataFrame()) == []
    assert detect_anomalies(history([])) == []


def test_one_alert_per_kpi_the_most_severe_with_the_other_finding_added():
    churn = history([0.0, 0.0, 0.01, 0.0, 0.0, 0.0, 0.01, 0.0, 0.0, 0.067], kpi="logo_churn", direction="down_is_good",
                    unit="percent", label="Monthly logo churn")
    found = threshold_alerts({"logo_churn": 0.067, "nrr": 0.97}) + detect_anomalies(churn)
    assert [a.kpi for a in found] == ["nrr", "logo_churn", "logo_churn"]  # the same KPI twice before merging
    merged = merge_alerts(found)
    assert [(a.kpi, a.severity) for a in merged] == [("nrr", "warning"), ("logo_churn", "critical")]
    message = merged[1].message
    assert message.startswith("Monthly logo churn is 6.7%, above the 5.0% critical threshold")
    assert message.endswith("It is also far above its usual level (median 0.0% over the previous 9 periods).")
    assert message.count("6.7%") == 1


def test_merging_keeps_the_more_severe_alert_first():
    low = Alert("nps", "warning", "NPS is 15, below the 20 threshold.", "below the 20 threshold")
    high = Alert("nps", "critical", "NPS is 15 in May, far below its usual level.", "far below its usual level")
    [merged] = merge_alerts([low, high])
    assert merged.severity == "critical"
    assert merged.message == "NPS is 15 in May, far below its usual level. It is also below the 20 threshold."


def test_a_value_just_past_its_threshold_never_reads_as_the_threshold():
    # "Net revenue retention is 100.0%, below the 100.0% threshold": 99.98 % rounded to the threshold's figure.
    [nrr] = threshold_alerts({"nrr": 0.99981}, months=1)
    assert nrr.message.startswith("Net revenue retention is 99.98%, below the 100.0% threshold")
    [churn] = threshold_alerts({"logo_churn": 0.03004})
    assert churn.message.startswith("Monthly logo churn is 3.004%, above the 3.0% threshold")
    [far] = threshold_alerts({"nrr": 0.95}, months=1)
    assert far.message.startswith("Net revenue retention is 95.0%, below")


def test_the_decimals_a_card_needs_are_those_of_its_alert():
    places = threshold_places({"nrr": 0.99981, "grr": 0.95, "logo_churn": 0.03004, "nps": 30.0}, months=12)
    assert places == {"nrr": 2, "logo_churn": 3}  # grr 95 % and NPS +30 are past no threshold
    assert threshold_places({"nrr": 0.95}) == {}  # 95.0% reads apart from 100.0% with the usual decimal


def test_a_change_from_a_flat_history_counts_only_when_the_report_can_show_it():
    # GRR exactly 100 % for eleven months, then 99.98 %: the MAD is 0, the z infinite, and the alert was critical
    # while reading "100.0%, far below its usual level (median 100.0%)".
    def grr(latest: float) -> pd.DataFrame:
        return pd.DataFrame({"kpi": "grr", "period": [f"2026-{m:02d}" for m in range(1, 13)],
                             "value": [1.0] * 11 + [latest], "direction": "up_is_good", "unit": "percent"})

    assert detect_anomalies(grr(0.9998)) == []
    assert detect_anomalies(grr(0.998)) == []  # 0.2 pts below a flat 100%: within 2.5 steps of a tenth of a point
    [warning] = detect_anomalies(grr(0.997))
    assert warning.severity == "warning" and "99.7%" in warning.message and "median 100.0%" in warning.message
    [critical] = detect_anomalies(grr(0.99))
    assert critical.severity == "critical"
    assert robust_z(0.9998, [1.0] * 11, floor=0.001) == pytest.approx(-0.2)

