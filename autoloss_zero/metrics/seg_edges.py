"""Edges, trimap and edge matching of the BIoU and BF1 metrics.

The definitions are those of the evaluation code released with Auto Seg-Loss
(Li et al., "Auto Seg-Loss: Searching Metric Surrogates for Semantic
Segmentation", ICLR 2021), the method AutoLoss-Zero compares against, so that
BIoU and BF1 numbers can be put next to the tables of both papers:

* **Edges** of a label map: the pixels of a class whose 3×3 neighbourhood is
  not all that class. The neighbourhood holds the in-frame pixels only (mean
  pooling with padding not counted), so the image frame is *not* an edge;
  a pixel next to an ignored pixel is one (an ignored pixel is of no class).
* **Trimap** of radius r (default 5): the union over classes of the
  ground-truth edges dilated by a (2r+1)×(2r+1) square (max pooling, frame
  not counted); ``drop_background=True`` leaves the edges of class 0 out.
* **BIoU**: the mean IoU of the confusion matrix of the valid pixels inside
  the trimap, accumulated over the data set (mean over classes whose trimap
  union is not empty).
* **BF1** with tolerance t (default 5): per class, precision = prediction-edge
  pixels within the dilated (t) ground-truth edges of the class / prediction-
  edge pixels, recall = ground-truth-edge pixels within the dilated (t)
  prediction edges / ground-truth-edge pixels; counts accumulated over the
  data set, F1 per class, mean over the classes that have ground-truth edges
  (``drop_background=True`` leaves class 0 out of the mean), see
  :func:`autoloss_zero.metrics.formulas.class_edge_f1`.

Ground-truth-ignored pixels are of no class in *both* maps. The reference
code masks only the label map; masking the prediction too makes the score
independent of what is predicted on ignored pixels, as every other metric
here is (on maps without ignored pixels the two agree exactly). An image
without any edge contributes nothing: its trimap is empty.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .boundary import match_counts
from .label_maps import (check_boundary_width, confusion_areas, dilate,
                         restrict_to_valid, window_reduce)

#: Below and above every label of a restricted map (labels are >= -1 and
#: at most C): padding values that never win a window maximum / minimum
#: (exact as floats, which ``F.pad`` takes its value as).
_BELOW = -2
_ABOVE = 1 << 40


def label_edges(label_map: Tensor) -> Tensor:
    """Edge pixels of every class of a label map.

    Args:
        label_map (Tensor): labels (N, H, W), int64; negative labels are of
            no class (see :func:`~.label_maps.restrict_to_valid`).

    Returns:
        Tensor: bool (N, H, W), True on pixel ``p`` with a label >= 0 whose
        in-frame 3×3 neighbourhood holds a different label.
    """
    if label_map.dim() != 3:
        raise ValueError('label_map must have shape (N, H, W), got '
                         f'{tuple(label_map.shape)}')
    high = window_reduce(F.pad(label_map, (1, ) * 4, value=_BELOW), 1,
                         torch.maximum)
    low = window_reduce(F.pad(label_map, (1, ) * 4, value=_ABOVE), 1,
                        torch.minimum)
    return ((high != label_map) | (low != label_map)) & (label_map >= 0)


def trimap(label: Tensor, num_classes: int, radius: int = 5,
           ignore_index: int = 255, drop_background: bool = False) -> Tensor:
    """The trimap band: ground-truth edges dilated by a square of radius r.

    Args:
        label (Tensor): ground-truth labels (N, H, W), integer.
        num_classes (int): number of classes C.
        radius (int): dilation radius r >= 1 in pixels. Defaults to 5.
        ignore_index (int): the ignore label. Defaults to 255.
        drop_background (bool): leave the edges of class 0 out.

    Returns:
        Tensor: bool (N, H, W); ignored pixels may lie inside the band (the
        metrics exclude them).
    """
    check_boundary_width(radius, 'radius')
    _, gt = restrict_to_valid(label, label, num_classes, ignore_index)
    edges = label_edges(gt)
    if drop_background:
        edges = edges & (gt != 0)
    return dilate(edges, radius)


def trimap_areas(pred_label: Tensor, label: Tensor, num_classes: int,
                 radius: int = 5, ignore_index: int = 255,
                 drop_background: bool = False
                 ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-class confusion areas of the valid pixels inside the trimap.

    Args:
        pred_label (Tensor): predicted labels (N, H, W), integer.
        label (Tensor): ground-truth labels (N, H, W), integer.
        num_classes (int): number of classes C.
        radius (int): trimap radius r. Defaults to 5.
        ignore_index (int): the ignore label. Defaults to 255.
        drop_background (bool): build the trimap without class 0's edges.

    Returns:
        tuple[Tensor, ...]: ``(intersect, union, pred, label)`` int64 (C,)
        (see :func:`~.label_maps.confusion_areas`); BIoU of class c is
        ``intersect_c / union_c``.
    """
    band = trimap(label, num_classes, radius, ignore_index, drop_background)
    outside = torch.full_like(label, ignore_index)
    return confusion_areas(pred_label, torch.where(band, label, outside),
                           num_classes, ignore_index)


def edge_match_counts(pred_label: Tensor, label: Tensor, num_classes: int,
                      tolerance: int = 5, ignore_index: int = 255
                      ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-class edge-pixel counts of BF1.

    With ``E(P)_c`` / ``E(G)_c`` the edge pixels of class c of the predicted
    / ground-truth maps (module docstring) and ``D_t`` the dilation by a
    (2t+1)×(2t+1) square: ``pred_matched_c = |E(P)_c ∩ D_t(E(G)_c)|``,
    ``pred_total_c = |E(P)_c|``, ``gt_matched_c = |E(G)_c ∩ D_t(E(P)_c)|``,
    ``gt_total_c = |E(G)_c|``.

    Args:
        pred_label (Tensor): predicted labels (N, H, W), integer.
        label (Tensor): ground-truth labels (N, H, W), integer.
        num_classes (int): number of classes C.
        tolerance (int): match tolerance t >= 1 in pixels. Defaults to 5.
        ignore_index (int): the ignore label. Defaults to 255.

    Returns:
        tuple[Tensor, ...]: ``(pred_matched, pred_total, gt_matched,
        gt_total)``, int64 (C,).
    """
    check_boundary_width(tolerance, 'tolerance')
    pred, gt = restrict_to_valid(pred_label, label, num_classes, ignore_index)
    return match_counts(pred, label_edges(pred), gt, label_edges(gt),
                        num_classes, tolerance)
