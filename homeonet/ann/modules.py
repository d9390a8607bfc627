r"""Homeostasis-inspired normalization layers for PyTorch.

Four layers, one per spatial scale of Shen, Wang & Navlakha (2021), each the counterpart of a
deep-learning normalization that torch already provides (the baselines are torch's own
``BatchNorm1d/2d``, ``LayerNorm``, ``GroupNorm`` and ``parametrizations.weight_norm``):

==========================  ===================================  ==========================
homeonet layer              brain mechanism                      torch counterpart
==========================  ===================================  ==========================
:class:`IntrinsicPlasticity`  intrinsic plasticity (neuron)        ``BatchNorm1d``
:class:`SynapticScaling`      synaptic scaling (incoming synapses) ``weight_norm``
:class:`DivisiveNormalization` divisive / lateral inhibition (layer) ``LayerNorm``, ``GroupNorm``
:class:`EquiNormalization`    network-wide rescaling (network)     (equi-normalization)
==========================  ===================================  ==========================

The homeostatic state (scaling factors, gains, rate sensors) lives in buffers, changes only in
training mode and under :func:`torch.no_grad`, and is saved by ``state_dict``; in eval mode the
layers are fixed deterministic maps.
"""

from __future__ import annotations

import logging
import numbers
import warnings

import torch
from torch import Tensor, nn

from homeonet._validate import HomeonetError
from homeonet.ann import functional as F

__all__ = ["SynapticScaling", "IntrinsicPlasticity", "DivisiveNormalization", "EquiNormalization"]

logger = logging.getLogger(__name__)


def _check_int(name, value, minimum=1):
    # what torch.nn takes: Python and numpy integers (not bools)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise HomeonetError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _check_momentum(momentum):
    """A factor in (0, 1], or None for a cumulative average (as torch.nn's BatchNorm)."""
    return None if momentum is None else _check_float("momentum", momentum, low=0.0, high=1.0)


def _cumulative(momentum, num_batches_tracked: Tensor):
    """*momentum*, or for None the factor of a cumulative average, 1 / (batches seen + 1), as a tensor
    (no read on the host)."""
    return num_batches_tracked.add(1).reciprocal() if momentum is None else momentum


