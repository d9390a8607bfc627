"""The mechanism protocol: merging, prefixes, clashes, hooks, user groups, devices."""

import numpy as np
import pytest
from brian2 import Hz, Network, NeuronGroup, SpikeMonitor, StateMonitor, mV, ms, second

import homeonet as hn
from homeonet.simulate import use_device
from homeonet import Contribution, HomeonetError, IntrinsicPlasticity, Mechanism, Operation, RateSensor
from homeonet._validate import ParameterError
from devices import STANDALONE

# A user's own model: a leaky integrator with a constant drive above threshold, its gain a hook.
USER_EQS = "dv/dt = (gain*drive - v)/(10*ms) : volt\ndrive : volt"


def user_group(mechanisms, N=5, **kw):
    kw.setdefault("hooks", {})
    kw["hooks"] = {"gain": (1, "product"), **kw["hooks"]}
    G = hn.neuron_group(N, USER_EQS, threshold="v > 10*mV + theta", reset="v = 0*mV",
                        mechanisms=mechanisms, method="exact", **kw)
    G.drive = np.linspace(12, 20, N) * mV
    return G


class Counter(Mechanism):
    """Minimal test mechanism: counts spikes and contributes a gain term."""

    prefix = "count"

    def neurons(self, target):
        return Contribution(model="n : 1\ng = 1 + 0*n : 1", reset="n += 1", hooks={"gain": ("g", "product")},
                            params={"scale": 2 * mV})


def test_names_are_prefixed_and_parameters_are_shared_constants():
    G = user_group([IntrinsicPlasticity(target=20 * Hz)])
    for name in ("ip_theta", "ip_eta", "ip_target", "ip_sensor_A", "ip_sensor_tau", "theta"):
        assert name in G.variables, name
    assert G.variables["ip_eta"].scalar and G.variables["ip_eta"].constant
    assert float(G.ip_target[:] / Hz) == 20.0


def test_hook_without_contribution_is_neutral_and_declared_hooks_are_defined():
    G = hn.neuron_group(3, "dv/dt = -v/(10*ms) : volt", threshold="v > 1*mV + theta", reset="v = 0*mV",
                        hooks={"theta": (mV, "sum"), "gain": (1, "product")}, method="exact")
    assert np.all(G.theta[:] == 0 * mV)
    assert np.all(G.gain[:] == 1)


def test_two_terms_of_a_hook_are_summed():
    a = IntrinsicPlasticity(target=5 * Hz, name="ip_a")
    b = IntrinsicPlasticity(target=5 * Hz, name="ip_b")
    G = user_group([a, b])
    G.ip_a_theta = 1 * mV
    G.ip_b_theta = 2 * mV
    assert np.allclose(G.theta[:] / mV, 3.0)


def test_product_hook_and_reset_code_are_merged():
    G = user_group([Counter()], N=2, hooks={"theta": (mV, "sum")})
    mon = SpikeMonitor(G)
    net = Network(G, mon)
    net.run(50 * ms)
    assert np.all(G.gain[:] == 1)
    assert np.array_equal(G.count_n[:], np.bincount(mon.i[:], minlength=2))
    assert G.count_n[0] > 0


def test_same_name_twice_is_a_clear_error():
    with pytest.raises(HomeonetError, match="two mechanisms are named 'ip'"):
        user_group([IntrinsicPlasticity(), IntrinsicPlasticity()])


def test_clash_with_user_variable_names_both_owners():
    with pytest.raises(HomeonetError, match=r"'ip_theta' is defined by both the group's own equations"):
        hn.neuron_group(2, "dv/dt = -v/(10*ms) : volt\nip_theta : volt", threshold="v > 1*mV",
                        mechanisms=[IntrinsicPlasticity()])


def test_user_defined_hook_driven_by_a_mechanism_is_an_error():
    with pytest.raises(HomeonetError, match="hook 'theta' is defined by the group's own equations"):
        hn.neuron_group(2, "dv/dt = -v/(10*ms) : volt\ntheta : volt", threshold="v > 1*mV + theta",
                        mechanisms=[IntrinsicPlasticity()])


def test_hook_units_must_match_the_model():
    with pytest.raises(HomeonetError, match="drives hook 'theta' in Hz, but the hook is in mV"):
        hn.neuron_group(2, "dv/dt = -v/(10*ms) : volt", threshold="v > 1*mV + theta",
                        hooks={"theta": (mV, "sum")}, mechanisms=[IntrinsicPlasticity(eta=0.1)])


def test_shared_sensor_is_contributed_once():
    sensor = RateSensor(tau=200 * ms, name="rate")
    a = IntrinsicPlasticity(target=5 * Hz, sensor=sensor, name="ip_a")
    b = IntrinsicPlasticity(target=5 * Hz, sensor=sensor, name="ip_b")
    G = user_group([a, b])
    assert "rate_A" in G.variables and "ip_a_sensor_A" not in G.variables


def test_spiking_mechanism_on_rate_group_needs_rate_variable():
    with pytest.raises(HomeonetError, match="pass rate="):
        hn.neuron_group(2, "dr/dt = -r/(10*ms) : Hz", mechanisms=[IntrinsicPlasticity(eta=0.1)])


def test_regular_operation_runs_with_its_period():
    class Tick(Mechanism):
        prefix = "tick"

        def neurons(self, target):
            return Contribution(model="k : 1", operations=(Operation("k += 1", dt=10 * ms, when="end"),))

    G = user_group([Tick()], N=1, hooks={"theta": (mV, "sum")})
    net = Network(G)
    net.run(100 * ms)
    assert G.tick_k[0] == 10  # one update per 10 ms period: 100 ms -> exactly 10
    assert f"{G.name}_tick_op" in [o.name for o in G.contained_objects]


def test_intrinsic_plasticity_on_a_user_group_reaches_the_target():
    # Each neuron has a different drive, hence a different initial rate (35-110 Hz);
    # IP must bring every one to 20 Hz.
    ip = IntrinsicPlasticity(target=20 * Hz, eta=0.05 * mV / Hz, period=20 * ms,
                             sensor=RateSensor(tau=200 * ms, initial=20 * Hz))
    G = user_group([ip])
    mon = SpikeMonitor(G)
    net = Network(G, mon)
    net.run(8 * second)
    last = mon.t > 6 * second
    rates = np.bincount(mon.i[last], minlength=len(G)) / 2.0
    # 10 % band: the rule's stationary jitter is eta*|A - target| ~ 0.05 mV per update on a
    # ~5 mV-wide operating range, i.e. a few percent of the rate; 10 % is the criterion.
    assert np.all(np.abs(rates - 20) < 2.0), rates


def test_rate_neurons_use_the_rate_variable():
    ip = IntrinsicPlasticity(target=10 * Hz, eta=0.05, period=5 * ms, sensor=RateSensor(tau=50 * ms, initial=10 * Hz))
    G = hn.neuron_group(4, "dr/dt = (clip(I - theta, 0*Hz, 100*Hz) - r)/(10*ms) : Hz\nI : Hz", rate="r",
                        mechanisms=[ip], method="euler")
    G.I = [20, 30, 40, 50] * Hz
    net = Network(G)
    net.run(3 * second)
    # threshold-linear unit: the fixed point is exact once theta = I - target
    assert np.allclose(G.r[:] / Hz, 10, rtol=0.02)
    assert np.allclose(G.ip_theta[:] / Hz, [10, 20, 30, 40], rtol=0.03)


def test_synapse_mechanism_requires_its_neuron_part_on_the_target():
    class Scale(Mechanism):
        prefix = "sc"

        def neurons(self, target):
            return Contribution(model="f : 1", init={"f": 1})

        def synapses(self, target):
            return Contribution(model="w_eff = w * f_post : volt")

    mech = Scale()
    pre = NeuronGroup(2, "v : volt", threshold="False")
    plain = NeuronGroup(2, "dv/dt = -v/(10*ms) : volt")
    with pytest.raises(HomeonetError, match="pass it in that group's mechanisms= too"):
        hn.synapses(pre, plain, "w : volt", on_pre="v_post += w", mechanisms=[mech])
    post = hn.neuron_group(2, "dv/dt = -v/(10*ms) : volt", mechanisms=[mech])
    S = hn.synapses(pre, post, "w : volt", on_pre="v_post += w", mechanisms=[mech])
    hn.connect(S, j="i")
    S.w = 1 * mV
    post.sc_f = [1, 3]
    assert np.allclose(S.sc_w_eff[:] / mV, [1, 3])


def test_not_a_mechanism_is_rejected():
    with pytest.raises(HomeonetError, match="mechanisms must be homeonet Mechanism instances"):
        user_group(["ip"])


@pytest.mark.parametrize("bad", [dict(target=-5 * Hz), dict(target=5 * mV), dict(period=0 * ms),
                                 dict(eta=float("nan") * mV / Hz), dict(name="2ip")])
def test_bad_mechanism_parameters(bad):
    with pytest.raises(HomeonetError) as err:
        IntrinsicPlasticity(**bad)
    assert "\n" not in str(err.value)
    assert list(bad)[0] in str(err.value)


def _deterministic_theta(device):
    """Run a noise-free user group with IP; return theta after 1 s."""
    import brian2

    brian2.start_scope()
    with use_device(device):
        ip = IntrinsicPlasticity(target=20 * Hz, eta=0.05 * mV / Hz, period=20 * ms,
                                 sensor=RateSensor(tau=200 * ms, initial=20 * Hz))
        G = user_group([ip])
        M = StateMonitor(G, "ip_theta", record=True, dt=100 * ms)
        net = Network(G, M)
        net.run(1 * second)
        return np.array(M.ip_theta / mV)


