"""Rejection metrics of detection / pose branches: hand-computed cases."""
import math

import pytest
import torch

from autoloss_zero.metrics import (box_iou_on_unit_prior,
                                   classification_accuracy,
                                   heatmap_peak_progress, heatmap_pck,
                                   mask_iou)
from autoloss_zero.metrics.branch_metrics import (aligned_box_iou,
                                                  decode_on_unit_prior)


# --- classification --------------------------------------------------------

SOFTMAX_LOGITS = torch.tensor([[3., 0., 0.],   # pred 0
                               [0., 2., 0.],   # pred 1
                               [0., 0., 1.],   # pred 2
                               [5., 0., 0.]])  # pred 0


def test_softmax_accuracy():
    labels = torch.tensor([0, 1, 1, 0])  # correct, correct, wrong, correct
    assert classification_accuracy(SOFTMAX_LOGITS, labels) == 0.75
    weight = torch.tensor([1., 2., 1., 0.])
    assert classification_accuracy(SOFTMAX_LOGITS, labels,
                                   weight) == pytest.approx(3 / 4)
    weight = torch.tensor([1., 2., 1., 1.])
    assert classification_accuracy(SOFTMAX_LOGITS, labels,
                                   weight) == pytest.approx(4 / 5)


def test_softmax_labels_out_of_range_do_not_count():
    labels = torch.tensor([0, 1, -1, 7])
    assert classification_accuracy(SOFTMAX_LOGITS, labels) == 1.0


def test_sigmoid_rpn_convention():
    # label 0 = foreground, 1 = background; score > 0 means foreground
    scores = torch.tensor([[2.], [-1.], [0.5], [-3.]])
    labels = torch.tensor([0, 1, 1, 0])  # correct, correct, wrong, wrong
    assert classification_accuracy(scores, labels) == 0.5
    assert classification_accuracy(scores, labels,
                                   torch.tensor([1., 1., 0., 0.])) == 1.0
    assert classification_accuracy(scores[:, 0], labels) == 0.5


def test_balanced_accuracy_averages_the_classes_present():
    # 3 background rows (label 2), 1 row of class 0; all predicted 0 or 2
    logits = torch.tensor([[0., 0., 1.], [0., 0., 1.], [0., 0., 1.],
                           [0., 0., 1.]])
    labels = torch.tensor([2, 2, 2, 0])
    assert classification_accuracy(logits, labels) == 0.75
    # background everywhere: recall 1 on class 2, 0 on class 0
    assert classification_accuracy(logits, labels, balanced=True) == 0.5
    # weights count within each class; a zero-weight class is absent
    weight = torch.tensor([1., 1., 2., 0.])
    assert classification_accuracy(logits, labels, weight,
                                   balanced=True) == 1.0
    logits[3] = torch.tensor([1., 0., 0.])
    logits[0] = torch.tensor([0., 1., 0.])  # one background row wrong
    assert classification_accuracy(logits, labels, weight=torch.tensor(
        [1., 1., 2., 1.]), balanced=True) == pytest.approx((3 / 4 + 1) / 2)
    # sigmoid style: 1 foreground of 4 rows, everything called background
    scores = torch.full((4, 1), -1.)
    assert classification_accuracy(scores, torch.tensor([0, 1, 1, 1]),
                                   balanced=True) == 0.5
    assert classification_accuracy(torch.zeros(0, 3), torch.zeros(
        0, dtype=torch.long), balanced=True) == 0.0


def test_classification_empty_and_nonfinite():
    assert classification_accuracy(torch.zeros(0, 3),
                                   torch.zeros(0, dtype=torch.long)) == 0.0
    assert classification_accuracy(SOFTMAX_LOGITS, torch.tensor(
        [0, 1, 2, 0]), torch.zeros(4)) == 0.0
    logits = SOFTMAX_LOGITS.clone()
    logits[0, 1] = float('nan')
    assert classification_accuracy(logits, torch.tensor([0, 1, 2, 0])) == 0.75
    with pytest.raises(ValueError, match=r'\(3,\).*\(4, 3\)'):
        classification_accuracy(SOFTMAX_LOGITS, torch.zeros(3).long())


# --- box regression on the unit prior ---------------------------------------

def test_identical_deltas_give_one():
    deltas = torch.tensor([[0.1, -0.2, 0.3, -0.1], [0., 0., 0., 0.]])
    assert box_iou_on_unit_prior(deltas, deltas.clone()) == pytest.approx(1.0)


