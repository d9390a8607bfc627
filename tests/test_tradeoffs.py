"""The trade-off map: closed forms of the stability laws, grids and specs, one point, Pareto fronts, table, figures."""

import itertools
import math

import numpy as np
import pytest
from brian2 import ms, second

from homeonet._validate import HomeonetError
from homeonet.analysis import TRADEOFF_MEASURES
from homeonet.tradeoffs import (OBJECTIVES, collect, critical_sensor_tau, critical_speed, evaluate_point, front_figure,
                                grid, pareto_mask, pareto_table, pick_settings, settings_table, stability_figure,
                                stable_speeds, trajectory_figure, write_table)


def _max_real_root(coeffs):
    return float(np.max(np.roots(coeffs).real))


def test_critical_speed_is_where_the_characteristic_polynomial_crosses_into_instability():
    """Harnack's loop: tau tau_A s^3 + (tau + tau_A (1-l)) s^2 + (1-l) s + g k = 0; the closed form is its
    Routh-Hurwitz boundary, checked against the roots just below and above it."""
    tau, ta = 0.01, 0.1
    for lam in (0.0, 0.3, 0.6, 0.9):
        kc = critical_speed(lam, tau * second, ta * second)
        coeffs = lambda k: [tau * ta, tau + ta * (1 - lam), 1 - lam, k]   # noqa: E731
        assert _max_real_root(coeffs(0.99 * kc)) < 0 < _max_real_root(coeffs(1.01 * kc))
    assert critical_speed(0.0, 10 * ms, 100 * ms) == pytest.approx(110.0)
    assert np.all(np.diff(critical_speed(np.linspace(0, 0.95, 20), 10 * ms, 100 * ms)) < 0)
    with pytest.raises(HomeonetError, match="recurrence"):
        critical_speed(1.0)


def test_critical_sensor_tau_is_the_boundary_of_the_hebbian_loop():
    tau, k = 0.01, 20.0
    for h in (0.5, 2.0, 8.0):
        tc = critical_sensor_tau(h, k, tau * second)
        coeffs = lambda ta: [tau * ta, tau + ta, 1 - h * ta, k - h]       # noqa: E731
        assert _max_real_root(coeffs(0.99 * tc)) < 0 < _max_real_root(coeffs(1.01 * tc))
    # inversely proportional to the Hebbian rate: h * tau_crit -> 1 - k tau for small h tau
    hs = np.array([0.1, 1.0, 10.0])
    assert np.all(np.diff(critical_sensor_tau(hs, k, tau * second)) < 0)
    assert critical_sensor_tau(0.1, k, tau * second) * 0.1 == pytest.approx(1 - k * tau, rel=0.02)
    assert math.isnan(critical_sensor_tau(30.0, k, tau * second))      # homeostasis slower than Hebbian growth


def test_stable_window_of_the_two_laws():
    lo, hi = stable_speeds(0.1, recurrence=0.0, hebbian=0.0)
    assert float(lo) == 0.0 and float(hi) == pytest.approx(critical_speed(0.0, 10 * ms, 100 * ms))
    # with Hebbian growth h, the window starts at h and closes at the Zenke boundary of the sensor
    h, lam, tau = 2.0, 0.3, 0.01
    taus = np.array([0.05, 0.2, 0.4, 0.45])
    lo, hi = stable_speeds(taus, recurrence=lam, hebbian=h)
    for ta, a, b in zip(taus, lo, hi):
        coeffs = lambda k: [tau * ta, tau + ta * (1 - lam), 1 - lam - h * ta, k - h]   # noqa: E731
        if np.isnan(a):
            assert all(_max_real_root(coeffs(k)) > 0 for k in np.geomspace(0.5, 500, 40))
        else:
            assert a == h and _max_real_root(coeffs(0.5 * (a + b))) < 0 < _max_real_root(coeffs(1.01 * b))
    assert np.isnan(lo[-1]) and not np.isnan(lo[0])


