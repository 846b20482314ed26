"""Loss slots: one implementation places searched losses for the proxy, the
``best/`` snippets and ``tools/train.py --loss``; the proxy's schedulers
follow its length."""
import pytest
from mmengine.config import Config

from autoloss_zero.search import Individual, SearchSettings
from autoloss_zero.search.execution import (inject_losses, proxy_config,
                                            rescale_schedule, searched_slots,
                                            slot_config)

from .conftest import tiny_search_config

RPN = 'model.rpn_head.loss_cls'


def test_slot_keeps_loss_weight_and_use_sigmoid_where_accepted():
    old = dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=2.0,
               avg_non_ignore=True)
    sigmoid = slot_config(dict(type='SearchedSigmoidClsLoss', tree='y'), old)
    assert sigmoid == dict(type='SearchedSigmoidClsLoss', tree='y',
                           loss_weight=2.0, use_sigmoid=True)
    seg = slot_config(dict(type='SearchedSegLoss', tree='y',
                           loss_weight=1.0), old)
    assert seg == dict(type='SearchedSegLoss', tree='y', loss_weight=2.0)


def test_proxy_snippet_and_retraining_place_a_loss_alike(tiny_data):
    """The three users of slots agree, use_sigmoid included (the snippet
    used to drop it)."""
    cfg = tiny_search_config('demo/coco_faster_rcnn_map.py',
                             tiny_data['coco'])
    settings = SearchSettings.from_config(cfg)
    trees = {b.name: 'y' for b in settings.branches}
    proxy = inject_losses(cfg, settings, Individual(trees))
    snippet = searched_slots(trees, settings, cfg)
    from autoloss_zero.search import apply_searched_loss
    retrain = apply_searched_loss(cfg, snippet)
    for path, slot in snippet.items():
        parts = path.split('.')
        placed = [proxy, retrain]
        for key in parts:
            placed = [p[key] for p in placed]
        assert [dict(p) for p in placed] == [slot, slot]
    assert snippet[RPN]['use_sigmoid'] is True


def _schedule(max_iters=200):
    return Config(dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        param_scheduler=[
            dict(type='LinearLR', begin=0, end=20, by_epoch=False),
            dict(type='PolyLR', begin=20, end=max_iters, by_epoch=False),
            dict(type='MultiStepLR', milestones=[100, 150], by_epoch=False)
        ]))


def test_schedulers_follow_the_proxy_length():
    cfg = _schedule()
    rescale_schedule(cfg, 50)
    warmup, poly, steps = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 5)
    assert (poly.begin, poly.end) == (5, 50)
    assert steps.milestones == [25, 38]
    same = _schedule()
    rescale_schedule(same, 200)
    assert same.param_scheduler == _schedule().param_scheduler


def test_epoch_schedulers_are_refused_with_the_fix():
    cfg = _schedule()
    cfg.param_scheduler[1].by_epoch = True
    with pytest.raises(ValueError, match="'PolyLR' counts epochs.*"
                       "by_epoch=False"):
        rescale_schedule(cfg, 50)


def test_proxy_config_derives_every_length_from_proxy_max_iters(
        seg_search_cfg, tmp_path):
    cfg = seg_search_cfg
    settings = SearchSettings.from_config(cfg)
    proxy = proxy_config(cfg, settings, tmp_path, searched=True)
    assert proxy.train_cfg.max_iters == settings.proxy.max_iters == 2
    assert proxy.train_cfg.val_interval == 2
    assert max(s.end for s in proxy.param_scheduler) == 2
