"""Benchmark: the Diehl & Cook (2015) network in homeonet against BindsNET's ``DiehlAndCook2015``.

Both sides learn the same images in the same order with the same protocol: each image for
``t_image`` (350 ms) at 63.75 Hz per unit intensity, ``t_rest`` (150 ms) of silence after it, the
image shown again with +32 Hz when the excitatory layer fired fewer than 5 spikes; one epoch of
training with STDP and the adaptive threshold, then learning frozen, the training images shown again
to label the neurons, and the test images classified (homeonet's ``assign_labels`` / ``classify`` on
both sides' spike counts). Time step 0.5 ms on both sides (the reference code's).

Measured, side by side in one invocation, on this machine's CPU (one thread each: Brian2 runs one;
torch is limited to one with ``torch.set_num_threads(1)``):

* homeonet, runtime device with the Cython target (``homeonet.models.diehl_cook``);
* homeonet, ``cpp_standalone`` (its compile time is reported apart);
* BindsNET 0.3.4 ``DiehlAndCook2015`` at its own defaults (current-based LIF, PostPre STDP,
  norm 78.4, exc 22.5, inh 17.5), driven by the loop in :func:`_bindsnet_worker`.

Speed is samples (images of the schedule) per second of the simulation loop, and presentations
(images including repeats) per second; the ratios are taken against BindsNET. With ``--rounds R`` > 1
the sides alternate R times and medians of the per-round ratios are printed.

BindsNET is never a homeonet dependency: give the Python of a virtual environment that has it with
``--bindsnet-python`` (BindsNET 0.3.4 pins torch >= 2.14, torchvision and gymnasium; on a CPU-only
machine ``pip install --no-deps bindsnet==0.3.4`` next to the CPU torch plus the few packages it
imports works). Its side runs in that interpreter as a subprocess and exchanges data through files.

Usage::

    python benchmarks/bench_diehl_cook.py --n-train 1000 --bindsnet-python /path/to/venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

SIDES = ("cython", "standalone", "bindsnet")


def _bindsnet_worker(data_file, out_file):
    """Run BindsNET's DiehlAndCook2015 on the schedule in *data_file* (numpy .npz); write spike counts to *out_file*."""
    import torch
    from bindsnet.encoding import poisson
    from bindsnet.models import DiehlAndCook2015
    from bindsnet.network.monitors import Monitor

    d = np.load(data_file)
    p = json.loads(str(d["params"]))
    torch.set_num_threads(1)
    torch.manual_seed(p["seed"])
    images, order = torch.tensor(d["images"], dtype=torch.float32), d["order"]
    n_in, n_train, n_total = images.shape[1], int(p["n_train"]), len(order)
    dt, t_image, t_rest = p["dt"], p["t_image"], p["t_rest"]
    net = DiehlAndCook2015(n_inpt=n_in, n_neurons=p["neurons"], dt=dt)
    spikes = Monitor(net.layers["Ae"], state_vars=["s"], time=int(t_image / dt))
    net.add_monitor(spikes, name="Ae_spikes")
    responses = np.zeros((n_total, p["neurons"]))
    presentations = np.zeros(n_total, dtype=int)
    start = time.perf_counter()
    for k in range(n_total):
        net.train(k < n_train)
        boost = 0
        while True:
            rates = images[order[k]] * (p["max_rate"] + boost * p["boost_rate"])
            x = poisson(datum=rates, time=t_image, dt=dt)
            net.run(inputs={"X": x.view(x.shape[0], 1, n_in)}, time=t_image)
            counts = spikes.get("s").sum(dim=0).view(-1).numpy()
            net.run(inputs={}, time=t_rest)                     # rest: no input
            presentations[k] += 1
            if counts.sum() >= p["min_spikes"] or boost >= p["max_repeats"]:
                break
            boost += 1
        responses[k] = counts
    run_time = time.perf_counter() - start
    np.savez(out_file, responses=responses, presentations=presentations, run_time=run_time)


def _homeonet(side, sched, args):
    import brian2

    from homeonet.models.diehl_cook import run_schedule
    from homeonet.simulate import use_device

    t0 = time.perf_counter()
    device = "cpp_standalone" if side == "standalone" else "runtime"
    with use_device(device, target="cython" if side == "cython" else None):
        out = run_schedule(sched, "full", neurons=args.neurons, seed=args.seed, progress=args.progress)
    return {"responses": out.responses, "presentations": out.presentations, "run_time": out.run_time,
            "wall_time": time.perf_counter() - t0, "brian2": brian2.__version__}


