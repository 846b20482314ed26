"""Per-branch loss rejection on the detection and pose proxies.

The tensors are captured from the demo search configs' random-init models on
the tiny generated COCO data, exactly as the search does it; the per-branch
etas are the configs' own. The default losses of each model must pass and
trees that ignore or invert the target must fail in their branch. The IoU
leaves of :class:`SearchedBoxLoss` reproduce mmdet's ``IoULoss``.
"""
import functools

import pytest
import torch
from mmdet.models.losses import IoULoss
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder

from autoloss_zero.graph import Tree
from autoloss_zero.losses import SearchedBoxLoss
from autoloss_zero.search import Individual, SearchSettings
from autoloss_zero.search.execution.proxy import ProxyTrainer
from autoloss_zero.search.screening import LossRejection

from .conftest import tiny_search_config

BCE = 'neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),log(add(1,neg(yhat))))))'
CE = 'neg(mul(y,log(yhat)))'
L1 = 'abs(add(yhat,neg(y)))'
MSE = 'square(add(yhat,neg(y)))'
IOU = 'add(1,neg(mul(i,inv(u))))'  # 1 - i/u: IoULoss(mode='linear')

DEFAULTS = {
    'rpn_cls': BCE, 'rpn_reg': L1, 'rcnn_cls': CE, 'rcnn_reg': L1,
    'mask': BCE, 'heatmap': MSE,
}
# Trees that ignore the target (``y``: no gradient; ``yhat``, ``square``:
# predict background everywhere, pull the deltas to zero) or push the
# prediction away from it, per branch.
# (abs(yhat) and square(yhat) are no box-branch degenerates: they pull the
# deltas to 0, the prior boxes, which the protocol may accept.)
DEGENERATE = {
    'rpn_cls': ['y', 'neg(yhat)', 'neg(square(yhat))', 'yhat',
                'square(yhat)'],
    'rpn_reg': ['y', 'neg(yhat)', 'yhat'],
    'rcnn_cls': ['y', 'neg(yhat)', 'yhat', 'square(yhat)'],
    'rcnn_reg': ['y', 'neg(yhat)', 'yhat'],
    'mask': ['y', 'neg(yhat)', 'yhat'],
    'heatmap': ['y', 'neg(yhat)', 'abs(yhat)'],
}
CONFIGS = {
    'faster': 'demo/coco_faster_rcnn_map.py',
    'mask': 'demo/coco_mask_rcnn_map.py',
    'pose': 'demo/coco_pose_ap.py',
}
BRANCHES = {
    'faster': ['rpn_cls', 'rpn_reg', 'rcnn_cls', 'rcnn_reg'],
    'mask': ['rpn_cls', 'rpn_reg', 'rcnn_cls', 'rcnn_reg', 'mask'],
    'pose': ['heatmap'],
}
# The IoU-leaf variant of the Faster R-CNN search (decoded RoI boxes).
IOU_MODE = {
    "search.branches.rcnn_reg.options": dict(mode='iou'),
    'model.roi_head.bbox_head.reg_decoded_bbox': True,
}


@functools.lru_cache(maxsize=None)
def _rejection(model, data_root, work_dir, iou=False):
    overrides = {'search.rejection.samples': 5, 'search.rejection.steps': 100}
    if iou:
        overrides.update(IOU_MODE)
    cfg = tiny_search_config(CONFIGS[model], data_root, **overrides)
    settings = SearchSettings.from_config(cfg)
    trainer = ProxyTrainer(cfg, settings, work_dir)
    captured = trainer.capture(settings.rejection.samples)
    return LossRejection(captured, settings.rejection,
                         {b.name: b.eta for b in settings.branches},
                         settings.target.metric, trainer.heads)


@pytest.fixture(scope='module')
def rejection(tiny_data, tmp_path_factory):
    root = tmp_path_factory.mktemp('rejection')

    def get(model, iou=False):
        return _rejection(model, tiny_data['coco'], root / model, iou)

    yield get
    _rejection.cache_clear()


@pytest.mark.parametrize('model', ['faster', 'mask', 'pose'])
def test_every_branch_is_captured(rejection, model):
    rej = rejection(model)
    assert list(rej.captured) == BRANCHES[model]
    for branch, calls in rej.captured.items():
        assert calls, branch
        assert 0.0 <= rej.initial_scores[branch] <= 1.0


