"""Input validation and config building of the searched-loss modules.

Bad input raises ValueError with a message naming the offending value; every
module builds from a config dict in mmengine's and the OpenMMLab packages'
``MODELS`` registries.
"""
import math

import pytest
import torch
from mmengine.registry import MODELS

from autoloss_zero.losses import (SearchedBoxLoss, SearchedHeatmapLoss,
                                  SearchedLoss, SearchedMaskLoss,
                                  SearchedSegLoss, SearchedSigmoidClsLoss,
                                  SearchedSoftmaxClsLoss)

CE = 'neg(mul(y,log(yhat)))'
BCE = 'neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),log(add(1,neg(yhat))))))'
L1 = 'abs(add(yhat,neg(y)))'
MSE = 'square(add(yhat,neg(y)))'
IOU = 'add(1,neg(mul(i,inv(u))))'
GIOU = 'add(add(1,neg(mul(i,inv(u)))),mul(add(e,neg(u)),inv(e)))'

# -------------------------------------------------------------- bad input --
BAD_CALLS = {
    'seg 3-D logits': (lambda: SearchedSegLoss(CE)(
        torch.zeros(2, 4, 4), torch.zeros(2, 4, 4).long()), r'\(2, 4, 4\)'),
    'seg label shape': (lambda: SearchedSegLoss(CE)(
        torch.zeros(2, 3, 4, 4), torch.zeros(2, 5, 4).long()), r'\(2, 5, 4\)'),
    'seg weight shape': (lambda: SearchedSegLoss(CE)(
        torch.zeros(2, 3, 4, 4), torch.zeros(2, 4, 4).long(),
        torch.ones(2, 3, 4, 4)), r'\(2, 3, 4, 4\)'),
    'rpn 1-D score': (lambda: SearchedSigmoidClsLoss(BCE)(
        torch.zeros(5), torch.zeros(5).long()), r'\(5,\)'),
    'rpn weights': (lambda: SearchedSigmoidClsLoss(BCE)(
        torch.zeros(5, 1), torch.zeros(5).long(), torch.ones(4)), r'\(4,\)'),
    'roi labels': (lambda: SearchedSoftmaxClsLoss(CE)(
        torch.zeros(5, 3), torch.zeros(6).long()), r'\(6,\)'),
    'roi reduction': (lambda: SearchedSoftmaxClsLoss(CE)(
        torch.zeros(5, 3), torch.zeros(5).long(),
        reduction_override='avg'), "'avg'"),
    'box shapes': (lambda: SearchedBoxLoss(L1)(
        torch.zeros(5, 4), torch.zeros(5, 3)), r'\(5, 3\)'),
    'box 5 columns': (lambda: SearchedBoxLoss(L1)(
        torch.zeros(5, 5), torch.zeros(5, 5)), r'\(5, 5\)'),
    'box weight': (lambda: SearchedBoxLoss(L1)(
        torch.zeros(5, 4), torch.zeros(5, 4), torch.ones(5, 2)),
        r'\(5, 2\)'),
    'mask targets': (lambda: SearchedMaskLoss(BCE)(
        torch.zeros(2, 3, 7, 7), torch.zeros(2, 6, 6),
        torch.zeros(2).long()), r'\(2, 6, 6\)'),
    'mask labels': (lambda: SearchedMaskLoss(BCE)(
        torch.zeros(2, 3, 7, 7), torch.zeros(2, 7, 7),
        torch.zeros(3).long()), r'\(3,\)'),
    'heatmap shapes': (lambda: SearchedHeatmapLoss(MSE)(
        torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 5)), r'\(2, 3, 4, 5\)'),
    'heatmap weights': (lambda: SearchedHeatmapLoss(MSE)(
        torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4), torch.ones(2, 4)),
        r'\(2, 4\)'),
    'loss_name': (lambda: SearchedSegLoss(CE, loss_name='ce'), "'ce'"),
    'leaf i in deltas mode': (lambda: SearchedBoxLoss(IOU), "'i'"),
    'leaf yhat in iou mode': (lambda: SearchedBoxLoss(L1, mode='iou'),
                              "'yhat'"),
    'extra leaf': (lambda: SearchedSegLoss('mul(y,z)'), "'z'"),
    'box mode': (lambda: SearchedBoxLoss(L1, mode='giou'), "'giou'"),
    'malformed tree': (lambda: SearchedSegLoss('neg(mul(y,log(yhat))'),
                       r'neg\(mul\(y,log\(yhat\)\)'),
    'unknown op arity': (lambda: SearchedSegLoss('neg(y,yhat)'),
                         r'neg\(y,yhat\)'),
    'rpn use_sigmoid': (lambda: SearchedSigmoidClsLoss(BCE, use_sigmoid=False),
                        'use_sigmoid'),
    'roi use_sigmoid': (lambda: SearchedSoftmaxClsLoss(CE, use_sigmoid=True),
                        'use_sigmoid'),
}


@pytest.mark.parametrize('case', list(BAD_CALLS))
def test_bad_input_raises_value_error_naming_it(case):
    call, pattern = BAD_CALLS[case]
    with pytest.raises(ValueError, match=pattern):
        call()


# --------------------------------------------------------------- registry --
CONFIGS = [
    dict(type='SearchedSegLoss', tree=CE, loss_name='loss_ce'),
    dict(type='SearchedSigmoidClsLoss', tree=BCE, use_sigmoid=True),
    dict(type='SearchedSoftmaxClsLoss', tree=CE, use_sigmoid=False),
    dict(type='SearchedBoxLoss', tree=L1, loss_weight=2.0),
    dict(type='SearchedBoxLoss', tree=GIOU, mode='iou'),
    dict(type='SearchedMaskLoss', tree=BCE, use_mask=True),
    dict(type='SearchedHeatmapLoss', tree=MSE, use_target_weight=True),
]


@pytest.mark.parametrize('registry', ['mmengine', 'mmseg', 'mmdet',
                                      'mmpose'])
@pytest.mark.parametrize('cfg', CONFIGS, ids=lambda c: c['type'])
def test_builds_from_config_in_every_registry(registry, cfg):
    if registry == 'mmengine':
        reg = MODELS
    else:
        reg = __import__(f'{registry}.registry', fromlist=['MODELS']).MODELS
    module = reg.build(dict(cfg))
    assert isinstance(module, SearchedLoss)
    assert type(module).__name__ == cfg['type']
    assert str(module.tree) == cfg['tree']
    assert module.loss_name.startswith('loss_')
    assert module.loss_weight == cfg.get('loss_weight', 1.0)
    assert cfg['tree'] in repr(module)


def test_branch_defaults_to_loss_name():
    assert SearchedBoxLoss(L1).branch == 'loss_bbox'
    assert SearchedBoxLoss(L1, branch='rpn_reg').branch == 'rpn_reg'
    assert math.isclose(SearchedMaskLoss(BCE, loss_weight=2).loss_weight, 2)
