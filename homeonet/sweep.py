"""Parameter sweeps on dask.distributed: resumable, compiled once per network structure, one labelled Dataset.

A sweep is an experiment (a ready-made one from ``homeonet list``, or your own build function
declared with :func:`homeonet.models.experiments.experiment` and named ``"module:function"``), a
grid, a zip or a random sample over its declared parameters, seeds, and the measures to keep. The
engine validates all of it before any work, runs one Dask task per point (or per batch of points
that share a compiled binary), writes every finished point atomically into the sweep's folder
under a hash of its full parameter set, and assembles the finished points into one
``xarray.Dataset``: one dimension per swept parameter plus ``seed``, the measures as variables.

Python
------
>>> import homeonet.sweep as sweep                                      # doctest: +SKIP
>>> ds = sweep.run({"experiment": "homeostasis", "seeds": [1, 2, 3],
...                 "set": {"duration": "4 s"},
...                 "grid": {"eta": ["0.02 mV/Hz", "0.05 mV/Hz", "0.1 mV/Hz"]}},
...                out="eta-sweep", device="cpp_standalone")              # doctest: +SKIP
>>> ds.rate_end.mean("seed")                                            # doctest: +SKIP
>>> homeonet.load_sweep("eta-sweep")                                    # doctest: +SKIP

:func:`run` takes a path to a TOML file or the same structure as a dict, and returns the Dataset
(also saved as ``sweep.nc`` in the folder). Further options: ``scheduler`` (the address of a
running Dask scheduler; default: a ``LocalCluster`` with one single-threaded worker process per
core), ``workers``, ``device`` (``'runtime'`` or ``'cpp_standalone'``), ``target`` (the runtime
code generation), ``progress`` and ``compile_once``. :func:`load_sweep` reads a sweep folder,
finished or not. :func:`load_spec` validates a specification without running it.

Specification (TOML; every key but ``experiment`` optional)
-----------------------------------------------------------
::

    experiment = "homeostasis"              # or "mymodule:my_experiment"
    title = "eta against recovery"          # the Dataset's title
    seeds = [1, 2, 3, 4]                    # default [1]
    measures = ["rate_after", "rate_end", "cv_isi", {function = "fano_factor", name = "fano_late",
                t_start = "8 s"}]           # default: the experiment's summary measures
    device = "cpp_standalone"               # default runtime; the command line's --device wins
    keep_results = true                     # keep each point's full results (spikes, traces)

    [set]                                   # values of every point (as --set NAME=VALUE)
    duration = "4 s"

    [grid]                                  # every combination; or [zip] (lists of equal length)
    eta = ["0.02 mV/Hz", "0.05 mV/Hz", "0.1 mV/Hz"]
    factor = {start = 0.5, stop = 0.8, num = 4}             # also scale = "log"

    # or: [sample]  n = 20, seed = 0, eta = {low = "0.01 mV/Hz", high = "0.2 mV/Hz", scale = "log"}

Measures: ``rate_before``, ``rate_after``, ``rate_end`` (the experiment's summary, in Hz), the
experiment's own measures by name, any :mod:`homeonet.analysis` function that takes a run's results
(``firing_rates``, ``cv_isi``, ``fano_factor``, ``synchrony``, ``count_correlation``: computed on
the regulated population and averaged over neurons, NaN-neurons left out), with keyword arguments
in a table, and ``"module:function"``: ``function(results, values)`` returning a number, a
quantity or a dict of them.

Compile once, run many
----------------------
With ``device='cpp_standalone'``, points whose structural parameters (``Parameter(structural=True)``)
agree share one compiled binary, compiled by one task and sent by Dask to whichever worker runs
them; each point runs it through Brian2's ``device.run(run_args=..., results_directory=...)`` with
its own values and seed (see :mod:`homeonet._standalone`, which checks that the binary fits each
point's generated code, so the result is the one a fresh compile would give). Binaries are kept in
the sweep folder (``binaries/``) for reruns. On the runtime device, each worker process keeps
Brian2's code caches warm across its points.

Files
-----
``sweep.json`` (the plan: specification, points and their ids), ``points/<id>.nc`` (each finished
point: its full results with ``measure.<name>`` attributes; ``<id>.diverged`` and ``<id>.failed``
hold the one-line error of a point whose run diverged or failed otherwise), ``sweep.nc`` (the Dataset), ``binaries/``. A point's id hashes the
experiment, every parameter value, the seed, the device and the homeonet version: rerunning a
specification skips finished points, a changed one adds points and keeps the old files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import importlib.util
import inspect
import itertools
import json
import logging
import math
import os
import pickle
import shutil
import sys
import tempfile
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from brian2 import Quantity
import xarray as xr

from ._io import atomic_write, read_netcdf
from ._validate import DataFileError, DivergenceError, HomeonetError, OutputError, ParameterError, check_choice, \
    check_path, check_seed
from .parameters import Values
from .units import format_quantity, parse_quantity, split_quantity

__all__ = ["Spec", "Measure", "load_spec", "run", "load_sweep", "compute_measures", "point_id", "NEEDS_DASK"]

logger = logging.getLogger(__name__)

#: The one line given when dask.distributed is missing.
NEEDS_DASK = "homeonet sweep needs dask.distributed: pip install 'homeonet[sweep]'"
PLAN_FILE, PRODUCT_FILE, POINTS_DIR, BINARIES_DIR = "sweep.json", "sweep.nc", "points", "binaries"
#: Summary measures of :func:`homeonet.models.experiments.summarise`: name -> its key there.
SUMMARY = {"rate_before": "before", "rate_after": "after", "rate_end": "end"}
#: The most points one specification may have: more would take hours to validate, let alone to run.
MAX_POINTS = 100_000
_KEYS = ("experiment", "seeds", "measures", "set", "grid", "zip", "sample", "device", "target", "keep_results",
         "title")


# -- specification -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    """One measure kept per point.

    Attributes
    ----------
    name : str
        Variable name in the Dataset.
    kind : {'summary', 'own', 'analysis', 'user'}
        A summary rate, one of the experiment's own measures, a :mod:`homeonet.analysis` function
        applied to the run's results, or a user's ``module:function``.
    function : str
        The analysis function's name, or ``module:function``.
    kwargs : tuple
        ``(name, value)`` keyword arguments of an analysis function (quantities parsed).
    """

    name: str
    kind: str
    function: str = ""
    kwargs: tuple = ()


@dataclass
class Spec:
    """A validated sweep specification (made by :func:`load_spec`).

    Attributes
    ----------
    experiment : Experiment
        What each point runs.
    ref : str
        How the specification names it (``'homeostasis'``, ``'module:function'``).
    mode : {'grid', 'zip', 'sample', 'single'}
        How the swept values combine.
    swept : tuple of str
        Swept parameters, in the specification's order.
    settings : list of dict
        The swept values of each combination (typed, checked).
    values : list of Values
        Every parameter's value for each combination.
    seeds : tuple of int
    measures : tuple of Measure or None
        None: the experiment's summary measures.
    device, target : str
    keep_results : bool
    raw : dict
        The specification as given (JSON-able).
    name : str
        The specification file's name without suffix (``'sweep'`` for a dict): the default folder.
    """

    experiment: object
    ref: str
    mode: str
    swept: tuple
    settings: list
    values: list
    seeds: tuple
    measures: tuple | None
    device: str
    target: str
    keep_results: bool
    raw: dict
    paths: tuple = ()
    source: str = ""
    grid: dict = field(default_factory=dict)
    name: str = "sweep"

    def points(self) -> list:
        """Every point: ``{'id', 'setting', 'seed_index', 'seed', 'values'}``, settings outer, seeds inner."""
        out = []
        for k, values in enumerate(self.values):
            for s, seed in enumerate(self.seeds):
                out.append({"id": point_id(self, values, seed), "setting": k, "seed_index": s, "seed": seed,
                            "values": dict(values)})
        return out

    def describe(self) -> str:
        """``'16 points: eta (4 values) x 4 seeds of homeostasis on cpp_standalone'``."""
        if self.mode == "grid":
            what = " x ".join(f"{n} ({len(v)} values)" for n, v in self.grid.items())
        elif self.mode == "single":
            what = "one setting"
        else:
            what = f"{len(self.settings)} {self.mode} settings of {', '.join(self.swept)}"
        return (f"{len(self.settings) * len(self.seeds)} points: {what} x {len(self.seeds)} seed"
                f"{'s' if len(self.seeds) != 1 else ''} of {self.ref} on {self.device}")


def point_id(spec: Spec, values, seed) -> str:
    """The identity of a point: a hash of the experiment, every parameter value, the seed, the device and the version.

    Returns
    -------
    str
        16 hex digits, the name of the point's file.
    """
    from . import __version__

    ident = {"experiment": spec.ref, "source": spec.source, "seed": int(seed), "device": spec.device,
             "homeonet": __version__, "parameters": spec.experiment.parameters.record(values)}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_spec(spec, *, device=None, target=None) -> Spec:
    """Read and validate a sweep specification, every point included, before any work.

    Parameters
    ----------
    spec : str, Path, dict or Spec
        A TOML file, or its content as a dict (see the module docstring).
    device : {'runtime', 'cpp_standalone'}, optional
        Overrides the specification's ``device`` (default runtime).
    target : {'auto', 'numpy', 'cython'}, optional
        Overrides the specification's ``target`` (runtime code generation; default auto).

    Returns
    -------
    Spec

    Raises
    ------
    HomeonetError
        One line naming the entry and what it accepts: an unknown key or parameter, a value in a
        wrong unit or out of range, an empty or inconsistent range, an unknown measure, a bad seed.
    """
    if isinstance(spec, Spec):
        return dataclasses.replace(
            spec, device=check_choice("device", device or spec.device, ("runtime", "cpp_standalone")),
            target=check_choice("target", target or spec.target, ("auto", "numpy", "cython")))
    paths, name = (), "sweep"
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        if not path.is_file():
            raise DataFileError(f"spec: no such file {str(path)!r}")
        try:
            with open(path, "rb") as f:
                raw = tomllib.load(f)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:  # TOML is UTF-8 text
            raise DataFileError(f"spec {str(path)!r} is not valid TOML: {str(err).splitlines()[0]}") from None
        raw = json.loads(json.dumps(raw, default=str))
        paths, name = (str(path.resolve().parent),), path.stem
    elif isinstance(spec, dict):
        raw = json.loads(json.dumps(spec, default=_plain))  # a plain, JSON-able copy
    else:
        raise HomeonetError(f"spec must be a TOML file or a dict, got {type(spec).__name__}")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise HomeonetError(f"spec: unknown key {unknown[0]!r}; accepted: {', '.join(_KEYS)}")
    if "experiment" not in raw:
        raise HomeonetError("spec: 'experiment' is required (a name from 'homeonet list', or 'module:function')")
    ref = raw["experiment"]
    paths = paths + (str(Path.cwd()),)
    exp, source = _experiment(ref, paths)
    params = exp.parameters
    fixed = _table(raw, "set")
    for key, value in fixed.items():
        _checked(params, key, value, f"set.{key}")
    modes = [m for m in ("grid", "zip", "sample") if m in raw]
    if len(modes) > 1:
        raise HomeonetError(f"spec: give one of grid, zip and sample, not {' and '.join(modes)}")
    mode = modes[0] if modes else "single"
    grid = {}
    if mode == "grid":
        grid = {key: _values(params, key, entry, f"grid.{key}") for key, entry in _table(raw, "grid").items()}
        _too_many(math.prod(len(v) for v in grid.values()), "grid")
        settings = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    elif mode == "zip":
        lists = {key: _values(params, key, entry, f"zip.{key}") for key, entry in _table(raw, "zip").items()}
        lengths = {len(v) for v in lists.values()}
        if len(lengths) > 1:
            raise HomeonetError("spec: zip lists must have equal lengths, got " +
                                ", ".join(f"{n} {len(v)}" for n, v in lists.items()))
        settings = [dict(zip(lists, combo)) for combo in zip(*lists.values())]
    elif mode == "sample":
        settings = _sample(params, _table(raw, "sample"))
    else:
        settings = [{}]
    swept = tuple(settings[0]) if settings else ()
    if mode != "single" and not swept:
        raise HomeonetError(f"spec: [{mode}] names no parameter")
    both = sorted(set(swept) & set(fixed))
    if both:
        raise HomeonetError(f"spec: {both[0]} is both set and swept")
    values = []
    for setting in settings:
        try:
            values.append(exp.resolve({**fixed, **setting}))
        except ParameterError as err:
            where = ", ".join(f"{n}={params[n].format(v)}" for n, v in setting.items())
            raise ParameterError(f"spec point {where}: {err}" if where else f"spec: {err}") from None
    seeds = _seeds(raw.get("seeds", [1]))
    measures = _measures(raw.get("measures"), exp)
    _check_measure_times(measures, values)
    device = check_choice("spec: device", device or raw.get("device", "runtime"), ("runtime", "cpp_standalone"))
    target = check_choice("spec: target", target or raw.get("target", "auto"), ("auto", "numpy", "cython"))
    keep = raw.get("keep_results", True)
    if not isinstance(keep, bool):
        raise HomeonetError(f"spec: keep_results must be true or false, got {keep!r}")
    out = Spec(exp, ref, mode, swept, settings, values, seeds, measures, device, target, keep, raw, paths, source,
               grid, name)
    ids = [p["id"] for p in out.points()]
    if len(set(ids)) != len(ids):
        raise HomeonetError("spec: two points have the same values and seed; remove the repeated value")
    return out


def _plain(value):
    """A Python value of a dict specification as its TOML text would be (``0.1*mV/Hz`` -> ``'0.1 mV/Hz'``)."""
    if isinstance(value, Quantity):
        return format_quantity(value, digits=17)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _too_many(count, where):
    if count > MAX_POINTS:
        raise HomeonetError(f"spec {where}: {count:.3g} points, more than the {MAX_POINTS} one sweep may have; "
                            "split it into several sweeps (they can share an output folder)")


def _table(raw, key) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise HomeonetError(f"spec: {key} must be a table of NAME = VALUE, got {value!r}")
    return value


def _checked(params, name, value, where):
    try:
        return params[name].parse(value)
    except ParameterError as err:
        raise ParameterError(f"spec {where}: {err}") from None


def _experiment(ref, paths):
    """(Experiment, hash of its module's source or '') for a ready-made name or ``module:function``."""
    from homeonet.models.experiments import EXPERIMENTS, Experiment

    if not isinstance(ref, str):
        raise HomeonetError(f"spec: experiment must be a name or 'module:function', got {ref!r}")
    if ref in EXPERIMENTS:
        return EXPERIMENTS[ref], ""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise HomeonetError(f"spec: experiment must be one of {', '.join(EXPERIMENTS)} or 'module:function', "
                            f"got {ref!r}")
    for p in paths:
        if p not in sys.path:
            sys.path.insert(0, p)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise HomeonetError(f"spec: experiment {ref!r}: cannot import {module_name!r} ({err})") from None
    obj = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, Experiment):
        raise HomeonetError(f"spec: experiment {ref!r} must be a homeonet Experiment: decorate the build function "
                            "with @homeonet.models.experiments.experiment(parameters=[...])")
    try:
        source = hashlib.sha256(Path(inspect.getsourcefile(module)).read_bytes()).hexdigest()[:16]
    except (TypeError, OSError):
        source = ""
    return obj, source


