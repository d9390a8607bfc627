r"""The trade-off map: how fast, how stably and at what cost to coding each homeostatic mechanism restores activity.

Shen, Wang & Navlakha (2021) name as a goal to "help quantify the trade-offs of different homeostatic
plasticity mechanisms used in the brain". This module lays that map out on the common test bed
(:mod:`homeonet.models.testbed`: experiments ``testbed`` and ``testbed_rate``):

* **the grid** (:func:`grid`): every mechanism choice of the test bed alone and the four scales
  together, each over its ``strength`` (a multiplier of its learning rate or time compression, two
  decades) and, for the mechanisms that read a rate sensor, over ``sensor_tau``; three seeds or more.
  ``quick=True`` is a small grid of the rate network that finishes on 2 cores in minutes;
* **one point** (:func:`evaluate_point`): build, run and measure one setting with one seed; the
  measures are :func:`homeonet.analysis.tradeoff_measures` (recovery time, residual error,
  overshoot, oscillation, CV of ISI, synchrony, burst index, runaway, coding before and after,
  heterogeneity, wall time per simulated second). It is the experiment's own summary measure, so a
  sweep of the experiment (:mod:`homeonet.sweep`) returns the same set;
* **the product** (:func:`collect`): one labelled ``xarray.Dataset`` with dimensions
  ``(mechanism, strength, sensor_tau, seed)``;
* **the Pareto front** (:func:`pareto_mask`, :func:`pareto_table`): per mechanism, the settings not
  dominated in recovery time, coding capacity (decoding accuracy after recovery) and stability;
* **figures**: recovery time against coding capacity with each mechanism's front
  (:func:`front_figure`), speed against stability with the oscillation boundary and the stable
  window of the two stability laws (:func:`stability_figure`), and rate trajectories at slow, best
  and too-fast settings (:func:`trajectory_figure`).

The two laws, in the closed forms the law tests (``tests/test_laws.py``) check by simulation:

* :func:`critical_speed` -- Harnack, Pelko, Chaillet, Chitour & van Rossum (2015): integral control of
  a threshold through a rate sensor, stable for a single unit, makes a recurrent population oscillate
  above a critical speed that falls as the recurrence grows;
* :func:`critical_sensor_tau` -- Zenke, Hennequin & Gerstner (2013): with Hebbian growth of rate
  :math:`h`, the homeostatic loop holds only if its rate sensor is faster than about :math:`1/h`.

Examples
--------
>>> from homeonet.tradeoffs import grid
>>> g = grid("rate", quick=True)
>>> g.n_points > 0 and len(g.seeds) >= 3
True
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from brian2 import Hz, ms, second

from ._validate import HomeonetError, check_choice

__all__ = ["Grid", "grid", "OBJECTIVES", "critical_speed", "critical_sensor_tau", "stable_speeds",
           "evaluate_point", "collect", "settings_table", "pareto_mask", "pareto_table", "write_table",
           "front_figure", "stability_figure", "trajectory_figure", "EXPERIMENT"]

logger = logging.getLogger(__name__)

#: The ready-made experiment of each test bed.
EXPERIMENT = {"spiking": "testbed", "rate": "testbed_rate"}

#: The three objectives of the Pareto front: measure, and whether smaller (``'min'``) or larger is better.
#: ``instability`` is the oscillation index clipped to [0, 1] (0 without oscillation), 1 after a runaway.
OBJECTIVES = {"recovery_time": "min", "decoding_accuracy_end": "max", "instability": "min"}


# -- the two stability laws (linear stability of the rate-unit homeostatic loop) ----------------------------------

def critical_speed(recurrence, tau=10 * ms, sensor_tau=100 * ms, gain=1.0):
    r"""Harnack et al. (2015): the homeostatic speed above which a recurrent population oscillates.

    A threshold-linear unit (time constant :math:`\tau`, gain :math:`g`) whose population has the
    recurrent loop gain :math:`\lambda` (< 1), a rate sensor :math:`\tau_A \dot A = r - A` and integral
    control of the threshold :math:`\dot\theta = k (A - \rho_0)` (:class:`homeonet.IntrinsicPlasticity`
    with ``eta = k * period``) have the characteristic polynomial

    .. math:: \tau\tau_A s^3 + \big(\tau + \tau_A(1-\lambda)\big) s^2 + (1-\lambda) s + g k = 0,

    stable (Routh-Hurwitz) exactly for

    .. math:: k < k_c(\lambda) = \frac{1}{g}\left(\frac{1-\lambda}{\tau_A} + \frac{(1-\lambda)^2}{\tau}\right),

    which falls to 0 as the recurrence :math:`\lambda \to 1`; an unconnected population
    (:math:`\lambda = 0`) has the largest critical speed. Above :math:`k_c` the rate oscillates
    without abating (bounded by the rectification).

    Parameters
    ----------
    recurrence : float or array
        :math:`\lambda` (< 1).
    tau, sensor_tau : Quantity
        :math:`\tau` and :math:`\tau_A` (*sensor_tau* may be an array).
    gain : float
        :math:`g` (> 0).

    Returns
    -------
    float or numpy.ndarray
        :math:`k_c` in 1/s (its inverse is the critical homeostatic time constant).

    References
    ----------
    Harnack D, Pelko M, Chaillet A, Chitour Y, van Rossum MCW (2015) Stability of neuronal networks with
    homeostatic regulation. PLoS Comput Biol 11:e1004357.

    Examples
    --------
    >>> from brian2 import ms
    >>> round(float(critical_speed(0.0, 10 * ms, 100 * ms)), 6)     # 1/tau_A + 1/tau
    110.0
    """
    lam = np.asarray(recurrence, dtype=float)
    if np.any(lam >= 1):
        raise HomeonetError("recurrence must be < 1 (a network stable without homeostasis)")
    t, ta = float(tau / second), np.asarray(sensor_tau / second, dtype=float)
    x = 1 - lam
    out = (x / ta + x ** 2 / t) / float(gain)
    return float(out) if out.ndim == 0 else out


def critical_sensor_tau(hebbian, speed, tau=10 * ms):
    r"""Zenke et al. (2013): the longest rate-sensor time constant with which homeostasis holds Hebbian growth.

    Hebbian growth of the drive at rate :math:`h` per Hz of rate (:func:`homeonet.models.testbed.hebbian_blocks`:
    :math:`h = n_\mathrm{in}\rho_\mathrm{in}^2\eta`) against the loop of :func:`critical_speed` gives

    .. math:: \tau\tau_A s^3 + (\tau + \tau_A) s^2 + (1 - h\tau_A) s + (k - h) = 0,

    stable for :math:`h < k` and :math:`\tau_A < \tau_\mathrm{crit}`, the positive root of
    :math:`h\tau_A^2 - (1 - k\tau)\tau_A - \tau = 0`:

    .. math:: \tau_\mathrm{crit} = \frac{(1 - k\tau) + \sqrt{(1 - k\tau)^2 + 4h\tau}}{2h}
              \approx \frac{1 - k\tau}{h},

    inversely proportional to the Hebbian learning rate, as Zenke et al. state: faster Hebbian
    plasticity needs a faster rate detector. Above it the activity runs away or oscillates with
    growing amplitude.

    Parameters
    ----------
    hebbian : float or array
        :math:`h` in 1/s (> 0).
    speed : float or array
        Homeostatic speed :math:`k` in 1/s.
    tau : Quantity
        Time constant :math:`\tau` of the units.

    Returns
    -------
    float or numpy.ndarray
        :math:`\tau_\mathrm{crit}` in seconds (NaN where :math:`h \ge k`: no sensor is fast enough).

    References
    ----------
    Zenke F, Hennequin G, Gerstner W (2013) Synaptic plasticity in neural networks needs homeostasis with a
    fast rate detector. PLoS Comput Biol 9:e1003330.

    Examples
    --------
    >>> from brian2 import ms
    >>> round(float(critical_sensor_tau(1.0, 20.0, 10 * ms)), 3)
    0.812
    """
    h = np.asarray(hebbian, dtype=float)
    if np.any(h <= 0):
        raise HomeonetError("hebbian must be > 0 (1/s)")
    t, k = float(tau / second), np.asarray(speed, dtype=float)
    a = 1 - k * t
    out = np.where(h < k, (a + np.sqrt(a * a + 4 * h * t)) / (2 * h), np.nan)
    return float(out) if out.ndim == 0 else out


def stable_speeds(sensor_tau, recurrence=0.0, hebbian=0.0, tau=10 * ms):
    r"""The window of stable homeostatic speeds :math:`(k_\min, k_\max)` of the two laws together.

    From the Routh-Hurwitz conditions of the loop with recurrence :math:`\lambda` and Hebbian growth
    :math:`h`: :math:`k > h` (homeostasis must outpace Hebbian growth) and

    .. math:: k < k_\max = h + \frac{\big(\tau + \tau_A(1-\lambda)\big)\big(1 - \lambda - h\tau_A\big)}{\tau\tau_A},

    empty when :math:`\tau_A \ge \tau_\mathrm{crit}` (Zenke) and shrinking to 0 as :math:`\lambda \to 1`
    (Harnack). With :math:`h = 0` it is :math:`(0, k_c(\lambda))` of :func:`critical_speed`.

    Parameters
    ----------
    sensor_tau : Quantity or float or array
        :math:`\tau_A` (seconds if plain numbers).
    recurrence : float
        :math:`\lambda` (< 1).
    hebbian : float
        :math:`h` in 1/s (>= 0).
    tau : Quantity
        :math:`\tau`.

    Returns
    -------
    k_min, k_max : numpy.ndarray
        Bounds in 1/s; NaN where the window is empty.

    References
    ----------
    Harnack D et al. (2015) PLoS Comput Biol 11:e1004357; Zenke F et al. (2013) PLoS Comput Biol 9:e1003330.

    Examples
    --------
    >>> from brian2 import ms
    >>> lo, hi = stable_speeds(0.1, recurrence=0.0)
    >>> float(lo), round(float(hi), 6)
    (0.0, 110.0)
    """
    ta = np.asarray(sensor_tau / second if hasattr(sensor_tau, "dim") else sensor_tau, dtype=float)
    lam, h, t = float(recurrence), float(hebbian), float(tau / second)
    if lam >= 1 or h < 0:
        raise HomeonetError("recurrence must be < 1 and hebbian >= 0")
    hi = h + (t + ta * (1 - lam)) * (1 - lam - h * ta) / (t * ta)
    lo = np.full_like(hi, h)
    empty = hi <= lo
    return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)


# -- the grid -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """The settings of a trade-off map: per mechanism, a product of strengths and sensor time constants.

    Attributes
    ----------
    network : {'rate', 'spiking'}
        Test bed (experiment :data:`EXPERIMENT` ``[network]``).
    mechanisms : tuple of str
        Mechanism choices (:data:`homeonet.models.testbed.MECHANISMS`).
    strengths : tuple of float
        Strength multipliers (``none`` runs once, at strength 1).
    sensor_taus : tuple of Quantity
        Sensor time constants (mechanisms without a sensor run at the first one only).
    seeds : tuple of int
        Seeds of each setting.
    fixed : dict
        Other parameter values of every point (e.g. ``{'duration': 6 * second}``).
    """

    network: str
    mechanisms: tuple
    strengths: tuple
    sensor_taus: tuple
    seeds: tuple
    fixed: dict = field(default_factory=dict)

    @property
    def experiment(self) -> str:
        """Name of the test bed's experiment."""
        return EXPERIMENT[self.network]

    def settings(self) -> list:
        """``(mechanism, strength, sensor_tau)`` of every setting (without seeds)."""
        from homeonet.models.testbed import MECHANISMS

        out = []
        for m in self.mechanisms:
            strengths = (1.0,) if m == "none" else self.strengths
            taus = self.sensor_taus if MECHANISMS[m].sensor else self.sensor_taus[:1]
            out += [(m, s, tau) for s in strengths for tau in taus]
        return out

    def points(self) -> list:
        """``(overrides, seed)`` of every point: the parameter values to set, and the seed."""
        return [({**self.fixed, "mechanism": m, "strength": s, "sensor_tau": tau}, seed)
                for m, s, tau in self.settings() for seed in self.seeds]

    @property
    def n_points(self) -> int:
        """Number of runs."""
        return len(self.settings()) * len(self.seeds)

    def spec(self, title=None) -> dict:
        """The grid as one sweep specification (:mod:`homeonet.sweep`): a zip over every setting.

        Parameters
        ----------
        title : str, optional
            Title of the sweep's Dataset.

        Returns
        -------
        dict
            ``{'experiment', 'title', 'seeds', 'set', 'zip': {'mechanism', 'strength', 'sensor_tau'},
            'keep_results': True}``, values as text with units (as ``homeonet run --set`` takes them);
            each point keeps its full results (for the trajectories of :func:`report`).
        """
        from homeonet.models.experiments import get_experiment

        params = get_experiment(self.experiment).parameters
        settings = self.settings()
        return {"experiment": self.experiment, "title": title or f"trade-off map of {self.experiment}",
                "seeds": list(self.seeds), "set": {k: params[k].format(v) for k, v in self.fixed.items()},
                "zip": {"mechanism": [m for m, _, _ in settings],
                        "strength": [params["strength"].format(x) for _, x, _ in settings],
                        "sensor_tau": [params["sensor_tau"].format(t) for _, _, t in settings]},
                "keep_results": True}


