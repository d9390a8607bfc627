r"""``homeonet compare``: deep-learning normalizations and brain mechanisms measured on the same data.

One pipeline for both sides. A *method* (:class:`Method`) is anything that maps a data set and a
seed to the same dictionary of measures:

- ANN side: an MLP, or for images a small CNN, trained with one normalization
  (:func:`homeonet.ann.train.evaluate`: torch's BatchNorm, LayerNorm, GroupNorm and weight
  normalization, homeonet's SynapticScaling, IntrinsicPlasticity, DivisiveNormalization and
  EquiNormalization); methods ``mlp:<norm>`` and ``cnn:<norm>``.
- brain side: a Brian2 rate network driven by the data set's samples, whose hidden layer carries
  one homeostatic mechanism (:func:`rate_network`; methods ``rate:<mechanism>``); and any other
  network registered with :func:`register`, such as the spiking Diehl & Cook (2015) network and
  its ablations (``diehl_cook:<variant>``, registered when :mod:`homeonet.models.diehl_cook` is
  present).

Every method returns ``test_accuracy`` (a fraction) and the coding measures of its hidden units'
responses to the test samples (:func:`coding_measures`: usage entropy, Gini coefficient,
population sparseness, participation-ratio dimensionality) and ``wall_time``. :func:`compare`
runs every (data set, method, seed) *point* once, saves each finished point at once (a rerun
resumes, and a run with other methods adds to the same folder), and returns one
``xarray.Dataset`` over ``(dataset, condition, seed)`` (a condition is a method by name,
``'mlp:batchnorm'``; the dimension is not called ``method``, which ``Dataset.sel`` reserves). :func:`summary` gives its mean and spread
over seeds (``.mean('seed')``, ``.std('seed', ddof=1)``: with one seed the spread is undefined,
NaN, and shown empty), the one table both sides share (:func:`write_tables`: CSV and Markdown,
accuracy in %), and :func:`pair_figure` pairs each ANN normalization with the brain mechanisms of
its scale (:data:`SCALES`).

The pairing by scale (Shen, Wang & Navlakha 2021): BatchNorm and IntrinsicPlasticity set each
unit's gain and bias (neuron scale); weight normalization and SynapticScaling rescale each unit's
incoming weights (synapse); LayerNorm, GroupNorm and divisive normalization normalize by the
layer's activity (layer); equi-normalization balances the layers of the whole network (network).

Examples::

    >>> from homeonet.comparison import compare, summary
    >>> ds = compare("digits", ["mlp:none", "mlp:batchnorm", "rate:intrinsic_plasticity"],
    ...              seeds=2, brain_seeds=1)  # doctest: +SKIP
    >>> ds.accuracy.dims  # doctest: +SKIP
    ('dataset', 'condition', 'seed')
    >>> summary(ds)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from homeonet._io import atomic_write
from homeonet._validate import (HomeonetError, OutputError, ParameterError, RunInterrupted, check_choice,
                                check_count)

__all__ = ["MEASURES", "SCALES", "ANN_SCALES", "MECHANISMS", "COUNTERPARTS", "OFFLINE_DATASETS", "Method",
           "METHODS", "register", "select", "coding_measures", "rate_network", "compare", "summary",
           "markdown", "write_tables", "pair_figure"]

logger = logging.getLogger(__name__)

#: Measures of every point: name -> (table header, unit). ``accuracy`` is the test accuracy in percent
#: (the ANN's own output; the brain networks' read-out, see each method), the rest describe the hidden
#: units' responses to the test samples (:func:`coding_measures`).
MEASURES = {
    "accuracy": ("accuracy (%)", "%"),
    "usage_entropy": ("usage entropy", "1"),
    "gini": ("Gini", "1"),
    "population_sparseness": ("pop. sparseness", "1"),
    "participation_ratio": ("dimensionality", "1"),
    "wall_time": ("wall time (s)", "s"),
}
_DIGITS = {"accuracy": 2, "usage_entropy": 4, "gini": 3, "population_sparseness": 3, "participation_ratio": 1,
           "wall_time": 1}

#: Spatial scales, in the order tables and figures show them ('all': several scales at once).
SCALES = ("none", "neuron", "synapse", "layer", "network", "all")

#: Scale of each ANN normalization (:data:`homeonet.ann.train.NORMS`).
ANN_SCALES = {"none": "none", "batchnorm": "neuron", "intrinsic_plasticity": "neuron", "weightnorm": "synapse",
              "synaptic_scaling": "synapse", "synaptic_scaling_rate": "synapse", "layernorm": "layer",
              "groupnorm": "layer", "divisive": "layer", "equinorm": "network"}

#: Mechanisms of the rate network (:func:`rate_network`) and their scales, from none to the network.
MECHANISMS = {"none": "none", "intrinsic_plasticity": "neuron", "synaptic_scaling": "synapse",
              "inhibitory_normalization": "layer", "network_homeostasis": "network"}

#: The rate-network mechanism at the scale of each ANN normalization.
COUNTERPARTS = {norm: next(m for m, s in MECHANISMS.items() if s == scale) for norm, scale in ANN_SCALES.items()}

#: Data sets every method can use offline (:mod:`homeonet.datasets`); ``--dataset all``.
OFFLINE_DATASETS = ("digits", "mnist5k", "mnist1d")
_IMAGES = ("digits", "mnist5k", "mnist", "fashion_mnist", "cifar10")
_TORCHVISION = ("mnist", "fashion_mnist", "cifar10")


@dataclass(frozen=True)
class Method:
    """One entry of the comparison: a network with one normalization or mechanism.

    Attributes
    ----------
    name : str
        ``'<network>:<variant>'``, e.g. ``'mlp:batchnorm'``, ``'rate:synaptic_scaling'``.
    side : {'ann', 'brain'}
    network, variant : str
    scale : str
        One of :data:`SCALES`: what it pairs with on the other side.
    run : callable
        ``run(dataset_name, seed=seed, progress=bool, **options) -> dict`` with ``test_accuracy``
        (fraction), ``usage_entropy``, ``gini``, ``population_sparseness``,
        ``participation_ratio`` and ``wall_time`` (s); other keys are ignored.
    options : dict
        Default options; the resolved options are part of a point's identity (its file name).
    datasets : tuple of str or None
        Data sets it can run on (None: every one).
    description : str
    """

    name: str
    side: str
    network: str
    variant: str
    scale: str
    run: Callable
    options: dict = field(default_factory=dict)
    datasets: tuple | None = None
    description: str = ""

    def applies(self, dataset: str) -> bool:
        """Whether the method runs on *dataset*."""
        return self.datasets is None or dataset in self.datasets


#: Registered methods by name (see :func:`register`).
METHODS: dict = {}


def register(method: Method) -> Method:
    """Add *method* to :data:`METHODS` (replacing one of the same name) and return it.

    Parameters
    ----------
    method : Method

    Returns
    -------
    Method

    Raises
    ------
    ParameterError
        A side or scale that is not known.
    """
    check_choice("side", method.side, ("ann", "brain"))
    check_choice("scale", method.scale, SCALES)
    METHODS[method.name] = method
    return method


def _run_ann(dataset, seed=0, *, norm, model, progress=False, **options):
    from homeonet.ann.train import evaluate

    return evaluate(dataset, seed, norm=norm, model=model, progress=progress, **options)


#: ANN training settings (:func:`homeonet.ann.train.evaluate`); the hidden sizes default by network.
_ANN_OPTIONS = {"epochs": 20, "batch_size": 64, "lr": 1e-3}

for _model, _datasets in (("mlp", None), ("cnn", _IMAGES)):
    for _norm, _scale in ANN_SCALES.items():
        register(Method(f"{_model}:{_norm}", "ann", _model, _norm, _scale,
                        functools.partial(_run_ann, norm=_norm, model=_model), dict(_ANN_OPTIONS), _datasets,
                        f"{_model.upper()} with {_norm}"))


def select(names) -> list:
    """Methods from names: full names (``'mlp:batchnorm'``), networks (``'rate'``: all its variants),
    ``'ann'`` or ``'brain'`` (every method of that side).

    Parameters
    ----------
    names : str or sequence of str
        A comma-separated string or a list.

    Returns
    -------
    list of Method
        Without repetitions, in the order given.

    Raises
    ------
    ParameterError
        An unknown name (the message lists the accepted ones).
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = []
    for name in names:
        found = [m for m in METHODS.values() if name in (m.name, m.network, m.side)]
        if not found:
            networks = sorted({m.network for m in METHODS.values()})
            raise ParameterError(f"methods: unknown method {name!r}; give NETWORK:VARIANT (e.g. mlp:batchnorm, "
                                 f"rate:synaptic_scaling), a network ({', '.join(networks)}), 'ann' or 'brain'")
        out += [m for m in found if m not in out]
    if not out:
        raise ParameterError("methods must name at least one method")
    return out


