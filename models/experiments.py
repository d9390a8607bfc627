"""Ready-made experiments run by ``homeonet run``: a network, a perturbation and a summary.

Each :class:`Experiment` builds its network for a given duration, knows which
population it regulates, its target and when the perturbation starts, so that
the command line can simulate it, summarise what happened and draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from brian2 import Hz, TimedArray, mV, ms, second

from homeonet._validate import HomeonetError
from homeonet.mechanisms import IntrinsicPlasticity, RateSensor

from .networks import feedforward, recurrent_ei
from .neurons import LIF, RateNeuron
from .stimuli import class_patterns

__all__ = ["Experiment", "EXPERIMENTS", "DEFAULT", "get_experiment", "summarise"]


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
    target : Quantity
        Its homeostatic target rate.
    perturbation : str
        What happens at ``onset * duration``.
    onset : float
        Fraction of the run at which the perturbation starts.
    params : dict
        Parameters recorded with the results.
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


def _step(duration, onset, factor):
    """A TimedArray equal to 1 before ``onset*duration`` and *factor* after (onset on a 1 ms grid)."""
    return TimedArray([1.0, factor], dt=np.round(float(onset * duration / ms)) * ms)


#: Parameters of the spiking homeostasis demos (time-compressed intrinsic plasticity).
SPIKING = {"target": 5 * Hz, "eta": 0.05 * mV / Hz, "period": 100 * ms, "sensor_tau": 0.5 * second,
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


EXPERIMENTS = {e.name: e for e in [
    Experiment("homeostasis", "E/I LIF network with intrinsic plasticity; input drops to 70% at half time, "
               "rates recover to 5 Hz", 12 * second, _spiking(0.7), "E", SPIKING["target"],
               "input rate x0.7 (deprivation)", params={**SPIKING, "perturbation_factor": 0.7}),
    Experiment("overdrive", "E/I LIF network with intrinsic plasticity; input rises to 150% at half time, "
               "rates return to 5 Hz", 12 * second, _spiking(1.5), "E", SPIKING["target"],
               "input rate x1.5 (overdrive)", params={**SPIKING, "perturbation_factor": 1.5}),
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
        the windows, and ``text``, a short human-readable summary.
    """
    t, r = _population_rate(results, experiment.population)
    T = float(results.duration / second)
    onset = experiment.onset * T
    rest = T - onset
    windows = {"before": (onset - min(2.0, onset / 2), onset), "after": (onset, onset + min(1.0, rest / 4)),
               "end": (T - min(2.0, rest / 2), T)}
    out = {k: float(np.mean(r[(t >= a) & (t < b)])) if np.any((t >= a) & (t < b)) else float("nan")
           for k, (a, b) in windows.items()}
    target = float(experiment.target / Hz)
    out.update(target=target, onset=onset, windows=windows)
    err = abs(out["end"] - target) / target
    dev = abs(out["after"] - target) / target
    lines = [f"homeonet run {experiment.name}: {experiment.description}",
             f"population {experiment.population}, target {target:g} Hz; at {onset:g} s: {experiment.perturbation}",
             f"rate before the perturbation ({windows['before'][0]:g}-{windows['before'][1]:g} s): {out['before']:.2f} Hz",
             f"rate just after it           ({windows['after'][0]:g}-{windows['after'][1]:g} s): {out['after']:.2f} Hz",
             f"rate at the end              ({windows['end'][0]:g}-{windows['end'][1]:g} s): {out['end']:.2f} Hz",
             f"distance to target: {100 * dev:.0f}% just after the perturbation, {100 * err:.0f}% at the end"]
    out["text"] = "\n".join(lines)
    return out
