"""Rejection metrics of the non-segmentation branch kinds.

Each scores the (optimised) prediction that a detection or pose head passed
to its loss against the target it passed alongside, in the head's own layout
(the call signature of the mmdet / mmpose head), and returns a Python float
in [0, 1]. Rows without weight do not count; when no row counts (empty input
or all weights zero) the result is 0.0, the worst score, so that an empty
capture can never let a candidate pass. Non-finite predictions score as wrong.

Torch alone: the box metric decodes and overlaps boxes with the arithmetic
of mmdet's ``delta2bbox`` and aligned ``bbox_overlaps`` (the tests check it
bit for bit), so a capture is screened where mmdet is not installed.
"""
import math
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor


def _rows_weight(weight: Optional[Tensor], num_rows: int, like: Tensor,
                 name: str) -> Tensor:
    """A float (M,) weight; for (M, k) weights a row counts if any w > 0."""
    if weight is None:
        return like.new_ones(num_rows, dtype=torch.float64)
    if weight.shape[0] != num_rows:
        raise ValueError(f'{name} of shape {tuple(weight.shape)} does not '
                         f'have one row per prediction ({num_rows} rows)')
    weight = weight.detach().reshape(num_rows, int(np.prod(
        weight.shape[1:]))).to(torch.float64)
    if weight.shape[1] == 1:
        return weight[:, 0].clamp(min=0)
    return (weight > 0).any(dim=1).to(torch.float64)


def _weighted_mean(score: Tensor, weight: Tensor) -> float:
    """``Σ w·s / Σ w`` over rows with ``w > 0``; 0.0 when there is none."""
    weight = torch.where(weight > 0, weight, torch.zeros_like(weight))
    total = weight.sum()
    if total <= 0:
        return 0.0
    return float((weight * score.to(torch.float64)).sum() / total)


def classification_accuracy(logits: Tensor, labels: Tensor,
                            weight: Optional[Tensor] = None,
                            balanced: bool = False) -> float:
    """Weighted (optionally class-balanced) accuracy of a classification
    branch.

    * Softmax style, ``logits`` (M, C) with C >= 2 (mmdet RoI head: the
      background is class C - 1): the prediction is the argmax; rows whose
      label lies outside ``[0, C)`` do not count.
    * Sigmoid style, ``logits`` (M, 1) or (M,) (mmdet RPN): label 0 is the
      foreground and 1 the background; a score > 0 predicts foreground;
      other labels do not count.

    Args:
        logits (Tensor): (M, C), (M, 1) or (M,) logits (or any scores with the
            same argmax / sign).
        labels (Tensor): (M,) integer class labels.
        weight (Tensor, optional): (M,) non-negative row weights (mmdet's
            ``label_weights``); None weighs every row 1.
        balanced (bool): the mean over the classes present of the
            per-class (weighted) accuracy, i.e. balanced accuracy. Detection
            rows are >90% background, where plain accuracy rewards a loss
            that predicts background everywhere; balanced, that scores
            1/#classes. Defaults to False.

    Returns:
        float: ``Σ_i w_i [pred_i = label_i] / Σ_i w_i`` over counted rows
        with ``w_i > 0`` (per class and averaged, if ``balanced``); 0.0 when
        no row counts.
    """
    logits = logits.detach()
    if logits.dim() == 0:
        raise ValueError('logits must have shape (M, C) or (M,), got ()')
    num_rows = logits.shape[0]
    scores = logits.reshape(num_rows, int(np.prod(logits.shape[1:])))
    if labels.shape != (num_rows, ):
        raise ValueError(f'labels of shape {tuple(labels.shape)} do not match '
                         f'logits of shape {tuple(logits.shape)}')
    labels = labels.long()
    row_weight = _rows_weight(weight, num_rows, scores, 'weight')
    if scores.shape[1] == 1:
        in_range = (labels == 0) | (labels == 1)
        correct = (scores[:, 0] > 0) == (labels == 0)
    else:
        in_range = (labels >= 0) & (labels < scores.shape[1])
        correct = scores.argmax(dim=1) == labels
    correct = correct & torch.isfinite(scores).all(dim=1)
    row_weight = row_weight * in_range
    if not balanced:
        return _weighted_mean(correct, row_weight)
    counted = row_weight > 0
    if not bool(counted.any()):
        return 0.0
    _, index = labels[counted].unique(return_inverse=True)
    weight = row_weight[counted]
    totals = weight.new_zeros(int(index.max()) + 1).index_add_(0, index,
                                                               weight)
    hits = torch.zeros_like(totals).index_add_(0, index,
                                               weight * correct[counted])
    return float((hits / totals).mean())  # over the classes present


