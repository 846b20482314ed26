"""Searched loss for mmpose heatmap heads."""
from typing import Optional

from mmengine.registry import MODELS
from torch import Tensor

from .canvas import Canvas, upcast
from .searched import SearchedLoss


@MODELS.register_module()
class SearchedHeatmapLoss(SearchedLoss):
    """Searched heatmap loss (``loss_module`` of mmpose's HeatmapHead).

    Called as ``loss(pred, gt_heatmaps, keypoint_weights, mask=None)`` with
    (B, K, H, W) heatmaps, (B, K) keypoint weights (or (B, K, H, W) pixel
    weights) and an optional (B, K or 1, H, W) mask of valid pixels. ``yhat``
    is the raw heatmap (no activation), ``y`` the target heatmap. The value
    is summed over keypoints and averaged over B*H*W, so
    ``square(add(yhat,neg(y)))`` equals K times mmpose's
    ``KeypointMSELoss(use_target_weight=True)``, which averages over K as
    well and weights the squared error by the keypoint weight.

    Note:
        B: batch, K: keypoints, H, W: heatmap size.

    Args:
        tree: canonical tree string.
        use_target_weight: weight each keypoint by ``keypoint_weights``.
        loss_name: default ``'loss_kpt'``.
        **kwargs: ``loss_weight``, ``branch``: see :class:`SearchedLoss`.
    """

    activation = 'identity'

    def __init__(self, tree: str, use_target_weight: bool = True, *,
                 loss_name: str = 'loss_kpt', **kwargs):
        super().__init__(tree, loss_name=loss_name, **kwargs)
        self.use_target_weight = use_target_weight

    def to_canvas(self, pred: Tensor, target: Tensor,
                  keypoint_weights: Optional[Tensor] = None,
                  mask: Optional[Tensor] = None) -> Canvas:
        """Canvas of (B, K, H, W) heatmaps with broadcastable weights."""
        if pred.shape != target.shape or pred.dim() != 4:
            raise ValueError(f'expected pred and target of shape (B, K, H, W),'
                             f' got {tuple(pred.shape)} and '
                             f'{tuple(target.shape)}')
        logits = upcast(pred)
        weight = None
        if keypoint_weights is not None:
            dims = keypoint_weights.dim()
            if dims not in (2, 4) or \
                    keypoint_weights.shape != pred.shape[:dims]:
                raise ValueError(
                    f'expected keypoint_weights of shape '
                    f'{tuple(pred.shape[:2])} or {tuple(pred.shape)}, got '
                    f'{tuple(keypoint_weights.shape)}')
            if self.use_target_weight:
                weight = keypoint_weights.to(logits.dtype)
                weight = weight.view(*weight.shape, *(1, ) * (4 - dims))
        if mask is not None:
            if mask.dim() != 4 or any(m not in (1, p) for m, p in zip(
                    mask.shape, pred.shape)):
                raise ValueError(f'mask of shape {tuple(mask.shape)} does not '
                                 f'broadcast to the heatmaps '
                                 f'{tuple(pred.shape)}')
            mask = mask.to(logits.dtype)
            weight = mask if weight is None else weight * mask
        return Canvas(logits=logits, targets={'y': upcast(target)},
                      weight=weight,
                      meta={'keypoint_weights': keypoint_weights})

    def forward(self, pred: Tensor, target: Tensor,
                keypoint_weights: Optional[Tensor] = None,
                mask: Optional[Tensor] = None) -> Tensor:
        """Loss of (B, K, H, W) predicted against target heatmaps."""
        return self._loss(self.to_canvas(pred, target, keypoint_weights, mask))
