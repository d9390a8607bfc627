r"""Coding capacity and load balancing of a (samples x units) response matrix.

The same measures apply to spike counts of a spiking run, rates of a rate
network and hidden activations of an ANN, so that the brain side and the
deep-learning side are compared on one scale. Rows are samples (stimulus
presentations), columns are units. :func:`response_matrix` builds the matrix
from a homeonet run over a stimulus schedule.

Usage of unit :math:`i` is its share of the total mean activity,
:math:`p_i = \bar r_i / \sum_j \bar r_j`; "load balancing" means equal usage.
"""

from __future__ import annotations

import numpy as np

from homeonet._validate import HomeonetError, check_choice, check_count, check_seed

from . import _util

__all__ = ["response_matrix", "usage", "usage_entropy", "gini", "population_sparseness", "lifetime_sparseness",
           "participation_ratio", "decoding_accuracy", "mutual_information", "decoding_information",
           "discriminability", "contrast_response_fit"]


def _matrix(name, responses, ndim=2, min_rows=1):
    arr, _ = _util.values(name, responses, ndim=ndim)
    if arr.ndim == 2 and (arr.shape[0] < min_rows or arr.shape[1] < 1):
        raise HomeonetError(f"{name} must be (samples x units) with >= {min_rows} samples and >= 1 unit, "
                            f"got shape {arr.shape}")
    return arr


def _labels(labels, n_samples):
    lab = np.asarray(getattr(labels, "values", labels))
    if lab.ndim != 1 or lab.size != n_samples:
        raise HomeonetError(f"labels must be 1-D with one label per sample ({n_samples}), got shape {lab.shape}")
    if lab.dtype.kind == "f" and not np.all(np.isfinite(lab)):
        raise HomeonetError("labels must not contain NaN")
    classes, codes = np.unique(lab, return_inverse=True)
    if classes.size < 2:
        raise HomeonetError(f"labels must contain at least 2 different stimuli, got {classes.size}")
    return classes, codes


# -- building the matrix -------------------------------------------------------------------------------------------

