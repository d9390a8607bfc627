"""Neuron, input and network models (shipped as ``homeonet.models``).

Modules: :mod:`~homeonet.models.neurons` (rate and LIF neurons with hooks),
:mod:`~homeonet.models.inputs` (Poisson inputs), :mod:`~homeonet.models.stimuli`
(stimulus sets), :mod:`~homeonet.models.networks` (recurrent E/I and
feed-forward builders), :mod:`~homeonet.models.plasticity` (Hebbian rules and
the STDP layer they are tested in), :mod:`~homeonet.models.experiments` (ready-made runs for
the command line).
"""

from .inputs import modulated_input, poisson_input, stimulus_input
from .networks import feedforward, recurrent_ei
from .neurons import LIF, ConductanceLIF, NeuronModel, RateNeuron
from .plasticity import AdditiveSTDP, stdp_layer
from .stimuli import StimulusSet, class_patterns, orientation_tuned

__all__ = ["NeuronModel", "RateNeuron", "LIF", "ConductanceLIF", "poisson_input", "modulated_input",
           "stimulus_input", "StimulusSet", "class_patterns", "orientation_tuned", "recurrent_ei", "feedforward",
           "AdditiveSTDP", "stdp_layer"]
