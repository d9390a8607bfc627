"""Lateral inhibition through a layer-wide inhibitory pool (soft winner-take-all)."""

from __future__ import annotations

from brian2 import Hz, get_dimensions, ms, second

from .._validate import _shown, HomeonetError, check_choice, check_quantity, unit_name
from ..mechanism import Contribution, Target
from ._pool import PooledMechanism

__all__ = ["LateralInhibition"]


class LateralInhibition(PooledMechanism):
    r"""Subtractive inhibition of every unit by the mean activity of its layer.

    An inhibitory pool reads the mean activity :math:`P` of the layer and
    feeds back onto every unit through the threshold hook:

    .. math:: \theta_i^\mathrm{lat} = k\,P, \qquad
              P = \frac{1}{N}\sum_{j=1}^{N} r_j \quad\text{(rate layers)}, \qquad
              \tau_P \frac{dP}{dt} = -P + \frac{\tau_P}{N}\sum_j \sum_f \delta(t - t_j^f)
              \quad\text{(spiking layers)}.

    For threshold-linear rate units
    :math:`\tau \dot r_i = -r_i + [D_i - k P]_+` the fixed point is a soft
    winner-take-all: units whose drive :math:`D_i` is below the inhibition
    :math:`kP` are silenced, the others keep :math:`D_i - kP`, so the contrast
    between strong and weak units grows with :math:`k` (Dayan & Abbott 2001,
    ch. 7.5; Coultrip, Granger & Lynch 1992, Neural Netw. 5:47). For spiking
    layers :math:`P` is the layer's population rate low-passed with
    :math:`\tau_P` (the pool acts as one inhibitory unit driven by all
    neurons), and the inhibition either raises the threshold (hook
    ``'theta'``) or is subtracted as an input (hook ``'bias'``: term
    :math:`-kP`).

    **Cost.** The pool is a helper group of one unit, built by
    :meth:`attach`. Rate layers: a ``(summed)`` variable over :math:`N`
    synapses, one pass per time step (like the layer's own state update).
    Spiking layers: O(1) per spike and O(1) per step (the pool's decay). The
    broadcast back is a linked variable with constant index: free.

    Parameters
    ----------
    k : float or Quantity
        Strength :math:`k` (>= 0): dimensionless for rate layers (Hz of
        inhibition per Hz of mean rate); for spiking layers in the hook's unit
        per Hz (e.g. ``0.5*mV/Hz`` on a LIF threshold, ``5*pA/Hz`` on a
        ConductanceLIF bias).
    tau : Quantity
        Time constant :math:`\tau_P` of the spiking pool (> 0 s; unused for rate layers).
    hook : {'theta', 'bias'}
        Hook the inhibition drives (``'theta'``: raises the threshold by
        :math:`kP`; ``'bias'``: adds :math:`-kP`).
    name : str
        Prefix of the mechanism's names (default ``'lat'``).

    Notes
    -----
    The pool is built with the group (``layer = model.group(N, mechanisms=[lat])``)
    and contained in it, so ``Network(layer)`` runs it; ``attach(layer)`` returns it.

    Examples
    --------
    >>> from brian2 import Network
    >>> from homeonet.models import RateNeuron
    >>> from homeonet.mechanisms import LateralInhibition
    >>> lat = LateralInhibition(k=2.0)
    >>> layer = RateNeuron().group(20, mechanisms=[lat])
    >>> net = Network(layer)  # the pool is contained in the group
    >>> "lat_P" in layer.variables
    True
    """

    prefix = "lat"
    reference = "Dayan & Abbott (2001), Theoretical Neuroscience, ch. 7.5"
    linked = {"P": "P"}

    def __init__(self, k=1.0, tau=10 * ms, hook="theta", name=None):
        super().__init__(name)
        if isinstance(k, str) or k is None or isinstance(k, bool):
            raise HomeonetError(f"k must be a number or quantity >= 0, got {_shown(k)}")
        self.k = check_quantity("k", k, k if get_dimensions(k) is not get_dimensions(1) else 1, low=0 * k)
        self.tau = check_quantity("tau", tau, second, low=0 * second, low_open=True)
        self.hook = check_choice("hook", hook, ("theta", "bias"))

    def parameters(self):
        return {"k": self.k, "tau": self.tau, "hook": self.hook}

    def neurons(self, target: Target) -> Contribution:
        if not target.spiking and not target.rate:
            raise HomeonetError(f"{self!r} on rate neurons needs the group's rate variable: pass rate='r'")
        sign = "" if self.hook == "theta" else "-"
        unit = get_dimensions(self.k * Hz)
        return Contribution(model=f"P : Hz (linked)\ninh = {sign}k*P : {unit_name(unit)}",
                            params={"k": self.k}, hooks={self.hook: "inh"})

    def pool_parts(self, target: Target, n: int) -> dict:
        if target.spiking:
            return {"model": "dP/dt = -P/tau_pool : Hz", "on_pre": "P_post += 1/(n_layer*tau_pool)",
                    "namespace": {"tau_pool": self.tau, "n_layer": n}}
        return {"model": "P : Hz", "syn_model": f"P_post = {target.rate}_pre/n_layer : Hz (summed)",
                "namespace": {"n_layer": n}}
