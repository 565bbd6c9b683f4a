"""The peer comparison publishes nothing from which one other client's figure can be recovered, at any portfolio size.

Synthetic portfolios of 2 to 15 active clients go through the same metric functions as the
report (daily engagement rows → per-client sums → rates → :func:`quire.metrics.peers.standing`);
for every client the attacker of ``support.disclosure`` then tries to recover every other
client's value from what that client's report would publish about each metric.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from quire.metrics import engagement as eng
from quire.metrics import peers
from support.disclosure import (Clues, attack, band_counts, hd_weights, linear_weights, printed, ranges, rank_counts,
                                true_count)

START, END = date(2026, 10, 1), date(2026, 10, 31)
PREV_START, PREV_END = date(2026, 9, 1), date(2026, 9, 30)


def client_rows(rng: np.random.Generator, client: int) -> pd.DataFrame:
    """Daily rows of one synthetic client over two months: its own size, click, conversion and engagement rates."""
    days = pd.date_range(PREV_START, END, freq="D")
    items = int(rng.integers(1, 6))
    size = rng.lognormal(3.5, 1.3)  # from a handful of views a day to thousands
    ctr, cvr, er = rng.beta(2, 40), rng.beta(2, 30), rng.beta(2, 60)
    frames = []
    for item in range(items):
        views = rng.poisson(size / items * rng.lognormal(0, 0.4, len(days)))
        if rng.random() < 0.15:  # some clients start this month: no views last month, no growth figure
            views[: 30] = 0
        clicks = rng.binomial(views, ctr)
        frames.append(pd.DataFrame({"client": client, "content_id": client * 10 + item, "day": days, "views": views,
                                    "clicks": clicks, "conversions": rng.binomial(clicks, cvr),
                                    "engagements": rng.binomial(views, er)}))
    return pd.concat(frames, ignore_index=True)


def per_client_sums(daily: pd.DataFrame) -> pd.DataFrame:
    """What the portfolio query returns: per-client sums in the period and previous views, active clients only."""
    now = eng.window(daily, START, END).groupby("client")[list(eng.MEASURES)].sum()
    now["previous_views"] = eng.window(daily, PREV_START, PREV_END).groupby("client")["views"].sum().reindex(now.index, fill_value=0)
    return now.loc[now["views"] > 0]


def own_values(daily: pd.DataFrame, client: int) -> dict[str, float | None]:
    """The client's own metrics, computed the way the report computes them."""
    rows = daily.loc[daily["client"] == client]
    now, before = eng.totals(eng.window(rows, START, END)), eng.totals(eng.window(rows, PREV_START, PREV_END))
    return {"ctr": now.ctr, "conversion_rate": now.conversion_rate, "engagement_rate": now.engagement_rate,
            "views_growth": eng.change(float(now.views), float(before.views))}


def clues_for(row: pd.Series, member: bool = True) -> Clues | None:
    """What one row of :func:`peers.standing` tells the reader (``member``: its own value is among the figures')."""
    if row["shown"] == "none":
        return None
    domain = peers.METRIC_DOMAINS[row["metric"]]
    # The reader's own value as the figures count it (the code is no secret: growth above the cap counts as the cap).
    own, capped = min(row["value"], domain[1]), row["metric"] in peers.CAPPED
    if row["shown"] == "figures":
        figures = [(q, *printed(row[f"p{p}"], peers.STEP, row[f"p{p}_bound"], domain)) for q, p in ((0.25, 25), (0.5, 50), (0.75, 75))]
        return Clues(int(row["peers"]), own, domain, peers.STEP, figures=figures, capped=capped, own_in_figures=member)
    return Clues(int(row["peers"]), own, domain, peers.STEP, at_or_below=band_counts(row["band"], int(row["peers"])),
                 capped=capped)


