"""Shared test set-up: markers and a fixture that resets Brian2 around every test."""

import brian2
import numpy as np
import pytest
from brian2.devices.device import reinit_devices, reset_device


def pytest_configure(config):
    config.addinivalue_line("markers", "long: slow test (full-size validation); run with -m long")
    config.addinivalue_line("markers", "standalone: compiles and runs with Brian2's cpp_standalone device")


@pytest.fixture(autouse=True)
def brian2_state():
    """Fresh Brian2 state for each test: runtime device, numpy target, dt = 0.1 ms, fixed seeds.

    The numpy target avoids per-test Cython compiles; tests that need another
    target or device set it themselves (the fixture restores the defaults).
    """
    brian2.start_scope()
    reset_device("runtime")
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = 0.1 * brian2.ms
    brian2.seed(2021)
    np.random.seed(2021)
    yield
    reset_device("runtime")
    reinit_devices()
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = 0.1 * brian2.ms
