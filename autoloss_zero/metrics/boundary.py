"""Boundary bands and contour matching on label maps, by window max / min.

Definitions (the width ``d`` is ``boundary_width``, default 3 px; distances
are chessboard (Chebyshev) distances, as produced by ``d`` erosions with a
3×3 square, the structuring element of the Boundary IoU reference code):

* **Valid pixels** are those whose ground-truth label is neither
  ``ignore_index`` nor outside ``[0, C)``. Both maps are restricted to them: an
  ignored pixel belongs to no class mask, in the label *and* the prediction,
  so nothing the model predicts there can change a score.
* **Inner boundary band** of a class mask ``M_c``:
  ``B_d(M_c) = M_c \\ erode_d(M_c)``: the pixels of ``M_c`` whose
  (2d+1)×(2d+1) window holds a pixel outside ``M_c``: a pixel of another
  class, an ignored pixel, or a position beyond the image frame. Counting the
  frame as a contour follows the reference implementation of Boundary IoU
  (Cheng et al., CVPR 2021; its ``mask_to_boundary`` zero-pads the mask "so
  mask truncated by the image border is also considered as boundary"); it
  guarantees that every non-empty mask has a non-empty band. For all classes
  at once: ``p ∈ B_d`` iff ``max ≠ min`` of the label map over the window of
  ``p`` (max-pooling and min-pooling, i.e. dilation and erosion, computed by
  :func:`window_reduce`).
* **Contour** of ``M_c``: its 1-px inner band ``B_1(M_c)``.

Boundary IoU (Cheng et al. 2021) of class ``c`` is
``|B_d(G_c) ∩ B_d(P_c)| / |B_d(G_c) ∪ B_d(P_c)|`` (``G_d ∩ G`` in the paper's
notation is ``B_d(G)``), see :func:`boundary_iou_areas`. Boundary F1 (Csurka
et al., "What is a good evaluation measure for semantic segmentation?", BMVC
2013) matches contour pixels within distance ``d``, see
:func:`contour_match_counts` and
:func:`autoloss_zero.metrics.formulas.class_boundary_f1`.

Counts from several batches or images add up (the scores are computed once
from the totals), which is how :class:`DenseSegMetric` accumulates them.
"""
from typing import Callable, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

#: Label value that marks a pixel outside every class mask.
_OUTSIDE = -1
#: Upper bound on the elements of one per-class one-hot block (bool).
_CHUNK_ELEMENTS = 1 << 25


def check_boundary_width(boundary_width: int) -> int:
    """``boundary_width`` if it is an int >= 1, else raise ValueError."""
    if isinstance(boundary_width, bool) or not isinstance(
            boundary_width, int) or boundary_width < 1:
        raise ValueError(
            f'boundary_width must be an int >= 1 (pixels), got '
            f'{boundary_width!r}')
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
    outside = torch.full_like(label, _OUTSIDE)
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


def boundary_band(label_map: Tensor, width: int) -> Tensor:
    """Inner boundary band ``B_d`` of every class mask of a label map.

    Args:
        label_map (Tensor): labels (N, H, W), integer; negative values are
            outside every mask (see :func:`restrict_to_valid`).
        width (int): band width d >= 1 in pixels.

    Returns:
        Tensor: bool (N, H, W), True on pixel ``p`` with a label >= 0 whose
        (2d+1)×(2d+1) window contains a different label or crosses the frame.
    """
    check_boundary_width(width)
    if label_map.dim() != 3:
        raise ValueError('label_map must have shape (N, H, W), got '
                         f'{tuple(label_map.shape)}')
    padded = F.pad(label_map, (width, ) * 4, value=_OUTSIDE)
    high = window_reduce(padded, width, torch.maximum)
    low = window_reduce(padded, width, torch.minimum)
    return (high != low) & (label_map >= 0)


