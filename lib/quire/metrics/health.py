"""Customer health: a 0–100 score per paying account from four components, and the band distribution.

Each component is scored 0..1 from one measure (all windows end on ``as_of``, inclusive):

* **seat utilisation** — active users ÷ seats, summed over the last 4 weeks of
  ``product_usage`` (a week counts where most of its days fall); 80 % or more scores 1 (some
  seats are always idle);
* **usage trend** — mean weekly logins of the last 4 weeks vs the 8 weeks before; flat or
  growing scores 1, a fall of 50 % or more scores 0; an account seen in fewer than 4 of
  those 8 weeks (a new one) has no trend yet. A week the table covers without a row for an
  account it has seen before is a week of no use (exports leave such weeks out);
* **ticket load** — support tickets opened in the last 90 days, weighted by priority,
  per seat; none scores 1, one normal-priority ticket per seat or more scores 0;
* **latest NPS** — the account's most recent NPS answer in the last 180 days, ÷ 10.

The score is the weighted mean of the components an account has data for (weights
renormalised), ×100, rounded. An account with no data at all gets no score and the band
``unknown``. "Active" means paying: MRR above zero at ``as_of``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from quire.formatting import number, percent
from quire.metrics.satisfaction import checked_scores

RECENT_WEEKS = 4
PRIOR_WEEKS = 8
# A baseline shorter than the weeks it is compared with is one or two weeks of noise: a client
# three weeks old had "logins up 41% on the 8 weeks before" from the single week it had before them.
MIN_PRIOR_WEEKS = RECENT_WEEKS
TICKET_DAYS = 90
NPS_DAYS = 180

# Usage trend weighs most: accounts stop using the product before they stop paying, so
# it is the earliest churn signal. Utilisation shows how deep adoption is. Tickets and
# NPS lag behind and are sparse (one survey answer can swing them), so they weigh less.
WEIGHTS = {"utilisation": 0.25, "usage_trend": 0.35, "ticket_load": 0.20, "nps": 0.20}

FULL_UTILISATION = 0.8
USAGE_DROP_FOR_ZERO = 0.5
# Urgent tickets cost the customer (and us) far more than questions; doubling per level.
PRIORITY_WEIGHTS = {"low": 0.5, "normal": 1.0, "high": 2.0, "urgent": 4.0}
TICKET_LOAD_FOR_ZERO = 1.0  # weighted tickets per seat in 90 days that score 0

HEALTHY_MIN = 70
WATCH_MIN = 40
BANDS = ("healthy", "watch", "at_risk")
WEAK_COMPONENT = 0.5  # components scoring below this are named as drivers
MAX_DRIVERS = 2


def _window(stamps: pd.Series, as_of: date, days: int) -> pd.Series:
    """Mask of ``stamps`` on the ``days`` days ending with ``as_of`` (inclusive)."""
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    stamps = pd.to_datetime(stamps)
    return (stamps >= end - pd.Timedelta(days=days)) & (stamps < end)


def _with_silent_weeks(usage: pd.DataFrame, as_of: date, through: date | None) -> pd.DataFrame:
    """``usage`` with a row of no use (no logins, no active user, the seats it had last) for each week of the health
    windows that an account already seen has no row for, up to ``through`` (the last week the table holds for any
    account; by default the last week in ``usage``).

    Usage exports leave out the weeks in which nobody logged in: an account that stopped using the product had
    no recent row at all, so its usage trend and seat utilisation went unscored and a ticket-free account came
    out "healthy 97". An account's weeks are counted from its first row, in steps of 7 days from it.
    """
    if usage.empty:
        return usage
    u = usage.assign(week=pd.to_datetime(usage["week"]).astype("datetime64[ns]"))
    last = min(pd.Timestamp(through) if through is not None else u["week"].max(), pd.Timestamp(as_of))
    start = pd.Timestamp(as_of) - pd.Timedelta(weeks=RECENT_WEEKS + PRIOR_WEEKS + 1)
    firsts = u.groupby("client_id")["week"].min()
    steps = ((u["week"] - u["client_id"].map(firsts)).dt.days / 7).round().astype(int)
    ends = ((last - firsts).dt.days // 7 + 1).clip(lower=0).to_numpy()
    begins = np.minimum(np.ceil(((start - firsts).dt.days / 7).clip(lower=0)).astype(int).to_numpy(), ends)
    grid = pd.DataFrame({"client_id": np.repeat(firsts.index.to_numpy(), ends - begins),
                         "step": np.concatenate([np.arange(b, e) for b, e in zip(begins, ends, strict=True)] or [[]])})
    seen = pd.MultiIndex.from_arrays([u["client_id"], steps])
    silent = grid[~pd.MultiIndex.from_frame(grid).isin(seen)]
    if silent.empty:
        return u
    weeks = (silent["client_id"].map(firsts) + pd.to_timedelta(7 * silent["step"], unit="D")).astype("datetime64[ns]")
    zeros = pd.DataFrame({"client_id": silent["client_id"].to_numpy(), "week": weeks.to_numpy(), "logins": 0,
                          "active_users": 0})
    # The seats an account had in its last row before the silent week (its first row's, for none before).
    had = u[["client_id", "week", "seats"]].sort_values("week")
    zeros = pd.merge_asof(zeros.sort_values("week"), had, on="week", by="client_id", direction="backward")
    return pd.concat([u, zeros], ignore_index=True)


def _usage_measures(usage: pd.DataFrame, as_of: date, through: date | None = None) -> pd.DataFrame:
    """Per client: ``seat_utilisation``, ``usage_change`` (fraction), ``prior_weeks`` (the weeks its baseline averages,
    at most :data:`PRIOR_WEEKS`) and latest ``seats``; the weeks an account has no row for count as weeks of no use
    (:func:`_with_silent_weeks`).

    A week of ``product_usage`` (named by its first day) counts in the window that holds most of its
    days, i.e. by its middle day: by its first day, a month ending on a Monday took the week of the
    2nd–8th for "the 8 weeks before" and left 3 weeks in "the last 4".
    """
    usage = _with_silent_weeks(usage, as_of, through)
    middle = pd.to_datetime(usage["week"]) + pd.Timedelta(days=3)
    recent = usage.loc[_window(middle, as_of, 7 * RECENT_WEEKS)]
    prior = usage.loc[_window(middle, as_of - timedelta(weeks=RECENT_WEEKS), 7 * PRIOR_WEEKS)]
    sums = recent.groupby("client_id")[["active_users", "seats"]].sum()
    by_client = prior.groupby("client_id")
    prior_weeks = by_client["week"].nunique()
    prior_logins = by_client["logins"].mean().where(prior_weeks >= MIN_PRIOR_WEEKS)
    seen = pd.concat([recent, prior]).assign(week=lambda f: pd.to_datetime(f["week"])).sort_values("week")
    return pd.DataFrame({
        "seat_utilisation": sums["active_users"] / sums["seats"].where(sums["seats"] > 0),
        "usage_change": recent.groupby("client_id")["logins"].mean() / prior_logins.where(prior_logins > 0) - 1.0,
        "prior_weeks": prior_weeks,
        "seats": seen.groupby("client_id")["seats"].last(),
    })


def _ticket_measures(tickets: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per client with tickets in the window: ``tickets``, ``urgent_tickets`` and priority-weighted ``weighted_tickets``."""
    recent = tickets.loc[_window(tickets["opened_at"], as_of, TICKET_DAYS)]
    # A priority outside the schema's list still costs effort: count it as normal rather than drop it.
    # astype(str): a categorical column would map to a categorical, which cannot be summed.
    weights = recent["priority"].astype(str).map(PRIORITY_WEIGHTS).fillna(PRIORITY_WEIGHTS["normal"])
    frame = pd.DataFrame({"client_id": recent["client_id"], "weight": weights, "urgent": recent["priority"] == "urgent"})
    return frame.groupby("client_id").agg(tickets=("weight", "size"), urgent_tickets=("urgent", "sum"),
                                          weighted_tickets=("weight", "sum"))


