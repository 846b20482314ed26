"""Fast segmentation metrics on tensors, for the loss-rejection protocol.

The loss-rejection protocol scores optimised logits of a few captured
samples hundreds of times per second, so these functions are vectorised torch
(a ``bincount`` confusion matrix; edges and bands by window max / min, see
:mod:`.seg_edges` and :mod:`.boundary`), stay on the input's device and
return a Python float in [0, 1].

Every metric takes:

* ``pred``: (N, C, H, W) logits or probabilities (the label is the argmax over
  C; a single channel, C = 1, is a binary logit thresholded at 0, as mmseg's
  ``out_channels=1`` heads, with 2 classes), or (N, H, W) integer labels;
* ``label``: (N, H, W) integer ground truth, ``ignore_index`` (255) on ignored
  pixels; labels outside ``[0, C)`` are ignored as well;
* ``num_classes``: C; taken from ``pred`` when it holds scores, else needed
  for label-map predictions (inferred as ``1 + max label`` when omitted).

Ignored pixels are excluded everywhere. Counts are pooled over the N images
(as :class:`DenseSegMetric` pools them over a data set), then turned into
scores by :mod:`.formulas`. With no valid pixel a metric returns 0.0.
"""
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import Tensor

from . import formulas
from .boundary import boundary_iou_areas, contour_match_counts
from .label_maps import check_boundary_width, confusion_areas
from .seg_edges import edge_match_counts, trimap_areas


def to_label_map(pred: Tensor, label: Tensor,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255) -> Tuple[Tensor, Tensor, int]:
    """Turn a prediction into a label map and check it against the label.

    Args:
        pred (Tensor): (N, C, H, W) scores or (N, H, W) labels.
        label (Tensor): (N, H, W) ground-truth labels.
        num_classes (int, optional): C; must agree with ``pred`` when it
            holds scores; inferred as ``1 + max label`` from label maps.
        ignore_index (int): the ignore label. Defaults to 255.

    Returns:
        tuple: ``(pred_label, label, num_classes)``, int64 maps (N, H, W).
    """
    if label.dim() != 3:
        raise ValueError(
            f'label must have shape (N, H, W), got {tuple(label.shape)}')
    if pred.dim() == 4:
        channels = pred.shape[1]
        expected = 2 if channels == 1 else channels
        if num_classes is not None and num_classes != expected:
            raise ValueError(
                f'num_classes={num_classes} does not match pred of shape '
                f'{tuple(pred.shape)} ({expected} classes)')
        num_classes = expected
        # max().indices is argmax (first maximum on ties) but several times
        # faster than argmax() over a non-innermost dim on CPU.
        pred_label = (pred[:, 0] > 0).long() if channels == 1 else \
            pred.max(dim=1).indices
    elif pred.dim() == 3:
        pred_label = pred.long()
    else:
        raise ValueError('pred must have shape (N, C, H, W) or (N, H, W), '
                         f'got {tuple(pred.shape)}')
    if pred_label.shape != label.shape:
        raise ValueError(f'pred of shape {tuple(pred.shape)} does not match '
                         f'label of shape {tuple(label.shape)}')
    label = label.long()
    if num_classes is None:
        known = torch.cat([pred_label.flatten(),
                           label[label != ignore_index].flatten(),
                           label.new_zeros(1)])
        num_classes = 1 + int(known.max())
    if num_classes < 1:
        raise ValueError(f'num_classes must be >= 1, got {num_classes}')
    return pred_label, label, num_classes


def _areas(pred, label, ignore_index, num_classes):
    pred_label, label, num_classes = to_label_map(pred, label, num_classes,
                                                  ignore_index)
    return confusion_areas(pred_label, label, num_classes, ignore_index)


def miou(pred: Tensor, label: Tensor, ignore_index: int = 255,
         num_classes: Optional[int] = None) -> float:
    """Mean IoU: mean over classes present in label or prediction of
    ``|P_c ∩ G_c| / |P_c ∪ G_c|`` (mmseg's ``mIoU``)."""
    inter, union, _, _ = _areas(pred, label, ignore_index, num_classes)
    return float(formulas.nanmean_or_zero(formulas.class_iou(inter, union)))


def fwiou(pred: Tensor, label: Tensor, ignore_index: int = 255,
          num_classes: Optional[int] = None) -> float:
    """Frequency-weighted IoU: ``Σ_c (|G_c| / Σ_k |G_k|) · IoU_c``."""
    inter, union, _, area_label = _areas(pred, label, ignore_index,
                                         num_classes)
    return float(formulas.frequency_weighted_iou(inter, union, area_label))


def macc(pred: Tensor, label: Tensor, ignore_index: int = 255,
         num_classes: Optional[int] = None) -> float:
    """Mean class accuracy: mean over classes present in the label of
    ``|P_c ∩ G_c| / |G_c|`` (mmseg's ``mAcc``)."""
    inter, _, _, area_label = _areas(pred, label, ignore_index, num_classes)
    return float(
        formulas.nanmean_or_zero(formulas.class_acc(inter, area_label)))


def gacc(pred: Tensor, label: Tensor, ignore_index: int = 255,
         num_classes: Optional[int] = None) -> float:
    """Global pixel accuracy: correct valid pixels / valid pixels
    (mmseg's ``aAcc``)."""
    inter, _, _, area_label = _areas(pred, label, ignore_index, num_classes)
    return float(formulas.global_acc(inter, area_label))


