"""Network builders: a recurrent E/I network and a feed-forward layered network.

Builders return a plain ``brian2.Network`` whose objects carry stable names
(``'E'``, ``'I'``, ``'input'``, ``'EE'``, ``'spikes_E'``, ``'trace_E'``...), so
``net['E']`` gives the excitatory group. Mechanisms are merged into groups and
synapses through :func:`homeonet.neuron_group` / :func:`homeonet.synapses`.
"""

from __future__ import annotations

import re

import numpy as np
from brian2 import Hz, NeuronGroup, Network, SpikeMonitor, StateMonitor, mV, ms, nS

from homeonet._validate import HomeonetError, check_count, check_network_size, check_quantity, unit_name
from homeonet.mechanism import Period, connect, synapses

from .inputs import modulated_input, poisson_input, stimulus_input
from .neurons import LIF, ConductanceLIF, NeuronModel, RateNeuron

__all__ = ["recurrent_ei", "feedforward", "DEFAULT_WEIGHTS", "SYNAPSE_HOOKS"]

#: Hooks of the builders' synapses: the efficacy of a spike (or rate) is ``w * scale``,
#: ``scale`` being the product of mechanism terms (synaptic scaling, disinhibition...), 1 without any.
SYNAPSE_HOOKS = {"scale": (1, "product")}

#: Default weights of :func:`recurrent_ei` per neuron model (excitatory, inhibitory, input).
DEFAULT_WEIGHTS = {
    LIF: {"w_e": 1 * mV, "w_i": 4 * mV, "w_in": 2 * mV},
    ConductanceLIF: {"w_e": 3 * nS, "w_i": 30 * nS, "w_in": 3 * nS},
}


def _monitors(group, pop, record, record_dt, spikes=True):
    out = []
    if spikes and "spike" in getattr(group, "events", {}):
        out.append(SpikeMonitor(group, name=f"spikes_{pop}"))
    variables = list(record.get(pop, ()))
    if variables:
        period = Period(record_dt, group)
        out.append(period.apply(StateMonitor(group, variables, record=True, clock=period.clock, name=f"trace_{pop}")))
    return out


def _per_layer(name, mechanisms, n):
    """One sequence of mechanisms per layer, from one shared sequence or a list of sequences."""
    mechanisms = list(mechanisms or ())
    if mechanisms and isinstance(mechanisms[0], (list, tuple)):
        if len(mechanisms) != n:
            raise HomeonetError(f"{name} must be one sequence, or one per layer ({n}), got {len(mechanisms)}")
        return [list(m) for m in mechanisms]
    return [mechanisms] * n


def _layer_wide(mechanisms) -> bool:
    """Whether any of *mechanisms* (or what they build on) acts on a whole group through helper objects (a pool)."""
    from homeonet.mechanism import Mechanism

    return any(type(m).objects is not Mechanism.objects or _layer_wide(m.requires) for m in mechanisms)


def _populations(neuron, N_E, N_I, mechanisms_E, mechanisms_I):
    """The groups of E and I, the group they are subgroups of (or None), and the objects to add to the network.

    One ``NeuronGroup`` (``'neurons'``) with subgroups ``E`` and ``I`` when both carry the same neuron
    mechanisms (none, or the same instances) and none of them acts on a whole group (a pool would then span
    E and I): Brian2 runs one state update, threshold and reset instead of two. Otherwise two groups.
    """
    from brian2 import Subgroup

    mechanisms_E, mechanisms_I = list(mechanisms_E or ()), list(mechanisms_I or ())
    same = len(mechanisms_E) == len(mechanisms_I) and all(a is b for a, b in zip(mechanisms_E, mechanisms_I))
    if not same or _layer_wide(mechanisms_E):
        E = neuron.group(N_E, mechanisms=mechanisms_E, name="E")
        I = neuron.group(N_I, mechanisms=mechanisms_I, name="I")
        return E, I, None, [E, I]
    group = neuron.group(N_E + N_I, mechanisms=mechanisms_E, name="neurons")
    E, I = Subgroup(group, 0, N_E, name="E"), Subgroup(group, N_E, N_E + N_I, name="I")
    # the results record each population's mechanisms under its own name, as with two groups
    E._homeonet_mechanisms = I._homeonet_mechanisms = group._homeonet_mechanisms
    group._homeonet_mechanisms = ()
    return E, I, group, [group, E, I]


