"""Benchmark: every homeostasis measure on 10,000 neurons x 10 s of ~5 Hz Poisson spikes (one run each).

Run with ``python benchmarks/bench_analysis.py [--neurons N] [--duration T] [--rate R]``; prints a table of
wall-clock seconds. Target: each measure well under 1 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.ndimage  # noqa: F401  (imported here so that import time is not counted as compute time)
import scipy.stats  # noqa: F401
from brian2 import Hz, ms, second

from homeonet.analysis import balance, rates, scaling


def poisson_spikes(n, rate, duration, seed=0):
    """(indices, times in s) of n independent Poisson trains, sorted by time (as a SpikeMonitor gives them)."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rate * duration, size=n)
    idx = np.repeat(np.arange(n, dtype=np.int64), counts)
    t = rng.uniform(0, duration, size=idx.size)
    order = np.argsort(t)
    return idx[order], t[order]


def main(argv=None):
    """Time each measure once and print a table.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments.

    Returns
    -------
    dict
        ``{measure: seconds}``.
    """
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--neurons", type=int, default=10_000)
    p.add_argument("--duration", type=float, default=10.0, help="seconds")
    p.add_argument("--rate", type=float, default=5.0, help="Hz")
    args = p.parse_args(argv)
    n, T = args.neurons, args.duration
    idx, t = poisson_spikes(n, args.rate, T)
    tq = t * second
    r = np.array(rates.firing_rates(idx, tq, n, t_stop=T * second) / Hz)
    centers, pop = rates.population_rate(tq, n, T * second, bin=10 * ms)
    rng = np.random.default_rng(1)
    exc = 1 + 0.2 * rng.normal(size=(1000, n // 10))      # 1000 samples x 1000 neurons of currents
    inh = 0.9 * exc + 0.05 * rng.normal(size=exc.shape)
    w = rng.lognormal(0, 0.5, n)
    measures = {
        "firing_rates": lambda: rates.firing_rates(idx, tq, n, t_stop=T * second),
        "population_rate (10 ms)": lambda: rates.population_rate(tq, n, T * second, bin=10 * ms),
        "smoothed_population_rate (1 ms)": lambda: rates.smoothed_population_rate(tq, n, T * second),
        "relative_error": lambda: rates.relative_error(r * Hz, 5 * Hz),
        "fraction_within": lambda: rates.fraction_within(r * Hz, 5 * Hz),
        "recovery_time (population)": lambda: rates.recovery_time(centers, pop, 5 * Hz, 2 * second),
        "cv_isi": lambda: rates.cv_isi(idx, tq, n),
        "fano_factor (100 ms)": lambda: rates.fano_factor(idx, tq, n, t_stop=T * second),
        "synchrony chi (5 ms)": lambda: rates.synchrony(idx, tq, n, t_stop=T * second),
        "count_correlation (500 of n)": lambda: rates.count_correlation(idx, tq, n, t_stop=T * second),
        "rate_summary": lambda: rates.rate_summary(r * Hz),
        "ei_correlation (1000x1000)": lambda: balance.ei_correlation(exc, inh),
        "net_to_total_ratio (1000x1000)": lambda: balance.net_to_total_ratio(exc, inh),
        "scaling_test (1e4 weights)": lambda: scaling.scaling_test(w, 1.5 * w[::-1]),
        "rank_order_fit (1e4 weights)": lambda: scaling.rank_order_fit(w, 1.5 * w),
        "divergence_index (1e4 weights)": lambda: scaling.divergence_index(w, 1.5 * w),
    }
    print(f"{n} neurons x {T:g} s, {idx.size} spikes ({idx.size / n / T:.2f} Hz)")
    print(f"{'measure':<34}{'seconds':>10}")
    out = {}
    for name, f in measures.items():
        t0 = time.perf_counter()
        f()
        out[name] = time.perf_counter() - t0
        print(f"{name:<34}{out[name]:>10.3f}")
    return out


if __name__ == "__main__":
    main()
