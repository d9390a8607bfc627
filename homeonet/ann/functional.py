r"""Pure torch functions behind :mod:`homeonet.ann.modules`.

Every layer in :mod:`homeonet.ann.modules` is a thin stateful wrapper around the
functions here, the way ``torch.nn.BatchNorm1d`` wraps
``torch.nn.functional.batch_norm``. The forward maps
(:func:`synaptic_scaling`, :func:`intrinsic_plasticity`,
:func:`divisive_normalization`) are differentiable in all their tensor
arguments; the homeostatic steps (names ending in ``_``) change their first
arguments in place under :func:`torch.no_grad` and are never differentiated,
like the running-statistics update of batch normalization.

Channels are the second dimension, as in torch: inputs are ``(N, C)`` or
``(N, C, *)``; per-unit statistics reduce over every dimension except ``1``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from homeonet._validate import HomeonetError

__all__ = [
    "ACTIVITY_MEASURES",
    "unit_activity",
    "synaptic_scaling",
    "synaptic_scaling_update_",
    "intrinsic_plasticity",
    "triesch_update_",
    "divisive_normalization",
    "equi_normalize_",
]

#: Names accepted by :func:`unit_activity`.
ACTIVITY_MEASURES = ("rate", "abs", "rms")


def _channel_view(t: Tensor, ndim: int) -> Tensor:
    """Reshape a ``(C,)`` tensor so that it broadcasts against a ``(N, C, *)`` input of *ndim* dims."""
    return t.view((1, -1) + (1,) * (ndim - 2)) if ndim > 2 else t


def _reduce_dims(x: Tensor) -> list:
    return [0] + list(range(2, x.dim()))


def _check_channels(x: Tensor, num_features: int, name: str = "input") -> None:
    if x.dim() < 2 or x.size(1) != num_features:
        raise HomeonetError(f"{name} must have shape (N, {num_features}) or (N, {num_features}, *); "
                            f"got {tuple(x.shape)}")
    _check_floating(x, name)


def _check_floating(x: Tensor, name: str = "input") -> None:
    """Refuse integer, boolean and complex tensors (torch.nn's normalization layers refuse them too):
    computing in floating point and casting back would silently truncate the output."""
    if not x.is_floating_point():
        raise HomeonetError(f"{name} must be a floating-point tensor; got dtype {x.dtype}")


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype reductions run in: at least float32 (a float16 sum of squares overflows above 65504)."""
    return torch.promote_types(dtype, torch.float32)


def unit_activity(input: Tensor, measure: str = "rate") -> Tensor:
    r"""Mean activity of each unit (channel) over a batch.

    .. math::
        \text{rate: } a_c = \langle \max(x_{n c}, 0) \rangle_n, \quad
        \text{abs: } a_c = \langle |x_{n c}| \rangle_n, \quad
        \text{rms: } a_c = \sqrt{\langle x_{n c}^2 \rangle_n}

    where :math:`\langle\cdot\rangle_n` averages over the batch and any spatial positions.
    All three are positively homogeneous of degree one, :math:`a(s x) = s\,a(x)` for
    :math:`s > 0`, which is what makes multiplicative scaling reach its target exactly.

    Args:
        input (Tensor): ``(N, C)`` or ``(N, C, *)``.
        measure (str): ``'rate'`` (rectified, the firing rate of a unit whose drive is
            ``input``), ``'abs'`` or ``'rms'``. Default: ``'rate'``.

    Returns:
        Tensor: ``(C,)``.

    Examples::

        >>> unit_activity(torch.tensor([[1.0, -2.0], [3.0, 2.0]]), "rate")
        tensor([2., 1.])
    """
    return _activity_from_stat(*_activity_stat(input, measure)).to(input.dtype)


def _activity_stat(input: Tensor, measure: str) -> tuple:
    """Cheap statistic ``q`` over the batch with ``activity = (q * const) ** (1 / power)``.

    Returns ``(q, const, power)``: ``q`` is a sum of squares (``'rms'``, power 2), of absolute
    values or of rectified values (power 1), computed in at least float32.
    """
    if input.dim() < 2:
        raise HomeonetError(f"input must have shape (N, C) or (N, C, *); got {tuple(input.shape)}")
    _check_floating(input)
    input = input.to(_acc_dtype(input.dtype))
    dims = _reduce_dims(input)
    n = input.numel() // max(input.size(1), 1)
    if measure == "rms":
        return input.square().sum(dim=dims), 1.0 / n, 2
    if measure == "abs":
        return input.abs().sum(dim=dims), 1.0 / n, 1
    if measure == "rate":
        return torch.relu(input).sum(dim=dims), 1.0 / n, 1
    raise HomeonetError(f"activity must be one of {', '.join(ACTIVITY_MEASURES)}; got {measure!r}")


def _activity_from_stat(q: Tensor, const: float, power: int) -> Tensor:
    return q.mul(const).sqrt_() if power == 2 else q.mul(const)


def synaptic_scaling(input: Tensor, scale: Tensor, weight: Tensor | None = None,
                     bias: Tensor | None = None, activity: str | None = None) -> Tensor:
    r"""Apply per-unit multiplicative synaptic scaling factors (and an optional affine map).

    .. math::
        y_{n c} = \gamma_c \, s_c \, x_{n c} + \beta_c

    With :math:`x = W u + b` the output of a linear or convolutional layer,
    :math:`s_c x_c = (s_c W_{c\cdot}) u + s_c b_c`: scaling a unit's output is the same as
    scaling all its incoming weights by one factor, which keeps their relative strengths
    (Turrigiano et al. 1998).

    Args:
        input (Tensor): ``(N, C)`` or ``(N, C, *)``, floating point.
        scale (Tensor): ``(C,)`` scaling factors :math:`s`.
        weight (Tensor, optional): ``(C,)`` affine gain :math:`\gamma`. Default: ``None`` (1).
        bias (Tensor, optional): ``(C,)`` affine shift :math:`\beta`. Default: ``None`` (0).
        activity (str, optional): when given (a name from :data:`ACTIVITY_MEASURES`), the
            gradient is taken through the homeostat's fixed point: the output's *value* is
            unchanged, but :math:`s_c` is treated as :math:`s_c\, a_c(x)|_{\text{fixed}} / a_c(x)`,
            the factor the homeostat settles to if the unit's activity :math:`a_c(x)` changes, so
            the gradient ignores changes of a unit's overall scale that the homeostat would undo
            (for ``'rms'``: :math:`\partial L/\partial x = \gamma s\,(g - x \langle g x\rangle / \langle x^2\rangle)`);
            the gradients with respect to *scale*, *weight* and *bias* are those of the plain
            product. This form is one autograd node with a hand-written backward, which is
            first-order only (differentiating it twice raises an error).
            Default: ``None`` (plain product, :math:`s` constant, differentiable to any order).

    Returns:
        Tensor: same shape and dtype as *input* (computed in at least float32).
    """
    _check_channels(input, scale.numel())
    if activity is None:
        return _scale_affine(input, scale, weight, bias).to(input.dtype)
    if activity not in ACTIVITY_MEASURES:
        raise HomeonetError(f"activity must be one of {', '.join(ACTIVITY_MEASURES)}; got {activity!r}")
    return _SynapticScalingFunction.apply(input, weight, bias, scale, activity, True, None)


def _scale_affine(input: Tensor, scale: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """``weight * scale * input + bias`` in the wider of the input's and the factors' dtypes, at least
    float32 (a float16 product of a factor near ``max_scale`` and a gain overflows); callers cast back."""
    x = _widened(input, scale)
    s = scale if scale.dtype == x.dtype else scale.to(x.dtype)
    if weight is not None:
        s = s * weight
    s = _channel_view(s, x.dim())
    if bias is None:
        return x * s
    return torch.addcmul(_channel_view(bias, x.dim()).to(x.dtype), x, s)


@torch.no_grad()
def synaptic_scaling_update_(scale: Tensor, running_activity: Tensor, batch_activity: Tensor, *,
                             target: float = 1.0, eta: float = 0.1, momentum: float = 0.1,
                             max_step: float = 2.0, max_scale: float = 1e4, activity: str = "rate") -> Tensor:
    r"""One homeostatic synaptic-scaling step, in place on *scale* and *running_activity*.

    .. math::
        a_c &\leftarrow (1 - m)\, a_c + m\, \hat a_c
              \quad\text{(}\texttt{'rms'}\text{: } a_c \leftarrow \sqrt{(1 - m)\, a_c^2 + m\, \hat a_c^2}\text{)} \\
        s_c &\leftarrow s_c \cdot \operatorname{clip}\!\left(1 + \eta\,
              \frac{a^\ast - a_c}{a^\ast},\; 1/k,\; k\right)

    :math:`\hat a_c` is the unit's activity in this batch (measured on the *scaled* output,
    the neuron's own rate), :math:`a_c` the slow rate sensor, :math:`a^\ast` the target,
    :math:`k` = *max_step*. The rule is the integral controller of van Rossum, Bi &
    Turrigiano (2000): a unit below target scales all its synapses up, one above scales
    them down. With an activity measure homogeneous of degree one the linearised loop has
    eigenvalues of modulus :math:`\sqrt{1 - m}` (or real and below one), so it is stable
    for every :math:`\eta > 0`. For ``'rms'`` the sensor low-passes the mean *square* and
    holds its root: the batch's mean square is an unbiased estimate whatever the batch size,
    while its root is not (the root of one sample's square is its absolute value, 0.80 of the
    RMS of a Gaussian), so a sensor of roots would settle the output's RMS at
    1.25 times the target with batches of one sample.

    A unit whose batch activity is not finite (a NaN or inf batch) keeps its factor and sensor.

    Args:
        scale (Tensor): ``(C,)`` factors :math:`s`, updated in place.
        running_activity (Tensor): ``(C,)`` rate sensor :math:`a`, updated in place.
        batch_activity (Tensor): ``(C,)`` activity :math:`\hat a` of the scaled output.
        target (float): target activity :math:`a^\ast > 0`. Default: 1.0.
        eta (float): scaling rate :math:`\eta > 0`. Default: 0.1.
        momentum (float or Tensor): sensor update factor :math:`m \in (0, 1]`. Default: 0.1.
        max_step (float): largest factor change per step :math:`k > 1`. Default: 2.0.
        max_scale (float): :math:`s` is kept in ``[1/max_scale, max_scale]``. Default: 1e4.
        activity (str): the measure *batch_activity* is (:data:`ACTIVITY_MEASURES`); ``'rms'``
            averages squares. Default: ``'rate'``.

    Returns:
        Tensor: *scale*.
    """
    dtype = _acc_dtype(scale.dtype)
    s, a, b = scale.to(dtype), running_activity.to(dtype), batch_activity.to(dtype)
    rms = activity == "rms"
    new_a = _sensor(a, b.square() if rms else b, momentum, rms)
    new = _scaled_by_sensor(s, new_a, target, eta, max_step, max_scale)
    ok = torch.isfinite(b)
    running_activity.copy_(torch.where(ok, new_a, a))
    return scale.copy_(torch.where(ok, new, s))


def _sensor(running: Tensor, batch: Tensor, momentum, square: bool) -> Tensor:
    """Step 1 of the rule, out of place: the low-pass of the batch activities *batch*; with *square*,
    *batch* holds mean squares, which are low-passed, and the sensor their root."""
    if isinstance(momentum, Tensor) and momentum.dtype != running.dtype:
        momentum = momentum.to(running.dtype)
    if square:
        return torch.lerp(running.square(), batch, momentum).sqrt_()
    return torch.lerp(running, batch, momentum)


def _scaled_sensor(running: Tensor, scale: Tensor, q: Tensor, n: int, momentum, square: bool) -> Tensor:
    """:func:`_sensor` of the scaled output's batch activity, ``scale * q / n`` (``scale**2 * q / n``, a
    mean square, with *square*), with Scalar arguments where *momentum* is a number."""
    if isinstance(momentum, Tensor):
        return _sensor(running, torch.mul(scale.square() if square else scale, q).mul_(1.0 / n), momentum, square)
    if square:
        return torch.addcmul(running.square().mul_(1.0 - momentum), scale.square(), q, value=momentum / n).sqrt_()
    return torch.addcmul(running.mul(1.0 - momentum), scale, q, value=momentum / n)


def _scaled_by_sensor(scale, running_activity, target, eta, max_step, max_scale) -> Tensor:
    r"""Step 2 of the rule, out of place: the new factors
    :math:`\operatorname{clip}(s\,\operatorname{clip}(f(a), 1/k, k), 1/M, M)` with
    :math:`f(a) = 1 + \eta (a^\ast - a)/a^\ast`, :math:`k` = *max_step*, :math:`M` = *max_scale*.

    :math:`f` decreases in :math:`a`, so the clip of the factor is a clip of the sensor,
    :math:`\operatorname{clip}(f(a), 1/k, k) = f(a_k)` with :math:`a_k = \operatorname{clip}(a,
    a^\ast (1 + \eta - k)/\eta,\; a^\ast (1 + \eta - 1/k)/\eta)`, and
    :math:`s f(a_k) = s + \eta s - (\eta / a^\ast)\, s\, a_k`: only operations with Scalar
    arguments (a Python number as the other operand of a binary operation would cost a scalar
    tensor and a cast at every call). Returns a new tensor.
    """
    a_k = running_activity.clamp(target * (1.0 + eta - max_step) / eta, target * (1.0 + eta - 1.0 / max_step) / eta)
    new = torch.addcmul(scale, scale, a_k, value=-eta / target).add_(scale, alpha=eta)
    return new.clamp_(1.0 / max_scale, max_scale)


@torch.library.custom_op("homeonet::pinned_copy", mutates_args=())
def _pinned_copy(tensors: list[Tensor]) -> list[Tensor]:
    """Copies of *tensors* that ``torch.compile`` must save for the backward pass: see :func:`_pin`."""
    return [t.clone() for t in tensors]


@_pinned_copy.register_fake
def _(tensors):
    return [torch.empty_like(t) for t in tensors]


def _pin(*tensors: Tensor) -> list:
    """Under ``torch.compile``, route values that the backward pass needs and that were read from
    buffers the same forward pass updates in place through one opaque copy; in eager mode return
    them as they are (as a list).

    AOTAutograd's min-cut partitioner may recompute cheap pointwise values in the backward pass
    instead of saving them; recomputing a read of a buffer after the forward pass has updated it
    yields the *new* value and a silently wrong gradient (pytorch/pytorch pull request 197039,
    "Don't recompute reads of mutated inputs or mutable buffers", open at the time of writing).
    An opaque custom operator is never recomputed, so its outputs are saved as they were. It costs
    one call into Python per layer and step in compiled code (see ``benchmarks/bench_ann.py``).
    """
    return _pinned_copy(list(tensors)) if torch.compiler.is_compiling() else list(tensors)


def _widened(input: Tensor, buffer: Tensor) -> Tensor:
    """*input* in the widest of its dtype, *buffer*'s and float32 (itself when that is its own).

    Statistics (sums over the batch) and the homeostatic arithmetic run in this dtype; outputs are
    cast back to the input's. A float16 sum of squares overflows above 65504 (a drive of 256).
    """
    dtype = input.dtype
    if dtype is buffer.dtype and dtype is not torch.float16 and dtype is not torch.bfloat16:
        return input
    dtype = torch.promote_types(torch.promote_types(dtype, buffer.dtype), torch.float32)
    return input if dtype == input.dtype else input.to(dtype)


def _dot(a: Tensor, b: Tensor, dims) -> Tensor:
    """Per-unit sum of ``a * b`` over *dims* (``0`` for ``(N, C)``), in the operands' dtype."""
    if (dims == 0 and not torch.compiler.is_compiling()
            and not torch.is_autocast_enabled("cpu" if a.is_cpu else a.device.type)):
        return torch.linalg.vecdot(a, b, dim=0)  # eager (N, C): one dispatched op instead of two
    # what torch.compile fuses with its neighbours; autocast would run vecdot in low precision
    return (a * b).sum(dims)


def _sum_stat(input: Tensor, measure: str, dims) -> Tensor:
    """Per-unit sum behind :func:`unit_activity`: of squares (``'rms'``), absolute or rectified values."""
    if measure == "rms":
        return _dot(input, input, dims)
    if measure == "abs":
        return input.abs().sum(dims)
    return torch.relu(input).sum(dims)


def _all_finite(t: Tensor) -> bool:
    """Whether every entry of *t* is finite, read on the host (one synchronisation on a GPU, as a
    mixed-precision gradient scaler's check of the gradients). One reduction: the sum is finite iff
    every entry is, unless it overflows, which only activities near the dtype's largest number do."""
    return math.isfinite(float(t.sum()))


def _homeostatic_step_(scale: Tensor, q: Tensor, n: int, measure: str, step: tuple) -> Tensor:
    """Steps 1-2 of :class:`~homeonet.ann.modules.SynapticScaling` from the batch statistic *q* of the unscaled input.

    *q* is :func:`_sum_stat` over *n* entries per unit, so the unit's activity is ``sqrt(q / n)``
    (``'rms'``) or ``q / n``; the activity of the scaled output is ``scale`` times that
    (homogeneity). *step* is ``(running_activity, calibrate, target, eta, momentum, max_step,
    max_scale, ...)``, *momentum* a number or a tensor; with *calibrate*, the factors are set to
    ``target / activity`` instead. The arithmetic runs in *q*'s dtype (at least float32).
    Units whose statistic is not finite keep their state. Changes *scale* and *running_activity*
    in place and returns a new tensor equal to the new *scale* (a snapshot for the backward
    pass, in *q*'s dtype); the caller holds ``no_grad``.
    """
    running_activity, calibrate, target, eta, momentum, max_step, max_scale = step[:7]
    s = scale if scale.dtype == q.dtype else scale.to(q.dtype)
    a = running_activity if running_activity.dtype == q.dtype else running_activity.to(q.dtype)
    if calibrate:
        raw = q.div(n).sqrt_() if measure == "rms" else q.div(n)
        new = torch.where(raw > 1e-12, target / raw.clamp(min=1e-12), torch.ones_like(raw))
        new.clamp_(1.0 / max_scale, max_scale)
        new_a = new * raw
    else:
        # rate sensor of the scaled output: its batch activity is scale * activity (homogeneity); for
        # 'rms' the sensor averages the mean square s^2 q / n (unbiased at any batch size, see
        # synaptic_scaling_update_)
        new_a = _scaled_sensor(a, s, q, n, momentum, measure == "rms")
        new = _scaled_by_sensor(s, new_a, target, eta, max_step, max_scale)
    if torch.compiler.is_compiling():  # eager callers skip a non-finite batch before the step
        ok = torch.isfinite(q)
        new, new_a = torch.where(ok, new, s), torch.where(ok, new_a, a)
    running_activity.copy_(new_a)
    scale.copy_(new)
    # the factors as stored (rounded to the buffer's dtype), so that eval mode computes the same function
    return new if new.dtype == scale.dtype else scale.to(new.dtype)


class _SynapticScalingFunction(torch.autograd.Function):
    r"""``y = weight * scale * input + bias`` as one autograd node, with the optional homeostatic
    step and the fixed-point gradient of :class:`~homeonet.ann.modules.SynapticScaling` fused in.

    ``apply(input, weight, bias, scale, measure, fixed_point, step)``: *weight*, *bias* may be
    ``None``; *step* is ``None`` (no update) or ``(running_activity, calibrate, target, eta,
    momentum, max_step, max_scale, report)``, in which case *scale* and *running_activity* are
    updated in place (steps 1-2 of the module's algorithm) before they multiply the input. In eager
    mode a batch with a non-finite statistic makes no update and sets ``report[0] = True``.

    With *fixed_point*, the value is unchanged but the backward pass treats the factor as
    :math:`\tilde s_c = s_c\, (q_c^0 / q_c)^{1/p}` at :math:`q = q^0`, with :math:`q_c` the
    per-unit statistic of :func:`_sum_stat` (:math:`p = 2` for ``'rms'``, 1 otherwise):
    :math:`\partial L/\partial x = \gamma s\,(g - q'(x)\, \langle g x\rangle_c / q^0_c)` with
    :math:`q'(x) = x` (rms, the factor 2 cancels :math:`1/p`), :math:`\operatorname{sign}(x)` (abs)
    or :math:`[x > 0]` (rate); the other gradients are those of the plain product, since
    :math:`\tilde s = s` and :math:`\partial \tilde s / \partial s = 1` there.
    The backward is first-order only (``once_differentiable``).
    """

    @staticmethod
    def forward(ctx, input, weight, bias, scale, measure, fixed_point, step):
        # (straight-line code: this runs at every training step of every layer, and on a CPU its
        # Python costs as much as its arithmetic)
        nd = input.dim()
        dims = 0 if nd == 2 else _reduce_dims(input)
        # mixed precision (autocast): statistics, factors and the output's arithmetic in the wider of the
        # input's and the buffers' dtypes, the output returned in the input's (as BatchNorm does)
        x = _widened(input, scale)
        q = None if step is None and not fixed_point else _sum_stat(x, measure, dims)
        if step is not None and not torch.compiler.is_compiling() and not _all_finite(q):
            step[7][0] = True  # a NaN/inf batch: no homeostatic step (compiled code masks it per unit instead)
            step = None
        # the factors in a tensor of their own: the backward needs them after the buffer has moved on
        if step is not None:
            (s,) = _pin(_homeostatic_step_(scale, q, input.numel() // input.size(1), measure, step))
        elif scale.dtype != x.dtype:
            s = scale.to(x.dtype)
        else:
            s = scale.clone() if weight is None or ctx.needs_input_grad[1] else scale
        gs = s if weight is None else s * weight
        if nd == 2:
            out = x * gs if bias is None else torch.addcmul(bias, x, gs)
        else:
            gsv = _channel_view(gs, nd)
            out = x * gsv if bias is None else torch.addcmul(_channel_view(bias, nd), x, gsv)
        # intermediates (new tensors nobody else holds) are kept on ctx, the input is saved properly
        ctx.state = (measure, fixed_point and q is not None, dims, gs, s, q)
        ctx.save_for_backward(x, weight)
        return out if x is input else out.to(input.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        need_x, need_w, need_b, need_s = ctx.needs_input_grad[:4]
        measure, fixed, dims, gs, s, q = ctx.state
        if grad.dtype != input.dtype:  # mixed precision: gradients in the widened dtype (autograd casts dx back)
            grad = grad.to(input.dtype)
        nd = grad.dim()
        fixed = fixed and need_x
        gx = None  # <g x> per unit
        if need_w or need_s or fixed:
            gx = _dot(grad, input, dims)
        dx = dw = db = ds = None
        if need_x:
            gsv = _channel_view(gs, nd)
            if fixed:
                # floor: a silent unit (q = 0, and <g x> = 0) gets no fixed-point term
                r = _channel_view(gx / q.to(gx.dtype).clamp_(min=torch.finfo(gx.dtype).tiny), nd)
                if measure == "rms":
                    dx = torch.addcmul(grad, input, r, value=-1.0)
                elif measure == "abs":
                    dx = torch.addcmul(grad, input.sign(), r, value=-1.0)
                else:  # where, not a product with the mask: r is huge for a silent unit
                    dx = grad - torch.where(input > 0, r, 0.0)
                dx = dx.mul_(gsv)
            else:
                dx = grad * gsv
        if need_w:
            dw = gx * s
        if need_b:
            db = grad.sum(dims)
        if need_s:
            ds = gx if weight is None else gx * weight
        return dx, dw, db, ds, None, None, None


def intrinsic_plasticity(input: Tensor, gain: Tensor, bias: Tensor) -> Tensor:
    r"""Sigmoid unit with per-unit gain and bias (Triesch 2005).

    .. math::
        y_{n c} = \sigma(g_c x_{n c} + b_c) = \frac{1}{1 + e^{-(g_c x_{n c} + b_c)}}

    Args:
        input (Tensor): ``(N, C)`` or ``(N, C, *)`` synaptic drive :math:`x`, floating point.
        gain (Tensor): ``(C,)`` gains :math:`g`.
        bias (Tensor): ``(C,)`` biases :math:`b`.

    Returns:
        Tensor: same shape and dtype as *input*, values in (0, 1) (computed in at least float32).
    """
    _check_channels(input, gain.numel())
    x = _widened(input, gain)
    nd = input.dim()
    out = torch.sigmoid(torch.addcmul(_channel_view(bias, nd).to(x.dtype), x, _channel_view(gain, nd).to(x.dtype)))
    return out.to(input.dtype)


def _triesch_deltas(gain: Tensor, x: Tensor, y: Tensor, target_mean: float) -> tuple:
    """The batch-averaged Triesch increments ``(db, dg)`` (before the factor eta), in *x*'s dtype."""
    dims = _reduce_dims(x)
    common = 1.0 - (2.0 + 1.0 / target_mean) * y + y.square() / target_mean
    db = common.mean(dim=dims)
    dg = gain.to(x.dtype).reciprocal() + (x * common).mean(dim=dims)
    return db, dg


def _apply_triesch_(gain: Tensor, bias: Tensor, db: Tensor, dg: Tensor, eta: float, min_gain: float,
                    masked: bool) -> None:
    """``bias += eta db``, ``gain = max(gain + eta dg, min_gain)`` in place; with *masked*, units with a
    non-finite increment are left alone."""
    if masked:
        ok = torch.isfinite(db) & torch.isfinite(dg)
        db, dg = torch.where(ok, db, 0.0), torch.where(ok, dg, 0.0)
    if gain.dtype == db.dtype:
        bias.add_(db, alpha=eta)
        gain.add_(dg, alpha=eta).clamp_(min=min_gain)
    else:  # low-precision buffers: the update in the increments' dtype, then stored
        bias.copy_(bias.to(db.dtype).add_(db, alpha=eta))
        gain.copy_(gain.to(dg.dtype).add_(dg, alpha=eta).clamp_(min=min_gain))


@torch.no_grad()
def triesch_update_(gain: Tensor, bias: Tensor, input: Tensor, output: Tensor, *, target_mean: float = 0.2,
                    eta: float = 0.01, min_gain: float = 1e-3) -> tuple:
    r"""Triesch's intrinsic-plasticity step, batch averaged, in place on *gain* and *bias*.

    .. math::
        \Delta b_c &= \eta \left\langle 1 - \left(2 + \tfrac{1}{\mu}\right) y + \tfrac{y^2}{\mu}
                      \right\rangle \\
        \Delta g_c &= \eta \left\langle \tfrac{1}{g_c} + x \left(1 - \left(2 + \tfrac{1}{\mu}\right) y
                      + \tfrac{y^2}{\mu}\right) \right\rangle

    the stochastic gradient that minimises the Kullback-Leibler divergence between the
    distribution of the output :math:`y = \sigma(g x + b)` and an exponential distribution
    with mean :math:`\mu` (Triesch 2005, "A gradient rule for the plasticity of a neuron's
    intrinsic excitability", ICANN, LNCS 3696:65-70). Averages run over the batch and any
    spatial positions, in at least float32. A unit whose increments are not finite (a NaN or
    inf in the batch) is left alone.

    Args:
        gain (Tensor): ``(C,)``, updated in place and kept ``>= min_gain``.
        bias (Tensor): ``(C,)``, updated in place.
        input (Tensor): ``(N, C, *)`` drive :math:`x`.
        output (Tensor): ``(N, C, *)`` response :math:`y`.
        target_mean (float): :math:`\mu \in (0, 1)`. Default: 0.2.
        eta (float): learning rate :math:`\eta`. Default: 0.01.
        min_gain (float): lower bound on the gain. Default: 1e-3.

    Returns:
        tuple: ``(gain, bias)``.
    """
    dtype = _acc_dtype(gain.dtype)
    db, dg = _triesch_deltas(gain, input.detach().to(dtype), output.detach().to(dtype), target_mean)
    _apply_triesch_(gain, bias, db, dg, eta, min_gain, masked=True)
    return gain, bias


class _IntrinsicPlasticityFunction(torch.autograd.Function):
    r"""The training step of :class:`~homeonet.ann.modules.IntrinsicPlasticity` as one autograd node.

    ``apply(input, gain, bias, step)``, *step* ``= (running_mean, target_mean, eta, momentum,
    min_gain, report)``: returns :math:`y = \sigma(g x + b)` with the gain and bias before the
    update, then applies :func:`triesch_update_` and the monitor update in place (*momentum* a number
    or a tensor). In eager mode a batch whose increments are not finite makes no update and sets
    ``report[0] = True``; compiled code masks such units instead. The backward is
    :math:`\partial L/\partial x = g\, y (1 - y)\, \partial L/\partial y`, with the slope
    :math:`g\,y(1-y)` formed in the forward pass from the gain it used, before the update (in eager
    mode no copy of the buffers is needed; under ``torch.compile`` their reads are pinned, see
    :func:`_pin`). The gain and bias get no gradient: they are buffers, set by the homeostatic rule.
    """

    @staticmethod
    def forward(ctx, input, gain, bias, step):
        running_mean, target_mean, eta, momentum, min_gain, report = step
        nd = input.dim()
        x = _widened(input, gain)  # mixed precision: see _SynapticScalingFunction
        g, b = _pin(gain, bias)
        if g.dtype != x.dtype:
            g, b = g.to(x.dtype), b.to(x.dtype)
        gv = _channel_view(g, nd)
        out = torch.sigmoid(torch.addcmul(_channel_view(b, nd), x, gv))
        if ctx.needs_input_grad[0]:
            ctx.slope = torch.addcmul(out, out, out, value=-1.0).mul_(gv)
        db, dg = _triesch_deltas(g, x, out, target_mean)
        mean = out.mean(_reduce_dims(out))
        compiling = torch.compiler.is_compiling()
        if compiling or _all_finite(db + dg):
            _apply_triesch_(gain, bias, db, dg, eta, min_gain, masked=compiling)
            if isinstance(momentum, Tensor):
                momentum = momentum.to(running_mean.dtype)
            mean = mean.to(running_mean.dtype)
            if compiling:  # a unit with a non-finite mean keeps its monitor
                mean = torch.where(torch.isfinite(mean), mean, running_mean)
            running_mean.lerp_(mean, momentum)
        else:
            report[0] = True
        return out if x is input else out.to(input.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        return grad * ctx.slope, None, None, None


def divisive_normalization(input: Tensor, sigma: float = 1.0, exponent: float = 2.0,
                           weight: Tensor | None = None, bias: Tensor | None = None) -> Tensor:
    r"""Divisive normalization over the units of a layer (Carandini & Heeger 2012).

    .. math::
        y_{n c} = \gamma_c \frac{\operatorname{sign}(x_{n c})\, |x_{n c}|^{p}}
                  {\sigma^{p} + \frac{1}{C} \sum_{j} |x_{n j}|^{p}} + \beta_c

    The pool is every unit of the same sample (and position, for ``(N, C, *)`` inputs):
    the layer-scale counterpart of layer normalization. The sign is carried through so
    that signed pre-activations can be normalized before the nonlinearity; for
    non-negative drives it is the canonical :math:`R_i = \gamma D_i^p / (\sigma^p + \sum D_j^p)`
    with the pool sum replaced by its mean (the factor :math:`C` is absorbed in
    :math:`\sigma` and :math:`\gamma`). Powers and the pool are computed in at least float32
    (in float16, :math:`300^2` overflows), and the output cast back to the input's dtype.

    Args:
        input (Tensor): ``(N, C)`` or ``(N, C, *)``, floating point.
        sigma (float): semi-saturation constant :math:`\sigma > 0`. Default: 1.0.
        exponent (float): exponent :math:`p \ge 1`. Default: 2.0.
        weight (Tensor, optional): ``(C,)`` gain :math:`\gamma`. Default: ``None`` (1).
        bias (Tensor, optional): ``(C,)`` shift :math:`\beta`. Default: ``None`` (0).

    Returns:
        Tensor: same shape and dtype as *input*.
    """
    if input.dim() < 2:
        raise HomeonetError(f"input must have shape (N, C) or (N, C, *); got {tuple(input.shape)}")
    _check_floating(input)
    x = input.to(_acc_dtype(input.dtype))
    mag = x.abs()
    if exponent == 2.0:
        drive = x * mag
        pool = x.square().mean(dim=1, keepdim=True)
    elif exponent == 1.0:
        drive = x
        pool = mag.mean(dim=1, keepdim=True)
    else:
        powered = mag.pow(exponent)
        drive = torch.sign(x) * powered
        pool = powered.mean(dim=1, keepdim=True)
    out = drive / (pool + sigma ** exponent)
    nd = x.dim()
    if weight is not None and bias is not None:
        out = torch.addcmul(_channel_view(bias, nd).to(x.dtype), out, _channel_view(weight, nd).to(x.dtype))
    elif weight is not None:
        out = out * _channel_view(weight, nd).to(x.dtype)
    elif bias is not None:
        out = out + _channel_view(bias, nd).to(x.dtype)
    return out.to(input.dtype)


def _rows(w: Tensor) -> Tensor:
    """Incoming weights of each output unit as rows: ``(out, -1)``."""
    return w.reshape(w.shape[0], -1)


def _cols(w: Tensor) -> Tensor:
    """Outgoing weights of each input unit as rows: ``(in, -1)``."""
    return w.transpose(0, 1).reshape(w.shape[1], -1)


@torch.no_grad()
def equi_normalize_(weights, biases=None, *, norm_type: float = 2.0, iterations: int = 1,
                    eps: float = 1e-12) -> list:
    r"""Equi-normalization (Stock et al. 2019), in place: balance weight norms across layers.

    For consecutive layers :math:`W_k` (``out x in``, or ``out x in x ...`` for convolutions)
    joined by positively homogeneous activations (ReLU, leaky ReLU, identity), rescaling hidden
    unit :math:`i` of layer :math:`k` by :math:`d_i > 0`,

    .. math::
        W_k[i,:] \leftarrow d_i W_k[i,:], \quad b_k[i] \leftarrow d_i b_k[i], \quad
        W_{k+1}[:,i] \leftarrow W_{k+1}[:,i] / d_i,

    leaves the network function unchanged. Block coordinate descent on
    :math:`\sum_k \lVert W_k \rVert_p^p` gives, per hidden unit,

    .. math::
        d_i = \left( \frac{\lVert W_{k+1}[:,i] \rVert_p}{\lVert W_k[i,:] \rVert_p} \right)^{1/2}

    applied layer after layer (one sweep = one iteration). A linear layer that reads a convolution's
    flattened maps (``in = channels x positions``, channel-major as ``torch.flatten`` gives) takes
    each channel's block of columns as that channel's outgoing weights. A unit whose incoming or outgoing
    weights have a norm of at most *eps* (or a non-finite one) is left alone, :math:`d_i = 1`:
    its optimum is 0 or infinity, and the step toward it (a factor of 4.5e5 for a unit with
    all-zero incoming weights and eps 1e-12) would make the next gradient step diverge. Norms are
    computed in at least float32. Reference: P. Stock, B. Graham, R. Gribonval, H. Jégou (2019),
    "Equi-normalization of neural networks", ICLR.

    Args:
        weights (sequence of Tensor): weights of consecutive layers, first to last.
        biases (sequence of Tensor or None, optional): their biases (entries may be ``None``).
            Default: ``None``.
        norm_type (float): :math:`p`. Default: 2.0.
        iterations (int): sweeps over the layers. Default: 1.
        eps (float): norms at or below it count as zero. Default: 1e-12.

    Returns:
        list of Tensor: the rescaling factors :math:`d` of every hidden layer (of the last sweep).
    """
    weights = list(weights)
    biases = [None] * len(weights) if biases is None else list(biases)
    if len(weights) < 2:
        raise HomeonetError(f"weights must hold at least 2 consecutive layers; got {len(weights)}")
    factors = []
    for _ in range(iterations):
        factors = []
        for k in range(len(weights) - 1):
            w_in, w_out = weights[k], weights[k + 1]
            if w_out.dim() == 2 and w_out.shape[1] != w_in.shape[0] and w_out.shape[1] % w_in.shape[0] == 0:
                # a linear layer reading flattened maps (channel-major, as flatten gives): each channel's block
                # of columns goes with it, as a convolution's kernel positions do (a view: changes reach w_out)
                w_out = w_out.view(w_out.shape[0], w_in.shape[0], -1)
            if w_out.shape[1] != w_in.shape[0]:
                raise HomeonetError(f"weights[{k + 1}] must take {w_in.shape[0]} inputs to follow "
                                    f"weights[{k}]; got shape {tuple(w_out.shape)}")
            dtype = _acc_dtype(w_in.dtype)
            n_in = torch.linalg.vector_norm(_rows(w_in), ord=norm_type, dim=1, dtype=dtype)
            n_out = torch.linalg.vector_norm(_cols(w_out), ord=norm_type, dim=1, dtype=dtype)
            ok = (n_in > eps) & (n_out > eps) & torch.isfinite(n_in) & torch.isfinite(n_out)
            d = torch.where(ok, (n_out / n_in.clamp(min=eps)).sqrt(), 1.0)
            w_in.mul_(d.to(w_in.dtype).view((-1,) + (1,) * (w_in.dim() - 1)))
            if biases[k] is not None:
                biases[k].mul_(d.to(biases[k].dtype))
            w_out.div_(d.to(w_out.dtype).view((1, -1) + (1,) * (w_out.dim() - 2)))
            factors.append(d)
    return factors
