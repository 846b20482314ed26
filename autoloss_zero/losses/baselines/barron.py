r"""Barron's general robust loss (Barron, "A General and Adaptive Robust Loss
Function", CVPR 2019, arXiv 1701.03077).

.. math::
    \rho(x, \alpha, c) = \frac{|\alpha - 2|}{\alpha}\left(
        \left(\frac{(x/c)^2}{|\alpha - 2|} + 1\right)^{\alpha/2} - 1\right)

with its limits as the special cases (paper, Eq. 1 and 8):

====================  =======================================================
:math:`\alpha = 2`      :math:`\frac12 (x/c)^2` (L2)
:math:`\alpha = 1`      :math:`\sqrt{(x/c)^2 + 1} - 1` (Charbonnier)
:math:`\alpha = 0`      :math:`\log(\frac12 (x/c)^2 + 1)` (Cauchy/Lorentzian)
:math:`\alpha = -2`     :math:`2\frac{(x/c)^2}{(x/c)^2 + 4}` (Geman-McClure)
:math:`\alpha = -\infty`  :math:`1 - \exp(-\frac12 (x/c)^2)` (Welsch/Leclerc)
:math:`\alpha = +\infty`  :math:`\exp(\frac12 (x/c)^2) - 1`
====================  =======================================================

Safe forms (ours, in the spirit of robust_loss_pytorch ``general.py``): the
general branch is evaluated as
:math:`\frac{\beta}{\alpha}\,\mathrm{expm1}(\frac{\alpha}{2}
\mathrm{log1p}(s/\beta))` with :math:`s = (x/c)^2`, :math:`\beta =
\max(|\alpha - 2|, \epsilon)` and :math:`|\alpha|` clamped to at least
:math:`\epsilon` (the dtype's machine epsilon) in both places it appears, so
it is accurate right next to :math:`\alpha = 0, 2` instead of cancelling.
Where the exponent :math:`p = \frac{\alpha}{2}\mathrm{log1p}(s/\beta)`
exceeds 1 (only for :math:`\alpha > 0`), the value is taken in log space,
:math:`\exp(p + \log\frac{\beta}{\alpha}) - \frac{\beta}{\alpha}`, so that
neither :math:`e^p` nor the product overflows before the value itself does.
The log of the value is clamped at :func:`exp_max` of the dtype,
:math:`\lfloor\log(\mathrm{finfo.max})\rfloor - 4` (:data:`EXP_MAX` = 84 in
float32, 705 in float64): the value and its gradient are exact wherever the
value is below that bound, i.e. for every outlier whose loss fits in the
dtype with a margin of :math:`e^4` (left for the gradient), and only beyond
it the value saturates with gradient 0 (:math:`\alpha = +\infty`: at
:math:`|x/c| \approx 13` in float32, 37.5 in float64). A gradient that
itself exceeds the dtype there (the value times the derivative of its log,
e.g. :math:`\alpha/c` for the scale) saturates at ``±finfo.max`` instead of
overflowing (:class:`_SaturatedGrad`). Every branch is
computed from a safe stand-in for :math:`\alpha` *before* ``torch.where``
selects, so untaken branches never produce a NaN gradient.
"""
import math
from typing import Union

import torch
from mmengine.registry import MODELS
from torch import Tensor

from ._base import BaseRegressionLoss


def exp_max(dtype: torch.dtype) -> float:
    """Largest log-value the loss takes in ``dtype``: floor(log(max)) - 4.

    The margin e**4 leaves room for the gradient (the value times the
    derivative of its log) to fit as well.
    """
    return float(math.floor(math.log(torch.finfo(dtype).max)) - 4)


#: :func:`exp_max` of float32, where the value saturates (gradient 0).
EXP_MAX = exp_max(torch.float32)


class _SaturatedGrad(torch.autograd.Function):
    """Identity whose backward clamps the gradient to ``±finfo.max`` (an
    overflowed partial becomes the largest float of its sign; NaN, from
    partials overflowing in opposite directions, becomes 0)."""

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        big = torch.finfo(grad.dtype).max
        return torch.nan_to_num(grad, nan=0.0, posinf=big, neginf=-big)


def _saturated_grad(value):
    """``value`` with a saturating gradient, if it is a tensor needing one."""
    if torch.is_tensor(value) and value.requires_grad:
        return _SaturatedGrad.apply(value)
    return value


def _l2(s: Tensor) -> Tensor:
    return 0.5 * s


def _cauchy(s: Tensor) -> Tensor:
    return torch.log1p(0.5 * s)


def _welsch(s: Tensor) -> Tensor:
    return -torch.expm1(-0.5 * s)


