"""The ``homeonet`` command line: list and run homeostasis experiments.

Bad input gives one line on stderr naming the parameter and what is accepted,
and exit status 2 (no traceback).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

__all__ = ["main", "parse_time"]


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


def parse_time(text: str, name: str = "--duration"):
    """Parse a time such as ``'10s'``, ``'500 ms'`` or ``'2'`` (seconds) into a Brian2 quantity.

    Parameters
    ----------
    text : str
        The text to parse.
    name : str
        Option name used in error messages.

    Returns
    -------
    Quantity
        The time (> 0 s).

    Raises
    ------
    UsageError
        For anything that is not a positive, finite time.
    """
    from brian2 import Quantity, have_same_dimensions, second

    from homeonet.units import parse_quantity

    hint = f"{name} must be a time > 0 such as '10s', '500ms' or '2min'"
    try:
        value = parse_quantity(text)  # the one parser of typed quantities (a bare number: seconds)
    except ValueError as err:
        raise UsageError(f"{hint}; got {text!r} ({err})") from None
    value = value if isinstance(value, Quantity) else value * second
    if not have_same_dimensions(value, second) or not value > 0 * second:
        raise UsageError(f"{hint}; got {text!r}")
    return value


def _seed(text):
    from homeonet._validate import ParameterError, check_seed

    try:
        return check_seed("--seed", int(text))
    except (ValueError, ParameterError):
        raise UsageError(f"--seed must be an integer in [0, {2 ** 32 - 1}] (Brian2's seed range); got {text!r}") from None


def _out_dir(text, names=()) -> Path:
    from homeonet._io import check_output_paths
    from homeonet._validate import OutputError

    try:
        return check_output_paths(text, names)
    except OutputError as err:
        raise UsageError(str(err)) from None


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message):
        err = UsageError(f"{self.prog}: error: {message}")
        err.formatted = True
        raise err


def _build_parser():
    from homeonet import __version__
    from homeonet.models.experiments import DEFAULT
    from homeonet.simulate import DEVICES

    parser = _Parser(prog="homeonet", description="Homeostatic plasticity in Brian2 networks.")
    parser.add_argument("--version", action="version", version=f"homeonet {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an unexpected error (also: HOMEONET_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    lst = sub.add_parser("list", help="list the models 'homeonet run' can run, one line each",
                         description="List the models 'homeonet run' can run, one line each; with --params MODEL, "
                                     "the parameters of MODEL (name, default, accepted values, meaning).")
    lst.add_argument("--params", default=None, metavar="MODEL",
                     help="show the parameters of MODEL, which 'homeonet run MODEL --set NAME=VALUE' sets")
    run = sub.add_parser("run", help="run a model and write results (.nc), a figure (.png) and a summary (.txt)",
                         description="Run a model: simulate it with a progress bar, then write MODEL.nc (results, "
                                     "NetCDF), MODEL.png (figure) and MODEL.txt (summary) to --out.")
    run.add_argument("model", nargs="?", default=DEFAULT, metavar="MODEL",
                     help=f"model name from 'homeonet list' (default: {DEFAULT})")
    run.add_argument("--duration", default=None, metavar="T",
                     help="simulated time, e.g. 20s or 500ms (default: the model's own; same as --set duration=T)")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
                     help="set a parameter of the model, with its unit: --set eta=0.1mV/Hz --set onset=0.4 "
                          "(repeatable; 'homeonet list --params MODEL' lists them)")
    run.add_argument("--seed", default="1", metavar="S", help="random seed, an integer >= 0 (default 1)")
    run.add_argument("--out", default="homeonet-results", metavar="DIR",
                     help="output folder, created if needed (default: homeonet-results)")
    run.add_argument("--device", default="runtime", choices=DEVICES,
                     help="Brian2 device (default runtime; cuda_standalone needs brian2cuda and an NVIDIA GPU)")
    run.add_argument("--target", default="auto", choices=("auto", "numpy", "cython"),
                     help="code-generation target of the runtime device (default auto: cython when a "
                          "compiler works, else numpy)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    figs = sub.add_parser("figures", help="draw the standard figures of a saved run or sweep (PNG and PDF)",
                          description="Draw the standard panels of a results file written by 'homeonet run' "
                                      "(raster, rate trajectory, rate distribution, weights, E/I currents, "
                                      "as available) as PNG and PDF; for a sweep folder written by 'homeonet "
                                      "sweep', each measure against each swept parameter and heat maps.")
    figs.add_argument("results", metavar="RESULTS.nc|SWEEP_DIR",
                      help="a results file from 'homeonet run', or a sweep folder from 'homeonet sweep'")
    figs.add_argument("--out", default=None, metavar="DIR", help="output folder (default: next to RESULTS.nc)")
    figs.add_argument("--population", default=None, help="population shown (default: the regulated one)")
    from homeonet.sweep import register as register_sweep
    from homeonet.tradeoffs import register as register_tradeoffs

    register_sweep(sub)
    register_tradeoffs(sub)
    # 'compare' (homeonet.ann) needs torch: its full parser is built only when it is the command
    sub.add_parser("compare", add_help=False, prefix_chars="\0",
                   help="train ANNs with each normalization over seeds; tabulate accuracy and unit usage "
                        "(needs the 'ann' extra; 'homeonet compare --help' for options)"
                   ).add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _cmd_compare(argv):
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise UsageError("homeonet compare needs PyTorch: pip install 'homeonet[ann]'")
    from homeonet.ann import cli as ann_cli

    parser = _Parser(prog="homeonet")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    ann_cli.register(sub)
    return ann_cli.run(parser.parse_args(argv))


def _cmd_list(args):
    from homeonet.models.experiments import DEFAULT, EXPERIMENTS, get_experiment

    if args.params is not None:
        exp = get_experiment(args.params)
        print(f"{exp.name}: {exp.description}")
        print(exp.parameters.table())
        return 0
    width = max(map(len, EXPERIMENTS))
    for name, exp in EXPERIMENTS.items():
        mark = " (default)" if name == DEFAULT else ""
        length = "" if exp.duration is None else f" [{exp.parameters['duration'].format(exp.duration)}]"
        print(f"{name:<{width}}  {exp.description}{length}{mark}")
    return 0


def _settings(items) -> dict:
    """``['eta=0.1mV/Hz', ...]`` from repeated ``--set`` options -> ``{'eta': '0.1mV/Hz'}``."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise UsageError(f"--set must be NAME=VALUE, e.g. --set eta=0.1mV/Hz; got {item!r}")
        if name in out:
            raise UsageError(f"--set {name} is given twice")
        out[name] = value.strip()
    return out