#: mmdet's default ``wh_ratio_clip``: ``|dw|``, ``|dh|`` are clamped at
#: ``|log(16 / 1000)|`` before ``exp`` (sizes within [0.016, 62.5] priors).
MAX_LOG_RATIO = abs(math.log(16 / 1000))


def decode_on_unit_prior(deltas: Tensor,
                         means: Sequence[float] = (0., 0., 0., 0.),
                         stds: Sequence[float] = (1., 1., 1., 1.)) -> Tensor:
    """(x1, y1, x2, y2) boxes of (dx, dy, dw, dh) deltas on the prior
    ``(0, 0, 1, 1)``, as mmdet's ``DeltaXYWHBBoxCoder.decode`` (its
    ``delta2bbox`` with a unit prior: centre ``0.5 + dx``, size
    ``exp(dw)``, ``dw`` clamped at :data:`MAX_LOG_RATIO`).

    Args:
        deltas (Tensor): (M, 4) encoded deltas.
        means, stds: the coder's normalisation (``deltas * stds + means``).

    Returns:
        Tensor: (M, 4) boxes.
    """
    deltas = deltas * deltas.new_tensor(stds) + deltas.new_tensor(means)
    # the prior's size is 1 and its centre 0.5: mmdet's products by them
    # are exact, so they are left out
    centre = 0.5 + deltas[:, :2]
    size = deltas[:, 2:].clamp(min=-MAX_LOG_RATIO, max=MAX_LOG_RATIO).exp()
    return torch.cat([centre - size * 0.5, centre + size * 0.5], dim=-1)


