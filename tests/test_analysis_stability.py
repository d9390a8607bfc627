"""Stability measures of homeonet.analysis.stability against closed forms and Elephant, and the per-point set."""

import math

import numpy as np
import pytest
import xarray as xr
from brian2 import Hz, ms, second

from homeonet import Results
from homeonet._validate import HomeonetError
from homeonet.analysis import (TRADEOFF_MEASURES, autocorrelation, burst_index, oscillation_index, overshoot, runaway,
                               synchrony, temporal_cv, trace_synchrony, tradeoff_measures)


def test_autocorrelation_of_a_sinusoid_is_the_closed_form():
    t = np.arange(2000)
    x = 3 + np.sin(2 * np.pi * t / 50)
    rho = autocorrelation(x, max_lag=200)
    lags = np.arange(201)
    # biased estimator of a sinusoid: (1 - k/T) cos(2 pi k/P) plus a remainder sum_t cos(a(2t + k))/T, at most
    # 1/(T sin a) in size (a = 2 pi/P; 0.004 here)
    a = 2 * np.pi / 50
    np.testing.assert_allclose(rho, (1 - lags / t.size) * np.cos(a * lags), atol=1 / (t.size * np.sin(a)))
    assert rho[0] == pytest.approx(1.0)
    assert np.isnan(autocorrelation(np.ones(10))).all()


def test_autocorrelation_matches_elephants_cross_correlation_histogram():
    """The auto-CCH of a binned spike train (Elephant) is the raw sum over t of x_t x_(t+k); removing the mean
    and normalising by the zero-lag term gives the autocorrelation."""
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import cross_correlation_histogram

    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0, 20, 800))
    st = neo.SpikeTrain(times * pq.s, t_stop=20 * pq.s)
    binned = BinnedSpikeTrain(st, bin_size=50 * pq.ms)
    x = binned.to_array()[0].astype(float)
    L = 30
    cch, lags = cross_correlation_histogram(binned, binned, window=[-L, L])
    raw = np.asarray(cch).ravel()[L:]                      # lags 0..L
    T, m = x.size, x.mean()
    k = np.arange(L + 1)
    head = np.array([x[:T - j].sum() for j in k])
    tail = np.array([x[j:].sum() for j in k])
    centred = raw - m * (head + tail) + (T - k) * m ** 2
    np.testing.assert_allclose(autocorrelation(x, max_lag=L), centred / centred[0], rtol=1e-9, atol=1e-12)


def test_oscillation_index_separates_oscillation_from_relaxation_and_noise():
    t = np.arange(0, 20, 0.01)
    peak, lag = oscillation_index(5 + np.sin(2 * np.pi * t / 2.0) * second / second, 10 * ms)
    assert peak == pytest.approx(1 - 2.0 / 20, abs=0.01) and float(lag / second) == pytest.approx(2.0, abs=0.02)
    relax, _ = oscillation_index(5 + np.exp(-t / 2.0), 0.01)          # monotone: no later peak
    noise, _ = oscillation_index(np.random.default_rng(0).normal(size=t.size), 0.01)
    assert (math.isnan(relax) or relax < 0.2) and noise < 0.2


def test_temporal_cv_overshoot_and_runaway_closed_forms():
    assert temporal_cv([4.0, 6.0, 4.0, 6.0]) == pytest.approx(0.2)
    np.testing.assert_allclose(temporal_cv(np.array([[1.0, 2.0], [3.0, 2.0]])), [0.5, 0.0])
    t = np.arange(10.0)
    # deprivation (down first), recovery 20 % above the target: overshoot 0.2; a monotone recovery: 0
    assert overshoot(t, np.array([5, 5, 3, 3.5, 4.5, 6, 5.5, 5, 5, 5]), 5.0, 2.0, probe=2.0) == pytest.approx(0.2)
    assert overshoot(t, np.array([5, 5, 3, 3.5, 4.5, 4.8, 4.9, 5, 5, 5]), 5.0, 2.0, probe=2.0) == 0.0
    with pytest.raises(HomeonetError, match="^onset must be at or before the last sample"):  # not NaN
        overshoot(t, np.full(10, 5.0), 5.0, onset=12.0)
    # overdrive (up first), undershoot 40 % below
    assert overshoot(t * second, np.array([5, 5, 9, 8, 3, 4, 5, 5, 5, 5]) * Hz, 5 * Hz, 2 * second,
                     probe=2 * second) == pytest.approx(0.4)
    assert runaway([5.0, np.nan], 5.0) and runaway([5.0, 60.0], 5.0) and not runaway([5.0, 40.0], 5.0)
    with pytest.raises(HomeonetError, match="target"):
        runaway([1.0], 5 * Hz)                      # rates without unit, target with one


