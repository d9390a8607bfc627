"""
Synaptic normalization keeps STDP stable
========================================

Potentiation-dominated STDP onto five LIF neurons: without a constraint the weights run to their
upper bound; with homeonet's WeightNormalization (L1, every 10 ms) each neuron's incoming weights
keep their total while STDP still reshapes them. The STDP rule is plain Brian2 code in the
synapses' model; homeonet adds the normalization next to it.

References: von der Malsburg (1973), Kybernetik 14:85; Song, Miller & Abbott (2000), Nat.
Neurosci. 3:919 (the STDP rule); Lazar, Pipa & Triesch (2009) (normalization in SORN).

Run: ``python examples/weight_normalization_stdp.py [duration_in_seconds]``
"""

import sys

import numpy as np
from brian2 import mV, ms, second, seed, start_scope

import homeonet as hn
from homeonet.models import stdp_layer

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0

for mechanisms in ([], [hn.WeightNormalization(total=50 * mV, norm=1, period=10 * ms)]):
    start_scope()
    seed(1)
    # 100 Poisson inputs at 15 Hz onto 5 LIF neurons through additive STDP (homeonet.models.AdditiveSTDP,
    # plain Brian2 string code in the synapses' model); the mechanisms are merged into the layer and synapses
    net = stdp_layer(mechanisms, N_in=100, N=5)
    net.run(duration * second)
    S = net["inE"]
    weights = np.array(S.w / mV)
    label = "with normalization" if mechanisms else "STDP alone        "
    print(f"{label}: mean weight {weights.mean():.2f} mV (bound 1 mV), near the bound {np.mean(weights > 0.9):.0%}, "
          f"incoming totals {np.round(np.bincount(S.j[:], weights), 2)} mV")