def _values(params, name, entry, where) -> list:
    """The values of one swept parameter: a list, or a range ``{start, stop, num, scale}``."""
    param = _known(params, name, where)
    if isinstance(entry, dict):
        extra = sorted(set(entry) - {"start", "stop", "num", "scale"})
        if extra or not {"start", "stop", "num"} <= set(entry):
            raise HomeonetError(f"spec {where}: a range is {{start = ..., stop = ..., num = N, scale = 'linear' or "
                                f"'log'}}, got {entry!r}")
        if param.kind not in ("quantity", "float", "int"):
            raise HomeonetError(f"spec {where}: a range needs a numeric parameter; list the values of {name}")
        num = entry["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise HomeonetError(f"spec {where}: the range is empty (num must be an integer >= 1, got {num!r})")
        _too_many(num, where)
        start, stop = (_checked(params, name, entry[k], f"{where}.{k}") for k in ("start", "stop"))
        numbers = _spaced(float(np.asarray(start)), float(np.asarray(stop)), num, entry.get("scale", "linear"),
                          where)
        unit = 1 if param.kind != "quantity" else param.default / float(np.asarray(param.default))
        if param.kind == "int":
            numbers = list(dict.fromkeys(int(round(x)) for x in numbers))
        values = [_checked(params, name, x * unit if param.kind == "quantity" else x, where) for x in numbers]
    elif isinstance(entry, list):
        if not entry:
            raise HomeonetError(f"spec {where}: the list of values is empty")
        _too_many(len(entry), where)
        values = [_checked(params, name, x, where) for x in entry]
    else:
        raise HomeonetError(f"spec {where}: give a list of values or a range {{start, stop, num}}, got {entry!r}")
    shown = [param.format(v) for v in values]
    repeated = sorted({s for s in shown if shown.count(s) > 1})
    if repeated and where.startswith("grid."):
        raise HomeonetError(f"spec {where}: {repeated[0]} is listed twice")
    return values


def _known(params, name, where):
    if name not in params:
        raise ParameterError(f"spec {where}: unknown parameter {name!r}; accepted: {', '.join(params.names)}")
    return params[name]


def _spaced(a, b, num, scale, where):
    scale = check_choice(f"spec {where}.scale", scale, ("linear", "log"))
    if scale == "log":
        if a <= 0 or b <= 0:
            raise HomeonetError(f"spec {where}: a log range needs start and stop > 0")
        return list(np.geomspace(a, b, num))
    return list(np.linspace(a, b, num))


def _sample(params, table) -> list:
    """``n`` random settings: each parameter uniform (or log-uniform) in ``{low, high}``, or drawn from a list."""
    table = dict(table)
    n, seed = table.pop("n", None), table.pop("seed", 0)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise HomeonetError(f"spec sample.n must be an integer >= 1 (the number of settings), got {n!r}")
    _too_many(n, "sample.n")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise HomeonetError(f"spec sample.seed must be an integer >= 0, got {seed!r}")
    if not table:
        raise HomeonetError("spec: [sample] names no parameter")
    rng = np.random.default_rng(seed)
    columns = {}
    for name, entry in table.items():
        where = f"sample.{name}"
        param = _known(params, name, where)
        if isinstance(entry, list):
            choices = _values(params, name, entry, where)
            columns[name] = [choices[k] for k in rng.integers(len(choices), size=n)]
            continue
        if not isinstance(entry, dict) or set(entry) - {"low", "high", "scale"} or not {"low", "high"} <= set(entry):
            raise HomeonetError(f"spec {where}: give {{low = ..., high = ..., scale = 'linear' or 'log'}} or a list "
                                f"of values, got {entry!r}")
        if param.kind not in ("quantity", "float", "int"):
            raise HomeonetError(f"spec {where}: a range needs a numeric parameter; list the values of {name}")
        low, high = (float(np.asarray(_checked(params, name, entry[k], f"{where}.{k}"))) for k in ("low", "high"))
        if not low < high:
            raise HomeonetError(f"spec {where}: the range is empty (low must be below high)")
        if check_choice(f"spec {where}.scale", entry.get("scale", "linear"), ("linear", "log")) == "log":
            if low <= 0:
                raise HomeonetError(f"spec {where}: a log range needs low > 0")
            numbers = np.exp(rng.uniform(np.log(low), np.log(high), n))
        else:
            numbers = rng.uniform(low, high, n)
        unit = 1 if param.kind != "quantity" else param.default / float(np.asarray(param.default))
        cast = (lambda x: int(round(x))) if param.kind == "int" else float
        columns[name] = [_checked(params, name, cast(x) * unit if param.kind == "quantity" else cast(x), where)
                         for x in numbers]
    return [{name: col[k] for name, col in columns.items()} for k in range(n)]


def _seeds(seeds) -> tuple:
    if isinstance(seeds, bool) or not isinstance(seeds, list) or not seeds:
        raise HomeonetError(f"spec: seeds must be a non-empty list of integers, got {seeds!r}")
    for s in seeds:
        if not isinstance(s, int):
            raise HomeonetError(f"spec: seeds must be integers, got {s!r}")
        check_seed("spec: seeds", s)
    if len(set(seeds)) != len(seeds):
        raise HomeonetError("spec: seeds lists a seed twice")
    return tuple(seeds)


def _analysis_functions() -> dict:
    """The :mod:`homeonet.analysis` functions that take a run's results (they have a ``population`` keyword)."""
    from homeonet import analysis

    return {name: getattr(analysis, name) for name in analysis.__all__
            if "population" in inspect.signature(getattr(analysis, name)).parameters}


def _measures(entries, exp):
    """Checked measures, or None for the experiment's own summary."""
    has_summary = exp.population is not None and "onset" in exp.parameters
    if entries is None:
        if not has_summary and exp.measure is None:
            raise HomeonetError(f"spec: experiment {exp.name!r} has no summary measures; list the measures to keep")
        return None
    if not isinstance(entries, list) or not entries:
        raise HomeonetError(f"spec: measures must be a non-empty list, got {entries!r}")
    analysis = _analysis_functions()
    accepted = (f"accepted: {', '.join(SUMMARY)}, the experiment's own measures, {', '.join(analysis)}, "
                "or 'module:function'")
    out = []
    for entry in entries:
        table = {}
        if isinstance(entry, dict):
            table = dict(entry)
            if "function" not in table:
                raise HomeonetError(f"spec: a measure table needs function = NAME, got {entry!r}")
            function = table.pop("function")
            name = table.pop("name", str(function).rpartition(":")[2])
        elif isinstance(entry, str):
            function, name = entry, entry.rpartition(":")[2]
        else:
            raise HomeonetError(f"spec: a measure is a name or a table, got {entry!r}")
        if not isinstance(name, str) or not name.isidentifier():
            raise HomeonetError(f"spec: measure name must be an identifier, got {name!r}")
        if function in SUMMARY and not table:
            if not has_summary:
                raise HomeonetError(f"spec: measure {function!r} needs an experiment with an onset and a population")
            out.append(Measure(name, "summary", function))
        elif function in analysis:
            kwargs = {k: _kwarg(v) for k, v in table.items()}
            kwargs.setdefault("population", exp.population)
            if kwargs["population"] is None:
                raise HomeonetError(f"spec: measure {name!r} needs population = NAME (the experiment has none)")
            try:
                inspect.signature(analysis[function]).bind(None, **kwargs)
            except TypeError as err:
                raise HomeonetError(f"spec: measure {name!r}: {err}") from None
            out.append(Measure(name, "analysis", function, tuple(sorted(kwargs.items()))))
        elif isinstance(function, str) and ":" in function and not table:
            _user_function(function)
            out.append(Measure(name, "user", function))
        elif isinstance(function, str) and function.isidentifier() and exp.measure is not None and not table:
            out.append(Measure(name, "own", function))
        else:
            raise HomeonetError(f"spec: unknown measure {function!r}; {accepted}")
    names = [m.name for m in out]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise HomeonetError(f"spec: measure {repeated[0]!r} is named twice")
    return tuple(out)


#: Keyword arguments of analysis functions that are times within the run.
_TIME_KWARGS = ("t_start", "t_stop")


def _check_measure_times(measures, values):
    """A measure's ``t_start``/``t_stop`` must be times within every point's run (else its value is NaN or 0)."""
    from brian2 import Quantity, have_same_dimensions, second

    for m in measures or ():
        for key, value in m.kwargs:
            if key not in _TIME_KWARGS:
                continue
            if not isinstance(value, Quantity) or not have_same_dimensions(value, second):
                raise ParameterError(f"spec: measure {m.name!r}: {key} must be a time such as '4 s', got {value!r}")
            shortest = min((v["duration"] for v in values if "duration" in v), default=None)
            if value < 0 * second or (shortest is not None and value > shortest):
                within = "0 s or later" if shortest is None else f"0 s to {format_quantity(shortest)}"
                raise ParameterError(f"spec: measure {m.name!r}: {key} must be within the run ({within}), "
                                     f"got {format_quantity(value)}")


def _kwarg(value):
    if isinstance(value, str):
        try:
            return parse_quantity(value)
        except ValueError:
            return value
    return value


def _user_function(ref):
    module_name, _, attr = ref.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise HomeonetError(f"spec: measure {ref!r} cannot be imported ({err})") from None
    if not callable(fn):
        raise HomeonetError(f"spec: measure {ref!r} is not a function")
    return fn


# -- the plan stored with the sweep ------------------------------------------------------------------------------

def _plan(spec: Spec) -> dict:
    """What :func:`load_sweep` needs without importing the experiment: layout, coordinates, points."""
    from . import __version__

    params = spec.experiment.parameters

    def coord(name, values, dim):
        numbers = [params[name].record(v)[0] for v in values]
        return {"dim": dim, "values": numbers, "units": params[name].unit, "long_name": params[name].meaning}

    if spec.mode == "grid":
        dims = {name: len(v) for name, v in spec.grid.items()}
        coords = {name: coord(name, v, name) for name, v in spec.grid.items()}
        shown = {name: [params[name].format(x) for x in v] for name, v in spec.grid.items()}
        index = [[shown[n].index(params[n].format(s[n])) for n in spec.grid] for s in spec.settings]
    elif spec.mode in ("zip", "sample"):
        dims = {"point": len(spec.settings)}
        coords = {name: coord(name, [s[name] for s in spec.settings], "point") for name in spec.swept}
        index = [[k] for k in range(len(spec.settings))]
    else:
        dims, coords, index = {}, {}, [[]]
    fixed = {k: v for k, v in params.record(spec.values[0]).items() if k.split(".")[1] not in spec.swept}
    return {"format": 1, "experiment": spec.ref, "description": spec.experiment.description, "mode": spec.mode,
            "device": spec.device, "target": spec.target, "homeonet_version": __version__, "spec": spec.raw,
            "dims": dims, "coords": coords, "seeds": list(spec.seeds),
            "measures": None if spec.measures is None else [m.name for m in spec.measures],
            "fixed": fixed,
            "points": [[p["id"], index[p["setting"]], p["seed_index"]] for p in spec.points()]}


# -- running -----------------------------------------------------------------------------------------------------

def run(spec, out=None, *, scheduler=None, workers=None, device=None, target=None, progress=True,
        compile_once=True) -> xr.Dataset:
    """Run a sweep on dask.distributed; skip its finished points; return the labelled Dataset.

    Parameters
    ----------
    spec : str, Path, dict or Spec
        The specification (see the module docstring), validated entirely before any work.
    out : str or Path, optional
        The sweep's folder (default ``homeonet-results/<spec file name>``); every worker writes its
        points there, so on a cluster it must be on a filesystem they share.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``). Default: a ``LocalCluster`` with
        ``workers`` single-threaded worker processes.
    workers : int, optional
        Worker processes of the local cluster (default: one per core); with ``scheduler``, wait until
        that many workers have joined.
    device : {'runtime', 'cpp_standalone'}, optional
        Brian2 device (default: the specification's, else runtime).
    target : {'auto', 'numpy', 'cython'}, optional
        Code generation of the runtime device.
    progress : bool
        Print the plan and draw a progress bar over points.
    compile_once : bool
        ``cpp_standalone`` only: False compiles every point afresh (to measure what compiling once saves).

    Returns
    -------
    xarray.Dataset
        One dimension per swept parameter (``point`` for zip and sample) plus ``seed``; the measures
        as variables (NaN where a point failed or did not run), ``status`` (``done``, ``failed``,
        ``missing``) and ``error``; units and the specification in attributes. Also saved as
        ``sweep.nc``.

    Raises
    ------
    HomeonetError
        A bad specification or output folder (before any work).
    ImportError
        dask.distributed is not installed (:data:`NEEDS_DASK`).
    KeyboardInterrupt
        Ctrl-C: finished points are kept; running the same sweep again resumes.
    """
    spec = load_spec(spec, device=device, target=target)
    out = Path(out) if out is not None else Path("homeonet-results") / spec.name
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"workers must be an integer >= 1, got {workers!r}")
    points = spec.points()
    states = {p["id"]: _state(out / POINTS_DIR / f"{p['id']}.nc", spec.measures) for p in points}
    todo = [p for p in points if states[p["id"]] not in ("done", "diverged")]
    if todo and importlib.util.find_spec("distributed") is None:
        raise ImportError(NEEDS_DASK)
    plan = _plan(spec)
    points_dir = _prepare(out, plan)
    say = print if progress else logger.info
    skipped = len(points) - len(todo)
    say(f"sweep: {spec.describe()}; {skipped} finished point{'s' if skipped != 1 else ''} skipped, "
        f"{len(todo)} to run -> {out}")
    if todo:
        job = spec_job(spec, points_dir)
        with _client(scheduler, workers, say) as client:
            _import_on_workers(client)
            tasks = _tasks(spec, job, todo, states, compile_once, _worker_count(client))
            _execute(client, spec, job, tasks, len(todo), points_dir, progress, say)
    ds = _assemble(out, plan)
    atomic_write(out / PRODUCT_FILE, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))
    failed, diverged = (int((ds["status"] == s).sum()) for s in ("failed", "diverged"))
    say(f"sweep: {int((ds['status'] == 'done').sum())} of {ds['status'].size} points done"
        + (f", {diverged} diverged" if diverged else "")
        + (f", {failed} failed (run again to retry them)" if failed else "") + f" -> {out / PRODUCT_FILE}")
    return ds


