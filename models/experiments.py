"""Ready-made experiments run by ``homeonet run``: a network, a perturbation and a summary.

Each :class:`Experiment` declares its parameters once (:class:`homeonet.parameters.Parameter`:
name, default with unit, accepted range, one-line meaning), builds its network from their
resolved values, and knows which population it regulates, which parameter is its set point and
when its perturbation starts. The command line (``homeonet run MODEL --set eta=0.1mV/Hz``,
``homeonet list --params MODEL``), the sweeps and the records stored with the results all read
the same declarations.

The perturbation's onset is one fact: the fraction ``onset`` of the run, turned into a time on a
1 ms grid by :func:`onset_time`; builders, the stored results (attribute ``onset``), summaries and
figures all use that time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from brian2 import Hz, Network, SpikeMonitor, StateMonitor, TimedArray, mV, ms, nS, pA, second

from homeonet._validate import HomeonetError, ParameterError
from homeonet.mechanisms import (DivisiveNormalization, GlobalHomeostasis, InhibitorySTDP, IntrinsicPlasticity,
                                 RateSensor, SynapticScaling, WeightNormalization)
from homeonet.parameters import Parameter, ParameterSet, Values
from homeonet.protocols import ActivityBlockade, Disinhibition

from . import diehl_cook
from .networks import feedforward, recurrent_ei
from .neurons import LIF, ConductanceLIF, RateNeuron
from .plasticity import AdditiveSTDP, stdp_layer
from .stimuli import class_patterns
from .testbed import measure_testbed, rate_testbed, spiking_testbed, testbed_parameters

__all__ = ["Experiment", "EXPERIMENTS", "DEFAULT", "experiment", "get_experiment", "summarise", "onset_time",
           "measurement_windows", "four_scales_mechanisms"]

#: Grid of the perturbation's onset time.
ONSET_GRID = 1 * ms
#: Shortest measurement window of a summary (five 10-ms rate bins).
MIN_WINDOW = 50 * ms


def onset_time(values):
    """The perturbation's onset: ``onset * duration`` rounded to :data:`ONSET_GRID`.

    Parameters
    ----------
    values : Mapping
        Resolved values with ``duration`` (time) and ``onset`` (fraction of the run).

    Returns
    -------
    Quantity
    """
    return np.round(float(values["onset"] * values["duration"] / ONSET_GRID)) * ONSET_GRID


def measurement_windows(duration, onset) -> dict:
    """The windows of a summary, in seconds: the rates before the perturbation, just after it, at the end.

    ``before``: the last ``min(2 s, onset/2)`` before the onset; ``after``: the first
    ``min(1 s, rest/4)`` after it; ``end``: the last ``min(2 s, rest/2)`` of the run
    (``rest = duration - onset``).

    Parameters
    ----------
    duration, onset : float or Quantity
        Simulated time and onset (seconds if floats).

    Returns
    -------
    dict
        ``name -> (start, stop)`` in seconds.
    """
    T, t0 = (float(x / second) if hasattr(x, "dim") else float(x) for x in (duration, onset))
    rest = T - t0
    return {"before": (t0 - min(2.0, t0 / 2), t0), "after": (t0, t0 + min(1.0, rest / 4)),
            "end": (T - min(2.0, rest / 2), T)}


@dataclass(frozen=True)
class Experiment:
    """A runnable experiment.

    Attributes
    ----------
    name : str
        Name used on the command line.
    description : str
        One line shown by ``homeonet list``.
    parameters : ParameterSet
        Its declared parameters; ``duration`` (unless it has a ``runner``), ``onset`` when it has a
        perturbation.
    builder : callable
        ``builder(values) -> brian2.Network``.
    population : str or None
        The regulated population (name of its group); None for a user's experiment without one
        (its sweeps then name their measures).
    target : str or None
        Name of the parameter holding the population's set-point rate (None when the experiment
        regulates something else, e.g. weight norms).
    perturbation : str
        What happens at the onset, formatted with the values (``'input rate x{factor}'``).
    min_duration : Quantity
        Shortest run the experiment's protocol and measures make sense for (default: the
        ``duration`` parameter's lower bound; the windows of :func:`measurement_windows` add their own
        minimum).
    measure : callable, optional
        ``measure(results, values) -> (dict, list of str)``: the experiment's own canonical measures
        (values and summary lines), added to :func:`summarise`'s output.
    other_targets : tuple of (str, str)
        ``(population, parameter)`` pairs: set points of other populations (e.g. the inhibitory
        neurons' own), recorded as ``target.<population>`` so figures of that population draw its own.
    runner : callable, optional
        ``runner(values, *, seed, progress, attrs) -> Results``: for an experiment that runs its own
        protocol, which ends by itself (a schedule of samples), in place of ``builder`` plus a run of
        ``duration``; such an experiment declares no ``duration``. It runs on the active Brian2 device
        and stores *attrs* (:meth:`record`) with its results.
    figure : callable, optional
        ``figure(results, values) -> matplotlib Figure``: the experiment's own figure (default: the
        homeostasis panels).
    """

    name: str
    description: str
    parameters: ParameterSet
    builder: Callable
    population: str | None
    target: str | None
    perturbation: str
    min_duration: object = None
    measure: Callable | None = None
    other_targets: tuple = ()
    runner: Callable | None = None
    figure: Callable | None = None

    @property
    def duration(self):
        """Default simulated time (None for an experiment that ends by itself)."""
        return self.parameters["duration"].default if "duration" in self.parameters else None

    def resolve(self, overrides=None) -> Values:
        """Checked values: the defaults updated by *overrides* (values, or text as typed).

        Raises
        ------
        ParameterError
            An unknown parameter, a value outside its range, or a duration too short for the
            experiment's perturbation and measurement windows (the minimum is named).
        """
        from homeonet.simulate import check_steps

        values = self.parameters.resolve(overrides)
        if "duration" not in values:
            return values
        check_steps(values["duration"])  # before anything is built for it
        shortest = self.minimum_duration(values)
        if values["duration"] < shortest:
            shown = self.parameters["duration"].format
            why = f" with onset={values['onset']:g}" if "onset" in values else ""
            raise ParameterError(f"duration must be >= {shown(shortest)} for {self.name}{why} (its perturbation "
                                 f"and measurement windows), got {shown(values['duration'])}")
        return values

    def minimum_duration(self, values):
        """The shortest duration for *values*: :attr:`min_duration`, and every summary window >= 50 ms."""
        shortest = self.parameters["duration"].low if self.min_duration is None else self.min_duration
        if "onset" in values:
            o = float(values["onset"])
            # before-window min(2 s, onset/2) and after-window min(1 s, rest/4) of at least MIN_WINDOW
            shortest = max(shortest, 2 * MIN_WINDOW / o, 4 * MIN_WINDOW / (1 - o))
        return shortest

    def build(self, values=None):
        """Build the network for *values* (default: every parameter at its default).

        Returns
        -------
        brian2.Network
        """
        return self.builder(self.resolve() if values is None else values)

    def onset(self, values):
        """Onset time of the perturbation (:func:`onset_time`), or None without one."""
        return onset_time(values) if "onset" in values else None

    def target_rate(self, values):
        """The regulated population's set point (Hz quantity), or None."""
        return None if self.target is None else values[self.target]

    def describe_perturbation(self, values) -> str:
        """The perturbation in words, with its values (``'input rate x0.7 (deprivation)'``)."""
        shown = {p.name: p.format(values[p.name]) for p in self.parameters}
        return self.perturbation.format(**shown)

    def record(self, values) -> dict:
        """Results attributes of a run with *values*: every parameter (number and unit), model, population,
        set point, onset (s) and perturbation."""
        attrs = {"model": self.name, "population": self.population,
                 "perturbation": self.describe_perturbation(values), **self.parameters.record(values)}
        if self.target is not None:
            attrs["target"] = float(values[self.target] / Hz)
            attrs[f"target.{self.population}"] = attrs["target"]
        for pop, name in self.other_targets:
            attrs[f"target.{pop}"] = float(values[name] / Hz)
        onset = self.onset(values)
        if onset is not None:
            attrs["onset"] = float(onset / second)
        return attrs