def test_grids_span_the_strengths_the_sensor_and_the_seeds():
    for network in ("rate", "spiking"):
        g = grid(network)
        assert np.log10(max(g.strengths) / min(g.strengths)) >= 1.5 and len(g.seeds) >= 3
        assert len(g.sensor_taus) >= 3
        settings = g.settings()
        assert ("none", 1.0, g.sensor_taus[0]) in settings
        # a mechanism without a sensor runs once per strength, one with a sensor once per (strength, sensor tau)
        assert sum(m == "weight_normalization" for m, _, _ in settings) == len(g.strengths)
        assert sum(m == "intrinsic_plasticity" for m, _, _ in settings) == len(g.strengths) * len(g.sensor_taus)
    quick = grid("rate", quick=True)
    assert np.log10(max(quick.strengths) / min(quick.strengths)) >= 1.5 and len(quick.seeds) == 3
    print(f"\nquick grid: {quick.n_points} points of {float(quick.fixed['duration'] / second):g} s; full rate grid: "
          f"{grid('rate').n_points}; full spiking grid: {grid('spiking').n_points}")
    assert quick.n_points < grid("rate").n_points


def test_grid_spec_is_a_sweep_specification_of_every_setting():
    """One zip over the settings, values as text the experiment accepts (what the sweep engine validates)."""
    from homeonet.sweep import load_spec

    g = grid("rate", quick=True, mechanisms="intrinsic_plasticity,lateral_inhibition", fixed={"duration": "3s"})
    spec = g.spec()
    assert spec["zip"]["mechanism"] == ["intrinsic_plasticity"] * 6 + ["lateral_inhibition"] * 3
    assert spec["set"] == {"duration": "3 s"} and spec["keep_results"]
    points = load_spec(spec).points()
    assert len(points) == g.n_points == 9 * 3
    assert {(p["values"]["mechanism"], float(p["values"]["strength"])) for p in points} == \
        {(m, s) for m, s, _ in g.settings()}


@pytest.mark.parametrize("kwargs, needle", [
    ({"network": "cortex"}, "network"),
    ({"mechanisms": "intrinsic_plasticity,inhibitory_stdp"}, "inhibitory_stdp"),
    ({"seeds": 2}, "seeds"),
    ({"network": "spiking", "quick": True}, "quick"),
    ({"fixed": {"strength": 2.0}}, "strength"),
    ({"fixed": {"duration": "-1 s"}}, "duration"),
])
def test_bad_grid_requests_are_one_line_errors(kwargs, needle):
    with pytest.raises(HomeonetError) as err:
        grid(**kwargs)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_pareto_mask_matches_a_brute_force_definition():
    rng = np.random.default_rng(4)
    pts = np.round(rng.random((60, 3)), 1)                       # ties on a coarse grid
    pts[5] = [np.inf, 0.1, 0.1]
    pts[7] = [np.nan, 0.0, 0.0]
    mask = pareto_mask(pts)
    for i, p in enumerate(pts):
        if np.isnan(p).any():
            assert not mask[i]
            continue
        dominated = any(np.all(q <= p) and np.any(q < p) for j, q in enumerate(pts) if j != i and not np.isnan(q).any())
        assert mask[i] == (not dominated)
    with pytest.raises(HomeonetError, match="costs"):
        pareto_mask([1.0, 2.0])


def _records():
    """A synthetic map: recovery gets faster with strength, stability breaks at the largest strength."""
    recs = []
    rng = np.random.default_rng(0)
    g = grid("rate", quick=True, mechanisms="none,intrinsic_plasticity,synaptic_scaling,lateral_inhibition")
    for overrides, seed in g.points():
        m, s, tau = overrides["mechanism"], overrides["strength"], overrides["sensor_tau"]
        rec = dict.fromkeys(TRADEOFF_MEASURES, 0.0)
        regulating = m in ("intrinsic_plasticity", "synaptic_scaling")
        rec.update(mechanism=m, strength=s, sensor_tau=tau, seed=seed, rate_end=5.0,
                   recovery_time=(2.0 / s + float(tau / second) + 0.01 * rng.random()) if regulating else math.nan,
                   decoding_accuracy_end=0.7 - 0.02 * s if regulating else 0.6,
                   oscillation_index=0.9 if s >= 10 else math.nan, runaway=0.0)
        recs.append(rec)
    return recs


