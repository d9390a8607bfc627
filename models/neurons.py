"""Neuron models: rate neurons and leaky integrate-and-fire neurons with homeostatic hooks.

Each model is a small class holding its equations once and its default
parameters (with units) in one place, ``DEFAULTS``. A model exposes *hooks*
that mechanisms may drive (:mod:`homeonet.mechanism`):

``theta``  threshold offset (sum of contributions, 0 when none)
``gain``   gain of the synaptic input (product of contributions, 1 when none)
``bias``   additive bias (sum of contributions, 0 when none)

:meth:`NeuronModel.group` builds a ``brian2.NeuronGroup`` with mechanisms merged in.
"""

from __future__ import annotations

import numpy as np
from brian2 import Hz, Quantity, amp, mV, ms, nS, pF, second, siemens, volt

from homeonet._validate import _shown, HomeonetError, check_choice, check_quantity
from homeonet.mechanism import neuron_group

__all__ = ["NeuronModel", "RateNeuron", "LIF", "ConductanceLIF"]


class NeuronModel:
    """Base class: equations, threshold, reset, hooks and default parameters of a neuron model.

    Parameters
    ----------
    **params : Quantity
        Overrides of entries of the class's ``DEFAULTS`` (same units required).

    Attributes
    ----------
    params : dict
        The model's parameters (defaults updated by the overrides).
    """

    DEFAULTS: dict = {}
    HOOKS: dict = {}
    #: Lower bounds of parameters that must be positive (name -> True if strictly positive).
    POSITIVE: tuple = ()
    equations: str = ""
    threshold: str | None = None
    reset: str | None = None
    refractory = None
    method = "exact"
    rate_variable: str | None = None
    spiking = True
    #: Variables that excitatory / inhibitory synapses drive, and the unit of their weights.
    synapse_targets = ("I_e", "I_i")
    weight_unit = volt

    def __init__(self, **params):
        unknown = sorted(set(params) - set(self.DEFAULTS))
        if unknown:
            raise HomeonetError(f"{type(self).__name__} has no parameter {unknown[0]!r}; "
                                f"accepted: {', '.join(self.DEFAULTS)}")
        self.params = dict(self.DEFAULTS)
        for k, v in params.items():
            d = self.DEFAULTS[k]
            low = 0 * d if k in self.POSITIVE else None
            self.params[k] = check_quantity(k, v, d if isinstance(d, Quantity) else 1, low=low,
                                            low_open=k in self.POSITIVE)

    def __repr__(self):
        changed = {k: v for k, v in self.params.items() if v is not self.DEFAULTS[k]}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def model_equations(self) -> str:
        """The model's equation string (hooks are added by :func:`homeonet.neuron_group`)."""
        return self.equations

    def group(self, N, mechanisms=(), name=None, **kwargs):
        """Build a ``brian2.NeuronGroup`` of *N* neurons of this model.

        Parameters
        ----------
        N : int
            Number of neurons (>= 1).
        mechanisms : sequence of Mechanism
            Homeostatic mechanisms merged into the group.
        name : str, optional
            Brian2 name of the group.
        **kwargs
            Passed on to ``brian2.NeuronGroup`` (e.g. ``dt``).

        Returns
        -------
        brian2.NeuronGroup
        """
        if self.refractory is not None:
            kwargs.setdefault("refractory", self.refractory)
        group = neuron_group(N, self.model_equations(), mechanisms=mechanisms, threshold=self.threshold,
                             reset=self.reset, rate=self.rate_variable, hooks=self.HOOKS, method=self.method,
                             namespace=dict(self.params), name=name or "neurongroup*", **kwargs)
        self.initialise(group)
        return group

    def initialise(self, group):
        """Set initial values of a new group (default: nothing)."""


class RateNeuron(NeuronModel):
    r"""Rate neuron with a threshold-linear or sigmoid transfer function.

    .. math::
        \tau \frac{dr}{dt} = -r + \phi\big(g\,I_\mathrm{in} + b - \theta\big), \qquad
        I_\mathrm{in} = I_e - I_i + I_\mathrm{ext}

    with :math:`\phi(x) = \min(\max(x, 0), r_\max)` (``'linear'``) or
    :math:`\phi(x) = r_\max / (1 + e^{-(x - x_0)/\beta})` (``'sigmoid'``). Rates and
    inputs are in Hz; :math:`g` (``gain``), :math:`b` (``bias``) and :math:`\theta`
    (``theta``) are hooks. Synapses drive :math:`I_e`/:math:`I_i` with
    ``I_e_post = w*r_pre : Hz (summed)`` (Dayan & Abbott 2001, ch. 7).

    Parameters
    ----------
    phi : {'linear', 'sigmoid'}
        Transfer function.
    **params
        Overrides of ``DEFAULTS``: ``tau`` (10 ms), ``r_max`` (100 Hz),
        ``x0`` (sigmoid midpoint, 20 Hz), ``beta`` (sigmoid width, 5 Hz).
    """

    DEFAULTS = {"tau": 10 * ms, "r_max": 100 * Hz, "x0": 20 * Hz, "beta": 5 * Hz}
    POSITIVE = ("tau", "r_max", "beta")
    HOOKS = {"theta": (Hz, "sum"), "gain": (1, "product"), "bias": (Hz, "sum")}
    PHI = {"linear": "clip(x, 0*Hz, r_max)", "sigmoid": "r_max/(1 + exp(-(x - x0)/beta))"}
    method = "euler"
    rate_variable = "r"
    spiking = False
    weight_unit = 1

    def __init__(self, phi="linear", **params):
        self.phi = check_choice("phi", phi, self.PHI)
        super().__init__(**params)

    def model_equations(self):
        return (f"dr/dt = (-r + {self.PHI[self.phi]})/tau : Hz\n"
                "x = gain*I_in + bias - theta : Hz\n"
                "I_in = I_e - I_i + I_ext : Hz\n"
                "I_e : Hz\nI_i : Hz\nI_ext : Hz")

    def transfer(self, x):
        """Evaluate :math:`\\phi` on an input (Hz); the fixed point for constant input is ``transfer(I)``."""
        x = np.asarray(x / Hz, dtype=float)
        p = {k: float(v / Hz) for k, v in self.params.items() if k != "tau"}
        if self.phi == "linear":
            return np.clip(x, 0, p["r_max"]) * Hz
        return p["r_max"] / (1 + np.exp(-(x - p["x0"]) / p["beta"])) * Hz


class LIF(NeuronModel):
    r"""Current-based leaky integrate-and-fire neuron (currents in voltage units, :math:`R I`).

    .. math::
        \tau_m \frac{dv}{dt} = v_\mathrm{rest} - v + g\,(I_e - I_i) + I_\mathrm{ext} + b,
        \qquad \tau_e \frac{dI_e}{dt} = -I_e, \qquad \tau_i \frac{dI_i}{dt} = -I_i

    A spike is emitted when :math:`v > v_\mathrm{th} + \theta`; then
    :math:`v \leftarrow v_\mathrm{reset}` for a refractory period :math:`t_\mathrm{ref}`.
    Synapses add to :math:`I_e` / :math:`I_i` (``on_pre='I_e_post += w'``, w in volt).
    Hooks: ``theta`` (volt), ``gain`` (1), ``bias`` (volt). For a constant
    :math:`I_\mathrm{ext}` the rate is :meth:`rate` (Gerstner et al. 2014, ch. 1.3).

    Parameters
    ----------
    **params
        Overrides of ``DEFAULTS``: ``tau_m`` (20 ms), ``v_rest`` (-70 mV),
        ``v_reset`` (-60 mV), ``v_th`` (-50 mV), ``t_ref`` (2 ms), ``tau_e`` (5 ms),
        ``tau_i`` (10 ms).
    """

    DEFAULTS = {"tau_m": 20 * ms, "v_rest": -70 * mV, "v_reset": -60 * mV, "v_th": -50 * mV,
                "t_ref": 2 * ms, "tau_e": 5 * ms, "tau_i": 10 * ms}
    POSITIVE = ("tau_m", "tau_e", "tau_i")
    HOOKS = {"theta": (volt, "sum"), "gain": (1, "product"), "bias": (volt, "sum")}
    equations = ("dv/dt = (v_rest - v + gain*(I_e - I_i) + I_ext + bias)/tau_m : volt (unless refractory)\n"
                 "dI_e/dt = -I_e/tau_e : volt\n"
                 "dI_i/dt = -I_i/tau_i : volt\n"
                 "I_ext : volt")
    threshold = "v > v_th + theta"
    reset = "v = v_reset"
    refractory = "t_ref"
    # exact for v under a constant input within a step (so the f-I curve is exact) and, unlike
    # 'exact', cheap to derive: 'exact' solves the 3x3 linear system symbolically (seconds per group)
    method = "exponential_euler"

    def __init__(self, **params):
        super().__init__(**params)
        if self.params["t_ref"] < 0 * ms:
            raise HomeonetError(f"t_ref must be >= 0 ms, got {_shown(self.params['t_ref'])}")
        if not self.params["v_reset"] < self.params["v_th"]:
            raise HomeonetError("v_reset must be below v_th")

    def initialise(self, group):
        group.v = self.params["v_rest"]

    def rate(self, I_ext):
        r"""Closed-form firing rate for a constant input :math:`I_\mathrm{ext}` (no noise, no hooks).

        .. math:: \nu = \Big[t_\mathrm{ref} + \tau_m \ln\frac{v_\mathrm{rest} + I - v_\mathrm{reset}}
                  {v_\mathrm{rest} + I - v_\mathrm{th}}\Big]^{-1} \text{ for } v_\mathrm{rest} + I > v_\mathrm{th},
                  \text{ else } 0.

        Parameters
        ----------
        I_ext : Quantity
            Input in volt (scalar or array).

        Returns
        -------
        Quantity
            Rates in Hz.
        """
        p = self.params
        v_inf = np.asarray((p["v_rest"] + I_ext) / volt, dtype=float)
        th, vr = float(p["v_th"] / volt), float(p["v_reset"] / volt)
        out = np.zeros_like(v_inf)
        above = v_inf > th
        period = float(p["t_ref"] / second) + float(p["tau_m"] / second) * np.log((v_inf[above] - vr) / (v_inf[above] - th))
        out[above] = 1.0 / period
        return out * Hz


