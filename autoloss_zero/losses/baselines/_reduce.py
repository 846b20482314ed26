"""Reduction helpers shared by the baseline losses.

Weighting and averaging follow OpenMMLab exactly: element losses go through
mmseg's :func:`weight_reduce_loss` (identical maths to mmdet's), so
``weight``, ``avg_factor`` and ``reduction`` mean the same as in
``mmseg.CrossEntropyLoss`` / ``mmdet.CrossEntropyLoss``:

* ``reduction='mean'`` with ``avg_factor``:
  ``sum(loss * weight) / (avg_factor + eps)``;
* ``reduction='mean'`` without: ``mean(loss * weight)``;
* ``reduction='sum'``: ``sum(loss * weight)`` (``avg_factor`` is an error);
* ``reduction='none'``: ``loss * weight``, element-wise.
"""
from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor

__all__ = [
    'REDUCTIONS', 'check_reduction', 'check_loss_name', 'weight_reduce_loss',
    'upcast', 'zero_weight_loss', 'reduce_regression_loss',
    'reduce_softmax_loss'
]

REDUCTIONS = ('none', 'mean', 'sum')


def weight_reduce_loss(loss: Tensor,
                       weight: Optional[Tensor] = None,
                       reduction: str = 'mean',
                       avg_factor: Optional[Union[float, Tensor]] = None
                       ) -> Tensor:
    """mmseg's ``weight_reduce_loss``, imported at the first call.

    Importing ``mmseg.models`` takes seconds (it imports mmdet too), so it
    is deferred until a loss is evaluated; ``import autoloss_zero`` stays
    light.
    """
    from mmseg.models.losses.utils import weight_reduce_loss as _impl
    return _impl(loss, weight, reduction, avg_factor)


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` or raise ``ValueError`` naming the valid ones."""
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction={reduction!r} is not one of {REDUCTIONS}')
    return reduction


def check_loss_name(loss_name: str) -> str:
    """Return ``loss_name`` or raise if mmengine would not count it as a loss.

    mmengine sums the outputs whose key contains ``loss``; OpenMMLab heads
    use the ``loss_`` prefix, which this project requires.
    """
    if not isinstance(loss_name, str) or not loss_name.startswith('loss_'):
        raise ValueError(
            f'loss_name={loss_name!r} must be a str starting with "loss_", '
            'otherwise mmengine does not add it to the total loss')
    return loss_name


def upcast(tensor: Tensor) -> Tensor:
    """Half-precision tensors to float32 (losses run in fp32 under AMP)."""
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor


def zero_weight_loss(pred: Tensor, weight: Tensor) -> Tensor:
    """A zero that keeps ``pred`` in the graph (mmdet's early return)."""
    weight = weight.to(pred.dtype)
    while weight.dim() < pred.dim():
        weight = weight.unsqueeze(1)  # (N, ...) -> (N, 1, ...) over classes
    return (pred * weight).sum()


def reduce_regression_loss(loss: Tensor,
                           weight: Optional[Tensor] = None,
                           reduction: str = 'mean',
                           avg_factor: Optional[Union[float, Tensor]] = None
                           ) -> Tensor:
    """Weight and reduce an element-wise regression loss.

    Args:
        loss (Tensor): Element losses, shape (M, K) (or any shape).
        weight (Tensor, optional): Element weights, shape of ``loss`` (mmdet
            passes (M, 4) box weights) or (M,) per row.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor (float | Tensor, optional): Divisor for ``'mean'``.

    Returns:
        Tensor: The reduced loss (element-wise for ``'none'``).
    """
    if weight is not None:
        weight = weight.to(loss.dtype)
        if weight.dim() < loss.dim():  # (M,) per box -> (M, 1)
            weight = weight.reshape(weight.shape + (1, ) *
                                    (loss.dim() - weight.dim()))
        try:
            weight = weight.expand_as(loss)
        except RuntimeError:
            raise ValueError(f'weight of shape {tuple(weight.shape)} does not '
                             f'match the loss of shape {tuple(loss.shape)}')
    if reduction == 'mean' and avg_factor is None and loss.numel() == 0:
        return loss.sum()  # mean of nothing: 0, not NaN
    return weight_reduce_loss(
        loss, weight=weight, reduction=reduction, avg_factor=avg_factor)


def reduce_softmax_loss(
        elementwise: Callable[[Tensor, Tensor], Tensor],
        cls_score: Tensor,
        label: Tensor,
        weight: Optional[Tensor] = None,
        class_weight: Optional[Sequence[float]] = None,
        reduction: str = 'mean',
        avg_factor: Optional[Union[float, Tensor]] = None,
        ignore_index: Optional[int] = 255,
        avg_non_ignore: bool = True) -> Tensor:
    """Evaluate a softmax classification loss the way mmseg/mmdet heads expect.

    Ignored elements (``label == ignore_index``) get loss 0 and, with
    ``avg_non_ignore`` and no ``avg_factor``, are left out of the mean, like
    ``mmseg.CrossEntropyLoss(avg_non_ignore=True)``; with ``class_weight``
    that mean is weighted (divided by the summed class weights of the
    non-ignored elements), again as in mmseg and ``F.cross_entropy``. With
    ``avg_factor`` (mmdet RoI heads) the sum is divided by it instead.
    All-zero ``weight`` returns a zero that keeps ``cls_score`` in the graph
    (mmdet's early return).

    Args:
        elementwise (callable): ``f(logits, label) -> loss`` with logits
            (N, C, ...) (half precision upcast to fp32) and label (N, ...)
            long in [0, C); returns the element loss, shape (N, ...).
        cls_score (Tensor): Logits, shape (N, C) or (N, C, H, W).
        label (Tensor): Class indices, shape (N,) or (N, H, W), long.
        weight (Tensor, optional): Element weights of the shape of ``label``
            (mmdet ``label_weights`` (N,), mmseg ``seg_weight`` (N, H, W)).
        class_weight (list[float], optional): Per-class weight, length C.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor (float | Tensor, optional): Divisor for ``'mean'``.
        ignore_index (int, optional): Label to ignore; None ignores nothing.
        avg_non_ignore (bool): Average over non-ignored elements only when
            ``avg_factor`` is not given. Default True.

    Returns:
        Tensor: Scalar, or the element losses (N, ...) for ``'none'``.
    """
    if (cls_score.dim() != label.dim() + 1
            or cls_score.shape[:1] + cls_score.shape[2:] != label.shape):
        raise ValueError(
            f'cls_score of shape {tuple(cls_score.shape)} (N, C, ...) does '
            f'not match label of shape {tuple(label.shape)} (N, ...)')
    if weight is not None:
        if weight.numel() != label.numel():
            raise ValueError(
                f'weight of shape {tuple(weight.shape)} does not match label '
                f'of shape {tuple(label.shape)}')
        if reduction != 'none' and not torch.any(weight > 0):
            return zero_weight_loss(cls_score, weight.reshape(label.shape))
        weight = weight.reshape(label.shape)

    label = label.long()
    if ignore_index is None:
        valid = torch.ones_like(label, dtype=torch.bool)
    else:
        valid = label != ignore_index
    safe_label = torch.where(valid, label, torch.zeros_like(label))
    loss = elementwise(upcast(cls_score), safe_label)
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    # Per-element class weight; ignored elements count 0 in the mean.
    elem_cw = valid.to(loss.dtype)
    if class_weight is not None:
        cw = loss.new_tensor(class_weight)
        if cw.numel() != cls_score.shape[1]:
            raise ValueError(f'class_weight has {cw.numel()} entries for '
                             f'{cls_score.shape[1]} classes')
        elem_cw = elem_cw * cw[safe_label]
        loss = loss * cw[safe_label]

    if weight is not None:
        weight = weight.to(loss.dtype)
    if reduction == 'mean' and avg_factor is None:
        if avg_non_ignore:
            avg_factor = elem_cw.sum()
        elif loss.numel() == 0:
            return loss.sum()  # mean of nothing: 0, not NaN
    return weight_reduce_loss(
        loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
