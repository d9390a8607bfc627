"""Layer-scale mechanisms: InhibitorySTDP, LateralInhibition, DivisiveNormalization (validation tests 2 and 5)."""

import numpy as np
import pytest
from brian2 import Hz, Network, SpikeMonitor, StateMonitor, mV, ms, nS, pA, second

from homeonet import HomeonetError, connect, synapses
from homeonet.analysis import contrast_response_fit
from homeonet.mechanisms import DivisiveNormalization, InhibitorySTDP, LateralInhibition
from homeonet.models import LIF, ConductanceLIF, RateNeuron, recurrent_ei
from devices import STANDALONE
from known_spikes import istdp_known_spikes


# ---------------------------------------------------------------------------------------------------------
# parameter validation
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, word", [
    (lambda: InhibitorySTDP(rho0=-1 * Hz), "rho0"),
    (lambda: InhibitorySTDP(tau=0 * ms), "tau"),
    (lambda: InhibitorySTDP(eta=-0.1 * nS), "eta"),
    (lambda: InhibitorySTDP(eta=0.1 * nS, w_max=5 * mV), "w_max"),
    (lambda: InhibitorySTDP(weight="1w"), "weight"),
    (lambda: LateralInhibition(k=-1.0), "k"),
    (lambda: LateralInhibition(tau=0 * ms), "tau"),
    (lambda: LateralInhibition(hook="gain"), "hook"),
    (lambda: DivisiveNormalization(sigma=0 * Hz), "sigma"),
    (lambda: DivisiveNormalization(gamma=-5 * Hz), "gamma"),
    (lambda: DivisiveNormalization(n=0.5), "n"),
    (lambda: DivisiveNormalization(drive=""), "drive"),
])
def test_bad_parameters_raise_one_line_naming_them(make, word):
    with pytest.raises(HomeonetError) as err:
        make()
    message = str(err.value)
    assert message.startswith(word) and "\n" not in message


def test_attach_requires_the_group_to_carry_the_mechanism():
    lat = LateralInhibition(k=1.0)
    layer = RateNeuron().group(5)
    with pytest.raises(HomeonetError, match="attach"):
        lat.attach(layer)


# ---------------------------------------------------------------------------------------------------------
# InhibitorySTDP: the rule itself on hand-placed spikes
# ---------------------------------------------------------------------------------------------------------
def test_istdp_rule_matches_the_vogels_update_on_known_spikes():
    istdp = InhibitorySTDP(rho0=5 * Hz, tau=20 * ms, eta=1 * nS, w_max=100 * nS)
    S, post, _ = istdp_known_spikes(istdp, [10, 50], [30], 60 * ms)
    alpha, tau = 2 * 5 * 0.020, 0.020
    # pre at 10 ms: apost = 0            -> w = 10 - alpha
    # post at ~30 ms (kicked above threshold): w += exp(-(t_post - 10 ms)/tau)
    # pre at 50 ms:  w += apost(50 ms) - alpha
    t_post = float(post.lastspike[0] / second)
    assert 0.030 <= t_post <= 0.0302
    expected = 10 - alpha + np.exp(-(t_post - 0.010) / tau) + np.exp(-(0.050 - t_post) / tau) - alpha
    # float64 arithmetic on the same closed form: agreement to rounding
    assert float(S.w[0] / nS) == pytest.approx(expected, rel=1e-9)


def test_istdp_clips_weights_and_parameters_are_settable_between_runs():
    istdp = InhibitorySTDP(rho0=3 * Hz, eta=0.5 * nS, w_max=2 * nS)
    net = recurrent_ei(ConductanceLIF(), N_E=20, N_I=10, p=0.5, N_in=20, rate_in=20 * Hz, p_in=0.5,
                       synapse_mechanisms={"IE": [istdp]})
    IE = net["IE"]
    assert float(IE.istdp_alpha[:]) == pytest.approx(2 * 3 * 0.020)
    IE.w = "1*nS + 0.5*nS*rand()"             # inside [0, w_max]: clipping alone would not move them
    IE.istdp_eta = 0 * nS                     # a warm-up without plasticity leaves the weights alone
    w0 = np.array(IE.w / nS)
    net.run(50 * ms)
    np.testing.assert_array_equal(np.array(IE.w / nS), w0)
    IE.istdp_eta = 0.5 * nS
    net.run(200 * ms)
    w = np.array(IE.w / nS)
    assert w.min() >= 0 and w.max() <= 2 + 1e-12     # clipped to [0, w_max] (exact clip, rounding only)
    assert not np.allclose(w, w0)


