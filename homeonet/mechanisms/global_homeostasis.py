"""Network-wide homeostasis: a low-passed population rate acting as a global factor."""

from __future__ import annotations

from brian2 import Hz, second

from .._validate import HomeonetError, check_quantity
from ..mechanism import Contribution, Target
from ._pool import PooledMechanism

__all__ = ["GlobalHomeostasis"]


class GlobalHomeostasis(PooledMechanism):
    r"""A global activity signal :math:`H` compared with a set point :math:`\gamma`.

    One pool unit low-passes the population rate of the group,

    .. math:: \tau_H \frac{dH}{dt} = -H + \frac{\tau_H}{N}\sum_j\sum_f \delta(t - t_j^f)
              \ \text{(spiking)}, \qquad
              \tau_H \frac{dH}{dt} = \frac{1}{N}\sum_j r_j - H \ \text{(rate)},

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
    :math:`\tau_H` for a well-damped loop.

    The pool's :math:`H` and :math:`G` are also visible in the group as
    ``<name>_H`` and ``<name>_G``, so a plasticity rule can use the global
    factor instead (``hook=None``), e.g. ``InhibitorySTDP(factor='glob_H_post/(5*Hz) - 1')``
    in the spirit of Zenke et al.'s third-factor inhibitory plasticity.

    **Cost.** A helper group of one unit built by :meth:`attach`. Spiking
    groups: O(1) per spike (one synapse per neuron into the pool) and O(1) per
    step; rate groups: one ``(summed)`` pass over :math:`N` synapses per step.
    The group reads :math:`H` and :math:`G` through linked variables with a
    constant index (free).

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
    reference = "Zenke, Agnes & Gerstner (2015), Nat. Commun. 6:6922"
    linked = {"H": "H", "G": "G"}

    def __init__(self, gamma=5 * Hz, tau_H=0.2 * second, tau_G=1 * second, G_min=0.01, G_max=100.0, hook="gain",
                 name=None):
        super().__init__(name)
        self.gamma = check_quantity("gamma", gamma, Hz, low=0 * Hz, low_open=True)
        self.tau_H = check_quantity("tau_H", tau_H, second, low=0 * second, low_open=True)
        self.tau_G = check_quantity("tau_G", tau_G, second, low=0 * second, low_open=True)
        self.G_min = float(check_quantity("G_min", G_min, 1, low=0, high=1, low_open=True))
        self.G_max = float(check_quantity("G_max", G_max, 1, low=1))
        if hook is not None and (not isinstance(hook, str) or not hook.isidentifier()):
            raise HomeonetError(f"hook must be a hook name (e.g. 'gain') or None, got {hook!r}")
        self.hook = hook

    def parameters(self):
        return {"gamma": self.gamma, "tau_H": self.tau_H, "tau_G": self.tau_G, "G_min": self.G_min,
                "G_max": self.G_max, "hook": self.hook}

    def neurons(self, target: Target) -> Contribution:
        if not target.spiking and not target.rate:
            raise HomeonetError(f"{self!r} on rate neurons needs the group's rate variable: pass rate='r'")
        hooks = {} if self.hook is None else {self.hook: ("G", "product")}
        return Contribution(model="H : Hz (linked)\nG : 1 (linked)", params={"gamma": self.gamma}, hooks=hooks)

    def pool_parts(self, target: Target, n: int) -> dict:
        # Integral control of log G, frozen at a bound while the error pushes past it (anti-wind-up).
        control = ("dG/dt = G*(gamma_set - H)/(gamma_set*tau_G)"
                   "*int((G > G_min or H < gamma_set) and (G < G_max or H > gamma_set)) : 1")
        ns = {"gamma_set": self.gamma, "tau_G": self.tau_G, "tau_H": self.tau_H, "G_min": self.G_min,
              "G_max": self.G_max, "n_layer": n}
        if target.spiking:
            parts = {"model": f"dH/dt = -H/tau_H : Hz\n{control}", "on_pre": "H_post += 1/(n_layer*tau_H)"}
        else:
            parts = {"model": f"dH/dt = (R - H)/tau_H : Hz\n{control}\nR : Hz",
                     "syn_model": f"R_post = {target.rate}_pre/n_layer : Hz (summed)"}
        parts.update(method="euler", namespace=ns, init={"H": self.gamma, "G": 1.0})
        return parts
