r"""Train every normalization over several seeds and tabulate accuracy and hidden-unit usage.

:func:`compare` trains one network per ``(norm, seed)`` with :func:`homeonet.ann.train.train`
and measures, on the test set, the accuracy and the coding measures of the hidden units
(averaged over hidden layers) with the same functions the spiking side uses
(:mod:`homeonet.analysis.coding`): usage entropy
:math:`H = -\sum_i p_i \log p_i / \log N` with :math:`p_i = \langle r_i \rangle / \sum_j \langle r_j \rangle`,
Gini coefficient of the usage, Treves-Rolls population sparseness and participation-ratio
dimensionality. Results go to a NetCDF file written atomically after every run, so an
interrupted comparison resumes where it stopped, plus CSV and Markdown tables of mean and
standard deviation over seeds.

Examples::

    >>> from homeonet.ann.compare import compare, summary_table
    >>> ds = compare(norms=("none", "synaptic_scaling"), seeds=2, epochs=2)
    >>> ds.test_accuracy.dims
    ('norm', 'seed')
    >>> print(summary_table(ds))  # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from homeonet._io import atomic_write
from homeonet._validate import HomeonetError, check_choice

__all__ = ["DEFAULT_NORMS", "METRICS", "compare", "summary_table", "write_tables", "usage_entropy"]

#: Normalizations trained by default: torch's baselines, then homeonet's counterparts.
DEFAULT_NORMS = ("none", "batchnorm", "layernorm", "groupnorm", "weightnorm", "synaptic_scaling",
                 "synaptic_scaling_rate", "intrinsic_plasticity", "divisive", "equinorm")

#: Variables of the result, one value per (norm, seed).
METRICS = ("test_accuracy", "usage_entropy", "gini", "population_sparseness", "participation_ratio", "epochs_run",
           "train_time")

_SETTINGS = ("dataset", "epochs", "model", "hidden", "batch_size", "lr")

try:  # the shared measures of homeonet.analysis (same code for spikes and activations)
    from homeonet.analysis.coding import gini as _gini
    from homeonet.analysis.coding import participation_ratio as _participation_ratio
    from homeonet.analysis.coding import population_sparseness as _population_sparseness
    from homeonet.analysis.coding import usage_entropy
except ImportError:  # pragma: no cover - only when the analysis package is absent
    _gini = _participation_ratio = _population_sparseness = None

    def usage_entropy(responses, absolute=False):
        r"""Normalised usage entropy :math:`H = -\sum_i p_i \log p_i / \log N`, :math:`p_i = \bar r_i / \sum_j \bar r_j`.

        Parameters
        ----------
        responses : array_like
            ``(samples, units)`` non-negative activities.
        absolute : bool
            Use absolute values.

        Returns
        -------
        float
            In [0, 1]; 1 when every unit is used equally.
        """
        arr = np.abs(np.asarray(responses, float)) if absolute else np.asarray(responses, float)
        mean = arr.mean(axis=0) if arr.ndim == 2 else arr
        p = mean / mean.sum()
        nz = p[p > 0]
        return float(max(0.0, -np.sum(nz * np.log(nz)) / np.log(p.size)))


def _measures(hidden) -> dict:
    """Coding measures of each hidden layer's ``(samples x units)`` activity, averaged over layers."""
    rows = []
    for h in hidden:
        h = np.asarray(h, dtype=float)
        if not np.isfinite(h).all() or not h.mean(axis=0).sum() > 0:
            rows.append({"usage_entropy": math.nan, "gini": math.nan, "population_sparseness": math.nan,
                         "participation_ratio": math.nan})
            continue
        row = {"usage_entropy": usage_entropy(h)}
        if _gini is not None:
            row["gini"] = _gini(h)
            row["population_sparseness"] = float(np.nanmean(_population_sparseness(h)))
            row["participation_ratio"] = float(_participation_ratio(h))
        rows.append(row)
    keys = ("usage_entropy", "gini", "population_sparseness", "participation_ratio")
    return {k: float(np.mean([r.get(k, math.nan) for r in rows])) for k in keys}


