"""Unit tests of the searched-loss modules on small tensors.

Every module against the loss of the OpenMMLab package it replaces (values
and reductions), float64 gradcheck, empty inputs and excluded elements whose
value overflows. Validation and config building: test_searched_validation.
"""
import pytest
import torch

from autoloss_zero.losses import (SearchedBoxLoss, SearchedHeatmapLoss,
                                  SearchedMaskLoss,
                                  SearchedSegLoss, SearchedSigmoidClsLoss,
                                  SearchedSoftmaxClsLoss)

CE = 'neg(mul(y,log(yhat)))'
BCE = 'neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),log(add(1,neg(yhat))))))'
L1 = 'abs(add(yhat,neg(y)))'
MSE = 'square(add(yhat,neg(y)))'
IOU = 'add(1,neg(mul(i,inv(u))))'
GIOU = 'add(add(1,neg(mul(i,inv(u)))),mul(add(e,neg(u)),inv(e)))'


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def close(a, b, rtol=1e-5, atol=1e-6):
    torch.testing.assert_close(a.reshape(b.shape).to(b.dtype), b, rtol=rtol,
                               atol=atol)


# ---------------------------------------------------------------- inputs --
def seg_inputs(n=2, c=4, h=5, w=6, dtype=torch.float32, seed=0):
    g = gen(seed)
    logits = torch.randn(n, c, h, w, generator=g, dtype=dtype) * 2
    label = torch.randint(0, c, (n, h, w), generator=g)
    label[:, 0, :2] = 255  # ignored pixels
    weight = torch.rand(n, h, w, generator=g, dtype=dtype)
    return logits, label, weight


def rpn_inputs(m=12, dtype=torch.float32, seed=0):
    g = gen(seed)
    score = torch.randn(m, 1, generator=g, dtype=dtype)
    labels = torch.randint(0, 2, (m, ), generator=g)
    weight = (torch.rand(m, generator=g) > 0.3).to(dtype)
    return score, labels, weight


def roi_inputs(r=10, c=5, dtype=torch.float32, seed=0):
    g = gen(seed)
    score = torch.randn(r, c + 1, generator=g, dtype=dtype)
    labels = torch.randint(0, c + 1, (r, ), generator=g)
    weight = (torch.rand(r, generator=g) > 0.3).to(dtype)
    return score, labels, weight


def delta_inputs(p=8, dtype=torch.float32, seed=0):
    g = gen(seed)
    pred = torch.randn(p, 4, generator=g, dtype=dtype)
    target = torch.randn(p, 4, generator=g, dtype=dtype)
    weight = (torch.rand(p, 1, generator=g) > 0.3).to(dtype).expand(p, 4)
    return pred, target, weight.contiguous()


