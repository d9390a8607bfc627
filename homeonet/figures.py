"""Publication-style figures of homeostasis runs and coding measures.

Every function returns a :class:`matplotlib.figure.Figure` built directly (no
pyplot, so no global figure state is left behind) in one consistent style
(:data:`STYLE`: sans-serif 8-9 pt, no top/right spines, one colour per role).
:func:`save_figure` writes PNG and PDF atomically; :func:`figures_for_results`
draws the standard panels of a saved run.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
from brian2 import Hz, ms, second

from homeonet._validate import HomeonetError

__all__ = ["STYLE", "COLORS", "smooth", "homeostasis_figure", "raster_figure", "rate_trajectory_figure",
           "rate_distribution_figure", "weight_scaling_figure", "ei_currents_figure", "usage_figure",
           "coding_figure", "save_figure", "figures_for_results"]

#: matplotlib rc settings applied while a figure is built.
STYLE = {
    "font.family": "sans-serif", "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "legend.fontsize": 7, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.8, "lines.linewidth": 1.2,
    "xtick.direction": "out", "ytick.direction": "out", "savefig.bbox": "tight", "pdf.fonttype": 42,
    "figure.dpi": 100,
}

#: Colours by role, shared by all figures.
COLORS = {"rate": "#1f4e79", "target": "#c0392b", "band": "#f5b7b1", "perturbation": "0.45", "exc": "#c0392b",
          "inh": "#2471a3", "net": "0.2", "before": "0.55", "after": "#1f4e79", "fit": "#c0392b",
          "cycle": ["#1f4e79", "#c0392b", "#229954", "#d68910", "#7d3c98", "#17a589", "0.4"]}

_WIDTH = 6.8  # inches: a two-column journal figure


def _styled(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)
    return wrapper


def _new(rows=1, cols=1, height=2.2, width=_WIDTH, **kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, **kw)
    return fig, axes


def _panel_letters(axes):
    for k, ax in enumerate(np.ravel(axes)):
        ax.text(-0.02, 1.02, chr(ord("A") + k), transform=ax.transAxes, fontweight="bold", fontsize=10,
                ha="right", va="bottom")


def _strip(value, unit):
    from brian2 import Quantity, get_dimensions

    if isinstance(value, Quantity) and get_dimensions(value) is not get_dimensions(1.0):
        return np.asarray(value / unit, dtype=float)
    return np.asarray(getattr(value, "values", value), dtype=float)


def smooth(values, width):
    """Causal moving average: each sample averages itself and the *width* - 1 samples before it.

    Causal, so that a change never appears before it happens (a centred window would show a drop
    half a window before a perturbation); the first samples average what is available.

    Parameters
    ----------
    values : array
        A regularly sampled signal.
    width : int
        Window length in samples (>= 1).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> smooth([0.0, 3.0, 0.0, 0.0], 2)
    array([0. , 1.5, 1.5, 0. ])
    """
    from scipy.ndimage import uniform_filter1d

    values = np.asarray(values, dtype=float)
    width = max(1, int(width))
    if width == 1 or values.size == 0:
        return values.copy()
    origin = (width - 1) // 2  # shifts the window to [i - width + 1, i]
    if width % 2 == 0:
        origin = width // 2 - 1
    total = uniform_filter1d(values, width, mode="constant", cval=0.0, origin=origin)
    count = uniform_filter1d(np.ones_like(values), width, mode="constant", cval=0.0, origin=origin)
    return total / count


def _pop_rate(results, population):
    """(times in s, population rate in Hz) of a spiking or rate population of a Results."""
    ds = results.dataset
    if population in results.populations:
        return ds["time"].values, ds[f"rate_{population}"].values
    key = f"{population}_r"
    if key not in ds:
        rate_pops = [k[:-2] for k in ds.data_vars if k.endswith("_r") and ds[k].ndim == 2]
        raise HomeonetError(f"population must be one of {', '.join(results.populations + rate_pops)}; "
                            f"got {population!r}")
    trace = ds[key]
    return ds[trace.dims[0]].values, trace.mean(trace.dims[1]).values


def _subset(shown, n) -> str:
    """Which neurons a raster shows, in words ("neurons 0-99 (100 of 400)")."""
    k = min(int(shown), int(n))
    return f"all {n} neurons" if k >= n else f"neurons 0-{k - 1} ({k} of {n})"


@_styled
def homeostasis_figure(results, population, target=None, onset=None, theta=None, raster=100, window=0.5 * second):
    """Raster, population rate against the target, and the homeostatic variable over time.

    Parameters
    ----------
    results : homeonet.Results
        A run with spikes (or a rate trace ``<population>_r``) of *population*.
    population : str
        Population shown.
    target : Quantity, optional
        Target rate drawn as a dashed line.
    onset : Quantity, optional
        Time of the perturbation (vertical line).
    theta : str, optional
        Recorded variable shown in the bottom panel (e.g. ``'ip_theta'``): mean +/- s.d. over neurons.
    raster : int
        Number of neurons shown in the raster (0 for none).
    window : Quantity
        Smoothing window of the population rate.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ds = results.dataset
    spiking = population in results.populations
    rows = (1 if spiking and raster else 0) + 1 + (1 if theta else 0)
    fig, axes = _new(rows, 1, height=1.7, sharex=True)
    axes = list(axes[:, 0])
    ax_iter = iter(axes)
    if spiking and raster:
        ax = next(ax_iter)
        i, t = results.spikes(population)
        keep = i < raster
        ax.plot(np.asarray(t / second)[keep], i[keep], "|", ms=2, color="k", alpha=0.6)
        ax.set_ylabel(f"{population} neuron")
        ax.set_title(f"{population}: spikes of {_subset(raster, results.n_neurons(population))}")
    ax = next(ax_iter)
    time, rate = _pop_rate(results, population)
    step = time[1] - time[0] if len(time) > 1 else 1.0
    # spike-count rates are noisy and get a causal moving average; rate traces are smooth already
    width = int(round(float(window / second) / step)) if spiking else 1
    label = f"{population} population rate" + (f" ({float(window / second):g} s trailing mean)" if width > 1 else "")
    ax.plot(time, smooth(rate, width), color=COLORS["rate"], label=label)
    if target is not None:
        ax.axhline(float(target / Hz), ls="--", color=COLORS["target"], label=f"target {float(target / Hz):g} Hz")
    ax.set_ylabel("rate (Hz)")
    ax.legend(loc="upper right")
    if theta:
        ax = next(ax_iter)
        var = ds[f"{population}_{theta}"]
        tt = ds[var.dims[0]].values
        mean, sd = var.mean(var.dims[1]).values, var.std(var.dims[1]).values
        unit = var.attrs.get("units", "")
        scale, label = (1e3, "mV") if unit == "volt" else (1.0, unit)
        ax.plot(tt, mean * scale, color=COLORS["cycle"][2])
        ax.fill_between(tt, (mean - sd) * scale, (mean + sd) * scale, color=COLORS["cycle"][2], alpha=0.25)
        ax.set_ylabel(f"{theta} ({label})")
    if onset is not None:
        for a in axes:
            a.axvline(float(onset / second), color=COLORS["perturbation"], lw=1)
    axes[-1].set_xlabel("time (s)")
    return fig


