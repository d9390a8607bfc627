"""Private input helpers shared by the analysis modules (unit handling, checks, spike unpacking)."""

from __future__ import annotations

import numpy as np
from brian2 import Quantity, SpikeMonitor, get_dimensions, second
from brian2.units.fundamentalunits import DIMENSIONLESS

from homeonet._validate import _shown, HomeonetError, check_count, unit_name
from homeonet.units import unit_string


def is_quantity(value) -> bool:
    """True when *value* is a Brian2 quantity with physical dimensions."""
    return isinstance(value, Quantity) and get_dimensions(value) is not DIMENSIONLESS


def seconds(name, value, *, allow_array=True, finite=True):
    """Times as float seconds; Quantities must have dimensions of time, plain numbers are seconds."""
    if value is None or isinstance(value, (str, bool)):
        raise HomeonetError(f"{name} must be a time (Brian2 quantity or seconds), got {_shown(value)}")
    if isinstance(value, Quantity) and get_dimensions(value) is not get_dimensions(second):
        if get_dimensions(value) is not DIMENSIONLESS:
            raise HomeonetError(f"{name} must be in units of second, got {unit_string(value)}")
    arr = np.asarray(value / second if isinstance(value, Quantity) and is_quantity(value) else value, dtype=float)
    if arr.ndim and not allow_array:
        raise HomeonetError(f"{name} must be a scalar time, got an array of shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise HomeonetError(f"{name} must be finite (no NaN or inf)")
    return arr


def values(name, value, *, ndim=None, finite=True, min_size=1):
    """(float array, unit or None): strip a Brian2 unit, check shape and finiteness."""
    if value is None or isinstance(value, (str, bool)):
        raise HomeonetError(f"{name} must be an array of numbers, got {_shown(value)}")
    unit = None
    if is_quantity(value):
        unit = Quantity(1.0, dim=get_dimensions(value))
        arr = np.asarray(value / unit, dtype=float)
    else:
        try:
            arr = np.asarray(getattr(value, "values", value), dtype=float)
        except (TypeError, ValueError):
            raise HomeonetError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        want = " or ".join(f"{d}-D" for d in np.atleast_1d(ndim))
        raise HomeonetError(f"{name} must be a {want} array, got shape {arr.shape}")
    if arr.size < min_size:
        raise HomeonetError(f"{name} must have at least {min_size} value(s), got {arr.size}")
    if finite and not np.all(np.isfinite(arr)):
        raise HomeonetError(f"{name} must be finite (no NaN or inf)")
    return arr, unit


def same_unit(name, unit, ref_name, ref_unit):
    """Check that two stripped units agree (both plain, or the same dimensions)."""
    d1 = None if unit is None else get_dimensions(unit)
    d2 = None if ref_unit is None else get_dimensions(ref_unit)
    if d1 is not d2:
        raise HomeonetError(f"{name} must have the units of {ref_name} "
                            f"({'plain numbers' if d2 is None else unit_name(d2)}), got "
                            f"{'plain numbers' if d1 is None else unit_name(d1)}")


def attach(arr, unit):
    """Re-attach *unit* (or return the plain array when *unit* is None)."""
    return arr if unit is None else arr * unit


def run_end(results):
    """End (s) of what *results* recorded: a ``Results`` run's duration, a ``SpikeMonitor``'s simulated time;
    None for plain arrays (then no window can be checked against it)."""
    if isinstance(results, SpikeMonitor):
        return float(results.clock.t / second)
    if hasattr(results, "dataset") and hasattr(results, "duration"):
        return float(results.duration / second)
    return None


def spikes(indices, times=None, n=None, population=None):
    """Unpack spike data: ``(indices int64, times in s, n, quantity_in, t_stop or None)``.

    *indices* may be an index array (then *times* and *n* are required), a
    Brian2 ``SpikeMonitor`` or a homeonet ``Results`` (with *population*).
    """
    t_stop = run_end(indices)
    if isinstance(indices, SpikeMonitor):
        mon = indices
        # copies: Brian2 2.11 frees a monitor's arrays with the monitor
        indices, times, n = np.array(mon.i[:]), mon.t[:].copy(), len(mon.source) if n is None else n
    elif hasattr(indices, "spikes") and hasattr(indices, "populations"):
        res = indices
        pops = res.populations
        if population is None:
            if len(pops) != 1:
                raise HomeonetError(f"population must be given (one of {', '.join(pops) or 'none recorded'})")
            population = pops[0]
        indices, times = res.spikes(population)
        n = res.n_neurons(population) if n is None else n
    if times is None:
        raise HomeonetError("times must be given with indices (or pass a SpikeMonitor or Results)")
    if n is None:
        raise HomeonetError("n must be given with indices (the number of neurons)")
    quantity_in = is_quantity(times)
    t = seconds("times", times)
    try:
        idx = np.asarray(indices)
    except (TypeError, ValueError):
        raise HomeonetError("indices must be an array of neuron indices") from None
    if idx.ndim != 1 or t.ndim != 1:
        raise HomeonetError(f"indices and times must be 1-D, got shapes {idx.shape} and {t.shape}")
    if idx.shape != t.shape:
        raise HomeonetError(f"indices and times must have the same length, got {idx.size} and {t.size}")
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        if not (np.all(np.isfinite(idx)) and np.all(np.mod(idx, 1) == 0)):
            raise HomeonetError("indices must be integer neuron indices")
    idx = idx.astype(np.int64, copy=False)
    n = check_count("n", n)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise HomeonetError(f"indices must lie in [0, n-1] = [0, {n - 1}], got [{idx.min()}, {idx.max()}]")
    return idx, t, n, quantity_in, t_stop


def window(t, t_start, t_stop, run_end=None):
    """(t0, t1) in seconds, checked: t_stop > t_start, and within the run when its end is known.

    *run_end* (the end of a ``Results`` run or of what a ``SpikeMonitor`` has recorded) is the default
    ``t_stop``; a window reaching past it would count time nobody recorded as silence.
    """
    t0 = float(seconds("t_start", t_start, allow_array=False))
    if t_stop is None:
        if run_end is None:
            raise HomeonetError("t_stop is required (the end of the window)")
        t1 = float(run_end)
    else:
        t1 = float(seconds("t_stop", t_stop, allow_array=False))
    if not t1 > t0:
        raise HomeonetError(f"t_stop must be after t_start ({t0:g} s), got {t1:g} s")
    if run_end is not None and (t0 < 0 or t1 > run_end * (1 + 1e-9) + 1e-12):
        raise HomeonetError(f"t_start and t_stop must lie within the run, [0 s, {run_end:g} s] (what was recorded); "
                            f"got [{t0:g} s, {t1:g} s]")
    return t0, t1


def onset_within(t, t_on, name="onset") -> None:
    """Refuse an onset after the last sample *t*: a measure after it would read as "never" (NaN) or "none"."""
    if t.size == 0 or t_on > t[-1] + 1e-12:
        last = f"the last sample ({t[-1]:g} s)" if t.size else "a sample (there are none)"
        raise HomeonetError(f"{name} must be at or before {last}, got {t_on:g} s")


def positive_time(name, value, *, allow_zero=False):
    """A scalar time in seconds, > 0 (or >= 0)."""
    v = float(seconds(name, value, allow_array=False))
    if v < 0 or (v == 0 and not allow_zero):
        raise HomeonetError(f"{name} must be a time {'>=' if allow_zero else '>'} 0 s, got {v:g} s")
    return v


def fraction(name, value, *, low=0.0, high=1.0, low_open=False, high_open=False):
    """A plain float in a range."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise HomeonetError(f"{name} must be a number in [{low:g}, {high:g}], got {_shown(value)}") from None
    bad = (not np.isfinite(v) or v < low or v > high or (low_open and v == low) or (high_open and v == high))
    if bad:
        raise HomeonetError(f"{name} must be a number in {'(' if low_open else '['}{low:g}, {high:g}"
                            f"{')' if high_open else ']'}, got {value!r}")
    return v


def sorted_spikes(idx, t):
    """Spikes sorted by neuron, then time: (idx, t) as new arrays."""
    order = np.lexsort((t, idx))
    return idx[order], t[order]


def binned_counts(idx, t, n, t0, width, nbins):
    """Sparse per-neuron bin counts: (neuron of each nonzero cell, count of it), vectorised.

    Only the non-empty (neuron, bin) cells are returned, so memory scales with
    the number of spikes, not with ``n * nbins``.
    """
    b = np.floor((t - t0) / width + 1e-9).astype(np.int64)
    keep = (b >= 0) & (b < nbins)
    key = idx[keep] * nbins + b[keep]
    cells, counts = np.unique(key, return_counts=True)
    return cells // nbins, cells % nbins, counts
