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
