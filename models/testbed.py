r"""The common test bed of the trade-off map: one stimulus-driven E/I network, every homeostatic mechanism.

Two networks, the same protocol:

* :func:`spiking_testbed` -- the sparse E/I network of leaky integrate-and-fire neurons of
  :func:`homeonet.models.recurrent_ei` (400 E + 100 I, 500 inputs), whose Poisson inputs present
  random class patterns (:func:`homeonet.models.class_patterns`), so that the excitatory
  population's coding of the stimulus can be measured;
* :func:`rate_testbed` -- its rate-network counterpart: excitatory and inhibitory populations of
  threshold-linear :class:`homeonet.models.RateNeuron` units with the same connectivity pattern
  and the same stimuli.

A run has a **baseline** phase (the mechanism settles; coding is measured at its end), a
**perturbation** at the onset, and a **recovery** phase (coding is measured again at its end):

=================  ==============================================================================
``input``          every input rate multiplied by ``factor`` (deprivation 0.7, overdrive 1.5)
``blockade``       the input synapses' efficacy multiplied by ``factor`` (TTX-like,
                   :class:`homeonet.protocols.ActivityBlockade`)
``disinhibition``  the I->E synapses' efficacy multiplied by ``factor`` (bicuculline-like,
                   :class:`homeonet.protocols.Disinhibition`)
=================  ==============================================================================

The excitatory population carries one homeostatic mechanism (:data:`MECHANISMS`), or the
four-scales combination, set by three parameters shared by all of them: ``strength`` multiplies
the mechanism's learning rate or time compression (1 is the reference setting of
:data:`REFERENCE`), ``sensor_tau`` is the time constant of the rate sensor the rate-regulating
mechanisms read, ``target`` their set point.

Each input pattern drives a random 20 % of the inputs at a high rate and the others at a low one,
with the mean input rate ``rate_in`` (as the constant input of the ``homeostasis`` experiment):
:math:`r_\mathrm{off} = r_\mathrm{in}(1 - c)`, :math:`r_\mathrm{on} = r_\mathrm{in}(1 + c(1-f)/f)`
(contrast :math:`c`, active fraction :math:`f`).

The ready-made experiments ``testbed`` and ``testbed_rate`` (``homeonet run testbed --set
mechanism=synaptic_scaling --set strength=3``) run them and report every measure of
:func:`homeonet.analysis.tradeoff_measures`; :mod:`homeonet.tradeoffs` sweeps them into the map.
:func:`recurrence_blocks` and :func:`hebbian_blocks` are the small rate networks in which the
two stability laws (Harnack et al. 2015; Zenke et al. 2013) are measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from brian2 import Hz, NeuronGroup, Network, StateMonitor, mV, ms, second

from homeonet._validate import HomeonetError, check_choice, check_count, check_network_size, check_quantity
from homeonet.mechanism import connect, synapses
from homeonet.mechanisms import (DivisiveNormalization, GlobalHomeostasis, InhibitorySTDP, IntrinsicPlasticity,
                                 LateralInhibition, RateSensor, StructuralPlasticity, SynapticScaling,
                                 WeightNormalization)
from homeonet.parameters import Parameter, ParameterSet
from homeonet.protocols import ActivityBlockade, Disinhibition

from .networks import SYNAPSE_HOOKS, recurrent_ei
from .neurons import LIF, RateNeuron
from .stimuli import StimulusSet, class_patterns

__all__ = ["MECHANISMS", "SPIKING_MECHANISMS", "RATE_MECHANISMS", "PERTURBATIONS", "REFERENCE", "MechanismInfo",
           "testbed_parameters", "stimulus", "schedule", "spiking_testbed", "rate_testbed", "measure_testbed",
           "recurrence_blocks", "hebbian_blocks"]


@dataclass(frozen=True)
class MechanismInfo:
    """What the map needs to know about one mechanism choice of the test bed.

    Attributes
    ----------
    scale : str
        ``'none'``, ``'neuron'``, ``'synapses'``, ``'layer'``, ``'network'`` or ``'all'``.
    sensor : bool
        Whether it reads the rate sensor (``sensor_tau`` matters).
    spiking, rate : bool
        Available in the spiking / rate test bed.
    strength : str
        What ``strength`` multiplies.
    """

    scale: str
    sensor: bool
    spiking: bool
    rate: bool
    strength: str


#: Mechanism choices of the test bed, each alone and the four scales together.
MECHANISMS = {
    "none": MechanismInfo("none", False, True, True, "nothing"),
    "intrinsic_plasticity": MechanismInfo("neuron", True, True, True, "learning rate of the threshold"),
    "synaptic_scaling": MechanismInfo("synapses", True, True, True, "time compression of scaling"),
    "synaptic_scaling_divergent": MechanismInfo("synapses", True, True, True,
                                                "time compression of (divergent) scaling"),
    "weight_normalization": MechanismInfo("synapses", False, True, True, "normalization rate (1/period)"),
    "inhibitory_stdp": MechanismInfo("layer", False, True, False, "learning rate of inhibitory STDP"),
    "divisive_normalization": MechanismInfo("layer", False, False, True, "normalization (sigma0/sigma)"),
    "lateral_inhibition": MechanismInfo("layer", False, False, True, "inhibition strength k"),
    "global_factor": MechanismInfo("network", True, True, True, "speed of the global gain (1/tau_G)"),
    "structural_plasticity": MechanismInfo("network", True, True, True, "time compression of rewiring"),
    "four_scales": MechanismInfo("all", True, True, True, "every mechanism's rate"),
}
SPIKING_MECHANISMS = tuple(k for k, m in MECHANISMS.items() if m.spiking)
RATE_MECHANISMS = tuple(k for k, m in MECHANISMS.items() if m.rate)
PERTURBATIONS = ("input", "blockade", "disinhibition")

#: The reference settings (``strength = 1``) of each mechanism in the two test beds.
REFERENCE = {
    "spiking": {"eta_ip": 0.05 * mV / Hz, "compression": 3600.0, "normalization_period": 100 * ms,
                "eta_istdp": 0.02 * mV, "w_max_istdp": 20 * mV, "tau_G": 2 * second,
                "structural_compression": 100.0, "initial_active": 0.5},
    "rate": {"eta_ip": 0.05, "compression": 3600.0, "normalization_period": 100 * ms, "sigma": 10 * Hz,
             "k_lateral": 0.5, "tau_G": 1 * second, "structural_compression": 100.0, "initial_active": 0.5},
}


def _common(kind):
    """Protocol, mechanism and stimulus parameters shared by the two test beds."""
    from .experiments import _duration, _onset  # the experiments module registers this one (lazy: no cycle)

    mechanisms = SPIKING_MECHANISMS if kind == "spiking" else RATE_MECHANISMS
    return (
        _duration(12 * second if kind == "spiking" else 10 * second, minimum=2 * second), _onset(),
        Parameter("perturbation", "input", "what the perturbation changes: input rates, input synapses (TTX-like "
                  "blockade) or I->E synapses (bicuculline-like disinhibition)", choices=PERTURBATIONS,
                  structural=True),
        Parameter("factor", 0.7, "factor applied to the perturbed quantity from the onset on (0.7 deprivation, "
                  "1.5 overdrive, 0 full blockade)", low=0.0),
        Parameter("mechanism", "intrinsic_plasticity", "homeostatic mechanism of the excitatory population",
                  choices=mechanisms, structural=True),
        Parameter("strength", 1.0, "multiplier of the mechanism's learning rate or time compression (1: the "
                  "reference setting)", low=0.0, low_open=True),
        Parameter("sensor_tau", 0.5 * second if kind == "spiking" else 0.2 * second,
                  "time constant of the rate sensor", low=0 * ms, low_open=True),
        Parameter("target", 5 * Hz, "set point of the excitatory neurons", low=0 * Hz, low_open=True),
        Parameter("period", 100 * ms if kind == "spiking" else 10 * ms, "update period of the mechanisms",
                  low=0 * ms, low_open=True),
        Parameter("n_classes", 6, "stimulus classes", low=2),
        Parameter("presentation", 100 * ms if kind == "spiking" else 50 * ms, "duration of one stimulus "
                  "presentation", low=0 * ms, low_open=True),
        Parameter("contrast", 0.5, "contrast c of the patterns: off rate r_in (1 - c)", low=0.0, high=1.0),
        Parameter("active_fraction", 0.2, "fraction of the inputs each pattern drives", low=0.0, high=1.0,
                  low_open=True),
        Parameter("noise", 0.5, "fraction of a pattern's active inputs that each exemplar moves to inactive ones",
                  low=0.0, high=1.0),
        Parameter("exemplars", 10, "noisy exemplars of each class", low=1),
        Parameter("stimulus_seed", 0, "seed of the patterns, the exemplars and their order", low=0),
    )


def testbed_parameters(kind="spiking") -> ParameterSet:
    """The declared parameters of the spiking (``'spiking'``) or rate (``'rate'``) test bed.

    Parameters
    ----------
    kind : {'spiking', 'rate'}

    Returns
    -------
    ParameterSet
    """
    from .experiments import _network

    kind = check_choice("kind", kind, ("spiking", "rate"))
    if kind == "spiking":
        extra = (Parameter("weight_cv", 0.5, "coefficient of variation of the weights (log-normal)", low=0.0,
                           structural=True), *_network())
    else:
        extra = (
            Parameter("N_E", 80, "excitatory units", low=1, structural=True),
            Parameter("N_I", 20, "inhibitory units", low=1, structural=True),
            Parameter("N_in", 100, "input units", low=1, structural=True),
            Parameter("rate_in", 20 * Hz, "mean rate of the inputs before the perturbation", low=0 * Hz),
            Parameter("p", 0.2, "recurrent connection probability", low=0.0, high=1.0, structural=True),
            Parameter("p_in", 0.1, "input connection probability", low=0.0, high=1.0, structural=True),
            Parameter("w_e", 0.025, "excitatory weight (Hz of input per Hz)", low=0.0),
            Parameter("w_i", 0.1, "inhibitory weight (Hz of input per Hz)", low=0.0),
            Parameter("w_in", 0.025, "input weight (Hz of input per Hz)", low=0.0),
            Parameter("weight_cv", 1.0, "coefficient of variation of the weights (log-normal): the "
                      "heterogeneity of the units' drive", low=0.0, structural=True),
            Parameter("tau", 10 * ms, "time constant of the rate units", low=0 * ms, low_open=True),
            Parameter("dt", 1 * ms, "integration step of the rate network", low=0 * ms, low_open=True,
                      structural=True),
        )
    return ParameterSet((*_common(kind), *extra))


def stimulus(values):
    """The stimuli of the test bed: noisy exemplars of random class patterns.

    Each class is a pattern of :func:`homeonet.models.class_patterns`; each of its ``exemplars``
    moves a random fraction ``noise`` of the pattern's active inputs to random inactive ones (the
    same number of inputs stays active), so presentations of one class differ and decoding the
    class is not trivially perfect.

    Parameters
    ----------
    values : Mapping
        Resolved test-bed values (``n_classes``, ``N_in``, ``rate_in``, ``contrast``,
        ``active_fraction``, ``noise``, ``exemplars``, ``stimulus_seed``).

    Returns
    -------
    StimulusSet
        ``n_classes * exemplars`` patterns; labels are the class indices.
    """
    v = values
    f, c = float(v["active_fraction"]), float(v["contrast"])
    off = v["rate_in"] * (1 - c)
    on = v["rate_in"] * (1 + c * (1 - f) / f) if f < 1 else v["rate_in"]
    protos = np.asarray(class_patterns(v["n_classes"], v["N_in"], active_fraction=f, rate_on=on, rate_off=off,
                                       seed=v["stimulus_seed"]).patterns / Hz)
    rng = np.random.default_rng([v["stimulus_seed"], 1])
    rows, labels = [], []
    for label, proto in enumerate(protos):
        active = proto == proto.max()
        idx_on, idx_off = np.flatnonzero(active), np.flatnonzero(~active)
        k = min(int(round(float(v["noise"]) * idx_on.size)), idx_off.size)
        for _ in range(v["exemplars"]):
            x = proto.copy()
            x[rng.choice(idx_on, k, replace=False)] = proto.min()
            x[rng.choice(idx_off, k, replace=False)] = proto.max()
            rows.append(x)
            labels.append(label)
    return StimulusSet(patterns=np.asarray(rows) * Hz, labels=np.asarray(labels))


def schedule(values):
    """The presentation schedule of a run with *values*: patterns in random order, back to back.

    Parameters
    ----------
    values : Mapping
        Resolved test-bed values (``duration``, ``presentation`` and the :func:`stimulus` values).

    Returns
    -------
    Schedule
        Covers the whole run (the last presentation may end after it).
    """
    n = max(1, int(math.ceil(float(values["duration"] / values["presentation"]) - 1e-9)))
    return stimulus(values).sequence(n, duration=values["presentation"], seed=values["stimulus_seed"] + 1)


def _subperiod(period, time_scale, ratio):
    """*period* divided by the smallest integer that brings it to at most ``time_scale / ratio``."""
    n = max(1, int(math.ceil(float(ratio * period / time_scale) - 1e-9)))
    return period / n


def _mechanisms(values, kind):
    """``(mechanisms of E, mechanisms of I, {synapses: mechanisms})`` for the chosen mechanism."""
    v, ref = values, REFERENCE[kind]
    name, s = v["mechanism"], float(v["strength"])
    E, I, syn = [], [], {}
    sensor = RateSensor(tau=v["sensor_tau"], initial=v["target"], name="rate")
    four = name == "four_scales"
    if name in ("intrinsic_plasticity", "four_scales"):
        E.append(IntrinsicPlasticity(target=v["target"], eta=s * ref["eta_ip"], period=v["period"], sensor=sensor))
    if name in ("synaptic_scaling", "synaptic_scaling_divergent", "four_scales"):
        compression = s * ref["compression"]
        ss = SynapticScaling(target=v["target"], compression=compression, s_min=0.1, s_max=10.0,
                             period=_subperiod(v["period"], 3600 * second / compression, 1),
                             mode="divergent" if name.endswith("divergent") else "uniform", sensor=sensor)
        E.append(ss)
        syn["EE"], syn["inE"] = [ss], [ss]
    if name == "weight_normalization":
        # each excitatory neuron's input weights keep the expected L1 norm of the initial draw
        total = v["N_in"] * v["p_in"] * v["w_in"]
        wn = WeightNormalization(total=total, norm=1, period=ref["normalization_period"] / s)
        E.append(wn)
        syn["inE"] = [wn]
    if name in ("inhibitory_stdp", "four_scales") and kind == "spiking":
        istdp = InhibitorySTDP(rho0=v["target"], eta=s * ref["eta_istdp"], w_max=ref["w_max_istdp"], deferred=True)
        E.append(istdp)
        syn["IE"] = [istdp]
    if name == "divisive_normalization":
        # the layer's summed rate is held near N_E x target; strength sharpens the normalization
        E.append(DivisiveNormalization(gamma=v["N_E"] * v["target"], sigma=ref["sigma"] / s, n=1.0))
    if name == "lateral_inhibition" or (four and kind == "rate"):
        E.append(LateralInhibition(k=s * ref["k_lateral"]))
    if name in ("global_factor", "four_scales"):
        tau_G = ref["tau_G"] / s
        E.append(GlobalHomeostasis(gamma=v["target"], tau_H=v["sensor_tau"], tau_G=tau_G, G_min=0.05, G_max=20.0,
                                   period=_subperiod(v["period"], tau_G, 5), sensor=sensor))
    if name == "structural_plasticity":
        sp = StructuralPlasticity(target=v["target"], compression=s * ref["structural_compression"],
                                  period=v["period"], initial_active=ref["initial_active"], sensor=sensor)
        E.append(sp)
        syn["EE"] = [sp]
    return E, I, syn


def _protocol(values, syn):
    """Add the perturbation's protocol to the synapse mechanisms; return the input modulation (or None)."""
    from .experiments import _step, onset_time

    kind = values["perturbation"]
    if kind == "input":
        return _step(values)
    protocol, keys = {"blockade": (ActivityBlockade, ("inE", "inI")), "disinhibition": (Disinhibition, ("IE",))}[kind]
    for key in keys:
        syn.setdefault(key, []).append(protocol(onset=onset_time(values), factor=values["factor"]))
    return None


