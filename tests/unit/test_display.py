"""Display objects escape everything that can come from data and carry their JSON for the pipeline."""

import pandas as pd

from quire.display import KPIS_MIME, META_MIME, Alerts, Callout, Chart, Glossary, KpiCards, ReportHeader, Section, Table
from quire.metrics.kpi import Kpi

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
    assert "vs September 2026" in html
    assert [k["name"] for k in bundle[KPIS_MIME]] == ["mrr", "logo_churn", "nps"]
    assert bundle[KPIS_MIME][0]["value"] == 110_000.0 and bundle[KPIS_MIME][0]["unit"] == "currency"


def test_table_escapes_cells_and_headers_and_formats_units():
    frame = pd.DataFrame({"Client": [HOSTILE, "Plain"], "MRR": [1234567.0, None], HOSTILE: [1, 2]})
    html = Table(frame, caption=HOSTILE, units={"MRR": "currency"}).html()
    assert "<script>" not in html and "<img" not in html
    assert "$1,234,567" in html and 'class="q-na"' in html
    assert '<th scope="col"' in html


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
