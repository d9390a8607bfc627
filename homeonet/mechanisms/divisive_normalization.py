"""Divisive normalization of a layer by its pooled activity (Carandini & Heeger 2012)."""

from __future__ import annotations

from brian2 import Hz, ms, second

from .._validate import HomeonetError, check_quantity
from ..mechanism import Contribution, Target, check_expression, check_expression_units
from ._pool import PooledMechanism

__all__ = ["DivisiveNormalization"]


class DivisiveNormalization(PooledMechanism):
    r"""Normalization of each unit's response by the summed activity of its layer.

    **Rate layers (exact).** With drive :math:`D_i` (by default the synaptic
    and external input ``I_e - I_i + I_ext`` of :class:`~homeonet.models.RateNeuron`),

    .. math:: R_i = \gamma\,\frac{D_i^n}{\sigma^n + \sum_{j=1}^{N} D_j^n},

    implemented through the model's ``gain`` hook (a product),
    :math:`g_i = (\gamma/\sigma)\,(D_i/\sigma)^{n-1} / (1 + \sum_j (D_j/\sigma)^n)`,
    so that the unit's input :math:`g_i D_i` equals :math:`R_i` (drives below 0
    count as 0). A threshold-linear unit (``phi='linear'``, :math:`R_i < r_\max`,
    no other hook term) relaxes to exactly :math:`R_i`. When every drive is
    :math:`D_i = c\,w_i` for a contrast :math:`c`, the response follows the
    Naka-Rushton function
    :math:`R_i(c) = R_\max c^n / (c_{50}^n + c^n)` with
    :math:`c_{50} = \sigma / (\sum_j w_j^n)^{1/n}` and
    :math:`R_\max = \gamma w_i^n / \sum_j w_j^n`.

    **Spiking layers (shunting inhibition).** A pool of one unit sums the
    layer's spikes, :math:`\tau_P \dot P = -P + \tau_P \sum_j \sum_f \delta(t - t_j^f)`
    (:math:`P` is the summed rate of the layer, in Hz), and divides every
    neuron's synaptic input:

    .. math:: g_i = \frac{1}{1 + (P/\sigma)^n}.

    This is the steady-state effect of a shunting conductance
    :math:`g_\mathrm{sh} = g_L (P/\sigma)^n` reversing at rest: the membrane's
    depolarization :math:`I/(g_L + g_\mathrm{sh})` is divided by
    :math:`1 + g_\mathrm{sh}/g_L` (the membrane time constant is left unchanged).

    Carandini & Heeger (2012), Nat. Rev. Neurosci. 13:51; Heeger (1992), Vis.
    Neurosci. 9:181.

    **Cost.** The pool is a helper group of one unit built by :meth:`attach`.
    Rate layers: one ``(summed)`` pass over :math:`N` synapses per time step (the
    sum :math:`\sum_j D_j^n` changes every step). Spiking layers: O(1) per
    spike and per step. The pool is read back through a linked variable with a
    constant index (free).

    Parameters
    ----------
    gamma : Quantity
        Maximal response :math:`\gamma` of rate layers (> 0 Hz; keep it below
        the unit's ``r_max``).
    sigma : Quantity
        Semi-saturation constant :math:`\sigma` (> 0 Hz): a drive for rate layers,
        a summed pool rate for spiking layers.
    n : float
        Exponent :math:`n` (>= 1).
    drive : str
        Expression of the drive :math:`D_i` in Hz (rate layers).
    tau : Quantity
        Time constant :math:`\tau_P` of the spiking pool (> 0 s).
    name : str
        Prefix of the mechanism's names (default ``'dn'``).

    Examples
    --------
    >>> from brian2 import Hz, Network
    >>> from homeonet.models import RateNeuron
    >>> from homeonet.mechanisms import DivisiveNormalization
    >>> dn = DivisiveNormalization(gamma=50*Hz, sigma=10*Hz, n=2)
    >>> layer = RateNeuron().group(8, mechanisms=[dn])
    >>> net = Network(layer)  # the pool is contained in the group
    """

    prefix = "dn"
    reference = "Carandini & Heeger (2012), Nat. Rev. Neurosci. 13:51"
    linked = {"S": "S"}

    def __init__(self, gamma=50 * Hz, sigma=10 * Hz, n=2.0, drive="I_e - I_i + I_ext", tau=20 * ms, name=None):
        super().__init__(name)
        self.gamma = check_quantity("gamma", gamma, Hz, low=0 * Hz, low_open=True)
        self.sigma = check_quantity("sigma", sigma, Hz, low=0 * Hz, low_open=True)
        self.n = float(check_quantity("n", n, 1, low=1))
        self.drive = check_expression("drive", drive)
        self.tau = check_quantity("tau", tau, second, low=0 * second, low_open=True)

    def parameters(self):
        return {"gamma": self.gamma, "sigma": self.sigma, "n": self.n, "drive": self.drive, "tau": self.tau}

    def validate(self, group, role):
        """On a rate layer the drive is an expression in Hz of the layer's variables."""
        if role == "neurons" and not Target.of(group).spiking:
            check_expression_units(self, "drive", self.drive, group, Hz)

    def linked_for(self, target: Target) -> dict:
        return {"P": "P"} if target.spiking else {"S": "S"}

    def neurons(self, target: Target) -> Contribution:
        if target.spiking:
            return Contribution(model="P : Hz (linked)\ngdiv = 1/(1 + (P/sigma)**n) : 1",
                                params={"sigma": self.sigma, "n": self.n}, hooks={"gain": ("gdiv", "product")})
        model = ("S : 1 (linked)\n"
                 f"d = clip(({self.drive})/sigma, 0, inf) : 1\n"
                 "u = d**n : 1\n"
                 "gdiv = (gamma/sigma)*d**(n - 1)/(1 + S) : 1")
        return Contribution(model=model, params={"gamma": self.gamma, "sigma": self.sigma, "n": self.n},
                            hooks={"gain": ("gdiv", "product")})

    def pool_parts(self, target: Target, n: int) -> dict:
        if target.spiking:
            return {"model": "dP/dt = -P/tau_pool : Hz", "on_pre": "P_post += 1/tau_pool",
                    "namespace": {"tau_pool": self.tau}}
        return {"model": "S : 1", "syn_model": f"S_post = {self.full('u')}_pre : 1 (summed)"}
