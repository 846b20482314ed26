"""The searched-loss modules inside the four proxy models (CPU, tiny data).

* With the trees equivalent to each head's default loss, the models give the
  default losses' values (and, for DeepLabV3+, parameter gradients).
* One training step with searched losses in every branch, built from the
  configs, gives finite losses and finite updated weights.

:func:`model_setup` builds each model once per process (the capture tests
share it); tests set the losses of every slot they use before a forward.
"""
import copy
import functools
import math
import random
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import DATASETS, MODELS, DefaultScope

from autoloss_zero.losses import (SearchedBoxLoss, SearchedHeatmapLoss,
                                  SearchedMaskLoss, SearchedSegLoss,
                                  SearchedSigmoidClsLoss,
                                  SearchedSoftmaxClsLoss)

from ..conftest import tiny_config

CE = 'neg(mul(y,log(yhat)))'
BCE = 'neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),log(add(1,neg(yhat))))))'
L1 = 'abs(add(yhat,neg(y)))'
MSE = 'square(add(yhat,neg(y)))'

# model -> (config, data kind, training samples of the batch); DeepLabV3+
# needs 2 images (its image-pool BN), the others run on one to save time.
MODEL_CONFIGS = {
    'seg': ('demo/deeplabv3plus_r18_demo-voc.py', 'voc', (0, 1)),
    'faster': ('demo/faster-rcnn_r18_fpn_demo-coco.py', 'coco', (0, )),
    'mask': ('demo/mask-rcnn_r18_fpn_demo-coco.py', 'coco', (0, )),
    'pose': ('demo/td-hm_r18_demo-coco.py', 'coco', (5, )),  # invisible kpts
}
DET_SLOTS = {
    'rpn_cls': 'rpn_head.loss_cls',
    'rpn_reg': 'rpn_head.loss_bbox',
    'rcnn_cls': 'roi_head.bbox_head.loss_cls',
    'rcnn_reg': 'roi_head.bbox_head.loss_bbox',
}
# model -> branch -> the attribute path of its loss module
SLOTS = {
    'seg': {'decode': 'decode_head.loss_decode',
            'aux': 'auxiliary_head.loss_decode'},
    'faster': DET_SLOTS,
    'mask': {**DET_SLOTS, 'mask': 'roi_head.mask_head.loss_mask'},
    'pose': {'heatmap': 'head.loss_module'},
}


def default_trees(model):
    """Searched modules equal to the default losses, keyed by branch."""
    if model == 'seg':
        return {
            'decode': SearchedSegLoss(CE, loss_name='loss_ce',
                                      branch='decode'),
            'aux': SearchedSegLoss(CE, loss_weight=0.4, loss_name='loss_ce',
                                   branch='aux'),
        }
    if model == 'pose':
        return {'heatmap': SearchedHeatmapLoss(MSE, branch='heatmap')}
    modules = {
        'rpn_cls': SearchedSigmoidClsLoss(BCE, branch='rpn_cls'),
        'rpn_reg': SearchedBoxLoss(L1, branch='rpn_reg'),
        'rcnn_cls': SearchedSoftmaxClsLoss(CE, branch='rcnn_cls'),
        'rcnn_reg': SearchedBoxLoss(L1, branch='rcnn_reg'),
    }
    if model == 'mask':
        modules['mask'] = SearchedMaskLoss(BCE, branch='mask')
    return modules


@contextmanager
def scope(model):
    name = 'mmseg' if model == 'seg' else 'mmpose' if model == 'pose' \
        else 'mmdet'
    with DefaultScope.overwrite_default_scope(name):
        yield


def load_config(model, data_root, work_dir='unused'):
    name, _, _ = MODEL_CONFIGS[model]
    cfg = tiny_config(name, data_root, work_dir)
    cfg.model.pop('pretrained', None)
    return cfg


def make_batch(cfg, indices):
    """A collated training batch, the same on every call."""
    np.random.seed(0)
    random.seed(0)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    return pseudo_collate([dataset[i] for i in indices])


