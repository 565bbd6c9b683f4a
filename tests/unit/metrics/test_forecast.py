"""MRR forecast: shape, ordering of the interval, recovery of a known trend, determinism."""

import warnings

import numpy as np
import pandas as pd
import pytest

from quire.errors import EmptyDataError
from quire.metrics import forecast_mrr

MONTHS = pd.date_range("2023-11-01", periods=36, freq="MS")


def linear(seed: int, n: int = 36) -> pd.Series:
    """100k growing by 2k a month, with noise of 0.5 % of the level (about ±700)."""
    rng = np.random.default_rng(seed)
    return pd.Series(100_000 + 2_000 * np.arange(n) + rng.normal(0, 700, n), index=MONTHS[:n])


def test_needs_twelve_months():
    with pytest.raises(EmptyDataError, match="at least 12 months of history; only 11"):
        forecast_mrr(linear(0, 11))


def test_shape_and_months_follow_the_history():
    fc = forecast_mrr(linear(0), horizon=4)
    assert list(fc.columns) == ["month", "forecast", "lower", "upper"]
    assert fc["month"].tolist() == list(pd.date_range("2026-11-01", periods=4, freq="MS"))


@pytest.fixture(scope="module", params=range(5), ids=lambda seed: f"seed{seed}")
def linear_forecast(request):
    """A 6-month, 90 % forecast of :func:`linear` (fitted once per seed: a fit takes ~0.2 s)."""
    return forecast_mrr(linear(request.param), horizon=6, level=0.9)


def test_interval_is_ordered_and_widens(linear_forecast):
    fc = linear_forecast
    assert ((fc["lower"] <= fc["forecast"]) & (fc["forecast"] <= fc["upper"])).all()
    assert (fc["upper"] - fc["lower"]).is_monotonic_increasing  # further out, less certain
    assert (fc["upper"] > fc["lower"]).all()


def test_recovers_a_linear_trend_within_its_interval(linear_forecast):
    fc = linear_forecast
    truth = 100_000 + 2_000 * np.arange(36, 42)  # the noise-free continuation
    assert ((fc["lower"] <= truth) & (truth <= fc["upper"])).all(), fc.assign(truth=truth)
    # and the centre is close to it, not merely inside a wide band: within 2 % six months out.
    assert np.abs(fc["forecast"] / truth - 1).max() < 0.02


def test_damped_trend_flattens_over_a_long_horizon():
    steps = forecast_mrr(linear(0), horizon=24)["forecast"].diff().dropna()
    assert (steps > 0).all() and steps.is_monotonic_decreasing
    assert steps.iloc[-1] < 0.9 * steps.iloc[0]  # damping ≤ 0.98 a month: 0.98^22 ≈ 0.64


def test_higher_level_gives_a_wider_interval():
    narrow, wide = forecast_mrr(linear(1), level=0.8), forecast_mrr(linear(1), level=0.95)
    assert ((wide["upper"] - wide["lower"]) > (narrow["upper"] - narrow["lower"])).all()
    pd.testing.assert_series_equal(wide["forecast"], narrow["forecast"])


def test_deterministic_and_silent():
    series = linear(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence or runtime warning leaks out
        first = forecast_mrr(series)
        flat = forecast_mrr(pd.Series(50_000.0, index=MONTHS[:12]))
    pd.testing.assert_frame_equal(first, forecast_mrr(series))
    assert flat[["forecast", "lower", "upper"]].to_numpy().tolist() == [[50_000.0] * 3] * 6


def test_never_below_zero():
    collapsing = pd.Series(np.r_[100_000 + 2_000 * np.arange(20), [40_000, 20_000, 10_000, 5_000]], index=MONTHS[:24])
    fc = forecast_mrr(collapsing)
    assert (fc[["forecast", "lower", "upper"]] >= 0).all().all()


def test_rejects_gaps_and_bad_arguments():
    with pytest.raises(ValueError, match="consecutive month"):
        forecast_mrr(linear(0).drop(MONTHS[5]))
    with pytest.raises(ValueError):
        forecast_mrr(linear(0), horizon=0)
    with pytest.raises(ValueError):
        forecast_mrr(linear(0), level=90)


def test_a_history_of_steps_is_forecast_from_its_latest_level():
    # MRR flat for months, then a jump (a few large accounts): the damped trend held its level still and drew a
    # line through the steps, so the forecast began at $11,453 under October's $13,071 (the tiny warehouse).
    steps = pd.Series(np.repeat([9_220.0, 5_640.0, 8_570.0, 8_153.0, 11_253.0, 13_071.0], [2, 2, 3, 2, 4, 1]),
                      index=MONTHS[:14])
    fc = forecast_mrr(steps, horizon=6)
    assert fc["forecast"].tolist() == pytest.approx([13_071.0] * 6, abs=1.0)
    assert (fc["lower"] < 13_071.0).all() and (fc["upper"] > 13_071.0).all()


def test_a_trend_is_kept_only_where_it_beats_none_on_aicc():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(4)
    noise = pd.Series(60_000 + rng.normal(0, 1_500, 24), index=MONTHS[:24])  # no trend, only noise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {trend: ETSModel(noise.asfreq("MS"), error="add", trend=trend, damped_trend=trend is not None).fit(disp=False)
                for trend in ("add", None)}
    chosen = min(fits.values(), key=lambda fit: fit.aicc)
    fc = forecast_mrr(noise, horizon=3)
    assert fc["forecast"].to_numpy() == pytest.approx(chosen.forecast(3).to_numpy())
    assert chosen is fits[None]  # the trend does not pay for its parameters here


