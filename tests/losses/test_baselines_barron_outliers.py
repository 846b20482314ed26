"""Barron's loss keeps the gradient of outliers with alpha > 2 wherever the
value fits in the dtype (log-space evaluation), checked against mpmath."""
import math

import mpmath
import pytest
import torch

from autoloss_zero.losses.baselines.barron import (EXP_MAX, exp_max,
                                                   general_robust_loss)


def rho_and_grad(x, alpha, c=1.0):
    """Exact value and d/dx of rho (mpmath, 60 digits)."""
    with mpmath.workdps(60):
        x = mpmath.mpf(x)

        def rho(t):
            s = (t / c)**2
            if alpha == math.inf:
                return mpmath.exp(s / 2) - 1
            b = abs(mpmath.mpf(alpha) - 2)
            return b / alpha * ((s / b + 1)**(mpmath.mpf(alpha) / 2) - 1)

        return rho(x), mpmath.diff(rho, x)


@pytest.mark.parametrize('dtype,x,alpha', [
    (torch.float32, 12.8, math.inf),  # e**81.9: past the old clamp at 80
    (torch.float64, 30.0, math.inf),  # e**450
    (torch.float32, 1.1e4, 10.0),  # exponent 82.7
    (torch.float64, 1e5, 10.0),
    (torch.float64, 1e3, 100.0),
])
def test_outlier_gradient_is_exact_where_the_value_fits(dtype, x, alpha):
    t = torch.tensor([x, -x], dtype=dtype, requires_grad=True)
    value = general_robust_loss(t, alpha, 1.0)
    value.sum().backward()
    ref_value, ref_grad = rho_and_grad(x, alpha)
    rtol = 1e-4 if dtype == torch.float32 else 1e-9
    assert value[0].item() == pytest.approx(float(ref_value), rel=rtol)
    assert t.grad[0].item() == pytest.approx(float(ref_grad), rel=rtol)
    assert t.grad[1].item() == pytest.approx(-float(ref_grad), rel=rtol)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_beyond_the_dtype_it_saturates_finitely(dtype):
    assert exp_max(torch.float32) == EXP_MAX == 84.0
    assert exp_max(torch.float64) == 705.0
    t = torch.tensor([1e150 if dtype == torch.float64 else 1e30],
                     dtype=dtype, requires_grad=True)
    c = torch.tensor([1e-3], dtype=dtype, requires_grad=True)
    for alpha in (math.inf, 10.0, 4.0):
        value = general_robust_loss(t, alpha, c)
        grads = torch.autograd.grad(value.sum(), (t, c))
        assert torch.isfinite(value).all()
        assert value.item() == pytest.approx(
            math.exp(exp_max(dtype)), rel=1e-3)
        assert all(torch.isfinite(g).all() for g in grads)
