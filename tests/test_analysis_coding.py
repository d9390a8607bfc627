"""Known-answer tests of homeonet.analysis.coding, with scikit-learn as the decoding oracle."""

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from brian2 import Hz, ms, second

from homeonet._validate import HomeonetError
from homeonet.analysis import coding as C
from homeonet.results import Results


# -- usage / load balancing ------------------------------------------------------------------------------------------

def test_uniform_and_one_hot_usage():
    uniform = np.full((30, 16), 3.0)
    assert C.usage_entropy(uniform) == pytest.approx(1.0)
    assert C.gini(uniform) == pytest.approx(0.0, abs=1e-12)
    one_hot = np.zeros((30, 16))
    one_hot[:, 4] = 2.0
    assert C.usage_entropy(one_hot) == pytest.approx(0.0, abs=1e-12)
    assert C.gini(one_hot) == pytest.approx(1 - 1 / 16)


def test_entropy_and_gini_known_values():
    p = np.array([0.5, 0.25, 0.25])
    assert C.usage_entropy(p) == pytest.approx(1.5 / np.log2(3))
    x = np.random.default_rng(0).gamma(2.0, size=50)
    naive = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size ** 2 * x.mean())   # definition
    assert C.gini(x) == pytest.approx(naive)
    # usage is the share of mean activity; signed activations need absolute=True
    assert np.allclose(C.usage([[1.0, -3.0]], absolute=True), [0.25, 0.75])
    with pytest.raises(HomeonetError, match="^responses must be >= 0"):
        C.usage([[1.0, -3.0]])


def test_sparseness_extremes_and_definition():
    X = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 5.0, 0.0], [1.0, 2.0, 3.0, 4.0]])
    s = C.population_sparseness(X)
    assert s[0] == pytest.approx(0.0, abs=1e-12) and s[1] == pytest.approx(1.0)
    r = X[2]
    a = r.mean() ** 2 / (r ** 2).mean()
    assert s[2] == pytest.approx((1 - a) / (1 - 1 / 4))
    life = C.lifetime_sparseness(X.T)          # the same numbers, seen as units across samples
    assert np.allclose(life, s)


def test_participation_ratio_isotropic_gaussian():
    rng = np.random.default_rng(1)
    d, n = 10, 5000
    X = rng.normal(size=(n, d))
    # finite samples: E[tr S^2] ~ d + d^2/n, so PR ~ d / (1 + d/n) = 9.98; the sampling s.d. of PR is
    # ~ d * sqrt(2/n) / sqrt(d) ~ 0.06, so 0.3 is ~5 s.d.
    assert C.participation_ratio(X) == pytest.approx(d, abs=0.3)
    # d-dimensional data embedded in 200 units (units > samples path) keeps its dimension
    Q, _ = np.linalg.qr(rng.normal(size=(200, d)))
    assert C.participation_ratio(X[:150] @ Q.T) == pytest.approx(C.participation_ratio(X[:150]), rel=1e-9)


def test_participation_ratio_matches_eigenvalues():
    X = np.random.default_rng(2).normal(size=(300, 6)) * np.array([5, 3, 2, 1, 0.5, 0.1])
    lam = np.linalg.eigvalsh(np.cov(X, rowvar=False))
    assert C.participation_ratio(X) == pytest.approx(lam.sum() ** 2 / (lam ** 2).sum())


# -- decoding ----------------------------------------------------------------------------------------------------------

def test_separable_classes_decode_perfectly():
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(4), 30)
    X = rng.normal(size=(120, 8)) + 6 * np.eye(8)[y * 2]
    assert C.decoding_accuracy(X, y) == 1.0


def test_random_labels_decode_at_chance():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(200, 5)), rng.permutation(np.repeat([0, 1], 100))
    # chance is 0.5; 200 test decisions give a s.e. ~0.035, so 0.15 is > 4 s.e.
    assert abs(C.decoding_accuracy(X, y) - 0.5) < 0.15


