"""``homeonet compare`` (homeonet.comparison, homeonet.ann.cli): one pipeline for the ANN and the brain side.

The pipeline's bookkeeping (points saved and resumed, merge, interrupts, output checks, the shared
table) is tested with cheap stand-in methods registered like any other; the real methods run once,
small, on digits.
"""

import json
import math
import sys
import types

import numpy as np
import pytest

from homeonet import comparison as cmp
from homeonet._validate import OutputError, ParameterError, RunInterrupted

torch = pytest.importorskip("torch")


def _fake_result(dataset, seed, *, offset=0.0, progress=False, **options):
    return {"test_accuracy": 0.5 + 0.01 * seed + offset, "usage_entropy": 0.9, "gini": 0.1 + 0.01 * seed,
            "population_sparseness": 0.5, "participation_ratio": 3.0, "wall_time": 0.0}


@pytest.fixture
def fakes(monkeypatch):
    """Two stand-in methods, one per side, that count their calls."""
    calls = []
    methods = {}
    for name, side, scale in (("fake_ann:a", "ann", "neuron"), ("fake_brain:b", "brain", "neuron")):
        def run(dataset, seed=0, _name=name, **options):
            calls.append((_name, dataset, seed))
            return _fake_result(dataset, seed, **options)
        network, variant = name.split(":")
        methods[name] = cmp.Method(name, side, network, variant, scale, run, {"offset": 0.0})
    monkeypatch.setattr(cmp, "METHODS", {**cmp.METHODS, **methods})
    return calls


# ---------------------------------------------------------------- the pipeline

def test_points_are_saved_resumed_and_merged(fakes, tmp_path):
    ds = cmp.compare("digits", ["fake_ann:a"], 3, out=tmp_path)
    assert ds.accuracy.dims == ("dataset", "condition", "seed")
    np.testing.assert_allclose(ds.accuracy.sel(dataset="digits", condition="fake_ann:a").values, [50.0, 51.0, 52.0])
    assert len(list((tmp_path / "points").glob("*.json"))) == 3 and len(fakes) == 3
    # a second run with another method into the same folder keeps the first run's results (merge)
    ds = cmp.compare("digits", ["fake_brain:b"], 0, brain_seeds=2, out=tmp_path)
    assert set(ds.condition.values) == {"fake_ann:a", "fake_brain:b"} and len(fakes) == 5
    table = cmp.summary(ds)
    assert list(table["method"]) == ["a", "b"] and list(table["seeds"]) == [3, 2]
    # rerunning resumes: nothing is computed again
    cmp.compare("digits", ["fake_ann:a", "fake_brain:b"], 3, brain_seeds=2, out=tmp_path)
    assert len(fakes) == 5
    cmp.compare("digits", ["fake_ann:a"], 1, out=tmp_path, resume=False)
    assert len(fakes) == 6
    # other options are other points; the table shows the points made with the current options
    ds = cmp.compare("digits", ["fake_ann:a"], 1, out=tmp_path, options={"fake_ann": {"offset": 0.1}})
    assert len(fakes) == 7 and float(ds.accuracy.sel(condition="fake_ann:a", seed=0)) == pytest.approx(60.0)
    assert len(list((tmp_path / "points").glob("*.json"))) == 6  # nothing was discarded
    assert {p.name for p in tmp_path.iterdir()} == {"points", "compare.nc", "compare.csv", "compare.md"}


def test_one_table_one_spread_rule_accuracy_in_percent(fakes, tmp_path):
    cmp.compare("digits", ["fake_ann:a", "fake_brain:b"], 3, brain_seeds=1, out=tmp_path)
    import pandas as pd

    csv = pd.read_csv(tmp_path / "compare.csv")
    assert list(csv["side"]) == ["ann", "brain"]
    # mean and sample sd over seeds (ddof=1): accuracies 50, 51, 52 %
    assert csv.loc[0, "accuracy_mean"] == pytest.approx(51.0) and csv.loc[0, "accuracy_sd"] == pytest.approx(1.0)
    # one seed: no spread (NaN, an empty CSV cell; the Markdown table shows the mean alone)
    assert csv.loc[1, "accuracy_mean"] == pytest.approx(50.0) and math.isnan(csv.loc[1, "accuracy_sd"])
    md = [[c.strip() for c in line.strip("|").split("|")] for line in
          (tmp_path / "compare.md").read_text().splitlines()]
    assert md[0][:7] == ["dataset", "side", "network", "method", "scale", "seeds", "accuracy (%)"]
    assert md[2][6] == "51.00 ± 1.00" and md[3][6] == "50.00"
    back = __import__("xarray").load_dataset(tmp_path / "compare.nc")
    assert back.accuracy.attrs["units"] == "%" and list(back.side.values) == ["ann", "brain"]


