"""A screening capture saved to a file and loaded back screens every tree as
the protocol it was saved from: on the CPU, in a process where mmcv, mmseg,
mmdet and mmpose cannot be imported, and on a GPU where there is one.

The capture is synthetic and small: one call per branch kind (segmentation,
sigmoid and softmax classification, box deltas with the RoI coder's stds,
IoU-mode boxes, masks, heatmaps), the RPN ones over two FPN levels that the
protocol merges."""
import json
import pickle
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from autoloss_zero.graph import Tree, random_tree
from autoloss_zero.losses import (SearchedBoxLoss, SearchedHeatmapLoss,
                                  SearchedMaskLoss, SearchedSegLoss,
                                  SearchedSigmoidClsLoss,
                                  SearchedSoftmaxClsLoss, capture)
from autoloss_zero.search.loop.settings import Rejection
from autoloss_zero.search.screening import (LossRejection, capture_spaces,
                                            load_capture, save_capture)
from autoloss_zero.search.screening.capture_file import module_spec

from ..support.absent import run_without_openmmlab

#: a tree that passes, per branch (the default losses of the heads).
GOOD = {
    'seg': 'neg(mul(y,log(yhat)))',
    'rpn_cls': 'neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),'
               'log(add(1,neg(yhat))))))',
    'rpn_reg': 'abs(add(yhat,neg(y)))',
    'rcnn_cls': 'neg(mul(y,log(yhat)))',
    'rcnn_reg': 'add(1,neg(mul(i,inv(u))))',
    'mask': 'neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),'
            'log(add(1,neg(yhat))))))',
    'heatmap': 'square(add(yhat,neg(y)))',
}
SETTINGS = Rejection(steps=20, check_every=5, eta=0.3)


def _calls(gen):
    """{branch: (module, [head-call arguments], head or None)}."""
    def randn(*shape):
        return torch.randn(*shape, generator=gen)

    def randint(high, *shape):
        return torch.randint(0, high, shape, generator=gen)

    label = randint(3, 2, 8, 8)
    label[:, :2] = 255
    rows = [30, 12]
    cls_levels = [(randn(n, 1), randint(2, n),
                   (torch.rand(n, generator=gen) > 0.5).float(), 9.0)
                  for n in rows]
    box_levels = []
    for n in rows:
        weight = (torch.rand(n, 1, generator=gen) > 0.5).float().expand(
            n, 4).clone()
        box_levels.append((randn(n, 4), randn(n, 4) * weight, weight, 9.0))
    corner = torch.rand(10, 2, generator=gen) * 4
    boxes = torch.cat([corner, corner + 1 + torch.rand(10, 2, generator=gen)],
                      dim=1)
    heat_target = torch.zeros(2, 3, 8, 8)
    heat_target[:, :, 4, 4] = 1.0
    return {
        'seg': (SearchedSegLoss(GOOD['seg'], branch='seg'),
                [(randn(2, 3, 8, 8), label)], None),
        'rpn_cls': (SearchedSigmoidClsLoss(GOOD['rpn_cls'],
                                           branch='rpn_cls'),
                    cls_levels, None),
        'rpn_reg': (SearchedBoxLoss(GOOD['rpn_reg'], branch='rpn_reg'),
                    box_levels,
                    SimpleNamespace(bbox_coder=SimpleNamespace(
                        means=(0., 0., 0., 0.), stds=(0.1, 0.1, 0.2, 0.2)))),
        'rcnn_cls': (SearchedSoftmaxClsLoss(GOOD['rcnn_cls'],
                                            branch='rcnn_cls'),
                     [(randn(16, 4), randint(4, 16), torch.ones(16), 16.0)],
                     None),
        'rcnn_reg': (SearchedBoxLoss(GOOD['rcnn_reg'], mode='iou',
                                     branch='rcnn_reg'),
                     [(boxes + randn(10, 4) * 0.5, boxes, torch.ones(10, 4),
                       10.0)], None),
        'mask': (SearchedMaskLoss(GOOD['mask'], branch='mask'),
                 [(randn(4, 2, 7, 7), (torch.rand(4, 7, 7, generator=gen) >
                                       0.5).float(), randint(2, 4))], None),
        'heatmap': (SearchedHeatmapLoss(GOOD['heatmap'], branch='heatmap'),
                    [(randn(2, 3, 8, 8) * 0.1, heat_target,
                      torch.ones(2, 3))], None),
    }


def synthetic_rejection(settings=SETTINGS):
    """The small :class:`LossRejection` of :func:`_calls` and its modules."""
    gen = torch.Generator().manual_seed(0)
    calls = _calls(gen)
    with torch.no_grad(), capture() as records:
        for module, args, _ in calls.values():
            for arg in args:
                module(*arg)
    heads = {module: head for module, _, head in calls.values() if head}
    etas = {'rcnn_reg': 0.1, 'heatmap': 0.5}
    rejection = LossRejection(dict(records), settings, etas, 'mIoU', heads)
    return rejection, {b: m for b, (m, _, _) in calls.items()}


def trees(rejection, modules, count=8, seed=0):
    """(branch, tree) items: per branch the passing tree, ``count`` random
    trees of its module's space that need the optimisation and two that the
    pre-filters reject."""
    rng, items = np.random.default_rng(seed), []
    for branch, module in modules.items():
        optimised, static = [], []
        while len(optimised) < count or len(static) < 2:
            tree = random_tree(module.space, rng)
            kept = static if rejection.prefiltered(branch, tree) else \
                optimised
            kept.append(tree)
        items += [(branch, t) for t in [Tree.parse(GOOD[branch])] +
                  optimised[:count] + static[:2]]
    return items


