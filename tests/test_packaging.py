"""Packaging: one namespace, an explicit package list, and a wheel that works outside the checkout."""

import configparser
import re
import subprocess
import sys
import textwrap
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
# folder in the checkout -> package name once installed
MAPPING = {"homeonet": "homeonet", "models": "homeonet.models", "analysis": "homeonet.analysis"}


def _declared_packages():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return set(cfg["options"]["packages"].split())


def _packages_on_disk():
    found = set()
    for folder, package in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package,) + rel))
    return found


def test_every_package_folder_is_in_the_explicit_list():
    # an editable install would import a forgotten subpackage anyway; the wheel would not ship it
    assert _packages_on_disk() == _declared_packages()


def test_no_top_level_models_or_analysis_imports():
    pattern = re.compile(r"^\s*(import|from)\s+(models|analysis)\b", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for folder in ("homeonet", "models", "analysis", "tests", "examples",
                                                         "benchmarks")
                 for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == [], f"import homeonet.models / homeonet.analysis instead in {offenders}"


def test_built_wheel_imports_every_subpackage_outside_the_checkout(tmp_path):
    wheel_dir, site = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(wheel_dir.glob("homeonet-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    script = textwrap.dedent(f"""
        import importlib, pkgutil, sys
        sys.path.insert(0, {str(site)!r})
        import homeonet
        assert homeonet.__file__.startswith({str(site)!r}), homeonet.__file__
        names = sorted(m.name for m in pkgutil.walk_packages(homeonet.__path__, "homeonet.")
                       if m.name != "homeonet.__main__")  # importing __main__ runs the command line
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError as err:
                if "torch" not in str(err).lower():   # homeonet.ann needs the optional "ann" extra
                    raise
        import homeonet.models, homeonet.analysis
        assert homeonet.models.__file__.startswith({str(site)!r})
        assert homeonet.analysis.__file__.startswith({str(site)!r})
        print(" ".join(names))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    imported = set(proc.stdout.split())
    assert {"homeonet.models.neurons", "homeonet.analysis.rates", "homeonet.mechanisms.intrinsic_plasticity"} <= imported
    assert not (site / "models").exists() and not (site / "analysis").exists()


def test_checkout_is_usable_in_place():
    """From the repository root (``python -c``, ``python -m pytest``, a notebook) the checkout's own code imports,
    homeonet.models and homeonet.analysis included, as one copy under the homeonet name."""
    script = ("import homeonet, homeonet.models, homeonet.analysis, homeonet.models.neurons as n; "
              "print(homeonet.__file__); print(homeonet.models.__file__); print(homeonet.analysis.__file__); "
              "import sys; print(sum(m.endswith('models.neurons') for m in sys.modules))")
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[:3] == [str(ROOT / "homeonet" / "__init__.py"), str(ROOT / "models" / "__init__.py"),
                         str(ROOT / "analysis" / "__init__.py")]
    assert lines[3] == "1"  # no second copy of a module under another name


def test_python_m_pytest_runs_from_the_checkout():
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider",
                           "tests/test_packaging.py::test_every_package_folder_is_in_the_explicit_list"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout
