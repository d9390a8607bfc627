"""Synaptic normalization: the L1 or L2 norm of each neuron's incoming (or outgoing) weights held fixed."""

from __future__ import annotations

import numpy as np
from brian2 import Quantity, get_dimensions, second

from .._validate import _shown, HomeonetError, ParameterError, check_choice, check_quantity, unit_name
from ..mechanism import Contribution, Mechanism, Operation, Target, check_weight

__all__ = ["WeightNormalization"]


class WeightNormalization(Mechanism):
    r"""Hold the L1 or L2 norm of each neuron's incoming (or outgoing) weights at a total.

    Every period :math:`T` (or every time step) the weights onto neuron :math:`j`
    are rescaled by one factor:

    .. math::
        w_{ij} \leftarrow w_{ij}\,\frac{W_\mathrm{tot}}{\sum_i |w_{ij}|} \quad (p = 1), \qquad
        w_{ij} \leftarrow w_{ij}\,\frac{W_\mathrm{tot}}{\sqrt{\sum_i w_{ij}^2}} \quad (p = 2)

    (von der Malsburg 1973, Kybernetik 14:85; SORN: Lazar, Pipa & Triesch 2009).
    With ``direction='outgoing'`` the sums run over each presynaptic neuron's
    outgoing weights instead. It composes with STDP: learning changes the
    pattern of weights, normalization keeps their total, which stops the
    runaway of Hebbian learning.

    Cost: three regular operations per period — zero the sums (neurons), one
    pass accumulating the weights (synapses), one pass rescaling them — and
    nothing per time step in between (no ``(summed)`` variable, which Brian2
    would recompute every step). A neuron without inputs is left alone.

    Give the same instance to the neurons holding the sums (postsynaptic group
    for ``'incoming'``, presynaptic for ``'outgoing'``) and to the synapses.

    Parameters
    ----------
    total : Quantity
        :math:`W_\mathrm{tot}`, in the unit of the weights (> 0).
    norm : {1, 2}
        L1 (sum) or L2 (Euclidean) norm.
    period : Quantity or None
        Period :math:`T` (> 0 s); ``None`` normalizes on every time step.
    direction : {'incoming', 'outgoing'}
        Which weights of a neuron are normalized.
    weight : str
        Name of the synaptic weight variable (default ``'w'``).
    name : str
        Prefix of the mechanism's names (default ``'wn'``).
    """

    prefix = "wn"
    reference = "von der Malsburg (1973), Kybernetik 14:85; Lazar, Pipa & Triesch (2009)"

    def __init__(self, total=1.0, norm=1, period=None, direction="incoming", weight="w", name=None):
        super().__init__(name)
        if isinstance(total, (str, bool, list, tuple, dict)) or total is None or np.ndim(total):
            raise HomeonetError(f"total must be a weight > 0 (a number or quantity), got {_shown(total)}")
        self.total = check_quantity("total", total, Quantity(1, dim=get_dimensions(total)), low=0 * total,
                                    low_open=True)
        if isinstance(norm, (bool, str)) or norm not in (1, 2):
            raise ParameterError(f"norm must be 1 or 2, got {norm!r}")
        self.norm = int(norm)
        self.period = None if period is None else check_quantity("period", period, second, low=0 * second,
                                                                 low_open=True)
        self.direction = check_choice("direction", direction, ("incoming", "outgoing"))
        if not isinstance(weight, str) or not weight.isidentifier():
            raise HomeonetError(f"weight must be the name of the weight variable, got {weight!r}")
        self.weight = weight

    def parameters(self):
        return {"total": self.total, "norm": self.norm, "period": self.period, "direction": self.direction}

    def validate(self, group, role):
        """The synapses' weight variable exists in the unit of ``total``."""
        if role == "synapses":
            check_weight(self, group, self.weight, self.total if get_dimensions(self.total) is not
                         get_dimensions(1) else 1)

    @property
    def _side(self):
        return "post" if self.direction == "incoming" else "pre"

    def neurons(self, target: Target) -> Contribution:
        dim = get_dimensions(self.total) ** self.norm
        return Contribution(model=f"sum_w : {unit_name(dim)}",
                            operations=(Operation("sum_w = 0*sum_w", dt=self.period, when="end", order=10,
                                                  name="zero"),))

    def synapses(self, target: Target) -> Contribution:
        w, side = self.weight, self._side
        term = f"abs({w})" if self.norm == 1 else f"{w}**2"  # the L1 norm sums magnitudes: signs are kept
        norm = f"sum_w_{side}" if self.norm == 1 else f"sqrt(sum_w_{side})"
        # a neuron whose weights sum to 0 keeps them (factor 1): total/(norm + total*(norm == 0))
        rescale = f"{w} = {w} * total / ({norm} + total*int({norm} == 0*total))"
        return Contribution(params={"total": self.total}, operations=(
            Operation(f"sum_w_{side} += {term}", dt=self.period, when="end", order=11, name="sum"),
            Operation(rescale, dt=self.period, when="end", order=12, name="rescale")))
