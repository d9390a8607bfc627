r"""Stability of homeostatic control: oscillation, overshoot, bursts, runaway, and the per-point measure set.

Plain vectorised functions on regularly sampled rates (a population rate ``(T,)`` or per-neuron
traces ``(T, N)``), plus :func:`tradeoff_measures`, which computes every measure of one point of
the trade-off map (:mod:`homeonet.tradeoffs`) from a :class:`homeonet.Results`: recovery, residual
error, overshoot, oscillation, stability of the spiking, coding capacity before the perturbation
and after recovery, and the heterogeneity of rates across neurons.

Output type follows input: rate-valued results keep the unit of the rates given; lags are
Brian2 times when the sampling step was one, seconds otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from brian2 import Hz, ms, second

from homeonet._validate import HomeonetError

from . import _util

__all__ = ["autocorrelation", "oscillation_index", "temporal_cv", "overshoot", "burst_index", "trace_synchrony",
           "runaway", "population_activity", "tradeoff_measures", "TRADEOFF_MEASURES"]


def autocorrelation(signal, max_lag=None):
    r"""Autocorrelation of a regularly sampled signal (mean removed), at lags ``0 .. max_lag`` samples.

    .. math:: \rho(k) = \frac{\sum_{t=0}^{T-1-k} \tilde x_t \tilde x_{t+k}}{\sum_{t=0}^{T-1} \tilde x_t^2},
              \qquad \tilde x = x - \bar x

    (the standard biased estimator, :math:`|\rho(k)| \le 1`, computed with an FFT by
    ``scipy.signal.correlate``). For a sinusoid of period :math:`P` sampled over :math:`T`,
    :math:`\rho(P) = 1 - P/T`.

    Parameters
    ----------
    signal : Quantity or array
        Samples, shape ``(T,)`` (T >= 2).
    max_lag : int, optional
        Largest lag in samples (default ``T - 1``).

    Returns
    -------
    numpy.ndarray
        :math:`\rho(0..\mathrm{max\_lag})`, :math:`\rho(0) = 1`; all NaN for a constant signal.

    References
    ----------
    Box GEP, Jenkins GM, Reinsel GC (2008) Time Series Analysis, 4th ed., ch. 2. Wiley.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1000)
    >>> rho = autocorrelation(np.sin(2 * np.pi * t / 100))
    >>> round(float(rho[100]), 3)            # one period: 1 - 100/1000
    0.9
    """
    from scipy.signal import correlate

    x, _ = _util.values("signal", signal, ndim=1, min_size=2)
    T = x.size
    max_lag = T - 1 if max_lag is None else int(max_lag)
    if not 0 <= max_lag < T:
        raise HomeonetError(f"max_lag must be in [0, {T - 1}] samples, got {max_lag}")
    x = x - x.mean()
    energy = float(np.dot(x, x))
    if energy <= 0:
        return np.full(max_lag + 1, np.nan)
    full = correlate(x, x, mode="full", method="fft")[T - 1:T + max_lag]
    return full / energy


def oscillation_index(rate, dt):
    r"""Peak of the rate's autocorrelation beyond its first zero crossing, and the lag of that peak.

    .. math:: O = \max_{k > k_0} \rho(k), \qquad k_0 = \min\{k : \rho(k) \le 0\}

    :math:`O` is near 1 for a sustained oscillation (at lag one period; :math:`1 - P/T` for a
    sinusoid observed over :math:`T`), small or negative for a relaxation or for noise.

    Parameters
    ----------
    rate : Quantity or array
        Regularly sampled rate, shape ``(T,)``.
    dt : Quantity or float
        Sampling step (> 0 s).

    Returns
    -------
    peak : float
        :math:`O` (NaN when the autocorrelation never crosses zero, or the signal is constant).
    lag : Quantity or float
        Lag of the peak: a Brian2 time when *dt* was one, seconds otherwise (NaN with *peak*).

    References
    ----------
    Box GEP, Jenkins GM, Reinsel GC (2008) Time Series Analysis, 4th ed., ch. 2. Wiley;
    Harnack D, Pelko M, Chaillet A, Chitour Y, van Rossum MCW (2015) Stability of neuronal networks with
    homeostatic regulation. PLoS Comput Biol 11:e1004357 (non-abating oscillations).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 10, 0.01)
    >>> peak, lag = oscillation_index(5 + np.sin(2 * np.pi * t / 2.0), 0.01)
    >>> round(peak, 2), round(lag, 2)
    (0.8, 2.0)
    """
    step = _util.positive_time("dt", dt)
    rho = autocorrelation(rate)
    quantity_in = _util.is_quantity(dt)
    nan = (math.nan * second) if quantity_in else math.nan
    if not np.isfinite(rho[0]):
        return math.nan, nan
    below = np.flatnonzero(rho <= 0)
    if below.size == 0 or below[0] >= rho.size - 1:
        return math.nan, nan
    k = int(below[0] + np.argmax(rho[below[0]:]))
    lag = k * step
    return float(rho[k]), (lag * second if quantity_in else lag)


def temporal_cv(rate):
    r"""Coefficient of variation over time of a rate (or of each column of ``(T, N)`` traces).

    .. math:: \mathrm{CV}_t = \frac{\sigma_t[r(t)]}{\langle r(t) \rangle_t}

    (population s.d., ``ddof=0``).

    Parameters
    ----------
    rate : Quantity or array
        Samples, shape ``(T,)`` or ``(T, N)`` (T >= 2).

    Returns
    -------
    float or numpy.ndarray
        CV (NaN where the mean is 0).

    References
    ----------
    Harnack D et al. (2015) PLoS Comput Biol 11:e1004357.

    Examples
    --------
    >>> temporal_cv([4.0, 6.0, 4.0, 6.0])
    0.2
    """
    r, _ = _util.values("rate", rate, ndim=(1, 2), min_size=2)
    mean = r.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean != 0, r.std(axis=0) / np.where(mean != 0, mean, 1), np.nan)
    return float(cv) if np.ndim(cv) == 0 else cv


def overshoot(times, rate, target, onset, probe=None):
    r"""Largest excursion past the target, on the side opposite to the perturbation's, after the onset.

    With :math:`d = \mathrm{sign}(\langle r \rangle_{[t_\mathrm{on}, t_\mathrm{on} + p)} - \nu^*)` the
    direction in which the perturbation moved the rate (its mean over the first *probe* after the
    onset),

    .. math:: \mathrm{OS} = \max\Big(0,\ \max_{t \ge t_\mathrm{on}} \frac{-d\,(r(t) - \nu^*)}{\nu^*}\Big)

    e.g. a deprivation lowers the rate and a recovery that rises 20 % above the target has
    :math:`\mathrm{OS} = 0.2`; a monotone recovery has 0.

    Parameters
    ----------
    times : Quantity or array
        Sample times ``(T,)``, increasing.
    rate : Quantity or array
        Rate ``(T,)`` (smooth it first: noise alone makes excursions).
    target : Quantity or float
        Set point (> 0), in the units of *rate*.
    onset : Quantity or float
        Time of the perturbation.
    probe : Quantity or float, optional
        Window after the onset that gives the direction (default: a tenth of the rest of the record).

    Returns
    -------
    float
        Relative overshoot (>= 0; NaN when the probe window sits exactly on the target).

    Raises
    ------
    HomeonetError
        Inputs of the wrong shape or unit, or an *onset* after the last sample.

    References
    ----------
    Ogata K (2010) Modern Control Engineering, 5th ed., ch. 5 (maximum overshoot). Prentice Hall.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(10.0)
    >>> overshoot(t, np.array([5, 5, 3, 3.5, 4.5, 6, 5.5, 5, 5, 5]), 5.0, onset=2.0, probe=2.0)
    0.2
    """
    t = _util.seconds("times", times)
    r, runit = _util.values("rate", rate, ndim=1)
    tgt, tunit = _util.values("target", target)
    _util.same_unit("target", tunit, "rate", runit)
    if r.shape != t.shape:
        raise HomeonetError(f"rate must have one value per time ({t.size}), got shape {r.shape}")
    if tgt.ndim or not tgt > 0:
        raise HomeonetError(f"target must be a single rate > 0, got {target!r}")
    t_on = float(_util.seconds("onset", onset, allow_array=False))
    _util.onset_within(t, t_on)
    after = t >= t_on - 1e-12
    ta, ra = t[after], r[after]
    p = (ta[-1] - t_on) / 10 if probe is None else _util.positive_time("probe", probe)
    first = ra[ta < t_on + max(p, 1e-12)]
    first = first if first.size else ra[:1]
    d = np.sign(np.mean(first) - float(tgt))
    if d == 0:
        return math.nan
    return float(max(0.0, np.max(-d * (ra - float(tgt)) / float(tgt))))


def burst_index(activity, fraction=0.15):
    r"""Network burst index of Wagenaar et al. (2005) from binned population activity.

    With :math:`k = \max(1, \mathrm{round}(f\,B))` the most active of :math:`B` bins and
    :math:`f_k` their share of the total activity,

    .. math:: \mathrm{BI} = \frac{f_k - k/B}{1 - k/B}

    0 for activity spread evenly over time, 1 when all activity falls in :math:`k` bins.
    Wagenaar et al. use spike counts in 200 ms bins and :math:`f` = 15 % (then
    :math:`k/B = 0.15` and BI = (f15 - 0.15)/0.85, their definition).

    Parameters
    ----------
    activity : Quantity or array
        Population spike counts (or rates) per bin, shape ``(B,)`` (>= 0, B >= 2).
    fraction : float
        :math:`f`, the fraction of bins counted as the most active, in (0, 1).

    Returns
    -------
    float
        BI (NaN when there is no activity).

    References
    ----------
    Wagenaar DA, Madhavan R, Pine J, Potter SM (2005) Controlling bursting in cortical cultures with
    closed-loop multi-electrode stimulation. J Neurosci 25:680-688.

    Examples
    --------
    >>> burst_index([0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    1.0
    >>> burst_index([3.0] * 20)
    0.0
    """
    a, _ = _util.values("activity", activity, ndim=1, min_size=2)
    if np.any(a < 0):
        raise HomeonetError("activity must be >= 0 (counts or rates per bin)")
    f = _util.fraction("fraction", fraction, low=0, high=1, low_open=True, high_open=True)
    total = a.sum()
    if total <= 0:
        return math.nan
    B = a.size
    k = max(1, int(round(f * B)))
    share = np.sort(a)[::-1][:k].sum() / total
    base = k / B
    return float((share - base) / (1 - base)) if base < 1 else math.nan


def trace_synchrony(traces):
    r"""Golomb's synchrony measure :math:`\chi` of continuous traces (rates or potentials).

    .. math:: \chi^2 = \frac{\mathrm{Var}_t\!\left[\frac{1}{N}\sum_i x_i(t)\right]}
                            {\frac{1}{N}\sum_i \mathrm{Var}_t[x_i(t)]}

    1 for identical traces, about :math:`1/\sqrt{N}` for independent ones (the spike-count
    form is :func:`homeonet.analysis.synchrony`).

    Parameters
    ----------
    traces : Quantity or array
        Shape ``(T, N)`` (T >= 2, N >= 2).

    Returns
    -------
    float
        :math:`\chi` in [0, 1] (NaN when every trace is constant).

    References
    ----------
    Golomb D (2007) Neuronal synchrony measures. Scholarpedia 2:1347.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(np.linspace(0, 6, 50))[:, None] * np.ones((1, 4))
    >>> round(trace_synchrony(x), 6)
    1.0
    """
    x, _ = _util.values("traces", traces, ndim=2, min_size=4)
    if x.shape[0] < 2 or x.shape[1] < 2:
        raise HomeonetError(f"traces must have >= 2 samples and >= 2 units, got shape {x.shape}")
    denom = float(np.mean(np.var(x, axis=0)))
    if denom <= 0:
        return math.nan
    return float(np.sqrt(min(1.0, float(np.var(x.mean(axis=1))) / denom)))


def runaway(rate, target, factor=10.0):
    r"""Whether activity ran away: a rate that is not finite, or above *factor* times the set point.

    .. math:: \mathrm{runaway} = \big[\exists t: r(t) \notin \mathbb{R} \ \lor\ r(t) > F\,\nu^*\big]

    Parameters
    ----------
    rate : Quantity or array
        Rate samples (any shape; smooth a spiking population rate first).
    target : Quantity or float
        Set point (> 0), in the units of *rate*.
    factor : float
        :math:`F` (> 1).

    Returns
    -------
    bool

    References
    ----------
    Zenke F, Hennequin G, Gerstner W (2013) Synaptic plasticity in neural networks needs homeostasis with
    a fast rate detector. PLoS Comput Biol 9:e1003330.

    Examples
    --------
    >>> runaway([5.0, 6.0, 80.0], 5.0)
    True
    >>> runaway([5.0, 6.0, 7.0], 5.0)
    False
    """
    r, runit = _util.values("rate", rate, finite=False)
    tgt, tunit = _util.values("target", target)
    _util.same_unit("target", tunit, "rate", runit)
    if tgt.ndim or not tgt > 0:
        raise HomeonetError(f"target must be a single rate > 0, got {target!r}")
    F = _util.fraction("factor", factor, low=1, high=np.inf, low_open=True)
    return bool((not np.all(np.isfinite(r))) or np.any(r > F * float(tgt)))


# -- the per-point measure set -------------------------------------------------------------------------------------

#: Names of the measures :func:`tradeoff_measures` returns, in order (all floats; flags are 0/1).
TRADEOFF_MEASURES = (
    "rate_before", "rate_end", "recovery_time", "residual_error", "overshoot", "rate_cv_time",
    "oscillation_index", "oscillation_period", "cv_isi", "synchrony", "burst_index", "runaway",
    "rate_heterogeneity_before", "rate_heterogeneity_end",
    "usage_entropy_before", "usage_entropy_end", "decoding_accuracy_before", "decoding_accuracy_end",
    "participation_ratio_before", "participation_ratio_end", "mutual_information_before",
    "mutual_information_end", "wall_time_per_second")


def population_activity(results, population):
    r"""The population rate of a spiking or rate population, and each neuron's rate trace if recorded.

    Parameters
    ----------
    results : homeonet.Results
        A run.
    population : str
        A population with recorded spikes, or with a recorded rate trace ``<population>_r``.

    Returns
    -------
    times : numpy.ndarray
        Sample times (s), shape ``(T,)``.
    rate : numpy.ndarray
        Population rate (Hz), shape ``(T,)``: the stored binned rate of spiking populations, the
        mean of the traces of rate populations.
    traces : numpy.ndarray or None
        Per-neuron rates ``(T, N)`` of a rate population; None for a spiking one.

    References
    ----------
    Dayan P, Abbott LF (2001) Theoretical Neuroscience, ch. 1.2. MIT Press.
    """
    ds = results.dataset
    if population in results.populations:
        return np.asarray(ds["time"].values, float), np.asarray(ds[f"rate_{population}"].values, float), None
    key = f"{population}_r"
    if key not in ds:
        raise HomeonetError(f"population must have recorded spikes or a rate trace '{key}'; got {population!r}")
    trace = ds[key]
    r = np.asarray(trace.values, float)
    return np.asarray(ds[trace.dims[0]].values, float), r.mean(axis=1), r


def _attr(attrs, key, given):
    if given is not None:
        return given
    if key not in attrs:
        raise HomeonetError(f"{key} must be given (the results have no '{key}' attribute)")
    return attrs[key]


def _coding(results, population, onsets, labels, duration, offset, window):
    """Coding measures of the presentations that lie entirely in *window* (s)."""
    from .coding import (decoding_accuracy, mutual_information, participation_ratio, response_matrix,
                         usage_entropy)

    nan = {"usage_entropy": math.nan, "decoding_accuracy": math.nan, "participation_ratio": math.nan,
           "mutual_information": math.nan}
    if onsets is None:
        return nan
    on = np.asarray(onsets, float)
    keep = (on >= window[0] - 1e-9) & (on + duration <= window[1] + 1e-9)
    if keep.sum() < 4:
        return nan
    X, y = response_matrix(results, population=population, onsets=on[keep], labels=np.asarray(labels)[keep],
                           duration=duration, offset=offset)
    out = dict(nan)
    if np.all(np.isfinite(X)) and X.mean(axis=0).sum() > 0:
        out["usage_entropy"] = float(usage_entropy(X))
        out["participation_ratio"] = float(participation_ratio(X))
        classes, counts = np.unique(y, return_counts=True)
        if classes.size >= 2:
            out["mutual_information"] = float(np.mean(mutual_information(X, y)))
            folds = int(min(5, counts.min()))
            if folds >= 2:
                out["decoding_accuracy"] = float(decoding_accuracy(X, y, cv=folds))
    return out


def tradeoff_measures(results, population=None, target=None, onset=None, *, onsets=None, labels=None,
                      presentation=None, offset=0.01, smooth=0.5, tolerance=0.1, window=None,
                      runaway_factor=10.0, wall_time=None):
    r"""Every measure of one point of the trade-off map, from the results of one run.

    Windows (seconds): *before* is the last :math:`w` before the onset, *end* the last :math:`w`
    of the run, with :math:`w` = *window* (default: half the shorter of the two phases).

    ====================================  ===========================================================
    ``rate_before``, ``rate_end``         mean population rate in the windows (Hz)
    ``recovery_time``                     :func:`~homeonet.analysis.recovery_time` of the smoothed
                                          population rate: back within *tolerance* of the set point
                                          and staying there to the end (s; NaN: never)
    ``residual_error``                    :math:`|\bar r_\mathrm{end} - \nu^*| / \nu^*`
    ``overshoot``                         :func:`overshoot` of the smoothed rate
    ``rate_cv_time``                      :func:`temporal_cv` of the population rate in *end*
    ``oscillation_index``, ``_period``    :func:`oscillation_index` of the smoothed rate after the onset
    ``cv_isi``                            mean :func:`~homeonet.analysis.cv_isi` in *end* (spiking)
    ``synchrony``                         Golomb's :math:`\chi` in *end* (spike counts in 5 ms bins,
                                          or :func:`trace_synchrony` of rate traces)
    ``burst_index``                       :func:`burst_index` of the population activity in 20 ms bins
    ``runaway``                           :func:`runaway` of the smoothed rate after the onset (0/1);
                                          also 1 when the run stopped early
    ``rate_heterogeneity_*``              CV across neurons of their mean rates in each window
    ``usage_entropy_*`` ... ``_end``      coding capacity of the presentations inside each window:
                                          usage entropy, cross-validated decoding accuracy,
                                          participation ratio, mean per-neuron mutual information
                                          (bits, Panzeri-Treves corrected)
    ``wall_time_per_second``              *wall_time* (or the ``wall_time`` attribute) per simulated s
    ====================================  ===========================================================

    Parameters
    ----------
    results : homeonet.Results
        The run.
    population : str, optional
        Regulated population (default: the ``population`` attribute).
    target : Quantity or float, optional
        Set point in Hz (default: the ``target`` attribute).
    onset : Quantity or float, optional
        Perturbation time (default: the ``onset`` attribute, s).
    onsets, labels : array, optional
        Stimulus presentations (onsets in s, labels); without them the coding measures are NaN.
    presentation : Quantity or float, optional
        Duration of one presentation (required with *onsets*).
    offset : Quantity or float
        Start of each response window after the presentation onset (s).
    smooth : Quantity or float
        Width of the box smoothing the population rate for recovery, overshoot, oscillation and
        runaway (s; noise of a spiking population rate would otherwise leave any band).
    tolerance : float
        Relative band around the set point of the recovery time.
    window : Quantity or float, optional
        Length of the *before* and *end* windows (s).
    runaway_factor : float
        Rates above this multiple of the set point count as runaway.
    wall_time : float, optional
        Wall-clock seconds of the run.

    Returns
    -------
    dict
        ``name -> float`` for every name in :data:`TRADEOFF_MEASURES`.

    References
    ----------
    Turrigiano GG et al. (1998) Nature 391:892 (recovery to a set point); Harnack D et al. (2015) PLoS
    Comput Biol 11:e1004357 (oscillation); Zenke F et al. (2013) PLoS Comput Biol 9:e1003330 (runaway);
    Shen Y, Wang J, Navlakha S (2021) Neural Comput 33:3179 (usage and coding capacity).
    """
    from .rates import cv_isi, firing_rates, recovery_time, smooth_rate, synchrony

    attrs = results.dataset.attrs
    population = _attr(attrs, "population", population)
    target = _attr(attrs, "target", target)
    target = float(target / Hz) if _util.is_quantity(target) else float(target)
    if not target > 0:
        raise HomeonetError(f"target must be a rate > 0 Hz, got {target!r}")
    t_on = float(_util.seconds("onset", _attr(attrs, "onset", onset), allow_array=False))
    T = float(results.duration / second)
    if not 0 < t_on < T:
        raise HomeonetError(f"onset must lie inside the run (0, {T:g}) s, got {t_on:g} s")
    w = min(t_on, T - t_on) / 2 if window is None else _util.positive_time("window", window)
    before, end = (t_on - w, t_on), (T - w, T)
    t, r, traces = population_activity(results, population)
    dt = float(np.median(np.diff(t))) if t.size > 1 else T
    width = max(1, int(round(_util.positive_time("smooth", smooth) / dt)))
    rs = np.asarray(smooth_rate(r, dt, width * dt, kernel="box"), float) if width > 1 else r
    out = dict.fromkeys(TRADEOFF_MEASURES, math.nan)
    in_before = (t >= before[0]) & (t < before[1])
    in_end = (t >= end[0]) & (t < end[1])
    out["rate_before"] = float(np.mean(r[in_before]))
    out["rate_end"] = float(np.mean(r[in_end]))
    out["residual_error"] = abs(out["rate_end"] - target) / target
    after = t >= t_on
    finite = bool(np.all(np.isfinite(rs)))
    complete = bool(attrs.get("complete", 1))
    out["runaway"] = float(runaway(rs[after], target, runaway_factor) or not complete)
    if finite:
        out["recovery_time"] = float(recovery_time(t, rs, target, t_on, tolerance=tolerance))
        out["overshoot"] = overshoot(t, rs, target, t_on)
        peak, lag = oscillation_index(rs[after], dt) if after.sum() > 2 else (math.nan, math.nan)
        out["oscillation_index"], out["oscillation_period"] = peak, float(lag)
    out["rate_cv_time"] = temporal_cv(r[in_end])
    bins = max(1, int(round(0.02 / dt)))
    binned = r[in_end][: (in_end.sum() // bins) * bins].reshape(-1, bins).sum(axis=1)
    if binned.size >= 2 and np.all(binned >= 0):
        out["burst_index"] = burst_index(binned)
    if traces is None:
        n = results.n_neurons(population)
        for key, (a, b) in (("before", before), ("end", end)):
            rates = np.asarray(firing_rates(results, population=population, t_start=a, t_stop=b) / Hz)
            out[f"rate_heterogeneity_{key}"] = float(np.std(rates) / np.mean(rates)) if rates.mean() > 0 else math.nan
        idx, times = results.spikes(population)
        times = np.asarray(times / second)
        sel = (times >= end[0]) & (times < end[1])
        cvs = cv_isi(idx[sel], times[sel], n)
        out["cv_isi"] = float(np.nanmean(cvs)) if np.any(np.isfinite(cvs)) else math.nan
        if n >= 2 and sel.any():
            out["synchrony"] = synchrony(idx[sel], times[sel], n, bin=5 * ms, t_start=end[0], t_stop=end[1])
    else:
        for key, sel in (("before", in_before), ("end", in_end)):
            rates = traces[sel].mean(axis=0)
            out[f"rate_heterogeneity_{key}"] = float(np.std(rates) / np.mean(rates)) if rates.mean() > 0 else math.nan
        if traces.shape[1] >= 2 and in_end.sum() >= 2:
            out["synchrony"] = trace_synchrony(traces[in_end])
    if onsets is not None:
        if labels is None or presentation is None:
            raise HomeonetError("labels and presentation must be given with onsets")
        on = _util.seconds("onsets", onsets)
        dur = _util.positive_time("presentation", presentation)
        off = _util.positive_time("offset", offset, allow_zero=True)
        for key, win in (("before", before), ("end", end)):
            for name, value in _coding(results, population, on, labels, dur, off, win).items():
                out[f"{name}_{key}"] = value
    wall = wall_time if wall_time is not None else attrs.get("wall_time")
    if wall is not None:
        out["wall_time_per_second"] = float(wall) / T
    return out