def _duration(default, minimum=1 * second):
    # structural: the run's length and the time courses' sizes are part of the compiled code
    return Parameter("duration", default, "simulated time", low=minimum, structural=True)


def _onset(default=0.5, meaning="fraction of the run before the perturbation starts"):
    return Parameter("onset", default, meaning, low=0.0, high=1.0, low_open=True, high_open=True)


def _factor(default, meaning):
    return Parameter("factor", default, meaning, low=0.0)


def _step(values, factor=None):
    """The input modulation: 1 before :func:`onset_time`, ``factor`` after (a TimedArray on a 1 ms grid).

    The grid spans the whole run, so onset and factor are values of the array, not its shape (a
    compiled network can run other onsets and factors).
    """
    factor = values["factor"] if factor is None else factor
    n = int(np.ceil(float(values["duration"] / ONSET_GRID))) + 1
    k = int(round(float(onset_time(values) / ONSET_GRID)))
    return TimedArray(np.where(np.arange(n) < k, 1.0, float(factor)), dt=ONSET_GRID)


def _network(N_E=400, N_I=100, N_in=500, rate_in=20 * Hz, p=0.1, p_in=0.2, w_e=1 * mV, w_i=4 * mV, w_in=2 * mV):
    """The E/I network's parameters (structure, input, weights), with these defaults."""
    return (
        Parameter("N_E", N_E, "excitatory neurons", low=1, structural=True),
        Parameter("N_I", N_I, "inhibitory neurons", low=1, structural=True),
        Parameter("N_in", N_in, "Poisson inputs", low=1, structural=True),
        Parameter("rate_in", rate_in, "rate of each input before the perturbation", low=0 * Hz, structural=True),
        Parameter("p", p, "recurrent connection probability", low=0.0, high=1.0, structural=True),
        Parameter("p_in", p_in, "input connection probability", low=0.0, high=1.0, structural=True),
        Parameter("w_e", w_e, "excitatory weight", low=0 * w_e),
        Parameter("w_i", w_i, "inhibitory weight", low=0 * w_i),
        Parameter("w_in", w_in, "input weight", low=0 * w_in),
    )


def _ei(values, neuron=None, **kwargs):
    """``recurrent_ei`` with the network parameters of *values*."""
    v = values
    return recurrent_ei(LIF() if neuron is None else neuron, N_E=v.N_E, N_I=v.N_I, p=v.p, w_e=v.w_e, w_i=v.w_i,
                        N_in=v.N_in, rate_in=v.rate_in, p_in=v.p_in, w_in=v.w_in, **kwargs)


