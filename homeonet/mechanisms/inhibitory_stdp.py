"""Inhibitory spike-timing-dependent plasticity that balances excitation (Vogels et al. 2011)."""

from __future__ import annotations

from brian2 import Hz, get_dimensions, ms, nS, second

from .._validate import HomeonetError, ParameterError, _shown, check_bool, check_quantity, unit_name
from ..mechanism import Contribution, Mechanism, Operation, Target, check_expression, check_expression_units, check_weight
from ..units import unit_string

__all__ = ["InhibitorySTDP"]


class InhibitorySTDP(Mechanism):
    r"""Symmetric inhibitory STDP with a target rate (Vogels-Sprekeler rule).

    Each inhibitory synapse keeps a presynaptic and a postsynaptic trace,

    .. math:: \tau_\mathrm{STDP} \frac{dx_\mathrm{pre}}{dt} = -x_\mathrm{pre}, \qquad
              \tau_\mathrm{STDP} \frac{dx_\mathrm{post}}{dt} = -x_\mathrm{post},

    each incremented by 1 at a spike of its neuron. At a presynaptic
    (inhibitory) spike and at a postsynaptic spike the weight changes by

    .. math::
        w \leftarrow \mathrm{clip}\big(w + \eta\,(x_\mathrm{post} - \alpha),\ 0,\ w_\max\big),
        \qquad
        w \leftarrow \mathrm{clip}\big(w + \eta\,x_\mathrm{pre},\ 0,\ w_\max\big),
        \qquad \alpha = 2 \rho_0 \tau_\mathrm{STDP}.

    Near-coincident pre/post spikes potentiate; every presynaptic spike
    depresses by :math:`\eta\alpha`. For independent pre- and postsynaptic spike
    trains the expected drift, :math:`\eta\rho_\mathrm{pre}(2\tau_\mathrm{STDP}\rho_\mathrm{post} - \alpha)`,
    vanishes when the postsynaptic rate is :math:`\rho_0`, so inhibition grows onto neurons firing
    faster than :math:`\rho_0` and shrinks onto slower ones: excitatory rates
    converge to :math:`\rho_0` and inhibitory currents come to track excitatory
    ones (detailed E/I balance).

    Spike-timing correlations move this fixed point. With the pair term scaled by
    :math:`c = \langle\sum_\mathrm{pairs} e^{-|\Delta t|/\tau}\rangle / (2\tau\rho_\mathrm{post} n_\mathrm{pre})`
    (1 for independent trains) the drift vanishes at :math:`c\,\rho_\mathrm{post} = \rho_0`.
    A learned inhibitory spike delays its target's next spike, so :math:`c < 1` and the
    rate settles above :math:`\rho_0`: in Brian2's reference network (8000 E / 2000 I, 2 %)
    :math:`c \approx 0.8` and the excitatory rate settles at about 3.9 Hz for
    :math:`\rho_0` = 3 Hz (measured; ``tests/test_mechanisms_layer.py``). Vogels, Sprekeler, Zenke, Clopath & Gerstner
    (2011), Science 334:1569 (Brian2 example ``Vogels_et_al_2011.py``:
    :math:`\rho_0` = 3 Hz, :math:`\eta` = 0.01 nS, :math:`w_\max` = 100 nS).

    A synapse-side mechanism: connect the synapses with :func:`homeonet.connect`
    (which sets the mechanism's parameters once synapses exist) and give it to the inhibitory-to-excitatory synapses
    (``homeonet.synapses(..., mechanisms=[istdp])``, or
    ``recurrent_ei(..., synapse_mechanisms={'IE': [istdp]})``). Both traces are
    ``(event-driven)``: their cost follows the spikes. The postsynaptic pathway,
    however, costs a fixed amount on every time step; ``deferred=True`` removes it
    (see Notes; the mechanism then goes to the postsynaptic group as well,
    ``mechanisms_E=[istdp]``).

    Parameters
    ----------
    rho0 : Quantity
        Target postsynaptic rate :math:`\rho_0` (> 0 Hz).
    tau : Quantity
        Trace time constant :math:`\tau_\mathrm{STDP}` (> 0 s).
    eta : Quantity
        Learning rate :math:`\eta` (>= 0) in the unit of the weight (``nS`` for
        conductance synapses, ``mV`` for current-based LIF, ``1`` for dimensionless
        weights). Simulations that compress time raise it. The rule is off when 0;
        it is a shared constant of the synapses (``<name>_eta``) that may be changed
        between runs (e.g. a warm-up without plasticity).
    w_max : Quantity
        Upper bound of the weight (> 0, same unit as ``eta``).
    weight : str
        Name of the synapses' weight variable (default ``'w'``).
    factor : str, optional
        Expression multiplying :math:`\eta` on both pathways, e.g. a global third
        factor read from the postsynaptic group (``'glob_G_post'``, see
        :class:`GlobalHomeostasis`). Default: none.
    deferred : bool
        Settle the potentiation caused by postsynaptic spikes at the synapse's next
        presynaptic spike (and at the latest every ``flush_period``) instead of at every
        postsynaptic spike; see below. Default: False.
    flush_period : Quantity
        With ``deferred``: period of the settling pass over all synapses and of the
        re-referencing of the neurons' traces (> 0 s, at most :math:`20\tau_\mathrm{STDP}`).
    name : str
        Prefix of the mechanism's names (default ``'istdp'``).

    Notes
    -----
    **Deferred potentiation.** Brian2 runs every synaptic pathway on every time step,
    spikes or not, so the ``on_post`` pathway costs as much as the whole excitatory
    recurrent pathway in a network that fires at a few Hz. With ``deferred=True`` there
    is no ``on_post`` pathway. Each postsynaptic neuron keeps two spike-time sums
    referred to a time :math:`T_0`,

    .. math:: C = x_\mathrm{post}(T_0) + \sum_{T_0 < t_k \le t} e^{(t_k - T_0)/\tau}, \qquad
              D = \sum_{T_0 < t_k \le t} e^{-(t_k - T_0)/\tau},

    so that :math:`x_\mathrm{post}(t) = e^{-(t - T_0)/\tau} C` (the depression term). Each
    synapse keeps its presynaptic trace in the same frame, :math:`a = x_\mathrm{pre}(t)\,
    e^{(t - T_0)/\tau}` (``<name>_apre_ref``), which is constant between presynaptic spikes
    (both factors have the time constant :math:`\tau`) and changes only at a presynaptic spike,
    :math:`a \leftarrow a + e^{(t - T_0)/\tau}`: the synapses have no event-driven trace to
    decay. Each also keeps :math:`D_s`, the value of :math:`D` when it last settled. The
    potentiation owed for the postsynaptic spikes since then is
    :math:`\eta\sum_k x_\mathrm{pre}(t_k) = \eta\, a\,(D - D_s)`; it is added before the
    presynaptic spike acts (``on_pre_first``). :math:`T_0` is the same for all neurons (they
    move it together), so the exponential :math:`e^{(t - T_0)/\tau}`, whose inverse gives
    :math:`x_\mathrm{post}`, is computed once per time step, not per spike.
    Between two presynaptic spikes a weight only grows, and clipping a sum of non-negative
    steps at :math:`w_\max` once equals clipping after each step, so the weights are those
    of the per-spike rule to rounding. Every ``flush_period`` all synapses settle and refer
    :math:`a` to the present, then the neurons move :math:`T_0` to the present
    (:math:`C \leftarrow x_\mathrm{post}`, :math:`D \leftarrow 0`), which keeps every
    exponential below :math:`e^{T/\tau}`. Give the mechanism to the postsynaptic group too
    (it keeps :math:`C`, :math:`D` and :math:`T_0` there). The stored weights lack the
    unsettled potentiation (at most one ``flush_period`` of it); the subexpression
    ``<name>_w_settled`` of the synapses includes it, and ``<name>_apre`` is the presynaptic
    trace :math:`x_\mathrm{pre}`. :math:`\eta` and a ``factor`` are applied with their values at
    settling time: before changing either between runs (switching the rule on, say), call
    :meth:`settle`, or the potentiation owed for the last ``flush_period`` gets the new value.

    Examples
    --------
    >>> from brian2 import Hz, nS
    >>> from homeonet.mechanisms import InhibitorySTDP
    >>> istdp = InhibitorySTDP(rho0=3*Hz, eta=0.01*nS, w_max=100*nS)
    >>> float(istdp.alpha)
    0.12
    """

    prefix = "istdp"
    set_points = ("rho0",)
    reference = "Vogels, Sprekeler, Zenke, Clopath & Gerstner (2011), Science 334:1569"

    def __init__(self, rho0=3 * Hz, tau=20 * ms, eta=0.01 * nS, w_max=100 * nS, weight="w", factor=None,
                 deferred=False, flush_period=100 * ms, name=None):
        super().__init__(name)
        self.rho0 = check_quantity("rho0", rho0, Hz, low=0 * Hz, low_open=True)
        self.tau = check_quantity("tau", tau, second, low=0 * second, low_open=True)
        dim = get_dimensions(eta)
        self.eta = check_quantity("eta", eta, eta if dim is not get_dimensions(1) else 1, low=0 * eta)
        if get_dimensions(w_max) is not dim:
            raise ParameterError(f"w_max must have the unit of eta ({unit_string(dim)}), got {_shown(w_max)}")
        self.w_max = check_quantity("w_max", w_max, w_max if dim is not get_dimensions(1) else 1,
                                    low=0 * w_max, low_open=True)
        if not isinstance(weight, str) or not weight.isidentifier():
            raise HomeonetError(f"weight must be the name of the synapses' weight variable, got {weight!r}")
        self.weight = weight
        self.factor = None if factor is None else check_expression("factor", factor)
        self.deferred = check_bool("deferred", deferred)
        self.flush_period = check_quantity("flush_period", flush_period, second, low=0 * second, low_open=True,
                                           high=20 * self.tau)

    def validate(self, group, role):
        """The weight variable exists in eta's unit; the factor is dimensionless in these synapses."""
        if role != "synapses":
            return
        check_weight(self, group, self.weight, self.eta if get_dimensions(self.eta) is not get_dimensions(1) else 1)
        if self.factor is not None:
            check_expression_units(self, "factor", self.factor, group, 1)

    @property
    def alpha(self):
        r"""Depression per presynaptic spike in trace units, :math:`\alpha = 2\rho_0\tau_\mathrm{STDP}`."""
        return 2 * self.rho0 * self.tau

    def parameters(self):
        p = {"rho0": self.rho0, "tau": self.tau, "eta": self.eta, "w_max": self.w_max, "weight": self.weight}
        if self.factor is not None:
            p["factor"] = self.factor
        if self.deferred:
            p.update(deferred=True, flush_period=self.flush_period)
        return p

    def settle(self, synapses):
        r"""Settle the potentiation owed to each synapse now (deferred form; nothing to do per spike).

        Call it between runs before changing :math:`\eta` (``<name>_eta``) or what a ``factor``
        reads, so that the potentiation of the postsynaptic spikes so far gets the values in force when
        they happened. Runs as generated code, on any device.

        Parameters
        ----------
        synapses : brian2.Synapses
            Synapses carrying this mechanism.
        """
        if not self.deferred:
            return
        setattr(synapses, self.weight, self.full("w_settled"))
        setattr(synapses, self.full("Ds"), f"{self.full('D')}_post")

    def neurons(self, target: Target) -> Contribution | None:
        if not self.deferred:
            return None
        # the postsynaptic trace, referred to T0 (see Notes); re-referenced after the synapses' flush
        # (Brian2 forbids a postsynaptic variable named like a synaptic one: the synapses' own tau stays 'tau')
        # T0 moves for all neurons at once, so it is one shared value: e^{(t - T0)/tau} is then the same for
        # every neuron and synapse in a time step, and Brian2 computes it once per step, not per spike
        # (Brian2 writes a shared variable before any per-neuron one in a block: T0 moves in an operation of its own)
        ex = self.full("ex")  # a temporary
        return Contribution(model="C : 1\nD : 1\nT0 : second (shared)",
                            reset=f"{ex} = exp((t - T0)/trace_tau)\nC += {ex}\nD += 1/{ex}",
                            params={"trace_tau": self.tau},
                            operations=(Operation("C = C*exp(-(t - T0)/trace_tau)\nD = 0", dt=self.flush_period,
                                                  when="start", order=1, name="rebase"),
                                        Operation("T0 = t", dt=self.flush_period, when="start", order=2,
                                                  name="rebase_T0")))

    def synapses(self, target: Target) -> Contribution:
        if not target.spiking:
            raise HomeonetError(f"{self!r} needs spiking postsynaptic neurons (a group with a threshold)")
        w = self.weight
        rate = "eta" if self.factor is None else f"eta*({self.factor})"
        params = {"tau": self.tau, "eta": self.eta, "alpha": self.alpha, "w_max": self.w_max}
        # The parameters are declared here and set through ``init`` rather than ``params``: Brian2 refuses
        # writes to synaptic variables (shared ones included) before ``connect``, and the protocol sets
        # ``params`` at creation but ``init`` in :func:`homeonet.connect`.
        if self.deferred:
            return self._deferred(w, rate, params)
        return Contribution(
            model=self._model("dapost/dt = -apost/tau : 1 (event-driven)", params),
            on_pre=f"apre += 1\n{w} = clip({w} + {rate}*(apost - alpha), 0*w_max, w_max)",
            on_post=f"apost += 1\n{w} = clip({w} + {rate}*apre, 0*w_max, w_max)",
            init=params,
        )

    @staticmethod
    def _model(line, params, trace=True):
        """The presynaptic trace (event-driven, with *trace*), the form's own state *line* and the parameters."""
        return "\n".join((["dapre/dt = -apre/tau : 1 (event-driven)"] if trace else []) + [line]
                          + [f"{k} : {unit_name(v)} (constant, shared)" for k, v in params.items()])

    def _deferred(self, w, rate, params):
        """Synapse part of the deferred form: no on_post pathway, no event-driven trace (see Notes)."""
        # apre_ref: the presynaptic trace referred to the neuron's T0; owed potentiation eta*apre_ref*(D - Ds)
        owed = f"{rate}*apre_ref*(D_post - Ds)"
        settle = f"{w} = clip({w} + {owed}, 0*w_max, w_max)"
        ex = self.full("ex")  # a temporary: e^{(t - T0)/tau}, one exponential per presynaptic spike
        model = self._model("\n".join(["Ds : 1", "apre_ref : 1", "apre = apre_ref*exp(-(t - T0_post)/tau) : 1",
                                       f"w_settled = clip({w} + {owed}, 0*w_max, w_max) : {unit_name(self.eta)}"]),
                            params, trace=False)
        return Contribution(
            model=model,
            on_pre_first=f"{settle}\nDs = D_post",
            on_pre=(f"{ex} = exp((t - T0_post)/tau)\n"
                    f"{w} = clip({w} + {rate}*(C_post/{ex} - alpha), 0*w_max, w_max)\napre_ref += {ex}"),
            # settle every synapse and refer its trace to the present (the neurons then set T0 = t, D = 0)
            operations=(Operation(f"{settle}\nDs = 0\napre_ref = apre_ref*exp(-(t - T0_post)/tau)",
                                  dt=self.flush_period, when="start", order=0, name="flush"),),
            init=params,
        )
