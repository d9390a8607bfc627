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
from brian2 import Hz, Quantity, SpikeMonitor, StateMonitor, Synapses, get_dimensions, ms, second

from brian2.units.fundamentalunits import DIMENSIONLESS

from ._io import atomic_write
from ._validate import HomeonetError, unit_name
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

        Parameters
        ----------
        net : brian2.Network
            The network; every ``SpikeMonitor`` and ``StateMonitor`` in it is collected.
        duration : Quantity, optional
            Simulated time (default: the network's current time).
        params : dict, optional
            Parameters stored as attributes ``param.<name>``.
        rate_bin : Quantity
            Bin of the population rates computed from spikes.
        **attrs
            Further attributes (numbers or strings).

        Returns
        -------
        Results
        """
        from homeonet.analysis.rates import population_rate

        from . import __version__

        duration = net.t if duration is None else duration
        T = float(duration / second)
        data, coords = {}, {}
        width = float(rate_bin / second)
        nbins = max(1, int(np.floor(T / width + 1e-9)))
        coords["time"] = ("time", (np.arange(nbins) + 0.5) * width, {"units": "second", "long_name": "bin centre"})
        for obj in sorted(net.objects, key=lambda o: o.name):
            if isinstance(obj, SpikeMonitor):
                pop, n = obj.source.name, len(obj.source)
                dim = f"spike_{pop}"
                i = np.array(obj.i[:], dtype=np.int32)  # copies: monitor memory may be freed with the network
                t = np.array(obj.t[:] / second, dtype=float)
                data[f"spike_index_{pop}"] = (dim, i, {"n_neurons": n, "long_name": f"neuron index of {pop} spikes"})
                data[f"spike_time_{pop}"] = (dim, t, {"units": "second", "long_name": f"time of {pop} spikes"})
                _, rate = population_rate(t, n, T, bin=rate_bin)
                data[f"rate_{pop}"] = ("time", np.asarray(rate / Hz), {"units": "hertz", "n_neurons": n,
                                                                        "long_name": f"population rate of {pop}"})
            elif isinstance(obj, StateMonitor):
                src = obj.source.name
                is_syn = isinstance(obj.source, Synapses)
                tdim, ndim = f"t_{src}", (f"synapse_{src}" if is_syn else f"neuron_{src}")
                coords[tdim] = (tdim, np.array(obj.t / second, dtype=float), {"units": "second"})
                idx = np.array(obj.record, dtype=np.int64) if not isinstance(obj.record, bool) else np.arange(len(obj.source))
                coords[ndim] = (ndim, idx)
                if is_syn:
                    coords[f"{src}_i"] = (ndim, np.array(obj.source.i[:], dtype=np.int64)[idx])
                    coords[f"{src}_j"] = (ndim, np.array(obj.source.j[:], dtype=np.int64)[idx])
                for var in obj.record_variables:
                    values = getattr(obj, var)
                    dims = get_dimensions(values)
                    arr = np.array(values / Quantity(1.0, dim=dims) if isinstance(values, Quantity) else values,
                                     dtype=float).T
                    data[f"{src}_{var}"] = ((tdim, ndim), arr, {"units": unit_name(dims)})
        ds = xr.Dataset({k: xr.Variable(*v) for k, v in data.items()},
                        coords={k: xr.Variable(*v) for k, v in coords.items()})
        ds.attrs.update({"duration": T, "homeonet_version": __version__})
        for k, v in (params or {}).items():
            _record(ds.attrs, f"param.{k}", v)
        for obj in sorted(net.objects, key=lambda o: o.name):
            for mech in getattr(obj, "_homeonet_mechanisms", ()):
                ds.attrs[f"mechanism.{obj.name}.{mech.name}"] = type(mech).__name__
                for k, v in mech.parameters().items():
                    _record(ds.attrs, f"mechanism.{obj.name}.{mech.name}.{k}", v)
        for k, v in attrs.items():
            _record(ds.attrs, k, v)
        return cls(ds)

    # -- access -----------------------------------------------------------------
    @property
    def populations(self) -> list:
        """Names of the populations with recorded spikes."""
        return sorted(k[len("spike_index_"):] for k in self.dataset.data_vars if k.startswith("spike_index_"))

    @property
    def duration(self):
        """Simulated time."""
        return self.dataset.attrs["duration"] * second

    def _check_pop(self, pop):
        if pop not in self.populations:
            raise HomeonetError(f"population must be one of {', '.join(self.populations) or '(none recorded)'}; got {pop!r}")

    def spikes(self, pop):
        """Spike indices and times (Brian2 quantity) of population *pop*."""
        self._check_pop(pop)
        return (self.dataset[f"spike_index_{pop}"].values,
                self.dataset[f"spike_time_{pop}"].values * second)

    def n_neurons(self, pop) -> int:
        """Number of neurons of population *pop*."""
        self._check_pop(pop)
        return int(self.dataset[f"spike_index_{pop}"].attrs["n_neurons"])

    def rates(self, pop, t_start=0 * second, t_stop=None):
        """Mean rate of each neuron of *pop* in a window (default: the whole run), in Hz."""
        from homeonet.analysis.rates import firing_rates

        i, t = self.spikes(pop)
        return firing_rates(i, t, self.n_neurons(pop), t_start=t_start,
                            t_stop=self.duration if t_stop is None else t_stop)

    def population_rate(self, pop) -> xr.DataArray:
        """Population rate of *pop* over time (Hz), as an ``xarray.DataArray``."""
        self._check_pop(pop)
        return self.dataset[f"rate_{pop}"]

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

        Parameters
        ----------
        path : str or Path
            Destination file (conventionally ``.nc``).

        Returns
        -------
        Path
            The written file.
        """
        path = Path(path)
        if not path.parent.is_dir():
            raise HomeonetError(f"path: folder {str(path.parent)!r} does not exist")
        atomic_write(path, lambda tmp: self.dataset.to_netcdf(tmp, engine="netcdf4"))
        return path

    def to_neo(self, populations=None):
        """Export spike trains to a ``neo.Block`` (one ``SpikeTrain`` per neuron).

        Parameters
        ----------
        populations : sequence of str, optional
            Populations to export (default all).

        Returns
        -------
        neo.Block
            One segment; each spike train is annotated with ``population`` and ``neuron``.
        """
        try:
            import neo
            import quantities as pq
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_neo needs neo: pip install 'homeonet[neo]'") from err
        block = neo.Block(name="homeonet")
        seg = neo.Segment(name="run")
        block.segments.append(seg)
        T = float(self.duration / second)
        for pop in populations or self.populations:
            i, t = self.spikes(pop)
            t = np.asarray(t / second)
            order = np.argsort(i, kind="stable")
            bounds = np.searchsorted(i[order], np.arange(self.n_neurons(pop) + 1))
            for k in range(self.n_neurons(pop)):
                times = np.sort(t[order[bounds[k]:bounds[k + 1]]])
                seg.spiketrains.append(neo.SpikeTrain(times * pq.s, t_stop=T * pq.s, name=f"{pop}[{k}]",
                                                      population=pop, neuron=k))
        return block


def load(path) -> Results:
    """Load results saved by :meth:`Results.save`.

    Parameters
    ----------
    path : str or Path
        A NetCDF file written by homeonet.

    Returns
    -------
    Results
    """
    path = Path(path)
    if not path.is_file():
        raise HomeonetError(f"path: no results file {str(path)!r}")
    return Results(xr.load_dataset(path, engine="netcdf4"))