@pytest.mark.standalone
@pytest.mark.parametrize("device", STANDALONE)
def test_mechanism_on_user_group_runs_in_cpp_standalone_like_runtime(device):
    runtime = _deterministic_theta("runtime")
    standalone = _deterministic_theta(device)
    assert runtime.shape == standalone.shape and np.any(runtime != 0)
    # same equations, same deterministic input: devices differ only by floating-point
    # evaluation order, far below 1e-6 mV
    assert np.allclose(runtime, standalone, atol=1e-6)


def test_helper_objects_of_a_mechanism_are_contained_in_the_group():
    from homeonet.models import RateNeuron

    lat = hn.LateralInhibition(k=1.0)
    layer = RateNeuron().group(10, mechanisms=[lat])
    layer.I_ext = np.linspace(10, 50, 10) * Hz
    net = Network(layer)  # no explicit pool: it comes with the group
    net.run(100 * ms)
    pool = lat.pool_of(layer)
    assert pool in layer.contained_objects and lat.attach(layer)[0] is pool  # attach is idempotent
    assert np.isclose(float(pool.P[0] / Hz), float(np.mean(layer.r[:] / Hz)), rtol=1e-3)


def _periodic_group(**kw):
    sensor = RateSensor(tau=200 * ms, initial=10 * Hz)
    ip = IntrinsicPlasticity(target=10 * Hz, period=50 * ms, sensor=sensor)
    gh = hn.GlobalHomeostasis(gamma=10 * Hz, tau_H=200 * ms, tau_G=1 * second, period=50 * ms, sensor=sensor)
    return user_group([ip, gh], **kw)


def test_periodic_objects_add_no_clock_on_the_runtime_device():
    """Brian2's runtime loop pays per distinct clock and step: periodic objects run on the group's clock."""
    G = _periodic_group()
    every_step = StateMonitor(G, ["ip_theta", "glob_G"], record=[0], when="end", order=100)
    net = Network(G, every_step)
    net.run(200 * ms)
    assert len(net._clocks) == 1
    # ...and act only on the steps of the period: theta and the pool's gain change at 0, 50, 100, 150 ms
    for var in ("ip_theta", "glob_G"):
        changed = np.flatnonzero(np.diff(getattr(every_step, var)[0])) + 1
        assert set(np.round(every_step.t[changed] / ms, 6)) <= {50.0, 100.0, 150.0}, var
        assert len(changed) >= 2, var  # the drive keeps the neurons off the set point: the rules move them
    assert hn.mechanism.shared_clock(50 * ms) is hn.mechanism.shared_clock(0.05 * second)
    assert hn.mechanism.shared_clock(20 * ms) is not hn.mechanism.shared_clock(50 * ms)


def test_periods_that_are_not_whole_steps_keep_a_clock_of_their_own():
    from brian2 import defaultclock

    G = user_group([IntrinsicPlasticity(target=10 * Hz, period=0.25 * ms)])
    net = Network(G)
    net.run(1 * ms)
    assert {float(c.dt) for c in net._clocks} == {float(defaultclock.dt), 0.25e-3}


def test_a_period_of_one_step_stays_one_period_when_the_step_shrinks():
    ip = IntrinsicPlasticity(target=5 * Hz, eta=0.5 * mV / Hz, period=0.1 * ms)
    G = user_group([ip], dt=0.1 * ms)  # the period is the group's step: acts on every step (k = 1)
    mon = StateMonitor(G, "ip_theta", record=[0], when="end", order=100)
    net = Network(G, mon)
    net.run(3 * ms)
    G.clock.dt = 0.05 * ms  # now two steps per period: it must act on every second one
    net.run(3 * ms)
    late = mon.t >= 3 * ms
    changed = np.flatnonzero(np.diff(mon.ip_theta[0][late])) + 1
    assert len(changed) >= 10  # the rule moves theta (5 Hz target, no spikes yet)
    steps = np.round(np.asarray(mon.t[late][changed] / ms) / 0.1, 6)
    assert np.all(steps == np.round(steps))  # only at multiples of 0.1 ms


def test_a_time_step_changed_after_the_build_is_refused_when_the_period_no_longer_fits():
    G = _periodic_group(dt=0.1 * ms)  # a clock of its own (the default clock is everyone's)
    net = Network(G)
    net.run(1.2 * ms)
    G.clock.dt = 0.3 * ms  # 50 ms is no whole number of 0.3-ms steps
    with pytest.raises(Exception) as info:
        net.run(1 * ms)
    error = info.value if isinstance(info.value, HomeonetError) else info.value.__cause__  # Brian2 wraps it
    assert isinstance(error, HomeonetError) and "whole number of time steps" in str(error)
    # homeonet.simulate unwraps it: the error itself, a ParameterError (the command's exit status 2)
    with pytest.raises(ParameterError, match="whole number of time steps"):
        hn.simulate(net, 30 * ms, progress=False)
