"""Figures render with the Agg backend and show what they should (labels, lines, bars); saving is atomic."""

import doctest

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from brian2 import Hz, ms, second  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from homeonet import figures as F  # noqa: E402
from homeonet._validate import HomeonetError  # noqa: E402
from homeonet.results import Results, load  # noqa: E402


def _spiking_dataset(model="homeostasis", duration=2.0, n=40, with_extras=True):
    rng = np.random.default_rng(0)
    counts = rng.poisson(5 * duration, size=n)
    idx = np.repeat(np.arange(n), counts)
    t = rng.uniform(0, duration, idx.size)
    order = np.argsort(t)
    idx, t = idx[order], t[order]
    nb = int(duration / 0.01)
    rate = np.histogram(t, bins=np.linspace(0, duration, nb + 1))[0] / (n * 0.01)
    data = {"spike_index_E": ("spike_E", idx.astype(np.int32), {"n_neurons": n}),
            "spike_time_E": ("spike_E", t, {"units": "second"}),
            "rate_E": ("time", rate, {"units": "hertz"})}
    coords = {"time": ("time", (np.arange(nb) + 0.5) * 0.01)}
    if with_extras:
        tt = np.arange(0, duration, 0.01)
        coords.update(t_E=("t_E", tt), neuron_E=("neuron_E", np.arange(n)))
        data["E_ip_theta"] = (("t_E", "neuron_E"), 1e-3 * rng.normal(size=(tt.size, n)), {"units": "volt"})
        ie = 2e-3 + 1e-3 * np.sin(2 * np.pi * tt)[:, None] * np.ones((1, n))
        data["E_I_e"] = (("t_E", "neuron_E"), ie, {"units": "volt"})
        data["E_I_i"] = (("t_E", "neuron_E"), 0.9 * ie, {"units": "volt"})
        coords.update(t_S=("t_S", [0.0, duration]), synapse_S=("synapse_S", np.arange(300)))
        w0 = rng.lognormal(0, 0.4, 300)
        data["S_w"] = (("t_S", "synapse_S"), np.stack([w0, 1.5 * w0]))
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(duration=duration, model=model, target=5.0, onset=duration / 2,  # as a run records them
                    homeonet_version="test")
    return ds


def test_doctests():
    result = doctest.testmod(F, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_raster_figure_content():
    res = Results(_spiking_dataset())
    fig = F.raster_figure(res, population="E", max_neurons=10)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    raster, rate = fig.axes
    x, y = raster.lines[0].get_data()
    i, t = res.spikes("E")
    assert len(x) == int(np.sum(i < 10)) and np.max(y) < 10
    assert rate.get_ylabel() == "rate (Hz)" and rate.get_xlabel() == "time (s)"
    assert len(rate.lines[0].get_xdata()) == 200       # 2 s in 10 ms bins


def test_rate_trajectory_band_and_markers():
    t = np.linspace(0, 10, 101)
    fig = F.rate_trajectory_figure(t * second, (5 + np.sin(t)) * Hz, target=5 * Hz, tolerance=0.2,
                                   perturbations={"block": 3.0, "release": 6 * second})
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert "target 5 Hz" in labels and "block" in labels and "release" in labels
    band = ax.patches[0]                                # axhspan: 4..6 Hz
    assert band.get_y() == pytest.approx(4.0) and band.get_height() == pytest.approx(2.0)
    fig2 = F.rate_trajectory_figure(t, np.ones((101, 7)))          # per-neuron rates: mean + 10-90 % band
    assert len(fig2.axes[0].collections) == 1 and len(fig2.axes[0].lines) == 1


def test_rate_distribution_medians():
    fig = F.rate_distribution_figure(np.full(20, 2.0) * Hz, np.linspace(4, 6, 21) * Hz, target=5 * Hz)
    ax = fig.axes[0]
    medians = sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "-")
    assert medians == pytest.approx([2.0, 5.0])
    assert ax.get_xlabel() == "rate (Hz)" and ax.get_ylabel() == "neurons"


def test_weight_scaling_figure_rank_order():
    w = np.random.default_rng(1).lognormal(0, 0.4, 400)
    fig = F.weight_scaling_figure(w, 2 * w)
    cdf, rank = fig.axes
    assert len(cdf.lines) == 3 and "multiplicative" in cdf.get_title()
    x, y = rank.lines[0].get_data()
    assert len(x) == 400 and np.allclose(y, 2 * x)
    assert rank.lines[1].get_label().startswith("fit: 2.00 x")


def test_ei_currents_figure():
    t = np.linspace(0, 1, 200)
    e = 2 + np.sin(2 * np.pi * t)[:, None] * np.ones((1, 5))
    fig = F.ei_currents_figure(t, e, 0.8 * e, unit_label="current (mV)")
    traces, hist = fig.axes
    assert [ln.get_label() for ln in traces.lines[:3]] == ["excitatory", "inhibitory", "net"]
    assert np.allclose(traces.lines[2].get_ydata(), 0.2 * e[:, 0])
    assert sum(p.get_height() for p in hist.patches) == 5      # 5 neurons in the correlation histogram