@_styled
def raster_figure(indices, times=None, n=None, population=None, max_neurons=200, bin=10 * ms, width=None,
                  t_stop=None, title=None):
    """Spike raster with the population rate below it.

    Parameters
    ----------
    indices : array of int, SpikeMonitor or Results
        Spikes (as for :func:`homeonet.analysis.rates.firing_rates`).
    times : Quantity or array, optional
        Spike times (for index arrays).
    n : int, optional
        Number of neurons (for index arrays).
    population : str, optional
        Population of a ``Results``.
    max_neurons : int
        Neurons shown in the raster (the first ones).
    bin : Quantity
        Bin of the population rate.
    width : Quantity, optional
        Gaussian smoothing width of the rate (default: none).
    t_stop : Quantity or float, optional
        End of the time axis (default: the run's end, or the last spike).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: raster (one line of markers) and rate (one line).

    Examples
    --------
    >>> import numpy as np
    >>> fig = raster_figure(np.array([0, 1, 1]), np.array([0.1, 0.2, 0.3]), 2, t_stop=0.5)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['neuron', 'rate (Hz)']
    """
    from homeonet.analysis import _util
    from homeonet.analysis.rates import population_rate, smooth_rate

    idx, t, n, _, default_stop = _util.spikes(indices, times, n, population)
    T = default_stop if t_stop is None else float(_util.seconds("t_stop", t_stop, allow_array=False))
    if T is None:
        T = float(t.max()) if t.size else 1.0
    fig, axes = _new(2, 1, height=1.6, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    ax = axes[0, 0]
    keep = idx < max_neurons
    ax.plot(t[keep], idx[keep], "|", ms=2.5, mew=0.6, color="k")
    ax.set_ylabel("neuron")
    ax.set_ylim(-0.5, min(n, max_neurons) - 0.5)
    ax.set_title(title or f"{population + ': ' if population else ''}spikes of {_subset(max_neurons, n)}")
    centers, rate = population_rate(t, n, T, bin=bin)
    if width is not None:
        rate = smooth_rate(rate, bin, width)
    axes[1, 0].plot(np.asarray(centers / second), np.asarray(rate / Hz), color=COLORS["rate"])
    axes[1, 0].set_ylabel("rate (Hz)")
    axes[1, 0].set_xlabel("time (s)")
    axes[1, 0].set_xlim(0, T)
    _panel_letters(axes)
    return fig


@_styled
def rate_trajectory_figure(times, rate, target=None, tolerance=0.1, perturbations=None, label="population rate",
                           title=None):
    """Rate over time with the target band and perturbation markers.

    Parameters
    ----------
    times : Quantity or array
        Sample times ``(T,)`` (seconds if plain).
    rate : Quantity or array
        Population rate ``(T,)`` (Hz if plain), or per-neuron rates ``(T, N)``: mean with a 10-90 % band.
    target : Quantity or float, optional
        Target rate (dashed line) with a band of relative half-width *tolerance*.
    tolerance : float
        Relative half-width of the band.
    perturbations : sequence or dict, optional
        Times of perturbations (vertical lines), or ``{label: time}``.
    label : str
        Legend label of the rate.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = rate_trajectory_figure(np.arange(5.0), [1, 2, 5, 5, 5], target=5.0, perturbations=[1.0])
    >>> fig.axes[0].get_xlabel(), len(fig.axes[0].lines)
    ('time (s)', 3)
    """
    t = _strip(times, second)
    r = _strip(rate, Hz)
    if t.ndim != 1 or r.shape[0] != t.size or r.ndim > 2:
        raise HomeonetError(f"rate must have shape (T,) or (T, N) with T = len(times) = {t.size}, got {r.shape}")
    fig, axes = _new(1, 1, height=2.2)
    ax = axes[0, 0]
    if target is not None:
        tg = float(_strip(target, Hz))
        ax.axhspan(tg * (1 - tolerance), tg * (1 + tolerance), color=COLORS["band"], alpha=0.5, lw=0,
                   label=f"target \u00b1{100 * tolerance:g} %")
        ax.axhline(tg, ls="--", color=COLORS["target"], lw=1, label=f"target {tg:g} Hz")
    if r.ndim == 2:
        lo, hi = np.percentile(r, [10, 90], axis=1)
        ax.fill_between(t, lo, hi, color=COLORS["rate"], alpha=0.2, lw=0, label="10-90 % of neurons")
        r = r.mean(axis=1)
    ax.plot(t, r, color=COLORS["rate"], label=label)
    items = perturbations.items() if isinstance(perturbations, dict) else [(None, p) for p in (perturbations or [])]
    for k, (name, p) in enumerate(items):
        x = float(_strip(p, second))
        ax.axvline(x, color=COLORS["perturbation"], lw=1, ls=":", label=name or ("perturbation" if k == 0 else None))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    ax.legend(loc="best")
    return fig


@_styled
def rate_distribution_figure(before, after, labels=("before", "after"), bins=30, target=None, log=False,
                             xlabel="rate (Hz)"):
    """Distribution of per-neuron rates before and after (histograms with medians).

    Parameters
    ----------
    before, after : Quantity or array
        Per-neuron rates (Hz if plain).
    labels : pair of str
        Legend labels.
    bins : int
        Number of bins (shared edges).
    target : Quantity or float, optional
        Target rate (dashed line).
    log : bool
        Logarithmic rate axis (zeros are dropped).
    xlabel : str
        Label of the rate axis.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = rate_distribution_figure(np.ones(10), 2 * np.ones(10))
    >>> fig.axes[0].get_ylabel()
    'neurons'
    """
    a, b = _strip(before, Hz).ravel(), _strip(after, Hz).ravel()
    if a.size == 0 or b.size == 0:
        raise HomeonetError("before and after must each hold at least one rate")
    fig, axes = _new(1, 1, height=2.2, width=3.4)
    ax = axes[0, 0]
    both = np.concatenate([a, b])
    if log:
        pos = both[both > 0]
        edges = np.logspace(np.log10(pos.min()), np.log10(pos.max()) + 1e-9, bins + 1) if pos.size else bins
        ax.set_xscale("log")
    else:
        lo, hi = float(both.min()), float(both.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    for x, lab, col in ((a, labels[0], COLORS["before"]), (b, labels[1], COLORS["after"])):
        ax.hist(x, bins=edges, histtype="stepfilled", alpha=0.35, color=col)
        ax.hist(x, bins=edges, histtype="step", color=col, lw=1.2, label=f"{lab} (median {np.median(x):.3g})")
        ax.axvline(np.median(x), color=col, lw=1, ls="-")
    if target is not None:
        ax.axvline(float(_strip(target, Hz)), color=COLORS["target"], ls="--", lw=1, label="target")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("neurons")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=1)
    return fig


@_styled
def weight_scaling_figure(control, treated, labels=("control", "treated"), unit_label="weight"):
    """Weight distributions and the Turrigiano rank-order scaling plot.

    Left: cumulative distributions of control, treated and treated/k (k fitted by
    :func:`homeonet.analysis.scaling.scaling_test`). Right: sorted treated against
    sorted control, with the rank-order fit and the identity line.

    Parameters
    ----------
    control, treated : Quantity or array
        1-D positive samples (weights or amplitudes), same unit.
    labels : pair of str
        Names of the two conditions.
    unit_label : str
        Axis label of the quantity.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes; the rank-order axes has the data (one line of markers), the fit and the identity line.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.random.default_rng(0).lognormal(0, 0.4, 300)
    >>> fig = weight_scaling_figure(c, 2 * c)
    >>> len(fig.axes[1].lines)
    3
    """
    from homeonet.analysis.scaling import rank_order_fit, scaling_test

    fit = rank_order_fit(control, treated)
    test = scaling_test(control, treated)
    c, t = np.asarray(fit.control, dtype=float), np.asarray(fit.treated, dtype=float)
    c_all, t_all = np.sort(np.asarray(control, dtype=float)), np.sort(np.asarray(treated, dtype=float))
    fig, axes = _new(1, 2, height=2.4)
    ax = axes[0, 0]
    for x, lab, col, ls in ((c_all, labels[0], COLORS["before"], "-"), (t_all, labels[1], COLORS["after"], "-"),
                            (t_all / test.factor, f"{labels[1]} / {test.factor:.2f}", COLORS["fit"], "--")):
        ax.plot(x, np.arange(1, x.size + 1) / x.size, ls=ls, color=col, label=lab)
    ax.set_xlabel(unit_label)
    ax.set_ylabel("cumulative fraction")
    ax.set_title(f"KS p = {test.pvalue:.2g} ({'multiplicative' if test.multiplicative else 'not multiplicative'})")
    ax.legend(loc="lower right")
    ax = axes[0, 1]
    ax.plot(c, t, "o", ms=2.5, mew=0, color=COLORS["after"], alpha=0.7, label="ranked pairs")
    xs = np.array([0.0, c.max()])
    icpt = float(np.asarray(fit.intercept, dtype=float))
    ax.plot(xs, fit.slope * xs + icpt, color=COLORS["fit"],
            label=f"fit: {fit.slope:.2f} x {'+' if icpt >= 0 else '-'} {abs(icpt):.2g}")
    ax.plot(xs, xs, ls=":", color="0.5", label="identity")
    ax.set_xlabel(f"{labels[0]} {unit_label} (ranked)")
    ax.set_ylabel(f"{labels[1]} {unit_label} (ranked)")
    ax.set_title("rank-order plot")
    ax.legend(loc="upper left")
    _panel_letters(axes)
    return fig


@_styled
def ei_currents_figure(times, exc, inh, axis=0, inhibition="magnitude", unit_label="current", neuron=0):
    """Excitatory, inhibitory and net currents, and the per-neuron balance measures.

    Parameters
    ----------
    times : Quantity or array
        Sample times ``(T,)``.
    exc, inh : Quantity or array
        Currents ``(T,)`` or ``(T, N)`` (time along *axis*); inhibition as a positive magnitude by default.
    axis : int
        Time axis of the currents.
    inhibition : {'magnitude', 'signed'}
        Sign convention of *inh* (see :mod:`homeonet.analysis.balance`).
    unit_label : str
        Axis label of the currents (with their unit).
    neuron : int
        Neuron whose traces are shown (2-D currents).

    Returns
    -------
    matplotlib.figure.Figure
        Left: three lines (E, -I, net) of one neuron; right: histogram of the E/I correlation.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 1, 100); e = 2 + np.sin(6 * t)[:, None] * np.ones((1, 4))
    >>> fig = ei_currents_figure(t, e, 0.9 * e)
    >>> [line.get_label() for line in fig.axes[0].lines][:3]
    ['excitatory', 'inhibitory', 'net']
    """
    from homeonet.analysis.balance import ei_correlation, net_to_total_ratio

    t = _strip(times, second)
    e, i = np.asarray(exc, dtype=float), np.asarray(inh, dtype=float)
    rho = np.atleast_1d(ei_correlation(e, i, axis=axis, inhibition=inhibition))
    beta = np.atleast_1d(net_to_total_ratio(e, i, axis=axis, inhibition=inhibition))
    e2, i2 = np.moveaxis(e, axis, 0).reshape(t.size, -1), np.moveaxis(i, axis, 0).reshape(t.size, -1)
    if inhibition == "signed":
        i2 = -i2
    k = int(np.clip(neuron, 0, e2.shape[1] - 1))
    fig, axes = _new(1, 2, height=2.3, gridspec_kw={"width_ratios": [2, 1]})
    ax = axes[0, 0]
    ax.plot(t, e2[:, k], color=COLORS["exc"], label="excitatory")
    ax.plot(t, -i2[:, k], color=COLORS["inh"], label="inhibitory")
    ax.plot(t, e2[:, k] - i2[:, k], color=COLORS["net"], lw=0.9, label="net")
    ax.axhline(0, color="0.7", lw=0.6)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(unit_label)
    ax.set_title(f"neuron {k}: corr {rho[k]:.2f}, net/total {beta[k]:.2f}")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.3 * (hi - lo))          # headroom for the legend
    ax.legend(loc="upper right", ncol=3)
    ax = axes[0, 1]
    finite = rho[np.isfinite(rho)]
    ax.hist(finite, bins=np.linspace(-1, 1, 21), color=COLORS["rate"], alpha=0.8)
    ax.set_xlabel("E/I correlation")
    ax.set_ylabel("neurons")
    ax.set_title(f"median net/total {np.nanmedian(beta):.2f}")
    _panel_letters(axes)
    return fig


