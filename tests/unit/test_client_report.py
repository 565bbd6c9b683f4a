"""The client report against the tiny warehouse: sections, figures, isolation and the degenerate cases, in process."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from quire.charts.client import engagement_over_time
from quire.display import Callout, Chart, KPIS_MIME, META_MIME, Glossary, KpiCards, ReportHeader, Section, Table
from quire.errors import ParameterError
from quire.formatting import long_date, number, relative_change
from quire.metrics import engagement as eng
from quire.metrics import peers
from quire.metrics.engagement import time_series
from quire.reports import client as client_report
from quire.reports.client_standing import peer_count
from quire.warehouse import client_queries
from quire.periods import parse_period
from quire.warehouse.engine import connection, engine
from support import warehouse_copy

SECTIONS = ["engagement", "channels", "top_content", "health", "portfolio", "recommendations"]
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


def sql(url: str, text: str, **params) -> list[tuple]:
    eng = engine(url)
    try:
        with eng.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(text), params).fetchall()]
    finally:
        eng.dispose()


@pytest.fixture(scope="module")
def active_slugs(tiny_warehouse) -> list[str]:
    """Two clients with views in October 2026, of different brands when the warehouse has them."""
    found = sql(tiny_warehouse, """
        select c.slug, coalesce(c.brand, o.brand) as brand from clients c join organizations o on o.org_id = c.org_id
        where exists (select 1 from engagement_daily e where e.client_id = c.client_id
                      and e.day between :start and :end and e.views > 0)
        order by c.slug""", start=OCTOBER[0], end=OCTOBER[1])
    first = found[0]
    second = next((row for row in found[1:] if row[1] != first[1]), found[1])
    return [first[0], second[0]]


@pytest.fixture(scope="module")
def reports(tiny_warehouse, active_slugs) -> dict[str, client_report.ClientReport]:
    return {slug: client_report.build(client=slug, period="2026-10", url=tiny_warehouse) for slug in active_slugs}


def full_html(report: client_report.ClientReport, sections: dict | None = None) -> str:
    sections = sections or {name: getattr(report, name)() for name in SECTIONS}
    parts = [report.header(), report.headline(), *sections.values(), report.glossary()]
    return "\n".join(p.html() for p in parts)


@pytest.fixture(scope="module")
def sections(reports) -> dict[str, dict[str, Section]]:
    """Each report's sections, built once (charts take a moment)."""
    return {slug: {name: getattr(report, name)() for name in SECTIONS} for slug, report in reports.items()}


@pytest.fixture(scope="module")
def html(reports, sections) -> dict[str, str]:
    return {slug: full_html(report, sections[slug]) for slug, report in reports.items()}


def test_each_section_renders_for_two_clients(reports, sections):
    assert len(reports) == 2
    for slug, report in reports.items():
        assert report.data.client["slug"] == slug
        assert isinstance(report.header(), ReportHeader) and isinstance(report.headline(), KpiCards)
        for name, section in sections[slug].items():
            assert isinstance(section, Section) and section.children, f"{slug}: {name} is empty"
            assert "No activity" not in section.html()
        assert isinstance(report.glossary(), Glossary)
        assert any(isinstance(c, Chart) for c in sections[slug]["engagement"].children)
        assert any(isinstance(c, Table) for c in sections[slug]["top_content"].children)


def test_header_names_the_client_and_period(reports):
    for report in reports.values():
        meta = report.header()._repr_mimebundle_()[META_MIME]
        assert meta["client"] == report.data.client["name"] and meta["period"] == "October 2026"
        assert meta["title"] == "Performance report" and meta["period_key"] == "2026-10"


def test_headline_views_and_clicks_equal_a_direct_sql_sum(reports, tiny_warehouse):
    for slug, report in reports.items():
        [(views, clicks, conversions)] = sql(tiny_warehouse, """
            select sum(e.views), sum(e.clicks), sum(e.conversions) from engagement_daily e
            join clients c on c.client_id = e.client_id
            where c.slug = :slug and e.day between :start and :end""", slug=slug, start=OCTOBER[0], end=OCTOBER[1])
        kpis = {k["name"]: k for k in report.headline()._repr_mimebundle_()[KPIS_MIME]}
        assert kpis["views"]["value"] == views and kpis["clicks"]["value"] == clicks
        assert kpis["conversions"]["value"] == conversions
        assert kpis["ctr"]["value"] == pytest.approx(clicks / views)
        assert set(kpis) == {"views", "clicks", "ctr", "conversions", "conversion_rate", "engagement_rate", "health_score"}
        assert "mrr" not in kpis


def test_a_clients_html_holds_no_other_clients_name_or_content_title(reports, html, tiny_warehouse):
    for slug, report in reports.items():
        text = re.sub(r"<[^>]+>", " ", html[slug])
        own_titles = {t for (t,) in sql(tiny_warehouse, "select title from content where client_id = (select client_id from clients where slug = :s)", s=slug)}
        others = sql(tiny_warehouse, "select client_id, name, slug from clients where slug <> :s", s=slug)
        assert others
        for client_id, name, other_slug in others:
            assert name not in text and other_slug not in html[slug], f"{slug}'s report names {name}"
            titles = {t for (t,) in sql(tiny_warehouse, "select title from content where client_id = :c", c=client_id)}
            # Generated titles repeat across clients of a sector: one the client also owns is its own content.
            leaked = [t for t in titles - own_titles if t in text]
            assert not leaked, f"{slug}'s report shows {other_slug}'s content: {leaked[:3]}"
        assert report.data.client["name"] in text  # the check can see names at all


def test_the_report_never_names_the_platform(html):
    for page in html.values():
        assert "quire" not in page.lower()


def test_no_revenue_is_shown(html):
    for page in html.values():
        text = re.sub(r"<[^>]+>", " ", page)
        assert "MRR" not in text and "$" not in text and "revenue" not in text.lower()


def test_portfolio_query_returns_anonymous_sums_only(tiny_warehouse):
    eng = engine(tiny_warehouse)
    try:
        with eng.connect() as conn:
            [(own,)] = conn.execute(sa.text("""select client_id from engagement_daily where day between :a and :b
                                               and views > 0 order by client_id limit 1"""), {"a": OCTOBER[0], "b": OCTOBER[1]})
            frame = client_queries.portfolio_engagement(conn, *OCTOBER, date(2026, 9, 1), date(2026, 9, 30), exclude_client_id=own)
    finally:
        eng.dispose()
    assert list(frame.columns) == ["views", "clicks", "conversions", "engagements", "previous_views", "seen_clicks",
                                   "seen_engagements"]
    assert (frame["views"] > 0).all() and frame["views"].is_monotonic_increasing
    [(active,)] = sql(tiny_warehouse, "select count(distinct client_id) from engagement_daily where day between :a and :b and views > 0",
                      a=OCTOBER[0], b=OCTOBER[1])
    assert len(frame) == active - 1  # the other clients only
    [(own_views,)] = sql(tiny_warehouse, "select sum(views) from engagement_daily where client_id = :c and day between :a and :b",
                         c=own, a=OCTOBER[0], b=OCTOBER[1])
    assert own_views not in frame["views"].tolist()


