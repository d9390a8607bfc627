"""Issue #10, 'trust every result': runs complete or clearly incomplete, divergence detected, results collected
for every ordinary Brian2 set-up, outputs checked before the work and never lost, one-line errors."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr
from brian2 import (Hz, Network, NeuronGroup, PoissonGroup, PopulationRateMonitor, SpikeMonitor, StateMonitor,
                    Synapses, mV, ms, second)

import homeonet as hn
from homeonet._validate import DivergenceError, OutputError, ParameterError, RunInterrupted
from homeonet.cli import main
from homeonet.models import recurrent_ei


def _poisson_net(n=50, rate=20 * Hz, record=True):
    G = PoissonGroup(n, rate, name="P")
    return Network(G, SpikeMonitor(G, record=record, name="spikes_P"))


def _interrupt_once_running(net, sig, at=0.2 * second):
    """Send *sig* to this process once the run has reached *at* (a wall-clock timer could fire before the run
    starts on a loaded machine, where no handler of the run is installed yet)."""
    from brian2 import NetworkOperation

    def send(t):
        if t >= at and not send.sent:
            send.sent = True
            os.kill(os.getpid(), sig)

    send.sent = False
    net.add(NetworkOperation(send, dt=10 * ms))


# -- 1. complete, or clearly incomplete ---------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_simulate_interrupted_raises_with_results_marked_incomplete(sig):
    net = _poisson_net(n=2000)
    _interrupt_once_running(net, sig)
    with pytest.raises(RunInterrupted) as stop:
        hn.simulate(net, 10_000 * second, progress=False)
    res = stop.value.results
    assert isinstance(stop.value, KeyboardInterrupt)          # code that does not handle it stops as on Ctrl-C
    assert res is not None and not res.complete and res.dataset.attrs["complete"] == 0
    reached = res.dataset.attrs["t_reached"]
    assert 0 < reached < 10_000 and res.duration / second == pytest.approx(reached)
    assert res.dataset.attrs["duration_planned"] == 10_000
    # the summary covers the time simulated: rates over [0, t_reached], not over the planned duration
    assert float(np.mean(res.rates("P") / Hz)) == pytest.approx(20, rel=0.2)


def test_ctrl_c_while_the_command_starts_ends_it_quietly(tmp_path):
    """One Ctrl-C while `homeonet` imports Brian2: exit by the interrupt, no traceback (today: 30 lines)."""
    import shutil

    script = shutil.which("homeonet", path=os.path.dirname(sys.executable)) or shutil.which("homeonet")
    if script is None:
        pytest.skip("the homeonet console script is not installed")
    proc = subprocess.Popen([script, "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    time.sleep(0.2)  # within the imports (seconds)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode in (-signal.SIGINT, 130) and "Traceback" not in err and out == ""


def test_cli_run_interrupted_writes_marked_partial_results_and_exits_130(tmp_path):
    """One Ctrl-C before the perturbation: the summary says it was not reached (today: 'at 0.57 s', exit 0)."""
    cmd = [sys.executable, "-m", "homeonet", "run", "homeostasis", "--duration", "40s", "--target", "numpy",
           "--out", str(tmp_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    seen = []
    reader = threading.Thread(target=lambda: seen.append(proc.stderr.read()), daemon=True)
    deadline = time.time() + 120
    # wait until the simulation itself runs (the bar says "simulated" once code generation is done)
    buf = ""
    while time.time() < deadline:
        buf += proc.stderr.read(1)
        if "s simulated" in buf and "homeostasis: " in buf.split("s simulated")[-2][-80:]:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    reader.start()
    out = proc.stdout.read()
    assert proc.wait(timeout=120) == 130
    reader.join(5)
    err = buf + "".join(seen)
    assert "interrupted (SIGINT)" in err and "marked incomplete" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["homeostasis.incomplete.nc", "homeostasis.incomplete.png",
                                                          "homeostasis.incomplete.txt"]
    res = hn.load(tmp_path / "homeostasis.incomplete.nc")
    assert res.dataset.attrs["complete"] == 0 and res.dataset.attrs["t_reached"] < 20
    summary = (tmp_path / "homeostasis.incomplete.txt").read_text()
    assert "INCOMPLETE RUN" in summary and "NOT REACHED" in summary and "not reached" in summary
    assert summary.strip() in out


# -- 2. divergence detected ------------------------------------------------------------------------------------

def test_nan_divergence_stops_with_group_variable_time_and_cause():
    """The issue's example: a rate network with feedback 50*r*gain (today saved and plotted at 1e211 Hz)."""
    G = hn.neuron_group(20, "dr/dt = (-r + 50*r*gain + I_ext)/(10*ms) : Hz\nI_ext : Hz", rate="r",
                        hooks={"gain": (1, "product")}, name="L1")
    G.I_ext = 1 * Hz
    mon = StateMonitor(G, "r", record=True, dt=1 * ms, name="trace_L1")
    with pytest.raises(DivergenceError) as err:
        hn.simulate(Network(G, mon), 2 * second, progress=False)
    msg = str(err.value)
    assert "\n" not in msg and "L1.r" in msg and "likely cause" in msg
    # r grows as exp(49 t / 10 ms): float64 overflows near t = 145 ms; the recorded trace dates it
    assert err.value.group == "L1" and err.value.variable == "r"
    assert 0.1 * second < err.value.time < 0.2 * second and "at t = " in msg