def _values(exp, args):
    """The experiment's checked parameter values from ``--set`` and ``--duration``."""
    from homeonet._validate import ParameterError

    overrides = _settings(args.settings)
    if args.duration is not None:
        if "duration" in overrides:
            raise UsageError("give the duration once: --duration or --set duration=, not both")
        overrides["duration"] = parse_time(args.duration)
    try:
        return exp.resolve(overrides)
    except ParameterError as err:
        msg = str(err)
        if args.duration is not None and msg.startswith("duration "):
            raise UsageError("--" + msg) from None  # it came from --duration: name the option as typed
        raise UsageError(f"--set {msg}") from None


def _cmd_run(args):
    from homeonet.models.experiments import get_experiment

    exp = get_experiment(args.model)
    values = _values(exp, args)
    seed = _seed(args.seed)
    from homeonet.simulate import check_device

    check_device(args.device)  # before any work: cuda_standalone needs brian2cuda
    names = [f"{exp.name}{tag}.{ext}" for tag in ("", ".incomplete") for ext in ("nc", "png", "txt")]
    out = _out_dir(args.out, names)

    import matplotlib

    matplotlib.use("Agg")
    from brian2 import seed as brian_seed
    from brian2 import start_scope

    from homeonet._validate import RunInterrupted
    from homeonet.simulate import simulate, use_device

    start_scope()
    with use_device(args.device, target=args.target if args.device == "runtime" else None):
        brian_seed(seed)
        try:
            if exp.runner is not None:   # a protocol that ends by itself (a schedule of samples)
                results = exp.runner(values, seed=seed, progress=not args.quiet, attrs=exp.record(values))
            else:
                net = exp.build(values)
                results = simulate(net, values["duration"], progress=not args.quiet, desc=exp.name, seed=seed,
                                   **exp.record(values))
        except RunInterrupted as stop:
            if stop.results is None:
                print(f"homeonet: {stop}; nothing written", file=sys.stderr)
                return 130
            written = _write_run(stop.results, exp, values, out, tag=".incomplete")
            print(f"homeonet: {stop}; wrote what was simulated, marked incomplete: {written}", file=sys.stderr)
            return 130
    written = _write_run(results, exp, values, out)
    print(f"wrote {written}")
    return 0


