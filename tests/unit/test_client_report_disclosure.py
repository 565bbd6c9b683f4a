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
from quire.reports.client_standing import METRIC_LABELS
from support.disclosure import PERCENT, attack, clues_from_row, cut_down_portfolio, hd_weights, read_comparison, true_count

SIZES = (2, 5, 6, 9, 11, 15)
PERIOD = "2026-10"
METRICS = {label: metric for metric, label in METRIC_LABELS.items()}





@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory) -> str:
    from quire.warehouse.load import build_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('demo') / 'demo.duckdb'}"
    build_warehouse(url, scale="demo", seed=7, end=date(2026, 10, 31))
    return url


@pytest.mark.parametrize("size", SIZES)
def test_no_other_clients_value_can_be_recovered_from_a_real_report(demo_warehouse, tmp_path, size):
    truth = cut_down_portfolio(demo_warehouse, tmp_path / "cut.duckdb", size)
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
        # Every metric is compared with one group: the other clients with a figure of each (the reader knows it).
        group = [v for v in others.values() if not any(math.isnan(v[m]) for m in METRICS.values())]
        assert comparison.others == len(group)
        member = not any(math.isnan(own[m]) for m in METRICS.values())
        assert "No other client's figures are shown" in comparison.text
        for label, row in comparison.rows.items():
            metric = METRICS[label]
            values = np.array([v[metric] for v in group])
            clues = clues_from_row(row, metric, own[metric], len(values), comparison.method, own_in_figures=member)
            if clues is None:
                continue
            if clues.figures and comparison.method is hd_weights:  # the attacker's model is the report's method
                everyone = np.sort(np.append(values, own[metric]) if member else values)
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


def test_the_standing_tables_data_files_hold_the_published_figures_as_numbers(demo_warehouse):
    """The standing CSV held "'+5.2%" (text behind the formula guard's quote) where every other file holds numbers.
    As numbers, they carry no more precision than the printed table: the figures as published."""
    from quire.display import Table
    from quire.formatting import format_value

    report = client_report.build(client="", period=PERIOD, url=demo_warehouse)
    table = next(c for c in report.portfolio().children if isinstance(c, Table))
    [saved] = table.tables()
    assert {saved["units"][c] for c in ("You", "Lower quartile", "Portfolio median", "Upper quartile")} == {"percent"}
    shown = table.frame.set_index("Metric")
    checked = 0
    for row in saved["rows"]:
        record = dict(zip(saved["columns"], row, strict=True))
        for column in ("You", "Lower quartile", "Portfolio median", "Upper quartile"):
            value = record[column]
            assert value is None or value == peers.published(value), (column, value)  # nothing finer than printed
        if record["Metric"] != "Views growth" and record["Portfolio median"] is not None:  # growth is shown signed
            assert format_value(record["You"], "percent") == shown.loc[record["Metric"], "You"]
            assert format_value(record["Portfolio median"], "percent") == shown.loc[record["Metric"], "Portfolio median"]
            low, high = (format_value(record[c], "percent") for c in ("Lower quartile", "Upper quartile"))
            assert f"{low} to {high}" == shown.loc[record["Metric"], "Middle half"]
            checked += 1
    assert checked >= 2
