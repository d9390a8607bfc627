"""Input populations: Poisson spike sources with constant, modulated or stimulus-driven rates.

All randomness comes from Brian2's seeded generator (``brian2.seed``), so the same
seed gives the same spikes on every device.
"""

from __future__ import annotations

import numpy as np
from brian2 import Hz, PoissonGroup, TimedArray

from homeonet._validate import HomeonetError, check_count, check_quantity

__all__ = ["poisson_input", "modulated_input", "stimulus_input"]


def poisson_input(N, rate, name="poissongroup*"):
    """Independent Poisson spike trains at constant rates.

    Parameters
    ----------
    N : int
        Number of inputs (>= 1).
    rate : Quantity
        Rate in Hz (>= 0), scalar or one per input.
    name : str
        Brian2 name of the group.

    Returns
    -------
    brian2.PoissonGroup
    """
    N = check_count("N", N)
    rate = check_quantity("rate", rate, Hz, low=0 * Hz, allow_array=True)
    if np.ndim(rate) and np.shape(rate) != (N,):
        raise HomeonetError(f"rate must be a scalar or have shape ({N},), got shape {np.shape(rate)}")
    _check_peak_rate("rate", np.max(rate))
    return PoissonGroup(N, rates=rate, name=name)


def modulated_input(N, rate, modulation: TimedArray, name="poissongroup*"):
    r"""Poisson inputs whose common rate is scaled by a time course.

    .. math:: \lambda_i(t) = \lambda_0\, m(t)

    Parameters
    ----------
    N : int
        Number of inputs (>= 1).
    rate : Quantity
        Base rate :math:`\lambda_0` in Hz (>= 0).
    modulation : brian2.TimedArray
        Dimensionless factor :math:`m(t) \ge 0`, e.g. a step that models a
        deprivation (``TimedArray([1, 0.5], dt=5*second)``).
    name : str
        Brian2 name of the group.

    Returns
    -------
    brian2.PoissonGroup
    """
    N = check_count("N", N)
    rate = check_quantity("rate", rate, Hz, low=0 * Hz)
    _checked_modulation(modulation)
    _check_peak_rate("rate x modulation", rate * float(np.max(modulation.values)))
    return PoissonGroup(N, rates="rate0 * modulation(t)", name=name,
                        namespace={"rate0": rate, "modulation": modulation})


def _check_peak_rate(what, peak):
    """A Poisson group fires at most once per time step: a higher rate would be silently cut to 1/dt."""
    from brian2 import defaultclock

    from homeonet._validate import ParameterError
    from homeonet.units import format_quantity

    if peak * defaultclock.dt > 1:
        raise ParameterError(f"{what} must stay at or below 1/dt = {format_quantity(1 / defaultclock.dt)} (one "
                             f"spike per time step, where a PoissonGroup saturates), reaches {format_quantity(peak)}")


def _checked_modulation(modulation):
    if not isinstance(modulation, TimedArray):
        raise HomeonetError(f"modulation must be a brian2 TimedArray of factors >= 0, got {type(modulation).__name__}")
    if np.any(np.asarray(modulation.values) < 0) or not np.all(np.isfinite(modulation.values)):
        raise HomeonetError("modulation must contain finite factors >= 0")
    return modulation


def stimulus_input(schedule, modulation=None, name="poissongroup*"):
    r"""Poisson inputs following a stimulus schedule (:meth:`StimulusSet.sequence`).

    .. math:: \lambda_i(t) = s_i(t)\, m(t)

    Parameters
    ----------
    schedule : homeonet.models.stimuli.Schedule
        The presentation schedule :math:`s_i(t)`.
    modulation : brian2.TimedArray, optional
        Dimensionless factor :math:`m(t) \ge 0` applied to all inputs (default 1).
    name : str
        Brian2 name of the group.

    Returns
    -------
    brian2.PoissonGroup
    """
    n = schedule.rates.values.shape[1]
    namespace = {"stimulus": schedule.rates}
    rates = "stimulus(t, i)"
    peak = float(np.max(schedule.rates.values, initial=0.0)) * Hz
    if modulation is not None:
        namespace["modulation"] = _checked_modulation(modulation)
        rates += " * modulation(t)"
        peak = peak * float(np.max(modulation.values, initial=0.0))
    _check_peak_rate("the stimulus rates" + (" x modulation" if modulation is not None else ""), peak)
    return PoissonGroup(n, rates=rates, name=name, namespace=namespace)