def test_interrupt_keeps_finished_points_and_resumes(fakes, tmp_path, monkeypatch):
    real = cmp.METHODS["fake_ann:a"].run

    def flaky(dataset, seed=0, **options):
        if seed == 2:
            raise KeyboardInterrupt
        return real(dataset, seed=seed, **options)

    monkeypatch.setitem(cmp.METHODS, "fake_ann:a", cmp.METHODS["fake_ann:a"].__class__(
        **{**cmp.METHODS["fake_ann:a"].__dict__, "run": flaky}))
    with pytest.raises(RunInterrupted, match="after 2 of 4 points.*resume"):
        cmp.compare("digits", ["fake_ann:a"], 4, out=tmp_path)
    assert len(list((tmp_path / "points").glob("*.json"))) == 2
    assert not (tmp_path / "compare.nc").exists()  # no table that looks complete
    monkeypatch.setitem(cmp.METHODS, "fake_ann:a", cmp.METHODS["fake_ann:a"].__class__(
        **{**cmp.METHODS["fake_ann:a"].__dict__, "run": real}))
    cmp.compare("digits", ["fake_ann:a"], 4, out=tmp_path)
    assert [c[2] for c in fakes] == [0, 1, 2, 3]  # seeds 0 and 1 were not run again


def test_a_failed_point_is_named_and_the_others_go_on(fakes, tmp_path, monkeypatch):
    from homeonet._validate import DivergenceError

    real = cmp.METHODS["fake_ann:a"].run

    def diverging(dataset, seed=0, **options):
        if seed == 1:
            raise DivergenceError("E: v is NaN at t = 0.3 s")
        return real(dataset, seed=seed, **options)

    monkeypatch.setitem(cmp.METHODS, "fake_ann:a", cmp.METHODS["fake_ann:a"].__class__(
        **{**cmp.METHODS["fake_ann:a"].__dict__, "run": diverging}))
    with pytest.warns(RuntimeWarning, match="1 of 3 comparison points failed: digits fake_ann:a seed 1"):
        ds = cmp.compare("digits", ["fake_ann:a"], 3, out=tmp_path)
    acc = ds.accuracy.sel(dataset="digits", condition="fake_ann:a").values
    assert np.isnan(acc[1]) and acc[0] == 50.0 and acc[2] == 52.0  # a hole, not a missing row
    assert ds.attrs["complete"] == 0 and "DivergenceError: E: v is NaN" in ds.attrs["failed"]
    assert len(list((tmp_path / "points").glob("*.json"))) == 2
    # the saved table says so too, and a rerun tries the failed point again (and only it)
    import xarray as xr

    with xr.open_dataset(tmp_path / "compare.nc") as saved:
        assert saved.attrs["complete"] == 0
    monkeypatch.setitem(cmp.METHODS, "fake_ann:a", cmp.METHODS["fake_ann:a"].__class__(
        **{**cmp.METHODS["fake_ann:a"].__dict__, "run": real}))
    ds = cmp.compare("digits", ["fake_ann:a"], 3, out=tmp_path)
    assert ds.attrs["complete"] == 1 and [c[2] for c in fakes] == [0, 2, 1]
    # every point failing is an error, not an empty table
    monkeypatch.setitem(cmp.METHODS, "fake_ann:a", cmp.METHODS["fake_ann:a"].__class__(
        **{**cmp.METHODS["fake_ann:a"].__dict__, "run": lambda *a, **k: 1 / 0}))
    with pytest.raises(RuntimeError, match="every comparison point failed: digits fake_ann:a seed 7 "
                                           r"\(ZeroDivisionError"):
        cmp.compare("digits", ["fake_ann:a"], [7])


