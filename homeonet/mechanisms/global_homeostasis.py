"""Network-wide homeostasis: a low-passed population rate acting as a global factor."""

from __future__ import annotations

from brian2 import Hz, ms, second

from .._validate import HomeonetError, check_quantity
from ..mechanism import Contribution, Target
from ._pool import PooledMechanism
from .rate_sensor import sensor_or_default

__all__ = ["GlobalHomeostasis"]


class GlobalHomeostasis(PooledMechanism):
    r"""A global activity signal :math:`H` compared with a set point :math:`\gamma`.

    The population rate is the mean of the neurons' rate estimates :math:`A_j`
    (a :class:`RateSensor` of time constant :math:`\tau_H`, shared with other
    mechanisms of the group when given), read every period :math:`T`:

    .. math:: H = \frac{1}{N}\sum_j A_j, \qquad \tau_H \frac{dA_j}{dt} = -A_j + \sum_f \delta(t - t_j^f)
              \ \text{(spiking; for rate neurons } r_j \text{ replaces the spike train)},

    and the global factor :math:`G_\mathrm{err} = H - \gamma` (Zenke, Agnes &
    Gerstner 2015, Nat. Commun. 6:6922) drives a shared gain :math:`G` by
    integral control on its logarithm,

    .. math:: \tau_G \frac{dG}{dt} = G\,\frac{\gamma - H}{\gamma}, \qquad
              G_\min \le G \le G_\max,

    which multiplies the synaptic input of every neuron (the model's ``gain``
    hook, a product). A population above the set point turns its gain down,
    one below turns it up, until :math:`H = \gamma`: the population rate is
    held at the set point after a perturbation (e.g. a step of the input). The
    integral stops at the bounds (no wind-up). Choose :math:`\tau_G` a few times
    :math:`\tau_H` for a well-damped loop. :math:`H` and :math:`G` are updated once
    per period :math:`T`, :math:`G` by one Euler step of :math:`T` with the previous
    period's :math:`H`.

    The pool's :math:`H` and :math:`G` are also visible in the group as
    ``<name>_H`` and ``<name>_G``, so a plasticity rule can use the global
    factor instead (``hook=None``), e.g. ``InhibitorySTDP(factor='glob_H_post/(5*Hz) - 1')``
    in the spirit of Zenke et al.'s third-factor inhibitory plasticity (with the per-spike rule:
    ``deferred=True`` applies a factor with its value at settling time, not at each spike).

    **Cost.** A helper group of one unit (the pool) acting once per period
    :math:`T` (:class:`~homeonet.mechanism.Period`): one ``(summed)`` pass over
    :math:`N` synapses and one gain update per period, nothing per time step
    beyond the rate sensor. The group reads
    :math:`H` and :math:`G` through linked variables with a constant index (free).

    Parameters
    ----------
    gamma : Quantity
        Set point :math:`\gamma` of the population rate (> 0 Hz).
    tau_H : Quantity
        Time constant of the population-rate estimate (> 0 s).
    tau_G : Quantity
        Time constant of the gain control (> 0 s).
    G_min, G_max : float
        Bounds of the gain, 0 < G_min <= 1 <= G_max.
    hook : str or None
        Hook driven by :math:`G` (default ``'gain'``); ``None``: drive nothing.
    period : Quantity
        Period :math:`T` of the pool's clock (> 0 s, at most :math:`\tau_G/5`).
    sensor : RateSensor, optional
        The neurons' rate estimate (default: a new one with :math:`\tau_H`, starting at :math:`\gamma`).
    name : str
        Prefix of the mechanism's names (default ``'glob'``).

    Examples
    --------
    >>> from brian2 import Hz, Network, second
    >>> from homeonet.models import LIF
    >>> from homeonet.mechanisms import GlobalHomeostasis
    >>> glob = GlobalHomeostasis(gamma=5*Hz, tau_H=0.2*second, tau_G=1*second)
    >>> E = LIF().group(50, mechanisms=[glob])
    >>> net = Network(E)  # the pool is contained in the group
    """

    prefix = "glob"
    set_points = ("gamma",)
    reference = "Zenke, Agnes & Gerstner (2015), Nat. Commun. 6:6922"
    linked = {"H": "H", "G": "G"}

    def __init__(self, gamma=5 * Hz, tau_H=0.2 * second, tau_G=1 * second, G_min=0.01, G_max=100.0, hook="gain",
                 period=10 * ms, sensor=None, name=None):
        super().__init__(name)
        self.period = check_quantity("period", period, second, low=0 * second, low_open=True)
        self.gamma = check_quantity("gamma", gamma, Hz, low=0 * Hz, low_open=True)
        self.tau_H = check_quantity("tau_H", tau_H, second, low=0 * second, low_open=True)
        self.tau_G = check_quantity("tau_G", tau_G, second, low=0 * second, low_open=True)
        self.G_min = float(check_quantity("G_min", G_min, 1, low=0, high=1, low_open=True))
        self.G_max = float(check_quantity("G_max", G_max, 1, low=1))
        if hook is not None and (not isinstance(hook, str) or not hook.isidentifier()):
            raise HomeonetError(f"hook must be a hook name (e.g. 'gain') or None, got {hook!r}")
        self.hook = hook
        if self.period * 5 > self.tau_G:
            raise HomeonetError(f"period must be at most tau_G/5 ({self.tau_G / 5}) for a stable gain update, "
                                f"got {self.period}")
        self.sensor = sensor_or_default(sensor, self.name, self.tau_H, self.gamma)

    @property
    def requires(self):
        return (self.sensor,)

    def parameters(self):
        return {"gamma": self.gamma, "tau_H": self.tau_H, "tau_G": self.tau_G, "G_min": self.G_min,
                "G_max": self.G_max, "hook": self.hook, "period": self.period}

    def neurons(self, target: Target) -> Contribution:
        if not target.spiking and not target.rate:
            raise HomeonetError(f"{self!r} on rate neurons needs the group's rate variable: pass rate='r'")
        hooks = {} if self.hook is None else {self.hook: ("G", "product")}
        return Contribution(model="H : Hz (linked)\nG : 1 (linked)", params={"gamma": self.gamma}, hooks=hooks)

    def pool_parts(self, target: Target, n: int) -> dict:
        # The pool runs once per period: its (summed) mean of the neurons' rate estimates and the gain
        # update cost one pass every period, nothing on the time steps in between. Integral control of
        # log G, one Euler step of the period (dt in a periodic operation) with the estimate of the
        # previous period, frozen at a bound while the error pushes past it (anti-wind-up).
        control = ("G = clip(G + dt*G*(gamma_set - H)/(gamma_set*tau_G)"
                   "*int((G > G_min or H < gamma_set) and (G < G_max or H > gamma_set)), G_min, G_max)")
        ns = {"gamma_set": self.gamma, "tau_G": self.tau_G, "G_min": self.G_min, "G_max": self.G_max,
              "n_layer": n}
        return {"model": "R : Hz\nH : Hz\nG : 1", "dt": self.period, "namespace": ns,
                "syn_model": f"R_post = {self.sensor.variable}_pre/n_layer : Hz (summed)",
                "operations": ((f"{control}\nH = R", self.period),),
                "init": {"H": self.gamma, "R": self.gamma, "G": 1.0}}
