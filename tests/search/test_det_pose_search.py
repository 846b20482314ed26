"""Multi-branch searches on the detection and pose proxies, end to end.

The demo searches (Faster R-CNN: 4 branches, Mask R-CNN: 5, pose: 1) run
with tiny budgets on the tiny generated COCO data; a discovered snippet then
drops into the full-scale Faster R-CNN R-50 config.

The configs' own per-branch etas apply. The mmdet/mmpose default losses are
proposed first, twice (as written and as an algebraic variant); with a
population of 2 the searcher's next proposal mutates one of their branches,
which must pass that branch's rejection (the others are kept). A random
initial individual takes 1-4 minutes of per-branch re-draws here (the RPN
regression branch passes ~1e-4 of random trees), too long for a unit test:
tests/search/test_proposer.py covers the re-draws, and the demo configs run
them (README).
"""
import functools
import json
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS
from mmengine.runner import Runner

from autoloss_zero.search import LossSearch
from autoloss_zero.search.execution.slots import apply_searched_loss
from autoloss_zero.search.loop.settings import resolve_path
from autoloss_zero.search.reporting.export import make_exporter
from autoloss_zero.search.reporting.snippets import exported_tree

from ..conftest import REPO, point_data_root
from .conftest import script_proposals, tiny_search_config

RPN_CLS = 'model.rpn_head.loss_cls'
RPN_REG = 'model.rpn_head.loss_bbox'
RCNN_CLS = 'model.roi_head.bbox_head.loss_cls'
RCNN_REG = 'model.roi_head.bbox_head.loss_bbox'
MASK = 'model.roi_head.mask_head.loss_mask'
DEMOS = {
    'faster': ('demo/coco_faster_rcnn_map.py', 'coco/bbox_mAP', {
        'rpn_cls': RPN_CLS, 'rpn_reg': RPN_REG, 'rcnn_cls': RCNN_CLS,
        'rcnn_reg': RCNN_REG}),
    'mask': ('demo/coco_mask_rcnn_map.py', 'coco/segm_mAP', {
        'rpn_cls': RPN_CLS, 'rpn_reg': RPN_REG, 'rcnn_cls': RCNN_CLS,
        'rcnn_reg': RCNN_REG, 'mask': MASK}),
    'pose': ('demo/coco_pose_ap.py', 'coco/AP', {
        'heatmap': 'model.head.loss'}),
}
BCE = 'neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),log(add(1,neg(yhat))))))'
DEFAULT_TREES = {
    'rpn_cls': BCE, 'rpn_reg': 'abs(add(yhat,neg(y)))',
    'rcnn_cls': 'neg(mul(y,log(yhat)))', 'rcnn_reg': 'abs(add(yhat,neg(y)))',
    'mask': BCE, 'heatmap': 'square(add(yhat,neg(y)))',
}
# The same losses written differently (a different key, the same gradient).
VARIANTS = {
    'rpn_cls': BCE.replace('mul(y,log(yhat))', 'mul(log(yhat),y)'),
    'rpn_reg': 'abs(add(neg(y),yhat))',
    'rcnn_cls': 'mul(y,neg(log(yhat)))', 'rcnn_reg': 'abs(add(neg(y),yhat))',
    'mask': BCE.replace('mul(y,log(yhat))', 'mul(log(yhat),y)'),
    'heatmap': 'square(add(neg(y),yhat))',
}
TYPES = {
    'rpn_cls': 'SearchedSigmoidClsLoss', 'rpn_reg': 'SearchedBoxLoss',
    'rcnn_cls': 'SearchedSoftmaxClsLoss', 'rcnn_reg': 'SearchedBoxLoss',
    'mask': 'SearchedMaskLoss', 'heatmap': 'SearchedHeatmapLoss',
}


