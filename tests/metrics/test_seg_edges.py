"""BIoU / BF1 (Auto Seg-Loss definitions): hand cases, scipy references."""
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autoloss_zero.metrics import (DenseSegMetric, bf1, biou, boundary_iou,
                                   edge_match_counts, label_edges, trimap,
                                   trimap_areas)

ndimage = pytest.importorskip('scipy.ndimage')

I = 255


def halves(split, size=6):
    """(1, size, size): class 0 on columns < split, class 1 from split on."""
    m = torch.zeros(1, size, size, dtype=torch.long)
    m[0, :, split:] = 1
    return m


GT = halves(3)


def test_edges_are_the_class_pixels_next_to_another_class_not_the_frame():
    edges = label_edges(GT)[0]
    assert edges.nonzero()[:, 1].unique().tolist() == [2, 3]
    assert int(edges.sum()) == 12
    # a uniform image has no edge at all: the frame is not one
    assert not label_edges(torch.zeros(1, 5, 7, dtype=torch.long)).any()
    # an ignored pixel is of no class: its neighbours become edges
    label = torch.zeros(1, 5, 5, dtype=torch.long)
    label[0, 2, 2] = I
    assert int(trimap(label, 2, radius=1).sum()) == 25
    assert int(label_edges(torch.where(label == I, -1, label)).sum()) == 8


def test_biou_hand_case_shifted_boundary():
    # r = 1: the trimap is columns 1..4 (24 px). The prediction moves the
    # boundary one column right: column 3 (6 px of class 1) is predicted 0.
    # class 0: inter 12, gt 12, pred 18 -> 2/3; class 1: inter 6, gt 12,
    # pred 6 -> 1/2.
    pred = halves(4)
    inter, union, _, _ = trimap_areas(pred, GT, 2, radius=1)
    assert inter.tolist() == [12, 6] and union.tolist() == [18, 12]
    expected = (Fraction(2, 3) + Fraction(1, 2)) / 2
    assert biou(pred, GT, boundary_width=1) == pytest.approx(float(expected))
    # the default r = 5 covers the whole 6x6 image: BIoU = mIoU
    assert int(trimap(GT, 2).sum()) == 36


@pytest.mark.parametrize('shift,tolerance,expected', [
    (1, 1, 1.0),  # edges one column apart match within t = 1
    (2, 1, 0.0),  # two columns apart they do not
    (2, 2, 1.0),
])
def test_bf1_hand_cases(shift, tolerance, expected):
    assert bf1(halves(3 + shift), GT, boundary_width=tolerance) == expected


def test_images_without_boundary():
    uniform = torch.ones(1, 6, 6, dtype=torch.long)
    # alone: no ground-truth edge, no trimap, nothing to score
    assert biou(uniform, uniform, num_classes=2) == 0.0
    assert bf1(uniform, uniform, num_classes=2) == 0.0
    # pooled with an image that has edges, a perfect one adds nothing
    pred = torch.cat([halves(4), uniform])
    label = torch.cat([GT, uniform])
    for metric in (biou, bf1):
        assert metric(pred, label, boundary_width=1) == metric(
            halves(4), GT, boundary_width=1)
    # a predicted edge where the ground truth has none is unmatched
    wrong = torch.cat([GT, halves(3)])
    assert bf1(wrong, label, boundary_width=1) == pytest.approx(
        float(Fraction(2, 3)))  # class 0: P = 6/12, R = 1; class 1: same


def test_validates_widths():
    with pytest.raises(ValueError, match='boundary_width'):
        bf1(GT, GT, boundary_width=0)
    with pytest.raises(ValueError, match='radius'):
        trimap(GT, 2, radius=-1)
    with pytest.raises(ValueError, match='tolerance'):
        edge_match_counts(GT, GT, 2, tolerance=1.5)


# --- independent references, written from the definitions ---------------

def _edges(mask):
    """Pixels of ``mask`` whose in-frame 3x3 neighbourhood leaves it."""
    # border_value=1: positions beyond the frame do not erode the mask
    return mask & ~ndimage.binary_erosion(mask, np.ones((3, 3)),
                                          border_value=1)


def _dilate(mask, radius):
    size = 2 * radius + 1
    return ndimage.binary_dilation(mask, np.ones((size, size)))


def scipy_reference(pred, label, num_classes, r, t, drop_bg=False):
    """(BIoU, BF1) from explicit per-image, per-class scipy morphology."""
    confusion = np.zeros((num_classes, num_classes + 1), np.int64)
    pm, pt, gm, gt = (np.zeros(num_classes) for _ in range(4))
    for p, g in zip(pred, label):
        valid = (g >= 0) & (g < num_classes)
        p = np.where(valid, p, -1)
        gt_edges = [_edges(g == c) for c in range(num_classes)]
        pred_edges = [_edges(p == c) for c in range(num_classes)]
        band = np.zeros(g.shape, bool)
        for c in range(1 if drop_bg else 0, num_classes):
            band |= _dilate(gt_edges[c], r)
        inside = band & valid
        for y, x in zip(*np.nonzero(inside)):
            confusion[g[y, x], min(p[y, x], num_classes)] += 1
        for c in range(num_classes):
            pm[c] += (pred_edges[c] & _dilate(gt_edges[c], t)).sum()
            pt[c] += pred_edges[c].sum()
            gm[c] += (gt_edges[c] & _dilate(pred_edges[c], t)).sum()
            gt[c] += gt_edges[c].sum()
    inter = np.diag(confusion[:, :num_classes])
    union = confusion.sum(1) + confusion[:, :num_classes].sum(0) - inter
    ious = [i / u for i, u in zip(inter, union) if u]
    f1s = []
    for c in range(1 if drop_bg else 0, num_classes):
        if gt[c]:
            prec = pm[c] / pt[c] if pt[c] else 0.0
            rec = gm[c] / gt[c]
            f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return (np.mean(ious) if ious else 0.0), (np.mean(f1s) if f1s else 0.0)


