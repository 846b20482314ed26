"""The keyword contract of the mmseg / mmdet losses, and parameter gradients
of searched trees equal to mmdet's losses, through small heads."""
import pytest
import torch
from mmdet.models.losses import CrossEntropyLoss as MMDetCE
from mmdet.models.losses import L1Loss, MSELoss
from mmseg.models.losses import CrossEntropyLoss as MMSegCE

from autoloss_zero.losses import SearchedBoxLoss, SearchedMaskLoss
from autoloss_zero.losses import SearchedSegLoss as SegLoss
from autoloss_zero.losses import SearchedSigmoidClsLoss as RpnLoss
from autoloss_zero.losses import SearchedSoftmaxClsLoss as RoiLoss

from .test_searched_units import BCE, CE, L1, MSE, gen


def seg_inputs(seed=0, n=2, c=4, size=6):
    g = gen(seed)
    logits = 3 * torch.randn(n, c, size, size, generator=g)
    label = torch.randint(0, c, (n, size, size), generator=g)
    label[:, 0, :3] = 255
    weight = torch.rand(n, size, size, generator=g) - 0.3  # some negative
    return logits, label, weight


@pytest.mark.parametrize('kwargs', [
    {}, {'avg_factor': 7.0}, {'reduction_override': 'sum'},
    {'reduction_override': 'none'}, {'reduction_override': 'mean'}])
@pytest.mark.parametrize('class_weight', [None, [0.5, 1.0, 2.0, 0.0]])
def test_seg_keywords_match_mmseg(kwargs, class_weight):
    logits, label, weight = seg_inputs()
    if class_weight is not None:  # mmseg indexes class_weight by label 255
        label[label == 255] = 1
    ours = SegLoss(CE, loss_weight=0.7, class_weight=class_weight)
    ref = MMSegCE(loss_weight=0.7, avg_non_ignore=True,
                  class_weight=class_weight)
    for w in (None, weight):  # negative pixel weights count, as in mmseg
        got = ours(logits, label, w, ignore_index=255, **kwargs)
        expected = ref(logits, label, w, ignore_index=255, **kwargs)
        assert got.shape == expected.shape
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_seg_and_mask_name_what_they_do_not_take():
    logits, label, _ = seg_inputs()
    with pytest.raises(ValueError, match=r"\['bogus'\]"):
        SegLoss(CE)(logits, label, bogus=1)
    with pytest.raises(ValueError, match='class_weight has 3 entries'):
        SegLoss(CE, class_weight=[1, 1, 1])(logits, label)
    preds, targets = torch.zeros(2, 3, 5, 5), torch.zeros(2, 5, 5)
    labels = torch.zeros(2, dtype=torch.long)
    mask = SearchedMaskLoss(BCE)
    for kwargs, name in [({'avg_factor': 2.0}, 'avg_factor'),
                         ({'weight': torch.ones(2)}, 'weight'),
                         ({'reduction_override': 'sum'}, "'sum'"),
                         ({'class_weight': [1.0]}, 'class_weight')]:
        with pytest.raises(ValueError, match=name):
            mask(preds, targets, labels, **kwargs)
    assert mask(preds, targets, labels).shape == (1, )


def param_grads(head, features, loss_fn):
    head.zero_grad()
    loss = loss_fn(head(features))
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in head.parameters()]


def compare(head, features, ours, ref, rtol=1e-5, atol=1e-6):
    got, got_grads = param_grads(head, features, ours)
    expected, ref_grads = param_grads(head, features, ref)
    torch.testing.assert_close(got.reshape(expected.shape), expected,
                               rtol=rtol, atol=atol)
    for a, b in zip(got_grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize('scale', [1.0, 30.0])  # 30: margins past 27.6
def test_roi_cls_parameter_gradients_match_mmdet(scale):
    g = gen(1)
    head = torch.nn.Linear(8, 6)
    feats = scale * torch.randn(20, 8, generator=g)
    labels = torch.randint(0, 6, (20, ), generator=g)
    weights = (torch.rand(20, generator=g) > 0.2).float()
    ours, ref = RoiLoss(CE), MMDetCE()
    compare(head, feats, lambda s: ours(s, labels, weights, avg_factor=15.),
            lambda s: ref(s, labels, weights, avg_factor=15.))


@pytest.mark.parametrize('scale', [1.0, 40.0])
def test_rpn_cls_parameter_gradients_match_mmdet(scale):
    g = gen(2)
    head = torch.nn.Linear(8, 1)
    feats = scale * torch.randn(30, 8, generator=g)
    labels = torch.randint(0, 2, (30, ), generator=g)  # 0 = foreground
    weights = (torch.rand(30, generator=g) > 0.3).float()
    ours, ref = RpnLoss(BCE), MMDetCE(use_sigmoid=True)
    compare(head, feats, lambda s: ours(s, labels, weights, avg_factor=21.),
            lambda s: ref(s, labels, weights, avg_factor=21.))


@pytest.mark.parametrize('tree,ref', [(L1, L1Loss()), (MSE, MSELoss())])
def test_box_parameter_gradients_match_mmdet(tree, ref):
    g = gen(3)
    head = torch.nn.Linear(8, 4)
    feats = torch.randn(12, 8, generator=g)
    target = torch.randn(12, 4, generator=g)
    weight = (torch.rand(12, 1, generator=g) > 0.3).float().expand(12, 4)
    ours = SearchedBoxLoss(tree)
    compare(head, feats,
            lambda p: ours(p, target, weight, avg_factor=9.),
            lambda p: ref(p, target, weight, avg_factor=9.))


@pytest.mark.parametrize('scale', [1.0, 20.0])  # 20: 1 - sigmoid cancels
def test_mask_parameter_gradients_match_mmdet(scale):
    g = gen(4)
    head = torch.nn.Conv2d(4, 3, 3, padding=1)
    feats = scale * torch.randn(5, 4, 7, 7, generator=g)
    targets = (torch.rand(5, 7, 7, generator=g) > 0.5).float()
    labels = torch.randint(0, 3, (5, ), generator=g)
    ours, ref = SearchedMaskLoss(BCE), MMDetCE(use_mask=True)
    compare(head, feats, lambda p: ours(p, targets, labels),
            lambda p: ref(p, targets, labels))
