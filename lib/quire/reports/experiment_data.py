"""One experiment as the experiment report reads it: loaded from the warehouse and checked before any statistic.

:func:`load` is the report's only I/O (one read-only warehouse connection, through
:mod:`quire.warehouse.experiment_queries`); :func:`check_parameters` guards the level and
correction of direct calls, and :func:`unknown_experiment` names the keys the warehouse does
hold. Variant keys become the labels people read (``social_proof`` → "Social proof") here,
once, so that every table, chart and sentence derived from the data carries them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from quire.config import get_settings
from quire.contract import contract, lacking_columns, usable_tables
from quire.errors import ParameterError
from quire.formatting import long_date
from quire.periods import LATEST
from quire.parameters import did_you_mean
from quire.metrics.experiment_analysis import has_covariate
from quire.metrics.experiment_measure import REVENUE, Measure, measure_from
from quire.metrics.experiments import ADJUSTMENTS
from quire.warehouse import experiment_queries as queries
from quire.warehouse.engine import connection

CONTRACT = contract("experiment")
#: An A/A test says so in its key ("homepage-aa", "signup_aa_2026", "aa-test") or its name
#: ("Homepage A/A check"): the warehouse has no design column, and the arms' data cannot tell
#: "identical by design" from "no effect". A key that starts with the word "aa" names an A/A
#: test only as "aa-test" or "aa-check" ("aa-batteries" sells batteries), and "A/A/B" or "A/A+"
#: in a name is no A/A test: an A/B test reported as a failed A/A check hides a real result.
AA_KEY = re.compile(r"(?:[-_.]aa(?:$|[-_.])|^aa(?:$|[-_.](?:tests?|checks?)(?:$|[-_.])))", re.IGNORECASE)
AA_NAME = re.compile(r"\bA/A\b(?![/+])")


@dataclass(frozen=True)
class ExperimentData:
    """One experiment as the warehouse holds it."""

    key: str
    name: str
    hypothesis: str
    primary_metric: str
    started_on: pd.Timestamp
    ended_on: pd.Timestamp | None
    variants: pd.DataFrame  # variant, is_control, allocation (control first)
    assignments: pd.DataFrame  # one row per user: variant, converted, revenue, pre_revenue (optional), ...
    # Optional tables of the contract the warehouse lacks (the report uses their defaults and says so).
    absent: tuple[str, ...] = ()
    lacking: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # of those, the ones there without columns
    # Users assigned before the experiment started or after it ended, left out of ``assignments``.
    outside_dates: int = 0
    # What the assignments' continuous metric (the ``revenue`` column) measures, and its unit.
    measure: Measure = REVENUE
    # No experiment_variants table and no variant named as the control: the first by name was taken for it.
    control_guessed: bool = False
    # Other variants whose names also say "control" than the one taken for it (no plan: "baseline" and "control").
    control_rivals: tuple[str, ...] = ()
    # Users per variant whose conversion the warehouse leaves empty (counted as not converted), and whose revenue it
    # leaves empty or holds as no finite number (counted as 0): see :func:`filled`.
    unrecorded_conversions: Mapping[str, int] = field(default_factory=dict)
    unrecorded_revenue: Mapping[str, int] = field(default_factory=dict)
    # Users whose pre_revenue is infinite, set aside as if empty (CUPED is then left out, as for an empty one).
    infinite_pre_revenue: int = 0

    @property
    def has_covariate(self) -> bool:
        """Whether the assignments carry the pre-period metric CUPED needs, varying across users as revenue does."""
        return has_covariate(self.assignments)

    @property
    def plan_assumed(self) -> bool:
        """No planned split is recorded (no experiment_variants): the variants are taken to share traffic equally."""
        return "experiment_variants" in self.absent

    @property
    def is_aa(self) -> bool:
        """An A/A test: every arm gets the same experience, to check the assignment and the metrics."""
        return bool(self.aa_sign)

    @property
    def aa_sign(self) -> str:
        """What says this is an A/A test ("its key", "its name"), or "" for any other test."""
        return "its key" if AA_KEY.search(self.key) else "its name" if AA_NAME.search(self.name) else ""

    def labelled(self) -> "ExperimentData":
        """The same experiment with each variant's key replaced by its label (``social_proof`` → "Social proof").

        Relabelling the data once, before any statistic, puts the labels in every table,
        chart, sentence and alt text the report derives from it. A variant users were assigned
        to without a plan keeps its key: the error about it must name what the warehouse holds.
        """
        planned = list(self.variants["variant"].astype(str))
        unplanned = set(self.assignments["variant"].astype(str).unique()) - set(planned)
        labels = variant_labels(planned, reserved=unplanned)
        return replace(self, variants=_relabel(self.variants, labels), assignments=_relabel(self.assignments, labels),
                       control_rivals=tuple(labels.get(v, v) for v in self.control_rivals),
                       unrecorded_conversions={labels.get(v, v): n for v, n in self.unrecorded_conversions.items()},
                       unrecorded_revenue={labels.get(v, v): n for v, n in self.unrecorded_revenue.items()})


def variant_label(key: str) -> str:
    """How people read a variant key: ``social_proof`` → "Social proof"; a key with capitals or spaces is kept."""
    if key != key.lower() or " " in key.strip():
        return key
    words = " ".join(re.split(r"[_\-]+", key)).strip()
    return words[:1].upper() + words[1:] if words else key


def variant_labels(keys: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """Each key's label; the keys themselves if two would read the same (``one_page`` and ``one-page``) or a
    label would equal one of the ``reserved`` names. Keys that look alike but for invisible characters
    ("control" and "contro\\u200bl") have those characters written out ("contro[U+200B]l") wherever they show."""
    keys = list(dict.fromkeys(keys))
    looks = Counter(_without_invisible(k) for k in {*keys, *reserved})
    keys_shown = {k: _invisible_written_out(k) if looks[_without_invisible(k)] > 1 else k for k in keys}
    labels = {k: variant_label(keys_shown[k]) for k in keys}
    clash = len(set(labels.values())) < len(labels) or set(labels.values()) & (set(reserved) - set(keys))
    return keys_shown if clash else labels


def _without_invisible(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _invisible_written_out(text: str) -> str:
    """``text`` with each format character (zero-width space, joiners, direction marks) written as [U+XXXX]."""
    return "".join(f"[U+{ord(c):04X}]" if unicodedata.category(c) == "Cf" else c for c in text)


def _relabel(frame: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    return frame.assign(variant=frame["variant"].astype(str).map(lambda v: labels.get(v, v)))


def unknown_experiment(key: str, known: list[str]) -> ParameterError:
    """The error for a key the warehouse does not hold, listing the keys it does."""
    listed = ", ".join(known) if known else "none (the warehouse holds no experiments)"
    return ParameterError(f"parameter 'experiment': no experiment {key!r} in the warehouse; {did_you_mean(key, known)}known: {listed}",
                          parameter="experiment")


def load(experiment: str, url: str | None = None) -> ExperimentData:
    """Read one experiment (by key, or ``latest``: the one with users that started last), its planned variants and its assignments.

    Only the assignments are required (:data:`CONTRACT`); without the experiments or
    experiment_variants table their stand-ins are derived from the assignments.
    """
    with connection(url or get_settings().warehouse) as conn:
        usable = usable_tables(conn, CONTRACT)
        if experiment == LATEST:
            experiment = queries.newest_experiment_key(conn) or experiment
        row = queries.experiment_by_key(conn, experiment)
        if row is None:
            raise unknown_experiment(experiment, queries.experiment_keys(conn))
        experiment_id = int(row["experiment_id"])
        ended_on = None if pd.isna(row["ended_on"]) else row["ended_on"]
        queries.check_dates(row)
        stored = queries.experiment_measure(conn, experiment_id)
        measure = measure_from(stored["metric_name"], stored["metric_unit"])
        assignments = queries.assignments(conn, experiment_id)
        inside = within_dates(assignments["assigned_at"], row["started_on"], ended_on)
        not_started(row, bool(inside.any()))
        kept, gaps = filled(assignments[inside].reset_index(drop=True))
        variants = queries.variants(conn, experiment_id)
        absent = tuple(t.name for t in CONTRACT.optional_tables if t.name not in usable)
        return ExperimentData(
            key=str(row["key"]), name=str(row["name"]), hypothesis=str(row["hypothesis"]),
            primary_metric=str(row["primary_metric"]), started_on=row["started_on"], ended_on=ended_on,
            variants=variants, assignments=kept, absent=absent, **gaps,
            lacking=lacking_columns(conn, CONTRACT),
            outside_dates=int((~inside).sum()), measure=measure,
            control_guessed=("experiment_variants" in absent
                             and queries.control_guessed([str(v) for v in variants["variant"]])),
            control_rivals=(tuple(queries.control_rivals([str(v) for v in variants["variant"]]))
                            if "experiment_variants" in absent else ()),
        )


def not_started(row, has_users: bool) -> None:
    """Refuse an experiment that starts after today and has no user on its days yet: its report was published as
    "Since 1 March 2027 (still running)" over nobody."""
    start = pd.Timestamp(row["started_on"]).date()
    if start > date.today() and not has_users:
        raise ParameterError(f"experiment {row['key']!r} has not started: it starts on {long_date(start)}, and no user "
                             "is in it yet; run its report once it has started (`quire experiments` lists each one's "
                             "status)", parameter="experiment")


def filled(assignments: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, object]]:
    """The assignments as the report's rules read them, and how many values those rules had to supply.

    Conversion rate and revenue per user are taken over every assigned user (the glossary's definitions): a user
    whose ``converted`` is empty (NULL) counts as not converted, and one whose ``revenue`` is empty or no finite
    number (NULL, as a LEFT JOIN leaves a non-buyer; NaN; an infinity) as 0. Left to the statistics, an empty
    revenue dropped the user from the revenue test alone, which flipped a verdict while the report said non-buyers
    counted as 0. An infinite ``pre_revenue`` is set aside as an empty one: CUPED's slope and every adjusted value
    became NaN, and the report said there was nothing to analyse. The counts (per variant for the first two) go
    into :class:`ExperimentData`, for the report to say what it counted.
    """
    converted, revenue = assignments["converted"], assignments["revenue"].astype("float64")
    no_conversion, no_revenue = converted.isna(), ~np.isfinite(revenue)
    out = assignments.assign(converted=converted.fillna(False).astype(bool), revenue=revenue.where(~no_revenue, 0.0))
    gaps: dict[str, object] = {"unrecorded_conversions": _per_variant(out, no_conversion),
                               "unrecorded_revenue": _per_variant(out, no_revenue)}
    if "pre_revenue" in out:
        pre = out["pre_revenue"].astype("float64")
        infinite = np.isinf(pre)
        out = out.assign(pre_revenue=pre.where(~infinite))
        gaps["infinite_pre_revenue"] = int(infinite.sum())
    return out, gaps


def _per_variant(assignments: pd.DataFrame, which: pd.Series) -> dict[str, int]:
    """How many of the rows ``which`` marks each variant holds (variants without any left out)."""
    return {str(v): int(n) for v, n in assignments.loc[which.to_numpy(bool), "variant"].value_counts(sort=False).items()}


def within_dates(assigned_at: pd.Series, started_on, ended_on) -> pd.Series:
    """Which assignments fall on the experiment's days, ``started_on`` to ``ended_on`` (None: still running).

    Users assigned before the start or after the end (a flag left on, a test account, a late
    backfill) did not take part in the experiment its dates describe: counting them would change
    its rates while its header still names those dates.
    """
    day = pd.to_datetime(assigned_at).dt.normalize()
    inside = day >= pd.Timestamp(started_on)
    if ended_on is not None:
        inside &= day <= pd.Timestamp(ended_on)
    return inside


def check_parameters(level: float, correction: str) -> None:
    """The pipeline checks these against reports.yaml; this guards direct calls of
    :func:`~quire.reports.experiment.build`."""
    if not 0.5 <= level < 1:
        raise ParameterError(f"parameter 'level': the confidence level must lie in 0.5..1, not {level}", parameter="level")
    if correction not in ADJUSTMENTS:
        raise ParameterError(f"parameter 'correction': must be one of {', '.join(ADJUSTMENTS)}, not {correction!r}",
                             parameter="correction")
