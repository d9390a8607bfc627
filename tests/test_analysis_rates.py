"""Known-answer, cross-check (Elephant) and bad-input tests of homeonet.analysis.rates, and the doctests."""

import doctest
import importlib

import numpy as np
import pytest
import xarray as xr
from brian2 import Hz, Quantity, ms, second

from homeonet._validate import HomeonetError
from homeonet.analysis import rates as R
from homeonet.results import Results


def poisson_trains(n, rate, duration, rng):
    """Independent homogeneous Poisson trains: (indices, times in s), unsorted by neuron."""
    counts = rng.poisson(rate * duration, size=n)
    idx = np.repeat(np.arange(n), counts)
    t = rng.uniform(0, duration, size=idx.size)
    order = np.argsort(t)
    return idx[order], t[order]


def regular_trains(n, rate, duration, rng):
    phase = rng.uniform(0, 1 / rate, size=n)
    k = np.arange(int(rate * duration) - 1)
    t = (phase[:, None] + k[None, :] / rate).ravel()
    idx = np.repeat(np.arange(n), k.size)
    return idx, t


def make_results(idx, t, n, duration, pop="E"):
    ds = xr.Dataset({f"spike_index_{pop}": (f"spike_{pop}", idx.astype(np.int32), {"n_neurons": n}),
                     f"spike_time_{pop}": (f"spike_{pop}", t, {"units": "second"})})
    ds.attrs["duration"] = duration
    return Results(ds)


@pytest.fixture
def poisson():
    rng = np.random.default_rng(7)
    idx, t = poisson_trains(200, 20.0, 10.0, rng)
    return idx, t, 200, 10.0