def test_portfolio_section_of_a_small_portfolio_shows_bands_not_figures(reports, sections):
    """The tiny warehouse has 7 active clients: the 5 or 6 others with every figure give a band, too few for any
    portfolio figure."""
    for slug, report in reports.items():
        standing = report.standing
        assert set(standing["peers"]) == {peer_count(standing)} and 5 <= peer_count(standing) <= 6
        assert set(standing["shown"]) <= {"band", "none"}
        assert (standing["shown"] == "band").any()
        page = sections[slug]["portfolio"].html()
        assert "Standing" in page and "Portfolio median" not in page and "Percentile" not in page
        assert "No other client&#39;s figures are shown" in page or "No other client's figures are shown" in page


def test_a_client_without_activity_gets_a_callout_not_errors_or_empty_charts(tiny_warehouse):
    [(slug,)] = sql(tiny_warehouse, """
        select slug from clients c where not exists (select 1 from engagement_daily e where e.client_id = c.client_id
                                                     and e.day between :a and :b) order by slug limit 1""",
                    a=OCTOBER[0], b=OCTOBER[1])
    report = client_report.build(client=slug, period="2026-10", url=tiny_warehouse)
    engagement = report.engagement()
    assert [type(c) for c in engagement.children] == [Callout]
    assert "no content views in October 2026" in engagement.html() and "The most recent views were on" in engagement.html()
    for name in ["channels", "top_content", "portfolio", "recommendations"]:
        assert getattr(report, name)() is None, name  # said once above; a notebook cell shows nothing
    assert all(isinstance(c, Callout) for c in report.health().children)  # churned: no health score
    cards = report.headline()
    # No views is 0 views (the cards' "—" means no basis: the rates and, churned, the health score).
    values = {k["name"]: k["value"] for k in cards._repr_mimebundle_()[KPIS_MIME]}
    assert values == {"views": 0, "clicks": 0, "conversions": 0, "ctr": None, "conversion_rate": None,
                      "engagement_rate": None, "health_score": None}
    assert cards.html().count("—") == 4


@pytest.mark.parametrize("period", ["2025-10", "2026-10"])
def test_each_clients_last_activity_is_its_last_day_with_views_up_to_the_period_end(tiny_warehouse, period):
    """Read from the period's rows when the client had views in them, asked of the warehouse otherwise: the
    same day either way, for every client (active, lapsed, not yet signed up)."""
    end = pd.Period(period, "M").end_time.date()
    expected = dict(sql(tiny_warehouse, """
        select c.slug, (select max(e.day) from engagement_daily e where e.client_id = c.client_id and e.day <= :end
                        and e.views > 0) from clients c""", end=end))
    for slug, last in expected.items():
        data = client_report.load(slug, period, url=tiny_warehouse)
        assert data.last_activity == (None if last is None else pd.Timestamp(last).date()), slug
    # Every kind is there: views in the two periods read, views only before them, no views at all yet.
    previous_start = (pd.Period(period, "M") - 1).start_time.date()
    kinds = {"none" if last is None else "rows" if last >= previous_start else "earlier" for last in expected.values()}
    assert kinds == ({"rows", "earlier"} if period == "2026-10" else {"rows", "none"})


def test_a_period_before_signup_is_empty_too(tiny_warehouse):
    [(slug, signup)] = sql(tiny_warehouse, "select slug, signup_date from clients where signup_date >= :d order by signup_date limit 1",
                           d=date(2026, 3, 1))
    before = f"{signup.year}-{signup.month - 1:02d}" if signup.month > 1 else f"{signup.year - 1}-12"
    report = client_report.build(client=slug, period=before, url=tiny_warehouse)
    assert not report.active and "No activity" in report.engagement().html() and report.channels() is None
    # Its appendix defines what it shows: no trend, standing or recommendations, whose sections it leaves out.
    terms = [term for term, _ in report.glossary().entries]
    assert terms and not {"Trend within the period", "Standing against comparable clients", "Recommendations"} & set(terms), terms
    active = client_report.build(client=slug, period="2026-10", url=tiny_warehouse)
    assert active.active and "Trend within the period" in [term for term, _ in active.glossary().entries]


def test_the_first_month_of_a_client_promises_no_comparison(tiny_warehouse):
    # A client that signed up in November read "Content, engagement and results compared with October 2026".
    [(slug, signup)] = sql(tiny_warehouse, "select slug, signup_date from clients where signup_date >= :d order by signup_date limit 1",
                           d=date(2026, 3, 1))
    report = client_report.build(client=slug, period=f"{signup.year}-{signup.month:02d}", url=tiny_warehouse)
    assert not report.comparable and report.active and not report.before.active
    assert report.header().subtitle == "Content, engagement and results"
    assert f"(its subscription started on {long_date(signup)}: {report.period.label} is its first month)." in \
        report.engagement_lead()
    # The month after: compared with the signup month only if the client had all of it.
    later = client_report.build(client=slug, period=f"{signup.year}-{signup.month + 1:02d}", url=tiny_warehouse)
    if signup.day == 1:
        assert later.header().subtitle == f"Content, engagement and results compared with {report.period.label}"
    else:
        assert later.header().subtitle == "Content, engagement and results"
        assert (f"(its subscription started on {long_date(signup)}, so there is no complete {report.period.label} to "
                "compare with)"
                in later.engagement_lead()), later.engagement_lead()
        assert {k.key: k.delta for k in later.headline().kpis}["views"] is None
    after = client_report.build(client=slug, period=f"{signup.year}-{signup.month + 2:02d}", url=tiny_warehouse)
    assert after.comparable and after.header().subtitle.endswith(f"compared with {later.period.label}")


def test_unknown_client_is_a_parameter_error(tiny_warehouse):
    with pytest.raises(ParameterError, match="no client 'no-such-client'") as info:
        client_report.build(client="no-such-client", url=tiny_warehouse)
    assert info.value.parameter == "client"


def test_empty_client_means_the_first_active_client_by_name(tiny_warehouse):
    [(name,)] = sql(tiny_warehouse, "select name from clients where status = 'active' order by name limit 1")
    report = client_report.build(url=tiny_warehouse)
    assert report.name == name and report.period.key == "2026-10"


def test_a_months_last_block_says_how_many_days_it_holds(reports):
    # "22–31 Oct" held ten days among weeks of seven and read as the best week.
    table = next(c for c in next(iter(reports.values())).engagement().children if isinstance(c, Table))
    assert table.frame["Week"].tolist() == ["1–7 Oct", "8–14 Oct", "15–21 Oct", "22–31 Oct (10 days)"]


def test_formatted_figures_are_aligned_as_numbers(reports):
    # "Views change" and the standing table's figures were text, aligned left under right-aligned headers.
    report = next(r for r in reports.values() if r.portfolio() is not None)
    html = report.channels().html() + report.portfolio().html()
    for header in ("Views change", "You"):  # the tiny portfolio shows bands, not its median and quartiles
        assert f"<th scope=\"col\" class=q-num>{header}</th>" in html, header
    assert not re.search(r"<td>(new|[+−]\d+%|\d+\.\d%)</td>", html)


def test_a_quarter_uses_weekly_blocks(tiny_warehouse):
    [(slug,)] = sql(tiny_warehouse, """
        select c.slug from clients c join engagement_daily e on e.client_id = c.client_id
        where e.day between :a and :b group by c.slug having min(e.day) < :q3 order by sum(e.views) desc limit 1""",
                    a=date(2026, 4, 1), b=date(2026, 9, 30), q3=date(2026, 7, 1))
    report = client_report.build(client=slug, period="2026-Q3", url=tiny_warehouse)
    assert report.active and report.before.active
    assert report.freq == "week" and report.header().period_label == "Q3 2026"
    assert "Week of the period" not in report.engagement().lead  # the lead speaks in words, the chart says weeks
    assert "Q2 2026" in report.headline().html()


def test_health_score_change_is_in_points_on_the_card_and_in_the_text(tiny_warehouse):
    """A 0–100 score moves by points: "+38 pts" on the card and "38 points up" in the text, never "+92.7%"."""
    report = client_report.build(client="riverhaven-food-bank", period="2026-10", url=tiny_warehouse)
    card = next(k for k in report.headline().kpis if k.key == "health_score")
    assert card.value is not None and card.previous is not None and round(card.delta)
    delta = re.search(r"([+−])(\d+) pts", re.sub(r"<[^>]+>", " ", KpiCards([card]).html()))
    assert delta, KpiCards([card]).html()
    points = re.search(r"That is (\d+) points (up|down)", report.health().lead)
    assert points and points.group(1) == delta.group(2) and (points.group(2) == "up") == (delta.group(1) == "+")
    assert "%" not in KpiCards([card]).html()


def top_table(report: client_report.ClientReport) -> tuple[str, list[dict[str, str]]]:
    """The top-content table as printed: its caption and rows (column -> text)."""
    table = next(c for c in report.top_content().children if isinstance(c, Table))
    html = table.html()
    caption = re.search(r"<caption>(.*?)</caption>", html).group(1)
    head = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", html)]
    rows = [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)] for tr in re.findall(r"<tr>(.*?)</tr>", html)[1:]]
    return caption, [dict(zip(head, r, strict=True)) for r in rows]


def test_direction_controls_in_a_name_or_title_cannot_turn_the_reports_text_around(tiny_warehouse, tmp_path):
    """An unclosed right-to-left override in a client's name reversed every line after it ("…yreV emaN gnoL")."""
    from quire.formatting.text import DIRECTION_CONTROLS

    path = tmp_path / "bidi.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("update clients set name = 'Summer\u202ebrook \u2067مخبز Council' where slug = 'village-of-summerbrook'")
        con.execute("""update content set title = 'Winter \u202dguide\u202e' || title where client_id =
                       (select client_id from clients where slug = 'village-of-summerbrook')""")
    report = client_report.build(client="village-of-summerbrook", period="2026-10", url=f"duckdb:///{path}")
    page = full_html(report)
    assert not DIRECTION_CONTROLS.search(page), [hex(ord(c)) for c in DIRECTION_CONTROLS.findall(page)][:5]
    assert "Summerbrook مخبز Council" in page and "Winter guide" in page
    assert report.data.client["name"] == "Summerbrook مخبز Council"


def test_top_content_by_conversions_lists_only_content_with_conversions_and_each_piece_once(tiny_warehouse, tmp_path):
    path = tmp_path / "titles.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        # Three pieces of one client share a title and a day, as a piece cross-posted to three platforms would.
        con.execute("""update content set title = 'Our budget, explained', published_on = date '2026-09-15'
                       where content_id in (select content_id from content where client_id = (select client_id from
                       clients where slug = 'village-of-summerbrook') order by content_id desc limit 3)""")
    report = client_report.build(client="village-of-summerbrook", period="2026-10", url=f"duckdb:///{path}")
    caption, rows = top_table(report)
    pieces = [(r["Title"], r["Published"]) for r in rows]
    assert len(pieces) == len(set(pieces)), f"a piece is listed twice: {pieces}"
    if "conversions" in caption:
        assert all(int(r["Conversions"].replace(",", "")) > 0 for r in rows), f"{caption!r} lists pieces without conversions"
    else:
        assert "by clicks" in caption and "too few to rank by" in report.top_content().lead
        clicks = [int(r["Clicks"].replace(",", "")) for r in rows]
        assert clicks == sorted(clicks, reverse=True)


def test_a_title_used_again_on_another_day_is_another_piece_of_content():
    # Four weekly digests, each its own item on its own day, read as one row summing them all ("ranks the 6 pieces"
    # where the platform table counted 9 items).
    days = ["2026-09-07", "2026-09-14", "2026-09-21", "2026-09-21"]
    rows = pd.DataFrame({"content_id": [1, 2, 3, 4], "title": ["Weekly digest", "Weekly digest", "Weekly digest",
                                                                "Weekly Digest "],
                         "platform": ["web", "web", "web", "linkedin"], "content_type": "newsletter",
                         "published_on": pd.to_datetime(days), "day": pd.Timestamp("2026-09-25"),
                         "views": [100, 200, 300, 40], "clicks": [10, 20, 30, 4], "conversions": [1, 2, 3, 1],
                         "engagements": 0})
    top = eng.top_content(rows, n=10)
    assert top.active == 3 and top.frame["views"].tolist() == [340, 200, 100]  # the 21st's two posts are one piece
    assert top.frame.loc[0, "platform"] == "linkedin, web"  # cross-posted the same day: one piece, both platforms


def test_pieces_tied_with_the_last_one_listed_are_said_to_be_left_out():
    # "The 10 pieces of content with the most conversions" while three more had as many as the 10th (1 each).
    rows = pd.DataFrame({"content_id": range(13), "title": [f"Piece {i:02d}" for i in range(13)], "platform": "web",
                         "content_type": "article", "published_on": pd.Timestamp("2026-09-01"),
                         "day": pd.Timestamp("2026-09-25"), "views": 1_000, "clicks": [90 - i for i in range(13)],
                         "conversions": [5, 4, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1], "engagements": 0})
    top = eng.top_content(rows, n=10)
    assert top.by == "conversions" and len(top.frame) == 10 and top.tied_out == 3
    assert client_report.tied_words(top) == (" 3 more pieces have as many conversions as the last one listed (1); the "
                                             "table keeps those with the most clicks, then views.")
    assert eng.top_content(rows.head(10), n=10).tied_out == 0 and eng.top_content(rows, n=13).tied_out == 0
    untied = rows.assign(conversions=[13 - i for i in range(13)])
    assert eng.top_content(untied, n=10).tied_out == 0


def test_top_content_says_when_it_ranks_by_clicks(tiny_warehouse, tmp_path):
    from support import warehouse_copy

    path = tmp_path / "no-conversions.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:  # a client whose content converted nobody in the month
        con.execute("update engagement_daily set conversions = 0 where client_id = "
                    "(select client_id from clients where slug = 'riverton-realty')")
    report = client_report.build(client="riverton-realty", period="2026-10", url=f"duckdb:///{path}")
    caption, rows = top_table(report)
    assert report.top.with_conversions == 0 and "by clicks" in caption and "conversions" not in caption
    assert report.top_content().lead.startswith("No content had conversions in October 2026, too few to rank by")


