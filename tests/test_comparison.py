"""The Brian2 side of ``homeonet compare`` (homeonet.comparison): no torch needed."""

import math

import numpy as np
import pytest

from homeonet._validate import HomeonetError
from homeonet.comparison import COUNTERPARTS, MECHANISMS, METRICS, compare_brain, pair_figure, summary_table


@pytest.fixture(scope="module")
def brain():
    # 2 mechanisms x 1 seed, 3 s each (1 s transient, 40 test presentations): ~4 s with numpy
    import brian2

    brian2.prefs.codegen.target = "numpy"
    return compare_brain(("none", "intrinsic_plasticity"), seeds=1, duration=3.0, transient=1.0)


def test_compare_brain_shape_and_ranges(brain):
    assert brain.usage_entropy.dims == ("mechanism", "seed")
    assert list(brain.mechanism.values) == ["none", "intrinsic_plasticity"]
    for m in METRICS:
        assert np.isfinite(brain[m].values).all(), m
    for m in ("decoding_accuracy", "usage_entropy", "gini", "population_sparseness"):
        v = brain[m].values
        assert ((v >= 0) & (v <= 1)).all(), m
    pr = brain.participation_ratio.values
    assert ((pr >= 1) & (pr <= brain.attrs["n_hidden"])).all()
    # chance is 1/6 with 6 classes; the hidden layer carries the class in both conditions
    assert (brain.decoding_accuracy.values > 0.5).all()


def test_intrinsic_plasticity_equalizes_usage(brain):
    # Unregulated: log-normal input gains and threshold offsets leave some units silent and a few
    # dominant (entropy ~0.8, Gini ~0.6 over seeds 0-2). Intrinsic plasticity brings every unit to
    # the 5 Hz target, so usage is near uniform (entropy > 0.99 measured). A margin of 0.1 is ~10x the
    # seed-to-seed spread of the unregulated entropy and still half the measured gap.
    none = float(brain.usage_entropy.sel(mechanism="none", seed=0))
    ip = float(brain.usage_entropy.sel(mechanism="intrinsic_plasticity", seed=0))
    assert ip > none + 0.1
    assert ip > 0.95
    assert float(brain.gini.sel(mechanism="intrinsic_plasticity", seed=0)) < float(
        brain.gini.sel(mechanism="none", seed=0))
    # the set point is reached: mean rate within 10 % of 5 Hz
    assert float(brain.mean_rate.sel(mechanism="intrinsic_plasticity", seed=0)) == pytest.approx(5.0, rel=0.1)


def test_compare_brain_writes_tables(brain, tmp_path):
    import xarray as xr

    md = summary_table(brain)
    assert md.count("\n") == 4 and "| intrinsic_plasticity | neuron |" in md
    ds = compare_brain(["none"], seeds=1, duration=1.0, transient=0.5, out=tmp_path / "res")
    assert {p.name for p in (tmp_path / "res").iterdir()} == {"brain_compare.nc", "brain_compare.csv",
                                                               "brain_compare.md"}
    back = xr.load_dataset(tmp_path / "res" / "brain_compare.nc")
    np.testing.assert_allclose(back.usage_entropy.values, ds.usage_entropy.values)


@pytest.mark.parametrize("kwargs, name", [
    ({"mechanisms": ["bogus"]}, "mechanisms"),
    ({"mechanisms": []}, "mechanisms"),
    ({"seeds": 0}, "seeds"),
    ({"duration": -1}, "duration"),
    ({"duration": 2.0, "transient": 3.0}, "transient"),
])
def test_compare_brain_bad_input(kwargs, name):
    with pytest.raises(HomeonetError) as err:
        compare_brain(**kwargs)
    msg = str(err.value)
    assert msg.startswith(name) and "\n" not in msg


def test_counterparts_cover_ann_norms():
    assert set(COUNTERPARTS.values()) <= set(MECHANISMS)
    pytest.importorskip("torch")  # homeonet.ann needs it
    from homeonet.ann.train import NORMS

    assert set(NORMS) <= set(COUNTERPARTS)


def _fake_ann(norms, seeds=3):
    import xarray as xr

    rng = np.random.default_rng(0)
    shape = (len(norms), seeds)
    return xr.Dataset({m: (("norm", "seed"), rng.uniform(0.5, 1.0, shape))
                       for m in ("test_accuracy", "usage_entropy", "gini", "population_sparseness",
                                 "participation_ratio")},
                      coords={"norm": list(norms), "seed": np.arange(seeds)})


def test_pair_figure_bars(brain):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.patches import Rectangle

    ann = _fake_ann(["none", "batchnorm", "synaptic_scaling", "layernorm"])
    fig = pair_figure(ann, brain, metric="usage_entropy")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 4 + 2  # one per ANN norm and one per brain mechanism
    heights = sorted(round(b.get_height(), 6) for b in bars)
    expected = [ann.usage_entropy.sel(norm=n).mean().item() for n in ann.norm.values]
    expected += [brain.usage_entropy.sel(mechanism=m).mean().item() for m in brain.mechanism.values]
    np.testing.assert_allclose(heights, sorted(round(v, 6) for v in expected))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    # each brain bar follows the ANN bars of its scale
    assert labels.index("intrinsic plasticity") == labels.index("batchnorm") + 1
    assert labels[:2] == ["none", "none"]
    fig = pair_figure(ann, brain, metric="accuracy")
    assert len([p for p in fig.axes[0].patches if isinstance(p, Rectangle)]) == 6
    with pytest.raises(HomeonetError, match="^metric"):
        pair_figure(ann, brain, metric="bogus")
    with pytest.raises(HomeonetError, match="^ann_ds"):
        pair_figure(brain, brain)
    assert not math.isnan(fig.get_size_inches()[0])
