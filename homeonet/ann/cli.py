"""The ``compare`` sub-command: train every normalization over seeds and write the tables.

``homeonet.cli`` wires it in with :func:`register` and :func:`run`::

    homeonet compare --norms none,batchnorm,synaptic_scaling --seeds 5 --epochs 20 --out results/
"""

from __future__ import annotations

import sys

__all__ = ["register", "run"]


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
    from homeonet.ann.compare import DEFAULT_NORMS

    p = subparsers.add_parser(
        "compare", help="train ANNs with each normalization over seeds; tabulate accuracy and unit usage",
        description="Train an MLP (or small CNN) with each normalization over several seeds, and write "
                    "ann_compare.nc (results), ann_compare.csv and ann_compare.md (mean and sd over seeds of "
                    "test accuracy, usage entropy, Gini, sparseness, dimensionality) to --out. An interrupted "
                    "comparison resumes: finished (norm, seed) runs in --out are kept. Needs torch.")
    p.add_argument("--norms", default=",".join(DEFAULT_NORMS), metavar="LIST",
                   help=f"comma-separated normalizations (default: {','.join(DEFAULT_NORMS)})")
    p.add_argument("--seeds", default="5", metavar="K", help="number of seeds, an integer >= 1 (default 5)")
    p.add_argument("--epochs", default="20", metavar="N", help="training epochs per run, >= 1 (default 20)")
    p.add_argument("--dataset", default="digits", metavar="NAME",
                   help="digits (default, bundled with scikit-learn), generated, mnist, fashion_mnist, cifar10")
    p.add_argument("--root", default=None, metavar="DIR", help="local folder of the torchvision data sets")
    p.add_argument("--download", action="store_true", help="let torchvision download a missing data set into --root")
    p.add_argument("--model", default="mlp", choices=("mlp", "cnn"), help="network (default mlp)")
    p.add_argument("--out", default="homeonet-results", metavar="DIR",
                   help="output folder, created if needed (default: homeonet-results)")
    p.add_argument("--no-resume", action="store_true", help="retrain everything even if --out holds results")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--brain-seeds", default="3", metavar="K",
                   help="seeds of the Brian2 side (homeostatic mechanisms on a rate network; brain_compare.* and "
                        "compare_pairs.png in --out); 0 skips it (default 3)")
    return p


def _int(text, name, minimum=1):
    from homeonet._validate import HomeonetError

    try:
        value = int(str(text))
    except ValueError:
        raise HomeonetError(f"{name} must be an integer >= {minimum}; got {text!r}") from None
    if value < minimum:
        raise HomeonetError(f"{name} must be an integer >= {minimum}; got {text!r}")
    return value


def run(args) -> int:
    """Run ``homeonet compare`` with parsed *args*; print the Markdown table.

    Parameters
    ----------
    args : argparse.Namespace
        From the parser made by :func:`register`.

    Returns
    -------
    int
        0 on success, 2 on bad input (one line on stderr).
    """
    from homeonet._validate import HomeonetError

    try:
        try:
            from homeonet.ann.compare import compare, summary_table
        except ImportError as err:
            raise HomeonetError(f"homeonet compare needs PyTorch: pip install 'homeonet[ann]' ({err})") from None
        brain_seeds = _int(getattr(args, "brain_seeds", "0"), "--brain-seeds", minimum=0)
        ds = compare(norms=args.norms, seeds=_int(args.seeds, "--seeds"), epochs=_int(args.epochs, "--epochs"),
                     dataset=args.dataset, out=args.out, model=args.model, root=args.root, download=args.download,
                     progress=not args.quiet, resume=not args.no_resume)
        brain = None
        if brain_seeds:
            from pathlib import Path

            from homeonet.comparison import compare_brain, pair_figure
            from homeonet.figures import save_figure

            brain = compare_brain(seeds=brain_seeds, out=args.out, progress=not args.quiet)
            save_figure(pair_figure(ds, brain), Path(args.out) / "compare_pairs", formats=("png",))
    except HomeonetError as err:
        msg = str(err)
        options = {"norm ": "--norms: norm ", "norms ": "--norms ", "seeds ": "--seeds ", "epochs ": "--epochs ",
                   "dataset ": "--dataset ", "root ": "--root "}
        for prefix, option in options.items():  # name the option as the user typed it
            if msg.startswith(prefix):
                msg = option + msg[len(prefix):]
                break
        print(f"homeonet compare: {msg}", file=sys.stderr)
        return 2
    print(summary_table(ds), end="")
    if brain is not None:
        from homeonet.comparison import summary_table as brain_table

        print("\nBrian2 mechanisms (hidden layer of a rate network):\n" + brain_table(brain), end="")
    return 0