def grid(network="rate", quick=False, mechanisms=None, seeds=3, fixed=None) -> Grid:
    """The map's grid for a test bed.

    Full grid: strengths 0.1, 0.3, 1, 3, 10 (two decades); sensor time constants 50 ms, 200 ms, 1 s
    (rate) or 100 ms, 500 ms, 2.5 s (spiking). Quick grid (rate network only): strengths 0.1, 1, 10,
    sensor time constants 50 ms and 500 ms, 6-s runs.

    Parameters
    ----------
    network : {'rate', 'spiking'}
        Test bed.
    quick : bool
        The quick grid.
    mechanisms : sequence of str or str, optional
        A subset of the test bed's mechanisms (comma-separated text accepted; default all).
    seeds : int
        Seeds 0 .. seeds-1 (>= 3 for the map).
    fixed : dict, optional
        Other parameter values of every point (values, or text as ``--set`` takes it), e.g. a shorter
        ``duration``; the grid's own parameters (mechanism, strength, sensor_tau) cannot be fixed.

    Returns
    -------
    Grid

    Raises
    ------
    HomeonetError
        An unknown network or mechanism (the accepted ones are named), fewer than 3 seeds, or a quick
        spiking grid.
    """
    from homeonet.models.testbed import RATE_MECHANISMS, SPIKING_MECHANISMS

    network = check_choice("network", network, tuple(EXPERIMENT))
    known = RATE_MECHANISMS if network == "rate" else SPIKING_MECHANISMS
    if mechanisms is None:
        chosen = known
    else:
        if isinstance(mechanisms, str):
            mechanisms = [m.strip() for m in mechanisms.split(",") if m.strip()]
        chosen = tuple(dict.fromkeys(mechanisms))
        bad = [m for m in chosen if m not in known]
        if bad or not chosen:
            raise HomeonetError(f"mechanisms must name some of {', '.join(known)} ({network} test bed); "
                                f"got {', '.join(map(str, bad)) or 'none'}")
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 3:
        raise HomeonetError(f"seeds must be an integer >= 3 (the map's spread over seeds), got {seeds!r}")
    from homeonet.models.experiments import get_experiment

    params = get_experiment(EXPERIMENT[network]).parameters
    swept = {"mechanism", "strength", "sensor_tau"} & set(fixed or {})
    if swept:
        raise HomeonetError(f"fixed: {', '.join(sorted(swept))} is swept by the map and cannot be fixed")
    if quick and network != "rate":
        raise HomeonetError("quick=True is a grid of the rate test bed; use network='rate'")
    own = {"duration": 6 * second} if quick else {}
    own.update({k: params[k].parse(v) for k, v in (fixed or {}).items()})
    if quick:
        return Grid(network, chosen, (0.1, 1.0, 10.0), (50 * ms, 500 * ms), tuple(range(seeds)), own)
    taus = (50 * ms, 200 * ms, 1 * second) if network == "rate" else (100 * ms, 500 * ms, 2.5 * second)
    return Grid(network, chosen, (0.1, 0.3, 1.0, 3.0, 10.0), taus, tuple(range(seeds)), own)