def test_a_method_returning_no_accuracy_is_a_failed_point(fakes, monkeypatch):
    real = cmp.METHODS["fake_ann:a"].run
    monkeypatch.setitem(cmp.METHODS, "fake_ann:a", cmp.METHODS["fake_ann:a"].__class__(
        **{**cmp.METHODS["fake_ann:a"].__dict__,
           "run": lambda dataset, seed=0, **o: {**real(dataset, seed=seed, **o), "test_accuracy": float("nan")}
           if seed == 0 else real(dataset, seed=seed, **o)}))
    with pytest.warns(RuntimeWarning, match="1 of 2 comparison points failed: .*test accuracy of nan"):
        ds = cmp.compare("digits", ["fake_ann:a"], 2)
    assert ds.attrs["complete"] == 0


def test_unwritable_or_colliding_out_is_refused_before_work(fakes, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="^out must be a writable folder"):
        cmp.compare("digits", ["fake_ann:a"], 1, out=blocker / "sub")
    (tmp_path / "res" / "compare.nc").mkdir(parents=True)
    with pytest.raises(OutputError, match="compare.nc.*not a file"):
        cmp.compare("digits", ["fake_ann:a"], 1, out=tmp_path / "res")
    with pytest.raises(OutputError):
        cmp.compare("digits", ["fake_ann:a"], 1, out="")
    assert fakes == []


@pytest.mark.parametrize("kwargs, start", [
    ({"methods": "bogus"}, "methods"), ({"datasets": "imagenet"}, "dataset"), ({"datasets": "mnist"}, "dataset"),
    ({"seeds": -1}, "seeds"), ({"brain_seeds": 1.5}, "brain_seeds"), ({"options": {"mlp": {"epoch": 3}}}, "options"),
    ({"options": {"rnn": {}}}, "options"), ({"methods": "cnn:none", "datasets": "mnist1d"}, "methods"),
])
def test_bad_arguments_one_line(kwargs, start):
    with pytest.raises(ParameterError) as info:
        cmp.compare(**{"datasets": "digits", "methods": "mlp:none", "seeds": 1, **kwargs})
    assert str(info.value).startswith(start) and "\n" not in str(info.value)


def test_select_and_scales():
    from homeonet.ann.train import NORMS

    assert set(cmp.ANN_SCALES) == set(NORMS) and set(cmp.COUNTERPARTS) == set(NORMS)
    assert set(cmp.COUNTERPARTS.values()) <= set(cmp.MECHANISMS)
    assert cmp.COUNTERPARTS["batchnorm"] == "intrinsic_plasticity" and cmp.COUNTERPARTS["weightnorm"] == "synaptic_scaling"
    assert [m.name for m in cmp.select("rate")] == [f"rate:{m}" for m in cmp.MECHANISMS]
    assert len(cmp.select("ann")) == 2 * len(NORMS)
    assert [m.name for m in cmp.select("mlp:none,rate:none,mlp:none")] == ["mlp:none", "rate:none"]
    assert not cmp.METHODS["cnn:none"].applies("mnist1d") and cmp.METHODS["mlp:none"].applies("mnist1d")


def test_diehl_cook_variants_register_as_brain_methods(monkeypatch, tmp_path):
    # the agreed interface of homeonet.models.diehl_cook: VARIANTS and evaluate(dataset, variant, *, seed, ...)
    seen = []
    fake = types.ModuleType("homeonet.models.diehl_cook")
    fake.VARIANTS = {"full": "all three", "no_threshold": "without the adaptive threshold",
                     "threshold_only": "adaptive threshold alone"}

    def evaluate(dataset, variant="full", *, neurons=100, n_train=None, n_test=None, seed=0, device="runtime",
                 progress=False):
        seen.append((dataset, variant, seed, neurons))
        return {"test_accuracy": 0.8, "usage_entropy": 0.95, "gini": 0.2, "population_sparseness": 0.3,
                "participation_ratio": 12.0, "wall_time": 1.0}

    fake.evaluate = evaluate
    monkeypatch.setitem(sys.modules, "homeonet.models.diehl_cook", fake)
    import homeonet.models

    monkeypatch.setattr(homeonet.models, "diehl_cook", fake, raising=False)  # `from homeonet.models import ...`
    # the real variants (registered at import) are replaced by the stand-in's
    monkeypatch.setattr(cmp, "METHODS", {k: v for k, v in cmp.METHODS.items() if not k.startswith("diehl_cook:")})
    cmp._register_diehl_cook()
    assert cmp.METHODS["diehl_cook:threshold_only"].scale == "neuron"
    assert cmp.METHODS["diehl_cook:full"].scale == "all" and cmp.METHODS["diehl_cook:full"].side == "brain"
    assert not cmp.METHODS["diehl_cook:full"].applies("mnist1d")
    ds = cmp.compare("digits", "diehl_cook", 0, brain_seeds=1, out=tmp_path,
                     options={"diehl_cook": {"neurons": 25}})
    assert sorted(seen) == [("digits", v, 0, 25) for v in sorted(fake.VARIANTS)]
    assert float(ds.accuracy.sel(dataset="digits", condition="diehl_cook:full", seed=0)) == pytest.approx(80.0)


