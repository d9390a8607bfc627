"""Benchmark: a plain Brian2 E/I network against the same network built through homeonet.

Times ``Network.run`` (after a warm-up run that compiles everything) for

1. the network written directly in Brian2 (no homeonet),
2. the same network from ``homeonet.models.recurrent_ei`` without mechanisms,
3. the same with intrinsic plasticity on the excitatory neurons,

in one process on the same machine, and prints wall times and ratios to (1) and to (2). The issue's
target compares the "four scales" model with (2), the same network without mechanisms: at most 1.3x,
1.15x the goal.

With ``--device cpp_standalone`` each variant is compiled to C++ and the time is that of the
compiled run alone (Brian2's ``device._last_run_time``): no per-object Python call, no per-clock
cost of the runtime loop, so the ratios show the mechanisms' own work.

Usage: ``python benchmarks/bench_core.py [--duration 5] [--target cython] [--device runtime] [--repeats 3]``
"""

import argparse
import statistics
import time

import brian2 as b2
from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, Synapses, mV, ms, second

import homeonet as hn
from homeonet.models import LIF, recurrent_ei
from homeonet.models.experiments import EXPERIMENTS
from homeonet.models.networks import DEFAULT_WEIGHTS
from homeonet.simulate import use_device

# the network of the ready-made models (the defaults of homeonet.models.experiments)
FOUR_SCALES = EXPERIMENTS["four_scales"]
N_E, N_I, N_IN, RATE_IN, P, P_IN = (FOUR_SCALES.parameters[k].default
                                    for k in ("N_E", "N_I", "N_in", "rate_in", "p", "p_in"))


def four_scales(duration, plastic):
    """The ready-made four-scales network without its perturbation (input factor 1)."""
    return FOUR_SCALES.build(FOUR_SCALES.resolve({"duration": duration, "factor": 1.0, "plastic": plastic}))


def plain():
    """The E/I network in plain Brian2 (same equations, sizes, weights as recurrent_ei(LIF()))."""
    p = LIF.DEFAULTS
    w = DEFAULT_WEIGHTS[LIF]
    eqs = """dv/dt = (v_rest - v + (I_e - I_i) + I_ext)/tau_m : volt (unless refractory)
             dI_e/dt = -I_e/tau_e : volt
             dI_i/dt = -I_i/tau_i : volt
             I_ext : volt"""
    groups = {}
    for name, n in (("E", N_E), ("I", N_I)):
        g = b2.NeuronGroup(n, eqs, threshold="v > v_th", reset="v = v_reset", refractory="t_ref",
                           method="exponential_euler", namespace=dict(p), name=name)
        g.v = p["v_rest"]
        groups[name] = g
    src = PoissonGroup(N_IN, RATE_IN, name="input")
    objs = [groups["E"], groups["I"], src]
    for name, pre, post, var, wk, prob in (("EE", "E", "E", "I_e", "w_e", P), ("EI", "E", "I", "I_e", "w_e", P),
                                           ("IE", "I", "E", "I_i", "w_i", P), ("II", "I", "I", "I_i", "w_i", P)):
        s = Synapses(groups[pre], groups[post], "w : volt", on_pre=f"{var}_post += w", name=name)
        s.connect(condition="i != j", p=prob) if pre == post else s.connect(p=prob)
        s.w = w[wk]
        objs.append(s)
    for name, post in (("inE", "E"), ("inI", "I")):
        s = Synapses(src, groups[post], "w : volt", on_pre="I_e_post += w", name=name)
        s.connect(p=P_IN)
        s.w = w["w_in"]
        objs.append(s)
    objs += [SpikeMonitor(groups["E"], name="spikes_E"), SpikeMonitor(groups["I"], name="spikes_I")]
    return Network(*objs)


def built(mechanisms=()):
    return recurrent_ei(LIF(), N_E=N_E, N_I=N_I, p=P, N_in=N_IN, rate_in=RATE_IN, p_in=P_IN,
                        mechanisms_E=list(mechanisms))


def timed(make, duration, device="runtime"):
    b2.start_scope()
    if device == "cpp_standalone":
        with use_device("cpp_standalone"):
            b2.seed(1)
            net = make()
            net.run(duration)  # builds, compiles and runs; the device times the run itself
            return b2.get_device()._last_run_time, net["spikes_E"].num_spikes
    b2.seed(1)
    net = make()
    net.run(1 * ms)  # compile and initialise outside the timing
    t0 = time.perf_counter()
    net.run(duration)
    return time.perf_counter() - t0, net["spikes_E"].num_spikes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="simulated seconds per run")
    parser.add_argument("--target", default="cython", choices=("numpy", "cython"))
    parser.add_argument("--device", default="runtime", choices=("runtime", "cpp_standalone"))
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant; the best is kept")
    args = parser.parse_args()
    b2.prefs.codegen.target = args.target
    duration = args.duration * second
    # eta = 0: the mechanism runs (sensor, periodic update) but leaves the activity unchanged, so the
    # ratio is the cost of the mechanism itself; with eta > 0 the rates (hence spike work) change too.
    rows = [("plain Brian2", plain),
            ("homeonet, no mechanism", built),
            ("homeonet + IP (eta=0, same activity)", lambda: built([hn.IntrinsicPlasticity(eta=0 * mV / Hz)])),
            ("homeonet + IP (target 5 Hz)", lambda: built([hn.IntrinsicPlasticity(target=5 * Hz)])),
            # the "four scales" model (IP, synaptic scaling, inhibitory STDP, global factor) with its
            # learning rates at 0 (same activity as the plain network: the cost of the mechanisms) ...
            ("four scales (rates 0, same activity)", lambda: four_scales(duration, plastic=False)),
            # ... and plastic (activity regulated to 5 Hz, so spike work differs)
            ("four scales (plastic)", lambda: four_scales(duration, plastic=True))]
    print(f"E/I LIF network {N_E}+{N_I}, {N_IN} Poisson inputs, {args.duration:g} s simulated, "
          f"{args.device}" + (f" ({args.target})" if args.device == "runtime" else "")
          + f", best of {args.repeats} (variants interleaved)")
    best = {label: (float("inf"), 0) for label, _ in rows}
    paired = {label: [] for label, _ in rows}
    for _ in range(args.repeats):
        walls = {}
        for label, make in rows:
            wall, spikes = timed(make, duration, args.device)
            best[label] = min(best[label], (wall, spikes))
            walls[label] = wall
        # on a machine whose speed drifts, the ratio within one round (runs minutes apart at most) is
        # steadier than the ratio of two bests: its median is printed too
        for label in walls:
            paired[label].append(walls[label] / walls[rows[1][0]])
    base, same = best[rows[0][0]][0], best[rows[1][0]][0]
    print(f"{'':<38} {'wall':>9}   {'/ plain':>7}   {'/ no mechanism':>14}   {'median of paired':>16}")
    for label, (wall, spikes) in best.items():
        print(f"{label:<38} {wall:7.2f} s   {wall / base:7.2f}   {wall / same:14.2f}   "
              f"{statistics.median(paired[label]):16.2f}   E spikes {spikes}")


if __name__ == "__main__":
    main()
