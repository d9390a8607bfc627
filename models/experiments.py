"""Ready-made experiments run by ``homeonet run``: a network, a perturbation and a summary.

Each :class:`Experiment` builds its network for a given duration, knows which
population it regulates, its target and when the perturbation starts, so that
the command line can simulate it, summarise what happened and draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from brian2 import Hz, Network, SpikeMonitor, StateMonitor, TimedArray, mV, ms, nS, pA, second

from homeonet._validate import HomeonetError
from homeonet.mechanisms import (DivisiveNormalization, GlobalHomeostasis, InhibitorySTDP, IntrinsicPlasticity,
                                 RateSensor, SynapticScaling, WeightNormalization)
from homeonet.protocols import ActivityBlockade, Disinhibition

from .networks import feedforward, recurrent_ei
from .neurons import LIF, ConductanceLIF, RateNeuron
from .plasticity import AdditiveSTDP, stdp_layer
from .stimuli import class_patterns

__all__ = ["Experiment", "EXPERIMENTS", "DEFAULT", "get_experiment", "summarise", "four_scales"]


@dataclass(frozen=True)
class Experiment:
    """A runnable experiment.

    Attributes
    ----------
    name : str
        Name used on the command line.
    description : str
        One line shown by ``homeonet list``.
    duration : Quantity
        Default simulated time.
    build : callable
        ``build(duration) -> brian2.Network``.
    population : str
        The regulated population (name of its group).
    target : Quantity or None
        Its homeostatic target rate (None when the experiment regulates something else,
        e.g. weight norms).
    perturbation : str
        What happens at ``onset * duration``.
    onset : float
        Fraction of the run at which the perturbation starts.
    params : dict
        Parameters recorded with the results.
    measure : callable, optional
        ``measure(results) -> (dict, list of str)``: the experiment's own canonical measures
        (values and summary lines), added to :func:`summarise`'s output.
    """

    name: str
    description: str
    duration: object
    build: Callable
    population: str
    target: object
    perturbation: str
    onset: float = 0.5
    params: dict = field(default_factory=dict)
    measure: Callable | None = None


def _step(duration, onset, factor):
    """A TimedArray equal to 1 before ``onset*duration`` and *factor* after (onset on a 1 ms grid)."""
    return TimedArray([1.0, factor], dt=np.round(float(onset * duration / ms)) * ms)


#: Parameters of the spiking homeostasis demos (time-compressed intrinsic plasticity).
SPIKING = {"target": 5 * Hz, "target_I": 9 * Hz, "eta": 0.05 * mV / Hz, "period": 100 * ms, "sensor_tau": 0.5 * second,
           "N_E": 400, "N_I": 100, "N_in": 500, "rate_in": 20 * Hz, "w_e": 1 * mV, "w_i": 4 * mV,
           "w_in": 2 * mV, "p": 0.1, "p_in": 0.2}


def _spiking(factor):
    def build(duration):
        P = SPIKING
        ip = IntrinsicPlasticity(target=P["target"], eta=P["eta"], period=P["period"],
                                 sensor=RateSensor(tau=P["sensor_tau"], initial=P["target"], name="ip_sensor"))
        return recurrent_ei(LIF(), N_E=P["N_E"], N_I=P["N_I"], p=P["p"], w_e=P["w_e"], w_i=P["w_i"],
                            N_in=P["N_in"], rate_in=P["rate_in"], p_in=P["p_in"], w_in=P["w_in"],
                            modulation=_step(duration, 0.5, factor), mechanisms_E=[ip],
                            record={"E": ["ip_theta"]}, record_dt=100 * ms)
    return build


#: Parameters of the rate-network demo.
RATE = {"target": 10 * Hz, "eta": 0.02, "period": 10 * ms, "sensor_tau": 200 * ms, "layers": (100, 50),
        "n_inputs": 100, "n_classes": 4}


def _rate(duration):
    P = RATE
    stim = class_patterns(P["n_classes"], P["n_inputs"], rate_on=40 * Hz, rate_off=2 * Hz, seed=0)
    n = max(1, int(round(float(duration / (100 * ms)))))
    sched = stim.sequence(n, duration=100 * ms, seed=1)
    mechs = [[IntrinsicPlasticity(target=P["target"], eta=P["eta"], period=P["period"],
                                  sensor=RateSensor(tau=P["sensor_tau"], initial=P["target"], name="ip_sensor"))]
             for _ in P["layers"]]
    return feedforward(P["layers"], RateNeuron(), sched, mechanisms=mechs, seed=2,
                       modulation=_step(duration, 0.5, 2.0),
                       record={f"L{k + 1}": ["r", "ip_theta"] for k in range(len(P["layers"]))}, record_dt=10 * ms)


def _scaling(protocol, keys):
    """E/I network with synaptic scaling of every neuron's excitatory inputs and a perturbation from half time.

    Both populations scale, each toward its own set point (E 5 Hz; I 9 Hz, its rate in the unperturbed
    network), so that inhibition keeps pace with excitation. With scaling on E alone the blockaded network
    falls into population bursts once its recurrent excitation has doubled (measured: coefficient of
    variation of 10-ms population counts 2.9 against 0.8 with both populations scaling).
    """
    def build(duration):
        P = SPIKING
        ss = {pop: SynapticScaling(target=target, compression=3600, period=100 * ms,
                                   sensor=RateSensor(tau=300 * ms, initial=target, name="ss_sensor"))
              for pop, target in (("E", P["target"]), ("I", P["target_I"]))}
        syn = {"EE": [ss["E"]], "inE": [ss["E"]], "EI": [ss["I"]], "inI": [ss["I"]]}
        onset = np.round(float(duration / ms) / 2) * ms
        for key in keys:
            syn.setdefault(key, []).append(protocol(onset))
        return recurrent_ei(LIF(), N_E=P["N_E"], N_I=P["N_I"], p=P["p"], N_in=P["N_in"], rate_in=P["rate_in"],
                            p_in=P["p_in"], weight_cv=0.5, mechanisms_E=[ss["E"]], mechanisms_I=[ss["I"]],
                            synapse_mechanisms=syn, record={"E": ["ss_s"]}, record_dt=100 * ms)
    return build


#: Parameters of the Vogels et al. (2011) demo: the Brian2 reference network at in-degrees 160 E / 40 I
#: in 400 + 100 neurons (weights scaled from 2 % of 10000 to 40 % of 500), plasticity sped up 5x.
VOGELS = {"rho0": 3 * Hz, "eta": 0.05 * nS, "N_E": 400, "N_I": 100, "p": 0.4, "I_ext": 200 * pA,
          "w_e": 0.3 * nS, "w_i": 3 * nS, "w_max": 100 * nS}


def _vogels(duration):
    P = VOGELS
    istdp = InhibitorySTDP(rho0=P["rho0"], eta=P["eta"], w_max=P["w_max"],
                           factor=f"int(t >= {np.round(float(duration / ms) / 4)!r}*ms)")
    net = recurrent_ei(ConductanceLIF(), N_E=P["N_E"], N_I=P["N_I"], p=P["p"], w_e=P["w_e"], w_i=P["w_i"],
                       N_in=1, rate_in=0 * Hz, p_in=0, w_in=0 * nS, synapse_mechanisms={"IE": [istdp]})
    for name in ("E", "I"):
        net[name].I_ext = P["I_ext"]
        net[name].v = "E_L + rand()*10*mV"
    net["IE"].w = 1e-10 * nS  # inhibition starts absent and is learned
    return net


def _global(duration):
    P = SPIKING
    glob = GlobalHomeostasis(gamma=P["target"], tau_H=100 * ms, tau_G=500 * ms)
    return recurrent_ei(LIF(), N_E=P["N_E"], N_I=P["N_I"], p=P["p"], N_in=P["N_in"], rate_in=P["rate_in"],
                        p_in=P["p_in"], modulation=_step(duration, 0.5, 1.5), mechanisms_E=[glob])


def four_scales(duration, modulation=True, plastic=True):
    """The four scales in one E/I network: IP (neuron), synaptic scaling (synapses),
    inhibitory STDP (layer) and a global factor (network), all with the same 5 Hz set point.

    Parameters
    ----------
    duration : Quantity
        Simulated time (the input drops to 70 % at half time when *modulation*).
    modulation : bool
        Apply the perturbation.
    plastic : bool
        With False every learning rate is 0: the mechanisms run but leave the activity as it is
        (used by the benchmark to measure their cost at equal activity).

    Returns
    -------
    brian2.Network
    """
    P = SPIKING
    on = 1.0 if plastic else 0.0
    sensor = RateSensor(tau=P["sensor_tau"], initial=P["target"], name="rate")
    ip = IntrinsicPlasticity(target=P["target"], eta=on * 0.02 * mV / Hz, period=P["period"], sensor=sensor)
    ss = SynapticScaling(target=P["target"], compression=3600 if plastic else 1.0, period=P["period"],
                         sensor=sensor, s_max=10.0 if plastic else 1.0, s_min=0.1 if plastic else 1.0)
    # deferred potentiation: the same weights as the per-spike rule without an on_post pathway
    istdp = InhibitorySTDP(rho0=P["target"], eta=on * 0.02 * mV, w_max=20 * mV, deferred=True)
    glob = GlobalHomeostasis(gamma=P["target"], tau_H=P["sensor_tau"], tau_G=2 * second, period=P["period"],
                             G_min=0.2 if plastic else 1.0, G_max=5.0 if plastic else 1.0, sensor=sensor)
    return recurrent_ei(LIF(), N_E=P["N_E"], N_I=P["N_I"], p=P["p"], N_in=P["N_in"], rate_in=P["rate_in"],
                        p_in=P["p_in"], modulation=_step(duration, 0.5, 0.7) if modulation else None,
                        mechanisms_E=[ip, ss, istdp, glob],
                        synapse_mechanisms={"EE": [ss], "inE": [ss], "IE": [istdp]},
                        record={"E": ["ip_theta", "ss_s"]}, record_dt=100 * ms)


def _structural(duration):
    """Feed-forward LIF layer on potential synapses rewired by structural plasticity; half the synapses
    cut at half time (see tests/test_mechanisms_structural.py for the validation numbers)."""
    from homeonet.mechanism import neuron_group, synapses
    from homeonet.mechanisms import StructuralPlasticity
    from homeonet.protocols import SynapseLesion

    from .networks import SYNAPSE_HOOKS

    sp = StructuralPlasticity(target=SPIKING["target"], compression=100, period=100 * ms, initial_active=0.2,
                              sensor=RateSensor(tau=500 * ms, initial=SPIKING["target"], name="sp_sensor"))
    cut = SynapseLesion(onset=np.round(float(duration / ms) / 2) * ms, fraction=0.5)
    # inputs fire below the set point, so their axonal elements never limit the rewiring
    inputs = neuron_group(100, "x : 1", threshold="rand() < 2*Hz*dt", mechanisms=[sp], name="input")
    E = neuron_group(20, "dv/dt = -v/(10*ms) : volt", threshold="v > 10*mV", reset="v = 0*mV", mechanisms=[sp],
                     method="exact", name="E")
    S = synapses(inputs, E, "w : volt", on_pre="v_post += w*scale", mechanisms=[sp, cut], hooks=SYNAPSE_HOOKS,
                 name="inE")
    S.connect()
    S.w = 8 * mV
    return Network(inputs, E, S, SpikeMonitor(E, name="spikes_E"),
                   StateMonitor(E, ["sp_dendrites"], record=True, dt=100 * ms, name="trace_E"))


#: Parameters of the synaptic-normalization demo (Song, Miller & Abbott 2000 layer, L1 norm held at W_tot).
NORMALIZATION = {"total": 50 * mV, "norm": 1, "period": 10 * ms, "N_in": 100, "N": 20, "rate_in": 15 * Hz,
                 "w_max": 1 * mV}


def _normalization(duration):
    P = NORMALIZATION
    wn = WeightNormalization(total=P["total"], norm=P["norm"], period=P["period"])
    return stdp_layer([wn], N_in=P["N_in"], N=P["N"], rate_in=P["rate_in"], stdp=AdditiveSTDP(w_max=P["w_max"]),
                      modulation=_step(duration, 0.5, 2.0), record_dt=_grid(duration / 20, P["period"]))


def _grid(value, step):
    """*value* rounded down to a whole number (>= 1) of *step*."""
    return max(1, int(float(value / step))) * step


def _measure_normalization(results):
    """Incoming L1 norms against W_tot at every snapshot, and how far STDP moved the weights."""
    ds = results.dataset
    w, j = ds["inE_w"].values, ds["inE_j"].values
    total = float(NORMALIZATION["total"])  # SI, as the dataset
    norms = np.array([np.bincount(j, row) for row in w])
    dev = float(np.max(np.abs(norms / total - 1)))
    w_max = float(NORMALIZATION["w_max"])
    near = float(np.mean(w[-1] > 0.9 * w_max))
    cv0, cv1 = (float(np.std(row) / np.mean(row)) for row in (w[0], w[-1]))
    values = {"norm_max_rel_deviation": dev, "fraction_near_bound": near, "weight_cv_first": cv0,
              "weight_cv_last": cv1}
    lines = [f"incoming L1 norms at {len(w)} snapshots: largest relative deviation from "
             f"{total * 1e3:g} mV: {dev:.1e}",
             f"weights near the bound (> 0.9 w_max) at the end: {100 * near:.0f}%; weight CV {cv0:.2f} -> {cv1:.2f} "
             f"(STDP reshapes the pattern, normalization keeps the total)"]
    return values, lines


#: Parameters of the divisive-normalization demo (Carandini & Heeger 2012 on a rate layer).
DIVISIVE = {"gamma": 50 * Hz, "sigma": 10 * Hz, "n": 2.0, "N": 10,
            "contrasts": tuple(2.0 ** k for k in range(-2, 8))}


def _divisive(duration):
    P = DIVISIVE
    dn = DivisiveNormalization(gamma=P["gamma"], sigma=P["sigma"], n=P["n"])
    layer = RateNeuron().group(P["N"], mechanisms=[dn], name="L1")
    contrasts = np.asarray(P["contrasts"])
    step = _grid(duration / len(contrasts), 1 * ms)
    # unit i sees contrast c(t) times its weight; the contrast doubles every step
    drive = TimedArray(contrasts[:, None] * _divisive_weights()[None, :] * Hz, dt=step)
    layer.namespace["divisive_drive"] = drive
    layer.run_regularly("I_ext = divisive_drive(t, i)", dt=1 * ms, when="start", name="L1_contrast")
    return Network(layer, *dn.attach(layer), StateMonitor(layer, "r", record=True, dt=1 * ms, name="trace_L1"))


def _divisive_weights():
    return np.linspace(0.2, 1.0, DIVISIVE["N"])


def _measure_divisive(results):
    """Naka-Rushton fit of the strongest unit's steady response at each contrast."""
    from homeonet.analysis import contrast_response_fit

    ds = results.dataset
    t, r = ds["t_L1"].values, ds["L1_r"].values
    contrasts = np.asarray(DIVISIVE["contrasts"])
    step = float(_grid(results.duration / len(contrasts), 1 * ms) / second)
    # the last sample of each contrast step (a 100-ms step is 10 time constants of the rate neuron)
    idx = [int(np.searchsorted(t, (k + 1) * step - 1e-9)) - 1 for k in range(len(contrasts))]
    fit = contrast_response_fit(contrasts, r[idx, -1])
    w, n = _divisive_weights(), DIVISIVE["n"]
    c50 = float(DIVISIVE["sigma"] / Hz) / np.sum(w ** n) ** (1 / n)
    values = {"naka_rushton_r2": fit["r2"], "r_max": fit["r_max"], "c50": fit["c50"], "n": fit["n"],
              "c50_expected": float(c50)}
    lines = [f"Naka-Rushton fit of unit {len(w) - 1} over {len(contrasts)} contrasts: R^2 = {fit['r2']:.6f}, "
             f"R_max {fit['r_max']:.2f} Hz, c50 {fit['c50']:.3f} (Carandini-Heeger: {c50:.3f}), n {fit['n']:.3f} "
             f"(set: {n:g})"]
    return values, lines