# ---------------------------------------------------------------- the real methods, small

@pytest.fixture(scope="module")
def real(tmp_path_factory):
    # 2 ANN methods x 2 seeds (1 epoch on digits) and 2 rate-network mechanisms x 1 seed (numpy target,
    # 20 hidden units, 20 + 100 + 60 presentations of 50 ms): ~15 s
    import brian2

    brian2.prefs.codegen.target = "numpy"
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("compare")
    ds = cmp.compare("digits", ["mlp:none", "mlp:batchnorm", "rate:none", "rate:intrinsic_plasticity"], 2,
                     brain_seeds=1, out=out, options={"mlp": {"epochs": 1}, "rate": {
                         "n_hidden": 20, "n_adapt": 20, "n_fit": 100, "n_test": 60}})
    return ds, out


def test_both_sides_measured_on_the_same_samples(real):
    ds, out = real
    sel = ds.sel(dataset="digits")
    assert list(ds.condition.values) == ["mlp:none", "rate:none", "mlp:batchnorm", "rate:intrinsic_plasticity"]
    acc = sel.accuracy.mean("seed")
    # chance is 10 %: both sides carry the digit (the MLP's own output after one epoch, 73-88 % measured; a
    # linear read-out of the rate network, 62-73 %)
    assert (acc > 40).all()
    for m in ("usage_entropy", "gini", "population_sparseness"):
        v = sel[m].values[np.isfinite(sel[m].values)]
        assert ((v >= 0) & (v <= 1)).all(), m
    # the unregulated rate network is deliberately unequal (log-normal gains, threshold offsets); intrinsic
    # plasticity brings every unit to its 5 Hz target: entropy 0.88 -> 0.9999 and Gini 0.43 -> 0.02 measured
    # on digits; 0.1 is ~10x the seed-to-seed spread of the unregulated entropy
    none, ip = (float(sel.usage_entropy.sel(condition=m, seed=0)) for m in ("rate:none", "rate:intrinsic_plasticity"))
    assert ip > none + 0.1 and ip > 0.95
    assert float(sel.gini.sel(condition="rate:intrinsic_plasticity", seed=0)) < float(sel.gini.sel(condition="rate:none",
                                                                                                seed=0))


def test_rate_network_uses_the_data_set_samples(monkeypatch):
    # the inputs are the digits themselves: the schedule's rates are pixel intensities times rate_max
    import brian2

    from homeonet import datasets
    from homeonet.models import networks

    brian2.prefs.codegen.target = "numpy"
    seen = {}
    real_ff = networks.feedforward

    def spy(layers, neuron, schedule, **kw):
        seen["rates"] = np.array(schedule.rates.values)
        return real_ff(layers, neuron, schedule, **kw)

    monkeypatch.setattr("homeonet.models.feedforward", spy)
    cmp.rate_network("digits", 0, n_hidden=5, n_adapt=2, n_fit=20, n_test=3, presentation=0.02)
    d = datasets.load("digits")
    rows = seen["rates"] / 40.0
    assert rows.shape == (25, 64)
    assert all(np.isclose(d.x_train, r).all(axis=1).any() for r in rows[:22])  # training images, then test
    assert all(np.isclose(d.x_test, r).all(axis=1).any() for r in rows[22:])


def test_brian2_stop_is_an_interrupt(monkeypatch):
    # one Ctrl-C during a Brian2 run stops it at the current step (Brian2's handler); the comparison must not
    # take the shortened run for a finished one (before: the interrupt was swallowed, exit status 0)
    import importlib

    import brian2

    sim = importlib.import_module("homeonet.simulate")
    brian2.prefs.codegen.target = "numpy"
    real_sim = sim.simulate

    def stopped(net, duration, **kw):
        return real_sim(net, duration / 2, **kw)

    monkeypatch.setattr(sim, "simulate", stopped)
    with pytest.raises(RunInterrupted, match="stopped at"):
        cmp.rate_network("digits", 0, n_hidden=5, n_adapt=2, n_fit=20, n_test=4, presentation=0.02)