def _conditions(conditions, name="conditions"):
    if not isinstance(conditions, dict) or not conditions:
        raise HomeonetError(f"{name} must be a non-empty dict {{condition name: responses}}")
    return list(conditions.keys()), list(conditions.values())


def _bars(ax, names, values, color_offset=0, errors=None):
    cols = [COLORS["cycle"][(k + color_offset) % len(COLORS["cycle"])] for k in range(len(names))]
    bars = ax.bar(np.arange(len(names)), values, color=cols, width=0.7, yerr=errors, capsize=2)
    ax.set_xticks(np.arange(len(names)), names, rotation=30 if max(map(len, names)) > 8 else 0, ha="right"
                  if max(map(len, names)) > 8 else "center")
    return bars


@_styled
def usage_figure(conditions, absolute=False):
    """Load balancing across conditions: ranked usage curves, usage entropy and Gini bars.

    Parameters
    ----------
    conditions : dict
        ``{name: responses}``, responses ``(samples, units)`` or 1-D mean activities.
    absolute : bool
        Use :math:`|r|` (signed activations).

    Returns
    -------
    matplotlib.figure.Figure
        Three axes: ranked usage x N (one line per condition), entropy bars, Gini bars.

    Examples
    --------
    >>> import numpy as np
    >>> fig = usage_figure({"uniform": np.ones((5, 10)), "skewed": np.arange(1.0, 11.0)})
    >>> len(fig.axes[0].lines), len(fig.axes[1].patches)
    (3, 2)
    """
    from homeonet.analysis.coding import gini, usage, usage_entropy

    names, mats = _conditions(conditions)
    fig, axes = _new(1, 3, height=2.3, gridspec_kw={"width_ratios": [1.6, 1, 1]})
    ax = axes[0, 0]
    for k, (name, m) in enumerate(zip(names, mats)):
        p = np.sort(usage(m, absolute))[::-1]
        ax.plot(np.arange(1, p.size + 1) / p.size, p * p.size, color=COLORS["cycle"][k % 7], label=name)
    ax.axhline(1.0, color="0.5", ls=":", lw=1, label="equal use")
    ax.set_xlabel("unit rank (fraction)")
    ax.set_ylabel("usage \u00d7 N (1 = equal use)")
    lo, hi = min(float(np.min(ln.get_ydata())) for ln in ax.lines), max(float(np.max(ln.get_ydata())) for ln in ax.lines)
    if lo > 0:
        ax.set_yscale("log")
        ax.set_ylim(lo / 1.5, hi * (hi / lo) ** 0.6)  # headroom for the legend
    else:
        ax.set_ylim(0, hi * 1.6)
    ax.legend(loc="upper right", ncol=2)
    ent = [usage_entropy(m, absolute) for m in mats]
    gin = [gini(m, absolute) for m in mats]
    _bars(axes[0, 1], names, ent)
    axes[0, 1].set_ylim(0, 1.05)
    axes[0, 1].set_ylabel("usage entropy (1 = equal)")
    _bars(axes[0, 2], names, gin)
    axes[0, 2].set_ylim(0, 1.05)
    axes[0, 2].set_ylabel("Gini (0 = equal)")
    _panel_letters(axes)
    return fig


