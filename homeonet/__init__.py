"""homeonet: homeostatic plasticity in Brian2 networks, side by side with deep-learning normalization.

The package follows Shen, Wang & Navlakha (2021), "A Correspondence Between
Normalization Strategies in Artificial and Biological Neural Networks",
Neural Computation 33(12):3179-3203.

Main entry points
-----------------
neuron_group, synapses, connect
    Drop-in replacements for ``brian2.NeuronGroup`` / ``brian2.Synapses`` that
    merge homeostatic mechanisms into your own equations.
Mechanism, Contribution, Operation
    The mechanism protocol (:mod:`homeonet.mechanism`).
IntrinsicPlasticity, SynapticScaling, WeightNormalization, InhibitorySTDP, ...
    Mechanisms (:mod:`homeonet.mechanisms`), also importable from here.
simulate, Results, load
    Run a network with a progress bar and collect its monitors in an
    ``xarray``-backed, NetCDF-saveable results object.
load_sweep
    Read a parameter sweep (:mod:`homeonet.sweep`, ``homeonet sweep``) as one labelled ``xarray.Dataset``.
"""


def _quiet_interrupt_while_starting():
    """In the ``homeonet`` command, one Ctrl-C while it starts (importing Brian2 takes seconds) ends it quietly.

    Python turns SIGINT into a ``KeyboardInterrupt`` whose traceback, raised inside some import, says
    nothing to the user. Until :func:`homeonet.cli.main` installs Python's handler again, the command
    (the console script, ``sys.argv[0]`` named ``homeonet``) leaves SIGINT to the system: the process
    ends with the status of an interrupt (130 in a shell) and no traceback. Library users (a notebook,
    a script) keep their ``KeyboardInterrupt``.
    """
    import os
    import signal
    import sys

    if sys.argv and os.path.basename(sys.argv[0]) == "homeonet":
        signal.signal(signal.SIGINT, signal.SIG_DFL)


_quiet_interrupt_while_starting()


def _map_checkout_folders():
    """In a source checkout, resolve ``homeonet.models`` / ``homeonet.analysis`` to ``models/`` and ``analysis/``.

    The repository keeps ``models/`` and ``analysis/`` at its top level and ``setup.cfg`` ships them as
    subpackages. An installed copy (wheel or editable) has them in place; a checkout used in place --
    ``python -c``, ``python -m pytest`` or a notebook started in the repository root, where the source
    folder ``homeonet/`` comes first on ``sys.path`` -- would lack them. There, a meta-path finder
    maps exactly these two names to the top-level folders, so one copy of each module exists under
    its ``homeonet.`` name (``import models`` stays wrong and is refused by a packaging test).
    """
    import importlib.abc
    import importlib.util
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    root = here.parent
    folders = {f"{__name__}.{sub}": root / sub for sub in ("models", "analysis")}
    in_checkout = (root / "setup.cfg").is_file() and all((f / "__init__.py").is_file() for f in folders.values())
    if not in_checkout or any((here / sub).exists() for sub in ("models", "analysis")):
        return

    class _CheckoutFolders(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            folder = folders.get(name)
            if folder is None:
                return None
            return importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                          submodule_search_locations=[str(folder)])

    if not any(type(f).__name__ == "_CheckoutFolders" for f in sys.meta_path):
        sys.meta_path.insert(0, _CheckoutFolders())


_map_checkout_folders()

from importlib.metadata import PackageNotFoundError, version as _version  # noqa: E402

try:
    __version__ = _version("homeonet")
except PackageNotFoundError:  # a checkout used in place and not installed: its setup.cfg holds the version
    import configparser as _configparser
    from pathlib import Path as _Path

    _cfg = _configparser.ConfigParser()
    _cfg.read(_Path(__file__).resolve().parents[1] / "setup.cfg")
    __version__ = _cfg.get("metadata", "version", fallback="unknown")

from ._validate import HomeonetError
from .mechanism import Contribution, Mechanism, Operation, Target, connect, neuron_group, synapses
from . import mechanisms
from .mechanisms import *  # noqa: F401,F403 - every mechanism class at the top level
from .protocols import ActivityBlockade, Disinhibition, InputStep, Lesion, ScheduledScale, SynapseLesion
from .results import Results, load
from .simulate import simulate
from .sweep import load_sweep

__all__ = [
    "HomeonetError", "Mechanism", "Contribution", "Operation", "Target", "neuron_group", "synapses", "connect",
    "Results", "load", "simulate", "load_sweep", "__version__", "ActivityBlockade", "Disinhibition", "InputStep",
    "Lesion", "ScheduledScale", "SynapseLesion",
] + list(mechanisms.__all__)