def spiking_testbed(values):
    """Build the spiking test bed for resolved *values* (:func:`testbed_parameters` ``('spiking')``).

    Parameters
    ----------
    values : Values
        Resolved parameters.

    Returns
    -------
    brian2.Network
        As :func:`homeonet.models.recurrent_ei` (``E``, ``I``, ``input``, ``EE``... and the spike
        monitors), the inputs following :func:`schedule`.
    """
    v = values
    E, I, syn = _mechanisms(v, "spiking")
    modulation = _protocol(v, syn)
    net = recurrent_ei(LIF(), N_E=v.N_E, N_I=v.N_I, p=v.p, w_e=v.w_e, w_i=v.w_i, N_in=v.N_in, p_in=v.p_in,
                       w_in=v.w_in, weight_cv=v.weight_cv, modulation=modulation, schedule=schedule(v),
                       mechanisms_E=E, mechanisms_I=I, synapse_mechanisms=syn)
    if v.mechanism == "structural_plasticity":
        # half the potential E->E synapses start active: double their weight to keep the recurrent drive
        net["EE"].w = net["EE"].w[:] / REFERENCE["spiking"]["initial_active"]
    return net


def rate_testbed(values):
    r"""Build the rate test bed for resolved *values* (:func:`testbed_parameters` ``('rate')``).

    Threshold-linear units (:class:`homeonet.models.RateNeuron`, time constant ``tau``) in an
    excitatory and an inhibitory population,

    .. math:: \tau \dot r_i = -r_i + \Big[\sum_j w^{\mathrm{in}}_{ij} \lambda_j(t)
              + \sum_{j \in E} w^{E}_{ij} r_j - \sum_{j \in I} w^{I}_{ij} r_j\Big]_+ ,

    connected with probabilities ``p`` (recurrent) and ``p_in`` (inputs), log-normal weights of
    coefficient of variation ``weight_cv`` (drawn from Brian2's seeded generator), inputs
    :math:`\lambda_j(t)` following :func:`schedule`. Every object runs with step ``dt``.

    Parameters
    ----------
    values : Values
        Resolved parameters.

    Returns
    -------
    brian2.Network
        Objects ``input``, ``E``, ``I``, synapses ``inE``, ``inI``, ``EE``, ``EI``, ``IE``, ``II`` and
        monitors ``trace_E``, ``trace_I`` (rates every 5 ms, or every ``dt`` if longer).
    """
    v = values
    dt = v.dt
    E_mech, I_mech, syn = _mechanisms(v, "rate")
    modulation = _protocol(v, syn)
    sched = schedule(v)
    namespace, rate = {"stimulus": sched.rates}, "stimulus(t, i)"
    if modulation is not None:
        namespace["modulation"], rate = modulation, rate + " * modulation(t)"
    N = v.N_E + v.N_I
    check_network_size("N_E, N_I, N_in, p and p_in", N + v.N_in, [(N, N - 1, v.p), (v.N_in, N, v.p_in)])
    source = NeuronGroup(v.N_in, f"r = {rate} : Hz", namespace=namespace, name="input", dt=dt)
    neuron = RateNeuron(tau=v.tau)
    E = neuron.group(v.N_E, mechanisms=E_mech, name="E", dt=dt)
    I = neuron.group(v.N_I, mechanisms=I_mech, name="I", dt=dt)
    sigma = float(np.sqrt(np.log1p(v.weight_cv ** 2)))
    objects, made = [source, E, I], {}
    for key, pre, post, var, weight, prob in (("inE", source, E, "I_ext", v.w_in, v.p_in),
                                         ("inI", source, I, "I_ext", v.w_in, v.p_in),
                                         ("EE", E, E, "I_e", v.w_e, v.p), ("EI", E, I, "I_e", v.w_e, v.p),
                                         ("IE", I, E, "I_i", v.w_i, v.p), ("II", I, I, "I_i", v.w_i, v.p)):
        S = synapses(pre, post, f"w : 1\n{var}_post = w*scale*r_pre : Hz (summed)", mechanisms=syn.get(key, ()),
                     hooks=SYNAPSE_HOOKS, namespace=dict(namespace) if pre is source else None, name=key, dt=dt)
        connect(S, p=prob) if pre is not post else connect(S, condition="i != j", p=prob)
        S.w = f"{float(weight)!r} * exp({sigma!r}*randn() - {sigma ** 2 / 2!r})" if sigma > 0 else float(weight)
        objects.append(S)
        made[key] = S
    if v.mechanism == "structural_plasticity":
        made["EE"].w = made["EE"].w[:] / REFERENCE["rate"]["initial_active"]  # as in the spiking bed
    record_dt = max(5 * ms, dt)
    objects += [StateMonitor(E, "r", record=True, dt=record_dt, name="trace_E"),
                StateMonitor(I, "r", record=True, dt=record_dt, name="trace_I")]
    return Network(*objects)