@_styled
def coding_figure(conditions, labels, cv=5, seed=0):
    """Coding capacity across conditions: decoding accuracy, information, dimensionality, sparseness.

    Parameters
    ----------
    conditions : dict
        ``{name: responses}``, responses ``(samples, units)``.
    labels : array or dict
        Stimulus of each sample (shared), or ``{name: labels}``.
    cv : int
        Cross-validation folds of the decoder.
    seed : int
        Seed of the folds.

    Returns
    -------
    matplotlib.figure.Figure
        Four bar axes (accuracy with a chance line, MI per unit in bits, participation ratio,
        population sparseness).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0); y = np.repeat([0, 1], 20)
    >>> fig = coding_figure({"a": rng.random((40, 5)) + y[:, None]}, y)
    >>> [ax.get_ylabel() for ax in fig.axes][:2]
    ['decoding accuracy', 'MI per unit (bits)']
    """
    from homeonet.analysis.coding import (decoding_accuracy, mutual_information, participation_ratio,
                                          population_sparseness)

    names, mats = _conditions(conditions)
    labs = [labels[nm] for nm in names] if isinstance(labels, dict) else [labels] * len(names)
    acc, acc_sd, mi, mi_sem, pr, sp = [], [], [], [], [], []
    chance = []
    for m, y in zip(mats, labs):
        a, scores = decoding_accuracy(m, y, cv=cv, seed=seed, return_scores=True)
        acc.append(a)
        acc_sd.append(float(np.std(scores)))
        info = mutual_information(m, y)
        mi.append(float(np.mean(info)))
        mi_sem.append(float(np.std(info) / np.sqrt(max(1, np.size(info)))))
        pr.append(participation_ratio(m))
        sp.append(float(np.nanmean(population_sparseness(m))))
        chance.append(1.0 / np.unique(np.asarray(y)).size)
    fig, axes = _new(1, 4, height=2.2)
    _bars(axes[0, 0], names, acc, errors=acc_sd)
    axes[0, 0].axhline(max(chance), color="0.5", ls=":", lw=1, label="chance")
    axes[0, 0].text(1.0, max(chance), "chance", transform=axes[0, 0].get_yaxis_transform(), ha="right",
                    va="bottom", fontsize=6, color="0.4")
    axes[0, 0].set_ylim(0, 1.05)
    axes[0, 0].set_ylabel("decoding accuracy")
    _bars(axes[0, 1], names, mi, errors=mi_sem)
    axes[0, 1].set_ylabel("MI per unit (bits)")
    _bars(axes[0, 2], names, pr)
    axes[0, 2].set_ylabel("participation ratio")
    _bars(axes[0, 3], names, sp)
    axes[0, 3].set_ylim(0, 1.05)
    axes[0, 3].set_ylabel("population sparseness")
    _panel_letters(axes)
    return fig


