"""Benchmark: a parameter sweep on dask.distributed, compiled once against compiled for every point,
2 workers against 1, and what Dask adds to a plain loop over the same points.

The sweep (issue #11): the default experiment (``homeostasis``), 4 values of ``eta`` x 4 seeds, 2 s
simulated per point, run by :func:`homeonet.sweep.run` in a fresh folder per configuration (so each
compiles what it needs):

====  ====================================================================================
A     cpp_standalone, each network structure compiled once, 2 local workers
B     cpp_standalone, every point compiled afresh (the plain Brian2 way), 2 local workers
C     as A with 1 worker
D     as C without Dask: the same tasks called one after the other by a fresh Python process (what a
      plain loop in a script costs, its imports and first compiles included, as a Dask worker's are)
A*    as A with the binary already in the sweep folder (a rerun that adds points), and C* as C
E     runtime device (Cython), 2 workers; F: 1 worker; G: as F without Dask
====  ====================================================================================

Targets: B/A >= 5 (compile once, run many), C/A >= 1.8 (two workers), (C - D)/C <= 10 % (Dask's
overhead, its LocalCluster's start included). Wall times include starting the LocalCluster. Every
configuration must give the same measures (equal rates for every point: the same seeds give the same
spikes, compiled once or afresh, on 1 or 2 workers); the script checks it.

With ``--rounds R > 1`` the configurations run R times in alternating order and the ratios are medians
of the per-round ratios. The machine's load is printed before and after.

Usage: ``python benchmarks/bench_sweep.py [--values 4] [--seeds 4] [--duration 2] [--rounds 1]
[--only A,B,C,D,E,F,G]``
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import homeonet
from homeonet import sweep

ETAS = ("0.02 mV/Hz", "0.05 mV/Hz", "0.1 mV/Hz", "0.2 mV/Hz", "0.01 mV/Hz", "0.3 mV/Hz", "0.03 mV/Hz", "0.5 mV/Hz")


def spec(values, seeds, duration):
    return {"experiment": "homeostasis", "seeds": list(range(1, seeds + 1)), "target": "cython",
            "set": {"duration": f"{duration} s"}, "grid": {"eta": list(ETAS[:values])}}


def plain_loop(spec, out):
    """The sweep's tasks in a loop, in a fresh Python process (no Dask); returns its Dataset."""
    code = f"from homeonet import sweep; sweep._run_inline({spec!r}, {str(out)!r})"
    subprocess.run([sys.executable, "-c", code], check=True)
    return sweep.load_sweep(out)