def _prepare(out: Path, plan: dict) -> Path:
    try:
        (out / POINTS_DIR).mkdir(parents=True, exist_ok=True)
        (out / BINARIES_DIR).mkdir(exist_ok=True)
        atomic_write(out / PLAN_FILE, lambda tmp: Path(tmp).write_text(json.dumps(plan, indent=1, default=str)))
    except OSError as err:
        raise OutputError(f"out: cannot write the sweep folder {str(out)!r} ({err.strerror or err})") from None
    return out / POINTS_DIR


def _attrs(path: Path) -> dict | None:
    """A point file's attributes (None when absent or unreadable)."""
    import netCDF4

    try:
        with netCDF4.Dataset(path) as nc:
            return {k: nc.getncattr(k) for k in nc.ncattrs()}
    except (OSError, RuntimeError):
        return None


def _state(path: Path, measures) -> str:
    """``'done'``, ``'diverged'`` (its run diverged: a result too, not run again), ``'remeasure'`` (its results
    are kept but a measure is missing) or ``'todo'``."""
    attrs = _attrs(path) if path.is_file() else None
    if attrs is None:
        return "diverged" if path.with_suffix(".diverged").is_file() else "todo"
    if measures is None or _has_measures(attrs, [m.name for m in measures]):
        return "done"
    return "remeasure" if attrs.get("sweep.results", 0) else "todo"