def _write_run(results, exp, values, out, tag=""):
    """Summary, figure and NetCDF of a run (an interrupted one under ``MODEL.incomplete.*``); returns a line."""
    from homeonet._io import write_or_rescue
    from homeonet.models.experiments import summarise

    summary = summarise(results, exp, values)
    theta = "ip_theta" if f"{exp.population}_ip_theta" in results.dataset else None
    results.dataset.attrs.update({"rate_before": summary["before"], "rate_after": summary["after"],
                                  "rate_end": summary["end"],
                                  **{f"measure.{k}": v for k, v in summary.get("measures", {}).items()}})
    stem = f"{exp.name}{tag}"
    nc = results.save(out / f"{stem}.nc")
    fig = _figure(results, exp, values, summary, theta)
    png = write_or_rescue(out / f"{stem}.png", lambda path: fig.savefig(path, dpi=120, format="png"))
    txt = out / f"{stem}.txt"
    write_or_rescue(txt, lambda path: Path(path).write_text(summary["text"] + "\n"))
    print(summary["text"])
    return f"{out}{os.sep}: {nc.name}, {png.name}, {txt.name}"


def _cmd_figures(args):
    import matplotlib

    matplotlib.use("Agg")
    from homeonet._io import check_output_paths

    if Path(args.results).is_dir():  # a sweep folder: homeonet.sweep_figures draws it
        from homeonet.sweep_figures import sweep_figures

        for path in sweep_figures(args.results, None if args.out is None else check_output_paths(args.out, ())):
            print(path)
        return 0
    from homeonet.figures import figures_for_results
    from homeonet.results import load

    out = args.out if args.out is not None else str(Path(args.results).parent)
    check_output_paths(out, ())
    results = load(args.results)
    import warnings

    with warnings.catch_warnings():  # the panels not drawn are printed below, once
        warnings.simplefilter("ignore")
        files = figures_for_results(results, out, population=args.population)
    for path in files:
        print(path)
    for reason in getattr(files, "skipped", ()):
        print(f"not drawn: {reason}", file=sys.stderr)
    return 0


def _figure(results, exp, values, summary, theta):
    from brian2 import second

    from homeonet.figures import homeostasis_figure

    if exp.figure is not None:
        return exp.figure(results, values)
    onset = summary["onset"]
    fig = homeostasis_figure(results, exp.population, target=exp.target_rate(values),
                             onset=None if onset is None else onset * second, theta=theta)
    when = "" if onset is None else f" at {onset:g} s"
    fig.suptitle(f"homeonet {exp.name}: {exp.describe_perturbation(values)}{when}")
    return fig


def _one_line(err) -> str:
    """The innermost cause of an unexpected error, as one line (Brian2 wraps errors in several layers)."""
    while err.__cause__ is not None or (err.__context__ is not None and not err.__suppress_context__):
        err = err.__cause__ or err.__context__
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


def main(argv=None) -> int:
    """Entry point of the ``homeonet`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 when a run diverged or failed, 2 on bad input, 130 when interrupted.
    """
    from homeonet._validate import DivergenceError, HomeonetError, OutputError

    if signal.getsignal(signal.SIGINT) is signal.SIG_DFL:  # left to the system while starting (homeonet/__init__)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv or os.environ.get("HOMEONET_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    try:
        args = _build_parser().parse_args(argv)
        if args.command == "compare":
            return _cmd_compare(argv)
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "figures":
            return _cmd_figures(args)
        if args.command == "sweep":
            from homeonet.sweep import command

            return command(args)
        if args.command == "tradeoffs":
            from homeonet.tradeoffs import command as tradeoffs_command

            return tradeoffs_command(args)
        return _cmd_run(args)
    except DivergenceError as err:
        print(f"homeonet: error: {err}; nothing was saved", file=sys.stderr)
        return 1
    except OutputError as err:
        print(f"homeonet: error: {err}", file=sys.stderr)
        return 1 if "saved to" in str(err) or "rescue" in str(err) else 2
    except (UsageError, HomeonetError) as err:
        print(err if getattr(err, "formatted", False) else f"homeonet: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("homeonet: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as err:  # an unexpected error, most often inside Brian2: one line and a hint
        if debug:
            raise
        print(f"homeonet: error: the run failed unexpectedly ({_one_line(err)}); run again with --debug "
              "(or HOMEONET_DEBUG=1) for the full traceback", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
