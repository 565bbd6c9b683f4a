"""The cohort report's notes on its own data: what its figures leave out, and why a cell or a cohort reads as it does.

Each function words one caveat from what it needs and returns '' (or no callout) when there is
nothing to tell: the data's first, incomplete cohort (:func:`partial_note`), a first cohort swollen
by the customers already there when the data starts (:func:`first_cohort_note`), periods without
any event (:func:`gap_note`), cohorts too small or on too thin a revenue base to count in an
average (:func:`tiny_note`, :func:`thin_base_note`), ages no cohort has reached
(:func:`unobserved_note`), purchases before signup and refunds (:func:`early_purchases_note`,
:func:`refunds_note`). :class:`~quire.reports.cohort.CohortReport` places them in its sections.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quire import formatting
from quire.charts import cohort as charts
from quire.display import Callout
from quire.formatting import format_day, long_date, month_year, number, percent
from quire.metrics.cohorts import RevenueRetention, base_per_user
from quire.metrics.kpi import format_value
from quire.reports.cohort_data import REVENUE_EVENT, CohortData
from quire.reports.prose import join_words

# The data's first cohort this many times the others' median size is most likely not a signup cohort:
# where a "signup" is a user's first order or event (an order log), everyone already a customer when the
# data starts lands in its first month.
INFLATED_FIRST = 2.0
INFLATED_AGAINST = 5  # later cohorts with users needed for that median


def partial_note(data: CohortData) -> str:
    """Why the signups of the data's first, incomplete cohort count nowhere ('' when there are none to tell)."""
    d = data
    if not d.left_out:
        return ""
    name = (month_year(d.partial_cohort) if d.granularity == "month"
            else f"the week of {format_day(d.partial_cohort, 'day_short')}")
    users = "its one signup is" if d.left_out == 1 else f"its {number(d.left_out)} signups are"
    return (f"The data starts on {long_date(d.data_start)}, partway through {name}, so that "
            f"{d.granularity} is no complete signup cohort: {users} left out of every figure, as a cohort "
            "missing its first days would read as a smaller one.")


def unobserved_note(max_age: int, horizon: int, unit: str) -> str:
    """A sentence saying which ages up to the horizon no cohort has reached yet ('' when none); ``unit`` is
    "Month" or "Week"."""
    if max_age >= horizon:
        return ""
    ages = (f"{unit}s {max_age + 1}–{horizon} are" if max_age + 1 < horizon
            else f"{unit} {horizon} is")
    return f" {ages} not yet observed for any of these cohorts and not drawn."


def first_cohort_note(signups: pd.Series, data: CohortData) -> str | None:
    """A warning when the data's first cohorts are far larger than the others (see :data:`INFLATED_FIRST`): the
    first, and the ones right after it that are as swollen (an order log's existing customers keep arriving
    for some weeks). ``signups`` are the cohorts' sizes, whatever the filter keeps: a first cohort that
    activated better is not swollen."""
    sizes = signups[signups > 0]
    # Not the data's first cohort, or too few others for a steady median (the tiny sample's 21 users
    # against 20, 3 and 10 is no swollen cohort).
    if data.signup_before is not None or len(sizes) <= INFLATED_AGAINST:
        return None
    median = float(sizes.iloc[1:].median())
    swollen = sizes.to_numpy() >= INFLATED_FIRST * median
    if not swollen[0]:
        return None
    run = int(swollen.argmin()) if not swollen.all() else len(sizes)
    if len(sizes) - run >= INFLATED_AGAINST:  # the median of the others, without the swollen ones
        median = float(sizes.iloc[run:].median())
    half_up = int(median + 0.5)  # 132.5 is "133", not round()'s "132"
    names = charts.cohort_labels(sizes.index[:run], data.granularity)
    unit = charts.age_unit(data.granularity).lower()
    if run == 1:
        return (f"The oldest cohort, {names[0]}, is the first {unit} of the data and has "
                f"{sizes.iloc[0] / median:.1f} times as many users as the others' median ({number(int(sizes.iloc[0]))} "
                f"against {number(half_up)}). If signups are taken from each user's first order or event, everyone "
                "who was already a customer when the data starts is counted in it: its retention and LTV then "
                "describe established customers, not new ones. The later cohorts are the ones to compare.")
    counts = join_words([number(int(n)) for n in sizes.iloc[:run]])
    return (f"The {run} oldest cohorts, {names[0]} to {names[-1]}, are the first {unit}s of the data and each has "
            f"at least {sizes.iloc[:run].min() / median:.1f} times as many users as the others' median ({counts} "
            f"against {number(half_up)}). If signups are taken from each user's first order or event, customers "
            "who were already customers when the data starts are counted in them: their retention and LTV then "
            "describe established customers, not new ones, and they weigh on the earlier cohorts' averages. The "
            "later cohorts are the ones to compare.")


