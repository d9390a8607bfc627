"""Benchmark: time of one training step with homeonet's normalization layers vs torch's BatchNorm1d.

The same MLP (``Linear -> norm -> ReLU`` blocks, the layout of :func:`homeonet.ann.train.build_model`)
is trained on random data; a step is forward + backward + ``Adam.step``. Each configuration is
timed as the best (minimum) over repeats of the mean step time, the estimate least disturbed by
other processes (as ``timeit`` recommends); the median is printed too. Configurations are
interleaved so that drifts of a shared machine hit all of them alike. The issue's target: SynapticScaling at
most 1.2x BatchNorm1d.

Run::

    python benchmarks/bench_ann.py                  # CPU, 1 thread, default sizes
    python benchmarks/bench_ann.py --clock cpu      # CPU time instead of wall time (shared machine)
    python benchmarks/bench_ann.py --device cuda --batch 256 --hidden 1024
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from homeonet.ann.train import build_model

NORMS = ("none", "batchnorm", "synaptic_scaling", "synaptic_scaling_rate", "intrinsic_plasticity", "layernorm",
         "divisive")


def _step_fn(norm, batch, n_in, hidden, n_classes, device):
    torch.manual_seed(0)
    model = build_model(norm, (n_in,), n_classes, hidden=hidden).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, n_in, device=device)
    y = torch.randint(0, n_classes, (batch,), device=device)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def _time(step, n, device, clock=time.perf_counter):
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = clock()
    for _ in range(n):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (clock() - t0) / n


def main(argv=None):
    """Parse options, time every normalization and print a table of step times and ratios."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--inputs", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--steps", type=int, default=200, help="steps per repeat")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--norms", default=",".join(NORMS))
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: time.perf_counter; cpu: time.process_time, the CPU time of this process (summed "
                        "over its threads), which leaves out the time it waits for a core on a shared machine "
                        "(CPU device only)")
    args = p.parse_args(argv)
    if args.clock == "cpu" and args.device != "cpu":
        p.error("--clock cpu measures CPU time: use it with --device cpu")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    norms = args.norms.split(",")
    steps = {n: _step_fn(n, args.batch, args.inputs, (args.hidden,) * args.layers, 10, device) for n in norms}
    for s in steps.values():  # warm-up
        _time(s, 20, device)
    times = {n: [] for n in norms}
    for _ in range(args.repeats):
        for n in norms:
            times[n].append(_time(steps[n], args.steps, device, clock))
    best = {n: min(v) for n, v in times.items()}
    med = {n: statistics.median(v) for n, v in times.items()}
    ref, ref_med = best.get("batchnorm"), med.get("batchnorm")
    print(f"device={device} batch={args.batch} inputs={args.inputs} hidden={args.hidden}x{args.layers} "
          f"threads={args.threads} clock={args.clock} torch={torch.__version__}")
    print(f"{'norm':24s} {'best (us)':>10s} {'vs batchnorm':>13s} {'median (us)':>12s} {'vs batchnorm':>13s}")
    for n in norms:
        r1 = f"{best[n] / ref:13.2f}" if ref else f"{'-':>13s}"
        r2 = f"{med[n] / ref_med:13.2f}" if ref_med else f"{'-':>13s}"
        print(f"{n:24s} {best[n] * 1e6:10.1f} {r1} {med[n] * 1e6:12.1f} {r2}")
    return best


if __name__ == "__main__":
    main()
