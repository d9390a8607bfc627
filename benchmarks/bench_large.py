"""Benchmark: the four-scales network up to 100,000 neurons and 10 million synapses, compiled.

The E/I LIF network of the ready-made "four scales" experiment (intrinsic plasticity, synaptic
scaling, deferred inhibitory STDP and a global factor on E) at ``N`` neurons (4 E : 1 I), each neuron
receiving 40 E + 10 I recurrent synapses and 50 synapses from ``N`` Poisson inputs at 40 Hz (the same
mean input as the models' 100 inputs at 20 Hz): about ``100 N`` synapses, 1e7 at 100,000 neurons.
Against the same network without mechanisms (``recurrent_ei``). The four scales run with
``plastic=False`` (every learning rate 0, every bound 1: the mechanisms run at equal activity, so both
variants must show the same spike count) unless ``--plastic``.

``--device cpp_standalone`` (default): each variant is generated and compiled once per size (OpenMP
with ``--threads``), then the binaries run in alternating rounds. Printed per variant and size: wall
time of the simulation loop per simulated second (Brian2's own measurement inside the binary), the
binary's set-up (synapse creation, initial values) and total wall time, its peak memory, the time to
generate and compile the code, and the E spike count. Over several sizes, the exponent of a power-law
fit of the loop time against the number of synapses (1: linear).

``--device cuda_standalone`` (brian2cuda, an NVIDIA GPU): each variant is built, compiled with nvcc
and run once (``build_on_run``); printed: wall time of the loop per simulated second, the time of
code generation + compilation + set-up + run together, and the spike counts. Brian2's time step is
0.1 ms throughout.

Usage::

    python benchmarks/bench_large.py --sizes 1000,10000,100000 --threads 2 --duration 1
    python benchmarks/bench_large.py --device cuda_standalone --sizes 100000 --duration 10
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import brian2 as b2
import numpy as np
from brian2 import Hz, second
from brian2.devices.device import reinit_devices, reset_device

from homeonet.models import LIF, recurrent_ei
from homeonet.models.experiments import EXPERIMENTS

from _timing import alternate, binary_runner, compile_standalone, machine, report

FOUR_SCALES = EXPERIMENTS["four_scales"]
K_E, K_I, K_IN, RATE_IN = 40, 10, 50, 40 * Hz  # in-degrees, input rate


def values(n, duration, plastic):
    """The four-scales experiment's values for a network of *n* neurons (see the module docstring)."""
    n_e, n_i = round(0.8 * n), n - round(0.8 * n)
    return FOUR_SCALES.resolve({"N_E": n_e, "N_I": n_i, "N_in": n, "p": K_E / n_e, "p_in": K_IN / n,
                                "rate_in": RATE_IN, "duration": duration, "factor": 1.0, "plastic": plastic})


def no_mechanism(v):
    return recurrent_ei(LIF(), N_E=v.N_E, N_I=v.N_I, p=v.p, w_e=v.w_e, w_i=v.w_i, N_in=v.N_in, rate_in=v.rate_in,
                        p_in=v.p_in, w_in=v.w_in)