def boundary_iou_areas(pred_label: Tensor, label: Tensor, num_classes: int,
                       boundary_width: int = 3, ignore_index: int = 255
                       ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-class areas of the boundary bands, as for IoU.

    With ``P_c``/``G_c`` the predicted/ground-truth masks of class c
    restricted to valid pixels and ``B_d`` the inner band (module docstring):
    ``intersect_c = |B_d(G_c) ∩ B_d(P_c)|``,
    ``union_c = |B_d(G_c) ∪ B_d(P_c)|``, ``pred_c = |B_d(P_c)|``,
    ``label_c = |B_d(G_c)|``. Boundary IoU of class c is
    ``intersect_c / union_c`` (Cheng et al., CVPR 2021).

    Args:
        pred_label (Tensor): predicted labels (N, H, W), integer.
        label (Tensor): ground-truth labels (N, H, W), integer.
        num_classes (int): number of classes C.
        boundary_width (int): band width d in pixels. Defaults to 3.
        ignore_index (int): the ignore label. Defaults to 255.

    Returns:
        tuple[Tensor, ...]: ``(intersect, union, pred, label)`` int64 (C,),
        the layout of mmseg's ``IoUMetric.intersect_and_union``.
    """
    check_boundary_width(boundary_width)
    pred, gt = restrict_to_valid(pred_label, label, num_classes, ignore_index)
    gt_band = boundary_band(gt, boundary_width)
    pred_band = boundary_band(pred, boundary_width)
    area_label = class_counts(gt, gt_band, num_classes)
    area_pred = class_counts(pred, pred_band, num_classes)
    area_intersect = class_counts(gt, gt_band & pred_band & (gt == pred),
                                  num_classes)
    area_union = area_label + area_pred - area_intersect
    return area_intersect, area_union, area_pred, area_label


def _near_contours(label_map: Tensor, contour: Tensor, classes: Tensor,
                   width: int) -> Tensor:
    """(N, K, H, W) bool: within distance d of a contour pixel of class k."""
    one_hot = (label_map.unsqueeze(1) == classes.view(1, -1, 1, 1)
               ) & contour.unsqueeze(1)
    return window_reduce(F.pad(one_hot, (width, ) * 4), width,
                         torch.logical_or)


def contour_match_counts(pred_label: Tensor, label: Tensor, num_classes: int,
                         boundary_width: int = 3, ignore_index: int = 255
                         ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-class contour-pixel counts for the boundary F1 of Csurka et al.

    With ``∂P_c``/``∂G_c`` the contours (1-px inner bands) of the predicted /
    ground-truth masks of class c restricted to valid pixels:
    ``pred_matched_c = |{p ∈ ∂P_c : dist(p, ∂G_c) <= d}|``,
    ``pred_total_c = |∂P_c|``, and symmetrically ``gt_matched_c``,
    ``gt_total_c``. Precision, recall and F1 follow in
    :func:`autoloss_zero.metrics.formulas.class_boundary_f1`.

    Args:
        pred_label (Tensor): predicted labels (N, H, W), integer.
        label (Tensor): ground-truth labels (N, H, W), integer.
        num_classes (int): number of classes C.
        boundary_width (int): match tolerance d in pixels. Defaults to 3.
        ignore_index (int): the ignore label. Defaults to 255.

    Returns:
        tuple[Tensor, ...]: ``(pred_matched, pred_total, gt_matched,
        gt_total)``, int64 (C,).
    """
    check_boundary_width(boundary_width)
    pred, gt = restrict_to_valid(pred_label, label, num_classes, ignore_index)
    pred_contour = boundary_band(pred, 1)
    gt_contour = boundary_band(gt, 1)
    pred_matched = torch.zeros_like(pred_contour)
    gt_matched = torch.zeros_like(gt_contour)
    # Only classes with a contour in both maps can match; dilate their
    # one-hot contour maps in blocks that bound the memory.
    common = torch.nonzero(
        (class_counts(pred, pred_contour, num_classes) > 0)
        & (class_counts(gt, gt_contour, num_classes) > 0)).flatten()
    block = max(1, _CHUNK_ELEMENTS // max(1, gt.numel()))
    for classes in common.split(block) if common.numel() else ():
        gt_near = _near_contours(gt, gt_contour, classes, boundary_width)
        pred_near = _near_contours(pred, pred_contour, classes,
                                   boundary_width)
        of_class = classes.view(1, -1, 1, 1)
        pred_matched |= ((pred.unsqueeze(1) == of_class) & gt_near).any(1)
        gt_matched |= ((gt.unsqueeze(1) == of_class) & pred_near).any(1)
    return (class_counts(pred, pred_contour & pred_matched, num_classes),
            class_counts(pred, pred_contour, num_classes),
            class_counts(gt, gt_contour & gt_matched, num_classes),
            class_counts(gt, gt_contour, num_classes))
