"""Money and percent axes: every tick label carries the precision its step needs (read back from the real SVG)."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from quire.brand import list_brands, load_brand
from quire.charts import MoneyFormatter, PercentStepFormatter, step_decimals
from quire.charts import cohort as cohort_charts
from quire.charts import executive as executive_charts
from support import brand_chart_style

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def house_style():
    """The brand's chart style, as every report applies it (text stays text in the SVG); undone after."""
    with brand_chart_style("quire"):
        yield


def tick_labels(chart, axis: str = "y") -> list[str]:
    """The tick label texts of the chart's first ``axis`` axis, as drawn in its SVG."""
    root = ET.fromstring(chart.image)
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id", "").startswith(f"matplotlib.axis_{1 if axis == 'x' else 2}"))
    ticks = [g for g in group.iter(f"{SVG}g") if re.fullmatch(f"{axis}tick_\\d+", g.get("id", ""))]
    return ["".join(t.itertext()).strip() for tick in ticks for t in tick.iter(f"{SVG}text")]


def colour_bar_labels(chart) -> list[str]:
    """The tick label texts of a heatmap's colour bar (its second axes), as drawn in its SVG."""
    root = ET.fromstring(chart.image)
    bar = [g for g in root.iter(f"{SVG}g") if g.get("id", "").startswith("axes_2")]
    return ["".join(t.itertext()).strip() for g in bar for tick in g.iter(f"{SVG}g")
            if re.fullmatch(r"ytick_\d+", tick.get("id", "")) for t in tick.iter(f"{SVG}text")]


def values(labels: list[str]) -> list[float]:
    """The numbers the labels say: '$2.50' → 2.5, '$82.5k' → 82500, '97.25%' → 0.9725, '−$1k' → -1000."""
    scale = {"k": 1e3, "M": 1e6, "B": 1e9, "%": 0.01}
    found = []
    for label in labels:
        number = re.fullmatch(r"(−?)\$?([\d,]+(?:\.\d+)?)([kMB%]?)", label)
        assert number, label
        found.append((-1 if number[1] else 1) * float(number[2].replace(",", "")) * scale.get(number[3], 1.0))
    return found


def assert_evenly_stepped(labels: list[str]) -> None:
    """Ticks are evenly spaced, so what the labels say must be too (rounded labels are not)."""
    said = values(labels)
    assert len(said) >= 3 and len(set(labels)) == len(labels), labels
    steps = np.diff(said)
    assert np.allclose(steps, steps[0], rtol=1e-9, atol=1e-12), labels


def test_ltv_axis_every_2_50_reads_2_50_not_2_5_8():
    ages = list(range(0, 11))
    ltv = pd.DataFrame([[min(20.0, 8 + 1.2 * a + 0.05 * c) for a in ages] for c in range(6)],
                       index=pd.date_range("2026-01-01", periods=6, freq="MS"), columns=ages)
    labels = tick_labels(cohort_charts.ltv_curves(ltv, "month", at_age=3))
    assert "$2.50" in labels and "$7.50" in labels
    assert_evenly_stepped(labels)


def test_retention_trend_with_a_narrow_range_keeps_its_decimals():
    history = pd.DataFrame({"period": [f"2026-{m:02d}" for m in range(1, 9)],
                            "nrr": [0.991, 0.992, 0.9935, 0.994, 0.9925, 0.995, 0.9945, 0.996],
                            "grr": [0.989, 0.99, 0.991, 0.9905, 0.99, 0.992, 0.9915, 0.993]})
    labels = tick_labels(executive_charts.rate_trend(history, {"nrr": "NRR", "grr": "GRR"}, ylabel="Retention"))
    assert all("." in label for label in labels)  # sub-point steps: 99.0%, 99.2%… never 99%, 99%
    assert_evenly_stepped(labels)