# -- one point ------------------------------------------------------------------------------------------------------

def diverged():
    """The measures of a point whose run diverged: ``runaway`` 1, every other measure NaN.

    Returns
    -------
    dict
        Every name of :data:`homeonet.analysis.TRADEOFF_MEASURES`.
    """
    from homeonet.analysis import TRADEOFF_MEASURES

    measures = dict.fromkeys(TRADEOFF_MEASURES, math.nan)
    measures["runaway"] = 1.0
    return measures


def evaluate_point(experiment, overrides, seed, device="runtime", target=None, directory=None):
    """Build, run and measure one point of the map.

    Parameters
    ----------
    experiment : str
        ``'testbed'`` or ``'testbed_rate'`` (or another experiment whose measure is
        :func:`homeonet.models.testbed.measure_testbed`).
    overrides : dict
        Parameter values (values or text, as ``homeonet run --set``).
    seed : int
        Brian2 seed.
    device : {'runtime', 'cpp_standalone'}
        Brian2 device.
    target : {'auto', 'numpy', 'cython'}, optional
        Code generation of the runtime device.
    directory : str, optional
        Build folder of ``cpp_standalone``.

    Returns
    -------
    measures : dict
        :data:`homeonet.analysis.TRADEOFF_MEASURES` (floats), with the wall time per simulated second
        of this run. A run that diverged (:class:`homeonet.DivergenceError`: a state became NaN/inf or
        the population rate ran away) is a point of the map, not a failure: ``runaway`` is 1, the
        measures that need the whole run are NaN.
    results : homeonet.Results or None
        The run (its attributes hold every parameter, the seed and the wall time); None after a divergence.
    """
    import brian2

    from homeonet.models.experiments import get_experiment
    from homeonet.simulate import simulate, use_device

    from ._validate import DivergenceError

    exp = get_experiment(experiment)
    values = exp.resolve(overrides)
    brian2.start_scope()
    with use_device(device, directory=directory, target=target):
        brian2.seed(int(seed))
        net = exp.build(values)
        try:
            results = simulate(net, values["duration"], progress=False, level=1, seed=int(seed),
                               **exp.record(values))
        except DivergenceError as err:
            logger.info("point %s seed %s diverged: %s", dict(overrides), seed, err)
            return diverged(), None
    measures, _ = exp.measure(results, values)
    return measures, results


