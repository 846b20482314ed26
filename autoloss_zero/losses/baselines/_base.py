"""Thin ``nn.Module`` bases of the baseline losses.

:class:`BaseLoss` holds what every baseline shares: the ``reduction``,
``loss_weight`` and ``loss_name`` arguments and the call signature of the
OpenMMLab heads. Its two kinds are

* :class:`BaseSoftmaxLoss`, the classification baselines: subclasses name an
  element-wise function of logits and valid labels; called as ::

    mmseg: loss(seg_logits, seg_label, weight=seg_weight, ignore_index=255)
    mmdet: loss_cls(cls_score, labels, label_weights, avg_factor=...,
                    reduction_override=...)

* :class:`BaseRegressionLoss`, the box-regression baselines: subclasses
  implement the element-wise loss of the residual ``pred - target``; called
  as ::

    mmdet: loss_bbox(bbox_pred, bbox_targets, bbox_weights, avg_factor=...,
                     reduction_override=...)
"""
import functools
import inspect
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from ._reduce import (check_loss_name, check_reduction, reduce_regression_loss,
                      reduce_softmax_loss, upcast, zero_weight_loss)

#: Type of the ``avg_factor`` argument of the heads.
AvgFactor = Optional[Union[float, Tensor]]


class BaseLoss(nn.Module):
    """Arguments and call signature shared by the baselines.

    :meth:`forward` resolves the reduction and hands over to
    :meth:`weighted_loss`, which subclasses implement.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Default 'mean'.
        loss_weight (float): Multiplier of the loss. Default 1.0.
        loss_name (str): Key of the loss in the head's output dict (mmseg);
            must start with ``loss_``.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_baseline') -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)
        self.loss_weight = float(loss_weight)
        self._loss_name = check_loss_name(loss_name)

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: AvgFactor = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): The prediction (logits or box regression), shape
                as in the subclass's :meth:`weighted_loss`.
            target (Tensor): The target (labels or boxes).
            weight (Tensor, optional): Element weights.
            avg_factor (float | Tensor, optional): Divisor for the mean.
            reduction_override (str, optional): Replaces ``self.reduction``.
            **kwargs: Passed on to :meth:`weighted_loss` (the softmax losses
                take ``ignore_index``); others are accepted and unused
                (heads pass extra arguments).

        Returns:
            Tensor: The weighted loss; element-wise for ``reduction='none'``.
        """
        reduction = check_reduction(reduction_override or self.reduction)
        return self.weighted_loss(pred, target, weight, avg_factor, reduction,
                                  **kwargs)

    def weighted_loss(self, pred, target, weight, avg_factor, reduction,
                      **kwargs) -> Tensor:
        """The loss reduced by the valid ``reduction``, times the weight."""
        raise NotImplementedError

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the head's loss dict (``loss_...``)."""
        return self._loss_name


@functools.lru_cache(maxsize=None)
def _hyperparameter_names(fn: Callable) -> Tuple[str, ...]:
    """Parameters of ``fn(cls_score, label, ...)`` after the first two."""
    return tuple(inspect.signature(fn).parameters)[2:]


