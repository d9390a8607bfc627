"""Intrinsic plasticity: each neuron's excitability adapts until its rate reaches a target."""

from __future__ import annotations

import numpy as np
from brian2 import Hz, Quantity, get_dimensions, mV, ms, second

from .._validate import HomeonetError, check_quantity, unit_name
from ..mechanism import Contribution, Mechanism, Operation, Target
from .rate_sensor import RateSensor

__all__ = ["IntrinsicPlasticity"]


class IntrinsicPlasticity(Mechanism):
    r"""Homeostatic threshold adaptation driven by a rate sensor.

    Every ``period`` :math:`T` the threshold offset of neuron :math:`i` moves in
    proportion to the distance of its rate estimate :math:`A_i` (a
    :class:`RateSensor`) from the target :math:`\rho_0`:

    .. math:: \theta_i \leftarrow \mathrm{clip}\big(\theta_i + \eta\,(A_i - \rho_0),\
              \theta_{\min}, \theta_{\max}\big)

    A neuron firing above target raises its threshold and one below lowers it,
    so every neuron's rate is pulled to :math:`\rho_0` (the intrinsic-plasticity
    rule of SORN, Lazar, Pipa & Triesch 2009, Front. Comput. Neurosci. 3:23,
    with the rate estimate in place of the binary activity). The offset drives
    the model's ``theta`` hook (a threshold offset in volt for spiking models,
    in Hz for rate models): its unit is that of :math:`\eta \cdot` Hz.

    Parameters
    ----------
    target : Quantity
        Target rate :math:`\rho_0` (> 0 Hz).
    eta : Quantity
        Learning rate per period, in hook units per Hz (e.g. ``0.1*mV/Hz``).
    period : Quantity
        Update period :math:`T` (> 0 s): the rule costs one pass every period.
    theta_min, theta_max : Quantity, optional
        Bounds of the offset (default unbounded).
    sensor : RateSensor, optional
        The rate estimate; by default a new sensor with a 1 s window starting at the target.
    hook : str
        Name of the hook driven (default ``'theta'``).
    name : str
        Prefix of the mechanism's names (default ``'ip'``).
    """

    prefix = "ip"
    reference = "Lazar, Pipa & Triesch (2009), Front. Comput. Neurosci. 3:23"

    def __init__(self, target=5 * Hz, eta=0.1 * mV / Hz, period=100 * ms, theta_min=None, theta_max=None,
                 sensor=None, hook="theta", name=None):
        super().__init__(name)
        self.target = check_quantity("target", target, Hz, low=0 * Hz, low_open=True)
        dim = get_dimensions(eta)
        if not np.isfinite(np.asarray(eta, dtype=float)) or float(np.asarray(eta)) < 0:
            raise HomeonetError(f"eta must be a finite quantity >= 0 (in hook units per Hz, e.g. 0.1*mV/Hz), got {eta!r}")
        self.eta = eta
        self.period = check_quantity("period", period, second, low=0 * second, low_open=True)
        for label, bound in (("theta_min", theta_min), ("theta_max", theta_max)):
            if bound is not None and get_dimensions(bound) is not get_dimensions(eta * Hz):
                raise HomeonetError(f"{label} must have the units of eta*Hz, got {bound!r}")
        self.theta_min, self.theta_max = theta_min, theta_max
        self.sensor = sensor if sensor is not None else RateSensor(tau=1 * second, initial=self.target,
                                                                   name=f"{self.name}_sensor")
        if not isinstance(self.sensor, RateSensor):
            raise HomeonetError(f"sensor must be a RateSensor, got {sensor!r}")
        self.hook = hook

    @property
    def requires(self):
        return (self.sensor,)

    def parameters(self):
        p = {"target": self.target, "eta": self.eta, "period": self.period}
        if self.theta_min is not None:
            p["theta_min"] = self.theta_min
        if self.theta_max is not None:
            p["theta_max"] = self.theta_max
        return p

    def neurons(self, target: Target) -> Contribution:
        unit = Quantity(1.0, dim=get_dimensions(self.eta * Hz))
        lo = self.theta_min if self.theta_min is not None else -np.inf * unit
        hi = self.theta_max if self.theta_max is not None else np.inf * unit
        code = f"theta = clip(theta + eta*({self.sensor.variable} - target), theta_min, theta_max)"
        return Contribution(model=f"theta : {unit_name(get_dimensions(self.eta * Hz))}",
                            params={"target": self.target, "eta": self.eta, "theta_min": lo, "theta_max": hi},
                            hooks={self.hook: "theta"},
                            operations=(Operation(code, dt=self.period, when="end", name="update"),))