@pytest.mark.parametrize("period, label, ticks", [
    ("2025-09", "Day of the month", ["1", "8", "15", "22", "29"]),   # the first month of the data
    ("2026-10", "Day of the month", ["1", "8", "15", "22", "29"]),   # the last
    ("2025-Q4", "Week of the quarter, weekly averages", ["1", "3", "5", "7", "9", "11", "13"]),  # the first quarter
    ("2026-Q3", "Week of the quarter, weekly averages", ["1", "3", "5", "7", "9", "11", "13"]),  # the last
])
def test_engagement_chart_axis_speaks_the_periods_granularity(tiny_warehouse, period, label, ticks):
    report = client_report.build(client="village-of-summerbrook", period=period, url=tiny_warehouse)
    chart = next(c for c in report.engagement().children if isinstance(c, Chart))
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart.image.decode())]
    assert label in texts and "Week of the period" not in texts
    x_ticks = [t for t in texts if t.isdigit() and t in ticks]
    assert set(ticks) <= set(x_ticks), texts


def test_the_first_period_of_the_data_is_not_compared_with_a_partial_one(tiny_warehouse):
    report = client_report.build(client="village-of-summerbrook", period="2025-Q4", url=tiny_warehouse)
    assert not report.comparable  # Q3 2025 holds one month of data
    assert "the data starts partway through September 2025, so there is no complete Q3 2025 to compare with" in report.engagement_lead()
    assert all(k.previous is None for k in report.headline().kpis)
    assert "compared with" not in report.header().subtitle
    assert report.standing.set_index("metric").loc["views_growth", "shown"] == "none"


def test_the_first_periods_breakdowns_call_no_platform_new(tiny_warehouse, reports):
    # Nothing before the data's first period: "new" claimed the platform had no views in a month the data lacks.
    report = client_report.build(client="village-of-summerbrook", period="2025-Q4", url=tiny_warehouse)
    assert set(report._breakdown_table(report.by_platform, "platform").frame["Views change"]) == {"—"}
    later = next(r for r in reports.values() if r.comparable)  # a change, or "new" where nothing came before
    changes = set(later._breakdown_table(later.by_platform, "platform").frame["Views change"])
    assert changes and "—" not in changes, changes


def test_the_breakdowns_data_files_hold_the_views_change_as_a_number(reports):
    # The CSV held "'+180%" (text, with the formula guard's quote) beside raw rates.
    report = next(iter(reports.values()))
    table = report._breakdown_table(report.by_platform, "platform")
    [saved] = table.tables()
    column = saved["columns"].index("Views change")
    shown = dict(zip(table.frame.iloc[:, 0], table.frame["Views change"], strict=True))
    for row in saved["rows"]:
        value = row[column]
        assert (value is None) == (shown[row[0]] in ("new", "—")), (row, shown)
        if value is not None:
            assert isinstance(value, float) and shown[row[0]].endswith("%")
    assert saved["units"]["Views change"] == "percent"


def test_a_month_of_clicks_without_any_views_has_a_conversion_rate_per_click(tiny_warehouse, active_slugs, tmp_path):
    # Only newsletters brought anything (their views withheld): 353 conversions of 3,180 clicks read "Conversion rate —",
    # though the rate is per click and "—" is for no clicks.
    slug = active_slugs[0]
    path = tmp_path / "clicks-only.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(cid,)] = con.execute("select client_id from clients where slug = ?", [slug]).fetchall()
        con.execute("update engagement_daily set views = 0, clicks = 10, conversions = 3 where client_id = ? and day "
                    "between ? and ?", [cid, *OCTOBER])
        [(clicks, conversions)] = con.execute("select sum(clicks), sum(conversions) from engagement_daily where "
                                              "client_id = ? and day between ? and ?", [cid, *OCTOBER]).fetchall()
    cards = {k.key: k.value for k in client_report.build(client=slug, period="2026-10",
                                                         url=f"duckdb:///{path}").headline().kpis}
    assert cards["views"] == 0 and cards["clicks"] == clicks
    assert cards["conversion_rate"] == pytest.approx(conversions / clicks) and cards["ctr"] is None


def test_clicks_and_conversions_without_views_are_counted_in_the_cards_the_tables_and_top_content(tiny_warehouse,
                                                                                                active_slugs, tmp_path):
    # A platform that withholds its impressions (views 0) still brings clicks: the cards read "Clicks 0 ▼ −100%",
    # the platform table left the platform out, and the top content missed the item with the most conversions.
    [(slug,)] = sql(tiny_warehouse, "select c.slug from engagement_daily e join clients c using (client_id) where "
                                    "e.day between :s and :e and e.views > 0 group by c.slug order by "
                                    "count(distinct e.content_id) desc, c.slug limit 1", s=OCTOBER[0], e=OCTOBER[1])
    path = tmp_path / "no-views.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(cid,)] = con.execute("select client_id from clients where slug = ?", [slug]).fetchall()
        [(item,)] = con.execute("select min(content_id) from engagement_daily where client_id = ? and day between ? and ?",
                                [cid, *OCTOBER]).fetchall()
        con.execute("update content set platform = 'tiktok', title = 'Withheld impressions' where content_id = ?", [item])
        con.execute("update engagement_daily set views = 0, clicks = 500, conversions = 400 "
                    "where content_id = ? and day between ? and ?", [item, *OCTOBER])
        [(clicks, conversions)] = con.execute("select sum(clicks), sum(conversions) from engagement_daily "
                                              "where client_id = ? and day between ? and ?", [cid, *OCTOBER]).fetchall()
    url = f"duckdb:///{path}"
    report = client_report.build(client=slug, period="2026-10", url=url)
    by_platform = report.by_platform.set_index("platform")
    assert by_platform["clicks"].sum() == clicks and by_platform["conversions"].sum() == conversions
    assert by_platform.loc["tiktok", "views"] == 0 and by_platform.loc["tiktok", "conversions"] > 0
    assert report.by_type["clicks"].sum() == clicks  # both breakdowns add up to the headline
    # Clicks per view count the clicks of content that had views: the total CTR was above every platform's.
    [(seen, views)] = sql(url, "select sum(clicks), sum(views) from engagement_daily e where client_id = :c and day "
                               "between :s and :e and content_id in (select content_id from engagement_daily where "
                               "client_id = :c and day between :s and :e group by content_id having sum(views) > 0)",
                          c=cid, s=OCTOBER[0], e=OCTOBER[1])
    assert report.now.ctr == pytest.approx(seen / views) and report.now.clicks == clicks
    # The week table divides as the cards do (its CTR was all clicks ÷ views), and the cards say why theirs is not
    # the clicks shown ÷ the views shown.
    weeks = eng.blocks(report.current_rows, *OCTOBER, "week")
    for start, end, ctr in zip(weeks["start"], weeks["end"], weeks["ctr"], strict=True):
        [(week_seen, week_views)] = sql(url, "select sum(clicks), sum(views) from engagement_daily where client_id = :c "
                                             "and day between :s and :e and content_id in (select content_id from "
                                             "engagement_daily where client_id = :c and day between :s and :e group by "
                                             "content_id having sum(views) > 0)", c=cid, s=start.date(), e=end.date())
        assert ctr == pytest.approx(week_seen / week_views), (start, ctr)
    [(engagements, seen_engagements)] = sql(url, "select sum(engagements), sum(engagements) filter (where content_id in "
                                                 "(select content_id from engagement_daily where client_id = :c and day "
                                                 "between :s and :e group by content_id having sum(views) > 0)) from "
                                                 "engagement_daily where client_id = :c and day between :s and :e",
                                            c=cid, s=OCTOBER[0], e=OCTOBER[1])
    extra = engagements - seen_engagements
    unseen = f"{clicks - seen:,} clicks" + (f" and {extra:,} engagement{'' if extra == 1 else 's'}" if extra > 0 else "")
    assert report.headline().note.startswith(f"{unseen} came from content without views in October 2026"), \
        report.headline().note
    assert by_platform.loc["tiktok", "items"] == 1 and pd.isna(by_platform.loc["tiktok", "ctr"])
    assert report.top.frame["title"].iloc[0] == "Withheld impressions"  # the most conversions come first
    chart = client_report.charts.breakdown_bars(report.by_platform, dimension="platform")
    assert "Tiktok 0 views, conversion rate" in chart.alt, chart.alt  # drawn too: its rate is the evidence it brings
    # A month with clicks but no views at all: its cards count the clicks, and its rates have no basis.
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("update engagement_daily set views = 0 where client_id = ? and day between ? and ?", [cid, *OCTOBER])
    report = client_report.build(client=slug, period="2026-10", url=url)
    cards = {k.key: k.value for k in report.headline().kpis}
    assert cards["views"] == 0 and cards["clicks"] == sum(sql(tiny_warehouse, "select sum(clicks) from engagement_daily "
                                                                "where client_id = :c and day between :s and :e",
                                                                c=cid, s=OCTOBER[0], e=OCTOBER[1])[0])
    assert cards["ctr"] is None
    assert "No views." in report.engagement().html()