# ---------------------------------------------------------------------------------------------------------
# Validation test 2 (fast): Vogels et al. 2011 in a small, time-compressed network
# ---------------------------------------------------------------------------------------------------------
def _vogels_network(N_E, N_I, p, eta):
    """The Brian2 reference network at in-degrees K_E = 160, K_I = 40 (weights scaled by 200/(p N))."""
    scale = 0.02 * 10000 / (p * (N_E + N_I))
    istdp = InhibitorySTDP(rho0=3 * Hz, eta=eta, w_max=100 * nS * scale)
    net = recurrent_ei(ConductanceLIF(), N_E=N_E, N_I=N_I, p=p, w_e=0.3 * nS * scale, w_i=3 * nS * scale,
                       N_in=1, rate_in=0 * Hz, p_in=0, w_in=0 * nS, synapse_mechanisms={"IE": [istdp]})
    for name in ("E", "I"):
        net[name].I_ext = 200 * pA             # the reference's background current
        net[name].v = "E_L + rand()*10*mV"
    net["IE"].w = 1e-10 * nS                   # inhibition starts (almost) absent, as in the reference
    return net


def _balance(net, duration, n_rec=100):
    """Run *duration* recording currents of *n_rec* E neurons every 1 ms; return a dict of measures.

    ``rate``: mean E rate; ``corr``: per-neuron correlation of I_e and the inhibitory magnitude -I_i over the
    1-ms samples, averaged over neurons; ``corr_pop``: the same for the currents averaged over the recorded
    neurons (what the network shares); ``ratio``: |net| / excitation, excitation including the background
    current; ``cv``: mean CV of ISI; ``start``: the time the window began (s).
    """
    E = net["E"]
    mon = StateMonitor(E, ["v", "g_e", "g_i"], record=range(n_rec), dt=1 * ms)
    net.add(mon)
    spikes = net["spikes_E"]
    start, n0 = float(net.t / second), spikes.num_spikes
    net.run(duration)
    net.remove(mon)
    rate = (spikes.num_spikes - n0) / len(E) / float(duration / second)
    p = ConductanceLIF().params
    I_e = np.array(mon.g_e * (p["E_e"] - mon.v) / pA)
    I_i = np.array(mon.g_i * (p["E_i"] - mon.v) / pA)
    I_ext = float(E.I_ext[0] / pA)
    corr = np.mean([np.corrcoef(I_e[k], -I_i[k])[0, 1] for k in range(n_rec)])
    corr_pop = np.corrcoef(I_e.mean(axis=0), -I_i.mean(axis=0))[0, 1]
    excitation = I_e + I_ext                    # synaptic excitation plus the excitatory background drive
    ratio = np.mean(np.abs((excitation + I_i).mean(axis=1))) / np.mean(excitation)
    t, i = np.array(spikes.t / second), np.array(spikes.i[:])
    keep = t >= start
    cvs = []
    for k in np.unique(i[keep]):
        isi = np.diff(np.sort(t[keep & (i == k)]))
        if len(isi) >= 2:
            cvs.append(isi.std() / isi.mean())
    return {"rate": rate, "corr": corr, "corr_pop": corr_pop, "ratio": ratio, "cv": float(np.mean(cvs)),
            "start": start}