def response_matrix(results, schedule=None, population=None, *, onsets=None, labels=None, duration=None,
                    offset=0.0, window=None, statistic="rate"):
    r"""Responses of each unit to each stimulus presentation: a (presentations x units) matrix.

    For spiking populations, spike counts in :math:`[o_k + \delta, o_k + \delta + w)`
    (``statistic='count'``) or their rate :math:`c_{ki}/w` in Hz (``'rate'``); for rate
    populations (trace ``<pop>_r``), the mean rate over the samples in that window:

    .. math:: X_{ki} = \frac{1}{w}\#\{ \text{spikes of } i \in [o_k + \delta, o_k + \delta + w) \}
              \quad\text{or}\quad X_{ki} = \langle r_i(t) \rangle_{t \in [o_k + \delta, o_k + \delta + w)}

    Parameters
    ----------
    results : homeonet.Results or brian2.SpikeMonitor
        A run (spikes of *population*, or its rate trace ``<population>_r``), or a monitor.
    schedule : homeonet.models.stimuli.Schedule, optional
        Presentation schedule (``onsets``, ``labels``, ``duration``); or give those three directly.
    population : str, optional
        Population (needed when the results hold several).
    onsets : Quantity or array, optional
        Onset of each presentation (increasing).
    labels : array, optional
        Stimulus label of each presentation.
    duration : Quantity or float, optional
        Duration of one presentation (> 0 s).
    offset : Quantity or float
        Delay :math:`\delta` from the onset to the start of the window (>= 0 s; e.g. to skip transients).
    window : Quantity or float, optional
        Length :math:`w` of the window (> 0 s; default ``duration - offset``).
    statistic : {'rate', 'count'}
        Rate (Hz) or spike count (spiking populations only).

    Returns
    -------
    responses : numpy.ndarray
        Shape ``(presentations, units)``, in Hz (rate) or counts.
    labels : numpy.ndarray
        Label of each presentation.

    Raises
    ------
    HomeonetError
        Missing or inconsistent schedule arguments, an unknown population, or a window that ends
        after the run (its spikes were never recorded: it would read as silence).

    References
    ----------
    Dayan P, Abbott LF (2001) Theoretical Neuroscience, ch. 3 (neural decoding). MIT Press.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import SpikeGeneratorGroup, SpikeMonitor, Network, ms, second
    >>> G = SpikeGeneratorGroup(2, [0, 0, 1], [5, 15, 25] * ms)
    >>> mon = SpikeMonitor(G); Network(G, mon).run(40 * ms)
    >>> X, y = response_matrix(mon, onsets=[0, 20] * ms, labels=["a", "b"], duration=20 * ms, statistic="count")
    >>> X
    array([[2., 0.],
           [0., 1.]])
    >>> y
    array(['a', 'b'], dtype='<U1')
    """
    check_choice("statistic", statistic, ("rate", "count"))
    if schedule is not None:
        onsets = schedule.onsets if onsets is None else onsets
        labels = schedule.labels if labels is None else labels
        duration = schedule.duration if duration is None else duration
    if onsets is None or labels is None or duration is None:
        raise HomeonetError("schedule must be given, or onsets, labels and duration")
    on = _util.seconds("onsets", onsets)
    if on.ndim != 1 or on.size < 1:
        raise HomeonetError(f"onsets must be a 1-D array of presentation times, got shape {on.shape}")
    if on.size > 1 and np.any(np.diff(on) < 0):
        raise HomeonetError("onsets must be increasing")
    lab = np.asarray(labels)
    if lab.shape != on.shape:
        raise HomeonetError(f"labels must have one entry per onset ({on.size}), got shape {lab.shape}")
    dur = _util.positive_time("duration", duration)
    off = _util.positive_time("offset", offset, allow_zero=True)
    w = dur - off if window is None else _util.positive_time("window", window)
    if not w > 0:
        raise HomeonetError(f"offset must be shorter than duration ({dur:g} s), got {off:g} s")
    # 1 ns slack so that a sample or spike on a window edge (0.1 + 0.05 != 0.15 in floats) falls in [start, stop)
    starts, stops = on + off - 1e-9, on + off + w - 1e-9

    from brian2 import SpikeMonitor

    is_results = hasattr(results, "dataset") and hasattr(results, "populations")
    # a window past the end of the run would count the spikes nobody recorded as silence
    end = _util.run_end(results)
    if end is not None and stops[-1] > end + 1e-9:
        raise HomeonetError(f"onsets must leave every response window inside the run (it ends at {end:g} s), "
                            f"the last window ends at {stops[-1] + 1e-9:g} s")
    if isinstance(results, SpikeMonitor) or (is_results and (population in results.populations
                                                            or (population is None and results.populations))):
        idx, t, n, _, _ = _util.spikes(results, population=population)
        order = np.argsort(t, kind="stable")
        idx, t = idx[order], t[order]
        # presentation of each spike: the last window starting at or before it, if the spike is inside it
        k = np.searchsorted(starts, t, side="right") - 1
        inside = (k >= 0) & (t < stops[np.maximum(k, 0)])
        counts = np.bincount(k[inside] * n + idx[inside], minlength=on.size * n).reshape(on.size, n)
        X = counts.astype(float) if statistic == "count" else counts / w
        return X, lab
    if not is_results:
        raise HomeonetError(f"results must be a homeonet Results or a SpikeMonitor, got {type(results).__name__}")
    ds = results.dataset
    rate_pops = results.rate_populations
    if population is None:
        if len(rate_pops) != 1:
            raise HomeonetError(f"population must be given (one of {', '.join(rate_pops) or 'none recorded'})")
        population = rate_pops[0]
    if population not in rate_pops:
        raise HomeonetError(f"population must be one of {', '.join(results.populations + rate_pops)}; "
                            f"got {population!r}")
    if statistic == "count":
        raise HomeonetError(f"statistic must be 'rate' for the rate population {population!r}")
    trace = ds[f"{population}_r"]
    tt = np.asarray(ds[trace.dims[0]].values, dtype=float)
    r = np.asarray(trace.values, dtype=float)
    cs = np.vstack([np.zeros((1, r.shape[1])), np.cumsum(r, axis=0)])
    i0, i1 = np.searchsorted(tt, starts), np.searchsorted(tt, stops)
    if np.any(i1 <= i0):
        raise HomeonetError("window must contain at least one sample of the rate trace for every onset")
    return (cs[i1] - cs[i0]) / (i1 - i0)[:, None], lab