def portfolio(seed: int, size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    daily = pd.concat([client_rows(rng, c) for c in range(size)], ignore_index=True)
    return daily, peers.portfolio_metrics(per_client_sums(daily))


@pytest.mark.parametrize("size", range(2, 16))
def test_no_other_clients_value_can_be_recovered(size):
    shown, checked = {"figures": 0, "band": 0}, 0
    for seed in range(2):
        daily, metrics = portfolio(1000 * size + seed, size)
        for client in metrics.index:
            others, own = metrics.drop(index=client), own_values(daily, client)
            standing = peers.standing(own, others)
            group = peers.comparable(others, peers.PORTFOLIO_METRICS)  # every metric is compared with these
            member = all(v is not None and math.isfinite(v) for v in own.values())
            for _, row in standing.iterrows():
                clues = clues_for(row, member)
                if clues is None:
                    continue
                shown[row["shown"]] += 1
                values = np.clip(group[row["metric"]].to_numpy(), *peers.METRIC_DOMAINS[row["metric"]])
                if row["shown"] == "figures":
                    # The attacker's model is the report's method: the printed figures are HD quartiles of all values.
                    everyone = np.sort(np.append(values, clues.own) if member else values)
                    for q, low, high in clues.figures:
                        assert low - 1e-12 <= hd_weights(len(everyone), q) @ everyone <= high + 1e-12
                    for p in (25, 50, 75):  # no figure is a client's value
                        assert row[f"p{p}_bound"] or not np.isclose(values, row[f"p{p}"], rtol=0, atol=1e-12).any()
                findings = attack(clues, true_count(clues.own, values))
                assert not findings, (f"{size} clients, client {client}, {row['metric']}: other clients' values pinned to "
                                      f"{[(f.positions, f.low, f.high) for f in findings]} (true {np.sort(values)})")
                checked += 1
    if size - 1 >= peers.MIN_PEERS_FIGURES:
        assert shown["figures"] > 0
    elif size - 1 >= peers.MIN_PEERS_BAND:
        assert shown["band"] > 0 and shown["figures"] == 0
    else:
        assert checked == 0  # fewer than 5 others: nothing is published


@pytest.mark.parametrize("others", [10, 14])
def test_an_exceptional_growth_does_not_show_through_the_quartiles(others):
    # A client whose views went from 1 to 18,261 (+1,826,000 %): with 10 other clients its weight in the
    # upper quartile (about 7 %) moved it to +130,080 %, which gave the growth back to within 1 %.
    rng = np.random.default_rng(7)
    typical = list(rng.normal(0.05, 0.3, others - 1))
    own = 0.12
    published = {}
    for outlier in (3.5, 180.0, 18_260.0):
        row = peers.compare("views_growth", own, [*typical, outlier])
        assert row["shown"] == "figures"
        published[outlier] = [row["p25"], row["p50"], row["p75"]]
        clues = clues_for(pd.Series(row))
        values = np.clip([*typical, outlier], *peers.METRIC_DOMAINS["views_growth"])
        assert not attack(clues, true_count(own, values))
        # The attacker learns at most that one client grew by more than the cap: a bound, not a value.
        assert ranges(clues, true_count(own, values))[-1][1] == math.inf
    assert published[3.5] == published[180.0] == published[18_260.0]  # the same whatever the size beyond the cap
    # A growth beyond the cap is no edge of the scale: a band is still given (5 to 9 other clients).
    assert peers.compare("views_growth", 40.0, typical[:6])["band"] == peers.TOP


def test_a_quartile_near_the_edge_is_published_as_a_bound():
    """Half the portfolio without conversions: a lower quartile printed 0.0 % would pin the lowest clients at 0."""
    values = np.array([0.0] * 6 + [0.012, 0.02, 0.031, 0.04, 0.05, 0.06])
    plain = Clues(len(values), 0.025, (0.0, 1.0), peers.STEP, figures=[(0.25, 0.0, 0.0005)])  # had it printed 0.0 %
    assert attack(plain, true_count(0.025, values))
    bounded = Clues(len(values), 0.025, (0.0, 1.0), peers.STEP, figures=[(0.25, 0.0, 0.005)])
    assert not attack(bounded, true_count(0.025, values))
    # Half of them alike (at 0): nothing at all is published. Three at 0: the lower quartile is a bound.
    assert peers.compare("conversion_rate", 0.025, values)["withheld"] == "alike"
    values = np.array([0.0] * 3 + [0.003, 0.006, 0.012, 0.02, 0.031, 0.04, 0.05, 0.06, 0.07])
    row = peers.compare("conversion_rate", 0.025, values)
    assert row["shown"] == "figures" and (row["p25"], row["p25_bound"]) == (0.005, "<") and row["p75_bound"] == ""
    assert peers.band_from_figures(0.003, [(0.005, "<"), (0.02, ""), (0.04, "")]) is None  # below a bound: unknown


def plain_quartile_clues(values: np.ndarray, reader: int) -> tuple[Clues, int]:
    """What the earlier design published to client ``reader``: interpolated quartiles of everyone and an exact rank."""
    own, others = values[reader], np.delete(values, reader)
    figures = [(q, *printed(round(float(np.quantile(values, q)), 3), 0.001)) for q in (0.25, 0.5, 0.75)]
    rank = float(np.count_nonzero(values <= own) / len(values) * 100)
    clues = Clues(len(others), own, (0.0, 1.0), 0.001, figures=figures, weights=linear_weights,
                  at_or_below=rank_counts(rank, len(others)))
    return clues, true_count(own, others)


def test_the_attacker_recovers_values_from_plain_quartiles_and_exact_ranks():
    """The attacker is not toothless: against interpolated quartiles and exact ranks it wins."""
    values = np.array([0.021, 0.0347, 0.0412, 0.0535, 0.0618])
    for reader in range(5):  # five clients: every quartile is a client's value
        assert attack(*plain_quartile_clues(values, reader))
    six = np.array([0.021, 0.0347, 0.0412, 0.0535, 0.0618, 0.07])
    found = attack(*plain_quartile_clues(six, 2))  # six clients: my value and the median give the other middle one
    assert any(f.low <= 0.0535 <= f.high for f in found)


def test_no_band_at_the_edge_of_the_scale():
    """A CTR of 0.15 % in the top quarter would squeeze the others into 0.00–0.15 %: no band within 0.2 point."""
    own, low = 0.0015, [0.0005, 0.0008, 0.001, 0.0012, 0.02]
    leaked = Clues(len(low), own, (0.0, 1.0), peers.STEP, at_or_below=band_counts(peers.TOP, len(low)))
    assert attack(leaked, true_count(own, low))  # what that band would have told
    assert peers.compare("ctr", own, low)["shown"] == "none"
    others = [0.0, 0.0005, 0.003, 0.006, 0.02, 0.03]
    for own in (0.0004, 0.0015, 0.002):  # the decision reads only the reader's own value
        assert peers.compare("ctr", own, others)["withheld"] == "edge"
    assert peers.compare("ctr", 0.0025, others)["band"] == peers.MIDDLE
    assert peers.compare("views_growth", -0.9985, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])["withheld"] == "edge"


