r"""Excitation-inhibition balance measures from recorded synaptic currents.

Currents are arrays with time along ``axis`` (default 0, the layout of a
homeonet ``Results`` trace ``(t_<pop>, neuron_<pop>)``; use ``axis=1`` for
``StateMonitor`` attributes, which are ``(neuron, time)``). A ``StateMonitor``
can also be passed directly with the names of its two recorded variables.

Sign convention (homeonet's neuron models): inhibition is given as a positive
magnitude :math:`I_I \ge 0` that is *subtracted* (:math:`I_\mathrm{net} = I_E - I_I`).
Pass ``inhibition='signed'`` for currents where inhibition is already negative
(:math:`I_\mathrm{net} = I_E + I_I`).
"""

from __future__ import annotations

import numpy as np

from homeonet._validate import HomeonetError, check_choice

from . import _util

__all__ = ["ei_correlation", "net_to_total_ratio"]


def _currents(exc, inh, axis, inhibition):
    from brian2 import StateMonitor

    if isinstance(exc, StateMonitor):
        if not (isinstance(inh, (tuple, list)) and len(inh) == 2):
            raise HomeonetError("inh must be a pair of variable names (excitatory, inhibitory) with a StateMonitor")
        mon, (ve, vi) = exc, inh
        for v in (ve, vi):
            if v not in mon.record_variables:
                raise HomeonetError(f"inh: {v!r} is not recorded by the monitor ({', '.join(mon.record_variables)})")
        exc, inh, axis = getattr(mon, ve), getattr(mon, vi), 1
    check_choice("inhibition", inhibition, ("magnitude", "signed"))
    e, eu = _util.values("exc", exc, ndim=(1, 2))
    i, iu = _util.values("inh", inh, ndim=(1, 2))
    _util.same_unit("inh", iu, "exc", eu)
    if e.shape != i.shape:
        raise HomeonetError(f"exc and inh must have the same shape, got {e.shape} and {i.shape}")
    if axis not in (0, 1, -1) or (e.ndim == 1 and axis not in (0, -1)):
        raise HomeonetError(f"axis must be the time axis (0 or 1 for 2-D currents), got {axis!r}")
    e, i = np.moveaxis(e, axis, 0), np.moveaxis(i, axis, 0)
    if e.shape[0] < 2:
        raise HomeonetError(f"exc must have at least 2 time samples, got {e.shape[0]}")
    if inhibition == "signed":
        i = -i
    return e, i


def ei_correlation(exc, inh, axis=0, inhibition="magnitude"):
    r"""Pearson correlation over time of excitatory and inhibitory currents, per neuron.

    .. math:: \rho_i = \frac{\mathrm{Cov}_t\big(I_E^i(t), I_I^i(t)\big)}{\sigma_t(I_E^i)\,\sigma_t(I_I^i)}

    with :math:`I_I` the inhibitory magnitude, so tracking (balanced) currents give :math:`\rho \to 1`.

    Parameters
    ----------
    exc, inh : Quantity or array, or (StateMonitor, (name_e, name_i))
        Excitatory and inhibitory currents of the same shape and unit, ``(T,)`` or 2-D.
    axis : int
        Time axis (0 for homeonet traces, 1 for ``StateMonitor`` arrays).
    inhibition : {'magnitude', 'signed'}
        Whether *inh* is a positive magnitude (homeonet models) or a negative current.

    Returns
    -------
    numpy.ndarray or float
        Correlation of each neuron (a float for 1-D input); NaN for a constant current.

    References
    ----------
    Okun M, Lampl I (2008) Instantaneous correlation of excitation and inhibition during ongoing and
    sensory-evoked activities. Nat Neurosci 11:535-537.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 1, 200)
    >>> e = 1 + np.sin(2 * np.pi * 3 * t)
    >>> round(ei_correlation(e, 0.8 * e + 0.1), 6)
    1.0
    >>> round(ei_correlation(e, -e, inhibition="signed"), 6)
    1.0
    """
    e, i = _currents(exc, inh, axis, inhibition)
    de, di = e - e.mean(axis=0), i - i.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (de * di).sum(axis=0) / np.sqrt((de ** 2).sum(axis=0) * (di ** 2).sum(axis=0))
    rho = np.clip(rho, -1.0, 1.0)   # rounding can overshoot |rho| = 1 by an ulp
    return float(rho) if np.ndim(rho) == 0 else rho


def net_to_total_ratio(exc, inh, axis=0, inhibition="magnitude"):
    r"""Net-to-total current ratio per neuron: 0 for perfect balance, 1 for one-sided drive.

    .. math:: \beta_i = \frac{\big|\langle I_E^i - I_I^i \rangle_t\big|}
                            {\langle |I_E^i| \rangle_t + \langle |I_I^i| \rangle_t}

    Parameters
    ----------
    exc, inh : Quantity or array, or (StateMonitor, (name_e, name_i))
        Excitatory and inhibitory currents of the same shape and unit.
    axis : int
        Time axis.
    inhibition : {'magnitude', 'signed'}
        Whether *inh* is a positive magnitude (homeonet models) or a negative current.

    Returns
    -------
    numpy.ndarray or float
        Ratio in [0, 1] per neuron (NaN where both currents are zero).

    References
    ----------
    Ahmadian Y, Miller KD (2021) What is the dynamical regime of cerebral cortex? Neuron 109:3373-3391
    (balance index :math:`|I_\mathrm{net}| / I_E`); van Vreeswijk C, Sompolinsky H (1996) Science 274:1724.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.array([2.0, 3.0, 4.0])
    >>> net_to_total_ratio(e, e)
    0.0
    >>> net_to_total_ratio(e, np.zeros(3))
    1.0
    >>> round(net_to_total_ratio(e, 0.5 * e), 4)
    0.3333
    """
    e, i = _currents(exc, inh, axis, inhibition)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.abs((e - i).mean(axis=0)) / (np.abs(e).mean(axis=0) + np.abs(i).mean(axis=0))
    return float(beta) if np.ndim(beta) == 0 else beta
