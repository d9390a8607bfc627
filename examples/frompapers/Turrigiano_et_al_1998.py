"""
Synaptic scaling after activity blockade and disinhibition (Turrigiano et al. 1998)
===================================================================================

Three copies of one E/I network of LIF neurons with synaptic scaling on the excitatory neurons:
control, activity blockade (TTX-like: the input halved) and disinhibition (bicuculline-like:
inhibitory synapses blocked) from half time. Blockade scales the excitatory weights (the
"mEPSC amplitudes" w * s) up, disinhibition down; scaling is multiplicative: sorted treated
amplitudes against sorted control amplitudes lie on a line through the origin, and treated/k is
indistinguishable from control (KS test). Firing rates return to the set point.

Reference: Turrigiano, Leslie, Desai, Rutherford & Nelson (1998), Nature 391:892-896.

Run: ``python examples/frompapers/Turrigiano_et_al_1998.py [duration_in_seconds]``
"""

import sys

import matplotlib

matplotlib.use("Agg")
import numpy as np
from brian2 import Hz, mV, ms, second, seed, start_scope

import homeonet as hn
from homeonet.analysis.scaling import scaling_test
from homeonet.figures import save_figure, weight_scaling_figure
from homeonet.models import recurrent_ei

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 12.0
onset = duration / 2 * second


def run(protocol, keys):
    start_scope()
    seed(3)
    ss = hn.SynapticScaling(target=5 * Hz, compression=3600, period=100 * ms,
                            sensor=hn.RateSensor(tau=300 * ms, initial=5 * Hz, name="ss_sensor"))
    syn = {"EE": [ss], "inE": [ss]}
    for key in keys:
        syn.setdefault(key, []).append(protocol)
    net = recurrent_ei(weight_cv=0.5, mechanisms_E=[ss], synapse_mechanisms=syn)
    res = hn.simulate(net, duration * second)
    EE = net["EE"]
    amplitudes = np.array(EE.w[:] / mV) * np.array(net["E"].ss_s[:])[np.array(EE.j[:])]
    return amplitudes, res


control, res_c = run(None, ())
ttx, res_t = run(hn.ActivityBlockade(onset=onset, factor=0.5), ("inE", "inI"))
bic, res_b = run(hn.Disinhibition(onset=onset), ("IE",))
window = (duration - min(2, duration / 4)) * second
for label, treated, res in (("TTX-like", ttx, res_t), ("bicuculline-like", bic, res_b)):
    test = scaling_test(control, treated)
    rate = float(np.mean(res.rates("E", t_start=window) / Hz))
    print(f"{label:>17}: scaling factor k = {test.factor:.2f}, KS p (treated/k vs control) = {test.pvalue:.2f}, "
          f"final rate {rate:.2f} Hz (set point 5 Hz)")
    fig = weight_scaling_figure(control, treated)
    save_figure(fig, f"Turrigiano_1998_{label.split('-')[0]}", formats=("png",))