# -- load balancing --------------------------------------------------------------------------------------------------

def usage(responses, absolute=False):
    r"""Usage of each unit: its share of the total mean activity.

    .. math:: p_i = \frac{\langle r_i \rangle_s}{\sum_j \langle r_j \rangle_s}

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` responses, or 1-D mean activities of the units (>= 0).
    absolute : bool
        Use :math:`|r|` (for signed activations such as normalised ANN units).

    Returns
    -------
    numpy.ndarray
        Usage :math:`p_i`, shape ``(units,)``, summing to 1.

    References
    ----------
    Shazeer N, Mirhoseini A, Maziarz K, et al. (2017) Outrageously large neural networks: the
    sparsely-gated mixture-of-experts layer (importance / load-balancing loss). ICLR.

    Examples
    --------
    >>> usage([[1.0, 3.0], [1.0, 3.0]])
    array([0.25, 0.75])
    """
    arr = _matrix("responses", responses, ndim=(1, 2))
    if absolute:
        arr = np.abs(arr)
    elif np.any(arr < 0):
        raise HomeonetError("responses must be >= 0 (rates or counts); pass absolute=True for signed activations")
    mean = arr.mean(axis=0) if arr.ndim == 2 else arr
    total = mean.sum()
    if not total > 0:
        raise HomeonetError("responses must not be all zero (usage is undefined)")
    return mean / total


def usage_entropy(responses, absolute=False):
    r"""Normalised entropy of the usage: 1 when all units are used equally, 0 when one unit does everything.

    .. math:: H = -\frac{1}{\log N} \sum_i p_i \log p_i

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` responses or 1-D mean activities (>= 0), N >= 2 units.
    absolute : bool
        Use :math:`|r|`.

    Returns
    -------
    float
        :math:`H \in [0, 1]`.

    References
    ----------
    Shannon CE (1948) A mathematical theory of communication. Bell Syst Tech J 27:379-423.

    Examples
    --------
    >>> usage_entropy([1.0, 1.0, 1.0, 1.0])
    1.0
    >>> usage_entropy([0.0, 5.0, 0.0, 0.0])
    0.0
    """
    p = usage(responses, absolute)
    if p.size < 2:
        raise HomeonetError(f"responses must have at least 2 units for a normalised entropy, got {p.size}")
    nz = p[p > 0]
    return float(max(0.0, -np.sum(nz * np.log(nz)) / np.log(p.size)))


def gini(responses, absolute=False):
    r"""Gini coefficient of the usage: 0 for equal use, :math:`1 - 1/N` for one unit doing everything.

    .. math:: G = \frac{\sum_i \sum_j |p_i - p_j|}{2 N \sum_i p_i}
              = \frac{2\sum_k k\, p_{(k)}}{N \sum_k p_{(k)}} - \frac{N+1}{N}

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` responses or 1-D mean activities (>= 0).
    absolute : bool
        Use :math:`|r|`.

    Returns
    -------
    float
        :math:`G \in [0, 1)`.

    References
    ----------
    Gini C (1912) Variabilita e mutabilita; Hurley N, Rickard S (2009) Comparing measures of sparsity.
    IEEE Trans Inf Theory 55:4723-4741.

    Examples
    --------
    >>> gini([2.0, 2.0, 2.0])
    0.0
    >>> round(gini([0.0, 0.0, 0.0, 1.0]), 6)
    0.75
    """
    p = np.sort(usage(responses, absolute))
    n = p.size
    return float(max(0.0, 2 * np.sum(np.arange(1, n + 1) * p) / (n * p.sum()) - (n + 1) / n))


