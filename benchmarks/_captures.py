"""Captures of the screening benchmarks: the demo segmentation setting and
the R-CNN / pose demo searches on generated COCO data (``data/demo_coco``,
generated if missing), each as a :class:`LossRejection` of the config's own
settings. Built once per process (a capture is one training forward of the
random-init proxy model)."""
import dataclasses
import os.path as osp

from _common import REPO, demo_config, work_dir

#: setting -> (config, branches screened by the benchmarks).
SETTINGS = {
    'seg': ('configs/demo/voc_miou.py', ('seg', )),
    'faster': ('configs/demo/coco_faster_rcnn_map.py',
               ('rpn_cls', 'rpn_reg', 'rcnn_cls', 'rcnn_reg')),
    'mask': ('configs/demo/coco_mask_rcnn_map.py', ('mask', )),
    'pose': ('configs/demo/coco_pose_ap.py', ('heatmap', )),
}


def coco_config(name):
    """A COCO demo search config on the generated set (absolute paths: the
    benchmarks run from any directory)."""
    import autoloss_zero  # noqa: F401
    from autoloss_zero.datasets import DEMO_DEFAULTS, generate_demo_data
    from mmengine.config import Config
    root = osp.join(REPO, DEMO_DEFAULTS['coco']['root'])
    generate_demo_data('coco', root)
    cfg = Config.fromfile(osp.join(REPO, name))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root + '/'
    for key in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(key)
        if isinstance(evaluator, dict) and 'ann_file' in evaluator:
            evaluator.ann_file = osp.join(REPO, evaluator.ann_file)
    return cfg


def build(setting, **rejection):
    """(LossRejection, SearchSettings) of ``setting`` at its config's
    rejection settings, with ``rejection`` fields replaced."""
    rej, settings, _ = build_with_trainer(setting, **rejection)
    return rej, settings


def build_with_trainer(setting, every_branch=False, **rejection):
    """:func:`build` and the ProxyTrainer it captured with; with
    ``every_branch`` the capture keeps all the search's branches."""
    from autoloss_zero.search import (LossRejection, ProxyTrainer,
                                      SearchSettings)
    name = SETTINGS[setting][0]
    cfg = demo_config(name) if setting == 'seg' else coco_config(name)
    settings = SearchSettings.from_config(cfg)
    settings = dataclasses.replace(settings, rejection=dataclasses.replace(
        settings.rejection, **rejection))
    trainer = ProxyTrainer(cfg, settings, work_dir())
    captured = trainer.capture(settings.rejection.samples)
    keep = [b.name for b in settings.branches] if every_branch else \
        SETTINGS[setting][1]
    captured = {b: c for b, c in captured.items() if b in keep}
    rej = LossRejection(captured, settings.rejection,
                        {b.name: b.eta for b in settings.branches},
                        settings.target.metric, trainer.heads)
    return rej, settings, trainer


def random_trees(settings, branch, count, seed=0):
    """``count`` random trees of ``branch``'s space (its initial depth)."""
    import numpy as np

    from autoloss_zero.graph import random_tree
    spec, = [b for b in settings.branches if b.name == branch]
    space, rng = spec.search_space(settings.space), np.random.default_rng(
        seed)
    return [random_tree(space, rng) for _ in range(count)]


def add_capture_arguments(parser) -> None:
    """``--settings`` (which captures) and ``--seed`` (of the random
    trees), shared by the screening benchmarks."""
    parser.add_argument('--settings', nargs='+', default=list(SETTINGS),
                        choices=list(SETTINGS))
    parser.add_argument('--seed', type=int, default=0)


def first_passing(screen, branch, space, rng, batch, limit):
    """Random trees of ``space`` drawn in batches of ``batch`` and screened
    by ``screen`` (lists of (branch, tree)) until one passes: (the tree or
    None after ``limit`` draws, the draws it took)."""
    from autoloss_zero.graph import random_tree
    draws = 0
    while draws < limit:
        trees = [random_tree(space, rng) for _ in range(batch)]
        for tree, screening in zip(trees, screen([(branch, t)
                                                  for t in trees])):
            draws += 1
            if screening.passed:
                return tree, draws
    return None, draws
