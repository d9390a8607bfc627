"""Running networks: device selection, progress bars and results collection."""

from __future__ import annotations

import contextlib
import shutil
import tempfile

from brian2 import get_device, ms, prefs, second, set_device
from brian2.devices.device import reinit_devices, reset_device
from tqdm.auto import tqdm

from ._validate import check_choice, check_quantity
from .results import Results

__all__ = ["simulate", "use_device", "DEVICES"]

#: Devices accepted by :func:`use_device` and the command line.
DEVICES = ("runtime", "cpp_standalone")


@contextlib.contextmanager
def use_device(name="runtime", directory=None, target=None):
    """Run the enclosed Brian2 code on a device, and restore the runtime device afterwards.

    Parameters
    ----------
    name : {'runtime', 'cpp_standalone'}
        Brian2 device. ``cpp_standalone`` compiles the whole network to C++
        (build on run, in *directory*, a temporary folder removed afterwards by default).
    directory : str, optional
        Build folder of ``cpp_standalone`` (kept if given).
    target : {'auto', 'numpy', 'cython'}, optional
        Code-generation target of the runtime device (default: Brian2's preference).

    Yields
    ------
    brian2 Device
        The active device.
    """
    check_choice("device", name, DEVICES)
    old_target = prefs.codegen.target
    if target is not None:
        prefs.codegen.target = check_choice("target", target, ("auto", "numpy", "cython"))
    if name == "runtime":
        try:
            yield get_device()
        finally:
            prefs.codegen.target = old_target
        return
    made = directory is None
    directory = tempfile.mkdtemp(prefix="homeonet-standalone-") if made else directory
    set_device("cpp_standalone", directory=directory, build_on_run=True)
    try:
        yield get_device()
    finally:
        reset_device("runtime")
        reinit_devices()
        prefs.codegen.target = old_target
        if made:
            shutil.rmtree(directory, ignore_errors=True)


class _Progress:
    """Brian2 ``report`` callback drawing a tqdm bar in simulated seconds."""

    def __init__(self, duration, desc):
        self.total = float(duration / second)
        self.bar = tqdm(total=round(self.total, 3), unit="s", desc=desc, leave=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s simulated [{elapsed}<{remaining}]")

    def __call__(self, elapsed, completed, start, duration):
        self.bar.update(round(completed * self.total, 3) - self.bar.n)
        if completed >= 1:
            self.bar.close()


def simulate(net, duration, *, progress=True, params=None, rate_bin=10 * ms, desc="simulating", level=0,
             **attrs) -> Results:
    """Run a Brian2 network and collect its monitors.

    Parameters
    ----------
    net : brian2.Network
        The network (e.g. from :func:`homeonet.models.recurrent_ei`).
    duration : Quantity
        Simulated time (> 0 s).
    progress : bool
        Draw a progress bar (runtime device; ``cpp_standalone`` prints a line).
    params : dict, optional
        Parameters stored with the results.
    rate_bin : Quantity
        Bin width of the population rates in the results.
    desc : str
        Label of the progress bar.
    level : int
        Extra stack levels for Brian2's implicit namespace lookup (for wrappers).
    **attrs
        Further attributes of the results (``seed``, ``model``...).

    Returns
    -------
    Results
    """
    duration = check_quantity("duration", duration, second, low=0 * second, low_open=True)
    standalone = type(get_device()).__name__ != "RuntimeDevice"
    if standalone:
        if progress:
            tqdm.write(f"{desc}: compiling and running {float(duration / second):g} s with cpp_standalone")
        net.run(duration, level=level + 1)
    else:
        report = _Progress(duration, desc) if progress else None
        net.run(duration, report=report, report_period=0.5 * second, level=level + 1)
    return Results.from_network(net, duration=net.t, params=params, rate_bin=rate_bin,
                                device="cpp_standalone" if standalone else "runtime", **attrs)
