"""Evaluation on the canvas and reduction: the CE tree is cross-entropy."""
import pytest
import torch
import torch.nn.functional as F

from autoloss_zero.graph import Tree, check_finite, evaluate, reduce_loss

CE = Tree.parse('neg(mul(y,log(yhat)))')
IGNORE = 255


def segmentation_batch(seed=0, n=2, c=5, h=6, w=7, dtype=torch.float64):
    """Logits, labels with ignored pixels, one-hot targets, pixel weights."""
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(n, c, h, w, generator=generator, dtype=dtype)
    label = torch.randint(0, c, (n, h, w), generator=generator)
    label[0, :2] = IGNORE
    label[1, :, 3] = IGNORE
    weight = torch.rand(n, h, w, generator=generator, dtype=dtype)
    valid = label != IGNORE
    one_hot = F.one_hot(torch.where(valid, label, 0), c)
    y = one_hot.permute(0, 3, 1, 2).to(dtype)
    return logits, label, y, weight, valid


def ce_tree_loss(logits, y, valid, weight=None, avg_factor=None):
    value = evaluate(CE, {'yhat': logits.softmax(dim=1), 'y': y})
    return reduce_loss(value, valid, weight, avg_factor)


@pytest.mark.parametrize('use_weight', [False, True])
@pytest.mark.parametrize('use_avg_factor', [False, True])
def test_ce_tree_equals_cross_entropy_value_and_gradient(
        use_weight, use_avg_factor):
    logits, label, y, weight, valid = segmentation_batch()
    logits.requires_grad_(True)
    weight = weight if use_weight else None
    avg_factor = 17.5 if use_avg_factor else None
    loss = ce_tree_loss(logits, y, valid, weight, avg_factor)
    per_pixel = F.cross_entropy(logits, label, ignore_index=IGNORE,
                                reduction='none')
    if weight is not None:
        per_pixel = per_pixel * weight
    expected = per_pixel.sum() / (avg_factor or valid.sum())
    if not use_weight and not use_avg_factor:
        # The plain mean over non-ignored pixels of F.cross_entropy.
        torch.testing.assert_close(
            expected, F.cross_entropy(logits, label, ignore_index=IGNORE),
            rtol=1e-12, atol=0)
    (grad, ) = torch.autograd.grad(loss, logits)
    (expected_grad, ) = torch.autograd.grad(expected, logits)
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-14)
    # Ignored pixels receive exactly zero gradient.
    assert (grad.permute(0, 2, 3, 1)[~valid] == 0).all()


def test_ce_tree_detects_a_wrong_target():
    """The equivalence test can fail: a shifted target breaks it."""
    logits, label, y, _, valid = segmentation_batch(seed=1)
    loss = ce_tree_loss(logits, y.roll(1, dims=1), valid)
    expected = F.cross_entropy(logits, label, ignore_index=IGNORE)
    assert not torch.isclose(loss, expected)


def test_ignored_positions_with_nan_do_not_leak():
    logits, label, y, weight, valid = segmentation_batch(seed=2)
    logits.requires_grad_(True)
    yhat = logits.softmax(dim=1)
    value = evaluate(CE, {'yhat': yhat, 'y': y})
    poisoned = torch.where(valid[:, None], value, float('nan'))
    weight = torch.where(valid, weight, float('inf'))
    loss = reduce_loss(poisoned, valid, weight)
    assert torch.isfinite(loss)
    (grad, ) = torch.autograd.grad(loss, logits)
    assert torch.isfinite(grad).all()
    clean = reduce_loss(value, valid, torch.where(valid, weight, 0.0))
    torch.testing.assert_close(loss, clean)


def test_no_valid_element_gives_a_live_zero():
    logits, _, y, _, valid = segmentation_batch(seed=3)
    logits.requires_grad_(True)
    loss = ce_tree_loss(logits, y, torch.zeros_like(valid))
    assert loss.item() == 0.0 and loss.requires_grad
    (grad, ) = torch.autograd.grad(loss, logits)
    assert (grad == 0).all()
    empty = torch.zeros(0, 5, 6, 7, requires_grad=True)
    assert reduce_loss(empty).item() == 0.0


def test_reduce_loss_sums_classes_and_averages_valid_elements():
    value = torch.arange(2 * 3 * 2 * 2, dtype=torch.float64).reshape(
        2, 3, 2, 2)
    per_element = value.sum(1)
    assert reduce_loss(value) == per_element.mean()
    valid = torch.tensor([[[True, False], [True, True]],
                          [[False, False], [False, True]]])
    assert reduce_loss(value, valid) == per_element[valid].mean()
    weight = torch.tensor([2.0, 0.5], dtype=torch.float64)[:, None, None]
    expected = (per_element * weight)[valid].sum() / valid.sum()
    assert reduce_loss(value, valid, weight) == expected
    assert reduce_loss(value, valid, weight, avg_factor=10) == (
        per_element * weight)[valid].sum() / 10
    assert reduce_loss(value, avg_factor=torch.tensor(4.0)) == (
        per_element.sum() / 4)