def measure_testbed(results, values):
    """The experiment's measures: :func:`homeonet.analysis.tradeoff_measures` with the run's stimulus.

    Parameters
    ----------
    results : homeonet.Results
        A run of ``testbed`` or ``testbed_rate``.
    values : Values
        The values it ran with.

    Returns
    -------
    measures : dict
        Every measure of :data:`homeonet.analysis.TRADEOFF_MEASURES`.
    lines : list of str
        A short summary.
    """
    from homeonet.analysis import tradeoff_measures

    from .experiments import onset_time

    sched = schedule(values)
    spiking = "dt" not in values
    # responses skip the first 10 ms (spiking) or two time constants (rate units) of each presentation; the
    # population rate of the spiking bed fluctuates by tens of percent within a second (measured CV of 10-ms
    # bins near 1 at 5 Hz), so its recovery is read from a 2-s average, that of the rate bed from 0.5 s
    m = tradeoff_measures(results, population="E", target=values["target"], onset=onset_time(values),
                          onsets=sched.onsets, labels=sched.labels, presentation=sched.duration,
                          offset=10 * ms if spiking else 2 * values["tau"], smooth=2 * second if spiking else 0.5 * second)
    rec = m["recovery_time"]
    lines = [f"mechanism {values['mechanism']} (strength {values['strength']:g}): recovery "
             + (f"{rec:.2f} s" if np.isfinite(rec) else "not reached")
             + f", residual error {100 * m['residual_error']:.1f}%, overshoot {100 * m['overshoot']:.0f}%, "
             f"oscillation index {m['oscillation_index']:.2f}, runaway {'yes' if m['runaway'] else 'no'}",
             f"coding before -> after: decoding {m['decoding_accuracy_before']:.2f} -> {m['decoding_accuracy_end']:.2f}, "
             f"usage entropy {m['usage_entropy_before']:.3f} -> {m['usage_entropy_end']:.3f}, "
             f"rate CV across neurons {m['rate_heterogeneity_before']:.2f} -> {m['rate_heterogeneity_end']:.2f}"]
    return m, lines