class BaseSoftmaxLoss(BaseLoss):
    """Common arguments and reduction of the classification baselines.

    Subclasses set :attr:`elementwise_fn`; each of its parameters after
    ``(cls_score, label)`` is read from the module's attribute of that name
    at every call (``ngl_loss(cls_score, label, alpha)`` gets
    ``self.alpha``).

    Args:
        class_weight (list[float], optional): Per-class weights. Default None.
        ignore_index (int, optional): Label excluded from the loss when the
            caller does not pass one (mmseg passes 255, mmdet nothing).
            None ignores nothing. Default 255.
        avg_non_ignore (bool): Without ``avg_factor``, average over the
            non-ignored elements only (as mmseg's ``avg_non_ignore=True``).
            Default True.
        **kwargs: ``reduction``, ``loss_weight``, ``loss_name``, see
            :class:`BaseLoss`; ``loss_name`` defaults to 'loss_cls'.
    """

    #: Element losses ``f(cls_score, label, ...)``: logits (N, C, ...) and
    #: labels (N, ...) in [0, C) to (N, ...).
    elementwise_fn: Callable[..., Tensor]

    def __init__(self,
                 class_weight: Optional[Sequence[float]] = None,
                 ignore_index: Optional[int] = 255,
                 avg_non_ignore: bool = True,
                 loss_name: str = 'loss_cls',
                 **kwargs) -> None:
        super().__init__(loss_name=loss_name, **kwargs)
        self.class_weight = None if class_weight is None else [
            float(w) for w in class_weight]
        self.ignore_index = ignore_index
        self.avg_non_ignore = bool(avg_non_ignore)

    def elementwise(self, cls_score: Tensor, label: Tensor) -> Tensor:
        """Element losses: logits (N, C, ...), labels (N, ...) -> (N, ...)."""
        fn = type(self).elementwise_fn
        return fn(cls_score, label, **{
            name: getattr(self, name)
            for name in _hyperparameter_names(fn)
        })

    def weighted_loss(self, cls_score: Tensor, label: Tensor,
                      weight: Optional[Tensor], avg_factor: AvgFactor,
                      reduction: str, ignore_index: Optional[int] = None,
                      **kwargs) -> Tensor:
        """The loss of :meth:`forward`.

        Args:
            cls_score (Tensor): Logits, shape (N, C) or (N, C, H, W).
            label (Tensor): Class indices, shape (N,) or (N, H, W), long.
            weight (Tensor, optional): Element weights, shape of ``label``.
            avg_factor (float | Tensor, optional): Divisor for the mean.
            reduction (str): The reduction.
            ignore_index (int, optional): Replaces ``self.ignore_index``.
            **kwargs: Accepted and unused.

        Returns:
            Tensor: The weighted loss; (N, ...) for ``reduction='none'``.
        """
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


class BaseRegressionLoss(BaseLoss):
    """Common checks and reduction of the box-regression baselines.

    Subclasses implement :meth:`elementwise` on the residual
    ``pred - target`` (upcast from half precision) and may extend
    :meth:`check_pred` and :meth:`zero_loss`.

    Args:
        **kwargs: ``reduction``, ``loss_weight``, ``loss_name``, see
            :class:`BaseLoss`.
    """

    def elementwise(self, residual: Tensor) -> Tensor:
        """Element losses of the residual, shape of ``residual``."""
        raise NotImplementedError

    def check_pred(self, pred: Tensor) -> None:
        """Raise ``ValueError`` if the loss cannot take ``pred``'s shape."""

    def zero_loss(self, pred: Tensor, weight: Tensor) -> Tensor:
        """The loss of all-zero weights: a zero that keeps the graph."""
        return zero_weight_loss(pred, weight)

    def weighted_loss(self, pred: Tensor, target: Tensor,
                      weight: Optional[Tensor], avg_factor: AvgFactor,
                      reduction: str, **kwargs) -> Tensor:
        """The loss of :meth:`forward`.

        Args:
            pred (Tensor): Predictions, shape (M, 4) (or any shape).
            target (Tensor): Targets, shape of ``pred``.
            weight (Tensor, optional): Weights, shape of ``pred`` or (M,).
            avg_factor (float | Tensor, optional): Divisor for the mean.
            reduction (str): The reduction.
            **kwargs: Accepted and unused.

        Returns:
            Tensor: The weighted loss; element-wise for ``'none'``.
        """
        if pred.shape != target.shape:
            raise ValueError(f'pred of shape {tuple(pred.shape)} does not '
                             f'match target of shape {tuple(target.shape)}')
        self.check_pred(pred)
        if (weight is not None and reduction != 'none'
                and not torch.any(weight > 0)):
            return self.zero_loss(pred, weight)
        loss = self.elementwise(upcast(pred) - upcast(target))
        loss = reduce_regression_loss(
            loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss
