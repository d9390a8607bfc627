"""Homeostasis and coding-capacity measures (shipped as ``homeonet.analysis``).

Topic modules: :mod:`~homeonet.analysis.rates` (firing rates and population rates).
"""

from .rates import firing_rates, population_rate

__all__ = ["firing_rates", "population_rate"]
