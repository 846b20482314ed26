"""Searched classification losses for mmdet heads (RPN and RoI)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from .canvas import Canvas, elementwise_on_canvas, upcast
from .searched import SearchedLoss

_REDUCTIONS = ('none', 'mean', 'sum')


def reduce_per_row(module: SearchedLoss, canvas: Canvas,
                   reduction_override: Optional[str]) -> Tensor:
    """Loss with mmdet's ``reduction_override`` semantics.

    ``None``/``'mean'``: the canvas reduction (sum over C, divided by
    avg_factor or the number of rows); ``'sum'``: the plain sum (avg_factor
    is not used); ``'none'``: the (N,) per-row losses, summed over C (for
    box regression, the row sums of mmdet's (P, 4) ``'none'`` output). All
    scaled by ``loss_weight``. Only the default reduction is recorded in
    capture mode.

    Args:
        module: the searched loss (its tree and ``loss_weight``).
        canvas: the head call on an (N, C, 1, 1) canvas.
        reduction_override: None, ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
        Tensor: a scalar, or (N,) for ``'none'``.
    """
    if reduction_override not in (None, *_REDUCTIONS):
        raise ValueError(f'reduction_override must be one of {_REDUCTIONS} '
                         f'or None, got {reduction_override!r}')
    if reduction_override in (None, 'mean'):
        return module._loss(canvas)
    value = elementwise_on_canvas(module.tree, canvas,
                                  module.leaves(canvas.logits, canvas))
    rows = value.flatten(1).sum(dim=1)
    if canvas.valid is not None:
        rows = torch.where(canvas.valid.flatten(1).all(1), rows, 0)
    out = rows if reduction_override == 'none' else rows.sum()
    return module.loss_weight * out


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


@MODELS.register_module()
class SearchedSoftmaxClsLoss(SearchedLoss):
    """Searched loss for softmax classification (mmdet RoI bbox head).

    Called as ``loss_cls(cls_score, labels, label_weights, avg_factor=...,
    reduction_override=None)`` with ``cls_score`` (R, C+1) logits and labels
    in [0, C] (C = background). ``yhat`` = softmax, ``y`` = one-hot label, on
    an (R, C+1, 1, 1) canvas; ``neg(mul(y,log(yhat)))`` equals mmdet's
    ``CrossEntropyLoss``.

    Args:
        tree: canonical tree string.
        use_sigmoid: must be False (the head reads this key).
        loss_weight, loss_name, branch: see :class:`SearchedLoss`.
    """

    activation = 'softmax'
    spatial = False

    def __init__(self, tree: str, use_sigmoid: bool = False,
                 loss_weight: float = 1.0, loss_name: str = 'loss_cls',
                 branch: Optional[str] = None):
        if use_sigmoid:
            raise ValueError('SearchedSoftmaxClsLoss needs use_sigmoid=False; '
                             'use SearchedSigmoidClsLoss for sigmoid heads')
        super().__init__(tree, loss_weight, loss_name, branch)
        self.use_sigmoid = False

    def to_canvas(self, cls_score: Tensor, labels: Tensor,
                  weight: Optional[Tensor] = None,
                  avg_factor: Optional[float] = None) -> Canvas:
        """Canvas of (R, C+1) logits and (R,) labels."""
        _check_scores(cls_score, labels)
        rows, channels = cls_score.shape
        logits = upcast(cls_score)[:, :, None, None]
        y = F.one_hot(labels.long(), channels).to(logits.dtype)
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
        """Loss of (R, C+1) logits against (R,) labels with (R,) weights."""
        canvas = self.to_canvas(cls_score, labels, weight, avg_factor)
        return reduce_per_row(self, canvas, reduction_override)

    def rejection_score(self, canvas, logits, metric=None):
        """Accuracy on rows of non-zero weight."""
        from ..metrics import classification_accuracy
        return classification_accuracy(logits[:, :, 0, 0],
                                       canvas.meta['labels'],
                                       canvas.meta['weight'])


@MODELS.register_module()
class SearchedSigmoidClsLoss(SearchedLoss):
    """Searched loss for sigmoid classification (mmdet RPN head).

    Called as ``loss_cls(cls_score, labels, label_weights, avg_factor=...)``
    with ``cls_score`` (M, C) logits and labels in [0, C], where C means
    background (RPN: C = 1, label 0 = foreground). ``yhat`` = sigmoid,
    ``y`` = one-hot label without the background column, on an (M, C, 1, 1)
    canvas. Binary CE is the tree
    ``neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),log(add(1,neg(yhat))))))``.

    Args:
        tree: canonical tree string.
        use_sigmoid: must be True (the RPN head reads this key).
        loss_weight, loss_name, branch: see :class:`SearchedLoss`.
    """

    activation = 'sigmoid'
    spatial = False

    def __init__(self, tree: str, use_sigmoid: bool = True,
                 loss_weight: float = 1.0, loss_name: str = 'loss_cls',
                 branch: Optional[str] = None):
        if not use_sigmoid:
            raise ValueError('SearchedSigmoidClsLoss needs use_sigmoid=True; '
                             'use SearchedSoftmaxClsLoss for softmax heads')
        super().__init__(tree, loss_weight, loss_name, branch)
        self.use_sigmoid = True

    def to_canvas(self, cls_score: Tensor, labels: Tensor,
                  weight: Optional[Tensor] = None,
                  avg_factor: Optional[float] = None) -> Canvas:
        """Canvas of (M, C) logits and (M,) labels (C = background)."""
        _check_scores(cls_score, labels)
        rows, channels = cls_score.shape
        logits = upcast(cls_score)[:, :, None, None]
        y = F.one_hot(labels.long(), channels + 1)[:, :channels]
        return Canvas(
            logits=logits,
            targets={'y': y.to(logits.dtype)[:, :, None, None]},
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
        return reduce_per_row(self, canvas, reduction_override)

    def rejection_score(self, canvas, logits, metric=None):
        """Accuracy on rows of non-zero weight (score > 0 = foreground)."""
        from ..metrics import classification_accuracy
        return classification_accuracy(logits[:, :, 0, 0],
                                       canvas.meta['labels'],
                                       canvas.meta['weight'])
