"""Customer satisfaction: NPS (0–10 survey) and CSAT (1–5 survey).

Input for :func:`satisfaction`: the ``survey_responses`` table as a DataFrame
(``responded_on``, ``survey`` = ``nps`` | ``csat``, ``score``). Every answer counts once,
so an account that answers often weighs more — the textbook, response-level definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from quire.errors import WarehouseDataError
from quire.periods import Period
from quire.warehouse.schema import SURVEY_SCALES

PROMOTER_MIN = 9  # 9–10 promote
DETRACTOR_MAX = 6  # 0–6 detract; 7–8 are passives, counted in the base only
SATISFIED_MIN = 4  # CSAT: "satisfied" or "very satisfied" on 1–5


#: The scale of each survey's answers.
SCALES = SURVEY_SCALES


def checked_scores(scores: Iterable[float], survey: str) -> pd.Series:
    """Non-missing scores of ``survey`` (``nps`` or ``csat``) as floats.

    A score outside the survey's scale is bad data, not an answer: a :class:`WarehouseDataError` (a survey tool
    exporting NPS on 0–100, say, which would otherwise score a client's health 197 of 100).
    """
    low, high = SCALES[survey]
    values = pd.Series(list(scores), dtype=float).dropna()
    bad = values[(values < low) | (values > high)]
    if len(bad):
        raise WarehouseDataError(f"the warehouse's {survey.upper()} answers (survey_responses.score) must lie in "
                                 f"{low}–{high}; found {', '.join(f'{v:g}' for v in bad.unique()[:5])}")
    return values


def nps(scores: Iterable[float]) -> float | None:
    """Net promoter score in points (−100..100): % of 9–10 answers minus % of 0–6 answers; None without answers."""
    values = checked_scores(scores, "nps")
    if values.empty:
        return None
    return float(100.0 * ((values >= PROMOTER_MIN).mean() - (values <= DETRACTOR_MAX).mean()))


def csat(scores: Iterable[float]) -> float | None:
    """Customer satisfaction: share (0..1) of 1–5 answers that are 4 or 5; None without answers."""
    values = checked_scores(scores, "csat")
    if values.empty:
        return None
    return float((values >= SATISFIED_MIN).mean())


@dataclass(frozen=True)
class Satisfaction:
    """NPS (points) and CSAT (fraction) of a period, with the number of answers behind each."""

    nps: float | None
    csat: float | None
    nps_responses: int
    csat_responses: int


def satisfaction(responses: pd.DataFrame, period: Period) -> Satisfaction:
    """NPS and CSAT of the survey answers given within ``period`` (both ends inclusive)."""
    answered = pd.to_datetime(responses["responded_on"])
    inside = responses.loc[answered.between(pd.Timestamp(period.start), pd.Timestamp(period.end))]
    nps_scores = inside.loc[inside["survey"] == "nps", "score"].dropna()
    csat_scores = inside.loc[inside["survey"] == "csat", "score"].dropna()
    return Satisfaction(nps=nps(nps_scores), csat=csat(csat_scores),
                        nps_responses=len(nps_scores), csat_responses=len(csat_scores))
