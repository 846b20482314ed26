"""Segmentation metric formulas on per-class counts.

The one place where counts become scores. The fast tensor metrics
(:mod:`.seg_tensor`) and the evaluator :class:`.DenseSegMetric` both call these
functions, on counts of one batch or of a whole data set respectively, so the
two can never disagree on a definition.

Conventions shared by every function here:

* counts are 1-D tensors of shape (C,), one entry per class (any numeric
  dtype; they are converted to float64 before dividing);
* a per-class score is ``nan`` for a class that the metric does not cover
  (e.g. IoU of a class absent from both label and prediction), exactly like
  mmseg's ``IoUMetric.total_area_to_metrics``;
* :func:`nanmean_or_zero` averages over the covered classes and returns 0 when
  no class is covered (no valid pixel at all).
"""
import torch
from torch import Tensor


def _f64(x: Tensor) -> Tensor:
    return x.to(torch.float64)


def safe_ratio(num: Tensor, den: Tensor) -> Tensor:
    """``num / den`` where ``den > 0``, ``nan`` elsewhere.

    Args:
        num (Tensor): numerators, shape (C,).
        den (Tensor): non-negative denominators, shape (C,).

    Returns:
        Tensor: float64 ratios of shape (C,).
    """
    num, den = _f64(num), _f64(den)
    return torch.where(den > 0, num / den.clamp(min=1e-300),
                       torch.full_like(den, float('nan')))


def nanmean_or_zero(values: Tensor) -> Tensor:
    """Mean over the non-``nan`` entries; 0 when every entry is ``nan``.

    Args:
        values (Tensor): per-class scores, shape (C,).

    Returns:
        Tensor: a float64 scalar tensor.
    """
    values = _f64(values)
    covered = ~torch.isnan(values)
    count = covered.sum()
    total = torch.where(covered, values, torch.zeros_like(values)).sum()
    return torch.where(count > 0, total / count.clamp(min=1),
                       torch.zeros_like(total))


def class_iou(area_intersect: Tensor, area_union: Tensor) -> Tensor:
    """Per-class IoU ``|P_c ∩ G_c| / |P_c ∪ G_c|``.

    ``nan`` for a class absent from both prediction and label (empty union),
    so a mean over the result is the mean over classes present in the label
    or the prediction (mmseg's ``mIoU``).
    """
    return safe_ratio(area_intersect, area_union)


def class_acc(area_intersect: Tensor, area_label: Tensor) -> Tensor:
    """Per-class accuracy (recall) ``|P_c ∩ G_c| / |G_c|``.

    ``nan`` for a class absent from the label (mmseg's ``Acc``/``mAcc``).
    """
    return safe_ratio(area_intersect, area_label)


def global_acc(area_intersect: Tensor, area_label: Tensor) -> Tensor:
    """Global pixel accuracy ``Σ_c |P_c ∩ G_c| / Σ_c |G_c|`` (mmseg ``aAcc``).

    Returns a float64 scalar; 0 when there is no valid pixel.
    """
    total = _f64(area_label).sum()
    correct = _f64(area_intersect).sum()
    return torch.where(total > 0, correct / total.clamp(min=1e-300),
                       torch.zeros_like(total))


def frequency_weighted_iou(area_intersect: Tensor, area_union: Tensor,
                           area_label: Tensor) -> Tensor:
    """Frequency-weighted IoU ``Σ_c (|G_c| / Σ_k |G_k|) · IoU_c``.

    Long et al., "Fully Convolutional Networks for Semantic Segmentation",
    CVPR 2015. A class absent from the label has weight 0. Returns a float64
    scalar; 0 when there is no valid pixel.
    """
    label = _f64(area_label)
    freq = label / label.sum().clamp(min=1e-300)  # all zero when no pixel
    iou = class_iou(area_intersect, area_union).nan_to_num(0.0)
    return (freq * iou).sum()


def class_boundary_f1(pred_matched: Tensor, pred_total: Tensor,
                      gt_matched: Tensor, gt_total: Tensor) -> Tensor:
    """Per-class boundary F1 from matched contour-pixel counts.

    ``precision_c = pred_matched_c / pred_total_c`` (0 if the class has no
    predicted contour), ``recall_c = gt_matched_c / gt_total_c`` (0 if it has
    no ground-truth contour), ``F1_c = 2 P R / (P + R)`` (0 if ``P + R = 0``);
    ``nan`` for a class with no contour pixel in either map.

    Args:
        pred_matched (Tensor): predicted contour pixels of class c lying
            within the tolerance of a ground-truth contour pixel of class c,
            shape (C,).
        pred_total (Tensor): predicted contour pixels of class c, (C,).
        gt_matched (Tensor): ground-truth contour pixels of class c within
            the tolerance of a predicted contour pixel of class c, (C,).
        gt_total (Tensor): ground-truth contour pixels of class c, (C,).

    Returns:
        Tensor: float64 per-class F1 of shape (C,).
    """
    f1 = _edge_f1(pred_matched, pred_total, gt_matched, gt_total)
    covered = (_f64(pred_total) + _f64(gt_total)) > 0
    return torch.where(covered, f1, torch.full_like(f1, float('nan')))


def class_edge_f1(pred_matched: Tensor, pred_total: Tensor,
                  gt_matched: Tensor, gt_total: Tensor) -> Tensor:
    """Per-class BF1 of matched edge-pixel counts (Auto Seg-Loss's code).

    ``precision_c = pred_matched_c / pred_total_c`` (0 if the class has no
    predicted edge), ``recall_c = gt_matched_c / gt_total_c``,
    ``F1_c = 2 P R / (P + R)`` (0 if ``P + R = 0``); ``nan`` for a class with
    no ground-truth edge pixel, which the mean then leaves out (a class
    predicted where the ground truth has none does not count, as in the
    reference code).

    Args:
        pred_matched, pred_total, gt_matched, gt_total (Tensor): the (C,)
            counts of :func:`~autoloss_zero.metrics.edge_match_counts`.

    Returns:
        Tensor: float64 per-class F1 of shape (C,).
    """
    f1 = _edge_f1(pred_matched, pred_total, gt_matched, gt_total)
    return torch.where(_f64(gt_total) > 0, f1,
                       torch.full_like(f1, float('nan')))


def _edge_f1(pred_matched: Tensor, pred_total: Tensor, gt_matched: Tensor,
             gt_total: Tensor) -> Tensor:
    """(C,) F1 of precision and recall, each 0 where its total is 0."""
    precision = safe_ratio(pred_matched, pred_total).nan_to_num(0.0)
    recall = safe_ratio(gt_matched, gt_total).nan_to_num(0.0)
    return safe_ratio(2 * precision * recall,
                      precision + recall).nan_to_num(0.0)