@pytest.mark.parametrize("keys, ticks", [
    ([f"2025-{m:02d}" for m in range(1, 13)], ["Jan 2025", "Apr 2025", "Jul 2025", "Oct 2025"]),
    (["2025-Q3", "2025-Q4", "2026-Q1"], ["Q3 2025", "Q4 2025", "Q1 2026"]),
])
def test_retention_trend_names_its_periods_as_the_mrr_chart_does(keys, ticks):
    # Its ticks were the keys, rotated: "2025-12" beside the MRR chart's "Dec 2025".
    history = pd.DataFrame({"period": keys, "nrr": np.linspace(0.98, 1.02, len(keys)), "grr": np.linspace(0.95, 0.97, len(keys))})
    chart = executive_charts.rate_trend(history, {"nrr": "NRR", "grr": "GRR"}, ylabel="Retention")
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart.image.decode())]
    assert [t for t in texts if t in set(ticks) | set(keys)] == ticks
    assert f"by period from {'January 2025' if len(keys) == 12 else 'Q3 2025'}" in chart.alt


@pytest.mark.parametrize("low,high", [(80_000, 99_000), (81_000, 83_900), (0, 1_150_000), (900, 1_900)])
def test_mrr_axis_labels_say_the_tick_values(low, high):
    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    series = pd.Series(np.linspace(low, high, 12), index=months)
    assert_evenly_stepped(tick_labels(executive_charts.mrr_trend(series)))


def test_heatmap_colour_bar_of_small_rates_keeps_its_decimals():
    rates = pd.DataFrame(np.linspace(0.0, 0.03, 4 * 25).reshape(4, 25),
                         index=pd.date_range("2026-01-01", periods=4, freq="MS"), columns=range(25))
    chart = cohort_charts.retention_heatmap(rates, pd.Series(100, index=rates.index), "week", metric="User retention",
                                            meaning="share active")
    assert_evenly_stepped(colour_bar_labels(chart))


def test_a_huge_revenue_retention_does_not_wash_out_the_heatmap():
    # One big buyer in a small base: 30 % of the cells at 8–17.5 times the base set the 98th percentile, so the
    # scale reached 1,750 % and every ordinary cell (60–140 %) was drawn near white.
    rates = pd.DataFrame(np.tile(np.r_[np.linspace(0.6, 1.4, 14), np.linspace(8, 17.5, 6)], (6, 1)),
                         index=pd.date_range("2026-01-05", periods=6, freq="W-MON"), columns=range(20))
    chart = cohort_charts.retention_heatmap(rates, pd.Series(40, index=rates.index), "week", metric="Revenue retention",
                                            meaning="revenue as a share of the base")
    assert max(values(colour_bar_labels(chart))) == pytest.approx(2.0)
    assert cohort_charts._colour_top(rates.clip(upper=0.4)) == pytest.approx(0.4)  # ordinary rates: unchanged


def triangle(n: int) -> pd.DataFrame:
    """``n`` weekly cohorts × ``n`` ages, each cohort observed up to the newest week (NaN beyond)."""
    ages = np.arange(n)
    rates = [[0.5 * 0.9 ** a if a < n - c else np.nan for a in ages] for c in range(n)]
    return pd.DataFrame(rates, index=pd.date_range("2026-01-05", periods=n, freq="W-MON"), columns=ages)


def printed_points(chart, text_points: float) -> float:
    """How big text set at ``text_points`` in the chart prints in the PDF: the 176 mm text column takes the figure's
    width, and a chart other than a tall one is then held to 100 mm of height (report.css)."""
    root = ET.fromstring(chart.image)
    width, height = (float(root.get(side).removesuffix("pt")) / 72 * 25.4 for side in ("width", "height"))
    scale = min(1.0, 176 / width)
    return text_points * scale * min(1.0, (190 if chart.tall else 100) / (height * scale))