@functools.lru_cache(maxsize=None)
def model_setup(model, data_root):
    """(model, batch) for ``model`` on ``data_root``, built once."""
    cfg = load_config(model, data_root)
    with scope(model):
        torch.manual_seed(0)
        net = MODELS.build(cfg.model)
        net.init_weights()
        batch = make_batch(cfg, MODEL_CONFIGS[model][2])
    return net, batch


def set_losses(net, model, modules):
    """Put ``modules`` (branch -> loss module) in the model's slots."""
    for branch, module in modules.items():
        path, attr = SLOTS[model][branch].rsplit('.', 1)
        setattr(net.get_submodule(path), attr, module)


def run_loss(net, model, batch, seed=0):
    """The model's loss dict on ``batch`` (samplers seeded with ``seed``)."""
    with scope(model):
        data = net.data_preprocessor(copy.deepcopy(batch), True)
        torch.manual_seed(seed)
        return net(**data, mode='loss')


def as_list(value):
    return [float(v) for v in value] if isinstance(value, list) else \
        [float(value)]


# ------------------------------------------------------------ equivalence --
def test_deeplab_ce_tree_matches_mmseg_loss_and_gradients(tiny_data):
    from mmseg.models.losses import CrossEntropyLoss
    net, batch = model_setup('seg', tiny_data['voc'])
    labels = torch.stack([s.gt_sem_seg.data for s in batch['data_samples']])
    assert (labels == 255).any() and (labels != 255).any()

    def loss_and_grads(modules):
        set_losses(net, 'seg', modules)
        net.zero_grad()
        losses = run_loss(net, 'seg', batch)
        total, _ = net.parse_losses(losses)
        total.backward()
        grads = {n: p.grad.clone() for n, p in net.named_parameters()
                 if p.grad is not None}
        return losses, grads

    ref_losses, ref_grads = loss_and_grads({
        'decode': CrossEntropyLoss(avg_non_ignore=True),
        'aux': CrossEntropyLoss(avg_non_ignore=True, loss_weight=0.4)})
    losses, grads = loss_and_grads(default_trees('seg'))
    for key in ('decode.loss_ce', 'aux.loss_ce'):
        torch.testing.assert_close(losses[key], ref_losses[key], rtol=1e-5,
                                   atol=1e-6)
    assert sorted(grads) == sorted(ref_grads) and len(grads) > 50
    # float32 round-off is relative to the whole gradient's scale: tensors
    # whose gradients nearly cancel (BN weights, ~1e-6) differ by ~1e-10.
    scale = max(float(g.abs().max()) for g in ref_grads.values())
    for name, grad in grads.items():
        torch.testing.assert_close(grad, ref_grads[name], rtol=1e-3,
                                   atol=1e-6 * scale, msg=name)


@pytest.mark.parametrize('model', ['faster', 'mask'])
def test_rcnn_default_trees_match_mmdet_losses(model, tiny_data):
    net, batch = model_setup(model, tiny_data['coco'])
    set_losses(net, model, {
        'rpn_cls': MODELS.build(dict(type='mmdet.CrossEntropyLoss',
                                     use_sigmoid=True)),
        'rpn_reg': MODELS.build(dict(type='mmdet.L1Loss')),
        'rcnn_cls': MODELS.build(dict(type='mmdet.CrossEntropyLoss')),
        'rcnn_reg': MODELS.build(dict(type='mmdet.L1Loss')),
        **({'mask': MODELS.build(dict(type='mmdet.CrossEntropyLoss',
                                      use_mask=True))}
           if model == 'mask' else {}),
    })
    ref = run_loss(net, model, batch)
    set_losses(net, model, default_trees(model))
    ours = run_loss(net, model, batch)
    keys = ['loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'] + (
        ['loss_mask'] if model == 'mask' else [])
    for key in keys:
        assert ours[key].__class__ is ref[key].__class__, key
        np.testing.assert_allclose(as_list(ours[key]), as_list(ref[key]),
                                   rtol=1e-5, atol=1e-6, err_msg=key)
    assert as_list(ref['loss_bbox'])[0] > 0  # positives were sampled