def test_known_shift_and_scale():
    target = torch.zeros(3, 4)
    pred = torch.tensor([[0.5, 0., 0., 0.],  # half a width right: IoU 1/3
                         [0., 0., math.log(2), 0.],  # twice as wide: 1/2
                         [9., 9., 9., 9.]])  # masked out by its weight
    weight = torch.tensor([[1., 1., 1., 1.], [1., 1., 1., 1.], [0.] * 4])
    assert box_iou_on_unit_prior(pred[:1], target[:1]) == pytest.approx(1 / 3)
    assert box_iou_on_unit_prior(pred, target, weight) == pytest.approx(
        (1 / 3 + 1 / 2) / 2)


def test_head_stds_decode_the_targets_where_the_head_does():
    """mmdet's RoI head encodes deltas divided by (0.1, 0.1, 0.2, 0.2): a
    target of 5 in x is half a width, IoU 1/3 with the prior."""
    target = torch.tensor([[5., 0., 0., 0.]])
    stds = (0.1, 0.1, 0.2, 0.2)
    assert box_iou_on_unit_prior(torch.zeros(1, 4), target,
                                 stds=stds) == pytest.approx(1 / 3)
    assert box_iou_on_unit_prior(torch.zeros(1, 4), target) == 0.0
    assert box_iou_on_unit_prior(target, target.clone(),
                                 stds=stds) == pytest.approx(1.0)


def test_box_empty_nonfinite_and_decoded():
    assert box_iou_on_unit_prior(torch.zeros(0, 4), torch.zeros(0, 4)) == 0.0
    assert box_iou_on_unit_prior(torch.ones(2, 4), torch.ones(2, 4),
                                 torch.zeros(2, 4)) == 0.0
    pred = torch.tensor([[float('nan'), 0., 0., 0.], [0., 0., 0., 0.]])
    assert box_iou_on_unit_prior(pred, torch.zeros(2, 4)) == 0.5
    boxes = torch.tensor([[0., 0., 2., 2.]])
    assert box_iou_on_unit_prior(boxes, torch.tensor([[1., 0., 3., 2.]]),
                                 decoded=True) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r'\(2, 3\)'):
        box_iou_on_unit_prior(torch.zeros(2, 3), torch.zeros(2, 3))


# --- masks -------------------------------------------------------------------

def test_mask_iou_hand_case():
    logits = -torch.ones(2, 4, 4)
    logits[0, 0, :2] = 1.  # predicted 2 px
    targets = torch.zeros(2, 4, 4)
    targets[0, 0, :3] = 1  # 3 px, overlap 2: IoU 2/3
    # RoI 1: both empty -> 1
    assert mask_iou(logits, targets) == pytest.approx((2 / 3 + 1) / 2)
    assert mask_iou(logits[:, None], targets) == pytest.approx((2 / 3 + 1) / 2)
    per_class = torch.stack([-logits, logits, -logits], dim=1)  # (2, 3, 4, 4)
    labels = torch.tensor([1, 1])
    assert mask_iou(per_class, targets, labels) == pytest.approx(
        (2 / 3 + 1) / 2)
    assert mask_iou(per_class, targets, torch.tensor([0, 1])) == \
        pytest.approx((1 / 16 + 1) / 2)  # class 0 predicts the complement


def test_mask_iou_empty_and_errors():
    assert mask_iou(torch.zeros(0, 28, 28), torch.zeros(0, 28, 28)) == 0.0
    with pytest.raises(ValueError, match='labels'):
        mask_iou(torch.zeros(2, 3, 28, 28), torch.zeros(2, 28, 28))
    with pytest.raises(ValueError, match=r'\(2, 28, 28\).*\(2, 14, 14\)'):
        mask_iou(torch.zeros(2, 28, 28), torch.zeros(2, 14, 14))


# --- heatmaps ----------------------------------------------------------------

def _peak(h, w, y, x):
    m = torch.zeros(h, w)
    m[y, x] = 1.
    return m


def test_heatmap_pck_hand_case():
    pred = torch.stack([_peak(8, 8, 2, 2), _peak(8, 8, 0, 0),
                        _peak(8, 8, 7, 7)])[None]
    target = torch.stack([_peak(8, 8, 2, 4), _peak(8, 8, 3, 3),
                          _peak(8, 8, 0, 0)])[None]
    weights = torch.tensor([[1., 1., 0.]])  # third keypoint not visible
    # distances: 2 (correct), sqrt(18) (wrong); the third does not count
    assert heatmap_pck(pred, target, weights) == 0.5
    assert heatmap_pck(pred, target, weights, threshold=1.9) == 0.0
    assert heatmap_pck(pred, target, weights, threshold=4.3) == 1.0
    assert heatmap_pck(pred, target) == pytest.approx(1 / 3)
    # non-square heatmaps (H=8, W=5); x and y are not swapped
    vertical = _peak(8, 5, 4, 2)[None, None]
    assert heatmap_pck(vertical, _peak(8, 5, 2, 2)[None, None]) == 1.0
    assert heatmap_pck(vertical, _peak(8, 5, 1, 2)[None, None]) == 0.0
    assert heatmap_pck(vertical, _peak(8, 5, 4, 0)[None, None]) == 1.0
    assert heatmap_pck(vertical, _peak(8, 5, 6, 4)[None, None],
                       threshold=2.83) == 1.0  # sqrt(8) = 2.828
    assert heatmap_pck(vertical, _peak(8, 5, 6, 4)[None, None],
                       threshold=2.82) == 0.0