def save_figure(fig, path, formats=("png", "pdf"), dpi=200):
    """Save *fig* once per format, each file written atomically (complete or absent).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or Path
        Destination without extension (an extension given is replaced).
    formats : sequence of str
        File formats, e.g. ``("png", "pdf")``.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The written files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> d = tempfile.mkdtemp()
    >>> [p.name for p in save_figure(Figure(), pathlib.Path(d) / "fig", formats=("png",))]
    ['fig.png']
    """
    from homeonet._io import atomic_write

    path = Path(path)
    if not path.parent.is_dir():
        raise HomeonetError(f"path: folder {str(path.parent)!r} does not exist")
    if isinstance(formats, str):
        formats = (formats,)
    known = {"png", "pdf", "svg", "eps", "jpg", "jpeg", "tif", "tiff", "ps"}
    bad = [f for f in formats if f not in known]
    if bad or not formats:
        raise HomeonetError(f"formats must be a non-empty list from {', '.join(sorted(known))}; got {formats!r}")
    out = []
    for fmt in formats:
        dest = path.with_suffix(f".{fmt}") if path.suffix.lstrip(".") in known else path.parent / f"{path.name}.{fmt}"
        out.append(atomic_write(dest, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=dpi)))
    return out


def _window_rates(results, population, a, b):
    """Per-neuron mean rate (Hz) of *population* in [a, b) seconds."""
    if population in results.populations:
        return np.asarray(results.rates(population, t_start=a * second, t_stop=b * second) / Hz)
    trace = results.dataset[f"{population}_r"]
    tt = results.dataset[trace.dims[0]].values
    keep = (tt >= a) & (tt < b)
    return np.asarray(trace.values[keep].mean(axis=0)) if keep.any() else np.asarray(trace.values[-1])