@pytest.mark.parametrize("cohorts", [12, 18, 36])
def test_a_long_heatmap_prints_tall_and_its_labels_stay_readable(cohorts):
    # 36 weekly cohorts were held to the 100 mm of every other chart: their names printed at under 5 pt,
    # and the ages 10 to 35 ran together into one string of digits.
    chart = cohort_charts.retention_heatmap(triangle(cohorts), pd.Series(300, index=range(cohorts)), "week",
                                            metric="User retention", meaning="share active")
    assert chart.tall == (cohorts > 12) and ("q-chart-tall" in chart.html()) == chart.tall
    ages = tick_labels(chart, "x")
    assert ages == [str(a) for a in range(0, cohorts, 1 if cohorts <= 24 else 2)]
    sizes = {float(size) for size in re.findall(rb"font-size: ([\d.]+)px", chart.image)}  # 1 SVG unit = 1 pt
    assert printed_points(chart, min(sizes)) >= 5.5, sizes


def test_formatters_on_their_own():
    assert [step_decimals(s) for s in (5, 2.5, 0.25, 0.1, 1e-3)] == [0, 1, 2, 1, 3]
    assert MoneyFormatter().format_ticks([0, 2.5, 5, 7.5]) == ["$0", "$2.50", "$5.00", "$7.50"]
    assert MoneyFormatter().format_ticks([80_000, 82_500, 85_000]) == ["$80.0k", "$82.5k", "$85.0k"]
    assert MoneyFormatter().format_ticks([-2_000, 0, 2_000]) == ["−$2k", "$0", "$2k"]
    assert PercentStepFormatter().format_ticks([0.95, 0.975, 1.0]) == ["95.0%", "97.5%", "100.0%"]
    assert PercentStepFormatter().format_ticks([0, 0.05, 0.1]) == ["0%", "5%", "10%"]


@pytest.mark.parametrize("counts", [[2, 3, 0], [1, 0, 0], [40, 17, 5]])
def test_counted_axes_tick_at_whole_numbers_only(counts):
    """A handful of accounts or views must not tick at 0.5 of one."""
    from quire.charts import client as client_charts

    bands = pd.DataFrame({"band": ["healthy", "watch", "at_risk"], "clients": counts,
                          "share": np.array(counts) / max(sum(counts), 1)})
    breakdown = pd.DataFrame({"label": ["Search", "Email", "Social"], "views": counts,
                              "clicks": counts, "conversions": [0, 0, 0], "conversion_rate": [0.0, 0.0, 0.0]})
    for chart in (executive_charts.health_bands(bands), client_charts.breakdown_bars(breakdown, dimension="channel")):
        labels = tick_labels(chart, "x")
        assert len(labels) >= 2 and all(re.fullmatch(r"\d+", label) for label in labels), labels


@pytest.mark.parametrize("rates", [[0.0, 0.0, 0.0], [0.004, 0.0, 0.001], [0.31, 0.12, 0.05]])
def test_conversion_rate_axis_says_its_even_steps(rates):
    """A client with no or few conversions gets a 0-1% axis ticked every 0.25%: 0.25%, not 0.2% then 0.8%."""
    from quire.charts import client as client_charts

    breakdown = pd.DataFrame({"label": ["Search", "Email", "Social"], "views": [900, 400, 100], "clicks": [300, 50, 20],
                              "conversions": [0, 0, 0], "conversion_rate": rates})
    chart = client_charts.breakdown_bars(breakdown, dimension="channel")
    root = ET.fromstring(chart.image)
    right_axis = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "matplotlib.axis_3")  # the second panel's x
    ticks = [g for g in right_axis.iter(f"{SVG}g") if re.fullmatch(r"xtick_\d+", g.get("id", ""))]
    assert_evenly_stepped(["".join(t.itertext()).strip() for tick in ticks for t in tick.iter(f"{SVG}text")])