def recurrent_ei(neuron=None, N_E=400, N_I=100, p=0.1, w_e=None, w_i=None, N_in=500, rate_in=20 * Hz,
                 p_in=0.2, w_in=None, weight_cv=0.0, modulation=None, mechanisms_E=(), mechanisms_I=(),
                 synapse_mechanisms=None, record=None, record_dt=10 * ms, spikes=("E", "I"), merge=False,
                 schedule=None):
    r"""A sparsely connected recurrent network of excitatory and inhibitory spiking neurons.

    Each pair of neurons is connected with probability :math:`p` (E->E, E->I,
    I->E, I->I; no self-connections); an external population of
    :math:`N_\mathrm{in}` Poisson inputs at ``rate_in`` (optionally scaled in time
    by ``modulation``), or following a stimulus ``schedule``, projects to both
    populations with probability ``p_in``. This is the standard sparse E/I network (Brunel 2000, J. Comput. Neurosci.
    8:183) in a small, fast size.

    The network holds only what it uses, since Brian2 pays for every object on every
    time step: no input population when ``N_in = 0``, spike monitors only for the
    populations in ``spikes``, and one shared weight (a ``(constant, shared)``
    variable) for a projection without weight spread (``weight_cv = 0``) whose
    mechanisms do not change weights (synaptic scaling acts through the ``scale``
    hook), per-synapse weights otherwise. E and I are subgroups of one
    ``NeuronGroup`` (named ``'neurons'``) when they carry the same neuron mechanisms
    (none, or the same instances) and none of them acts on a whole group through a
    pool (:class:`~homeonet.mechanisms.GlobalHomeostasis`, ...): one state update,
    threshold and reset instead of two, as in Brian2's own examples. A mechanism that
    only keeps bookkeeping in its postsynaptic group (the deferred
    :class:`~homeonet.mechanisms.InhibitorySTDP`) can be given to both populations to
    keep them in one group.

    Parameters
    ----------
    neuron : LIF or ConductanceLIF
        Neuron model of both populations (default :class:`LIF`).
    N_E, N_I : int
        Population sizes (>= 1).
    p : float
        Recurrent connection probability, in [0, 1].
    w_e, w_i, w_in : Quantity, optional
        Excitatory, inhibitory and input weights (>= 0, in the model's weight
        unit); defaults in :data:`DEFAULT_WEIGHTS`.
    N_in : int
        Number of Poisson inputs (>= 0; 0: no input population).
    rate_in : Quantity
        Input rate (>= 0 Hz).
    p_in : float
        Input connection probability, in [0, 1].
    weight_cv : float
        Coefficient of variation of the weights (>= 0): each weight is its mean times a
        log-normal factor of mean 1 (drawn from Brian2's seeded generator); 0 gives equal weights.
    modulation : brian2.TimedArray, optional
        Time course scaling the input rate (see :func:`modulated_input`; needs ``N_in >= 1``).
    mechanisms_E, mechanisms_I : sequence of Mechanism
        Mechanisms of the excitatory and inhibitory neurons.
    synapse_mechanisms : dict, optional
        ``{'EE': [...], 'IE': [...], ...}``: mechanisms of each projection
        (``'IE'`` is I->E).
    record : dict, optional
        ``{'E': ['v', 'ip_theta'], ...}``: state variables recorded for all neurons every ``record_dt``.
    record_dt : Quantity
        Sampling period of recorded variables.
    spikes : sequence of {'E', 'I'}
        Populations whose spikes are recorded (default both).
    merge : bool
        Where E and I share one group, give each source population one ``Synapses`` object onto
        both (``E_all``, ``I_all``, ``in_all``, no self-connections) instead of two, unless one of
        the two projections has mechanisms; as Brian2's own examples write them. This saves a
        synaptic pathway per source (two objects run on every time step); the merged projections
        have no separate names (``EE``, ``EI``...). Default: False.
    schedule : homeonet.models.stimuli.Schedule, optional
        Stimulus presentations driving the inputs (:func:`stimulus_input`, times ``modulation``)
        instead of the constant ``rate_in``; it must have ``N_in`` inputs.

    Returns
    -------
    brian2.Network
        Objects ``E``, ``I`` (groups, or subgroups of ``neurons``), ``input`` (with ``N_in >= 1``),
        synapses ``EE``, ``EI``, ``IE``, ``II`` (and ``inE``, ``inI``; with ``merge``, ``E_all``...),
        monitors ``spikes_<pop>`` and ``trace_<pop>``.

    Raises
    ------
    HomeonetError
        An argument out of range (named), input synapses' mechanisms or a modulation without
        inputs, or an unknown population.
    """
    neuron = LIF() if neuron is None else neuron
    if not isinstance(neuron, NeuronModel) or not neuron.spiking:
        raise HomeonetError(f"neuron must be a spiking homeonet neuron model (LIF, ConductanceLIF), got {neuron!r}")
    N_E, N_I = check_count("N_E", N_E), check_count("N_I", N_I)
    N_in = check_count("N_in", N_in, minimum=0)
    weight_cv = float(check_quantity("weight_cv", weight_cv, 1, low=0))
    sigma = float(np.sqrt(np.log1p(weight_cv ** 2)))  # log-normal with mean 1 and this CV
    p = check_quantity("p", p, 1, low=0, high=1)
    p_in = check_quantity("p_in", p_in, 1, low=0, high=1)
    weights = dict(DEFAULT_WEIGHTS[type(neuron)])
    for key, value in (("w_e", w_e), ("w_i", w_i), ("w_in", w_in)):
        if value is not None:
            weights[key] = check_quantity(key, value, neuron.weight_unit, low=0 * neuron.weight_unit)
    record = dict(record or {})
    spikes = _checked_populations("spikes", spikes)
    unknown = set(record) - {"E", "I"}
    if unknown:
        raise HomeonetError(f"record keys must be among E, I; got {sorted(unknown)}")
    syn_mech = dict(synapse_mechanisms or {})
    unknown = set(syn_mech) - {"EE", "EI", "IE", "II", "inE", "inI"}
    if unknown:
        raise HomeonetError(f"synapse_mechanisms keys must be among EE, EI, IE, II, inE, inI; got {sorted(unknown)}")
    if N_in == 0 and ({"inE", "inI"} & set(syn_mech) or modulation is not None or schedule is not None):
        what = ("modulation" if modulation is not None else "a schedule" if schedule is not None
                else "synapse_mechanisms for inE/inI")
        raise HomeonetError(f"N_in must be >= 1 with {what} (there is no input population with N_in = 0)")
    if schedule is not None and schedule.rates.values.shape[1] != N_in:
        raise HomeonetError(f"schedule must have N_in = {N_in} inputs, got {schedule.rates.values.shape[1]}")
    N = N_E + N_I
    check_network_size("N_E, N_I, N_in, p and p_in", N + N_in, [(N, N - 1, p), (N_in, N, p_in)])
    E, I, whole, objects = _populations(neuron, N_E, N_I, mechanisms_E, mechanisms_I)
    exc, inh = neuron.synapse_targets
    unit = neuron.weight_unit
    # per source: its name, group, the variable it drives, its weight, probability and projections
    sources = [("E", E, exc, "w_e", p, ("EE", "EI")), ("I", I, inh, "w_i", p, ("IE", "II"))]
    if N_in:
        if schedule is not None:
            source = stimulus_input(schedule, modulation=modulation, name="input")
        elif modulation is None:
            source = poisson_input(N_in, rate_in, name="input")
        else:
            source = modulated_input(N_in, rate_in, modulation, name="input")
        objects.append(source)
        sources.append(("in", source, exc, "w_in", p_in, ("inE", "inI")))
    for src, pre, var, wkey, prob, names in sources:
        if merge and whole is not None and not any(syn_mech.get(n) for n in names):
            # one projection onto both populations, as Brian2's examples write it (no self-connections)
            own = {"E": "i != j", "I": f"j != i + {N_E}"}.get(src)
            objects.append(_projection(f"{src}_all", pre, whole, var, (), weights[wkey], unit, sigma, prob, own))
            continue
        for name, post in zip(names, (E, I)):
            own = "i != j" if pre is post else None
            objects.append(_projection(name, pre, post, var, syn_mech.get(name, ()), weights[wkey], unit, sigma,
                                       prob, own))
    for pop, group in (("E", E), ("I", I)):
        objects += _monitors(group, pop, record, record_dt, spikes=pop in spikes)
    return Network(*objects)


