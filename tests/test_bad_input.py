"""Bad input, by kind: each kind of fault a new user's input can provoke is refused in one line naming the
parameter (a ``HomeonetError``), before any work. No simulation runs here: every case fails at once."""

import numpy as np
import pytest
from brian2 import Hz, mV, ms, second

import homeonet as hn
from homeonet import analysis, datasets
from homeonet._validate import HomeonetError, check_count
from homeonet.models import diehl_cook, stimuli


def _one_line(excinfo, *needles):
    msg = str(excinfo.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, msg


# -- kind: a bool taken for an integer ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_a_bool_is_not_a_count(value):
    with pytest.raises(HomeonetError) as err:
        check_count("N", value, minimum=0)
    _one_line(err, "N must be an integer")


def test_a_bool_is_not_a_count_in_a_sweep_or_an_experiment():
    from homeonet.models.experiments import get_experiment
    from homeonet.sweep import load_spec

    with pytest.raises(HomeonetError) as err:
        get_experiment("homeostasis").resolve({"N_E": True})
    _one_line(err, "N_E")
    with pytest.raises(HomeonetError) as err:
        load_spec({"experiment": "homeostasis", "seeds": [True], "grid": {"eta": ["0.1 mV/Hz"]}})
    _one_line(err, "seeds")


# -- kind: a seed out of range or of the wrong type (numpy, sklearn or Brian2 would raise their own error) -----

_R = np.random.default_rng(0).random((20, 4))
_L = np.repeat(np.arange(4), 5)
SEEDED = {
    "decoding_accuracy": lambda s: analysis.decoding_accuracy(_R, _L, seed=s),
    "decoding_information": lambda s: analysis.decoding_information(_R, _L, seed=s),
    "mutual_information": lambda s: analysis.mutual_information(_R, _L, correction="shuffle", seed=s),
    "count_correlation": lambda s: analysis.count_correlation(np.arange(10) % 5, np.linspace(0, 1, 10) * second, n=5,
                                                              t_stop=1 * second, max_neurons=2, seed=s),
    "class_patterns": lambda s: stimuli.class_patterns(seed=s),
    "sequence": lambda s: stimuli.class_patterns().sequence(2, seed=s),
    "diehl_cook.schedule": lambda s: diehl_cook.schedule("digits", n_train=10, n_test=10, seed=s),
    "datasets.load": lambda s: datasets.load("digits", split_seed=s),
}


@pytest.mark.parametrize("seed", [-1, 2 ** 40, "0", 1.5, True])
@pytest.mark.parametrize("where", sorted(SEEDED))
def test_every_seed_is_checked_against_brian2s_range(where, seed):
    with pytest.raises(HomeonetError) as err:
        SEEDED[where](seed)
    _one_line(err, "seed must be an integer in [0, 4294967295]")


# -- kind: a wrong type reaching Python or Brian2 internals (a TypeError/AttributeError traceback) -------------

def _group(mechanisms, model="dv/dt = -v/(10*ms) : volt"):
    return hn.neuron_group(3, model, threshold="v > 10*mV + theta", reset="v = 0*mV", mechanisms=mechanisms)


@pytest.mark.parametrize("call, needle", [
    (lambda: _group(hn.IntrinsicPlasticity()), "mechanisms must be a list"),
    (lambda: _group([hn.IntrinsicPlasticity()], model="dv/dt = -v/(10*ms : volt"), "model is not valid"),
    (lambda: _group([hn.IntrinsicPlasticity()], model=3), "model must be"),
    (lambda: hn.WeightNormalization(total=[1, 2]), "total"),
    (lambda: hn.load(3), "path must be a path"),
    (lambda: hn.load(None), "path must be a path"),
    (lambda: hn.load_sweep(3), "path must be a path"),
    (lambda: hn.simulate(None, 10 * ms), "net must be a brian2.Network"),
    (lambda: hn.simulate(_group([]), 10 * ms), "net must be a brian2.Network"),
])
def test_a_wrong_type_is_a_one_line_error(call, needle):
    with pytest.raises(HomeonetError) as err:
        call()
    _one_line(err, needle)


def test_a_spec_that_is_not_text_is_a_one_line_error(tmp_path):
    from homeonet.sweep import load_spec

    spec = tmp_path / "binary.toml"
    spec.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(HomeonetError) as err:
        load_spec(spec)
    _one_line(err, "not valid TOML")


def test_a_netcdf_file_that_is_not_a_sweep_is_refused(tmp_path):
    import xarray as xr

    xr.Dataset({"a": ("x", np.arange(3))}).to_netcdf(tmp_path / "foreign.nc")
    with pytest.raises(HomeonetError) as err:
        hn.load_sweep(tmp_path / "foreign.nc")
    _one_line(err, "not a homeonet sweep")


@pytest.mark.parametrize("call, needle", [
    (lambda net: hn.simulate(net, 10 * ms, progress="no"), "progress must be True or False"),
    (lambda net: hn.simulate(net, 10 * ms, progress=False, seed=-1), "seed must be an integer"),
    (lambda net: hn.simulate(net, 0.01 * ms, progress=False), "duration must be at least one time step"),
])
def test_simulate_checks_its_options_before_the_run(call, needle):
    from brian2 import Network

    with pytest.raises(HomeonetError) as err:
        call(Network(_group([])))
    _one_line(err, needle)


# -- kind: a mechanism that could not act where it was given ---------------------------------------------------

def test_a_neuron_rule_given_to_synapses_is_refused():
    pre = hn.neuron_group(2, "dv/dt = -v/(10*ms) : volt", threshold="v > 1*mV", reset="v = 0*mV")
    post = hn.neuron_group(2, "dv/dt = -v/(10*ms) : volt", threshold="v > 1*mV", reset="v = 0*mV")
    with pytest.raises(HomeonetError) as err:
        hn.synapses(pre, post, "w : volt", on_pre="v_post += w", mechanisms=[hn.IntrinsicPlasticity()])
    _one_line(err, "contributes nothing to synapses", "neuron_group")


# -- kind: nonsense accepted and a wrong number returned (a window or bin beyond the data) ---------------------

def test_a_bin_longer_than_the_window_is_refused():
    # 5 spikes of 3 neurons in 1 s: one 2-s bin would report 5 / (3 x 2 s) = 0.83 Hz, half the true rate
    with pytest.raises(HomeonetError) as err:
        analysis.population_rate([0.1, 0.2, 0.3, 0.5, 0.9] * second, 3, 1 * second, bin=2 * second)
    _one_line(err, "bin must fit at least once")


def test_results_rates_refuse_a_window_beyond_the_run():
    from brian2 import Network, PoissonGroup, SpikeMonitor

    P = PoissonGroup(5, 50 * Hz)
    results = hn.simulate(Network(P, SpikeMonitor(P)), 20 * ms, progress=False)
    for window in ({"t_start": -1 * second}, {"t_stop": 1 * second}):
        with pytest.raises(HomeonetError) as err:
            results.rates(P.name, **window)
        _one_line(err, "must lie within the run")


# -- kind: absurd sizes that would hang before any error; valid Python values refused ---------------------------

@pytest.mark.parametrize("section", [
    {"grid": {"factor": {"start": 0.1, "stop": 1.0, "num": 10 ** 8}}},
    {"grid": {"factor": {"start": 0.1, "stop": 1.0, "num": 400}, "onset": {"start": 0.1, "stop": 0.9, "num": 400}}},
    {"sample": {"n": 10 ** 9, "factor": {"low": 0.1, "high": 1.0}}},
])
def test_a_sweep_of_absurd_size_is_refused_at_once(section):
    from homeonet.sweep import load_spec

    with pytest.raises(HomeonetError) as err:
        load_spec({"experiment": "homeostasis", "seeds": [1], **section})
    _one_line(err, "more than the 100000 one sweep may have")


def test_a_dict_spec_takes_brian2_quantities():
    from homeonet.sweep import load_spec

    spec = load_spec({"experiment": "homeostasis", "seeds": [1], "grid": {"eta": [0.1 * mV / Hz, 0.05 * mV / Hz]}})
    assert [float(v["eta"] / (mV / Hz)) for v in spec.values] == pytest.approx([0.1, 0.05])


# -- kind: a mechanism period shorter than the group's time step (the run would never end) ----------------------

@pytest.mark.parametrize("make", [lambda: hn.IntrinsicPlasticity(target=5 * Hz, period=1e-6 * ms),
                                  lambda: hn.SynapticScaling(target=5 * Hz, period=0.01 * ms),
                                  lambda: hn.GlobalHomeostasis(gamma=5 * Hz, period=0.05 * ms)],
                         ids=["operation", "scaling", "pool"])
def test_a_period_below_the_time_step_is_refused_when_the_group_is_built(make):
    from homeonet.models import LIF

    mech = make()
    with pytest.raises(HomeonetError) as err:
        LIF().group(4, mechanisms=[mech], name="E")  # the default clock's step: 0.1 ms
    _one_line(err, f"period of {mech.name} must be at least the time step of group 'E' (0.1 ms)")


# -- kind: a Poisson rate beyond one spike per time step (Brian2 would cut it to 1/dt without a word) ------------

@pytest.mark.parametrize("make, needle", [
    (lambda: __import__("homeonet.models", fromlist=["x"]).poisson_input(3, 1e12 * Hz), "rate must stay"),
    (lambda: __import__("homeonet.models", fromlist=["x"]).modulated_input(
        3, 20 * Hz, __import__("brian2").TimedArray([1.0, 1e300], dt=1 * second)), "rate x modulation must stay")])
def test_a_poisson_rate_above_one_spike_per_step_is_refused(make, needle):
    with pytest.raises(HomeonetError) as err:
        make()
    _one_line(err, needle, "1/dt = 10000 Hz")


@pytest.mark.parametrize("setting", ["rate_in=1e12Hz", "factor=1e300"])
def test_the_command_refuses_input_rates_beyond_one_spike_per_step(setting, capsys, tmp_path):
    from homeonet.cli import main

    assert main(["run", "--set", setting, "--duration", "1s", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "1/dt = 10000 Hz" in err and err.count("\n") == 1 and not any(tmp_path.iterdir())


@pytest.mark.parametrize("make", [lambda: hn.IntrinsicPlasticity(target=1e9 * Hz),
                                  lambda: hn.SynapticScaling(target=1e9 * Hz),
                                  lambda: hn.GlobalHomeostasis(gamma=1e5 * Hz),
                                  lambda: hn.InhibitorySTDP(rho0=1e5 * Hz, deferred=True),
                                  lambda: hn.StructuralPlasticity(target=1e5 * Hz)],
                         ids=["ip", "scaling", "global", "istdp", "structural"])
def test_a_set_point_beyond_one_spike_per_step_is_refused_when_the_group_is_built(make):
    from homeonet.models import LIF

    mech = make()
    with pytest.raises(HomeonetError) as err:
        LIF().group(4, mechanisms=[mech], name="E")
    _one_line(err, f"of {mech.name} must be at most 1/dt = 10000 Hz (one spike per time step of group 'E')")


def test_a_synaptic_rules_set_point_is_checked_against_its_postsynaptic_group():
    from homeonet.models import LIF

    E, I = LIF().group(4, name="E"), LIF().group(2, name="I")
    istdp = hn.InhibitorySTDP(rho0=1e5 * Hz)  # the per-spike rule: on the I->E synapses only
    with pytest.raises(HomeonetError) as err:
        hn.synapses(I, E, "w : volt", on_pre="I_i_post += w", mechanisms=[istdp])
    _one_line(err, "rho0 of istdp must be at most 1/dt = 10000 Hz (one spike per time step of group 'E')")


def test_a_rate_layers_set_point_is_not_bounded_by_the_time_step():
    # rate units have no spikes to count: 20 kHz is a value like any other
    ip = hn.IntrinsicPlasticity(target=2e4 * Hz, eta=0.05, period=5 * ms)
    layer = hn.neuron_group(3, "dr/dt = (clip(I - theta, 0*Hz, 1e5*Hz) - r)/(10*ms) : Hz\nI : Hz", rate="r",
                            mechanisms=[ip], method="euler")
    assert float(layer.ip_target[:] / Hz) == 2e4


# -- kind: a size that cannot fit in memory (the out-of-memory killer, not an error, ended the run) -------------

@pytest.mark.parametrize("make, needle", [
    (lambda: __import__("homeonet.models", fromlist=["x"]).recurrent_ei(N_E=10 ** 9), "N_E, N_I, N_in, p and p_in"),
    (lambda: __import__("homeonet.models", fromlist=["x"]).recurrent_ei(N_E=10 ** 6, N_in=0), "N_E, N_I, N_in"),
    (lambda: _feedforward((10 ** 6, 10 ** 6)), "layers and p"),
    (lambda: __import__("homeonet.models", fromlist=["x"]).recurrent_ei(N_E=10 ** 400, N_in=0), "N_E, N_I, N_in"),
    # any group or synapses made through homeonet, whatever builds them
    (lambda: hn.neuron_group(10 ** 9, "dv/dt = -v/(10*ms) : 1"), "N "),
    (lambda: hn.synapses(*[hn.neuron_group(10 ** 6, "v : 1")] * 2, "w : 1").connect(), "p (of connect)")])
def test_a_network_too_large_for_the_machine_is_refused_before_it_is_built(make, needle):
    with pytest.raises(HomeonetError) as err:
        make()
    _one_line(err, needle, "GiB of memory")


def _feedforward(layers):
    import numpy as np

    from homeonet.models import StimulusSet, feedforward

    return feedforward(layers, schedule=StimulusSet(np.full((2, 3), 10.0) * Hz, np.arange(2)).sequence(2, 100 * ms))


@pytest.mark.parametrize("model, setting", [("four_scales", "N_E=1e9"), ("structural", "N=1000000"),
                                            ("synaptic_normalization", "N=1000000"),
                                            ("divisive_normalization", "N=1000000000")])
def test_the_command_refuses_a_network_too_large_for_the_machine(model, setting, capsys, tmp_path):
    from homeonet.cli import main

    extra = ["--set", "N_in=1000000"] if model in ("structural", "synaptic_normalization") else []
    assert main(["run", model, "--set", setting, *extra, "--duration", "2s", "--out", str(tmp_path),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "GiB of memory" in err and err.count("\n") == 1 and not any(tmp_path.iterdir())


# -- kind: a question about times the data do not cover (zeros or NaN that read as results) -------------------

def test_spike_statistics_refuse_a_window_past_the_end_of_the_recorded_run():
    import numpy as np
    import xarray as xr
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor

    from homeonet import Results
    from homeonet.analysis import count_correlation, fano_factor, firing_rates, synchrony

    ds = xr.Dataset({"spike_index_E": ("spike_E", np.array([0, 1, 2], dtype=np.int32), {"n_neurons": 3}),
                     "spike_time_E": ("spike_E", np.array([0.1, 0.2, 0.3]), {"units": "second"})})
    ds.attrs["duration"] = 0.5
    res = Results(ds)
    for call in (lambda: firing_rates(res, t_start=0.6 * second, t_stop=0.8 * second),
                 lambda: firing_rates(res, t_stop=1 * second),  # 0.5 s of data over 1 s would halve the rates
                 lambda: fano_factor(res, t_stop=1 * second), lambda: synchrony(res, t_stop=1 * second),
                 lambda: count_correlation(res, t_stop=1 * second)):
        with pytest.raises(HomeonetError) as err:
            call()
        _one_line(err, "t_start and t_stop must lie within the run, [0 s, 0.5 s]")
    # a monitor knows how far it has recorded too
    G = SpikeGeneratorGroup(2, [0, 1], [1, 2] * ms)
    mon = SpikeMonitor(G)
    Network(G, mon).run(10 * ms)
    assert np.allclose(firing_rates(mon) / Hz, [100, 100])  # default: the 10 ms simulated
    with pytest.raises(HomeonetError, match="^t_start and t_stop must lie within the run"):
        firing_rates(mon, t_stop=20 * ms)