# -- intrinsic plasticity on the E/I network: deprivation and overdrive ---------------------------------------

def _homeostasis_parameters(factor, meaning):
    return ParameterSet((
        _duration(12 * second), _onset(), _factor(factor, meaning),
        Parameter("target", 5 * Hz, "set-point rate of the excitatory neurons", low=0 * Hz, low_open=True),
        Parameter("eta", 0.05 * mV / Hz, "learning rate of the adaptive threshold (per Hz of rate error, per period)",
                  low=0 * mV / Hz),
        Parameter("period", 100 * ms, "update period of the threshold", low=0 * ms, low_open=True, structural=True),
        Parameter("sensor_tau", 0.5 * second, "time constant of the rate sensor", low=0 * ms, low_open=True),
        *_network()))


def _intrinsic(values):
    v = values
    ip = IntrinsicPlasticity(target=v.target, eta=v.eta, period=v.period,
                             sensor=RateSensor(tau=v.sensor_tau, initial=v.target, name="ip_sensor"))
    return _ei(v, modulation=_step(v), mechanisms_E=[ip], record={"E": ["ip_theta"]}, record_dt=100 * ms)


# -- synaptic scaling: Turrigiano et al. (1998) ----------------------------------------------------------------

def _scaling_parameters(factor, meaning):
    return ParameterSet((
        _duration(12 * second), _onset(), _factor(factor, meaning),
        Parameter("target", 5 * Hz, "set-point rate of the excitatory neurons", low=0 * Hz, low_open=True),
        Parameter("target_I", 9 * Hz, "set-point rate of the inhibitory neurons (their unperturbed rate)",
                  low=0 * Hz, low_open=True),
        Parameter("compression", 3600.0, "time compression of scaling (its 1-hour time scale becomes 1 s)",
                  low=0.0, low_open=True),
        Parameter("period", 100 * ms, "scaling period", low=0 * ms, low_open=True, structural=True),
        Parameter("sensor_tau", 300 * ms, "time constant of the rate sensor", low=0 * ms, low_open=True),
        Parameter("weight_cv", 0.5, "coefficient of variation of the weights (log-normal)", low=0.0,
                  structural=True),
        *_network()))


def _scaling(protocol, keys):
    """E/I network with synaptic scaling of every neuron's excitatory inputs and a perturbation at the onset.

    Both populations scale, each toward its own set point (E 5 Hz; I 9 Hz, its rate in the unperturbed
    network), so that inhibition keeps pace with excitation. With scaling on E alone the blockaded network
    falls into population bursts once its recurrent excitation has doubled (measured: coefficient of
    variation of 10-ms population counts 2.9 against 0.8 with both populations scaling).
    """
    def build(values):
        v = values
        ss = {pop: SynapticScaling(target=target, compression=v.compression, period=v.period,
                                   sensor=RateSensor(tau=v.sensor_tau, initial=target, name="ss_sensor"))
              for pop, target in (("E", v.target), ("I", v.target_I))}
        syn = {"EE": [ss["E"]], "inE": [ss["E"]], "EI": [ss["I"]], "inI": [ss["I"]]}
        for key in keys:
            syn.setdefault(key, []).append(protocol(onset=onset_time(v), factor=v.factor))
        return _ei(v, weight_cv=v.weight_cv, mechanisms_E=[ss["E"]], mechanisms_I=[ss["I"]],
                   synapse_mechanisms=syn, record={"E": ["ss_s"]}, record_dt=100 * ms)
    return build


# -- inhibitory STDP: Vogels et al. (2011) ---------------------------------------------------------------------

#: The Brian2 reference network at in-degrees 160 E / 40 I in 400 + 100 neurons (weights as in the 2 % of 10000
#: of the reference, connection probability 40 % of 500), plasticity sped up 5x.
_VOGELS = ParameterSet((
    _duration(8 * second), _onset(0.25, "fraction of the run before inhibitory STDP is switched on"),
    Parameter("rho0", 3 * Hz, "target rate of the excitatory neurons", low=0 * Hz, low_open=True),
    Parameter("eta", 0.05 * nS, "learning rate of inhibitory STDP", low=0 * nS),
    Parameter("w_max", 100 * nS, "upper bound of the inhibitory weights", low=0 * nS, low_open=True),
    Parameter("I_ext", 200 * pA, "constant input current of every neuron"),
    Parameter("N_E", 400, "excitatory neurons", low=1, structural=True),
    Parameter("N_I", 100, "inhibitory neurons", low=1, structural=True),
    Parameter("p", 0.4, "connection probability", low=0.0, high=1.0, structural=True),
    Parameter("w_e", 0.3 * nS, "excitatory weight", low=0 * nS),
    Parameter("w_i", 3 * nS, "inhibitory weight of the static I->I synapses", low=0 * nS),
))


