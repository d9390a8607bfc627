"""Smoke test: every example script runs with a short duration (numpy target, Agg backend)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").rglob("*.py"))
# each script takes its duration (or number of epochs) as its first argument
SHORT = {"ann_usage.py": "1", "Turrigiano_et_al_1998.py": "1", "Triesch_2005.py": "2", "Diehl_Cook_2015.py": "4"}
RUNNER = ("import runpy, sys, brian2; brian2.prefs.codegen.target = 'numpy'; "
          "sys.argv = [sys.argv[1], sys.argv[2]]; runpy.run_path(sys.argv[0], run_name='__main__')")


def test_examples_exist_with_titled_docstrings():
    assert len(EXAMPLES) >= 5
    for path in EXAMPLES:
        text = path.read_text()
        assert text.startswith('"""\n') and "\n===" in text.split('"""')[1], path.name
        assert "Reference" in text, path.name


# examples whose code a default test already exercises in full run only with -m long
SLOW = {"Turrigiano_et_al_1998.py", "ann_usage.py", "Diehl_Cook_2015.py"}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.long) if p.name in SLOW else p
                                  for p in EXAMPLES], ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    if path.name.startswith("ann_") and importlib.util.find_spec("torch") is None:
        pytest.skip("needs the 'ann' extra (torch)")
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(path), SHORT.get(path.name, "1")], cwd=tmp_path,
                          capture_output=True, text=True, env={"MPLBACKEND": "Agg", "PATH": ""}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()  # every example reports what it found