def _pos_inf(s: Tensor) -> Tensor:
    return torch.expm1(torch.clamp(0.5 * s, max=exp_max(s.dtype)))


def _general(s: Tensor, alpha: Tensor) -> Tensor:
    """The general branch; ``alpha`` must be finite (callers ensure it)."""
    eps = torch.finfo(s.dtype).eps
    beta = torch.clamp(torch.abs(alpha - 2.), min=eps)
    alpha = torch.where(alpha >= 0, torch.clamp(alpha, min=eps),
                        torch.clamp(alpha, max=-eps))
    power = 0.5 * alpha * torch.log1p(s / beta)
    ratio = beta / alpha
    # p <= 1 (every alpha < 0, where p <= 0): the expm1 form, exact near 0.
    small = ratio * torch.expm1(torch.clamp(power, max=1.0))
    # p > 1 (alpha > 0): in log space, saturated at exp_max.
    log_value = torch.clamp(power + torch.log(ratio.abs()),
                            max=exp_max(s.dtype))
    large = torch.exp(log_value) - ratio
    return torch.where(power > 1.0, large, small)


def general_robust_loss(x: Tensor, alpha: Union[float, Tensor],
                        scale: Union[float, Tensor]) -> Tensor:
    r"""Barron's :math:`\rho(x, \alpha, c)`, element-wise (see module doc).

    Args:
        x (Tensor): Residuals, any shape, floating point.
        alpha (float | Tensor): Shape parameter in :math:`[-\infty, \infty]`,
            broadcastable to ``x``. Lower values are more robust. A Python
            number selects its branch only; a tensor may mix special values.
        scale (float | Tensor): Scale :math:`c > 0`, broadcastable to ``x``;
            the loss is quadratic for :math:`|x| < c`.

    Returns:
        Tensor: :math:`\rho` per element, shape of ``x`` broadcast with
        ``alpha`` and ``scale``. Finite for every finite ``x`` and
        ``scale > 0``; exact in value and gradient (w.r.t. ``x``, ``alpha``
        and ``scale``) wherever the value is below ``e**exp_max(dtype)``,
        saturated with gradient 0 beyond.
    """
    x, alpha, scale = (_saturated_grad(v) for v in (x, alpha, scale))
    s = (x / scale)**2
    if not torch.is_tensor(alpha):
        alpha = float(alpha)
        if alpha == 2:
            return _l2(s)
        if alpha == 0:
            return _cauchy(s)
        if alpha == -math.inf:
            return _welsch(s)
        if alpha == math.inf:
            return _pos_inf(s)
        if math.isnan(alpha):
            raise ValueError('alpha is NaN')
        return _general(s, torch.as_tensor(alpha, dtype=s.dtype,
                                           device=s.device))
    alpha = alpha.to(s.dtype)
    special = (alpha == 0) | (alpha == 2) | torch.isinf(alpha)
    safe_alpha = torch.where(special, torch.ones_like(alpha), alpha)
    loss = _general(s, safe_alpha)
    loss = torch.where(alpha == math.inf, _pos_inf(s), loss)
    loss = torch.where(alpha == -math.inf, _welsch(s), loss)
    loss = torch.where(alpha == 2, _l2(s), loss)
    return torch.where(alpha == 0, _cauchy(s), loss)


@MODELS.register_module()
class BarronLoss(BaseRegressionLoss):
    r"""Barron's general robust loss with fixed :math:`\alpha` and scale.

    A box-regression loss with mmdet's signature; it works on deltas or on
    decoded boxes alike (``loss_bbox`` of RPN and RoI heads).

    Args:
        alpha (float | str): Shape parameter; ``float('inf')``, ``'inf'`` and
            ``'-inf'`` are accepted. Default 1.0 (Charbonnier).
        scale (float): Scale :math:`c > 0`. Default 1.0.
        loss_name (str): Default 'loss_barron'.
        **kwargs: ``reduction``, ``loss_weight``: see :class:`BaseLoss`.

    Example:
        >>> loss_bbox = dict(type='BarronLoss', alpha=1.0, scale=0.1)
    """

    def __init__(self,
                 alpha: Union[float, str] = 1.0,
                 scale: float = 1.0,
                 *,
                 loss_name: str = 'loss_barron',
                 **kwargs) -> None:
        super().__init__(loss_name=loss_name, **kwargs)
        self.alpha = float(alpha)
        if math.isnan(self.alpha):
            raise ValueError(
                f'alpha={alpha!r} must be a number in [-inf, inf]')
        self.scale = float(scale)
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise ValueError(f'scale={scale!r} must be finite and > 0')

    def elementwise(self, residual: Tensor) -> Tensor:
        """:func:`general_robust_loss` of the residual."""
        return general_robust_loss(residual, self.alpha, self.scale)