def collect(records):
    """The labelled map from point records.

    Parameters
    ----------
    records : iterable of dict
        Each with ``mechanism``, ``strength``, ``sensor_tau`` (Quantity or seconds), ``seed`` and the
        measures (floats).

    Returns
    -------
    xarray.Dataset
        Dimensions ``(mechanism, strength, sensor_tau, seed)`` (``sensor_tau`` in seconds); one variable
        per measure, NaN where the grid has no point (mechanisms without a sensor are stored at every
        ``sensor_tau``, which they ignore).
    """
    import pandas as pd

    from homeonet.models.testbed import MECHANISMS

    rows = []
    for rec in records:
        row = dict(rec)
        tau = row["sensor_tau"]
        row["sensor_tau"] = float(tau / second) if hasattr(tau, "dim") else float(tau)
        rows.append(row)
    if not rows:
        raise HomeonetError("records must hold at least one point")
    df = pd.DataFrame(rows)
    keys = ["mechanism", "strength", "sensor_tau", "seed"]
    taus = np.sort(df["sensor_tau"].unique())
    fill = []
    for _, row in df.iterrows():  # a mechanism without a sensor holds for every sensor time constant
        if not MECHANISMS[row["mechanism"]].sensor:
            fill += [{**row.to_dict(), "sensor_tau": t} for t in taus if t != row["sensor_tau"]]
    if fill:
        df = pd.concat([df, pd.DataFrame(fill)], ignore_index=True)
    df = df.drop_duplicates(subset=keys, keep="first")
    ds = df.set_index(keys).to_xarray()
    ds["sensor_tau"].attrs["units"] = "second"
    order = [m for m in MECHANISMS if m in ds["mechanism"].values]
    return ds.sel(mechanism=order)


# -- Pareto front and table -----------------------------------------------------------------------------------------

def pareto_mask(costs):
    r"""Which points are Pareto-optimal (not dominated) when every column is to be minimised.

    Point :math:`i` is dominated when some :math:`j` is no worse in every objective and better in
    one: :math:`\exists j: c_j \le c_i \land c_j \ne c_i`. Vectorised with numpy broadcasting
    (:math:`O(n^2 d)` memory).

    Parameters
    ----------
    costs : array
        ``(n, d)`` costs (``inf`` allowed; a row with a NaN is never optimal).

    Returns
    -------
    numpy.ndarray
        Boolean ``(n,)``, True for the non-dominated points.

    References
    ----------
    Deb K (2001) Multi-Objective Optimization Using Evolutionary Algorithms, ch. 2. Wiley.

    Examples
    --------
    >>> pareto_mask([[1, 3], [2, 2], [3, 1], [3, 3]]).tolist()
    [True, True, True, False]
    """
    c = np.asarray(costs, dtype=float)
    if c.ndim != 2:
        raise HomeonetError(f"costs must be a 2-D array (points x objectives), got shape {c.shape}")
    bad = np.isnan(c).any(axis=1)
    c = np.where(np.isnan(c), np.inf, c)
    le = (c[:, None, :] <= c[None, :, :]).all(axis=2)     # le[j, i]: j no worse than i everywhere
    lt = (c[:, None, :] < c[None, :, :]).any(axis=2)      # lt[j, i]: j better than i somewhere
    dominated = ((le & lt) & ~bad[:, None]).any(axis=0)
    return ~dominated & ~bad


def _costs(df):
    """Minimised costs of :data:`OBJECTIVES` from a settings table."""
    return np.column_stack([np.where(df[k].isna(), np.inf, df[k]) if OBJECTIVES[k] == "min" else -df[k]
                            for k in OBJECTIVES])


def settings_table(ds):
    """One row per setting of the map: mean and s.d. over seeds of every measure.

    A recovery time that is NaN in a seed (never recovered) counts as infinite, so the mean is
    infinite; ``instability`` is added (see :data:`OBJECTIVES`).

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`collect` (or the sweep engine's product with the same dimensions).

    Returns
    -------
    pandas.DataFrame
        Columns ``mechanism``, ``scale``, ``strength``, ``sensor_tau``, ``seeds`` (finished seeds), each
        measure (mean) and ``<measure>_sd``.
    """
    from homeonet.models.testbed import MECHANISMS

    ds = ds.copy()
    ds["recovery_time"] = ds["recovery_time"].where(~(ds["recovery_time"].isnull() & ds["rate_end"].notnull()),
                                                    np.inf)
    osc = ds["oscillation_index"].fillna(0.0).clip(0.0, 1.0)
    ds["instability"] = osc.where(ds["runaway"] != 1, 1.0).where(ds["rate_end"].notnull())
    with np.errstate(invalid="ignore"):  # never-recovered points are inf: their spread is NaN
        mean, sd = ds.mean("seed"), ds.std("seed", ddof=1)
    n = ds["rate_end"].notnull().sum("seed")
    df = mean.to_dataframe().join(sd.to_dataframe().add_suffix("_sd")).join(n.to_dataframe(name="seeds"))
    df = df.reset_index()
    df = df[df["seeds"] > 0].copy()
    df["scale"] = [MECHANISMS[m].scale for m in df["mechanism"]]
    df["sensor_tau"] = np.where([MECHANISMS[m].sensor for m in df["mechanism"]], df["sensor_tau"], np.nan)
    df = df.drop_duplicates(subset=["mechanism", "strength", "sensor_tau"])
    first = ["mechanism", "scale", "strength", "sensor_tau", "seeds"]
    return df[first + [c for c in df.columns if c not in first]].reset_index(drop=True)