def _bindsnet(sched, args, workdir):
    from brian2 import ms

    from homeonet.models.diehl_cook import DEFAULTS

    p = {k: float(DEFAULTS[k] / ms) for k in ("dt", "t_image", "t_rest")}   # BindsNET counts in ms
    p.update(max_rate=float(DEFAULTS["max_rate"]), boost_rate=float(DEFAULTS["boost_rate"]),
             min_spikes=DEFAULTS["min_spikes"], max_repeats=DEFAULTS["max_repeats"], neurons=args.neurons,
             n_train=sched.n_train, seed=args.seed)
    data, out = os.path.join(workdir, "schedule.npz"), os.path.join(workdir, "bindsnet.npz")
    np.savez(data, images=sched.images, order=sched.order, params=json.dumps(p))
    t0 = time.perf_counter()
    subprocess.run([args.bindsnet_python, os.path.abspath(__file__), "--worker", data, out], check=True)
    r = np.load(out)
    version = subprocess.run([args.bindsnet_python, "-c", "import importlib.metadata as m; "
                              "print(m.version('bindsnet'), m.version('torch'))"],
                             capture_output=True, text=True).stdout.split()
    return {"responses": r["responses"], "presentations": r["presentations"], "run_time": float(r["run_time"]),
            "wall_time": time.perf_counter() - t0, "bindsnet": version}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="mnist5k", choices=("digits", "mnist5k"))
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--n-train", type=int, default=None, help="training images (default: all)")
    parser.add_argument("--n-label", type=int, default=None, help="labelling images (default: n-train)")
    parser.add_argument("--n-test", type=int, default=None, help="test images (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds of all sides")
    parser.add_argument("--sides", default=",".join(SIDES), help=f"comma-separated subset of {','.join(SIDES)}")
    parser.add_argument("--bindsnet-python", default=None, help="Python of a venv with bindsnet 0.3.4")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _bindsnet_worker(*args.worker)

    import brian2

    from homeonet.models.diehl_cook import classify, assign_labels, schedule

    sides = [s for s in args.sides.split(",") if s]
    if "bindsnet" in sides and not args.bindsnet_python:
        print("bindsnet: skipped (give --bindsnet-python)")
        sides.remove("bindsnet")
    sched = schedule(args.dataset, n_train=args.n_train, n_test=args.n_test, n_label=args.n_label, seed=args.seed)
    print(f"Diehl & Cook benchmark: {args.dataset}, {args.neurons} excitatory neurons, {sched.n_train} training, "
          f"{sched.n_label} labelling, {sched.n_test} test images ({sched.n_samples} samples), seed {args.seed}, "
          f"350 ms image + 150 ms rest, dt 0.5 ms, one epoch; {args.rounds} round(s) of {', '.join(sides)}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"Brian2 {brian2.__version__}")
    rows = {s: [] for s in sides}
    with tempfile.TemporaryDirectory() as workdir:
        for r in range(args.rounds):
            for side in (sides if r % 2 == 0 else sides[::-1]):
                res = _bindsnet(sched, args, workdir) if side == "bindsnet" else _homeonet(side, sched, args)
                lab, test = sched.phase("label"), sched.phase("test")
                assignments = assign_labels(res["responses"][lab], sched.labels[lab], sched.n_classes)
                pred = classify(res["responses"][test], assignments, sched.n_classes)
                res["accuracy"] = float(np.mean(pred == sched.labels[test]))
                res["samples_per_s"] = sched.n_samples / res["run_time"]
                res["presentations_per_s"] = int(res["presentations"].sum()) / res["run_time"]
                rows[side].append(res)
                extra = f", {res['bindsnet'][0]} (torch {res['bindsnet'][1]})" if side == "bindsnet" else ""
                print(f"round {r + 1} {side:>10}: {res['samples_per_s']:8.2f} samples/s, "
                      f"{res['presentations_per_s']:8.2f} presentations/s, loop {res['run_time']:.1f} s, "
                      f"wall {res['wall_time']:.1f} s, test accuracy {100 * res['accuracy']:.1f}%, "
                      f"{int(res['presentations'].sum())} presentations{extra}", flush=True)
    print("\nside          samples/s (median)  presentations/s  test accuracy (first round)")
    for side in sides:
        sps = np.median([x["samples_per_s"] for x in rows[side]])
        pps = np.median([x["presentations_per_s"] for x in rows[side]])
        print(f"{side:>10}    {sps:12.2f}      {pps:12.2f}       {100 * rows[side][0]['accuracy']:.1f}%")
    base = "bindsnet" if "bindsnet" in sides else None
    if base:
        for side in sides:
            if side == base:
                continue
            ratios = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(rows[side], rows[base])]
            print(f"{side} / bindsnet samples per second: median of {len(ratios)} paired ratio(s) "
                  f"{np.median(ratios):.1f}x")
    return 0

if __name__ == "__main__":
    sys.exit(main())
