"""Loss rejection and the gradient-equivalence fingerprint, on tensors
captured from the randomly initialised tiny DeepLabV3+."""
from dataclasses import replace

import pytest
import torch

from autoloss_zero.search import (Individual, LossRejection, ProxyTrainer,
                                  SearchSettings)
from autoloss_zero.search.loop.settings import Rejection

from .conftest import tiny_search_config

CE = 'neg(mul(y,log(yhat)))'


@pytest.fixture(scope='module')
def trainer(tiny_data, tmp_path_factory):
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'])
    return ProxyTrainer(cfg, SearchSettings.from_config(cfg),
                        tmp_path_factory.mktemp('proxy'))


@pytest.fixture(scope='module')
def captured(trainer):
    return trainer.capture(2)


@pytest.fixture(scope='module')
def rejection(captured):
    return LossRejection(captured, Rejection(samples=2, steps=100),
                         metric='mIoU')


def screen(rejection, tree):
    return rejection.screen(Individual({'seg': tree}))


def test_capture_holds_the_decode_head_or_every_head(trainer, captured):
    """By default only the primary slot (the decode head) is screened; the
    auxiliary head shares its tree. heads='all' screens both."""
    decode = trainer.model.decode_head.loss_decode
    assert [m for m, _ in captured['seg']] == [decode]
    settings = trainer.settings
    trainer.settings = replace(settings, rejection=replace(
        settings.rejection, heads='all'))
    try:
        every = trainer.capture(2)['seg']
    finally:
        trainer.settings = settings
    assert [m for m, _ in every] == [
        decode, trainer.model.auxiliary_head.loss_decode]
    for module, canvas in every:
        assert canvas.logits.shape[:2] == (2, 6)
        assert not canvas.logits.requires_grad
    torch.testing.assert_close(every[0][1].logits, captured['seg'][0][1]
                               .logits)
    with pytest.raises(ValueError, match="heads must be 'primary' or 'all'"
                       ".*'aux'"):
        Rejection(heads='aux')


def test_primary_head_must_be_a_module_of_the_model(trainer, monkeypatch):
    monkeypatch.setattr(trainer, '_module_at', lambda path: None)
    with pytest.raises(ValueError, match="'model.decode_head.loss_decode' "
                       "names no searched-loss module.*heads='all'"):
        trainer.capture(2)


def test_cross_entropy_passes_and_exits_early(rejection):
    result = screen(rejection, CE)
    assert result.passed, result.reason
    assert result.gains['seg'] >= 0.6
    assert result.steps < 100
    assert result.fingerprint.startswith('seg:')


@pytest.mark.parametrize('tree,reason,exact_reason', [
    ('y', 'zero gradient', 'zero gradient'),
    ('mul(y,y)', 'zero gradient', 'zero gradient'),
    ('1', 'zero gradient', 'zero gradient'),
    ('neg(yhat)', 'no target leaf y', 'metric gain'),
    ('mul(exp(exp(inv(yhat))),exp(exp(inv(yhat))))', 'no target leaf y',
     'non-finite loss'),
    ('mul(y,mul(exp(exp(inv(yhat))),exp(exp(inv(yhat)))))',
     'non-finite loss', 'non-finite loss'),
])
def test_degenerate_losses_are_rejected(captured, rejection, tree, reason,
                                        exact_reason):
    """By default the pre-tests reject first; exact=True runs the paper's
    protocol on every tree the static exact pre-filter lets through."""
    exact = LossRejection(captured, Rejection(samples=2, steps=100,
                                              exact=True), metric='mIoU')
    for rej, expected in ((rejection, reason), (exact, exact_reason)):
        result = screen(rej, tree)
        assert not result.passed
        assert expected in result.reason
        assert result.fingerprint is None


def test_algebraically_equal_losses_share_the_fingerprint(rejection):
    prints = {screen(rejection, t).fingerprint for t in (
        CE, 'neg(mul(log(yhat),y))', 'mul(neg(y),log(yhat))',
        'mul(y,neg(log(yhat)))')}
    assert len(prints) == 1 and None not in prints


def test_different_losses_differ_in_fingerprint(rejection):
    focal_like = 'neg(mul(mul(y,add(1,neg(yhat))),log(yhat)))'
    a, b = screen(rejection, CE), screen(rejection, focal_like)
    assert a.passed and b.passed
    assert a.fingerprint != b.fingerprint


def test_threshold_is_per_branch(captured):
    strict = LossRejection(captured, Rejection(samples=2, steps=20),
                           etas={'seg': 1.01}, metric='mIoU')
    assert 'eta 1.01' in screen(strict, CE).reason


def test_empty_capture_is_an_error(captured):
    with pytest.raises(RuntimeError, match="branch\\(es\\) \\['seg'\\]"):
        LossRejection({'seg': []}, Rejection())