def test_standing_strip_axis_says_its_even_steps():
    from quire.charts import client as client_charts

    row = {"shown": "figures", "metric": "ctr", "p25_bound": "", "label_metric": "Click-through rate", "p25": 0.011, "p50": 0.013, "p75": 0.0155,
           "value": 0.0205, "you_text": "2.1%", "p25_text": "1.1%", "p50_text": "1.3%", "p75_text": "1.6%"}
    assert_evenly_stepped(tick_labels(client_charts.standing_ranges(pd.DataFrame([row])), "x"))


def test_daily_counts_tick_at_whole_numbers():
    """A small client's month: 0-3 clicks a day must not tick at 1.5 clicks."""
    from quire.charts import client as client_charts

    days = pd.DataFrame({"step": range(31), "date": pd.date_range("2025-10-01", periods=31), "days": 1,
                         "views": [(d * 37) % 250 for d in range(31)], "clicks": [d % 4 for d in range(31)],
                         "engagements": [d % 2 for d in range(31)]})
    chart = client_charts.engagement_over_time(days, None, current_label="October 2025", previous_label="",
                                               freq="day", period_kind="month")
    root = ET.fromstring(chart.image)
    for axis_id in ("matplotlib.axis_4", "matplotlib.axis_6"):  # the clicks and engagements panels' y axes
        group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == axis_id)
        labels = ["".join(t.itertext()).strip() for tick in group.iter(f"{SVG}g")
                  if re.fullmatch(r"ytick_\d+", tick.get("id", "")) for t in tick.iter(f"{SVG}text")]
        assert len(labels) >= 2 and all(re.fullmatch(r"\d+", label) for label in labels), (axis_id, labels)


@pytest.mark.parametrize("months,forecast", [(4, 0), (13, 6), (48, 6), (120, 0)])
def test_the_mrr_trend_ticks_month_starts_only(months, forecast):
    """A short history ticked mid-month ("15") in matplotlib's own choice; at most 8 month (or year) ticks."""
    history = pd.Series(np.linspace(450, 500, months), index=pd.date_range("2025-01-01", periods=months, freq="MS"))
    ahead = None
    if forecast:
        ahead = pd.DataFrame({"month": pd.date_range(history.index[-1] + pd.offsets.MonthBegin(), periods=forecast,
                                                     freq="MS"), "forecast": 500.0, "lower": 480.0, "upper": 520.0})
    labels = tick_labels(executive_charts.mrr_trend(history, ahead), "x")
    month_names = {pd.Timestamp(2025, m, 1).strftime("%b") for m in range(1, 13)}
    assert 2 <= len(labels) <= 9 and all(label in month_names or re.fullmatch(r"20\d\d", label) for label in labels), labels


@pytest.mark.parametrize("cohorts, said", [(1, "the newest cohort that has reached month 0"),
                                           (4, "the 3 newest cohorts that have reached month 0")])
def test_the_ltv_caption_counts_its_cohorts_in_words(cohorts, said):
    ltv = pd.DataFrame([[10.0 + c, 12.0 + c] for c in range(cohorts)],
                       index=pd.date_range("2026-01-01", periods=cohorts, freq="MS"), columns=[0, 1])
    assert said in cohort_charts.ltv_curves(ltv, "month", at_age=0).caption


@pytest.mark.parametrize("brand", list_brands())
def test_heatmap_labels_read_at_wcag_aa_on_every_cell_of_every_brands_scale(brand):
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.colors import to_hex

    from quire.brand import contrast_ratio

    # Every shade of the brand's scale, one cell each (seaborn's own rule left mid-light cells at 2.3:1).
    rates = pd.DataFrame(np.linspace(0, 1, 41).reshape(1, -1))
    cmap = cohort_charts._scale(load_brand(brand).palette[0])
    fig, ax = plt.subplots()
    try:
        sns.heatmap(rates, ax=ax, cmap=cmap, vmin=0, vmax=1, annot=True, fmt=".2f", cbar=False)
        cohort_charts._readable_labels(ax, rates, cmap, 1.0)
        for text in ax.texts:
            cell = to_hex(cmap(rates.iat[0, int(text.get_position()[0])]))
            assert contrast_ratio(to_hex(text.get_color()), cell) >= 4.5, (text.get_text(), cell, text.get_color())
    finally:
        plt.close(fig)