def test_box_branches_take_their_heads_coder_stds(rejection):
    """The rejection metric decodes deltas as each head's coder does."""
    rej = rejection('faster')
    stds = {b: rej.captured[b][0][0].stds  # the branch probe
            for b in ('rpn_reg', 'rcnn_reg')}
    assert stds == {'rpn_reg': (1., 1., 1., 1.),
                    'rcnn_reg': (0.1, 0.1, 0.2, 0.2)}


def test_fpn_levels_are_screened_as_one_canvas(rejection):
    """The RPN's per-level calls are merged (exactly) into one canvas of
    the counted rows only, one metric over all of them."""
    rej = rejection('faster')
    defaults = Individual({b: DEFAULTS[b] for b in BRANCHES['faster']})
    prints = dict(p.split(':') for p in
                  rej.screen(defaults).fingerprint.split('|'))
    for branch in ('rpn_cls', 'rpn_reg'):
        (module, canvas), = rej.captured[branch]
        weight = canvas.weight.flatten(1)
        assert bool((weight > 0).any(dim=1).all()), branch
        # five FPN levels: the fingerprint keeps one gradient norm each
        segments = canvas.meta['row_segments']
        assert len(segments) == 5
        assert sum(segments) == canvas.logits.shape[0]
        assert len(prints[branch].split(',')) == 5


@pytest.mark.parametrize('model', ['faster', 'mask', 'pose'])
def test_default_losses_pass(rejection, model):
    rej = rejection(model)
    defaults = Individual({b: DEFAULTS[b] for b in BRANCHES[model]})
    screening = rej.screen(defaults)
    assert screening.passed, (screening.reason, screening.gains)
    for branch in BRANCHES[model]:
        assert screening.gains[branch] >= rej.etas[branch], branch
    # The fingerprint covers every branch, in branch order.
    parts = screening.fingerprint.split('|')
    assert [p.split(':')[0] for p in parts] == BRANCHES[model]


@pytest.mark.parametrize('model,branch,tree', [
    (model, branch, tree) for model in ('mask', 'pose')
    for branch in BRANCHES[model] for tree in DEGENERATE[branch]
])
def test_degenerate_tree_is_rejected_in_its_branch(rejection, model, branch,
                                                   tree):
    """The other branches hold their default losses (which pass), so the
    individual fails because of ``branch``, with a reason naming it."""
    rej = rejection(model)
    trees = {b: DEFAULTS[b] for b in BRANCHES[model]}
    trees[branch] = tree
    screening = rej.screen(Individual(trees))
    assert not screening.passed
    assert screening.reason.startswith(f'{branch}:'), screening.reason
    assert screening.gains[branch] < rej.etas[branch]
    assert screening.fingerprint is None


def test_equivalent_losses_share_a_fingerprint(rejection):
    rej = rejection('faster')
    base = {b: DEFAULTS[b] for b in BRANCHES['faster']}
    same = rej.screen(
        Individual({**base, 'rcnn_cls': 'mul(y,neg(log(yhat)))'}))
    other = rej.screen(Individual({**base, 'rcnn_reg': MSE}))
    first = rej.screen(Individual(base))
    assert first.passed and same.passed and other.passed
    assert same.fingerprint == first.fingerprint
    assert other.fingerprint != first.fingerprint


def test_iou_leaves_in_the_detector(rejection):
    """mode='iou' with reg_decoded_bbox=True: the RoI head passes decoded
    boxes; 1 - i/u equals mmdet's IoULoss on them and passes the screening,
    while trees that shrink the union or the overlap fail."""
    rej = rejection('faster', iou=True)
    (probe, canvas), = rej.captured['rcnn_reg']
    module = probe.module
    assert module.mode == 'iou' and module.leaf_names == ('i', 'u', 'e', '1')
    pred, target = canvas.logits[:, :, 0, 0], canvas.meta['target']
    # absolute (x1, y1, x2, y2) boxes inside the 128 x 128 images
    assert float(target.min()) >= 0 and float(target.max()) <= 128
    assert bool((target[:, 2:] > target[:, :2]).all())
    weight = canvas.weight[:, 0, 0, 0]
    expected = IoULoss(mode='linear')(pred, target, weight,
                                      avg_factor=canvas.avg_factor)
    module_value = module.loss_on(canvas, tree=Tree.parse(IOU))
    torch.testing.assert_close(module_value, expected, atol=1e-5, rtol=1e-5)
    base = {b: DEFAULTS[b] for b in BRANCHES['faster']}
    assert rej.screen(Individual({**base, 'rcnn_reg': IOU})).passed
    for tree in ('u', 'i', '1'):
        screening = rej.screen(Individual({**base, 'rcnn_reg': tree}))
        assert not screening.passed, tree
        assert screening.reason.startswith('rcnn_reg:'), screening.reason