def test_runaway_rate_stops_and_names_the_population_and_its_weights():
    net = recurrent_ei(N_E=400, N_I=100, w_e=8 * mV, w_i=1 * mV)   # runs away within the first second
    with pytest.raises(DivergenceError) as err:
        hn.simulate(net, 20 * second, progress=False)
    msg = str(err.value)
    # E or I runs away first, depending on the draw; either names the 8-mV excitatory weights onto it
    assert "ran away" in msg and ("EE mean w = 8 mV" in msg or "EI mean w = 8 mV" in msg) and "\n" not in msg
    assert err.value.time < 20 * second            # stopped early, not after the whole run


def test_cli_diverged_run_saves_nothing_and_exits_1(tmp_path, capsys):
    code = main(["run", "homeostasis", "--duration", "1s", "--set", "w_e=8mV", "--set", "w_i=1mV", "--out",
                 str(tmp_path), "--quiet", "--target", "numpy"])
    err = capsys.readouterr().err
    assert code == 1 and "run diverged" in err and "nothing was saved" in err and err.count("\n") == 1
    # E or I runs away first (it depends on when the wall-clock check falls): either names its 8-mV weights
    assert ("EE mean w = 8 mV" in err and "IntrinsicPlasticity 'ip'" in err) or "EI mean w = 8 mV" in err
    assert list(tmp_path.iterdir()) == []


# -- 5. results for every ordinary Brian2 set-up, or a refusal before the run ---------------------------------------

def test_spike_monitor_without_spike_times_gives_rates_from_counts():
    net = _poisson_net(n=200, record=False)
    res = hn.simulate(net, 2 * second, progress=False)   # today: AttributeError after the whole run
    rates = res.rates("P")
    assert rates.shape == (200,) and float(np.mean(rates / Hz)) == pytest.approx(20, rel=0.05)
    with pytest.raises(hn.HomeonetError, match="without spike times"):
        res.spikes("P")
    with pytest.raises(hn.HomeonetError, match="whole run"):
        res.rates("P", t_start=1 * second)


def test_population_rate_monitor_is_collected():
    G = PoissonGroup(500, 10 * Hz, name="P")
    res = hn.simulate(Network(G, PopulationRateMonitor(G, name="rate_P")), 1 * second, progress=False)
    rate = res.population_rate("P")
    assert rate.sizes["time"] == 100 and float(rate.mean()) == pytest.approx(10, rel=0.1)


@pytest.mark.parametrize("rate_bin, needle", [(0 * ms, "rate_bin must be"), (2 * second, "at most the duration"),
                                              (5 * mV, "rate_bin")])
