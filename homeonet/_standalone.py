"""Compile once, run many: one ``cpp_standalone`` binary for every network that differs only in values.

Brian2 (>= 2.6) runs a compiled project again with new values through
``device.run(run_args={group.var: value, timed_array: values}, results_directory=...)``.
This module decides, for a network built from given parameter values, whether an existing
binary can run it and with which ``run_args`` -- by comparing what Brian2 generated, not by
trusting declarations:

* the **signature** of a generated project hashes everything that is compiled: every source
  file, and the sequence of operations of ``main()`` without the values they assign. Two builds
  with equal signatures compile to the same binary.
* the **literals** are the values ``main()`` assigns from Python (``E.ip_eta = 0.05*mV/Hz``,
  ``EE.w = 1*mV``): those that differ from the compiled build's are passed as ``run_args``.
  Brian2 applies ``run_args`` just before the network runs, so a differing literal is accepted
  only when nothing reads or writes its variable in between (no initialisation code, no
  spike-queue preparation, no later assignment); otherwise the build needs its own binary.
* **static arrays** (``TimedArray`` values such as an input step, arrays assigned from numpy)
  are data files the binary reads at start; each build writes its own, so they need no
  ``run_args``.
* the **seed**: Brian2 writes ``seed(S)`` into ``main()``. Here ``main()`` instead reads the seed
  from a shared variable (``homeonet_seed.value``) given on the command line and seeds the
  generators with it at the same place, so one binary runs every seed and draws exactly what a
  binary compiled with ``brian2.seed(S)`` draws.

A wrong declaration (a parameter marked as a value that changes the code) therefore costs a
compile, never a wrong result.

Reference: Stimberg, Brette & Goodman (2019), Brian 2, an intuitive and efficient neural
simulator, eLife 8:e47314; Brian2 documentation, "Multiple full simulation runs" (``run_args``).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import brian2
import numpy as np
from brian2 import NeuronGroup, Quantity, get_device, prefs, set_device
from brian2.core.variables import ArrayVariable
from brian2.units.fundamentalunits import DIMENSIONLESS
from brian2.devices.device import reinit_devices, reset_device

__all__ = ["Binary", "Build", "generate", "compile_binary", "plan", "run_build", "build_fresh"]

logger = logging.getLogger(__name__)

#: Name of the one-element group whose shared variable ``value`` carries the seed of each run.
SEED_GROUP = "homeonet_seed"

_CODE_OBJECT_STEPS = ("run_code_object", "before_run_code_object", "after_run_code_object")
# main.cpp lines that assign a value from Python ("_array_E_ip_eta[0] = 5e-05;"): masked in the signature
_ASSIGNMENT = re.compile(r"^(\s*(?:_array|_dynamic_array)\w*\[\w+\]\s*=\s*).*;\s*$", re.MULTILINE)


@dataclass
class Binary:
    """A compiled project: its signature, the literals it was compiled with and the executable.

    Attributes
    ----------
    signature : str
        Hash of the generated code (see the module docstring).
    literals : dict
        ``{(array name, item, occurrence): (value, position)}``: every value ``main()`` assigns from Python.
    data : bytes
        The executable ``main``.
    """

    signature: str
    literals: dict
    data: bytes


@dataclass
class Build:
    """The Python side of one network on the ``cpp_standalone`` device, its code generated in a folder.

    Attributes
    ----------
    net : brian2.Network
        The network (its monitors read each run's results).
    directory : Path
        The project folder (sources, static arrays; the executable once installed).
    signature, literals
        As in :class:`Binary`.
    """

    net: object
    directory: Path
    signature: str
    literals: dict
    _queue: list = field(repr=False, default_factory=list)
    _seed_group: object = field(repr=False, default=None)


def _fresh_device(directory, build_on_run=False):
    reset_device("runtime")
    reinit_devices()
    gc.collect()  # objects of an earlier build must not shift the automatic names of this one
    set_device("cpp_standalone", directory=str(directory), build_on_run=build_on_run)
    return get_device()


def _seed_code(device, group) -> list:
    """Lines of ``main()`` that read the seed from the command line and seed every generator with it."""
    array = device.get_array_name(group.variables["value"])
    key = f"{SEED_GROUP}.value="
    threads = max(1, int(prefs.devices.cpp_standalone.openmp_threads))
    return [f'for (const auto& _arg : args) if (_arg.rfind("{key}", 0) == 0) '
            f'set_variable_by_name("{SEED_GROUP}.value", _arg.substr({len(key)}));',
            # as Brian2's own seed(S): seed(S + thread index), here with S read above
            f"for (int _i=0; _i<{threads}; _i++) brian::_random_generators[_i].seed({array}[0] + _i);"]


def generate(builder, values, duration, directory) -> Build:
    """Build a network on a fresh ``cpp_standalone`` device and generate its code (no compile).

    Parameters
    ----------
    builder : callable
        ``builder(values) -> brian2.Network``.
    values : Mapping
        Parameter values passed to the builder.
    duration : Quantity
        Simulated time.
    directory : str or Path
        Project folder (created).

    Returns
    -------
    Build
    """
    directory = Path(directory)
    device = _fresh_device(directory)
    seed_group = NeuronGroup(1, "value : integer (constant, shared)", name=SEED_GROUP)
    for line in _seed_code(device, seed_group):
        device.insert_code("main", line)
    net = builder(values)
    net.add(seed_group)  # no code of its own: it only holds the seed
    net.run(duration)
    device.build(directory=str(directory), compile=False, run=False)
    skeleton, literals = _main_queue(device)
    signature = _signature(device, directory, skeleton)
    return Build(net, directory, signature, literals, list(device.main_queue), seed_group)


def _main_queue(device):
    """The operations of ``main()`` without their values, and the values.

    Returns
    -------
    (list, dict)
        The skeleton, and ``{(array, item, occurrence): (value, position in the queue)}``. Runs of
        consecutive assignments, and the clocks a network adds without code, are sorted: Brian2 emits
        them in set order, which changes between builds and does not change what they do.
    """
    skeleton, literals, run = [], {}, []

    def flush():
        for name, item, value, k in sorted(run, key=lambda r: (r[0], r[1] or "")):
            n = sum(1 for key in literals if key[:2] == (name, item))
            literals[(name, item, n)] = (value, k)
            skeleton.append(("set", name, item))
        run.clear()

    for k, (func, args) in enumerate(device.main_queue):
        if func in ("set_by_constant", "set_by_single_value"):
            name, middle, last = args
            item, value = (None, middle) if func == "set_by_constant" else (str(middle), last)
            run.append((name, item, value, k))
            continue
        flush()
        if func in _CODE_OBJECT_STEPS:
            skeleton.append((func, args[0].name))
        elif func == "run_network":
            # clocks without code ('network.add(&clock, NULL);') come in set order and do nothing: sorted
            idle = sorted(line for line in args[1] if line.endswith(", NULL);"))
            busy = [line for line in args[1] if not line.endswith(", NULL);")]
            skeleton.append((func, args[0].name, tuple(busy), tuple(idle)))
        else:  # set_by_array, set_array_by_array, resize_array, insert_code, seed, run functions
            skeleton.append((func, repr(args)))
    flush()
    return skeleton, literals


def _signature(device, directory: Path, skeleton) -> str:
    """Hash of the skeleton of ``main()`` and of every file Brian2 generated (``main.cpp`` without its values)."""
    h = hashlib.sha256(f"brian2 {brian2.__version__}\n{skeleton!r}".encode())
    names = sorted(set(device.writer.source_files) | set(device.writer.header_files) | {"makefile", "win_makefile"})
    for name in names:
        path = directory / name
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if name == "main.cpp":  # its operations are in the skeleton; here what else it holds, values masked
            text = "\n".join(sorted(_ASSIGNMENT.sub(r"\1?;", text).splitlines()))
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()[:20]


def compile_binary(build: Build) -> Binary:
    """Compile *build*'s project and return its executable.

    Raises
    ------
    RuntimeError
        Brian2's own error when the compiler fails.
    """
    device = get_device()
    device.build(directory=str(build.directory), compile=True, run=False)
    return Binary(build.signature, build.literals, (build.directory / "main").read_bytes())


def install(build: Build, binary: Binary):
    """Put *binary*'s executable into *build*'s project folder."""
    path = build.directory / "main"
    path.write_bytes(binary.data)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def plan(build: Build, binary: Binary):
    """The ``run_args`` that make *binary* run *build*'s values, or why it cannot.

    Returns
    -------
    (dict or None, str)
        ``({VariableView: value}, '')`` when it can; ``(None, reason)`` otherwise.
    """
    if binary.signature != build.signature:
        return None, "the generated code differs"
    device = get_device()
    by_name = {device.get_array_name(var, access_data=False): var for var in device.arrays
               if isinstance(var, ArrayVariable)}
    args = {}
    for key, (value, k) in build.literals.items():
        old = binary.literals[key][0]
        if _same(value, old):
            continue
        name, item, _ = key
        var = by_name.get(name)
        why = _unsafe(build._queue, k, name, item, var, value, device)
        if why:
            return None, why
        view = var.get_addressable_value_with_unit(var.name, var.owner)
        number = _number(value)
        args[view] = (Quantity(number, dim=var.dim) if var.dim is not DIMENSIONLESS
                      else np.asarray(number, dtype=var.dtype))
    return args, ""


def _same(a, b) -> bool:
    return repr(a) == repr(b)


def _number(value):
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        return float(value)
    return value


def _unsafe(queue, k, name, item, var, value, device) -> str:
    """Why a literal cannot be replaced by a run argument ('' when it can)."""
    label = name if var is None else f"{var.owner.name}.{var.name}"
    if var is None or not isinstance(var, ArrayVariable) or var.read_only:
        return f"{label} cannot be set from the command line"
    try:
        number = float(_number(value))
    except (TypeError, ValueError):
        return f"{label} = {value!r} is not a number"
    if not math.isfinite(number):
        return f"{label} = {value!r} is not finite"
    if item is not None and not (str(item) == "0" and var.size == 1):
        return f"only some elements of {label} are assigned"
    for func, args in queue[k + 1:]:
        if func in _CODE_OBJECT_STEPS:
            names = {device.get_array_name(v, access_data=False) for v in args[0].variables.values()
                     if isinstance(v, ArrayVariable)}
            if name in names:
                return f"{label} is used by {args[0].name} before the run starts"
        elif func == "run_network":
            break
        elif func.startswith("set_") or func == "resize_array":
            if args and args[0] == name:
                return f"{label} is assigned again before the run starts"
    return ""


def run_build(build: Build, seed: int, run_args: dict, results: str):
    """Run the installed executable of *build* once, into ``<project>/<results>``.

    Parameters
    ----------
    build : Build
        The generated project, its executable installed.
    seed : int
        Seed of Brian2's generators for this run (0 <= seed < 2**31).
    run_args : dict
        From :func:`plan`.
    results : str
        Results folder, relative to the project folder.
    """
    view = build._seed_group.variables["value"].get_addressable_value_with_unit("value", build._seed_group)
    args = dict(run_args)
    args[view] = np.int32(seed)
    get_device().run(directory=str(build.directory), results_directory=results, with_output=False,
                     run_args=args)


def build_fresh(builder, values, duration, seed, directory):
    """The plain Brian2 way: ``brian2.seed(seed)``, build, compile and run one project.

    Returns
    -------
    brian2.Network
        The network, its monitors holding the results.
    """
    device = _fresh_device(directory)
    brian2.seed(int(seed))
    net = builder(values)
    net.run(duration)
    device.build(directory=str(directory), compile=True, run=True, with_output=False)
    return net


def release():
    """Back to the runtime device; forget the standalone project."""
    reset_device("runtime")
    reinit_devices()
