"""Homeostasis and coding-capacity measures (shipped as ``homeonet.analysis``).

Topic modules:

- :mod:`~homeonet.analysis.rates`: firing rates, population rates, relative error to a target, fraction within a
  band, recovery time, CV of ISI, Fano factor, synchrony, rate-distribution summaries;
- :mod:`~homeonet.analysis.balance`: E/I current correlation and net-to-total ratio;
- :mod:`~homeonet.analysis.scaling`: multiplicative-scaling tests (rank-order fit, KS test, divergence index);
- :mod:`~homeonet.analysis.coding`: usage entropy, Gini, sparseness, dimensionality, decoding, mutual
  information, discriminability, the Naka-Rushton contrast-response fit, and :func:`~homeonet.analysis.coding.response_matrix`;
- :mod:`~homeonet.analysis.stability`: oscillation (autocorrelation peak, CV over time), overshoot, burst index,
  runaway, and :func:`~homeonet.analysis.stability.tradeoff_measures`, every measure of one point of the trade-off map.
"""

from .balance import ei_correlation, net_to_total_ratio
from .coding import (contrast_response_fit, decoding_accuracy, decoding_information, discriminability, gini, lifetime_sparseness,
                     mutual_information, participation_ratio, population_sparseness, response_matrix, usage,
                     usage_entropy)
from .rates import (count_correlation, cv_isi, fano_factor, firing_rates, fraction_within, population_rate,
                    rate_summary, recovery_time, relative_error, smooth_rate, smoothed_population_rate, synchrony)
from .scaling import divergence_index, matched_quantiles, rank_order_fit, scaling_test
from .stability import (TRADEOFF_MEASURES, autocorrelation, burst_index, oscillation_index, overshoot,
                        population_activity, runaway, temporal_cv, trace_synchrony, tradeoff_measures)

__all__ = [
    # rates
    "firing_rates", "population_rate", "smooth_rate", "smoothed_population_rate", "relative_error",
    "fraction_within", "recovery_time", "cv_isi", "fano_factor", "synchrony", "count_correlation", "rate_summary",
    # balance
    "ei_correlation", "net_to_total_ratio",
    # scaling
    "rank_order_fit", "scaling_test", "divergence_index", "matched_quantiles",
    # coding
    "response_matrix", "usage", "usage_entropy", "gini", "population_sparseness", "lifetime_sparseness",
    "participation_ratio", "decoding_accuracy", "decoding_information", "mutual_information", "discriminability",
    "contrast_response_fit",
    # stability
    "autocorrelation", "oscillation_index", "temporal_cv", "overshoot", "burst_index", "trace_synchrony", "runaway",
    "population_activity", "tradeoff_measures",
]
# TRADEOFF_MEASURES (the names tradeoff_measures returns) is importable from here too; __all__ lists the
# functions only, which the sweep engine offers as measures by name