def _istdp_pair_factor(net, start, tau=0.020):
    r"""Spike-pair term of the iSTDP rule on the I->E synapses since *start*, against independent trains.

    Over a window the rule changes a synapse by eta (sum over its pre/post spike pairs of exp(-|dt|/tau)
    - alpha n_pre). For independent trains the pair sum is 2 tau rho_post n_pre, so the drift vanishes at
    rho_post = alpha / (2 tau) = rho0. Correlations scale it by c = (pair sum) / (2 tau rho_post n_pre):
    the fixed point is rho_post c = rho0. Returns, summed over all I->E synapses: the rate the rule sees,
    (pair sum) / (2 tau n_pre), which is rho0 where the mean drift vanishes; c; and c's two halves
    (postsynaptic spike after / before the presynaptic one, each 1 for independent trains).
    """
    IE = net["IE"]
    pre_of, post_of = np.array(IE.i[:]), np.array(IE.j[:])
    trains = {}
    for pop in ("E", "I"):
        mon = net[f"spikes_{pop}"]
        t, i = np.array(mon.t / second), np.array(mon.i[:])
        keep = t >= start
        t, i = t[keep], i[keep]
        order = np.argsort(i, kind="stable")
        bounds = np.searchsorted(i[order], np.arange(len(net[pop]) + 1))
        trains[pop] = (t[order], bounds)
    (tE, bE), (tI, bI) = trains["E"], trains["I"]
    T = float(net.t / second) - start
    by_post = np.argsort(post_of, kind="stable")
    syn_bounds = np.searchsorted(post_of[by_post], np.arange(len(net["E"]) + 1))
    after = before = expected = n_pre = 0.0
    for j in range(len(net["E"])):
        t_post = tE[bE[j]:bE[j + 1]]
        pres = pre_of[by_post[syn_bounds[j]:syn_bounds[j + 1]]]
        if not len(t_post) or not len(pres):
            continue
        t_pre = np.concatenate([tI[bI[k]:bI[k + 1]] for k in pres])
        d = t_post[None, :] - t_pre[:, None]
        kernel = np.exp(-np.abs(d) / tau)
        after += kernel[d > 0].sum()
        before += kernel[d <= 0].sum()
        expected += 2 * tau * len(t_post) / T * len(t_pre)
        n_pre += len(t_pre)
    return {"rho_seen": (after + before) / (2 * tau * n_pre), "c": (after + before) / expected,
            "c_after": 2 * after / expected, "c_before": 2 * before / expected}


def _vogels_fast_run():
    """The fast test's protocol on 400 E / 100 I; returns ``rate_before``, ``_balance``'s measures over the last
    10 s and ``_istdp_pair_factor``'s over the same window (with the rule on throughout)."""
    net = _vogels_network(400, 100, 0.4, eta=0.2 * nS)
    spikes = net["spikes_E"]
    net.run(250 * ms)
    rate_before = spikes.num_spikes / 400 / 0.25
    net["IE"].istdp_eta = 0.5 * nS              # eta 50x the reference 0.01 nS, kept on while measuring
    net.run(5 * second)
    m = _balance(net, 10 * second)
    return {"rate_before": rate_before, **m, **_istdp_pair_factor(net, m["start"])}


