"""Benchmark: the cost of homeonet's run checks (divergence, runaway rates, interruption) during a run.

The same network, built with the same seed, is run (after a warm-up run that compiles everything)
with plain ``Network.run`` and with ``Network.run(report=RunGuard(...))``, the callback through which
:func:`homeonet.simulate` checks every group's state for NaN/inf and every monitored population's
rate once per report period (1 s of wall time). Rounds alternate A/B; the script prints the median of
the per-round paired ratios (checked / plain) and the spike counts of both, which must be equal.
The issue's target: under 2 % of run time.

Usage: ``python benchmarks/bench_checks.py [--neurons 4000] [--duration 10] [--rounds 5] [--target cython]``
"""

import argparse
import statistics
import time

import brian2 as b2
from brian2 import mV, second

from homeonet.models import recurrent_ei
from homeonet.simulate import RunGuard


def build(n):
    b2.start_scope()
    b2.seed(11)
    # the ready-made E/I network, scaled: in-degree kept at 40 E / 10 I, as at 400 + 100 neurons
    n_e, n_i = 4 * n // 5, n // 5
    return recurrent_ei(N_E=n_e, N_I=n_i, p=min(1.0, 40 / n_e), w_e=1 * mV, w_i=4 * mV, N_in=500)


def timed(n, duration, checked):
    net = build(n)
    guard = RunGuard(net, duration, progress=False) if checked else None
    t0 = time.perf_counter()
    net.run(duration, report=guard, report_period=1 * second)
    wall = time.perf_counter() - t0
    return wall, int(net["spikes_E"].num_spikes + net["spikes_I"].num_spikes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--duration", type=float, default=10.0, help="simulated seconds per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--target", default="cython", choices=("numpy", "cython"))
    args = parser.parse_args()
    b2.prefs.codegen.target = args.target
    duration = args.duration * second
    print(f"set-up: recurrent_ei with {args.neurons} LIF neurons, {args.duration:g} s simulated per run, "
          f"runtime device, {args.target} target, report period 1 s of wall time, {args.rounds} rounds A/B")
    timed(args.neurons, 0.2 * second, True)  # warm-up: compile every code object
    ratios, rows = [], []
    for k in range(args.rounds):
        plain, n_plain = timed(args.neurons, duration, False)
        checked, n_checked = timed(args.neurons, duration, True)
        ratios.append(checked / plain)
        rows.append((plain, checked, n_plain, n_checked))
        print(f"round {k + 1}: plain {plain:.2f} s, checked {checked:.2f} s, ratio {checked / plain:.4f}; "
              f"spikes {n_plain} / {n_checked}")
    assert all(a == b for *_, a, b in rows), "checks changed the activity"
    print(f"median of paired ratios checked/plain: {statistics.median(ratios):.4f} "
          f"(min {min(ratios):.4f}, max {max(ratios):.4f}); equal spike counts in every round")


if __name__ == "__main__":
    main()