EXPERIMENTS = {e.name: e for e in [
    Experiment("homeostasis", "E/I LIF network with intrinsic plasticity; input drops to 70% at half time, "
               "rates recover to 5 Hz", 12 * second, _spiking(0.7), "E", SPIKING["target"],
               "input rate x0.7 (deprivation)", params={**SPIKING, "perturbation_factor": 0.7}),
    Experiment("overdrive", "E/I LIF network with intrinsic plasticity; input rises to 150% at half time, "
               "rates return to 5 Hz", 12 * second, _spiking(1.5), "E", SPIKING["target"],
               "input rate x1.5 (overdrive)", params={**SPIKING, "perturbation_factor": 1.5}),
    Experiment("turrigiano_ttx", "Turrigiano 1998: E/I LIF network with synaptic scaling; input halved (TTX-like "
               "blockade) at half time, excitatory inputs scale up, rates recover", 12 * second,
               _scaling(lambda t: ActivityBlockade(onset=t, factor=0.5), ("inE", "inI")), "E", SPIKING["target"],
               "input synapses x0.5 (activity blockade)", params={**SPIKING, "perturbation": "ActivityBlockade x0.5"}),
    Experiment("turrigiano_bicuculline", "Turrigiano 1998: E/I LIF network with synaptic scaling; inhibition "
               "blocked (bicuculline-like) at half time, excitatory inputs scale down", 12 * second,
               _scaling(lambda t: Disinhibition(onset=t), ("IE",)), "E", SPIKING["target"],
               "inhibitory synapses blocked (disinhibition)", params={**SPIKING, "perturbation": "Disinhibition"}),
    Experiment("vogels", "Vogels 2011: conductance-based E/I network; inhibitory STDP switched on at 1/4 of the "
               "run balances excitation and brings E to rho0 = 3 Hz", 8 * second, _vogels, "E", VOGELS["rho0"],
               "inhibitory STDP switched on", onset=0.25, params=dict(VOGELS)),
    Experiment("global_homeostasis", "Zenke 2015-style global factor: the gain of the E population follows its "
               "low-passed rate; input x1.5 at half time, population rate returns to 5 Hz", 6 * second, _global,
               "E", SPIKING["target"], "input rate x1.5", params={**SPIKING, "perturbation_factor": 1.5}),
    Experiment("four_scales", "the four scales at once: intrinsic plasticity, synaptic scaling, inhibitory STDP "
               "and a global factor in one E/I LIF network; input x0.7 at half time", 12 * second, four_scales,
               "E", SPIKING["target"], "input rate x0.7 (deprivation)",
               params={**SPIKING, "perturbation_factor": 0.7}),
    Experiment("structural", "Butz & van Ooyen 2013: structural plasticity rewires potential synapses onto 20 LIF "
               "neurons; half the synapses are cut at half time and regrow, rates return to 5 Hz", 20 * second,
               _structural, "E", SPIKING["target"], "half the synapses cut (lesion)",
               params={"target": SPIKING["target"], "lesion_fraction": 0.5}),
    Experiment("synaptic_normalization", "Song 2000 STDP layer (100 inputs, 20 LIF) with L1 weight "
               "normalization: STDP reshapes the weights, each neuron's incoming total stays at 50 mV; input x2 at "
               "half time", 10 * second, _normalization, "E", None, "input rate x2",
               params=dict(NORMALIZATION), measure=_measure_normalization),
    Experiment("divisive_normalization", "Carandini-Heeger divisive normalization of a 10-unit rate layer; the "
               "contrast doubles 10 times, the response follows a Naka-Rushton curve", 2 * second, _divisive, "L1",
               None, "contrast doubles every 1/10 of the run", onset=0.1,
               params={k: (str(v) if k == "contrasts" else v) for k, v in DIVISIVE.items()},
               measure=_measure_divisive),
    Experiment("rate_homeostasis", "feed-forward rate network (100-50 units) with intrinsic plasticity on "
               "class patterns; input doubles at half time", 10 * second, _rate, "L1", RATE["target"],
               "input rates x2", params={**RATE, "perturbation_factor": 2.0}),
]}

#: The experiment ``homeonet run`` runs when no model is named.
DEFAULT = "homeostasis"


def get_experiment(name) -> Experiment:
    """Return the experiment called *name* (see :data:`EXPERIMENTS`)."""
    if name not in EXPERIMENTS:
        raise HomeonetError(f"MODEL must be one of {', '.join(EXPERIMENTS)}; got {name!r} (see 'homeonet list')")
    return EXPERIMENTS[name]


def _population_rate(results, pop):
    """(times in s, population rate in Hz) of a spiking or rate population."""
    ds = results.dataset
    if pop in results.populations:
        return ds["time"].values, ds[f"rate_{pop}"].values
    trace = ds[f"{pop}_r"]
    return ds[trace.dims[0]].values, trace.mean(trace.dims[1]).values


def summarise(results, experiment: Experiment) -> dict:
    """Rates before the perturbation, just after it and at the end, against the target.

    Windows: the last ``min(2 s, onset/2)`` before the onset, the first
    ``min(1 s, rest/4)`` after it, and the last ``min(2 s, rest/2)`` of the run.

    Parameters
    ----------
    results : homeonet.Results
        Results of the experiment.
    experiment : Experiment
        The experiment that produced them.

    Returns
    -------
    dict
        ``before``, ``after``, ``end``, ``target`` (Hz, floats), ``onset`` (s),
        the windows, ``measures`` (the experiment's own measures, when it has any) and
        ``text``, a short human-readable summary.
    """
    t, r = _population_rate(results, experiment.population)
    T = float(results.duration / second)
    onset = experiment.onset * T
    rest = T - onset
    windows = {"before": (onset - min(2.0, onset / 2), onset), "after": (onset, onset + min(1.0, rest / 4)),
               "end": (T - min(2.0, rest / 2), T)}
    out = {k: float(np.mean(r[(t >= a) & (t < b)])) if np.any((t >= a) & (t < b)) else float("nan")
           for k, (a, b) in windows.items()}
    target = float("nan") if experiment.target is None else float(experiment.target / Hz)
    out.update(target=target, onset=onset, windows=windows)
    goal = "no rate target" if experiment.target is None else f"target {target:g} Hz"
    lines = [f"homeonet run {experiment.name}: {experiment.description}",
             f"population {experiment.population}, {goal}; at {onset:g} s: {experiment.perturbation}",
             f"rate before the perturbation ({windows['before'][0]:g}-{windows['before'][1]:g} s): {out['before']:.2f} Hz",
             f"rate just after it           ({windows['after'][0]:g}-{windows['after'][1]:g} s): {out['after']:.2f} Hz",
             f"rate at the end              ({windows['end'][0]:g}-{windows['end'][1]:g} s): {out['end']:.2f} Hz"]
    if experiment.target is not None:
        err = abs(out["end"] - target) / target
        dev = abs(out["after"] - target) / target
        lines.append(f"distance to target: {100 * dev:.0f}% just after the perturbation, {100 * err:.0f}% at the end")
    if experiment.measure is not None:
        values, extra = experiment.measure(results)
        out["measures"] = values
        lines += extra
    out["text"] = "\n".join(lines)
    return out