class ConductanceLIF(NeuronModel):
    r"""Conductance-based leaky integrate-and-fire neuron (Vogels et al. 2011 parameters).

    .. math::
        C_m \frac{dv}{dt} = g_L (E_L - v) + g\,\big(g_e (E_e - v) + g_i (E_i - v)\big) + I_\mathrm{ext} + b,
        \qquad \tau_e \frac{dg_e}{dt} = -g_e, \qquad \tau_i \frac{dg_i}{dt} = -g_i

    Spike when :math:`v > v_\mathrm{th} + \theta`, reset to :math:`v_\mathrm{reset}`,
    refractory for :math:`t_\mathrm{ref}`. Synapses add conductances
    (``on_pre='g_e_post += w'``, w in siemens). Hooks: ``theta`` (volt), ``gain``
    (1), ``bias`` (amp). Defaults follow Vogels, Sprekeler, Zenke, Clopath &
    Gerstner (2011), Science 334:1569.

    Parameters
    ----------
    **params
        Overrides of ``DEFAULTS``: ``C_m`` (200 pF), ``g_L`` (10 nS), ``E_L`` (-60 mV),
        ``v_th`` (-50 mV), ``v_reset`` (-60 mV), ``t_ref`` (5 ms), ``E_e`` (0 mV),
        ``E_i`` (-80 mV), ``tau_e`` (5 ms), ``tau_i`` (10 ms).
    """

    DEFAULTS = {"C_m": 200 * pF, "g_L": 10 * nS, "E_L": -60 * mV, "v_th": -50 * mV, "v_reset": -60 * mV,
                "t_ref": 5 * ms, "E_e": 0 * mV, "E_i": -80 * mV, "tau_e": 5 * ms, "tau_i": 10 * ms}
    POSITIVE = ("C_m", "g_L", "tau_e", "tau_i")
    HOOKS = {"theta": (volt, "sum"), "gain": (1, "product"), "bias": (amp, "sum")}
    equations = ("dv/dt = (g_L*(E_L - v) + gain*(g_e*(E_e - v) + g_i*(E_i - v)) + I_ext + bias)/C_m "
                 ": volt (unless refractory)\n"
                 "dg_e/dt = -g_e/tau_e : siemens\n"
                 "dg_i/dt = -g_i/tau_i : siemens\n"
                 "I_ext : amp")
    threshold = "v > v_th + theta"
    reset = "v = v_reset"
    refractory = "t_ref"
    method = "euler"
    synapse_targets = ("g_e", "g_i")
    weight_unit = siemens

    def initialise(self, group):
        group.v = self.params["E_L"]

    def rate(self, I_ext):
        r"""Closed-form rate for a constant current without synaptic input (as :meth:`LIF.rate`,
        with :math:`\tau_m = C_m/g_L` and :math:`I = I_\mathrm{ext}/g_L`).

        Parameters
        ----------
        I_ext : Quantity
            Input current in amp.

        Returns
        -------
        Quantity
            Rates in Hz.
        """
        p = self.params
        lif = LIF(tau_m=p["C_m"] / p["g_L"], v_rest=p["E_L"], v_reset=p["v_reset"], v_th=p["v_th"],
                  t_ref=p["t_ref"])
        return lif.rate(I_ext / p["g_L"])
