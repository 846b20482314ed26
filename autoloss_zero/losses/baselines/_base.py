"""Thin ``nn.Module`` base for the softmax classification baselines.

Subclasses implement :meth:`elementwise` (logits and valid labels in, element
losses out); this base gives them the call signature that both mmseg decode
heads and mmdet RoI heads use::

    mmseg: loss(seg_logits, seg_label, weight=seg_weight, ignore_index=255)
    mmdet: loss_cls(cls_score, labels, label_weights, avg_factor=...,
                    reduction_override=...)
"""
from typing import Optional, Sequence, Union

import torch.nn as nn
from torch import Tensor

from ._reduce import check_loss_name, check_reduction, reduce_softmax_loss


class BaseSoftmaxLoss(nn.Module):
    """Common constructor and ``forward`` of the classification baselines.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Default 'mean'.
        loss_weight (float): Multiplier of the loss. Default 1.0.
        class_weight (list[float], optional): Per-class weights. Default None.
        ignore_index (int, optional): Label excluded from the loss when the
            caller does not pass one (mmseg passes 255, mmdet nothing).
            None ignores nothing. Default 255.
        avg_non_ignore (bool): Without ``avg_factor``, average over the
            non-ignored elements only (as mmseg's ``avg_non_ignore=True``).
            Default True.
        loss_name (str): Key of the loss in the head's output dict (mmseg);
            must start with ``loss_``.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 class_weight: Optional[Sequence[float]] = None,
                 ignore_index: Optional[int] = 255,
                 avg_non_ignore: bool = True,
                 loss_name: str = 'loss_cls') -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)
        self.loss_weight = float(loss_weight)
        self.class_weight = None if class_weight is None else [
            float(w) for w in class_weight]
        self.ignore_index = ignore_index
        self.avg_non_ignore = bool(avg_non_ignore)
        self._loss_name = check_loss_name(loss_name)

    def elementwise(self, cls_score: Tensor, label: Tensor) -> Tensor:
        """Element losses: logits (N, C, ...), labels (N, ...) -> (N, ...)."""
        raise NotImplementedError

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        """Compute the loss.

        Args:
            cls_score (Tensor): Logits, shape (N, C) or (N, C, H, W).
            label (Tensor): Class indices, shape (N,) or (N, H, W), long.
            weight (Tensor, optional): Element weights, shape of ``label``.
            avg_factor (float | Tensor, optional): Divisor for the mean.
            reduction_override (str, optional): Replaces ``self.reduction``.
            ignore_index (int, optional): Replaces ``self.ignore_index``.
            **kwargs: Accepted and unused (heads pass extra arguments).

        Returns:
            Tensor: The weighted loss; (N, ...) for ``reduction='none'``.
        """
        reduction = check_reduction(reduction_override or self.reduction)
        if ignore_index is None:
            ignore_index = self.ignore_index
        loss = reduce_softmax_loss(
            self.elementwise,
            cls_score,
            label,
            weight=weight,
            class_weight=self.class_weight,
            reduction=reduction,
            avg_factor=avg_factor,
            ignore_index=ignore_index,
            avg_non_ignore=self.avg_non_ignore)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the head's loss dict (``loss_...``)."""
        return self._loss_name
