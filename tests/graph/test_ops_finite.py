"""What "finite for finite input" holds for each op, over a dense grid of
magnitudes in float32 and float64, against exact rational arithmetic; and
that the rest is reported as non-finite (what the search rejects on)."""
import itertools
from fractions import Fraction

import pytest
import torch

from autoloss_zero.graph import EPS, OPS, Tree, check_finite

DTYPES = [torch.float32, torch.float64]
#: value and gradient finite for every finite input
ALWAYS_FINITE = ('neg', 'abs', 'inv', 'log', 'exp', 'tanh', 'sqrt',
                 'sigmoid', 'softplus', 'sin', 'cos', 'mean_c', 'mean_hw',
                 'max_pool3', 'min_pool3')
#: IEEE arithmetic: finite wherever the exact result is representable
ARITHMETIC = ('add', 'sub', 'mul', 'square', 'div')


def grid(dtype):
    """0, ±tiny, ±max and ±10**k for every 4th representable k."""
    info = torch.finfo(dtype)
    low, high, step = (-45, 38, 3) if dtype == torch.float32 else (-323,
                                                                   308, 12)
    magnitudes = [10.0**k for k in range(low, high + 1, step)]
    magnitudes += [info.tiny, info.max, EPS, 0.5 * EPS, 1.0, 50.0, 60.0]
    values = [0.0] + [s * m for m in magnitudes for s in (1.0, -1.0)]
    return torch.tensor(values, dtype=dtype)


def grads(name, *args):
    args = [a.clone().requires_grad_(True) for a in args]
    value = OPS[name].fn(*args)
    return value, torch.autograd.grad(value.sum(), args)


def test_the_lists_cover_every_op():
    assert set(ALWAYS_FINITE) | set(ARITHMETIC) == set(OPS) - {
        n for n in OPS if n.endswith('_test')}


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', ALWAYS_FINITE)
def test_always_finite_ops(name, dtype):
    x = grid(dtype)
    op = OPS[name]
    side = int(len(x)**0.5) + 1
    canvas = torch.zeros(side * side, dtype=dtype)
    canvas[:len(x)] = x
    canvas = canvas.view(1, 1, side, side)  # pools need a 4-D canvas
    value, (grad, ) = grads(name, canvas if op.needs_canvas else x)
    assert torch.isfinite(value).all(), name
    assert torch.isfinite(grad).all(), name


def _exact(name, x, y, eps):
    """(value, d/dx, d/dy) as Fractions, with the clamp of inv in div (at
    ``eps``, EPS rounded to the dtype as torch's clamp rounds it)."""
    if name == 'add':
        return x + y, 1, 1
    if name == 'sub':
        return x - y, 1, -1
    if name == 'mul':
        return x * y, y, x
    if name == 'square':
        return x * x, 2 * x, 0
    assert name == 'div'
    inside = abs(y) < eps
    inv = (1 if y >= 0 else -1) / max(abs(y), eps)
    return x * inv, inv, 0 if inside else -x * inv * inv


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', ['add', 'sub', 'mul', 'square', 'div'])
def test_arithmetic_is_finite_where_the_exact_result_is(name, dtype):
    values = grid(dtype)
    pairs = list(itertools.product(values.tolist(), repeat=2))
    if name == 'square':
        pairs = [(a, 0.0) for a in values.tolist()]
    x = torch.tensor([a for a, _ in pairs], dtype=dtype)
    y = torch.tensor([b for _, b in pairs], dtype=dtype)
    args = (x, ) if name == 'square' else (x, y)
    value, grad = grads(name, *args)
    bound = Fraction(torch.finfo(dtype).max) / 4
    eps = Fraction(torch.tensor(EPS, dtype=dtype).item())
    checked = {'value': 0, 'grad': 0}
    for i, (a, b) in enumerate(pairs):
        exact = _exact(name, Fraction(a), Fraction(b), eps)
        if abs(exact[0]) <= bound:
            assert torch.isfinite(value[i]), (name, a, b)
            checked['value'] += 1
        for g, d in zip(grad, exact[1:]):
            if abs(exact[0]) <= bound and abs(d) <= bound:
                assert torch.isfinite(g[i]), (name, a, b)
                checked['grad'] += 1
    assert checked['value'] > len(pairs) // 2 and checked['grad'] > 0


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', ['mean_c', 'mean_hw'])
def test_means_do_not_overflow_in_partial_sums(name, dtype):
    big = torch.finfo(dtype).max
    x = grid(dtype).abs().view(-1, 1, 1, 1).expand(-1, 4, 3, 3).clone()
    value, (grad, ) = grads(name, x)
    assert torch.isfinite(value).all() and torch.isfinite(grad).all()
    x = torch.full((1, 4, 3, 3), big, dtype=dtype)
    assert OPS[name].fn(x).max() == pytest.approx(big, rel=1e-6)


@pytest.mark.parametrize('dtype', DTYPES)
def test_the_documented_overflows_are_reported(dtype):
    big = torch.finfo(dtype).max
    value, (gx, gy) = grads('add', torch.tensor([big], dtype=dtype),
                            torch.tensor([big], dtype=dtype))
    assert torch.isinf(value).all()
    if dtype == torch.float32:
        value, (gx, gy) = grads('div', torch.tensor([1e16]),
                                torch.tensor([1e-12]))
        assert value.item() == pytest.approx(1e28, rel=1e-6)
        assert torch.isinf(gy).all()
    # what the loss search rejects on: a non-finite value or gradient
    tiny = torch.full((1, 2, 2, 2), 1e-10, dtype=dtype)
    leaves = {'yhat': tiny, 'y': torch.full_like(tiny, big)}
    assert check_finite(Tree.parse('add(y,y)'), leaves)[0] is False
    if dtype == torch.float32:
        leaves['yhat'] = torch.full_like(tiny, 2e-12)
        tree = Tree.parse('div(1e+16*1,yhat)')  # 5e27, gradient -2.5e39
        assert check_finite(tree, leaves) == (True, False)
