"""Boundary IoU (Cheng et al.) and the contour F1 of Csurka et al.

These are the ``BoundaryIoU`` metric and the contour matching behind
:func:`autoloss_zero.metrics.contour_f1`; the ``BIoU`` / ``BF1`` metrics that
AutoLoss-Zero reports are defined differently, in :mod:`.seg_edges`.

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
  :func:`~.label_maps.window_reduce`).
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
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .label_maps import (OUTSIDE, check_boundary_width, class_counts,
                         restrict_to_valid, window_reduce)
#: Upper bound on the elements of one per-class one-hot block (bool).
_CHUNK_ELEMENTS = 1 << 25


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
    padded = F.pad(label_map, (width, ) * 4, value=OUTSIDE)
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


def _near(label_map: Tensor, edges: Tensor, classes: Tensor,
          width: int) -> Tensor:
    """(N, K, H, W) bool: within distance d of an edge pixel of class k."""
    one_hot = (label_map.unsqueeze(1) == classes.view(1, -1, 1, 1)
               ) & edges.unsqueeze(1)
    return window_reduce(F.pad(one_hot, (width, ) * 4), width,
                         torch.logical_or)


def match_counts(pred: Tensor, pred_edges: Tensor, gt: Tensor,
                 gt_edges: Tensor, num_classes: int, width: int
                 ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-class counts of edge pixels matched within a square tolerance.

    An edge pixel ``p`` of class c in one map is matched when an edge pixel
    of class c of the other map lies within chessboard distance ``width`` of
    ``p`` (inside the (2w+1)×(2w+1) window centred on ``p``).

    Args:
        pred (Tensor): predicted labels (N, H, W), int64; labels outside
            ``[0, C)`` are of no class.
        pred_edges (Tensor): bool (N, H, W), the prediction's edge pixels.
        gt (Tensor): ground-truth labels (N, H, W), int64.
        gt_edges (Tensor): bool (N, H, W), the ground truth's edge pixels.
        num_classes (int): number of classes C.
        width (int): the tolerance w >= 0 in pixels.

    Returns:
        tuple[Tensor, ...]: ``(pred_matched, pred_total, gt_matched,
        gt_total)``, int64 (C,).
    """
    pred_matched = torch.zeros_like(pred_edges)
    gt_matched = torch.zeros_like(gt_edges)
    # Only classes with edges in both maps can match; dilate their one-hot
    # edge maps in blocks that bound the memory.
    common = torch.nonzero(
        (class_counts(pred, pred_edges, num_classes) > 0)
        & (class_counts(gt, gt_edges, num_classes) > 0)).flatten()
    block = max(1, _CHUNK_ELEMENTS // max(1, gt.numel()))
    for classes in common.split(block) if common.numel() else ():
        gt_near = _near(gt, gt_edges, classes, width)
        pred_near = _near(pred, pred_edges, classes, width)
        of_class = classes.view(1, -1, 1, 1)
        pred_matched |= ((pred.unsqueeze(1) == of_class) & gt_near).any(1)
        gt_matched |= ((gt.unsqueeze(1) == of_class) & pred_near).any(1)
    return (class_counts(pred, pred_edges & pred_matched, num_classes),
            class_counts(pred, pred_edges, num_classes),
            class_counts(gt, gt_edges & gt_matched, num_classes),
            class_counts(gt, gt_edges, num_classes))


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
        pred_label, label, num_classes, ignore_index: as in
            :func:`boundary_iou_areas`.
        boundary_width (int): match tolerance d in pixels. Defaults to 3.

    Returns:
        tuple[Tensor, ...]: ``(pred_matched, pred_total, gt_matched,
        gt_total)``, int64 (C,).
    """
    check_boundary_width(boundary_width)
    pred, gt = restrict_to_valid(pred_label, label, num_classes, ignore_index)
    return match_counts(pred, boundary_band(pred, 1), gt,
                        boundary_band(gt, 1), num_classes, boundary_width)
