"""Scheduled perturbations within one run: activity blockade, disinhibition, input steps, lesions.

Each protocol is a :class:`~homeonet.mechanism.Mechanism` whose schedule is
written in Brian2 string code with its onset and offset as parameters (no
Python callbacks), so a perturbed run is one ``run`` call on every device, and
the protocol's parameters are stored with the mechanisms in the results.

=====================  ===================================================  ======================
protocol               what it does                                          give it to
=====================  ===================================================  ======================
``ActivityBlockade``   input synapses scaled to ``factor`` (TTX-like, 0)      input synapses
``Disinhibition``      inhibitory synapses scaled to 0 (bicuculline-like)     inhibitory synapses
``InputStep``          input synapses scaled by ``factor``                    input synapses
``Lesion``             a random ``fraction`` of neurons silenced              neurons
``SynapseLesion``      a random ``fraction`` of synapses removed              synapses
=====================  ===================================================  ======================

Synapse protocols act through the synapses' ``scale`` hook (efficacy ``w*scale``),
which the builders of :mod:`homeonet.models` use.
"""

from __future__ import annotations

import numpy as np
from brian2 import Hz, Quantity, second, volt

from ._validate import HomeonetError, check_quantity, unit_name
from .mechanism import Contribution, Mechanism, Target

__all__ = ["ScheduledScale", "ActivityBlockade", "Disinhibition", "InputStep", "Lesion", "SynapseLesion"]


def _window(onset, offset):
    onset = check_quantity("onset", onset, second, low=0 * second)
    offset = np.inf * second if offset is None else check_quantity("offset", offset, second, low=0 * second)
    if not offset > onset:
        raise HomeonetError(f"offset must be after onset ({onset}), got {offset}")
    return onset, offset


class ScheduledScale(Mechanism):
    r"""Scale the efficacy of synapses by a factor during a time window.

    .. math:: \mathrm{scale}(t) = 1 + (f - 1)\,[t_\mathrm{on} \le t < t_\mathrm{off}]

    Parameters
    ----------
    onset : Quantity
        :math:`t_\mathrm{on}` (>= 0 s).
    factor : float
        :math:`f` (>= 0).
    offset : Quantity, optional
        :math:`t_\mathrm{off}` (default: never; the change lasts to the end).
    name : str
        Prefix of the protocol's names.
    """

    prefix = "step"
    kind = "scheduled scale"

    def __init__(self, onset, factor, offset=None, name=None):
        super().__init__(name)
        self.onset, self.offset = _window(onset, offset)
        self.factor = float(check_quantity("factor", factor, 1, low=0))

    def parameters(self):
        return {"onset": self.onset, "offset": self.offset, "factor": self.factor}

    def synapses(self, target: Target) -> Contribution:
        return Contribution(model="gate = 1 + (factor - 1)*int(t >= onset)*int(t < offset) : 1",
                            params={"onset": self.onset, "offset": self.offset, "factor": self.factor},
                            hooks={"scale": ("gate", "product")})


class ActivityBlockade(ScheduledScale):
    """Activity blockade (TTX-like): the drive onto a population removed (``factor=0``) or reduced.

    Give it to the input synapses (e.g. ``synapse_mechanisms={'inE': [...], 'inI': [...]}``).
    See :class:`ScheduledScale` for the equation; Turrigiano et al. (1998), Nature 391:892.
    """

    prefix = "ttx"

    def __init__(self, onset, factor=0.0, offset=None, name=None):
        super().__init__(onset, factor, offset, name)


class Disinhibition(ScheduledScale):
    """Disinhibition (bicuculline-like): inhibitory synapses blocked (``factor=0``) from ``onset``.

    Give it to the inhibitory synapses (e.g. ``synapse_mechanisms={'IE': [...]}``). See
    :class:`ScheduledScale` for the equation; Turrigiano et al. (1998), Nature 391:892.
    """

    prefix = "bic"

    def __init__(self, onset, factor=0.0, offset=None, name=None):
        super().__init__(onset, factor, offset, name)


class InputStep(ScheduledScale):
    """A step of the input strength by ``factor`` at ``onset`` (see :class:`ScheduledScale`)."""

    prefix = "input_step"


class _RandomLesion(Mechanism):
    """Base of the lesions: an onset and a Bernoulli fraction, drawn per element."""

    def __init__(self, onset, fraction=0.2, name=None):
        super().__init__(name)
        self.onset, _ = _window(onset, None)
        self.fraction = float(check_quantity("fraction", fraction, 1, low=0, high=1))

    def parameters(self):
        return {"onset": self.onset, "fraction": self.fraction}

    def _lesioned(self):
        return {"lesioned": f"int(rand() < {self.fraction!r})"}


class Lesion(_RandomLesion):
    r"""Silence a random fraction of neurons from ``onset`` on (a lesion).

    Each neuron is lesioned with probability :math:`p` (drawn from Brian2's seeded
    generator); from :math:`t_\mathrm{on}` its threshold offset hook ``theta`` is raised
    by an amount no input reaches:

    .. math:: \theta_i \mathrel{+}= \Theta\,\ell_i\,[t \ge t_\mathrm{on}], \qquad \ell_i \sim \mathrm{Bernoulli}(p)

    Parameters
    ----------
    onset : Quantity
        :math:`t_\mathrm{on}` (>= 0 s).
    fraction : float
        :math:`p`, in [0, 1].
    name : str
        Prefix of the protocol's names (default ``'lesion'``).
    """

    prefix = "lesion"

    def neurons(self, target: Target) -> Contribution:
        unit = target.hooks.get("theta", (volt if target.spiking else Hz,))[0]
        big = Quantity(1e6, dim=Quantity(unit).dim) if not target.spiking else 1 * volt
        return Contribution(model=f"lesioned : 1 (constant)\noff = big*lesioned*int(t >= onset) : {unit_name(unit)}",
                            params={"onset": self.onset, "big": big}, hooks={"theta": "off"},
                            init=self._lesioned())


class SynapseLesion(_RandomLesion):
    r"""Remove a random fraction of synapses from ``onset`` on.

    .. math:: \mathrm{scale}_{ij} \mathrel{\times}= 1 - \ell_{ij}\,[t \ge t_\mathrm{on}],
              \qquad \ell_{ij} \sim \mathrm{Bernoulli}(p)

    Parameters
    ----------
    onset : Quantity
        :math:`t_\mathrm{on}` (>= 0 s).
    fraction : float
        :math:`p`, in [0, 1].
    name : str
        Prefix of the protocol's names (default ``'cut'``).
    """

    prefix = "cut"

    def synapses(self, target: Target) -> Contribution:
        return Contribution(model="lesioned : 1 (constant)\nintact = 1 - lesioned*int(t >= onset) : 1",
                            params={"onset": self.onset}, hooks={"scale": ("intact", "product")},
                            init=self._lesioned())
