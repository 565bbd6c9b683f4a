"""Charts drawn at their own size (``fixed_layout``): fast when they fit, cropped as usual when they do not.

Such a chart is not cropped to a tight bounding box, so anything placed outside the
figure (a legend, a long title, a wide tick label) would be cut off: ``figure_svg``
measures what it drew and falls back to the tight crop. The report's fixed-layout
charts are drawn here with the widest labels their data can produce, to show that
they take the fast path.
"""

from __future__ import annotations

import io
import re
import warnings
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_svg import RendererSVG

import quire.charts.client as client_charts
from quire.chart_style import figure_svg, to_chart
from support import brand_chart_style

TOLERANCE_IN = 0.01


@pytest.fixture(autouse=True, params=["quire", "harbor"])
def brand_style(request):
    """A brand's chart style, as every report applies it before its charts; undone after.

    Without it these charts would be drawn in whatever style an earlier test in the same process left.
    """
    with brand_chart_style(request.param):
        yield


@contextmanager
def drawn_as_svg(fig):
    """Draw ``fig`` as savefig does for SVG (at 72 dpi, by the renderer the chart is saved with); the renderer,
    to measure what it drew. The figure's own resolution is restored after."""
    width, height = fig.get_size_inches()
    dpi = fig.get_dpi()
    fig.set_dpi(72)
    try:
        renderer = RendererSVG(width * 72, height * 72, io.StringIO())
        fig.draw(renderer)
        yield renderer
    finally:
        fig.set_dpi(dpi)


@pytest.fixture
def drawn(monkeypatch):
    """Each figure a chart function hands to to_chart, with whether it asked for a fixed layout."""
    seen: list[tuple[object, bool]] = []

    def keep(fig, alt, caption="", *, fixed_layout=False):
        with drawn_as_svg(fig) as renderer:
            seen.append((fig.get_tightbbox(renderer), tuple(fig.get_size_inches()), fixed_layout))
        return to_chart(fig, alt, caption, fixed_layout=fixed_layout)

    monkeypatch.setattr(client_charts, "to_chart", keep)
    return seen


def assert_inside(drawn) -> None:
    assert drawn, "no chart was drawn"
    for bbox, (width, height), fixed in drawn:
        assert fixed, "this chart is expected to be drawn at its own size"
        assert bbox.x0 >= -TOLERANCE_IN and bbox.y0 >= -TOLERANCE_IN, bbox
        assert bbox.x1 <= width + TOLERANCE_IN and bbox.y1 <= height + TOLERANCE_IN, (bbox, width, height)


