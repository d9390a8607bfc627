"""Figures of homeostasis runs (matplotlib; no pyplot state is left behind)."""

from __future__ import annotations

import numpy as np
from brian2 import Hz, second

__all__ = ["homeostasis_figure", "smooth"]


def smooth(values, width):
    """Moving average over *width* samples (edges averaged over the available samples).

    Parameters
    ----------
    values : array
        A regularly sampled signal.
    width : int
        Window length in samples (>= 1).

    Returns
    -------
    numpy.ndarray
    """
    values = np.asarray(values, dtype=float)
    width = max(1, int(width))
    kernel = np.ones(width)
    return np.convolve(values, kernel, mode="same") / np.convolve(np.ones_like(values), kernel, mode="same")


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
    from matplotlib.figure import Figure

    ds = results.dataset
    spiking = population in results.populations
    rows = (1 if spiking and raster else 0) + 1 + (1 if theta else 0)
    fig = Figure(figsize=(8, 2.2 * rows + 0.6), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(rows, 1, sharex=True)))
    ax_iter = iter(axes)
    if spiking and raster:
        ax = next(ax_iter)
        i, t = results.spikes(population)
        keep = i < raster
        ax.plot(np.asarray(t / second)[keep], i[keep], "|", ms=2, color="k", alpha=0.6)
        ax.set_ylabel(f"{population} neuron")
        ax.set_title(f"{population}: spikes of {min(raster, results.n_neurons(population))} neurons")
    ax = next(ax_iter)
    if spiking:
        rate = ds[f"rate_{population}"]
        time = ds["time"].values
        step = time[1] - time[0] if len(time) > 1 else 1.0
    else:
        rate = ds[f"{population}_r"].mean(f"neuron_{population}")
        time = ds[f"t_{population}"].values
        step = time[1] - time[0] if len(time) > 1 else 1.0
    width = int(round(float(window / second) / step))
    ax.plot(time, smooth(rate.values, width), color="C0", label=f"{population} population rate")
    if target is not None:
        ax.axhline(float(target / Hz), ls="--", color="C3", label=f"target {float(target / Hz):g} Hz")
    ax.set_ylabel("rate (Hz)")
    ax.legend(loc="upper right", frameon=False)
    if theta:
        ax = next(ax_iter)
        var = ds[f"{population}_{theta}"]
        tt = ds[var.dims[0]].values
        mean, sd = var.mean(var.dims[1]).values, var.std(var.dims[1]).values
        unit = var.attrs.get("units", "")
        scale, label = (1e3, "mV") if unit == "volt" else (1.0, unit)
        ax.plot(tt, mean * scale, color="C2")
        ax.fill_between(tt, (mean - sd) * scale, (mean + sd) * scale, color="C2", alpha=0.25)
        ax.set_ylabel(f"{theta} ({label})")
    if onset is not None:
        for a in axes:
            a.axvline(float(onset / second), color="0.5", lw=1)
    axes[-1].set_xlabel("time (s)")
    return fig
