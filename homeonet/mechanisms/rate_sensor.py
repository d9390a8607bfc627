"""A slow firing-rate sensor: the activity estimate homeostatic rules compare to a target."""

from __future__ import annotations

from brian2 import Hz, second

from .._validate import HomeonetError, check_quantity
from ..mechanism import Contribution, Mechanism, Target

__all__ = ["RateSensor", "sensor_or_default"]


class RateSensor(Mechanism):
    r"""Low-pass estimate :math:`A_i` of each neuron's firing rate, in Hz.

    For spiking neurons every spike increments the trace by :math:`1/\tau_A`,

    .. math:: \tau_A \frac{dA_i}{dt} = -A_i, \qquad A_i \leftarrow A_i + 1/\tau_A \text{ at each spike},

    so :math:`A_i` is the rate averaged over an exponential window of
    :math:`\tau_A`. For rate neurons it low-passes the rate variable :math:`r_i`:
    :math:`\tau_A \, dA_i/dt = r_i - A_i`. The sensor is the calcium-like activity
    signal of synaptic scaling and intrinsic plasticity models (van Rossum, Bi &
    Turrigiano 2000, J. Neurosci. 20:8812).

    **Cost.** Between spikes the spiking sensor only decays, so it is not integrated on
    every time step: each neuron keeps the estimate just after its last spike,
    :math:`A_i^\mathrm{s}` (``<name>_A_spike``), and that spike's time :math:`t_i^\mathrm{s}`
    (``<name>_t_spike``), and the estimate is the exact solution where it is read,

    .. math:: A_i(t) = A_i^\mathrm{s}\, e^{-(t - t_i^\mathrm{s})/\tau_A},

    a subexpression named ``<name>_A`` (read it, record it, use it in any code; set the
    state through ``initial`` or ``<name>_A_spike`` at :math:`t_i^\mathrm{s}`). The sensor
    then costs one exponential per spike and per read (the rules read it once per period),
    nothing per time step.

    Parameters
    ----------
    tau : Quantity
        Averaging time constant :math:`\tau_A` (> 0 s).
    initial : Quantity
        Value of the estimate at t = 0 (>= 0 Hz); set it to the target rate to
        avoid a start-up transient of the rules that read it.
    name : str
        Prefix of the sensor's names (the estimate is ``<name>_A``).
    """

    prefix = "sensor"
    reference = "van Rossum, Bi & Turrigiano (2000), J. Neurosci. 20:8812"

    def __init__(self, tau=1 * second, initial=0 * Hz, name=None):
        super().__init__(name)
        self.tau = check_quantity("tau", tau, second, low=0 * second, low_open=True)
        self.initial = check_quantity("initial", initial, Hz, low=0 * Hz)

    @property
    def variable(self) -> str:
        """Full name of the rate estimate (in Hz)."""
        return self.full("A")

    def parameters(self):
        return {"tau": self.tau, "initial": self.initial}

    def neurons(self, target: Target) -> Contribution:
        if target.spiking:
            # the exact solution between spikes, evaluated where it is read (see Cost)
            return Contribution(model="A = A_spike*exp(-(t - t_spike)/tau) : Hz\nA_spike : Hz\nt_spike : second",
                                reset="A_spike = A + 1/tau\nt_spike = t",
                                params={"tau": self.tau}, init={"A_spike": self.initial, "t_spike": 0 * second})
        if not target.rate:
            raise HomeonetError(f"{self!r} on rate neurons needs the group's rate variable: pass rate='r'")
        return Contribution(model=f"dA/dt = ({target.rate} - A)/tau : Hz", params={"tau": self.tau},
                            init={"A": self.initial})


def sensor_or_default(sensor, owner, tau, initial) -> RateSensor:
    """The rate sensor a mechanism reads: *sensor* if given, else a new one named ``<owner>_sensor``.

    Parameters
    ----------
    sensor : RateSensor or None
        A sensor to share between mechanisms of the same neurons.
    owner : str
        Name of the mechanism (prefix of the new sensor's name).
    tau : Quantity
        Window of a new sensor.
    initial : Quantity
        Initial value of a new sensor.

    Returns
    -------
    RateSensor
    """
    if sensor is None:
        return RateSensor(tau=tau, initial=initial, name=f"{owner}_sensor")
    if not isinstance(sensor, RateSensor):
        raise HomeonetError(f"sensor must be a RateSensor, got {sensor!r}")
    return sensor
