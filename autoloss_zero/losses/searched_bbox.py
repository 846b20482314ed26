"""Searched box-regression loss for mmdet RPN and RoI heads."""
from typing import Optional

import torch
from mmengine.registry import MODELS
from torch import Tensor

from .canvas import Canvas, upcast
from .searched import SearchedLoss, reduce_with_override

_MODES = ('deltas', 'iou')


def box_areas(pred: Tensor, target: Tensor, eps: float = 1e-6):
    """Intersection, union and enclosing-box areas of (P, 4) x1y1x2y2 boxes.

    Returns:
        three (P,) tensors; widths are clamped at 0, so degenerate predicted
        boxes give zero intersection rather than negative areas.
    """
    lt = torch.max(pred[:, :2], target[:, :2])
    rb = torch.min(pred[:, 2:], target[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=1)
    area_p = (pred[:, 2:] - pred[:, :2]).clamp(min=0).prod(dim=1)
    area_t = (target[:, 2:] - target[:, :2]).clamp(min=0).prod(dim=1)
    union = (area_p + area_t - inter).clamp(min=eps)
    enclose_lt = torch.min(pred[:, :2], target[:, :2])
    enclose_rb = torch.max(pred[:, 2:], target[:, 2:])
    enclose = (enclose_rb - enclose_lt).clamp(min=0).prod(dim=1).clamp(
        min=eps)
    return inter, union, enclose


@MODELS.register_module()
class SearchedBoxLoss(SearchedLoss):
    """Searched loss for box regression (``loss_bbox`` of RPN / RoI heads).

    Called as ``loss_bbox(pred, target, weight, avg_factor=...,
    reduction_override=None)`` with (P, 4) boxes and (P, 4) or (P,) weights.

    * ``mode='deltas'``: leaves ``yhat`` (predicted deltas, or boxes when the
      head decodes), ``y`` (targets) and ``1`` on a (P, 4, 1, 1) canvas;
      ``abs(add(yhat,neg(y)))`` is mmdet's ``L1Loss``.
    * ``mode='iou'`` (needs ``reg_decoded_bbox=True``): leaves ``i``, ``u``,
      ``e`` (intersection, union, enclosing-box areas of the decoded boxes)
      and ``1`` on a (P, 1, 1, 1) canvas; ``add(1,neg(mul(i,inv(u))))`` is
      ``IoULoss(mode='linear')`` and GIoU is expressible too.

    Rows of zero weight (RPN negatives, whose targets are zeros) are excluded
    from value and gradient, so the loss stays finite there.

    Args:
        tree: canonical tree string.
        mode: ``'deltas'`` or ``'iou'``.
        loss_weight, loss_name, branch: see :class:`SearchedLoss`.
    """

    activation = 'identity'
    spatial = False

    def __init__(self, tree: str, mode: str = 'deltas',
                 loss_weight: float = 1.0, loss_name: str = 'loss_bbox',
                 branch: Optional[str] = None):
        if mode not in _MODES:
            raise ValueError(f'mode must be one of {_MODES}, got {mode!r}')
        self.mode = mode
        self.leaf_names = (('yhat', 'y', '1') if mode == 'deltas' else
                           ('i', 'u', 'e', '1'))
        super().__init__(tree, loss_weight, loss_name, branch)

    def to_canvas(self, pred: Tensor, target: Tensor,
                  weight: Optional[Tensor] = None,
                  avg_factor: Optional[float] = None) -> Canvas:
        """Canvas of (P, 4) predictions and targets."""
        if pred.shape != target.shape or pred.dim() != 2 or \
                pred.shape[1] != 4:
            raise ValueError(f'expected pred and target of shape (P, 4), got '
                             f'{tuple(pred.shape)} and {tuple(target.shape)}')
        rows = pred.shape[0]
        if weight is not None:
            if weight.shape not in ((rows, ), (rows, 4)):
                raise ValueError(f'expected weight of shape ({rows},) or '
                                 f'({rows}, 4), got {tuple(weight.shape)}')
            weight = weight.to(upcast(pred).dtype)
            if weight.dim() == 1:  # not reshape(rows, -1): rows may be 0
                weight = weight[:, None]
            if self.mode == 'iou':  # as mmdet's IoULoss: mean over coords
                weight = weight.mean(dim=1, keepdim=True)
            weight = weight[:, :, None, None]
        target = upcast(target)
        # In 'iou' mode y is no leaf: the areas are computed from the boxes.
        targets = {'y': target[:, :, None, None]} if self.mode == 'deltas' \
            else {}
        return Canvas(
            logits=upcast(pred)[:, :, None, None],
            targets=targets,
            weight=weight,
            avg_factor=avg_factor,
            meta={'target': target})

    def leaves(self, logits, canvas, logs=True):
        if self.mode == 'deltas':
            return {'yhat': logits}
        inter, union, enclose = box_areas(logits[:, :, 0, 0],
                                          canvas.meta['target'])
        return {'i': inter[:, None, None, None],
                'u': union[:, None, None, None],
                'e': enclose[:, None, None, None]}

    def forward(self, pred: Tensor, target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Loss of (P, 4) predictions against (P, 4) targets.

        Args:
            pred: (P, 4) predicted deltas, or decoded boxes.
            target: (P, 4) targets in the same encoding.
            weight: (P, 4) or (P,) weights; zero rows are excluded.
            avg_factor: the normaliser (mmdet passes it).
            reduction_override: None, ``'none'``, ``'mean'`` or ``'sum'``.

        Returns:
            Tensor: the scalar loss ((P,) per-row losses for ``'none'``); a
            zero that keeps the graph alive when P = 0.
        """
        canvas = self.to_canvas(pred, target, weight, avg_factor)
        if pred.shape[0] == 0:
            zero = pred.sum(dim=1) * 0
            return zero if reduction_override == 'none' else zero.sum()
        return reduce_with_override(self, canvas, reduction_override)