@pytest.mark.parametrize("others", [[0.0] * 10, [0.05] * 10, [0.0] * 8 + [0.01, 0.02], [0.05] * 6])
@pytest.mark.parametrize("own", [0.2, 0.05, 0.0301])
def test_other_clients_too_alike_to_summarise_get_nothing(others, own):
    """Ten clients without a conversion (or all at 5.0 %): any quartile or band gives them back."""
    row = peers.compare("conversion_rate", own, others)
    assert (row["shown"], row["withheld"], row["band"]) == ("none", "alike", None) and math.isnan(row["p50"])
    if len(others) >= peers.MIN_PEERS_FIGURES and len(set(others)) == 1 and own != 0.0301:
        # What the figures would have told, had they been published as before (a reader at 3.01 % against ten
        # at 0 would only have read "<0.5%" three times; at 20 % its own weight leaves the rest nothing).
        assert attack(figure_clues(own, others, "conversion_rate"), true_count(own, np.array(others)))


def figure_clues(own: float, others: list[float], metric: str = "ctr") -> Clues:
    """What the portfolio's figures would tell the reader, were they published."""
    domain = peers.METRIC_DOMAINS[metric]
    figures = peers.portfolio_figures([*others, own], metric)
    return Clues(len(others), own, domain, peers.STEP, figures=[
        (q, *printed(f, peers.STEP, b, domain)) for q, (f, b) in zip(peers.QUARTILES, figures, strict=True)])


