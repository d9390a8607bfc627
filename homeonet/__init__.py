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
"""

__version__ = "0.1.0"

from ._validate import HomeonetError
from .mechanism import Contribution, Mechanism, Operation, Target, connect, neuron_group, synapses
from . import mechanisms
from .mechanisms import *  # noqa: F401,F403 - every mechanism class at the top level
from .protocols import ActivityBlockade, Disinhibition, InputStep, Lesion, ScheduledScale, SynapseLesion
from .results import Results, load
from .simulate import simulate

__all__ = [
    "HomeonetError", "Mechanism", "Contribution", "Operation", "Target", "neuron_group", "synapses", "connect",
    "Results", "load", "simulate", "__version__", "ActivityBlockade", "Disinhibition", "InputStep", "Lesion",
    "ScheduledScale", "SynapseLesion",
] + list(mechanisms.__all__)
