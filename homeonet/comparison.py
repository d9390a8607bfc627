r"""The Brian2 side of ``homeonet compare``: homeostatic mechanisms on a rate network, and the pairing figure.

:func:`compare_brain` drives a feed-forward rate network (inputs -> one hidden layer of
:class:`homeonet.models.RateNeuron` units) with random class patterns
(:func:`homeonet.models.class_patterns`) and puts one homeostatic mechanism on the hidden
layer. The unregulated network is deliberately unequal in unit usage: every hidden unit
has its own input gain :math:`g_i` (log-normal, all its incoming weights multiplied by
it) and its own threshold offset :math:`c_i \ge 0` (a negative external input), so that

.. math:: \tau \dot r_i = -r_i + \big[g_i \textstyle\sum_j w_{ij} \lambda_j(t) - c_i\big]_+ ,

and a few units carry most of the activity while others stay silent. The mechanisms are
the brain counterparts of the ANN normalizations (:data:`COUNTERPARTS`), one per scale:

``none``                      no regulation
``intrinsic_plasticity``      neuron scale: each unit's threshold moves toward a target rate
``synaptic_scaling``          synapse scale: each unit's incoming weights scale multiplicatively
``inhibitory_normalization``  layer scale: divisive normalization by the layer's summed drive
``network_homeostasis``       network scale: one gain shared by the layer, toward a target mean rate

After a transient (the first :math:`t_0` of the run, where the slow mechanisms learn),
the response of every hidden unit to every later presentation (mean rate in the
presentation window, :func:`homeonet.analysis.coding.response_matrix`) gives the same
measures as the ANN side (:mod:`homeonet.ann.compare`): cross-validated decoding accuracy,
usage entropy, Gini coefficient, population sparseness and participation ratio.

Examples::

    >>> from homeonet.comparison import compare_brain
    >>> ds = compare_brain(("none", "intrinsic_plasticity"), seeds=1, duration=2.0)  # doctest: +SKIP
    >>> ds.usage_entropy.dims  # doctest: +SKIP
    ('mechanism', 'seed')
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from homeonet._io import atomic_write
from homeonet._validate import _shown, HomeonetError, check_choice, check_count

__all__ = ["MECHANISMS", "METRICS", "COUNTERPARTS", "compare_brain", "summary_table", "pair_figure"]

#: Brain mechanisms of :func:`compare_brain`, from no regulation to the network scale.
MECHANISMS = ("none", "intrinsic_plasticity", "synaptic_scaling", "inhibitory_normalization", "network_homeostasis")

#: Variables of the result, one value per (mechanism, seed).
METRICS = ("decoding_accuracy", "usage_entropy", "gini", "population_sparseness", "participation_ratio", "mean_rate")

#: The brain counterpart of each ANN normalization (:data:`homeonet.ann.train.NORMS`), at the same scale:
#: BatchNorm and homeonet's IntrinsicPlasticity set each unit's gain/bias (neuron scale), weight
#: normalization and SynapticScaling rescale each unit's incoming weights (synapse scale), LayerNorm,
#: GroupNorm and divisive normalization normalize by the layer's activity (layer scale), equi-normalization
#: balances the layers of the whole network (network scale).
COUNTERPARTS = {
    "none": "none",
    "batchnorm": "intrinsic_plasticity",
    "intrinsic_plasticity": "intrinsic_plasticity",
    "weightnorm": "synaptic_scaling",
    "synaptic_scaling": "synaptic_scaling",
    "synaptic_scaling_rate": "synaptic_scaling",
    "layernorm": "inhibitory_normalization",
    "groupnorm": "inhibitory_normalization",
    "divisive": "inhibitory_normalization",
    "equinorm": "network_homeostasis",
}

#: Scale of each brain mechanism (the figure's groups).
SCALES = {"none": "none", "intrinsic_plasticity": "neuron", "synaptic_scaling": "synapse",
          "inhibitory_normalization": "layer", "network_homeostasis": "network"}

_TARGET = 5.0  # Hz, set point of the rate-regulating mechanisms
_PRESENTATION = 0.05  # s, one stimulus presentation


def _mechanism(name, target):
    """The hidden layer's and its input synapses' mechanisms for *name*."""
    from brian2 import Hz, ms, second

    from homeonet.mechanisms import (DivisiveNormalization, GlobalHomeostasis, IntrinsicPlasticity, RateSensor,
                                     SynapticScaling)

    if name == "none":
        return [], []
    sensor = RateSensor(tau=100 * ms, initial=target * Hz, name="sensor")
    if name == "intrinsic_plasticity":
        # theta_i += eta (A_i - rho0) every 10 ms: a relaxation time of about T/eta = 0.2 s
        return [IntrinsicPlasticity(target=target * Hz, eta=0.05, period=10 * ms, sensor=sensor)], []
    if name == "synaptic_scaling":
        # simulated time scale tau/c = 0.5 s
        ss = SynapticScaling(target=target * Hz, tau=3600 * second, compression=7200.0, period=10 * ms,
                             s_min=0.0, s_max=20.0, sensor=sensor)
        return [ss], [ss]
    if name == "inhibitory_normalization":
        return [DivisiveNormalization(gamma=80 * Hz, sigma=10 * Hz, n=1.0)], []
    if name == "network_homeostasis":
        return [GlobalHomeostasis(gamma=target * Hz, tau_H=100 * ms, tau_G=300 * ms, period=10 * ms,
                                  G_min=0.05, G_max=20.0, sensor=sensor)], []
    raise HomeonetError(f"mechanism must be one of {', '.join(MECHANISMS)}; got {name!r}")  # pragma: no cover


def _noisy_patterns(n_classes, n_inputs, seed, exemplars=10, noise=0.4):
    """Class prototypes (:func:`homeonet.models.class_patterns`) and noisy exemplars of each.

    An exemplar moves a fraction *noise* of its class's active inputs to random inactive ones, so
    presentations of one class differ and decoding is not trivially perfect.
    """
    from brian2 import Hz

    from homeonet.models import StimulusSet, class_patterns

    proto = np.asarray(class_patterns(n_classes, n_inputs, active_fraction=0.2, rate_on=40 * Hz, rate_off=2 * Hz,
                                      seed=seed).patterns / Hz)
    rng = np.random.default_rng([seed, 11])
    rows, labels = [], []
    for c, p in enumerate(proto):
        on, off = np.flatnonzero(p > p.min()), np.flatnonzero(p == p.min())
        k = min(int(round(noise * on.size)), off.size)
        for _ in range(exemplars):
            x = p.copy()
            x[rng.choice(on, k, replace=False)], x[rng.choice(off, k, replace=False)] = p.min(), p.max()
            rows.append(x)
            labels.append(c)
    return StimulusSet(patterns=np.asarray(rows) * Hz, labels=np.asarray(labels))


def _run_one(mechanism, seed, duration, transient, n_hidden, n_inputs, n_classes):
    """One simulation; returns the measures of the hidden layer after the transient."""
    import brian2
    from brian2 import Hz, ms, second

    from homeonet.analysis.coding import (decoding_accuracy, gini, participation_ratio, population_sparseness,
                                          response_matrix, usage_entropy)
    from homeonet.models import RateNeuron, feedforward
    from homeonet.simulate import simulate

    brian2.seed(seed)
    rng = np.random.default_rng([seed, 7])
    stim = _noisy_patterns(n_classes, n_inputs, seed)
    n_pres = max(2, int(round(duration / _PRESENTATION)))
    schedule = stim.sequence(n_pres, duration=_PRESENTATION * second, seed=seed + 1000)
    neurons, syn = _mechanism(mechanism, _TARGET)
    net = feedforward((n_hidden,), RateNeuron(r_max=200 * Hz), schedule, mechanisms=[neurons],
                      synapse_mechanisms=[syn], seed=seed, record={"L1": ["r"]}, record_dt=1 * ms)
    # heterogeneous units: a log-normal input gain per unit and a threshold offset per unit
    gain = rng.lognormal(0.0, 0.8, n_hidden)
    offset = rng.uniform(0.0, 8.0, n_hidden)
    W = net["W1"]
    W.w = np.asarray(W.w[:]) * gain[np.asarray(W.j[:])]
    net["L1"].I_ext = -offset * Hz
    results = simulate(net, duration * second, progress=False, level=1)
    X, labels = response_matrix(results, schedule, "L1", offset=10 * ms)
    keep = np.asarray(schedule.onsets / second) >= transient
    X, labels = np.asarray(X, float)[keep], np.asarray(labels)[keep]
    row = {"mean_rate": float(X.mean()) if X.size else math.nan}
    if X.size == 0 or not np.isfinite(X).all() or not X.mean(axis=0).sum() > 0:
        return {**{m: math.nan for m in METRICS}, **row}
    counts = np.unique(labels, return_counts=True)[1]
    cv = int(min(5, counts.min()))
    row["decoding_accuracy"] = (float(decoding_accuracy(X, labels, cv=cv, seed=seed))
                                if len(counts) >= 2 and cv >= 2 else math.nan)
    row["usage_entropy"] = float(usage_entropy(X))
    row["gini"] = float(gini(X))
    row["population_sparseness"] = float(np.nanmean(population_sparseness(X)))
    row["participation_ratio"] = float(participation_ratio(X))
    return row


def _mechanisms(mechanisms):
    if isinstance(mechanisms, str):
        mechanisms = [m.strip() for m in mechanisms.split(",") if m.strip()]
    try:
        mechanisms = list(mechanisms)
    except TypeError:
        raise HomeonetError(f"mechanisms must be a list of names from {', '.join(MECHANISMS)}; "
                            f"got {mechanisms!r}") from None
    if not mechanisms:
        raise HomeonetError(f"mechanisms must name at least one of {', '.join(MECHANISMS)}")
    out = []
    for m in mechanisms:
        if not isinstance(m, str) or m not in MECHANISMS:
            raise HomeonetError(f"mechanisms: unknown mechanism {m!r}; choose from {', '.join(MECHANISMS)}")
        if m not in out:
            out.append(m)
    return out


def _seconds(name, value, minimum):
    try:
        from brian2 import Quantity, second

        if isinstance(value, Quantity):
            value = float(value / second)
        value = float(value)
    except Exception:
        raise HomeonetError(f"{name} must be a time in seconds >= {minimum}; got {_shown(value)}") from None
    if not math.isfinite(value) or value < minimum:
        raise HomeonetError(f"{name} must be a time in seconds >= {minimum}; got {_shown(value)}")
    return value


def compare_brain(mechanisms=MECHANISMS, seeds=3, duration=6.0, transient=None, n_hidden=40, n_inputs=60,
                  n_classes=6, out=None, progress=False):
    r"""Run each homeostatic mechanism over seeds on a heterogeneous rate network; measure hidden-unit usage.

    Parameters
    ----------
    mechanisms : sequence of str or str
        Names from :data:`MECHANISMS` (a comma-separated string is accepted).
    seeds : int
        Number of seeds (>= 1); seed ``k`` draws the patterns, the presentation order, the
        weights and the unit heterogeneity.
    duration : float or Quantity
        Simulated time of one run in seconds (>= 0.5; default 4 s; presentations of 50 ms).
    transient : float or Quantity, optional
        Learning phase excluded from the measures (seconds, in [0, duration); default
        ``duration / 2``): the measures use the presentations that start after it.
    n_hidden, n_inputs, n_classes : int
        Sizes of the hidden layer (>= 2), the input layer (>= 5) and the number of classes (>= 2).
    out : str or Path, optional
        Folder (created if needed) for ``brain_compare.nc``, ``brain_compare.csv`` and
        ``brain_compare.md``, each written atomically.
    progress : bool
        Print one line per finished run.

    Returns
    -------
    xarray.Dataset
        Variables :data:`METRICS` over dims ``(mechanism, seed)``; attributes hold the settings.

    Notes
    -----
    Runs use the current Brian2 code-generation target with a 1 ms time step (restored after);
    with the numpy target a 4 s run takes a few seconds.
    """
    import brian2
    import xarray as xr

    names = _mechanisms(mechanisms)
    n_seeds = check_count("seeds", seeds)
    duration = _seconds("duration", duration, 0.5)
    transient = duration / 2 if transient is None else _seconds("transient", transient, 0.0)
    if not transient < duration:
        raise HomeonetError(f"transient must be below duration ({duration} s); got {transient}")
    n_hidden = check_count("n_hidden", n_hidden, minimum=2)
    n_inputs = check_count("n_inputs", n_inputs, minimum=5)
    n_classes = check_count("n_classes", n_classes, minimum=2)
    out_dir = None
    if out is not None:
        out_dir = Path(out)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise HomeonetError(f"out: cannot create folder {str(out_dir)!r} ({err.strerror})") from None
    data = {m: np.full((len(names), n_seeds), np.nan) for m in METRICS}
    old_dt = brian2.defaultclock.dt
    brian2.defaultclock.dt = 1 * brian2.ms
    try:
        for a, name in enumerate(names):
            for s in range(n_seeds):
                row = _run_one(name, s, duration, transient, n_hidden, n_inputs, n_classes)
                for m in METRICS:
                    data[m][a, s] = row[m]
                if progress:
                    print(f"brain {name} seed {s}: usage entropy {row['usage_entropy']:.3f}, "
                          f"decoding {row['decoding_accuracy']:.3f}", flush=True)
    finally:
        brian2.defaultclock.dt = old_dt
    ds = xr.Dataset({m: (("mechanism", "seed"), v) for m, v in data.items()},
                    coords={"mechanism": names, "seed": np.arange(n_seeds)},
                    attrs={"duration_s": duration, "transient_s": transient, "n_hidden": n_hidden,
                           "n_inputs": n_inputs, "n_classes": n_classes, "target_rate_Hz": _TARGET,
                           "presentation_s": _PRESENTATION})
    if out_dir is not None:
        atomic_write(out_dir / "brain_compare.nc", lambda tmp: ds.to_netcdf(tmp))
        atomic_write(out_dir / "brain_compare.csv", lambda tmp: _summary(ds).to_csv(tmp, index=False))
        table = summary_table(ds)
        atomic_write(out_dir / "brain_compare.md", lambda tmp: Path(tmp).write_text(table))
    return ds


_SHOWN = ("decoding_accuracy", "usage_entropy", "gini", "population_sparseness", "participation_ratio", "mean_rate")


def _summary(ds):
    """One row per mechanism: scale, mean and sd over seeds of each measure."""
    import pandas as pd

    rows = []
    for name in ds.mechanism.values:
        row = {"mechanism": str(name), "scale": SCALES.get(str(name), ""), "seeds": int(ds.sizes["seed"])}
        for m in _SHOWN:
            v = np.asarray(ds[m].sel(mechanism=name), float)
            v = v[np.isfinite(v)]
            row[f"{m}_mean"] = float(v.mean()) if v.size else math.nan
            row[f"{m}_sd"] = float(v.std(ddof=1)) if v.size > 1 else (0.0 if v.size else math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(ds) -> str:
    """Markdown table of mean ± sd over seeds of each measure, one row per mechanism.

    Parameters
    ----------
    ds : xarray.Dataset
        The result of :func:`compare_brain`.

    Returns
    -------
    str
        The table, ending with a newline.
    """
    df = _summary(ds)
    head = ["mechanism", "scale"] + list(_SHOWN)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in df.iterrows():
        cells = [r["mechanism"], r["scale"]] + [f"{r[f'{m}_mean']:.3f} ± {r[f'{m}_sd']:.3f}" for m in _SHOWN]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _stats(ds, dim, name, metric):
    v = np.asarray(ds[metric].sel({dim: name}), float)
    v = v[np.isfinite(v)]
    if not v.size:
        return math.nan, 0.0
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def pair_figure(ann_ds, brain_ds, metric="usage_entropy"):
    """Bars pairing each ANN normalization with its brain counterpart, grouped by scale (mean ± sd over seeds).

    Parameters
    ----------
    ann_ds : xarray.Dataset or None
        Result of :func:`homeonet.ann.compare.compare` (dims ``(norm, seed)``); None for the brain side only.
    brain_ds : xarray.Dataset or None
        Result of :func:`compare_brain` (dims ``(mechanism, seed)``); None for the ANN side only.
    metric : str
        A measure present on both sides: ``usage_entropy``, ``gini``, ``population_sparseness``,
        ``participation_ratio``, or ``accuracy`` (ANN test accuracy next to brain decoding accuracy).

    Returns
    -------
    matplotlib.figure.Figure
        One bar per ANN normalization and one per brain mechanism; the brain bar sits right of
        the ANN bars of its scale.
    """
    from matplotlib.figure import Figure

    metric = check_choice("metric", metric, ("usage_entropy", "gini", "population_sparseness",
                                             "participation_ratio", "accuracy"))
    if ann_ds is None and brain_ds is None:
        raise HomeonetError("ann_ds and brain_ds: give at least one result")
    ann_metric = "test_accuracy" if metric == "accuracy" else metric
    brain_metric = "decoding_accuracy" if metric == "accuracy" else metric
    for label, ds, dim, m in (("ann_ds", ann_ds, "norm", ann_metric), ("brain_ds", brain_ds, "mechanism",
                                                                      brain_metric)):
        if ds is not None and (dim not in getattr(ds, "dims", ()) or m not in getattr(ds, "data_vars", ())):
            raise HomeonetError(f"{label} must be a comparison result with dim {dim!r} and variable {m!r}")
    norms = [str(n) for n in ann_ds.norm.values] if ann_ds is not None else []
    mechs = [str(m) for m in brain_ds.mechanism.values] if brain_ds is not None else []
    order = list(MECHANISMS)
    groups = []  # (scale label, [ann norms], brain mechanism or None)
    for mech in order + [None]:
        ann = [n for n in norms if COUNTERPARTS.get(n) == mech] if mech else \
            [n for n in norms if n not in COUNTERPARTS]
        brain = mech if mech in mechs else None
        if ann or brain:
            groups.append((SCALES.get(mech, "other") if mech else "other", ann, brain))
    fig = Figure(figsize=(max(4.0, 0.45 * (len(norms) + len(mechs)) + 1.5), 3.0), layout="constrained")
    ax = fig.add_subplot()
    x, ticks, ticklabels, centers = 0.0, [], [], []
    ann_label = brain_label = None
    for scale, ann, brain in groups:
        start = x
        for n in ann:
            mean, sd = _stats(ann_ds, "norm", n, ann_metric)
            ax.bar(x, mean, yerr=sd, width=0.8, color="C0", capsize=2,
                   label=None if ann_label else "ANN normalization")
            ann_label = True
            ticks.append(x)
            ticklabels.append(n)
            x += 1
        if brain:
            mean, sd = _stats(brain_ds, "mechanism", brain, brain_metric)
            ax.bar(x, mean, yerr=sd, width=0.8, color="C3", hatch="//", capsize=2,
                   label=None if brain_label else "brain mechanism")
            brain_label = True
            ticks.append(x)
            ticklabels.append(brain.replace("_", " "))
            x += 1
        centers.append(((start + x - 1) / 2, scale))
        x += 0.8
    ax.set_xticks(ticks, ticklabels, rotation=60, ha="right", fontsize=7)
    for c, scale in centers:
        ax.annotate(scale, (c, 1.0), xycoords=("data", "axes fraction"), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig
