"""Shared fixtures: tiny generated data sets and config helpers.

The suite runs torch on one intra-op thread (subprocesses too, through
OMP_NUM_THREADS): its tensors are tiny, and on a shared 2-core machine
spinning OpenMP barriers cost up to 10x.
"""
import copy
import os
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1')

import pytest  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402

import autoloss_zero  # noqa: F401,E402  (registers modules, shims)

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
TINY = {
    'voc': dict(num_train=8, num_val=4, size=(64, 64), seed=0),
    'coco': dict(num_train=6, num_val=4, size=(128, 128), seed=0),
    'cityscapes': dict(num_train=4, num_val=2, size=(128, 64), seed=0),
}


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """Generate tiny data sets once; returns {kind: config data_root}.
    (Imported here: the data sets need opencv, which the tests of a GPU
    machine with torch alone, e.g. of a saved capture, do without.)"""
    from autoloss_zero.datasets import demo_data_root, generate_demo_data
    base = tmp_path_factory.mktemp('data')
    return {
        kind: demo_data_root(
            kind, generate_demo_data(kind, base / f'demo_{kind}', **params))
        for kind, params in TINY.items()
    }


def point_data_root(cfg: Config, root: Path) -> Config:
    """Point every dataloader (and COCO evaluator) of ``cfg`` at ``root``."""
    cfg = copy.deepcopy(cfg)
    old = cfg.train_dataloader.dataset.data_root
    new = str(root) + ('/' if old.endswith('/') else '')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is not None:
            cfg[key].dataset.data_root = new
    for key in ('val_evaluator', 'test_evaluator'):
        ev = cfg.get(key)
        if ev is not None and 'ann_file' in ev:
            ev.ann_file = ev.ann_file.replace(old, new)
    return cfg


def tiny_config(name: str, data_root: Path, work_dir: Path,
                max_iters: int = 1) -> Config:
    """Load ``configs/<name>`` for a ``max_iters`` run on tiny data."""
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    cfg = point_data_root(cfg, data_root)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.default_hooks.logger.interval = 1
    cfg.param_scheduler = []
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    cfg.log_level = 'WARNING'
    return cfg
