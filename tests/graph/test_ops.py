"""Primitive operators: registry, plain values, safety, float64 gradcheck."""
import math

import pytest
import torch

from autoloss_zero.graph import (DEFAULT_OPS, EPS, OPS, OPTIONAL_OPS, Tree,
                                 evaluate, register_op)

SPEC_ARITIES = {
    'add': 2, 'mul': 2, 'neg': 1, 'abs': 1, 'inv': 1, 'log': 1, 'exp': 1,
    'tanh': 1, 'square': 1, 'sqrt': 1, 'mean_c': 1, 'mean_hw': 1,
    'max_pool3': 1, 'min_pool3': 1, 'sub': 2, 'div': 2, 'sigmoid': 1,
    'softplus': 1, 'sin': 1, 'cos': 1
}
ALL_OPS = DEFAULT_OPS + OPTIONAL_OPS
SHAPE = (2, 3, 4, 4)


def away_from_kinks(generator, shape=SHAPE):
    """float64 values with |x| in [0.2, 2] and random sign, all distinct."""
    magnitude = 0.2 + 1.8 * torch.rand(shape, generator=generator,
                                       dtype=torch.float64)
    sign = torch.randint(0, 2, shape, generator=generator) * 2 - 1
    return magnitude * sign


def test_registry_holds_the_spec_ops():
    assert len(DEFAULT_OPS) == 14 and len(OPTIONAL_OPS) == 6
    for name, arity in SPEC_ARITIES.items():
        assert OPS[name].name == name
        assert OPS[name].arity == arity, name
        assert OPS[name].doc, f'{name} has no doc line'
    spatial = {n for n in ALL_OPS if OPS[n].needs_spatial}
    assert spatial == {'max_pool3', 'min_pool3'}


@pytest.mark.parametrize('name', ALL_OPS)
def test_gradcheck_float64(name):
    generator = torch.Generator().manual_seed(sum(map(ord, name)))
    op = OPS[name]
    inputs = tuple(
        away_from_kinks(generator).requires_grad_(True)
        for _ in range(op.arity))
    assert torch.autograd.gradcheck(op.fn, inputs, eps=1e-6, atol=1e-5)


def test_plain_values_away_from_singular_points():
    x = torch.tensor([0.3, 1.0, 2.5, 7.0], dtype=torch.float64)
    f = {name: OPS[name].fn for name in ALL_OPS}
    torch.testing.assert_close(f['log'](x), x.log())
    torch.testing.assert_close(f['log'](-x), -x.log())
    torch.testing.assert_close(f['inv'](x), 1 / x)
    torch.testing.assert_close(f['inv'](-x), -1 / x)
    torch.testing.assert_close(f['sqrt'](x), x.sqrt())
    torch.testing.assert_close(f['sqrt'](-x), -x.sqrt())
    torch.testing.assert_close(f['exp'](x), x.exp())
    torch.testing.assert_close(f['div'](x, -x), -torch.ones_like(x))
    torch.testing.assert_close(f['sub'](x, x.flip(0)), x - x.flip(0))
    torch.testing.assert_close(f['softplus'](x), torch.log1p(x.exp()))
    torch.testing.assert_close(f['sigmoid'](x), 1 / (1 + (-x).exp()))
    torch.testing.assert_close(f['square'](-x), x * x)
    torch.testing.assert_close(f['abs'](-x), x)


def test_spatial_and_reduction_ops():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float64).reshape(SHAPE)
    x = x.sin()  # distinct, unordered values
    torch.testing.assert_close(OPS['mean_c'].fn(x), x.mean(1, keepdim=True))
    torch.testing.assert_close(OPS['mean_hw'].fn(x),
                               x.mean((2, 3), keepdim=True))
    pooled_max = OPS['max_pool3'].fn(x)
    pooled_min = OPS['min_pool3'].fn(x)
    assert pooled_max.shape == SHAPE and pooled_min.shape == SHAPE
    # Corner (0, 0) sees the 2x2 window; an interior pixel the full 3x3.
    assert pooled_max[0, 0, 0, 0] == x[0, 0, :2, :2].max()
    assert pooled_min[1, 2, 2, 1] == x[1, 2, 1:4, 0:3].min()


@pytest.mark.parametrize('name,x,expected', [
    ('log', 0.0, math.log(EPS)),
    ('log', -0.0, math.log(EPS)),
    ('inv', 0.0, 1 / EPS),
    ('inv', -0.0, 1 / EPS),  # sign(0) = +1, also for -0.0
    ('inv', -1e-20, -1 / EPS),
    ('sqrt', 0.0, math.sqrt(EPS)),
    ('exp', 1e4, math.exp(50.0)),
])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_safe_op_finite_at_singular_point(name, x, expected, dtype):
    t = torch.tensor([x], dtype=dtype, requires_grad=True)
    value = OPS[name].fn(t)
    (grad, ) = torch.autograd.grad(value.sum(), t)
    assert torch.isfinite(value).all() and torch.isfinite(grad).all()
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_div_by_zero_is_finite():
    x = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64, requires_grad=True)
    y = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    value = OPS['div'].fn(x, y)
    grads = torch.autograd.grad(value.sum(), (x, y))
    assert value.tolist() == [1 / EPS, -2 / EPS, 0.0]
    assert all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize('name', ALL_OPS)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_every_op_finite_on_extreme_finite_inputs(name, dtype):
    values = [1e4, -1e4, 0.0, -0.0, 1.0, -1.0, 1e-30, -1e-30, 1e-12, 50.0]
    base = torch.tensor(values, dtype=dtype)
    grid = base.repeat(2 * 3 * 4 * 4 // len(values) + 1)[:96].reshape(SHAPE)
    op = OPS[name]
    args = [grid.clone().requires_grad_(True)]
    if op.arity == 2:
        args.append(grid.flip(-1).clone().requires_grad_(True))
    value = op.fn(*args)
    grads = torch.autograd.grad(value.sum(), args)
    assert torch.isfinite(value).all(), name
    assert all(torch.isfinite(g).all() for g in grads), name


def test_register_op_adds_a_usable_op():
    @register_op('cube_test', 1, sympy_fn=lambda x: x**3)
    def cube(x):
        """x**3."""
        return x * x * x

    try:
        tree = Tree.parse('cube_test(add(y,1))')
        y = torch.tensor([[[[1.0]], [[2.0]]]])
        assert evaluate(tree, {'y': y}).flatten().tolist() == [8.0, 27.0]
        assert OPS['cube_test'].doc == 'x**3.'
        with pytest.raises(ValueError, match='already registered'):
            register_op('cube_test', 1)(cube)
    finally:
        OPS.pop('cube_test')


@pytest.mark.parametrize('name,arity,match', [
    ('y', 1, 'leaf names'),
    ('1', 1, 'identifier'),
    ('bad name', 1, 'identifier'),
    ('zero_arity', 0, 'arity'),
    ('add', 2, 'already registered'),
])
def test_register_op_rejects_bad_input(name, arity, match):
    with pytest.raises(ValueError, match=match):
        register_op(name, arity)(lambda x: x)