def _seed_list(seeds) -> list:
    if isinstance(seeds, bool):
        raise HomeonetError(f"seeds must be an integer >= 1 or a list of integers >= 0; got {seeds!r}")
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise HomeonetError(f"seeds must be an integer >= 1 or a list of integers >= 0; got {seeds!r}")
        return list(range(int(seeds)))
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in out):
        raise HomeonetError(f"seeds must be an integer >= 1 or a list of integers >= 0; got {seeds!r}")
    return [int(s) for s in out]


def _empty(norms, seeds, settings):
    import xarray as xr

    shape = (len(norms), len(seeds))
    data = {m: (("norm", "seed"), np.full(shape, np.nan)) for m in METRICS}
    ds = xr.Dataset(data, coords={"norm": list(norms), "seed": list(seeds)})
    ds.attrs.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()})
    ds.attrs["hidden"] = ",".join(map(str, settings["hidden"]))
    ds.test_accuracy.attrs["long_name"] = "test accuracy (fraction)"
    ds.usage_entropy.attrs["long_name"] = "normalised usage entropy of hidden units (mean over layers)"
    return ds


def _load_previous(path: Path, settings: dict):
    import xarray as xr

    try:
        old = xr.load_dataset(path)
    except (OSError, ValueError) as err:
        raise HomeonetError(f"out file {str(path)!r} exists but cannot be read as a comparison ({err})") from None
    want = dict(settings, hidden=",".join(map(str, settings["hidden"])))
    for key in _SETTINGS:
        have = old.attrs.get(key)
        if have is None or str(have) != str(want[key]):
            raise HomeonetError(f"out file {str(path)!r} holds a comparison with {key}={have!r}, not {want[key]!r}; "
                                "choose another out or delete it")
    return old


def compare(norms=DEFAULT_NORMS, seeds=5, epochs: int = 20, dataset: str = "digits", *, out=None,
            model: str = "mlp", hidden=(128, 128), batch_size: int = 64, lr: float = 1e-3, root=None,
            download: bool = False, device="cpu", progress: bool = False, resume: bool = True):
    """Train each normalization over several seeds and record accuracy and hidden-unit usage.

    Parameters
    ----------
    norms : sequence of str
        Names from :data:`homeonet.ann.train.NORMS`. Default: :data:`DEFAULT_NORMS`.
    seeds : int or sequence of int
        ``K`` runs seeds ``0 .. K-1``; or the seeds themselves. Default: 5.
    epochs : int
        Training epochs per run (>= 1). Default: 20.
    dataset : str
        A name from :data:`homeonet.ann.train.DATASETS`. Default: ``'digits'``.
    out : str or Path, optional
        Output: a ``.nc`` file, or a folder that receives ``ann_compare.nc``, ``.csv`` and ``.md``.
        Written atomically after every run. With *resume*, finished ``(norm, seed)`` entries
        already in the file are kept and not trained again.
    model, hidden, batch_size, lr, root, download, device, progress
        Passed to :func:`homeonet.ann.train.train`.
    resume : bool
        Reuse finished entries of an existing *out* file (its settings must match). Default: True.

    Returns
    -------
    xarray.Dataset
        Variables :data:`METRICS` over dimensions ``(norm, seed)``; settings in ``attrs``.

    Raises
    ------
    HomeonetError
        Unknown norm or data set, non-positive epochs or seeds, or an *out* file from other settings.
    """
    from homeonet.ann.train import DATASETS, NORMS, load_dataset, train

    if isinstance(norms, str):
        norms = [n.strip() for n in norms.split(",") if n.strip()]
    norms = list(dict.fromkeys(norms))
    if not norms:
        raise HomeonetError(f"norms must name at least one of {', '.join(NORMS)}; got none")
    for n in norms:
        check_choice("norm", n, NORMS)
    check_choice("dataset", dataset, DATASETS)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise HomeonetError(f"epochs must be an integer >= 1; got {epochs!r}")
    seed_list = _seed_list(seeds)
    settings = {"dataset": dataset, "epochs": int(epochs), "model": model, "hidden": tuple(int(h) for h in hidden),
                "batch_size": int(batch_size), "lr": float(lr)}

    nc_path = None
    if out is not None:
        out = Path(out)
        nc_path = out if out.suffix == ".nc" else out / "ann_compare.nc"
        nc_path.parent.mkdir(parents=True, exist_ok=True)
    ds = _empty(norms, seed_list, settings)
    if nc_path is not None and nc_path.exists() and resume:
        old = _load_previous(nc_path, settings)
        for n in norms:
            for s in seed_list:
                if n in old.norm.values and s in old.seed.values:
                    prev = old.sel(norm=n, seed=s)
                    if np.isfinite(float(prev.test_accuracy)):
                        for m in METRICS:
                            if m in prev:
                                ds[m].loc[{"norm": n, "seed": s}] = float(prev[m])

    todo = [(n, s) for n in norms for s in seed_list if not np.isfinite(float(ds.test_accuracy.sel(norm=n, seed=s)))]
    if todo:
        data = load_dataset(dataset, root, download=download)
        runs = todo
        if progress:
            from tqdm.auto import tqdm
            runs = tqdm(todo, desc="compare", unit="run")
        for n, s in runs:
            res = train(n, data, model=model, hidden=settings["hidden"], epochs=epochs, batch_size=batch_size, lr=lr,
                        seed=s, device=device)
            values = {"test_accuracy": res.test_accuracy, "epochs_run": len(res.history),
                      "train_time": res.train_time, **_measures(res.hidden)}
            for m, v in values.items():
                ds[m].loc[{"norm": n, "seed": s}] = float(v)
            if nc_path is not None:
                _write_nc(ds, nc_path)
    if nc_path is not None:
        _write_nc(ds, nc_path)
        write_tables(ds, nc_path.with_suffix(""))
    return ds