@pytest.mark.parametrize('kwargs,match', [
    (dict(valid=torch.ones(2, 3, 3, dtype=torch.bool)), r'\(2, 3, 3\).*'
     r'\(2, 2, 2\)'),
    (dict(weight=torch.ones(3, 2, 2)), r'\(3, 2, 2\).*\(2, 2, 2\)'),
    (dict(weight=torch.ones(4, 2, 2, 2)), 'enlarges'),
])
def test_reduce_loss_shape_errors_print_both_shapes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        reduce_loss(torch.ones(2, 3, 2, 2), **kwargs)
    with pytest.raises(ValueError, match='class axis'):
        reduce_loss(torch.ones(3))


def test_leaves_broadcast_to_the_canvas():
    yhat = torch.rand(4, 3, 1, 1)  # (M, C, 1, 1) per-RoI canvas
    y = torch.rand(4, 1, 1, 1)
    out = evaluate(Tree.parse('add(yhat,y)'), {'yhat': yhat, 'y': y})
    assert out.shape == (4, 3, 1, 1)
    torch.testing.assert_close(out, yhat + y)
    # A tree of constants still has the canvas shape and the leaves' dtype.
    one = evaluate(Tree.parse('neg(1)'), {'yhat': yhat.double()})
    assert one.shape == (4, 3, 1, 1) and one.dtype == torch.float64
    assert (one == -1).all()
    # Unused leaves still shape the canvas.
    out = evaluate(Tree.parse('y'), {'y': y, 'yhat': yhat})
    assert out.shape == (4, 3, 1, 1)


def test_reductions_and_pooling_see_the_full_canvas():
    yhat = torch.rand(2, 3, 5, 5, dtype=torch.float64)
    y = torch.rand(2, 1, 5, 5, dtype=torch.float64)  # broadcasts over C
    leaves = {'yhat': yhat, 'y': y}
    mean_c = evaluate(Tree.parse('mean_c(mul(yhat,y))'), leaves)
    torch.testing.assert_close(
        mean_c, (yhat * y).mean(1, keepdim=True).expand(2, 3, 5, 5))
    mean_hw = evaluate(Tree.parse('mean_hw(y)'), leaves)
    torch.testing.assert_close(
        mean_hw, y.mean((2, 3), keepdim=True).expand(2, 3, 5, 5))
    pooled = evaluate(Tree.parse('max_pool3(y)'), leaves)
    torch.testing.assert_close(
        pooled, F.max_pool2d(y, 3, 1, 1).expand(2, 3, 5, 5))
    assert (evaluate(Tree.parse('min_pool3(1)'), leaves) == 1).all()


def test_coefficients_scale_node_values():
    yhat = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    y = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    tree = Tree.parse('add(2.0*y,-0.5*square(yhat))')
    torch.testing.assert_close(evaluate(tree, {'yhat': yhat, 'y': y}),
                               2 * y - 0.5 * yhat**2)
    coefficients = torch.tensor([3.0, 1.0, 1.0, 1.0],
                                dtype=torch.float64)
    torch.testing.assert_close(
        evaluate(tree, {'yhat': yhat, 'y': y}, coefficients=coefficients),
        3 * (y + yhat**2))


def test_missing_leaf_error_names_it_and_the_provided_ones():
    with pytest.raises(KeyError, match=r"'y'.*\['1', 'yhat'\]"):
        evaluate(CE, {'yhat': torch.rand(1, 2, 1, 1),
                      '1': torch.ones(())})
    with pytest.raises(ValueError, match="leaf 'y' must be a floating"):
        evaluate(CE, {'yhat': torch.rand(1, 2, 1, 1),
                      'y': torch.ones(1, 2, 1, 1, dtype=torch.long)})
    with pytest.raises(ValueError, match='4-D canvas'):
        evaluate(Tree.parse('mean_c(y)'), {'y': torch.rand(3, 4)})


def test_check_finite_reports_value_and_gradient():
    yhat = torch.full((2, 3, 4, 4), 0.5)
    y = torch.ones(2, 3, 4, 4)
    assert check_finite(CE, {'yhat': yhat, 'y': y}) == (True, True)
    # (1e10)**8 overflows fp32 under tanh: finite value, NaN gradient.
    tree = Tree.parse('tanh(square(square(square(inv(yhat)))))')
    tiny = torch.full((2, 3, 4, 4), 1e-10)
    assert check_finite(tree, {'yhat': tiny, 'y': y}) == (True, False)
    overflow = Tree.parse('square(square(square(inv(yhat))))')
    assert check_finite(overflow, {'yhat': tiny, 'y': y})[0] is False
    # A tree without the differentiated leaf has a zero gradient.
    assert check_finite(Tree.parse('y'), {'yhat': yhat, 'y': y}) == (
        True, True)
    with pytest.raises(KeyError, match='requires_grad_leaf'):
        check_finite(CE, {'y': y})
    assert not yhat.requires_grad  # the caller's tensors are untouched