def test_bad_rate_bin_is_refused_before_the_run(rate_bin, needle):
    net = _poisson_net()
    with pytest.raises(ParameterError, match=needle):
        hn.simulate(net, 1 * second, progress=False, rate_bin=rate_bin)
    assert net.t == 0 * second


def test_absurd_duration_is_refused_with_an_estimate():
    net = _poisson_net()
    with pytest.raises(ParameterError, match="time steps") as err:
        hn.simulate(net, 1e12 * second, progress=False)
    assert "years" in str(err.value) and net.t == 0 * second


def test_two_state_monitors_of_one_group_keep_their_own_axes():
    G = NeuronGroup(5, "dv/dt = -v/(10*ms) : 1", name="G")
    G.v = 1
    m1 = StateMonitor(G, "v", record=True, dt=1 * ms, name="fine")
    m2 = StateMonitor(G, "v", record=[0], dt=5 * ms, name="coarse")
    res = hn.simulate(Network(G, m1, m2), 20 * ms, progress=False, rate_bin=1 * ms)
    ds = res.dataset
    shapes = sorted(ds[k].shape for k in ("G_v", "coarse_v", "fine_v") if k in ds)
    assert shapes == [(4, 1), (20, 5)]   # the first monitor keeps the group's name, the other its own


# -- 6. outputs checked before the work, finished work never lost ---------------------------------------------------

def test_existing_folder_named_like_an_output_is_refused_before_the_simulation(tmp_path, capsys):
    (tmp_path / "divisive_normalization.png").mkdir()
    t0 = time.time()
    code = main(["run", "divisive_normalization", "--out", str(tmp_path), "--quiet"])
    assert code == 2 and time.time() - t0 < 10          # refused before simulating
    assert "divisive_normalization.png" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["divisive_normalization.png"]


@pytest.mark.parametrize("content, needle", [(b"", "is empty"), (b"garbage" * 50, "cannot be read as NetCDF")])
def test_empty_or_corrupt_netcdf_is_a_one_line_error(tmp_path, capsys, content, needle):
    bad = tmp_path / "bad.nc"
    bad.write_bytes(content)
    with pytest.raises(hn.HomeonetError, match=needle):
        hn.load(bad)
    assert main(["figures", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.nc" in err and err.count("\n") == 1


def test_foreign_netcdf_is_refused(tmp_path, capsys):
    path = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("a", [1.0, 2.0])}).to_netcdf(path)
    with pytest.raises(hn.HomeonetError, match="not homeonet results"):
        hn.load(path)
    assert main(["figures", str(path)]) == 2


@pytest.mark.parametrize("change, needle", [
    (lambda ds: ds["spike_time_E"].values.__setitem__(0, np.nan), "times that are not finite"),
    (lambda ds: ds["spike_time_E"].values.__setitem__(0, 99.0), "times outside the run"),
    (lambda ds: ds["spike_index_E"].values.__setitem__(0, 10 ** 6), "neuron indices outside the population")])
def test_spike_data_no_run_writes_is_refused_naming_the_file(tmp_path, capsys, change, needle):
    net = recurrent_ei(N_E=40, N_I=10)
    ds = hn.simulate(net, 300 * ms, progress=False).dataset.copy(deep=True)
    assert ds.sizes["spike_E"] > 0
    change(ds)
    path = tmp_path / "edited.nc"
    ds.to_netcdf(path)
    with pytest.raises(hn.HomeonetError, match=needle):
        hn.load(path)
    assert main(["figures", str(path)]) == 2
    err = capsys.readouterr().err
    assert "edited.nc" in err and needle in err and err.count("\n") == 1


@pytest.mark.parametrize("args", [["run", "--out", ""], ["figures", "x.nc", "--out", ""]])
def test_empty_out_is_an_error(args, capsys):
    assert main(args) == 2
    assert "--out" in capsys.readouterr().err


# -- 7. unexpected errors: one homeonet line with a hint ------------------------------------------------------------