def _latest_nps(responses: pd.DataFrame, as_of: date) -> pd.Series:
    """Per client: the score of its latest NPS answer in the window."""
    answers = responses.loc[(responses["survey"] == "nps") & _window(responses["responded_on"], as_of, NPS_DAYS)]
    answers = answers.assign(responded_on=pd.to_datetime(answers["responded_on"]))
    order = ["responded_on", "response_id"] if "response_id" in answers.columns else ["responded_on"]
    checked_scores(answers["score"], "nps")
    return answers.sort_values(order).groupby("client_id")["score"].last().astype(float)


def _component_scores(m: pd.DataFrame) -> pd.DataFrame:
    """0..1 score of each component (NaN where the account lacks the data)."""
    return pd.DataFrame({
        "utilisation": (m["seat_utilisation"] / FULL_UTILISATION).clip(0, 1),
        "usage_trend": (1 + m["usage_change"] / USAGE_DROP_FOR_ZERO).clip(0, 1),
        "ticket_load": (1 - m["ticket_load"] / TICKET_LOAD_FOR_ZERO).clip(0, 1),
        "nps": m["latest_nps"] / 10,
    }, index=m.index)


def _describe(component: str, row: pd.Series) -> str:
    """Short plain-language reason for a weak component."""
    if component == "utilisation":
        return f"{percent(row['seat_utilisation'], 0)} of seats active"
    if component == "usage_trend":
        return f"usage down {percent(-row['usage_change'], 0)} vs prior {baseline_weeks(row)} weeks"
    if component == "ticket_load":
        urgent = f", {number(row['urgent_tickets'])} urgent" if row["urgent_tickets"] else ""
        return f"{number(row['tickets'])} tickets in {TICKET_DAYS} days{urgent}"
    return f"latest NPS answer {number(row['latest_nps'])}/10"


