"""MRR forecast with a prediction interval: exponential smoothing, with a damped trend where the data supports one.

Two of statsmodels' ``ETSModel`` exponential-smoothing models are fitted, both with additive error
and no seasonality (subscription MRR has none to speak of): one with an additive damped trend,
ETS(A,Ad,N), and one without a trend, ETS(A,N,N). The one with the lower AICc is used, as R's
``forecast::ets`` chooses (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 8.6):
a trend is extrapolated only where it pays for its three extra parameters. Damping keeps a long
horizon from extrapolating a recent trend forever. A history of steps (MRR flat for months, then a
jump) made the damped trend hold its level still and draw a line through the steps, so the
forecast began well below the latest MRR; the model without a trend follows the latest level.

It runs on MRR itself, not log MRR: on synthetic linear, compounding, flat, declining and
saturating histories a log fit (alone, or chosen by likelihood) did not give better-calibrated
intervals than the plain fit, and was worse on declines.

Intervals start as the model's exact (analytic) prediction intervals — no simulation, so the
result is deterministic without a random seed. Those leave out the uncertainty of the fitted
parameters and of the model itself (a trend that turns): on the sample warehouses they held the
actual MRR in under half of the months 2 to 6 ahead, not 9 in 10. So they are checked on the
history itself: the model chosen is refitted at each of its last :data:`BACKTEST_ORIGINS` months,
each error of the months that followed is measured in the standard deviations its interval
gave it, and the interval is widened by as much as it takes for the stated share of those
errors to fall inside (split conformal calibration; never narrowed). A history too short for
:data:`MIN_BACKTEST_ERRORS` such errors keeps the model's interval, and says so.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from quire.errors import EmptyDataError

MIN_POINTS = 12  # a damped trend has 5 parameters; fewer than a year of months over-fits
BACKTEST_ORIGINS = 24  # the latest months the model chosen is refitted at to check its interval (a fit each)
MIN_BACKTEST_ERRORS = 20  # fewer, and the 90th percentile of the errors says little
#: Months ahead of each refit whose errors check the interval, whatever the horizon asked: a month's band is the
#: same in a 1-month and a 24-month forecast (checked on one-month errors alone it was narrower, and a short
#: history could not check a 1-month forecast at all). The executive report forecasts up to 24 months.
CHECKED_AHEAD = 24


def _monthly(series: pd.Series) -> pd.Series:
    """The series as consecutive month starts with a monthly frequency; rejects gaps."""
    values = series.dropna().astype(float)
    values.index = pd.DatetimeIndex(values.index).to_period("M").to_timestamp()
    regular = values.sort_index().asfreq("MS")
    if regular.isna().any():
        missing = ", ".join(f"{m:%Y-%m}" for m in regular.index[regular.isna()][:3])
        raise ValueError(f"the MRR series must have one value per consecutive month; missing {missing}")
    return regular


def _predict(history: pd.Series, horizon: int, alpha: float, trend: bool | None = None) -> tuple[pd.DataFrame, bool, float]:
    """Columns ``mean``, ``pi_lower``, ``pi_upper`` for the ``horizon`` months after ``history``, whether the
    model chosen has a trend, and its level at the last month (where its forecast starts from). ``trend`` fits
    that model alone (True: the damped trend) instead of choosing between the two."""
    if history.nunique() == 1:
        # Nothing varies, so there is no error variance to estimate (the fit would divide by zero).
        return pd.DataFrame({"mean": history.iloc[-1], "pi_lower": history.iloc[-1], "pi_upper": history.iloc[-1]},
                            index=range(horizon)), False, float(history.iloc[-1])
    # Imported here: statsmodels takes ~1.5 s to import, and everything that shows a KPI
    # (quire.display, the CLI) imports quire.metrics without ever forecasting.
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    fits = []
    forms = ("add", None) if trend is None else ("add",) if trend else (None,)
    for form in forms:
        model = ETSModel(history, error="add", trend=form, damped_trend=form is not None)
        with warnings.catch_warnings():
            # Smooth or short histories can hit the optimiser's iteration limit; the estimate is still usable.
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append((form is not None, model.fit(disp=False)))
    trended, result = min(fits, key=lambda fit: fit[1].aicc)  # on a tie, the damped trend (listed first)
    n = len(history)
    return (result.get_prediction(start=n, end=n + horizon - 1, method="exact").summary_frame(alpha=alpha),
            trended, float(result.states["level"].iloc[-1]))


def forecast_mrr(series: pd.Series, horizon: int = 6, level: float = 0.9) -> pd.DataFrame:
    """Forecast monthly MRR ``horizon`` months past the end of ``series``, with a ``level`` prediction interval.

    ``series``: total MRR at the end of each month, indexed by month (e.g. from
    :func:`quire.metrics.mrr_series`), consecutive months, at least 12 of them —
    otherwise :class:`~quire.errors.EmptyDataError`.

    Returns columns ``month`` (Timestamp, first of month), ``forecast`` and ``lower`` /
    ``upper`` (the interval), with ``0 <= lower <= forecast <= upper``; ``attrs["trend"]`` says
    whether the model chosen projects a trend (False: it holds a level), ``attrs["level"]`` is the
    model's smoothed MRR at the last month of ``series``, where its forecast starts from (the first
    month's forecast is that level plus one month of the trend).
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 month, got {horizon!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.9), got {level!r}")
    history = _monthly(series)
    if len(history) < MIN_POINTS:
        # No advice here: which period would have enough history depends on the data, which the caller knows.
        raise EmptyDataError(
            f"An MRR forecast needs at least {MIN_POINTS} months of history; only {len(history)} available.")
    frame, trend, start = _predict(history, horizon, 1.0 - level)
    widen, errors = calibration(history, max(horizon, CHECKED_AHEAD), level, trend)
    mean = frame["mean"].to_numpy()
    lower = mean - widen * (mean - frame["pi_lower"].to_numpy())
    upper = mean + widen * (frame["pi_upper"].to_numpy() - mean)
    months = pd.date_range(history.index[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    # MRR cannot go below zero.
    out = pd.DataFrame({"month": months, "forecast": mean.clip(min=0.0), "lower": lower.clip(min=0.0),
                        "upper": upper.clip(min=0.0)})
    out.attrs["trend"] = trend
    out.attrs["level"] = start
    out.attrs["widened"] = widen  # the model's interval × this (1: as the model gave it)
    out.attrs["backtest_errors"] = errors  # how many later months checked it (under MIN_BACKTEST_ERRORS: unchecked)
    return out


def calibration(history: pd.Series, horizon: int, level: float, trend: bool) -> tuple[float, int]:
    """How much the ``level`` interval of the model chosen (``trend``: the damped trend's, else the level's) must
    widen to hold that share of the months that followed when that model is refitted at each of the last
    :data:`BACKTEST_ORIGINS` months of ``history`` (with at least :data:`MIN_POINTS` before each), and on how many
    such months up to ``horizon`` ahead; (1.0, n) when it needs no widening or when ``n`` is under
    :data:`MIN_BACKTEST_ERRORS`.

    Each error is taken in the standard deviations the interval of its origin gave it (the half-width ÷ the normal
    quantile), so errors one and six months ahead are comparable; the factor is their ``level`` quantile ÷ that
    normal quantile.
    """
    z = float(norm.ppf(0.5 + level / 2))
    scaled: list[float] = []
    for origin in range(max(MIN_POINTS, len(history) - BACKTEST_ORIGINS), len(history)):
        ahead = min(horizon, len(history) - origin)
        frame, _, _ = _predict(history.iloc[:origin], ahead, 1.0 - level, trend)
        sd = (frame["pi_upper"].to_numpy() - frame["pi_lower"].to_numpy()) / (2 * z)
        actual = history.iloc[origin:origin + ahead].to_numpy()
        for err, spread in zip(actual - frame["mean"].to_numpy(), sd, strict=True):
            if spread > 0:  # a flat history before the origin gives no spread to measure in
                scaled.append(abs(err) / spread)
    if len(scaled) < MIN_BACKTEST_ERRORS:
        return 1.0, len(scaled)
    # The conformal quantile: the ceil((n + 1) · level)-th smallest, so that a new error falls inside with
    # probability at least ``level`` when errors are exchangeable.
    rank = min(len(scaled), int(np.ceil((len(scaled) + 1) * level)))
    return max(1.0, float(np.sort(scaled)[rank - 1]) / z), len(scaled)