def _vogels(values):
    v = values
    istdp = InhibitorySTDP(rho0=v.rho0, eta=v.eta, w_max=v.w_max,
                           factor=f"int(t >= {float(onset_time(v) / ms)!r}*ms)")
    net = recurrent_ei(ConductanceLIF(), N_E=v.N_E, N_I=v.N_I, p=v.p, w_e=v.w_e, w_i=v.w_i,
                       N_in=0, synapse_mechanisms={"IE": [istdp]})
    for name in ("E", "I"):
        net[name].I_ext = v.I_ext
        net[name].v = "E_L + rand()*10*mV"
    net["IE"].w = 1e-10 * nS  # inhibition starts absent and is learned
    return net


# -- a global factor: Zenke, Agnes & Gerstner (2015) -----------------------------------------------------------

_GLOBAL = ParameterSet((
    _duration(6 * second), _onset(), _factor(1.5, "input rate factor from the onset on"),
    Parameter("gamma", 5 * Hz, "set point of the population rate", low=0 * Hz, low_open=True),
    Parameter("tau_H", 100 * ms, "time constant of the population-rate estimate", low=0 * ms, low_open=True),
    Parameter("tau_G", 500 * ms, "time constant of the gain control", low=0 * ms, low_open=True),
    *_network()))


def _global(values):
    v = values
    glob = GlobalHomeostasis(gamma=v.gamma, tau_H=v.tau_H, tau_G=v.tau_G)
    return _ei(v, modulation=_step(v), mechanisms_E=[glob])


# -- the four scales in one network ----------------------------------------------------------------------------

_FOUR_SCALES = ParameterSet((
    _duration(12 * second), _onset(), _factor(0.7, "input rate factor from the onset on (deprivation)"),
    Parameter("target", 5 * Hz, "set point of every mechanism", low=0 * Hz, low_open=True),
    Parameter("eta_ip", 0.02 * mV / Hz, "learning rate of intrinsic plasticity", low=0 * mV / Hz),
    Parameter("compression", 3600.0, "time compression of synaptic scaling", low=0.0, low_open=True),
    Parameter("eta_istdp", 0.02 * mV, "learning rate of inhibitory STDP", low=0 * mV),
    Parameter("tau_G", 2 * second, "time constant of the global gain", low=0 * ms, low_open=True),
    Parameter("period", 100 * ms, "update period of intrinsic plasticity, scaling and the global factor",
              low=0 * ms, low_open=True, structural=True),
    Parameter("sensor_tau", 0.5 * second, "time constant of the shared rate sensor", low=0 * ms, low_open=True),
    Parameter("plastic", True, "mechanisms learn (false: every learning rate 0 and every bound 1, so they run "
              "but leave the activity unchanged; used to measure their cost)", structural=True),
    *_network()))


def four_scales_mechanisms(values):
    """The four scales' mechanisms, all with the same set point: intrinsic plasticity (neuron), synaptic scaling
    (synapses), deferred inhibitory STDP (layer) and a global factor (network), sharing one rate sensor.

    Parameters
    ----------
    values : homeonet.parameters.Values
        Resolved values of the ``four_scales`` experiment (``EXPERIMENTS['four_scales'].resolve(...)``); with
        ``plastic`` false every learning rate is 0 and every bound 1 (the mechanisms run, the activity is that
        of the network without them).

    Returns
    -------
    dict
        ``mechanisms_E`` and ``synapse_mechanisms``: keyword arguments of :func:`recurrent_ei`.
    """
    v = values
    on = 1.0 if v.plastic else 0.0
    sensor = RateSensor(tau=v.sensor_tau, initial=v.target, name="rate")
    ip = IntrinsicPlasticity(target=v.target, eta=on * v.eta_ip, period=v.period, sensor=sensor)
    ss = SynapticScaling(target=v.target, compression=v.compression if v.plastic else 1.0, period=v.period,
                         sensor=sensor, s_max=10.0 if v.plastic else 1.0, s_min=0.1 if v.plastic else 1.0)
    # deferred potentiation: the same weights as the per-spike rule without an on_post pathway
    istdp = InhibitorySTDP(rho0=v.target, eta=on * v.eta_istdp, w_max=20 * mV, deferred=True)
    glob = GlobalHomeostasis(gamma=v.target, tau_H=v.sensor_tau, tau_G=v.tau_G, period=v.period,
                             G_min=0.2 if v.plastic else 1.0, G_max=5.0 if v.plastic else 1.0, sensor=sensor)
    return {"mechanisms_E": [ip, ss, istdp, glob], "synapse_mechanisms": {"EE": [ss], "inE": [ss], "IE": [istdp]}}


def _four_scales(values):
    """The four scales in one E/I network (:func:`four_scales_mechanisms`), the input stepped at the onset."""
    return _ei(values, modulation=_step(values), **four_scales_mechanisms(values),
               record={"E": ["ip_theta", "ss_s"]}, record_dt=100 * ms)


# -- structural plasticity: Butz & van Ooyen (2013) -------------------------------------------------------------

_STRUCTURAL = ParameterSet((
    _duration(20 * second, minimum=2 * second), _onset(),
    Parameter("fraction", 0.5, "fraction of the synapses cut at the onset", low=0.0, high=1.0),
    Parameter("target", 5 * Hz, "set point of the activity", low=0 * Hz, low_open=True),
    Parameter("compression", 100.0, "time compression of the element growth", low=0.0, low_open=True),
    Parameter("period", 100 * ms, "rewiring period", low=0 * ms, low_open=True, structural=True),
    Parameter("initial_active", 0.2, "fraction of the potential synapses active at the start", low=0.0, high=1.0),
    Parameter("N_in", 100, "inputs", low=1, structural=True),
    Parameter("N", 20, "LIF neurons", low=1, structural=True),
))


