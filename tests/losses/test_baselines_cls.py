"""Softmax classification baselines (Poly-1, Baikal, BaikalCMA, NGL).

Each is checked against a reference written out class by class in numpy
float64 from the published formula, under the call conventions of mmseg
decode heads and mmdet RoI heads.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import MODELS

from autoloss_zero.losses.baselines import (BAIKAL_CMA_COEFFICIENTS,
                                            BaikalCMALoss, BaikalLoss,
                                            NGLLoss, Poly1Loss)


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def poly1_ref(z, t, eps=1.0):
    p = _softmax(z)
    return -math.log(p[t]) + eps * (1 - p[t])


def baikal_ref(z, t, c=(1, 1, 1, 1, 1, 1)):
    p = _softmax(z)
    n = len(p)
    total = 0.
    for i in range(n):
        y = 1. if i == t else 0.
        total += c[1] * math.log(c[2] * p[i]) - c[3] * (c[4] * y) / (c[5] *
                                                                     p[i])
    return -c[0] * total / n


def ngl_ref(z, t, alpha=2.4092):
    p = _softmax(z)
    n = len(p)
    total = 0.
    for i in range(n):
        y = 1. if i == t else 0.
        total += math.exp(alpha - p[i] * (1 + y)) - math.cos(
            math.cos(math.sin(p[i])))
    return total / n


CASES = {
    'poly1': (dict(type='Poly1Loss', epsilon=1.0), poly1_ref),
    'poly1_eps2': (dict(type='Poly1Loss', epsilon=2.0),
                   lambda z, t: poly1_ref(z, t, 2.0)),
    'baikal': (dict(type='BaikalLoss'), baikal_ref),
    'baikal_cma': (dict(type='BaikalCMALoss'),
                   lambda z, t: baikal_ref(z, t, BAIKAL_CMA_COEFFICIENTS)),
    'ngl': (dict(type='NGLLoss'), ngl_ref),
}
SHAPES = [(6, 5), (2, 4, 3, 3), (0, 5), (0, 4, 3, 3)]


def make_inputs(shape, seed=0, ignore_frac=0.3):
    gen = torch.Generator().manual_seed(seed)
    n, c = shape[:2]
    logits = torch.randn(shape, generator=gen, dtype=torch.float64) * 2
    label = torch.randint(0, c, (n, ) + shape[2:], generator=gen)
    ignore = torch.rand(label.shape, generator=gen) < ignore_frac
    label[ignore] = 255
    return logits, label


def reference(ref_fn, logits, label, ignore_index=255):
    """Element losses (0 where ignored), shape of label, float64."""
    z = logits.movedim(1, -1).reshape(-1, logits.shape[1]).numpy()
    t = label.reshape(-1).numpy()
    out = [0. if ti == ignore_index else ref_fn(zi, int(ti))
           for zi, ti in zip(z, t)]
    return torch.tensor(out, dtype=torch.float64).reshape(label.shape)


@pytest.mark.parametrize('name', CASES)
@pytest.mark.parametrize('shape', SHAPES, ids=str)
def test_matches_reference_in_all_reductions(name, shape):
    cfg, ref_fn = CASES[name]
    loss = MODELS.build(dict(cfg, loss_weight=1.5))
    logits, label = make_inputs(shape)
    elem = reference(ref_fn, logits, label)
    valid = (label != 255).sum().item()

    torch.testing.assert_close(
        loss(logits, label, reduction_override='none'), 1.5 * elem)
    torch.testing.assert_close(
        loss(logits, label, reduction_override='sum'), 1.5 * elem.sum())
    expected_mean = 1.5 * elem.sum() / valid if valid else torch.tensor(0.)
    torch.testing.assert_close(
        loss(logits, label), expected_mean.double(), rtol=1e-6, atol=1e-12)
    # mmseg call: per-pixel weights and an explicit ignore_index.
    gen = torch.Generator().manual_seed(3)
    weight = torch.rand(label.shape, generator=gen, dtype=torch.float64)
    got = loss(logits, label, weight=weight, ignore_index=255)
    expected = (1.5 * (elem * weight).sum() / valid if valid else
                torch.tensor(0., dtype=torch.float64))
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize('name', CASES)
def test_mmdet_roi_call(name):
    """loss_cls(cls_score[R, C+1], labels, label_weights, avg_factor=...)."""
    cfg, ref_fn = CASES[name]
    loss = MODELS.build(cfg)
    gen = torch.Generator().manual_seed(5)
    num_classes = 3
    cls_score = torch.randn(8, num_classes + 1, generator=gen,
                            dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 3, 3, 1, 2, 3, 3, 0])  # 3 = background
    label_weights = torch.tensor([1., 1., 0., 1., 1., 1., 1., 0.],
                                 dtype=torch.float64)
    avg_factor = max(float((label_weights > 0).sum()), 1.)
    got = loss(cls_score, labels, label_weights, avg_factor=avg_factor,
               reduction_override=None)
    elem = reference(ref_fn, cls_score.detach(), labels)
    torch.testing.assert_close(
        got, (elem * label_weights).sum() / avg_factor, rtol=1e-6, atol=0)
    got.backward()
    assert torch.isfinite(cls_score.grad).all()
    assert torch.equal(cls_score.grad[2], torch.zeros(num_classes + 1,
                                                      dtype=torch.float64))


@pytest.mark.parametrize('name', CASES)
def test_ignore_index_weights_and_zero_weight(name):
    cfg, ref_fn = CASES[name]
    loss = MODELS.build(dict(cfg, ignore_index=-1))
    logits, label = make_inputs((5, 4, 2, 2), seed=7, ignore_frac=0.)
    label[0] = -1
    elem = reference(ref_fn, logits, label, ignore_index=-1)
    torch.testing.assert_close(
        loss(logits, label), elem.sum() / (label != -1).sum())
    # The caller's ignore_index wins over the constructor's.
    label2 = label.clone()
    label2[label2 == -1] = 2
    label2[1] = 255
    elem2 = reference(ref_fn, logits, label2, ignore_index=255)
    torch.testing.assert_close(
        loss(logits, label2, ignore_index=255),
        elem2.sum() / (label2 != 255).sum())
    # ignore_index=None ignores nothing; avg_non_ignore=False averages all.
    no_ignore = MODELS.build(dict(cfg, ignore_index=None))
    torch.testing.assert_close(
        no_ignore(logits, label2.clamp(max=3)),
        reference(ref_fn, logits, label2.clamp(max=3), ignore_index=None
                  ).mean())
    all_avg = MODELS.build(dict(cfg, avg_non_ignore=False))
    torch.testing.assert_close(all_avg(logits, label2), elem2.mean())
    # All-zero weights: a zero that keeps the logits in the graph.
    logits.requires_grad_()
    zero = loss(logits, label, weight=torch.zeros(label.shape))
    assert zero.item() == 0. and zero.requires_grad
    zero.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))


@pytest.mark.parametrize('name', CASES)
def test_class_weight_and_avg_factor_errors(name):
    cfg, ref_fn = CASES[name]
    class_weight = [0.5, 1., 2., 0.]
    loss = MODELS.build(dict(cfg, class_weight=class_weight))
    logits, label = make_inputs((6, 4), seed=9)
    elem = reference(ref_fn, logits, label)
    cw = torch.tensor([class_weight[t] if t != 255 else 0. for t in label],
                      dtype=torch.float64)
    torch.testing.assert_close(
        loss(logits, label, reduction_override='sum'), (elem * cw).sum())
    torch.testing.assert_close(  # weighted mean, as F.cross_entropy
        loss(logits, label), (elem * cw).sum() / cw.sum())
    with pytest.raises(ValueError, match='avg_factor'):
        loss(logits, label, avg_factor=2., reduction_override='sum')
    with pytest.raises(ValueError, match='does not match'):
        loss(logits, label[:3])
    with pytest.raises(ValueError, match='reduction'):
        loss(logits, label, reduction_override='avg')


@pytest.mark.parametrize('name', CASES)
def test_empty_input_keeps_graph(name):
    cfg, _ = CASES[name]
    for extra in ({}, dict(avg_non_ignore=False)):
        loss = MODELS.build(dict(cfg, **extra))
        logits = torch.zeros(0, 5, 4, 4, requires_grad=True)
        out = loss(logits, torch.zeros(0, 4, 4, dtype=torch.long))
        assert out.item() == 0.
        out.backward()
        assert logits.grad.shape == logits.shape


@pytest.mark.parametrize('name', CASES)
def test_finite_on_extreme_logits_and_gradcheck(name):
    cfg, _ = CASES[name]
    loss = MODELS.build(cfg)
    logits = torch.tensor([[1e4, -1e4, 0.], [-1e4, 1e4, 3.], [0., 0., 0.],
                           [-6e4, 6e4, 0.]], requires_grad=True)
    label = torch.tensor([1, 1, 2, 0])
    out = loss(logits, label)
    assert torch.isfinite(out)
    out.backward()
    assert torch.isfinite(logits.grad).all()
    gen = torch.Generator().manual_seed(11)
    z = torch.randn(4, 3, 2, generator=gen, dtype=torch.float64,
                    requires_grad=True)
    t = torch.tensor([[0, 2], [1, 255], [2, 2], [0, 1]])
    assert torch.autograd.gradcheck(lambda z: loss(z, t), (z, ))


def test_poly1_epsilon_zero_is_mmseg_and_mmdet_cross_entropy():
    logits, label = make_inputs((2, 5, 4, 4), seed=13)
    logits = logits.float()
    poly = Poly1Loss(epsilon=0.)
    mmseg_ce = MODELS.build(
        dict(type='mmseg.CrossEntropyLoss', avg_non_ignore=True))
    torch.testing.assert_close(
        poly(logits, label, ignore_index=255),
        mmseg_ce(logits, label, ignore_index=255))
    class_weight = [0.2, 1., 3., 0.5, 1.5]  # weighted mean as in PyTorch
    torch.testing.assert_close(
        Poly1Loss(epsilon=0., class_weight=class_weight)(logits, label),
        F.cross_entropy(logits, label, torch.tensor(class_weight),
                        ignore_index=255))
    mmdet_ce = MODELS.build(dict(type='mmdet.CrossEntropyLoss'))
    z = logits[:, :, 0, 0]
    t = torch.tensor([0, 4])
    w = torch.tensor([1., 0.5])
    torch.testing.assert_close(
        poly(z, t, w, avg_factor=3.), mmdet_ce(z, t, w, avg_factor=3.))


def test_baikal_cma_reduces_to_baikal_and_differs_from_it():
    logits, label = make_inputs((3, 6), seed=17, ignore_frac=0.)
    baikal = BaikalLoss()
    cma_ones = BaikalCMALoss(coefficients=(1., ) * 6)
    torch.testing.assert_close(cma_ones(logits, label), baikal(logits, label))
    assert not torch.allclose(BaikalCMALoss()(logits, label),
                              baikal(logits, label))
    assert BaikalCMALoss().loss_name == 'loss_baikal_cma'
    with pytest.raises(ValueError, match='6 floats'):
        BaikalCMALoss(coefficients=(1., 2.))
    with pytest.raises(ValueError, match='c2 and c5'):
        BaikalLoss(coefficients=(1., 1., 0., 1., 1., 1.))


def test_baikal_and_ngl_regularise_confidence():
    """Their minimum is not at p_t = 1 (the published regularising effect)."""
    label = torch.tensor([0])
    scores = torch.linspace(0., 12., 121)
    for loss in (BaikalLoss(), NGLLoss()):
        values = torch.stack([
            loss(torch.tensor([[s, 0., 0., 0.]]), label) for s in scores])
        best = scores[values.argmin()]
        assert 0. < best < 12.
    assert Poly1Loss()(torch.tensor([[12., 0., 0., 0.]]), label) < Poly1Loss()(
        torch.tensor([[6., 0., 0., 0.]]), label)


def test_loss_names_and_validation():
    names = {
        Poly1Loss: 'loss_poly1', BaikalLoss: 'loss_baikal',
        BaikalCMALoss: 'loss_baikal_cma', NGLLoss: 'loss_ngl'
    }
    for cls, name in names.items():
        assert cls().loss_name == name
        assert cls(loss_name='loss_decode_x').loss_name == 'loss_decode_x'
        with pytest.raises(ValueError, match='loss_'):
            cls(loss_name='decode')
        with pytest.raises(ValueError, match='reduction'):
            cls(reduction='avg')
