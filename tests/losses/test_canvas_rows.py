"""Per-row canvases for rejection: dropping uncounted rows and merging FPN
levels change neither the loss value nor the gradient."""
import pytest
import torch

from autoloss_zero.graph import Tree
from autoloss_zero.losses import (SearchedBoxLoss, SearchedSigmoidClsLoss,
                                  SearchedSoftmaxClsLoss)
from autoloss_zero.losses.canvas import compact_rows, merge_rows
from autoloss_zero.search.screening.probes import probe_for

TREES = ['neg(mul(y,log(yhat)))', 'square(add(yhat,neg(y)))',
         'mean_c(abs(add(yhat,neg(y))))', 'exp(mul(yhat,y))']
BOX_TREES = ['abs(add(yhat,neg(y)))', 'mean_c(square(add(yhat,neg(y))))']


def _cls_call(module, gen, rows, channels, avg_factor):
    logits = torch.randn(rows, channels, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, channels if channels > 1 else 2, (rows, ),
                           generator=gen)
    weight = (torch.rand(rows, generator=gen) > 0.7).double()
    return module.to_canvas(logits, labels, weight, avg_factor)


def _box_call(module, gen, rows, avg_factor):
    pred = torch.randn(rows, 4, generator=gen, dtype=torch.float64)
    target = torch.randn(rows, 4, generator=gen, dtype=torch.float64)
    weight = (torch.rand(rows, 1, generator=gen) > 0.6).double().expand(
        rows, 4).clone()
    return module.to_canvas(pred, target, weight, avg_factor)


def _calls(kind, gen):
    """(module, [canvas per FPN level], trees): levels of different sizes
    and normalisers, one level without a counted row."""
    if kind == 'box':
        module = SearchedBoxLoss(BOX_TREES[0])
        calls = [_box_call(module, gen, rows, af)
                 for rows, af in ((40, 9.0), (12, None), (3, 9.0))]
        calls[2].weight.zero_()
        return module, calls, BOX_TREES
    module = (SearchedSigmoidClsLoss(TREES[0]) if kind == 'sigmoid' else
              SearchedSoftmaxClsLoss(TREES[0]))
    channels = 1 if kind == 'sigmoid' else 5
    calls = [_cls_call(module, gen, rows, channels, af)
             for rows, af in ((50, 17.0), (20, 17.0), (5, None))]
    calls[2].weight.zero_()
    calls[2].meta['weight'].zero_()
    return module, calls, TREES


def _loss_and_grads(module, canvases, tree):
    logits = [c.logits.clone().requires_grad_(True) for c in canvases]
    loss = sum(module.loss_on(c, z, Tree.parse(tree))
               for c, z in zip(canvases, logits))
    loss.backward()
    return loss.detach(), [z.grad for z in logits]


@pytest.mark.parametrize('kind', ['sigmoid', 'softmax', 'box'])
def test_compact_and_merge_keep_value_and_gradient(kind):
    module, calls, trees = _calls(kind, torch.Generator().manual_seed(0))
    compact = [compact_rows(c) for c in calls]
    assert [c.logits.shape[0] for c in compact][2] == 0
    assert sum(c.logits.shape[0] for c in compact) < sum(
        c.logits.shape[0] for c in calls)
    merged = merge_rows(compact)
    assert merged.logits.shape[0] == sum(c.logits.shape[0] for c in compact)
    for tree in trees:
        value, grads = _loss_and_grads(module, calls, tree)
        value_c, grads_c = _loss_and_grads(module, compact, tree)
        value_m, (grad_m, ) = _loss_and_grads(module, [merged], tree)
        torch.testing.assert_close(value_c, value)
        torch.testing.assert_close(value_m, value)
        full = torch.cat(grads)
        kept = torch.cat([c.weight.flatten(1).gt(0).any(1) for c in calls])
        assert not full[~kept].any()  # dropped rows had zero gradient
        torch.testing.assert_close(torch.cat(grads_c), full[kept])
        torch.testing.assert_close(grad_m, full[kept])
        # the norm (the fingerprint unit) of the whole branch is unchanged
        torch.testing.assert_close(grad_m.norm(), full.norm())


@pytest.mark.parametrize('kind', ['sigmoid', 'softmax', 'box'])
def test_merged_rejection_score_pools_the_rows(kind):
    module, calls, _ = _calls(kind, torch.Generator().manual_seed(1))
    merged = merge_rows([compact_rows(c) for c in calls])
    weights = [probe_for(module).weight(c) for c in calls]
    assert weights[2] == 0.0
    assert probe_for(module).weight(merged) == sum(weights)
    if kind == 'box':  # a mean over rows: the row-weighted mean of levels
        scores = [probe_for(module).score(c, c.logits) for c in calls[:2]]
        expected = sum(w * s for w, s in zip(weights, scores)) / sum(weights)
        assert probe_for(module).score(merged, merged.logits) == \
            pytest.approx(expected)


def test_merge_refuses_spatial_or_mismatched_canvases():
    module, calls, _ = _calls('softmax', torch.Generator().manual_seed(2))
    other = SearchedSigmoidClsLoss(TREES[0])
    mixed = _cls_call(other, torch.Generator().manual_seed(3), 4, 1, None)
    assert merge_rows([calls[0], mixed]) is None  # 5 vs 1 channels
    spatial = calls[0].__class__(logits=torch.zeros(2, 5, 4, 4),
                                 targets={'y': torch.zeros(2, 5, 4, 4)})
    assert merge_rows([spatial, spatial]) is None