def test_decoding_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(5)
    y = np.repeat([0, 1, 2], 40)
    X = rng.normal(size=(120, 6)) + 0.8 * np.eye(6)[y]
    ours, scores = C.decoding_accuracy(X, y, cv=4, seed=11, return_scores=True)
    ref = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)), X, y,
                          cv=StratifiedKFold(4, shuffle=True, random_state=11))
    assert np.allclose(scores, ref) and ours == pytest.approx(ref.mean())
    assert 0.4 < ours < 1.0     # partly overlapping classes: above chance (1/3), below perfect


# -- information and discriminability --------------------------------------------------------------------------------

def test_mutual_information_deterministic_and_independent():
    y = np.repeat(np.arange(4), 100)
    det = np.stack([y + 0.0, -3.0 * y], axis=1)
    assert np.allclose(C.mutual_information(det, y, n_bins=4, correction="none"), 2.0)
    # PT bias of a deterministic code is -(S-1)/(2N ln2) = -3/(800 ln2) ~ -0.0054 bits
    assert np.allclose(C.mutual_information(det, y, n_bins=4), 2.0 + 3 / (800 * np.log(2)))
    rng = np.random.default_rng(6)
    noise = rng.normal(size=(400, 60))
    plug = C.mutual_information(noise, y, n_bins=8, correction="none")
    pt = C.mutual_information(noise, y, n_bins=8)
    sh = C.mutual_information(noise, y, n_bins=8, correction="shuffle", n_shuffles=10)
    # plug-in bias ~ (S-1)(B-1)/(2N ln2) = 21/(800 ln2) ~ 0.038 bits; the corrected means over 60 units
    # are ~0 with s.e. ~0.003
    assert np.mean(plug) == pytest.approx(21 / (800 * np.log(2)), abs=0.01)
    assert abs(np.mean(pt)) < 0.01 and abs(np.mean(sh)) < 0.01


def test_decoding_information_bounds():
    rng = np.random.default_rng(7)
    y = np.repeat(np.arange(4), 40)
    X = rng.normal(size=(160, 4)) + 10 * np.eye(4)[y]
    assert C.decoding_information(X, y, correction="none") == pytest.approx(2.0)
    assert C.decoding_information(rng.normal(size=(160, 4)), y) < 0.2


def test_dprime_known_separation():
    rng = np.random.default_rng(8)
    n = 20000
    y = np.repeat([0, 1], n)
    x = rng.normal(size=2 * n) + 2.0 * y
    classes, D = C.discriminability(x, y)
    # two unit-variance Gaussians 2 s.d. apart: d' = 2; with 2e4 samples each the s.e. is ~0.015
    assert D[0, 1] == pytest.approx(2.0, abs=0.06) and D[1, 0] == D[0, 1] and D[0, 0] == 0
    # two independent units, each 1 s.d. apart: population d' = sqrt(2)
    X = rng.normal(size=(2 * n, 2)) + y[:, None]
    assert C.discriminability(X, y)[1][0, 1] == pytest.approx(np.sqrt(2), abs=0.05)
    assert list(classes) == [0, 1]


# -- response matrix ---------------------------------------------------------------------------------------------------

def _spiking_results():
    idx = np.array([0, 0, 1, 2, 1, 1, 2])
    t = np.array([0.01, 0.05, 0.08, 0.12, 0.15, 0.25, 0.28])
    ds = xr.Dataset({"spike_index_E": ("spike_E", idx.astype(np.int32), {"n_neurons": 3}),
                     "spike_time_E": ("spike_E", t, {"units": "second"})})
    ds.attrs["duration"] = 0.3
    return Results(ds)