def biou(pred: Tensor, label: Tensor, ignore_index: int = 255,
         num_classes: Optional[int] = None, boundary_width: int = 5,
         drop_background: bool = False) -> float:
    """BIoU: the mean IoU of the valid pixels inside the trimap.

    The trimap is the union over classes of the ground-truth edges dilated
    by a square of radius ``r = boundary_width`` (default 5), as in the
    evaluation code of Auto Seg-Loss (definitions in :mod:`.seg_edges`);
    ``drop_background=True`` builds it without the edges of class 0. The
    mean is over classes whose union inside the trimap is not empty.
    """
    check_boundary_width(boundary_width)
    pred_label, label, num_classes = to_label_map(pred, label, num_classes,
                                                  ignore_index)
    inter, union, _, _ = trimap_areas(pred_label, label, num_classes,
                                      boundary_width, ignore_index,
                                      drop_background)
    return float(formulas.nanmean_or_zero(formulas.class_iou(inter, union)))


def bf1(pred: Tensor, label: Tensor, ignore_index: int = 255,
        num_classes: Optional[int] = None, boundary_width: int = 5,
        drop_background: bool = False) -> float:
    """BF1: per-class F1 of edge pixels matched within a square tolerance.

    Precision of class c: predicted edge pixels of c within chessboard
    distance ``t = boundary_width`` (default 5) of a ground-truth edge pixel
    of c / predicted edge pixels of c; recall the converse; counts pooled
    over the batch, F1 per class, mean over the classes that have
    ground-truth edges (without class 0 if ``drop_background``), as in the
    evaluation code of Auto Seg-Loss (definitions in :mod:`.seg_edges`).
    """
    check_boundary_width(boundary_width)
    pred_label, label, num_classes = to_label_map(pred, label, num_classes,
                                                  ignore_index)
    counts = edge_match_counts(pred_label, label, num_classes,
                               boundary_width, ignore_index)
    return float(formulas.nanmean_or_zero(
        edge_f1_per_class(counts, drop_background)))


def edge_f1_per_class(counts: Tuple[Tensor, ...],
                      drop_background: bool = False) -> Tensor:
    """(C,) BF1 per class of :func:`edge_match_counts`-style counts; class 0
    is ``nan`` (left out of the mean) when ``drop_background``."""
    f1 = formulas.class_edge_f1(*counts)
    if drop_background:
        f1 = f1.clone()
        f1[0] = float('nan')
    return f1


def boundary_iou(pred: Tensor, label: Tensor, ignore_index: int = 255,
                 num_classes: Optional[int] = None,
                 boundary_width: int = 3) -> float:
    """Boundary IoU (Cheng et al., CVPR 2021), mean over classes.

    Per class ``|B_d(G_c) ∩ B_d(P_c)| / |B_d(G_c) ∪ B_d(P_c)|`` with ``B_d``
    the inner boundary band of width ``d = boundary_width`` (pixels of the
    mask within chessboard distance d of a pixel outside it or of the frame;
    see :mod:`.boundary`), averaged over classes present in label or
    prediction (every non-empty mask has a non-empty band).
    """
    check_boundary_width(boundary_width)
    pred_label, label, num_classes = to_label_map(pred, label, num_classes,
                                                  ignore_index)
    inter, union, _, _ = boundary_iou_areas(pred_label, label, num_classes,
                                            boundary_width, ignore_index)
    return float(formulas.nanmean_or_zero(formulas.class_iou(inter, union)))


def contour_f1(pred: Tensor, label: Tensor, ignore_index: int = 255,
               num_classes: Optional[int] = None,
               boundary_width: int = 3) -> float:
    """Contour F1 (Csurka et al., BMVC 2013), mean over classes.

    Per class: precision = fraction of predicted contour pixels within
    chessboard distance ``d = boundary_width`` of a ground-truth contour pixel
    of the same class, recall = the converse, F1 = 2PR / (P + R); contours
    are the 1-px inner bands of the masks, the frame included (see
    :mod:`.boundary`). Averaged over classes present in label or prediction;
    counts are pooled over the batch rather than averaged per image.
    """
    check_boundary_width(boundary_width)
    pred_label, label, num_classes = to_label_map(pred, label, num_classes,
                                                  ignore_index)
    counts = contour_match_counts(pred_label, label, num_classes,
                                  boundary_width, ignore_index)
    return float(formulas.nanmean_or_zero(formulas.class_boundary_f1(*counts)))


#: The segmentation rejection metrics by target-metric name.
SEG_REJECTION_METRICS: Dict[str, Callable[..., float]] = {
    'mIoU': miou,
    'FWIoU': fwiou,
    'mAcc': macc,
    'gAcc': gacc,
    'BIoU': biou,
    'BF1': bf1,
    'BoundaryIoU': boundary_iou,
}


def get_seg_metric(name: str) -> Callable[..., float]:
    """The fast tensor metric called ``name`` (a key of
    :data:`SEG_REJECTION_METRICS`); ValueError for an unknown name."""
    try:
        return SEG_REJECTION_METRICS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f'unknown segmentation metric {name!r}; valid names: '
            f'{list(SEG_REJECTION_METRICS)}') from None
