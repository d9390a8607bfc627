"""Shared timing rules of the benchmarks: alternating rounds, paired ratios, the machine in the header.

On a shared machine absolute times drift from minute to minute, so every comparison runs its variants
in alternating rounds (A B C, then C B A, ...) and reports, for each variant, the median over rounds
of its time divided by the baseline's time *of the same round*, with the smallest and largest of those
paired ratios as the spread. Runtime-device runs are single-threaded: their process CPU time
(``time.process_time``) is what the ratios use by default, since time the process spends waiting
for the CPU is not its cost; wall times are printed next to them.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass, field

import brian2

__all__ = ["Timing", "alternate", "report", "machine", "run_binary", "compile_standalone", "binary_runner"]


@dataclass
class Timing:
    """One variant's measurements over the rounds: times (s) and what each run produced."""

    cpu: list = field(default_factory=list)
    wall: list = field(default_factory=list)
    counts: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def machine() -> str:
    """One line naming the machine, the date and the software versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{datetime.date.today().isoformat()}, {cpu}, {os.cpu_count()} cores (load {load:.1f}), "
            f"Python {platform.python_version()}, Brian2 {brian2.__version__}")


def alternate(variants: dict, rounds: int, progress=True, warmup=True) -> dict:
    """Run every variant once per round, in alternating order, after an untimed warm-up round.

    The warm-up round fills caches; it also absorbs a network's first run after ``store``, which on
    Brian2 2.9's Cython target gave other spikes than the later runs from the same restored state
    (seen here; the later runs agree with each other).

    Parameters
    ----------
    variants : dict of str to callable
        ``name -> run()``; ``run()`` returns ``(cpu_s, wall_s, count)`` or
        ``(cpu_s, wall_s, count, extra_dict)``.
    rounds : int
        Number of rounds (>= 1).
    warmup : bool
        Run every variant once before the timed rounds.

    Returns
    -------
    dict of str to Timing
    """
    names = list(variants)
    out = {name: Timing() for name in names}
    if warmup:
        for name in names:
            variants[name]()
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            cpu, wall, count, *extra = variants[name]()
            t = out[name]
            t.cpu.append(cpu)
            t.wall.append(wall)
            t.counts.append(count)
            for k, v in (extra[0] if extra else {}).items():
                t.extra.setdefault(k, []).append(v)
        if progress:
            print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {out[n].wall[-1]:.2f} s" for n in names), flush=True)
    return out


def _ratios(values, base):
    return [a / b for a, b in zip(values, base)]


def report(timings: dict, base: str, clock="cpu", per=1.0, unit="s") -> str:
    """A table: median time, median of the paired ratios to *base* [min-max], and the counts of every round.

    Parameters
    ----------
    timings : dict of str to Timing
        From :func:`alternate`.
    base : str
        The baseline variant.
    clock : {'cpu', 'wall'}
        The time the ratios use.
    per : float
        Divide times by this (e.g. the simulated seconds, for times per simulated second).
    unit : str
        Label of the times.
    """
    width = max(len(n) for n in timings) + 2
    head = (f"{'':<{width}}{'median ' + clock:>14}{'median wall':>13}   {clock + ' ratio to ' + base!s:<34}"
            "counts (every round)")
    lines = [head]
    for name, t in timings.items():
        values = getattr(t, clock)
        ratios = _ratios(values, getattr(timings[base], clock))
        counts = sorted(set(t.counts))
        shown = str(counts[0]) + " (all rounds)" if len(counts) == 1 else f"{counts} (differ between rounds!)"
        lines.append(f"{name:<{width}}{statistics.median(values) / per:11.3f} {unit:<2}"
                     f"{statistics.median(t.wall) / per:10.3f} {unit:<2}"
                     f"   {statistics.median(ratios):6.3f} [{min(ratios):.3f}-{max(ratios):.3f}]"
                     f"{'':<17}{shown}")
    return "\n".join(lines)


def run_binary(directory, threads=None):
    """Run a compiled cpp_standalone project and measure it (OpenMP threads wait passively unless
    ``OMP_WAIT_POLICY`` says otherwise).

    Returns
    -------
    dict
        ``loop`` (s, the simulation loop's wall time, from Brian2's ``results/last_run_info.txt``),
        ``wall`` (s, the whole binary: set-up, loop, writing results), ``cpu`` (s, user + system time of
        the binary, all threads) and ``rss`` (peak resident memory, MiB).
    """
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
        # threads that sleep at barriers instead of spinning: on a machine shared with other work a
        # spinning thread holds a core its partner needs, and every time step has several barriers
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    t0 = time.perf_counter()
    proc = subprocess.Popen([os.path.join(directory, "main")], cwd=directory, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{directory}/main failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    with open(os.path.join(directory, "results", "last_run_info.txt")) as f:
        loop = float(f.read().split()[0])
    return {"loop": loop, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}


def compile_standalone(make, directory, duration, threads=0, seed=1):
    """Generate and compile *make*'s network for cpp_standalone in *directory*, without running it.

    Parameters
    ----------
    make : callable
        Builds the network (a ``brian2.Network`` with a ``spikes_E`` monitor).
    directory : str
        The project folder.
    duration : Quantity
        Simulated time of the run the binary will do.
    threads : int
        OpenMP threads (0: none).
    seed : int
        Brian2's seed, set before *make*.

    Returns
    -------
    tuple
        (seconds spent generating and compiling, the result file of the E spike count).
    """
    from brian2.devices.device import reinit_devices, reset_device

    brian2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    brian2.prefs.devices.cpp_standalone.openmp_threads = threads
    try:
        brian2.seed(seed)
        net = make()
        net.run(duration)
        n_file = brian2.get_device().get_array_filename(net["spikes_E"].variables["N"])
        t0 = time.perf_counter()
        brian2.get_device().build(directory=directory, compile=True, run=False)
        return time.perf_counter() - t0, n_file
    finally:
        reset_device("runtime")
        reinit_devices()


def binary_runner(directory, n_file, threads=0):
    """A function running the compiled project in *directory* for :func:`alternate`.

    It returns ``(cpu, loop, count, extra)``: the binary's CPU time, the simulation loop's wall time,
    the E spike count, and ``binary wall``, ``peak MiB`` and ``synapses`` (all Synapses objects).
    """
    import numpy as np

    def run():
        m = run_binary(directory, threads)
        results = os.path.join(directory, "results")
        count = int(np.fromfile(os.path.join(results, n_file), dtype=np.int32)[0])
        synapses = sum(os.path.getsize(os.path.join(results, name)) // 4 for name in os.listdir(results)
                       if name.startswith("_dynamic_array_") and "__synaptic_pre_" in name)
        return m["cpu"], m["loop"], count, {"binary wall": m["wall"], "peak MiB": m["rss"], "synapses": synapses}

    return run