def test_heatmap_pck_empty_and_errors():
    pred = torch.rand(2, 3, 8, 8)
    assert heatmap_pck(pred, pred, torch.zeros(2, 3)) == 0.0
    assert heatmap_pck(torch.zeros(0, 3, 8, 8), torch.zeros(0, 3, 8, 8)) == 0.0
    assert heatmap_pck(pred, pred.clone(), torch.ones(2, 3)) == 1.0
    with pytest.raises(ValueError, match=r'\(2, 4\)'):
        heatmap_pck(pred, pred, torch.ones(2, 4))


def _progress_by_loops(pred, target, weights):
    """heatmap_peak_progress keypoint by keypoint, in plain Python."""
    distances, margins = [], []
    for b in range(pred.shape[0]):
        for k in range(pred.shape[1]):
            if weights is not None and weights[b, k] <= 0:
                continue
            p, t = pred[b, k].tolist(), target[b, k].tolist()
            cells = [(v, y, x) for y, row in enumerate(p)
                     for x, v in enumerate(row)]
            best = max(v for v, _, _ in cells)
            py, px = next((y, x) for v, y, x in cells if v == best)
            flat_t = [v for row in t for v in row]
            ty, tx = divmod(flat_t.index(max(flat_t)), len(t[0]))
            distances.append(math.hypot(py - ty, px - tx))
            margins.append(p[ty][tx] - best)
    return -sum(distances) / len(distances), sum(margins) / len(margins)


@pytest.mark.parametrize('seed', range(4))
def test_heatmap_peak_progress_matches_a_loop(seed):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(2, 3, 6, 5, generator=g)
    target = torch.rand(2, 3, 6, 5, generator=g)
    weights = torch.tensor([[1., 0., 1.], [1., 1., 0.]])
    for w in (weights, None):
        assert heatmap_peak_progress(pred, target, w) == pytest.approx(
            _progress_by_loops(pred, target, w), abs=1e-9)
    # the target itself: no distance, no margin
    assert heatmap_peak_progress(target, target) == (0.0, 0.0)
    assert heatmap_peak_progress(pred, target, torch.zeros(2, 3)) == (0.0,
                                                                      0.0)


@pytest.mark.parametrize('means,stds', [
    ((0., 0., 0., 0.), (1., 1., 1., 1.)),
    ((0., 0., 0., 0.), (0.1, 0.1, 0.2, 0.2)),
    ((0.1, -0.2, 0.3, 0.05), (0.5, 1., 2., 3.)),
])
@pytest.mark.parametrize('scale', [0.1, 1.0, 1e3])
def test_box_decoding_and_iou_are_mmdets_bit_for_bit(means, stds, scale):
    """The torch-only decode and aligned IoU equal mmdet's coder and
    ``bbox_overlaps`` exactly, clamped sizes and non-finite deltas too."""
    coders = pytest.importorskip('mmdet.models.task_modules.coders')
    overlaps = pytest.importorskip('mmdet.structures.bbox').bbox_overlaps
    gen = torch.Generator().manual_seed(0)
    pred, target = (torch.randn(500, 4, generator=gen) * scale
                    for _ in range(2))
    pred[:3] = torch.tensor([float('inf'), float('-inf'), float('nan'), 0.])
    coder = coders.DeltaXYWHBBoxCoder(target_means=means, target_stds=stds)
    prior = pred.new_tensor([0., 0., 1., 1.]).expand(pred.shape[0], 4)
    ours = [decode_on_unit_prior(d, means, stds) for d in (pred, target)]
    theirs = [coder.decode(prior, d) for d in (pred, target)]
    for a, b in zip(ours, theirs):
        assert torch.equal(a.nan_to_num(7.0), b.nan_to_num(7.0))
    assert torch.equal(
        aligned_box_iou(*ours).nan_to_num(7.0),
        overlaps(*theirs, mode='iou', is_aligned=True).nan_to_num(7.0))
