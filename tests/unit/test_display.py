"""Display objects escape everything that can come from data and carry their JSON for the pipeline."""

import re

import pandas as pd
import pytest

from quire.display import KPIS_MIME, META_MIME, Alerts, Callout, Chart, Glossary, KpiCards, ReportHeader, Section, Table
from quire.metrics.kpi import Kpi, format_change, format_number, format_value

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def test_header_escapes_and_carries_meta():
    header = ReportHeader("Client report", "October 2026", client=HOSTILE)
    bundle = header._repr_mimebundle_()
    assert "<script>" not in bundle["text/html"] and "&lt;script&gt;" in bundle["text/html"]
    assert bundle[META_MIME]["client"] == HOSTILE  # the raw value stays data, not markup
    assert bundle[META_MIME]["period"] == "October 2026"


def test_kpi_cards_show_delta_direction_and_json():
    kpis = [Kpi("mrr", "MRR", 110_000.0, "currency", 100_000.0, "up_is_good"),
            Kpi("logo_churn", "Logo churn", 0.03, "percent", 0.02, "down_is_good"),
            Kpi("nps", "NPS", 41.0, "points", None, "up_is_good")]
    bundle = KpiCards(kpis, comparison_label="September 2026")._repr_mimebundle_()
    html = bundle["text/html"]
    assert html.count('class="q-kpi"') == 3
    assert "+10.0%" in html and "q-good" in html  # MRR up 10 %: good
    assert "+1.0 pts" in html and "q-bad" in html  # churn up a point: bad
    assert [k["name"] for k in bundle[KPIS_MIME]] == ["mrr", "logo_churn", "nps"]
    assert bundle[KPIS_MIME][0]["value"] == 110_000.0 and bundle[KPIS_MIME][0]["unit"] == "currency"


def test_kpi_cards_say_better_or_worse_in_words_not_by_colour_alone():
    # Churn up and MRR up both carry ▲; only red and green told them apart, which a colour-blind reader,
    # a screen reader and a grey print do not see.
    kpis = [Kpi("mrr", "MRR", 110_000.0, "currency", 100_000.0, "up_is_good"),
            Kpi("logo_churn", "Logo churn", 0.03, "percent", 0.02, "down_is_good"),
            Kpi("arpa", "ARPA", 2_000.0, "currency", 2_000.0, "up_is_good")]
    cards = re.findall(r'<div class="q-kpi">.*?</div></div>', KpiCards(kpis, comparison_label="September 2026").html())
    said = [re.sub(r"<[^>]+>", "", card) for card in cards]
    assert "better than September 2026" in said[0] and "q-good" in cards[0]
    assert "worse than September 2026" in said[1] and "q-bad" in cards[1]
    assert "vs September 2026" in said[2] and "q-flat" in cards[2]  # no change: neither


def test_table_escapes_cells_and_headers_and_formats_units():
    frame = pd.DataFrame({"Client": [HOSTILE, "Plain"], "MRR": [1234567.0, None], HOSTILE: [1, 2]})
    html = Table(frame, caption=HOSTILE, units={"MRR": "currency"}).html()
    assert "<script>" not in html and "<img" not in html
    assert "$1,234,567" in html and 'class="q-num q-na">—' in html  # a missing figure aligned as figures are
    assert '<th scope="col"' in html


def test_a_table_scroller_is_a_named_focusable_region_that_survives_the_sanitiser():
    """A table wider than a phone scrolls in its wrap, which had no tabindex: keyboard users of browsers that do not
    make scrollers focusable (Safari) could not reach its right-hand columns (axe: scrollable-region-focusable)."""
    from quire.display import sanitize_html

    html = Table(pd.DataFrame({"Week": ["1"], "Views": [3]}), caption='Views "by" week <b>').html()
    assert re.match(r'<div class="q-table-wrap q-table-short" tabindex="0" role="region" '
                    r'aria-label="Views &#34;by&#34; week &lt;b&gt;"><table', html), html[:200]
    # Without a caption the region is named by its columns.
    unnamed = Table(pd.DataFrame({"": ["a"], "Client": ["x"], "MRR": [1.0]})).html()
    assert 'aria-label="Table: Client, MRR"' in unnamed
    # Passed on as Markup (through the allowlist), the table keeps its region; no other tabindex is kept.
    wrap = re.match(r"<div [^>]*>", str(sanitize_html(html)))[0]
    assert 'tabindex="0"' in wrap and 'role="region"' in wrap and "aria-label=" in wrap
    assert "tabindex" not in str(sanitize_html('<div tabindex="5">x</div><span tabindex="0">y</span>'))
    chart = Chart(b"<svg xmlns='http://www.w3.org/2000/svg'/>", alt="MRR", caption="MRR by month").html()
    assert chart.startswith('<figure class="q-chart" tabindex="0">')
    assert 'tabindex="0"' in str(sanitize_html(chart.split("<img")[0] + "</figure>"))