def test_usage_and_coding_figures():
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1, 2], 20)
    conds = {"plain": rng.gamma(1.0, size=(60, 12)) + 3 * np.eye(12)[y * 4],
             "normalized": np.ones((60, 12)) + 0.1 * rng.random((60, 12)) + np.eye(12)[y * 4]}
    fig = F.usage_figure(conds)
    curves, ent, gin = fig.axes
    assert len(ent.patches) == 2 and len(gin.patches) == 2
    assert ent.patches[1].get_height() > ent.patches[0].get_height()    # normalized units are used more equally
    assert ent.get_ylabel().startswith("usage entropy")
    fig = F.coding_figure(conds, y, cv=4)
    assert len(fig.axes) == 4
    assert [ax.get_ylabel() for ax in fig.axes] == ["decoding accuracy", "MI per unit (bits)",
                                                    "participation ratio", "population sparseness"]
    assert all(len(ax.patches) == 2 for ax in fig.axes)


def test_save_figure_atomic(tmp_path):
    fig = F.rate_distribution_figure(np.ones(5), 2 * np.ones(5))
    paths = F.save_figure(fig, tmp_path / "dist")
    assert [p.name for p in paths] == ["dist.png", "dist.pdf"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist.pdf", "dist.png"]   # no temporary files left
    with pytest.raises(HomeonetError, match="^formats"):
        F.save_figure(fig, tmp_path / "x", formats=("bmpx",))
    with pytest.raises(HomeonetError, match="^path"):
        F.save_figure(fig, tmp_path / "missing" / "x")


def test_figures_for_saved_spiking_run(tmp_path):
    nc = Results(_spiking_dataset()).save(tmp_path / "run.nc")
    files = F.figures_for_results(nc, tmp_path / "figs", formats=("png",), dpi=50)
    names = sorted(p.name for p in files)
    assert names == sorted(f"homeostasis_{k}.png" for k in
                           ("homeostasis", "raster", "rate_trajectory", "rate_distribution", "weights_S",
                            "ei_currents"))
    assert all(p.stat().st_size > 1000 for p in files)          # not empty images


def test_figures_for_rate_run(tmp_path):
    tt = np.arange(0, 2, 0.01)
    r = 10 + np.random.default_rng(3).normal(size=(tt.size, 8))
    ds = xr.Dataset({"L1_r": (("t_L1", "neuron_L1"), r), "L1_ip_theta": (("t_L1", "neuron_L1"), r / 10)},
                    coords={"t_L1": tt, "neuron_L1": np.arange(8)})
    ds.attrs.update(duration=2.0, model="rate_homeostasis", onset=1.0, homeonet_version="test")
    files = F.figures_for_results(Results(ds), tmp_path, formats=("png",), dpi=50)
    assert sorted(p.name for p in files) == ["rate_homeostasis_homeostasis.png",
                                             "rate_homeostasis_rate_distribution.png",
                                             "rate_homeostasis_rate_trajectory.png"]
    with pytest.raises(HomeonetError, match="^population"):
        F.figures_for_results(Results(ds), tmp_path, population="E")


def test_homeostasis_figure_still_works():
    res = Results(_spiking_dataset())
    fig = F.homeostasis_figure(res, "E", target=5 * Hz, onset=1 * second, theta="ip_theta", window=100 * ms)
    assert len(fig.axes) == 3 and fig.axes[-1].get_xlabel() == "time (s)"
    assert fig.axes[2].get_ylabel() == "ip_theta (mV)"
    assert load  # the loader is what figures_for_results uses on .nc paths


def test_rate_smoothing_is_causal_so_a_drop_never_appears_before_it_happens():
    rate = np.r_[np.full(100, 10.0), np.full(100, 5.0)]       # a drop at sample 100
    smoothed = F.smooth(rate, 20)
    assert np.all(smoothed[:100] == 10.0)                       # a centred window would fall 10 samples early
    assert smoothed[119] == pytest.approx(5.0) and 5.0 < smoothed[105] < 10.0


def test_raster_says_which_neurons_it_shows():
    res = Results(_spiking_dataset(n=40))
    fig = F.raster_figure(res, population="E", max_neurons=10)
    assert "neurons 0-9 (10 of 40)" in fig.axes[0].get_title()
    fig = F.homeostasis_figure(res, "E", raster=100)
    assert "all 40 neurons" in fig.axes[0].get_title()


def test_each_population_draws_its_own_target(tmp_path, monkeypatch):
    ds = _spiking_dataset()
    ds = ds.assign(spike_index_I=("spike_I", np.zeros(3, np.int32), {"n_neurons": 10}),
                   spike_time_I=("spike_I", [0.1, 0.5, 1.5]), rate_I=("time", np.full(ds.sizes["time"], 9.0),
                                                                        {"n_neurons": 10}))
    ds.attrs.update({"population": "E", "target.E": 5.0, "target.I": 9.0})
    drawn = {}
    real = F.rate_trajectory_figure

    def spy(*args, **kwargs):
        drawn["target"] = kwargs.get("target")
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "rate_trajectory_figure", spy)
    F.figures_for_results(Results(ds), tmp_path, formats=("png",), population="I", dpi=40)
    assert drawn["target"] == 9 * Hz           # I's own set point (today: E's 5 Hz)
    F.figures_for_results(Results(ds), tmp_path, formats=("png",), population="E", dpi=40)
    assert drawn["target"] == 5 * Hz


def test_a_panel_that_cannot_be_drawn_says_why(tmp_path):
    ds = _spiking_dataset()
    w = ds["S_w"].values.copy()
    w[:, :10] = 0.0                                             # zeros cannot go on the log axes
    ds["S_w"] = (ds["S_w"].dims, w)
    with pytest.warns(UserWarning, match="not drawn"):
        files = F.figures_for_results(Results(ds), tmp_path, formats=("png",), dpi=40)
    assert not any("weights_S" in p.name for p in files)
    assert any("weights_S" in r and "<= 0" in r for r in files.skipped)