# ----------------------------------------------------------------------------------------------- measures

def coding_measures(responses) -> dict:
    r"""Load-balancing and coding measures of a ``(samples x units)`` response matrix, the same for both sides.

    Usage entropy :math:`H = -\sum_i p_i \log p_i / \log N` with
    :math:`p_i = \langle r_i \rangle / \sum_j \langle r_j \rangle` (1: every unit equally used),
    the Gini coefficient of the usage, the Treves-Rolls population sparseness (mean over samples)
    and the participation-ratio dimensionality :math:`(\sum \lambda)^2 / \sum \lambda^2` of the
    response covariance (:mod:`homeonet.analysis.coding`).

    Parameters
    ----------
    responses : array_like
        ``(samples, units)``, non-negative (rates, ReLU activations, spike counts).

    Returns
    -------
    dict
        ``usage_entropy``, ``gini``, ``population_sparseness``, ``participation_ratio``; all NaN
        when the matrix is not finite or every unit is silent.
    """
    from homeonet.analysis.coding import gini, participation_ratio, population_sparseness, usage_entropy

    X = np.asarray(responses, dtype=float)
    if X.ndim != 2 or X.size == 0 or not np.isfinite(X).all() or not X.mean(axis=0).sum() > 0:
        return dict.fromkeys(("usage_entropy", "gini", "population_sparseness", "participation_ratio"), math.nan)
    with warnings.catch_warnings():  # silent samples have no sparseness: nanmean skips them
        warnings.simplefilter("ignore", RuntimeWarning)
        sparseness = float(np.nanmean(population_sparseness(X)))
    return {"usage_entropy": float(usage_entropy(X)), "gini": float(gini(X)), "population_sparseness": sparseness,
            "participation_ratio": float(participation_ratio(X))}