def _structural(values):
    """Feed-forward LIF layer on potential synapses rewired by structural plasticity; a fraction of the synapses
    cut at the onset (see tests/test_mechanisms_structural.py for the validation numbers)."""
    from homeonet.mechanism import neuron_group, synapses
    from homeonet.mechanisms import StructuralPlasticity
    from homeonet.protocols import SynapseLesion

    from .networks import SYNAPSE_HOOKS

    v = values
    sp = StructuralPlasticity(target=v.target, compression=v.compression, period=v.period,
                              initial_active=v.initial_active,
                              sensor=RateSensor(tau=500 * ms, initial=v.target, name="sp_sensor"))
    cut = SynapseLesion(onset=onset_time(v), fraction=v.fraction)
    # inputs fire below the set point, so their axonal elements never limit the rewiring
    inputs = neuron_group(v.N_in, "x : 1", threshold="rand() < 2*Hz*dt", mechanisms=[sp], name="input")
    E = neuron_group(v.N, "dv/dt = -v/(10*ms) : volt", threshold="v > 10*mV", reset="v = 0*mV", mechanisms=[sp],
                     method="exact", name="E")
    S = synapses(inputs, E, "w : volt", on_pre="v_post += w*scale", mechanisms=[sp, cut], hooks=SYNAPSE_HOOKS,
                 name="inE")
    S.connect()
    S.w = 8 * mV
    return Network(inputs, E, S, SpikeMonitor(E, name="spikes_E"),
                   StateMonitor(E, ["sp_dendrites"], record=True, dt=100 * ms, name="trace_E"))


# -- synaptic normalization under STDP --------------------------------------------------------------------------

_NORMALIZATION = ParameterSet((
    _duration(10 * second), _onset(), _factor(2.0, "input rate factor from the onset on"),
    Parameter("total", 50 * mV, "W_tot: the L1 norm of each neuron's incoming weights", low=0 * mV, low_open=True),
    Parameter("period", 10 * ms, "normalization period", low=0 * ms, low_open=True, structural=True),
    Parameter("N_in", 100, "inputs", low=1, structural=True),
    Parameter("N", 20, "LIF neurons", low=1, structural=True),
    Parameter("rate_in", 15 * Hz, "rate of each input", low=0 * Hz, structural=True),
    Parameter("w_max", 1 * mV, "upper bound of the STDP weights", low=0 * mV, low_open=True),
))


def _normalization(values):
    v = values
    wn = WeightNormalization(total=v.total, norm=1, period=v.period)
    return stdp_layer([wn], N_in=v.N_in, N=v.N, rate_in=v.rate_in, stdp=AdditiveSTDP(w_max=v.w_max),
                      modulation=_step(v), record_dt=_grid(v.duration / 20, v.period))


def _grid(value, step):
    """*value* rounded down to a whole number (>= 1) of *step*."""
    return max(1, int(float(value / step))) * step


def _measure_normalization(results, values):
    """Incoming L1 norms against W_tot at every snapshot, and how far STDP moved the weights."""
    ds = results.dataset
    w, j = ds["inE_w"].values, ds["inE_j"].values
    total = float(values["total"])  # SI, as the dataset
    norms = np.array([np.bincount(j, row) for row in w])
    dev = float(np.max(np.abs(norms / total - 1)))
    w_max = float(values["w_max"])
    near = float(np.mean(w[-1] > 0.9 * w_max))
    cv0, cv1 = (float(np.std(row) / np.mean(row)) for row in (w[0], w[-1]))
    measures = {"norm_max_rel_deviation": dev, "fraction_near_bound": near, "weight_cv_first": cv0,
                "weight_cv_last": cv1}
    lines = [f"incoming L1 norms at {len(w)} snapshots: largest relative deviation from "
             f"{total * 1e3:g} mV: {dev:.1e}",
             f"weights near the bound (> 0.9 w_max) at the end: {100 * near:.0f}%; weight CV {cv0:.2f} -> {cv1:.2f} "
             f"(STDP reshapes the pattern, normalization keeps the total)"]
    return measures, lines


# -- divisive normalization: a contrast staircase ----------------------------------------------------------------

#: Contrasts of the staircase: ten doublings from 1/4.
CONTRASTS = tuple(2.0 ** k for k in range(-2, 8))

_DIVISIVE = ParameterSet((
    # each of the 10 contrast steps needs >= 5 time constants (10 ms) of the rate neurons to settle
    _duration(2 * second, minimum=len(CONTRASTS) * 50 * ms),
    Parameter("gamma", 50 * Hz, "maximal response", low=0 * Hz, low_open=True),
    Parameter("sigma", 10 * Hz, "semi-saturation constant", low=0 * Hz, low_open=True),
    Parameter("n", 2.0, "exponent", low=1.0),
    Parameter("N", 10, "units of the layer", low=2, structural=True),
))