def test_a_years_chart_is_labelled_by_month():
    """52 weekly points: ticks at the months, not "week 45"."""
    days = pd.date_range("2025-01-01", "2025-12-31", freq="D")
    rows = pd.DataFrame({"content_id": 1, "day": days, "views": 50, "clicks": 5, "conversions": 1, "engagements": 2})
    series = time_series(rows, date(2025, 1, 1), date(2025, 12, 31), "week")
    chart = engagement_over_time(series, None, current_label="2025", previous_label="2024", freq="week", period_kind="year")
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart.image.decode())]
    assert {"Jan", "Mar", "May", "Jul", "Sep", "Nov"} <= set(texts) and "Month, weekly averages" in texts


def test_the_charts_alt_text_gives_the_periods_average_per_day_and_no_comparison_it_does_not_draw():
    # Q3 has 92 days: 13 weekly points, the last of 8 days. The plain mean of the points said 743 views a day where
    # the quarter averaged 752.
    days = pd.date_range("2026-07-01", "2026-09-30", freq="D")
    views = np.arange(len(days)) * 10  # rising: the last, longer block holds the most views
    rows = pd.DataFrame({"content_id": 1, "day": days, "views": views, "clicks": 0, "conversions": 0, "engagements": 0})
    series = time_series(rows, date(2026, 7, 1), date(2026, 9, 30), "week")
    assert series["days"].iloc[-1] == 8
    chart = engagement_over_time(series, None, current_label="Q3 2026", previous_label="Q2 2026", freq="week",
                                 period_kind="quarter")
    assert f"views averaged {views.mean():,.0f} a day" in chart.alt  # 455, where the points' mean is 451
    assert "dashed" not in chart.alt and "Q2 2026" not in chart.alt  # nothing before the data to compare with
    earlier = time_series(rows.assign(day=rows["day"] - pd.Timedelta(days=92)), date(2026, 4, 1), date(2026, 6, 30), "week")
    compared = engagement_over_time(series, earlier, current_label="Q3 2026", previous_label="Q2 2026", freq="week",
                                    period_kind="quarter")
    assert "with Q2 2026 dashed for comparison" in compared.alt


def test_a_metric_without_a_figure_of_the_clients_own_says_so_not_that_peers_are_few(reports):
    report = next(iter(reports.values()))
    reasons = {"ctr": "edge", "conversion_rate": "alike", "engagement_rate": "few_peers", "views_growth": "no_value"}
    frame = report.standing.assign(withheld=report.standing["metric"].map(reasons))
    notes = " ".join(report.comparison.withheld_notes(frame))
    assert f"Views growth: no figure of yours for {report.period.label}, so there is nothing to compare." in notes
    expected = (f"Growth needs views in the whole of {report.previous_period.label}"
                + (f", and your subscription started on {long_date(report.signed_up_within)}." if report.signed_up_within
                   else "."))
    assert expected in notes
    assert "too alike to summarise" in notes and "very edge of the scale" in notes
    # A client that signed up partway through the previous period had views in it, but not a whole period of them.
    late = report.data.client.copy()
    late["signup_date"] = pd.Timestamp(report.previous_period.start + timedelta(days=19))
    joined = client_report.ClientReport(replace(report.data, client=late))
    notes = " ".join(joined.comparison.withheld_notes(frame))
    assert (f"Growth needs views in the whole of {report.previous_period.label}, and your subscription started on "
            f"{long_date(report.previous_period.start + timedelta(days=19))}.") in notes


def test_views_of_content_published_later_or_missing_from_the_list_count_in_every_breakdown(tiny_warehouse, active_slugs,
                                                                                            tmp_path):
    slug = active_slugs[0]
    with warehouse_copy(tiny_warehouse, tmp_path / "late.duckdb") as con:
        [(cid,)] = con.execute("select client_id from clients where slug = ?", [slug]).fetchall()
        # An export whose publication dates lag the views, and one item whose content row is gone.
        con.execute("update content set published_on = date '2026-12-15' where client_id = ?", [cid])
        con.execute("delete from content where content_id = (select min(content_id) from engagement_daily "
                    "where client_id = ? and day between ? and ?)", [cid, *OCTOBER])
    report = client_report.build(client=slug, period="2026-10", url=f"duckdb:///{tmp_path / 'late.duckdb'}")
    [(views,)] = sql(tiny_warehouse, "select sum(views) from engagement_daily where client_id = :c and day between :s and :e",
                     c=cid, s=OCTOBER[0], e=OCTOBER[1])
    assert report.now.views == views
    assert report.by_platform["views"].sum() == views and report.by_type["views"].sum() == views
    assert "Unknown" in set(report.by_platform["label"])
    assert client_report.UNKNOWN_TITLE in full_html(report)


def test_a_previous_month_the_data_covers_only_in_part_is_not_compared_with(reports):
    report = next(r for r in reports.values() if r.comparable)
    assert report.data.first_day is not None
    late = client_report.ClientReport(replace(report.data, first_day=date(2026, 9, 15)))
    assert not late.comparable
    assert "(the data starts partway through September 2026, so there is no complete September 2026 to compare with)" in \
        late.engagement_lead()
    assert client_report.ClientReport(replace(report.data, first_day=date(2026, 9, 1))).comparable


@pytest.mark.parametrize("change, text", [(-2 / 1000, "0%"), (-0.5, "−50%"), (-998 / 1000, "−99.8%"), (-1.0, "−100%"),
                                          (-(10**6 - 1) / 10**6, "−99.9%"), (None, "—"), (0.25, "+25%")])
