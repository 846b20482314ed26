"""Fast tensor segmentation metrics: hand-computed cases, edge cases, API."""
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F

from autoloss_zero.metrics import (SEG_REJECTION_METRICS, bf1, biou,
                                   confusion_areas, fwiou, gacc,
                                   get_seg_metric, macc, miou)

I = 255  # ignore
# 1x4x4 hand case. Valid pixels: 14.
#   class 0: |G|=4, |P|=4, |G∩P|=3 -> IoU 3/5, Acc 3/4
#   class 1: |G|=6, |P|=6, |G∩P|=5 -> IoU 5/7, Acc 5/6
#   class 2: |G|=4, |P|=4, |G∩P|=3 -> IoU 3/5, Acc 3/4
#   class 3: absent from both -> not averaged
LABEL = torch.tensor([[[0, 0, 1, 1],
                       [0, 0, 1, 1],
                       [2, 2, 1, 1],
                       [2, 2, I, I]]])
PRED = torch.tensor([[[0, 0, 1, 1],
                      [0, 1, 1, 1],
                      [2, 2, 2, 1],
                      [0, 2, 1, 2]]])  # the last two are on ignored pixels
EXPECTED = {
    'mIoU': Fraction(3, 5) / 3 + Fraction(5, 7) / 3 + Fraction(3, 5) / 3,
    'FWIoU': Fraction(4, 14) * Fraction(3, 5) + Fraction(6, 14) * Fraction(
        5, 7) + Fraction(4, 14) * Fraction(3, 5),
    'mAcc': (Fraction(3, 4) + Fraction(5, 6) + Fraction(3, 4)) / 3,
    'gAcc': Fraction(11, 14),
}


def one_hot_logits(labels, num_classes):
    return F.one_hot(labels, num_classes).permute(0, 3, 1, 2).float() * 5


def test_hand_values_are_the_fractions():
    assert EXPECTED == {'mIoU': Fraction(67, 105), 'FWIoU': Fraction(159, 245),
                        'mAcc': Fraction(7, 9), 'gAcc': Fraction(11, 14)}


@pytest.mark.parametrize('name', ['mIoU', 'FWIoU', 'mAcc', 'gAcc'])
def test_region_metrics_hand_case(name):
    metric = SEG_REJECTION_METRICS[name]
    expected = float(EXPECTED[name])
    # from logits (argmax over C=4), probabilities, and label maps
    logits = one_hot_logits(PRED, 4)
    assert metric(logits, LABEL) == pytest.approx(expected, abs=1e-12)
    assert metric(logits.softmax(1), LABEL) == pytest.approx(expected,
                                                             abs=1e-12)
    assert metric(PRED, LABEL, num_classes=4) == pytest.approx(expected,
                                                               abs=1e-12)
    assert metric(PRED, LABEL) == pytest.approx(expected, abs=1e-12)


def test_class_present_only_in_prediction_counts_for_miou_not_macc():
    pred = PRED.clone()
    pred[0, 0, 0] = 3  # class 3: predicted once, never in the label
    # class 0 now: |P|=3, |G∩P|=2, union 5
    assert miou(pred, LABEL, num_classes=4) == pytest.approx(
        float((Fraction(2, 5) + Fraction(5, 7) + Fraction(3, 5) + 0) / 4))
    assert macc(pred, LABEL, num_classes=4) == pytest.approx(
        float((Fraction(2, 4) + Fraction(5, 6) + Fraction(3, 4)) / 3))


def test_confusion_areas_match_hand_counts():
    inter, union, area_pred, area_label = confusion_areas(PRED, LABEL, 4)
    assert inter.tolist() == [3, 5, 3, 0]
    assert union.tolist() == [5, 7, 5, 0]
    assert area_pred.tolist() == [4, 6, 4, 0]
    assert area_label.tolist() == [4, 6, 4, 0]


def test_prediction_outside_class_range_is_wrong():
    label = torch.tensor([[[0, 1]]])
    pred = torch.tensor([[[7, 1]]])  # 7 >= num_classes
    assert gacc(pred, label, num_classes=2) == 0.5
    assert miou(pred, label, num_classes=2) == 0.5  # IoU0 = 0, IoU1 = 1


def test_ignored_pixels_change_nothing():
    label = LABEL.clone()
    pred = PRED.clone()
    pred[0, 3, 2:] = torch.tensor([0, 0])
    for metric in SEG_REJECTION_METRICS.values():
        assert metric(pred, label, num_classes=4) == metric(
            PRED, LABEL, num_classes=4)


def test_custom_ignore_index():
    label = LABEL.clone()
    label[label == I] = -1
    assert miou(PRED, label, ignore_index=-1, num_classes=4) == \
        pytest.approx(float(EXPECTED['mIoU']))


@pytest.mark.parametrize('name', list(SEG_REJECTION_METRICS))
def test_perfect_prediction_scores_one(name):
    gen = torch.Generator().manual_seed(0)
    label = torch.randint(0, 5, (2, 9, 11), generator=gen)
    label[:, :2, :3] = I
    logits = one_hot_logits(label.clamp(max=4), 6)
    assert SEG_REJECTION_METRICS[name](logits, label) == 1.0


@pytest.mark.parametrize('name', list(SEG_REJECTION_METRICS))
def test_all_ignored_scores_zero(name):
    label = torch.full((1, 4, 4), I)
    assert SEG_REJECTION_METRICS[name](torch.zeros(1, 3, 4, 4), label) == 0.0


@pytest.mark.parametrize('name', list(SEG_REJECTION_METRICS))
def test_random_scores_in_unit_interval(name):
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(5, 21, 16, 16, generator=gen)
    label = torch.randint(0, 21, (5, 16, 16), generator=gen)
    value = SEG_REJECTION_METRICS[name](logits, label)
    assert isinstance(value, float) and 0.0 <= value < 1.0
    if name != 'BF1':  # on noise every pixel is a contour pixel
        assert value < 0.3


def test_ties_pick_the_first_class():
    # all-zero logits predict class 0 everywhere (argmax semantics): the 4
    # valid pixels of class 0 are correct out of 14
    assert gacc(torch.zeros(1, 3, 4, 4), LABEL) == pytest.approx(4 / 14)


def test_single_channel_is_binary_logit():
    label = torch.tensor([[[0, 1, 1, 0]]])
    logits = torch.tensor([[[[-2.0, 3.0, -1.0, -4.0]]]])  # pred 0 1 0 0
    assert gacc(logits, label) == 0.75
    assert miou(logits, label) == pytest.approx((Fraction(2, 3) + Fraction(
        1, 2)) / 2)


def test_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r'\(1, 3, 4, 5\).*\(1, 4, 4\)'):
        miou(torch.zeros(1, 3, 4, 5), LABEL)
    with pytest.raises(ValueError, match='num_classes=3'):
        miou(torch.zeros(1, 4, 4, 4), LABEL, num_classes=3)
    with pytest.raises(ValueError, match='boundary_width'):
        biou(PRED, LABEL, boundary_width=0)


def test_get_seg_metric():
    assert get_seg_metric('BIoU') is biou
    assert get_seg_metric('BF1') is bf1
    assert get_seg_metric('FWIoU') is fwiou
    with pytest.raises(ValueError, match=r"'mDice'.*'mIoU'.*'BF1'"):
        get_seg_metric('mDice')
