"""An attacker for the client report's peer comparison, shared by the tests that try to break it.

The attacker is a client reading its own report. It knows its own exact values, the number
of other clients compared (the report states it), everything the report prints about the
portfolio for a metric (quartiles, a band or an exact percentile rank), the range the metric
can take, and how the figures are computed (the code is no secret). From that it works out,
for the k-th smallest of the other clients' values, every value consistent with what it read:
one linear programme per bound (the published figures are weighted sums of the sorted
values, the band or rank says how many values lie at or below its own). A value is
*recovered* when that range is at most two printed steps wide: the reader then knows the value
to within one step (0.1 percentage point) either way.

Linear programmes are solved for the position the client's own value really has among the
others (known to the test, not to the attacker): the attacker, not knowing it, can only be
less sure, so a range found wide here is wide for the attacker too; only a range found narrow
is re-solved over every position the attacker cannot rule out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.stats import beta

from quire.metrics import peers
from support import warehouse_copy

def hd_weights(m: int, q: float) -> np.ndarray:
    """Harrell–Davis weights of the ``m`` sorted values for quantile ``q`` (the estimate is weights @ sorted)."""
    a, b = q * (m + 1), (1 - q) * (m + 1)
    return np.diff(beta.cdf(np.arange(m + 1) / m, a, b))


def linear_weights(m: int, q: float) -> np.ndarray:
    """Weights of numpy's default (linear interpolation) quantile of ``m`` sorted values."""
    h = (m - 1) * q
    lo = int(math.floor(h))
    w = np.zeros(m)
    w[lo] += 1 - (h - lo)
    if h > lo:
        w[lo + 1] += h - lo
    return w


@dataclass(frozen=True)
class Clues:
    """What one report tells its reader about one metric of the other clients."""

    peers: int                                   # other clients with a value (stated in the report)
    own: float | None                            # the reader's own exact value
    domain: tuple[float, float]                  # the range the metric can take
    step: float                                  # printed precision (0.001 = 0.1 percentage point)
    figures: Sequence[tuple[float, float, float]] = ()  # (quantile, lowest, highest value the printed figure allows)
    weights: Callable[[int, float], np.ndarray] = hd_weights
    own_in_figures: bool = True                  # the reader's own value is one of the values the figures summarise
    at_or_below: tuple[int, int] | None = None   # how many others lie at or below ``own``: (fewest, most) the report allows
    capped: bool = False                         # the domain's top is a cap: a value there may be anything above it

    def real(self, low: float, high: float) -> tuple[float, float]:
        """A range of capped values as a range of the real ones: a top at the cap leaves the value open above."""
        return low, (math.inf if self.capped and high >= self.domain[1] - 1e-12 else high)

    def positions(self) -> range:
        """The counts of other clients at or below the reader's value that the report allows."""
        low, high = self.at_or_below if self.at_or_below is not None else (0, self.peers)
        return range(max(low, 0), min(high, self.peers) + 1)


def band_counts(band: str | None, peers: int) -> tuple[int, int] | None:
    """What a band of :mod:`quire.metrics.peers` (counted from the other clients) says about the count at or below."""
    if band is None:
        return None
    need = math.ceil(0.75 * peers)
    if band == "Top quarter":
        return need, peers
    if band == "Bottom quarter":
        return 0, peers - need
    return peers - need + 1, need - 1


def rank_counts(percentile: float, peers: int) -> tuple[int, int]:
    """What an exact percentile rank (share of all values, own included, at or below own) says about the count."""
    below = round(percentile / 100 * (peers + 1)) - 1
    return below, below


def _constraints(clues: Clues, below: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A_ub, b_ub over the sorted other values y_0..y_{n-1}, given ``below`` of them at or below the reader's value."""
    n, rows, bounds = clues.peers, [], []

    def add(row: np.ndarray, bound: float) -> None:
        rows.append(row)
        bounds.append(bound)

    for i in range(n - 1):  # sorted
        r = np.zeros(n)
        r[i], r[i + 1] = 1, -1
        add(r, 0.0)
    own = clues.own
    if own is not None:
        if below > 0:
            r = np.zeros(n)
            r[below - 1] = 1
            add(r, own)
        if below < n:
            r = np.zeros(n)
            r[below] = -1
            add(r, -own)
    for q, low, high in clues.figures:
        if clues.own_in_figures and own is not None:
            w = clues.weights(n + 1, q)
            known, w = w[below] * own, np.delete(w, below)
        else:
            known, w = 0.0, clues.weights(n, q)
        if math.isfinite(high):
            add(w, high - known)
        if math.isfinite(low):
            add(-w, -(low - known))
    return np.array(rows).reshape(-1, n), np.array(bounds)


def printed(value: float, step: float, bound: str = "", domain: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float, float]:
    """The values a printed figure allows: ±half a step, or everything below (``"<"``) or above (``">"``) it."""
    if bound == "<":
        return domain[0], value
    if bound == ">":
        return value, domain[1]
    return value - step / 2, value + step / 2


def _order_only(clues: Clues, below: int) -> list[tuple[float, float]]:
    """Ranges when only the order around the reader's value is known: below it down to the edge, or above it."""
    lo, hi = clues.domain
    own = clues.own if clues.own is not None else math.nan
    return [clues.real(lo, own) if i < below else clues.real(own, hi) for i in range(clues.peers)]


def _ranges(clues: Clues, below: int, only: Sequence[int] | None = None) -> dict[int, tuple[float, float]] | None:
    """The range of each sorted other value (or of those in ``only``) given ``below``.

    None when ``below`` contradicts what was published.
    """
    n = clues.peers
    wanted = range(n) if only is None else only
    if not clues.figures:
        full = _order_only(clues, below)
        return {i: full[i] for i in wanted}
    a, b = _constraints(clues, below)
    lo, hi = clues.domain
    box = [(lo, None if math.isinf(hi) else hi)] * n
    out = {}
    for i in wanted:
        c = np.zeros(n)
        c[i] = 1
        low = linprog(c, A_ub=a, b_ub=b, bounds=box, method="highs")
        if low.status == 2:
            return None
        high = linprog(-c, A_ub=a, b_ub=b, bounds=box, method="highs")
        out[i] = clues.real(float(low.fun), math.inf if high.status == 3 else float(-high.fun))
    return out


def ranges(clues: Clues, true_below: int | None = None) -> list[tuple[float, float]]:
    """For each sorted other value, the smallest and largest value the reader cannot rule out.

    With ``true_below`` (the real count of others at or below the reader's value) every range is
    solved for that count first; only the narrow ones are then widened over every other count
    the reader cannot rule out (see the module docstring), until they are no longer narrow.
    """
    counts = list(clues.positions()) if clues.own is not None else [0]
    if true_below is None or true_below not in counts:
        hull = {i: (math.inf, -math.inf) for i in range(clues.peers)}
        todo, start = list(range(clues.peers)), counts
    else:
        hull = _ranges(clues, true_below)
        assert hull is not None, "the true portfolio must be consistent with what the report published"
        todo = [i for i, (low, high) in hull.items() if _pinned(low, high, clues.step)]
        start = [c for c in counts if c != true_below]
    for below in start:
        if not todo:
            break
        found = _ranges(clues, below, todo) or {}
        for i, (low, high) in found.items():
            hull[i] = (min(hull[i][0], low), max(hull[i][1], high))
        if true_below is not None:
            todo = [i for i in todo if _pinned(*hull[i], clues.step)]
    return [hull[i] for i in range(clues.peers)]


def _pinned(low: float, high: float, step: float) -> bool:
    """A range no wider than two printed steps: the value is known to within ± one step."""
    return high - low <= 2 * step * (1 + 1e-6)


@dataclass(frozen=True)
class Finding:
    """Other clients' sorted positions pinned into one range narrower than the printed precision."""

    positions: tuple[int, ...]
    low: float
    high: float


def attack(clues: Clues, true_below: int | None = None) -> list[Finding]:
    """Every pinned value, grouped: consecutive pinned positions whose ranges fit together in one printed step."""
    if clues.peers == 0 or (not clues.figures and clues.at_or_below is None):
        return []
    found: list[Finding] = []
    for i, (low, high) in enumerate(ranges(clues, true_below)):
        if not _pinned(low, high, clues.step):
            continue
        last = found[-1] if found else None
        if last and last.positions[-1] == i - 1 and _pinned(min(low, last.low), max(high, last.high), clues.step):
            found[-1] = Finding((*last.positions, i), min(low, last.low), max(high, last.high))
        else:
            found.append(Finding((i,), low, high))
    return found


def true_count(own: float, others: Sequence[float]) -> int:
    """How many of ``others`` lie at or below ``own``."""
    return int(np.count_nonzero(np.asarray(others, dtype=float) <= own))




# -- reading a client report as its reader does ----------------------------------------------------------

PERCENT = r"([<>]?)([+−-]?)(\d+(?:\.\d+)?)%"


def parse_percent(text: str) -> tuple[float, str] | None:
    """"4.9%" → (0.049, ""), "−8.9%" → (−0.089, ""), "<0.5%" → (0.005, "<"); None for "—"."""
    import re

    match = re.fullmatch(PERCENT, text.strip())
    if not match:
        return None
    bound, sign, number = match.groups()
    return (-1 if sign in "−-" and sign else 1) * float(number) / 100, bound


@dataclass
class Comparison:
    """What the "How you compare" section of one client report prints."""

    others: int | None                       # "against the N other clients"
    method: Callable[[int, float], np.ndarray]  # the quantile method the report's appendix names
    rows: dict[str, dict[str, str]]          # metric label -> column -> printed text
    text: str                                # the section's whole text, alt text included
    alt: str                                 # the chart's alt text


def read_comparison(html: str) -> Comparison | None:
    """The comparison section of a client report's HTML (None when the report has none)."""
    import re

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    heading = next((h for h in soup.find_all(["h2", "h3"]) if h.get_text(strip=True) == "How you compare"), None)
    if heading is None:
        return None
    section = heading.find_parent("section")
    lead = section.find(class_="q-lead")
    found = re.search(r"against the (\d+) (other )?clients", lead.get_text(" ") if lead else "")
    rows: dict[str, dict[str, str]] = {}
    table = section.find("table")
    if table is not None:
        head = [th.get_text(strip=True) for th in table.find("thead").find_all("th")]
        for tr in table.find("tbody").find_all("tr"):
            cells = [td.get_text(strip=True) for td in tr.find_all("td")]
            rows[cells[0]] = dict(zip(head, cells, strict=True))
    alts = " ".join(img.get("alt", "") for img in section.find_all("img"))
    # The reader learns the method from the appendix, as the report defines its figures there.
    method = hd_weights if "Harrell–Davis" in soup.get_text(" ") else linear_weights
    # "the 29 clients" (the client among them) or "the 28 other clients": the reader counts the others.
    others = None if not found else int(found.group(1)) - (0 if found.group(2) else 1)
    return Comparison(others, method, rows, section.get_text(" ") + " " + alts, alts)


# -- portfolios cut down from a real warehouse (October 2026 against September) ----------------------------

#: The range each published metric's values take in the figures (the attacker knows rates lie in 0–100 %, and that
#: growth, above −100 %, counts as the cap above it): the code is no secret.
DOMAINS = peers.METRIC_DOMAINS
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


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def cut_down_portfolio(url: str, path, size: int) -> dict[str, dict[str, float]]:
    """A copy at ``path`` of the warehouse at ``url`` keeping the engagement of ``size`` clients (with views in
    September and October 2026); each kept client's true metrics for October, by slug, computed here in SQL."""
    with warehouse_copy(url, path) as con:
        rows = con.execute(TRUTH_SQL).fetchall()
        kept = [r for r in rows if r[6] > 0][:size]  # clients with views in both months: growth for everyone
        ids = [r[0] for r in kept]
        con.execute(f"delete from engagement_daily where client_id not in ({', '.join('?' * len(ids))})", ids)
    return {slug: {"ctr": _ratio(cl, v), "conversion_rate": _ratio(cv, cl), "engagement_rate": _ratio(en, v),
                   "views_growth": _ratio(v, pv) - 1, "views": v, "clicks": cl, "conversions": cv}
            for _, slug, v, cl, cv, en, pv in kept}


def clues_from_row(row: dict[str, str], metric: str, own: float, n: int, method, own_in_figures: bool = True
                   ) -> Clues | None:
    """What one printed row of the comparison table tells the reader about ``n`` other values (``own_in_figures``:
    the reader's value is among those the figures summarise)."""
    domain, step = DOMAINS[metric], 0.001
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
    return Clues(n, min(own, domain[1]), domain, step, figures=figures, weights=method, at_or_below=counts,
                 capped=metric in peers.CAPPED, own_in_figures=own_in_figures)


__all__ = ["Clues", "Comparison", "DOMAINS", "Finding", "attack", "band_counts", "clues_from_row", "cut_down_portfolio",
           "hd_weights", "linear_weights", "parse_percent", "printed", "rank_counts", "ranges", "read_comparison", "true_count"]