def test_burst_index_closed_forms_and_poisson_activity():
    assert burst_index([0] * 19 + [7]) == 1.0
    assert burst_index(np.full(20, 3.0)) == 0.0
    # Wagenaar's definition with 15 % of 20 bins: (f15 - 0.15)/0.85
    counts = np.array([10, 10, 10] + [1] * 17, dtype=float)
    assert burst_index(counts) == pytest.approx((30 / 47 - 0.15) / 0.85)
    poisson = np.random.default_rng(1).poisson(40, size=500)          # asynchronous activity: small index
    assert 0 < burst_index(poisson) < 0.1
    assert math.isnan(burst_index(np.zeros(5)))
    with pytest.raises(HomeonetError, match="activity"):
        burst_index([1.0, -1.0])


def test_trace_synchrony_is_golombs_chi_of_the_spike_count_form():
    """On binned spike counts, trace_synchrony equals the spike-based synchrony of homeonet.analysis."""
    rng = np.random.default_rng(2)
    n, T = 30, 2.0
    common = np.sort(rng.uniform(0, T, 40))
    idx, times = [], []
    for i in range(n):
        own = np.concatenate([rng.uniform(0, T, 20), common[rng.random(common.size) < 0.5]])
        idx.append(np.full(own.size, i))
        times.append(own)
    idx, times = np.concatenate(idx), np.concatenate(times)
    counts = np.zeros((int(T / 0.005), n))
    np.add.at(counts, (np.minimum((times / 0.005).astype(int), counts.shape[0] - 1), idx), 1)
    assert trace_synchrony(counts) == pytest.approx(synchrony(idx, times, n, bin=5 * ms, t_stop=T * second), rel=1e-9)
    same = np.sin(np.linspace(0, 6, 50))[:, None] * np.ones((1, 4))
    assert trace_synchrony(same) == pytest.approx(1.0)


def _rate_results(onset=4.0, duration=10.0, tau_rec=1.0, depth=0.3, n=20, dt=0.005, ripple=0.0):
    """A synthetic rate population: at the set point (5 Hz), a drop by *depth* at *onset*, exponential recovery."""
    t = np.arange(0, duration, dt) + dt / 2
    base = np.where(t < onset, 1.0, 1 - depth * np.exp(-(t - onset) / tau_rec))
    base = base + ripple * np.sin(2 * np.pi * t / 1.5) * (t >= onset)
    gains = np.linspace(0.5, 1.5, n)
    traces = 5.0 * base[:, None] * gains[None, :]
    ds = xr.Dataset({"E_r": (("t_E", "neuron_E"), traces, {"units": "hertz"})},
                    coords={"t_E": t, "neuron_E": np.arange(n)},
                    attrs={"duration": duration, "population": "E", "target": 5.0, "onset": onset})
    return Results(ds)


def test_tradeoff_measures_of_a_known_recovery():
    res = _rate_results()
    m = tradeoff_measures(res, smooth=0.01, window=1.0)
    assert list(m) == list(TRADEOFF_MEASURES)
    # back within 10 % when 0.3 exp(-x/tau) = 0.1: x = tau ln 3
    assert m["recovery_time"] == pytest.approx(np.log(3.0), abs=0.01)
    assert m["residual_error"] == pytest.approx(0.3 * np.exp(-(10 - 4 - 0.5)), abs=0.01)
    assert m["overshoot"] == 0.0 and m["runaway"] == 0.0
    assert m["rate_heterogeneity_before"] == pytest.approx(np.std(np.linspace(0.5, 1.5, 20)), rel=1e-6)
    assert math.isnan(m["cv_isi"]) and math.isnan(m["decoding_accuracy_before"])   # no spikes, no stimuli given
    # every unit follows the same time course scaled by its gain g: chi^2 = <g>^2 / <g^2>
    g = np.linspace(0.5, 1.5, 20)
    assert m["synchrony"] == pytest.approx(np.sqrt(np.mean(g) ** 2 / np.mean(g ** 2)), rel=1e-6)
    osc = tradeoff_measures(_rate_results(depth=0.0, ripple=0.4), smooth=0.01)
    assert osc["oscillation_index"] > 0.7 and osc["oscillation_period"] == pytest.approx(1.5, abs=0.05)
    assert math.isnan(osc["recovery_time"])                  # the ripple leaves the 10 % band for good


def test_tradeoff_measures_needs_its_set_point_and_an_onset_inside_the_run():
    res = _rate_results()
    del res.dataset.attrs["target"]
    with pytest.raises(HomeonetError, match="target"):
        tradeoff_measures(res)
    with pytest.raises(HomeonetError, match="onset"):
        tradeoff_measures(_rate_results(), target=5 * Hz, onset=12 * second)
