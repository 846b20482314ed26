"""Capture mode: what each head passed its searched loss, detached.

Model-level tests run one forward of each proxy model (built once, shared
with ``test_searched_models.py``) under :func:`capture`; unit-level tests
check the context semantics on direct module calls.
"""
import math
import threading

import pytest
import torch

from autoloss_zero.losses import (Canvas, SearchedBoxLoss, SearchedSegLoss,
                                  SearchedSoftmaxClsLoss, capture,
                                  is_capturing)
from autoloss_zero.metrics import SEG_REJECTION_METRICS
from autoloss_zero.search.screening.probes import probe_for

from .test_searched_models import (CE, L1, MODEL_CONFIGS, as_list,
                                   default_trees, model_setup, run_loss,
                                   set_losses)

# branch -> loss key of the model's loss dict
LOSS_KEYS = {
    'decode': 'decode.loss_ce', 'aux': 'aux.loss_ce',
    'rpn_cls': 'loss_rpn_cls', 'rpn_reg': 'loss_rpn_bbox',
    'rcnn_cls': 'loss_cls', 'rcnn_reg': 'loss_bbox', 'mask': 'loss_mask',
    'heatmap': 'loss_kpt',
}


def canvas_tensors(canvas: Canvas):
    yield canvas.logits
    yield from canvas.targets.values()
    for value in (canvas.weight, canvas.valid, canvas.avg_factor,
                  *canvas.meta.values()):
        if isinstance(value, torch.Tensor):
            yield value


def check_shapes(model, records, net):
    """The canvas shapes of the heads' call signatures, per branch."""
    if model == 'seg':
        for branch in ('decode', 'aux'):
            (_, canvas), = records[branch]
            assert canvas.logits.shape == (2, 6, 64, 64)
            assert canvas.targets['y'].shape == (2, 6, 64, 64)
            assert canvas.valid.shape == (2, 64, 64)
            assert not canvas.valid.all()  # ignored pixels are recorded
        return
    if model == 'pose':
        (_, canvas), = records['heatmap']
        assert canvas.logits.shape == (1, 17, 16, 16)
        assert canvas.weight.shape == (1, 17, 1, 1)
        return
    levels = len(net.rpn_head.prior_generator.strides)
    assert len(records['rpn_cls']) == len(records['rpn_reg']) == levels
    for (_, cls), (_, reg) in zip(records['rpn_cls'], records['rpn_reg']):
        rows = cls.logits.shape[0]
        assert rows > 0 and cls.logits.shape == (rows, 1, 1, 1)
        assert reg.logits.shape == (rows, 4, 1, 1)
        assert reg.weight.shape == (rows, 4, 1, 1)
    (_, cls), = records['rcnn_cls']
    rois = cls.logits.shape[0]
    assert cls.logits.shape == (rois, 6, 1, 1) and rois > 0  # C + 1 = 6
    (_, reg), = records['rcnn_reg']
    positives = reg.logits.shape[0]
    assert reg.logits.shape == (positives, 4, 1, 1) and 0 < positives <= rois
    if model == 'mask':
        (_, mask), = records['mask']
        assert mask.logits.shape == (positives, 1, 28, 28)
        assert mask.targets['y'].shape == (positives, 1, 28, 28)


@pytest.mark.parametrize('model', list(MODEL_CONFIGS))
def test_capture_records_every_head_call(model, tiny_data):
    net, batch = model_setup(model, tiny_data[MODEL_CONFIGS[model][1]])
    modules = default_trees(model)
    set_losses(net, model, modules)
    assert not is_capturing()
    with capture() as records:
        assert is_capturing()
        losses = run_loss(net, model, batch)
    assert not is_capturing()
    assert sorted(records) == sorted(modules)
    check_shapes(model, records, net)
    for branch, calls in records.items():
        key = LOSS_KEYS[branch]
        values = []
        for module, canvas in calls:
            assert module is modules[branch]
            for tensor in canvas_tensors(canvas):
                assert not tensor.requires_grad and tensor.grad_fn is None
            # the canvas holds everything the loss needs (weights, avg_factor)
            values.append(module.loss_weight * float(module.loss_on(canvas)))
            score = probe_for(module).score(canvas, canvas.logits)
            assert isinstance(score, float) and 0.0 <= score <= 1.0
            nan = torch.full_like(canvas.logits, float('nan'))
            assert 0.0 <= probe_for(module).score(canvas, nan) <= 1.0
        if model == 'seg':
            assert values[0] == pytest.approx(float(losses[key]), rel=1e-5)
        else:
            assert values == pytest.approx(as_list(losses[key]), rel=1e-5,
                                           abs=1e-7)
    if model == 'seg':
        module, canvas = records['decode'][0]
        for metric in SEG_REJECTION_METRICS:
            score = probe_for(module).score(canvas, canvas.logits, metric)
            assert isinstance(score, float) and 0.0 <= score <= 1.0
            label = canvas.meta['label']
            perfect = torch.nn.functional.one_hot(
                torch.where(label == 255, 0, label), 6).permute(0, 3, 1, 2)
            perfect_score = probe_for(module).score(
                canvas, perfect.float() * 10, metric)
            assert perfect_score == pytest.approx(1.0)
    # outside the block, nothing is recorded any more
    counts = {branch: len(calls) for branch, calls in records.items()}
    run_loss(net, model, batch)
    assert {branch: len(calls) for branch, calls in records.items()} == counts