def test_a_table_keeps_a_meaningful_index_as_its_first_columns_in_the_report_and_its_data_files(tmp_path):
    """A frame of groupby() or set_index() holds its row labels in its index: Table dropped it, so the report, its
    PDF and its CSV and workbook showed MRR figures nobody could tell apart. A plain 0, 1, 2… index stays hidden."""
    import csv

    from openpyxl import load_workbook

    from quire.datafiles import XLSX_NAME, write_data_files

    regions = pd.DataFrame({"region": ["North America", "Nordics", "North America"], "MRR": [40000.0, 8036.4, 2865.87]})
    by_region = regions.groupby("region", sort=False).sum()
    table = Table(by_region, caption="MRR by region", units={"MRR": "currency"})
    html = table.html()
    assert re.search(r'<th scope="col">region</th><th scope="col" class=q-num>MRR</th>', html), html
    assert "<tr><td>North America</td><td class=\"q-num\">$42,866</td></tr>" in html
    assert table.text().splitlines()[1].split() == ["North", "America", "42865.87"]
    [written] = write_data_files(table.tables(), tmp_path)
    with open(tmp_path / written.file, encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [["region", "MRR"], ["North America", "42865.87"], ["Nordics", "8036.4"]]
    sheet = load_workbook(tmp_path / XLSX_NAME).worksheets[0]
    assert ["North America", 42865.87] in [list(r) for r in sheet.iter_rows(values_only=True)]
    # Each level of a MultiIndex is a column of its own.
    nested = regions.assign(plan=["growth", "starter", "starter"]).groupby(["region", "plan"]).sum()
    assert Table(nested).tables()[0]["columns"] == ["region", "plan", "MRR"]
    assert Table(nested).tables()[0]["rows"][0] == ["Nordics", "starter", 8036.4]
    # The default 0, 1, 2… index is no label: the table is the one it always was.
    plain = Table(regions, units={"MRR": "currency"})
    assert plain.frame is regions and plain.tables()[0]["columns"] == ["region", "MRR"]
    assert "<td>0</td>" not in plain.html() and plain.text() == regions.to_string(index=False)


def test_table_truncates_long_frames_and_says_so():
    html = Table(pd.DataFrame({"n": range(120)}), max_rows=50).html()
    assert html.count("<tr>") == 51 and "Showing 50 of 120 rows" in html


def test_chart_alt_text_is_escaped_and_image_embedded():
    html = Chart(b"<svg xmlns='http://www.w3.org/2000/svg'/>", alt=f'MRR "rose" {HOSTILE}').html()
    assert 'alt="MRR &#34;rose&#34; &lt;script&gt;' in html
    assert 'src="data:image/svg+xml;base64,' in html


def test_sections_alerts_glossary_callout_escape():
    class A:  # the Alert protocol: kpi, severity, message
        kpi, severity, message = "NRR", "critical", HOSTILE

    html = Section(HOSTILE, [Alerts([A()]), Callout(HOSTILE, "warning"), "plain <b>text</b>"]).html()
    html += Glossary([(HOSTILE, HOSTILE)]).html()
    assert "<script>" not in html and "<b>" not in html
    assert Alerts([]).html().count("q-good") == 1


def test_markup_children_pass_the_nh3_allowlist():
    from markupsafe import Markup

    from quire.display import sanitize_html

    html = Section("S", [Markup('<p class="q-text">ok</p><img src=x onerror=alert(1)><a href="javascript:x()">l</a>'
                                '<script>alert(2)</script><img src="data:image/png;base64,AAAA" alt="dot">')]).html()
    assert '<p class="q-text">ok</p>' in html and 'src="data:image/png;base64,AAAA"' in html
    assert "onerror" not in html and "javascript:" not in html and "script" not in html and "alert" not in html
    assert str(sanitize_html('<svg onload="x()"><circle/></svg>text')) == "text"


def test_chart_requires_alt_text_and_cleans_svg():
    import pytest

    with pytest.raises(ValueError, match="alt text"):
        Chart(b"<svg/>", alt="")
    chart = Chart(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><rect/></svg>',
                  alt="A rectangle")
    assert b"onload" not in chart.image and b"script" not in chart.image and b"rect" in chart.image
    clean = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'
    assert Chart(clean, alt="x").image is clean  # matplotlib's SVG is left byte for byte


def test_a_matplotlib_chart_is_left_byte_for_byte_and_hidden_or_remote_things_are_taken_out():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from quire.chart_style import figure_svg
    from quire.display import sanitize_svg
    from support.hostile_html import SVG_REMOTE, SVG_VECTORS

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [3, 1, 2], label="line")
    ax.legend()
    ax.set_title("A title")
    image = figure_svg(fig)
    plt.close(fig)
    assert sanitize_svg(image) is image
    for name, vector in SVG_VECTORS.items():
        removed: list[str] = []
        cleaned = sanitize_svg(vector, removed)
        assert b"javascript:" not in cleaned and b"script" not in cleaned and removed, name
        assert b"<!ENTITY" not in cleaned, name
    removed = []
    cleaned = sanitize_svg(SVG_REMOTE, removed)
    assert b"evil.example" not in cleaned and b"url(#keep)" in cleaned
    assert removed == ["a style sheet that loads other files", "fill loading url(https://evil.example/p.svg#g)"]