def series(days: int, scale: float, *, weekly: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    step = np.arange(days // 7 if weekly else days)
    values = scale * (1 + rng.random(len(step)))
    return pd.DataFrame({"step": step, "date": pd.date_range("2025-01-01", periods=len(step), freq="7D" if weekly else "D"),
                         "days": 7 if weekly else 1, "views": values, "clicks": values / 3, "engagements": values / 7})


@pytest.mark.parametrize("kind, days, weekly", [("month", 31, False), ("quarter", 92, True), ("year", 365, True)])
@pytest.mark.parametrize("scale", [0.4, 987_654_321.0])  # fractions of a view, and the widest counts ("988M")
def test_the_engagement_chart_fits_in_its_figure(drawn, kind, days, weekly, scale):
    current = series(days, scale, weekly=weekly)
    client_charts.engagement_over_time(current, series(days, scale / 2, weekly=weekly), current_label="September 2026",
                                       previous_label="August 2026", freq="week" if weekly else "day",
                                       period_kind=kind)
    assert_inside(drawn)


def standing_row(metric: str, label: str, values: tuple[float, float, float, float], texts: tuple[str, ...],
                 p25_bound: str = "") -> dict:
    p25, p50, p75, own = values
    return {"metric": metric, "label_metric": label, "shown": "figures", "p25": p25, "p50": p50, "p75": p75,
            "value": own, "p25_bound": p25_bound, "you_text": texts[0], "p25_text": texts[1], "p50_text": texts[2],
            "p75_text": texts[3]}


def test_the_standing_strips_fit_in_their_figure(drawn):
    frame = pd.DataFrame([
        standing_row("ctr", "Click-through rate", (0.021, 0.034, 0.048, 0.09), ("9.0%", "2.1%", "3.4%", "4.8%")),
        standing_row("conversion_rate", "Conversion rate", (0.004, 0.03, 0.06, 0.0), ("0.0%", "<0.5%", "3.0%", "6.0%"),
                     p25_bound="<"),
        standing_row("engagement_rate", "Engagement rate", (0.2, 0.5, 0.8, 0.99), ("99.0%", "20.0%", "50.0%", "80.0%")),
        standing_row("views_growth", "Views growth", (-0.25, 0.1, 0.4, 2.5), ("+250.0%", "−25.0%", "+10.0%", "+40.0%")),
    ])
    assert client_charts.standing_ranges(frame) is not None
    assert_inside(drawn)


def svg_size(image: bytes) -> tuple[float, float]:
    width, height = re.search(rb'<svg[^>]* width="([\d.]+)pt" height="([\d.]+)pt"', image).groups()
    return float(width), float(height)


def simple_figure(*, outside: bool):
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([1, 2, 3], [3, 1, 2])
    fig.subplots_adjust(left=0.15, right=0.95, bottom=0.2, top=0.85)
    if outside:
        fig.text(1.02, 0.5, "a note beside the figure")
    return fig


def test_a_fixed_layout_figure_that_fits_is_drawn_at_its_own_size():
    fig = simple_figure(outside=False)
    try:
        assert svg_size(figure_svg(fig, fixed_layout=True)) == (4 * 72, 2 * 72)
        assert svg_size(figure_svg(fig))[0] < 4 * 72  # the tight crop would have trimmed the margins
    finally:
        plt.close(fig)


def test_a_fixed_layout_figure_with_something_outside_is_cropped_as_usual():
    fig = simple_figure(outside=True)
    try:
        image = figure_svg(fig, fixed_layout=True)
        assert image == figure_svg(fig) and svg_size(image)[0] > 4 * 72
        assert b"a note beside the figure" in image
    finally:
        plt.close(fig)


def test_the_breakdown_bars_fit_with_long_names(drawn):
    """The names' column is measured, so a long platform name widens the margin instead of being cut off.

    (A much longer one leaves the panels too narrow for their titles: such a chart is cropped
    as usual, see the fallback test above.)
    """
    frame = pd.DataFrame({"label": ["Partner newsletter (print)", "Web", "Landing page"],
                          "views": [98_765, 12_456, 12], "clicks": [987, 1_204, 0],
                          "conversions": [98, 12, 0], "conversion_rate": [0.0993, 0.00997, float("nan")]})
    client_charts.breakdown_bars(frame, dimension="platform")
    assert_inside(drawn)


def test_names_in_scripts_dejavu_lacks_are_measured_by_their_own_fonts(drawn):
    """A platform named in Japanese, Thai or Hindi: matplotlib measures it with the installed Noto font of its script
    (the browser draws the SVG's text with the same fallback), not as DejaVu's empty boxes, which warned per glyph
    and sized the names' column for boxes."""
    from matplotlib import font_manager

    from quire.chart_style import SCRIPT_FALLBACK_FONTS

    installed = {f.name for f in font_manager.fontManager.ttflist}
    assert set(SCRIPT_FALLBACK_FONTS) <= installed, "the Noto fonts are missing (make setup-test installs them)"
    frame = pd.DataFrame({"label": ["東京デザイン株式会社", "บริษัท กรุงเทพ", "मुंबई डिज़ाइन", "Web"], "views": [900, 500, 200, 80],
                          "clicks": [50, 20, 10, 4], "conversions": [5, 2, 1, 0], "conversion_rate": [0.1, 0.1, 0.1, 0.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with brand_chart_style("quire"):
            chart = client_charts.breakdown_bars(frame, dimension="platform")
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []
    assert_inside(drawn)
    assert "'Noto Sans CJK JP'" in chart.image.decode() and chart.image.decode().count("sans-serif") >= 1


@pytest.mark.parametrize("locale,family", [("zh-CN", "SC"), ("zh-Hans-SG", "SC"), ("zh_TW", "TC"), ("zh-Hant", "TC"),
                                           ("zh-HK", "HK"), ("zh-Hant-MO", "HK"), ("ko-KR", "KR"), ("ja-JP", "JP"),
                                           ("en-US", "JP"), (None, "JP")])
def test_han_characters_are_drawn_in_the_forms_the_reports_locale_reads(locale, family):
    """One Noto CJK font draws 直 or 骨 differently for China, Taiwan, Hong Kong, Japan and Korea: a chart's labels
    name the family of the report's locale (a client's own where it has one), so a reader in Shanghai does not read
    Japanese forms; Japanese where the locale is none of those (as before)."""
    import matplotlib

    from quire.brand import load_brand
    from quire.chart_style import cjk_font, use_brand

    assert cjk_font(locale) == f"Noto Sans CJK {family}"
    frame = pd.DataFrame({"label": ["直营店", "Web"], "views": [900, 80], "clicks": [50, 4], "conversions": [5, 0],
                          "conversion_rate": [0.1, 0.0]})
    with matplotlib.rc_context():
        use_brand(load_brand("quire"), locale)
        image = client_charts.breakdown_bars(frame, dimension="platform").image.decode()
    named = set(re.findall(r"'Noto Sans CJK (\w\w)'", image))
    assert named == {family}


def test_the_health_drivers_fit_with_every_component(drawn):
    components = pd.DataFrame({"label": ["Usage trend", "Seat utilisation", "Support load", "Latest recommendation score"],
                               "weight": [0.35, 0.25, 0.2, 0.2], "score": [1.0, 0.43, float("nan"), 0.07]})
    client_charts.health_components(components, 61.5)
    assert_inside(drawn)


def _tight_box_inside(fig) -> bool:
    """The full check: matplotlib's tight bounding box of everything drawn, within the figure."""
    width, height = fig.get_size_inches()
    with drawn_as_svg(fig) as renderer:
        box = fig.get_tightbbox(renderer)
    return (box.x0 >= -TOLERANCE_IN and box.y0 >= -TOLERANCE_IN and box.x1 <= width + TOLERANCE_IN
            and box.y1 <= height + TOLERANCE_IN)


def _laid_out(change) -> plt.Figure:
    fig = simple_figure(outside=False)
    ax = fig.axes[0]
    ax.set_title("Views per day", loc="left")
    ax.plot([1, 2, 3], [2, 2, 3], label="previous")
    change(fig, ax)
    return fig


OUTSIDE_CASES = {
    "fits": lambda fig, ax: None,
    "fits with a legend above": lambda fig, ax: fig.legend(loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.0)),
    "a note right of the figure": lambda fig, ax: fig.text(1.01, 0.5, "note"),
    "a title wider than the figure": lambda fig, ax: ax.set_title("A title much too long for a four-inch figure, "
                                                                  "which runs past its right edge", loc="left"),
    "tick labels wider than the margin": lambda fig, ax: ax.set_yticks([1, 2, 3], ["one million views", "2", "3"]),
    "a legend beside the axes": lambda fig, ax: ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0)),
    "an annotation pushed below": lambda fig, ax: ax.annotate("low point", (2, 1), xytext=(0, -60),
                                                              textcoords="offset points"),
    "an axis label off the figure": lambda fig, ax: ax.set_xlabel("Day of the month", labelpad=40),
}


@pytest.mark.parametrize("case", OUTSIDE_CASES)
def test_measuring_the_drawn_texts_decides_as_the_tight_bounding_box_does(case):
    """The fast path measures only the texts and legends the drawing laid out; it must keep a figure at
    its own size exactly when matplotlib's full tight bounding box lies within it, and crop it otherwise."""
    fig = _laid_out(OUTSIDE_CASES[case])
    try:
        inside = _tight_box_inside(fig)
        assert inside == (case.startswith("fits")), "the case does not test what its name says"
        fixed, cropped = figure_svg(fig, fixed_layout=True), figure_svg(fig)
        assert (fixed != cropped) == inside
        assert svg_size(fixed) == ((4 * 72, 2 * 72) if inside else svg_size(cropped))
    finally:
        plt.close(fig)


#: Points between two panels' edge tick labels: at 4, "10.5%" and "−1.0" read as one run of text.
EDGE_LABELS_APART = 9


def _edge_label_gap(fig) -> float:
    """Points between the last tick label of the left panel and the first of the right one, as the SVG draws them."""
    left, right = fig.axes[:2]

    def shown(ax):
        low, high = sorted(ax.get_xlim())
        return [t for t in ax.xaxis.get_ticklabels() if t.get_text() and low <= t.get_position()[0] <= high]

    with drawn_as_svg(fig) as renderer:
        return shown(right)[0].get_window_extent(renderer).x0 - shown(left)[-1].get_window_extent(renderer).x1


@pytest.mark.parametrize("views, rate", [(8_000, 0.011), (8_000, 0.46), (12_400, 0.046), (98_765, 0.0093),
                                         (1_234_567, 0.053), (12, 0.9), (80_000_000, 0.0), (8_000_000, 0.001),
                                         (99_000_000, 0.05)])
@pytest.mark.parametrize("name", ["Web", "Partner newsletter (print)"])
def test_the_breakdown_panels_edge_labels_never_meet(monkeypatch, views, rate, name):
    # The views' last tick ("10k") sits on the left panel's right edge and the rates' first ("0.0%") on the
    # right panel's left edge: a gap that is a fixed share of the panels ran them together ("10k0.0%").
    figures = []
    monkeypatch.setattr(client_charts, "to_chart", lambda fig, alt, caption="", **kw: figures.append(fig))
    frame = pd.DataFrame({"label": [name, "LinkedIn", "Instagram"], "views": [views, views // 3, views // 9],
                          "clicks": [1_000, 300, 100], "conversions": [round(1_000 * rate), round(300 * rate * 0.8), round(100 * rate / 2)],
                          "conversion_rate": [rate, rate * 0.8, rate / 2]})
    client_charts.breakdown_bars(frame, dimension="platform")
    try:
        assert _edge_label_gap(figures[0]) >= EDGE_LABELS_APART
    finally:
        plt.close(figures[0])


@pytest.mark.parametrize("control, treatment", [((1_000, 120), (1_000, 95)), ((50, 2), (50, 9)), ((20_000, 9_990), (20_000, 10_400)),
                                                 ((13_441, 1_174), (12_159, 1_131))])  # "10.5% −1.0" read as one run
def test_the_conversion_panels_edge_labels_never_meet(monkeypatch, control, treatment):
    import quire.charts.experiment as experiment_charts
    from quire.metrics.experiments import conversion_by_variant, pairwise_vs_control

    figures = []
    monkeypatch.setattr(experiment_charts, "to_chart", lambda fig, alt, caption="", **kw: figures.append(fig))
    rows = [("control", *control), ("treatment", *treatment)]  # (variant, users, conversions)
    assignments = pd.DataFrame([{"variant": v, "converted": i < x} for v, n, x in rows for i in range(n)])
    experiment_charts.conversion_panels(conversion_by_variant(assignments, "control"),
                                        pairwise_vs_control(assignments, "control", "conversion"), 0.95)
    try:
        assert _edge_label_gap(figures[0]) >= EDGE_LABELS_APART
    finally:
        plt.close(figures[0])


@pytest.mark.parametrize("amounts", [(2_720.0, 0.0, 0.0, 0.0, 0.0, -100.0, 2_620.0),       # MRR fell: start tallest
                                     (2_700.0, 40.0, 0.0, -5.0, -120.0, -60.0, 2_555.0),
                                     (2_555.0, 120.0, 60.0, 5.0, -40.0, 0.0, 2_700.0),    # MRR grew: end tallest
                                     (98_400.0, 1_800.0, 0.0, 0.0, -4_000.0, 0.0, 96_200.0)])
def test_the_waterfalls_bar_labels_stay_inside_and_clear_of_the_axis_note(monkeypatch, amounts):
    # "$2.7k" over the tallest start bar was drawn on top of "Axis starts at $2.6k" above the axes.
    import quire.charts.executive as executive_charts

    figures = []
    monkeypatch.setattr(executive_charts, "to_chart", lambda fig, alt, caption="", **kw: figures.append(fig))
    steps = ["Start", "New", "Expansion", "Reactivation", "Contraction", "Churn", "End"]
    executive_charts.bridge_waterfall(pd.DataFrame({"step": steps, "amount": amounts}), "Sep 2025", "Oct 2025")
    [fig] = figures
    try:
        ax = fig.axes[0]
        with drawn_as_svg(fig) as renderer:
            frame = ax.get_window_extent(renderer)
            labels = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().startswith(("$", "+", "−", "-"))]
            notes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().startswith("Axis starts")]
        assert len(labels) == len(steps) and notes  # every bar labelled; the axis does not start at zero
        for label in labels:
            assert label.y1 <= frame.y1 and not label.overlaps(notes[0]), (label, frame, notes[0])
    finally:
        plt.close(fig)


@pytest.mark.parametrize("chart", ["mrr_trend", "rate_trend"])
def test_a_trend_legend_sits_above_its_lines(monkeypatch, chart):
    # Every account churned: MRR flat at the top of its axis ran through "MRR" in the legend's corner.
    import quire.charts.executive as executive_charts

    figures = []
    monkeypatch.setattr(executive_charts, "to_chart", lambda fig, alt, caption="", **kw: figures.append(fig))
    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    if chart == "mrr_trend":
        executive_charts.mrr_trend(pd.Series([5_000.0] * 11 + [0.0], index=months))
    else:
        history = pd.DataFrame({"period": [f"{m:%Y-%m}" for m in months], "nrr": [1.0] * 11 + [0.0],
                                "grr": [1.0] * 11 + [0.0]})
        executive_charts.rate_trend(history, {"nrr": "NRR", "grr": "GRR"}, ylabel="Retention", reference=1.0)
    [fig] = figures
    try:
        [ax] = fig.axes
        with drawn_as_svg(fig) as renderer:
            legend, axes = ax.get_legend().get_window_extent(renderer).frozen(), ax.get_window_extent(renderer).frozen()
        assert legend.y0 >= axes.y1 - 0.5, (legend, axes)
    finally:
        plt.close(fig)
