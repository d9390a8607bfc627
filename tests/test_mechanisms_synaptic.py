"""Neuron- and synapse-scale mechanisms and perturbation protocols, against canonical results.

Validation 1 (Turrigiano et al. 1998), 3 (intrinsic plasticity, Triesch 2005) and 4 (synaptic
normalization under STDP) of the mechanisms issue, plus unit tests of each rule's update.
"""

import numpy as np
import pytest
from brian2 import (Hz, Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, StateMonitor,
                    TimedArray, defaultclock, mV, ms, prefs, second)
from scipy import stats

import homeonet as hn
from homeonet.simulate import use_device
from homeonet import HomeonetError
from homeonet.analysis.scaling import scaling_test
from homeonet.models import RateNeuron, recurrent_ei
from homeonet.models.plasticity import stdp_layer
from devices import STANDALONE

# --------------------------------------------------------------------------- synaptic scaling


def _turrigiano(protocol, keys, N_E, N_I, N_in, p_in, duration, onset, compression=3600, sensor_tau=300 * ms,
                target_I=None, seed=3):
    """One E/I network with scaling on E (and on I toward *target_I* when given); return (effective E->E
    weights, results, E factors)."""
    import brian2

    brian2.start_scope()
    brian2.seed(seed)
    ss = hn.SynapticScaling(target=5 * Hz, compression=compression, period=100 * ms,
                            sensor=hn.RateSensor(tau=sensor_tau, initial=5 * Hz, name="ss_sensor"))
    syn = {"EE": [ss], "inE": [ss]}
    mechanisms_I = []
    if target_I is not None:
        ss_I = hn.SynapticScaling(target=target_I, compression=compression, period=100 * ms,
                                  sensor=hn.RateSensor(tau=sensor_tau, initial=target_I, name="ss_sensor"))
        syn.update(EI=[ss_I], inI=[ss_I])
        mechanisms_I = [ss_I]
    for key in keys:
        syn.setdefault(key, []).append(protocol(onset))
    net = recurrent_ei(N_E=N_E, N_I=N_I, N_in=N_in, p_in=p_in, weight_cv=0.5, mechanisms_E=[ss],
                       mechanisms_I=mechanisms_I, synapse_mechanisms=syn)
    res = hn.simulate(net, duration, progress=False)
    EE = net["EE"]
    w_eff = np.array(EE.w[:] / mV) * np.array(net["E"].ss_s[:])[np.array(EE.j[:])]
    return w_eff, res, np.array(net["E"].ss_s[:])


def _check_turrigiano(N_E, N_I, N_in, p_in, duration, onset, **kw):
    """Control, blockade (TTX-like) and disinhibition (bicuculline-like) networks, each treatment twice:
    with the control's seed (the same synapses, so that each one's change is seen) and with a seed of its own
    (other connectivity, weights and inputs: different neurons, as control and treated cultures are in the
    experiment, so that the comparison is of weight distributions only)."""
    none = lambda onset: None  # noqa: E731
    treatments = {"up": (lambda t: hn.ActivityBlockade(onset=t, factor=0.5), ("inE", "inI"), 4),
                  "down": (lambda t: hn.Disinhibition(onset=t), ("IE",), 5)}
    control, res_c, _ = _turrigiano(none, (), N_E, N_I, N_in, p_in, duration, onset, seed=3, **kw)
    last = duration - 2 * second
    for direction, (protocol, keys, own_seed) in treatments.items():
        treated, res, _ = _turrigiano(protocol, keys, N_E, N_I, N_in, p_in, duration, onset, seed=3, **kw)
        other, res_o, _ = _turrigiano(protocol, keys, N_E, N_I, N_in, p_in, duration, onset, seed=own_seed, **kw)
        k = scaling_test(control, treated).factor
        # direction: blockade scales up, disinhibition down; 10 % margins are far beyond the run-to-run
        # spread of k (~2 % between seeds in trial runs)
        assert (k > 1.1) if direction == "up" else (k < 0.95), (direction, k)
        # multiplicative, synapse by synapse: sorted treated vs sorted control (the rank-order plot of the
        # same synapses) is a line through the origin with slope ~k
        slope, intercept = np.polyfit(np.sort(control), np.sort(treated), 1)
        assert abs(intercept) < 0.05 * np.mean(control), intercept  # < 5 % of a mean weight
        assert abs(slope / k - 1) < 0.1, (slope, k)
        # multiplicative as the experiment sees it: an independent treated network's weights, divided by
        # their own fitted factor, are indistinguishable from the control's (two-sample KS; k fitted, so p is
        # optimistic: we ask p > 0.05 rather than a looser threshold; measured p 0.73-0.99 over 4 seed pairs)
        k_other = scaling_test(control, other).factor
        p_other = stats.ks_2samp(other / k_other, control).pvalue
        # the factor does not depend on which neurons were treated: at the fast size independent networks gave
        # k 1.68-1.79 (blockade) and 0.87-0.96 (disinhibition) over 4 seed pairs, the matched ones 1.84 and
        # 0.93: within 9 % (sampling of ~1000 synapses)
        assert abs(k_other / k - 1) < 0.15, (k_other, k)
        assert p_other > 0.05, p_other
        rates = [float(np.mean(r.rates("E", t_start=last) / Hz)) for r in (res, res_o)]
        print(f"Turrigiano {direction}: k {k:.3f}, rank-order slope {slope:.3f}, intercept {intercept:.4f} mV, "
              f"final rate {rates[0]:.2f} Hz; independent network: k {k_other:.3f}, KS p {p_other:.2f}, "
              f"final rate {rates[1]:.2f} Hz")
        # rates return to the set point: the last 2 s within 10 % of 5 Hz (the criterion), checked on
        # the control's seed (at the fast size the independent blockade network was still at 5.54 Hz 4 s after
        # onset: not yet settled, which is not what this half of the test is about)
        assert abs(rates[0] - 5) < 0.5, (direction, rates)
    # control: the rate at the set point
    assert abs(float(np.mean(res_c.rates("E", t_start=last) / Hz)) - 5) < 0.5


