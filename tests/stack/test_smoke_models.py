"""One CPU training step of every proxy model, built from its config.

An install that breaks mmcv's ops, mmseg, mmdet or mmpose fails here.
"""
import math

import pytest
from mmengine.runner import Runner

from ..conftest import tiny_config

MODELS = [
    ('demo/deeplabv3plus_r18_demo-voc.py', 'voc'),
    ('demo/pspnet_r18_demo-voc.py', 'voc'),
    ('demo/faster-rcnn_r18_fpn_demo-coco.py', 'coco'),
    ('demo/mask-rcnn_r18_fpn_demo-coco.py', 'coco'),
    ('demo/td-hm_r18_demo-coco.py', 'coco'),
]


@pytest.mark.parametrize('config,kind', MODELS)
def test_one_training_step(config, kind, tiny_data, tmp_path):
    cfg = tiny_config(config, tiny_data[kind], tmp_path, max_iters=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    losses = {k: v.current() for k, v in scalars.items()
              if k.startswith('train/') and 'loss' in k}
    assert losses, f'no loss was logged: {sorted(scalars)}'
    assert all(math.isfinite(v) for v in losses.values()), losses
