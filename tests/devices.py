"""The standalone devices the device-parity tests run on.

``cpp_standalone`` runs everywhere (a C++ compiler is a Brian2 requirement of the test suite);
``cuda_standalone`` where brian2cuda is installed, an NVIDIA GPU answers ``nvidia-smi -L`` and the
CUDA compiler is found. Elsewhere those cases are skipped, with the reason.
"""

import importlib.util
import os
import shutil
import subprocess

import pytest


def _cuda_missing():
    """Why cuda_standalone cannot run here (None: it can)."""
    if importlib.util.find_spec("brian2cuda") is None:
        return "brian2cuda is not installed"
    smi = shutil.which("nvidia-smi")
    try:
        found = smi is not None and b"GPU" in subprocess.run([smi, "-L"], capture_output=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        found = False
    if not found:
        return "no NVIDIA GPU answers nvidia-smi -L"
    nvcc = [shutil.which("nvcc"), os.path.join(os.environ.get("CUDA_PATH", "/usr/local/cuda"), "bin", "nvcc")]
    if not any(path and os.path.exists(path) for path in nvcc):
        return "the CUDA compiler nvcc is not found (PATH, CUDA_PATH, /usr/local/cuda)"
    return None


CUDA_MISSING = _cuda_missing()

#: Skip a test unless cuda_standalone can run here.
requires_cuda = pytest.mark.skipif(CUDA_MISSING is not None,
                                   reason=f"cuda_standalone: {CUDA_MISSING}")

#: The standalone devices of a parity test: cpp_standalone always, cuda_standalone where it can run.
STANDALONE = ["cpp_standalone", pytest.param("cuda_standalone", marks=requires_cuda)]
