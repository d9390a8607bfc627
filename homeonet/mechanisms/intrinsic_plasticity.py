"""Intrinsic plasticity: each neuron's excitability adapts until its activity reaches a target."""

from __future__ import annotations

import numpy as np
from brian2 import Hz, Quantity, amp, get_dimensions, mV, ms, second

from brian2.units.fundamentalunits import DIMENSIONLESS

from .._validate import HomeonetError, ParameterError, check_choice, check_quantity, unit_name
from ..units import format_quantity, unit_string
from ..mechanism import Contribution, Mechanism, Operation, Target, check_expression, check_expression_units
from .rate_sensor import sensor_or_default

__all__ = ["IntrinsicPlasticity"]

RULES = ("rate", "sorn", "diehl_cook", "triesch")

#: Units a threshold offset can have: volt or amp (spiking models), Hz or none (rate models).
_HOOK_DIMS = (get_dimensions(mV), get_dimensions(amp), get_dimensions(Hz), DIMENSIONLESS)


class IntrinsicPlasticity(Mechanism):
    r"""Intrinsic plasticity: threshold, gain or bias adapt so each neuron reaches a target activity.

    Four rules (``rule=``), for spiking (``'rate'``, ``'sorn'``, ``'diehl_cook'``)
    and rate neurons (``'rate'``, ``'triesch'``):

    ``'rate'`` (default) — every period :math:`T` the threshold offset moves with the
    distance of the neuron's rate estimate :math:`A_i` (a :class:`RateSensor`) from the
    target :math:`\rho_0` (SORN's rule, Lazar, Pipa & Triesch 2009, with a rate estimate
    in place of the binary activity):

    .. math:: \theta_i \leftarrow \mathrm{clip}\big(\theta_i + \eta\,(A_i - \rho_0),\
              \theta_{\min}, \theta_{\max}\big)

    ``'sorn'`` — the event form of the same rule: every spike raises the threshold by
    :math:`\eta` and it decays at the constant rate :math:`\eta\rho_0`, so it is stationary
    exactly when the neuron fires at :math:`\rho_0`:

    .. math:: \frac{d\theta_i}{dt} = -\eta\,\rho_0, \qquad \theta_i \leftarrow \theta_i + \eta
              \ \text{at each spike}

    ``'diehl_cook'`` — adaptive threshold of Diehl & Cook (2015, Front. Comput. Neurosci.
    9:99): :math:`\theta_+` per spike, slow decay (their code: :math:`\theta_+ = 0.05` mV,
    :math:`\tau_\theta = 10^7` ms); it equalises activity across neurons rather than
    reaching a set rate:

    .. math:: \tau_\theta \frac{d\theta_i}{dt} = -f\,\theta_i, \qquad \theta_i \leftarrow \theta_i + f\,\theta_+

    with an optional gate :math:`f` (``factor``; 1 by default): :math:`f = 0` freezes the
    threshold, as their network does while it is tested after training.

    ``'triesch'`` — for sigmoid rate neurons :math:`y = 1/(1 + e^{-(a u + b)})`, the gain
    :math:`a` and bias :math:`b` follow the gradient that drives the distribution of
    :math:`y` toward an exponential with mean :math:`\mu = \rho_0 / r_\max` (Triesch 2005,
    ICANN LNCS 3696:65):

    .. math::
        \Delta b = \eta\Big(1 - \big(2 + \tfrac{1}{\mu}\big) y + \tfrac{y^2}{\mu}\Big), \qquad
        \Delta a = \frac{\eta}{a} + \Delta b\; u

    applied every period, with :math:`u = I/\beta` the neuron's input in units of the
    sigmoid's width (:class:`homeonet.models.RateNeuron` with ``phi='sigmoid'``: ``a``
    drives its ``gain`` hook, :math:`\beta b` its ``bias`` hook).

    The threshold rules drive the model's ``theta`` hook (volt for spiking models, Hz
    for rate models): its unit is that of :math:`\eta\cdot\mathrm{Hz}` (``'rate'``) or of
    :math:`\eta` (``'sorn'``, ``'diehl_cook'``).

    Parameters
    ----------
    target : Quantity
        Target rate :math:`\rho_0` (> 0 Hz; for ``'triesch'`` the target mean output).
    eta : Quantity or float
        Learning rate: hook units per Hz per period (``'rate'``, e.g. ``0.1*mV/Hz``),
        hook units per spike (``'sorn'``; :math:`\theta_+` for ``'diehl_cook'``), or
        dimensionless per period (``'triesch'``). Must be >= 0.
    period : Quantity
        Update period :math:`T` (> 0 s) of ``'rate'`` and ``'triesch'``.
    theta_min, theta_max : Quantity, optional
        Bounds of the threshold offset (``'rate'``; default unbounded).
    sensor : RateSensor, optional
        Rate estimate of ``'rate'``; by default a 1 s sensor starting at the target.
    rule : {'rate', 'sorn', 'diehl_cook', 'triesch'}
        The rule (see above).
    tau_theta : Quantity
        Decay time constant of ``'diehl_cook'`` (> 0 s).
    r_max, beta : Quantity
        Maximal rate and width of the sigmoid (``'triesch'``; RateNeuron's defaults).
    input : str
        Name of the neuron's total input variable (``'triesch'``; RateNeuron's ``I_in``).
    hook : str
        Hook driven by the threshold rules (default ``'theta'``).
    factor : str, optional
        ``'diehl_cook'`` only: an expression of the neuron's variables gating the rule (:math:`f`
        above, e.g. ``'plastic'``, a 0/1 variable of the group). Default: none (:math:`f = 1`).
    name : str
        Prefix of the mechanism's names (default ``'ip'``).
    """

    prefix = "ip"
    set_points = ("target",)
    reference = ("Lazar, Pipa & Triesch (2009), Front. Comput. Neurosci. 3:23; Triesch (2005), ICANN; "
                 "Diehl & Cook (2015), Front. Comput. Neurosci. 9:99")

    def __init__(self, target=5 * Hz, eta=None, period=100 * ms, theta_min=None, theta_max=None, sensor=None,
                 rule="rate", tau_theta=1e7 * ms, r_max=100 * Hz, beta=5 * Hz, input="I_in", hook="theta",
                 factor=None, name=None):
        super().__init__(name)
        self.rule = check_choice("rule", rule, RULES)
        self.target = check_quantity("target", target, Hz, low=0 * Hz, low_open=True)
        defaults = {"rate": 0.1 * mV / Hz, "sorn": 0.05 * mV, "diehl_cook": 0.05 * mV, "triesch": 0.001}
        eta = defaults[self.rule] if eta is None else eta
        if isinstance(eta, (str, bool, np.bool_)) or eta is None:
            raise ParameterError(f"eta must be a number or quantity >= 0 ({self._eta_units()}), got {eta!r}")
        if self.rule == "triesch":
            eta = check_quantity("eta", eta, 1, low=0)
        else:
            hook_dim = get_dimensions(eta * Hz) if self.rule == "rate" else get_dimensions(eta)
            if hook_dim not in _HOOK_DIMS:
                raise ParameterError(f"eta must be in {self._eta_units()}, got {format_quantity(eta)} (a threshold "
                                     f"offset in {unit_string(hook_dim)})")
            eta = check_quantity("eta", eta, Quantity(1.0, dim=get_dimensions(eta)) if get_dimensions(eta)
                                 is not DIMENSIONLESS else 1, low=0 * eta)
        self.eta = eta
        self.period = check_quantity("period", period, second, low=0 * second, low_open=True)
        self.tau_theta = check_quantity("tau_theta", tau_theta, second, low=0 * second, low_open=True)
        self.r_max = check_quantity("r_max", r_max, Hz, low=0 * Hz, low_open=True)
        self.beta = check_quantity("beta", beta, Hz, low=0 * Hz, low_open=True)
        if self.rule == "triesch" and not self.target < self.r_max:
            raise ParameterError(f"target must be below r_max ({format_quantity(self.r_max)}) for rule='triesch', "
                                 f"got {format_quantity(self.target)}")
        hook_dim = get_dimensions(eta * Hz) if self.rule == "rate" else get_dimensions(eta)
        hook_unit = Quantity(1.0, dim=hook_dim) if hook_dim is not DIMENSIONLESS else 1
        for label, bound in (("theta_min", theta_min), ("theta_max", theta_max)):
            if bound is not None:
                check_quantity(label, bound, hook_unit)
        if theta_min is not None and theta_max is not None and not theta_min < theta_max:
            raise ParameterError(f"theta_min must be below theta_max ({format_quantity(theta_max)}), "
                                 f"got {format_quantity(theta_min)}")
        self.theta_min, self.theta_max = theta_min, theta_max
        self.sensor = None
        if self.rule == "rate":
            self.sensor = sensor_or_default(sensor, self.name, 1 * second, self.target)
        for label, value in (("input", input), ("hook", hook)):
            if not isinstance(value, str) or not value.isidentifier():
                raise ParameterError(f"{label} must be a variable name, got {value!r}")
        self.input, self.hook = input, hook
        if factor is not None and self.rule != "diehl_cook":
            raise ParameterError(f"factor gates rule='diehl_cook' only, got rule={self.rule!r}")
        self.factor = None if factor is None else check_expression("factor", factor)

    def validate(self, group, role):
        """The gate of ``'diehl_cook'`` is dimensionless in the group."""
        if role == "neurons" and self.factor is not None:
            check_expression_units(self, "factor", self.factor, group, 1)

    def _eta_units(self):
        return {"rate": "hook units per Hz, e.g. 0.1*mV/Hz", "sorn": "hook units per spike, e.g. 0.05*mV",
                "diehl_cook": "hook units per spike, e.g. 0.05*mV", "triesch": "dimensionless"}[self.rule]

    @property
    def requires(self):
        return () if self.sensor is None else (self.sensor,)

    def parameters(self):
        p = {"rule": self.rule, "target": self.target, "eta": self.eta}
        if self.rule in ("rate", "triesch"):
            p["period"] = self.period
        if self.rule == "diehl_cook":
            p["tau_theta"] = self.tau_theta
            if self.factor is not None:
                p["factor"] = self.factor
        if self.rule == "triesch":
            p.update(r_max=self.r_max, beta=self.beta)
        for k in ("theta_min", "theta_max"):
            if getattr(self, k) is not None:
                p[k] = getattr(self, k)
        return p

    def neurons(self, target: Target) -> Contribution:
        return getattr(self, f"_{self.rule}")(target)

    def _rate(self, target):
        unit = Quantity(1.0, dim=get_dimensions(self.eta * Hz))
        lo = self.theta_min if self.theta_min is not None else -np.inf * unit
        hi = self.theta_max if self.theta_max is not None else np.inf * unit
        code = f"theta = clip(theta + eta*({self.sensor.variable} - target), theta_min, theta_max)"
        return Contribution(model=f"theta : {unit_name(unit)}",
                            params={"target": self.target, "eta": self.eta, "theta_min": lo, "theta_max": hi},
                            hooks={self.hook: "theta"},
                            operations=(Operation(code, dt=self.period, when="end", name="update"),))

    def _spiking_only(self, target):
        if not target.spiking:
            raise HomeonetError(f"rule={self.rule!r} needs spiking neurons (a threshold); use 'rate' or 'triesch'")

    def _sorn(self, target):
        self._spiking_only(target)
        unit = unit_name(get_dimensions(self.eta))
        # theta(t) = eta*(spikes so far) - eta*target*t, written without an ODE: exact, no per-step cost
        return Contribution(model=f"acc : {unit}\ntheta = acc - eta*target*t : {unit}", reset="acc += eta",
                            params={"eta": self.eta, "target": self.target}, hooks={self.hook: "theta"})

    def _diehl_cook(self, target):
        self._spiking_only(target)
        unit = unit_name(get_dimensions(self.eta))
        f = "" if self.factor is None else f"({self.factor})*"
        return Contribution(model=f"dtheta/dt = -{f}theta/tau_theta : {unit}", reset=f"theta += {f}eta",
                            params={"eta": self.eta, "tau_theta": self.tau_theta}, hooks={self.hook: "theta"})

    def _triesch(self, target):
        if target.spiking or not target.rate:
            raise HomeonetError("rule='triesch' needs rate neurons with a sigmoid (homeonet.models.RateNeuron"
                                "(phi='sigmoid'), or neuron_group(..., rate='r'))")
        mu = float(self.target / self.r_max)
        code = (f"y = {target.rate}/r_max\n"
                f"db = eta*(1 - (2 + 1/mu)*y + y**2/mu)\n"
                f"a = a + eta/a + db*{self.input}/beta\n"
                f"b = b + db*beta")
        return Contribution(model="a : 1\nb : Hz", init={"a": 1.0, "b": 0 * Hz},
                            params={"eta": float(self.eta), "mu": mu, "r_max": self.r_max, "beta": self.beta},
                            hooks={"gain": ("a", "product"), "bias": ("b", "sum")},
                            operations=(Operation(code, dt=self.period, when="end", name="update"),))
