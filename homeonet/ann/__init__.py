"""Deep-learning counterparts of homeostatic plasticity, in PyTorch (the ``ann`` extra).

- :mod:`homeonet.ann.functional`: pure torch functions (forward maps and in-place homeostatic steps).
- :mod:`homeonet.ann.modules`: ``torch.nn`` layers :class:`SynapticScaling`,
  :class:`IntrinsicPlasticity`, :class:`DivisiveNormalization` and the network-scale
  :class:`EquiNormalization`.
- :mod:`homeonet.ann.train`: datasets, MLP/CNN builders taking a normalization name, training loop
  that records hidden activations, and :func:`~homeonet.ann.train.evaluate`, one ANN point of the
  comparison.
- :mod:`homeonet.ann.cli`: the ``compare`` sub-command; the comparison itself, both sides in one
  pipeline, is :mod:`homeonet.comparison`.

Torch's own ``BatchNorm1d``, ``LayerNorm``, ``GroupNorm`` and ``parametrizations.weight_norm`` are
the baselines; they are used as they are, not re-implemented.
"""

try:
    import torch  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("homeonet.ann needs PyTorch: pip install 'homeonet[ann]'") from err

from homeonet.ann import functional
from homeonet.ann.modules import DivisiveNormalization, EquiNormalization, IntrinsicPlasticity, SynapticScaling

__all__ = ["functional", "SynapticScaling", "IntrinsicPlasticity", "DivisiveNormalization", "EquiNormalization"]
