"""
Intrinsic plasticity toward an exponential output distribution (Triesch 2005)
=============================================================================

Sigmoid rate neurons receive noisy input; the gain and bias of each follow Triesch's gradient
rule, which drives the distribution of its output toward an exponential with the target mean
(here 10 Hz of a 100 Hz maximum, mu = 0.1): the maximum-entropy distribution of a positive
variable with a fixed mean, i.e. the most informative use of the neuron at a fixed energy cost.

Reference: Triesch (2005), A gradient rule for the plasticity of a neuron's intrinsic
excitability, ICANN, LNCS 3696:65-70.

Run: ``python examples/frompapers/Triesch_2005.py [duration_in_seconds]``
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, Network, StateMonitor, TimedArray, ms, second

import homeonet as hn
from homeonet.models import RateNeuron

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
rng = np.random.default_rng(0)
n = 10
inputs = TimedArray(rng.normal(20, 10, size=(int(duration / 0.005) + 1, n)) * Hz, dt=5 * ms)
ip = hn.IntrinsicPlasticity(target=10 * Hz, rule="triesch", eta=0.002, period=1 * ms)
layer = RateNeuron(phi="sigmoid", tau=1 * ms).group(n, mechanisms=[ip])
layer.namespace["inputs"] = inputs
layer.run_regularly("I_ext = inputs(t, i)", dt=5 * ms, when="start")
rates = StateMonitor(layer, "r", record=True, dt=5 * ms)
hn.simulate(Network(layer, rates), duration * second)

late = rates.t > duration * second / 2
y = np.array(rates.r[:, late] / Hz).ravel() / 100
print(f"mean output {y.mean():.3f} (target 0.1); gains {np.round(layer.ip_a[:], 2)}")
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(y, bins=50, density=True, alpha=0.6, label="outputs, second half")
x = np.linspace(0, y.max(), 200)
ax.plot(x, np.exp(-x / y.mean()) / y.mean(), "k", label="exponential, same mean")
ax.set(xlabel="output y = r / r_max", ylabel="density")
ax.legend(frameon=False)
fig.tight_layout()
fig.savefig("Triesch_2005.png")