def test_a_fall_short_of_everything_never_reads_minus_100_percent(change, text):
    # LinkedIn kept 2 of its 1,000 views and its "Views change" read "−100%".
    assert relative_change(change).replace("\u2212", "−") == text


def test_a_lead_of_a_fall_short_of_everything_never_says_down_100_percent(reports):
    # "Riverhaven Food Bank had 2 views in October 2026, down 100% on September 2026 (3,520)."
    report = next(r for r in reports.values() if r.before.active and r.now.views > 1000)
    data = report.data
    rows = data.engagement.copy()
    october = pd.to_datetime(rows["day"]) >= "2026-10-01"
    rows.loc[october, ["views", "clicks", "conversions", "engagements"]] = 0
    rows.loc[rows.index[october][0], "views"] = 2
    lead = client_report.ClientReport(replace(data, engagement=rows)).engagement_lead()
    assert "had 2 views in October 2026, down 99.9% on September 2026" in lead, lead


@pytest.mark.parametrize("views,text", [(1084.6, "about 1,085 views"), (0.4, "next to no views"),
                                        (-69.0, "next to no views")])
def test_a_trend_line_that_reaches_zero_says_so_rather_than_about_0_views(views, text):
    assert client_report.typical_day(views) == text


def test_a_client_the_ledger_never_mentions_pays_while_subscribed_and_one_left_with_cents_of_rounding_does_not(
        tiny_warehouse, active_slugs, tmp_path):
    # A pilot without MRR rows read "The account had no active subscription" in the report its subscription runs;
    # an annual plan's amounts stored in cents (249.17 + 166.67 - 415.83) left a churned client "paying".
    path = tmp_path / "ledger.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(cid,)] = con.execute("select client_id from clients where slug = ?", [active_slugs[0]]).fetchall()
        con.execute("delete from mrr_movements where client_id = ?", [cid])
        con.execute("insert into clients (client_id, org_id, name, slug, sector, plan, signup_date, status) select 9999, "
                    "org_id, 'Rounded Ltd', 'rounded-ltd', sector, plan, date '2025-01-01', 'active' from clients limit 1")
        con.execute("insert into mrr_movements values (9001, 9999, date '2025-01-10', 'new', 249.17), "
                    "(9002, 9999, date '2025-06-10', 'expansion', 166.67), (9003, 9999, date '2025-09-10', 'churn', -415.83)")
    with engine(f"duckdb:///{path}").connect() as conn:
        assert client_queries.client_is_paying(conn, cid, date(2026, 10, 1))
        assert client_queries.client_is_paying(conn, 9999, date(2025, 8, 1))
        assert not client_queries.client_is_paying(conn, 9999, date(2025, 9, 1))
        assert not client_queries.client_is_paying(conn, 9999, date(2024, 12, 1))  # before its first row
    report = client_report.build(client=active_slugs[0], period="2026-10", url=f"duckdb:///{path}")
    assert "no active subscription" not in report.health().html()


def test_a_standing_left_open_by_a_quartile_shown_as_a_bound_is_explained(reports):
    # Growth of +150,051,400 % beside a quartile of ">+299.5%": "Standing —" and no word why.
    report = next(iter(reports.values()))
    frame = report.standing.copy()
    growth = frame["metric"] == "views_growth"
    for column, text in (("p25_text", "+271.5%"), ("p50_text", "+298.9%"), ("p75_text", ">+299.5%")):
        frame[column] = frame.get(column, pd.Series("—", index=frame.index)).astype(object)
        frame.loc[growth, column] = text
    frame.loc[growth, ["shown", "band", "withheld"]] = ["figures", None, None]
    frame.loc[growth, ["p25", "p50", "p75", "p25_bound", "p50_bound", "p75_bound"]] = [2.715, 2.989, 2.995, "", "", ">"]
    report.__dict__["standing"] = frame
    try:
        page = report.portfolio().html()
    finally:
        del report.__dict__["standing"]
    assert "your figure and a quartile are at the same end of the scale, where the quartile is shown only as a " \
           "bound, so no band is given." in page, page


def test_the_trend_of_a_month_that_holds_the_churn_stops_at_the_end_of_the_subscription(tiny_warehouse, tmp_path):
    """A year holding the churn read "a typical day went from about 419 views to about 11": the zeros after it."""
    churned = date(2026, 10, 20)
    [(slug,)] = sql(tiny_warehouse, "select c.slug from engagement_daily e join clients c using (client_id) where e.day "
                                    "between :s and :e and e.views > 0 group by c.slug order by count(distinct e.day) desc, "
                                    "sum(e.views) desc, c.slug limit 1", s=OCTOBER[0], e=churned)
    path = tmp_path / "churned.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(cid,)] = con.execute("select client_id from clients where slug = ?", [slug]).fetchall()
        con.execute("update clients set status = 'churned', churned_on = ? where client_id = ?", [churned, cid])
        con.execute("update engagement_daily set views = 0, clicks = 0, conversions = 0, engagements = 0 "
                    "where client_id = ? and day > ?", [cid, churned])
    url = f"duckdb:///{path}"
    report = client_report.build(client=slug, period="2026-10", url=url)
    daily = dict(sql(url, "select day, sum(views) from engagement_daily where client_id = :c and day between :s and :e "
                          "group by day", c=cid, s=OCTOBER[0], e=churned))
    views = [float(daily.get(OCTOBER[0] + timedelta(days=i), 0)) for i in range(churned.day)]
    first = next(i for i, v in enumerate(views) if v)
    trend = eng.trend(views[first:])
    lead = report.engagement_lead()
    assert "Within the month, up to the end of the subscription on 20 October 2026, daily views " in lead, lead
    if trend.direction in ("rising", "falling"):
        assert f"from {client_report.typical_day(trend.start)} to {client_report.typical_day(trend.end)}" in lead, lead
    else:
        assert {"flat": "held steady", "unclear": "without a clear trend"}[trend.direction] in lead, lead