def build_on_gpu(make, directory, duration):
    """Build, compile and run *make*'s network on cuda_standalone.

    Returns
    -------
    dict
        ``total`` (s: code generation, compilation, set-up and run), ``loop`` (s: the simulation loop,
        Brian2's measurement), ``spikes`` (E spike count), ``synapses`` (all Synapses objects).
    """
    b2.set_device("cuda_standalone", directory=directory, build_on_run=True)
    try:
        b2.seed(1)
        net = make()
        t0 = time.perf_counter()
        net.run(duration)
        return {"total": time.perf_counter() - t0, "loop": b2.get_device()._last_run_time,
                "spikes": int(net["spikes_E"].num_spikes),
                "synapses": sum(len(o) for o in net.objects if isinstance(o, b2.Synapses))}
    finally:
        reset_device("runtime")
        reinit_devices()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of neurons (E + I)")
    parser.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    parser.add_argument("--device", default="cpp_standalone", choices=("cpp_standalone", "cuda_standalone"))
    parser.add_argument("--threads", type=int, default=0, help="OpenMP threads of cpp_standalone (0: none)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (cpp_standalone)")
    parser.add_argument("--plastic", action="store_true", help="four scales learning (activity differs)")
    parser.add_argument("--variants", default="none,four", help="none (no mechanism), four (four scales)")
    args = parser.parse_args()
    if args.device == "cuda_standalone":
        import brian2cuda  # noqa: F401  (registers the device)
    sizes = [int(s) for s in args.sizes.split(",")]
    duration = args.duration * second
    chosen = args.variants.split(",")
    print(f"four-scales E/I network, in-degrees {K_E} E + {K_I} I + {K_IN} inputs (N Poisson inputs at "
          f"{RATE_IN}), {args.duration:g} s simulated, dt {b2.defaultclock.dt}, {args.device}"
          + (f" ({args.threads or 'no'} OpenMP threads, OMP_WAIT_POLICY "
             f"{os.environ.get('OMP_WAIT_POLICY', 'PASSIVE')})" if args.device == "cpp_standalone" else "")
          + f"; four scales {'plastic' if args.plastic else 'with plastic=False (equal activity)'}\n{machine()}")
    rows = {}
    for n in sizes:
        v = values(n, duration, args.plastic)
        makers = {"no mechanism": lambda: no_mechanism(v), "four scales": lambda: FOUR_SCALES.build(v)}
        makers = {k: m for k, m in makers.items() if ("none" if k == "no mechanism" else "four") in chosen}
        tmp = tempfile.mkdtemp(prefix="homeonet-large-")
        try:
            runners, builds = {}, {}
            for k, (name, make) in enumerate(makers.items()):
                directory = os.path.join(tmp, f"v{k}")
                if args.device == "cuda_standalone":
                    m = build_on_gpu(make, directory, duration)
                    print(f"N = {n}, {m['synapses']} synapses, {name}: loop {m['loop'] / args.duration:.3f} s per "
                          f"simulated second; code generation + compilation + set-up + run {m['total']:.0f} s; "
                          f"E spikes {m['spikes']}", flush=True)
                    rows.setdefault(name, []).append((m["synapses"], m["loop"] / args.duration))
                    continue
                builds[name], n_file = compile_standalone(make, directory, duration, args.threads)
                runners[name] = binary_runner(directory, n_file, args.threads)
                print(f"  N = {n}: {name}: generated and compiled in {builds[name]:.0f} s", flush=True)
            if args.device == "cuda_standalone":
                continue
            timings = alternate(runners, args.rounds, warmup=False)  # every run starts a fresh binary
            print(f"\nN = {n} ({v.N_E} E + {v.N_I} I, {v.N_in} inputs): loop wall time per simulated second; "
                  "counts: E spikes")
            print(report(timings, list(timings)[0], clock="wall", per=args.duration, unit="s"))
            for name, t in timings.items():
                n_syn = t.extra["synapses"][0]
                setup = np.median(np.subtract(t.extra["binary wall"], t.wall))
                print(f"  {name}: {n_syn} synapses; binary set-up and results {setup:.1f} s, whole binary "
                      f"{np.median(t.extra['binary wall']):.1f} s, peak memory {np.median(t.extra['peak MiB']):.0f} MiB; "
                      f"code generation + compilation {builds[name]:.0f} s")
                rows.setdefault(name, []).append((n_syn, float(np.median(t.wall)) / args.duration))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if len(sizes) > 1:
        print("\npower-law fit of the loop time per simulated second against the number of synapses:")
        for name, pts in rows.items():
            x, y = np.log(np.array(pts, dtype=float)).T
            slope, intercept = np.polyfit(x, y, 1)
            print(f"  {name}: exponent {slope:.3f} ({', '.join(f'{s:.3g} synapses: {c:.3g} s' for s, c in pts)})")


if __name__ == "__main__":
    main()
