r"""Tests for multiplicative (synaptic) scaling of a distribution of weights or amplitudes.

Synaptic scaling multiplies all of a neuron's synaptic strengths by one factor
(Turrigiano et al. 1998). A multiplicatively scaled sample, sorted, lies on a
line through the origin when plotted against the sorted control sample
(rank-order plot), and treated/k has the control distribution for one k. Inputs
are 1-D samples (Brian2 quantities or plain numbers, e.g. weights or mEPSC
amplitudes); the two samples may differ in size (matched by quantiles).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from homeonet._validate import HomeonetError, check_count

from . import _util

__all__ = ["RankOrderFit", "ScalingTest", "rank_order_fit", "scaling_test", "divergence_index", "matched_quantiles"]


class RankOrderFit(NamedTuple):
    """Result of :func:`rank_order_fit`.

    Attributes
    ----------
    slope : float
        Slope of sorted treated against sorted control.
    intercept : Quantity or float
        Intercept, in the units of the samples.
    rvalue : float
        Pearson correlation of the matched quantiles.
    control, treated : Quantity or numpy.ndarray
        The matched, sorted samples that were fitted (for plotting).
    """

    slope: float
    intercept: object
    rvalue: float
    control: object
    treated: object


class ScalingTest(NamedTuple):
    """Result of :func:`scaling_test`.

    Attributes
    ----------
    factor : float
        Fitted scaling factor :math:`k` (treated ~ k x control).
    statistic : float
        Kolmogorov-Smirnov distance between treated/k and control.
    pvalue : float
        KS p-value (optimistic, since k was fitted to minimise the distance).
    multiplicative : bool
        ``pvalue > alpha``: the data are consistent with uniform multiplicative scaling.
    """

    factor: float
    statistic: float
    pvalue: float
    multiplicative: bool


def _samples(control, treated):
    c, cu = _util.values("control", control, ndim=1, min_size=2)
    t, tu = _util.values("treated", treated, ndim=1, min_size=2)
    _util.same_unit("treated", tu, "control", cu)
    return c, t, cu


def matched_quantiles(control, treated):
    r"""Sort both samples and match them by quantile (interpolating the larger one).

    .. math:: \big(c_{(j)},\ Q_t(j/(m-1))\big),\quad j = 0..m-1,\ m = \min(n_c, n_t)

    Parameters
    ----------
    control, treated : Quantity or array
        1-D samples (>= 2 values each), same unit.

    Returns
    -------
    control_sorted, treated_sorted : Quantity or numpy.ndarray
        Matched sorted samples of equal length.

    References
    ----------
    Kim J, Tsien RW, Alger BE (2012) An improved test for detecting multiplicative homeostatic synaptic
    scaling. PLoS One 7:e37364.

    Examples
    --------
    >>> matched_quantiles([3.0, 1.0, 2.0], [20.0, 60.0, 40.0, 30.0, 10.0])
    (array([1., 2., 3.]), array([10., 30., 60.]))
    """
    c, t, unit = _samples(control, treated)
    m = min(c.size, t.size)
    q = np.linspace(0, 1, m)
    cs = np.sort(c) if c.size == m else np.quantile(c, q)
    ts = np.sort(t) if t.size == m else np.quantile(t, q)
    return _util.attach(cs, unit), _util.attach(ts, unit)


def rank_order_fit(control, treated):
    r"""Turrigiano rank-order fit: regress sorted treated on sorted control.

    .. math:: t_{(j)} = a\, c_{(j)} + b

    Pure multiplicative scaling by :math:`k` gives :math:`a = k,\ b = 0`.

    Parameters
    ----------
    control, treated : Quantity or array
        1-D samples (>= 2 values each), same unit.

    Returns
    -------
    RankOrderFit
        ``slope``, ``intercept`` (units of the samples), ``rvalue`` and the matched samples.

    References
    ----------
    Turrigiano GG, Leslie KR, Desai NS, Rutherford LC, Nelson SB (1998) Activity-dependent scaling of
    quantal amplitude in neocortical neurons. Nature 391:892-896.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([1.0, 2.0, 3.0, 5.0])
    >>> fit = rank_order_fit(c, 2 * c[::-1])
    >>> round(fit.slope, 6), round(fit.intercept, 6)
    (2.0, 0.0)
    """
    from scipy.stats import linregress

    cs, ts = matched_quantiles(control, treated)
    c, t = np.asarray(cs, dtype=float), np.asarray(ts, dtype=float)
    if np.ptp(c) == 0:
        raise HomeonetError("control must contain at least two different values")
    fit = linregress(c, t)
    intercept = float(fit.intercept)
    if _util.is_quantity(cs):
        from brian2 import Quantity, get_dimensions
        intercept = Quantity(intercept, dim=get_dimensions(cs))
    return RankOrderFit(float(fit.slope), intercept, float(fit.rvalue), cs, ts)


def scaling_test(control, treated, alpha=0.05, n_grid=61):
    r"""Test whether *treated* is a uniformly scaled copy of *control* (fitted factor + KS test).

    .. math:: \hat k = \arg\min_k D_\mathrm{KS}\!\left(\{t_j / k\}, \{c_j\}\right),\qquad
              \text{multiplicative} \iff p_\mathrm{KS}(\hat k) > \alpha

    :math:`\hat k` is searched on a log grid around the ratio of means. Because
    :math:`k` is fitted, the p-value is optimistic; treat a pass as "consistent
    with", and use :func:`divergence_index` for how far from uniform the scaling is.

    Parameters
    ----------
    control, treated : Quantity or array
        1-D positive samples (>= 2 values each), same unit.
    alpha : float
        Significance level in (0, 1).
    n_grid : int
        Points of the coarse log grid over [k0/4, 4 k0] (>= 11); three 11-point refinements follow.

    Returns
    -------
    ScalingTest
        ``factor``, ``statistic``, ``pvalue``, ``multiplicative``.

    References
    ----------
    Kim J, Tsien RW, Alger BE (2012) PLoS One 7:e37364; Turrigiano GG et al. (1998) Nature 391:892-896.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> c = rng.lognormal(0, 0.5, 2000)
    >>> res = scaling_test(c, 1.5 * rng.lognormal(0, 0.5, 2000))
    >>> bool(res.multiplicative), bool(abs(res.factor - 1.5) < 0.1)
    (True, True)
    >>> bool(scaling_test(c, rng.lognormal(0, 0.5, 2000) + 1.0).multiplicative)
    False
    """
    from scipy.stats import ks_2samp

    c, t, _ = _samples(control, treated)
    alpha = _util.fraction("alpha", alpha, low_open=True, high_open=True)
    n_grid = check_count("n_grid", n_grid, minimum=11)
    if np.any(c <= 0) or np.any(t <= 0):
        raise HomeonetError("control and treated must be > 0 for a multiplicative-scaling test")
    k0 = t.mean() / c.mean()
    cs, ts = np.sort(c), np.sort(t)
    grid = k0 * np.logspace(-np.log10(4), np.log10(4), n_grid)

    def ks_distance(k):
        # vectorised two-sample KS distance: evaluate both ECDFs on the pooled sample
        pooled = np.concatenate([cs, ts / k])
        f1 = np.searchsorted(cs, pooled, side="right") / cs.size
        f2 = np.searchsorted(ts / k, pooled, side="right") / ts.size
        return np.max(np.abs(f1 - f2))

    # coarse log grid, then three refinements of 11 points around the best factor so far
    for _ in range(4):
        d = np.array([ks_distance(x) for x in grid])
        best = int(np.argmin(d))
        lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
        k = float(grid[best])
        grid = np.linspace(lo, hi, 11)
    with warnings.catch_warnings():  # ties make the exact small-sample method fall back to asymp; fine
        warnings.simplefilter("ignore", RuntimeWarning)
        res = ks_2samp(t / k, c)
    return ScalingTest(k, float(res.statistic), float(res.pvalue), bool(res.pvalue > alpha))


def divergence_index(control, treated, trim=0.05):
    r"""How far from uniform a scaling is: the coefficient of variation of the quantile ratios.

    .. math:: \rho_j = \frac{t_{(j)}}{c_{(j)}},\qquad D = \frac{\sigma_j(\rho_j)}{\langle\rho_j\rangle_j}

    over matched quantiles, without the lowest and highest *trim* fraction. :math:`D = 0`
    for exact multiplicative scaling; additive or divergent (size-dependent) scaling gives
    :math:`D > 0` (the "ratio plot" of Kim et al. 2012, summarised by its spread).

    Parameters
    ----------
    control, treated : Quantity or array
        1-D positive samples (>= 2 values each), same unit.
    trim : float
        Fraction dropped at each end, in [0, 0.5).

    Returns
    -------
    float
        Divergence index :math:`D \ge 0`.

    References
    ----------
    Kim J, Tsien RW, Alger BE (2012) PLoS One 7:e37364; Hanes AL, Koesters AG, Fong MF, et al. (2020)
    Divergent synaptic scaling of miniature EPSCs following activity blockade in dissociated neuronal
    cultures. J Neurosci 40:4090-4102.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.linspace(1, 10, 100)
    >>> round(divergence_index(c, 3 * c), 6)
    0.0
    >>> bool(divergence_index(c, c + 3) > 0.1)
    True
    """
    trim = _util.fraction("trim", trim, low=0.0, high=0.5, high_open=True)
    cs, ts = matched_quantiles(control, treated)
    c, t = np.asarray(cs, dtype=float), np.asarray(ts, dtype=float)
    m = c.size
    lo, hi = int(np.floor(trim * m)), m - int(np.floor(trim * m))
    c, t = c[lo:hi], t[lo:hi]
    keep = c > 0
    if keep.sum() < 2:
        raise HomeonetError("control must have at least two positive values inside the trimmed range")
    ratio = t[keep] / c[keep]
    return float(np.std(ratio) / abs(np.mean(ratio)))
