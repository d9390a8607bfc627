"""Results: collection from monitors, NetCDF round trip, atomic save, Neo export."""

import os

import numpy as np
import pytest
import xarray as xr
from brian2 import Hz, ms, second

import homeonet as hn
from homeonet.models import recurrent_ei


@pytest.fixture
def results():
    ip = hn.IntrinsicPlasticity(target=5 * Hz)
    net = recurrent_ei(N_E=40, N_I=10, mechanisms_E=[ip], record={"E": ["v", "ip_theta"]},
                       record_dt=5 * ms)
    return hn.simulate(net, 300 * ms, progress=False, params={"target": 5 * Hz, "N_E": 40}, seed=7)


def test_results_hold_spikes_rates_traces_and_parameters(results):
    ds = results.dataset
    i, t = results.spikes("E")
    assert len(i) == len(t) > 0 and np.all(t <= 300 * ms)
    assert ds["E_v"].dims == ("t_E", "neuron_E") and ds["E_v"].attrs["units"] == "volt"
    # a number and a UDUNITS unit string, in the unit a neuroscientist writes
    assert ds.attrs["param.target"] == 5.0 and ds.attrs["param.target.units"] == "Hz"
    assert ds.attrs["param.N_E"] == 40 and ds.attrs["seed"] == 7
    assert ds.attrs["mechanism.E.ip.eta"] == pytest.approx(0.1) and ds.attrs["mechanism.E.ip.eta.units"] == "mV/Hz"
    assert results.params["target"] == 5 * Hz
    # the binned population rate integrates to the spike count
    assert np.isclose(ds["rate_E"].sum() * 0.01 * 40, len(i))
    assert np.allclose(results.rates("E") / Hz, np.bincount(i, minlength=40) / 0.3)


def test_save_and_load_are_identical(results, tmp_path):
    path = results.save(tmp_path / "run.nc")
    loaded = hn.load(path)
    xr.testing.assert_identical(loaded.dataset, results.dataset)
    assert loaded.dataset["spike_index_E"].dtype == np.int32
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]  # no temporary file left behind


def test_failed_save_keeps_the_previous_file(results, tmp_path, monkeypatch):
    path = results.save(tmp_path / "run.nc")
    before = path.read_bytes()
    monkeypatch.setenv("HOMEONET_RESCUE_DIR", str(tmp_path / "no-such-folder"))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", boom)
    with pytest.raises(hn.HomeonetError, match="nor a rescue copy"):
        results.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["run.nc"]


def test_a_write_failing_after_the_work_keeps_a_rescue_copy(results, tmp_path, monkeypatch):
    """Disk full (or an HDF error) on the destination: the finished results go to a rescue file, named."""
    rescue = tmp_path / "rescue"
    rescue.mkdir()
    monkeypatch.setenv("HOMEONET_RESCUE_DIR", str(rescue))
    real = xr.Dataset.to_netcdf

    def full_disk(self, path, *args, **kwargs):
        if str(rescue) not in str(path):
            raise OSError(28, "No space left on device")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full_disk)
    (tmp_path / "out").mkdir()
    with pytest.raises(hn.HomeonetError, match="saved to") as err:
        results.save(tmp_path / "out" / "run.nc")
    saved = list(rescue.iterdir())
    assert len(saved) == 1 and str(saved[0]) in str(err.value) and "No space left" in str(err.value)
    xr.testing.assert_identical(hn.load(saved[0]).dataset, results.dataset)


def test_save_to_missing_folder_is_a_clear_error(results, tmp_path):
    with pytest.raises(hn.HomeonetError, match="does not exist"):
        results.save(tmp_path / "missing" / "run.nc")


def test_export_to_neo(results):
    neo = pytest.importorskip("neo")
    block = results.to_neo()
    trains = block.segments[0].spiketrains
    assert len(trains) == 50
    i, t = results.spikes("E")
    k = int(np.bincount(i).argmax())
    train = [s for s in trains if s.annotations["population"] == "E" and s.annotations["neuron"] == k][0]
    assert np.allclose(np.sort(np.asarray(t[i == k] / second)), train.rescale("s").magnitude)
    assert float(train.t_stop.rescale("s")) == pytest.approx(0.3)
    assert isinstance(train, neo.SpikeTrain)


def test_unknown_population_is_a_clear_error(results):
    with pytest.raises(hn.HomeonetError, match="population must be one of E, I"):
        results.spikes("X")


def test_results_and_spike_data_outlive_their_network():
    """Brian2 2.11 frees a monitor's dynamic arrays (spike indices and times, synapse indices and weights)
    with its network, leaving views into freed memory: results and analysis inputs must be copies."""
    import gc

    from homeonet.analysis._util import spikes

    def run_once(seed):
        net = recurrent_ei(N_E=40, N_I=10)
        res = hn.simulate(net, 300 * ms, progress=False, seed=seed)
        mon = net["spikes_E"]
        expected = np.array(mon.i[:]), np.array(mon.t[:] / second)
        unpacked = spikes(mon)[:2]
        # copies, not views: memory shared with the monitor is what Brian2 2.11 frees (on every version)
        for kept in (*unpacked, *res.spikes("E")):
            for brian_array in (mon.i[:], mon.t[:]):
                assert not np.shares_memory(np.asarray(kept), np.asarray(brian_array))
        return res, expected, unpacked

    first, expected, unpacked = run_once(1)
    gc.collect()
    run_once(2)  # a second network reuses the freed memory
    gc.collect()
    i, t = first.spikes("E")
    assert len(expected[0]) > 20
    np.testing.assert_array_equal(i, expected[0])
    np.testing.assert_array_equal(np.asarray(t / second), expected[1])
    np.testing.assert_array_equal(unpacked[0], expected[0])
    np.testing.assert_array_equal(np.asarray(unpacked[1]), expected[1])
