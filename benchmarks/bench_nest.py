"""Benchmark: synaptic scaling on Brian2's CUBA network, homeonet against NEST's recipe.

The network of Brian2's example ``examples/CUBA.py`` (Vogels & Abbott 2005 as in Brette et al. 2007):
4000 current-based LIF neurons (3200 E, 800 I), 2 % connectivity, exponential synaptic currents, every
neuron's membrane potential drawn uniformly between reset and threshold. Four variants, each timed on
``--duration`` (default 4 s) simulated after it is built, in alternating rounds:

``brian2 CUBA``
    the example's network in plain Brian2 (runtime device, Cython);
``homeonet scaling``
    the same network with :class:`homeonet.SynapticScaling` on every neuron, scaling its excitatory
    synapses toward ``--target`` (default 10 Hz) every 100 ms (a 1-s rate sensor starting at the
    target, compression 3600);
``nest CUBA``
    the same network in NEST (``iaf_psc_exp``, the same constants; one thread);
``nest scaling``
    NEST has no synaptic scaling model; its documented way to change weights during a simulation is
    to run in chunks and set them from Python: ``nest.RunManager()`` around ``nest.Run(100 ms)``, the
    spike recorder's counts of the chunk low-passed into the same rate sensor, the same factor update,
    and ``GetConnections(...).set(weight=...)`` for the excitatory synapses, every 100 ms.

NEST runs in its own Python (``--nest-python``: a virtual environment with ``pip install
nest-simulator``, outside this project; NEST is never a homeonet dependency), this script in NEST mode.
Printed: the median CPU time of each (all run single-threaded), the median of paired ratios, spike counts,
and NEST's recipe over homeonet's scaling (the recipe gets the connections once and sets all their weights
in one call per chunk; getting them in every chunk, or setting weights connection by connection, is slower).

Usage: ``python benchmarks/bench_nest.py --nest-python /path/to/nest-venv/bin/python [--rounds 3]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

N, N_E = 4000, 3200
P = 0.02
# Brian2's CUBA example: taum 20 ms, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, El -49 mV,
# we = 60*0.27/10 mV, wi = -20*4.5/10 mV (jumps of the synaptic variables, in mV), refractory 5 ms
TAU_M, TAU_E, TAU_I, V_T, V_R, E_L, W_E, W_I, T_REF = 20.0, 5.0, 10.0, -50.0, -60.0, -49.0, 1.62, -9.0, 5.0
PERIOD, SENSOR_TAU, COMPRESSION, TAU_S = 100.0, 1000.0, 3600.0, 3600e3  # ms; scaling as homeonet's defaults


def scaling_update(s, A, target):
    """homeonet's SynapticScaling update (uniform, excitatory) with the NEST recipe's numbers (numpy)."""
    import numpy as np

    rate = PERIOD / (TAU_S / COMPRESSION)
    return np.clip(s * (1 + rate * (target - A) / target), 0.0, 10.0)


# -- NEST mode ---------------------------------------------------------------------------------------------

def nest_run(duration_ms, target, scaling, seed):
    """Build the network in NEST and time its simulation (with the chunked scaling recipe if *scaling*)."""
    import nest
    import numpy as np

    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:  # NEST < 3.9
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": 1, "rng_seed": seed})
    c_m = 250.0  # pF; a jump J (mV) of Brian2's synaptic variable is a current C_m J / tau_m (pA)
    neurons = nest.Create("iaf_psc_exp", N, params={
        "C_m": c_m, "tau_m": TAU_M, "tau_syn_ex": TAU_E, "tau_syn_in": TAU_I, "E_L": E_L, "V_th": V_T,
        "V_reset": V_R, "t_ref": T_REF, "I_e": 0.0, "V_m": nest.random.uniform(V_R, V_T)})
    exc, inh = neurons[:N_E], neurons[N_E:]
    rule = {"rule": "pairwise_bernoulli", "p": P, "allow_autapses": True}
    nest.Connect(exc, neurons, rule, {"weight": c_m * W_E / TAU_M, "delay": 0.1})
    nest.Connect(inh, neurons, rule, {"weight": c_m * W_I / TAU_M, "delay": 0.1})
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    first = neurons[0].global_id
    c0, w0 = time.process_time(), time.perf_counter()
    if not scaling:
        nest.Simulate(duration_ms)
    else:
        conns = nest.GetConnections(source=exc, target=neurons)
        post = np.array(conns.target) - first
        base = np.array(conns.weight, dtype=float)
        s, A, total = np.ones(N), np.full(N, target), 0
        decay = np.exp(-PERIOD / SENSOR_TAU)
        with nest.RunManager():
            for _ in range(int(round(duration_ms / PERIOD))):
                nest.Run(PERIOD)
                senders = np.array(recorder.events["senders"])  # (recorders cannot be reset inside a run)
                counts = np.bincount(senders[total:] - first, minlength=N)
                total = len(senders)
                A = A * decay + counts / (SENSOR_TAU / 1000.0)
                s = scaling_update(s, A, target)
                conns.set(weight=(base * s[post]).tolist())
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {"cpu": cpu, "wall": wall, "spikes": total if scaling else int(recorder.n_events),
            "version": nest.__version__}


def nest_main(args):
    out = {}
    for scaling in (False, True):
        r = nest_run(args.duration * 1000, args.target, scaling, args.seed)
        out["nest scaling" if scaling else "nest CUBA"] = r
    print(json.dumps(out))


# -- Brian2 / homeonet mode -------------------------------------------------------------------------------

def brian2_network(scaling, target):
    """The CUBA network in Brian2, plain or with homeonet's SynapticScaling (see the module docstring)."""
    from brian2 import Hz, Network, NeuronGroup, SpikeMonitor, Synapses, mV, ms, second

    import homeonet as hn
    from homeonet.models.networks import SYNAPSE_HOOKS

    ns = {"taum": TAU_M * ms, "taue": TAU_E * ms, "taui": TAU_I * ms, "Vt": V_T * mV, "Vr": V_R * mV,
          "El": E_L * mV}
    eqs = """dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
             dge/dt = -ge/taue : volt
             dgi/dt = -gi/taui : volt"""
    kwargs = dict(threshold="v > Vt", reset="v = Vr", refractory=T_REF * ms, method="exact", namespace=ns)
    if scaling:
        ss = hn.SynapticScaling(target=target * Hz, compression=COMPRESSION, period=PERIOD * ms,
                                sensor=hn.RateSensor(tau=SENSOR_TAU * ms, initial=target * Hz, name="rate"))
        P_ = hn.neuron_group(N, eqs, mechanisms=[ss], **kwargs)
        Ce = hn.synapses(P_[:N_E], P_, "w : volt (constant, shared)", on_pre="ge_post += w*scale",
                         mechanisms=[ss], hooks=SYNAPSE_HOOKS)
        Ce.connect(p=P)
        Ce.w = W_E * mV
    else:
        P_ = NeuronGroup(N, eqs, **kwargs)
        Ce = Synapses(P_[:N_E], P_, on_pre=f"ge_post += {W_E!r}*mV")
        Ce.connect(p=P)
    Ci = Synapses(P_[N_E:], P_, on_pre=f"gi_post += {W_I!r}*mV")
    Ci.connect(p=P)
    P_.v = "Vr + rand()*(Vt - Vr)"
    spikes = SpikeMonitor(P_)
    return Network(P_, Ce, Ci, spikes), spikes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0, help="simulated seconds")
    parser.add_argument("--target", type=float, default=10.0, help="set-point rate of the scaling (Hz)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nest-python", default=None, help="a Python with nest-simulator (runs the NEST part)")
    parser.add_argument("--nest-mode", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.nest_mode:
        return nest_main(args)

    import brian2 as b2
    from brian2 import second

    from _timing import alternate, machine, report

    b2.prefs.codegen.target = "cython"
    duration = args.duration * second
    nest_info = {}
    print(f"Brian2's CUBA network ({N} LIF, {N_E} E, p = {P}), {args.duration:g} s simulated; synaptic scaling of "
          f"the E synapses toward {args.target:g} Hz every {PERIOD:g} ms; Brian2 runtime (cython) and NEST, one "
          f"thread each; {args.rounds} alternating rounds, CPU times\n{machine()}")

    def brian(scaling):
        b2.seed(args.seed)
        net, spikes = brian2_network(scaling, args.target)
        net.run(0.1 * b2.ms)  # compiles
        net.store("start")

        def run():
            net.restore("start", restore_random_state=True)
            n0 = spikes.num_spikes
            c0, w0 = time.process_time(), time.perf_counter()
            net.run(duration)
            return time.process_time() - c0, time.perf_counter() - w0, spikes.num_spikes - n0
        return run

    variants = {"brian2 CUBA": brian(False), "homeonet scaling": brian(True)}
    if args.nest_python:
        cache = {}

        def nest(name):
            def run():
                if name not in cache:  # one NEST process runs both NEST variants of a round
                    out = subprocess.run([args.nest_python, __file__, "--nest-mode", "--duration", str(args.duration),
                                          "--target", str(args.target), "--seed", str(args.seed)],
                                         capture_output=True, text=True, check=True)
                    cache.update(json.loads(out.stdout.strip().splitlines()[-1]))
                r = cache.pop(name)
                nest_info["version"] = r["version"]
                return r["cpu"], r["wall"], r["spikes"]
            return run
        variants.update({"nest CUBA": nest("nest CUBA"), "nest scaling": nest("nest scaling")})
    timings = alternate(variants, args.rounds)
    if nest_info:
        print(f"NEST {nest_info['version']}")
    print("\ncounts: spikes of the run")
    print(report(timings, "brian2 CUBA", clock="cpu"))
    if "nest scaling" in timings:
        ratios = [a / b for a, b in zip(timings["nest scaling"].cpu, timings["homeonet scaling"].cpu)]
        own = [a / b for a, b in zip(timings["nest scaling"].cpu, timings["nest CUBA"].cpu)]
        print(f"nest scaling / homeonet scaling: {statistics.median(ratios):.1f}x [{min(ratios):.1f}-{max(ratios):.1f}]"
              f" (paired CPU times); nest scaling / nest CUBA: {statistics.median(own):.1f}x")


if __name__ == "__main__":
    sys.exit(main())