def test_the_waterfalls_labels_share_one_precision():
    # "$98k" beside "$98.4k" and "−$4k" beside "+$1.8k" on one chart.
    bridge = pd.DataFrame({"step": ["Start", "New", "Expansion", "Contraction", "Churn", "End"],
                           "amount": [98_000.0, 1_800.0, 2_600.0, -4_000.0, -950.0, 97_450.0]})
    chart = executive_charts.bridge_waterfall(bridge, "1 October 2026", "31 October 2026")
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart.image.decode())]
    labels = [t for t in texts if t.startswith(("$", "+$", "\u2212$"))]
    assert {"$98.0k", "+$1.8k", "+$2.6k", "\u2212$4.0k", "\u2212$950", "$97.5k"} <= set(labels), labels


def test_the_waterfall_tells_a_start_and_an_end_apart_that_a_move_separates(monkeypatch):
    # $1,100 and $1,150 both read "$1.1k" beside "+$50", in the bars' labels and the alt text.
    import matplotlib.pyplot as plt

    drawn = []
    monkeypatch.setattr(executive_charts, "to_chart", lambda fig, alt, **kw: drawn.append((fig, alt)))
    bridge = pd.DataFrame({"step": ["Start", "New", "Churn", "End"], "amount": [1_100.0, 50.0, 0.0, 1_150.0]})
    executive_charts.bridge_waterfall(bridge, "1 November 2026", "30 November 2026")
    [(fig, alt)] = drawn
    try:
        labels = [t.get_text() for t in fig.axes[0].texts if not t.get_text().startswith("Axis")]
    finally:
        plt.close(fig)
    assert labels == ["$1.10k", "+$50", "$0", "$1.15k"], labels
    assert "from $1.10k at 1 November 2026 to $1.15k at 30 November 2026" in alt, alt


@pytest.mark.parametrize("freq", ["day", "week"])
def test_a_measure_that_is_zero_every_day_has_an_axis_of_distinct_labels(freq):
    # A client with one day of views and no engagements: the engagements panel read "0.0, 0.0, 0.0, 0".
    from quire.charts import client as client_charts

    from datetime import date

    from quire.metrics.engagement import time_series

    one_day = pd.DataFrame({"content_id": [1], "day": [date(2026, 11, 20)], "views": [42], "clicks": [3],
                            "conversions": [0], "engagements": [0]})
    series = time_series(one_day, date(2026, 11, 1), date(2026, 11, 30), freq)
    chart = client_charts.engagement_over_time(series, None, current_label="November 2026",
                                               previous_label="October 2026", freq=freq)
    root = ET.fromstring(chart.image)
    for axes in ("axes_1", "axes_2", "axes_3"):  # views, clicks, engagements
        group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == axes)
        labels = ["".join(t.itertext()).strip() for tick in group.iter(f"{SVG}g")
                  if re.fullmatch(r"ytick_\d+", tick.get("id", "")) for t in tick.iter(f"{SVG}text")]
        assert len(labels) >= 2 and len(set(labels)) == len(labels), (axes, labels)
    # The empty panel says why it is flat; the others draw their line alone.
    texts = [" ".join("".join(t.itertext()).split()) for t in root.iter(f"{SVG}text")]
    notes = [" ".join(texts[i:i + 2]) for i, t in enumerate(texts) if t.startswith("No ")]  # two lines
    assert notes == ["No engagements in November 2026"], texts


