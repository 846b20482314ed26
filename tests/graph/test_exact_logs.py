"""log of a softmax / sigmoid leaf is log_softmax / logsigmoid of the logits:
the CE and BCE trees equal the torch losses at any margin in float32."""
import pytest
import torch
import torch.nn.functional as F

from autoloss_zero.graph import (Tree, evaluate, log1m_key, log_key,
                                 prediction_leaves, reduce_loss)

CE = Tree.parse('neg(mul(y,log(yhat)))')
BCE = Tree.parse(
    'neg(add(mul(y,log(yhat)),mul(add(1,neg(y)),log(add(1,neg(yhat))))))')
MARGINS = [1.0, 30.0, 1e2, 1e4]


def loss_and_grad(tree, logits, activation, y):
    z = logits.clone().requires_grad_(True)
    leaves = {'y': y, **prediction_leaves(z, activation)}
    loss = reduce_loss(evaluate(tree, leaves))
    (grad, ) = torch.autograd.grad(loss, z)
    return loss, grad


@pytest.mark.parametrize('margin', MARGINS)
def test_ce_tree_is_cross_entropy_at_any_margin(margin):
    # pixel 0: true class far behind; pixel 1: true class far ahead
    logits = torch.tensor([[0.0, margin, -margin], [margin, 0.0, 0.0]])
    labels = torch.tensor([0, 0])
    z = logits.T.reshape(1, 3, 1, 2)
    y = F.one_hot(labels, 3).T.reshape(1, 3, 1, 2).float()
    loss, grad = loss_and_grad(CE, z, 'softmax', y)
    ref = logits.clone().requires_grad_(True)
    expected = F.cross_entropy(ref, labels)
    (ref_grad, ) = torch.autograd.grad(expected, ref)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, expected, rtol=1e-6, atol=0)
    torch.testing.assert_close(grad.reshape(3, 2).T, ref_grad, rtol=1e-6,
                               atol=1e-7)
    if margin == 1e4:  # the wrong pixel pulls with gradient -1 (mean: -1/2)
        assert loss.item() == pytest.approx(5000.0)
        assert grad[0, 0, 0, 0].item() == pytest.approx(-0.5)


@pytest.mark.parametrize('margin', MARGINS)
def test_bce_tree_is_bce_with_logits_at_any_margin(margin):
    z = torch.tensor([margin, -margin, margin, -margin]).view(4, 1, 1, 1)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0]).view(4, 1, 1, 1)
    loss, grad = loss_and_grad(BCE, z, 'sigmoid', y)
    ref = z.clone().requires_grad_(True)
    expected = F.binary_cross_entropy_with_logits(ref, y)
    (ref_grad, ) = torch.autograd.grad(expected, ref)
    torch.testing.assert_close(loss, expected, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize('text', [
    'log(add(1,neg(yhat)))', 'log(add(neg(yhat),1))', 'log(sub(1,yhat))'
])
def test_every_complement_form_uses_logsigmoid(text):
    z = torch.tensor([40.0, -3.0]).view(2, 1, 1, 1)
    value = evaluate(Tree.parse(text), prediction_leaves(z, 'sigmoid'))
    torch.testing.assert_close(value, F.logsigmoid(-z))


def test_coefficients_and_other_cases():
    z = torch.tensor([[0.0, 80.0]]).view(1, 2, 1, 1)
    leaves = prediction_leaves(z, 'softmax')
    log_p = torch.log_softmax(z, dim=1)
    # log(k*yhat) = sign(k) (log|k| + log yhat), the log's own scale after
    for text, expected in [
            ('log(2.0*yhat)', log_p + torch.tensor(2.0).log()),
            ('log(-2.0*yhat)', -(log_p + torch.tensor(2.0).log())),
            ('3.0*log(yhat)', 3.0 * log_p)]:
        torch.testing.assert_close(evaluate(Tree.parse(text), leaves),
                                   expected)
    # the safe form elsewhere: no logs given, or not a leaf / complement
    safe = evaluate(Tree.parse('log(yhat)'), {'yhat': leaves['yhat']})
    assert safe[0, 0].item() == pytest.approx(torch.tensor(1e-12).log())
    sq = evaluate(Tree.parse('log(square(yhat))'), leaves)
    assert sq[0, 0].item() == pytest.approx(torch.tensor(1e-12).log())
    # coefficients overriding the tree's (CMA-ES) are honoured
    tree = Tree.parse('log(yhat)')
    torch.testing.assert_close(
        evaluate(tree, leaves, coefficients=[1.0, 0.5]),
        log_p + torch.tensor(0.5).log())


def test_prediction_leaves_keys_and_errors():
    z = torch.zeros(1, 3, 2, 2)
    assert set(prediction_leaves(z, 'softmax')) == {'yhat', log_key('yhat')}
    assert set(prediction_leaves(z, 'sigmoid')) == {
        'yhat', log_key('yhat'), log1m_key('yhat')}
    assert set(prediction_leaves(z, 'identity')) == {'yhat'}
    with pytest.raises(ValueError, match="'tanh'.*'softmax'"):
        prediction_leaves(z, 'tanh')
