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
IntrinsicPlasticity, RateSensor
    Mechanisms (:mod:`homeonet.mechanisms`).
simulate, Results, load
    Run a network with a progress bar and collect its monitors in an
    ``xarray``-backed, NetCDF-saveable results object.
"""

__version__ = "0.1.0"

from ._validate import HomeonetError
from .mechanism import Contribution, Mechanism, Operation, Target, connect, neuron_group, synapses
from .mechanisms import IntrinsicPlasticity, RateSensor
from .results import Results, load
from .simulate import simulate

__all__ = [
    "HomeonetError", "Mechanism", "Contribution", "Operation", "Target", "neuron_group", "synapses", "connect",
    "IntrinsicPlasticity", "RateSensor", "Results", "load", "simulate", "__version__",
]
