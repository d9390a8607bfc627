"""Parameter sweeps (homeonet.sweep) on a real dask.distributed cluster: specifications, resumption, failures,
killed workers, interruption, determinism across worker counts, compile-once in cpp_standalone, figures.

The cluster tests share one LocalCluster of 2 worker processes started here at a local address (so the command
line reaches it through --scheduler) and run the tiny experiment of tests/sweep_models.py with the numpy target.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from homeonet import load, load_sweep  # noqa: E402
from homeonet.cli import main  # noqa: E402
from homeonet.sweep import load_spec, run  # noqa: E402

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session")  # at most one cluster per pytest-xdist worker
def scheduler(tmp_path_factory):
    """Address of a LocalCluster of 2 single-threaded worker processes (they inherit the crash marker's path)."""
    marker = tmp_path_factory.mktemp("crash") / "crashed"
    old = os.environ.get("HOMEONET_TEST_CRASH")
    os.environ["HOMEONET_TEST_CRASH"] = str(marker)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=":0", silence_logs=50)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
        if old is None:
            os.environ.pop("HOMEONET_TEST_CRASH", None)
        else:
            os.environ["HOMEONET_TEST_CRASH"] = old


def write_spec(path, text):
    path.write_text('experiment = "sweep_models:tiny"\ntarget = "numpy"\n' + text)
    return path


def spikes_of(folder, pid):
    return load(folder / "points" / f"{pid}.nc").spikes("E")


# -- the specification: one line, exit 2, before any work ----------------------------------------------------------

@pytest.mark.parametrize("body, needle", [
    ('[grid]\nbogus = [1, 2]\n', "unknown parameter 'bogus'; accepted: duration"),
    ('[grid]\nw = [0.5, 1.0]\n', "spec grid.w: w must be a quantity in mV >= 0 mV, got 0.5"),
    ('[grid]\nw = ["1 mV", "2 Hz"]\n', "w must be a quantity in mV >= 0 mV, got 2 Hz"),
    ('[grid]\nw = []\n', "spec grid.w: the list of values is empty"),
    ('[grid]\nw = {start = "1 mV", stop = "2 mV", num = 0}\n', "the range is empty"),
    ('[sample]\nn = 3\nw = {low = "2 mV", high = "1 mV"}\n', "the range is empty (low must be below high)"),
    ('[zip]\nw = ["1 mV", "2 mV"]\nfactor = [0.5]\n', "zip lists must have equal lengths"),
    ('seeds = [1, -2]\n', "spec: seeds must be an integer in [0, 4294967295] (Brian2's seed range), got -2"),
    ('seeds = [1, 4294967296]\n', "seeds must be an integer in [0, 4294967295]"),
    ('measures = ["nope"]\n', "unknown measure 'nope'"),
    ('measures = [{function = "fano_factor", bins = "5 ms"}]\n', "unexpected keyword argument 'bins'"),
    ('[set]\nw = "2 mV"\n[grid]\nw = ["1 mV"]\n', "w is both set and swept"),
    ('colour = "red"\n', "unknown key 'colour'"),
    ('[set]\nduration = "100 ms"\n', "spec set.duration: duration must be a quantity in ms >= 400 ms"),
    ('[grid]\nonset = [0.5, 0.95]\n', "spec point onset=0.95: duration must be >= 4 s for sweep_models:tiny"),
    ('measures = [{function = "fano_factor", t_start = "4 mV"}]\n',
     "measure 'fano_factor': t_start must be a time such as '4 s'"),
    ('[grid]\nduration = ["400 ms", "1 s"]\n[[measures]]\nfunction = "fano_factor"\nt_start = "0.5 s"\n',
     "measure 'fano_factor': t_start must be within the run (0 s to 400 ms), got 500 ms"),
])
def test_bad_specifications_are_one_line_errors_before_any_work(tmp_path, capsys, body, needle):
    spec = write_spec(tmp_path / "bad.toml", body)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1, err
    assert not out.exists()  # nothing was started