# -- the small networks of the stability laws ----------------------------------------------------------------------

def recurrence_blocks(weights, n=10, mechanisms=(), drive=20 * Hz, tau=10 * ms, r_max=1000 * Hz, record_dt=5 * ms,
                      dt=None):
    r"""Independent recurrent populations of rate units, one per recurrent weight, in one network.

    Block :math:`b` is :math:`n` threshold-linear units coupled all-to-all (no self-coupling)
    with weight :math:`\lambda_b/(n-1)`,

    .. math:: \tau \dot r_i = -r_i + \Big[I_0 + \frac{\lambda_b}{n-1}\sum_{j \ne i,\, j \in b} r_j
              + b_i - \theta_i\Big]_+ ,

    so the block's mean mode has the recurrent loop gain :math:`\lambda_b` (< 1: stable without
    homeostasis) and a block with :math:`\lambda_b = 0` is an unconnected population. The
    mechanisms (e.g. :class:`homeonet.IntrinsicPlasticity`) act on every unit alike, so one run
    scans the stability of homeostatic control against the recurrence (Harnack et al. 2015).

    Parameters
    ----------
    weights : sequence of float
        :math:`\lambda_b` of each block (>= 0).
    n : int
        Units per block (>= 2).
    mechanisms : sequence of Mechanism
        Mechanisms of the units.
    drive : Quantity
        Constant input :math:`I_0` (Hz).
    tau, r_max : Quantity
        Time constant and maximal rate of the units.
    record_dt : Quantity
        Sampling period of the recorded rates (monitor ``trace_E``).
    dt : Quantity, optional
        Integration step (default: Brian2's default clock).

    Returns
    -------
    brian2.Network
        Objects ``E`` (``len(weights) * n`` units, block-major), ``EE`` and ``trace_E``.

    References
    ----------
    Harnack D, Pelko M, Chaillet A, Chitour Y, van Rossum MCW (2015) Stability of neuronal networks with
    homeostatic regulation. PLoS Comput Biol 11:e1004357.
    """
    lam = np.asarray(weights, dtype=float)
    if lam.ndim != 1 or lam.size < 1 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise HomeonetError(f"weights must be a 1-D sequence of numbers >= 0, got {weights!r}")
    n = check_count("n", n, minimum=2)
    drive = check_quantity("drive", drive, Hz)
    kwargs = {} if dt is None else {"dt": dt}
    E = RateNeuron(tau=tau, r_max=r_max).group(lam.size * n, mechanisms=mechanisms, name="E", **kwargs)
    E.I_ext = drive
    S = synapses(E, E, "w : 1\nI_e_post = w*r_pre : Hz (summed)", name="EE", **kwargs)
    S.connect(condition=f"i != j and i // {n} == j // {n}")
    S.w = (lam / (n - 1))[np.asarray(S.i[:]) // n]
    return Network(E, S, StateMonitor(E, "r", record=True, dt=record_dt, name="trace_E"))


def hebbian_blocks(rates, n_in=20, mechanisms=(), w_init=None, w_max=None, r_max=1000 * Hz, tau=10 * ms,
                   record_dt=5 * ms, dt=None):
    r"""Units with Hebbian input synapses, one block of inputs per Hebbian learning rate, in one network.

    Unit :math:`b` (one per entry of *rates*) receives :math:`n_\mathrm{in}` inputs firing at
    :math:`\rho_\mathrm{in}` = 10 Hz through weights that follow the rate form of additive STDP,
    the expected drift of a pair-based STDP rule for independent Poisson trains (Kempter, Gerstner
    & van Hemmen 1999),

    .. math:: \tau \dot r_b = -r_b + \Big[\sum_j w_{bj}\rho_\mathrm{in} - \theta_b\Big]_+ , \qquad
              \dot w_{bj} = \eta_b\, \rho_\mathrm{in}\, r_b, \quad
              \eta = w_\max (A_+\tau_+ - A_-\tau_-)\ \text{of the STDP rule},

    clipped to :math:`[0, w_\max]`. Hebbian growth is a positive feedback on the rate with loop gain
    :math:`h_b = n_\mathrm{in}\rho_\mathrm{in}^2 \eta_b`; a homeostatic mechanism (e.g.
    :class:`homeonet.IntrinsicPlasticity` with a :class:`homeonet.RateSensor`) holds it only if its
    sensor is faster than about :math:`1/h_b` (Zenke, Hennequin & Gerstner 2013).

    Parameters
    ----------
    rates : sequence of float
        Hebbian learning rate :math:`\eta_b` of each unit, in seconds (weight change per second per
        Hz of pre- and of postsynaptic rate; >= 0).
    n_in : int
        Inputs per unit (>= 1).
    mechanisms : sequence of Mechanism
        Mechanisms of the units.
    w_init, w_max : float, optional
        Initial weight (default: a total input of 20 Hz) and bound (default 50 x the initial weight).
    r_max, tau : Quantity
        Maximal rate and time constant of the units.
    record_dt : Quantity
        Sampling period of the recorded rates (monitor ``trace_E``).
    dt : Quantity, optional
        Integration step (default: Brian2's default clock).

    Returns
    -------
    brian2.Network
        Objects ``input`` (10 Hz units), ``E``, ``inE`` (with ``eta`` per synapse) and ``trace_E``.

    References
    ----------
    Zenke F, Hennequin G, Gerstner W (2013) Synaptic plasticity in neural networks needs homeostasis with a
    fast rate detector. PLoS Comput Biol 9:e1003330; Kempter R, Gerstner W, van Hemmen JL (1999) Hebbian
    learning and spiking neurons. Phys Rev E 59:4498-4514.
    """
    eta = np.asarray(rates, dtype=float)
    if eta.ndim != 1 or eta.size < 1 or not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise HomeonetError(f"rates must be a 1-D sequence of numbers >= 0, got {rates!r}")
    n_in = check_count("n_in", n_in)
    w0 = 2.0 / n_in if w_init is None else float(w_init)
    w_max = 50 * w0 if w_max is None else float(w_max)
    kwargs = {} if dt is None else {"dt": dt}
    source = NeuronGroup(n_in * eta.size, "r : Hz", name="input", **kwargs)
    source.r = 10 * Hz
    E = RateNeuron(tau=tau, r_max=r_max).group(eta.size, mechanisms=mechanisms, name="E", **kwargs)
    S = synapses(source, E, "eta : second (constant)\n"
                 "dw/dt = clip(eta*r_pre*r_post, -w/dt, (hebb_w_max - w)/dt) : 1 (clock-driven)\n"
                 "I_ext_post = w*r_pre : Hz (summed)", namespace={"hebb_w_max": w_max}, method="euler",
                 name="inE", **kwargs)
    S.connect(j=f"i // {n_in}")
    S.w = w0
    S.eta = eta[np.asarray(S.j[:])] * second
    return Network(source, E, S, StateMonitor(E, "r", record=True, dt=record_dt, name="trace_E"))