def pooling_reference(pred, label, num_classes, r, t):
    """(BIoU, BF1) by the pooling formulation of Auto Seg-Loss's code: mean
    pooling without padding for edges, max pooling for dilation."""
    def one_hot(m):
        m = torch.where((m >= 0) & (m < num_classes), m, num_classes)
        one_hot = F.one_hot(m, num_classes + 1)[..., :-1]
        return one_hot.permute(0, 3, 1, 2).float()

    def edges(h):
        mean = F.avg_pool2d(h, 3, 1, 1, count_include_pad=False)
        return (h != mean).float() * h

    def dilate(h, w):
        return F.max_pool2d(h, 2 * w + 1, 1, w)

    gt_e, pred_e = edges(one_hot(label)), edges(one_hot(pred))
    band = dilate(gt_e, r).amax(1).bool()
    keep = band & (label >= 0) & (label < num_classes)
    index = num_classes * label[keep] + pred[keep]
    confusion = torch.bincount(index, minlength=num_classes**2).view(
        num_classes, num_classes).double()
    inter = confusion.diag()
    iou = inter / (confusion.sum(0) + confusion.sum(1) - inter)
    pm = (pred_e * dilate(gt_e, t)).sum((0, 2, 3))
    gm = (gt_e * dilate(pred_e, t)).sum((0, 2, 3))
    prec = pm / pred_e.sum((0, 2, 3)).clamp(min=1)
    rec = gm / gt_e.sum((0, 2, 3))  # nan for classes without gt edges
    f1 = torch.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    f1 = torch.where(torch.isnan(rec), float('nan'), f1)
    return float(iou.nanmean()), float(f1.double().nanmean())


def random_maps(seed, num_classes=4, ignore=0.05, shape=(3, 5, 6)):
    rng = np.random.default_rng(seed)
    # blocky maps so that edges are neither absent nor everywhere
    label = np.repeat(np.repeat(rng.integers(0, num_classes, shape), 4, 1),
                      3, 2)
    pred = label.copy()
    flip = rng.random(pred.shape) < 0.1
    pred[flip] = rng.integers(0, num_classes, flip.sum())
    pred = np.roll(pred, 1, axis=2)  # a shifted boundary, too
    label[rng.random(label.shape) < ignore] = I
    label[-1] = 2  # an image without any ground-truth edge
    return pred, label


@pytest.mark.parametrize('seed,r,t', [(0, 1, 1), (1, 2, 3), (2, 5, 5)])
@pytest.mark.parametrize('drop_bg', [False, True])
def test_matches_scipy_reference(seed, r, t, drop_bg):
    pred, label = random_maps(seed)
    ref_biou, ref_bf1 = scipy_reference(pred, label, 4, r, t, drop_bg)
    pred_t, label_t = torch.from_numpy(pred), torch.from_numpy(label)
    assert biou(pred_t, label_t, num_classes=4, boundary_width=r,
                drop_background=drop_bg) == pytest.approx(ref_biou,
                                                          abs=1e-12)
    assert bf1(pred_t, label_t, num_classes=4, boundary_width=t,
               drop_background=drop_bg) == pytest.approx(ref_bf1, abs=1e-12)
    assert 0.0 < ref_biou < 1.0 and 0.0 < ref_bf1 < 1.0


@pytest.mark.parametrize('seed,r,t', [(3, 1, 2), (4, 5, 5)])
def test_matches_pooling_formulation_without_ignored_pixels(seed, r, t):
    pred, label = (torch.from_numpy(m)
                   for m in random_maps(seed, ignore=0.0))
    ref_biou, ref_bf1 = pooling_reference(pred, label, 4, r, t)
    assert biou(pred, label, num_classes=4,
                boundary_width=r) == pytest.approx(ref_biou, abs=1e-12)
    assert bf1(pred, label, num_classes=4,
               boundary_width=t) == pytest.approx(ref_bf1, abs=1e-6)


def test_differs_from_boundary_iou():
    pred, label = (torch.from_numpy(m) for m in random_maps(5))
    assert biou(pred, label, num_classes=4, boundary_width=3) != \
        pytest.approx(boundary_iou(pred, label, num_classes=4,
                                   boundary_width=3), abs=1e-3)


def test_dense_metric_pools_like_the_tensor_metrics():
    pred, label = (torch.from_numpy(m) for m in random_maps(6))
    metric = DenseSegMetric(seg_metrics=['BIoU', 'BF1', 'BoundaryIoU'],
                            boundary_width=2, drop_background=True)
    metric.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
    metric.process({}, [
        dict(pred_sem_seg=dict(data=p[None]), gt_sem_seg=dict(data=g[None]))
        for p, g in zip(pred, label)
    ])
    result = metric.evaluate(len(pred))
    kwargs = dict(num_classes=4, boundary_width=2, drop_background=True)
    assert result['BIoU'] == pytest.approx(100 * biou(pred, label, **kwargs))
    assert result['BF1'] == pytest.approx(100 * bf1(pred, label, **kwargs))
    assert result['BoundaryIoU'] == pytest.approx(
        100 * boundary_iou(pred, label, num_classes=4))
