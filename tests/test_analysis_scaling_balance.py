"""Known-answer tests of homeonet.analysis.scaling (multiplicative-scaling test) and .balance (E/I)."""

import numpy as np
import pytest
from brian2 import Quantity, mV, nA, pA

from homeonet._validate import HomeonetError
from homeonet.analysis import balance as B
from homeonet.analysis import scaling as S


@pytest.fixture
def samples():
    rng = np.random.default_rng(12)
    control = rng.lognormal(0.0, 0.5, 1000)
    scaled = 1.8 * rng.lognormal(0.0, 0.5, 800)          # independent sample, multiplicatively scaled
    shifted = rng.lognormal(0.0, 0.5, 800) + 0.9          # additive shift of about the same mean change
    return control, scaled, shifted


def test_rank_order_fit_exact_line():
    c = np.array([0.5, 1.0, 2.0, 4.0, 3.0])
    fit = S.rank_order_fit(c * mV, (2 * c + 0.5) * mV)
    assert fit.slope == pytest.approx(2.0) and float(fit.intercept / mV) == pytest.approx(0.5)
    assert isinstance(fit.intercept, Quantity) and fit.rvalue == pytest.approx(1.0)


def test_multiplicative_sample_passes_and_additive_fails(samples):
    control, scaled, shifted = samples
    res = S.scaling_test(control, scaled)
    assert res.multiplicative
    # the fitted factor: ratio of two 800-1000-sample lognormal means, s.e. ~0.03 x 1.8
    assert res.factor == pytest.approx(1.8, abs=0.12)
    bad = S.scaling_test(control, shifted)
    assert not bad.multiplicative and bad.pvalue < 1e-3
    # the rank-order fit tells the two apart too: intercept ~0 for scaling, clearly positive for a shift
    assert abs(S.rank_order_fit(control, scaled).intercept) < 0.1
    assert S.rank_order_fit(control, shifted).intercept > 0.4


def test_divergence_index(samples):
    control, scaled, shifted = samples
    c = np.linspace(1, 10, 200)
    assert S.divergence_index(c, 2.5 * c) == pytest.approx(0.0, abs=1e-12)
    # sampled: the quantile ratios of two independent 1000/800 samples scatter by a few %
    assert S.divergence_index(control, scaled) < 0.08
    assert S.divergence_index(control, shifted) > 2 * S.divergence_index(control, scaled)


def test_matched_quantiles_equal_length():
    c, t = S.matched_quantiles(np.arange(10.0), np.arange(100.0))
    assert c.shape == t.shape == (10,) and t[0] == 0 and t[-1] == 99


@pytest.mark.parametrize("call, name", [
    (lambda: S.scaling_test([1.0, 2.0], [1.0, -2.0]), "control and treated"),
    (lambda: S.scaling_test([1.0, 2.0], [1.0, 2.0], alpha=1.5), "alpha"),
    (lambda: S.rank_order_fit([1.0], [1.0, 2.0]), "control"),
    (lambda: S.rank_order_fit([1.0, 2.0] * mV, [1.0, 2.0]), "treated"),
    (lambda: S.rank_order_fit([1.0, np.nan], [1.0, 2.0]), "control"),
    (lambda: S.divergence_index([1.0, 2.0], [1.0, 2.0], trim=0.7), "trim"),
    (lambda: B.ei_correlation(np.ones(5), np.ones(4)), "exc and inh"),
    (lambda: B.ei_correlation(np.ones(5) * nA, np.ones(5) * mV), "inh"),
    (lambda: B.ei_correlation(np.ones(5), np.ones(5), inhibition="neg"), "inhibition"),
    (lambda: B.net_to_total_ratio(np.ones(1), np.ones(1)), "exc"),
    (lambda: B.net_to_total_ratio(np.ones((3, 2)), np.ones((3, 2)), axis=2), "axis"),
])
def test_bad_input_one_line_naming_argument(call, name):
    with pytest.raises(HomeonetError) as err:
        call()
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(name)


# -- balance ----------------------------------------------------------------------------------------------------------

def test_balance_tracking_vs_independent():
    rng = np.random.default_rng(2)
    T, N = 2000, 50
    e = 1 + 0.3 * rng.normal(size=(T, N))
    tracked = 0.9 * e + 0.01 * rng.normal(size=(T, N))
    rho = B.ei_correlation(e * pA, tracked * pA)
    assert np.all(rho > 0.99)
    indep = 1 + 0.3 * rng.normal(size=(T, N))
    # independent signals: each rho has s.e. 1/sqrt(T) ~ 0.022; 0.1 is > 4 s.e.
    assert np.all(np.abs(B.ei_correlation(e, indep)) < 0.1)
    # net-to-total: exact balance 0, no inhibition 1, inhibition at half of excitation 1/3
    assert np.allclose(B.net_to_total_ratio(e, e), 0.0)
    assert np.allclose(B.net_to_total_ratio(np.abs(e), np.zeros_like(e)), 1.0)
    assert np.allclose(B.net_to_total_ratio(np.abs(e), 0.5 * np.abs(e)), 1 / 3)


def test_balance_sign_conventions_and_axis():
    e = np.abs(np.random.default_rng(3).normal(size=(100, 4))) + 1
    assert np.allclose(B.ei_correlation(e, -e, inhibition="signed"), 1.0)
    assert np.allclose(B.net_to_total_ratio(e, -e, inhibition="signed"), 0.0)
    assert np.allclose(B.ei_correlation(e.T, e.T, axis=1), B.ei_correlation(e, e))


def test_balance_from_state_monitor():
    from brian2 import Network, NeuronGroup, StateMonitor, ms

    G = NeuronGroup(3, "I_e = (1 + i) * (1.5 + sin(2*pi*t/(10*ms))) * mV : volt\n"
                       "I_i = 0.5 * I_e : volt")
    mon = StateMonitor(G, ["I_e", "I_i"], record=True)
    Network(G, mon).run(20 * ms)
    assert np.allclose(B.ei_correlation(mon, ("I_e", "I_i")), 1.0)
    assert np.allclose(B.net_to_total_ratio(mon, ("I_e", "I_i")), 1 / 3)