def test_turrigiano_blockade_scales_up_disinhibition_down_multiplicatively():
    prefs.codegen.target = "cython"  # 5 runs x 6 s: too slow for numpy; compiled once, cached
    _check_turrigiano(N_E=100, N_I=25, N_in=200, p_in=0.5, duration=6 * second, onset=2 * second)


@pytest.mark.long
def test_turrigiano_full_size():
    prefs.codegen.target = "cython"
    # the ready-made model's network (400 + 100, 500 inputs), 16 s. The interneurons scale too, toward their
    # unperturbed 9 Hz: with scaling on E alone the blockaded network falls into slow population bursts
    # (0.1-12 Hz from second to second; measured) once its recurrent excitation has doubled.
    _check_turrigiano(N_E=400, N_I=100, N_in=500, p_in=0.2, duration=16 * second, onset=4 * second,
                      compression=1800, sensor_tau=500 * ms, target_I=9 * Hz)


def _scaling_group(sensor_value, **kw):
    ss = hn.SynapticScaling(target=5 * Hz, compression=3600, period=100 * ms, **kw)
    G = hn.neuron_group(3, "v : volt", mechanisms=[ss], threshold="False")
    G.ss_sensor_A_spike = sensor_value  # the estimate just after the last spike (t = 0 here)
    G.ss_sensor_tau = 1e9 * second  # freeze the sensor at the given value
    return ss, G


def test_scaling_factor_follows_its_update_equation():
    ss, G = _scaling_group([2.5, 5, 10] * Hz, s_max=100)
    Network(G).run(1 * second)  # 10 updates (t = 0, 0.1, ..., 0.9 s)
    rate = float(100 * ms / ss.effective_tau)  # T c / tau_s = 0.1 s / 1 s
    expected = (1 + rate * (5 - np.array([2.5, 5, 10])) / 5) ** 10
    assert np.allclose(G.ss_s[:], expected, rtol=1e-6)


def test_scaling_factor_is_bounded_and_inhibitory_mode_goes_the_other_way():
    _, G = _scaling_group([0, 5, 50] * Hz, s_min=0.5, s_max=2.0)
    Network(G).run(5 * second)
    assert np.allclose(G.ss_s[:], [2.0, 1.0, 0.5])
    import brian2

    brian2.start_scope()
    _, G = _scaling_group([2.5, 5, 10] * Hz, inhibitory=True)
    Network(G).run(1 * second)
    s = np.array(G.ss_s[:])
    assert s[0] < 1 and s[1] == pytest.approx(1) and s[2] > 1  # below target: inhibition weakened


