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
Every ``exp``/``expm1`` argument is clamped at :data:`EXP_MAX` (the value,
not the gradient, saturates there: :math:`e^{80} \approx 5.5\cdot10^{34}` is
finite in float32). Every branch is computed from a safe stand-in for
:math:`\alpha` *before* ``torch.where`` selects, so untaken branches never
produce a NaN gradient.
"""
import math
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor

from ._reduce import (check_loss_name, check_reduction, reduce_regression_loss,
                      upcast, zero_weight_loss)

#: Upper clamp of every exponent (value saturates at e**80, gradient is 0).
EXP_MAX = 80.0


def _l2(s: Tensor) -> Tensor:
    return 0.5 * s


def _cauchy(s: Tensor) -> Tensor:
    return torch.log1p(0.5 * s)


def _welsch(s: Tensor) -> Tensor:
    return -torch.expm1(-0.5 * s)


def _pos_inf(s: Tensor) -> Tensor:
    return torch.expm1(torch.clamp(0.5 * s, max=EXP_MAX))


def _general(s: Tensor, alpha: Tensor) -> Tensor:
    """The general branch; ``alpha`` must be finite (callers ensure it)."""
    eps = torch.finfo(s.dtype).eps
    beta = torch.clamp(torch.abs(alpha - 2.), min=eps)
    alpha = torch.where(alpha >= 0, torch.clamp(alpha, min=eps),
                        torch.clamp(alpha, max=-eps))
    power = torch.clamp(0.5 * alpha * torch.log1p(s / beta), max=EXP_MAX)
    return (beta / alpha) * torch.expm1(power)


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
        ``alpha`` and ``scale``. Finite, with finite gradients w.r.t. ``x``,
        ``alpha`` and ``scale``, for every finite ``x`` and ``scale > 0``.
    """
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
class BarronLoss(nn.Module):
    r"""Barron's general robust loss with fixed :math:`\alpha` and scale.

    A box-regression loss with mmdet's signature; it works on deltas or on
    decoded boxes alike (``loss_bbox`` of RPN and RoI heads).

    Args:
        alpha (float | str): Shape parameter; ``float('inf')``, ``'inf'`` and
            ``'-inf'`` are accepted. Default 1.0 (Charbonnier).
        scale (float): Scale :math:`c > 0`. Default 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Default 'mean'.
        loss_weight (float): Multiplier of the loss. Default 1.0.
        loss_name (str): Default 'loss_barron'.

    Example:
        >>> loss_bbox = dict(type='BarronLoss', alpha=1.0, scale=0.1)
    """

    def __init__(self,
                 alpha: Union[float, str] = 1.0,
                 scale: float = 1.0,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_barron') -> None:
        super().__init__()
        self.alpha = float(alpha)
        if math.isnan(self.alpha):
            raise ValueError(
                f'alpha={alpha!r} must be a number in [-inf, inf]')
        self.scale = float(scale)
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise ValueError(f'scale={scale!r} must be finite and > 0')
        self.reduction = check_reduction(reduction)
        self.loss_weight = float(loss_weight)
        self._loss_name = check_loss_name(loss_name)

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Predictions, shape (M, 4) (or any shape).
            target (Tensor): Targets, shape of ``pred``.
            weight (Tensor, optional): Weights, shape of ``pred`` or (M,).
            avg_factor (float | Tensor, optional): Divisor for the mean.
            reduction_override (str, optional): Replaces ``self.reduction``.
            **kwargs: Accepted and unused.

        Returns:
            Tensor: The weighted loss; element-wise for ``'none'``.
        """
        reduction = check_reduction(reduction_override or self.reduction)
        if pred.shape != target.shape:
            raise ValueError(f'pred of shape {tuple(pred.shape)} does not '
                             f'match target of shape {tuple(target.shape)}')
        if (weight is not None and reduction != 'none'
                and not torch.any(weight > 0)):
            return zero_weight_loss(pred, weight)
        loss = general_robust_loss(
            upcast(pred) - upcast(target), self.alpha, self.scale)
        loss = reduce_regression_loss(
            loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of the loss item (``loss_...``)."""
        return self._loss_name
