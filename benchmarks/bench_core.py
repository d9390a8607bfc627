"""Benchmark: the cost of homeonet's mechanisms in an E/I network, against the same network without them.

Variants of the E/I LIF network of the ready-made models (``homeonet.models.experiments``: 4 E per I
neuron, as many Poisson inputs as neurons, in-degrees 40 E + 10 I + 100 inputs), scaled to
``--neurons`` (E + I) at constant in-degrees:

1. the network written directly in Brian2 (no homeonet; the same structure and synapses),
2. the same network from ``homeonet.models.recurrent_ei`` without mechanisms (the baseline),
3. + intrinsic plasticity on E with eta = 0 (the mechanism runs, the activity is unchanged),
4. + intrinsic plasticity regulating E to 5 Hz,
5. (2) with the ready-made "four scales" mechanisms (``four_scales_mechanisms``: intrinsic plasticity,
   synaptic scaling, deferred inhibitory STDP and a global factor; the experiment's input step and
   recording left out, as they are not mechanisms) with ``plastic=False``: every learning rate 0 and
   every bound 1, so the mechanisms run but leave the activity unchanged: their cost at equal spikes,
6. the same, plastic (activity regulated to 5 Hz, so the spike work differs),
7. (2) with one object on a clock of its own (a 100-ms ``StateMonitor``): the cost of a second clock
   in Brian2's runtime loop, which homeonet's periodic objects avoid on the runtime device
   (:class:`homeonet.mechanism.Period`),
8. (7) with E and I in two groups (E carries a rate sensor, which costs nothing per step): the cost of
   giving E mechanisms that I does not have; (5) against (8) is the mechanisms' own work.

Runtime device: each variant is built once and warmed by a 1-ms run (it compiles everything), then
timed on ``--duration`` in alternating rounds, each round from the stored start state with the same
random numbers (so every round gives the same spikes). ``--device cpp_standalone`` compiles each
variant once and alternates runs of the binaries; the time is that of the simulation loop inside the
binary (Brian2's ``last_run_info``), with ``--threads`` OpenMP threads. Variants 1, 2, 3, 5, 7 and 8
must show the same E spike count. The issue's targets: four scales (rates 0) at most 1.15x the baseline in
runtime, at most 1.05x in cpp_standalone, at 4,000 and at 40,000 neurons.

Usage: ``python benchmarks/bench_core.py [--neurons 4000] [--duration 5] [--device runtime]
[--rounds 5] [--clock cpu] [--variants 2,5] [--profile]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import brian2 as b2
import numpy as np
from brian2 import Hz, Network, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, mV, ms, second

import homeonet as hn
from homeonet.models import LIF, recurrent_ei
from homeonet.models.experiments import EXPERIMENTS, four_scales_mechanisms

from _timing import alternate, binary_runner, compile_standalone, machine, report

FOUR_SCALES = EXPERIMENTS["four_scales"]
DEFAULTS = {k: FOUR_SCALES.parameters[k].default for k in ("N_E", "N_I", "N_in", "rate_in", "p", "p_in",
                                                              "w_e", "w_i", "w_in")}


def network_values(neurons):
    """The default network scaled to *neurons* (E + I) at the defaults' in-degrees and E:I:input ratios."""
    k = neurons / (DEFAULTS["N_E"] + DEFAULTS["N_I"])
    return {**DEFAULTS, "N_E": round(DEFAULTS["N_E"] * k), "N_I": round(DEFAULTS["N_I"] * k),
            "N_in": round(DEFAULTS["N_in"] * k), "p": DEFAULTS["p"] / k, "p_in": DEFAULTS["p_in"] / k}


def four_scales(v, duration, plastic):
    """The network of :func:`built` with the ready-made four scales' mechanisms (its builder call, nothing else:
    no input step, no recording)."""
    values = FOUR_SCALES.resolve({**v, "duration": duration, "plastic": plastic})
    return built(v, **four_scales_mechanisms(values))


def plain(v):
    """The network in plain Brian2: recurrent_ei's structure (one group, subgroups E and I, constant
    weights, the same connection calls in the same order), written by hand."""
    eqs = """dv/dt = (v_rest - v + (I_e - I_i) + I_ext)/tau_m : volt (unless refractory)
             dI_e/dt = -I_e/tau_e : volt
             dI_i/dt = -I_i/tau_i : volt
             I_ext : volt"""
    neurons = NeuronGroup(v["N_E"] + v["N_I"], eqs, threshold="v > v_th", reset="v = v_reset", refractory="t_ref",
                          method="exponential_euler", namespace=dict(LIF.DEFAULTS), name="neurons")
    neurons.v = LIF.DEFAULTS["v_rest"]
    pops = {"E": neurons[:v["N_E"]], "I": neurons[v["N_E"]:]}
    src = PoissonGroup(v["N_in"], v["rate_in"], name="input")
    objs = [neurons, src]
    for name, pre, post, var, w, prob in (("EE", "E", "E", "I_e", "w_e", "p"), ("EI", "E", "I", "I_e", "w_e", "p"),
                                          ("IE", "I", "E", "I_i", "w_i", "p"), ("II", "I", "I", "I_i", "w_i", "p"),
                                          ("inE", None, "E", "I_e", "w_in", "p_in"),
                                          ("inI", None, "I", "I_e", "w_in", "p_in")):
        S = Synapses(src if pre is None else pops[pre], pops[post], on_pre=f"{var}_post += {float(v[w] / mV)!r}*mV",
                     name=name)
        S.connect(condition="i != j", p=v[prob]) if pre == post else S.connect(p=v[prob])
        objs.append(S)
    objs += [SpikeMonitor(pops["E"], name="spikes_E"), SpikeMonitor(pops["I"], name="spikes_I")]
    return Network(*objs)


def built(v, mechanisms_E=(), synapse_mechanisms=None):
    return recurrent_ei(LIF(), N_E=v["N_E"], N_I=v["N_I"], p=v["p"], N_in=v["N_in"], rate_in=v["rate_in"],
                        p_in=v["p_in"], w_e=v["w_e"], w_i=v["w_i"], w_in=v["w_in"], mechanisms_E=list(mechanisms_E),
                        synapse_mechanisms=synapse_mechanisms)


def variants(v, duration):
    return {
        "plain Brian2": lambda: plain(v),
        "no mechanism": lambda: built(v),
        "IP, eta 0": lambda: built(v, [hn.IntrinsicPlasticity(eta=0 * mV / Hz)]),
        "IP, 5 Hz": lambda: built(v, [hn.IntrinsicPlasticity(target=5 * Hz)]),
        "four scales, rates 0": lambda: four_scales(v, duration, plastic=False),
        "four scales, plastic": lambda: four_scales(v, duration, plastic=True),
        # what the four scales' cost is made of (see the module docstring)
        "no mechanism + 100-ms clock": lambda: with_slow_clock(built(v)),
        "two groups + 100-ms clock": lambda: with_slow_clock(built(v, [hn.RateSensor()])),
    }


def with_slow_clock(net):
    """*net* with one object on a 100-ms clock of its own (a one-neuron StateMonitor): Brian2's runtime loop
    then looks for the next clock and tests every object against it on every step."""
    net.add(b2.StateMonitor(net["E"], "v", record=[0], dt=100 * ms, name="slow"))
    return net


def runtime_runner(make, duration):
    b2.seed(1)
    net = make()
    net.run(1 * ms)  # compiles and initialises everything
    net.store("start")
    spikes = net["spikes_E"]

    def run(profile=False):
        net.restore("start", restore_random_state=True)
        n0 = spikes.num_spikes
        c0, w0 = time.process_time(), time.perf_counter()
        net.run(duration, profile=profile)
        return time.process_time() - c0, time.perf_counter() - w0, spikes.num_spikes - n0

    return run, net


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=500, help="E + I neurons (default 500, the models' size)")
    parser.add_argument("--duration", type=float, default=5.0, help="simulated seconds per run")
    parser.add_argument("--target", default="cython", choices=("numpy", "cython"))
    parser.add_argument("--device", default="runtime", choices=("runtime", "cpp_standalone"))
    parser.add_argument("--threads", type=int, default=0, help="OpenMP threads of cpp_standalone (0: none)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--clock", default=None, choices=("cpu", "wall"),
                        help="time the ratios use (default: cpu for runtime, the loop's wall time for standalone)")
    parser.add_argument("--variants", default="1,2,3,4,5,6", help="comma-separated numbers of the variants (1-8)")
    parser.add_argument("--profile", action="store_true", help="runtime: print Brian2's profile of each variant")
    args = parser.parse_args()
    b2.prefs.codegen.target = args.target
    v = network_values(args.neurons)
    duration = args.duration * second
    table = variants(v, duration)
    names = [list(table)[int(k) - 1] for k in args.variants.split(",")]
    standalone = args.device == "cpp_standalone"
    clock = args.clock or ("wall" if standalone else "cpu")
    print(f"E/I LIF network {v['N_E']} E + {v['N_I']} I, {v['N_in']} Poisson inputs at {v['rate_in']}, p = "
          f"{v['p']:.4g}, p_in = {v['p_in']:.4g} (in-degrees {v['p'] * v['N_E']:.0f} E, {v['p'] * v['N_I']:.0f} I, "
          f"{v['p_in'] * v['N_in']:.0f} inputs), {args.duration:g} s simulated, "
          + (f"cpp_standalone ({args.threads or 'no'} OpenMP threads), times of the simulation loop"
             if standalone else f"runtime ({args.target}), {clock} times")
          + f"; {args.rounds} alternating rounds\n{machine()}")
    runners, nets, tmp = {}, {}, None
    try:
        if standalone:
            tmp = tempfile.mkdtemp(prefix="homeonet-bench-")
        for k, name in enumerate(names):
            t0 = time.perf_counter()
            if standalone:
                directory = os.path.join(tmp, f"v{k}")
                build, n_file = compile_standalone(table[name], directory, duration, args.threads)
                runners[name] = binary_runner(directory, n_file, args.threads)
                print(f"  {name}: generated and compiled in {build:.0f} s", flush=True)
            else:
                runners[name], nets[name] = runtime_runner(table[name], duration)
                print(f"  {name}: built and compiled in {time.perf_counter() - t0:.0f} s", flush=True)
        timings = alternate(runners, args.rounds, warmup=not standalone)  # a binary starts afresh
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    base = "no mechanism" if "no mechanism" in timings else names[0]
    print(f"\ncounts: E spikes of the run")
    print(report(timings, base, clock=clock))
    if standalone:
        for name, t in timings.items():
            print(f"{name}: whole binary (set-up, loop, results) {np.median(t.extra['binary wall']):.2f} s, "
                  f"peak memory {np.median(t.extra['peak MiB']):.0f} MiB")
    if args.profile and not standalone:
        for name, net in nets.items():
            runners[name](profile=True)
            print(f"\n{name}:\n{b2.profiling_summary(net, 15)}")


if __name__ == "__main__":
    main()
