"""Homeostatic mechanisms, one class per file, all following :mod:`homeonet.mechanism`."""

from .intrinsic_plasticity import IntrinsicPlasticity
from .rate_sensor import RateSensor

__all__ = ["RateSensor", "IntrinsicPlasticity"]
from .inhibitory_stdp import InhibitorySTDP
from .lateral_inhibition import LateralInhibition
from .divisive_normalization import DivisiveNormalization
from .global_homeostasis import GlobalHomeostasis

__all__ += ["InhibitorySTDP", "LateralInhibition", "DivisiveNormalization", "GlobalHomeostasis"]
from .synaptic_scaling import SynapticScaling
from .weight_normalization import WeightNormalization

__all__ += ["SynapticScaling", "WeightNormalization"]
from .structural_plasticity import StructuralPlasticity

__all__ += ["StructuralPlasticity"]