# ----------------------------------------------------------------------------------------------- rate network

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
    return [GlobalHomeostasis(gamma=target * Hz, tau_H=100 * ms, tau_G=300 * ms, period=10 * ms,
                              G_min=0.05, G_max=20.0, sensor=sensor)], []


def _input_rates(d, rate_max):
    """Samples of data set *d* as input rates in Hz: intensities times *rate_max*; other features
    (``mnist1d``) mapped to [0, 1] with the training set's range first."""
    if d.image:
        return d.x_train * rate_max, d.x_test * rate_max
    lo, hi = d.x_train.min(axis=0), d.x_train.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (np.clip((d.x_train - lo) / span, 0, 1) * rate_max, np.clip((d.x_test - lo) / span, 0, 1) * rate_max)


def rate_network(dataset="digits", seed: int = 0, *, mechanism: str = "none", n_hidden: int = 100,
                 n_adapt: int = 100, n_fit: int = 400, n_test: int = 200, presentation: float = 0.05,
                 rate_max: float = 40.0, target: float = 5.0, progress: bool = False) -> dict:
    r"""A Brian2 rate network driven by a data set's samples, with one homeostatic mechanism on its hidden layer.

    Each sample is presented for *presentation* seconds as input rates (pixel intensity times
    *rate_max*; :mod:`homeonet.datasets`). The hidden layer (:class:`homeonet.models.RateNeuron`,
    all-to-all input weights) is deliberately unequal in unit usage when unregulated: each unit has
    its own input gain :math:`g_i` (log-normal) and threshold offset :math:`c_i` (uniform up to 0.8
    times the mean input rate),

    .. math:: \tau \dot r_i = -r_i + \big[g_i \textstyle\sum_j w_{ij} \lambda_j(t) - c_i\big]_+ ,

    so that a few units carry most of the activity. *mechanism* (:data:`MECHANISMS`) regulates it:
    an adaptive threshold toward *target* Hz (neuron scale), multiplicative scaling of each unit's
    incoming weights (synapse), divisive normalization by the layer's summed drive (layer), or one
    gain for the layer toward a target mean rate (network). Three phases: *n_adapt* training samples
    (the mechanisms settle), *n_fit* training samples (responses fit a linear read-out, multinomial
    logistic regression on standardised rates) and *n_test* test samples (accuracy of that read-out,
    and the coding measures of the responses, :func:`coding_measures`). The response of a unit to a
    presentation is its mean rate after the first 10 ms.

    Parameters
    ----------
    dataset : str
        One of :data:`OFFLINE_DATASETS`.
    seed : int
        Seeds the samples drawn, the weights and the units' heterogeneity (and Brian2).
    mechanism : str
        One of :data:`MECHANISMS`.
    n_hidden, n_adapt, n_fit, n_test : int
        Hidden units (>= 2) and presentations of each phase (>= 1; *n_fit* >= 2 per class is
        needed for the read-out).
    presentation : float
        Seconds per sample (> 0.01).
    rate_max : float
        Input rate of a full-intensity pixel, Hz (> 0).
    target : float
        Set point of the rate-regulating mechanisms, Hz (> 0).
    progress : bool
        Unused (the caller shows progress over points); accepted for the method protocol.

    Returns
    -------
    dict
        ``test_accuracy`` (fraction), the coding measures, ``mean_rate`` (Hz, test phase) and
        ``wall_time`` (s).

    Raises
    ------
    ParameterError
        A bad argument.
    RunInterrupted
        The simulation was stopped early (one Ctrl-C stops a Brian2 run at the current step).

    Notes
    -----
    Runs use the current Brian2 code-generation target with a 1 ms time step (restored after).
    """
    import brian2
    from brian2 import Hz, TimedArray, ms, second

    from homeonet import datasets
    from homeonet.analysis.coding import _decoder, response_matrix
    from homeonet.models import RateNeuron, feedforward
    from homeonet.models.stimuli import Schedule
    from homeonet.simulate import simulate

    check_choice("dataset", dataset, OFFLINE_DATASETS)
    check_choice("mechanism", mechanism, MECHANISMS)
    n_hidden = check_count("n_hidden", n_hidden, minimum=2)
    n_adapt, n_fit, n_test = (check_count(k, v) for k, v in (("n_adapt", n_adapt), ("n_fit", n_fit),
                                                            ("n_test", n_test)))
    for name, value, low in (("presentation", presentation, 0.01), ("rate_max", rate_max, 0.0),
                             ("target", target, 0.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= low:
            raise ParameterError(f"{name} must be a number > {low:g}; got {value!r}")
    t0 = time.perf_counter()
    d = datasets.load(dataset)
    x_train, x_test = _input_rates(d, rate_max)
    rng = np.random.default_rng([seed, 7])
    pick = rng.choice(len(x_train), n_adapt + n_fit, replace=len(x_train) < n_adapt + n_fit)
    test = rng.choice(len(x_test), n_test, replace=len(x_test) < n_test)
    rows = np.concatenate([x_train[pick], x_test[test]])
    labels = np.concatenate([d.y_train[pick], d.y_test[test]])
    n = len(rows)
    schedule = Schedule(rates=TimedArray(rows * Hz, dt=presentation * second), labels=labels,
                        onsets=np.arange(n) * presentation * second, duration=presentation * second)
    old_dt = brian2.defaultclock.dt
    brian2.defaultclock.dt = 1 * ms
    try:
        brian2.seed(seed)
        neurons, syn = _mechanism(mechanism, target)
        net = feedforward((n_hidden,), RateNeuron(r_max=200 * Hz), schedule, mechanisms=[neurons],
                          synapse_mechanisms=[syn], seed=seed, record={"L1": ["r"]}, record_dt=1 * ms)
        gain = rng.lognormal(0.0, 0.8, n_hidden)  # heterogeneous units: a gain and an offset each
        offset = rng.uniform(0.0, 0.8, n_hidden) * float(rows.mean())
        W = net["W1"]
        W.w = np.asarray(W.w[:]) * gain[np.asarray(W.j[:])]
        net["L1"].I_ext = -offset * Hz
        duration = n * presentation * second
        results = simulate(net, duration, progress=False, level=1)
        if float(net.t / second) < float(duration / second) - 0.5e-3:  # Brian2 turned a Ctrl-C into a stop
            raise RunInterrupted(f"the rate network was stopped at {float(net.t / second):.3g} s of "
                                 f"{float(duration / second):.3g} s")
    finally:
        brian2.defaultclock.dt = old_dt
    X, y = response_matrix(results, schedule, "L1", offset=10 * ms)
    X = np.asarray(X, dtype=float)
    fit, held = slice(n_adapt, n_adapt + n_fit), slice(n_adapt + n_fit, n)
    row = {"mean_rate": float(X[held].mean())}
    if not np.isfinite(X).all() or len(np.unique(y[fit])) < 2:
        acc = math.nan
    else:
        acc = float(_decoder(1.0, 1000).fit(X[fit], y[fit]).score(X[held], y[held]))
    return {"test_accuracy": acc, **coding_measures(X[held]), **row, "wall_time": time.perf_counter() - t0}


_RATE_OPTIONS = {"n_hidden": 100, "n_adapt": 100, "n_fit": 400, "n_test": 200, "presentation": 0.05,
                 "rate_max": 40.0, "target": 5.0}

for _mech, _scale in MECHANISMS.items():
    register(Method(f"rate:{_mech}", "brain", "rate", _mech, _scale,
                    functools.partial(rate_network, mechanism=_mech), dict(_RATE_OPTIONS), OFFLINE_DATASETS,
                    f"Brian2 rate network, {_mech.replace('_', ' ')}"))

#: Scale of each variant of the Diehl & Cook network (:mod:`homeonet.models.diehl_cook`): its adaptive
#: threshold acts on neurons, its weight normalization on synapses, its lateral inhibition on the layer.
DIEHL_COOK_SCALES = {"threshold_only": "neuron", "normalization_only": "synapse", "inhibition_only": "layer"}


def _register_diehl_cook():
    """Register every variant of the spiking Diehl & Cook network as a brain method, when present."""
    try:
        from homeonet.models import diehl_cook
    except ImportError:
        return
    for variant, description in diehl_cook.VARIANTS.items():
        register(Method(f"diehl_cook:{variant}", "brain", "diehl_cook", variant,
                        DIEHL_COOK_SCALES.get(variant, "all"), functools.partial(diehl_cook.evaluate, variant=variant),
                        {"neurons": 100, "n_train": None, "n_test": None, "device": "runtime"}, ("digits", "mnist5k"),
                        f"spiking Diehl & Cook (2015) network: {description}"))


_register_diehl_cook()


# ----------------------------------------------------------------------------------------------- the pipeline

def _checked_out(out) -> Path:
    """The output folder, created and probed for writing (with its ``points`` folder); the comparison's
    files must not exist as folders (before any work)."""
    from homeonet._io import check_output_paths

    path = check_output_paths(out, ("compare.nc", "compare.csv", "compare.md", "compare_pairs.png"), option="out")
    check_output_paths(path / "points", (), option="out")
    return path


def _seeds(name, value, minimum):
    if isinstance(value, (list, tuple, range, np.ndarray)):
        seeds = [check_count(f"{name}[{k}]", s, minimum=0) for k, s in enumerate(value)]
        return list(dict.fromkeys(seeds))
    return list(range(check_count(name, value, minimum=minimum)))


def _datasets(datasets, root) -> list:
    from_text = isinstance(datasets, str)
    names = [n.strip() for n in datasets.split(",") if n.strip()] if from_text else list(datasets)
    if names == ["all"]:
        names = list(OFFLINE_DATASETS)
    choices = OFFLINE_DATASETS + _TORCHVISION + ("generated",)
    if not names:
        raise ParameterError(f"dataset must name at least one of {', '.join(choices)} or 'all'")
    for n in names:
        if n not in choices:
            raise ParameterError(f"dataset must be one of {', '.join(choices)} or 'all'; got {n!r}")
        if n in _TORCHVISION and (root is None or not Path(root).is_dir()):
            raise ParameterError(f"dataset {n!r} is read from a local folder (torchvision layout): give root, "
                                 f"an existing folder; got {None if root is None else str(root)!r}")
    return list(dict.fromkeys(names))


def _resolved(method: Method, options: dict, root) -> dict:
    """The method's default options updated by ``options[network]`` (unknown names refused)."""
    given = dict(options.get(method.network, {}))
    unknown = sorted(set(given) - set(method.options) - ({"hidden"} if method.side == "ann" else set()))
    if unknown:
        raise ParameterError(f"options: {method.network} takes {', '.join(sorted(method.options))}; "
                             f"got {', '.join(unknown)}")
    resolved = {**method.options, **given}
    if method.side == "ann" and root is not None:
        resolved["root"] = str(root)
    return resolved


def _identity(method: Method, dataset: str, seed: int, options: dict) -> dict:
    from homeonet import __version__

    return {"method": method.name, "dataset": dataset, "seed": int(seed), "options": options, "version": __version__}


def _point_path(folder: Path, ident: dict) -> Path:
    digest = hashlib.sha1(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return folder / f"{ident['dataset']}-{ident['method'].replace(':', '-')}-s{ident['seed']}-{digest}.json"


def _read_point(path: Path):
    try:
        point = json.loads(path.read_text())
        point["measures"] = {k: float(point["measures"][k]) for k in MEASURES}
        return point
    except (OSError, ValueError, KeyError, TypeError) as err:
        warnings.warn(f"ignoring unreadable comparison point {str(path)!r} ({err})", RuntimeWarning, stacklevel=3)
        return None


def _measures(method: Method, result) -> dict:
    """A method's result as the table's measures: accuracy in %, the rest as they are."""
    try:
        values = {k: float(result[k]) for k in ("test_accuracy", *list(MEASURES)[1:])}
    except (KeyError, TypeError, ValueError) as err:
        raise HomeonetError(f"method {method.name} returned no usable {err}; a method returns test_accuracy, "
                            f"{', '.join(list(MEASURES)[1:])}") from None
    if not np.isfinite(values["test_accuracy"]):  # a failed run, not a hole where a method does not apply
        raise HomeonetError(f"method {method.name} returned a test accuracy of {values['test_accuracy']}")
    return {"accuracy": 100.0 * values.pop("test_accuracy"), **values}


def compare(datasets="digits", methods="mlp", seeds=5, *, brain_seeds=3, out=None, options=None, root=None,
            resume: bool = True, progress: bool = False):
    """Run every method on every data set over seeds; one result for both sides.

    Parameters
    ----------
    datasets : str or sequence of str
        Names (a comma-separated string is accepted): :data:`OFFLINE_DATASETS`, ``'all'`` (those
        three), ``'generated'``, or a torchvision set (``'mnist'``, ``'fashion_mnist'``,
        ``'cifar10'``) read from *root*.
    methods : str or sequence of str
        See :func:`select`; a method is run on the data sets it applies to (the CNN on images,
        the brain networks on the offline sets).
    seeds : int or sequence of int
        ANN seeds: ``K`` runs seeds ``0 .. K-1`` (0 skips the ANN methods); or the seeds themselves.
    brain_seeds : int or sequence of int
        The same for the brain methods (their runs take longer). Default: 3.
    out : str or Path, optional
        Folder (created if needed, checked for writing before any work). Every finished point is
        saved at once as ``points/*.json`` (named by a hash of the method, data set, seed, options
        and homeonet version), so an interrupted comparison resumes and a second one with other
        methods or data sets adds to the first; ``compare.nc`` (every finished point with the
        current options), ``compare.csv`` and ``compare.md`` (:func:`write_tables`) are rewritten
        at the end.
    options : dict, optional
        Options by network, e.g. ``{'mlp': {'epochs': 10}, 'rate': {'n_hidden': 50}}``; they
        override each method's defaults (:attr:`Method.options`).
    root : str or Path, optional
        Folder of the torchvision data sets.
    resume : bool
        Reuse finished points in *out*. Default: True.
    progress : bool
        A progress bar over points.

    Returns
    -------
    xarray.Dataset
        Variables :data:`MEASURES` over ``(dataset, condition, seed)``, a condition being a method's
        name (NaN where a method does not apply, a seed was not run or its point failed); coordinates
        ``side``, ``network``, ``method`` (the normalization, mechanism or variant) and ``scale`` on
        ``condition``; attributes ``complete`` (1, or 0 when a point failed) and ``failed`` (each
        failed point and its error; a rerun tries them again). Failed points also raise a
        ``RuntimeWarning``; the other points are run and saved.

    Raises
    ------
    ParameterError, OutputError
        Bad arguments or an unusable *out*, before any work.
    RuntimeError
        Every point failed (each named with its error).
    RunInterrupted
        Ctrl-C: the finished points are kept in *out*; rerunning the same call resumes.
    """
    chosen = select(methods)
    names = _datasets(datasets, root)
    seed_lists = {"ann": _seeds("seeds", seeds, 0), "brain": _seeds("brain_seeds", brain_seeds, 0)}
    options = dict(options or {})
    unknown = sorted(set(options) - {m.network for m in METHODS.values()})
    if unknown:
        raise ParameterError(f"options: unknown network {unknown[0]!r}; networks: "
                             f"{', '.join(sorted({m.network for m in METHODS.values()}))}")
    resolved = {m.name: _resolved(m, options, root) for m in METHODS.values()}
    folder = None if out is None else _checked_out(out) / "points"
    todo = [(m, d, s) for d in names for m in chosen if m.applies(d) for s in seed_lists[m.side]]
    if not todo:
        raise ParameterError("methods, dataset and seeds leave nothing to run (a CNN needs images, the brain "
                             "networks an offline data set, and each side at least one seed)")
    points, done, failed = {}, 0, []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="compare", unit="point")
    try:
        for method, dataset, seed in todo:
            ident = _identity(method, dataset, seed, resolved[method.name])
            path = None if folder is None else _point_path(folder, ident)
            point = _read_point(path) if path is not None and resume and path.exists() else None
            if point is None:
                if bar is not None:
                    bar.set_postfix_str(f"{dataset} {method.name} seed {seed}")
                try:
                    result = method.run(dataset, seed=seed, progress=False, **resolved[method.name])
                    point = {**ident, "measures": _measures(method, result)}
                except (KeyboardInterrupt, ParameterError, OutputError):
                    raise
                except Exception as err:  # this point failed (a run that diverged...): the others go on
                    failed.append(f"{dataset} {method.name} seed {seed} ({type(err).__name__}: "
                                  f"{str(err).splitlines()[0] if str(err) else 'no message'})")
                    logger.warning("compare: %s failed", failed[-1])
                    points[(dataset, method.name, seed)] = {**ident, "measures": dict.fromkeys(MEASURES, np.nan)}
                    done += 1
                    if bar is not None:
                        bar.update()
                    continue
                if path is not None:
                    text = json.dumps(point, indent=1, default=str)
                    atomic_write(path, lambda tmp, text=text: Path(tmp).write_text(text))
                logger.info("compare: %s %s seed %d: %s", dataset, method.name, seed, point["measures"])
            points[(dataset, method.name, seed)] = point
            done += 1
            if bar is not None:
                bar.update()
    except KeyboardInterrupt as err:
        kept = f"; they are kept in {str(out)!r}: run the same command again to resume" if out is not None else ""
        why = f" ({err})" if str(err) else ""
        raise RunInterrupted(f"interrupted after {done} of {len(todo)} points{why}{kept}") from None
    finally:
        if bar is not None:
            bar.close()
    if folder is not None:  # merge: every finished point in the folder made with the current options
        for path in sorted(folder.glob("*.json")):
            point = _read_point(path)
            method = None if point is None else METHODS.get(point.get("method"))
            if method is None or (point["dataset"], method.name, point["seed"]) in points:
                continue
            # same options (and version) iff the file has the name the current options give
            if path == _point_path(folder, _identity(method, point["dataset"], point["seed"], resolved[method.name])):
                points[(point["dataset"], method.name, point["seed"])] = point
    if len(failed) == len(todo):
        raise RuntimeError(f"every comparison point failed: {'; '.join(failed)}")
    ds = _dataset(points.values())
    # a failed point is NaN in the table and named here, never silently absent (it is tried again on a rerun)
    ds.attrs["failed"] = "; ".join(failed)
    ds.attrs["complete"] = int(not failed)
    if failed:
        warnings.warn(f"{len(failed)} of {len(todo)} comparison points failed: {ds.attrs['failed']}",
                      RuntimeWarning, stacklevel=2)
    if out is not None:
        path = Path(out)
        atomic_write(path / "compare.nc", lambda tmp: ds.to_netcdf(tmp))
        write_tables(ds, path / "compare")
    return ds


def _dataset(points):
    """The points as an ``xarray.Dataset`` over ``(dataset, condition, seed)`` (NaN where there is none)."""
    import xarray as xr

    points = list(points)
    datasets = list(dict.fromkeys(p["dataset"] for p in points))
    # methods by scale, then side (ANN before brain), network and variant
    methods = sorted({p["method"] for p in points}, key=lambda n: (SCALES.index(METHODS[n].scale),
                                                                   METHODS[n].side != "ann", METHODS[n].network,
                                                                   METHODS[n].variant))
    seeds = sorted({int(p["seed"]) for p in points})
    data = {m: np.full((len(datasets), len(methods), len(seeds)), np.nan) for m in MEASURES}
    for p in points:
        at = datasets.index(p["dataset"]), methods.index(p["method"]), seeds.index(int(p["seed"]))
        for m in MEASURES:
            data[m][at] = p["measures"][m]
    coords = {"dataset": datasets, "condition": methods, "seed": seeds}
    coords.update({name: ("condition", [getattr(METHODS[n], attr) for n in methods])
                   for name, attr in (("side", "side"), ("network", "network"), ("method", "variant"),
                                      ("scale", "scale"))})
    ds = xr.Dataset({m: (("dataset", "condition", "seed"), v) for m, v in data.items()}, coords=coords)
    for name, (label, unit) in MEASURES.items():
        ds[name].attrs.update(long_name=label, units=unit)
    ds.attrs["description"] = "homeonet compare: ANN normalizations and brain mechanisms on the same data sets"
    return ds


def summary(ds):
    """Mean and spread over seeds of every measure, one row per (data set, method): the table of both sides.

    The mean is ``ds.mean('seed')`` and the spread the sample standard deviation
    ``ds.std('seed', ddof=1)``; with one seed the spread is undefined (NaN). Rows without any
    finished seed are dropped.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`compare`.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset, side, network, method, scale, seeds`` then ``<measure>_mean`` and
        ``<measure>_sd`` for each of :data:`MEASURES` (accuracy in %).
    """
    import pandas as pd

    values = ds[list(MEASURES)]
    with warnings.catch_warnings():  # a single seed: ddof=1 leaves no degree of freedom, the spread is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, sd = values.mean("seed"), values.std("seed", ddof=1)
    table = pd.concat([mean.to_dataframe()[list(MEASURES)].add_suffix("_mean"),
                       sd.to_dataframe()[list(MEASURES)].add_suffix("_sd"),
                       ds["accuracy"].count("seed").to_dataframe(name="seeds")["seeds"]], axis=1)
    table = table[table["seeds"] > 0].reset_index()
    for attr in ("side", "network", "method", "scale"):
        of = dict(zip(ds.condition.values.tolist(), ds[attr].values.tolist()))
        table[attr] = [of[c] for c in table["condition"]]
    columns = ["dataset", "side", "network", "method", "scale", "seeds"]
    return table[columns + [f"{m}_{k}" for m in MEASURES for k in ("mean", "sd")]]


def markdown(table) -> str:
    """A :func:`summary` table as Markdown: ``mean ± sd`` per measure (the mean alone with one seed).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`summary`.

    Returns
    -------
    str
        The table, ending with a newline.
    """
    cells = table[["dataset", "side", "network", "method", "scale", "seeds"]].copy()
    for m, (label, _) in MEASURES.items():
        k = _DIGITS[m]
        cells[label] = [("–" if not math.isfinite(mean) else f"{mean:.{k}f}" if not math.isfinite(sd)
                         else f"{mean:.{k}f} ± {sd:.{k}f}")
                        for mean, sd in zip(table[f"{m}_mean"], table[f"{m}_sd"])]
    return cells.to_markdown(index=False, disable_numparse=True) + "\n"


def write_tables(ds, stem) -> list:
    """Write the :func:`summary` of *ds* as ``STEM.csv`` (pandas) and ``STEM.md`` (:func:`markdown`), atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`compare`.
    stem : str or Path
        Path without suffix.

    Returns
    -------
    list of Path
    """
    stem = Path(stem)
    table = summary(ds)
    csv, md = stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".md")
    atomic_write(csv, lambda tmp: table.to_csv(tmp, index=False))
    text = markdown(table)
    atomic_write(md, lambda tmp: Path(tmp).write_text(text))
    return [csv, md]


_COLOURS = {"mlp": "C0", "cnn": "C9", "rate": "C3", "diehl_cook": "C1"}


def pair_figure(ds, metric: str = "usage_entropy"):
    """Bars pairing each ANN normalization with the brain mechanisms of its scale, one panel per data set.

    Within a panel the methods are grouped by scale (:data:`SCALES`, labelled above the groups):
    the ANN bars of a scale first, then its brain bars (hatched). Bars show the mean over seeds,
    error bars the sample standard deviation (none with one seed).

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`compare`.
    metric : str
        One of :data:`MEASURES`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    check_choice("metric", metric, MEASURES)
    if not {"dataset", "condition", "seed"} <= set(getattr(ds, "dims", ())) or metric not in getattr(ds, "data_vars",
                                                                                                     ()):
        raise ParameterError(f"ds must be a result of compare() with dims (dataset, condition, seed) and {metric!r}")
    table = summary(ds)
    datasets = list(dict.fromkeys(table["dataset"]))
    widest = max((table["dataset"] == d).sum() for d in datasets) if datasets else 1
    fig = Figure(figsize=(max(4.0, 0.4 * widest + 2.0), 2.8 * max(1, len(datasets))), layout="constrained")
    axes = fig.subplots(max(1, len(datasets)), 1, squeeze=False)[:, 0]
    for ax, dataset in zip(axes, datasets):
        rows = table[table["dataset"] == dataset]
        x, ticks, labels, used = 0.0, [], [], set()
        for scale in SCALES:
            group = rows[rows["scale"] == scale]
            if group.empty:
                continue
            start = x
            for _, r in group.iterrows():
                network, mean, sd = r["network"], r[f"{metric}_mean"], r[f"{metric}_sd"]
                label = f"{network} ({r['side']})"
                ax.bar(x, mean, yerr=sd if math.isfinite(sd) else None, width=0.8, capsize=2,
                       color=_COLOURS.get(network, "C7"), hatch="//" if r["side"] == "brain" else None,
                       label=None if label in used else label)
                used.add(label)
                ticks.append(x)
                labels.append(r["method"].replace("_", " "))
                x += 1
            ax.annotate(scale, ((start + x - 1) / 2, 1.0), xycoords=("data", "axes fraction"), ha="center",
                        va="bottom", fontsize=8)
            x += 0.8
        ax.set_xticks(ticks, labels, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel(f"{MEASURES[metric][0]}\n{dataset}", fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig
