"""Network-scale mechanism: GlobalHomeostasis (validation test 6)."""

import numpy as np
import pytest
from brian2 import Hz, Network, StateMonitor, TimedArray, ms, second

from homeonet import HomeonetError
from homeonet.mechanisms import GlobalHomeostasis
from homeonet.models import LIF, RateNeuron, recurrent_ei


@pytest.mark.parametrize("kwargs, word", [
    ({"gamma": -5 * Hz}, "gamma"),
    ({"tau_H": 0 * second}, "tau_H"),
    ({"tau_G": 0 * ms}, "tau_G"),
    ({"G_min": 0}, "G_min"),
    ({"G_max": 0.5}, "G_max"),
    ({"hook": "not a hook"}, "hook"),
])
def test_bad_parameters_raise_one_line_naming_them(kwargs, word):
    with pytest.raises(HomeonetError) as err:
        GlobalHomeostasis(**kwargs)
    assert str(err.value).startswith(word) and "\n" not in str(err.value)


def _population_rate(spikes, n, t0, t1):
    t = np.array(spikes.t / second)
    return np.sum((t >= t0) & (t < t1)) / n / (t1 - t0)


def test_global_homeostasis_restores_the_set_point_after_an_input_step():
    """Test 6: a recurrent E/I network, input rate x1.5 at 1 s; the E rate returns to gamma."""
    gamma = 5.0
    glob = GlobalHomeostasis(gamma=gamma * Hz, tau_H=100 * ms, tau_G=500 * ms)
    step = TimedArray([1.0, 1.0, 1.5, 1.5, 1.5, 1.5], dt=0.5 * second)
    net = recurrent_ei(LIF(), N_E=200, N_I=50, p=0.1, N_in=100, rate_in=150 * Hz, modulation=step,
                       mechanisms_E=[glob])
    E = net["E"]
    net.add(glob.attach(E))
    pool = glob.pool_of(E)
    mon = StateMonitor(pool, ["H", "G"], record=0, dt=10 * ms)
    net.add(mon)
    net.run(3 * second)
    spikes = net["spikes_E"]
    before = _population_rate(spikes, 200, 0.5, 1.0)
    jump = _population_rate(spikes, 200, 1.0, 1.1)
    after = _population_rate(spikes, 200, 2.0, 3.0)
    G = np.array(mon.G[0])
    print(f"global homeostasis: before {before:.2f} Hz, first 100 ms after step {jump:.2f} Hz, "
          f"2-3 s {after:.2f} Hz; G {G[95]:.3f} -> {G[-1]:.3f}")
    assert jump > 1.3 * gamma                 # the step is a real perturbation (rate jumps by > 30 %)
    # the criterion: back within 10 % of the set point (1-s count over 200 neurons: ~2 % error)
    assert abs(after - gamma) / gamma < 0.10
    assert abs(before - gamma) / gamma < 0.10  # and it was there before the step
    assert G[-1] < G[95]                     # by turning the gain down
    assert 0.01 <= G.min() and G.max() <= 100  # within its bounds


def test_global_homeostasis_rate_layer_gain_converges():
    """Rate neurons: the summed pool sees the mean rate; the gain integrates until it equals gamma."""
    glob = GlobalHomeostasis(gamma=10 * Hz, tau_H=20 * ms, tau_G=100 * ms)
    layer = RateNeuron().group(10, mechanisms=[glob])
    layer.I_ext = np.linspace(1, 20, 10) * Hz        # mean drive 10.5 Hz: steady gain 10/10.5
    net = Network(layer, *glob.attach(layer))
    net.run(3 * second)
    assert float(np.mean(layer.r / Hz)) == pytest.approx(10, rel=1e-3)   # integral control: no offset
    assert float(glob.pool_of(layer).G[0]) == pytest.approx(10 / 10.5, rel=1e-3)


def test_global_homeostasis_bounds_stop_the_integrator():
    glob = GlobalHomeostasis(gamma=10 * Hz, tau_H=20 * ms, tau_G=50 * ms, G_max=2.0)
    layer = RateNeuron().group(5, mechanisms=[glob])
    layer.I_ext = 1 * Hz                             # needs a gain of 10: beyond G_max
    net = Network(layer, *glob.attach(layer))
    net.run(1 * second)
    # Euler steps can overshoot the bound by at most one step's growth (dt/tau_G * G ~ 0.4 %)
    assert float(glob.pool_of(layer).G[0]) == pytest.approx(2.0, rel=5e-3)


def test_global_factor_without_hook_leaves_gain_alone():
    glob = GlobalHomeostasis(gamma=10 * Hz, hook=None)
    layer = RateNeuron().group(5, mechanisms=[glob])
    layer.I_ext = 4 * Hz
    net = Network(layer, *glob.attach(layer))
    net.run(200 * ms)
    assert np.allclose(layer.r / Hz, 4, rtol=1e-6)     # gain stays 1: 20 time constants to the fixed point
    assert "glob_H" in layer.equations.names and "glob_G" in layer.equations.names


def test_global_factor_gates_inhibitory_stdp_with_the_pool_value():
    """The third factor: InhibitorySTDP(factor='glob_H_post/Hz') scales every update by the pool's H.

    Known spikes as in the rule's own test (pre at 10 and 50 ms, post forced at ~30 ms); the sensors
    start at 3 Hz with tau_H = 1000 s, so H = 3 Hz throughout (each spike adds 1/tau_H = 0.001 Hz)."""
    from brian2 import nS

    from homeonet.mechanisms import InhibitorySTDP, RateSensor
    from known_spikes import istdp_known_spikes

    def run(factor):
        sensor = RateSensor(tau=1000 * second, initial=3 * Hz)
        glob = GlobalHomeostasis(gamma=3 * Hz, tau_H=1000 * second, tau_G=10 * second, period=5 * ms, hook=None,
                                 sensor=sensor)
        istdp = InhibitorySTDP(rho0=5 * Hz, tau=20 * ms, eta=1 * nS, w_max=100 * nS, factor=factor)
        S, post, _ = istdp_known_spikes(istdp, [10, 50], [30], 60 * ms, post_mechanisms=[glob])
        return float(S.w[0] / nS) - 10, float(glob.pool_of(post).H[0] / Hz)

    plain, _ = run(None)
    gated, H = run("glob_H_post/Hz")
    assert H == pytest.approx(3, rel=1e-3)            # the pool held H at the sensors' 3 Hz (+1 spike / 1000 s)
    assert plain != 0                                 # the rule did act on these spikes
    # every update is multiplied by H/Hz = 3; no clipping is reached (w stays far inside [0, 100] nS)
    assert gated == pytest.approx(3 * plain, rel=1e-3)