# -- doctests of every analysis module ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["rates", "balance", "scaling", "coding"])
def test_doctests(name):
    module = importlib.import_module(f"homeonet.analysis.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# -- rates -------------------------------------------------------------------------------------------------------------

def test_firing_rates_counts_and_window():
    idx = np.array([0, 0, 1, 2, 2, 2])
    t = np.array([0.1, 0.9, 0.5, 0.2, 1.5, 1.9])
    assert np.allclose(R.firing_rates(idx, t * second, 3, t_stop=1 * second) / Hz, [2, 1, 1])
    r = R.firing_rates(idx, t, 3, t_start=1.0, t_stop=2.0)
    assert np.allclose(np.asarray(r / Hz), [0, 0, 2])


def test_firing_rates_from_results_and_monitor():
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor

    idx, t = np.array([0, 1, 1]), np.array([0.01, 0.02, 0.03])
    res = make_results(idx, t, 3, 0.05)
    assert np.allclose(R.firing_rates(res) / Hz, [20, 40, 0])   # t_stop defaults to the run's end
    G = SpikeGeneratorGroup(3, idx, t * second)
    mon = SpikeMonitor(G)
    Network(G, mon).run(50 * ms)
    assert np.allclose(R.firing_rates(mon, t_stop=50 * ms) / Hz, [20, 40, 0])


def test_population_rate_sums_spikes():
    rng = np.random.default_rng(1)
    idx, t = poisson_trains(50, 5.0, 2.0, rng)
    centers, rate = R.population_rate(t * second, 50, 2 * second, bin=10 * ms)
    assert len(centers) == 200
    # integral of the population rate times N is the spike count
    assert np.isclose(float(np.sum(rate / Hz)) * 0.01 * 50, t.size)


def test_smooth_rate_keeps_constant_and_mass():
    const = np.full(100, 7.0)
    assert np.allclose(R.smooth_rate(const * Hz, 1 * ms, 5 * ms) / Hz, 7.0)
    spike = np.zeros(201)
    spike[100] = 1.0
    sm = R.smooth_rate(spike, 1 * ms, 5 * ms)
    assert np.isclose(sm.sum(), 1.0) and sm.max() < 0.1 and np.argmax(sm) == 100
    assert isinstance(R.smooth_rate(const * Hz, 1 * ms, 5 * ms), Quantity)
    c, r = R.smoothed_population_rate(np.linspace(0, 1, 1001)[:-1], 10, 1.0, width=10 * ms)
    assert np.allclose(np.asarray(r / Hz)[50:-50], 100.0, rtol=1e-6)   # 1000 spikes / 10 neurons / 1 s


def test_relative_error_and_fraction_within():
    r = np.array([4.0, 4.6, 5.0, 5.4, 6.0])
    assert np.allclose(R.relative_error(r * Hz, 5 * Hz), [-0.2, -0.08, 0, 0.08, 0.2])
    assert R.fraction_within(r * Hz, 5 * Hz, tolerance=0.1) == pytest.approx(3 / 5)
    assert R.fraction_within(r, 5.0, tolerance=0.25) == 1.0


def test_recovery_time_exponential_relaxation():
    # r(t) = target (1 - 0.5 exp(-(t - onset)/tau)) enters the 10 % band when 0.5 e^{-x/tau} = 0.1
    dt, tau, onset, target = 0.001, 0.4, 1.0, 5.0
    t = np.arange(0, 5, dt)
    r = np.where(t < onset, target, target * (1 - 0.5 * np.exp(-(t - onset) / tau)))
    expected = tau * np.log(5)
    got = R.recovery_time(t * second, r * Hz, target * Hz, onset * second, tolerance=0.1)
    assert isinstance(got, Quantity)
    assert abs(float(got / second) - expected) <= dt + 1e-9
    # per-neuron version: two columns, the second never recovers
    r2 = np.stack([r, np.full_like(r, 1.0)], axis=1)
    got2 = R.recovery_time(t, r2, target, onset)
    assert abs(got2[0] - expected) <= dt + 1e-9 and np.isnan(got2[1])


def test_recovery_time_hold_versus_until_end():
    t = np.arange(10.0)
    r = np.array([5, 1, 5, 5, 5, 1, 5, 5, 5, 5.0])
    assert R.recovery_time(t, r, 5.0, 1.0) == 5.0            # stays in band from t=6 to the end
    assert R.recovery_time(t, r, 5.0, 1.0, hold=2.0) == 1.0   # t=2..4 is in the band for 2 s
    assert R.recovery_time(t, r, 5.0, 1.0, hold=3.0) == 5.0   # first 3 s run starts at t=6


def test_cv_poisson_and_regular(poisson):
    idx, t, n, T = poisson
    cv = R.cv_isi(idx, t * second, n)
    # each neuron has ~200 ISIs: s.e. of its CV ~ 1/sqrt(200) ~ 0.07; the mean over 200 neurons has
    # s.e. ~ 0.005, so 0.05 is ~10 s.e. (the finite-window bias is O(1/200)).
    assert abs(np.nanmean(cv) - 1) < 0.05
    ridx, rt = regular_trains(100, 10.0, 5.0, np.random.default_rng(3))
    assert np.nanmax(R.cv_isi(ridx, rt, 100)) < 1e-9


def test_cv_needs_min_spikes():
    cv = R.cv_isi(np.array([0, 0, 1, 1, 1]), np.array([0.1, 0.2, 0.1, 0.3, 0.4]), 3)
    assert np.isnan(cv[0]) and np.isfinite(cv[1]) and np.isnan(cv[2])


def test_fano_poisson(poisson):
    idx, t, n, T = poisson
    ff = R.fano_factor(idx, t, n, bin=100 * ms, t_stop=T)
    # 100 windows of mean count 2: the s.e. of one neuron's Fano factor is ~sqrt(2/99) ~ 0.14;
    # averaged over 200 neurons ~ 0.01, so 0.05 is ~5 s.e.
    assert abs(np.nanmean(ff) - 1) < 0.05
    ridx, rt = regular_trains(50, 10.0, 5.0, np.random.default_rng(3))
    assert np.nanmax(R.fano_factor(ridx, rt + 1e-4, 50, bin=100 * ms, t_stop=4.0)) < 1e-9  # exactly 1 spike/bin


def test_synchrony_and_correlation(poisson):
    idx, t, n, T = poisson
    chi = R.synchrony(idx, t, n, bin=5 * ms, t_stop=T)
    # independent trains: chi^2 ~ 1/N = 0.005 (chi ~ 0.07); 0.15 leaves room for sampling noise
    assert chi < 0.15
    rho = R.count_correlation(idx, t, n, bin=50 * ms, t_stop=T)
    # 200 bins: one pair's correlation has s.e. ~0.07; the mean over ~2e4 pairs is ~0 within 0.02
    assert abs(rho) < 0.02
    # the same train copied to every neuron: perfect synchrony
    one = t[idx == 0]
    sidx, st = np.tile(np.arange(20), one.size), np.repeat(one, 20)
    assert R.synchrony(sidx, st, 20, t_stop=T) == pytest.approx(1.0)
    assert R.count_correlation(sidx, st, 20, t_stop=T) == pytest.approx(1.0)


def test_rate_summary_matches_numpy():
    x = np.random.default_rng(0).lognormal(1, 0.6, 500)
    x[:10] = 0
    s = R.rate_summary(x * Hz)
    assert float(s["mean"] / Hz) == pytest.approx(x.mean())
    assert float(s["q95"] / Hz) == pytest.approx(np.quantile(x, 0.95))
    assert s["cv"] == pytest.approx(x.std() / x.mean())
    assert s["fraction_silent"] == pytest.approx(10 / 500)
    assert isinstance(R.rate_summary(x)["median"], float)


def test_quantity_and_plain_times_agree(poisson):
    idx, t, n, T = poisson
    assert np.allclose(R.cv_isi(idx, t, n), R.cv_isi(idx, t * second, n), equal_nan=True)
    assert np.allclose(R.fano_factor(idx, t, n, t_stop=T), R.fano_factor(idx, t * second, n, t_stop=T * second),
                       equal_nan=True)


# -- Elephant as a test oracle ---------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:The 'copy' argument")
def test_against_elephant(poisson):
    elephant = pytest.importorskip("elephant")
    import neo
    import quantities as pq
    from elephant.statistics import cv, fanofactor, isi, mean_firing_rate

    idx, t, n, T = poisson
    k = 8
    trains = [neo.SpikeTrain(np.sort(t[idx == i]) * pq.s, t_stop=T * pq.s) for i in range(k)]
    ours_cv = R.cv_isi(idx, t, n)[:k]
    theirs_cv = np.array([cv(isi(st)) for st in trains])
    assert np.allclose(ours_cv, theirs_cv, rtol=1e-10)
    ours_rate = np.array(R.firing_rates(idx, t, n, t_stop=T) / Hz)[:k]
    theirs_rate = np.array([float(mean_firing_rate(st).rescale(pq.Hz)) for st in trains])
    assert np.allclose(ours_rate, theirs_rate, rtol=1e-12)
    # Fano factor: elephant takes trials; the 100 ms windows of one neuron are its trials
    ours_ff = R.fano_factor(idx, t, n, bin=100 * ms, t_stop=T)[:k]
    edges = np.arange(0, T + 1e-9, 0.1)
    theirs_ff = []
    for st in trains:
        s = np.array(st.magnitude)
        windows = [neo.SpikeTrain((s[(s >= a) & (s < b)] - a) * pq.s, t_start=0 * pq.s, t_stop=0.1 * pq.s)
                   for a, b in zip(edges[:-1], edges[1:])]
        theirs_ff.append(fanofactor(windows))
    assert np.allclose(ours_ff, theirs_ff, rtol=1e-10)
    assert elephant.__version__


# -- bad input -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: R.firing_rates(np.array([0, 1]), np.array([0.1]), 2, t_stop=1.0), "indices and times"),
    (lambda: R.firing_rates(np.array([0, 5]), np.array([0.1, 0.2]), 2, t_stop=1.0), "indices"),
    (lambda: R.firing_rates(np.array([0]), np.array([np.nan]), 2, t_stop=1.0), "times"),
    (lambda: R.firing_rates(np.array([0]), np.array([0.1]), 2, t_stop=-1.0), "t_stop"),
    (lambda: R.firing_rates(np.array([0]), np.array([0.1]), 0, t_stop=1.0), "n"),
    (lambda: R.firing_rates(np.array([0]), np.array([0.1]) * Hz, 1, t_stop=1.0), "times"),
    (lambda: R.population_rate([0.1], 1, -1 * second), "duration"),
    (lambda: R.population_rate([0.1], 1, 1 * second, bin=-1 * ms), "bin"),
    (lambda: R.fano_factor(np.array([0]), np.array([0.1]), 1, bin=2 * second, t_stop=1.0), "bin"),
    (lambda: R.cv_isi(np.array([0]), np.array([0.1]), 1, min_spikes=1), "min_spikes"),
    (lambda: R.synchrony(np.array([0]), np.array([0.1]), 1, t_stop=1.0), "n"),
    (lambda: R.relative_error([1.0] * Hz, 0 * Hz), "target"),
    (lambda: R.relative_error([1.0] * Hz, 5.0), "target"),
    (lambda: R.relative_error([np.nan], 5.0), "rates"),
    (lambda: R.fraction_within([1.0], 5.0, tolerance=-0.1), "tolerance"),
    (lambda: R.recovery_time([0, 1, 2], [1, 2], 1.0, 0.0), "rate"),
    (lambda: R.recovery_time([0, 2, 1], [1, 2, 3], 1.0, 0.0), "times"),
    (lambda: R.recovery_time([0, 1, 2], [1, 2, 3], 1.0, 0.0, hold=-1.0), "hold"),
    # an onset after the data, or a hold longer than the record, would read as "never recovered" (NaN)
    (lambda: R.recovery_time([0, 1, 2], [1, 1, 1], 1.0, 5.0), "onset"),
    (lambda: R.recovery_time([0, 1, 2] * second, [1, 1, 1] * Hz, 1 * Hz, 2.5 * second), "onset"),
    (lambda: R.recovery_time([0, 1, 2], [1, 1, 1], 1.0, 1.0, hold=3.0), "hold"),
    (lambda: R.smooth_rate([1.0, 2.0], 1 * ms, 0 * ms), "width"),
    (lambda: R.smooth_rate([1.0, 2.0], 1 * ms, 1 * ms, kernel="tri"), "kernel"),
    (lambda: R.rate_summary([]), "rates"),
])
def test_bad_input_one_line_naming_argument(call, name):
    with pytest.raises(HomeonetError) as err:
        call()
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(name)
