"""The command line: list, run (files written), and one-line errors with exit status 2."""

import shutil
import subprocess
import sys

import pytest

from homeonet import load
from homeonet.cli import main


def test_list_names_every_model(capsys):
    from homeonet.models.experiments import EXPERIMENTS

    assert main(["list"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in out] == list(EXPERIMENTS)
    assert "(default)" in out[0]


def test_run_default_writes_results_figure_and_summary(tmp_path, capsys):
    code = main(["run", "--duration", "1s", "--out", str(tmp_path), "--target", "numpy", "--quiet", "--seed", "3"])
    assert code == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["homeostasis.nc", "homeostasis.png", "homeostasis.txt"]
    res = load(tmp_path / "homeostasis.nc")
    assert res.dataset.attrs["seed"] == 3 and res.dataset.attrs["model"] == "homeostasis"
    assert float(res.duration) == pytest.approx(1.0)
    summary = (tmp_path / "homeostasis.txt").read_text()
    assert "rate before the perturbation" in summary and "target 5 Hz" in summary
    assert (tmp_path / "homeostasis.png").read_bytes()[:4] == b"\x89PNG"
    assert summary in capsys.readouterr().out


def test_run_synaptic_normalization_reports_norms_held_under_stdp(tmp_path, capsys):
    """Canonical result 4 as a ready-made model: every snapshot's incoming L1 norm at W_tot."""
    assert main(["run", "synaptic_normalization", "--duration", "2s", "--out", str(tmp_path), "--target", "numpy",
                 "--quiet"]) == 0
    attrs = load(tmp_path / "synaptic_normalization.nc").dataset.attrs
    # the snapshots are taken after the period's normalization: float64 rounding only (the issue asks 1e-6)
    assert attrs["measure.norm_max_rel_deviation"] < 1e-6
    # STDP still acts: the weight pattern moved away from its uniform start (CV 0.58 for U(0, w_max))
    assert abs(attrs["measure.weight_cv_last"] - attrs["measure.weight_cv_first"]) > 0.05
    assert "incoming L1 norms" in capsys.readouterr().out


def test_run_divisive_normalization_fits_naka_rushton(tmp_path, capsys):
    """Canonical result 5 as a ready-made model: the contrast response is Naka-Rushton with the analytic c50."""
    assert main(["run", "divisive_normalization", "--duration", "1s", "--out", str(tmp_path), "--target", "numpy",
                 "--quiet"]) == 0
    attrs = load(tmp_path / "divisive_normalization.nc").dataset.attrs
    assert attrs["measure.naka_rushton_r2"] > 0.99                 # the criterion
    # 100-ms steps are 10 time constants: the residual transient (e^-10) is far below 1e-3 of the response
    assert attrs["measure.c50"] == pytest.approx(attrs["measure.c50_expected"], rel=1e-3)
    assert "Naka-Rushton fit" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["run", "--duration", "10mV"], "--duration"),
    (["run", "--duration", "-1s"], "--duration"),
    (["run", "--duration", "nan"], "--duration"),
    (["run", "--duration", "0"], "--duration"),
    (["run", "--seed", "-2"], "--seed"),
    (["run", "--seed", "one"], "--seed"),
    (["run", "nosuchmodel"], "MODEL must be one of"),
    (["run", "--device", "gpu"], "--device"),
    (["run", "--duration", "1ms"], "--duration must be a quantity in s >= 1 s"),      # shorter than the experiment needs
    (["run", "--duration", "1us"], "--duration must be a quantity in s >= 1 s"),      # any Brian2 time unit is a time
    (["run", "divisive_normalization", "--duration", "5ms"], "duration must be"),
    (["run", "--set", "eta=1mV"], "eta"),                            # wrong unit
    (["run", "--set", "nosuch=1"], "unknown parameter 'nosuch'"),
    (["run", "--set", "onset=1.2"], "onset"),
    (["run", "--set", "N_E=0"], "N_E"),
    (["run", "--set", "eta"], "--set must be NAME=VALUE"),
    (["run", "--duration", "2s", "--set", "duration=3s"], "give the duration once"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, capsys, tmp_path):
    code = main(args + (["--out", str(tmp_path)] if args[0] == "run" else []))
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code = main(["run", "--out", str(blocker / "sub"), "--duration", "1s"])
    err = capsys.readouterr().err
    assert code == 2 and "--out must be a writable folder" in err and err.count("\n") == 1


def test_console_script_exits_2_without_traceback(tmp_path):
    exe = shutil.which("homeonet")
    cmd = [exe] if exe else [sys.executable, "-m", "homeonet"]
    # outside the checkout, so that `python -m homeonet` imports the installed package
    proc = subprocess.run(cmd + ["run", "--duration=-5s"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("homeonet: error: --duration") and "Traceback" not in proc.stderr


def test_figures_command_draws_a_saved_run(tmp_path, capsys):
    assert main(["run", "--duration", "1s", "--out", str(tmp_path), "--target", "numpy", "--quiet"]) == 0
    capsys.readouterr()
    out = tmp_path / "figs"
    assert main(["figures", str(tmp_path / "homeostasis.nc"), "--out", str(out)]) == 0
    written = capsys.readouterr().out.split()
    assert written and all(p.endswith((".png", ".pdf")) for p in written)
    assert {p.suffix for p in out.iterdir()} == {".png", ".pdf"}


def test_figures_command_missing_file_is_exit_2(tmp_path, capsys):
    assert main(["figures", str(tmp_path / "nope.nc")]) == 2
    assert "no results file" in capsys.readouterr().err


def test_compare_bad_input_is_exit_2_with_or_without_torch(capsys):
    # with torch: '--seeds -1' is refused; without: the command says it needs the 'ann' extra
    assert main(["compare", "--seeds", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("--seeds" in err or "needs PyTorch" in err)


def test_set_parameters_are_used_and_recorded_with_units(tmp_path, capsys):
    assert main(["run", "--duration", "1s", "--out", str(tmp_path), "--target", "numpy", "--quiet",
                 "--set", "eta=0.1mV/Hz", "--set", "onset=0.4", "--set", "factor=0.5"]) == 0
    attrs = load(tmp_path / "homeostasis.nc").dataset.attrs
    assert attrs["param.eta"] == pytest.approx(0.1) and attrs["param.eta.units"] == "mV/Hz"
    assert attrs["param.duration"] == pytest.approx(1.0) and attrs["param.duration.units"] == "s"
    assert attrs["onset"] == pytest.approx(0.4)            # the one onset: onset x duration
    assert "x0.5" in attrs["perturbation"]
    assert "at 0.4 s" in capsys.readouterr().out


def test_list_params_shows_each_parameter_with_unit_and_range(capsys):
    assert main(["list", "--params", "homeostasis"]) == 0
    out = capsys.readouterr().out
    eta = next(line for line in out.splitlines() if line.startswith("eta "))
    assert "0.05 mV/Hz" in eta and ">= 0 mV/Hz" in eta and "learning rate" in eta
    assert main(["list", "--params", "nosuch"]) == 2
    capsys.readouterr()
    # a long list of choices wraps within its column instead of widening every line
    assert main(["list", "--params", "testbed_rate"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    column = lines[0].index("a quantity")
    assert max(len(line.split("  ")[0]) for line in lines) < 20 and all(len(line) < 250 for line in lines)
    wrapped = [line for line in lines if line.startswith(" ")]
    assert wrapped and all(line[:column].strip() == "" and line[column] != " " for line in wrapped)
    assert "four_scales" in " ".join(wrapped)