def pareto_table(ds):
    """Each mechanism's Pareto-optimal settings in recovery time, coding capacity and stability.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`collect`.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`settings_table` that are optimal within their mechanism (:func:`pareto_mask`
        on the seed means of :data:`OBJECTIVES`), sorted by mechanism and recovery time.
    """
    df = settings_table(ds)
    keep = np.zeros(len(df), dtype=bool)
    for _, idx in df.groupby("mechanism", sort=False).groups.items():
        idx = np.asarray(list(idx))
        keep[idx] = pareto_mask(_costs(df.loc[idx]))
    return df[keep].sort_values(["mechanism", "recovery_time"], kind="stable").reset_index(drop=True)


#: Columns of the written table (a subset of :func:`settings_table`'s, in this order).
TABLE_COLUMNS = ("mechanism", "scale", "strength", "sensor_tau", "seeds", "recovery_time", "recovery_time_sd",
                 "decoding_accuracy_end", "decoding_accuracy_end_sd", "instability", "residual_error", "overshoot",
                 "usage_entropy_end", "mutual_information_end", "rate_heterogeneity_end", "runaway",
                 "wall_time_per_second")


def write_table(df, path):
    """Write a table of the map as CSV and as aligned text (pandas), each file atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`pareto_table` or :func:`settings_table`.
    path : str or Path
        Destination without extension: ``<path>.csv`` and ``<path>.txt`` are written.

    Returns
    -------
    list of Path
    """
    from ._io import atomic_write

    path = Path(path)
    if not path.parent.is_dir():
        raise HomeonetError(f"path: folder {str(path.parent)!r} does not exist")
    cols = [c for c in TABLE_COLUMNS if c in df.columns]
    table = df[cols]
    csv, txt = path.with_name(path.name + ".csv"), path.with_name(path.name + ".txt")
    atomic_write(csv, lambda tmp: table.to_csv(tmp, index=False))
    atomic_write(txt, lambda tmp: Path(tmp).write_text(table.to_string(index=False, float_format="%.3g") + "\n"))
    return [csv, txt]


# -- figures --------------------------------------------------------------------------------------------------------

def _colors():
    from homeonet.models.testbed import MECHANISMS

    from matplotlib import colormaps

    # one distinct colour per mechanism: matplotlib's tab10, then the light shades of tab20
    cycle = list(colormaps["tab10"].colors) + list(colormaps["tab20"].colors[1::2])
    return {m: cycle[k % len(cycle)] for k, m in enumerate(MECHANISMS)}