def test_map_dataset_table_and_pareto_front(tmp_path):
    ds = collect(_records())
    assert ds["recovery_time"].dims == ("mechanism", "strength", "sensor_tau", "seed")
    assert list(ds["mechanism"].values) == ["none", "intrinsic_plasticity", "synaptic_scaling", "lateral_inhibition"]
    # lateral inhibition has no sensor: one point per strength, valid at every sensor tau
    lat = ds["decoding_accuracy_end"].sel(mechanism="lateral_inhibition", strength=1.0)
    assert np.all(lat.notnull())
    table = settings_table(ds)
    assert set(OBJECTIVES) <= set(table.columns)
    ip = table[table["mechanism"] == "intrinsic_plasticity"]
    assert len(ip) == 3 * 2 and ip["seeds"].eq(3).all()
    assert np.isinf(table.loc[table["mechanism"] == "none", "recovery_time"]).all()
    front = pareto_table(ds)
    ip_front = front[front["mechanism"] == "intrinsic_plasticity"]
    # fast recovery costs coding here and the strongest setting oscillates: the front keeps strength 1 (best
    # compromise), 0.1 (best coding) and 10 (fastest) at the short sensor tau
    assert set(ip_front["strength"]) == {0.1, 1.0, 10.0} and np.allclose(ip_front["sensor_tau"], 0.05)
    paths = write_table(front, tmp_path / "pareto")
    assert [p.name for p in paths] == ["pareto.csv", "pareto.txt"]
    import pandas as pd

    back = pd.read_csv(paths[0])
    assert len(back) == len(front) and "recovery_time" in back.columns
    picks = pick_settings(ds, "intrinsic_plasticity")
    assert picks["slow"][0] == 0.1 and picks["too fast"][0] == 10.0 and picks["best"][0] == 1.0


