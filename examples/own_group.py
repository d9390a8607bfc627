"""
Intrinsic plasticity on your own Brian2 NeuronGroup
===================================================

Leaky integrators with different constant drives fire at different rates; an adaptive threshold
(homeonet's IntrinsicPlasticity, the SORN rule driven by a rate sensor) brings every neuron to
20 Hz. The group is an ordinary ``brian2.NeuronGroup`` built from your equations: homeonet only
adds the mechanism's variables (``ip_theta``, ``ip_sensor_A``...) and its regular update.

Reference: Lazar, Pipa & Triesch (2009), SORN, Front. Comput. Neurosci. 3:23.

Run: ``python examples/own_group.py [duration_in_seconds]``
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from brian2 import Hz, Network, SpikeMonitor, StateMonitor, mV, ms, second

import homeonet as hn

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0

ip = hn.IntrinsicPlasticity(target=20 * Hz, eta=0.05 * mV / Hz, period=20 * ms,
                            sensor=hn.RateSensor(tau=200 * ms, initial=20 * Hz))
G = hn.neuron_group(20, """dv/dt = (drive - v)/(10*ms) : volt
                           drive : volt""",
                    threshold="v > 10*mV + theta", reset="v = 0*mV", mechanisms=[ip], method="exact",
                    name="cells")
G.drive = "12*mV + 8*mV*i/(N - 1)"
spikes = SpikeMonitor(G)
thresholds = StateMonitor(G, "ip_theta", record=True, dt=50 * ms)
net = Network(G, spikes, thresholds)
results = hn.simulate(net, duration * second)

last = max(duration - 2, duration / 2) * second
print("rates over the last window (Hz):", results.rates("cells", t_start=last).round(1))

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(thresholds.t / second, thresholds.ip_theta.T / mV, lw=0.8)
ax.set(xlabel="time (s)", ylabel="threshold offset (mV)", title="each neuron's threshold adapts to 20 Hz")
fig.tight_layout()
fig.savefig("own_group.png")
