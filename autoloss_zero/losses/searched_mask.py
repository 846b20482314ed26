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
        use_mask: accepted, and ignored, so that the mask head's
            ``CrossEntropyLoss(use_mask=True)`` config carries over.
        loss_name: default ``'loss_mask'``.
        **kwargs: ``loss_weight``, ``branch``: see :class:`SearchedLoss`.
    """

    activation = 'sigmoid'

    def __init__(self, tree: str, use_mask: bool = True, *,
                 loss_name: str = 'loss_mask', **kwargs):
        del use_mask  # this loss is always the per-class mask loss
        super().__init__(tree, loss_name=loss_name, **kwargs)

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
                labels: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Loss of (P, C, S, S) mask logits against (P, S, S) targets.

        mmdet's ``mask_cross_entropy`` reduces by the mean and asserts that
        ``avg_factor`` is None; this module raises a ValueError naming any
        argument it would otherwise ignore.

        Args:
            mask_preds: (P, C, S, S) per-class mask logits.
            mask_targets: (P, S, S) targets in {0, 1}.
            labels: (P,) class of each RoI, selecting its channel.
            weight: must be None (the mask head passes none).
            avg_factor: must be None.
            reduction_override: None or ``'mean'``.

        Returns:
            Tensor: the loss of shape (1,), as mmdet's mask cross-entropy; a
            () zero that keeps the graph alive when P = 0, as mmdet's
            ``FCNMaskHead`` returns then.
        """
        unsupported = dict(kwargs, weight=weight, avg_factor=avg_factor)
        unsupported = sorted(k for k, v in unsupported.items()
                             if v is not None)
        if unsupported or reduction_override not in (None, 'mean'):
            bad = unsupported or [f'reduction_override='
                                  f'{reduction_override!r}']
            raise ValueError(
                f'{type(self).__name__} does not take {bad}: the mask loss '
                'is the mean over all P*S*S elements, as mmdet\'s '
                'mask_cross_entropy (which also refuses weights, avg_factor '
                'and other reductions)')
        canvas = self.to_canvas(mask_preds, mask_targets, labels)
        if mask_preds.shape[0] == 0:
            return mask_preds.sum() * 0
        return self._loss(canvas)[None]