def _writes_weight(mechanisms, post) -> bool:
    """Whether one of *mechanisms* assigns the synapses' weight ``w`` (a plasticity rule, a normalization)."""
    from homeonet.mechanism import Target

    assigned = re.compile(r"(^|\n)\s*w\s*(=|\+=|-=|\*=|/=)")
    for m in mechanisms:
        c = m.resolved("synapses", Target.of(post))
        code = [] if c is None else [c.on_pre, c.on_pre_first, c.on_post, *(op.code for op in c.operations)]
        if any(assigned.search(text or "") for text in code):
            return True
    return False


def _projection(name, pre, post, var, mechanisms, weight, unit, sigma, prob, condition):
    """One projection of :func:`recurrent_ei`: synapses with probability *prob* (and *condition*), mean *weight*."""
    # a weight shared by all synapses where nothing makes them differ (Brian2 then reads one number, and
    # keeps no array of them): no spread and no mechanism that changes weights (scaling multiplies the
    # efficacy through the `scale` hook and leaves the weights alone)
    shared = " (constant, shared)" if sigma == 0 and not _writes_weight(mechanisms, post) else ""
    S = synapses(pre, post, f"w : {unit_name(unit)}{shared}", on_pre=f"{var}_post += w*scale",
                 mechanisms=mechanisms, hooks=SYNAPSE_HOOKS, name=name)
    connect(S, p=prob) if condition is None else connect(S, condition=condition, p=prob)
    if sigma > 0:
        mean = float(weight / unit)
        S.w = f"{mean!r}*{unit_name(unit)} * exp({sigma!r}*randn() - {sigma ** 2 / 2!r})"
    else:
        S.w = weight
    return S


def _checked_populations(name, value):
    """*value* as a set of population names among E and I (a one-line error otherwise)."""
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise HomeonetError(f"{name} must be a sequence of population names among 'E', 'I'; got {value!r}")
    if set(value) - {"E", "I"}:
        raise HomeonetError(f"{name} must name populations among 'E', 'I'; got {sorted(set(value))}")
    return set(value)


def feedforward(layers=(100, 50), neuron=None, schedule=None, p=1.0, w_mean=None, w_std=None,
                mechanisms=None, synapse_mechanisms=None, modulation=None, record=None, record_dt=1 * ms,
                seed=None):
    r"""A feed-forward layered network driven by a stimulus schedule.

    Input rates :math:`\lambda_j(t)` follow ``schedule`` (see
    :meth:`homeonet.models.stimuli.StimulusSet.sequence`). For rate neurons, the
    input layer's rates are the schedule itself and layer :math:`\ell` receives
    :math:`I_{e,i} = \sum_j w_{ij} r_j` from layer :math:`\ell-1`; for spiking
    neurons the input layer is a Poisson group and each presynaptic spike adds
    :math:`w_{ij}` to :math:`I_e` (or :math:`g_e`). Weights are drawn from a
    normal distribution (clipped at 0) with mean ``w_mean`` and s.d. ``w_std``.

    Parameters
    ----------
    layers : sequence of int
        Sizes of the hidden layers (each >= 1).
    neuron : NeuronModel
        Neuron model of all layers (default :class:`RateNeuron`).
    schedule : homeonet.models.stimuli.Schedule
        Input presentation schedule (required).
    p : float
        Connection probability between successive layers, in (0, 1].
    w_mean, w_std : Quantity or float, optional
        Weight distribution (model weight units); default mean ``1/(p*n_pre)`` for
        rate neurons and ``1 mV`` / ``3 nS`` for spiking neurons, s.d. half the mean.
    mechanisms : sequence or list of sequences of Mechanism, optional
        Mechanisms of every hidden layer, or one sequence per layer.
    synapse_mechanisms : sequence or list of sequences of Mechanism, optional
        Mechanisms of the synapses into every layer, or one sequence per layer
        (``W1`` feeds ``L1``...). Mechanisms with a neuron part (e.g. synaptic
        scaling's factor) must also be in that layer's ``mechanisms``.
    modulation : brian2.TimedArray, optional
        Dimensionless factor scaling all input rates over time (a perturbation).
    record : dict, optional
        ``{'L1': ['r'], ...}`` state variables recorded every ``record_dt``;
        by default the rate ``r`` of every rate layer.
    record_dt : Quantity
        Sampling period of recorded variables.
    seed : int, optional
        Seed of the weight draw (numpy); spikes use ``brian2.seed``.

    Returns
    -------
    brian2.Network
        Objects ``input``, layers ``L1``, ``L2``..., synapses ``W1``, ``W2``... and monitors.
    """
    neuron = RateNeuron() if neuron is None else neuron
    if not isinstance(neuron, NeuronModel):
        raise HomeonetError(f"neuron must be a homeonet neuron model, got {neuron!r}")
    if schedule is None:
        raise HomeonetError("schedule is required: build one with StimulusSet.sequence(...)")
    sizes = [check_count(f"layers[{k}]", n) for k, n in enumerate(layers)]
    if not sizes:
        raise HomeonetError("layers must list at least one layer size")
    p = check_quantity("p", p, 1, low=0, high=1, low_open=True)
    n_in = schedule.rates.values.shape[1]
    check_network_size("layers and p", n_in + sum(sizes), [(a, b, p) for a, b in zip([n_in, *sizes], sizes)])
    per_layer = _per_layer("mechanisms", mechanisms, len(sizes))
    syn_mechs = _per_layer("synapse_mechanisms", synapse_mechanisms, len(sizes))
    rng = np.random.default_rng(seed)
    unit = neuron.weight_unit
    if neuron.spiking:
        from .inputs import stimulus_input
        source = stimulus_input(schedule, modulation=modulation, name="input")
        record = dict(record or {})
    else:
        from .inputs import _checked_modulation
        namespace = {"stimulus": schedule.rates}
        rate = "stimulus(t, i)"
        if modulation is not None:
            namespace["modulation"] = _checked_modulation(modulation)
            rate += " * modulation(t)"
        source = NeuronGroup(n_in, f"r = {rate} : Hz", namespace=namespace, name="input")
        record = dict(record or {f"L{k + 1}": ["r"] for k in range(len(sizes))})
    objects, pre = [source], source
    for k, (n, mech) in enumerate(zip(sizes, per_layer), start=1):
        layer = neuron.group(n, mechanisms=mech, name=f"L{k}")
        n_pre = len(pre)
        if w_mean is None:
            mean = (1.0 / (p * n_pre)) if not neuron.spiking else DEFAULT_WEIGHTS[type(neuron)]["w_in"]
        else:
            mean = check_quantity("w_mean", w_mean, unit, low=0 * unit)
        std = mean / 2 if w_std is None else check_quantity("w_std", w_std, unit, low=0 * unit)
        unit_str = unit_name(unit)
        if neuron.spiking:
            S = synapses(pre, layer, f"w : {unit_str}", on_pre=f"{neuron.synapse_targets[0]}_post += w*scale",
                         mechanisms=syn_mechs[k - 1], hooks=SYNAPSE_HOOKS, name=f"W{k}")
        else:
            # r_pre may be an expression of the input's functions: share the input's namespace
            S = synapses(pre, layer, "w : 1\nI_e_post = w*scale*r_pre : Hz (summed)", name=f"W{k}",
                         mechanisms=syn_mechs[k - 1], hooks=SYNAPSE_HOOKS,
                         namespace=dict(source.namespace or {}) if pre is source else None)
        connect(S, p=p)
        S.w = np.clip(rng.normal(float(mean / unit), float(std / unit), len(S)), 0, None) * unit
        objects += [layer, S]
        objects += _monitors(layer, f"L{k}", record, record_dt)
        pre = layer
    return Network(*objects)