def test_a_standing_strip_draws_the_client_where_the_table_prints_it():
    """1.359 % was drawn left of a middle half that starts at the printed 1.4 %, while the table said "Middle half"."""
    from quire.charts import client as client_charts
    from quire.metrics.peers import band_from_figures

    row = pd.Series({"p25": 0.014, "p50": 0.0175, "p75": 0.021, "value": 0.01359})
    low, _, high, own = client_charts.strip_positions(row)
    assert band_from_figures(row["value"], [(0.014, ""), (0.0175, ""), (0.021, "")]) == "Middle half"
    assert low <= own <= high and f"{100 * own:.1f}%" == "1.4%"


def test_a_standing_strips_outlier_client_does_not_squash_the_portfolio_range():
    """A client's own +662 % growth stretched the axis to 750 %: the middle half became a sliver."""
    from quire.charts import client as client_charts

    row = {"shown": "figures", "metric": "views_growth", "p25_bound": "", "label_metric": "Views growth",
           "p25": -0.1, "p50": 0.02, "p75": 0.15, "value": 6.62, "you_text": "+662.0%", "p25_text": "−10.0%",
           "p50_text": "+2.0%", "p75_text": "+15.0%"}
    low, _, high, own = client_charts.strip_positions(pd.Series(row))
    assert high < own <= high + client_charts.STRIP_REACH * (high - low)  # at the edge, past the upper quartile
    chart = client_charts.standing_ranges(pd.DataFrame([row]))
    ticks = [float(t.replace("%", "").replace("\u2212", "-").replace("+", "")) for t in tick_labels(chart, "x")]
    assert max(ticks) <= 100, ticks  # the axis reaches about 100 %, not 750 %
    assert "you +662.0%" in chart.alt  # the figure itself is still said


def test_retention_lines_that_are_equal_are_drawn_once_and_the_legend_says_so():
    # Without expansion NRR equals GRR: the GRR line hid the NRR line, and the legend named both.
    history = pd.DataFrame({"period": [f"2026-{m:02d}" for m in range(1, 9)],
                            "nrr": np.linspace(0.97, 0.99, 8), "grr": np.linspace(0.97, 0.99, 8)})
    chart = executive_charts.rate_trend(history, {"nrr": "NRR", "grr": "GRR"}, ylabel="Retention")
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart.image.decode())]
    assert "NRR = GRR" in texts and "NRR" not in texts and "GRR" not in texts


@pytest.mark.parametrize("start, moves", [(1_125_285_000, [133_000_000, 48_849_000, 0, 0, 0]),
                                          (98_396, [2_240, 1_845, 0, -536, -3_952])])
def test_the_waterfalls_labels_add_up_and_its_axis_note_names_a_tick(start, moves):
    # At billions the totals read "$1.1B" and "$1.3B" beside moves of "+$133.0M" and "+$48.8M", and the note "Axis
    # starts at $1.0B" sat under a lowest tick of $1.05B.
    amounts = [start, *moves, start + sum(moves)]
    frame = pd.DataFrame({"step": ["Start MRR", "New", "Expansion", "Reactivation", "Contraction", "Churn", "End MRR"],
                          "amount": amounts})
    chart = executive_charts.bridge_waterfall(frame, "October 2026", "November 2026")
    texts = [" ".join("".join(t.itertext()).split()) for t in ET.fromstring(chart.image).iter(f"{SVG}text")]

    def step(text: str) -> float:
        """The value of the label's last printed digit: labels that add up on the page share it."""
        decimals = len(text.split(".")[1].rstrip("kMB")) if "." in text else 0
        return 10.0 ** -decimals * {"k": 1e3, "M": 1e6, "B": 1e9}[text[-1]]

    ticks = tick_labels(chart)
    labels = [t for t in texts if re.fullmatch(r"[+\u2212]?\$[\d,.]+[kMB]?", t) and t not in ticks]
    assert len(labels) == len(amounts), labels
    assert len({step(t) for t in labels if t[-1] in "kMB"}) == 1, labels
    [note] = [t for t in texts if t.startswith("Axis starts at ")]
    assert note.removeprefix("Axis starts at ") == ticks[0], (note, ticks)