@pytest.mark.parametrize("own,others,crowded", [
    # Twelve of sixteen CTRs within 0.2 point, their middle half 0.26 point wide: a lower quartile and a median
    # both printed 18.9 % pinned the clients between them.
    (0.1696, [0.1885, 0.1885, 0.1886, 0.1887, 0.1887, 0.189, 0.1893, 0.1895, 0.1896, 0.1897, 0.1899, 0.1905, 0.1937,
              0.2034, 0.2192, 0.2339], True),
    # Four of eleven without a click, the reader too: a lower quartile of 0.5 % (just clear of the edge, so
    # printed as a figure) left the lowest others at most 0.12 %.
    (0.0, [0.0, 0.0, 0.0, 0.0, 0.056, 0.0608, 0.0613, 0.0613, 0.0618, 0.0618, 0.0759], False),
    # Fewer than a third alike, but a median of 1.9 % and an upper quartile of 2.0 % squeezed the two clients
    # weighing most between them into 1.87–2.08 %.
    (0.02004, [0.0, 0.0, 0.0, 0.0, 0.0, 0.01754, 0.01805, 0.01822, 0.0188, 0.01932, 0.01966, 0.02004, 0.02011, 0.02015,
               0.02098, 0.021, 0.02222], True),
])
def test_others_alike_in_part_withhold_the_figures(own, others, crowded):
    assert np.quantile(others, 0.75) - np.quantile(others, 0.25) >= peers.ALIKE_SPREAD  # not alike by the middle half
    assert attack(figure_clues(own, others), true_count(own, np.array(others)))  # what the figures would give away
    assert peers.crowded(peers.portfolio_figures([*others, own], "ctr")) is crowded
    row = peers.compare("ctr", own, others)
    assert (row["shown"], row["withheld"], row["band"]) == ("none", "alike", None) and math.isnan(row["p50"])