def test_map_figures_draw(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from homeonet.figures import save_figure

    ds = collect(_records())
    laws = {"recurrence": 0.5, "hebbian": 2.0, "harnack": [(35.8, 0.1)], "zenke": [(20.0, 0.4)]}
    figs = {"front": front_figure(ds), "stability": stability_figure(ds, laws=laws),
            "trajectories": trajectory_figure({("intrinsic_plasticity", lab): (np.arange(10.0), np.full(10, 5.0))
                                               for lab in ("slow", "best", "too fast")}, target=5.0, onset=3.0)}
    assert len(figs["front"].axes) >= 1 and len(figs["stability"].axes) == 2
    assert len(figs["trajectories"].axes) == 3
    for name, fig in figs.items():
        assert save_figure(fig, tmp_path / name, formats=("png",))[0].stat().st_size > 0
    with pytest.raises(HomeonetError, match="trajectories"):
        trajectory_figure({})


def test_one_point_of_the_rate_map_returns_every_measure():
    measures, results = evaluate_point("testbed_rate", {"mechanism": "intrinsic_plasticity", "duration": "4s",
                                                        "N_E": 40, "N_I": 10}, seed=3, target="numpy")
    assert set(measures) == set(TRADEOFF_MEASURES)
    print(f"\nrate test bed, intrinsic plasticity, 4 s: recovery {measures['recovery_time']:.2f} s, residual "
          f"{measures['residual_error']:.3f}, decoding {measures['decoding_accuracy_end']:.2f}, "
          f"{measures['wall_time_per_second']:.2f} s wall per simulated s")
    assert results.dataset.attrs["seed"] == 3 and results.dataset.attrs["param.N_E"] == 40
    # intrinsic plasticity at its reference setting brings the deprived units back within 10 % in 2 s
    assert measures["recovery_time"] < 2.0 and measures["residual_error"] < 0.1 and measures["runaway"] == 0
    assert measures["wall_time_per_second"] > 0 and 0 < measures["usage_entropy_end"] <= 1


def test_a_diverged_point_is_a_runaway_of_the_map(monkeypatch):
    """A run stopped by the divergence checks is recorded (runaway 1, the rest NaN), not raised."""
    import importlib

    from homeonet._validate import DivergenceError

    def diverge(net, duration, **kwargs):
        raise DivergenceError("population E ran away (400 Hz) by t = 1 s", "E", "rate", 1 * second)

    monkeypatch.setattr(importlib.import_module("homeonet.simulate"), "simulate", diverge)
    measures, results = evaluate_point("testbed_rate", {"mechanism": "none", "N_E": 20, "N_I": 5}, seed=0,
                                       target="numpy")
    assert results is None and measures["runaway"] == 1.0 and set(measures) == set(TRADEOFF_MEASURES)
    assert np.isnan(measures["recovery_time"]) and np.isnan(measures["decoding_accuracy_end"])


def test_map_from_a_sweep_tables_figures_and_trajectories(tmp_path):
    """The map's spec through the sweep engine's tasks (run in this process, as the engine's plain loop does),
    then the map, the Pareto table and the three figures from the product and the kept point results."""
    from homeonet import sweep
    from homeonet.tradeoffs import Grid, from_sweep, report, sweep_trajectories

    g = Grid("rate", ("none", "intrinsic_plasticity"), (1.0, 10.0), (50 * ms,), (0, 1, 2),
             {"duration": 2 * second, "N_E": 20, "N_I": 5})
    spec = {**g.spec(), "target": "numpy"}
    product = sweep._run_inline(spec, tmp_path / "sweep")
    assert (product["status"].values == "done").all()
    ds = from_sweep(product)
    assert ds["recovery_time"].dims == ("mechanism", "strength", "sensor_tau", "seed")
    # a diverged point (status 'diverged') is a runaway of the map, not a missing one
    marked = product.copy(deep=True)
    k = int(np.flatnonzero(marked["mechanism"].values == "intrinsic_plasticity")[-1])
    status = marked["status"].values.astype(object)  # (a '<U4' array of 'done' holds no longer word)
    status[k, 0] = "diverged"
    marked["status"] = (marked["status"].dims, status.astype(str))
    cell = {"mechanism": "intrinsic_plasticity", "strength": float(marked["strength"].values[k]),
            "seed": int(marked["seed"].values[0])}
    assert float(from_sweep(marked)["runaway"].sel(**cell).squeeze()) == 1.0
    assert float(ds["runaway"].sel(**cell).squeeze()) == 0.0
    assert ds["rate_end"].sel(mechanism="intrinsic_plasticity").notnull().sum() == 2 * 3
    traj, onset, target = sweep_trajectories(ds, tmp_path / "sweep" / "points", spec)
    assert {label for _, label in traj} == {"slow", "best", "too fast"} and onset == 1.0 and target == 5.0
    files = report(ds, tmp_path, traj, onset=onset, target=target, formats=("png",))
    assert {f.name for f in files} == {"tradeoffs.nc", "pareto.csv", "pareto.txt", "settings.csv", "settings.txt",
                                        "front.png", "stability.png", "trajectories.png"}


@pytest.mark.long
def test_tradeoffs_command_runs_the_map_on_the_sweep_engine(tmp_path, capsys):
    """'homeonet tradeoffs --quick' wiring on a real one-worker local cluster, with two tiny points per seed:
    the product, the tables and the figures are written, and a rerun resumes (nothing left to run)."""
    pytest.importorskip("distributed")
    from homeonet.cli import main

    args = ["tradeoffs", "--quick", "--mechanisms", "none,lateral_inhibition", "--set", "duration=2s",
            "--set", "N_E=20", "--set", "N_I=5", "--out", str(tmp_path), "--workers", "1", "--target", "numpy",
            "--quiet"]
    code = main(args)
    assert code == 0, capsys.readouterr().err
    names = {p.name for p in tmp_path.iterdir()}
    assert {"tradeoffs.nc", "pareto.csv", "pareto.txt", "settings.csv", "front.png", "stability.png"} <= names
    import xarray as xr

    ds = xr.load_dataset(tmp_path / "tradeoffs.nc")
    assert set(ds["mechanism"].values) == {"none", "lateral_inhibition"} and ds.sizes["seed"] == 3
    assert ds["rate_end"].sel(mechanism="none").notnull().sum() == 3 * ds.sizes["sensor_tau"]
    assert main(args[:-1]) == 0
    assert "0 to run" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["--mechanisms", "bogus"], "bogus"),
    (["--set", "strength=2"], "strength"),
    (["--seeds", "2"], "seeds"),
    (["--network", "spiking", "--quick"], "quick"),
])
def test_tradeoffs_command_bad_input_is_exit_2(args, needle, tmp_path, capsys):
    from homeonet.cli import main

    assert main(["tradeoffs", *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
