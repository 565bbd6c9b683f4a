"""Real client reports on portfolios cut down to 2–15 clients: no other client's figure can be recovered from them.

The demo warehouse (about 30 active clients) is copied and all but N clients' engagement is
deleted. For a few clients of each portfolio the report module builds the report; the
attacker of ``support.disclosure`` reads the printed HTML as the client would (the
comparison table, the chart's alt text, the lead, the appendix that names the method) and
tries to recover each other client's value, which the test computes independently in SQL.
"""

from __future__ import annotations

import math
import re
from datetime import date

import numpy as np
import pytest

from quire.display import KPIS_MIME
from quire.metrics import peers
from quire.reports import client as client_report
from support import warehouse_copy
from support.disclosure import PERCENT, Clues, attack, band_counts, hd_weights, parse_percent, printed, rank_counts, read_comparison, true_count

SIZES = (2, 5, 6, 9, 11, 15)
PERIOD = "2026-10"
METRICS = {label: metric for metric, label in client_report.METRIC_LABELS.items()}
TRUTH_SQL = """
    select c.client_id, c.slug,
           sum(case when e.day >= date '2026-10-01' then e.views else 0 end) as views,
           sum(case when e.day >= date '2026-10-01' then e.clicks else 0 end) as clicks,
           sum(case when e.day >= date '2026-10-01' then e.conversions else 0 end) as conversions,
           sum(case when e.day >= date '2026-10-01' then e.engagements else 0 end) as engagements,
           sum(case when e.day < date '2026-10-01' then e.views else 0 end) as previous_views
    from engagement_daily e join clients c using (client_id)
    where e.day between date '2026-09-01' and date '2026-10-31'
    group by c.client_id, c.slug having sum(case when e.day >= date '2026-10-01' then e.views else 0 end) > 0
    order by c.client_id"""


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory) -> str:
    from quire.warehouse.load import build_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('demo') / 'demo.duckdb'}"
    build_warehouse(url, scale="demo", seed=7, end=date(2026, 10, 31))
    return url


def cut_down(url: str, path, size: int) -> dict[str, dict[str, float]]:
    """A copy at ``path`` keeping the engagement of ``size`` clients; each kept client's true metrics, by slug."""
    with warehouse_copy(url, path) as con:
        rows = con.execute(TRUTH_SQL).fetchall()
        kept = [r for r in rows if r[6] > 0][:size]  # clients with views in both months: growth for everyone
        ids = [r[0] for r in kept]
        con.execute(f"delete from engagement_daily where client_id not in ({', '.join('?' * len(ids))})", ids)
    return {slug: {"ctr": ratio(cl, v), "conversion_rate": ratio(cv, cl), "engagement_rate": ratio(en, v),
                   "views_growth": ratio(v, pv) - 1, "views": v, "clicks": cl, "conversions": cv}
            for _, slug, v, cl, cv, en, pv in kept}


def clues_from(row: dict[str, str], metric: str, own: float, n: int, method) -> Clues | None:
    """What one printed row of the comparison table tells the reader about ``n`` other values."""
    domain, step = peers.METRIC_DOMAINS[metric], 0.001
    median, middle = row.get("Portfolio median", "—"), row.get("Middle half", "—")
    figures = []
    if median != "—":
        low, high = middle.split(" to ")
        for q, text in ((0.25, low), (0.5, median), (0.75, high)):
            value, bound = parse_percent(text)
            figures.append((q, *printed(value, step, bound, domain)))
    if "Percentile rank" in row and row["Percentile rank"] not in ("", "—"):
        counts = rank_counts(float(row["Percentile rank"]), n)
    elif not figures and row.get("Standing", "—") != "—":
        counts = band_counts(row["Standing"], n)
    else:
        counts = None
    if not figures and counts is None:
        return None
    return Clues(n, own, domain, step, figures=figures, weights=method, at_or_below=counts)


@pytest.mark.parametrize("size", SIZES)
def test_no_other_clients_value_can_be_recovered_from_a_real_report(demo_warehouse, tmp_path, size):
    truth = cut_down(demo_warehouse, tmp_path / "cut.duckdb", size)
    assert len(truth) == size
    slugs = list(truth)
    readers = sorted({slugs[0], slugs[size // 2], slugs[-1]})
    url = f"duckdb:///{tmp_path / 'cut.duckdb'}"
    checked = 0
    for i, slug in enumerate(readers):
        report = client_report.build(client=slug, period=PERIOD, url=url)
        names = ["header", "headline", "engagement", "channels", "top_content", "health", "portfolio", "recommendations"]
        parts = [getattr(report, n)() for n in (names if i == 0 else ["headline", "portfolio", "recommendations"])]
        html = "\n".join(p.html() for p in [*parts, report.glossary()] if p is not None)
        own, others = truth[slug], {s: v for s, v in truth.items() if s != slug}

        # run.json's headline holds the client's own KPIs only.
        kpis = {k["name"]: k["value"] for k in report.headline()._repr_mimebundle_()[KPIS_MIME]}
        assert set(kpis) == set(client_report.KPI_DEFS)
        assert (kpis["views"], kpis["clicks"], kpis["conversions"]) == (own["views"], own["clicks"], own["conversions"])

        comparison = read_comparison(html)
        assert comparison is not None
        if size - 1 < peers.MIN_PEERS_BAND:
            assert not comparison.rows and not re.search(PERCENT, comparison.text)  # nothing but a sentence
            continue
        assert comparison.others == size - 1
        assert "No other client's figures are shown" in comparison.text
        for label, row in comparison.rows.items():
            metric = METRICS[label]
            values = np.array([v[metric] for v in others.values() if not math.isnan(v[metric])])
            clues = clues_from(row, metric, own[metric], len(values), comparison.method)
            if clues is None:
                continue
            if clues.figures and comparison.method is hd_weights:  # the attacker's model is the report's method
                everyone = np.sort(np.append(values, own[metric]))
                for q, low, high in clues.figures:
                    assert low - 1e-12 <= hd_weights(len(everyone), q) @ everyone <= high + 1e-12
            found = attack(clues, true_count(own[metric], values))
            assert not found, (f"{size} clients, {slug}'s report, {label}: other clients' values recovered within "
                               f"{[(f.low, f.high) for f in found]} (true: {np.sort(values)})")
            checked += 1
        printed_cells = {cell for row in comparison.rows.values() for cell in row.values()}
        for text in re.findall(r"[<>]?[+−-]?\d+(?:\.\d+)?%", comparison.alt):  # the chart shows nothing the table does not
            assert any(text in cell for cell in printed_cells), f"{slug}: {text} is in the chart but not in the table"
        for cited in re.findall(r"middle half: ([^)]*)\)", html):  # recommendations cite the table's figures only
            assert any(cited == row.get("Middle half") for row in comparison.rows.values())
    if size - 1 >= peers.MIN_PEERS_BAND:
        assert checked > 0