def test_pose_mse_tree_is_k_times_keypoint_mse(tiny_data):
    from mmpose.models.losses import KeypointMSELoss
    net, batch = model_setup('pose', tiny_data['coco'])
    weights = torch.cat([s.gt_instance_labels.keypoint_weights
                         for s in batch['data_samples']])
    assert (weights == 0).any() and (weights == 1).any()
    set_losses(net, 'pose', {'heatmap': KeypointMSELoss(
        use_target_weight=True)})
    ref = run_loss(net, 'pose', batch)['loss_kpt']
    set_losses(net, 'pose', default_trees('pose'))
    ours = run_loss(net, 'pose', batch)['loss_kpt']
    assert net.head.out_channels == 17
    torch.testing.assert_close(ours, 17 * ref, rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------- training step --
SEARCHED_CFG = {
    'seg': {
        'decode_head.loss_decode': dict(
            type='SearchedSegLoss', loss_name='loss_ce',
            tree='neg(mul(y,log(add(yhat,mean_hw(yhat)))))'),
        'auxiliary_head.loss_decode': dict(
            type='SearchedSegLoss', loss_name='loss_ce', loss_weight=0.4,
            tree='neg(mul(max_pool3(y),log(yhat)))'),
    },
    'det': {
        'rpn_head.loss_cls': dict(
            type='SearchedSigmoidClsLoss', use_sigmoid=True,
            tree='neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),'
            'log(tanh(add(1,neg(yhat)))))))'),
        # log(y*y) is log(eps) at the zero targets of the RPN negatives
        'rpn_head.loss_bbox': dict(
            type='SearchedBoxLoss',
            tree='add(log(mul(y,y)),abs(add(yhat,neg(y))))'),
        'roi_head.bbox_head.loss_cls': dict(
            type='SearchedSoftmaxClsLoss',
            tree='neg(mul(y,log(add(yhat,mean_c(yhat)))))'),
        'roi_head.bbox_head.loss_bbox': dict(
            type='SearchedBoxLoss', tree='sqrt(abs(add(yhat,neg(y))))'),
    },
    'mask': {
        'roi_head.mask_head.loss_mask': dict(
            type='SearchedMaskLoss',
            tree='neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),'
            'log(add(1,neg(max_pool3(yhat)))))))'),
    },
    'pose': {
        'head.loss': dict(type='SearchedHeatmapLoss',
                          tree='square(add(tanh(yhat),neg(y)))'),
    },
}


def searched_config(model, data_root):
    cfg = load_config(model, data_root)
    groups = {'seg': ['seg'], 'faster': ['det'], 'mask': ['det', 'mask'],
              'pose': ['pose']}[model]
    for group in groups:
        for path, loss in SEARCHED_CFG[group].items():
            node = cfg.model
            *parents, leaf = path.split('.')
            for key in parents:
                node = node[key]
            node[leaf] = loss
    return cfg


@pytest.mark.parametrize('model', list(MODEL_CONFIGS))
def test_one_training_step_with_searched_losses(model, tiny_data):
    kind = MODEL_CONFIGS[model][1]
    cfg = searched_config(model, tiny_data[kind])
    with scope(model):
        torch.manual_seed(0)
        net = MODELS.build(cfg.model)
        net.init_weights()
        batch = make_batch(cfg, MODEL_CONFIGS[model][2])
        searched = [m for m in net.modules()
                    if type(m).__name__.startswith('Searched')]
        expected = {'seg': 2, 'faster': 4, 'mask': 5, 'pose': 1}[model]
        assert len(searched) == expected
        before = [p.detach().clone() for p in net.parameters()]
        wrapper = OptimWrapper(torch.optim.SGD(net.parameters(), lr=0.01))
        net.train()
        torch.manual_seed(0)
        log_vars = net.train_step(batch, wrapper)
    losses = {k: float(v) for k, v in log_vars.items() if 'loss' in k}
    assert len(losses) > expected, losses
    assert all(math.isfinite(v) for v in losses.values()), losses
    params = list(net.parameters())
    assert all(torch.isfinite(p).all() for p in params)
    changed = sum(not torch.equal(a, p.detach())
                  for a, p in zip(before, params))
    assert changed > len(params) // 2