def _treves_rolls(arr, axis):
    n = arr.shape[axis]
    if n < 2:
        raise HomeonetError(f"responses must have at least 2 entries along the averaged axis, got {n}")
    if np.any(arr < 0):
        raise HomeonetError("responses must be >= 0 (rates or counts) for Treves-Rolls sparseness")
    m1, m2 = arr.mean(axis=axis), (arr ** 2).mean(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = m1 ** 2 / m2
    return (1 - a) / (1 - 1 / n)


def population_sparseness(responses):
    r"""Treves-Rolls population sparseness of each sample (Vinje-Gallant normalisation).

    .. math:: a_s = \frac{\left(\frac{1}{N}\sum_i r_{si}\right)^2}{\frac{1}{N}\sum_i r_{si}^2},\qquad
              S_s = \frac{1 - a_s}{1 - 1/N}

    :math:`S = 0` when all units respond equally, 1 when a single unit responds.

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` non-negative responses (>= 2 units).

    Returns
    -------
    numpy.ndarray
        :math:`S_s` per sample, NaN for a sample with no activity.

    References
    ----------
    Treves A, Rolls ET (1991) What determines the capacity of autoassociative memories in the brain?
    Network 2:371-397; Vinje WE, Gallant JL (2000) Science 287:1273-1276.

    Examples
    --------
    >>> population_sparseness([[1.0, 1.0, 1.0], [0.0, 0.0, 4.0]])
    array([0., 1.])
    """
    return _treves_rolls(_matrix("responses", responses), axis=1)


def lifetime_sparseness(responses):
    r"""Treves-Rolls lifetime sparseness of each unit across samples (Vinje-Gallant normalisation).

    .. math:: a_i = \frac{\left(\frac{1}{S}\sum_s r_{si}\right)^2}{\frac{1}{S}\sum_s r_{si}^2},\qquad
              L_i = \frac{1 - a_i}{1 - 1/S}

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` non-negative responses (>= 2 samples).

    Returns
    -------
    numpy.ndarray
        :math:`L_i` per unit, NaN for a silent unit.

    References
    ----------
    Vinje WE, Gallant JL (2000) Sparse coding and decorrelation in primary visual cortex during natural
    vision. Science 287:1273-1276.

    Examples
    --------
    >>> lifetime_sparseness([[1.0, 0.0], [1.0, 0.0], [1.0, 3.0]])
    array([0., 1.])
    """
    return _treves_rolls(_matrix("responses", responses, min_rows=2), axis=0)


def participation_ratio(responses):
    r"""Participation-ratio dimensionality of the response covariance.

    .. math:: \mathrm{PR} = \frac{\left(\sum_k \lambda_k\right)^2}{\sum_k \lambda_k^2}
              = \frac{(\operatorname{tr} C)^2}{\operatorname{tr}(C^2)}

    computed from the smaller of the two Gram matrices (no eigendecomposition), so
    10k units with few samples stay cheap.

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` responses (>= 2 samples).

    Returns
    -------
    float
        PR in [1, min(samples - 1, units)] (NaN when all responses are constant).

    References
    ----------
    Gao P, Trautmann E, Yu B, et al. (2017) A theory of multineuronal dimensionality, dynamics and
    measurement. bioRxiv 214262; Litwin-Kumar A, Harris KD, Axel R, et al. (2017) Neuron 93:1153-1164.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(20000, 5))
    >>> round(participation_ratio(x), 1)
    5.0
    """
    X = _matrix("responses", responses, min_rows=2)
    X = X - X.mean(axis=0)
    G = X.T @ X if X.shape[1] <= X.shape[0] else X @ X.T
    tr, tr2 = np.trace(G), np.sum(G * G)
    return float(tr ** 2 / tr2) if tr2 > 0 else float("nan")


# -- information -----------------------------------------------------------------------------------------------------

def _decoder(C, max_iter):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))


def _folds(codes, cv, seed):
    from sklearn.model_selection import StratifiedKFold

    cv = check_count("cv", cv, minimum=2)
    seed = check_seed("seed", seed)
    smallest = int(np.bincount(codes).min())
    if smallest < cv:
        raise HomeonetError(f"cv must be <= the number of samples of the rarest stimulus ({smallest}), got {cv}")
    return StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)


