"""Reduction of an element-wise tree value to the scalar loss.

The value is summed over the class axis, then averaged over the valid
elements with the head's weights: with this choice the tree
``neg(mul(y,log(yhat)))`` with softmax ``yhat`` and one-hot ``y`` is exactly
softmax cross-entropy with ``ignore_index`` and per-pixel weights.
"""
from typing import Optional, Union

import torch


def reduce_loss(value: torch.Tensor,
                valid: Optional[torch.Tensor] = None,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[Union[float, torch.Tensor]] = None,
                eps: float = 1e-12) -> torch.Tensor:
    """Weighted mean over valid elements of the class-summed value.

    loss = sum_{valid n,h,w} weight[n,h,w] * sum_c value[n,c,h,w] / denom,
    denom = max(avg_factor if given else #valid elements, eps).

    Invalid elements are removed with ``torch.where`` *after* weighting, so a
    NaN/inf value (or weight) at an ignored position never reaches the loss,
    and the gradient there is exactly zero as long as the value's local
    derivatives are finite, which the safe ops guarantee for finite input.
    With no valid element the loss is a zero that keeps the graph alive
    (gradient zero everywhere), not NaN.

    Note:
        N: batch (or anchors/RoIs M), C: classes, H, W: spatial size.

    Args:
        value (Tensor): Element-wise loss on the canvas, (N, C, H, W) or
            (M, C, 1, 1); at least 2-D.
        valid (Tensor, optional): Bool (N, H, W), False at ignored elements
            (e.g. label 255). None means all valid.
        weight (Tensor, optional): Float weights broadcastable to (N, H, W).
        avg_factor (float | Tensor, optional): Denominator overriding the
            count of valid elements (mmdet convention).
        eps (float): Lower clamp of the denominator.

    Returns:
        Tensor: Scalar loss.

    Raises:
        ValueError: On a value with fewer than 2 dims, or a ``valid`` /
            ``weight`` whose shape does not fit (both shapes are printed).
    """
    if value.dim() < 2:
        raise ValueError(f'value must have a class axis (dim 1), got shape '
                         f'{tuple(value.shape)}')
    per_element = value.sum(dim=1)
    if weight is not None:
        try:
            torch.broadcast_shapes(weight.shape, per_element.shape)
        except RuntimeError:
            raise ValueError(
                f'weight of shape {tuple(weight.shape)} does not broadcast '
                f'to the class-summed value {tuple(per_element.shape)}'
            ) from None
        per_element = per_element * weight
        if per_element.shape != value.shape[:1] + value.shape[2:]:
            raise ValueError(
                f'weight of shape {tuple(weight.shape)} enlarges the '
                f'class-summed value '
                f'{tuple(value.shape[:1] + value.shape[2:])}')
    if valid is None:
        total = per_element.sum()
        count = per_element.numel()
    else:
        if valid.shape != per_element.shape:
            raise ValueError(
                f'valid of shape {tuple(valid.shape)} must match the '
                f'class-summed value {tuple(per_element.shape)}')
        if valid.dtype != torch.bool:
            valid = valid.bool()
        total = torch.where(valid, per_element, 0.0).sum()
        count = valid.sum() if avg_factor is None else None
    if avg_factor is not None:
        count = avg_factor
    if isinstance(count, torch.Tensor):
        denom = count.to(total.dtype).clamp_min(eps)
    else:
        denom = max(float(count), eps)
    return total / denom