def _has_measures(attrs, names) -> bool:
    """Whether a point file holds every measure named in the specification."""
    try:
        kept = set(json.loads(attrs.get("sweep.measures", "[]")))
    except ValueError:
        return False
    return set(names) <= kept


def _belongs(variable, names) -> bool:
    """Whether a stored measure variable comes from one of the named measures (a dict measure adds ``name_key``)."""
    return any(variable == n or variable.startswith(n + "_") for n in names)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


@contextlib.contextmanager
def _client(scheduler, workers, say):
    """A Dask client: to *scheduler*, or to a new LocalCluster of single-threaded worker processes."""
    from distributed import Client, LocalCluster

    dashboard = (lambda link: link) if importlib.util.find_spec("bokeh") else (
        lambda link: "none (pip install bokeh for Dask's dashboard)")
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError, ValueError) as err:  # ValueError: not an address ('tcp://HOST:PORT')
            raise HomeonetError(f"--scheduler: cannot reach {scheduler!r} ({str(err).splitlines()[0]}); give the "
                                "scheduler's address, e.g. tcp://HOST:8786") from None
        try:
            if workers:
                say(f"dask: waiting for {workers} workers at {scheduler}")
                client.wait_for_workers(workers)
            n = len(client.scheduler_info()["workers"])
            say(f"dask: scheduler {scheduler}, {n} worker{'s' if n != 1 else ''}; dashboard "
                f"{dashboard(client.dashboard_link)}")
            yield client
        finally:
            client.close()
        return
    n = workers or _cores()
    # without bokeh there is no dashboard to serve on the usual port 8787: any free port
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, silence_logs=logging.ERROR,
                           **({} if importlib.util.find_spec("bokeh") else {"dashboard_address": ":0"}))
    try:
        client = Client(cluster)
        say(f"dask: LocalCluster of {n} single-threaded worker process{'es' if n != 1 else ''}; dashboard "
            f"{dashboard(cluster.dashboard_link)}")
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _import_on_workers(client):
    """Import Brian2 and homeonet on every worker, now and on workers that join later, in its main thread.

    Brian2 installs a SIGINT handler when it is imported, which Python allows only in a process's main
    thread; a task's thread could not import it."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class ImportHomeonet(WorkerPlugin):
        def setup(self, worker):
            importlib.import_module("homeonet.sweep")

    client.register_plugin(ImportHomeonet(), name="homeonet-import")


def _worker_count(client) -> int:
    return max(1, len(client.scheduler_info()["workers"]))


def _tasks(spec, job, todo, states, compile_once, n_workers) -> list:
    """The work of a sweep as ``(key, function, argument, key of the task it needs or None)``, in submission order.

    Runtime: one task per point. ``cpp_standalone``: one compile per network structure, then batches of
    points of one setting (they differ in the seed) that run its binary, small enough to keep every worker
    busy. Points whose results are kept and only lack a newly asked measure are measured again, not rerun.
    """
    tag = hashlib.sha256(job["points"].encode()).hexdigest()[:8]
    tasks = []

    def add(fn, points, needs=None):
        tasks.append((f"homeonet-{fn.__name__.strip('_')}-{tag}-{_digest(p['id'] for p in points)}", fn, points,
                      needs))

    fresh = [p for p in todo if states[p["id"]] != "remeasure"]
    for p in todo:
        if states[p["id"]] == "remeasure":
            add(_remeasure, [p])
    if spec.device == "runtime" or not compile_once:
        for p in fresh:
            add(_run_runtime if spec.device == "runtime" else _run_fresh, [p])
        return tasks
    size = max(1, math.ceil(len(fresh) / (2 * max(1, n_workers))))
    for k, (representative, batches) in enumerate(_structures(spec, fresh)):
        key = f"homeonet-compile-{tag}-{k}-{_digest(p['id'] for b in batches for p in b)}"
        tasks.append((key, _compile, representative, None))
        for batch in batches:
            for start in range(0, len(batch), size):
                add(_run_compiled, batch[start:start + size], key)
    return tasks


def _execute(client, spec, job, tasks, n_points, points_dir, progress, say):
    """Submit the tasks, collect their records, write failures; Ctrl-C cancels what is left."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    futures, owners = {}, {}
    compiles = sum(fn is _compile for _, fn, _, _ in tasks)
    if compiles:
        say(f"cpp_standalone: {compiles} network structure{'s' if compiles != 1 else ''} to compile once each "
            "(binaries kept in the sweep folder)")
    for key, fn, arg, needs in tasks:
        deps = () if needs is None else (futures[needs],)
        futures[key] = client.submit(fn, job, arg, *deps, key=key, pure=False)
        if fn is not _compile:
            owners[futures[key]] = [p["id"] for p in arg]
    bar = tqdm(total=n_points, unit="point", desc=f"sweep {spec.experiment.name}", disable=not progress)
    failed = 0
    try:
        for future in as_completed(list(owners)):
            try:
                records = future.result()
            except Exception as err:  # the task itself died (a killed worker, a failed compile)
                records = [_failure(i, err) for i in owners[future]]
            for record in records:
                failed += _record(points_dir, record)
            bar.update(len(records))
            if failed:
                bar.set_postfix(failed=failed)
    except KeyboardInterrupt:
        bar.close()
        client.cancel(list(futures.values()), force=True)
        done = sum(_state(points_dir / f"{i}.nc", spec.measures) == "done" for ids in owners.values() for i in ids)
        print(f"sweep interrupted: {done} of the {n_points} points of this run finished and are kept; run the same "
              "sweep again to resume", file=sys.stderr)
        raise
    bar.close()