def test_vogels_fast_rate_balance_and_irregularity():
    """Test 2 (fast): 400 E / 100 I at in-degrees of the reference, 5 s of fast learning, then 10 s measured.

    Why this schedule (measured, cython, seeds 1-6): the small network's E rate fluctuates slowly by itself.
    With the I->E weights frozen (eta = 0) 1-s windows range 1.7-4.5 Hz and even 8-s windows over seeds span
    2.5-4.0 Hz, so lowering eta for the measurement does not help: it freezes whatever weights the last
    learning phase left, and the old schedule (eta 0.2 nS for 1.25 s, then 0.02 nS) left them short of the
    fixed point (the rate barely depends on the mean weight near it, so eta 0.02 nS would need tens of
    seconds: the mean weight was still drifting at 0.3 %/s). Learning fast (0.5 nS) for 5 s and keeping the
    rule on at that eta while measuring lets it converge and then cancel the slow fluctuations, and its
    fixed point can be checked directly: the rule's net weight change over the window is
    eta (2 tau n_pre)(rho_seen - rho0), so rho_seen = rho0 means no mean drift. (Tried and rejected:
    eta 0.2 nS for 1.25 s then 0.1 nS, 8 s measured at 0.1 or 0.2 nS: rho_seen 2.96-3.48 Hz, rates up to
    3.46 Hz; 3 s at 0.5 nS then 8 s at 0.2 nS: rho_seen up to 3.35 Hz, rate 3.46 Hz for seed 10.)
    Measured with this protocol, brian2.seed(k) before building, cython, 13 seeds (1-12 and the fixture's
    2021): rate before 28.3-33.4 Hz; rate 2.94-3.37 Hz (mean 3.19); rho_seen 2.95-3.18 Hz; c 0.92-1.09;
    corr 0.43-0.58 (population 0.69-0.79); net/excitation 0.21-0.23; CV 0.69-0.82. The fixture's seed
    gives 3.06 Hz, rho_seen 3.01 Hz (cython). On the numpy target (other random streams): the fixture's
    seed 3.23 Hz, rho_seen 3.11 Hz, c 0.975; seed 10 3.36 Hz, rho_seen 3.04, c 0.91; seed 4 3.00 Hz,
    rho_seen 3.01, c 1.02, CV 0.67.
    """
    # numpy target (the fixture's): ~40 s. Cython runs it in ~15 s once compiled, but compiling its code
    # objects took ~165 s on a cold cache here, more than the whole run on numpy
    m = _vogels_fast_run()
    print(f"Vogels fast: rate before {m['rate_before']:.2f} Hz, after {m['rate']:.2f} Hz; rate seen by the rule "
          f"{m['rho_seen']:.3f} Hz, pair factor c {m['c']:.3f}; corr {m['corr']:.2f} (population "
          f"{m['corr_pop']:.2f}), net/excitation {m['ratio']:.2f}, CV {m['cv']:.2f}")
    # without inhibitory weights the network fires an order of magnitude above rho0 (the perturbation;
    # measured 28-34 Hz)
    assert m["rate_before"] > 5 * 3
    # learning has converged to the rule's fixed point: the rate the rule sees is rho0 (the criterion of the
    # full-size test). Measured 2.95-3.18 Hz over 13 seeds (|deviation| <= 5.9 %): what is left is the mean
    # weight's drift over the 10 s, i.e. the slow rate fluctuations the rule is still correcting; 10 % keeps
    # 4 points of margin
    assert abs(m["rho_seen"] - 3) / 3 < 0.10
    # the band: the E rate within 15 % of rho0. The rate is rho_seen / c with the spike-pair factor
    # c near 1 at this size (shared input makes I cells fire just after their targets, which offsets
    # the suppression that gives c ~ 0.8 at full size): measured c 0.91-1.09, mostly below 1, so the rate
    # sits slightly above rho0 (mean 3.19 Hz, range 2.94-3.37 Hz = -2 % to +12.4 % over 13 seeds; rho0 / c
    # from 2.75 to 3.26 Hz). The worst seed (10: c 0.93, rate 3.37 Hz) keeps 2.6 points of margin. With the
    # old schedule (2-s window, eta annealed to 0.02 nS) 2-s windows spanned 1.95-4.35 Hz
    assert abs(m["rate"] - 3) / 3 < 0.15
    # E and I currents co-vary; with no learned inhibition the correlation is ~0 (|r| ~ 0.01 by chance for
    # 10000 samples); the balanced small network reaches 0.43-0.58 per neuron over 16 runs (neurons share
    # 40 % of their inputs, so the shared population fluctuations dominate each neuron's currents)
    assert m["corr"] > 0.2
    # the net input is small against the excitation it cancels: ~22 % here (leak and threshold take the
    # rest); measured 0.21-0.24 over 16 runs (13 seeds cython, 3 numpy)
    assert m["ratio"] < 0.35
    # asynchronous-irregular: Poisson gives 1, regular firing < 0.3; measured 0.67-0.83 over 16 runs (~30
    # ISIs per neuron; eta 0.5 nS adds some weight noise but the firing stays irregular)
    assert 0.6 < m["cv"] < 1.4


