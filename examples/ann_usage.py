"""
Normalization and unit usage in an ANN (the correspondence, deep-learning side)
===============================================================================

Trains a small MLP on scikit-learn's digits with no normalization, BatchNorm and homeonet's
synaptic-scaling layer, and reports test accuracy and the usage entropy of the hidden units
(1 = all units equally used), the measure homeonet also applies to spiking networks.

Reference: Shen, Wang & Navlakha (2021), Neural Computation 33:3179.

Needs the ``ann`` extra (torch). Run: ``python examples/ann_usage.py [epochs]``
"""

import sys
import tempfile

from homeonet.ann.compare import compare

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
with tempfile.TemporaryDirectory() as out:
    ds = compare(norms=("none", "batchnorm", "synaptic_scaling"), seeds=2, epochs=epochs, out=out, progress=False)
    print(ds[["test_accuracy", "usage_entropy"]].mean("seed").to_dataframe())
