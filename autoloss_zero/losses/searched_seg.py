"""Searched loss for mmseg decode and auxiliary heads."""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ..graph import prediction_leaves
from .canvas import Canvas, upcast
from .searched import SearchedLoss, reduce_with_override


@MODELS.register_module()
class SearchedSegLoss(SearchedLoss):
    """Searched loss for semantic segmentation (mmseg decode/auxiliary heads).

    Called as ``loss(seg_logits, seg_label, weight=None, ignore_index=255,
    avg_factor=None, reduction_override=None)``, the arguments of mmseg's
    ``CrossEntropyLoss``. With C > 1 channels ``yhat`` is the softmax over
    classes and ``y`` the one-hot label; a binary head (C = 1) uses the
    sigmoid and ``y`` = label. The tree ``neg(mul(y,log(yhat)))`` is then
    exactly mmseg's ``CrossEntropyLoss(avg_non_ignore=True)``, also with
    ``class_weight``, pixel weights (negative ones included), ``avg_factor``
    and every ``reduction_override``.

    Note:
        N: batch, C: classes, H, W: label size.

    Args:
        tree: canonical tree string.
        loss_weight: multiplier of the loss.
        loss_name: name of the loss item (``loss_...``).
        avg_non_ignore: average over non-ignored pixels (True) or over all
            pixels like mmseg's default ``CrossEntropyLoss`` (False).
        branch: capture-mode key; defaults to ``loss_name``.
        class_weight: C weights; a pixel's loss is multiplied by the weight
            of its label class and the mean divides by the sum of those
            weights over the non-ignored pixels (mmseg's cross-entropy, i.e.
            torch's weighted mean), unless ``avg_factor`` is given. Not for
            binary (C = 1) heads.
    """

    def __init__(self,
                 tree: str,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_searched',
                 avg_non_ignore: bool = True,
                 branch: Optional[str] = None,
                 class_weight: Optional[Sequence[float]] = None):
        super().__init__(tree, loss_weight, loss_name, branch)
        self.avg_non_ignore = avg_non_ignore
        if class_weight is not None and (isinstance(class_weight, str) or
                                         len(class_weight) == 0):
            raise ValueError('class_weight must be a non-empty sequence of '
                             f'floats (one per class), got {class_weight!r}')
        self.class_weight = None if class_weight is None else [
            float(w) for w in class_weight]

    def to_canvas(self,
                  seg_logits: Tensor,
                  seg_label: Tensor,
                  weight: Optional[Tensor] = None,
                  ignore_index: int = 255,
                  avg_factor: Optional[Union[float, Tensor]] = None
                  ) -> Canvas:
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
        pixel_weight = None if weight is None else weight.to(logits.dtype)
        if self.class_weight is not None:
            if num_classes == 1 or len(self.class_weight) != num_classes:
                raise ValueError(
                    f'class_weight has {len(self.class_weight)} entries but '
                    f'the head has {num_classes} channel(s); give one weight '
                    'per class (binary C = 1 heads take none)')
            by_label = logits.new_tensor(self.class_weight)[safe_label]
            pixel_weight = by_label if pixel_weight is None else (
                by_label * pixel_weight)
            if avg_factor is None:
                avg_factor = torch.where(valid, by_label, 0).sum()
        if avg_factor is None and not self.avg_non_ignore:
            avg_factor = float(valid.numel())
        return Canvas(
            logits=logits,
            targets={'y': y},
            weight=None if pixel_weight is None else pixel_weight[:, None],
            valid=valid,
            avg_factor=avg_factor,
            meta={'label': seg_label, 'ignore_index': ignore_index})

    def leaves(self, logits, canvas, logs=True):
        activation = 'sigmoid' if logits.shape[1] == 1 else 'softmax'
        return prediction_leaves(logits, activation, logs=logs)

    def forward(self,
                seg_logits: Tensor,
                seg_label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = 255,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Loss of (N, C, H, W) logits against (N, H, W) labels.

        Args:
            seg_logits: (N, C, H, W) logits, resized to the label.
            seg_label: (N, H, W) labels, ``ignore_index`` where ignored.
            weight: (N, H, W) pixel weights or None.
            ignore_index: the ignore label. Defaults to 255.
            avg_factor: the normaliser of the mean, replacing the count of
                (non-ignored) pixels.
            reduction_override: None / ``'mean'``, ``'sum'`` or ``'none'``
                (the (N, H, W) pixel losses, 0 where ignored).

        Returns:
            Tensor: the loss, scaled by ``loss_weight``.

        Raises:
            ValueError: on any other keyword argument (named), or bad shapes.
        """
        if kwargs:
            raise ValueError(
                f'{type(self).__name__} got unexpected argument(s) '
                f'{sorted(kwargs)}; it takes weight, ignore_index, '
                'avg_factor and reduction_override, as mmseg\'s '
                'CrossEntropyLoss (class_weight is a config argument)')
        canvas = self.to_canvas(seg_logits, seg_label, weight, ignore_index,
                                avg_factor)
        return reduce_with_override(self, canvas, reduction_override)
