"""Devices: the four scales' mechanisms give the runtime numbers on the standalone devices; cuda_standalone
is offered where brian2cuda is installed and refused in one line where it is not."""

import numpy as np
import pytest
from brian2 import Hz, Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, mV, ms, second

import homeonet as hn
from homeonet import HomeonetError
from homeonet.models import LIF
from homeonet.models.networks import SYNAPSE_HOOKS
from homeonet.simulate import use_device

from devices import CUDA_MISSING, STANDALONE, requires_cuda


def _four_scales_deterministic(device):
    """Every mechanism of the four-scales model on 12 LIF neurons driven by fixed spike trains.

    Intrinsic plasticity, synaptic scaling (input synapses), deferred inhibitory STDP and the global
    factor share one analytic rate sensor; no random numbers anywhere. Returns the traces every 50 ms
    (theta, scaling factor, global gain), the settled I->E weights and the spike counts.
    """
    import brian2

    brian2.start_scope()
    with use_device(device):
        sensor = hn.RateSensor(tau=200 * ms, initial=10 * Hz, name="rate")
        ip = hn.IntrinsicPlasticity(target=10 * Hz, eta=0.05 * mV / Hz, period=50 * ms, sensor=sensor)
        ss = hn.SynapticScaling(target=10 * Hz, compression=3600, period=50 * ms, sensor=sensor)
        istdp = hn.InhibitorySTDP(rho0=10 * Hz, eta=0.05 * mV, w_max=5 * mV, deferred=True, flush_period=50 * ms)
        glob = hn.GlobalHomeostasis(gamma=10 * Hz, tau_H=200 * ms, tau_G=500 * ms, period=50 * ms, sensor=sensor)
        E = LIF().group(12, mechanisms=[ip, ss, istdp, glob], name="E")
        E.I_ext = np.linspace(10, 16, 12) * mV
        times = np.arange(2, 800, 3) * ms
        exc = SpikeGeneratorGroup(6, np.arange(len(times)) % 6, times, name="exc")
        inh = SpikeGeneratorGroup(3, np.arange(len(times) // 2) % 3, times[::2] + 1 * ms, name="inh")
        S_e = hn.synapses(exc, E, "w : volt", on_pre="I_e_post += w*scale", mechanisms=[ss],
                          hooks=SYNAPSE_HOOKS, name="inE")
        S_e.connect()
        S_e.w = "(1 + i + 2*j)*0.4*mV"
        S_i = hn.synapses(inh, E, "w : volt", on_pre="I_i_post += w", mechanisms=[istdp], name="IE")
        S_i.connect()
        S_i.w = "0.2*mV*(1 + (i + j) % 4)"
        trace = StateMonitor(E, ["ip_theta", "ss_s", "glob_G", "rate_A"], record=True, dt=50 * ms)
        spikes = SpikeMonitor(E)
        Network(E, exc, inh, S_e, S_i, trace, spikes).run(800 * ms)
        return {"theta": np.array(trace.ip_theta / mV), "s": np.array(trace.ss_s),
                "G": np.array(trace.glob_G), "A": np.array(trace.rate_A / Hz),
                "w": np.array(S_i.w / mV), "counts": np.array(spikes.count)}


@pytest.mark.standalone
@pytest.mark.parametrize("device", STANDALONE)
def test_four_scales_mechanisms_give_the_runtime_numbers(device):
    runtime = _four_scales_deterministic("runtime")
    other = _four_scales_deterministic(device)
    # the mechanisms acted: thresholds, scaling factors, the global gain and the weights all moved
    assert runtime["counts"].sum() > 50              # measured 99 spikes (12 neurons, 0.8 s, target 10 Hz)
    for key in ("theta", "s", "G"):
        assert np.ptp(runtime[key]) > 0, key
    # same equations, no random numbers: the devices differ only by the order of floating-point operations
    np.testing.assert_array_equal(other["counts"], runtime["counts"])
    for key in ("theta", "s", "G", "A", "w"):
        np.testing.assert_allclose(other[key], runtime[key], rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.skipif(CUDA_MISSING != "brian2cuda is not installed", reason="brian2cuda is installed")
def test_cuda_standalone_without_brian2cuda_is_refused_in_one_line(tmp_path):
    with pytest.raises(HomeonetError) as err:
        with use_device("cuda_standalone"):
            pass  # pragma: no cover
    message = str(err.value)
    assert message.startswith("device cuda_standalone needs brian2cuda") and "\n" not in message
    from homeonet.cli import main

    assert main(["run", "four_scales", "--device", "cuda_standalone", "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())   # refused before any work


@pytest.mark.standalone
@requires_cuda
def test_homeonet_run_four_scales_on_cuda_standalone(tmp_path):
    from homeonet import load
    from homeonet.cli import main

    assert main(["run", "four_scales", "--device", "cuda_standalone", "--duration", "2s", "--quiet",
                 "--out", str(tmp_path)]) == 0
    results = load(tmp_path / "four_scales.nc")
    # the set point is 5 Hz and the network starts regulated (measured 5.1 Hz on the CPU before the drop)
    rate = float(np.mean(results.rates("E", t_stop=1 * second) / Hz))
    assert 2 < rate < 10