def test_unexpected_error_is_one_line_with_a_hint(tmp_path, capsys, monkeypatch):
    from homeonet.models import experiments

    def broken(values):
        G = NeuronGroup(2, "dv/dt = -v/tau_missing : 1")
        return Network(G)

    exp = experiments.EXPERIMENTS["homeostasis"]
    monkeypatch.setitem(experiments.EXPERIMENTS, "homeostasis", type(exp)(**{**exp.__dict__, "builder": broken}))
    code = main(["run", "--duration", "1s", "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "tau_missing" in err and "--debug" in err
    assert "report this issue" not in err and "Traceback" not in err
    with pytest.raises(Exception, match="tau_missing"):
        main(["run", "--duration", "1s", "--out", str(tmp_path), "--quiet", "--debug"])


# -- 11/12. readable records, what produced the run, progress ------------------------------------------------------

def test_results_record_device_target_versions_and_seed():
    import brian2

    res = hn.simulate(_poisson_net(), 100 * ms, progress=False, seed=5)
    a = res.dataset.attrs
    assert a["device"] == "runtime" and a["codegen_target"] == "numpy" and a["seed"] == 5
    assert a["version.brian2"] == brian2.__version__ and a["version.homeonet"] == hn.__version__
    assert a["dt"] == pytest.approx(1e-4) and a["dt.units"] == "s" and a["complete"] == 1


def test_progress_says_it_is_compiling_before_the_first_step():
    from brian2 import prefs

    from homeonet.simulate import RunGuard

    prefs.codegen.target = "cython"
    net = _poisson_net()
    guard = RunGuard(net, 1 * second, desc="demo", progress=True)
    assert "compiling (first run only, cached afterwards)" in guard.bar.desc
    guard(0 * second, 0.0, 0 * second, 1 * second)        # Brian2's first call: the loop starts
    assert guard.bar.desc == "demo"
    guard.close()


def test_run_prints_the_output_folder_and_its_files(tmp_path, capsys):
    assert main(["run", "--duration", "1s", "--out", str(tmp_path), "--target", "numpy", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path}{os.sep}: homeostasis.nc, homeostasis.png, homeostasis.txt" in out


# -- 15. Neo export at the level PyNN writes, and an Elephant round trip -------------------------------------------

def test_neo_export_block_segment_groups_signals_and_elephant_round_trip():
    neo = pytest.importorskip("neo")
    elephant = pytest.importorskip("elephant")
    import quantities as pq
    from elephant.statistics import cv, isi, mean_firing_rate

    from homeonet.analysis import cv_isi

    net = recurrent_ei(N_E=40, N_I=10, record={"E": ["v"]}, record_dt=1 * ms)
    res = hn.simulate(net, 1 * second, progress=False, seed=3)
    block = res.to_neo()
    assert isinstance(block, neo.Block) and len(block.segments) == 1
    assert block.annotations["seed"] == 3 and block.annotations["dt"] == pytest.approx(1e-4)
    assert block.annotations["device"] == "runtime"
    groups = {g.name: g for g in block.groups}
    assert set(groups) == {"E", "I"}
    seg = block.segments[0]
    assert len(seg.spiketrains) == 50 and len(groups["E"].spiketrains) == 40
    sig = groups["E"].analogsignals[0]
    assert sig.name == "v" and sig.shape == (1000, 40) and sig.units == pq.V
    assert float(sig.sampling_period.rescale("ms")) == pytest.approx(1.0)
    # Elephant on the exported trains gives homeonet's own rates and CVs
    trains = [st for st in seg.spiketrains if st.annotations["source_population"] == "E"]
    rates = np.array([float(mean_firing_rate(st).rescale("Hz")) for st in trains])
    assert np.allclose(rates, res.rates("E") / Hz)
    i, t = res.spikes("E")
    ours = np.asarray(cv_isi(i, t, 40))
    theirs = np.array([cv(isi(st)) if len(st) >= 3 else np.nan for st in trains])
    assert np.allclose(ours, theirs, equal_nan=True)
