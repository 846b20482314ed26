"""prepare_for_export: dead terms dropped, gradient kept, loss rescaled."""
import pytest
import torch
import torch.nn.functional as F

from autoloss_zero.graph import (Tree, additive_terms, evaluate,
                                 prediction_leaves, prepare_for_export,
                                 reduce_loss)

DEMO = 'inv(square(mul(tanh(y),add(abs(yhat),y))))'


def sample(seed=0, n=2, c=5, size=8):
    gen = torch.Generator().manual_seed(seed)
    logits = 0.1 * torch.randn(n, c, size, size, generator=gen)
    labels = torch.randint(0, c, (n, size, size), generator=gen)
    y = F.one_hot(labels, c).permute(0, 3, 1, 2).float()
    return logits, {'y': y, **prediction_leaves(logits, 'softmax')}


def loss_and_grad(tree, logits, y):
    z = logits.clone().requires_grad_(True)
    loss = reduce_loss(evaluate(tree, {'y': y,
                                       **prediction_leaves(z, 'softmax')}))
    return loss, torch.autograd.grad(loss, z)[0]


def test_additive_terms_fold_signs_and_coefficients():
    tree = Tree.parse('add(neg(2.0*mul(y,yhat)),sub(1,0.5*yhat))')
    assert [(s, str(t)) for s, t in additive_terms(tree)] == [
        (-2.0, 'mul(y,yhat)'), (1.0, '1'), (-0.5, 'yhat')]


def test_demo_tree_loses_its_constant_and_keeps_its_gradient():
    logits, leaves = sample()
    exported = prepare_for_export(Tree.parse(DEMO), leaves)
    assert str(exported.tree) == \
        'mul(y,inv(square(mul(tanh(1),add(abs(yhat),1)))))'
    assert exported.loss_before > 1e11 and 0.1 < exported.loss_after < 10
    assert exported.scale == 1.0
    assert 'binary target y' in exported.note and 'dropped' in exported.note
    # the gradient is unchanged (the dropped part is a constant 1e12)
    for seed in (1, 2):
        z, other = sample(seed)
        _, before = loss_and_grad(Tree.parse(DEMO), z, other['y'])
        _, after = loss_and_grad(exported.tree, z, other['y'])
        torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-9)


def test_constants_are_dropped_and_clean_trees_kept_as_they_are():
    _, leaves = sample()
    ce = Tree.parse('neg(mul(y,log(yhat)))')
    kept = prepare_for_export(ce, leaves)
    assert kept.tree is ce and kept.scale == 1.0
    assert kept.steps == ('nothing dropped', )
    padded = prepare_for_export(
        Tree.parse('add(neg(mul(y,log(yhat))),add(y,1))'), leaves)
    assert padded.tree == ce
    # summed over the 5 classes: y adds 1, the constant 1 adds 5
    assert padded.loss_before == pytest.approx(kept.loss_before + 6.0)


def test_scale_brings_the_loss_to_order_one():
    _, leaves = sample()
    big = prepare_for_export(Tree.parse('mul(100000.0*yhat,yhat)'), leaves)
    assert big.scale == 1e-4
    assert 0.3 <= abs(big.loss_after * big.scale) < 3


def test_mask_excludes_elements():
    _, leaves = sample()
    mask = torch.zeros(2, 1, 8, 8, dtype=torch.bool)
    mask[0] = True
    exported = prepare_for_export(Tree.parse(DEMO), leaves, mask=mask)
    assert 0.1 < exported.loss_after < 10


def test_errors_name_the_problem():
    _, leaves = sample()
    with pytest.raises(ValueError, match='no term with a gradient'):
        prepare_for_export(Tree.parse('add(y,1)'), leaves)
    with pytest.raises(ValueError, match=r"\['pred'\]"):
        prepare_for_export(Tree.parse('y'), leaves,
                           prediction_leaves=('pred', ))
