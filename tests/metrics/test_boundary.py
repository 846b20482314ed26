"""Boundary IoU (Cheng et al.) / contour F1 (Csurka et al.): hand cases and
a brute-force reference. (``biou`` and ``bf1`` here name these two metrics;
the BIoU / BF1 of Auto Seg-Loss are tested in test_seg_edges.py.)"""
import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch

from autoloss_zero.metrics import boundary_iou as biou
from autoloss_zero.metrics import contour_f1 as bf1
from autoloss_zero.metrics import (boundary, boundary_band,
                                   boundary_iou_areas, contour_match_counts)

I = 255


def square(size, rows, cols):
    """(1, size, size) map of background 0 with class 1 on rows x cols."""
    m = torch.zeros(1, size, size, dtype=torch.long)
    m[0, rows[0]:rows[1] + 1, cols[0]:cols[1] + 1] = 1
    return m


GT = square(12, (4, 7), (3, 6))  # 4x4 square, 3 px from every side
SHIFT1 = square(12, (4, 7), (4, 7))  # shifted right by 1 px
SHIFT2 = square(12, (4, 7), (5, 8))  # shifted right by 2 px


def test_band_of_square_width1_and_2():
    band = boundary_band(GT, 1)[0]
    inner = band & (GT[0] == 1)
    assert int(inner.sum()) == 12  # 4x4 square minus its 2x2 interior
    # background: 44 frame pixels + the 20-pixel ring around the square
    assert int((band & (GT[0] == 0)).sum()) == 44 + 20
    assert int((boundary_band(GT, 2)[0] & (GT[0] == 1)).sum()) == 16


@pytest.mark.parametrize('d', [1, 2, 3])
def test_band_equals_boundary_iou_reference_code(d):
    """``mask_to_boundary`` of the Boundary IoU API (Cheng et al.), with a
    fixed number of erosions d instead of a ratio of the diagonal."""
    cv2 = pytest.importorskip('cv2')
    rng = np.random.default_rng(d)
    label = np.repeat(np.repeat(rng.integers(0, 3, (5, 6)), 3, 0), 2, 1)
    band = boundary_band(torch.from_numpy(label)[None], d)[0].numpy()
    for c in range(3):
        mask = (label == c).astype(np.uint8)
        h, w = mask.shape
        padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT,
                                    value=0)
        eroded = cv2.erode(padded, np.ones((3, 3), np.uint8),
                           iterations=d)[1:h + 1, 1:w + 1]
        np.testing.assert_array_equal(band & (label == c),
                                      (mask - eroded).astype(bool))


def test_biou_square_shifted_by_1px():
    # d = 1. Class 1: the two 12-px perimeters share the 3+3 pixels of the
    # top and bottom rows at columns 4..6: IoU = 6 / 18.
    # Class 0: bands = frame (44) + ring (20) each; the rings share rows 3
    # and 8 at columns 3..7 (10 px): IoU = 54 / 74.
    inter, union, _, _ = boundary_iou_areas(SHIFT1, GT, 2, 1)
    assert inter.tolist() == [54, 6] and union.tolist() == [74, 18]
    expected = (Fraction(6, 18) + Fraction(54, 74)) / 2
    assert expected == Fraction(59, 111)
    assert biou(SHIFT1, GT, boundary_width=1) == pytest.approx(
        float(expected), abs=1e-12)
    # d = 2: the whole 4x4 square is band: IoU_1 = 12 / 20
    inter, union, _, _ = boundary_iou_areas(SHIFT1, GT, 2, 2)
    assert (int(inter[1]), int(union[1])) == (12, 20)


def test_bf1_square_shifted_by_1px_is_within_tolerance():
    assert bf1(SHIFT1, GT, boundary_width=1) == 1.0


def test_bf1_square_shifted_by_2px():
    # d = 1. Class 1: of the 12 predicted contour pixels, the 2 + 2 of the
    # far column and corners are 2 px away: P = R = 8/12, F1 = 2/3.
    # Class 0: of 64 predicted contour pixels (44 frame + 20 ring), 8 are
    # more than 1 px from the gt contour: (3,9), (8,9), (5,4), (6,4) and
    # (4..7, 9). P = R = 56/64 = 7/8 (the picture is mirror-symmetric).
    counts = contour_match_counts(SHIFT2, GT, 2, 1)
    assert [c.tolist() for c in counts] == [[56, 8], [64, 12], [56, 8],
                                            [64, 12]]
    expected = (Fraction(7, 8) + Fraction(2, 3)) / 2
    assert expected == Fraction(37, 48)
    assert bf1(SHIFT2, GT, boundary_width=1) == pytest.approx(
        float(expected), abs=1e-12)
    # with tolerance 2 every contour pixel matches
    assert bf1(SHIFT2, GT, boundary_width=2) == 1.0


