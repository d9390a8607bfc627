"""Shared fixture network of the inhibitory-STDP tests: one synapse, spikes placed by hand."""

import numpy as np
from brian2 import Network, SpikeGeneratorGroup, StateMonitor, ms, nS, pA

from homeonet import connect, synapses
from homeonet.models import ConductanceLIF


def istdp_known_spikes(istdp, pre_ms, post_ms, duration, post_mechanisms=(), record=False):
    """One inhibitory synapse (w = 10 nS) onto a conductance-based neuron that never fires by itself.

    Presynaptic spikes at *pre_ms*; postsynaptic spikes forced at *post_ms* (a second projection sets
    v above threshold, so each lands within a step or two). Returns ``(synapses, post, weight trace)``;
    the trace (nS, every 1 ms) only with *record*.
    """
    pre = SpikeGeneratorGroup(1, np.zeros(len(pre_ms), dtype=int), np.asarray(pre_ms) * ms)
    post = ConductanceLIF().group(1, mechanisms=list(post_mechanisms))
    post.I_ext = 0 * pA
    kicker = SpikeGeneratorGroup(1, np.zeros(len(post_ms), dtype=int), np.asarray(post_ms) * ms)
    S = connect(synapses(pre, post, "w : siemens", on_pre="g_i_post += w", mechanisms=[istdp]), i=0, j=0)
    S.w = 10 * nS
    kick = connect(synapses(kicker, post, on_pre="v_post = 0*mV"), i=0, j=0)
    objects = [pre, post, kicker, S, kick]
    mon = StateMonitor(S, "w", record=0, dt=1 * ms) if record else None
    Network(*objects, *([mon] if record else [])).run(duration)
    return S, post, (np.array(mon.w[0] / nS) if record else None)