def front_figure(ds):
    """Recovery time against coding capacity, every setting of every mechanism, with each mechanism's front.

    Each point is one setting (mean over seeds); settings that never recovered sit at the right edge
    (marked x). The line joins the mechanism's settings that are Pareto-optimal in recovery time and
    decoding accuracy after recovery.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`collect`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .figures import _new, _styled

    @_styled
    def draw():
        df = settings_table(ds)
        colors = _colors()
        fig, axes = _new(1, 1, height=3.2, width=5.2)
        ax = axes[0, 0]
        finite = df["recovery_time"][np.isfinite(df["recovery_time"])]
        edge = (finite.max() * 1.6 if finite.size else 10.0) or 1.0
        for m, sub in df.groupby("mechanism", sort=False):
            x = np.where(np.isfinite(sub["recovery_time"]), sub["recovery_time"], edge)
            y = sub["decoding_accuracy_end"].to_numpy()
            never = ~np.isfinite(sub["recovery_time"].to_numpy())
            ax.scatter(x[~never], y[~never], s=14, color=colors[m], alpha=0.8, label=m.replace("_", " "))
            ax.scatter(x[never], y[never], s=14, color=colors[m], marker="x", alpha=0.8)
            costs = np.column_stack([np.where(never, np.inf, x), -y])
            front = pareto_mask(costs) & ~never
            if front.any():
                order = np.argsort(x[front])
                ax.plot(x[front][order], y[front][order], color=colors[m], lw=1.2, drawstyle="steps-post")
        ax.axvline(edge, color="0.7", lw=0.6, ls=":")
        ax.text(edge, ax.get_ylim()[0], " never", fontsize=6, color="0.4", va="bottom")
        ax.set_xscale("symlog", linthresh=0.05)
        ax.set_xlim(0, edge * 1.15)
        ax.set_xlabel("recovery time to within 10 % of the set point (s)")
        ax.set_ylabel("decoding accuracy after recovery")
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return fig

    return draw()


def stability_figure(ds, sensor_tau=None, laws=None):
    r"""Speed against stability: the oscillation index over strength, and the stable window of the two laws.

    Left: for each mechanism, the instability (:data:`OBJECTIVES`) of each strength at one sensor time
    constant (mean over seeds); a tick marks the mechanism's oscillation boundary, the smallest
    strength whose instability exceeds 0.5. Right: the window of stable homeostatic speeds of the two
    laws in the plane (speed :math:`k`, sensor :math:`\tau_A`) for the settings in *laws*: below the
    Harnack boundary :math:`k_c(\lambda, \tau_A)` (:func:`critical_speed`, no Hebbian growth) and
    below the Zenke boundary :math:`\tau_\mathrm{crit}(h, k)` (:func:`critical_sensor_tau`, no
    recurrence), which also requires :math:`k > h`; measured critical points (from the law tests) are
    drawn where given. (The loop with both recurrence and Hebbian growth, :func:`stable_speeds`, is
    slightly narrower.)

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`collect`.
    sensor_tau : float, optional
        Sensor time constant (s) of the left panel (default: the middle one of the map).
    laws : dict, optional
        ``recurrence`` (:math:`\lambda`, default 0.5), ``hebbian`` (:math:`h`, 1/s, default 2),
        ``tau`` (Quantity, default 10 ms), and optionally ``harnack`` (measured ``(k, tau_A)`` pairs) and
        ``zenke`` (measured ``(k, tau_A)`` pairs).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .figures import _new, _panel_letters, _styled

    laws = dict(laws or {})
    lam, h, tau = laws.get("recurrence", 0.5), laws.get("hebbian", 2.0), laws.get("tau", 10 * ms)

    @_styled
    def draw():
        df = settings_table(ds)
        taus = np.unique(df["sensor_tau"].dropna())
        chosen = taus[len(taus) // 2] if sensor_tau is None and taus.size else sensor_tau
        colors = _colors()
        fig, axes = _new(1, 2, height=2.8, width=6.8)
        ax = axes[0, 0]
        for m, sub in df.groupby("mechanism", sort=False):
            if m == "none":
                continue
            if sub["sensor_tau"].notna().any() and chosen is not None:
                sub = sub[np.isclose(sub["sensor_tau"], chosen)]
            sub = sub.sort_values("strength")
            ax.plot(sub["strength"], sub["instability"], "o-", ms=3, color=colors[m], label=m.replace("_", " "))
            over = sub[sub["instability"] > 0.5]
            if len(over):
                ax.plot([over["strength"].iloc[0]] * 2, [1.02, 1.1], color=colors[m], lw=2, clip_on=False)
        ax.axhline(0.5, color="0.6", lw=0.6, ls="--")
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.12)
        ax.set_xlabel("strength (x reference learning rate)")
        ax.set_ylabel("instability (oscillation index)")
        ax.set_title(f"sensor tau = {chosen:g} s" if chosen is not None else "", fontsize=7)
        ax.legend(fontsize=5.5, ncol=2)
        ax = axes[0, 1]
        ta = np.geomspace(0.02, 5.0, 200)
        ks = np.geomspace(0.1, 1e3, 300)
        grid_k, grid_ta = np.meshgrid(ks, ta)
        with np.errstate(invalid="ignore"):
            stable = ((grid_k < critical_speed(lam, tau, grid_ta * second))
                      & (grid_ta < np.nan_to_num(critical_sensor_tau(h, grid_k, tau), nan=0.0)))
        ax.contourf(grid_k, grid_ta, stable.astype(float), levels=[0.5, 1.5], colors=["#abebc6"], alpha=0.8)
        ax.plot([], [], color="#abebc6", lw=6, label="stable window of the two laws")
        ax.plot(critical_speed(lam, tau, ta * second), ta, color="#c0392b", lw=1,
                label=f"Harnack: oscillation above k_c (lambda={lam:g})")
        hebb = ks[ks > h * 1.001]
        ax.plot(hebb, critical_sensor_tau(h, hebb, tau), color="#1f4e79", lw=1,
                label=f"Zenke: runaway above tau_crit (h={h:g}/s)")
        for key, marker in (("harnack", "o"), ("zenke", "s")):
            pts = np.asarray(laws.get(key, ()), dtype=float).reshape(-1, 2)
            if pts.size:
                ax.plot(pts[:, 0], pts[:, 1], marker, ms=4, mfc="none", color="0.2", label=f"measured ({key})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(0.1, 1e3)
        ax.set_ylim(ta[0], ta[-1])
        ax.set_xlabel("homeostatic speed k (1/s)")
        ax.set_ylabel("sensor time constant (s)")
        ax.legend(fontsize=5.5, loc="upper right")
        _panel_letters(axes)
        return fig

    return draw()


def trajectory_figure(trajectories, target=None, onset=None):
    """Small multiples of population-rate trajectories: one row per mechanism, one column per setting.

    Parameters
    ----------
    trajectories : dict
        ``{(mechanism, label): (times in s, rate in Hz)}`` or ``(times, rate, note)`` with a short note
        written in the panel (e.g. the strength); labels such as ``'slow'``, ``'best'``, ``'too fast'``
        (columns in order of first appearance).
    target : float, optional
        Set point (Hz), drawn dashed with its 10 % band.
    onset : float, optional
        Perturbation time (s), drawn as a vertical line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .figures import COLORS, _new, _styled

    if not trajectories:
        raise HomeonetError("trajectories must hold at least one (mechanism, label) entry")
    mechs = list(dict.fromkeys(k[0] for k in trajectories))
    labels = list(dict.fromkeys(k[1] for k in trajectories))

    @_styled
    def draw():
        fig, axes = _new(len(mechs), len(labels), height=1.1, width=1.9 * len(labels) + 0.8, sharex=True,
                         sharey="row")
        for i, m in enumerate(mechs):
            for j, lab in enumerate(labels):
                ax = axes[i, j]
                if (m, lab) not in trajectories:
                    ax.set_axis_off()
                    continue
                entry = trajectories[(m, lab)]
                t, r = (np.asarray(x, dtype=float) for x in entry[:2])
                if len(entry) > 2:
                    ax.text(0.98, 0.95, str(entry[2]), transform=ax.transAxes, ha="right", va="top", fontsize=6)
                if target is not None:
                    ax.axhspan(0.9 * target, 1.1 * target, color=COLORS["band"], alpha=0.5, lw=0)
                    ax.axhline(target, color=COLORS["target"], lw=0.6, ls="--")
                if onset is not None:
                    ax.axvline(onset, color=COLORS["perturbation"], lw=0.6)
                ax.plot(t, r, color=COLORS["rate"], lw=0.8)
                if i == 0:
                    ax.set_title(lab, fontsize=8)
                if j == 0:
                    ax.set_ylabel(f"{m.replace('_', ' ')}\nrate (Hz)", fontsize=6.5)
                if i == len(mechs) - 1:
                    ax.set_xlabel("time (s)")
        return fig

    return draw()


def pick_settings(ds, mechanism, sensor_tau=None):
    """The slowest, the best and the fastest strength of a mechanism (for :func:`trajectory_figure`).

    *best* is the Pareto-optimal setting with the shortest recovery among those without oscillation
    (instability <= 0.5); *slow* and *too fast* are the smallest and largest strengths.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`collect`.
    mechanism : str
        One of its mechanisms.
    sensor_tau : float, optional
        Sensor time constant (s) of the settings (default: that of the best setting).

    Returns
    -------
    dict
        ``{'slow': (strength, sensor_tau), 'best': ..., 'too fast': ...}`` (sensor_tau NaN without a sensor).
    """
    df = settings_table(ds)
    sub = df[df["mechanism"] == mechanism]
    if sub.empty:
        raise HomeonetError(f"mechanism {mechanism!r} is not in the map")
    table = pareto_table(ds)
    cand = table[(table["mechanism"] == mechanism) & (table["instability"] <= 0.5)]
    cand = cand if len(cand) else sub
    best = cand.sort_values("recovery_time").iloc[0]
    tau = best["sensor_tau"] if sensor_tau is None else sensor_tau
    same = sub if not np.isfinite(tau) else sub[np.isclose(sub["sensor_tau"], tau)]
    same = same if len(same) else sub
    return {"slow": (float(same["strength"].min()), tau), "best": (float(best["strength"]), best["sensor_tau"]),
            "too fast": (float(same["strength"].max()), tau)}


__all__ += ["pick_settings", "TABLE_COLUMNS"]


# -- running the map on the sweep engine ---------------------------------------------------------------------------

def from_sweep(product):
    """The map (:func:`collect`) from the Dataset of the map's sweep (:meth:`Grid.spec` run by :mod:`homeonet.sweep`).

    A point whose run diverged (status ``diverged``: a :class:`homeonet.DivergenceError`) is a runaway of the map
    (:func:`diverged`); a point that failed otherwise or has not run is left out.

    Parameters
    ----------
    product : xarray.Dataset
        ``homeonet.sweep.run(grid.spec(), ...)`` or ``homeonet.load_sweep(folder)``: dimensions
        ``(point, seed)`` with ``mechanism``, ``strength``, ``sensor_tau`` along ``point``.

    Returns
    -------
    xarray.Dataset
        As :func:`collect`.
    """
    from homeonet.analysis import TRADEOFF_MEASURES

    from .units import to_quantity

    missing = [k for k in ("mechanism", "strength", "sensor_tau", "status") if k not in product.variables]
    if missing or "point" not in product.dims:
        raise HomeonetError("product must be the sweep of a trade-off grid (a zip over mechanism, strength and "
                            f"sensor_tau); missing: {', '.join(missing) or 'the point dimension'}")
    unit = product["sensor_tau"].attrs.get("units", "s")
    taus = [float(to_quantity(float(x), unit) / second) for x in product["sensor_tau"].values]
    records = []
    for k in range(product.sizes["point"]):
        setting = {"mechanism": str(product["mechanism"].values[k]), "strength": float(product["strength"].values[k]),
                   "sensor_tau": taus[k]}
        for j, seed in enumerate(product["seed"].values):
            status = str(product["status"].values[k, j])
            if status == "done":
                measures = {n: float(product[n].values[k, j]) for n in TRADEOFF_MEASURES if n in product}
            elif status == "diverged":
                measures = diverged()
            else:
                continue
            records.append({**setting, "seed": int(seed), **measures})
    return collect(records)


def sweep_trajectories(ds, points_dir, spec, mechanisms=("intrinsic_plasticity", "synaptic_scaling", "global_factor"),
                       seed=None):
    """Population-rate trajectories of each mechanism's slow, best and fastest setting (:func:`pick_settings`).

    Parameters
    ----------
    ds : xarray.Dataset
        The map (:func:`from_sweep`).
    points_dir : str or Path
        The sweep's point files (``<sweep folder>/points``), kept with their results.
    spec : dict
        The map's sweep specification (:meth:`Grid.spec`).
    mechanisms : sequence of str
        Mechanisms drawn (those absent from the map are skipped).
    seed : int, optional
        Seed of the runs drawn (default: the first).

    Returns
    -------
    trajectories : dict
        ``{(mechanism, label): (times in s, rate in Hz smoothed over 100 ms, note)}`` for
        :func:`trajectory_figure`.
    onset, target : float or None
        Perturbation time (s) and set point (Hz) of the runs.
    """
    from homeonet.analysis import population_activity, smooth_rate

    from .results import load
    from .sweep import load_spec

    ids = {}
    for point in load_spec(spec).points():
        v = point["values"]
        ids[(v["mechanism"], float(v["strength"]), round(float(v["sensor_tau"] / second), 9), point["seed"])] = point["id"]
    seed = int(ds["seed"].values[0]) if seed is None else seed
    default_tau = float(ds["sensor_tau"].values[0])
    out, onset, target = {}, None, None
    for m in (x for x in mechanisms if x in ds["mechanism"].values):
        for label, (strength, tau) in pick_settings(ds, m).items():
            key = (m, float(strength), round(tau if np.isfinite(tau) else default_tau, 9), seed)
            path = Path(points_dir) / f"{ids.get(key, '')}.nc"
            if key not in ids or not path.is_file():
                continue
            res = load(path)
            if not res.dataset.attrs.get("sweep.results", 1):
                continue
            t, rate, _ = population_activity(res, "E")
            width = max(1, int(round(0.1 / float(t[1] - t[0])))) if t.size > 1 else 1
            smoothed = np.asarray(smooth_rate(rate, float(t[1] - t[0]), width * float(t[1] - t[0]), kernel="box")) \
                if width > 1 else rate
            note = f"strength {strength:g}" + (f", sensor {tau:g} s" if np.isfinite(tau) else "")
            out[(m, label)] = (t, smoothed, note)
            onset, target = res.dataset.attrs.get("onset"), res.dataset.attrs.get("target")
    return out, onset, target


def report(ds, out, trajectories=None, onset=None, target=None, laws=None, formats=("png", "pdf")):
    """Write the map's product into *out*: the Dataset, the tables and the figures, each file atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`collect` or :func:`from_sweep`.
    out : str or Path
        Folder (must exist).
    trajectories : dict, optional
        For :func:`trajectory_figure` (skipped without).
    onset, target : float, optional
        Perturbation time (s) and set point (Hz) of the trajectories.
    laws : dict, optional
        Passed to :func:`stability_figure`.
    formats : sequence of str
        Figure formats.

    Returns
    -------
    list of Path
        ``tradeoffs.nc``, ``pareto.csv``/``.txt``, ``settings.csv``/``.txt`` and the figures
        ``front``, ``stability`` and ``trajectories``.
    """
    from ._io import atomic_write
    from .figures import save_figure

    out = Path(out)
    written = [atomic_write(out / "tradeoffs.nc", lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))]
    written += write_table(pareto_table(ds), out / "pareto")
    written += write_table(settings_table(ds), out / "settings")
    written += save_figure(front_figure(ds), out / "front", formats=formats)
    written += save_figure(stability_figure(ds, laws=laws), out / "stability", formats=formats)
    if trajectories:
        written += save_figure(trajectory_figure(trajectories, target=target, onset=onset), out / "trajectories",
                               formats=formats)
    return [Path(p) for p in written]


def run_map(grid, out, *, scheduler=None, workers=None, target=None, progress=True):
    """Run a trade-off map on the sweep engine (resumable, distributed) and write its product.

    Parameters
    ----------
    grid : Grid
        From :func:`grid`.
    out : str or Path
        Folder of the map: the sweep's folder ``out/sweep`` (each point's results, resumable) and the
        files of :func:`report`.
    scheduler : str, optional
        Address of a running Dask scheduler (default: a local cluster).
    workers : int, optional
        Local worker processes (default: one per core).
    target : {'auto', 'numpy', 'cython'}, optional
        Code generation of the runtime device.
    progress : bool
        Print the plan and a progress bar.

    Returns
    -------
    map : xarray.Dataset
        As :func:`collect`.
    product : xarray.Dataset
        The sweep's own Dataset (with each point's ``status`` and ``error``).
    """
    from . import sweep

    out = Path(out)
    spec = grid.spec()
    product = sweep.run(spec, out / "sweep", scheduler=scheduler, workers=workers, target=target, progress=progress)
    ds = from_sweep(product)
    trajectories, onset, target_rate = sweep_trajectories(ds, out / "sweep" / sweep.POINTS_DIR, spec)
    files = report(ds, out, trajectories, onset=onset, target=target_rate)
    if progress:
        print(f"tradeoffs: {len(ds['mechanism'])} mechanisms; wrote {', '.join(p.name for p in files)} to {out}")
    return ds, product


def register(sub):
    """Add ``homeonet tradeoffs`` to the command line's subparsers."""
    from .sweep import _count

    p = sub.add_parser("tradeoffs", help="the trade-off map: every homeostatic mechanism over strength, sensor "
                                         "and seeds on the test bed; Pareto table and figures (sweep engine)",
                       description="Run the trade-off map on the sweep engine (resumable; a local Dask cluster or "
                                   "--scheduler): each mechanism of the test bed alone and the four scales together, "
                                   "over its strength (two decades) and sensor time constant, three seeds or more. "
                                   "Writes tradeoffs.nc, pareto.csv/.txt (each mechanism's Pareto-optimal settings "
                                   "in recovery time, coding capacity and stability), settings.csv/.txt and the "
                                   "figures front, stability and trajectories. Needs the 'sweep' extra.")
    p.add_argument("--quick", action="store_true", help="the quick grid of the rate test bed (3 strengths, 2 sensor "
                                                       "time constants, 6-s runs; minutes on 2 cores)")
    p.add_argument("--network", default="rate", choices=tuple(EXPERIMENT),
                   help="test bed: rate (testbed_rate) or spiking (testbed); default rate")
    p.add_argument("--mechanisms", default=None, metavar="LIST",
                   help="comma-separated mechanisms (default: all of the test bed; 'homeonet list --params testbed')")
    p.add_argument("--seeds", default=3, type=_count, metavar="N", help="seeds per setting (>= 3; default 3)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
                   help="a parameter of every point, with its unit (e.g. --set duration=20s); repeatable")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: homeonet-results/tradeoffs-NETWORK[-quick]); reruns resume")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    p.add_argument("--workers", default=None, type=_count, metavar="N",
                   help="local worker processes (default: one per core)")
    p.add_argument("--target", default=None, choices=("auto", "numpy", "cython"),
                   help="code generation of the runtime device (default auto)")
    p.add_argument("--quiet", action="store_true", help="no plan, no progress bar")
    return p


def command(args) -> int:
    """``homeonet tradeoffs``: exit 0 when every point ran (diverged ones included), 1 when some failed."""
    import importlib.util

    from ._io import check_output_paths
    from .sweep import NEEDS_DASK

    from .cli import _settings

    g = grid(args.network, quick=args.quick, mechanisms=args.mechanisms, seeds=args.seeds,
             fixed=_settings(args.settings))
    out = args.out or f"homeonet-results/tradeoffs-{args.network}{'-quick' if args.quick else ''}"
    if importlib.util.find_spec("distributed") is None:
        raise HomeonetError(NEEDS_DASK)
    check_output_paths(out, ("tradeoffs.nc", "pareto.csv", "pareto.txt", "settings.csv", "settings.txt"))
    _, product = run_map(g, out, scheduler=args.scheduler, workers=args.workers, target=args.target,
                         progress=not args.quiet)
    other = sorted(set(product["error"].values[product["status"].values == "failed"]))
    for message in other[:5]:
        print(f"failed: {message}", file=sys.stderr)
    return 1 if other else 0


__all__ += ["from_sweep", "report", "run_map", "diverged", "sweep_trajectories", "register", "command"]