@functools.lru_cache(maxsize=None)
def _search(name, data_root, work_dir):
    config, _, branches = DEMOS[name]
    overrides = {
        'search.budget.evaluations': 3,
        'search.evolution.population': 2,
        'search.rejection.samples': 5,
        'val_dataloader.batch_size': 4,
    }
    cfg = tiny_search_config(config, data_root, **overrides)
    search = LossSearch(cfg, work_dir)
    # The mmdet/mmpose default losses first (a candidate that trains for
    # sure, so that best/ is not empty), then the searcher's own proposal.
    script_proposals(search, [{b: DEFAULT_TREES[b] for b in branches},
                              {b: VARIANTS[b] for b in branches}])
    return search, search.run()


@pytest.fixture(scope='module')
def demo_search(tiny_data, tmp_path_factory):
    root = tmp_path_factory.mktemp('det_pose_search')

    def run(name):
        return _search(name, tiny_data['coco'], root / name)

    yield run
    _search.cache_clear()


@pytest.mark.parametrize('name', ['faster', 'mask', 'pose'])
def test_demo_search_end_to_end(demo_search, name):
    _, target, branches = DEMOS[name]
    search, summary = demo_search(name)
    work_dir = search.work_dir
    assert [b.name for b in search.settings.branches] == list(branches)
    counts = summary['counts']
    assert counts['baseline'] == 1 and counts['running'] == 0
    assert search.archive.num_trained() == 3
    assert (work_dir / 'search.sqlite').is_file()
    # The baseline was scored by the OpenMMLab CocoMetric under the target key.
    baseline = search.archive.baseline()
    assert target in baseline['metrics']
    assert 0.0 <= baseline['score'] <= 1.0
    # Every evaluated candidate has one tree and one fingerprint per branch.
    rows = search.archive.rows('trained', 'equivalent', 'diverged')
    assert rows, summary
    for row in rows:
        assert list(json.loads(row['trees'])) == list(branches)
        prints = row['fingerprint'].split('|')
        assert [p.split(':')[0] for p in prints] == list(branches)
        assert set(row['gains']) == set(branches)
    etas = {b.name: b.eta for b in search.settings.branches}
    assert etas == {b: search.cfg.search.branches[b].eta for b in branches}
    *scripted, proposal = rows  # then the searcher's own proposal
    parent = next(r for r in scripted if r['id'] == proposal['parent'])
    before, child = (json.loads(r['trees']) for r in (parent, proposal))
    assert sum(before[b] != child[b] for b in branches) <= 1
    assert all(proposal['gains'][b] >= etas[b] for b in branches)
    # rejected draws on the way hold the one failing branch's tree
    for row in search.archive.rows('rejected'):
        assert len(json.loads(row['trees'])) == 1
        branch = row['key'].split('=')[0]
        assert row['reason'].startswith(f'{branch}:')
    # best/top1.py: one slot per branch path, building the searched module
    # of the exported tree (dead terms dropped; searched_losses keeps the
    # searched trees).
    snippet = Config.fromfile(str(work_dir / 'best' / 'top1.py'))
    best = summary['best'][0]['trees']
    assert snippet.searched_losses == best
    assert set(snippet.searched_slots) == set(branches.values())
    exported = _exported(search, best)
    for branch, path in branches.items():
        slot = snippet.searched_slots[path]
        assert slot['type'] == TYPES[branch]
        assert slot['branch'] == branch and slot['tree'] == exported[branch]
        assert slot['loss_weight'] == resolve_path(search.cfg, path).get(
            'loss_weight', 1.0)
        assert str(MODELS.build(slot).tree) == exported[branch]


def _exported(search, trees):
    """{branch: the tree a snippet's slot holds for the searched tree}."""
    exporter = make_exporter(search.rejection)
    return {b: exported_tree(exporter, b, t)[0] for b, t in trees.items()}