def _check_float(name, value, low=None, high=None, low_open=True, high_open=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value
    ok = ok and abs(value) != float("inf")
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
        hi = "" if high is None else (f"< {high:g}" if high_open else f"<= {high:g}")
        rng = " and ".join(s for s in (lo, hi) if s)
        raise HomeonetError(f"{name} must be a finite number{' ' + rng if rng else ''}; got {value!r}")
    return float(value)


class _HomeostaticNorm(nn.Module):
    """Shared buffer logic: ``num_features``, ``num_batches_tracked``, input checks, resets."""

    def __init__(self, num_features: int, device=None, dtype=None) -> None:
        super().__init__()
        self.num_features = _check_int("num_features", num_features)
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))

    def _check_input_dim(self, input: Tensor) -> None:
        F._check_channels(input, self.num_features)

    def _skipped_nonfinite(self) -> None:
        """A training batch with non-finite statistics was skipped: warn once per layer."""
        logger.debug("%s skipped a training batch with non-finite statistics", type(self).__name__)
        if not self.__dict__.get("_warned_nonfinite"):
            self._warned_nonfinite = True
            warnings.warn(f"{type(self).__name__}: a training batch with non-finite (NaN or inf) values was "
                          "skipped; the homeostatic state is left as it was (warned once per layer)",
                          RuntimeWarning, stacklevel=3)

    def reset_running_stats(self) -> None:
        """Return the homeostatic state (buffers) to its initial value."""
        self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the homeostatic state and the learnable parameters."""
        self.reset_running_stats()


class SynapticScaling(_HomeostaticNorm):
    r"""Synaptic-scaling normalization: a slow rate sensor per unit drives one multiplicative
    factor on all of the unit's incoming weights toward a target activity.

    .. math::
        y_{n c} = \gamma_c\, s_c\, x_{n c} + \beta_c

    Placed after a ``Linear`` or ``Conv`` layer, :math:`x_c = W_{c\cdot} u + b_c`, so
    :math:`s_c x_c = (s_c W_{c\cdot}) u + s_c b_c`: the factor :math:`s_c` scales every
    incoming synapse of unit :math:`c` by the same amount and keeps their relative strengths,
    as synaptic scaling does in cortical neurons (Turrigiano et al. 1998). :meth:`fold_into`
    writes the factors into the layer's weights, giving the literal scaled synapses.

    **Algorithm** (training mode, each batch, under ``no_grad``; :math:`a(\cdot)` is the
    per-unit activity measure of :func:`homeonet.ann.functional.unit_activity`):

    1. rate sensor: :math:`\bar a_c \leftarrow (1 - m)\,\bar a_c + m\, s_c\, a_c(x)`, a slow
       low-pass of the unit's own (scaled) activity, like the calcium-based sensor of a neuron;
       for ``'rms'`` the low-pass is of the mean square,
       :math:`\bar a_c \leftarrow \sqrt{(1 - m)\,\bar a_c^2 + m\, s_c^2\, a_c(x)^2}`, which
       is unbiased whatever the batch size (a root of each batch's mean square is not: with one
       sample per batch it is the absolute value, and the output would settle at 1.25 times the
       target);
    2. scaling: :math:`s_c \leftarrow s_c\,\operatorname{clip}(1 + \eta (a^\ast - \bar a_c)/a^\ast,
       1/k, k)` (van Rossum, Bi & Turrigiano 2000): units below target scale up, above scale down;
    3. output: :math:`y = \gamma\, s\, x + \beta` with the new factors. No statistic of the
       current batch enters the output except through the slow factor, so training and
       inference compute the same function, and no gradient flows through :math:`s`.

    A training batch whose statistics are not finite (a NaN or inf in it) is skipped as an empty
    batch is: the buffers and the batch count stay as they were, and a ``RuntimeWarning`` is
    issued once per layer. (Knowing it takes one read of a flag on the host per step; under
    ``torch.compile`` there is no such read: units with non-finite statistics keep their state
    and the others are updated, without a warning.)

    On the first training batch after a reset the factors are calibrated so that every unit
    starts at its target, :math:`s_c = a^\ast / a_c(x)` (a data-dependent initialisation, like
    that of weight normalization): the integral controller then only has to follow the slow
    drift caused by learning. Because all activity measures are positively homogeneous,
    :math:`a(s x) = s\,a(x)`, the fixed point of the rule is exactly :math:`\bar a_c = a^\ast`.

    What makes it competitive with batch normalization: the per-unit scale is equalised as
    BatchNorm's division by the standard deviation does, but from a slow estimate instead of
    batch statistics, so it costs a few element-wise operations on ``(C,)`` vectors, is
    independent of batch size and is identical at train and test time; the learnable affine
    :math:`\gamma, \beta` (``affine=True``) keeps the representational freedom BatchNorm has.
    Unlike BatchNorm it does not centre: that is intrinsic plasticity's job (bias), see
    :class:`IntrinsicPlasticity`.

    Args:
        num_features (int): :math:`C` from an expected input of size ``(N, C)`` or ``(N, C, *)``.
        target (float): target activity :math:`a^\ast > 0`. Default: 1.0.
        eta (float): scaling rate :math:`\eta > 0` per batch. Default: 0.1.
        momentum (float or None): rate-sensor update factor :math:`m \in (0, 1]`; ``None`` for a
            cumulative average, :math:`m = 1/(\text{batches seen} + 1)`, as in torch's BatchNorm.
            Default: 0.1.
        activity (str): activity measure, ``'rms'`` (root mean square of the drive, default),
            ``'abs'`` (mean absolute drive) or ``'rate'`` (mean rectified drive, the firing rate
            of a ReLU unit: use it when the layer is placed after the nonlinearity).
        affine (bool): learnable per-unit :math:`\gamma` (init 1) and :math:`\beta` (init 0).
            Default: ``True``.
        calibrate (bool): calibrate the factors on the first training batch. Default: ``True``.
        max_step (float): largest change of a factor per batch, :math:`k > 1`. Default: 2.0.
        max_scale (float): factors stay within ``[1/max_scale, max_scale]``. Default: 1e4.
        fixed_point_grad (bool): in training mode, take the gradient through the homeostat's
            fixed point: :math:`s_c` is differentiated as :math:`s_c\, a_c(x_0) / a_c(x)` at the
            current batch :math:`x_0` (the factor the homeostat settles to when the unit's activity
            changes), so the gradient ignores changes of a unit's overall scale that the
            homeostat would undo; for ``'rms'``,
            :math:`\partial L/\partial x = \gamma s\,(g - x \langle g x\rangle / \langle x^2\rangle)`.
            The output's value is unchanged. With ``False`` the factors are constants for autograd.
            Default: ``True``.

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, *)`
        - Output: same shape as the input

    Attributes:
        scale (Tensor): buffer ``(C,)``, the factors :math:`s` (init 1).
        running_activity (Tensor): buffer ``(C,)``, the rate sensor :math:`\bar a` (init ``target``).
        num_batches_tracked (Tensor): buffer, number of training batches seen.

    Examples::

        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> layer = SynapticScaling(20, target=1.0)
        >>> x = 3.0 * torch.randn(128, 20)
        >>> y = layer(x)                        # training mode: factors adapt
        >>> bool(torch.allclose(y.square().mean(0).sqrt(), torch.ones(20), atol=1e-4))
        True
        >>> layer = layer.eval(); y = layer(x)   # eval mode: buffers frozen

    .. note::
        In training mode the whole step (activity statistic, homeostatic update of the buffers,
        scaling and affine map) is one autograd node with a hand-written backward, so that it
        costs a few small operations instead of a few dozen: see
        ``benchmarks/bench_ann.py``. That backward is first-order only: differentiating the
        gradient again (``create_graph=True`` followed by a second backward) raises an error.
        Under ``torch.autocast`` the statistics and the buffers stay in the buffers' dtype and the
        output has the input's, as with BatchNorm; under ``torch.compile`` the step is traced into
        the graph (see ``functional._pin`` for how its gradient is kept from reading the updated
        factors).

    References:
        G. G. Turrigiano, K. R. Leslie, N. S. Desai, L. C. Rutherford, S. B. Nelson (1998),
        Nature 391:892-896. M. C. W. van Rossum, G. Q. Bi, G. G. Turrigiano (2000),
        J. Neurosci. 20:8812-8821. Y. Shen, J. Wang, S. Navlakha (2021), Neural Computation 33:3179.
    """

    def __init__(self, num_features: int, target: float = 1.0, eta: float = 0.1, momentum: float = 0.1,
                 activity: str = "rms", affine: bool = True, calibrate: bool = True, max_step: float = 2.0,
                 max_scale: float = 1e4, fixed_point_grad: bool = True, device=None, dtype=None) -> None:
        super().__init__(num_features, device=device)
        factory = {"device": device, "dtype": dtype}
        self.fixed_point_grad = bool(fixed_point_grad)
        self.target = _check_float("target", target, low=0.0)
        self.eta = _check_float("eta", eta, low=0.0)
        self.momentum = _check_momentum(momentum)
        if activity not in F.ACTIVITY_MEASURES:
            raise HomeonetError(f"activity must be one of {', '.join(F.ACTIVITY_MEASURES)}; got {activity!r}")
        self.activity = activity
        self.affine = bool(affine)
        self.calibrate = bool(calibrate)
        self.max_step = _check_float("max_step", max_step, low=1.0)
        self.max_scale = _check_float("max_scale", max_scale, low=1.0)
        if self.affine:
            self.weight = nn.Parameter(torch.empty(num_features, **factory))
            self.bias = nn.Parameter(torch.empty(num_features, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("scale", torch.empty(num_features, **factory))
        self.register_buffer("running_activity", torch.empty(num_features, **factory))
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Set the factors to 1, the rate sensor to the target and the batch count to 0."""
        super().reset_running_stats()
        self.scale.fill_(1.0)
        self.running_activity.fill_(self.target)
        self._fresh = True  # num_batches_tracked == 0, mirrored on the host

    def reset_parameters(self) -> None:
        """Reset the buffers and the affine parameters (:math:`\\gamma = 1`, :math:`\\beta = 0`)."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._fresh = None  # num_batches_tracked may have changed: read it on the next training batch

    def forward(self, input: Tensor) -> Tensor:
        F._check_channels(input, self.num_features)
        if not self.training or input.numel() == 0:  # an empty batch has no activity to sense
            return F._scale_affine(input, self.scale, self.weight, self.bias).to(input.dtype)
        # One autograd node: activity statistic, homeostatic step on the buffers (the factors are
        # updated *before* they multiply the input), scale and affine, and a hand-written backward
        # with the fixed-point gradient. Whether this is the first batch after a reset is kept in
        # a Python flag, so that the count is not read back from the device at every step.
        # (nn.Module attribute access is slow; this runs at every step, so the dicts are read directly.)
        params, buffers = self._parameters, self._buffers
        fresh = self.__dict__.get("_fresh")  # None: unknown (e.g. a module pickled before the flag existed)
        if fresh is None:
            fresh = int(buffers["num_batches_tracked"]) == 0
        skipped = [False]  # set when a batch with NaN/inf statistics is skipped (eager mode)
        out = F._SynapticScalingFunction.apply(
            input, params["weight"], params["bias"], buffers["scale"], self.activity, self.fixed_point_grad,
            (buffers["running_activity"], self.calibrate and fresh, self.target, self.eta,
             _cumulative(self.momentum, buffers["num_batches_tracked"]), self.max_step, self.max_scale, skipped))
        if skipped[0]:  # as for an empty batch: state, count and calibration flag unchanged
            self._skipped_nonfinite()
            return out
        if fresh is not False:
            self._fresh = False
        buffers["num_batches_tracked"].add_(1)
        return out

    @torch.no_grad()
    def fold_into(self, layer: nn.Module) -> nn.Module:
        r"""Move the factors into the incoming weights of *layer* and reset them to 1.

        ``W[c] <- s_c W[c]`` and ``b[c] <- s_c b[c]`` for the ``Linear`` or ``Conv`` layer that
        feeds this one: afterwards ``self(layer(u))`` is unchanged and each row of ``W`` has been
        multiplied by one positive number (its direction is kept). The rate sensor is kept.

        Args:
            layer (nn.Module): a module with ``weight`` of shape ``(C, ...)`` and optional ``bias``.

        Returns:
            nn.Module: *layer*.
        """
        w = getattr(layer, "weight", None)
        if not isinstance(w, Tensor) or w.shape[0] != self.num_features:
            raise HomeonetError(f"layer must have a weight with {self.num_features} output units; got {layer!r}")
        w.mul_(self.scale.to(w.dtype).view((-1,) + (1,) * (w.dim() - 1)))
        if getattr(layer, "bias", None) is not None:
            layer.bias.mul_(self.scale.to(layer.bias.dtype))
        self.scale.fill_(1.0)
        return layer

    def extra_repr(self) -> str:
        return (f"{self.num_features}, target={self.target:g}, eta={self.eta:g}, momentum={self.momentum}, "
                f"activity={self.activity!r}, affine={self.affine}")


class IntrinsicPlasticity(_HomeostaticNorm):
    r"""Sigmoid units whose gain and bias adapt so that each unit's output distribution
    approaches an exponential with a target mean (Triesch 2005).

    .. math::
        y_{n c} = \sigma(g_c\, x_{n c} + b_c)

    In training mode, after each batch (under ``no_grad``):

    .. math::
        \Delta b_c = \eta \left\langle 1 - \left(2 + \tfrac{1}{\mu}\right) y + \tfrac{y^2}{\mu} \right\rangle,
        \qquad
        \Delta g_c = \eta \left\langle \tfrac{1}{g_c} + x \left(1 - \left(2 + \tfrac{1}{\mu}\right) y
        + \tfrac{y^2}{\mu}\right) \right\rangle

    the gradient rule that minimises the Kullback-Leibler divergence from the output
    distribution to an exponential of mean :math:`\mu` (maximum entropy at fixed mean), which
    drives each unit's mean to :math:`\mu`. It is the neuron-scale counterpart of batch
    normalization: per-unit shift and scale set from the unit's own activity history, but
    with no batch statistics, so inference uses the adapted :math:`g, b`. The layer includes its
    nonlinearity: use it in place of the activation function (``Linear -> IntrinsicPlasticity``).
    Gradients flow through :math:`x`; :math:`g, b` are buffers, not learned by backprop.
    A training batch whose increments are not finite is skipped as an empty batch is (buffers and
    count unchanged, a ``RuntimeWarning`` once per layer; under ``torch.compile``, such units are
    left alone without a warning).

    Args:
        num_features (int): :math:`C` from an expected input of size ``(N, C)`` or ``(N, C, *)``.
        target_mean (float): :math:`\mu \in (0, 1)`. Default: 0.2.
        eta (float): learning rate :math:`\eta > 0` per batch. Default: 0.01.
        momentum (float or None): update factor of ``running_mean`` (a monitor of each unit's mean
            output, not used in the forward pass), in (0, 1]; ``None`` for a cumulative average.
            Default: 0.1.
        min_gain (float): lower bound of the gain, > 0. Default: 1e-3.

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, *)`
        - Output: same shape as the input, values in (0, 1)

    Attributes:
        gain (Tensor): buffer ``(C,)``, init 1.
        bias (Tensor): buffer ``(C,)``, init 0.
        running_mean (Tensor): buffer ``(C,)``, low-passed mean output (init ``target_mean``).

    Examples::

        >>> layer = IntrinsicPlasticity(8, target_mean=0.2, eta=0.05)
        >>> x = torch.randn(256, 8)
        >>> for _ in range(500):
        ...     y = layer(x)
        >>> bool(((y.mean(0) - 0.2).abs() < 0.02).all())
        True

    References:
        J. Triesch (2005), "A gradient rule for the plasticity of a neuron's intrinsic
        excitability", ICANN 2005, LNCS 3696:65-70. A. Lazar, G. Pipa, J. Triesch (2009),
        "SORN: a self-organizing recurrent neural network", Front. Comput. Neurosci. 3:23.
    """

    def __init__(self, num_features: int, target_mean: float = 0.2, eta: float = 0.01, momentum: float = 0.1,
                 min_gain: float = 1e-3, device=None, dtype=None) -> None:
        super().__init__(num_features, device=device)
        factory = {"device": device, "dtype": dtype}
        self.target_mean = _check_float("target_mean", target_mean, low=0.0, high=1.0, high_open=True)
        self.eta = _check_float("eta", eta, low=0.0)
        self.momentum = _check_momentum(momentum)
        self.min_gain = _check_float("min_gain", min_gain, low=0.0)
        self.register_buffer("gain", torch.empty(num_features, **factory))
        self.register_buffer("bias", torch.empty(num_features, **factory))
        self.register_buffer("running_mean", torch.empty(num_features, **factory))
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Set gain to 1, bias to 0, the mean monitor to the target and the batch count to 0."""
        super().reset_running_stats()
        self.gain.fill_(1.0)
        self.bias.zero_()
        self.running_mean.fill_(self.target_mean)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if not self.training or input.numel() == 0:  # an empty batch has no activity to adapt to
            return F.intrinsic_plasticity(input, self.gain, self.bias).to(input.dtype)
        # one autograd node: the output, the slope its backward needs (from the gain it used), then the
        # homeostatic update of the buffers in place
        skipped = [False]  # set when a batch with NaN/inf increments is skipped (eager mode)
        out = F._IntrinsicPlasticityFunction.apply(
            input, self.gain, self.bias, (self.running_mean, self.target_mean, self.eta,
                                          _cumulative(self.momentum, self.num_batches_tracked), self.min_gain, skipped))
        if skipped[0]:  # as for an empty batch: state and count unchanged
            self._skipped_nonfinite()
            return out
        self.num_batches_tracked.add_(1)
        return out

    def extra_repr(self) -> str:
        return f"{self.num_features}, target_mean={self.target_mean:g}, eta={self.eta:g}"