def _run_inline(spec, out, compile_once=True):
    """The same tasks as :func:`run`, called one after the other in this process, without Dask.

    For ``benchmarks/bench_sweep.py``, which measures what Dask adds to a sweep. Returns the Dataset."""
    spec = load_spec(spec)
    out = Path(out)
    plan = _plan(spec)
    points_dir = _prepare(out, plan)
    points = spec.points()
    states = {p["id"]: _state(points_dir / f"{p['id']}.nc", spec.measures) for p in points}
    todo = [p for p in points if states[p["id"]] not in ("done", "diverged")]
    results, job = {}, spec_job(spec, points_dir)
    for key, fn, arg, needs in _tasks(spec, job, todo, states, compile_once, 1):
        results[key] = fn(job, arg, *(() if needs is None else (results[needs],)))
        if fn is not _compile:
            for record in results[key]:
                _record(points_dir, record)
    return _assemble(out, plan)


def spec_job(spec, points_dir: Path) -> dict:
    """What every task needs to know of the sweep (small, picklable: sent with each task)."""
    return {"experiment": spec.ref, "paths": spec.paths, "device": spec.device, "target": spec.target,
            "measures": spec.measures, "keep_results": spec.keep_results, "points": str(points_dir.resolve()),
            "binaries": str((points_dir.parent / BINARIES_DIR).resolve()), "source": spec.source}


