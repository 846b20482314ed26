"""Searched loss for the mmdet FCN mask head."""
from typing import Optional

import torch
from mmengine.registry import MODELS
from torch import Tensor

from .canvas import Canvas, upcast
from .searched import SearchedLoss


@MODELS.register_module()
class SearchedMaskLoss(SearchedLoss):
    """Searched per-class mask loss (``loss_mask`` of mmdet's FCNMaskHead).

    Called as ``loss_mask(mask_preds, mask_targets, labels)`` with
    (P, C, S, S) logits, (P, S, S) targets in {0, 1} and (P,) class labels:
    the third argument selects each RoI's class channel (it is not a weight).
    ``yhat`` = sigmoid of the selected (P, 1, S, S) logits and ``y`` the
    target; the mean is over all P*S*S elements, so the binary-CE tree equals
    mmdet's mask cross-entropy.

    Args:
        tree: canonical tree string.
        use_mask: accepted for config compatibility with ``CrossEntropyLoss``.
        loss_weight, loss_name, branch: see :class:`SearchedLoss`.
    """

    activation = 'sigmoid'

    def __init__(self, tree: str, use_mask: bool = True,
                 loss_weight: float = 1.0, loss_name: str = 'loss_mask',
                 branch: Optional[str] = None):
        super().__init__(tree, loss_weight, loss_name, branch)
        self.use_mask = use_mask

    def to_canvas(self, mask_preds: Tensor, mask_targets: Tensor,
                  labels: Tensor) -> Canvas:
        """Canvas of the label-selected (P, 1, S, S) logits."""
        if mask_preds.dim() != 4 or mask_targets.shape != (
                mask_preds.shape[0], *mask_preds.shape[2:]):
            raise ValueError(
                f'expected mask_preds (P, C, S, S) and mask_targets (P, S, S),'
                f' got {tuple(mask_preds.shape)} and '
                f'{tuple(mask_targets.shape)}')
        if labels.shape != mask_preds.shape[:1]:
            raise ValueError(f'expected labels of shape '
                             f'({mask_preds.shape[0]},) (one class per RoI), '
                             f'got {tuple(labels.shape)}')
        rows = torch.arange(mask_preds.shape[0], device=mask_preds.device)
        selected = upcast(mask_preds[rows, labels.long()][:, None])
        return Canvas(logits=selected,
                      targets={'y': mask_targets[:, None].to(selected.dtype)})

    def forward(self, mask_preds: Tensor, mask_targets: Tensor,
                labels: Tensor, weight=None, avg_factor=None,
                reduction_override=None, **kwargs) -> Tensor:
        """Loss of (P, C, S, S) mask logits against (P, S, S) targets.

        Args:
            mask_preds: (P, C, S, S) per-class mask logits.
            mask_targets: (P, S, S) targets in {0, 1}.
            labels: (P,) class of each RoI, selecting its channel.
            weight, avg_factor, reduction_override: accepted for signature
                compatibility with mmdet's ``CrossEntropyLoss``; unused.

        Returns:
            Tensor: the scalar loss; a zero that keeps the graph alive when
            P = 0.
        """
        canvas = self.to_canvas(mask_preds, mask_targets, labels)
        if mask_preds.shape[0] == 0:
            return mask_preds.sum() * 0
        return self._loss(canvas)

    def rejection_score(self, canvas, logits, metric=None):
        """Mask IoU of ``logits > 0`` against the targets."""
        from ..metrics import mask_iou
        return mask_iou(logits[:, 0], canvas.targets['y'][:, 0])
