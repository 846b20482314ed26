"""Searched loss for mmseg decode and auxiliary heads."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from .canvas import Canvas, upcast
from .searched import SearchedLoss


@MODELS.register_module()
class SearchedSegLoss(SearchedLoss):
    """Searched loss for semantic segmentation (mmseg decode/auxiliary heads).

    Called as ``loss(seg_logits, seg_label, weight=None, ignore_index=255)``.
    With C > 1 channels ``yhat`` is the softmax over classes and ``y`` the
    one-hot label; a binary head (C = 1) uses the sigmoid and ``y`` = label.
    The tree ``neg(mul(y,log(yhat)))`` is then exactly mmseg's
    ``CrossEntropyLoss(avg_non_ignore=True)``.

    Note:
        N: batch, C: classes, H, W: label size.

    Args:
        tree: canonical tree string.
        loss_weight: multiplier of the loss.
        loss_name: name of the loss item (``loss_...``).
        avg_non_ignore: average over non-ignored pixels (True) or over all
            pixels like mmseg's default ``CrossEntropyLoss`` (False).
        branch: capture-mode key; defaults to ``loss_name``.
    """

    def __init__(self,
                 tree: str,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_searched',
                 avg_non_ignore: bool = True,
                 branch: Optional[str] = None):
        super().__init__(tree, loss_weight, loss_name, branch)
        self.avg_non_ignore = avg_non_ignore

    def to_canvas(self,
                  seg_logits: Tensor,
                  seg_label: Tensor,
                  weight: Optional[Tensor] = None,
                  ignore_index: int = 255) -> Canvas:
        """Canvas of (N, C, H, W) logits, (N, H, W) labels and weight."""
        if seg_logits.dim() != 4 or seg_label.shape != (
                seg_logits.shape[0], *seg_logits.shape[2:]):
            raise ValueError(
                f'expected seg_logits (N, C, H, W) and seg_label (N, H, W), '
                f'got {tuple(seg_logits.shape)} and {tuple(seg_label.shape)}')
        if weight is not None and weight.shape != seg_label.shape:
            raise ValueError(f'expected weight of shape '
                             f'{tuple(seg_label.shape)} (N, H, W), got '
                             f'{tuple(weight.shape)}')
        logits = upcast(seg_logits)
        valid = seg_label != ignore_index
        safe_label = torch.where(valid, seg_label, 0)
        num_classes = seg_logits.shape[1]
        if num_classes == 1:
            y = safe_label[:, None].to(logits.dtype)
        else:
            y = F.one_hot(safe_label, num_classes).permute(0, 3, 1, 2)
            y = y.to(logits.dtype)
        avg_factor = None if self.avg_non_ignore else float(valid.numel())
        return Canvas(
            logits=logits,
            targets={'y': y},
            weight=None if weight is None else
            weight[:, None].to(logits.dtype),
            valid=valid,
            avg_factor=avg_factor,
            meta={'label': seg_label, 'ignore_index': ignore_index})

    def leaves(self, logits, canvas):
        act = torch.sigmoid if logits.shape[1] == 1 else (
            lambda z: torch.softmax(z, dim=1))
        return {'yhat': act(logits)}

    def forward(self,
                seg_logits: Tensor,
                seg_label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """Scalar loss of (N, C, H, W) logits against (N, H, W) labels."""
        return self._loss(
            self.to_canvas(seg_logits, seg_label, weight, ignore_index))

    def rejection_score(self, canvas, logits, metric='mIoU'):
        """The target segmentation metric of ``logits`` on the canvas."""
        from ..metrics import get_seg_metric

        # (N, C, H, W) scores, or (N, 1, H, W) binary logits thresholded at 0.
        return get_seg_metric(metric or 'mIoU')(
            logits, canvas.meta['label'],
            num_classes=max(2, logits.shape[1]),
            ignore_index=canvas.meta['ignore_index'])