def _divisive(values):
    v = values
    dn = DivisiveNormalization(gamma=v.gamma, sigma=v.sigma, n=v.n)
    layer = RateNeuron().group(v.N, mechanisms=[dn], name="L1")
    contrasts = np.asarray(CONTRASTS)
    # unit i sees contrast c(t) times its weight; the contrast doubles every step
    drive = TimedArray(contrasts[:, None] * _divisive_weights(v.N)[None, :] * Hz, dt=_contrast_step(v.duration))
    layer.namespace["divisive_drive"] = drive
    layer.run_regularly("I_ext = divisive_drive(t, i)", dt=1 * ms, when="start", name="L1_contrast")
    return Network(layer, *dn.attach(layer), StateMonitor(layer, "r", record=True, dt=1 * ms, name="trace_L1"))


def _contrast_step(duration):
    return _grid(duration / len(CONTRASTS), 1 * ms)


def _divisive_weights(n):
    return np.linspace(0.2, 1.0, n)


def _measure_divisive(results, values):
    """Naka-Rushton fit of the strongest unit's steady response at each contrast."""
    from homeonet.analysis import contrast_response_fit

    ds = results.dataset
    t, r = ds["t_L1"].values, ds["L1_r"].values
    contrasts = np.asarray(CONTRASTS)
    step = float(_contrast_step(values["duration"]) / second)
    # the last sample of each contrast step (each step is >= 5 time constants of the rate neuron)
    idx = [int(np.searchsorted(t, (k + 1) * step - 1e-9)) - 1 for k in range(len(contrasts))]
    fit = contrast_response_fit(contrasts, r[idx, -1])
    w, n = _divisive_weights(values["N"]), float(values["n"])
    c50 = float(values["sigma"] / Hz) / np.sum(w ** n) ** (1 / n)
    measures = {"naka_rushton_r2": fit["r2"], "r_max": fit["r_max"], "c50": fit["c50"], "n": fit["n"],
                "c50_expected": float(c50)}
    lines = [f"Naka-Rushton fit of unit {len(w) - 1} over {len(contrasts)} contrasts: R^2 = {fit['r2']:.6f}, "
             f"R_max {fit['r_max']:.2f} Hz, c50 {fit['c50']:.3f} (Carandini-Heeger: {c50:.3f}), n {fit['n']:.3f} "
             f"(set: {n:g})"]
    return measures, lines


# -- intrinsic plasticity in a feed-forward rate network ----------------------------------------------------------

_RATE = ParameterSet((
    _duration(10 * second), _onset(), _factor(2.0, "input rate factor from the onset on"),
    Parameter("target", 10 * Hz, "set-point rate of the hidden units", low=0 * Hz, low_open=True),
    Parameter("eta", 0.02, "learning rate of the threshold (Hz per Hz of rate error, per period)", low=0.0),
    Parameter("period", 10 * ms, "update period of the threshold", low=0 * ms, low_open=True, structural=True),
    Parameter("sensor_tau", 200 * ms, "time constant of the rate sensor", low=0 * ms, low_open=True),
    Parameter("N1", 100, "units of the first hidden layer", low=1, structural=True),
    Parameter("N2", 50, "units of the second hidden layer", low=1, structural=True),
    Parameter("n_inputs", 100, "input units", low=1, structural=True),
    Parameter("n_classes", 4, "stimulus classes", low=1, structural=True),
))


def _rate(values):
    v = values
    layers = (v.N1, v.N2)
    stim = class_patterns(v.n_classes, v.n_inputs, rate_on=40 * Hz, rate_off=2 * Hz, seed=0)
    n = max(1, int(round(float(v.duration / (100 * ms)))))
    sched = stim.sequence(n, duration=100 * ms, seed=1)
    mechs = [[IntrinsicPlasticity(target=v.target, eta=v.eta, period=v.period,
                                  sensor=RateSensor(tau=v.sensor_tau, initial=v.target, name="ip_sensor"))]
             for _ in layers]
    return feedforward(layers, RateNeuron(), sched, mechanisms=mechs, seed=2, modulation=_step(v),
                       record={f"L{k + 1}": ["r", "ip_theta"] for k in range(len(layers))}, record_dt=10 * ms)


