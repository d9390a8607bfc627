"""InhibitorySTDP's deferred form: the same weights as the per-spike rule, without an on_post pathway."""

import numpy as np
import pytest
from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, mV, ms, second

from homeonet import HomeonetError, connect, synapses
from homeonet.mechanisms import InhibitorySTDP
from homeonet.models import LIF
from devices import STANDALONE


def _network(deferred, duration, off=None):
    """Poisson inhibition onto LIF neurons driven by Poisson excitation; I->E weights learn fast.

    With *off*, the rule is off (eta = 0) for that long first, then switched on (after ``settle``).
    """
    import brian2

    brian2.start_scope()
    brian2.seed(11)
    eta = 0.2 * mV
    istdp = InhibitorySTDP(rho0=5 * Hz, eta=0 * mV if off else eta, w_max=3 * mV, deferred=deferred,
                           flush_period=50 * ms)
    E = LIF().group(20, mechanisms=[istdp] if deferred else [], name="E")
    exc = PoissonGroup(200, 20 * Hz, name="exc")
    inh = PoissonGroup(50, 20 * Hz, name="inh")
    S_e = connect(synapses(exc, E, "w : volt", on_pre="I_e_post += w"), p=0.5)
    S_e.w = 2.5 * mV
    S_i = connect(synapses(inh, E, "w : volt", on_pre="I_i_post += w", mechanisms=[istdp]), p=0.5)
    S_i.w = "0.5*mV + rand()*mV"
    w0 = np.array(S_i.w / mV)
    net = Network(E, exc, inh, S_e, S_i, SpikeMonitor(E, name="spikes_E"))
    if off:
        net.run(off)
        istdp.settle(S_i)  # the owed potentiation belongs to eta = 0
        S_i.istdp_eta = eta
    net.run(duration)
    w = np.array(S_i.w / mV)
    if deferred:
        # with the potentiation still owed for postsynaptic spikes since the last settlement (see the docstring)
        w = np.array(S_i.istdp_w_settled / mV)
    return w0, w, net


def test_deferred_potentiation_gives_the_per_spike_weights():
    w0, w_event, net_event = _network(False, 0.6 * second)
    _, w_deferred, net_deferred = _network(True, 0.6 * second)
    # the spike trains are the same (the weights agree at every presynaptic spike to rounding) ...
    spikes_event, spikes_deferred = net_event["spikes_E"], net_deferred["spikes_E"]
    assert spikes_event.num_spikes > 50
    np.testing.assert_array_equal(spikes_event.i[:], spikes_deferred.i[:])
    np.testing.assert_array_equal(spikes_event.t[:], spikes_deferred.t[:])
    assert np.mean(np.abs(w_event - w0)) > 0.1            # the rule moved the weights (mV; they start at 0.5-1.5)
    # ... and so are the weights: rounding of the exp/clip sequence only (float64, ~1e-15 per step)
    np.testing.assert_allclose(w_deferred, w_event, rtol=1e-9, atol=1e-12)
    # no on_post pathway: the point of the deferred form
    def post_pathways(net):
        return [obj.name for obj in net.sorted_objects if obj.name.startswith("synapses") and obj.name.endswith("_post")]
    assert post_pathways(net_event) and not post_pathways(net_deferred)


def test_switching_the_deferred_rule_on_after_settle_gives_the_per_spike_weights():
    # 170 ms off: the switch falls between two flushes (every 50 ms), with potentiation owed to eta = 0
    _, w_event, net_event = _network(False, 0.3 * second, off=170 * ms)
    _, w_deferred, net_deferred = _network(True, 0.3 * second, off=170 * ms)
    np.testing.assert_array_equal(net_event["spikes_E"].t[:], net_deferred["spikes_E"].t[:])
    # rounding only, as without the switch (float64)
    np.testing.assert_allclose(w_deferred, w_event, rtol=1e-9, atol=1e-12)


def test_deferred_needs_the_postsynaptic_part_and_a_short_flush_period():
    istdp = InhibitorySTDP(deferred=True, eta=0.1 * mV, w_max=1 * mV)
    E = LIF().group(2)
    src = PoissonGroup(2, 10 * Hz)
    with pytest.raises(HomeonetError, match="postsynaptic"):
        synapses(src, E, "w : volt", on_pre="I_i_post += w", mechanisms=[istdp])
    with pytest.raises(HomeonetError) as err:
        InhibitorySTDP(deferred=True, flush_period=1 * second)     # 50 tau: e^50 would amplify rounding
    assert str(err.value).startswith("flush_period")


def _known_spikes(deferred):
    """Pre spikes at 10, 50, 70 ms, post spikes forced at ~30 and ~40 ms, a flush at 50 ms: the weight trace."""
    from brian2 import nS

    from known_spikes import istdp_known_spikes

    istdp = InhibitorySTDP(rho0=5 * Hz, tau=20 * ms, eta=1 * nS, w_max=100 * nS, deferred=deferred,
                           flush_period=50 * ms)
    return istdp_known_spikes(istdp, [10, 50, 70], [30, 40], 80 * ms, post_mechanisms=[istdp] if deferred else [],
                              record=True)[2]


@pytest.mark.standalone
@pytest.mark.parametrize("device", STANDALONE)
def test_deferred_runs_in_cpp_standalone_like_the_per_spike_rule(device):
    from brian2 import start_scope

    from homeonet.simulate import use_device

    event = _known_spikes(False)
    start_scope()
    with use_device(device):
        deferred = _known_spikes(True)
    # settled at each presynaptic spike (10, 50, 70 ms): from then on the traces agree; in between the
    # deferred weight lags by the owed potentiation, which the event rule adds at the post spikes
    for t_ms in (12, 55, 75, 79):
        assert deferred[t_ms] == pytest.approx(event[t_ms], rel=1e-12)
    assert event[79] > event[12]                  # two post spikes near pre spikes: net potentiation