def test_scaling_acts_on_the_synapses_scale_hook_and_divergent_mode_varies_per_synapse():
    ss = hn.SynapticScaling(target=5 * Hz, mode="divergent", divergence=0.5)
    pre = NeuronGroup(50, "v : volt", threshold="False")
    G = hn.neuron_group(1, "dv/dt = -v/(10*ms) : volt", mechanisms=[ss], threshold="v > 1*volt")
    S = hn.synapses(pre, G, "w : volt", on_pre="v_post += w*scale", mechanisms=[ss])
    S.connect()
    G.ss_s = 2.0
    k = np.array(S.ss_k[:])
    assert np.std(k) > 0.3 and np.all(k >= 0)  # exponents drawn around 1 with s.d. 0.5 (clipped at 0)
    assert np.allclose(S.scale[:], 2.0 ** k)


def test_scaling_parameters_are_validated():
    for bad, name in ((dict(target=0 * Hz), "target"), (dict(s_min=2.0), "s_min"), (dict(mode="weird"), "mode"),
                      (dict(compression=-1), "compression"), (dict(period=5 * mV), "period"),
                      (dict(compression=1e9), "compression")):
        with pytest.raises(HomeonetError) as err:
            hn.SynapticScaling(**bad)
        assert str(err.value).startswith(name) and "\n" not in str(err.value)


# --------------------------------------------------------------------------- weight normalization

def _stdp_network(mechanisms, duration=5 * second):
    # potentiation-dominated additive STDP (A- = 0.9 A+): without a constraint weights run to w_max
    net = stdp_layer(mechanisms)
    net.run(duration)
    net.run(defaultclock.dt)  # one more step: t = duration is a multiple of the period, so it normalizes
    S = net["inE"]
    return np.array(S.w / mV), np.array(S.i), np.array(S.j)


def test_stdp_without_normalization_runs_to_the_bound():
    w, _, _ = _stdp_network([])
    # started uniform on [0, 1] mV (mean 0.5): the Hebbian runaway takes most weights near w_max
    assert np.mean(w) > 0.8 and np.mean(w > 0.9) > 0.5


@pytest.mark.parametrize("norm", [1, 2])
def test_normalization_holds_incoming_norm_under_stdp(norm):
    total = 50 * mV if norm == 1 else 6 * mV
    w, _, j = _stdp_network([hn.WeightNormalization(total=total, norm=norm, period=10 * ms)])
    sums = np.bincount(j, w ** norm)
    norms = sums if norm == 1 else np.sqrt(sums)
    assert np.allclose(norms, float(total / mV), rtol=1e-6)  # the 1e-6 relative criterion
    assert np.mean(w > 0.9) < 0.3  # STDP still changed the pattern, but no runaway to the bound
    assert np.std(w) > 0.05


def test_outgoing_normalization_every_step():
    wn = hn.WeightNormalization(total=2.0, norm=1, direction="outgoing")
    pre = hn.neuron_group(4, "v : 1", mechanisms=[wn])
    post = NeuronGroup(6, "v : 1")
    S = hn.synapses(pre, post, "w : 1", mechanisms=[wn])
    S.connect()
    S.w = "rand()"
    S.w[0:6] = 0  # neuron 0 has no outgoing weight: left alone
    Network(pre, post, S).run(defaultclock.dt)
    sums = np.bincount(np.array(S.i), np.array(S.w), minlength=4)
    assert sums[0] == 0 and np.allclose(sums[1:], 2.0, rtol=1e-12)


def test_normalization_parameters_are_validated():
    for bad, name in ((dict(total=-1.0), "total"), (dict(norm=3), "norm"), (dict(period=0 * ms), "period"),
                      (dict(direction="sideways"), "direction"), (dict(total="x"), "total")):
        with pytest.raises(HomeonetError) as err:
            hn.WeightNormalization(**bad)
        assert str(err.value).startswith(name)


# --------------------------------------------------------------------------- intrinsic plasticity variants


def _driven_lif(mechanism, N=5, duration=6 * second):
    G = hn.neuron_group(N, "dv/dt = (drive - v)/(10*ms) : volt\ndrive : volt", threshold="v > 10*mV + theta",
                        reset="v = 0*mV", mechanisms=[mechanism], method="exact")
    G.drive = np.linspace(12, 20, N) * mV
    mon = SpikeMonitor(G)
    Network(G, mon).run(duration)
    return G, mon