def _digest(ids) -> str:
    return hashlib.sha256("".join(ids).encode()).hexdigest()[:12]


def _structures(spec, points) -> list:
    """``[(representative point, [batch, ...])]``: points grouped by their structural values, then by values.

    A batch holds the points of one setting (they differ only in the seed)."""
    params = spec.experiment.parameters
    structural = [p.name for p in params if p.structural]
    groups = {}
    for point in points:
        values = point["values"]
        skey = json.dumps({n: params[n].record(values[n]) for n in structural}, sort_keys=True, default=str)
        groups.setdefault(skey, {}).setdefault(point["setting"], []).append(point)
    return [(next(iter(batches.values()))[0], list(batches.values())) for batches in groups.values()]


#: What a point that did not finish can be: its run diverged (a result of the point: a DivergenceError), or
#: it failed otherwise (a rerun tries it again). Each is kept as ``points/<id>.<status>`` holding the error.
UNFINISHED = ("diverged", "failed")


def _failure(point_id: str, err: BaseException) -> dict:
    """The record of a point that raised *err*: ``diverged`` for a :class:`~homeonet.DivergenceError`."""
    status = "diverged" if isinstance(err, DivergenceError) else "failed"
    return {"id": point_id, "status": status, "error": _one_line(err)}


def _record(points_dir: Path, record: dict) -> int:
    """Keep an unfinished point's error beside the points (and forget it once the point succeeds); 1 if failed."""
    for status in UNFINISHED:
        path = points_dir / f"{record['id']}.{status}"
        if record["status"] == status:
            atomic_write(path, lambda tmp: Path(tmp).write_text(record["error"] + "\n"))
        else:
            path.unlink(missing_ok=True)
    return int(record["status"] == "failed")


def _one_line(err) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


# -- on the workers ----------------------------------------------------------------------------------------------

#: Brian2 keeps global state (the device, its caches): one point at a time per worker process.
_BRIAN = threading.Lock()
_EXPERIMENTS = {}


def _worker_experiment(job):
    key = (job["experiment"], job["source"])
    if key not in _EXPERIMENTS:
        _EXPERIMENTS[key] = _experiment(job["experiment"], job["paths"])[0]
    return _EXPERIMENTS[key]


def _done_record(path: Path, job, point) -> dict | None:
    """The record of a point already written (by an earlier attempt of the same task), or None."""
    state = _state(path, job["measures"])
    if state != "done":
        return None
    return {"id": point["id"], "status": "done"}


def _finish(path: Path, results, exp, values, job, point) -> dict:
    """Compute the measures of a run and write its point file atomically."""
    measures = compute_measures(results, exp, values, job["measures"])
    ds = results.dataset if job["keep_results"] else xr.Dataset(attrs=dict(results.dataset.attrs))
    try:  # measures computed earlier from the same results stay valid
        earlier = json.loads(ds.attrs.get("sweep.measures", "[]"))
    except ValueError:
        earlier = []
    names = [m.name for m in job["measures"] or ()]
    ds.attrs.update({"sweep.point": point["id"], "sweep.experiment": job["experiment"],
                     "sweep.results": int(bool(job["keep_results"])),
                     "sweep.measures": json.dumps(list(dict.fromkeys(earlier + names)))})
    for name, (number, unit) in measures.items():
        ds.attrs[f"measure.{name}"] = number
        ds.attrs[f"measure.{name}.units"] = unit
    atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))
    return {"id": point["id"], "status": "done"}