def decoding_accuracy(responses, labels, cv=5, C=1.0, seed=0, max_iter=1000, return_scores=False):
    r"""Cross-validated accuracy of a linear (multinomial logistic) decoder of the stimulus.

    .. math:: \mathrm{acc} = \frac{1}{K}\sum_{k=1}^{K} \frac{1}{|T_k|} \sum_{s \in T_k}
              \mathbb{1}\big[\hat y(x_s; \theta_{-k}) = y_s\big]

    with standardised features, L2-regularised logistic regression and stratified,
    shuffled K-fold splits (``sklearn.model_selection.cross_val_score``).

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` responses.
    labels : array
        Stimulus of each sample (>= 2 stimuli, each with >= *cv* samples).
    cv : int
        Number of folds K (>= 2).
    C : float
        Inverse regularisation strength (> 0).
    seed : int
        Seed of the fold shuffling.
    max_iter : int
        Solver iterations.
    return_scores : bool
        Also return the per-fold accuracies.

    Returns
    -------
    float or (float, numpy.ndarray)
        Mean accuracy in [0, 1] (chance is 1 / number of stimuli).

    References
    ----------
    Pedregosa F et al. (2011) Scikit-learn: machine learning in Python. JMLR 12:2825-2830;
    Hung CP, Kreiman G, Poggio T, DiCarlo JJ (2005) Science 310:863-866.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> X = rng.normal(size=(100, 3)) + 5 * y[:, None]
    >>> decoding_accuracy(X, y)
    1.0
    """
    from sklearn.model_selection import cross_val_score

    X = _matrix("responses", responses)
    _, codes = _labels(labels, X.shape[0])
    C = _util.fraction("C", C, low=0, high=np.inf, low_open=True)
    scores = cross_val_score(_decoder(C, check_count("max_iter", max_iter)), X, codes,
                             cv=_folds(codes, cv, seed), scoring="accuracy")
    return (float(scores.mean()), scores) if return_scores else float(scores.mean())