EXPERIMENTS = {e.name: e for e in [
    Experiment("homeostasis", "E/I LIF network with intrinsic plasticity; input drops to 70% at half time, "
               "rates recover to 5 Hz", _homeostasis_parameters(0.7, "input rate factor from the onset on"),
               _intrinsic, "E", "target", "input rate x{factor} (deprivation)"),
    Experiment("overdrive", "E/I LIF network with intrinsic plasticity; input rises to 150% at half time, "
               "rates return to 5 Hz", _homeostasis_parameters(1.5, "input rate factor from the onset on"),
               _intrinsic, "E", "target", "input rate x{factor} (overdrive)"),
    Experiment("turrigiano_ttx", "Turrigiano 1998: E/I LIF network with synaptic scaling; input halved (TTX-like "
               "blockade) at half time, excitatory inputs scale up, rates recover",
               _scaling_parameters(0.5, "efficacy of the input synapses from the onset on (0: full blockade)"),
               _scaling(ActivityBlockade, ("inE", "inI")), "E", "target",
               "input synapses x{factor} (activity blockade)", other_targets=(("I", "target_I"),)),
    Experiment("turrigiano_bicuculline", "Turrigiano 1998: E/I LIF network with synaptic scaling; inhibition "
               "blocked (bicuculline-like) at half time, excitatory inputs scale down",
               _scaling_parameters(0.0, "efficacy of the inhibitory synapses from the onset on (0: blocked)"),
               _scaling(Disinhibition, ("IE",)), "E", "target", "inhibitory synapses x{factor} (disinhibition)",
               other_targets=(("I", "target_I"),)),
    Experiment("vogels", "Vogels 2011: conductance-based E/I network; inhibitory STDP switched on at 1/4 of the "
               "run balances excitation and brings E to rho0 = 3 Hz", _VOGELS, _vogels, "E", "rho0",
               "inhibitory STDP switched on"),
    Experiment("global_homeostasis", "Zenke 2015-style global factor: the gain of the E population follows its "
               "low-passed rate; input x1.5 at half time, population rate returns to 5 Hz", _GLOBAL, _global,
               "E", "gamma", "input rate x{factor}"),
    Experiment("four_scales", "the four scales at once: intrinsic plasticity, synaptic scaling, inhibitory STDP "
               "and a global factor in one E/I LIF network; input x0.7 at half time", _FOUR_SCALES, _four_scales,
               "E", "target", "input rate x{factor} (deprivation)"),
    Experiment("structural", "Butz & van Ooyen 2013: structural plasticity rewires potential synapses onto 20 LIF "
               "neurons; half the synapses are cut at half time and regrow, rates return to 5 Hz", _STRUCTURAL,
               _structural, "E", "target", "{fraction} of the synapses cut (lesion)"),
    Experiment("synaptic_normalization", "Song 2000 STDP layer (100 inputs, 20 LIF) with L1 weight "
               "normalization: STDP reshapes the weights, each neuron's incoming total stays at 50 mV; input x2 at "
               "half time", _NORMALIZATION, _normalization, "E", None, "input rate x{factor}",
               measure=_measure_normalization),
    Experiment("divisive_normalization", "Carandini-Heeger divisive normalization of a 10-unit rate layer; the "
               "contrast doubles 10 times, the response follows a Naka-Rushton curve", _DIVISIVE, _divisive, "L1",
               None, "contrast doubles every 1/10 of the run", measure=_measure_divisive),
    Experiment("diehl_cook", "Diehl & Cook 2015: STDP learns digits unsupervised, kept balanced by an adaptive "
               "threshold, weight normalization and lateral inhibition; test accuracy and usage entropy",
               diehl_cook.PARAMETERS, None, "E", None, "none (one epoch of training, then labelling and test)",
               measure=diehl_cook.measure_results, runner=diehl_cook.run_experiment,
               figure=diehl_cook.results_figure),
    Experiment("rate_homeostasis", "feed-forward rate network (100-50 units) with intrinsic plasticity on "
               "class patterns; input doubles at half time", _RATE, _rate, "L1", "target",
               "input rates x{factor}"),
    Experiment("testbed", "the trade-off map's test bed: stimulus-driven E/I LIF network with one homeostatic "
               "mechanism (--set mechanism=...); input x0.7 at half time; recovery, stability and coding measured",
               testbed_parameters("spiking"), spiking_testbed, "E", "target", "{perturbation} x{factor}",
               measure=measure_testbed),
    Experiment("testbed_rate", "rate-network counterpart of the test bed (80 E + 20 I threshold-linear units); "
               "input x0.7 at half time", testbed_parameters("rate"), rate_testbed, "E", "target",
               "{perturbation} x{factor}", measure=measure_testbed),
]}

#: The experiment ``homeonet run`` runs when no model is named.
DEFAULT = "homeostasis"


def get_experiment(name) -> Experiment:
    """Return the experiment called *name* (see :data:`EXPERIMENTS`).

    Raises
    ------
    ParameterError
        An unknown name (the known ones are listed).
    """
    if name not in EXPERIMENTS:
        raise ParameterError(f"MODEL must be one of {', '.join(EXPERIMENTS)}; got {name!r} (see 'homeonet list')")
    return EXPERIMENTS[name]