def test_a_peer_without_a_whole_previous_period_brings_no_growth_to_the_comparison(tiny_warehouse, tmp_path):
    """A client that signed up on 17 July had "+662%" growth in August, which entered every other client's quartiles."""
    from quire.reports import client_data

    path = tmp_path / "late-peer.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("""update clients set signup_date = date '2026-09-17' where client_id in (select client_id from
                       engagement_daily where day between date '2026-10-01' and date '2026-10-31' and views > 0
                       group by client_id order by client_id limit 2)""")
    url = f"duckdb:///{path}"
    [(late,)] = sql(url, "select count(distinct e.client_id) from engagement_daily e join clients c using (client_id) "
                         "where e.day between :s and :e and e.views > 0 and c.signup_date > :p", s=OCTOBER[0], e=OCTOBER[1],
                    p=date(2026, 9, 1))
    assert late >= 2
    with connection(url) as conn:
        everyone = client_queries.portfolio_engagement(conn, *OCTOBER, date(2026, 9, 1), date(2026, 9, 30),
                                                       exclude_client_id=None)
    assert int(everyone["previous_views"].isna().sum()) == late
    assert peers.portfolio_metrics(everyone)["views_growth"].isna().sum() >= late
    # A batch's shared sums still give each late client exactly what its own query does.
    [batch] = client_data.portfolio_for_batch([{"period": "2026-10"}], url).values()
    with connection(url) as conn:
        for cid, signup in conn.exec_driver_sql("select client_id, signup_date from clients where signup_date > "
                                                "date '2026-09-01'").fetchall():
            own = client_queries.client_engagement(conn, cid, date(2026, 9, 1), OCTOBER[1])
            expected = client_queries.portfolio_engagement(conn, *OCTOBER, date(2026, 9, 1), date(2026, 9, 30),
                                                           exclude_client_id=cid)
            got = peers.without_own(batch, client_data._own_sums(own, parse_period("2026-10"), signup))
            pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)



def _steady_client(url: str) -> str:
    """A client with views in September and on two platforms or more in October 2026 (comparable, with a breakdown)."""
    [(slug,)] = sql(url, """
        select c.slug from clients c
        where (select sum(views) from engagement_daily e where e.client_id = c.client_id
               and e.day between :s and :e) > 1000
          and (select count(distinct t.platform) from engagement_daily e join content t using (content_id)
               where e.client_id = c.client_id and e.day between :os and :oe) >= 2
        order by c.slug limit 1""", s=date(2026, 9, 1), e=date(2026, 9, 30), os=OCTOBER[0], oe=OCTOBER[1])
    return slug


def test_a_month_the_subscription_ended_in_is_compared_per_subscribed_day_and_not_ranked_on_growth(tiny_warehouse,
                                                                                                    tmp_path):
    # Churned on the 17th: "down 41% … a few exceptional days make most of the difference", where the fall was the
    # 14 days after the end; its −41% was ranked "Bottom quarter" and fed the other clients' growth quartiles.
    slug = _steady_client(tiny_warehouse)
    path = tmp_path / "churned.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(cid,)] = con.execute("select client_id from clients where slug = ?", [slug]).fetchall()
        con.execute("update clients set status = 'churned', churned_on = date '2026-10-17' where client_id = ?", [cid])
        con.execute("delete from engagement_daily where client_id = ? and day > date '2026-10-17'", [cid])
        [(now, before)] = con.execute(
            "select sum(views) filter (where day between date '2026-10-01' and date '2026-10-31'), sum(views) filter "
            "(where day between date '2026-09-01' and date '2026-09-30') from engagement_daily where client_id = ?",
            [cid]).fetchall()
    url = f"duckdb:///{path}"
    report = client_report.build(client=slug, period="2026-10", url=url)
    per_day = (now / 17) / (before / 30) - 1
    lead = report.engagement_lead()
    assert (f", up to the end of its subscription on 17 October 2026 (17 of the month's 31 days): views per day "
            f"{'rose' if per_day > 0 else 'fell'} {relative_change(per_day, signed=False)} on September 2026 "
            f"({number(now / 17, 0)} against {number(before / 30, 0)}).") in lead, lead
    assert "exceptional days" not in lead
    growth = report.standing.set_index("metric").loc["views_growth"]
    assert growth["withheld"] == "no_value" and not isinstance(growth["band"], str)
    assert ("Growth needs views in the whole of September 2026 and of October 2026, and your subscription ended on "
            "17 October 2026.") in " ".join(report.comparison.withheld_notes(report.standing))
    # Its part of a month is no growth for the others' quartiles either, in a single run as in a batch.
    with connection(url) as conn:
        everyone = client_queries.portfolio_engagement(conn, *OCTOBER, date(2026, 9, 1), date(2026, 9, 30),
                                                       exclude_client_id=None)
        own = client_queries.client_engagement(conn, cid, date(2026, 9, 1), OCTOBER[1])
    from quire.reports import client_data

    mine = client_data._own_sums(own, parse_period("2026-10"), None, date(2026, 10, 17))
    assert mine["previous_views"] is None
    assert len(peers.without_own(everyone, mine)) == len(everyone) - 1  # its row, found by its sums


def test_a_month_after_a_paused_subscription_is_not_compared_with_the_pause(tiny_warehouse, tmp_path):
    # Paused from 16 August to 19 September: October was compared with a September it had no subscription for most of
    # (and a report of September itself is refused).
    slug = _steady_client(tiny_warehouse)
    path = tmp_path / "paused.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(cid, signup)] = con.execute("select client_id, signup_date from clients where slug = ?", [slug]).fetchall()
        con.execute("delete from subscriptions where client_id = ?", [cid])
        con.execute("insert into subscriptions values (9001, ?, 'growth', ?, date '2026-08-15'), "
                    "(9002, ?, 'growth', date '2026-09-20', NULL)", [cid, signup, cid])
    url = f"duckdb:///{path}"
    report = client_report.build(client=slug, period="2026-10", url=url)
    assert not report.comparable and report.before.views == 0
    assert "(it had no subscription for the whole of September 2026 to compare with)" in report.engagement_lead()
    assert "compared with" not in report.header().subtitle
    assert client_report.build(client=slug, period="2026-10", url=tiny_warehouse).comparable  # without the pause


def test_a_month_of_one_view_after_thousands_reads_as_one_fall_in_the_singular(tiny_warehouse, tmp_path):
    # One view in October after thousands in September: the card read "−100.0%", the lead "down 99.9%", the
    # recommendation "Views fell 100%", and the sentences "had 1 views".
    slug = _steady_client(tiny_warehouse)
    path = tmp_path / "one-view.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(cid,)] = con.execute("select client_id from clients where slug = ?", [slug]).fetchall()
        con.execute("update engagement_daily set views = 0, clicks = 0, conversions = 0, engagements = 0 "
                    "where client_id = ? and day between ? and ?", [cid, *OCTOBER])
        con.execute("update engagement_daily set views = 1 where rowid = (select min(rowid) from engagement_daily "
                    "where client_id = ? and day between ? and ?)", [cid, *OCTOBER])
    url = f"duckdb:///{path}"
    [(before,)] = sql(url, "select sum(views) from engagement_daily where client_id = :c and day between :s and :e",
                      c=cid, s=date(2026, 9, 1), e=date(2026, 9, 30))
    assert before > 1_000
    report = client_report.build(client=slug, period="2026-10", url=url)
    views = next(k for k in report.headline().kpis if k.key == "views")
    fall = 1 / before - 1
    assert views.change_text().replace("\u2212", "-") == "-99.9%" == relative_change(fall).replace("\u2212", "-")
    lead = report.engagement_lead()
    assert f"had 1 view in October 2026, down 99.9% on September 2026 ({before:,})" in lead, lead
    recommended = report.recommendations()
    checked = next(c for c in recommended.children if isinstance(c, Table)).frame
    text = " ".join([lead, report.channels().lead, *(c.message for c in recommended.children if isinstance(c, Callout)),
                     *checked["This period"].astype(str), report.channels().children[0].children[0].alt])
    assert "Views fell 99.9%" in text and f"1 against {before:,} (down 99.9%)" in text, text
    assert not re.search(r"\b1 views\b|fell 100%|\(down 100%\)", text), text  # a content type left with no views does fall by 100%


def test_a_tie_for_the_most_views_is_said_as_a_tie(tiny_warehouse, tmp_path):
    # Website and LinkedIn with 1,500 views each: "LinkedIn brought the most views", a winner by the alphabet.
    slug = _steady_client(tiny_warehouse)
    path = tmp_path / "tie.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(cid,)] = con.execute("select client_id from clients where slug = ?", [slug]).fetchall()
        rows = con.execute("select min(e.rowid), c.platform from engagement_daily e join content c using (content_id) "
                           "where e.client_id = ? and e.day between ? and ? group by c.platform order by c.platform "
                           "limit 2", [cid, *OCTOBER]).fetchall()
        assert len(rows) == 2
        con.execute("update engagement_daily set views = 0 where client_id = ? and day between ? and ?", [cid, *OCTOBER])
        for rowid, _ in rows:
            con.execute("update engagement_daily set views = 750 where rowid = ?", [rowid])
    report = client_report.build(client=slug, period="2026-10", url=f"duckdb:///{path}")
    first, second = report.by_platform["label"].iloc[:2]
    assert report.channels().lead.startswith(f"{first} and {second} brought the most views (750 each, 50% of the "
                                             "total each)."), report.channels().lead


def test_a_median_day_that_moved_against_the_total_is_not_said_to_have_changed_less(tiny_warehouse, active_slugs):
    # Views up 2,800% on a few huge days while the median day fell from 30 to 0: "The median day changed much less".
    report = client_report.build(client=active_slugs[0], period="2026-10", url=tiny_warehouse)
    now, before = pd.Series([0.0] * 16 + [1_000.0] * 15), pd.Series([0.0] * 14 + [30.0] * 16)
    report.__dict__["daily_views"] = (now, before)  # the days of the case, in place of the warehouse's
    days = eng.compare_days(now, before)
    assert days is not None and not days.differs and (days.median_now, days.median_before) == (0, 30)
    assert report._typical_day_note(now.sum() / before.sum() - 1) == (
        " The median day went the other way (0 views against 30): a few exceptional days make all of the difference.")


@pytest.mark.parametrize("stop, churned, said", [
    (date(2026, 10, 20), None, "Nothing is recorded for its content after 20 October 2026: the 11 days to the end of "
                               "October 2026 have no views, clicks, engagements or conversions."),
    (date(2026, 10, 25), None, None),  # 6 quiet days at the end: a quiet week's end, not said
    (date(2026, 10, 10), date(2026, 10, 24), "Nothing is recorded for its content after 10 October 2026: the 14 days "
                                             "to its subscription's end on 24 October 2026 have no views"),
    (date(2026, 10, 20), date(2026, 10, 24), None),  # quiet from 4 days before its subscription ended
])
def test_activity_that_stops_a_week_or_more_before_the_period_ends_is_said(tiny_warehouse, tmp_path, stop, churned,
                                                                           said):
    # A client whose data stopped mid-month read "Views down 64%" and a falling trend, with no word that nothing at
    # all was recorded for the rest of the month (a feed that stopped, or content that was taken down).
    [(slug,)] = sql(tiny_warehouse, "select c.slug from engagement_daily e join clients c using (client_id) where e.day "
                                    "between :s and :e and e.views > 0 and c.signup_date < :s group by c.slug "
                                    "order by count(distinct e.day) desc, c.slug limit 1", s=OCTOBER[0], e=OCTOBER[1])
    path = tmp_path / "stopped.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("delete from engagement_daily where client_id = (select client_id from clients where slug = ?) "
                    "and day > ?", [slug, stop])
        if churned:
            con.execute("update clients set status = 'churned', churned_on = ? where slug = ?", [churned, slug])
    lead = client_report.build(client=slug, period="2026-10", url=f"duckdb:///{path}").engagement_lead()
    if said is None:
        assert "Nothing is recorded" not in lead, lead
    else:
        assert said in lead, lead
    assert "Nothing is recorded" not in client_report.build(client=slug, period="2026-10",
                                                            url=tiny_warehouse).engagement_lead()


def _october_clients(url: str) -> list[int]:
    """Clients with views in October 2026, by id."""
    return [cid for (cid,) in sql(url, "select client_id from engagement_daily where day between :a and :b "
                                       "group by client_id having sum(views) > 0 order by client_id",
                                  a=OCTOBER[0], b=OCTOBER[1])]


def test_a_peer_without_a_click_leaves_the_one_comparison_group_and_no_count_tells_of_it(tiny_warehouse, tmp_path):
    # Compared per metric, the report said "5 other clients" and gave click-through a band but withheld the conversion
    # rate for "fewer than 5 other clients": one of the five, then, had no click at all (a click-through rate of 0 %).
    path = tmp_path / "no-clicks.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        quiet = _october_clients(tiny_warehouse)[-1]
        con.execute("update engagement_daily set clicks = 0, conversions = 0 where client_id = ? "
                    "and day between date '2026-10-01' and date '2026-10-31'", [quiet])
    url = f"duckdb:///{path}"
    [(slug,)] = sql(url, "select slug from clients where client_id = :c", c=_october_clients(url)[0])
    report = client_report.build(client=slug, period="2026-10", url=url)
    standing = report.standing
    assert standing["peers"].nunique() == 1, standing[["metric", "peers", "shown", "withheld"]]
    count = int(standing["peers"].iloc[0])
    assert count == peer_count(report.standing) and count < len(report.data.portfolio)  # the client without a click is out
    section = report.portfolio()
    text = re.sub(r"<[^>]+>", " ", section.html())
    if count >= peers.MIN_PEERS_BAND:
        assert f"against the {count} other clients that had content views and clicks in October 2026" in text
        assert "to compare with" not in text, text  # no metric withheld for a count of its own
    else:
        assert "Fewer than 5 other clients had content views and clicks in October 2026" in text


def test_a_client_whose_rows_its_own_report_refuses_is_in_no_other_clients_comparison(tiny_warehouse, tmp_path):
    # A day loaded twice and a negative day fail that client's own run; summed into the portfolio, they gave it a
    # click-through rate of 192 % in every other client's comparison.
    path = tmp_path / "refused.duckdb"
    clients = _october_clients(tiny_warehouse)
    with warehouse_copy(tiny_warehouse, path) as con:
        first_day = "(select min(day) from engagement_daily where client_id = ? and day >= date '2026-10-01')"
        con.execute("create or replace table engagement_daily as select * from engagement_daily union all (select * "
                    f"from engagement_daily where client_id = ? and day = {first_day})", [clients[1], clients[1]])
        con.execute(f"update engagement_daily set views = -5 where client_id = ? and day = {first_day}",
                    [clients[2], clients[2]])
    with connection(tiny_warehouse) as conn:
        before = client_queries.portfolio_engagement(conn, *OCTOBER, date(2026, 9, 1), date(2026, 9, 30), None)
    with connection(f"duckdb:///{path}") as conn:
        after = client_queries.portfolio_engagement(conn, *OCTOBER, date(2026, 9, 1), date(2026, 9, 30), None)
        for cid in clients[1:3]:
            with pytest.raises(Exception, match="repeat a content_id and day|empty or below 0"):
                client_queries.client_engagement(conn, cid, date(2026, 9, 1), OCTOBER[1])
    assert len(before) == len(clients) and len(after) == len(clients) - 2
    assert (after["clicks"] <= after["views"]).all()
    kept = before.merge(after, how="inner")
    assert len(kept) == len(after)  # the other clients' sums are untouched
