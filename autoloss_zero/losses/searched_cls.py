"""Searched classification losses for mmdet heads (RPN and RoI)."""
from typing import Optional

import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from .canvas import Canvas, upcast
from .searched import SearchedLoss, reduce_with_override


def _row_weight(weight: Optional[Tensor], rows: int,
                like: Tensor) -> Optional[Tensor]:
    """(rows,) or (rows, k) weights as an (rows, 1 or k, 1, 1) float tensor."""
    if weight is None:
        return None
    if weight.dim() == 0 or weight.shape[0] != rows:
        raise ValueError(f'expected {rows} weights (one per row), got shape '
                         f'{tuple(weight.shape)}')
    weight = weight.to(like.dtype)
    # not reshape(rows, -1): that is ambiguous for rows = 0
    weight = weight[:, None] if weight.dim() == 1 else weight.flatten(1)
    return weight[:, :, None, None]


def _check_scores(cls_score: Tensor, labels: Tensor) -> None:
    """ValueError unless cls_score is (M, C) and labels is (M,)."""
    if cls_score.dim() != 2 or labels.shape != cls_score.shape[:1]:
        raise ValueError(f'expected cls_score (M, C) and labels (M,), got '
                         f'{tuple(cls_score.shape)} and '
                         f'{tuple(labels.shape)}')


class _SearchedClsLoss(SearchedLoss):
    """Shared by the mmdet classification losses: one row per anchor/RoI.

    Called as ``loss_cls(cls_score, labels, label_weights, avg_factor=...,
    reduction_override=None)`` with (M, C) logits and (M,) labels on an
    (M, C, 1, 1) canvas. Subclasses fix the activation, the ``use_sigmoid``
    value the heads read, and the one-hot layout of ``y``.
    """

    spatial = False
    use_sigmoid: bool

    def __init__(self, tree: str, use_sigmoid: Optional[bool] = None,
                 loss_weight: float = 1.0, loss_name: str = 'loss_cls',
                 branch: Optional[str] = None):
        if use_sigmoid is not None and use_sigmoid != self.use_sigmoid:
            other = ('SearchedSoftmaxClsLoss' if use_sigmoid is False else
                     'SearchedSigmoidClsLoss')
            raise ValueError(
                f'{type(self).__name__} needs use_sigmoid='
                f'{self.use_sigmoid}, got {use_sigmoid}; use {other} for '
                f'{"softmax" if use_sigmoid is False else "sigmoid"} heads')
        super().__init__(tree, loss_weight, loss_name, branch)

    def one_hot(self, labels: Tensor, channels: int) -> Tensor:
        """(M, C) targets of (M,) labels."""
        raise NotImplementedError

    def to_canvas(self, cls_score: Tensor, labels: Tensor,
                  weight: Optional[Tensor] = None,
                  avg_factor: Optional[float] = None) -> Canvas:
        """Canvas of (M, C) logits and (M,) labels with (M,) weights."""
        _check_scores(cls_score, labels)
        rows, channels = cls_score.shape
        logits = upcast(cls_score)[:, :, None, None]
        y = self.one_hot(labels.long(), channels).to(logits.dtype)
        return Canvas(
            logits=logits,
            targets={'y': y[:, :, None, None]},
            weight=_row_weight(weight, rows, logits),
            avg_factor=avg_factor,
            meta={'labels': labels, 'weight': weight})

    def forward(self, cls_score: Tensor, labels: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Loss of (M, C) logits against (M,) labels with (M,) weights."""
        canvas = self.to_canvas(cls_score, labels, weight, avg_factor)
        return reduce_with_override(self, canvas, reduction_override)


@MODELS.register_module()
class SearchedSoftmaxClsLoss(_SearchedClsLoss):
    """Searched loss for softmax classification (mmdet RoI bbox head).

    ``cls_score`` (R, C+1) logits, labels in [0, C] (C = background).
    ``yhat`` = softmax, ``y`` = one-hot label; ``neg(mul(y,log(yhat)))``
    equals mmdet's ``CrossEntropyLoss``.

    Args:
        tree: canonical tree string.
        use_sigmoid: False or None (the head reads this key).
        loss_weight, loss_name, branch: see :class:`SearchedLoss`.
    """

    activation = 'softmax'
    use_sigmoid = False

    def one_hot(self, labels, channels):
        return F.one_hot(labels, channels)


@MODELS.register_module()
class SearchedSigmoidClsLoss(_SearchedClsLoss):
    """Searched loss for sigmoid classification (mmdet RPN head).

    ``cls_score`` (M, C) logits, labels in [0, C] where C means background
    (RPN: C = 1, label 0 = foreground). ``yhat`` = sigmoid, ``y`` = one-hot
    label without the background column; the rejection metric counts a
    score > 0 as foreground. Binary CE is the tree
    ``neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),log(add(1,neg(yhat))))))``.

    Args:
        tree: canonical tree string.
        use_sigmoid: True or None (the RPN head reads this key).
        loss_weight, loss_name, branch: see :class:`SearchedLoss`.
    """

    activation = 'sigmoid'
    use_sigmoid = True

    def one_hot(self, labels, channels):
        return F.one_hot(labels, channels + 1)[:, :channels]