@pytest.mark.long
def test_vogels_full_size_reference():
    """Test 2 (long): the Brian2 reference network, 8000 E / 2000 I, 2 %: 1 s without plasticity, then
    plasticity annealed (eta 20x the reference 0.01 nS for 8 s, then 2x for 10 s).

    The E rate settles at ~3.9 Hz, not rho0 = 3 Hz, and this is the rule's own fixed point, not a defect
    (measured). The rule's drift vanishes at rho0 only for independent pre/post trains; here each inhibitory
    spike suppresses its target for ~20 ms (the target's rate drops to 20-35 % of its mean 1-10 ms after
    it), so pairs with the postsynaptic spike after the presynaptic one are rarer than chance, the pair
    term is c ~ 0.8 of its independent value, and the weights stop growing at rho_post c = rho0, i.e.
    rho_post ~ rho0 / 0.8. In the 500-neuron network shared input makes inhibitory cells fire just after
    their targets, which compensates (c ~ 0.9-1). Checks (measured): the mean I->E weight is flat (2.1 nS)
    from 3 s on and the drift per presynaptic spike is 0.4 % of alpha; Brian2's example script run
    verbatim with this schedule gives 3.85 Hz, c = 0.81; at its own eta 0.01 nS it is still at 4.4 Hz
    after 100 s (c = 0.81, weights still growing: heading for ~3.7-3.9 Hz, not 3 Hz); with the same fixed
    I->E weights (3.5 nS, no plasticity) both networks fire at 4.29 and 4.25 Hz.
    """
    from brian2 import prefs
    prefs.codegen.target = "cython"
    net = _vogels_network(8000, 2000, 0.02, eta=0.0 * nS)
    net.run(1 * second)
    rate_before = net["spikes_E"].num_spikes / 8000
    net["IE"].istdp_eta = 0.2 * nS
    net.run(8 * second)
    net["IE"].istdp_eta = 0.02 * nS
    net.run(10 * second)
    m = _balance(net, 5 * second)
    pairs = _istdp_pair_factor(net, m["start"])
    print(f"Vogels full size: rate before {rate_before:.1f} Hz, after {m['rate']:.2f} Hz; rate seen by the rule "
          f"{pairs['rho_seen']:.3f} Hz, pair factor c {pairs['c']:.3f} (post after pre {pairs['c_after']:.3f}, "
          f"before {pairs['c_before']:.3f}); corr {m['corr']:.3f} (population {m['corr_pop']:.3f}), "
          f"net/excitation {m['ratio']:.2f}, CV {m['cv']:.2f}")
    # without inhibitory weights the network fires ~50x rho0 (the perturbation)
    assert rate_before > 10 * 3
    # learning has converged to the rule's fixed point: the rate the rule sees is rho0 (measured 3.01 Hz; the
    # E rate wanders by ~5 % over 1-s windows with the weight noise of eta = 0.02 nS, less over 5 s)
    assert abs(pairs["rho_seen"] - 3) / 3 < 0.05
    # the correlation that moves it: an inhibitory spike suppresses its target (post-after-pre pairs at
    # 0.56 of chance), the reverse order is near chance (1.04: little shared input at 2 % connectivity)
    assert pairs["c_after"] < 0.75 and 0.9 < pairs["c_before"] < 1.2
    # hence the rate settles above rho0 but near it (measured 3.9 Hz, 1.3 rho0), from ~165 Hz before learning
    assert 3 < m["rate"] < 1.5 * 3
    # E and I currents co-vary: averaged over 100 neurons (the population fluctuations every neuron shares)
    # 0.6, as in the 500-neuron network; single neurons' 1-ms currents 0.11, since at 2 % connectivity
    # most of each neuron's current fluctuations is the shot noise of its own 200 inputs (chance level for
    # the mean over 100 neurons of 5000 autocorrelated samples: ~0.01)
    assert m["corr_pop"] > 0.4
    assert m["corr"] > 0.05
    assert m["ratio"] < 0.35                     # as in the fast test (measured 0.19)
    assert 0.7 < m["cv"] < 1.4                   # 5-s window: ~20 ISIs per neuron, smaller bias than fast test (0.92)


# ---------------------------------------------------------------------------------------------------------
# LateralInhibition
# ---------------------------------------------------------------------------------------------------------
def _soft_wta(D, k):
    """Fixed point of r = [D - k mean(r)]_+ (iterate the monotone map)."""
    r = np.maximum(D, 0)
    for _ in range(10000):
        new = np.maximum(D - k * r.mean(), 0)
        if np.allclose(new, r, rtol=0, atol=1e-12):
            break
        r = 0.5 * (r + new)
    return r


def test_lateral_inhibition_rate_reaches_the_soft_wta_fixed_point():
    N, k = 10, 4.0
    lat = LateralInhibition(k=k)
    layer = RateNeuron().group(N, mechanisms=[lat])
    net = Network(layer, *lat.attach(layer))
    D = np.linspace(2, 20, N)
    layer.I_ext = D * Hz
    net.run(300 * ms)
    r = np.array(layer.r / Hz)
    expected = _soft_wta(D, k)
    # 30 membrane time constants: the transient is below e^-10 of the rates (the loop is stable, gain < 1+k)
    np.testing.assert_allclose(r, expected, atol=1e-3)
    assert r[0] == pytest.approx(0, abs=1e-3) and r[-1] > 0      # weak units silenced, strong ones kept
    # the pool holds the layer mean (read it from the pool: Brian2 cannot index a constant-index linked variable)
    assert float(lat.pool_of(layer).P[0] / Hz) == pytest.approx(r.mean(), rel=1e-3)


def test_lateral_inhibition_spiking_pool_lowers_rates_and_sharpens_contrast():
    def run(mechs):
        lat = mechs[0] if mechs else None
        E = LIF().group(20, mechanisms=mechs)
        E.I_ext = np.linspace(22, 30, 20) * mV
        objs = [E] + (list(lat.attach(E)) if lat else [])
        mon = SpikeMonitor(E)
        Network(*objs, mon).run(500 * ms)
        return np.array(mon.count) / 0.5
    free = run([])
    inhibited = run([LateralInhibition(k=0.2 * mV / Hz, tau=10 * ms)])
    assert inhibited.mean() < 0.8 * free.mean()           # the pool inhibits (deterministic: no noise)
    # contrast (strongest / weakest active unit) grows: subtraction hits weak units relatively harder
    active = inhibited > 0
    assert inhibited[active][-1] / inhibited[active][0] > free[active][-1] / free[active][0]


# ---------------------------------------------------------------------------------------------------------
# DivisiveNormalization: validation test 5
# ---------------------------------------------------------------------------------------------------------
def test_divisive_normalization_is_exact_and_fits_naka_rushton():
    """Test 5: the rate layer's contrast response is Carandini-Heeger exactly, hence Naka-Rushton."""
    gamma, sigma, n, N = 50.0, 10.0, 2.0, 10
    dn = DivisiveNormalization(gamma=gamma * Hz, sigma=sigma * Hz, n=n)
    layer = RateNeuron().group(N, mechanisms=[dn])
    net = Network(layer, *dn.attach(layer))
    w = np.linspace(0.2, 1.0, N)
    contrasts = np.array([0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128])
    R = []
    for c in contrasts:
        layer.I_ext = c * w * Hz
        net.run(150 * ms)                   # 15 time constants per contrast
        R.append(np.array(layer.r / Hz))
    R = np.array(R)
    D = contrasts[:, None] * w[None, :]
    expected = gamma * D ** n / (sigma ** n + (D ** n).sum(axis=1, keepdims=True))
    # exact normalization at the fixed point; the remaining transient is e^-15 ~ 3e-7 of the step
    np.testing.assert_allclose(R, expected, rtol=1e-5, atol=1e-9)

    unit = N - 1
    fit = contrast_response_fit(contrasts, R[:, unit], p0=(R[-1, unit], 5.0, 2.0))
    r2, popt = fit["r2"], (fit["r_max"], fit["c50"], fit["n"])
    print(f"Naka-Rushton fit: R^2 = {r2:.8f}, R_max {popt[0]:.3f} Hz, c50 {popt[1]:.3f}, n {popt[2]:.3f}")
    assert r2 > 0.99                                    # the criterion
    # the fitted parameters are the analytic ones (c50 = sigma / (sum w^n)^(1/n), R_max = gamma w_i^n / sum w^n)
    assert popt[1] == pytest.approx(sigma / np.sum(w ** n) ** (1 / n), rel=1e-3)
    assert popt[0] == pytest.approx(gamma * w[unit] ** n / np.sum(w ** n), rel=1e-3)
    assert popt[2] == pytest.approx(n, rel=1e-3)


