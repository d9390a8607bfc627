"""
Synaptic normalization keeps STDP stable
========================================

Potentiation-dominated STDP onto five LIF neurons: without a constraint the weights run to their
upper bound; with homeonet's WeightNormalization (L1, every 10 ms) each neuron's incoming weights
keep their total while STDP still reshapes them. The STDP rule is plain Brian2 code in the user's
own Synapses; homeonet adds the normalization next to it.

References: von der Malsburg (1973), Kybernetik 14:85; Song, Miller & Abbott (2000), Nat.
Neurosci. 3:919 (the STDP rule); Lazar, Pipa & Triesch (2009) (normalization in SORN).

Run: ``python examples/weight_normalization_stdp.py [duration_in_seconds]``
"""

import sys

import numpy as np
from brian2 import Hz, Network, PoissonGroup, mV, ms, second, seed, start_scope

import homeonet as hn

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
STDP = """w : volt
          dapre/dt = -apre/(20*ms) : volt (event-driven)
          dapost/dt = -apost/(20*ms) : volt (event-driven)"""
ON_PRE = "v_post += w\napre += 0.05*wmax\nw = clip(w + apost, 0*mV, wmax)"
ON_POST = "apost -= 0.045*wmax\nw = clip(w + apre, 0*mV, wmax)"

for mechanisms in ([], [hn.WeightNormalization(total=50 * mV, norm=1, period=10 * ms)]):
    start_scope()
    seed(1)
    inputs = PoissonGroup(100, 15 * Hz)
    cells = hn.neuron_group(5, "dv/dt = (-70*mV - v)/(20*ms) : volt", threshold="v > -54*mV",
                            reset="v = -60*mV", mechanisms=mechanisms, method="exact")
    cells.v = -70 * mV
    S = hn.synapses(inputs, cells, STDP, on_pre=ON_PRE, on_post=ON_POST, mechanisms=mechanisms,
                    namespace={"wmax": 1 * mV})
    S.connect()
    S.w = "rand()*wmax"
    Network(inputs, cells, S).run(duration * second)
    w = np.asarray(S.w / mV)
    label = "with normalization" if mechanisms else "STDP alone        "
    print(f"{label}: mean weight {w.mean():.2f} mV (bound 1 mV), near the bound {np.mean(w > 0.9):.0%}, "
          f"incoming totals {np.round(np.bincount(S.j[:], w), 2)} mV")