def clustered_portfolio(rng: np.random.Generator) -> tuple[float, list[float]]:
    """A reader's value and 10 to 30 other clients' rates, a block of them nearly equal among spread ones."""
    n = int(rng.integers(10, 31))
    block = int(rng.integers(max(2, n // 6), 3 * n // 4 + 1))
    centre = rng.uniform(0.01, 0.3)
    others = np.clip(np.concatenate([centre + rng.normal(0, rng.choice([0.0, 0.0003, 0.001]), block),
                                     rng.uniform(0, 0.4, n - block)]), 0, 1)
    own = float(rng.choice([rng.uniform(0, 0.3), others.max() + rng.uniform(0, 0.3), others.min(), rng.choice(others)]))
    return min(own, 1.0), list(others)


@pytest.mark.parametrize("seed", range(4))
def test_no_value_is_recovered_from_a_portfolio_with_a_block_of_alike_clients(seed):
    """Where the figures are shown over a block of nearly equal values, no value of the block is pinned."""
    rng, shown = np.random.default_rng(seed), 0
    for _ in range(40):
        own, others = clustered_portfolio(rng)
        row = peers.compare("ctr", own, others)
        if row["shown"] != "figures":
            continue
        shown += 1
        findings = attack(figure_clues(own, others), true_count(own, np.array(others)))
        assert not findings, f"{[(f.positions, f.low, f.high) for f in findings]} from {row} (own {own}, others {sorted(others)})"
    assert shown >= 5  # the check is not vacuous: such portfolios still get their figures when the block is small


def test_minimums_count_other_clients():
    row = peers.compare("ctr", 0.05, [0.01 * i for i in range(1, 10)])  # 9 others
    assert row["shown"] == "band" and math.isnan(row["p50"]) and row["peers"] == 9
    row = peers.compare("ctr", 0.05, [0.01 * i for i in range(1, 11)])  # 10 others
    assert row["shown"] == "figures" and row["p25"] < row["p50"] < row["p75"]
    assert peers.compare("ctr", 0.05, [0.01, 0.02, 0.03, 0.04])["shown"] == "none"  # 4 others
    assert peers.compare("ctr", None, [0.01 * i for i in range(1, 11)])["shown"] == "none"


def test_figures_are_the_same_in_every_clients_report():
    """Two clients who compare their reports see one median and middle half: nothing to learn from a difference."""
    values = np.random.default_rng(5).beta(3, 60, 14)
    rows = [peers.compare("ctr", v, np.delete(values, i)) for i, v in enumerate(values)]
    assert len({(r["p25"], r["p50"], r["p75"]) for r in rows}) == 1


def test_bands_from_figures_follow_from_the_printed_numbers():
    figures = [(0.031, ""), (0.042, ""), (0.055, "")]
    assert peers.band_from_figures(0.0554, figures) == peers.MIDDLE  # prints 5.5%: not above 5.5%
    assert peers.band_from_figures(0.0556, figures) == peers.TOP
    assert peers.band_from_figures(0.0304, figures) == peers.BOTTOM
    assert peers.band_from_peers(0.05, [0.01, 0.02, 0.03, 0.04, 0.06]) == peers.TOP  # 4 of 5 at or below
    assert peers.band_from_peers(0.015, [0.01, 0.02, 0.03, 0.04, 0.06]) == peers.BOTTOM
    assert peers.band_from_peers(0.035, [0.01, 0.02, 0.03, 0.04, 0.06]) == peers.MIDDLE


def test_every_metric_is_compared_with_one_group_so_no_count_tells_of_a_peer_without_clicks():
    """With each metric compared over the clients that have it, "5 other clients" beside a conversion rate withheld
    for "fewer than 5 to compare" told that one of the five had no click at all: its click-through rate, 0 %."""
    rng = np.random.default_rng(11)
    views = rng.integers(2_000, 9_000, 11).astype(float)
    clicks = np.round(views * rng.uniform(0.02, 0.06, 11))
    clicks[4] = 0  # a peer without a click: no conversion rate
    engagements = np.round(views * rng.uniform(0.01, 0.05, 11))
    sums = pd.DataFrame({"views": views, "clicks": clicks, "conversions": np.round(clicks * rng.uniform(0.05, 0.2, 11)),
                         "engagements": engagements, "previous_views": np.round(views * rng.uniform(0.6, 1.4, 11)),
                         "seen_clicks": clicks, "seen_engagements": engagements})
    everyone = peers.portfolio_metrics(sums)
    assert everyone["conversion_rate"].isna().sum() == 1
    frames = []
    for reader in (0, 4):  # a client of the group, and the client without a click
        others = everyone.drop(index=reader)
        own = {m: (None if pd.isna(v) else float(v)) for m, v in everyone.loc[reader, list(peers.PORTFOLIO_METRICS)].items()}
        frames.append(peers.standing(own, others))
    member, outsider = frames
    # One count for every metric: the group of others with a figure of each.
    assert set(member["peers"]) == {9} and set(outsider["peers"]) == {10}
    assert set(member["shown"]) == {"band"} and list(outsider["shown"]) == ["figures", "none", "figures", "figures"]
    # The outsider's figures leave its own value out, so that its report and the group's agree wherever both show them.
    ctr_outsider = outsider.set_index("metric").loc["ctr"]
    group = peers.comparable(everyone, peers.PORTFOLIO_METRICS)
    expected = peers.portfolio_figures(group["ctr"].tolist(), "ctr")
    assert [ctr_outsider[f"p{q}"] for q in (25, 50, 75)] == [f for f, _ in expected]