def test_an_experiment_must_be_declared(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('experiment = "sweep_models:spikes"\n')
    assert main(["sweep", str(spec)]) == 2
    assert "must be a homeonet Experiment" in capsys.readouterr().err


def test_without_dask_the_command_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    spec = write_spec(tmp_path / "s.toml", "")
    assert main(["sweep", str(spec)]) == 2
    assert capsys.readouterr().err.strip() == "homeonet: error: homeonet sweep needs dask.distributed: pip install " \
                                              "'homeonet[sweep]'"


def test_grid_zip_and_sample_specifications():
    spec = load_spec({"experiment": "sweep_models:tiny", "seeds": [3, 4],
                      "grid": {"w": {"start": "1 mV", "stop": "4 mV", "num": 3, "scale": "log"}, "factor": [0.5, 1]}})
    assert spec.swept == ("w", "factor") and len(spec.points()) == 3 * 2 * 2
    assert [float(v.w / 1e-3) for v in spec.values[::2]] == pytest.approx([1, 2, 4])  # geometric
    zipped = load_spec({"experiment": "sweep_models:tiny", "zip": {"w": ["1 mV", "2 mV"], "factor": [0.2, 0.4]}})
    assert [float(v.w / 1e-3) for v in zipped.values] == pytest.approx([1, 2])
    assert [v.factor for v in zipped.values] == pytest.approx([0.2, 0.4])
    sampled = load_spec({"experiment": "sweep_models:tiny", "sample": {"n": 5, "seed": 7, "factor": {"low": 0.1,
                                                                                                       "high": 0.9}}})
    factors = [v.factor for v in sampled.values]
    assert len(set(factors)) == 5 and all(0.1 <= f <= 0.9 for f in factors)
    again = load_spec(sampled.raw)
    assert [p["id"] for p in again.points()] == [p["id"] for p in sampled.points()]  # same sample, same ids
    # the identity covers the device: the same values run on another device are other points
    assert load_spec(sampled, device="cpp_standalone").points()[0]["id"] != sampled.points()[0]["id"]


# -- on the cluster ----------------------------------------------------------------------------------------------------

def test_sweep_through_a_scheduler_gives_a_labelled_dataset_and_figures(scheduler, tmp_path, capsys):
    spec = write_spec(tmp_path / "eta.toml", 'seeds = [1, 2]\ntitle = "tiny"\n'
                      'measures = ["rate_before", "rate_end", "cv_isi", "sweep_models:spikes"]\n'
                      '[grid]\nfactor = [0.25, 1.0]\nw = ["1.5 mV", "2.5 mV"]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--scheduler", scheduler]) == 0
    printed = capsys.readouterr().out
    assert f"dask: scheduler {scheduler}, 2 workers" in printed and "0 finished points skipped, 8 to run" in printed
    ds = load_sweep(out)
    assert dict(ds.sizes) == {"factor": 2, "w": 2, "seed": 2}
    assert list(ds["w"].values) == [1.5, 2.5] and ds["w"].attrs["units"] == "mV"
    assert ds["rate_end"].attrs["units"] == "Hz" and ds["cv_isi"].attrs["units"] == "1"
    assert (ds["status"] == "done").all() and ds.attrs["title"] == "tiny"
    assert json.loads(ds.attrs["spec"])["grid"]["w"] == ["1.5 mV", "2.5 mV"]
    assert ds.attrs["param.tau"] == 10.0 and ds.attrs["param.tau.units"] == "ms"  # the values not swept
    # the measures are the runs': a quarter of the input after the onset lowers the rate at every weight and seed
    assert (ds["rate_end"].sel(factor=0.25) < ds["rate_end"].sel(factor=1.0)).all()
    assert (ds["rate_before"].sel(factor=0.25) == ds["rate_before"].sel(factor=1.0)).all()  # same run before it
    assert (ds["spikes_weight"].sel(w=2.5) == 2.5).all() and (ds["spikes_count"] > 0).all()
    assert load_sweep(out / "sweep.nc").equals(ds)
    # a finished point holds its full results and every value it ran with
    attrs = load(next((out / "points").glob("*.nc"))).dataset.attrs
    assert {"param.w", "param.factor", "seed", "measure.rate_end", "measure.rate_end.units"} <= set(attrs)
    # figures: each measure against each swept parameter, and a heat map of the two-parameter grid
    assert main(["figures", str(out)]) == 0
    names = {p.name for p in (out / "figures").iterdir()}
    assert {"sweep_rate_end.png", "sweep_rate_end_heatmap.png", "sweep_cv_isi.pdf"} <= names
    # a measure asked later is computed from the kept results, without simulating again
    some = next((out / "points").glob("*.nc")).name
    spikes = load(out / "points" / some).spikes("E")
    write_spec(spec, 'seeds = [1, 2]\nmeasures = ["rate_end", "fano_factor"]\n'
                     '[grid]\nfactor = [0.25, 1.0]\nw = ["1.5 mV", "2.5 mV"]\n')
    assert main(["sweep", str(spec), "--out", str(out), "--scheduler", scheduler, "--quiet"]) == 0
    assert np.isfinite(load_sweep(out)["fano_factor"]).all() and list(load_sweep(out).data_vars)[:2] == [
        "rate_end", "fano_factor"]
    assert all(np.array_equal(a, b) for a, b in zip(load(out / "points" / some).spikes("E"), spikes))
    # a changed specification adds points and keeps the old files
    before = {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("*.nc")}
    write_spec(spec, 'seeds = [1, 2]\nmeasures = ["rate_before", "rate_end", "cv_isi", "sweep_models:spikes"]\n'
                     '[grid]\nfactor = [0.25, 1.0]\nw = ["1.5 mV", "2.5 mV", "3.5 mV"]\n')  # the first measures
    assert main(["sweep", str(spec), "--out", str(out), "--scheduler", scheduler, "--quiet"]) == 0
    ds = load_sweep(out)
    assert ds.sizes["w"] == 3 and (ds["status"] == "done").all()
    assert {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("*.nc") if p.name in before} == before


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(scheduler, tmp_path, capsys):
    spec = write_spec(tmp_path / "f.toml", '[zip]\nmode = ["ok", "fail", "ok"]\nw = ["1 mV", "2 mV", "3 mV"]\n')
    ds = run(str(spec), tmp_path / "out", scheduler=scheduler, progress=False)
    assert list(ds["status"].values[:, 0]) == ["done", "failed", "done"]
    assert ds["error"].values[1, 0] == "RuntimeError: this point fails on purpose"
    assert np.isnan(ds["rate_end"].values[1, 0]) and np.isfinite(ds["rate_end"].values[[0, 2], 0]).all()
    assert list(ds["mode"].values) == ["ok", "fail", "ok"] and ds["w"].dims == ("point",)
    from homeonet.sweep_figures import sweep_figures  # zip: each measure against each parameter along 'point'

    assert [p.name for p in sweep_figures(ds, tmp_path / "figs", formats=("png",))] == [
        "sweep_rate_before.png", "sweep_rate_after.png", "sweep_rate_end.png"]
    # the command line reports it and exits 1; the failed point is tried again
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", scheduler, "--quiet"]) == 1
    assert "failed: RuntimeError: this point fails on purpose" in capsys.readouterr().err


def test_a_diverged_point_is_a_result_kept_and_not_run_again(scheduler, tmp_path, capsys):
    """A run stopped by the divergence checks is the point's answer (status ``diverged``, its one-line error
    kept), told apart from a failure; a rerun skips it as finished; the command's exit status says so."""
    spec = write_spec(tmp_path / "d.toml", '[zip]\nmode = ["ok", "diverge"]\nw = ["1 mV", "2 mV"]\n')
    out = tmp_path / "out"
    ds = run(str(spec), out, scheduler=scheduler, progress=False)
    assert list(ds["status"].values[:, 0]) == ["done", "diverged"] and ds.attrs["points_diverged"] == 1
    assert ds["error"].values[1, 0].startswith("DivergenceError: population E ran away")
    assert ds.attrs["points_failed"] == 0 and np.isnan(ds["rate_end"].values[1, 0])
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out), "--scheduler", scheduler]) == 1
    io = capsys.readouterr()
    assert "2 finished points skipped, 0 to run" in io.out and "1 diverged" in io.out
    assert "diverged: DivergenceError: population E ran away" in io.err