def test_ignored_ring_is_excluded_from_boundaries():
    label = torch.zeros(1, 10, 10, dtype=torch.long)
    label[0, 2:8, 2:8] = I  # an ignore band around the object (VOC style)
    label[0, 3:7, 3:7] = 1
    pred = torch.zeros_like(label)
    pred[0, 2:8, 2:8] = 1  # spills over the ignore band
    assert biou(pred, label) == 1.0
    assert bf1(pred, label) == 1.0
    pred[0, 2:8, 2:8] = 0
    pred[0, 3:7, 3:7] = 1
    pred[0, 3, 3] = 0
    assert biou(pred, label) < 1.0 and bf1(pred, label, 1) < 1.0


# --- brute-force reference: explicit loops over pixels and windows -------

def _masks(pred, label, c):
    valid = label != I
    return (pred == c) & valid, (label == c) & valid


def _band(mask, d):
    h, w = mask.shape
    out = np.zeros_like(mask)
    for y, x in zip(*np.nonzero(mask)):
        for dy, dx in itertools.product(range(-d, d + 1), repeat=2):
            yy, xx = y + dy, x + dx
            if not (0 <= yy < h and 0 <= xx < w) or not mask[yy, xx]:
                out[y, x] = True
                break
    return out


def _within(points, targets, d):
    ty, tx = np.nonzero(targets)
    count = 0
    for y, x in zip(*np.nonzero(points)):
        if np.any((np.abs(ty - y) <= d) & (np.abs(tx - x) <= d)):
            count += 1
    return count


def reference(pred, label, num_classes, d):
    ious, f1s = [], []
    for c in range(num_classes):
        inter = union = pm = pt = gm = gt = 0
        for n in range(label.shape[0]):
            p, g = _masks(pred[n], label[n], c)
            bp, bg = _band(p, d), _band(g, d)
            inter += (bp & bg).sum()
            union += (bp | bg).sum()
            cp, cg = _band(p, 1), _band(g, 1)
            pm += _within(cp, cg, d)
            pt += cp.sum()
            gm += _within(cg, cp, d)
            gt += cg.sum()
        if union:
            ious.append(inter / union)
        if pt + gt:
            prec = pm / pt if pt else 0.0
            rec = gm / gt if gt else 0.0
            f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return (np.mean(ious) if ious else 0.0), (np.mean(f1s) if f1s else 0.0)


@pytest.mark.parametrize('seed,d', [(0, 1), (1, 2), (2, 3)])
def test_matches_brute_force_reference(seed, d):
    rng = np.random.default_rng(seed)
    # blocky random maps so that bands are neither empty nor everything
    label = np.repeat(np.repeat(rng.integers(0, 4, (2, 4, 5)), 3, 1), 3, 2)
    pred = label.copy()
    flip = rng.random(pred.shape) < 0.15
    pred[flip] = rng.integers(0, 4, flip.sum())
    label[rng.random(label.shape) < 0.05] = I
    ref_iou, ref_f1 = reference(pred, label, 4, d)
    pred_t, label_t = torch.from_numpy(pred), torch.from_numpy(label)
    assert biou(pred_t, label_t, num_classes=4,
                boundary_width=d) == pytest.approx(ref_iou, abs=1e-12)
    assert bf1(pred_t, label_t, num_classes=4,
               boundary_width=d) == pytest.approx(ref_f1, abs=1e-12)
    assert 0.0 < ref_iou < 1.0 and 0.0 < ref_f1 < 1.0


def test_class_blocks_give_the_same_counts(monkeypatch):
    rng = np.random.default_rng(7)
    label = torch.from_numpy(rng.integers(0, 6, (2, 9, 8)))
    pred = torch.from_numpy(rng.integers(0, 6, (2, 9, 8)))
    whole = contour_match_counts(pred, label, 6, 2)
    monkeypatch.setattr(boundary, '_CHUNK_ELEMENTS', 1)  # one class a block
    for a, b in zip(contour_match_counts(pred, label, 6, 2), whole):
        assert torch.equal(a, b)