def test_unknown_severity_and_heading_level_fall_back():
    assert 'class="q-callout q-info"' in Callout("m", severity='x" onmouseover="y').html()
    assert "<h2 " in Section("T", level=1).html() and "<h4 " in Section("T", level=9).html()


def test_short_tables_are_marked_to_stay_on_one_page():
    assert "q-table-short" in Table(pd.DataFrame({"a": range(15)})).html()
    assert "q-table-short" not in Table(pd.DataFrame({"a": range(16)})).html()


def test_kpi_change_that_rounds_to_nothing_reads_zero_with_a_minus_sign_otherwise():
    html = KpiCards([Kpi("nps", "NPS", 12.0, "points", 12.3), Kpi("m", "MRR", 90.0, "currency", 100.0)]).html()
    assert '<span aria-hidden="true">■</span> 0 pts' in html and "-0" not in html
    assert "−10.0%" in html


# -- a change that rounds to zero is no change: unsigned, neither good nor bad -------------------------

NEGATIVE_ZERO = re.compile(r"[−-]0(?:\.0+)?(?![.\d])")


@pytest.mark.parametrize("kpi", [
    Kpi("nrr", "Net revenue retention", 0.97, "percent", 0.9704),  # −0.04 pts
    Kpi("churn", "Logo churn", 0.0500, "percent", 0.0496, "down_is_good"),  # +0.04 pts
    Kpi("mrr", "MRR", 100_000.0, "currency", 100_040.0),  # −0.04 %
    Kpi("nps", "NPS", 41.6, "points", 42.0),  # −0.4 points
    Kpi("months", "Payback", 12.0004, "months", 12.0, "down_is_good"),  # +0.003 %
], ids=["percent", "percent-down-is-good", "currency", "points", "months"])
def test_kpi_change_that_rounds_to_zero_is_grey_and_unsigned(kpi):
    html = KpiCards([kpi]).html()
    delta = re.search(r'<div class="q-kpi-delta ([^"]+)"><span aria-hidden="true">(.)</span> ([^<]+) <span', html)
    state, arrow, change = delta.groups()
    assert state == "q-flat" and arrow == "■", html
    assert not NEGATIVE_ZERO.search(change) and not change.startswith("+"), change
    assert re.fullmatch(r"0(\.0)?( pts|%)", change), change
    assert kpi.is_good is None


