"""Tenant-free data shared by a batch: the portfolio sums read once per period equal what each run would read."""

from __future__ import annotations

import pandas as pd
import pytest

from quire.batch import shared
from quire.metrics.peers import without_own
from quire.periods import parse_period
from quire.reports import client as client_report
from quire.reports import client_data
from quire.warehouse import client_queries
from quire.warehouse.engine import connection


@pytest.mark.parametrize("key", ["2026-10", "2026-Q3", "2025-06"])
def test_each_client_gets_exactly_the_portfolio_its_own_query_returns(tiny_warehouse, key):
    p = parse_period(key)
    prev = p.previous()
    [batch] = client_report.portfolio_for_batch([{"period": key, "client": "any"}], tiny_warehouse).values()
    with connection(tiny_warehouse) as conn:
        ids = conn.exec_driver_sql("select client_id, signup_date from clients order by client_id").fetchall()
        for cid, signup in ids:
            own_rows = client_queries.client_engagement(conn, cid, prev.start, p.end)
            expected = client_queries.portfolio_engagement(conn, p.start, p.end, prev.start, prev.end, exclude_client_id=cid)
            got = without_own(batch, client_data._own_sums(own_rows, p, signup))
            pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


def test_a_report_loads_the_batchs_portfolio_and_not_its_own_query(tiny_warehouse, monkeypatch):
    values = client_report.portfolio_for_batch([{"period": "2026-10"}], tiny_warehouse)
    calls = []
    original = client_queries.portfolio_engagement
    monkeypatch.setattr(client_queries, "portfolio_engagement", lambda *a, **k: calls.append(k) or original(*a, **k))
    shared.install(values)
    try:
        with_batch = client_report.load("", "2026-10", tiny_warehouse)
    finally:
        shared.install({})
    alone = client_report.load("", "2026-10", tiny_warehouse)
    assert len(calls) == 1  # only the run outside a batch queried the portfolio itself
    pd.testing.assert_frame_equal(with_batch.portfolio, alone.portfolio, check_dtype=False)


def test_own_sums_must_be_in_the_portfolio():
    everyone = pd.DataFrame({"views": [5, 9], "clicks": [1, 2], "conversions": [0, 1], "engagements": [1, 1],
                             "previous_views": [3, 4], "seen_clicks": [1, 2], "seen_engagements": [1, 1]})
    own = {"views": 9, "clicks": 2, "conversions": 1, "engagements": 1, "previous_views": 4, "seen_clicks": 2,
           "seen_engagements": 1}
    assert without_own(everyone, own)["views"].tolist() == [5]
    assert without_own(everyone, {**own, "views": 0})["views"].tolist() == [5, 9]  # no views: not in the portfolio
    with pytest.raises(ValueError):
        without_own(everyone, {**own, "clicks": 7})