def test_capture_outside_context_records_nothing(tiny_data):
    net, batch = model_setup('pose', tiny_data['coco'])
    modules = default_trees('pose')
    set_losses(net, 'pose', modules)
    with capture() as records:
        pass
    run_loss(net, 'pose', batch)
    assert dict(records) == {}


# ----------------------------------------------------------- unit level --
def seg_call(module, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 3, 4, 4, generator=g, requires_grad=True)
    label = torch.randint(0, 3, (2, 4, 4), generator=g)
    return module(logits, label), logits


def test_records_are_detached_copies():
    module = SearchedSegLoss(CE, branch='seg')
    with capture() as records:
        loss, logits = seg_call(module)
    (recorded, canvas), = records['seg']
    assert recorded is module
    assert not canvas.logits.requires_grad
    torch.testing.assert_close(canvas.logits, logits.detach())
    with torch.no_grad():
        logits.add_(1.0)  # later in-place changes do not reach the record
    assert not torch.equal(canvas.logits, logits.detach())
    assert float(module.loss_on(canvas)) == pytest.approx(float(loss))


def test_nested_and_sequential_contexts_do_not_leak():
    seg = SearchedSegLoss(CE, branch='seg')
    cls = SearchedSoftmaxClsLoss(CE, branch='roi')
    box = SearchedBoxLoss(L1, branch='box')
    with capture() as outer:
        seg_call(seg)
        with capture() as inner:
            cls(torch.randn(5, 3), torch.tensor([0, 1, 2, 2, 1]))
        box(torch.randn(4, 4), torch.randn(4, 4), torch.ones(4, 4), 4.0)
    assert sorted(outer) == ['box', 'seg']
    assert sorted(inner) == ['roi'] and len(inner['roi']) == 1
    with capture() as again:
        assert dict(again) == {}
        seg_call(seg)
    assert len(again['seg']) == 1 and len(outer['seg']) == 1
    assert not is_capturing()


def test_capture_is_reset_after_an_exception():
    with pytest.raises(RuntimeError):
        with capture():
            raise RuntimeError('boom')
    assert not is_capturing()


def test_other_threads_do_not_record():
    module = SearchedSegLoss(CE, branch='seg')
    with capture() as records:
        thread = threading.Thread(target=seg_call, args=(module, ))
        thread.start()
        thread.join()
    assert dict(records) == {}


def test_non_default_reductions_are_not_recorded():
    module = SearchedSoftmaxClsLoss(CE, branch='roi')
    score, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    with capture() as records:
        module(score, labels, reduction_override='none')
        module(score, labels, reduction_override='sum')
    assert dict(records) == {}


@pytest.mark.parametrize('mode', ['deltas', 'iou'])
def test_box_rejection_score_rewards_the_target(mode):
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(6, 2, generator=g) * 5
    target = torch.cat([xy, xy + 2 + torch.rand(6, 2, generator=g)], 1)
    if mode == 'deltas':
        target = torch.randn(6, 4, generator=g) * 0.3
    module = SearchedBoxLoss(L1 if mode == 'deltas' else
                             'add(1,neg(mul(i,inv(u))))', mode=mode)
    weight = torch.ones(6, 4)
    weight[0] = 0
    canvas = module.to_canvas(target + 0.5, target, weight, 5.0)
    worse = probe_for(module).score(canvas, canvas.logits)
    best = probe_for(module).score(canvas, target[:, :, None, None])
    assert 0.0 <= worse < best and best == pytest.approx(1.0)
    nan = torch.full_like(canvas.logits, float('nan'))
    assert probe_for(module).score(canvas, nan) == 0.0
    assert math.isfinite(float(module.loss_on(canvas)))
