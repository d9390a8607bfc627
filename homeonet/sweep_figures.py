"""Figures of a parameter sweep (:mod:`homeonet.sweep`): each measure against each swept parameter, and heat maps.

``homeonet figures SWEEP_DIR`` draws, for every measure of the sweep's Dataset:

* ``sweep_<measure>``: one panel per swept parameter, the mean over seeds with the spread over seeds
  (sample standard deviation, ``ddof=1``) as error bars; in a two-parameter grid, one line per value
  of the other parameter (up to eight, else their mean); with more parameters, the mean over the others;
* ``sweep_<measure>_heatmap`` (two-parameter grids): the mean over seeds on the grid.

Parameters spanning more than a factor of 20 (all positive) get a logarithmic axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["sweep_figures", "seed_mean_spread"]

#: Lines drawn per panel before the other parameter is averaged instead.
MAX_LINES = 8


def seed_mean_spread(da: xr.DataArray):
    """Mean and spread over seeds: ``(da.mean('seed'), da.std('seed', ddof=1))`` (NaN spread for one seed)."""
    return da.mean("seed"), da.std("seed", ddof=1)


def _label(da) -> str:
    name = da.attrs.get("long_name", da.name)
    unit = da.attrs.get("units", "")
    return f"{name} ({unit})" if unit and unit != "1" else str(name)


def _log(values) -> bool:
    v = np.asarray(values)
    return v.dtype.kind in "fiu" and v.size > 1 and np.all(v > 0) and v.max() / v.min() >= 20


def _swept(ds) -> list:
    """Names of the swept parameters (coordinates other than seed)."""
    return [c for c in ds.coords if c != "seed"]


def sweep_figures(sweep, out_dir=None, formats=("png", "pdf"), dpi=150) -> list:
    """Draw and save the figures of a sweep.

    Parameters
    ----------
    sweep : xarray.Dataset, str or Path
        A sweep's Dataset (:func:`homeonet.sweep.run`), or its folder (read with
        :func:`homeonet.load_sweep`, finished or not).
    out_dir : str or Path, optional
        Output folder (default: ``figures/`` inside the sweep folder; required for a Dataset).
    formats : sequence of str
        File formats of each figure.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The written files.

    Raises
    ------
    HomeonetError
        A sweep without finished points, or a Dataset given without ``out_dir``.
    """
    import matplotlib.pyplot as plt

    from ._io import atomic_write
    from ._validate import HomeonetError
    from .sweep import load_sweep

    if not isinstance(sweep, xr.Dataset):
        folder = Path(sweep)
        ds = load_sweep(folder)
        out_dir = folder / "figures" if out_dir is None else out_dir
    else:
        ds = sweep
        if out_dir is None:
            raise HomeonetError("out_dir is required when a Dataset is given")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    measures = [v for v in ds.data_vars if v not in ("status", "error")]
    if not measures or not (ds["status"] == "done").any():
        raise HomeonetError("sweep: no finished point to draw")
    swept = _swept(ds)
    written = []

    def save(fig, stem):
        for fmt in formats:
            written.append(atomic_write(out_dir / f"{stem}.{fmt}",
                                        lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")))
        plt.close(fig)

    title = f"{ds.attrs.get('experiment', 'sweep')}: {int(ds.attrs.get('points_done', 0))} of " \
            f"{int(ds.attrs.get('points', 0))} points, {ds.sizes['seed']} seed(s)"
    for m in measures:
        da = ds[m]
        if not swept:
            continue
        fig, axes = plt.subplots(1, len(swept), figsize=(4.2 * len(swept), 3.4), squeeze=False)
        for ax, p in zip(axes[0], swept):
            _panel(ax, da, p, swept)
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        save(fig, f"sweep_{m}")
        grid = [p for p in swept if p in da.dims]
        if len(grid) == 2:
            fig, ax = plt.subplots(figsize=(5.2, 4.2))
            mean, _ = seed_mean_spread(da)
            mean.plot(x=grid[0], y=grid[1], ax=ax, xscale="log" if _log(ds[grid[0]]) else "linear",
                      yscale="log" if _log(ds[grid[1]]) else "linear",
                      cbar_kwargs={"label": f"{m} ({da.attrs.get('units', '')}), mean over seeds"})
            ax.set_title(title, fontsize=9)
            fig.tight_layout()
            save(fig, f"sweep_{m}_heatmap")
    return written


def _panel(ax, da, p, swept):
    """Measure against parameter *p*: mean and spread over seeds."""
    x = da[p]
    xs = x.values
    categorical = xs.dtype.kind not in "fiu"
    if p not in da.dims:  # zip or sample: the parameter varies along 'point'
        mean, spread = seed_mean_spread(da)
        pos = np.arange(len(xs)) if categorical else xs
        ax.errorbar(pos, mean.values, yerr=spread.values, fmt="o", ms=4, capsize=2, lw=1)
    else:
        others = [q for q in swept if q != p and q in da.dims]
        mean, spread = seed_mean_spread(da)
        pos = np.arange(len(xs)) if categorical else xs
        if len(others) == 1 and da.sizes[others[0]] <= MAX_LINES:
            q = others[0]
            unit = da[q].attrs.get("units", "")
            for v in da[q].values:
                ax.errorbar(pos, mean.sel({q: v}).values, yerr=spread.sel({q: v}).values, marker="o", ms=3,
                            capsize=2, lw=1, label=f"{q} = {v:g}{' ' + unit if unit not in ('', '1') else ''}"
                            if np.asarray(v).dtype.kind in "fiu" else f"{q} = {v}")
            ax.legend(fontsize=7, frameon=False)
        else:
            if others:
                mean, spread = mean.mean(others), spread.mean(others)
                ax.set_title(f"mean over {', '.join(others)}", fontsize=8)
            ax.errorbar(pos, mean.values, yerr=spread.values, marker="o", ms=3, capsize=2, lw=1)
    if categorical:
        ax.set_xticks(np.arange(len(xs)), [str(v) for v in xs])
    elif _log(xs):
        ax.set_xscale("log")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(da))
