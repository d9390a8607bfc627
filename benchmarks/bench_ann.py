"""Benchmark: time of one training step with homeonet's normalization layers vs torch's BatchNorm1d.

The same MLP (``Linear -> norm -> ReLU`` blocks, the layout of :func:`homeonet.ann.train.build_model`)
is trained on random data; a step is forward + backward + ``Adam.step``. Each configuration is
timed as the best (minimum) over repeats of the mean step time, the estimate least disturbed by
other processes (as ``timeit`` recommends). Configurations are interleaved, so that drifts of a shared
machine hit all of them alike, and each repeat gives a ratio to BatchNorm1d measured seconds apart: the
median of these paired ratios is the steadiest figure on a noisy machine. The issue's target:
SynapticScaling at most 1.2x BatchNorm1d.

With ``--compile`` every model goes through ``torch.compile`` (inductor; it needs a C++ compiler, as
Brian2's runtime target does) before timing, so that each layer's elementwise operations are fused into
a few kernels: BatchNorm1d is compiled too, and the ratio compares like with like.

Run::

    python benchmarks/bench_ann.py                  # CPU, 1 thread, default sizes
    python benchmarks/bench_ann.py --clock cpu      # CPU time instead of wall time (shared machine)
    python benchmarks/bench_ann.py --compile        # torch.compile every model first
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


def _step_fn(norm, batch, n_in, hidden, n_classes, device, compile_=False):
    torch.manual_seed(0)
    model = build_model(norm, (n_in,), n_classes, hidden=hidden).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    forward = torch.compile(model) if compile_ else model
    x = torch.randn(batch, n_in, device=device)
    y = torch.randint(0, n_classes, (batch,), device=device)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(forward(x), y)
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
    p.add_argument("--compile", action="store_true", help="torch.compile every model (BatchNorm1d's too)")
    args = p.parse_args(argv)
    if args.clock == "cpu" and args.device != "cpu":
        p.error("--clock cpu measures CPU time: use it with --device cpu")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.compile:
        # every model runs the same forward code: give each its own compiled entry instead of
        # falling back to eager mode after dynamo's default of 8 recompilations
        for name in ("recompile_limit", "cache_size_limit"):
            if hasattr(torch._dynamo.config, name):
                setattr(torch._dynamo.config, name, 64)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    norms = args.norms.split(",")
    hidden = (args.hidden,) * args.layers
    steps = {n: _step_fn(n, args.batch, args.inputs, hidden, 10, device, args.compile) for n in norms}
    for s in steps.values():  # warm-up (and compilation, with --compile)
        _time(s, 20, device)
    times = {n: [] for n in norms}
    for _ in range(args.repeats):
        for n in norms:
            times[n].append(_time(steps[n], args.steps, device, clock))
    best = {n: min(v) for n, v in times.items()}
    ref = "batchnorm" if "batchnorm" in norms else None
    print(f"device={device} batch={args.batch} inputs={args.inputs} hidden={args.hidden}x{args.layers} "
          f"threads={args.threads} clock={args.clock} compile={args.compile} torch={torch.__version__}")
    print(f"{'norm':24s} {'best (us)':>10s} {'median (us)':>12s} {'best / bn':>10s} {'median of paired / bn':>22s}")
    for n in norms:
        r1 = r2 = "-"
        if ref:
            r1 = f"{best[n] / best[ref]:.2f}"
            r2 = f"{statistics.median(t / b for t, b in zip(times[n], times[ref])):.2f}"
        print(f"{n:24s} {best[n] * 1e6:10.1f} {statistics.median(times[n]) * 1e6:12.1f} {r1:>10s} {r2:>22s}")
    return best


if __name__ == "__main__":
    main()
