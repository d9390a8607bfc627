"""
Inhibitory plasticity balances excitation and inhibition (Vogels et al. 2011)
=============================================================================

A conductance-based E/I network with a background current and (initially) no inhibition fires
far above the target rate. Inhibitory STDP on the I->E synapses (presynaptic spike:
w += eta (x_post - alpha); postsynaptic spike: w += eta x_pre; alpha = 2 rho0 tau) then learns
inhibition until the excitatory rate settles near rho0 = 3 Hz, excitatory and inhibitory currents
track each other, and firing becomes asynchronous and irregular.

This is Brian2's reference network (8000 + 2000 neurons, 2 % connectivity) at the same in-degrees
(160 E and 40 I inputs per neuron) in 400 + 100 neurons, with a faster learning rate. The rule stops
where rho_post * c = rho0, c being its spike-pair term relative to independent trains: an inhibitory
spike delays its target's next spike (c < 1), shared input makes inhibitory cells fire just after their
targets (c > 1). At full size c ~ 0.8 and the rate settles at ~3.9 Hz; here c ~ 0.9-1 and the rate
wanders by +-15 % (1-s windows) around 3.3-3.5 Hz (measured).

Reference: Vogels, Sprekeler, Zenke, Clopath & Gerstner (2011), Science 334:1569-1573.

Run: ``python examples/frompapers/Vogels_et_al_2011.py [duration_in_seconds]``
"""

import sys

import numpy as np
from brian2 import Hz, nS, pA, second

import homeonet as hn
from homeonet.analysis.rates import cv_isi
from homeonet.models import ConductanceLIF, recurrent_ei

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
w_scale = 200 / (0.4 * 500)  # weights of the reference, for in-degrees 160 E / 40 I
istdp = hn.InhibitorySTDP(rho0=3 * Hz, eta=0.05 * nS, w_max=100 * nS * w_scale)
net = recurrent_ei(ConductanceLIF(), N_E=400, N_I=100, p=0.4, w_e=0.3 * nS * w_scale, w_i=3 * nS * w_scale,
                   N_in=0, synapse_mechanisms={"IE": [istdp]})
for group in (net["E"], net["I"]):
    group.I_ext = 200 * pA  # the reference's background current
    group.v = "E_L + rand()*10*mV"
net["IE"].w = 1e-10 * nS  # inhibition starts absent

results = hn.simulate(net, duration * second)
window = duration / 3 * second
first = float(np.mean(results.rates("E", t_stop=min(0.5, duration / 4) * second) / Hz))
last = float(np.mean(results.rates("E", t_start=duration * second - window) / Hz))
i, t = results.spikes("E")
late = t >= duration * second - window
cv = cv_isi(i[late], t[late], 400)
print(f"E rate: {first:.1f} Hz at the start, {last:.2f} Hz at the end (rho0 = 3 Hz); "
      f"mean CV of ISI at the end {np.nanmean(np.asarray(cv)):.2f}; "
      f"mean learned I->E weight {float(np.mean(net['IE'].w[:] / nS)):.1f} nS")