def experiment(parameters, *, population=None, target=None, perturbation="", description=None, name=None,
               measure=None):
    """Make a build function an :class:`Experiment`: its parameters declared once, so that sweeps can set them.

    Use it as a decorator on ``build(values) -> brian2.Network``; a sweep specification then names the
    result as ``"module:function"`` (``homeonet sweep``, :mod:`homeonet.sweep`).

    Parameters
    ----------
    parameters : sequence of Parameter or ParameterSet
        The declared parameters; ``duration`` (the simulated time, a quantity in seconds) is required.
        Mark those that change the compiled network ``structural=True`` (sizes, connectivity, clocks,
        constants of its equations), so that ``cpp_standalone`` sweeps compile each structure once.
    population : str, optional
        The regulated population (a spiking group with a ``spikes_<name>`` monitor, or a rate group
        with a ``trace_<name>`` monitor of ``r``): its rates before and after the perturbation are the
        default measures. Without it, a sweep must name its measures.
    target : str, optional
        Name of the parameter holding the population's set-point rate.
    perturbation : str
        What happens at the onset (``'{onset}'``-style fields are formatted with the values).
    description : str, optional
        One line (default: the first line of the function's docstring).
    name : str, optional
        Its name in records (default: the function's ``module:name``).
    measure : callable, optional
        ``measure(results, values) -> (dict, list of str)``: its own measures, as for the ready-made ones.

    Returns
    -------
    callable
        A decorator returning the :class:`Experiment`.

    Raises
    ------
    ParameterError
        Parameters without ``duration``, or a ``target`` or ``population`` that is not a name.

    Examples
    --------
    >>> from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, second
    >>> from homeonet.parameters import Parameter
    >>> @experiment([Parameter("duration", 1 * second, "simulated time", low=0.1 * second, structural=True),
    ...              Parameter("N", 10, "neurons", low=1, structural=True)])
    ... def poisson(values):
    ...     "Independent Poisson neurons."
    ...     P = PoissonGroup(values.N, rates=5 * Hz, name="P")
    ...     return Network(P, SpikeMonitor(P, name="spikes_P"))
    >>> poisson.resolve({"N": "20"}).N
    20
    """
    params = parameters if isinstance(parameters, ParameterSet) else ParameterSet(parameters)
    if "duration" not in params or params["duration"].kind != "quantity":
        raise ParameterError("parameters must include 'duration', the simulated time (a quantity in seconds)")
    for label, value in (("population", population), ("target", target)):
        if value is not None and not (isinstance(value, str) and value.isidentifier()):
            raise ParameterError(f"{label} must be a name, got {value!r}")
    if target is not None and target not in params:
        raise ParameterError(f"target must name one of the parameters ({', '.join(params.names)}), got {target!r}")
    low = params["duration"].low

    def wrap(build):
        doc = (build.__doc__ or "").strip().splitlines()
        return Experiment(name or f"{build.__module__}:{build.__qualname__}",
                          description or (doc[0] if doc else build.__qualname__), params, build, population,
                          target, perturbation, min_duration=0 * second if low is None else low, measure=measure)
    return wrap


def summarise(results, experiment: Experiment, values=None) -> dict:
    """Rates before the perturbation, just after it and at the end, against the target.

    Windows: :func:`measurement_windows` around the onset stored with the results (attribute
    ``onset``). A run that ended early (``attrs['complete'] == 0``) is summarised over the time
    it reached only, and says so; a window it did not reach is reported as not reached.

    Parameters
    ----------
    results : homeonet.Results
        Results of the experiment.
    experiment : Experiment
        The experiment that produced them.
    values : Values, optional
        The values it ran with (default: its defaults); the experiment's own measures read them.

    Returns
    -------
    dict
        ``before``, ``after``, ``end``, ``target`` (Hz, floats; NaN when not reached), ``onset`` (s),
        the windows, ``measures`` (the experiment's own measures, when it has any) and ``text``,
        a short human-readable summary.
    """
    values = experiment.resolve() if values is None else values
    attrs = results.dataset.attrs
    rate = results.population_rate(experiment.population)
    t, r = rate[rate.dims[0]].values, rate.values
    reached = float(results.duration / second)
    planned = float(values["duration"] / second) if "duration" in values else reached
    complete = bool(attrs.get("complete", 1)) and reached >= planned - 1e-9
    onset = attrs.get("onset")
    onset = None if onset is None else float(onset)
    lines = [f"homeonet run {experiment.name}: {experiment.description}"]
    goal = ("no rate target" if experiment.target is None
            else f"target {experiment.parameters[experiment.target].format(values[experiment.target])}")
    out = {"target": float("nan") if experiment.target is None else float(values[experiment.target] / Hz),
           "onset": onset, "complete": complete, "t_reached": reached}
    if not complete:
        lines.append(f"INCOMPLETE RUN: stopped at {reached:g} s of {planned:g} s; everything below covers "
                     f"0-{reached:g} s only")
    if onset is None:
        lines.append(f"population {experiment.population}, {goal}; {experiment.describe_perturbation(values)}")
        windows = {}
    else:
        when = f"at {onset:g} s" if onset < reached else f"due at {onset:g} s, NOT REACHED"
        lines.append(f"population {experiment.population}, {goal}; {when}: {experiment.describe_perturbation(values)}")
        windows = measurement_windows(planned, onset)
    out["windows"] = windows
    labels = {"before": "rate before the perturbation", "after": "rate just after it          ",
              "end": "rate at the end             "}
    for key, (a, b) in windows.items():
        keep = (t >= a) & (t < b) & (t < reached)
        whole = b <= reached + 1e-9
        out[key] = float(np.mean(r[keep])) if whole and np.any(keep) else float("nan")
        shown = f"{out[key]:.2f} Hz" if np.isfinite(out[key]) else "not reached"
        lines.append(f"{labels[key]} ({a:g}-{b:g} s): {shown}")
    for key in ("before", "after", "end"):
        out.setdefault(key, float("nan"))
    if experiment.target is not None and onset is not None and np.isfinite(out["after"]):
        target = out["target"]
        dev = abs(out["after"] - target) / target
        text = f"distance to target: {100 * dev:.0f}% just after the perturbation"
        if np.isfinite(out["end"]):
            text += f", {100 * abs(out['end'] - target) / target:.0f}% at the end"
        lines.append(text)
    if experiment.measure is not None and complete:
        measures, extra = experiment.measure(results, values)
        out["measures"] = measures
        lines += extra
    elif experiment.measure is not None:
        lines.append("the experiment's own measures need the whole run: not computed")
    out["text"] = "\n".join(lines)
    return out