def test_divisive_normalization_spiking_shunting_divides_rates():
    def run(mechs):
        dn = mechs[0] if mechs else None
        E = LIF().group(20, mechanisms=mechs)
        E.I_e = 0 * mV
        E.I_ext = 0 * mV
        # drive through the synaptic input (the gain hook divides synaptic input only)
        from brian2 import PoissonGroup
        src = PoissonGroup(50, 100 * Hz)
        S = synapses(src, E, "w : volt", on_pre="I_e_post += w")
        connect(S)
        S.w = "(0.8 + 0.8*j/19)*mV"        # mean drive 20-40 mV: threshold at 20 mV
        mon = SpikeMonitor(E)
        objs = [E, src, S, mon] + (list(dn.attach(E)) if dn else [])
        Network(*objs).run(1 * second)
        return np.array(mon.count, dtype=float)
    free = run([])
    from brian2 import seed
    seed(2021)
    dn = DivisiveNormalization(sigma=100 * Hz, n=1, tau=20 * ms)
    shunted = run([dn])
    print(f"shunting: free {free.mean():.1f} Hz, shunted {shunted.mean():.1f} Hz")
    assert free.sum() > 0
    assert shunted.sum() < 0.8 * free.sum()          # pooled shunting lowers the layer's output


# ---------------------------------------------------------------------------------------------------------
# cpp_standalone: the same pooled and synaptic mechanisms give the same numbers as runtime
# ---------------------------------------------------------------------------------------------------------
def _standalone_net():
    """Deterministic (no random numbers): rate layer with DN and LI, spiking E/I with iSTDP and a pool."""
    from brian2 import SpikeGeneratorGroup
    dn = DivisiveNormalization(gamma=50 * Hz, sigma=10 * Hz, n=2)
    rate_layer = RateNeuron().group(8, mechanisms=[dn], name="rates")
    rate_layer.I_ext = np.linspace(1, 30, 8) * Hz
    lat = LateralInhibition(k=0.05 * mV / Hz)
    E = LIF().group(10, mechanisms=[lat], name="E")
    E.I_ext = np.linspace(21, 30, 10) * mV
    times = np.arange(5, 400, 7) * ms
    I = SpikeGeneratorGroup(3, np.arange(len(times)) % 3, times, name="I")
    istdp = InhibitorySTDP(rho0=10 * Hz, eta=0.05 * mV, w_max=5 * mV)
    S = synapses(I, E, "w : volt", on_pre="I_i_post += w", mechanisms=[istdp], name="IE")
    connect(S)
    S.w = "0.1*mV*(1 + i + j)"
    mon = SpikeMonitor(E, name="spk")
    objs = [rate_layer, E, I, S, mon, *dn.attach(rate_layer), *lat.attach(E)]
    net = Network(*objs)
    net.run(400 * ms)
    return (np.array(rate_layer.r / Hz), np.array(S.w / mV), np.array(mon.count))


@pytest.mark.standalone
@pytest.mark.parametrize("device", STANDALONE)
def test_standalone_matches_runtime(device):
    from homeonet.simulate import use_device
    from brian2 import start_scope
    r_rt, w_rt, c_rt = _standalone_net()
    start_scope()
    with use_device(device):
        r_sa, w_sa, c_sa = _standalone_net()
    # same algorithm, same double precision, no random numbers: agreement to rounding, and identical spikes
    np.testing.assert_allclose(r_sa, r_rt, rtol=1e-9)
    np.testing.assert_array_equal(c_sa, c_rt)
    np.testing.assert_allclose(w_sa, w_rt, rtol=1e-9, atol=1e-12)
    assert c_rt.sum() > 0 and not np.allclose(w_rt, w_rt[0])