def aligned_box_iou(boxes1: Tensor, boxes2: Tensor,
                    eps: float = 1e-6) -> Tensor:
    """IoU of row-aligned (x1, y1, x2, y2) boxes, as mmdet's
    ``bbox_overlaps(mode='iou', is_aligned=True)``: the union is clamped at
    ``eps`` (empty boxes give 0, not NaN).

    Args:
        boxes1, boxes2 (Tensor): (M, 4) boxes.

    Returns:
        Tensor: (M,) IoUs.
    """
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = torch.max(boxes1[:, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[:, 0] * wh[:, 1]
    union = torch.max(area1 + area2 - overlap, overlap.new_tensor([eps]))
    return overlap / union


def box_iou_on_unit_prior(pred_deltas: Tensor, target_deltas: Tensor,
                          weight: Optional[Tensor] = None,
                          decoded: bool = False,
                          means: Sequence[float] = (0., 0., 0., 0.),
                          stds: Sequence[float] = (1., 1., 1., 1.)) -> float:
    """Mean IoU of regression outputs, decoded on the unit prior box.

    Both delta sets are decoded as mmdet's ``DeltaXYWHBBoxCoder`` does (the
    head's ``means`` and ``stds``, its default ``wh_ratio_clip`` bounding
    ``exp(dw)``) on the prior ``(0, 0, 1, 1)`` (:func:`decode_on_unit_prior`),
    then compared as mmdet's aligned ``bbox_overlaps``
    (:func:`aligned_box_iou`). Rows with a non-finite prediction have IoU 0.

    Args:
        pred_deltas (Tensor): (M, 4) predicted deltas (dx, dy, dw, dh).
        target_deltas (Tensor): (M, 4) target deltas.
        weight (Tensor, optional): (M, 4) or (M,) regression weights; a row
            counts when any of its weights is > 0 (mmdet gives negatives zero
            weight). None counts every row.
        decoded (bool): the inputs are already absolute (x1, y1, x2, y2)
            boxes (heads with ``reg_decoded_bbox=True``); skip decoding.
        means, stds: the head coder's delta normalisation (mmdet's RoI head
            uses stds (0.1, 0.1, 0.2, 0.2)); with the wrong stds a target
            decodes far from where the head's coder puts it.

    Returns:
        float: the unweighted mean IoU over counted rows; 0.0 if none.
    """
    if pred_deltas.shape != target_deltas.shape or (
            pred_deltas.dim() != 2 or pred_deltas.shape[-1] != 4):
        raise ValueError(
            f'pred_deltas of shape {tuple(pred_deltas.shape)} and '
            f'target_deltas of shape {tuple(target_deltas.shape)} must both '
            'be (M, 4)')
    num_rows = pred_deltas.shape[0]
    row_weight = (_rows_weight(weight, num_rows, pred_deltas, 'weight') > 0)
    if not bool(row_weight.any()):
        return 0.0
    pred = pred_deltas.detach()[row_weight].float()
    target = target_deltas.detach()[row_weight].float()
    finite = torch.isfinite(pred).all(dim=1)
    pred = torch.where(finite.unsqueeze(1), pred, torch.zeros_like(pred))
    if not decoded:
        pred = decode_on_unit_prior(pred, means, stds)
        target = decode_on_unit_prior(target, means, stds)
    iou = aligned_box_iou(pred, target)
    iou = torch.where(finite, iou.nan_to_num(0.0), torch.zeros_like(iou))
    return float(iou.clamp(0, 1).mean())


def mask_iou(mask_logits: Tensor, mask_targets: Tensor,
             labels: Optional[Tensor] = None) -> float:
    """Mean per-RoI IoU of binary masks (prediction: logit > 0).

    Per RoI ``|M_pred ∩ M_gt| / |M_pred ∪ M_gt|``, 1 when both masks are
    empty (they agree); the mean over RoIs.

    Args:
        mask_logits (Tensor): (P, S, S) or (P, 1, S, S) mask logits, or
            (P, C, S, S) per-class logits together with ``labels`` (the mmdet
            FCN mask head layout; S is 28 there).
        mask_targets (Tensor): (P, S, S) targets in {0, 1} (>= 0.5 is
            foreground).
        labels (Tensor, optional): (P,) class of each RoI, selecting
            ``mask_logits[arange(P), labels]``; needed when C > 1.

    Returns:
        float: mean mask IoU in [0, 1]; 0.0 for P = 0.
    """
    logits = mask_logits.detach()
    if logits.dim() == 4:
        if logits.shape[1] != 1 and labels is None:
            raise ValueError(
                f'mask_logits of shape {tuple(logits.shape)} hold '
                f'{logits.shape[1]} classes: pass labels (P,) to select one')
        if labels is None:
            logits = logits[:, 0]
        else:
            logits = logits[torch.arange(logits.shape[0],
                                         device=logits.device),
                            labels.long()]
    if logits.dim() != 3 or logits.shape != mask_targets.shape:
        raise ValueError(f'mask_logits of shape {tuple(mask_logits.shape)} '
                         'do not match mask_targets of shape '
                         f'{tuple(mask_targets.shape)}')
    if logits.shape[0] == 0:
        return 0.0
    pred = logits > 0  # NaN compares False: predicts background
    target = mask_targets.detach() >= 0.5
    inter = (pred & target).flatten(1).sum(dim=1).double()
    union = (pred | target).flatten(1).sum(dim=1).double()
    iou = torch.where(union > 0, inter / union.clamp(min=1),
                      torch.ones_like(union))
    return float(iou.mean())


def heatmap_pck(pred: Tensor, target: Tensor,
                keypoint_weights: Optional[Tensor] = None,
                threshold: float = 2.0) -> float:
    """PCK of heatmaps: argmax within ``threshold`` px of the target's.

    The location of a heatmap is the (x, y) of its maximum (first one on
    ties); a visible keypoint (weight > 0) is correct when the Euclidean
    distance between the predicted and target locations is <= ``threshold``
    heatmap pixels.

    Args:
        pred (Tensor): (B, K, H, W) predicted heatmaps.
        target (Tensor): (B, K, H, W) target heatmaps.
        keypoint_weights (Tensor, optional): (B, K); keypoints with weight
            <= 0 are not visible and do not count. None: all count.
        threshold (float): distance threshold in heatmap pixels. Defaults
            to 2.0.

    Returns:
        float: correct / visible keypoints; 0.0 with no visible keypoint.
    """
    visible, peaks = _peaks(pred, target, keypoint_weights)
    if peaks is None:
        return 0.0
    dy, dx = _offsets(*peaks, pred.shape[-1])
    correct = (dx * dx + dy * dy) <= float(threshold)**2
    return float((correct & visible).sum().double() / visible.sum())


def heatmap_peak_progress(pred: Tensor, target: Tensor,
                          keypoint_weights: Optional[Tensor] = None
                          ) -> Tuple[float, float]:
    """Two finer measures than PCK of how close heatmaps are to their
    targets, each higher when closer: minus the mean distance (heatmap
    pixels) between the predicted and the target argmax, and the mean margin
    of the prediction at the target's argmax to its maximum (<= 0; 0 when the
    target's peak is the predicted one). Means over visible keypoints.

    Args:
        pred, target, keypoint_weights: as for :func:`heatmap_pck`.

    Returns:
        tuple[float, float]: (-distance, margin); (0.0, 0.0) with no visible
        keypoint.

    >>> t = torch.zeros(1, 1, 4, 4); t[0, 0, 1, 1] = 1
    >>> p = torch.zeros(1, 1, 4, 4); p[0, 0, 1, 3] = 2
    >>> heatmap_peak_progress(p, t)
    (-2.0, -2.0)
    """
    visible, peaks = _peaks(pred, target, keypoint_weights)
    if peaks is None:
        return 0.0, 0.0
    pred_index, target_index = peaks
    dy, dx = _offsets(pred_index, target_index, pred.shape[-1])
    count = visible.sum().double()
    distance = (dx * dx + dy * dy).sqrt()[visible].sum() / count
    scores = pred.detach().flatten(2).double()
    at_target = scores.gather(2, target_index[..., None])[..., 0]
    margin = (at_target - scores.max(dim=2).values)[visible].sum() / count
    return -float(distance), float(margin)


def _offsets(pred_index, target_index, width):
    """(dy, dx) (B, K) float64 offsets of flat heatmap indices."""
    return ((pred_index // width - target_index // width).double(),
            (pred_index % width - target_index % width).double())


def _peaks(pred, target, keypoint_weights):
    """(visible (B, K) bool, (predicted, target) (B, K) flat argmax
    indices, or None with no visible keypoint) of :func:`heatmap_pck`'s
    arguments, checked."""
    if pred.dim() != 4 or pred.shape != target.shape:
        raise ValueError(f'pred of shape {tuple(pred.shape)} and target of '
                         f'shape {tuple(target.shape)} must both be '
                         '(B, K, H, W)')
    batch, joints, height, width = pred.shape
    if keypoint_weights is None:
        visible = torch.ones(batch, joints, dtype=torch.bool,
                             device=pred.device)
    elif keypoint_weights.shape != (batch, joints):
        raise ValueError(
            f'keypoint_weights of shape {tuple(keypoint_weights.shape)} do '
            f'not match heatmaps of shape {tuple(pred.shape)}: expected '
            f'{(batch, joints)}')
    else:
        visible = keypoint_weights.detach() > 0
    if pred.numel() == 0 or not bool(visible.any()):
        return visible, None
    scores = pred.detach().flatten(2).nan_to_num(float('-inf'))
    return visible, (scores.argmax(dim=2),
                     target.detach().flatten(2).argmax(dim=2))