def _plugin_mi(joint):
    """Plug-in MI (bits) of joint counts (..., S, R), plus numbers of non-empty response bins."""
    total = joint.sum(axis=(-2, -1), keepdims=True)
    p = joint / total
    ps, pr = p.sum(axis=-1, keepdims=True), p.sum(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(p > 0, p * np.log2(p / (ps * pr)), 0.0)
    return terms.sum(axis=(-2, -1))


def _pt_bias(joint):
    """Panzeri-Treves first-order bias (bits) of the plug-in MI, from the joint counts (..., S, R)."""
    n = joint.sum(axis=(-2, -1))
    r_s = (joint > 0).sum(axis=-1)                 # non-empty response bins per stimulus
    r = (joint.sum(axis=-2) > 0).sum(axis=-1)      # non-empty response bins overall
    return ((r_s - 1).sum(axis=-1) - (r - 1)) / (2 * n * np.log(2))


def mutual_information(responses, labels, n_bins=8, correction="panzeri-treves", n_shuffles=20, seed=0):
    r"""Mutual information (bits) between the stimulus and each unit's discretised response.

    Responses are discretised into *n_bins* equipopulated bins per unit (ties kept together), then

    .. math:: I(S;R) = \sum_{s,r} p(s,r) \log_2 \frac{p(s,r)}{p(s)p(r)} - \mathrm{bias}

    with the Panzeri-Treves first-order bias
    :math:`\frac{1}{2N\ln 2}\left[\sum_s (\tilde R_s - 1) - (\tilde R - 1)\right]`
    (:math:`\tilde R_s`, :math:`\tilde R`: occupied response bins), or the mean plug-in
    MI over label shuffles (``'shuffle'``). Vectorised over units.

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` responses, or 1-D responses of one unit.
    labels : array
        Stimulus of each sample (>= 2 stimuli).
    n_bins : int
        Response bins per unit (>= 2).
    correction : {'panzeri-treves', 'shuffle', 'none'}
        Bias correction.
    n_shuffles : int
        Shuffles for ``'shuffle'``.
    seed : int
        Seed of the shuffles.

    Returns
    -------
    numpy.ndarray or float
        MI per unit in bits (a float for 1-D input), at most :math:`\log_2` (number of stimuli).

    References
    ----------
    Panzeri S, Treves A (1996) Analytical estimates of limited sampling biases in different information
    measures. Network 7:87-107; Panzeri S, Senatore R, Montemurro MA, Petersen RS (2007) Correcting for
    the sampling bias problem in spike train information measures. J Neurophysiol 98:1064-1072.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat([0, 1, 2, 3], 100)
    >>> round(mutual_information(y * 1.0, y, n_bins=4, correction="none"), 6)
    2.0
    """
    from scipy.stats import rankdata

    arr = _matrix("responses", responses, ndim=(1, 2))
    one = arr.ndim == 1
    X = arr.reshape(arr.shape[0], -1)
    classes, codes = _labels(labels, X.shape[0])
    n_bins = check_count("n_bins", n_bins, minimum=2)
    check_choice("correction", correction, ("panzeri-treves", "shuffle", "none"))
    n_shuffles = check_count("n_shuffles", n_shuffles)
    S, U, C = X.shape[0], X.shape[1], classes.size
    ranks = rankdata(X, method="min", axis=0) - 1
    bins = np.minimum((ranks * n_bins) // S, n_bins - 1).astype(np.int64)
    unit_off = (np.arange(U) * C * n_bins)[None, :]

    def joint_counts(c):
        key = unit_off + c[:, None] * n_bins + bins
        return np.bincount(key.ravel(), minlength=U * C * n_bins).reshape(U, C, n_bins).astype(float)

    joint = joint_counts(codes)
    mi = _plugin_mi(joint)
    if correction == "panzeri-treves":
        mi = mi - _pt_bias(joint)
    elif correction == "shuffle":
        rng = np.random.default_rng(check_seed("seed", seed))
        mi = mi - np.mean([_plugin_mi(joint_counts(rng.permutation(codes))) for _ in range(n_shuffles)], axis=0)
    return float(mi[0]) if one else mi


def decoding_information(responses, labels, cv=5, C=1.0, seed=0, correction="panzeri-treves"):
    r"""Population information lower bound: MI (bits) of the cross-validated decoder's confusion matrix.

    .. math:: I(S;\hat S) = \sum_{s,\hat s} p(s,\hat s) \log_2 \frac{p(s,\hat s)}{p(s)p(\hat s)} - \mathrm{bias}
              \ \le\ I(S; R)

    (data-processing inequality), with the Panzeri-Treves correction.

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` responses.
    labels : array
        Stimulus of each sample.
    cv, C, seed
        As in :func:`decoding_accuracy`.
    correction : {'panzeri-treves', 'none'}
        Bias correction.

    Returns
    -------
    float
        Bits.

    References
    ----------
    Quian Quiroga R, Panzeri S (2009) Extracting information from neuronal populations: information
    theory and decoding approaches. Nat Rev Neurosci 10:173-185.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2, 3], 40)
    >>> X = rng.normal(size=(160, 4)) + 10 * np.eye(4)[y]
    >>> round(decoding_information(X, y, correction="none"), 6)
    2.0
    """
    from sklearn.model_selection import cross_val_predict

    X = _matrix("responses", responses)
    classes, codes = _labels(labels, X.shape[0])
    check_choice("correction", correction, ("panzeri-treves", "none"))
    C = _util.fraction("C", C, low=0, high=np.inf, low_open=True)
    pred = cross_val_predict(_decoder(C, 1000), X, codes, cv=_folds(codes, cv, seed))
    joint = np.bincount(codes * classes.size + pred, minlength=classes.size ** 2)
    joint = joint.reshape(classes.size, classes.size).astype(float)
    mi = _plugin_mi(joint)
    if correction == "panzeri-treves":
        mi = mi - _pt_bias(joint)
    return float(max(0.0, mi))


def discriminability(responses, labels, shrinkage=True):
    r"""Population discriminability :math:`d'` of every pair of stimuli (linear Fisher discriminant).

    .. math:: d'_{ab} = \sqrt{(\mu_a - \mu_b)^\top \Sigma_{ab}^{-1} (\mu_a - \mu_b)},\qquad
              \Sigma_{ab} = \tfrac12(\Sigma_a + \Sigma_b)

    For one unit this is :math:`|\mu_a - \mu_b| / \sqrt{(\sigma_a^2 + \sigma_b^2)/2}`.
    :math:`\Sigma_{ab}` is the Ledoit-Wolf shrinkage estimate (``shrinkage=True``), so
    more units than samples stay well posed.

    Parameters
    ----------
    responses : Quantity or array
        ``(samples, units)`` responses (or 1-D, one unit).
    labels : array
        Stimulus of each sample (>= 2 stimuli, >= 2 samples each).
    shrinkage : bool
        Ledoit-Wolf shrinkage of the pooled covariance (else the sample covariance, pseudo-inverted).

    Returns
    -------
    classes : numpy.ndarray
        The stimuli, in the order of the matrix.
    dprime : numpy.ndarray
        Symmetric ``(stimuli, stimuli)`` matrix of :math:`d'` (0 on the diagonal).

    References
    ----------
    Green DM, Swets JA (1966) Signal Detection Theory and Psychophysics. Wiley; Averbeck BB, Latham PE,
    Pouget A (2006) Neural correlations, population coding and computation. Nat Rev Neurosci 7:358-366.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([-1.0, 1.0, -1.0, 1.0, 2.0, 4.0, 2.0, 4.0])
    >>> classes, d = discriminability(x, [0, 0, 0, 0, 1, 1, 1, 1])
    >>> d
    array([[0., 3.],
           [3., 0.]])
    """
    from sklearn.covariance import empirical_covariance, ledoit_wolf

    arr = _matrix("responses", responses, ndim=(1, 2))
    X = arr.reshape(arr.shape[0], -1)
    classes, codes = _labels(labels, X.shape[0])
    if np.bincount(codes).min() < 2:
        raise HomeonetError("labels must give every stimulus at least 2 samples")
    K = classes.size
    means = np.stack([X[codes == k].mean(axis=0) for k in range(K)])
    centered = X - means[codes]
    D = np.zeros((K, K))
    for a in range(K):
        for b in range(a + 1, K):
            ca, cb = centered[codes == a], centered[codes == b]
            # equal weight for both stimuli: Sigma_ab = (Sigma_a + Sigma_b) / 2
            if shrinkage and X.shape[1] > 1:
                na, nb = len(ca), len(cb)
                both = np.vstack([ca * np.sqrt(nb / na), cb])     # rows weighted so both stimuli count equally
                cov = ledoit_wolf(both, assume_centered=True)[0] * (na + nb) / (2 * nb)
            else:
                cov = 0.5 * (empirical_covariance(ca, assume_centered=True)
                             + empirical_covariance(cb, assume_centered=True))
            diff = means[a] - means[b]
            D[a, b] = D[b, a] = float(np.sqrt(max(0.0, diff @ np.linalg.pinv(cov) @ diff)))
    return classes, D


def contrast_response_fit(contrasts, responses, p0=None) -> dict:
    r"""Fit the Naka-Rushton contrast-response function by least squares.

    .. math:: R(c) = R_\max \frac{c^n}{c_{50}^n + c^n}

    (Naka & Rushton 1966; the form divisive normalization predicts, Carandini & Heeger 2012,
    Nat. Rev. Neurosci. 13:51).

    Parameters
    ----------
    contrasts : array_like
        Contrasts :math:`c > 0`, one per response (at least 4).
    responses : array_like
        Steady responses at those contrasts (same length).
    p0 : tuple, optional
        Initial ``(r_max, c50, n)`` (default: the largest response, the median contrast, 2).

    Returns
    -------
    dict
        ``r_max``, ``c50``, ``n`` and ``r2``, the coefficient of determination of the fit.

    Examples
    --------
    >>> c = np.array([1, 2, 4, 8, 16, 32.0])
    >>> fit = contrast_response_fit(c, 10 * c**2 / (4**2 + c**2))
    >>> round(fit["c50"], 6), round(fit["n"], 6), round(fit["r2"], 6)
    (4.0, 2.0, 1.0)
    """
    from scipy.optimize import curve_fit

    c = np.asarray(contrasts, dtype=float)
    r = np.asarray(responses, dtype=float)
    if c.ndim != 1 or c.shape != r.shape or len(c) < 4 or not np.all(c > 0):
        raise HomeonetError(f"contrasts must be > 0 and match responses in length (>= 4); got shapes "
                            f"{c.shape} and {r.shape}")

    def naka_rushton(x, r_max, c50, n):
        return r_max * x ** n / (c50 ** n + x ** n)

    start = (float(r.max()), float(np.median(c)), 2.0) if p0 is None else p0
    (r_max, c50, n), _ = curve_fit(naka_rushton, c, r, p0=start)
    resid = r - naka_rushton(c, r_max, c50, n)
    r2 = 1 - np.sum(resid ** 2) / np.sum((r - r.mean()) ** 2)
    return {"r_max": float(r_max), "c50": float(c50), "n": float(n), "r2": float(r2)}