def _boxes(generator, rows, scale=100.0):
    xy = torch.rand(rows, 2, generator=generator) * scale
    wh = torch.rand(rows, 2, generator=generator) * scale / 2 + 1
    return torch.cat([xy, xy + wh], dim=1)


@pytest.mark.parametrize('weighted,avg_factor,reduction', [
    (False, None, None), (True, 7.0, None), (True, None, 'sum'),
    (True, 5.0, 'none'), (True, 3.0, 'mean')])
def test_iou_tree_equals_mmdet_iou_loss(weighted, avg_factor, reduction):
    """Through the module on boxes decoded from deltas, as the RoI head with
    reg_decoded_bbox=True calls it: values and gradients."""
    gen = torch.Generator().manual_seed(0)
    rows = 12
    coder = DeltaXYWHBBoxCoder(target_stds=(0.1, 0.1, 0.2, 0.2))
    priors = _boxes(gen, rows)
    target = coder.decode(priors, torch.randn(rows, 4, generator=gen) * 0.5)
    deltas = (torch.randn(rows, 4, generator=gen) * 0.5).requires_grad_()
    weight = None
    if weighted:
        weight = torch.ones(rows, 4)
        weight[::3] = 0  # negatives: zero weight
        weight[1] = 0.5
    ours_pred = coder.decode(priors, deltas)
    ours = SearchedBoxLoss(IOU, mode='iou', loss_weight=2.0)(
        ours_pred, target, weight, avg_factor=avg_factor,
        reduction_override=reduction)
    (g_ours, ) = torch.autograd.grad(ours.sum(), deltas)
    theirs_pred = coder.decode(priors, deltas)
    theirs = IoULoss(mode='linear', loss_weight=2.0)(
        theirs_pred, target, weight, avg_factor=avg_factor,
        reduction_override=reduction)
    (g_theirs, ) = torch.autograd.grad(theirs.sum(), deltas)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(g_ours, g_theirs, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('branch', BRANCHES['faster'])
def test_lockstep_screening_equals_the_reference_loop(rejection, branch):
    """On the tiny per-row canvases the trees of a branch are optimised in
    lockstep: each gets the gains, fingerprint and steps of the paper's
    loop run on it alone, and the static pre-filter rejects only trees
    that loop rejects."""
    from dataclasses import replace

    import numpy as np

    from autoloss_zero.graph import SearchSpace, random_tree
    from autoloss_zero.search.screening.reference import screen_reference
    rej = rejection('faster')
    space = SearchSpace(leaves=('yhat', 'y', '1'), spatial=False,
                        ops=('add', 'mul', 'neg', 'abs', 'inv', 'log', 'exp',
                             'tanh', 'square', 'sqrt', 'mean_c', 'mean_hw'))
    rng = np.random.default_rng(1)
    trees = [Tree.parse(DEFAULTS[branch]), Tree.parse(MSE)] + [
        random_tree(space, rng) for _ in range(60)]
    settings = rej.settings
    rej.settings = replace(settings, exact=True)
    try:
        batch = rej.screen_batch([(branch, t) for t in trees])
        reference = [screen_reference(rej, branch, t) for t in trees]
    finally:
        rej.settings = settings
    assert batch[0].passed
    for tree, got, want in zip(trees, batch, reference):
        assert (got.passed, got.gains, got.fingerprint, got.steps) == (
            want.passed, want.gains, want.fingerprint, want.steps), tree


def test_lockstep_heatmap_screening_equals_the_reference_loop(rejection):
    """Max pooling's gradient has other strides than the logits: the
    lockstep path stores it as backward() would, so Adam reads the same."""
    from dataclasses import replace

    from autoloss_zero.search.screening.reference import screen_reference
    rej = rejection('pose')
    settings = rej.settings
    rej.settings = replace(settings, exact=True)
    trees = [Tree.parse(t) for t in (
        'neg(abs(max_pool3(yhat)))', 'max_pool3(sqrt(max_pool3(yhat)))',
        'mul(max_pool3(add(y,yhat)),inv(exp(y)))', MSE)]
    try:
        batch = rej.screen_batch([('heatmap', t) for t in trees])
        reference = [screen_reference(rej, 'heatmap', t) for t in trees]
    finally:
        rej.settings = settings
    for tree, got, want in zip(trees, batch, reference):
        assert (got.passed, got.gains, got.fingerprint, got.steps) == (
            want.passed, want.gains, want.fingerprint, want.steps), tree
