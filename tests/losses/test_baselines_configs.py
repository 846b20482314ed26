"""Every config in configs/baselines loads, builds its loss and trains a head.

The heads are the configs' own (mmseg DepthwiseSeparableASPPHead, mmdet
Shared2FCBBoxHead) with narrower channels, called through their real loss
code paths (``loss_by_feat`` / ``loss``) on random input of their shapes.
"""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.structures import PixelData

import autoloss_zero.losses.baselines  # noqa: F401  (registers the losses)

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'baselines'
# config file -> (head, loss slot, loss type)
CONFIGS = {
    'deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512_poly1.py':
    ('decode_head', 'loss_decode', 'Poly1Loss'),
    'deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512_baikal.py':
    ('decode_head', 'loss_decode', 'BaikalLoss'),
    'deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512_baikalcma.py':
    ('decode_head', 'loss_decode', 'BaikalCMALoss'),
    'deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512_ngl.py':
    ('decode_head', 'loss_decode', 'NGLLoss'),
    'deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512_flooding-ce.py':
    ('decode_head', 'loss_decode', 'Flooding'),
    'faster-rcnn_r50_fpn_1x_coco_adaptive-barron.py':
    ('bbox_head', 'loss_bbox', 'AdaptiveBarronLoss'),
    'faster-rcnn_r50_fpn_1x_coco_barron.py':
    ('bbox_head', 'loss_bbox', 'BarronLoss'),
    'faster-rcnn_r50_fpn_1x_coco_poly1.py':
    ('bbox_head', 'loss_cls', 'Poly1Loss'),
}


def test_every_config_is_covered():
    assert sorted(p.name for p in CONFIG_DIR.glob('*.py')) == sorted(CONFIGS)


def seg_head_losses(cfg):
    from mmseg.structures import SegDataSample
    head_cfg = cfg.model.decode_head.copy()
    head_cfg.update(in_channels=16, channels=8, c1_in_channels=8,
                    c1_channels=4)
    head = MODELS.build(head_cfg)
    gen = torch.Generator().manual_seed(0)
    num_classes = head_cfg.num_classes
    seg_logits = torch.randn(2, num_classes, 8, 8, generator=gen,
                             requires_grad=True)
    samples = []
    for _ in range(2):
        label = torch.randint(0, num_classes, (1, 16, 16), generator=gen)
        label[:, :3] = 255
        samples.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
    losses = head.loss_by_feat(seg_logits, samples)
    return head, losses, seg_logits


def det_head_losses(cfg):
    head_cfg = cfg.model.roi_head.bbox_head.copy()
    head_cfg.update(in_channels=8, fc_out_channels=16)
    head = MODELS.build(head_cfg)
    gen = torch.Generator().manual_seed(0)
    num_rois, num_classes = 12, head_cfg.num_classes
    cls_score = torch.randn(num_rois, num_classes + 1, generator=gen,
                            requires_grad=True)
    bbox_pred = torch.randn(num_rois, num_classes * 4, generator=gen,
                            requires_grad=True)
    rois = torch.cat([torch.zeros(num_rois, 1),
                      torch.rand(num_rois, 4, generator=gen) * 100], dim=1)
    labels = torch.randint(0, num_classes, (num_rois, ), generator=gen)
    labels[6:] = num_classes  # background
    label_weights = torch.ones(num_rois)
    bbox_targets = torch.randn(num_rois, 4, generator=gen)
    bbox_weights = torch.zeros(num_rois, 4)
    bbox_weights[:6] = 1.
    losses = head.loss(cls_score, bbox_pred, rois, labels, label_weights,
                       bbox_targets, bbox_weights)
    return head, losses, cls_score


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_builds_loss_and_head(name):
    head_key, slot, loss_type = CONFIGS[name]
    cfg = Config.fromfile(CONFIG_DIR / name)
    assert cfg.custom_imports == dict(
        imports=['autoloss_zero'], allow_failed_imports=False)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        if head_key == 'decode_head':
            loss_cfg = cfg.model.decode_head[slot]
            head, losses, pred = seg_head_losses(cfg)
        else:
            loss_cfg = cfg.model.roi_head.bbox_head[slot]
            head, losses, pred = det_head_losses(cfg)
        assert loss_cfg.type == loss_type
        loss = MODELS.build(loss_cfg)
    assert type(loss).__name__ == loss_type
    assert type(getattr(head, slot)).__name__ == loss_type

    key = loss.loss_name if head_key == 'decode_head' else slot
    assert key in losses
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    if loss_type == 'AdaptiveBarronLoss':
        params = dict(head.named_parameters())
        for name in ('loss_bbox.latent_alpha', 'loss_bbox.latent_scale'):
            assert params[name].grad is not None
            assert torch.isfinite(params[name].grad).all()
        assert cfg.optim_wrapper.paramwise_cfg.custom_keys['loss_bbox'] == \
            dict(decay_mult=0.0)
