r"""Firing-rate homeostasis measures from spike trains and rate traces.

Spike data are given as neuron indices and spike times (times as Brian2
quantities or plain seconds), as a Brian2 ``SpikeMonitor``, or as a homeonet
``Results`` with a population name. Everything is vectorised over neurons
(``numpy.bincount``, ``numpy.lexsort`` + ``numpy.diff``, sparse bin counts),
so 10k neurons never mean 10k Python objects.

Output type follows input: time-valued results are Brian2 quantities when the
times were, plain seconds otherwise; rate-valued results of the rate-trace
functions keep the unit of the rates given. :func:`firing_rates` and
:func:`population_rate` always return Hz (their historical interface).
"""

from __future__ import annotations

import numpy as np
from brian2 import Hz, ms, second

from homeonet._validate import _shown, HomeonetError, check_choice, check_count, check_quantity, check_seed

from . import _util

__all__ = ["firing_rates", "population_rate", "smooth_rate", "smoothed_population_rate", "relative_error",
           "fraction_within", "recovery_time", "cv_isi", "fano_factor", "synchrony", "count_correlation",
           "rate_summary"]


def _seconds(name, value):
    """Kept for backward compatibility: times in float seconds."""
    return _util.seconds(name, value)


def firing_rates(indices, times=None, n=None, t_start=0 * second, t_stop=None, *, population=None):
    r"""Mean firing rate of each neuron over a window.

    .. math:: \nu_i = \frac{\#\{k : i_k = i,\ t_\mathrm{start} \le t_k < t_\mathrm{stop}\}}{t_\mathrm{stop} - t_\mathrm{start}}

    Parameters
    ----------
    indices : array of int, SpikeMonitor or Results
        Neuron index of each spike (or a monitor / results holding the spikes).
    times : Quantity or array
        Spike times (Brian2 times, or seconds); not needed for a monitor or results.
    n : int
        Number of neurons (>= 1); not needed for a monitor or results.
    t_start, t_stop : Quantity or float
        Window; ``t_stop`` is required for arrays (default for a monitor or results: the end of what was
        simulated; a window past it is an error, not silence).
    population : str, optional
        Population, when *indices* is a ``Results`` with several.

    Returns
    -------
    Quantity
        Rates in Hz, shape ``(n,)``.

    References
    ----------
    Dayan P, Abbott LF (2001) Theoretical Neuroscience, ch. 1.2. MIT Press.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import second
    >>> firing_rates(np.array([0, 0, 1]), np.array([0.1, 0.5, 0.2]) * second, 3, t_stop=1 * second)
    array([2., 1., 0.]) * hertz
    """
    idx, t, n, _, default_stop = _util.spikes(indices, times, n, population)
    t0, t1 = _util.window(t, t_start, t_stop, default_stop)
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

    References
    ----------
    Dayan P, Abbott LF (2001) Theoretical Neuroscience, ch. 1.2. MIT Press.

    Examples
    --------
    >>> from brian2 import second, ms
    >>> t, r = population_rate([0.01, 0.02, 0.15] * second, 2, 0.2 * second, bin=100 * ms)
    >>> t / second
    array([0.05, 0.15])
    >>> r
    array([10.,  5.]) * hertz
    """
    n = check_count("n", n)
    width = float(check_quantity("bin", bin, second, low=0 * second, low_open=True) / second)
    t0 = float(_util.seconds("t_start", t_start, allow_array=False))
    t1 = float(_util.seconds("duration", duration, allow_array=False))
    if not t1 > t0:
        raise HomeonetError(f"duration must end after t_start ({t0:g} s), got {t1:g} s")
    if width > (t1 - t0) * (1 + 1e-9):  # one bin reaching past the end would divide its spikes by too long a time
        raise HomeonetError(f"bin must fit at least once into the window ({t1 - t0:g} s), got {width:g} s")
    nbins = max(1, int(np.floor((t1 - t0) / width + 1e-9)))
    edges = t0 + width * np.arange(nbins + 1)
    counts, _ = np.histogram(_util.seconds("times", times), bins=edges)
    return (edges[:-1] + width / 2) * second, counts / (n * width) * Hz


def smooth_rate(rate, dt, width, kernel="gaussian"):
    r"""Smooth a regularly sampled rate (along its first axis) with a Gaussian or box kernel.

    .. math:: \tilde r(t) = \sum_s K(s)\, r(t - s), \qquad
              K(s) \propto e^{-s^2 / 2\sigma^2} \ \text{(gaussian, } \sigma = \text{width)}
              \quad\text{or}\quad \mathbb{1}_{|s| \le w/2} \ \text{(box, } w = \text{width)}

    Edges are handled by reflection (``scipy.ndimage``), so a constant rate stays constant.

    Parameters
    ----------
    rate : Quantity or array
        Samples, shape ``(T,)`` or ``(T, N)``.
    dt : Quantity or float
        Sampling step (> 0 s).
    width : Quantity or float
        Kernel width: the s.d. of the Gaussian, or the box length (> 0 s).
    kernel : {'gaussian', 'box'}
        Kernel shape.

    Returns
    -------
    Quantity or numpy.ndarray
        Smoothed rate, same shape and unit as *rate*.

    References
    ----------
    Nawrot M, Aertsen A, Rotter S (1999) Single-trial estimation of neuronal firing rates.
    J Neurosci Methods 94:81-92.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import ms
    >>> r = np.zeros(11); r[5] = 10.0
    >>> np.round(smooth_rate(r, 1 * ms, 3 * ms, kernel="box"), 2)
    array([0.  , 0.  , 0.  , 0.  , 3.33, 3.33, 3.33, 0.  , 0.  , 0.  , 0.  ])
    """
    from scipy.ndimage import gaussian_filter1d, uniform_filter1d

    arr, unit = _util.values("rate", rate, ndim=(1, 2))
    step = _util.positive_time("dt", dt)
    w = _util.positive_time("width", width)
    check_choice("kernel", kernel, ("gaussian", "box"))
    if kernel == "gaussian":
        out = gaussian_filter1d(arr, w / step, axis=0, mode="reflect")
    else:
        size = max(1, int(round(w / step)))
        out = uniform_filter1d(arr, size, axis=0, mode="reflect")
    return _util.attach(out, unit)


def smoothed_population_rate(times, n, duration, bin=1 * ms, width=20 * ms, kernel="gaussian",
                             t_start=0 * second):
    r"""Population rate in fine bins, smoothed with a kernel.

    .. math:: \tilde R(t) = (K * R)(t), \qquad R(t_b) = \frac{\#\{\text{spikes in bin } b\}}{N\,\Delta}

    Parameters
    ----------
    times : Quantity or array
        Spike times of the population.
    n : int
        Number of neurons (>= 1).
    duration : Quantity or float
        End of the last bin.
    bin : Quantity
        Bin width (> 0 s).
    width : Quantity or float
        Kernel width (see :func:`smooth_rate`).
    kernel : {'gaussian', 'box'}
        Kernel shape.
    t_start : Quantity or float
        Start of the first bin.

    Returns
    -------
    centers : Quantity
        Bin centres (s).
    rate : Quantity
        Smoothed population rate (Hz).

    References
    ----------
    Nawrot M, Aertsen A, Rotter S (1999) J Neurosci Methods 94:81-92.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import second, ms
    >>> rng = np.random.default_rng(0)
    >>> t = np.sort(rng.uniform(0, 2, 2000))          # 100 neurons x 10 Hz for 2 s
    >>> c, r = smoothed_population_rate(t, 100, 2 * second, width=50 * ms)
    >>> bool(abs(float(np.mean(r / Hz)) - 10) < 0.5)
    True
    """
    centers, rate = population_rate(times, n, duration, bin=bin, t_start=t_start)
    return centers, smooth_rate(rate, bin, width, kernel)


def relative_error(rates, target):
    r"""Relative deviation of rates from a target.

    .. math:: \epsilon_i = \frac{\nu_i - \nu^*}{\nu^*}

    Parameters
    ----------
    rates : Quantity or array
        Rates (any shape).
    target : Quantity or float
        Target rate (> 0), in the units of *rates*.

    Returns
    -------
    numpy.ndarray or float
        Dimensionless signed error, the shape of *rates*.

    References
    ----------
    Turrigiano GG, Nelson SB (2004) Homeostatic plasticity in the developing nervous system.
    Nat Rev Neurosci 5:97-107.

    Examples
    --------
    >>> from brian2 import Hz
    >>> relative_error([4.0, 5.0, 7.5] * Hz, 5 * Hz)
    array([-0.2,  0. ,  0.5])
    """
    arr, unit = _util.values("rates", rates)
    tgt, tunit = _util.values("target", target)
    _util.same_unit("target", tunit, "rates", unit)
    if tgt.ndim or not tgt > 0:
        raise HomeonetError(f"target must be a single rate > 0, got {_shown(target)}")
    out = (arr - float(tgt)) / float(tgt)
    return float(out) if out.ndim == 0 else out


def fraction_within(rates, target, tolerance=0.1):
    r"""Fraction of rates within a relative band around the target.

    .. math:: f = \frac{1}{N} \#\{ i : |\nu_i - \nu^*| \le \delta\,\nu^* \}

    Parameters
    ----------
    rates : Quantity or array
        Rates, shape ``(N,)`` (or any shape; all entries count).
    target : Quantity or float
        Target rate (> 0), in the units of *rates*.
    tolerance : float
        Relative half-width :math:`\delta` of the band (> 0).

    Returns
    -------
    float
        Fraction in [0, 1].

    References
    ----------
    Turrigiano GG, Nelson SB (2004) Nat Rev Neurosci 5:97-107.

    Examples
    --------
    >>> from brian2 import Hz
    >>> fraction_within([4.0, 5.0, 5.4, 9.0] * Hz, 5 * Hz, tolerance=0.1)
    0.5
    """
    tol = _util.fraction("tolerance", tolerance, low=0, high=np.inf, low_open=True)
    err = np.atleast_1d(relative_error(rates, target))
    return float(np.mean(np.abs(err) <= tol + 1e-12))


def recovery_time(times, rate, target, onset, tolerance=0.1, hold=None):
    r"""Time from a perturbation until the rate enters the target band and stays in it.

    With :math:`B = \{ r : |r - \nu^*| \le \delta \nu^* \}` and samples :math:`t_k \ge t_\mathrm{on}`,

    .. math:: T_\mathrm{rec} = \min\{ t_k : r(t_j) \in B \ \forall\, t_j \in [t_k, t_k + h] \} - t_\mathrm{on}

    where :math:`h` is *hold*, or the rest of the record when *hold* is None
    (then the rate must stay in the band until the end).

    Parameters
    ----------
    times : Quantity or array
        Sample times, shape ``(T,)``, increasing.
    rate : Quantity or array
        Population rate ``(T,)``, or per-neuron rates ``(T, N)`` (one recovery time per column).
    target : Quantity or float
        Target rate (> 0), in the units of *rate*.
    onset : Quantity or float
        Time of the perturbation.
    tolerance : float
        Relative half-width :math:`\delta` of the band (> 0).
    hold : Quantity or float, optional
        How long the rate must stay in the band (>= 0 s); default: until the end.

    Returns
    -------
    Quantity or float or numpy.ndarray
        Recovery time(s) after *onset*; NaN where the rate never recovers. A
        Quantity when *times* is one, seconds otherwise.

    Raises
    ------
    HomeonetError
        Inputs of the wrong shape or unit, an *onset* after the last sample, or a *hold*
        longer than the record after the onset (the answer would read as "never recovered").

    References
    ----------
    Turrigiano GG, Leslie KR, Desai NS, Rutherford LC, Nelson SB (1998) Activity-dependent scaling of
    quantal amplitude in neocortical neurons. Nature 391:892-896.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(10.0)
    >>> r = np.array([5, 5, 1, 2, 4.8, 6, 5.2, 5, 4.9, 5.1])
    >>> recovery_time(t, r, 5.0, onset=2.0)        # leaves the band again at t=5
    4.0
    >>> recovery_time(t, r, 5.0, onset=2.0, hold=0.0)
    2.0
    """
    t, tunit_in = _util.values("times", times, ndim=1)
    quantity_in = tunit_in is not None
    if quantity_in:
        t = _util.seconds("times", times)
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise HomeonetError("times must be strictly increasing")
    r, runit = _util.values("rate", rate, ndim=(1, 2))
    if r.shape[0] != t.size:
        raise HomeonetError(f"rate must have one row per time sample ({t.size}), got shape {r.shape}")
    tgt, tunit = _util.values("target", target)
    _util.same_unit("target", tunit, "rate", runit)
    if tgt.ndim or not tgt > 0:
        raise HomeonetError(f"target must be a single rate > 0, got {_shown(target)}")
    tol = _util.fraction("tolerance", tolerance, low=0, high=np.inf, low_open=True)
    t_on = float(_util.seconds("onset", onset, allow_array=False))
    _util.onset_within(t, t_on)
    h = None if hold is None else _util.positive_time("hold", hold, allow_zero=True)
    if h is not None and h > t[-1] - t_on + 1e-12:  # no stretch of the record could hold that long
        raise HomeonetError(f"hold must be at most the record after the onset ({t[-1] - t_on:g} s), got {h:g} s")
    one_d = r.ndim == 1
    r2 = r.reshape(t.size, -1)
    start = int(np.searchsorted(t, t_on - 1e-12))
    ts, inside = t[start:], np.abs(r2[start:] - float(tgt)) <= tol * float(tgt) + 1e-12
    L = ts.size
    if h is None:
        rev = ~inside[::-1]
        any_out = rev.any(axis=0)
        k = np.where(any_out, L - np.argmax(rev, axis=0), 0)
        out = np.where(k < L, ts[np.minimum(k, L - 1)] - t_on, np.nan)
    else:
        pos = np.where(inside, L, np.arange(L)[:, None])            # index of an outside sample, else L
        next_out = np.minimum.accumulate(pos[::-1], axis=0)[::-1]     # first outside sample at or after k
        last_in = np.clip(next_out - 1, 0, L - 1)
        ok = inside & (ts[last_in] - ts[:, None] >= h - 1e-12)
        k = np.argmax(ok, axis=0)
        out = np.where(ok.any(axis=0), ts[k] - t_on, np.nan)
    out = float(out[0]) if one_d else out
    return out * second if quantity_in else out


def cv_isi(indices, times=None, n=None, min_spikes=3, *, population=None):
    r"""Coefficient of variation of the inter-spike intervals of each neuron.

    .. math:: \mathrm{CV}_i = \frac{\sigma(\mathrm{ISI}_i)}{\langle \mathrm{ISI}_i \rangle}

    with the population s.d. (``ddof=0``, as ``elephant.statistics.cv``). 1 for a
    Poisson process, 0 for a regular train.

    Parameters
    ----------
    indices : array of int, SpikeMonitor or Results
        Neuron index of each spike (or a monitor / results).
    times : Quantity or array
        Spike times.
    n : int
        Number of neurons.
    min_spikes : int
        Neurons with fewer spikes get NaN (>= 3: at least two intervals).
    population : str, optional
        Population of a ``Results``.

    Returns
    -------
    numpy.ndarray
        CV of each neuron, shape ``(n,)``.

    References
    ----------
    Softky WR, Koch C (1993) The highly irregular firing of cortical cells is inconsistent with temporal
    integration of random EPSPs. J Neurosci 13:334-350.

    Examples
    --------
    >>> import numpy as np
    >>> idx = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> t = np.array([0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.5, 0.6])
    >>> np.round(cv_isi(idx, t, 3), 3)
    array([0.   , 0.566,   nan])
    """
    idx, t, n, _, _ = _util.spikes(indices, times, n, population)
    min_spikes = check_count("min_spikes", min_spikes, minimum=3)
    idx, t = _util.sorted_spikes(idx, t)
    same = idx[1:] == idx[:-1]
    owner, isi = idx[1:][same], np.diff(t)[same]
    cnt = np.bincount(owner, minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(owner, isi, minlength=n) / cnt
        var = np.bincount(owner, (isi - mean[owner]) ** 2, minlength=n) / cnt
        cv = np.sqrt(var) / mean
    cv[cnt < min_spikes - 1] = np.nan
    return cv


def _counts_window(indices, times, n, bin, t_start, t_stop, population):
    idx, t, n, _, default_stop = _util.spikes(indices, times, n, population)
    t0, t1 = _util.window(t, t_start, t_stop, default_stop)
    width = _util.positive_time("bin", bin)
    nbins = int(np.floor((t1 - t0) / width + 1e-9))
    if nbins < 2:
        raise HomeonetError(f"bin must fit at least twice into the window ({t1 - t0:g} s), got {width:g} s")
    return idx, t, n, t0, width, nbins


def fano_factor(indices, times=None, n=None, bin=100 * ms, t_start=0 * second, t_stop=None, *, population=None):
    r"""Fano factor of each neuron's spike counts in consecutive windows.

    .. math:: F_i = \frac{\mathrm{Var}_b[c_{ib}]}{\mathrm{E}_b[c_{ib}]}

    (``ddof=0``, as ``elephant.statistics.fanofactor``). 1 for a Poisson process.

    Parameters
    ----------
    indices : array of int, SpikeMonitor or Results
        Neuron index of each spike (or a monitor / results).
    times : Quantity or array
        Spike times.
    n : int
        Number of neurons.
    bin : Quantity or float
        Counting window (> 0 s; at least two must fit in the analysed window).
    t_start, t_stop : Quantity or float
        Analysed window (``t_stop`` required for arrays; for a monitor or results at most, and by default,
        the end of what was simulated).
    population : str, optional
        Population of a ``Results``.

    Returns
    -------
    numpy.ndarray
        Fano factor of each neuron, NaN for silent neurons, shape ``(n,)``.

    References
    ----------
    Fano U (1947) Ionization yield of radiations. Phys Rev 72:26-29; Shadlen MN, Newsome WT (1998)
    J Neurosci 18:3870-3896.

    Examples
    --------
    >>> import numpy as np
    >>> idx = np.array([0, 0, 0, 0, 1, 1])
    >>> t = np.array([0.05, 0.15, 0.25, 0.35, 0.05, 0.06])
    >>> fano_factor(idx, t, 3, bin=0.1, t_stop=0.4)
    array([0. , 1.5, nan])
    """
    idx, t, n, t0, width, nbins = _counts_window(indices, times, n, bin, t_start, t_stop, population)
    who, _, c = _util.binned_counts(idx, t, n, t0, width, nbins)
    mean = np.bincount(who, c, minlength=n) / nbins
    second_moment = np.bincount(who, c.astype(float) ** 2, minlength=n) / nbins
    with np.errstate(invalid="ignore", divide="ignore"):
        ff = (second_moment - mean ** 2) / mean
    ff[mean == 0] = np.nan
    return np.maximum(ff, 0.0, where=np.isfinite(ff), out=ff)


def synchrony(indices, times=None, n=None, bin=5 * ms, t_start=0 * second, t_stop=None, *, population=None):
    r"""Golomb's synchrony measure :math:`\chi` from binned spike counts.

    .. math:: \chi^2 = \frac{\mathrm{Var}_t\!\left[\frac{1}{N}\sum_i c_i(t)\right]}
                            {\frac{1}{N}\sum_i \mathrm{Var}_t[c_i(t)]}

    :math:`\chi = 1` for identical trains; for independent trains
    :math:`\chi \approx 1/\sqrt{N}`.

    Parameters
    ----------
    indices : array of int, SpikeMonitor or Results
        Neuron index of each spike (or a monitor / results).
    times : Quantity or array
        Spike times.
    n : int
        Number of neurons (>= 2).
    bin : Quantity or float
        Bin of the counts :math:`c_i(t)` (> 0 s).
    t_start, t_stop : Quantity or float
        Analysed window.
    population : str, optional
        Population of a ``Results``.

    Returns
    -------
    float
        :math:`\chi` in [0, 1] (NaN if all neurons are silent).

    References
    ----------
    Golomb D (2007) Neuronal synchrony measures. Scholarpedia 2:1347; Golomb D, Rinzel J (1993)
    Phys Rev E 48:4810.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.repeat([0.01, 0.03, 0.07], 4)            # 4 neurons firing together
    >>> idx = np.tile(np.arange(4), 3)
    >>> round(synchrony(idx, t, 4, bin=0.01, t_stop=0.1), 6)
    1.0
    """
    idx, t, n, t0, width, nbins = _counts_window(indices, times, n, bin, t_start, t_stop, population)
    if n < 2:
        raise HomeonetError(f"n must be an integer >= 2 for a synchrony measure, got {n}")
    who, b, c = _util.binned_counts(idx, t, n, t0, width, nbins)
    pop = np.bincount(b, c, minlength=nbins) / n
    var_pop = np.var(pop)
    mean_i = np.bincount(who, c, minlength=n) / nbins
    var_i = np.bincount(who, c.astype(float) ** 2, minlength=n) / nbins - mean_i ** 2
    denom = float(np.mean(var_i))
    if denom <= 0:
        return float("nan")
    return float(np.sqrt(min(1.0, max(0.0, var_pop / denom))))


def count_correlation(indices, times=None, n=None, bin=50 * ms, t_start=0 * second, t_stop=None,
                      max_neurons=500, seed=0, *, population=None):
    r"""Mean pairwise Pearson correlation of binned spike counts.

    .. math:: \bar\rho = \frac{2}{M(M-1)} \sum_{i<j} \mathrm{corr}_t\big(c_i(t), c_j(t)\big)

    over :math:`M` = min(N, *max_neurons*) randomly chosen active neurons.

    Parameters
    ----------
    indices : array of int, SpikeMonitor or Results
        Neuron index of each spike (or a monitor / results).
    times : Quantity or array
        Spike times.
    n : int
        Number of neurons.
    bin : Quantity or float
        Counting window (> 0 s).
    t_start, t_stop : Quantity or float
        Analysed window.
    max_neurons : int
        Cap on :math:`M` (the cost is :math:`O(M^2 \times \text{bins})`).
    seed : int
        Seed of the neuron subsample.
    population : str, optional
        Population of a ``Results``.

    Returns
    -------
    float
        Mean correlation (NaN with fewer than two active neurons).

    References
    ----------
    Cohen MR, Kohn A (2011) Measuring and interpreting neuronal correlations. Nat Neurosci 14:811-819.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.repeat([0.01, 0.03, 0.07, 0.12], 3)
    >>> idx = np.tile(np.arange(3), 4)
    >>> round(count_correlation(idx, t, 3, bin=0.02, t_stop=0.2), 6)
    1.0
    """
    idx, t, n, t0, width, nbins = _counts_window(indices, times, n, bin, t_start, t_stop, population)
    max_neurons = check_count("max_neurons", max_neurons, minimum=2)
    seed = check_seed("seed", seed)
    who, b, c = _util.binned_counts(idx, t, n, t0, width, nbins)
    active = np.unique(who)
    if active.size < 2:
        return float("nan")
    if active.size > max_neurons:
        active = np.sort(np.random.default_rng(seed).choice(active, max_neurons, replace=False))
    row = np.searchsorted(active, who)
    sel = (row < active.size) & (active[np.minimum(row, active.size - 1)] == who)
    dense = np.zeros((active.size, nbins))
    dense[row[sel], b[sel]] = c[sel]
    with np.errstate(invalid="ignore", divide="ignore"):
        cc = np.corrcoef(dense)
    off = cc[~np.eye(active.size, dtype=bool)]
    off = off[np.isfinite(off)]
    return float(np.mean(off)) if off.size else float("nan")


def rate_summary(rates, silent=0.0):
    r"""Summary of a distribution of per-neuron rates.

    .. math:: \bar\nu = \frac{1}{N}\sum_i \nu_i,\quad \mathrm{CV}_\nu = \frac{\sigma_\nu}{\bar\nu},\quad
              f_\mathrm{silent} = \frac{1}{N}\#\{i: \nu_i \le \nu_\mathrm{silent}\}

    plus the median and the 5/25/75/95 % quantiles.

    Parameters
    ----------
    rates : Quantity or array
        Per-neuron rates, shape ``(N,)`` (N >= 1).
    silent : Quantity or float
        Rates at or below this count as silent (units of *rates*).

    Returns
    -------
    dict
        ``mean``, ``std``, ``median``, ``q05``, ``q25``, ``q75``, ``q95`` (units of *rates*),
        ``cv``, ``fraction_silent`` and ``n`` (plain numbers).

    References
    ----------
    Buzsaki G, Mizuseki K (2014) The log-dynamic brain: how skewed distributions affect network
    operations. Nat Rev Neurosci 15:264-278.

    Examples
    --------
    >>> from brian2 import Hz
    >>> s = rate_summary([0.0, 2.0, 4.0, 6.0] * Hz)
    >>> s["mean"], s["median"], s["fraction_silent"]
    (3. * hertz, 3. * hertz, 0.25)
    """
    arr, unit = _util.values("rates", rates, ndim=1)
    thr, sunit = _util.values("silent", silent)
    if unit is not None and sunit is None and float(thr) == 0.0:
        sunit = unit
    _util.same_unit("silent", sunit, "rates", unit)
    q = np.quantile(arr, [0.05, 0.25, 0.5, 0.75, 0.95])
    mean, std = float(np.mean(arr)), float(np.std(arr))
    out = {"mean": mean, "std": std, "median": q[2], "q05": q[0], "q25": q[1], "q75": q[3], "q95": q[4]}
    out = {k: (float(v) if unit is None else float(v) * unit) for k, v in out.items()}
    out["cv"] = std / mean if mean > 0 else float("nan")
    out["fraction_silent"] = float(np.mean(arr <= float(thr)))
    out["n"] = int(arr.size)
    return out