def _each(job, points, simulate_one) -> list:
    """Run *simulate_one(exp, values, point) -> Results* for each point not yet written; errors become records."""
    exp = _worker_experiment(job)
    out = []
    for point in points:
        path = Path(job["points"]) / f"{point['id']}.nc"
        try:
            record = _done_record(path, job, point)
            if record is None:
                values = Values(point["values"])
                record = _finish(path, simulate_one(exp, values, point), exp, values, job, point)
        except Exception as err:  # recorded, the sweep goes on
            logger.info("point %s failed", point["id"], exc_info=True)
            record = _failure(point["id"], err)
        out.append(record)
    return out


def _run_runtime(job, points) -> list:
    """Dask task: run points on Brian2's runtime device (each worker process keeps its code caches warm)."""
    import brian2

    from .simulate import simulate, use_device

    def one(exp, values, point):
        seed = point["seed"]
        brian2.start_scope()
        with use_device("runtime", target=job["target"]):
            brian2.seed(seed)
            net = exp.build(values)
            return simulate(net, values["duration"], progress=False, desc=exp.name, seed=seed, **exp.record(values))

    with _BRIAN:
        return _each(job, points, one)


def _remeasure(job, points) -> list:
    """Dask task: compute newly asked measures from a point's stored results (no simulation)."""
    from .results import load

    with _BRIAN:
        return _each(job, points, lambda exp, values, point: load(Path(job["points"]) / f"{point['id']}.nc"))


def _run_fresh(job, points) -> list:
    """Dask task: ``cpp_standalone``, compiling each point afresh (the plain Brian2 way)."""
    from . import _standalone as sa
    from .simulate import collect_run

    def one(exp, values, point):
        seed = point["seed"]
        with tempfile.TemporaryDirectory(prefix="homeonet-sweep-") as tmp:
            try:
                net = sa.build_fresh(exp.builder, values, values["duration"], seed, tmp)
                return collect_run(net, values["duration"], seed=seed, **exp.record(values))
            finally:
                sa.release()

    with _BRIAN:
        return _each(job, points, one)


def _compile(job, point):
    """Dask task: the binary of *point*'s network structure (from the sweep's cache, else compiled here)."""
    from . import _standalone as sa

    exp = _worker_experiment(job)
    values = Values(point["values"])
    with _BRIAN, tempfile.TemporaryDirectory(prefix="homeonet-sweep-") as tmp:
        try:
            build = sa.generate(exp.builder, values, values["duration"], tmp)
            binary = _cached(job, build.signature)
            if binary is None:
                binary = sa.compile_binary(build)
                _cache(job, binary)
            return binary
        finally:
            build = None
            sa.release()


def _cached(job, signature):
    path = Path(job["binaries"]) / f"{signature}.pkl"
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError):
        return None


def _cache(job, binary):
    with contextlib.suppress(OSError):
        atomic_write(Path(job["binaries"]) / f"{binary.signature}.pkl",
                     lambda tmp: Path(tmp).write_bytes(pickle.dumps(binary)))


def _run_compiled(job, points, binary) -> list:
    """Dask task: points of one setting (they differ in the seed) through one compiled binary.

    The network is built and its code generated here (no compile); if *binary* does not fit it (see
    :func:`homeonet._standalone.plan`), the sweep's cache or a compile here provides one that does.
    """
    from . import _standalone as sa
    from .simulate import collect_run

    exp = _worker_experiment(job)
    with _BRIAN:
        pending = [p for p in points if _done_record(Path(job["points"]) / f"{p['id']}.nc", job, p) is None]
        if not pending:
            return [{"id": p["id"], "status": "done"} for p in points]
        values = Values(pending[0]["values"])
        tmp = tempfile.mkdtemp(prefix="homeonet-sweep-")
        try:
            build = sa.generate(exp.builder, values, values["duration"], tmp)
            args, why = sa.plan(build, binary)
            local, ran = False, False  # compiled here; a run succeeded
            if args is None:
                logger.warning("the compiled binary cannot run %s (%s): compiling", pending[0]["id"], why)
                own = _cached(job, build.signature)
                args = sa.plan(build, own)[0] if own is not None else None
                if args is None:
                    own, args, local = sa.compile_binary(build), {}, True
                    _cache(job, own)
                binary = own
            sa.install(build, binary)

            def one(exp, values, point):
                nonlocal args, local, ran
                seed = point["seed"]
                try:
                    sa.run_build(build, seed, args, f"results/r{seed}")
                except RuntimeError:
                    if local or ran:
                        raise
                    # a binary made on another machine may not run here (Brian2 compiles with -march=native)
                    logger.warning("the binary from elsewhere does not run here: compiling", exc_info=True)
                    sa.compile_binary(build)
                    args, local = {}, True
                    sa.run_build(build, seed, args, f"results/r{seed}")
                ran = True
                try:
                    return collect_run(build.net, values["duration"], seed=seed, **exp.record(values))
                finally:
                    shutil.rmtree(Path(tmp) / "results" / f"r{seed}", ignore_errors=True)

            return _each(job, points, one)
        except Exception as err:  # the set-up failed: every point of the batch with it
            return [_failure(p["id"], err) for p in points]
        finally:
            build = None
            sa.release()
            shutil.rmtree(tmp, ignore_errors=True)


# -- measures ----------------------------------------------------------------------------------------------------

def compute_measures(results, exp, values, measures) -> dict:
    """The measures of one run: ``{name: (number, unit)}``.

    Parameters
    ----------
    results : homeonet.Results
        The run.
    exp : Experiment
        Its experiment.
    values : Values
        The values it ran with.
    measures : sequence of Measure or None
        None: the experiment's summary rates (when it has an onset and a population) and its own measures.

    Returns
    -------
    dict
        Numbers in the display unit of their quantity (``'Hz'``, ``'1'``...).
    """
    from homeonet.models.experiments import summarise

    summary = None

    def summarised():
        nonlocal summary
        if summary is None:
            summary = summarise(results, exp, values)
        return summary

    out = {}
    if measures is None:
        if exp.population is not None and "onset" in exp.parameters:
            out.update({name: (summarised()[key], "Hz") for name, key in SUMMARY.items()})
        if exp.measure is not None:
            out.update({k: _scalar(v) for k, v in summarised().get("measures", {}).items()})
        return out
    for m in measures:
        if m.kind == "summary":
            out[m.name] = (summarised()[SUMMARY[m.function]], "Hz")
        elif m.kind == "own":
            own = summarised().get("measures", {})
            if m.function not in own:
                raise HomeonetError(f"measure {m.function!r} is not among the experiment's measures "
                                    f"({', '.join(own) or 'none'})")
            out[m.name] = _scalar(own[m.function])
        elif m.kind == "analysis":
            out[m.name] = _scalar(_analysis_functions()[m.function](results, **dict(m.kwargs)))
        else:
            value = _user_function(m.function)(results, values)
            if isinstance(value, dict):
                out.update({f"{m.name}_{k}": _scalar(v) for k, v in value.items()})
            else:
                out[m.name] = _scalar(value)
    return out


