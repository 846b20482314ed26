"""The separable 3x3 max pooling equals F.max_pool2d in value and gradient
routing (ties included); the sign-multiplied safe ops equal their
torch.where forms."""
import pytest
import torch
import torch.nn.functional as F

from autoloss_zero.graph import OPS
from autoloss_zero.graph.ops import EPS
from autoloss_zero.graph.pool import max_pool3x3


def _inputs():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 9, 11, generator=gen, dtype=torch.float64)
    return {
        'random': x,
        'ties': (x * 2).round().clamp(-1, 1),  # many equal maxima
        'constant': torch.zeros(2, 3, 5, 5, dtype=torch.float64),
        'one pixel': x[:, :, :1, :1].clone(),
        'one row': x[:, :, :1].clone(),
        'one column': x[..., :1].clone(),
        'large': x * 1e30,
    }


@pytest.mark.parametrize('name', list(_inputs()))
def test_value_and_gradient_equal_max_pool2d(name):
    x = _inputs()[name]
    weight = torch.randn(x.shape, generator=torch.Generator().manual_seed(1),
                         dtype=x.dtype)
    ours, ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    value = max_pool3x3(ours)
    expected = F.max_pool2d(ref, 3, stride=1, padding=1)
    assert torch.equal(value, expected)
    (value * weight).sum().backward()
    (expected * weight).sum().backward()
    # the same routing: each window's gradient to its first maximum
    torch.testing.assert_close(ours.grad, ref.grad, rtol=0, atol=1e-12)


def test_gradcheck_and_min_pool():
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(max_pool3x3, (x, ))
    assert torch.equal(OPS['min_pool3'].fn(x),
                       -F.max_pool2d(-x, 3, stride=1, padding=1))


def test_rejects_other_shapes():
    with pytest.raises(ValueError, match=r'\(N, C, H, W\).*\(4, 4\)'):
        max_pool3x3(torch.zeros(4, 4))


def _where_forms():
    def log(x):
        a = x.abs().clamp_min(EPS).log()
        return torch.where(x < 0, -a, a)

    def sqrt(x):
        a = (x.abs() + EPS).sqrt()
        return torch.where(x < 0, -a, a)

    def inv(x):
        safe = torch.where(x < 0, x.clamp_max(-EPS), x.clamp_min(EPS))
        return safe.reciprocal()

    return {'log': log, 'sqrt': sqrt, 'inv': inv}


@pytest.mark.parametrize('op', ['log', 'sqrt', 'inv'])
def test_sign_forms_equal_the_where_forms(op):
    x = torch.tensor([-3., -1e-13, -0.0, 0.0, 1e-13, 2e-12, 0.5, 7.],
                     dtype=torch.float64)
    ours, ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    value, expected = OPS[op].fn(ours), _where_forms()[op](ref)
    assert torch.equal(value, expected)
    value.sum().backward()
    expected.sum().backward()
    assert torch.equal(ours.grad, ref.grad)