def test_response_matrix_counts_spikes_per_presentation():
    res = _spiking_results()
    sched = SimpleNamespace(onsets=np.array([0.0, 0.1, 0.2]) * second, labels=np.array([1, 0, 1]),
                            duration=100 * ms)
    X, y = C.response_matrix(res, sched, "E", statistic="count")
    assert np.array_equal(X, [[2, 1, 0], [0, 1, 1], [0, 1, 1]]) and list(y) == [1, 0, 1]
    Xr, _ = C.response_matrix(res, sched, statistic="rate", offset=50 * ms)
    # windows [0.05, 0.1), [0.15, 0.2), [0.25, 0.3): rates = counts / 0.05 s
    assert np.allclose(Xr, np.array([[1, 1, 0], [0, 1, 0], [0, 1, 1]]) / 0.05)


def test_response_matrix_rate_population_and_real_schedule():
    from homeonet.models.stimuli import class_patterns

    sched = class_patterns(n_classes=3, n_inputs=10, seed=1).sequence(6, duration=50 * ms, seed=2)
    tt = np.arange(0, 0.3, 0.01)
    k = np.round(tt / 0.01).astype(int) // 5                                  # presentation of each sample
    r = np.stack([k, 2 * k], axis=1).astype(float)   # constant within each presentation
    ds = xr.Dataset({"L1_r": (("t_L1", "neuron_L1"), r)}, coords={"t_L1": tt})
    ds.attrs["duration"] = 0.3
    X, y = C.response_matrix(Results(ds), sched)
    assert np.allclose(X, np.stack([np.arange(6), 2 * np.arange(6)], axis=1))
    assert np.array_equal(y, sched.labels)
    with pytest.raises(HomeonetError, match="^statistic"):
        C.response_matrix(Results(ds), sched, statistic="count")


# -- bad input -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: C.usage_entropy([[np.nan, 1.0]]), "responses"),
    (lambda: C.usage_entropy([[0.0, 0.0]]), "responses"),
    (lambda: C.usage_entropy([1.0]), "responses"),
    (lambda: C.participation_ratio(np.ones((1, 3))), "responses"),
    (lambda: C.decoding_accuracy(np.ones((10, 2)), np.zeros(9)), "labels"),
    (lambda: C.decoding_accuracy(np.ones((10, 2)), np.zeros(10)), "labels"),
    (lambda: C.decoding_accuracy(np.ones((6, 2)), np.repeat([0, 1], 3), cv=5), "cv"),
    (lambda: C.mutual_information(np.ones((4, 2)), [0, 1, 0, 1], n_bins=1), "n_bins"),
    (lambda: C.mutual_information(np.ones((4, 2)), [0, 1, 0, 1], correction="bayes"), "correction"),
    (lambda: C.discriminability(np.ones((3, 2)), [0, 0, 1]), "labels"),
    (lambda: C.contrast_response_fit([0, 1, 2, 4], [0, 1, 2, 3]), "contrasts"),
    (lambda: C.contrast_response_fit([1, 2, 4], [1, 2, 3]), "contrasts"),
    (lambda: C.response_matrix(_spiking_results(), onsets=[0.0, 0.1], labels=[0], duration=0.1), "labels"),
    (lambda: C.response_matrix(_spiking_results(), onsets=[0.0], labels=[0], duration=-0.1), "duration"),
    (lambda: C.response_matrix(_spiking_results(), onsets=[0.0], labels=[0], duration=0.1, offset=0.2),
     "offset"),
    (lambda: C.response_matrix(_spiking_results(), onsets=[0.0], labels=[0]), "schedule"),
    # the run ends at 0.3 s: a window [0.25, 0.35) would count unrecorded time as silence
    (lambda: C.response_matrix(_spiking_results(), onsets=[0.0, 0.25], labels=[0, 1], duration=0.1), "onsets"),
    (lambda: C.response_matrix(_spiking_results(), population="X", onsets=[0.0], labels=[0], duration=0.1),
     "population"),
])
def test_bad_input_one_line_naming_argument(call, name):
    with pytest.raises(HomeonetError) as err:
        call()
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(name)


def test_quantity_responses_accepted():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert C.usage_entropy(X * Hz) == pytest.approx(C.usage_entropy(X))
