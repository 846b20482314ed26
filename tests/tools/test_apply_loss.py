"""apply_searched_loss: snippet slots replace a config's losses entirely."""
import pytest
from mmengine.config import Config

from autoloss_zero.search.execution.slots import (apply_searched_loss,
                                             load_searched_slots)

from ..conftest import REPO
from .conftest import load_tool

SNIPPET = '''
searched_losses = {'seg': 'neg(mul(y,0.5*log(yhat)))'}
searched_slots = {
    'model.decode_head.loss_decode': {
        'type': 'SearchedSegLoss', 'tree': 'neg(mul(y,0.5*log(yhat)))',
        'branch': 'seg', 'loss_weight': 1.0},
    'model.auxiliary_head.loss_decode': {
        'type': 'SearchedSegLoss', 'tree': 'neg(mul(y,0.5*log(yhat)))',
        'branch': 'seg', 'loss_weight': 0.4}}
'''


@pytest.fixture
def snippet(tmp_path):
    path = tmp_path / 'top1.py'
    path.write_text(SNIPPET)
    return str(path)


def _target(aux_weight=0.25):
    return Config(dict(model=dict(
        decode_head=dict(type='DepthwiseSeparableASPPHead', loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=2.0,
            avg_non_ignore=True)),
        auxiliary_head=dict(type='FCNHead', loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False,
            loss_weight=aux_weight)))))


def test_slots_replaced_entirely_keeping_target_weights(snippet):
    cfg = _target()
    out = apply_searched_loss(cfg, snippet)
    assert out.model.decode_head.loss_decode.to_dict() == dict(
        type='SearchedSegLoss', tree='neg(mul(y,0.5*log(yhat)))',
        branch='seg', loss_weight=2.0)
    aux = out.model.auxiliary_head.loss_decode
    assert aux['loss_weight'] == 0.25 and 'use_sigmoid' not in aux
    # the input config is untouched, siblings of the slot are kept
    assert cfg.model.decode_head.loss_decode.type == 'CrossEntropyLoss'
    assert out.model.decode_head.type == 'DepthwiseSeparableASPPHead'


def test_snippet_weight_used_when_target_has_none(snippet):
    cfg = _target()
    del cfg.model.auxiliary_head.loss_decode['loss_weight']
    out = apply_searched_loss(cfg, snippet)
    assert out.model.auxiliary_head.loss_decode.loss_weight == 0.4


def test_missing_slot_named(snippet):
    cfg = _target()
    del cfg.model['auxiliary_head']
    with pytest.raises(KeyError, match='model.auxiliary_head.loss_decode'):
        apply_searched_loss(cfg, snippet)


def test_missing_snippet_and_bad_snippet(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.py'):
        apply_searched_loss(_target(), str(tmp_path / 'nope.py'))
    bad = tmp_path / 'bad.py'
    bad.write_text('x = 1\n')
    with pytest.raises(KeyError, match='searched_slots'):
        load_searched_slots(str(bad))


def test_use_sigmoid_kept_for_sigmoid_modules():
    cfg = Config(dict(model=dict(rpn_head=dict(loss_cls=dict(
        type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))))
    slots = {'model.rpn_head.loss_cls': dict(
        type='SearchedSigmoidClsLoss', tree='neg(mul(y,log(yhat)))',
        branch='rpn_cls', loss_weight=3.0)}
    out = apply_searched_loss(cfg, slots).model.rpn_head.loss_cls
    assert out.use_sigmoid is True and out.loss_weight == 1.0


def test_train_setup_config(snippet, tmp_path):
    """tools/train.py: --loss applied to the demo retrain config; work dir
    CLI > config > work_dirs/<config name>; --resume, --amp."""
    train = load_tool('train')
    config = str(REPO / 'configs/demo/retrain_deeplabv3plus_r18_demo-voc.py')
    cfg = train.setup_config(train.parse_args([config, '--loss', snippet]))
    slot = cfg.model.auxiliary_head.loss_decode
    assert slot.type == 'SearchedSegLoss' and slot.loss_weight == 0.4
    assert 'use_sigmoid' not in slot and cfg.resume is False
    assert cfg.work_dir.endswith(
        'work_dirs/retrain_deeplabv3plus_r18_demo-voc')
    cfg = train.setup_config(train.parse_args([
        config, '--loss', snippet, '--cfg-options', 'work_dir=/x/cfg',
        '--resume', '--amp']))
    assert cfg.work_dir == '/x/cfg' and cfg.resume and cfg.load_from is None
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    cfg = train.setup_config(train.parse_args([
        config, '--loss', snippet, '--cfg-options', 'work_dir=/x/cfg',
        '--work-dir', str(tmp_path), '--resume', 'a.pth']))
    assert cfg.work_dir == str(tmp_path) and cfg.load_from == 'a.pth'
    # the config's own searched_loss must exist unless --loss is given
    with pytest.raises(FileNotFoundError, match='searched_loss'):
        train.setup_config(train.parse_args([
            config, '--cfg-options', f'searched_loss={tmp_path}/none.py']))
    cfg = train.setup_config(train.parse_args([
        config, '--cfg-options', 'searched_loss=None']))
    assert cfg.model.decode_head.loss_decode.type == 'CrossEntropyLoss'
