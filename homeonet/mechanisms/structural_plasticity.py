"""Homeostatic structural plasticity: synapses created and pruned by activity (Butz & van Ooyen 2013)."""

from __future__ import annotations

import math

from brian2 import Hz, ms, second

from .._validate import HomeonetError, check_choice, check_quantity
from ..mechanism import Contribution, Mechanism, Operation, Target
from .rate_sensor import sensor_or_default

__all__ = ["StructuralPlasticity"]


class StructuralPlasticity(Mechanism):
    r"""Homeostatic rewiring by synaptic elements (Butz & van Ooyen 2013, PLoS Comput. Biol. 9:e1003259).

    Each neuron :math:`i` has a calcium-like activity trace, here the rate
    estimate :math:`A_i` of a :class:`RateSensor` (Butz & van Ooyen's calcium is
    :math:`\mathrm{Ca}_i = \beta_\mathrm{Ca}\tau_\mathrm{Ca} A_i`, so the set point
    is given as a rate :math:`\epsilon`), and two continuous numbers of synaptic
    elements, axonal :math:`z^a_i` (outgoing) and dendritic :math:`z^d_i`
    (incoming). The elements grow or retract with the distance of activity to the
    set point, by the linear rule (default)

    .. math:: \frac{dz_i}{dt} = \nu c \Big(1 - \frac{A_i}{\epsilon}\Big)

    or the Gaussian rule of the paper (``rule='gaussian'``),

    .. math:: \frac{dz_i}{dt} = \nu c \Big(2 \exp\Big(-\Big(\frac{A_i - \xi}{\zeta}\Big)^2\Big) - 1\Big),
              \qquad \xi = \frac{\eta + \epsilon}{2}, \quad
              \zeta = \frac{\epsilon - \eta}{2\sqrt{\ln 2}},

    which grows elements for :math:`\eta < A_i < \epsilon` and retracts them
    above :math:`\epsilon` *and* below :math:`\eta` (a silent neuron, e.g. a
    lesioned one, loses its synapses). :math:`\nu` is the biological growth rate
    (elements per second) and :math:`c` the time compression of the simulation;
    elements never go below 0. :math:`z` is integrated with :math:`A` frozen over
    each period :math:`T` (explicit Euler at the period).

    Every period :math:`T`, with :math:`b^d_i` (:math:`b^a_i`) the number of
    active incoming (outgoing) synapses of :math:`i` and :math:`\lfloor z \rfloor`
    the available elements:

    1. **Deletion.** Each active synapse of a neuron with :math:`b_i > \lfloor z_i \rfloor`
       is deleted with probability :math:`(b_i - \lfloor z_i \rfloor)/b_i` (drawn
       independently on the pre- and the postsynaptic side), so the excess is
       removed on average; a neuron within its elements never deletes. The partner's
       element becomes free (usable from the next period on).
    2. **Creation.** Each inactive potential synapse :math:`j \to i` is activated
       with probability :math:`\min(1, F^a_j / C^a_j, F^d_i / C^d_i)`, where
       :math:`F = \max(\lfloor z \rfloor - b, 0)` are the free elements and
       :math:`C` the inactive candidate synapses of the neuron, so on average a
       neuron forms at most its free elements (random pairing of free axonal and
       dendritic elements, restricted to the potential synapses). Both steps are
       Bernoulli draws, so a period can over- or undershoot by a few synapses;
       the next period corrects it.

    **Brian2 connectivity.** Synapses cannot be created during a run, so connect
    a set of *potential* synapses (e.g. ``p=0.3``, or all-to-all with
    ``condition='i != j'``); each carries ``<name>_active`` (0 or 1), which the
    synapses' ``scale`` hook multiplies into the efficacy (``on_pre='I_e_post +=
    w*scale'``, as in :mod:`homeonet.models`): an inactive synapse transmits
    nothing. ``initial_active`` sets the fraction active at the start, and the
    elements start at the bound counts (plus one half) unless ``z_initial`` is given.

    **Cost.** Nothing per time step beyond the sensor. Per period: two passes over
    the neurons and two vectorised passes over the potential synapses (a count
    into the neurons, and the rewiring), on every target.

    Give the same instance to the neuron group(s) (:func:`homeonet.neuron_group`)
    and to the synapses between them (:func:`homeonet.synapses`); both the pre-
    and the postsynaptic group need it. Several synapse groups sharing the
    mechanism share the neurons' element budgets.

    Parameters
    ----------
    target : Quantity
        Set point :math:`\epsilon` of the activity (> 0 Hz).
    growth : Quantity
        Biological growth rate :math:`\nu` (> 0 Hz, elements per second; default
        1e-4 per ms, NEST's default).
    compression : float
        Time compression :math:`c` (> 0; default 100).
    period : Quantity
        Rewiring period :math:`T` (> 0 s).
    rule : {'linear', 'gaussian'}
        Growth rule.
    eta : Quantity, optional
        Lower set point :math:`\eta` of the Gaussian rule (0 <= eta < target;
        default target/5).
    initial_active : float
        Probability that a potential synapse is active at the start, in [0, 1].
    z_initial : float, optional
        Initial number of elements of each kind (>= 0); default: the bound count
        plus 0.5 at the first period.
    sensor : RateSensor, optional
        Activity trace (default: a 1 s sensor starting at the set point).
    name : str
        Prefix of the mechanism's names (default ``'sp'``).

    Examples
    --------
    >>> from brian2 import Hz, ms
    >>> from homeonet import StructuralPlasticity
    >>> from homeonet.models import LIF
    >>> import homeonet as hn
    >>> sp = StructuralPlasticity(target=5*Hz, period=100*ms)
    >>> E = LIF().group(20, mechanisms=[sp])
    >>> S = hn.synapses(E, E, "w : volt", on_pre="I_e_post += w*scale", mechanisms=[sp],
    ...                 hooks={"scale": (1, "product")})
    >>> S.connect(condition="i != j")  # all potential synapses; sp_active gates them
    """

    prefix = "sp"
    set_points = ("target",)
    reference = "Butz & van Ooyen (2013), PLoS Comput. Biol. 9:e1003259"

    def __init__(self, target=5 * Hz, growth=1e-4 / ms, compression=100.0, period=100 * ms, rule="linear",
                 eta=None, initial_active=0.1, z_initial=None, sensor=None, name=None):
        super().__init__(name)
        self.target = check_quantity("target", target, Hz, low=0 * Hz, low_open=True)
        self.growth = check_quantity("growth", growth, Hz, low=0 * Hz, low_open=True)
        self.compression = float(check_quantity("compression", compression, 1, low=0, low_open=True))
        self.period = check_quantity("period", period, ms, low=0 * ms, low_open=True)
        self.rule = check_choice("rule", rule, ("linear", "gaussian"))
        eta = self.target / 5 if eta is None else eta
        self.eta = check_quantity("eta", eta, Hz, low=0 * Hz)
        if not self.eta < self.target:
            raise HomeonetError(f"eta must be below target ({self.target}), got {self.eta}")
        self.initial_active = float(check_quantity("initial_active", initial_active, 1, low=0, high=1))
        self.z_initial = None if z_initial is None else float(check_quantity("z_initial", z_initial, 1, low=0))
        self.sensor = sensor_or_default(sensor, self.name, 1 * second, self.target)

    @property
    def requires(self):
        return (self.sensor,)

    @property
    def step(self) -> float:
        """Largest change of the elements in one period, :math:`\\nu c T`."""
        return float(self.growth * self.compression * self.period)

    def parameters(self):
        return {"target": self.target, "growth": self.growth, "compression": self.compression,
                "period": self.period, "rule": self.rule, "eta": self.eta, "initial_active": self.initial_active,
                "z_initial": self.z_initial}

    def _drive(self) -> str:
        A = self.sensor.variable
        if self.rule == "linear":
            return f"(1 - {A}/target)"
        return f"(2*exp(-(({A} - center)/width)**2) - 1)"

    def neurons(self, target: Target) -> Contribution:
        if not target.spiking and not target.rate:
            raise HomeonetError(f"{self!r} on rate neurons needs the group's rate variable: pass rate='r'")
        params = {"target": self.target, "step": self.step}
        if self.rule == "gaussian":
            params["center"] = (self.eta + self.target) / 2
            params["width"] = (self.target - self.eta) / (2 * math.sqrt(math.log(2)))
        counters = ["bound_in", "bound_out", "cand_in", "cand_out", "p_del_in", "p_del_out", "p_new_in", "p_new_out"]
        model = "axons : 1\ndendrites : 1\n" + "\n".join(f"{c} : 1" for c in counters)
        reset = "\n".join(f"{c} = 0" for c in ("bound_in", "bound_out", "cand_in", "cand_out"))
        drive = self._drive()
        lines = []
        for z, side in (("axons", "out"), ("dendrites", "in")):
            # first period without z_initial: start at the bound count (+0.5, so floor(z) = bound)
            lines.append(f"{z} = {z} + (bound_{side} + 0.5 - {z})*int({z} < 0)")
            lines.append(f"{z} = clip({z} + step*{drive}, 0, inf)")
            # deletion: each active synapse of an over-connected side with probability excess/bound
            lines.append(f"p_del_{side} = clip(bound_{side} - floor({z}), 0, inf)/clip(bound_{side}, 1, inf)")
            # creation: free elements over inactive candidates (at most 1)
            lines.append(f"p_new_{side} = clip((floor({z}) - bound_{side})/clip(cand_{side}, 1, inf), 0, 1)")
        z0 = -1.0 if self.z_initial is None else self.z_initial
        return Contribution(
            model=model, params=params, init={"axons": z0, "dendrites": z0},
            operations=(Operation(reset, dt=self.period, when="end", order=0, name="zero"),
                        Operation("\n".join(lines), dt=self.period, when="end", order=2, name="grow")))

    def synapses(self, target: Target) -> Contribution:
        dpost, dpre, new = self.full("tmp_del_post"), self.full("tmp_del_pre"), self.full("tmp_new")
        count = ("bound_in_post += active\nbound_out_pre += active\n"
                 "cand_in_post += 1 - active\ncand_out_pre += 1 - active")
        # every statement reads pre/post variables and writes only the synapse's own state: vectorised
        # on every target (one pass over the potential synapses)
        rewire = "\n".join([
            f"{dpost} = active*int(rand() < p_del_in_post)",
            f"{dpre} = active*int(rand() < p_del_out_pre)",
            # min(p_new_out_pre, p_new_in_post), written with abs (Brian2 has no min())
            f"{new} = (1 - active)*int(2*rand() < p_new_out_pre + p_new_in_post - abs(p_new_out_pre - p_new_in_post))",
            f"active = active*(1 - {dpost})*(1 - {dpre}) + {new}",
        ])
        return Contribution(
            model="active : 1", hooks={"scale": ("active", "product")},
            init={"active": f"int(rand() < {self.initial_active!r})"},
            operations=(Operation(count, dt=self.period, when="end", order=1, name="count"),
                        Operation(rewire, dt=self.period, when="end", order=3, name="rewire")))