def test_sorn_rule_reaches_the_target_rate():
    G, mon = _driven_lif(hn.IntrinsicPlasticity(target=20 * Hz, rule="sorn", eta=0.2 * mV))
    rates = np.bincount(mon.i[mon.t > 4 * second], minlength=5) / 2.0
    # each neuron within 10 % (validation 3): the threshold jitters by one eta per spike around its
    # fixed point, a < 5 % change of the interspike interval here
    assert np.all(np.abs(rates - 20) < 2), rates


def test_diehl_cook_threshold_tracks_each_neurons_rate():
    ip = hn.IntrinsicPlasticity(rule="diehl_cook", eta=0.05 * mV, tau_theta=500 * ms)
    G, mon = _driven_lif(ip, duration=4 * second)
    rates = np.bincount(mon.i[mon.t > 2 * second], minlength=5) / 2.0
    # stationary mean of a shot-noise threshold: theta = theta_plus * rate * tau_theta. The final value
    # fluctuates by one jump (0.05 mV) around a saw-tooth mean, i.e. <= 0.05/(0.05*rate*0.5) = 2/rate
    # (< 10 % for rates >= 20 Hz); 15 % allows for that and the rate's own change during the window.
    expected = 0.05 * rates * 0.5
    assert np.allclose(G.ip_theta[:] / mV, expected, rtol=0.15), (G.ip_theta[:], expected)
    assert np.all(rates > 20)


def test_triesch_rule_gives_exponential_output_at_the_target_mean():
    rng = np.random.default_rng(0)
    T, N = 20 * second, 10
    inputs = TimedArray(rng.normal(20, 10, size=(int(T / (5 * ms)) + 1, N)) * Hz, dt=5 * ms)
    ip = hn.IntrinsicPlasticity(target=10 * Hz, rule="triesch", eta=0.002, period=1 * ms)
    G = RateNeuron(phi="sigmoid", tau=1 * ms).group(N, mechanisms=[ip])
    G.namespace["inputs"] = inputs
    G.run_regularly("I_ext = inputs(t, i)", dt=5 * ms, when="start")
    M = StateMonitor(G, "r", record=True, dt=5 * ms)
    Network(G, M).run(T)
    y = np.array(M.r / Hz)[:, M.t > T - 8 * second] / 100  # outputs as fractions of r_max
    # mean output at mu = 0.1 within 10 % (validation 3); trial runs gave 0.095
    assert np.allclose(y.mean(axis=1), 0.1, rtol=0.1)
    s = y.ravel()
    ll_exp = stats.expon.logpdf(s, scale=s.mean()).sum()
    ll_norm = stats.norm.logpdf(s, loc=s.mean(), scale=s.std()).sum()
    assert ll_exp > ll_norm  # an exponential fits the output distribution better than a Gaussian


def test_ip_rules_check_their_targets():
    with pytest.raises(HomeonetError, match="rule='triesch' needs rate neurons"):
        _driven_lif(hn.IntrinsicPlasticity(rule="triesch"))
    with pytest.raises(HomeonetError, match="needs spiking neurons"):
        RateNeuron().group(2, mechanisms=[hn.IntrinsicPlasticity(rule="sorn")])
    with pytest.raises(HomeonetError, match="^rule must be one of"):
        hn.IntrinsicPlasticity(rule="magic")
    with pytest.raises(HomeonetError, match="^eta must be dimensionless"):
        hn.IntrinsicPlasticity(rule="triesch", eta=1 * mV)


# --------------------------------------------------------------------------- protocols


def test_lesion_silences_a_fraction_of_neurons_from_onset():
    lesion = hn.Lesion(onset=200 * ms, fraction=0.5)
    G = hn.neuron_group(200, "dv/dt = (20*mV - v)/(10*ms) : volt", threshold="v > 10*mV + theta",
                        reset="v = 0*mV", mechanisms=[lesion], method="exact")
    mon = SpikeMonitor(G)
    Network(G, mon).run(400 * ms)
    lesioned = np.array(G.lesion_lesioned[:], dtype=bool)
    before = np.bincount(mon.i[mon.t < 200 * ms], minlength=200)
    after = np.bincount(mon.i[mon.t >= 201 * ms], minlength=200)
    assert np.all(before > 0)  # everyone fired before the lesion
    assert np.all(after[lesioned] == 0) and np.all(after[~lesioned] > 0)
    assert 0.35 < lesioned.mean() < 0.65  # Bernoulli(0.5) over 200 neurons: s.d. 0.035


def test_scheduled_scale_and_synapse_lesion_gate_the_efficacy():
    src = SpikeGeneratorGroup(1, [0] * 4, [5, 15, 25, 35] * ms)
    post = NeuronGroup(1, "v : volt")
    step = hn.InputStep(onset=10 * ms, factor=3.0, offset=30 * ms)
    S = hn.synapses(src, post, "w : volt", on_pre="v_post += w*scale", mechanisms=[step],
                    hooks={"scale": (1, "product")})
    S.connect()
    S.w = 1 * mV
    M = StateMonitor(post, "v", record=0)
    Network(src, post, S, M).run(40 * ms)
    v = np.array(M.v[0] / mV)
    assert [v[M.t == t * ms][0] for t in (9, 19, 29, 39)] == pytest.approx([1, 4, 7, 8])


def test_protocols_are_recorded_in_the_results(tmp_path):
    net = recurrent_ei(N_E=20, N_I=5, synapse_mechanisms={"IE": [hn.Disinhibition(onset=50 * ms)]})
    res = hn.simulate(net, 100 * ms, progress=False)
    attrs = hn.load(res.save(tmp_path / "r.nc")).dataset.attrs
    assert attrs["mechanism.IE.bic"] == "Disinhibition"
    assert attrs["mechanism.IE.bic.onset"] == 50.0 and attrs["mechanism.IE.bic.onset.units"] == "ms"
    assert attrs["mechanism.IE.bic.factor"] == 0.0


def test_protocol_windows_are_validated():
    with pytest.raises(HomeonetError, match="^offset must be after onset"):
        hn.InputStep(onset=1 * second, factor=2, offset=0.5 * second)
    with pytest.raises(HomeonetError, match="^fraction"):
        hn.Lesion(onset=0 * second, fraction=1.5)
    with pytest.raises(HomeonetError, match="^onset"):
        hn.ActivityBlockade(onset=-1 * second)


# --------------------------------------------------------------------------- devices


def _deterministic_scaling_and_normalization(device):
    import brian2

    brian2.start_scope()
    with use_device(device):
        ss = hn.SynapticScaling(target=20 * Hz, compression=3600, period=50 * ms,
                                sensor=hn.RateSensor(tau=200 * ms, initial=20 * Hz, name="rate"))
        wn = hn.WeightNormalization(total=8 * mV, norm=1, period=20 * ms)
        lesion = hn.SynapseLesion(onset=300 * ms, fraction=0.0)
        src = SpikeGeneratorGroup(10, np.arange(10).repeat(20), np.tile(np.arange(20) * 25, 10) * ms + np.arange(10).repeat(20) * 0.5 * ms)
        G = hn.neuron_group(3, "dv/dt = -v/(10*ms) : volt", threshold="v > 10*mV", reset="v = 0*mV",
                            mechanisms=[ss, wn], method="exact")
        S = hn.synapses(src, G, "w : volt", on_pre="v_post += w*scale", mechanisms=[ss, wn, lesion])
        S.connect()
        S.w = "(1 + i + 3*j)*0.2*mV"
        M = StateMonitor(G, ["ss_s", "wn_sum_w"], record=True, dt=50 * ms)
        W = StateMonitor(S, "w", record=np.arange(30), dt=100 * ms)  # 10 x 3, all to all
        Network(src, G, S, M, W).run(500 * ms)
        return np.array(M.ss_s), np.array(W.w / mV)


@pytest.mark.standalone
@pytest.mark.parametrize("device", STANDALONE)
def test_scaling_and_normalization_run_in_cpp_standalone_like_runtime(device):
    s_rt, w_rt = _deterministic_scaling_and_normalization("runtime")
    s_sa, w_sa = _deterministic_scaling_and_normalization(device)
    assert np.any(s_rt != 1) and w_rt.shape == w_sa.shape
    # deterministic input: the devices differ only by floating-point evaluation order
    assert np.allclose(s_rt, s_sa, rtol=1e-9) and np.allclose(w_rt, w_sa, rtol=1e-9)