class DivisiveNormalization(nn.Module):
    r"""Divisive normalization over the units of a layer (Carandini & Heeger 2012).

    .. math::
        y_{n c} = \gamma_c \frac{\operatorname{sign}(x_{n c})\,|x_{n c}|^{p}}
                  {\sigma^{p} + \frac{1}{C}\sum_{j} |x_{n j}|^{p}} + \beta_c

    Each unit's response is divided by the pooled activity of all units of the layer for the
    same sample (and position): lateral inhibition, the layer-scale counterpart of
    ``LayerNorm``. With :math:`p = 2` the output is bounded by :math:`C` whatever the input scale,
    and for :math:`|x| \gg \sigma` it is invariant to rescaling the input, as LayerNorm is. Like
    LayerNorm it uses no running statistics and behaves identically in train and eval modes.

    Args:
        num_features (int): :math:`C` from an expected input of size ``(N, C)`` or ``(N, C, *)``.
        sigma (float): semi-saturation constant :math:`\sigma > 0`. Default: 1.0.
        exponent (float): :math:`p \ge 1`. Default: 2.0.
        affine (bool): learnable per-unit :math:`\gamma` (init 1) and :math:`\beta` (init 0).
            Default: ``True``.

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, *)`
        - Output: same shape as the input

    Examples::

        >>> layer = DivisiveNormalization(16, sigma=0.1)
        >>> x = torch.randn(4, 16)
        >>> bool(torch.allclose(layer(10 * x), layer(x), rtol=0.05))  # nearly scale invariant
        True

    References:
        M. Carandini, D. J. Heeger (2012), "Normalization as a canonical neural computation",
        Nat. Rev. Neurosci. 13:51-62. M. Ren, R. Liao, R. Urtasun, F. H. Sinz, R. S. Zemel (2017),
        "Normalizing the normalizers", ICLR.
    """

    def __init__(self, num_features: int, sigma: float = 1.0, exponent: float = 2.0, affine: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.num_features = _check_int("num_features", num_features)
        self.sigma = _check_float("sigma", sigma, low=0.0)
        self.exponent = _check_float("exponent", exponent, low=1.0, low_open=False)
        self.affine = bool(affine)
        if self.affine:
            self.weight = nn.Parameter(torch.empty(num_features, **factory))
            self.bias = nn.Parameter(torch.empty(num_features, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set :math:`\\gamma = 1` and :math:`\\beta = 0`."""
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        F._check_channels(input, self.num_features)
        return F.divisive_normalization(input, self.sigma, self.exponent, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.num_features}, sigma={self.sigma:g}, exponent={self.exponent:g}, affine={self.affine}"


class EquiNormalization:
    r"""Network-scale homeostasis: rebalance weight norms across layers without changing the function.

    .. math::
        W_k[i,:] \leftarrow d_i W_k[i,:],\quad b_k[i] \leftarrow d_i b_k[i],\quad
        W_{k+1}[:,i] \leftarrow W_{k+1}[:,i]/d_i,\qquad
        d_i = \sqrt{\lVert W_{k+1}[:,i]\rVert_p / \lVert W_k[i,:]\rVert_p}

    Call :meth:`step` after each optimizer step (Stock et al. 2019 do so after every SGD step).
    Each sweep is block coordinate descent on :math:`\sum_k \lVert W_k\rVert_p^p`, so the total
    "synaptic resource" of the network shrinks to the smallest value that computes the same
    function, spread evenly between each unit's incoming and outgoing weights.

    Why this choice for the network scale: it is the deep-learning normalization that acts on
    the whole network at once (every layer's scale depends on its neighbours'), it is a
    non-gradient step interleaved with learning as homeostatic plasticity is, and it is the
    network-wide analogue of global synaptic downscaling, which renormalises the total synaptic
    strength of a network while keeping what was learned (the relative weights). Because the
    step preserves the network's function exactly for ReLU networks, its effect is a pure
    change of parametrisation, which makes it testable by a known answer. A global activity
    regulator (one gain for the whole network, Zenke et al. 2015) is the other option; on its
    own it cannot change which units are used, so it would add nothing to the usage comparison.

    Valid for consecutive ``Linear``/``Conv`` layers joined by positively homogeneous activations
    (ReLU, leaky ReLU, identity, max-pooling) and no other normalization layers in between.

    Args:
        layers (sequence of nn.Module): consecutive layers with ``weight`` (and optional ``bias``).
        norm_type (float): :math:`p \ge 1`. Default: 2.0.
        iterations (int): sweeps per :meth:`step`. Default: 1.
        every (int): rebalance every ``every``-th call of :meth:`step`. Default: 1.

    Examples::

        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        >>> x = torch.randn(5, 4); before = net(x)
        >>> EquiNormalization([net[0], net[2]]).step()
        >>> bool(torch.allclose(net(x), before, atol=1e-5))
        True

    References:
        P. Stock, B. Graham, R. Gribonval, H. Jégou (2019), "Equi-normalization of neural
        networks", ICLR. G. Tononi, C. Cirelli (2014), "Sleep and the price of plasticity",
        Neuron 81:12-34.
    """

    def __init__(self, layers, norm_type: float = 2.0, iterations: int = 1, every: int = 1) -> None:
        self.layers = list(layers)
        if len(self.layers) < 2 or not all(isinstance(getattr(m, "weight", None), Tensor) for m in self.layers):
            raise HomeonetError("layers must be at least 2 consecutive modules with a weight tensor; "
                                f"got {len(self.layers)}")
        self.norm_type = _check_float("norm_type", norm_type, low=1.0, low_open=False)
        self.iterations = _check_int("iterations", iterations)
        self.every = _check_int("every", every)
        self.num_steps = 0

    def step(self) -> None:
        """Rebalance the layers in place (every ``every``-th call)."""
        self.num_steps += 1
        if self.num_steps % self.every:
            return
        F.equi_normalize_([m.weight for m in self.layers], [getattr(m, "bias", None) for m in self.layers],
                          norm_type=self.norm_type, iterations=self.iterations)

    def __repr__(self) -> str:
        return (f"EquiNormalization({len(self.layers)} layers, norm_type={self.norm_type:g}, "
                f"iterations={self.iterations}, every={self.every})")