def _scalar(value) -> tuple:
    """``(float, unit)``: a quantity in its display unit; an array's mean over its finite entries (NaN if none)."""
    number, unit = split_quantity(value) if hasattr(value, "dim") else (np.asarray(value, dtype=float), "1")
    number = np.asarray(number, dtype=float)
    if number.ndim:
        finite = number[np.isfinite(number)]
        number = finite.mean() if finite.size else np.nan
    return float(number), unit


# -- the product -------------------------------------------------------------------------------------------------

def _assemble(out: Path, plan: dict) -> xr.Dataset:
    """The Dataset of a sweep folder: every point of the plan, finished or not."""
    dims = list(plan["dims"]) + ["seed"]
    shape = tuple(plan["dims"].values()) + (len(plan["seeds"]),)
    status = np.full(shape, "missing", dtype=object)
    error = np.full(shape, "", dtype=object)
    values, units, names = {}, {}, []
    points_dir = out / POINTS_DIR
    for pid, index, seed_index in plan["points"]:
        cell = tuple(index) + (seed_index,)
        attrs = _attrs(points_dir / f"{pid}.nc")
        if attrs is None:
            for kind in UNFINISHED:
                path = points_dir / f"{pid}.{kind}"
                if path.is_file():
                    status[cell], error[cell] = kind, path.read_text().strip()
            continue
        found = {k[len("measure."):]: v for k, v in attrs.items()
                 if k.startswith("measure.") and not k.endswith(".units")}
        if plan["measures"] is not None:
            if not _has_measures(attrs, plan["measures"]):
                continue  # results kept, but a measure asked since is missing: not done yet
            found = {k: v for k, v in found.items() if _belongs(k, plan["measures"])}
        names += [n for n in found if n not in names]
        status[cell] = "done"
        for n, v in found.items():
            values.setdefault(n, {})[cell] = float(v)
            units.setdefault(n, str(attrs.get(f"measure.{n}.units", "")))
    data = {}
    for n in names:
        arr = np.full(shape, np.nan)
        for cell, v in values.get(n, {}).items():
            arr[cell] = v
        data[n] = (dims, arr, {"units": units.get(n, "")})
    data["status"] = (dims, status.astype(str), {"long_name": "done, diverged, failed or missing"})
    data["error"] = (dims, error.astype(str), {"long_name": "one-line error of a diverged or failed point"})
    coords = {"seed": ("seed", np.asarray(plan["seeds"], dtype=np.int64))}
    for name, c in plan["coords"].items():
        attrs = {"long_name": c["long_name"]}
        if c["units"]:
            attrs["units"] = c["units"]
        coords[name] = (c["dim"], np.asarray(c["values"]), attrs)
    attrs = {"title": plan["spec"].get("title") or f"homeonet sweep of {plan['experiment']}",
             "experiment": plan["experiment"],
             "description": plan["description"], "mode": plan["mode"], "device": plan["device"],
             "target": plan["target"], "homeonet_version": plan["homeonet_version"],
             "spec": json.dumps(plan["spec"], sort_keys=True), "points": int(status.size),
             "points_done": int((status == "done").sum()), "points_failed": int((status == "failed").sum()),
             "points_diverged": int((status == "diverged").sum())}
    attrs.update(plan["fixed"])
    return xr.Dataset(data, coords=coords, attrs=attrs)


def load_sweep(path) -> xr.Dataset:
    """Read a sweep: its folder (finished or not: missing points are NaN with ``status == 'missing'``) or ``sweep.nc``.

    Parameters
    ----------
    path : str or Path
        A folder written by :func:`run` / ``homeonet sweep``, or its ``sweep.nc``.

    Returns
    -------
    xarray.Dataset
        As returned by :func:`run`.

    Raises
    ------
    DataFileError
        No sweep there.
    """
    path = check_path("path", path)
    if path.is_dir() and (path / PLAN_FILE).is_file():
        try:
            plan = json.loads((path / PLAN_FILE).read_text())
        except (OSError, ValueError) as err:
            raise DataFileError(f"path: {str(path / PLAN_FILE)!r} cannot be read ({err})") from None
        return _assemble(path, plan)
    nc = path / PRODUCT_FILE if path.is_dir() else path
    if nc.is_file():
        ds = read_netcdf(nc, "sweep")
        if "status" not in ds or "spec" not in ds.attrs:
            raise DataFileError(f"{str(nc)!r} is a NetCDF file but not a homeonet sweep (no 'status' variable and "
                                "'spec' attribute)")
        return ds
    raise DataFileError(f"path: no sweep in {str(path)!r} (neither {PLAN_FILE} nor {PRODUCT_FILE})")


# -- command line ------------------------------------------------------------------------------------------------

def register(sub):
    """Add ``homeonet sweep`` to the command line's subparsers."""
    p = sub.add_parser("sweep", help="run a parameter sweep (TOML specification) on dask.distributed; resumable",
                       description="Run every point of a sweep specification (an experiment, a grid, zip or sample "
                                   "of its parameters, seeds, measures) on dask.distributed, writing each finished "
                                   "point into --out; a rerun skips finished points. Writes sweep.nc (one xarray "
                                   "Dataset: a dimension per swept parameter plus seed). Needs the 'sweep' extra.")
    p.add_argument("spec", metavar="SPEC.toml", help="sweep specification (see README, examples/sweep_*.toml)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="the sweep's folder (default: homeonet-results/<SPEC name>); on a cluster, shared by workers")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    p.add_argument("--workers", default=None, type=_count, metavar="N",
                   help="local worker processes (default: one per core); with --scheduler, wait for N workers")
    p.add_argument("--device", default=None, choices=("runtime", "cpp_standalone"),
                   help="Brian2 device (default: the spec's, else runtime); cpp_standalone compiles each network "
                        "structure once")
    p.add_argument("--target", default=None, choices=("auto", "numpy", "cython"),
                   help="code generation of the runtime device (default: the spec's, else auto)")
    p.add_argument("--quiet", action="store_true", help="no plan, no progress bar")
    return p


def _count(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def command(args) -> int:
    """``homeonet sweep``: exit 0 when every point is done, 1 when some diverged or failed, 2 on bad input."""
    if importlib.util.find_spec("distributed") is None:
        raise HomeonetError(NEEDS_DASK)
    spec = load_spec(args.spec, device=args.device, target=args.target)
    ds = run(spec, args.out, scheduler=args.scheduler, workers=args.workers, progress=not args.quiet)
    unfinished = np.isin(ds["status"].values, UNFINISHED)
    for status, message in sorted(set(zip(ds["status"].values[unfinished], ds["error"].values[unfinished])))[:5]:
        print(f"{status}: {message}", file=sys.stderr)
    return 1 if unfinished.any() else 0
