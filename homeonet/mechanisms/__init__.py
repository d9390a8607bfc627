"""Homeostatic mechanisms, one class per file, all following :mod:`homeonet.mechanism`."""

from .intrinsic_plasticity import IntrinsicPlasticity
from .rate_sensor import RateSensor

__all__ = ["RateSensor", "IntrinsicPlasticity"]