def missing_names(data: CohortData) -> str:
    """The missing periods the report's cells fall in, named: "June 2026", "the weeks of 1 Jun and 8 Jun"."""
    if data.granularity == "month":
        return join_words([month_year(m) for m in data.missing])
    days = [format_day(w, "day_short") for w in data.missing]
    return f"the week{'s' if len(days) > 1 else ''} of {join_words(days)}"


def gap_note(data: CohortData) -> str:
    """Why the cells of missing periods show "—" and count nowhere ('' when no period is missing)."""
    d, unit = data, data.granularity
    if not d.missing:
        return ""
    one = len(d.missing) == 1
    return (f"The warehouse holds no event at all in {missing_names(d)}, though the {unit}s around "
            f"{'it' if one else 'them'} have plenty: most likely missing data (an export or a load that skipped "
            f"{'it' if one else 'them'}), not {'a ' + unit if one else unit + 's'} in which nobody was active."
            f" {'Its' if one else 'Their'} cells show — (unknown) rather than {percent(0, 0)}, and count in no "
            f"average, LTV or comparison; LTV from {'that' if one else 'the first such'} {unit} on and the "
            f"revenue to date of the cohorts that lived through {'it' if one else 'them'} are unknown too. Load "
            f"the missing events (quire warehouse check names the {unit}s) and run the report again.")


def thin_base_note(r: RevenueRetention, thin_bases: pd.Index, granularity: str) -> str:
    """Which cohorts (``thin_bases``) count in no average of revenue retention for their thin base, and why ('' when
    none)."""
    if not len(thin_bases):
        return ""
    names = charts.cohort_labels(thin_bases, granularity)
    named = [f"{name} ({formatting.money(r.base[c], 2)} from {number(int(r.sizes[c]))} user"
             f"{'' if r.sizes[c] == 1 else 's'})" for name, c in zip(names, thin_bases, strict=True)]
    rates = r.rates.loc[thin_bases]
    # The ages after the base: the base's own age is 100 % by construction.
    later = rates.where(np.asarray(rates.columns)[None, :] > r.base_age.loc[thin_bases].to_numpy()[:, None])
    top = float(later.max().max())
    one = len(named) == 1
    unit = charts.age_unit(granularity).lower()
    return (f"{join_words(named)} {'counts' if one else 'count'} in no average of revenue retention: "
            f"{'its' if one else 'their'} base revenue is under a tenth of the median cohort's, per user "
            f"({formatting.money(base_per_user(r).median(), 2)} a user), so {'its' if one else 'their'} later "
            f"{unit}s " + ("would read as shares of almost nothing." if np.isnan(top) else
                           f"read as shares of almost nothing (up to {percent(top, 0)})."))


def tiny_note(sizes: pd.Series, tiny: pd.Index, granularity: str) -> str:
    """Which cohorts (``tiny`` of those of ``sizes``) count in no average, and why ('' when every cohort does)."""
    if not len(tiny):
        return ""
    named = [f"{name} ({number(int(sizes[c]))} user{'' if sizes[c] == 1 else 's'})" for name, c in
             zip(charts.cohort_labels(tiny, granularity), tiny, strict=True)]
    median = float(sizes[sizes > 0].median())
    return (f"{', '.join(named)} {'counts' if len(named) == 1 else 'count'} in no average or comparison: fewer "
            f"than a tenth of the median cohort's {number(round(median))} users, where each user moves the rates "
            "by many points.")


def early_purchases_note(purchases: int, revenue: float) -> list[Callout]:
    """What the revenue figures leave out: the ``purchases`` (worth ``revenue``) made before the buyer's signup (a
    user's ages start there)."""
    if not purchases:
        return []
    return [Callout(f"{number(purchases)} purchase{'s' if purchases > 1 else ''} worth "
                    f"{format_value(revenue, 'currency')} by these cohorts' users came before their signup and "
                    f"{'are' if purchases > 1 else 'is'} counted in no revenue figure of this report (a user's "
                    "ages start at signup). Many such purchases usually mean that the signup dates and the "
                    "purchases come from systems that disagree on when a user started.", "info",
                    title="Left out:")]


def refunds_note(events: pd.DataFrame, users: pd.DataFrame) -> list[Callout]:
    """Purchases of ``users`` with a negative revenue (refunds, chargebacks): the revenue figures net them, which a
    reader would not guess from "purchase revenue" (a cohort's revenue fell by 40 % with no word of it)."""
    revenue = pd.to_numeric(events["revenue"])
    negative = revenue[(events["event_type"] == REVENUE_EVENT) & (revenue < 0)
                       & events["user_id"].isin(users["user_id"])]
    if negative.empty:
        return []
    n, total = len(negative), float(negative.sum())
    many = n > 1
    return [Callout(f"{number(n)} purchase{'s' if many else ''} by these cohorts' users "
                    f"{'carry' if many else 'carries'} a negative revenue ({format_value(total, 'currency')} in "
                    f"all), as refunds or chargebacks do: the revenue figures of this report net "
                    f"{'them' if many else 'it'} against the purchases.", "info", title="Netted:")]
