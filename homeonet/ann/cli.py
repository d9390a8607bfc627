"""The ``compare`` sub-command: ANN normalizations and brain mechanisms on the same data sets, one table.

``homeonet.cli`` wires it in with :func:`register` and :func:`run`::

    homeonet compare --dataset digits,mnist5k --model mlp,cnn --seeds 5 --brain-seeds 3 --out results/

Every option is checked when it is parsed (one line, exit status 2); the output folder is checked
for writing before any training.
"""

from __future__ import annotations

import argparse
import sys
import warnings

__all__ = ["register", "run"]


def _count(minimum):
    def parse(text):
        try:
            value = int(str(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}")
        return value
    return parse


def _names(choices, what, extra=None):
    """A comma-separated list of names from *choices* (*extra*: name -> list it stands for)."""
    extra = extra or {}

    def parse(text):
        names = [n.strip() for n in str(text).split(",") if n.strip()]
        if not names:
            raise argparse.ArgumentTypeError(f"must name at least one {what}: {', '.join(choices)}")
        out = []
        for n in names:
            if n not in choices and n not in extra:
                raise argparse.ArgumentTypeError(f"unknown {what} {n!r}; choose from {', '.join([*choices, *extra])}")
            out += extra.get(n, [n])
        return list(dict.fromkeys(out))
    return parse


def _brain(text):
    from homeonet.comparison import METHODS, select

    try:
        methods = select(text)
    except Exception as err:  # ParameterError: its message, without the parameter's name
        raise argparse.ArgumentTypeError(str(err).removeprefix("methods: ")) from None
    ann = [m.name for m in methods if m.side != "brain"]
    if ann:
        brain = sorted({m.network for m in METHODS.values() if m.side == "brain"})
        raise argparse.ArgumentTypeError(f"{ann[0]!r} is not a brain method; give NETWORK or NETWORK:VARIANT with "
                                         f"NETWORK one of {', '.join(brain)}")
    return [m.name for m in methods]


def register(subparsers):
    """Add the ``compare`` sub-command to an ``argparse`` sub-parser collection.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The object returned by ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``compare`` parser.
    """
    from homeonet.comparison import ANN_SCALES, OFFLINE_DATASETS

    norms = list(ANN_SCALES)
    datasets = [*OFFLINE_DATASETS, "generated", "mnist", "fashion_mnist", "cifar10"]
    p = subparsers.add_parser(
        "compare", help="ANN normalizations and brain mechanisms on the same data sets: accuracy and unit usage",
        description="Train an MLP (and for images a small CNN) with each normalization, and run brain networks "
                    "with each homeostatic mechanism on the same data set's samples, over seeds; write "
                    "compare.nc (every run), compare.csv and compare.md (one table: mean and sd over seeds of "
                    "test accuracy in %%, usage entropy, Gini, sparseness, dimensionality, wall time) and "
                    "compare_pairs.png (each ANN normalization next to the brain mechanisms of its scale) to "
                    "--out. Each finished run is saved at once: an interrupted comparison resumes, and a second "
                    "one with other options adds to the folder. Needs torch.")
    p.add_argument("--dataset", default=["digits"], type=_names(datasets, "data set", {"all": list(OFFLINE_DATASETS)}),
                   metavar="LIST", help="comma-separated data sets, or 'all' (= digits,mnist5k,mnist1d; offline, see "
                                        "the README); mnist, fashion_mnist and cifar10 are read from --root "
                                        "(default: digits)")
    p.add_argument("--norms", default=norms, type=_names(norms, "norm"), metavar="LIST",
                   help=f"comma-separated ANN normalizations (default: all: {','.join(norms)})")
    p.add_argument("--model", default=["mlp"], type=_names(("mlp", "cnn"), "model", {"all": ["mlp", "cnn"]}),
                   metavar="LIST", help="ANN networks: mlp, cnn (images only) or all (default: mlp)")
    p.add_argument("--seeds", default=5, type=_count(0), metavar="K",
                   help="ANN seeds 0..K-1, an integer >= 0; 0 skips the ANN side (default 5)")
    p.add_argument("--epochs", default=20, type=_count(1), metavar="N",
                   help="training epochs per ANN run, >= 1 (default 20)")
    p.add_argument("--brain", default=["rate:" + m for m in ("none", "intrinsic_plasticity", "synaptic_scaling",
                                                             "inhibitory_normalization", "network_homeostasis")],
                   type=_brain, metavar="LIST",
                   help="brain methods: 'rate' (the rate network with each homeostatic mechanism, the default), "
                        "'diehl_cook' (the spiking network and its ablations, when installed), or "
                        "NETWORK:VARIANT names")
    p.add_argument("--brain-seeds", default=3, type=_count(0), metavar="K",
                   help="seeds of the brain methods, an integer >= 0; 0 skips the brain side (default 3)")
    p.add_argument("--root", default=None, metavar="DIR", help="local folder of the torchvision data sets")
    p.add_argument("--out", default="homeonet-results", metavar="DIR",
                   help="output folder, created if needed (default: homeonet-results)")
    p.add_argument("--no-resume", action="store_true", help="rerun every point even if --out holds it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def run(args) -> int:
    """Run ``homeonet compare`` with parsed *args*; print the table.

    Parameters
    ----------
    args : argparse.Namespace
        From the parser made by :func:`register`.

    Returns
    -------
    int
        0 on success, 1 when some points failed (the table has the others; one line on stderr names
        the failed ones), 2 on bad input (one line on stderr), 130 when interrupted (the finished
        points are kept and a rerun resumes).
    """
    from homeonet._validate import HomeonetError

    try:
        try:
            import torch  # noqa: F401
        except ImportError as err:
            raise HomeonetError(f"homeonet compare needs PyTorch: pip install 'homeonet[ann]' ({err})") from None
        from pathlib import Path

        import matplotlib

        matplotlib.use("Agg")
        from homeonet.comparison import compare, markdown, pair_figure, summary
        from homeonet.figures import save_figure

        methods = [f"{model}:{norm}" for model in args.model for norm in args.norms] + list(args.brain)
        with warnings.catch_warnings():  # failed points are reported below, in one line
            warnings.filterwarnings("ignore", message=".*comparison points failed", category=RuntimeWarning)
            ds = compare(args.dataset, methods, args.seeds, brain_seeds=args.brain_seeds, out=args.out,
                         options={model: {"epochs": args.epochs} for model in args.model}, root=args.root,
                         resume=not args.no_resume, progress=not args.quiet)
        save_figure(pair_figure(ds), Path(args.out) / "compare_pairs", formats=("png",))
    except HomeonetError as err:
        msg = str(err)
        options = {"dataset": "--dataset", "root": "--root", "out": "--out", "methods": "--norms/--brain",
                   "seeds": "--seeds", "brain_seeds": "--brain-seeds"}
        for prefix, option in options.items():  # name the option as the user typed it
            if msg.startswith(prefix + " ") or msg.startswith(prefix + ":"):
                msg = option + msg[len(prefix):]
                break
        print(f"homeonet compare: {msg}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # every point failed: each is named with its error
        print(f"homeonet compare: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:  # RunInterrupted says what was kept
        print(f"homeonet compare: {err or 'interrupted'}", file=sys.stderr)
        return 130
    print(markdown(summary(ds)), end="")
    print(f"files: {', '.join(f'{Path(args.out) / n}' for n in ('compare.nc', 'compare.csv', 'compare.md'))}, "
          f"{Path(args.out) / 'compare_pairs.png'}")
    if ds.attrs.get("failed"):
        print(f"homeonet compare: some points failed and are missing from the table (run the same command "
              f"again to retry them): {ds.attrs['failed']}", file=sys.stderr)
        return 1
    return 0
