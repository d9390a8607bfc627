"""Simulation results: an ``xarray.Dataset`` with NetCDF save/load and Neo export.

Layout of the dataset (all values in SI units, the unit named in each
variable's ``units`` attribute):

``spike_index_<pop>``, ``spike_time_<pop>``
    Ragged spike trains as index/time arrays along dimension ``spike_<pop>``.
``rate_<pop>``
    Population rate on the common ``time`` axis (bin centres).
``<pop>_<var>``
    Recorded traces, dimensions ``(t_<pop>, neuron_<pop>)``; for synapses
    (weight snapshots) ``(t_<syn>, synapse_<syn>)`` with ``<syn>_i``/``<syn>_j``.
attributes
    ``duration``, ``seed``, ``homeonet_version``, every parameter as
    ``param.<name>`` (its printed value with units), and every mechanism or
    protocol of every group as ``mechanism.<group>.<name>`` (its class) with its
    parameters ``mechanism.<group>.<name>.<parameter>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from brian2 import Hz, PopulationRateMonitor, Quantity, SpikeMonitor, StateMonitor, Synapses, get_dimensions, ms, \
    second

from brian2.units.fundamentalunits import DIMENSIONLESS

from ._io import read_netcdf, write_or_rescue
from ._validate import DataFileError, HomeonetError, OutputError, ParameterError, check_path, check_quantity, unit_name
from .units import format_quantity, split_quantity, to_quantity

__all__ = ["Results", "load"]


def _plain(value):
    """NetCDF-safe attribute value: numbers stay numbers, the rest is printed (quantities in the field's units)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, Quantity) and get_dimensions(value) is DIMENSIONLESS:
        value = float(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, Quantity):
        return value.item() if hasattr(value, "item") else value
    if isinstance(value, Quantity):
        return format_quantity(value)
    return str(value)


def _record(attrs, key, value):
    """Store *value* under *key*: a quantity as a number plus ``<key>.units`` (UDUNITS), the rest via :func:`_plain`."""
    if isinstance(value, Quantity) and get_dimensions(value) is not DIMENSIONLESS and np.ndim(value) == 0:
        attrs[key], attrs[f"{key}.units"] = split_quantity(value)
    else:
        attrs[key] = _plain(value)


class Results:
    """Results of one run, backed by an ``xarray.Dataset``.

    Parameters
    ----------
    dataset : xarray.Dataset
        The data (see the module docstring for its layout).

    Examples
    --------
    >>> res = homeonet.simulate(net, 1 * second)      # doctest: +SKIP
    >>> res.save("run.nc"); homeonet.load("run.nc")   # doctest: +SKIP
    """

    def __init__(self, dataset: xr.Dataset):
        self.dataset = dataset

    # -- construction -----------------------------------------------------------
    @classmethod
    def from_network(cls, net, duration=None, params=None, rate_bin=10 * ms, **attrs) -> "Results":
        """Collect the monitors of a Brian2 network that has run.

        Every ``SpikeMonitor`` (spike trains, or only counts with ``record=False``),
        ``PopulationRateMonitor`` (binned to *rate_bin* where no spike train gives the rate) and
        ``StateMonitor`` (traces; two monitors of one group keep their own time axes) is collected.

        Parameters
        ----------
        net : brian2.Network
            The network.
        duration : Quantity, optional
            Simulated time (default: the network's current time).
        params : dict, optional
            Parameters stored as attributes ``param.<name>`` (quantities as a number plus
            ``param.<name>.units``).
        rate_bin : Quantity
            Bin of the population rates (> 0 s, at most *duration*).
        **attrs
            Further attributes (numbers, strings or quantities).

        Returns
        -------
        Results

        Raises
        ------
        ParameterError
            *rate_bin* not in (0, duration].
        """
        from homeonet.analysis.rates import population_rate

        from . import __version__

        duration = net.t if duration is None else duration
        T = float(duration / second)
        width = float(check_quantity("rate_bin", rate_bin, second, low=0 * second, low_open=True) / second)
        if T > 0 and width > T + 1e-12:
            raise ParameterError(f"rate_bin must be at most the duration ({T:g} s), got {width:g} s")
        data, coords = {}, {}
        nbins = max(1, int(np.floor(T / width + 1e-9)))
        coords["time"] = ("time", (np.arange(nbins) + 0.5) * width, {"units": "second", "long_name": "bin centre"})
        objects = sorted(net.objects, key=lambda o: o.name)
        with_spikes = {o.source.name for o in objects if isinstance(o, SpikeMonitor) and o.record}
        for obj in objects:
            if isinstance(obj, SpikeMonitor) and obj.record:
                pop, n = obj.source.name, len(obj.source)
                dim = f"spike_{pop}"
                i = np.array(obj.i[:], dtype=np.int32)  # copies: monitor memory may be freed with the network
                t = np.array(obj.t[:] / second, dtype=float)
                data[f"spike_index_{pop}"] = (dim, i, {"n_neurons": n, "long_name": f"neuron index of {pop} spikes"})
                data[f"spike_time_{pop}"] = (dim, t, {"units": "second", "long_name": f"time of {pop} spikes"})
                rate = population_rate(t, n, T, bin=rate_bin)[1] if T > 0 else np.zeros(nbins) * Hz
                data[f"rate_{pop}"] = ("time", np.asarray(rate / Hz), {"units": "hertz", "n_neurons": n,
                                                                        "long_name": f"population rate of {pop}"})
            elif isinstance(obj, SpikeMonitor):  # record=False: spike counts only
                pop, n = obj.source.name, len(obj.source)
                data[f"count_{pop}"] = (f"cell_{pop}", np.array(obj.count[:], dtype=np.int64),
                                        {"n_neurons": n, "long_name": f"spike count of each {pop} neuron"})
            elif isinstance(obj, PopulationRateMonitor) and obj.source.name not in with_spikes:
                pop, n = obj.source.name, len(obj.source)
                t, r = np.asarray(obj.t / second), np.asarray(obj.rate / Hz)
                idx = np.floor(t / width + 1e-9).astype(int)
                keep = idx < nbins
                binned = np.bincount(idx[keep], r[keep], nbins) / np.maximum(np.bincount(idx[keep], None, nbins), 1)
                data[f"rate_{pop}"] = ("time", binned, {"units": "hertz", "n_neurons": n,
                                                        "long_name": f"population rate of {pop} (PopulationRateMonitor)"})
            elif isinstance(obj, StateMonitor):
                cls._collect_traces(obj, data, coords)
        ds = xr.Dataset({k: xr.Variable(*v) for k, v in data.items()},
                        coords={k: xr.Variable(*v) for k, v in coords.items()})
        ds.attrs.update({"duration": T, "homeonet_version": __version__})
        for k, v in (params or {}).items():
            _record(ds.attrs, f"param.{k}", v)
        for obj in objects:
            for mech in getattr(obj, "_homeonet_mechanisms", ()):
                ds.attrs[f"mechanism.{obj.name}.{mech.name}"] = type(mech).__name__
                for k, v in mech.parameters().items():
                    _record(ds.attrs, f"mechanism.{obj.name}.{mech.name}.{k}", v)
        for k, v in attrs.items():
            _record(ds.attrs, k, v)
        return cls(ds)

    @staticmethod
    def _collect_traces(mon, data, coords):
        """Traces of a StateMonitor: ``<source>_<var>`` on ``(t_<source>, neuron_<source>)``; a second
        monitor of the same source with another sampling or selection uses its own name instead."""
        src = mon.source.name
        is_syn = isinstance(mon.source, Synapses)
        t = np.array(mon.t / second, dtype=float)
        idx = (np.array(mon.record, dtype=np.int64) if not isinstance(mon.record, bool)
               else np.arange(len(mon.source)))
        key = src
        tdim, ndim = f"t_{key}", (f"synapse_{key}" if is_syn else f"neuron_{key}")
        clash = (tdim in coords and not np.array_equal(coords[tdim][1], t)) or \
                (ndim in coords and not np.array_equal(coords[ndim][1], idx))
        if clash or any(f"{key}_{v}" in data for v in mon.record_variables):
            key = mon.name
            tdim, ndim = f"t_{key}", (f"synapse_{key}" if is_syn else f"neuron_{key}")
        coords[tdim] = (tdim, t, {"units": "second"})
        coords[ndim] = (ndim, idx)
        if is_syn:
            coords[f"{key}_i"] = (ndim, np.array(mon.source.i[:], dtype=np.int64)[idx])
            coords[f"{key}_j"] = (ndim, np.array(mon.source.j[:], dtype=np.int64)[idx])
        for var in mon.record_variables:
            values = getattr(mon, var)
            dims = get_dimensions(values)
            arr = np.array(values / Quantity(1.0, dim=dims) if isinstance(values, Quantity) else values,
                           dtype=float).T
            data[f"{key}_{var}"] = ((tdim, ndim), arr, {"units": unit_name(dims)})

    # -- access -----------------------------------------------------------------
    @property
    def populations(self) -> list:
        """Names of the populations with recorded spikes, spike counts or population rates."""
        names = set()
        for k in self.dataset.data_vars:
            for prefix in ("spike_index_", "count_", "rate_"):
                if k.startswith(prefix) and "n_neurons" in self.dataset[k].attrs:
                    names.add(k[len(prefix):])
        return sorted(names)

    @property
    def duration(self):
        """Simulated time (the time reached, for an incomplete run)."""
        return self.dataset.attrs["duration"] * second

    @property
    def complete(self) -> bool:
        """False when the run was interrupted before its planned end (``attrs['complete'] == 0``)."""
        return bool(self.dataset.attrs.get("complete", 1))

    def _check_pop(self, pop):
        if pop not in self.populations:
            raise HomeonetError(f"population must be one of {', '.join(self.populations) or '(none recorded)'}; got {pop!r}")

    def spikes(self, pop):
        """Spike indices and times (Brian2 quantity) of population *pop*.

        Raises
        ------
        HomeonetError
            Unknown population, or one recorded without spike times (counts or rates only).
        """
        self._check_pop(pop)
        if f"spike_index_{pop}" not in self.dataset:
            raise HomeonetError(f"population {pop!r} was recorded without spike times (SpikeMonitor(record=False) "
                                "or PopulationRateMonitor): only its counts or rates are available")
        return (self.dataset[f"spike_index_{pop}"].values,
                self.dataset[f"spike_time_{pop}"].values * second)

    def n_neurons(self, pop) -> int:
        """Number of neurons of population *pop*."""
        self._check_pop(pop)
        for prefix in ("spike_index_", "count_", "rate_"):
            if f"{prefix}{pop}" in self.dataset:
                return int(self.dataset[f"{prefix}{pop}"].attrs["n_neurons"])
        raise AssertionError(pop)  # pragma: no cover - populations lists only what has n_neurons

    def rates(self, pop, t_start=0 * second, t_stop=None):
        """Mean rate of each neuron of *pop* in a window (default: the whole run), in Hz.

        A population recorded with ``SpikeMonitor(record=False)`` has its rates from the spike
        counts, over the whole run only.
        """
        from homeonet.analysis._util import window
        from homeonet.analysis.rates import firing_rates

        t_stop = self.duration if t_stop is None else t_stop
        # a window beyond the run would count no spikes there: rates too low
        window(None, t_start, t_stop, run_end=float(self.duration / second))
        if f"spike_index_{pop}" not in self.dataset and f"count_{pop}" in self.dataset:
            if float(t_start / second) != 0 or abs(float((t_stop - self.duration) / second)) > 1e-12:
                raise HomeonetError(f"population {pop!r} has spike counts only (SpikeMonitor(record=False)): "
                                    "its rates cover the whole run, not a window")
            return self.dataset[f"count_{pop}"].values / float(self.duration / second) * Hz
        i, t = self.spikes(pop)
        return firing_rates(i, t, self.n_neurons(pop), t_start=t_start, t_stop=t_stop)

    @property
    def rate_populations(self) -> list:
        """Names of rate-neuron populations with a recorded rate trace ``<pop>_r``."""
        return sorted(k[:-2] for k in self.dataset.data_vars if k.endswith("_r") and self.dataset[k].ndim == 2)

    def population_rate(self, pop) -> xr.DataArray:
        """Population rate of *pop* over time (Hz), as an ``xarray.DataArray`` (its one dimension is time, s).

        The binned rate of a spiking population (spike times or a PopulationRateMonitor), or the mean over
        neurons of a rate population's recorded rate trace ``<pop>_r``. The one place that turns a run into
        a population rate: summaries, figures and measures read it here.

        Raises
        ------
        HomeonetError
            Unknown population, or one recorded with spike counts only.
        """
        ds = self.dataset
        if pop not in self.populations and pop in self.rate_populations:
            trace = ds[f"{pop}_r"]
            return trace.mean(trace.dims[1]).assign_attrs(units="hertz", long_name=f"mean rate of {pop}")
        if pop not in self.populations:
            known = self.populations + self.rate_populations
            raise HomeonetError(f"population must be one of {', '.join(known) or '(none recorded)'}; got {pop!r}")
        if f"rate_{pop}" not in ds:
            raise HomeonetError(f"population {pop!r} has spike counts only (SpikeMonitor(record=False)): no rate "
                                "over time; add a PopulationRateMonitor or record spike times")
        return ds[f"rate_{pop}"]

    @property
    def params(self) -> dict:
        """Stored parameters, ``name -> value`` (quantities rebuilt from their number and ``.units``)."""
        attrs = self.dataset.attrs
        out = {}
        for k, v in attrs.items():
            if k.startswith("param.") and not k.endswith(".units"):
                unit = attrs.get(f"{k}.units")
                out[k[len("param."):]] = to_quantity(v, unit) if unit not in (None, "", "1") else v
        return out

    def __repr__(self):
        pops = ", ".join(f"{p} ({self.n_neurons(p)} neurons)" for p in self.populations)
        return f"<Results {self.dataset.attrs.get('duration', 0):g} s: {pops or 'no spikes recorded'}>"

    # -- files --------------------------------------------------------------------
    def save(self, path) -> Path:
        """Save as NetCDF-4, atomically (written to a temporary file, then renamed).

        A write that fails (disk full, permissions, an HDF error) leaves any earlier file at *path*
        untouched and saves the results to a rescue file instead (:func:`homeonet._io.rescue_dir`),
        so that no finished work is lost.

        Parameters
        ----------
        path : str or Path
            Destination file (conventionally ``.nc``).

        Returns
        -------
        Path
            The written file.

        Raises
        ------
        OutputError
            The folder does not exist, *path* is a folder, or the write failed (the message names the
            rescue file, if one could be written).
        """
        path = check_path("path", path)
        if not path.parent.is_dir():
            raise OutputError(f"path: folder {str(path.parent)!r} does not exist")
        if path.exists() and not path.is_file():
            raise OutputError(f"path: {str(path)!r} exists and is not a file")
        return write_or_rescue(path, lambda tmp: self.dataset.to_netcdf(tmp, engine="netcdf4"))

    def to_neo(self, populations=None):
        """Export to Neo as PyNN does: one Block, a Segment for the run, a Group per population.

        Each population's spike trains come from one ``SpikeTrainList.from_spike_time_array`` call
        (annotated with ``source_population`` and ``source_index``, as PyNN writes them), its
        recorded traces become ``AnalogSignal`` objects with their units and sampling period (one
        channel per recorded neuron, ``channel_index`` array annotation); the seed, time step,
        device and every parameter are annotations of the Block.

        Parameters
        ----------
        populations : sequence of str, optional
            Populations to export (default all with spike times or traces).

        Returns
        -------
        neo.Block

        Raises
        ------
        ImportError
            Without neo (``pip install 'homeonet[neo]'``).
        """
        try:
            import neo
            import quantities as pq
            from neo.core.spiketrainlist import SpikeTrainList
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_neo needs neo: pip install 'homeonet[neo]'") from err
        ds = self.dataset
        annotations = {k.replace(".", "_"): v for k, v in ds.attrs.items()
                       if isinstance(v, (str, int, float, np.integer, np.floating))}
        block = neo.Block(name=str(ds.attrs.get("model", "homeonet")), **annotations)
        seg = neo.Segment(name="run", index=0)
        block.segments.append(seg)
        T = float(self.duration / second)
        traced = {ds[k].dims[1][len("neuron_"):] for k in ds.data_vars
                  if ds[k].ndim == 2 and ds[k].dims[1].startswith("neuron_")}
        pops = list(populations) if populations is not None else sorted(
            set(p for p in self.populations if f"spike_index_{p}" in ds) | set(traced))
        for pop in pops:
            group = neo.Group(name=pop, allowed_types=[neo.SpikeTrain, neo.AnalogSignal])
            if f"spike_index_{pop}" in ds:
                i, t = self.spikes(pop)
                n = self.n_neurons(pop)
                trains = SpikeTrainList.from_spike_time_array(np.asarray(t / second), np.asarray(i, dtype=np.int64),
                                                              np.arange(n), t_stop=T * pq.s, units="s",
                                                              t_start=0 * pq.s)
                for k, train in enumerate(trains):
                    train.annotate(source_population=pop, source_index=k, population=pop, neuron=k)
                    train.name = f"{pop}[{k}]"
                seg.spiketrains.extend(trains)
                group.add(*trains)
            for var in sorted(ds.data_vars):
                da = ds[var]
                if da.ndim != 2 or da.dims[1] != f"neuron_{pop}" or not var.startswith(f"{pop}_"):
                    continue
                tt = ds[da.dims[0]].values
                period = float(np.median(np.diff(tt))) if tt.size > 1 else float(ds.attrs.get("dt", 1e-4))
                units = da.attrs.get("units", "1")
                sig = neo.AnalogSignal(da.values, units=_pq_units(units), sampling_period=period * pq.s,
                                       t_start=(float(tt[0]) if tt.size else 0.0) * pq.s, name=var[len(pop) + 1:],
                                       array_annotations={"channel_index": ds[da.dims[1]].values},
                                       source_population=pop)
                seg.analogsignals.append(sig)
                group.add(sig)
            block.groups.append(group)
        return block

def _pq_units(units):
    """A ``quantities`` unit for a stored unit string (Brian2's names, as written by :func:`unit_name`)."""
    import quantities as pq

    names = {"1": pq.dimensionless, "volt": pq.V, "amp": pq.A, "siemens": pq.S, "hertz": pq.Hz, "second": pq.s,
             "farad": pq.F, "ohm": pq.ohm}
    if units in names:
        return names[units]
    try:
        return pq.Quantity(1.0, units.replace("^", "**")).units
    except (LookupError, ValueError, SyntaxError):
        return pq.dimensionless


def load(path) -> Results:
    """Load results saved by :meth:`Results.save`.

    Parameters
    ----------
    path : str or Path
        A NetCDF file written by homeonet.

    Returns
    -------
    Results

    Raises
    ------
    DataFileError
        No such file, or a file that is empty, corrupt, or not homeonet results (one line naming it).
    """
    path = check_path("path", path)
    if not path.is_file():
        raise DataFileError(f"path: no results file {str(path)!r}")
    ds = read_netcdf(path, "results")
    if "homeonet_version" not in ds.attrs or "duration" not in ds.attrs:
        raise DataFileError(f"{str(path)!r} is a NetCDF file but not homeonet results (no 'homeonet_version' "
                            "and 'duration' attributes)")
    _check_spikes(ds, path)
    return Results(ds)


def _check_spikes(ds, path):
    """Refuse (one line naming the file) spike data that no run writes: times outside [0, duration] or not
    finite, indices outside the population."""
    duration = float(ds.attrs["duration"])
    for name in ds.data_vars:
        if not name.startswith("spike_index_"):
            continue
        pop = name[len("spike_index_"):]
        i = np.asarray(ds[name].values)
        t = np.asarray(ds[f"spike_time_{pop}"].values) if f"spike_time_{pop}" in ds else np.zeros(0)
        n = ds[name].attrs.get("n_neurons")
        bad = ("times that are not finite" if not np.all(np.isfinite(t)) else
               "times outside the run" if t.size and (t.min() < 0 or t.max() > duration * (1 + 1e-9) + 1e-12) else
               "neuron indices outside the population" if i.size and n is not None and (i.min() < 0 or i.max() >= n)
               else None)
        if bad:
            raise DataFileError(f"{str(path)!r}: spikes of {pop} hold {bad} (duration {duration:g} s"
                                f"{'' if n is None else f', {int(n)} neurons'}); the file was not written by a run")