def test_a_worker_killed_mid_sweep_still_gives_a_complete_sweep(scheduler, tmp_path):
    marker = Path(os.environ["HOMEONET_TEST_CRASH"])
    assert not marker.exists()
    spec = write_spec(tmp_path / "k.toml", 'seeds = [1, 2]\nkeep_results = false\n[grid]\nmode = ["ok", "crash"]\n')
    ds = run(str(spec), tmp_path / "out", scheduler=scheduler, progress=False)
    assert marker.read_text() == "crashed once"  # a worker process died running a point ...
    assert (ds["status"] == "done").all() and np.isfinite(ds["rate_end"]).all()  # ... and Dask ran it again
    kept = load(next((tmp_path / "out" / "points").glob("*.nc"))).dataset
    assert not kept.data_vars and "measure.rate_end" in kept.attrs  # keep_results = false: measures only


def test_ctrl_c_then_a_rerun_resumes_without_redoing_finished_points(scheduler, tmp_path):
    spec = write_spec(tmp_path / "i.toml", 'seeds = [1, 2, 3]\n[grid]\npause = ["0 s", "3 s"]\n')
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "homeonet", "sweep", str(spec), "--out", str(out), "--scheduler", scheduler]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((out / "points").glob("*.nc")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "sweep interrupted" in err and "run the same sweep again to resume" in err
    with distributed.Client(scheduler) as client:  # the points already running finish on their own
        while any(client.processing().values()):
            time.sleep(0.1)
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("*.nc")}
    assert 1 <= len(finished) < 6
    partial = load_sweep(out)  # a partial sweep reads too: what is missing is NaN
    assert int((partial["status"] == "done").sum()) == len(finished)
    assert np.isnan(partial["rate_end"].values[partial["status"].values == "missing"]).all()
    result = subprocess.run(cmd + ["--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    ds = load_sweep(out)
    assert (ds["status"] == "done").all()
    assert {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("*.nc") if p.name in finished} == finished
    # and says what it skipped
    assert main(["sweep", str(spec), "--out", str(out), "--scheduler", scheduler]) == 0


def test_one_and_two_workers_give_identical_results(scheduler, tmp_path, capsys):
    spec = {"experiment": "sweep_models:tiny", "target": "numpy", "seeds": [5, 6],
            "grid": {"w": ["1.5 mV", "2 mV"]}}
    one = run(spec, tmp_path / "one", workers=1)  # a LocalCluster of its own, 1 worker process
    assert "dask: LocalCluster of 1 single-threaded worker process;" in capsys.readouterr().out
    two = run(spec, tmp_path / "two", scheduler=scheduler, progress=False)
    assert one.drop_attrs().equals(two.drop_attrs()) and (one["status"] == "done").all()
    for pid in [p["id"] for p in load_spec(spec).points()]:
        (i1, t1), (i2, t2) = spikes_of(tmp_path / "one", pid), spikes_of(tmp_path / "two", pid)
        assert np.array_equal(i1, i2) and np.array_equal(t1, t2)


@pytest.mark.standalone
@pytest.mark.long  # two C++ compiles; test_values_that_do_not_change_the_code_go_through_run_args is its fast part
def test_compiled_once_runs_give_the_spikes_of_a_fresh_compile(scheduler, tmp_path):
    """One binary for the structure; each point sets its weight, input step and seed through run_args."""
    from homeonet import _standalone
    from sweep_models import tiny

    spec = {"experiment": "sweep_models:tiny", "seeds": [1, 2],
            "grid": {"w": ["1.5 mV", "2.5 mV"], "factor": [0.5, 0.25]}}
    out = tmp_path / "out"
    ds = run(spec, out, scheduler=scheduler, device="cpp_standalone", progress=False)
    assert (ds["status"] == "done").all() and ds.attrs["device"] == "cpp_standalone"
    assert len(list((out / "binaries").glob("*.pkl"))) == 1  # compiled once
    # the last point differs from the compiled one in weight, step and seed: compile it the plain Brian2 way
    point = load_spec(spec, device="cpp_standalone").points()[-1]
    values = tiny.resolve({"w": "2.5 mV", "factor": 0.25})
    try:
        net = _standalone.build_fresh(tiny.builder, values, values["duration"], point["seed"], tmp_path / "fresh")
        i_fresh, t_fresh = np.array(net["spikes_E"].i[:]), np.array(net["spikes_E"].t[:])
    finally:
        _standalone.release()
    i_once, t_once = spikes_of(out, point["id"])
    assert len(i_once) > 50 and np.array_equal(i_once, i_fresh) and np.allclose(np.asarray(t_once), t_fresh, rtol=0,
                                                                                atol=1e-12)
    # a binary that does not run on this machine (as one made with -march=native elsewhere): compiled here instead
    import pickle

    other = tmp_path / "other"
    (other / "binaries").mkdir(parents=True)
    cached = next((out / "binaries").glob("*.pkl"))
    binary = pickle.loads(cached.read_bytes())
    binary.data = b"#!/bin/sh\nexit 1\n"
    (other / "binaries" / cached.name).write_bytes(pickle.dumps(binary))
    one = {**spec, "seeds": [point["seed"]], "grid": {"w": ["2.5 mV"], "factor": [0.25]}}
    ds = run(one, other, scheduler=scheduler, device="cpp_standalone", progress=False)
    assert (ds["status"] == "done").all()
    i_other, t_other = spikes_of(other, point["id"])
    assert np.array_equal(i_other, i_fresh) and np.allclose(np.asarray(t_other), t_fresh, rtol=0, atol=1e-12)


def test_values_that_do_not_change_the_code_go_through_run_args(tmp_path):
    """The generated code of two settings is one binary; what differs is passed as run_args or read from data."""
    from homeonet import _standalone
    from sweep_models import tiny

    def generate(name, **overrides):
        values = tiny.resolve(overrides)
        return _standalone.generate(tiny.builder, values, values["duration"], tmp_path / name)

    try:
        first = generate("a")
        compiled = _standalone.Binary(first.signature, first.literals, b"")
        first = None
        other = generate("b", w="2.5 mV", factor=0.25, onset=0.3)
        assert other.signature == compiled.signature
        args, why = _standalone.plan(other, compiled)
        # the weight is a value main() assigns: a run argument; the input step is a data file (no argument)
        assert why == "" and {f"{k.group_name}.{k.name}": float(v / 1e-3) for k, v in args.items()} == {"inE.w": 2.5}
        other = None
        assert generate("c", tau="20 ms").signature != compiled.signature  # a constant of the equations
    finally:
        _standalone.release()


@pytest.mark.parametrize("path", sorted((TESTS.parent / "examples").glob("sweep_*.toml")), ids=lambda p: p.name)
def test_example_specifications_are_valid(path):
    assert len(load_spec(path).points()) >= 9
    assert path.read_text().startswith("# ") and "Reference" in path.read_text()


def test_a_build_function_declares_duration():
    from brian2 import mV, second

    from homeonet._validate import ParameterError
    from homeonet.models.experiments import experiment
    from homeonet.parameters import Parameter

    with pytest.raises(ParameterError, match="parameters must include 'duration'"):
        experiment([Parameter("w", 1 * mV, "weight")])
    with pytest.raises(ParameterError, match="target must name one of the parameters"):
        experiment([Parameter("duration", 1 * second, "simulated time")], target="rho")
