"""The offline data sets: shapes, stratified fixed splits, determinism, no download, no side effects."""

import numpy as np
import pytest

from homeonet import datasets
from homeonet._validate import ParameterError


@pytest.mark.parametrize("name, shape, n_train, n_test", [
    ("digits", (8, 8), 1347, 450),
    ("mnist5k", (28, 28), 4000, 1000),
    ("mnist1d", (40,), 4000, 1000),
])
def test_shapes_splits_and_labels(name, shape, n_train, n_test):
    d = datasets.load(name)
    n_features = int(np.prod(shape))
    assert d.shape == shape and d.n_classes == 10
    assert d.x_train.shape == (n_train, n_features) and d.x_test.shape == (n_test, n_features)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert set(np.unique(d.y_train)) == set(range(10)) == set(np.unique(d.y_test))
    if d.image:  # intensities usable as firing rates
        assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    if name == "mnist5k":  # 500 images per class, stratified: 100 of each in the test set
        assert np.all(np.bincount(d.y_test) == 100) and np.all(np.bincount(d.y_train) == 400)


@pytest.mark.parametrize("name", ["digits", "mnist5k", "mnist1d"])
def test_same_call_same_data_and_global_rng_untouched(name):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a, b = datasets.load(name), datasets.load(name)
    assert np.array_equal(np.random.get_state()[1], before)  # mnist1d seeds numpy's global RNG internally
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)


def test_split_seed_changes_the_split_not_the_data():
    a, b = datasets.load("digits", split_seed=0), datasets.load("digits", split_seed=1)
    assert not np.array_equal(a.y_test, b.y_test)
    all_a = np.sort(np.concatenate([a.x_train, a.x_test]).sum(axis=1))
    all_b = np.sort(np.concatenate([b.x_train, b.x_test]).sum(axis=1))
    assert np.array_equal(all_a, all_b)


@pytest.mark.parametrize("kwargs, needle", [({"name": "mnist"}, "dataset must be one of"),
                                            ({"name": "digits", "split_seed": -1}, "split_seed"),
                                            ({"name": "digits", "test_fraction": 1.5}, "test_fraction")])
def test_bad_arguments_are_one_line(kwargs, needle):
    with pytest.raises(ParameterError, match=needle) as err:
        datasets.load(**kwargs)
    assert "\n" not in str(err.value)


def test_readme_names_every_source_and_licence():
    # the README's data-set table follows homeonet.datasets.DATASETS, where each source and licence is recorded
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("| `")}
    for name, (source, licence) in datasets.DATASETS.items():
        assert name in rows, name
        assert f"| {licence} |" in rows[name], name
        assert source.split(" (")[0].split(",")[0] in rows[name].replace("`", ""), name
