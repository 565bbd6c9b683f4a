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

Intervals are the model's exact (analytic) prediction intervals — no simulation, so the
result is deterministic without a random seed. They do not include the uncertainty of
the fitted parameters, so with short histories they are too narrow.
"""

from __future__ import annotations

import warnings

import pandas as pd

from quire.errors import EmptyDataError

MIN_POINTS = 12  # a damped trend has 5 parameters; fewer than a year of months over-fits


def _monthly(series: pd.Series) -> pd.Series:
    """The series as consecutive month starts with a monthly frequency; rejects gaps."""
    values = series.dropna().astype(float)
    values.index = pd.DatetimeIndex(values.index).to_period("M").to_timestamp()
    regular = values.sort_index().asfreq("MS")
    if regular.isna().any():
        missing = ", ".join(f"{m:%Y-%m}" for m in regular.index[regular.isna()][:3])
        raise ValueError(f"the MRR series must have one value per consecutive month; missing {missing}")
    return regular


def _predict(history: pd.Series, horizon: int, alpha: float) -> tuple[pd.DataFrame, bool, float]:
    """Columns ``mean``, ``pi_lower``, ``pi_upper`` for the ``horizon`` months after ``history``, whether the
    model chosen has a trend, and its level at the last month (where its forecast starts from)."""
    if history.nunique() == 1:
        # Nothing varies, so there is no error variance to estimate (the fit would divide by zero).
        return pd.DataFrame({"mean": history.iloc[-1], "pi_lower": history.iloc[-1], "pi_upper": history.iloc[-1]},
                            index=range(horizon)), False, float(history.iloc[-1])
    # Imported here: statsmodels takes ~1.5 s to import, and everything that shows a KPI
    # (quire.display, the CLI) imports quire.metrics without ever forecasting.
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    fits = []
    for trend in ("add", None):
        model = ETSModel(history, error="add", trend=trend, damped_trend=trend is not None)
        with warnings.catch_warnings():
            # Smooth or short histories can hit the optimiser's iteration limit; the estimate is still usable.
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(model.fit(disp=False))
    result = min(fits, key=lambda fit: fit.aicc)  # on a tie, the damped trend (listed first)
    n = len(history)
    return (result.get_prediction(start=n, end=n + horizon - 1, method="exact").summary_frame(alpha=alpha),
            result is fits[0], float(result.states["level"].iloc[-1]))


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
    frame = frame.clip(lower=0.0)  # MRR cannot go below zero
    months = pd.date_range(history.index[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    out = pd.DataFrame({"month": months, "forecast": frame["mean"].to_numpy(),
                        "lower": frame["pi_lower"].to_numpy(), "upper": frame["pi_upper"].to_numpy()})
    out.attrs["trend"] = trend
    out.attrs["level"] = start
    return out