def test_the_forecast_says_whether_its_model_projects_a_trend_whatever_the_horizon():
    # With one month forecast, "first == last" made every forecast read as a level held, trend or not.
    assert forecast_mrr(linear(0), horizon=1).attrs["trend"] and forecast_mrr(linear(0), horizon=6).attrs["trend"]
    assert not forecast_mrr(pd.Series(50_000.0, index=MONTHS[:12]), horizon=1).attrs["trend"]
    noise = pd.Series(100_000 + np.random.default_rng(3).normal(0, 3_000, 24), index=MONTHS[:24])
    assert not forecast_mrr(noise, horizon=1).attrs["trend"]  # level with noise: the model without a trend


def jumpy(seed: int, n: int) -> pd.Series:
    """A random walk with drift whose months now and then jump (a big account won or lost): MRR as it moves."""
    rng = np.random.default_rng(seed)
    steps = 800 + np.where(rng.random(n) < 0.12, rng.normal(0, 9_000, n), rng.normal(0, 1_000, n))
    return pd.Series(80_000 + np.cumsum(steps), index=pd.date_range("2023-01-01", periods=n, freq="MS"))


def test_the_interval_holds_about_its_share_of_the_months_that_follow():
    # The model's own 90% interval held the sample warehouse's MRR in under half of the months 2 to 6 ahead. Checked
    # here as a reader would: histories of 30 months, each forecast against the 6 months that really followed.
    held, held_by_model, total = 0, 0, 0
    for seed in range(24):
        series = jumpy(seed, 36)
        fc = forecast_mrr(series.iloc[:30], horizon=6, level=0.9)
        actual = series.iloc[30:].to_numpy()
        inside = (fc["lower"].to_numpy() <= actual) & (actual <= fc["upper"].to_numpy())
        # The model's own interval: the band narrowed back by the factor it was widened by.
        half_low = (fc["forecast"] - fc["lower"]) / fc.attrs["widened"]
        half_high = (fc["upper"] - fc["forecast"]) / fc.attrs["widened"]
        own = ((fc["forecast"] - half_low).to_numpy() <= actual) & (actual <= (fc["forecast"] + half_high).to_numpy())
        held, held_by_model, total = held + inside.sum(), held_by_model + own.sum(), total + len(actual)
        assert fc.attrs["backtest_errors"] >= 20 and fc.attrs["widened"] >= 1.0
    assert held / total >= 0.8, (held, held_by_model, total)
    assert held_by_model / total < held / total  # the model's own interval held fewer


def test_a_history_too_short_to_check_keeps_the_models_interval_and_says_so():
    fc = forecast_mrr(jumpy(3, 14), horizon=6)
    assert fc.attrs["widened"] == 1.0 and fc.attrs["backtest_errors"] < 20


def test_a_months_band_does_not_depend_on_how_far_the_forecast_looks():
    # 30 months of history: a 1-month forecast was "too short to check" (18 one-month errors) and kept the model's
    # interval, while the same month's band in a 6- or 24-month forecast was checked on more errors and differed.
    series = jumpy(5, 30)
    bands = [forecast_mrr(series, horizon=h).iloc[0][["lower", "upper"]].to_numpy(dtype=float) for h in (1, 6, 24)]
    assert np.allclose(bands[0], bands[1]) and np.allclose(bands[0], bands[2]), bands
    assert forecast_mrr(series, horizon=1).attrs["backtest_errors"] >= 20
