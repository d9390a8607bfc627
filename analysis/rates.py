"""Firing rates from spike trains: per-neuron rates and population rate time courses.

Functions take spike indices and times as arrays (times as Brian2 quantities or
plain seconds) and are vectorised over neurons (``numpy.bincount`` /
``numpy.histogram``), so 10k neurons never mean 10k Python objects.
"""

from __future__ import annotations

import numpy as np
from brian2 import Hz, Quantity, second

from homeonet._validate import HomeonetError, check_count, check_quantity

__all__ = ["firing_rates", "population_rate"]


def _seconds(name, value):
    if isinstance(value, Quantity):
        check_quantity(name, value, second, allow_array=True)
        return np.asarray(value / second, dtype=float)
    return np.asarray(value, dtype=float)


def firing_rates(indices, times, n, t_start=0 * second, t_stop=None):
    r"""Mean firing rate of each neuron over a window.

    .. math:: \nu_i = \frac{\#\{k : i_k = i,\ t_\mathrm{start} \le t_k < t_\mathrm{stop}\}}{t_\mathrm{stop} - t_\mathrm{start}}

    Parameters
    ----------
    indices : array of int
        Neuron index of each spike.
    times : Quantity or array
        Spike times (Brian2 times, or seconds).
    n : int
        Number of neurons (>= 1).
    t_start, t_stop : Quantity or float
        Window; ``t_stop`` is required.

    Returns
    -------
    Quantity
        Rates in Hz, shape ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import second
    >>> firing_rates(np.array([0, 0, 1]), np.array([0.1, 0.5, 0.2]) * second, 3, t_stop=1 * second)
    array([ 2.,  1.,  0.]) * hertz
    """
    n = check_count("n", n)
    if t_stop is None:
        raise HomeonetError("t_stop is required (the end of the window)")
    t0, t1 = float(_seconds("t_start", t_start)), float(_seconds("t_stop", t_stop))
    if not t1 > t0:
        raise HomeonetError(f"t_stop must be after t_start ({t0} s), got {t1} s")
    idx, t = np.asarray(indices), _seconds("times", times)
    keep = (t >= t0) & (t < t1)
    return np.bincount(idx[keep], minlength=n)[:n] / (t1 - t0) * Hz


def population_rate(times, n, duration, bin=0.01 * second, t_start=0 * second):
    r"""Population firing rate in time bins.

    .. math:: R(t_b) = \frac{\#\{\text{spikes in bin } b\}}{N\,\Delta}

    Parameters
    ----------
    times : Quantity or array
        Spike times of the population.
    n : int
        Number of neurons (>= 1).
    duration : Quantity or float
        End of the last bin (relative to 0).
    bin : Quantity
        Bin width :math:`\Delta` (> 0 s).
    t_start : Quantity or float
        Start of the first bin.

    Returns
    -------
    centers : Quantity
        Bin centres (s).
    rate : Quantity
        Population rate in each bin (Hz).
    """
    n = check_count("n", n)
    width = float(check_quantity("bin", bin, second, low=0 * second, low_open=True) / second)
    t0, t1 = float(_seconds("t_start", t_start)), float(_seconds("duration", duration))
    nbins = max(1, int(np.floor((t1 - t0) / width + 1e-9)))
    edges = t0 + width * np.arange(nbins + 1)
    counts, _ = np.histogram(_seconds("times", times), bins=edges)
    return (edges[:-1] + width / 2) * second, counts / (n * width) * Hz
