"""Label-map primitives shared by the segmentation metrics.

Validity masking, per-class pixel counts, square-window reductions (dilation,
erosion, max / min pooling) and the confusion-matrix areas, all on integer
(N, H, W) label maps, vectorised, on the input's device.
"""
from typing import Callable, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

#: Label value that marks a pixel outside every class mask.
OUTSIDE = -1


def check_boundary_width(boundary_width: int,
                         name: str = 'boundary_width') -> int:
    """``boundary_width`` if it is an int >= 1, else raise ValueError.

    Args:
        boundary_width (int): a band width, radius or tolerance in pixels.
        name (str): the argument's name, for the message.
    """
    if isinstance(boundary_width, bool) or not isinstance(
            boundary_width, int) or boundary_width < 1:
        raise ValueError(
            f'{name} must be an int >= 1 (pixels), got {boundary_width!r}')
    return boundary_width


def restrict_to_valid(pred_label: Tensor, label: Tensor, num_classes: int,
                      ignore_index: int = 255) -> Tuple[Tensor, Tensor]:
    """Mark invalid pixels as outside every mask in both label maps.

    Args:
        pred_label (Tensor): predicted labels (N, H, W), integer.
        label (Tensor): ground-truth labels (N, H, W), integer, with
            ``ignore_index`` for ignored pixels.
        num_classes (int): number of classes C.
        ignore_index (int): the ignore label. Defaults to 255.

    Returns:
        tuple[Tensor, Tensor]: ``(pred, gt)``, int64 (N, H, W). ``gt`` is -1
        on invalid pixels; ``pred`` is -1 there too, and ``C`` (a class of no
        interest that is always wrong) where the prediction lies outside
        ``[0, C)``.
    """
    label = label.long()
    pred_label = pred_label.long()
    valid = (label != ignore_index) & (label >= 0) & (label < num_classes)
    outside = torch.full_like(label, OUTSIDE)
    gt = torch.where(valid, label, outside)
    pred_in_range = (pred_label >= 0) & (pred_label < num_classes)
    pred = torch.where(pred_in_range, pred_label,
                       torch.full_like(pred_label, num_classes))
    pred = torch.where(valid, pred, outside)
    return pred, gt


def class_counts(values: Tensor, mask: Tensor, num_classes: int) -> Tensor:
    """Per-class number of pixels in ``mask``: ``bincount(values[mask])``.

    Values outside ``[0, C)`` are not counted. Works without a boolean
    gather, so it does not synchronise a GPU.

    Returns:
        Tensor: int64 counts of shape (C,).
    """
    keep = mask & (values >= 0) & (values < num_classes)
    index = torch.where(keep, values, torch.full_like(values, num_classes))
    return torch.bincount(index.flatten(),
                          minlength=num_classes + 1)[:num_classes]


def window_reduce(padded: Tensor, width: int,
                  op: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """Reduce every (2w+1)×(2w+1) window of a padded map with ``op``.

    Max-pooling (``op=torch.maximum``), min-pooling (``torch.minimum``) or
    binary dilation (``torch.logical_or``) with a square window, done as
    2·(2w+1) element-wise ``op`` calls on shifted views (rows, then columns).
    This keeps any dtype exact and is several times faster on CPU than
    ``F.max_pool2d``, which also needs floats.

    Args:
        padded (Tensor): (..., H + 2w, W + 2w) map, padded by ``w`` on each
            side with the value that positions beyond the frame should have.
        width (int): window radius w >= 0.
        op (callable): associative, commutative element-wise binary op.

    Returns:
        Tensor: (..., H, W); entry (y, x) reduces ``padded`` over rows
        ``y .. y + 2w`` and columns ``x .. x + 2w``.
    """
    height = padded.shape[-2] - 2 * width
    breadth = padded.shape[-1] - 2 * width
    rows = padded[..., :breadth]
    for shift in range(1, 2 * width + 1):
        rows = op(rows, padded[..., shift:shift + breadth])
    out = rows[..., :height, :]
    for shift in range(1, 2 * width + 1):
        out = op(out, rows[..., shift:shift + height, :])
    return out


def dilate(mask: Tensor, radius: int) -> Tensor:
    """Binary dilation of (..., H, W) masks by a (2r+1)×(2r+1) square.

    Positions beyond the frame count as False (like max pooling, whose
    padding never wins). ``radius`` 0 returns the mask unchanged.
    """
    if radius == 0:
        return mask
    return window_reduce(F.pad(mask, (radius, ) * 4, value=False), radius,
                         torch.logical_or)


def confusion_areas(pred_label: Tensor, label: Tensor, num_classes: int,
                    ignore_index: int = 255
                    ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-class areas from a ``bincount`` confusion matrix.

    Same layout and values as mmseg's ``IoUMetric.intersect_and_union``
    (which works on one image; this pools any batch): intersection
    ``|P_c ∩ G_c|``, union ``|P_c ∪ G_c|``, prediction ``|P_c|``, label
    ``|G_c|`` over valid pixels. A predicted label outside ``[0, C)`` counts
    as wrong.

    Args:
        pred_label (Tensor): predicted labels (N, H, W), integer.
        label (Tensor): ground-truth labels (N, H, W), integer.
        num_classes (int): number of classes C.
        ignore_index (int): the ignore label. Defaults to 255.

    Returns:
        tuple[Tensor, ...]: ``(intersect, union, pred, label)`` int64 (C,).
    """
    pred, gt = restrict_to_valid(pred_label, label, num_classes, ignore_index)
    cols = num_classes + 1  # last column: predictions outside [0, C)
    trash = num_classes * cols  # one extra bin for invalid pixels
    index = torch.where(gt >= 0, gt * cols + pred, torch.full_like(gt, trash))
    confusion = torch.bincount(index.flatten(), minlength=trash + 1)
    confusion = confusion[:trash].view(num_classes, cols)
    area_intersect = confusion.diagonal()
    area_label = confusion.sum(dim=1)
    area_pred = confusion[:, :num_classes].sum(dim=0)
    area_union = area_label + area_pred - area_intersect
    return area_intersect, area_union, area_pred, area_label