def baseline_weeks(row: pd.Series) -> int:
    """The weeks an account's usage trend is measured against: :data:`PRIOR_WEEKS`, or fewer for a young account
    (at least :data:`MIN_PRIOR_WEEKS`): "down 45% on the 8 weeks before" was said of 4 weeks."""
    weeks = row.get("prior_weeks")
    return PRIOR_WEEKS if weeks is None or pd.isna(weeks) else int(weeks)


def _drivers(components: pd.Series, measures: pd.Series) -> str:
    """The weakest components (largest weighted shortfall first), or a note that data is missing."""
    known = components.dropna()
    if known.empty:
        return "no usage, ticket or survey data"
    weak = known[known < WEAK_COMPONENT]
    shortfall = (1 - weak) * pd.Series(WEIGHTS)[weak.index]
    return "; ".join(_describe(c, measures) for c in shortfall.sort_values(ascending=False, kind="stable").index[:MAX_DRIVERS])


def _band(score: float) -> str:
    if np.isnan(score):
        return "unknown"
    return "healthy" if score >= HEALTHY_MIN else "watch" if score >= WATCH_MIN else "at_risk"


def health_scores(clients: pd.DataFrame, mrr_now: pd.Series, usage: pd.DataFrame, tickets: pd.DataFrame,
                  responses: pd.DataFrame, as_of: date, *, tickets_recorded: bool = True,
                  usage_through: date | None = None) -> pd.DataFrame:
    """Health of every paying account at ``as_of``, weakest first (see the module docstring for the method).

    ``mrr_now`` maps ``client_id`` → MRR at ``as_of`` (e.g. :func:`quire.metrics.mrr_by_client`);
    ``clients``, ``usage``, ``tickets`` and ``responses`` are the warehouse tables
    ``clients``, ``product_usage``, ``support_tickets`` and ``survey_responses``. Without a
    tickets table (``tickets_recorded`` False) ticket load is no component, rather than a perfect
    one: an account without tickets in a table that exists had none. ``usage_through`` is the last week
    ``product_usage`` holds for any account, when ``usage`` holds only some accounts' rows (one client's report):
    an account's weeks without a row up to it are weeks of no use.

    Columns: ``client_id``, ``name``, ``mrr``, ``score`` (0–100, NaN without data),
    ``band`` (healthy ≥ 70, watch 40–69, at_risk < 40, unknown), ``drivers`` (the weakest
    components, e.g. "usage down 35% vs prior 8 weeks; 9 tickets in 90 days, 4 urgent"),
    and the raw measures ``seat_utilisation``, ``usage_change`` (over ``prior_weeks`` weeks before the last
    :data:`RECENT_WEEKS`), ``ticket_load``, ``latest_nps``.
    """
    active = mrr_now[mrr_now > 0].astype(float).rename("mrr").rename_axis("client_id")
    # Left joins onto the paying accounts: plain column assignment would adopt the
    # other index when there are no paying accounts at all.
    m = (active.to_frame()
         .join(clients.set_index("client_id")["name"])
         .join(_usage_measures(usage, as_of, usage_through))
         .join(_ticket_measures(tickets, as_of))
         .join(_latest_nps(responses, as_of).rename("latest_nps")))
    ticket_columns = ["tickets", "urgent_tickets", "weighted_tickets"]
    if tickets_recorded:
        m[ticket_columns] = m[ticket_columns].fillna(0)
    m["ticket_load"] = m["weighted_tickets"] / m["seats"].where(m["seats"] > 0)

    components = _component_scores(m)
    weights = pd.Series(WEIGHTS)[components.columns]
    weighted = (components * weights).sum(axis=1, min_count=1)
    available = components.notna().mul(weights).sum(axis=1)
    m["score"] = (100 * weighted / available.where(available > 0)).round()
    m["band"] = m["score"].map(_band)
    m["drivers"] = [_drivers(components.loc[c], m.loc[c]) for c in m.index]

    columns = ["client_id", "name", "mrr", "score", "band", "drivers",
               "seat_utilisation", "usage_change", "prior_weeks", "ticket_load", "latest_nps"]
    ordered = m.reset_index().sort_values(["score", "mrr", "client_id"], ascending=[True, False, True], na_position="last")
    return ordered[columns].reset_index(drop=True)


def health_distribution(scores: pd.DataFrame) -> pd.DataFrame:
    """Accounts and MRR per band (healthy, watch, at_risk, then unknown if any): ``band``, ``clients``, ``mrr``, ``share`` of MRR."""
    bands = list(BANDS) + (["unknown"] if (scores["band"] == "unknown").any() else [])
    grouped = scores.groupby("band")["mrr"].agg(["size", "sum"]).reindex(bands, fill_value=0)
    total = float(grouped["sum"].sum())
    return pd.DataFrame({
        "band": bands,
        "clients": grouped["size"].astype(int).to_numpy(),
        "mrr": grouped["sum"].astype(float).to_numpy(),
        "share": (grouped["sum"] / total).to_numpy() if total > 0 else np.zeros(len(bands)),
    })
