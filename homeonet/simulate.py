"""Running networks: device selection, progress, interruption, divergence checks and results collection.

:func:`simulate` never hands back a wrong result that looks right:

* **interrupted** -- one SIGINT (Ctrl-C) or SIGTERM stops the run at the end of the current time
  step (runtime device); :func:`simulate` then raises :class:`~homeonet.RunInterrupted` carrying
  the results of the time actually simulated, marked incomplete (``attrs['complete'] == 0``,
  ``attrs['t_reached']``). ``cpp_standalone`` keeps no partial state: the error carries none. A
  second signal aborts at once;
* **diverged** -- every report period (and after the run) the state of every group is checked
  for NaN/inf, and the population rate of every monitored group for a runaway; a divergence stops
  the run and raises :class:`~homeonet.DivergenceError`, one line naming the group, the variable,
  the time and the likely cause;
* **impossible** -- a duration whose time steps or monitors exceed what a machine can do is
  refused before the run, with the estimate.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import signal
import tempfile
import threading
import time

import numpy as np
from brian2 import Hz, NeuronGroup, Quantity, SpikeMonitor, StateMonitor, Subgroup, Synapses, defaultclock, \
    get_device, ms, prefs, second, set_device
from brian2.core.base import BrianObjectException
from brian2.core.variables import ArrayVariable
from brian2.devices.device import reinit_devices, reset_device
from tqdm.auto import tqdm

from ._validate import DivergenceError, HomeonetError, ParameterError, RunInterrupted, check_bool, check_choice, \
    check_quantity, check_seed
from .results import Results
from .units import format_quantity

__all__ = ["simulate", "collect_run", "use_device", "check_device", "DEVICES", "RunGuard", "find_divergence",
           "MAX_RATE"]

logger = logging.getLogger(__name__)

#: Devices accepted by :func:`use_device` and the command line (``cuda_standalone`` needs brian2cuda).
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")

#: Population mean rate above which a run counts as runaway. No cortical population sustains it;
#: leaky integrate-and-fire neurons with a 2-ms refractory period saturate at 500 Hz.
MAX_RATE = 300 * Hz

#: A run is refused beyond this many time steps, or when a lower bound of its computing time exceeds
#: :data:`MAX_COMPUTE` or its monitors exceed :data:`MEMORY_FRACTION` of the machine's memory.
MAX_STEPS = 10 ** 9
MAX_COMPUTE = 30 * 24 * 3600.0  # seconds
MEMORY_FRACTION = 0.8


def check_device(name) -> str:
    """Check a device name before any work; ``cuda_standalone`` also needs brian2cuda installed.

    Parameters
    ----------
    name : str
        One of :data:`DEVICES`.

    Returns
    -------
    str
        *name*.

    Raises
    ------
    ParameterError
        An unknown device, or ``cuda_standalone`` without brian2cuda (one line saying how to get it).
    """
    check_choice("device", name, DEVICES)
    if name == "cuda_standalone":
        try:
            import brian2cuda  # noqa: F401  (registers the device with Brian2)
        except ImportError as err:
            raise ParameterError(f"device cuda_standalone needs brian2cuda and an NVIDIA GPU with CUDA "
                                 f"(pip install brian2cuda); importing it failed: {err}") from None
    return name


@contextlib.contextmanager
def use_device(name="runtime", directory=None, target=None):
    """Run the enclosed Brian2 code on a device, and restore the runtime device afterwards.

    Parameters
    ----------
    name : {'runtime', 'cpp_standalone', 'cuda_standalone'}
        Brian2 device. ``cpp_standalone`` compiles the whole network to C++, ``cuda_standalone``
        (brian2cuda, an NVIDIA GPU) to C++/CUDA; both build on run, in *directory*, a temporary
        folder removed afterwards by default.
    directory : str, optional
        Build folder of the standalone devices (kept if given).
    target : {'auto', 'numpy', 'cython'}, optional
        Code-generation target of the runtime device (default: Brian2's preference).

    Yields
    ------
    brian2 Device
        The active device.

    Raises
    ------
    ParameterError
        An unknown device, or ``cuda_standalone`` without brian2cuda (:func:`check_device`).
    """
    check_device(name)
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
    set_device(name, directory=directory, build_on_run=True)
    try:
        yield get_device()
    finally:
        reset_device("runtime")
        reinit_devices()
        prefs.codegen.target = old_target
        if made:
            shutil.rmtree(directory, ignore_errors=True)


def _is_standalone() -> bool:
    return type(get_device()).__name__ != "RuntimeDevice"


def _state_arrays(obj):
    """``(name, values)`` of every floating-point state array of a group (no copies, no units).

    Constants (parameters, whose bounds may be infinite by design) are not state and are left out.
    """
    for name, var in obj.variables.items():
        if name.startswith("_") or not isinstance(var, ArrayVariable) or var.owner is None or var.constant:
            continue
        if getattr(var.owner, "name", None) != obj.name or not np.issubdtype(var.dtype, np.floating):
            continue
        try:
            values = var.get_value()
        except (NotImplementedError, KeyError, AttributeError):  # standalone before its run
            continue
        yield name, np.asarray(values)


def _groups(net):
    return [obj for obj in net.objects if isinstance(obj, (NeuronGroup, Synapses))]


def find_divergence(net, t, rates=None, max_rate=MAX_RATE):
    """Look for a diverged state or a runaway rate in a network.

    Parameters
    ----------
    net : brian2.Network
        The network (its groups' state is read in place, without copies).
    t : Quantity
        The simulated time the state belongs to (used in the message).
    rates : dict, optional
        ``group name -> population mean rate (Hz)`` measured over the last interval.
    max_rate : Quantity
        Population mean rate above which activity counts as runaway.

    Returns
    -------
    DivergenceError or None
        The error to raise (one line: group, variable, time, likely cause), or None.
    """
    for obj in sorted(_groups(net), key=lambda o: o.name):
        for name, values in _state_arrays(obj):
            if values.size and not np.isfinite(values).all():
                bad = int(np.size(values) - np.isfinite(values).sum())
                what = "NaN" if np.isnan(values).any() else "infinite"
                return DivergenceError(
                    f"run diverged: {obj.name}.{name} became {what} ({bad} of {values.size} values) by "
                    f"t = {format_quantity(t)}; {_likely_cause(net, obj)}", obj.name, name, t)
    for group, rate in (rates or {}).items():
        if rate > float(max_rate / Hz):
            obj = net[group]
            return DivergenceError(
                f"run diverged: the population rate of {group} ran away to {rate:.0f} Hz (above "
                f"{format_quantity(max_rate)}) by t = {format_quantity(t)}; {_likely_cause(net, obj)}",
                group, "rate", t)
    return None


_LEARNING = ("eta", "compression", "growth", "k", "gamma", "tau_G")


def _likely_cause(net, obj) -> str:
    """A hint naming the learning rates and gains acting on *obj* (its mechanisms and its input synapses')."""
    neurons = obj.target if isinstance(obj, Synapses) else obj
    acting = [o for o in net.objects if o is neurons or o is obj
              or (isinstance(o, Synapses) and o.target is neurons)]
    found = []
    for o in sorted(acting, key=lambda o: o.name):
        for mech in getattr(o, "_homeonet_mechanisms", ()):
            params = mech.parameters()
            shown = ", ".join(f"{k} = {format_quantity(params[k])}" for k in _LEARNING if k in params)
            if shown:
                found.append(f"{type(mech).__name__} {mech.name!r} on {o.name} ({shown})")
    weights = []
    for o in sorted(acting, key=lambda o: o.name):
        var = o.variables.get("w") if isinstance(o, Synapses) else None
        if isinstance(var, ArrayVariable) and np.size(var.get_value()):
            mean = np.mean(var.get_value()) * Quantity(1.0, dim=var.dim)
            weights.append(f"{o.name} mean w = {format_quantity(mean, 3)}")
    parts = []
    if found:
        parts.append("learning rates and gains: " + "; ".join(dict.fromkeys(found)))
    if weights:
        parts.append(f"weights onto {neurons.name}: " + ", ".join(weights))
    acting_on = f" ({'; '.join(parts)})" if parts else ""
    return (f"likely cause: a learning rate, gain, weight or equation acting on {neurons.name} too strong for a "
            f"stable state{acting_on}, or a time step too long for its dynamics "
            f"(dt = {format_quantity(defaultclock.dt)})")


class RunGuard:
    """The Brian2 ``report`` callback of :func:`simulate`: progress, interruption and divergence checks.

    It is called by Brian2's runtime loop at the start of the run and then every report period of
    wall time. It draws a tqdm bar in simulated seconds (while Brian2 generates and compiles code
    before the first step, the bar says so), stops the network when a signal was received, and
    checks the state for divergence (:func:`find_divergence`).

    Parameters
    ----------
    net : brian2.Network
    duration : Quantity
        The run's duration.
    desc : str
        Label of the progress bar.
    progress : bool
        Draw the bar.
    max_rate : Quantity
        Runaway threshold of population mean rates.
    """

    def __init__(self, net, duration, desc="simulating", progress=True, max_rate=MAX_RATE):
        self.net, self.desc, self.max_rate = net, desc, max_rate
        self.total = float(duration / second)
        self.t_start = float(net.t / second)
        self.interrupted = None       # name of the signal received
        self.diverged = None          # DivergenceError found
        self._monitors = [m for m in net.objects if isinstance(m, SpikeMonitor)
                          and isinstance(m.source, (NeuronGroup, Subgroup)) and m.event == "spike"]
        self._last = (self.t_start, {m.name: 0 for m in self._monitors})
        self.bar = None
        if progress:
            target = prefs.codegen.target
            first = ("compiling (first run only, cached afterwards)" if target in ("auto", "cython")
                     else "generating code")
            self.bar = tqdm(total=round(self.total, 3), unit="s", desc=f"{desc}: {first}", leave=True,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s simulated "
                                       "[{elapsed}<{remaining}]")

    def check(self):
        """Check the network now; on a divergence remember it and stop the network.

        Returns
        -------
        DivergenceError or None
        """
        t = float(self.net.t / second)
        t_prev, counts = self._last
        rates = {}
        if t > t_prev:
            for m in self._monitors:
                n = int(m.num_spikes)
                rates[m.source.name] = max(rates.get(m.source.name, 0.0),
                                           (n - counts[m.name]) / (len(m.source) * (t - t_prev)))
                counts[m.name] = n
            self._last = (t, counts)
        for obj in _groups(self.net):
            target = getattr(obj, "_homeonet_target", None)
            var = obj.variables.get(target.rate) if target is not None and target.rate else None
            if isinstance(var, ArrayVariable):
                values = var.get_value()
                if np.isfinite(values).all():
                    rates[obj.name] = float(np.mean(values))
        found = find_divergence(self.net, self.net.t, rates, self.max_rate)
        if found is not None and self.diverged is None:
            self.diverged = found
            self.net.stop()
        return found

    def __call__(self, elapsed, completed, start, duration):
        if self.interrupted:
            self.net.stop()
        if completed > 0:
            self.check()
        if self.bar is not None:
            if self.bar.desc != self.desc:
                self.bar.set_description_str(self.desc)  # code is generated and compiled: simulating
            self.bar.update(round(completed * self.total, 3) - self.bar.n)

    def close(self):
        """Close the progress bar."""
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def _signals(on_signal):
    """Route SIGINT and SIGTERM to *on_signal* (main thread only); a second signal aborts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    seen = []

    def handler(signum, frame):
        if seen:  # the second signal: stop waiting for a clean stop
            for s, h in previous.items():
                signal.signal(s, h)
            raise KeyboardInterrupt
        seen.append(signum)
        on_signal(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _physical_memory() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return math.inf


def check_steps(duration, dt=None):
    """Refuse a duration of more than :data:`MAX_STEPS` time steps, before anything is built.

    Parameters
    ----------
    duration : Quantity
    dt : Quantity, optional
        Time step (default: Brian2's ``defaultclock.dt``).

    Raises
    ------
    ParameterError
        One line with the number of steps and a lower bound of the computing time.
    """
    dt = defaultclock.dt if dt is None else dt
    steps = float(duration / dt)
    if steps > MAX_STEPS:
        raise ParameterError(
            f"duration {format_quantity(duration)} is {steps:.3g} time steps of {format_quantity(dt)}, beyond the "
            f"{MAX_STEPS:.0e} any machine finishes (at least {_human_time(steps * 2e-6)} of computing at 2 us per "
            "step, the least a step costs); choose a shorter duration")


def check_budget(net, duration, rate_bin=10 * ms):
    """Refuse a run that no machine could finish: too many steps, too much memory for its monitors.

    Parameters
    ----------
    net : brian2.Network
    duration : Quantity
    rate_bin : Quantity

    Raises
    ------
    ParameterError
        One line with the estimate of time and memory.
    """
    T = float(duration / second)
    dt = float(defaultclock.dt / second)
    steps = T / dt
    n_neurons = sum(len(o) for o in net.objects if isinstance(o, NeuronGroup))
    memory = 0.0
    for m in net.objects:
        if isinstance(m, StateMonitor):
            n_rec = np.size(m.record) if not isinstance(m.record, bool) else (len(m.source) if m.record else 0)
            memory += 8.0 * n_rec * len(m.record_variables) * T / float(m.clock.dt / second)
        elif isinstance(m, SpikeMonitor):
            memory += 12.0 * len(m.source) * 10.0 * T  # at a nominal 10 Hz
    memory += 8.0 * T / float(rate_bin / second) * sum(isinstance(m, SpikeMonitor) for m in net.objects)
    # lower bounds: 1 ns per neuron and step compiled; 2 us per object and step in the runtime loop
    per_step = n_neurons * 1e-9 if _is_standalone() else max(n_neurons * 1e-9, 2e-6 * len(net.objects))
    compute = steps * per_step
    if steps > MAX_STEPS or compute > MAX_COMPUTE or memory > MEMORY_FRACTION * _physical_memory():
        raise ParameterError(
            f"duration {format_quantity(duration)} is beyond any machine for this network: {steps:.3g} time steps "
            f"of {format_quantity(defaultclock.dt)}, at least {_human_time(compute)} of computing and "
            f"{_human_bytes(memory)} for its monitors (this machine has {_human_bytes(_physical_memory())}); "
            "choose a shorter duration")


def _human_time(s):
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def _human_bytes(b):
    for unit, size in (("PiB", 2 ** 50), ("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.3g} B"


def _run_info() -> dict:
    """What produced a run: device, code-generation target, package versions, time step."""
    import brian2
    import numpy
    import platform

    from . import __version__

    standalone = _is_standalone()
    return {"device": type(get_device()).__name__.replace("Device", "").lower() if standalone else "runtime",
            "codegen_target": "cpp" if standalone else str(prefs.codegen.target),
            "dt": float(defaultclock.dt / second), "dt.units": "s",
            "version.homeonet": __version__, "version.brian2": brian2.__version__, "version.numpy": numpy.__version__,
            "version.python": platform.python_version()}


def simulate(net, duration, *, progress=True, params=None, rate_bin=10 * ms, desc="simulating", level=0,
             max_rate=MAX_RATE, **attrs) -> Results:
    """Run a Brian2 network with checks, and collect its monitors.

    Parameters
    ----------
    net : brian2.Network
        The network (e.g. from :func:`homeonet.models.recurrent_ei`).
    duration : Quantity
        Simulated time (> 0 s).
    progress : bool
        Draw a progress bar (runtime device; ``cpp_standalone`` prints a line).
    params : dict, optional
        Parameters stored with the results (``param.<name>``).
    rate_bin : Quantity
        Bin width of the population rates in the results (> 0 s, at most *duration*).
    desc : str
        Label of the progress bar.
    level : int
        Extra stack levels for Brian2's implicit namespace lookup (for wrappers).
    max_rate : Quantity
        Population mean rate above which the run counts as runaway (default :data:`MAX_RATE`).
    **attrs
        Further attributes of the results (``seed``, ``model``...), recorded as given. ``seed`` is
        recorded, not applied: seed Brian2 with ``brian2.seed(n)`` *before building* the network, so that
        connectivity, initial values and the run's random numbers all follow from it (as ``homeonet
        run`` and sweeps do), and pass the same ``seed=n`` here to record it. (Seeding again just before
        the run would replay the stream that drew the connectivity as the run's noise.)

    Returns
    -------
    Results
        Complete results (``attrs['complete'] == 1``), with the device, code-generation target,
        package versions and time step of the run, and ``wall_time``: the wall-clock seconds of the run
        (code generation and, for ``cpp_standalone``, compilation included).

    Raises
    ------
    ParameterError
        A bad *duration* or *rate_bin*, or a duration beyond any machine (with the estimate), before
        the run.
    RunInterrupted
        SIGINT or SIGTERM during the run; ``.results`` holds the time simulated (runtime device).
    DivergenceError
        A state variable became NaN/inf, or a population rate exceeded *max_rate*.

    Notes
    -----
    The same seed gives the same spikes on one device and target; the numpy and Cython targets can
    draw random numbers in a different order, so spikes can differ between them for one seed.
    """
    import brian2

    if not isinstance(net, brian2.Network):
        raise ParameterError(f"net must be a brian2.Network (e.g. Network(group, monitor)), got {type(net).__name__}")
    duration = check_quantity("duration", duration, second, low=0 * second, low_open=True)
    if duration < defaultclock.dt:  # Brian2 would run no step at all
        raise ParameterError(f"duration must be at least one time step ({format_quantity(defaultclock.dt)}), "
                             f"got {format_quantity(duration)}")
    progress = check_bool("progress", progress)
    if "seed" in attrs:  # recorded with the results: a value Brian2's seed() would refuse is no seed
        attrs["seed"] = check_seed("seed", attrs["seed"])
    rate_bin = check_quantity("rate_bin", rate_bin, second, low=0 * second, low_open=True)
    if rate_bin > duration:
        raise ParameterError(f"rate_bin must be at most the duration ({format_quantity(duration)}), "
                             f"got {format_quantity(rate_bin)}")
    max_rate = check_quantity("max_rate", max_rate, Hz, low=0 * Hz, low_open=True)
    check_budget(net, duration, rate_bin)
    info = _run_info()
    standalone = _is_standalone()
    t_start = net.t
    guard = RunGuard(net, duration, desc, progress and not standalone, max_rate)

    started = time.perf_counter()

    def collect(complete):
        return _collect(net, t_start, duration, complete, {**info, "wall_time": time.perf_counter() - started},
                        params, rate_bin, attrs)

    def on_signal(name):
        guard.interrupted = name
        if standalone:
            raise KeyboardInterrupt  # subprocess.call kills the compiled program on the way out
        net.stop()

    try:
        with _signals(on_signal), _quiet_brian_console(progress):
            if standalone:
                if progress:
                    tqdm.write(f"{desc}: compiling the network with cpp_standalone and running "
                               f"{format_quantity(duration)}")
                net.run(duration, level=level + 1)
            else:
                net.run(duration, report=guard, report_period=1 * second, level=level + 1)
    except KeyboardInterrupt:
        guard.close()
        if standalone:
            raise RunInterrupted(f"interrupted ({guard.interrupted or 'SIGINT'}) during the cpp_standalone run: "
                                 "a compiled run keeps no partial results; nothing was collected") from None
        raise
    except BrianObjectException as err:
        guard.close()
        if isinstance(err.__cause__, HomeonetError):  # homeonet's own check while Brian2 prepared an object
            raise err.__cause__ from None
        raise
    except RuntimeError as err:
        guard.close()
        if standalone and guard.interrupted:
            raise RunInterrupted(f"interrupted ({guard.interrupted}) during the cpp_standalone run: a compiled run "
                                 "keeps no partial results; nothing was collected") from None
        raise err
    guard.close()
    final = _final_check(net, guard)
    found = final if final is not None else guard.diverged
    if found is not None:
        raise found
    if guard.interrupted and net.t < t_start + duration:
        results = collect(False)
        raise RunInterrupted(f"interrupted ({guard.interrupted}) at t = {format_quantity(net.t)} of "
                             f"{format_quantity(t_start + duration)}", results, net.t)
    return collect(True)


def _collect(net, t_start, duration, complete, info, params, rate_bin, attrs) -> Results:
    extra = {**info, "complete": int(complete), "t_reached": float(net.t / second),
             "duration_planned": float((t_start + duration) / second), **attrs}
    return Results.from_network(net, duration=net.t, params=params, rate_bin=rate_bin, **extra)


def collect_run(net, duration, *, params=None, rate_bin=10 * ms, max_rate=MAX_RATE, **attrs) -> Results:
    """Check and collect a network that ran *duration* from t = 0 without :func:`simulate`.

    For a compiled ``cpp_standalone`` project run again through ``device.run(run_args=...)`` (the
    sweeps' compile once, run many): the same check after the run as :func:`simulate` makes for
    ``cpp_standalone`` (NaN/inf state, runaway population rates) and the same records.

    Parameters
    ----------
    net : brian2.Network
        The network, its monitors holding the run.
    duration, params, rate_bin, max_rate, **attrs
        As for :func:`simulate`.

    Returns
    -------
    Results

    Raises
    ------
    DivergenceError
        As :func:`simulate`.
    """
    guard = RunGuard(net, duration, progress=False, max_rate=max_rate)
    guard._last = (0.0, dict.fromkeys(guard._last[1], 0))  # the rates since the start of the run
    found = _final_check(net, guard)
    if found is not None:
        raise found
    return _collect(net, 0 * second, duration, True, _run_info(), params, rate_bin, attrs)


def _final_check(net, guard):
    """The check after the run (for cpp_standalone the only one); a NaN's first time from recorded traces."""
    found = guard.check()
    if found is None:
        return found
    for m in net.objects:
        if isinstance(m, StateMonitor) and m.source.name == found.group and found.variable in m.record_variables:
            values = np.asarray(m.variables[found.variable].get_value())
            bad = ~np.isfinite(values).reshape(len(m.t), -1).all(axis=1)
            if bad.any():
                t = m.t[int(np.argmax(bad))]
                return DivergenceError(str(found).replace(f"by t = {format_quantity(found.time)}",
                                                          f"at t = {format_quantity(t)}"),
                                       found.group, found.variable, t)
    return found


@contextlib.contextmanager
def _quiet_brian_console(progress):
    """Brian2's console messages go through tqdm while a bar is drawn, so they do not break it."""
    if not progress:
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm(loggers=[logging.getLogger("brian2")]):
        yield

