"""Hebbian plasticity rules that homeostatic mechanisms are meant to stabilise.

These are plain Brian2 synapse models (string code), used by the ready-made
experiments, the examples and the tests whenever a homeostatic mechanism has to
work *next to* Hebbian learning (canonical result 4: normalization keeps STDP
from running away).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brian2 import Hz, Network, PoissonGroup, Quantity, SpikeMonitor, StateMonitor, get_dimensions, mV, ms, second

from homeonet._validate import _shown, HomeonetError, check_count, check_quantity, unit_name
from homeonet.mechanism import Mechanism, Period, Target, neuron_group, synapses

__all__ = ["AdditiveSTDP", "stdp_layer"]


@dataclass(frozen=True)
class AdditiveSTDP:
    r"""Additive pair-based STDP with hard bounds (Song, Miller & Abbott 2000).

    Each synapse keeps a presynaptic and a postsynaptic trace in the unit of the weight,

    .. math:: \tau_+ \frac{da_\mathrm{pre}}{dt} = -a_\mathrm{pre}, \qquad
              \tau_- \frac{da_\mathrm{post}}{dt} = -a_\mathrm{post},

    and at a presynaptic and a postsynaptic spike

    .. math::
        a_\mathrm{pre} \mathrel{+}= A_+ w_\max,\ w \leftarrow \mathrm{clip}(w + a_\mathrm{post}, 0, w_\max);
        \qquad
        a_\mathrm{post} \mathrel{-}= A_- w_\max,\ w \leftarrow \mathrm{clip}(w + a_\mathrm{pre}, 0, w_\max).

    With :math:`A_+\tau_+ > A_-\tau_-` the rule is potentiation-dominated: left alone
    the weights run to :math:`w_\max` (the instability a homeostatic constraint such
    as :class:`homeonet.WeightNormalization` removes). Song, Miller & Abbott (2000),
    Nat. Neurosci. 3:919.

    Parameters
    ----------
    w_max : Quantity
        Upper bound of the weight (> 0; its unit is the weight's).
    A_plus, A_minus : float
        Trace increments as fractions of ``w_max`` (>= 0).
    tau_plus, tau_minus : Quantity
        Trace time constants (> 0 s).

    Examples
    --------
    >>> from brian2 import mV
    >>> stdp = AdditiveSTDP(w_max=1 * mV)
    >>> print(stdp.on_pre("v_post += w").splitlines()[0])
    v_post += w
    """

    w_max: Quantity = field(default_factory=lambda: 1 * mV)
    A_plus: float = 0.05
    A_minus: float = 0.045
    tau_plus: Quantity = field(default_factory=lambda: 20 * ms)
    tau_minus: Quantity = field(default_factory=lambda: 20 * ms)

    def __post_init__(self):
        check_quantity("w_max", self.w_max, self.w_max, low=0 * self.w_max, low_open=True)
        for name in ("A_plus", "A_minus"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise HomeonetError(f"{name} must be a number >= 0 (a fraction of w_max); got {_shown(value)}")
        for name in ("tau_plus", "tau_minus"):
            check_quantity(name, getattr(self, name), second, low=0 * second, low_open=True)

    @property
    def model(self) -> str:
        """Synapse equations: the weight and the two event-driven traces."""
        unit = unit_name(get_dimensions(self.w_max))
        return (f"w : {unit}\n"
                f"dapre/dt = -apre/stdp_tau_plus : {unit} (event-driven)\n"
                f"dapost/dt = -apost/stdp_tau_minus : {unit} (event-driven)")

    def on_pre(self, effect: str) -> str:
        """Presynaptic code: *effect* (e.g. ``'v_post += w'``), then the trace and weight update."""
        return f"{effect}\napre += stdp_A_plus*stdp_w_max\nw = clip(w + apost, 0*stdp_w_max, stdp_w_max)"

    @property
    def on_post(self) -> str:
        """Postsynaptic code: the trace and weight update."""
        return "apost -= stdp_A_minus*stdp_w_max\nw = clip(w + apre, 0*stdp_w_max, stdp_w_max)"

    @property
    def namespace(self) -> dict:
        """The rule's constants, to pass as ``namespace=`` to the synapses."""
        return {"stdp_w_max": self.w_max, "stdp_A_plus": float(self.A_plus), "stdp_A_minus": float(self.A_minus),
                "stdp_tau_plus": self.tau_plus, "stdp_tau_minus": self.tau_minus}


def stdp_layer(mechanisms=(), N_in=100, N=5, rate_in=15 * Hz, stdp=None, modulation=None, record_dt=None):
    r"""Poisson inputs onto a layer of integrate-and-fire neurons through all-to-all STDP synapses.

    The set-up of Song, Miller & Abbott (2000): neurons with

    .. math:: \tau_m \frac{dv}{dt} = V_\mathrm{rest} - v,

    :math:`\tau_m` = 20 ms, :math:`V_\mathrm{rest}` = -70 mV, threshold -54 mV, reset -60 mV;
    each input spike adds its weight to :math:`v`; weights start uniform on
    :math:`[0, w_\max]` and learn by :class:`AdditiveSTDP`.

    Parameters
    ----------
    mechanisms : sequence of Mechanism
        Mechanisms given to both the layer and the synapses (e.g. a
        :class:`homeonet.WeightNormalization`).
    N_in, N : int
        Number of inputs and of neurons (>= 1).
    rate_in : Quantity
        Poisson rate of each input (>= 0 Hz).
    stdp : AdditiveSTDP, optional
        The rule (default: ``AdditiveSTDP()``, potentiation-dominated, ``w_max`` = 1 mV).
    modulation : brian2.TimedArray, optional
        Dimensionless factor of time multiplying the input rate.
    record_dt : Quantity, optional
        When given, the weights are recorded with this period (monitor ``weights``), at
        the end of the time step, after the mechanisms' regular operations.

    Returns
    -------
    brian2.Network
        With objects ``input``, ``E`` (the layer), ``inE`` (the synapses) and ``spikes_E``.
    """
    N_in, N = check_count("N_in", N_in), check_count("N", N)
    rate_in = check_quantity("rate_in", rate_in, Hz, low=0 * Hz)
    stdp = AdditiveSTDP() if stdp is None else stdp
    if not isinstance(stdp, AdditiveSTDP):
        raise HomeonetError(f"stdp must be an AdditiveSTDP; got {stdp!r}")
    if modulation is None:
        inputs = PoissonGroup(N_in, rate_in, name="input")
    else:
        inputs = PoissonGroup(N_in, rates="rate_in*input_modulation(t)", name="input",
                              namespace={"rate_in": rate_in, "input_modulation": modulation})
    layer = neuron_group(N, "dv/dt = (-70*mV - v)/(20*ms) : volt", threshold="v > -54*mV", reset="v = -60*mV",
                         mechanisms=mechanisms, method="exact", name="E")
    layer.v = -70 * mV
    on_synapses = [m for m in mechanisms  # the neuron-side rules act on E only
                   if not isinstance(m, Mechanism) or m.synapses(Target.of(layer)) is not None]
    S = synapses(inputs, layer, stdp.model, on_pre=stdp.on_pre("v_post += w"), on_post=stdp.on_post,
                 mechanisms=on_synapses, namespace=stdp.namespace, name="inE")
    S.connect()
    S.w = "rand()*stdp_w_max"
    objects = [inputs, layer, S, SpikeMonitor(layer, name="spikes_E")]
    if record_dt is not None:
        period = Period(record_dt, S)
        objects.append(period.apply(StateMonitor(S, "w", record=True, clock=period.clock, when="end", order=100,
                                                 name="weights")))
    return Network(*objects)