def test_snippet_drops_into_the_full_scale_config(demo_search, tiny_data,
                                                  tmp_path):
    """best/top1.py of the Faster R-CNN demo search into the R-50 COCO
    config: every slot replaced, loss weights and use_sigmoid kept; one
    training step of the R-50 model on generated data."""
    search, summary = demo_search('faster')
    snippet = search.work_dir / 'best' / 'top1.py'
    full = Config.fromfile(str(REPO / 'configs' / 'coco_faster_rcnn_map.py'))
    full = point_data_root(full, tiny_data['coco'])
    cfg = apply_searched_loss(full, str(snippet))
    best = _exported(search, summary['best'][0]['trees'])
    for branch, path in DEMOS['faster'][2].items():
        slot, old = resolve_path(cfg, path), resolve_path(full, path)
        assert slot['type'] == TYPES[branch] and slot['tree'] == best[branch]
        assert slot['loss_weight'] == old['loss_weight']
    assert resolve_path(cfg, RPN_CLS)['use_sigmoid'] is True

    cfg.model.backbone.init_cfg = None  # no pretrained download
    cfg.work_dir = str(tmp_path)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    cfg.log_level = 'WARNING'
    cfg.train_dataloader.update(batch_size=1, num_workers=0,
                                persistent_workers=False)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert model.backbone.depth == 50
    modules = {
        'rpn_cls': model.rpn_head.loss_cls,
        'rpn_reg': model.rpn_head.loss_bbox,
        'rcnn_cls': model.roi_head.bbox_head.loss_cls,
        'rcnn_reg': model.roi_head.bbox_head.loss_bbox,
    }
    for branch, module in modules.items():
        assert type(module).__name__ == TYPES[branch]
        assert str(module.tree) == best[branch]
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    before = model.rpn_head.rpn_conv.weight.detach().clone()
    model.train()
    log_vars = model.train_step(next(iter(loader)), optim_wrapper)
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'):
        assert key in log_vars, sorted(log_vars)
        assert math.isfinite(float(log_vars[key])), (key, log_vars[key])
    after = model.rpn_head.rpn_conv.weight.detach()
    assert torch.isfinite(after).all()
    assert not torch.equal(before, after)  # the step trained the model


def test_full_scale_configs_fail_clearly_without_data(tmp_path):
    from autoloss_zero.datasets.check import check_data_roots
    for name in ('coco_faster_rcnn_map.py', 'coco_mask_rcnn_map.py',
                 'coco_pose_ap.py'):
        cfg = Config.fromfile(str(REPO / 'configs' / name))
        cfg = point_data_root(cfg, tmp_path / 'missing' / 'coco')
        with pytest.raises(FileNotFoundError,
                           match='missing/coco.*cocodataset.org'):
            check_data_roots(cfg)


@pytest.mark.parametrize('name,model', [
    ('coco_faster_rcnn_map.py', 'faster'), ('coco_mask_rcnn_map.py', 'mask'),
    ('coco_pose_ap.py', 'pose')])
def test_full_scale_config_builds_with_searched_slots(name, model):
    """The R-50 models of the full-scale search configs, with a searched
    module in every branch slot (as the proxy trainer injects them)."""
    from mmengine.registry import DefaultScope

    from autoloss_zero.search import SearchSettings
    from autoloss_zero.search.execution import inject_losses
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    settings = SearchSettings.from_config(cfg)
    branches = DEMOS[model][2]
    assert [b.name for b in settings.branches] == list(branches)
    assert settings.evolution.population == 20
    assert settings.rejection.samples == 5
    cfg = inject_losses(cfg, settings)
    cfg.model.backbone.init_cfg = None
    scope = cfg.default_scope
    with DefaultScope.overwrite_default_scope(scope):
        detector = MODELS.build(cfg.model)
    for branch, path in branches.items():
        # the config key of a slot is the module attribute, but for mmpose
        # heads (config `loss`, attribute `loss_module`)
        attr = path.split('.', 1)[1]
        attr = 'head.loss_module' if attr == 'head.loss' else attr
        module = detector.get_submodule(attr)
        assert type(module).__name__ == TYPES[branch]
        assert module.branch == branch
        assert module.loss_weight == resolve_path(
            Config.fromfile(str(REPO / 'configs' / name)), path).get(
                'loss_weight', 1.0)