def test_pair_figure(real):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.patches import Rectangle

    ds, _ = real
    fig = cmp.pair_figure(ds, "usage_entropy")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 4  # one per method
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["none", "none", "batchnorm", "intrinsic plasticity"]  # each brain bar after the ANN bars of its scale
    heights = [b.get_height() for b in bars]
    np.testing.assert_allclose(heights, ds.usage_entropy.sel(dataset="digits").mean("seed").values)
    with pytest.raises(ParameterError, match="^metric"):
        cmp.pair_figure(ds, "bogus")


# ---------------------------------------------------------------- the command line

def _main(args, capsys):
    from homeonet.cli import main

    code = main(["compare", *args])
    return code, capsys.readouterr()


@pytest.mark.parametrize("args, option", [
    (["--seeds", "-1"], "--seeds"), (["--seeds", "x"], "--seeds"), (["--epochs", "0"], "--epochs"),
    (["--norms", "none,bogus"], "--norms"), (["--model", "rnn"], "--model"), (["--dataset", "imagenet"], "--dataset"),
    (["--brain", "bogus"], "--brain"), (["--brain", "mlp:none"], "--brain"), (["--brain-seeds", "-2"], "--brain-seeds"),
    (["--dataset", "mnist"], "--dataset"), (["--dataset", "mnist1d", "--model", "cnn", "--brain-seeds", "0"], "nothing"),
])
def test_cli_bad_options_exit_2_one_line(args, option, capsys, tmp_path):
    code, out = _main([*args, "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and out.err.count("\n") == 1 and option in out.err, out.err


def test_cli_unwritable_out_before_training(capsys, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(cmp, "METHODS", {n: m.__class__(**{**m.__dict__, "run": None}) for n, m in cmp.METHODS.items()})
    code, out = _main(["--out", str(tmp_path / "file" / "x"), "--quiet"], capsys)
    assert code == 2 and out.err.startswith("homeonet compare: --out must be a writable folder") and "\n" not in \
        out.err.rstrip("\n")


def test_cli_interrupt_exits_130(capsys, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise RunInterrupted("interrupted after 3 of 9 points; they are kept in 'x': run the same command again")

    monkeypatch.setattr(cmp, "compare", interrupted)
    code, out = _main(["--out", str(tmp_path), "--quiet"], capsys)
    assert code == 130 and "3 of 9 points" in out.err and out.err.count("\n") == 1


def test_cli_exits_1_naming_failed_points(fakes, capsys, tmp_path, monkeypatch):
    real_compare = cmp.compare

    def with_a_failure(*args, **kwargs):  # the fake methods, one of whose points fails
        monkeypatch.setitem(cmp.METHODS, "fake_ann:a", cmp.METHODS["fake_ann:a"].__class__(
            **{**cmp.METHODS["fake_ann:a"].__dict__, "run": lambda dataset, seed=0, **o: _fake_result(dataset, seed + 0 / seed)}))
        return real_compare("digits", ["fake_ann:a"], 2, out=kwargs["out"])

    monkeypatch.setattr(cmp, "compare", with_a_failure)
    code, out = _main(["--out", str(tmp_path), "--quiet"], capsys)
    assert code == 1 and out.err.count("\n") == 1
    assert "some points failed" in out.err and "digits fake_ann:a seed 0 (ZeroDivisionError" in out.err
    assert (tmp_path / "compare.nc").exists()  # the table of the others is written


def test_cli_compare_writes_table_and_figure(capsys, tmp_path):
    torch.set_num_threads(1)
    code, out = _main(["--norms", "none", "--seeds", "1", "--epochs", "1", "--brain-seeds", "0", "--quiet",
                       "--out", str(tmp_path)], capsys)
    assert code == 0, out.err
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.out.splitlines() if line.startswith("|")]
    assert ["digits", "ann", "mlp", "none", "none", "1"] in [r[:6] for r in rows]
    assert {p.name for p in tmp_path.iterdir()} == {"points", "compare.nc", "compare.csv", "compare.md",
                                                    "compare_pairs.png"}
    point = json.loads(next((tmp_path / "points").glob("*.json")).read_text())
    assert point["options"]["epochs"] == 1 and point["method"] == "mlp:none"