def _write_nc(ds, path: Path) -> None:
    atomic_write(path, lambda tmp: ds.to_netcdf(tmp))


def _rows(ds):
    for n in ds.norm.values:
        row = {"norm": str(n), "n": int(np.isfinite(ds.test_accuracy.sel(norm=n).values).sum())}
        for m in ("test_accuracy", "usage_entropy", "gini", "population_sparseness", "participation_ratio"):
            v = ds[m].sel(norm=n).values.astype(float)
            v = v[np.isfinite(v)]
            scale = 100.0 if m == "test_accuracy" else 1.0
            row[m] = (scale * v.mean(), scale * v.std(ddof=1) if v.size > 1 else math.nan) if v.size else (
                math.nan, math.nan)
        yield row


def summary_table(ds, fmt: str = "markdown") -> str:
    """Mean and standard deviation over seeds of each measure, one row per normalization.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`compare`.
    fmt : {'markdown', 'csv'}
        Markdown table (``mean ± sd``, accuracy in percent) or CSV with separate mean and sd columns.

    Returns
    -------
    str
    """
    check_choice("fmt", fmt, ("markdown", "csv"))
    names = ("test_accuracy", "usage_entropy", "gini", "population_sparseness", "participation_ratio")
    rows = list(_rows(ds))
    if fmt == "csv":
        head = ["norm", "n"] + [f"{m}_{s}" for m in names for s in ("mean", "sd")]
        lines = [",".join(head)]
        for r in rows:
            lines.append(",".join([r["norm"], str(r["n"])] + [f"{x:.6g}" for m in names for x in r[m]]))
        return "\n".join(lines) + "\n"
    head = ["norm", "seeds", "test accuracy (%)", "usage entropy", "Gini", "pop. sparseness", "dimensionality"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    digits = {"test_accuracy": 2, "usage_entropy": 4, "gini": 4, "population_sparseness": 3, "participation_ratio": 1}
    for r in rows:
        cells = [r["norm"], str(r["n"])]
        for m in names:
            mean, sd = r[m]
            d = digits[m]
            cells.append("-" if not math.isfinite(mean) else
                         f"{mean:.{d}f} ± {sd:.{d}f}" if math.isfinite(sd) else f"{mean:.{d}f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_tables(ds, stem) -> list:
    """Write ``STEM.csv`` and ``STEM.md`` (see :func:`summary_table`) atomically.

    Parameters
    ----------
    ds : xarray.Dataset
    stem : str or Path
        Path without suffix.

    Returns
    -------
    list of Path
    """
    stem = Path(stem)
    paths = []
    for fmt, suffix in (("csv", ".csv"), ("markdown", ".md")):
        text = summary_table(ds, fmt)
        path = stem.with_name(stem.name + suffix)
        atomic_write(path, lambda tmp, text=text: Path(tmp).write_text(text))
        paths.append(path)
    return paths