def test_kpi_change_just_past_rounding_keeps_its_sign_and_colour():
    html = KpiCards([Kpi("nrr", "NRR", 0.97, "percent", 0.9706), Kpi("mrr", "MRR", 100_000.0, "currency", 100_060.0)]).html()
    assert html.count("q-bad") == 2 and html.count("▼") == 2
    assert "−0.1 pts" in html and "−0.1%" in html


@pytest.mark.parametrize("change,unit,shown", [
    (-0.0004, "pct_points", "0.0 pts"), (0.0004, "pct_points", "0.0 pts"), (-0.0006, "pct_points", "−0.1 pts"),
    (-0.0004, "relative", "0.0%"), (0.02, "relative", "+2.0%"), (-0.004, "currency", "$0"), (-0.6, "currency", "−$0.60"),
    (-150.6, "currency", "−$151"),
    (-0.4, "points", "0 pts"), (3.0, "points", "+3 pts"), (-0.04, "number", "0"), (-0.4, "number", "−0.4"), (-0.04, "months", "0.0 months"),
    (None, "relative", "—"), (float("nan"), "pct_points", "—"),
])
def test_format_change_signs_only_what_it_shows(change, unit, shown):
    assert format_change(change, unit) == shown


def test_format_value_and_number_never_show_negative_zero():
    assert format_value(-0.0004, "percent") == "0.0%" and format_value(-0.003, "currency") == "$0"
    assert format_number(-0.004, 2) == "0.00" and format_number(-1234.5, 1) == "−1,234.5"


def test_table_change_columns_use_the_same_rule():
    frame = pd.DataFrame({"Metric": ["a", "b", "c"], "Difference": [-0.0004, 0.0123, -0.0456]})
    html = Table(frame, units={"Difference": "pct_points"}).html()
    cells = re.findall(r'<td class="q-num">([^<]+)</td>', html)
    assert cells == ["0.0 pts", "+1.2 pts", "−4.6 pts"]


def test_cohort_difference_that_rounds_to_zero_is_unsigned():
    from quire.reports.cohort_comparison import pts as _pts

    assert _pts(-0.04) == "0.0 pts" and _pts(1.26) == "+1.3 pts" and _pts(-1.26) == "−1.3 pts"


def test_run_json_figures_lose_their_binary_noise():
    # run.json carried arr 602791.4400000001 and a delta of 2095.209999999999.
    kpi = Kpi("arr", "ARR", 50232.62 * 12, "currency", 50232.62 * 12 - 2095.21)
    assert kpi.value != 602791.44 and kpi.delta != 2095.21  # the noise is real
    record = KpiCards([kpi])._repr_mimebundle_()[KPIS_MIME][0]
    assert (record["value"], record["delta"]) == (602791.44, 2095.21)


def test_columns_of_one_measure_can_share_their_decimals():
    # A cohort's LTV row read "$112.14 $112.14 $112.14 $112": the last column held only that one figure.
    frame = pd.DataFrame({"Month 0": [112.1425, 40.5], "Month 6": [112.1425, None], "Users": [3.0, 4.0]})
    units = {"Month 0": "currency", "Month 6": "currency", "Users": "number"}
    shared = Table(frame, units=units, shared_decimals=["Month 0", "Month 6"]).html()
    assert shared.count("$112.14") == 2 and "$112<" not in shared
    assert "$112<" in Table(frame, units=units).html()  # each column on its own, as before


def test_a_change_within_noise_keeps_its_arrow_and_loses_its_colour():
    # The cohort report's reading called −0.6 pts "about as well" while its card showed it red.
    noisy = Kpi("r", "Month 1 user retention", 0.300, "percent", 0.306, within_noise=True)
    html = KpiCards([noisy, Kpi("r2", "Month 3 user retention", 0.300, "percent", 0.306)]).html()
    cards = re.findall(r'<div class="q-kpi-delta ([^"]+)"><span aria-hidden="true">(.)</span> ([^<]+) <span', html)
    assert cards == [("q-flat", "▼", "−0.6 pts"), ("q-bad", "▼", "−0.6 pts")], cards
    assert noisy.is_good is None and noisy.to_dict()["delta"] == pytest.approx(-0.006)
