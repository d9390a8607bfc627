"""Synaptic scaling: a neuron's excitatory inputs scaled by one factor toward a target rate."""

from __future__ import annotations

from brian2 import Hz, ms, second

from .._validate import HomeonetError, check_bool, check_choice, check_quantity
from ..mechanism import Contribution, Mechanism, Operation, Target
from .rate_sensor import sensor_or_default

__all__ = ["SynapticScaling"]


class SynapticScaling(Mechanism):
    r"""Multiplicative synaptic scaling toward a target rate (Turrigiano et al. 1998).

    Each postsynaptic neuron :math:`j` keeps a rate estimate :math:`A_j`
    (:class:`RateSensor`) and one scaling factor :math:`s_j`, updated every
    period :math:`T`:

    .. math::
        s_j \leftarrow \mathrm{clip}\Big(s_j\,\big(1 + \sigma\,\frac{T c}{\tau_s}\,
        \frac{\rho_0 - A_j}{\rho_0}\big),\ s_\min,\ s_\max\Big)

    with :math:`\sigma = +1` for excitatory synapses (a neuron firing below its
    target :math:`\rho_0` scales its inputs up) and :math:`-1` for inhibitory
    ones (``inhibitory=True``: scaled the opposite way). :math:`\tau_s` is the
    biological time scale of scaling (hours to days) and :math:`c` the time
    compression of the simulation, so the simulated time scale is
    :math:`\tau_s / c` (:attr:`effective_tau`).

    The efficacy of synapse :math:`ij` is :math:`w_{ij}\, s_j^{k_{ij}}`, given to
    the synapses' ``scale`` hook (write ``on_pre='v_post += w*scale'``; the
    builders of :mod:`homeonet.models` do). In the default ``'uniform'`` mode
    :math:`k_{ij} = 1`: all inputs of a neuron are scaled by the same factor, so
    relative strengths are preserved (multiplicative scaling). In the
    ``'divergent'`` mode :math:`k_{ij} \sim \mathcal{N}(1, \kappa^2)` (clipped at
    0) per synapse, a non-uniform scaling as reported by Hanes et al. (2020,
    J. Neurosci. 40:3850).

    Because the factor lives in the neuron, the update costs one pass over the
    *neurons* per period and nothing per time step; weights :math:`w_{ij}` stay
    free for STDP or any other rule, whose changes scaling multiplies.

    Give the same instance to the postsynaptic group (:func:`homeonet.neuron_group`,
    sensor and factor) and to its incoming synapses (:func:`homeonet.synapses`).

    Parameters
    ----------
    target : Quantity
        Target rate :math:`\rho_0` (> 0 Hz).
    tau : Quantity
        Biological time scale of scaling :math:`\tau_s` (> 0 s; default 1 hour).
    compression : float
        Time compression :math:`c` (> 0; default 1000, so 1 hour becomes 3.6 s).
    period : Quantity
        Update period :math:`T` (> 0 s).
    s_min, s_max : float
        Bounds of the factor (0 <= s_min <= 1 <= s_max).
    mode : {'uniform', 'divergent'}
        Same factor for every synapse, or synapse-specific exponents.
    divergence : float
        :math:`\kappa`, s.d. of the exponents in the divergent mode (>= 0).
    inhibitory : bool
        Scale in the opposite direction (for inhibitory synapses).
    sensor : RateSensor, optional
        Rate estimate (default: a 1 s sensor starting at the target); share one
        sensor between mechanisms of the same neurons.
    name : str
        Prefix of the mechanism's names (default ``'ss'``).
    """

    prefix = "ss"
    set_points = ("target",)
    reference = "Turrigiano, Leslie, Desai, Rutherford & Nelson (1998), Nature 391:892"

    def __init__(self, target=5 * Hz, tau=3600 * second, compression=1000.0, period=100 * ms, s_min=0.0, s_max=10.0,
                 mode="uniform", divergence=0.3, inhibitory=False, sensor=None, name=None):
        super().__init__(name)
        self.target = check_quantity("target", target, Hz, low=0 * Hz, low_open=True)
        self.tau = check_quantity("tau", tau, second, low=0 * second, low_open=True)
        self.compression = float(check_quantity("compression", compression, 1, low=0, low_open=True))
        self.period = check_quantity("period", period, second, low=0 * second, low_open=True)
        self.s_min = float(check_quantity("s_min", s_min, 1, low=0, high=1))
        self.s_max = float(check_quantity("s_max", s_max, 1, low=1))
        self.mode = check_choice("mode", mode, ("uniform", "divergent"))
        self.divergence = float(check_quantity("divergence", divergence, 1, low=0))
        self.inhibitory = check_bool("inhibitory", inhibitory)
        if self.effective_tau < self.period:
            raise HomeonetError(f"compression must keep tau/compression ({self.effective_tau}) >= period "
                                f"({self.period}); got compression={self.compression:g}")
        self.sensor = sensor_or_default(sensor, self.name, 1 * second, self.target)

    @property
    def effective_tau(self):
        """Simulated time scale of scaling, :math:`\\tau_s / c`."""
        return self.tau / self.compression

    @property
    def requires(self):
        return (self.sensor,)

    def parameters(self):
        return {"target": self.target, "tau": self.tau, "compression": self.compression, "period": self.period,
                "s_min": self.s_min, "s_max": self.s_max, "mode": self.mode, "divergence": self.divergence,
                "inhibitory": self.inhibitory}

    def neurons(self, target: Target) -> Contribution:
        sign = "-" if self.inhibitory else "+"
        code = (f"s = clip(s*(1 {sign} rate*(target - {self.sensor.variable})/target), s_min, s_max)")
        return Contribution(model="s : 1", init={"s": 1.0},
                            params={"target": self.target, "rate": float(self.period / self.effective_tau),
                                    "s_min": self.s_min, "s_max": self.s_max},
                            operations=(Operation(code, dt=self.period, when="end", name="update"),))

    def synapses(self, target: Target) -> Contribution:
        if self.mode == "uniform":
            return Contribution(model="factor = s_post : 1", hooks={"scale": ("factor", "product")})
        return Contribution(model="factor = s_post**k : 1\nk : 1 (constant)", hooks={"scale": ("factor", "product")},
                            init={"k": f"clip(1 + {self.divergence!r}*randn(), 0, inf)"})