def figures_for_results(results, out_dir, formats=("png", "pdf"), population=None, dpi=200):
    """Draw and save the standard panels of a saved run.

    Panels (each only when the data are there): ``<model>_homeostasis`` (raster, rate and
    homeostatic variable), ``<model>_raster``, ``<model>_rate_trajectory`` (target band and
    perturbation), ``<model>_rate_distribution`` (before the perturbation vs the end),
    ``<model>_weights_<syn>`` (first vs last weight snapshot, rank-order plot) and
    ``<model>_ei_currents`` (recorded ``I_e``/``I_i``).

    Parameters
    ----------
    results : homeonet.Results or str or Path
        A run, or a ``.nc`` file written by ``homeonet run`` / :meth:`Results.save`.
    out_dir : str or Path
        Output folder (created if needed).
    formats : sequence of str
        File formats of each panel.
    population : str, optional
        Population shown (default: the experiment's regulated population, else the first recorded).
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The written files (a :class:`Written` list: its ``skipped`` attribute names each panel that could
        not be drawn and why; each also gives a warning).
    """
    from homeonet.results import Results, load

    if not isinstance(results, Results):
        results = load(results)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HomeonetError(f"out_dir must be a writable folder; cannot create {str(out)!r} ({err})") from None
    ds = results.dataset
    stem = str(ds.attrs.get("model", "results"))
    rate_pops = sorted(k[:-2] for k in ds.data_vars if k.endswith("_r") and ds[k].ndim == 2)
    candidates = results.populations + rate_pops
    if population is None:
        regulated = ds.attrs.get("population")
        population = regulated if regulated in candidates else (candidates[0] if candidates else None)
    if population is None:
        raise HomeonetError("results has no spikes or rate traces to draw")
    if population not in candidates:
        raise HomeonetError(f"population must be one of {', '.join(candidates)}; got {population!r}")
    T = float(results.duration / second)
    planned = float(ds.attrs.get("duration_planned", T))
    target = ds.attrs.get(f"target.{population}")  # each population's own set point, as the run recorded it
    if target is None and population == ds.attrs.get("population", population):
        target = ds.attrs.get("target")
    target = None if target is None or not np.isfinite(float(target)) else float(target) * Hz
    onset = ds.attrs.get("onset")  # recorded by the run: the one source of the perturbation's time
    onset = None if onset is None else float(onset)
    files = Written()
    incomplete = "" if results.complete else f" (INCOMPLETE: {T:g} of {planned:g} s)"

    def emit(fig, name):
        files.extend(save_figure(fig, out / f"{stem}_{name}", formats=formats, dpi=dpi))

    theta = "ip_theta" if f"{population}_ip_theta" in ds else None
    fig = homeostasis_figure(results, population, target=target, onset=None if onset is None else onset * second,
                             theta=theta)
    fig.suptitle(f"homeonet {stem}: population {population}{incomplete}")
    emit(fig, "homeostasis")
    spiking = f"spike_index_{population}" in ds
    if spiking:
        emit(raster_figure(results, population=population, width=20 * ms), "raster")
    t, r = _pop_rate(results, population)
    step = t[1] - t[0] if len(t) > 1 else 1.0
    emit(rate_trajectory_figure(t, smooth(r, int(round(0.2 / step))) if spiking else r, target=target,
                                perturbations={"perturbation": onset} if onset is not None and onset < T else None,
                                label=f"{population} rate" + (" (0.2 s trailing mean)" if spiking else ""),
                                title=f"{stem}: {population}{incomplete}"),
         "rate_trajectory")
    if onset is not None:
        from homeonet.models.experiments import measurement_windows

        windows = measurement_windows(planned, onset)
        if windows["end"][1] <= T + 1e-9 and onset > 0:
            before = _window_rates(results, population, *windows["before"])
            end = _window_rates(results, population, *windows["end"])
            emit(rate_distribution_figure(before, end, labels=("before perturbation", "end of run"), target=target),
                 "rate_distribution")
        else:
            files.skipped.append(f"{stem}_rate_distribution: the run stopped at {T:g} s, before the end window "
                                 f"({windows['end'][0]:g}-{windows['end'][1]:g} s)")
    for var in sorted(ds.data_vars):
        da = ds[var]
        if var.endswith("_w") and da.ndim == 2 and da.dims[1].startswith("synapse_"):
            w0, w1 = np.asarray(da.values[0]), np.asarray(da.values[-1])
            name = f"{stem}_weights_{var[:-2]}"
            if da.shape[0] < 2:
                files.skipped.append(f"{name}: one weight snapshot only (a comparison needs two)")
            elif not (np.all(w0 > 0) and np.all(w1 > 0)):
                zero = np.mean((w0 <= 0) | (w1 <= 0))
                files.skipped.append(f"{name}: {100 * zero:.1f} % of the weights are <= 0, which log axes cannot show")
            elif not np.ptp(w0) > 0:
                files.skipped.append(f"{name}: the first snapshot's weights are all equal (no rank order)")
            else:
                emit(weight_scaling_figure(w0, w1, labels=("first", "last"), unit_label=f"weight ({var})"),
                     f"weights_{var[:-2]}")
    ke, ki = f"{population}_I_e", f"{population}_I_i"
    if ke in ds and ki in ds:
        unit = ds[ke].attrs.get("units", "")
        emit(ei_currents_figure(ds[ds[ke].dims[0]].values, ds[ke].values, ds[ki].values,
                                unit_label=f"current ({unit})" if unit else "current"), "ei_currents")
    for reason in files.skipped:
        warnings.warn(f"not drawn: {reason}", stacklevel=2)
    return files


class Written(list):
    """The files :func:`figures_for_results` wrote; ``skipped`` says which panels were not drawn, and why."""

    def __init__(self, *args):
        super().__init__(*args)
        self.skipped = []
