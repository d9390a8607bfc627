"""Benchmark: the cost of homeonet's run checks (divergence, runaway rates, interruption) during a run.

The same network, built with the same seed, is run (after a warm-up run that compiles everything)
three ways: plain ``Network.run``; with a report callback that does nothing (what Brian2's own loop
pays for any report: a clock read per time step); and with ``report=RunGuard(...)``, the callback
through which :func:`homeonet.simulate` checks every group's state for NaN/inf and every monitored
population's rate once per report period (1 s of wall time). Each round runs the three in an order
that alternates (forwards, then backwards), so that drift of the machine's speed cancels; the script
prints the medians of the per-round paired ratios and the spike counts, which must be equal. The
issue's target: the checks cost under 2 % of run time.

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


def timed(n, duration, kind):
    net = build(n)
    report = {"plain": None, "no-op report": lambda *args: None,
              "checks": RunGuard(net, duration, progress=False)}[kind]
    t0 = time.perf_counter()
    net.run(duration, report=report, report_period=1 * second)
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
    timed(args.neurons, 0.2 * second, "checks")  # warm-up: compile every code object
    kinds = ["plain", "no-op report", "checks"]
    walls = {k: [] for k in kinds}
    counts = set()
    for k in range(args.rounds):
        for kind in (kinds if k % 2 == 0 else kinds[::-1]):
            wall, spikes = timed(args.neurons, duration, kind)
            walls[kind].append(wall)
            counts.add(spikes)
        print(f"round {k + 1}: " + ", ".join(f"{kind} {walls[kind][-1]:.2f} s" for kind in kinds))
    assert len(counts) == 1, "the checks changed the activity"

    def ratio(a, b):
        r = [x / y for x, y in zip(walls[a], walls[b])]
        return f"{statistics.median(r):.4f} (min {min(r):.4f}, max {max(r):.4f})"

    print(f"spikes: {counts.pop()} in every run")
    print(f"median of paired ratios: checks / plain {ratio('checks', 'plain')}; the checks themselves "
          f"(checks / no-op report) {ratio('checks', 'no-op report')}; Brian2's report plumbing "
          f"(no-op report / plain) {ratio('no-op report', 'plain')}")


if __name__ == "__main__":
    main()