def outcomes(screenings):
    return [(s.passed, s.gains, s.fingerprint, s.steps, s.reason)
            for s in screenings]


@pytest.fixture(scope='module', params=[False, True], ids=['pretests',
                                                           'exact'])
def saved(request, tmp_path_factory):
    """(path, rejection, items, their screenings) of the saved capture,
    with the pre-tests and without (``exact``)."""
    rejection, modules = synthetic_rejection(
        replace(SETTINGS, exact=request.param))
    path = str(tmp_path_factory.mktemp('capture') / 'capture.pt')
    save_capture(rejection, path, spaces={b: m.space
                                          for b, m in modules.items()})
    items = trees(rejection, modules)
    return path, rejection, items, outcomes(rejection.screen_batch(items))


def test_the_capture_screens_both_ways(saved):
    """The synthetic capture is a real test: per branch its passing tree
    passes and some random trees fail; the RPN levels were merged."""
    _, rejection, items, results = saved
    assert len(rejection.captured['rpn_cls']) == 1
    assert rejection.captured['rpn_reg'][0][0].stds == (0.1, 0.1, 0.2, 0.2)
    for branch in GOOD:
        mine = [r for (b, _), r in zip(items, results) if b == branch]
        assert mine[0][0], (branch, mine[0])
        assert not all(r[0] for r in mine), branch


def test_loaded_capture_screens_identically(saved):
    path, rejection, items, results = saved
    loaded = load_capture(path)
    assert list(loaded.captured) == list(rejection.captured)
    assert loaded.etas == rejection.etas and loaded.metric == 'mIoU'
    assert loaded.settings == rejection.settings
    assert loaded.initial_scores == rejection.initial_scores
    assert loaded.leaves == rejection.leaves
    assert loaded.captured['rpn_reg'][0][0].stds == (0.1, 0.1, 0.2, 0.2)
    assert outcomes(loaded.screen_batch(items)) == results


def test_file_holds_no_pickled_class(saved):
    """weights_only=True reads it (no class to unpickle), and the module
    specs rebuild equal modules."""
    path, rejection, _, _ = saved
    state = torch.load(path, weights_only=True)
    assert state['version'] == 1
    module = rejection.captured['rcnn_reg'][0][0].module
    assert module_spec(module) == {'type': 'SearchedBoxLoss', 'args': {
        'tree': GOOD['rcnn_reg'], 'mode': 'iou', 'loss_weight': 1.0,
        'loss_name': 'loss_bbox', 'branch': 'rcnn_reg'}}


def test_spaces_come_along(saved):
    path, _, _, _ = saved
    _, modules = synthetic_rejection()
    assert capture_spaces(path) == {b: m.space for b, m in modules.items()}


def test_bad_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pt'):
        load_capture(str(tmp_path / 'nothing.pt'))
    torch.save({'something': 'else'}, tmp_path / 'other.pt')
    with pytest.raises(ValueError, match='not a screening capture'):
        load_capture(str(tmp_path / 'other.pt'))
    with open(tmp_path / 'pickled.pt', 'wb') as f:
        pickle.dump(SimpleNamespace(a=1), f)
    with pytest.raises(ValueError, match='weights_only'):
        load_capture(str(tmp_path / 'pickled.pt'))


SCREEN = '''
import json, sys
from autoloss_zero.graph import Tree
from autoloss_zero.search.screening import load_capture
items = [(b, Tree.parse(t)) for b, t in json.loads(sys.argv[2])]
screenings = load_capture(sys.argv[1]).screen_batch(items)
print(json.dumps([[s.passed, s.gains, s.fingerprint, s.steps, s.reason]
                  for s in screenings]))
'''


def test_capture_screens_without_mmcv_mmseg_mmdet(saved):
    """What a torch-only machine does: load and screen, none of the
    OpenMMLab task packages imported; the same results."""
    path, _, items, results = saved
    proc = run_without_openmmlab(SCREEN, [path, json.dumps(
        [(b, str(t)) for b, t in items])])
    assert json.loads(proc.stdout) == [list(r) for r in results]


def _tensors(rejection):
    for calls in rejection.captured.values():
        for _, canvas in calls:
            yield from (v for v in (
                canvas.logits, canvas.weight, canvas.valid,
                canvas.avg_factor, *canvas.targets.values(),
                *canvas.meta.values()) if isinstance(v, torch.Tensor))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_capture_screens_on_the_gpu(saved):
    """Loaded onto the GPU, every tensor is there and the screening runs
    there; float rounding differs from the CPU's, so the decisions are
    compared, not the gains: the passing trees pass, and nearly all
    others get the CPU's decision."""
    path, _, items, results = saved
    loaded = load_capture(path, device='cuda')
    assert all(t.is_cuda for t in _tensors(loaded))
    gpu = outcomes(loaded.screen_batch(items))
    for (branch, tree), outcome in zip(items, gpu):
        if str(tree) == GOOD[branch]:
            assert outcome[0], (branch, outcome)
    agree = sum(g[0] == c[0] for g, c in zip(gpu, results))
    assert agree >= 0.9 * len(results), (agree, len(results))