def timed(fn):
    t0 = time.perf_counter()
    ds = fn()
    wall = time.perf_counter() - t0
    bad = ds["status"].values != "done"
    if bad.any():
        raise SystemExit(f"a point failed: {sorted(set(ds['error'].values[bad]))[:3]}")
    return wall, ds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=4, help="values of eta (default 4)")
    parser.add_argument("--seeds", type=int, default=4, help="seeds per value (default 4)")
    parser.add_argument("--duration", type=float, default=2.0, help="simulated seconds per point (default 2)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds in alternating order (default 1)")
    parser.add_argument("--only", default="A,B,C,D,E,F,G", help="configurations to run (default all)")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    s = spec(args.values, args.seeds, args.duration)
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    n = args.values * args.seeds
    print(f"bench_sweep: {n} points ({args.values} values of eta x {args.seeds} seeds) of homeostasis, "
          f"{args.duration:g} s simulated each")
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"(1, 5, 15 min); {platform.python_implementation()} {platform.python_version()}, homeonet "
          f"{homeonet.__version__}, brian2 {__import__('brian2').__version__}, dask {__import__('dask').__version__}")
    # warm Brian2's Cython cache once, so that neither runtime configuration pays its first compiles
    if only & {"E", "F", "G"}:
        sweep._run_inline({**s, "seeds": [99], "grid": {"eta": [ETAS[0]]}}, root / "warm-up")

    configs = {
        "A": lambda out: sweep.run(s, out, workers=2, device="cpp_standalone", progress=False),
        "B": lambda out: sweep.run(s, out, workers=2, device="cpp_standalone", progress=False, compile_once=False),
        "C": lambda out: sweep.run(s, out, workers=1, device="cpp_standalone", progress=False),
        "D": lambda out: plain_loop({**s, "device": "cpp_standalone"}, out),
        "E": lambda out: sweep.run(s, out, workers=2, device="runtime", progress=False),
        "F": lambda out: sweep.run(s, out, workers=1, device="runtime", progress=False),
        "G": lambda out: plain_loop({**s, "device": "runtime"}, out),
    }
    order = [k for k in configs if k in only]
    walls = {k: [] for k in order}
    results = {}
    for r in range(args.rounds):
        for k in (order if r % 2 == 0 else order[::-1]):
            out = root / f"{k}{r}"
            wall, results[k] = timed(lambda: configs[k](out))
            walls[k].append(wall)
            print(f"  round {r + 1} {k}: {wall:7.1f} s", flush=True)
            if k in ("A", "C"):  # the same sweep again, its binary already in the folder (a rerun that adds points)
                warm = root / f"{k}*{r}"
                (warm / "binaries").mkdir(parents=True)
                for f in (out / "binaries").glob("*.pkl"):
                    shutil.copy(f, warm / "binaries")
                wall, _ = timed(lambda: configs[k](warm))
                walls.setdefault(f"{k}*", []).append(wall)
                print(f"  round {r + 1} {k}*: {wall:7.1f} s (binary cached)", flush=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    # every configuration ran the same points: the same measures
    ref = {"cpp_standalone": [k for k in "ABCD" if k in results], "runtime": [k for k in "EFG" if k in results]}
    for device, keys in ref.items():
        for k in keys[1:]:
            for m in ("rate_before", "rate_after", "rate_end"):
                if not np.array_equal(results[k][m].values, results[keys[0]][m].values):
                    raise SystemExit(f"{device}: configuration {k} gives other {m} than {keys[0]}")
        if keys:
            print(f"{device}: configurations {', '.join(keys)} give identical rates at every point "
                  f"(mean rate_end {float(results[keys[0]]['rate_end'].mean()):.2f} Hz)")

    med = {k: statistics.median(v) for k, v in walls.items()}
    print("\nconfiguration                                   wall (s)   per point (s)")
    labels = {"A": "A  cpp_standalone compiled once, 2 workers", "B": "B  cpp_standalone compiled per point, 2 w.",
              "C": "C  cpp_standalone compiled once, 1 worker", "D": "D  plain loop (C without Dask)",
              "A*": "A* A with the binary cached", "C*": "C* C with the binary cached",
              "E": "E  runtime, 2 workers", "F": "F  runtime, 1 worker", "G": "G  plain loop (F without Dask)"}
    for k in [k for k in labels if k in med]:
        print(f"{labels[k]:<46} {med[k]:9.1f}   {med[k] / n:9.2f}")

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(walls[a], walls[b]))

    print("\nratios (median over rounds of the per-round ratio)")
    rows = [("B/A", "compiled per point / compiled once (2 workers)", ">= 5", lambda v: v >= 5, "B", "A"),
            ("C/A", "1 worker / 2 workers, compiled once", ">= 1.8", lambda v: v >= 1.8, "C", "A"),
            ("C*/A*", "1 worker / 2 workers, binary cached", "", None, "C*", "A*"),
            ("F/E", "runtime: 1 worker / 2 workers", "", None, "F", "E"),
            ("F/A", "runtime / compiled once (2 workers)", "", None, "F", "A")]
    for name, what, target, ok, a, b in rows:
        if a in walls and b in walls:
            v = ratio(a, b)
            verdict = "" if ok is None else ("  met" if ok(v) else "  NOT met")
            print(f"  {name:<6} {what:<50} {v:6.2f}  {target}{verdict}")
    for dask_key, loop_key, device in (("C", "D", "cpp_standalone"), ("F", "G", "runtime")):
        if dask_key in walls and loop_key in walls:
            share = statistics.median((x - y) / x for x, y in zip(walls[dask_key], walls[loop_key]))
            print(f"  Dask's overhead ({device}, 1 worker, LocalCluster start included): {100 * share:5.1f} % of the "
                  f"sweep's wall time  <= 10 %{'  met' if share <= 0.10 else '  NOT met'}")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
