"""
Unsupervised digit recognition with STDP and homeostasis at three scales (Diehl & Cook 2015)
===========================================================================================

Poisson pixels drive a layer of conductance-based LIF neurons whose input synapses learn by STDP.
Three homeostatic mechanisms keep every neuron in use: an adaptive threshold (neuron scale), L1
normalization of each neuron's input weights (synapse scale) and lateral inhibition through an
inhibitory population (layer scale). After one epoch, each neuron is labelled by the class it
responds to most, and test images are classified by the class whose neurons respond most.

With ``--variants all`` the network is trained once per variant of :data:`VARIANTS` (each scale
removed, and each alone): the ablation of the load-balancing claim, with test accuracy and the usage
entropy and Gini coefficient of the layer's responses to the test images.

Reference: Diehl PU, Cook M (2015), Unsupervised learning of digit recognition using
spike-timing-dependent plasticity, Front. Comput. Neurosci. 9:99.

Run: ``python examples/frompapers/Diehl_Cook_2015.py [n_train] [--dataset mnist5k] [--neurons 100]
[--variants all] [--device cpp_standalone]``
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from homeonet.models.diehl_cook import VARIANTS, receptive_fields, train_and_test

parser = argparse.ArgumentParser(description="Diehl & Cook (2015) in homeonet")
parser.add_argument("n_train", nargs="?", type=int, default=None, help="training images (default: all)")
parser.add_argument("--dataset", default="digits", choices=("digits", "mnist5k"))
parser.add_argument("--neurons", type=int, default=100)
parser.add_argument("--n-test", type=int, default=None, help="test images (default: all)")
parser.add_argument("--variants", default="full", help="comma-separated variants, or 'all'")
parser.add_argument("--device", default="runtime", choices=("runtime", "cpp_standalone"))
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

variants = list(VARIANTS) if args.variants == "all" else args.variants.split(",")
n_test = args.n_test if args.n_test is not None else (None if args.n_train is None else max(10, args.n_train))
print(f"{args.dataset}, {args.neurons} excitatory neurons, seed {args.seed}, device {args.device}")
print(f"{'variant':<20}{'test accuracy':>14}{'usage entropy':>15}{'Gini':>7}{'presentations':>15}{'run time':>10}")
first = None
for variant in variants:
    out = train_and_test(args.dataset, variant, neurons=args.neurons, n_train=args.n_train, n_test=n_test,
                         seed=args.seed, device=args.device)
    m = out.measures()
    first = first or out
    print(f"{variant:<20}{100 * m['test_accuracy']:13.1f}%{m['usage_entropy']:15.3f}{m['gini']:7.3f}"
          f"{m['presentations']:15d}{m['run_time']:9.1f}s", flush=True)
print(f"(trained on {m['n_train']}, labelled on {m['n_label']}, tested on {m['n_test']} images)")

fig = receptive_fields(first)
fig.savefig("Diehl_Cook_2015.png", dpi=120)
plt.close(fig)
print(f"receptive fields of the {variants[0]} network: Diehl_Cook_2015.png")