def box_inputs(p=8, dtype=torch.float64, seed=0, overlap=True):
    """Valid x1y1x2y2 boxes; ``overlap`` keeps every pair intersecting."""
    g = gen(seed)
    xy = torch.rand(p, 2, generator=g, dtype=dtype) * 10
    wh = torch.rand(p, 2, generator=g, dtype=dtype) * 5 + 2
    target = torch.cat([xy, xy + wh], dim=1)
    shift = torch.rand(p, 4, generator=g, dtype=dtype) - 0.5
    if not overlap:
        shift[: p // 2] += 20  # disjoint boxes
    return target + shift, target


def mask_inputs(p=3, c=4, s=7, dtype=torch.float32, seed=0):
    g = gen(seed)
    preds = torch.randn(p, c, s, s, generator=g, dtype=dtype)
    targets = (torch.rand(p, s, s, generator=g) > 0.5).to(dtype)
    labels = torch.randint(0, c, (p, ), generator=g)
    return preds, targets, labels


def heatmap_inputs(b=2, k=3, h=6, w=5, dtype=torch.float32, seed=0):
    g = gen(seed)
    pred = torch.randn(b, k, h, w, generator=g, dtype=dtype)
    target = torch.rand(b, k, h, w, generator=g, dtype=dtype)
    weights = torch.ones(b, k, dtype=dtype)
    weights[0, 1] = 0
    return pred, target, weights


# ------------------------------------------- equivalence with mm* losses --
@pytest.mark.parametrize('avg_non_ignore', [True, False])
@pytest.mark.parametrize('with_weight', [False, True])
def test_seg_ce_tree_is_mmseg_cross_entropy(avg_non_ignore, with_weight):
    from mmseg.models.losses import CrossEntropyLoss
    logits, label, weight = seg_inputs()
    weight = weight if with_weight else None
    ours = SearchedSegLoss(CE, loss_weight=0.7, avg_non_ignore=avg_non_ignore)
    ref = CrossEntropyLoss(loss_weight=0.7, avg_non_ignore=avg_non_ignore)
    close(ours(logits, label, weight=weight, ignore_index=255),
          ref(logits, label, weight=weight, ignore_index=255))


def test_seg_binary_head_is_mmseg_sigmoid_cross_entropy():
    from mmseg.models.losses import CrossEntropyLoss
    logits, label, _ = seg_inputs(c=2)
    logits = logits[:, :1]
    ours = SearchedSegLoss(BCE)
    ref = CrossEntropyLoss(use_sigmoid=True, avg_non_ignore=True)
    close(ours(logits, label), ref(logits, label, ignore_index=255))


def test_seg_is_finite_on_extreme_logits():
    logits, label, _ = seg_inputs()
    logits = (logits.sign() * 1e4).requires_grad_()
    loss = SearchedSegLoss(CE)(logits, label)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert float(loss) > 1  # confident mistakes cost, not NaN


@pytest.mark.parametrize('reduction', [None, 'mean', 'sum', 'none'])
def test_softmax_cls_reductions_match_mmdet(reduction):
    from mmdet.models.losses import CrossEntropyLoss
    score, labels, weight = roi_inputs()
    ours = SearchedSoftmaxClsLoss(CE, loss_weight=2.0)
    ref = CrossEntropyLoss(loss_weight=2.0)
    avg = 7.0 if reduction in (None, 'mean') else None
    close(ours(score, labels, weight, avg_factor=avg,
               reduction_override=reduction),
          ref(score, labels, weight, avg_factor=avg,
              reduction_override=reduction))
    # mean without avg_factor: mean over rows, as mmdet
    if reduction == 'mean':
        close(ours(score, labels, weight, reduction_override='mean'),
              ref(score, labels, weight, reduction_override='mean'))


@pytest.mark.parametrize('reduction', [None, 'mean', 'sum', 'none'])
def test_sigmoid_cls_reductions_match_mmdet(reduction):
    from mmdet.models.losses import CrossEntropyLoss
    score, labels, weight = rpn_inputs()
    ours = SearchedSigmoidClsLoss(BCE, use_sigmoid=True)
    ref = CrossEntropyLoss(use_sigmoid=True)
    avg = 5.0 if reduction in (None, 'mean') else None
    close(ours(score, labels, weight, avg_factor=avg,
               reduction_override=reduction),
          ref(score, labels, weight, avg_factor=avg,
              reduction_override=reduction))


@pytest.mark.parametrize('reduction', [None, 'mean', 'sum', 'none'])
def test_box_l1_reductions_match_mmdet(reduction):
    from mmdet.models.losses import L1Loss
    pred, target, weight = delta_inputs()
    ours = SearchedBoxLoss(L1, loss_weight=1.5)
    ref = L1Loss(loss_weight=1.5)
    avg = 6.0 if reduction in (None, 'mean') else None
    value = ours(pred, target, weight, avg_factor=avg,
                 reduction_override=reduction)
    expected = ref(pred, target, weight, avg_factor=avg,
                   reduction_override=reduction)
    if reduction == 'none':  # per row: the sum over the 4 coordinates
        assert value.shape == (pred.shape[0], )
        expected = expected.sum(dim=1)
    close(value, expected)


@pytest.mark.parametrize('tree,loss_type', [(IOU, 'IoULoss'),
                                            (GIOU, 'GIoULoss')])
@pytest.mark.parametrize('overlap', [True, False])
def test_iou_leaf_trees_match_mmdet(tree, loss_type, overlap):
    from mmdet.models import losses
    pred, target = box_inputs(dtype=torch.float32, overlap=overlap)
    weight = torch.ones(pred.shape[0], 4)
    weight[1] = 0
    kwargs = dict(mode='linear') if loss_type == 'IoULoss' else {}
    ref = getattr(losses, loss_type)(loss_weight=2.0, **kwargs)
    ours = SearchedBoxLoss(tree, mode='iou', loss_weight=2.0)
    for avg in (None, 3.0):
        close(ours(pred, target, weight, avg_factor=avg),
              ref(pred, target, weight, avg_factor=avg), atol=1e-5)
    close(ours(pred, target, weight, reduction_override='none'),
          ref(pred, target, weight, reduction_override='none'), atol=1e-5)


def test_mask_tree_is_mmdet_mask_cross_entropy():
    from mmdet.models.losses import CrossEntropyLoss
    preds, targets, labels = mask_inputs()
    ours = SearchedMaskLoss(BCE, loss_weight=1.2)
    ref = CrossEntropyLoss(use_mask=True, loss_weight=1.2)
    close(ours(preds, targets, labels), ref(preds, targets, labels))


@pytest.mark.parametrize('weights', ['keypoint', 'pixel', 'none'])
@pytest.mark.parametrize('with_mask', [False, True])
def test_heatmap_mse_tree_is_k_times_mmpose(weights, with_mask):
    from mmpose.models.losses import KeypointMSELoss
    pred, target, kw = heatmap_inputs()
    if weights == 'pixel':
        kw = torch.rand(pred.shape, generator=gen(3))
    elif weights == 'none':
        kw = None
    mask = (torch.rand(2, 1, 6, 5, generator=gen(4)) > 0.3).float() \
        if with_mask else None
    ours = SearchedHeatmapLoss(MSE)
    ref = KeypointMSELoss(use_target_weight=True)
    close(ours(pred, target, kw, mask),
          pred.shape[1] * ref(pred, target, kw, mask))


def test_loss_weight_scales_and_set_tree_swaps():
    logits, label, _ = seg_inputs()
    base = SearchedSegLoss(CE)(logits, label)
    module = SearchedSegLoss(MSE, loss_weight=3.0)
    assert not torch.allclose(module(logits, label), 3 * base)
    module.set_tree(CE)
    close(module(logits, label), 3 * base)


# --------------------------------------------------------------- gradcheck --
def _grad_cases():
    logits, label, weight = seg_inputs(n=1, c=3, h=3, w=4,
                                       dtype=torch.float64)
    score, labels, w = rpn_inputs(m=6, dtype=torch.float64)
    rscore, rlabels, rw = roi_inputs(r=5, c=3, dtype=torch.float64)
    pred, target, dw = delta_inputs(p=5, dtype=torch.float64)
    bpred, btarget = box_inputs(p=4)
    mpred, mtarget, mlabels = mask_inputs(p=2, c=3, s=4,
                                          dtype=torch.float64)
    hpred, htarget, hw = heatmap_inputs(b=2, k=2, h=3, w=3,
                                        dtype=torch.float64)
    return {
        'seg': (SearchedSegLoss(CE), logits, (label, weight)),
        'seg_mean_hw': (SearchedSegLoss('neg(mul(y,log(mean_hw(yhat))))'),
                        logits, (label, weight)),
        'rpn': (SearchedSigmoidClsLoss(BCE), score, (labels, w, 4.0)),
        'roi': (SearchedSoftmaxClsLoss(CE), rscore, (rlabels, rw, 3.0)),
        'deltas': (SearchedBoxLoss(MSE), pred, (target, dw, 3.0)),
        'iou': (SearchedBoxLoss(GIOU, mode='iou'), bpred, (btarget, )),
        'mask': (SearchedMaskLoss(BCE), mpred, (mtarget, mlabels)),
        'heatmap': (SearchedHeatmapLoss(MSE), hpred, (htarget, hw)),
    }


@pytest.mark.parametrize('case', list(_grad_cases()))
def test_float64_gradcheck(case):
    module, pred, rest = _grad_cases()[case]
    pred = pred.detach().requires_grad_()
    out = module(pred, *rest)
    assert out.dtype == torch.float64
    assert torch.autograd.gradcheck(lambda p: module(p, *rest), (pred, ))


# ----------------------------------------------------- excluded elements --
def test_zero_weight_rows_with_overflowing_values_stay_finite():
    """RPN negatives: zero weight and zero targets; the tree overflows there
    ((1/eps)**4 > float32 max), yet value and gradient stay finite and the
    negatives neither count nor receive gradient."""
    pred, target, weight = delta_inputs(p=10)
    neg_rows = weight[:, 0] == 0
    assert neg_rows.any() and (~neg_rows).any()
    target[neg_rows] = 0
    tree = 'mul(yhat,square(square(inv(y))))'
    module = SearchedBoxLoss(tree)
    pred = pred.requires_grad_()
    loss = module(pred, target, weight, avg_factor=4.0)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(pred.grad).all()
    assert (pred.grad[neg_rows] == 0).all()
    pos = ~neg_rows
    close(loss, module(pred[pos].detach(), target[pos], weight[pos], 4.0))
    # a tree like log(y*y) is finite at zero targets as well
    value = SearchedBoxLoss('log(mul(y,y))')(pred, target, weight, 4.0)
    assert torch.isfinite(value)


@pytest.mark.parametrize('tree', [CE, 'exp(mul(yhat,add(y,1)))'])
def test_ignored_pixels_neither_count_nor_get_gradient(tree):
    logits, label, _ = seg_inputs()
    logits = logits.requires_grad_()
    module = SearchedSegLoss(tree)
    loss = module(logits, label)
    loss.backward()
    ignored = (label == 255)[:, None].expand_as(logits)
    assert (logits.grad[ignored] == 0).all()
    assert (logits.grad[~ignored] != 0).any()
    changed = torch.where(ignored, logits.detach() * 50, logits.detach())
    close(module(changed, label), loss.detach())


# ------------------------------------------------------------------ empty --
EMPTY = {
    'seg': lambda: (SearchedSegLoss(CE), torch.zeros(0, 3, 4, 4),
                    (torch.zeros(0, 4, 4, dtype=torch.long), )),
    'rpn': lambda: (SearchedSigmoidClsLoss(BCE), torch.zeros(0, 1),
                    (torch.zeros(0, dtype=torch.long), torch.zeros(0))),
    'roi': lambda: (SearchedSoftmaxClsLoss(CE), torch.zeros(0, 6),
                    (torch.zeros(0, dtype=torch.long), torch.zeros(0), 0.0)),
    'deltas': lambda: (SearchedBoxLoss(L1), torch.zeros(0, 4),
                       (torch.zeros(0, 4), torch.zeros(0, 4), 0.0)),
    'iou': lambda: (SearchedBoxLoss(IOU, mode='iou'), torch.zeros(0, 4),
                    (torch.zeros(0, 4), )),
    'mask': lambda: (SearchedMaskLoss(BCE), torch.zeros(0, 5, 28, 28),
                     (torch.zeros(0, 28, 28),
                      torch.zeros(0, dtype=torch.long))),
    'heatmap': lambda: (SearchedHeatmapLoss(MSE), torch.zeros(0, 17, 8, 6),
                        (torch.zeros(0, 17, 8, 6), torch.zeros(0, 17))),
}


@pytest.mark.parametrize('case', list(EMPTY))
def test_empty_input_is_a_zero_with_grad_fn(case):
    module, pred, rest = EMPTY[case]()
    pred = pred.requires_grad_()
    loss = module(pred, *rest)
    assert loss.shape == () and float(loss) == 0.0
    assert loss.grad_fn is not None
    loss.backward()
    assert pred.grad is not None and pred.grad.shape == pred.shape


@pytest.mark.parametrize('cls', [SearchedSoftmaxClsLoss, SearchedBoxLoss])
def test_empty_input_reduction_none_is_empty(cls):
    module = cls(CE if cls is SearchedSoftmaxClsLoss else L1)
    if cls is SearchedBoxLoss:
        out = module(torch.zeros(0, 4), torch.zeros(0, 4),
                     reduction_override='none')
    else:
        out = module(torch.zeros(0, 6), torch.zeros(0, dtype=torch.long),
                     reduction_override='none')
    assert out.shape == (0, )
