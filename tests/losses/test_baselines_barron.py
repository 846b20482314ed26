"""Barron's general and adaptive robust losses against independent references.

References are written here from the paper's closed forms and evaluated in
mpmath at 40 digits; the partition function is checked against its closed
forms, Barron's Meijer-G formula and direct mpmath quadrature.
"""
import itertools
import math

import mpmath
import pytest
import torch

from autoloss_zero.losses.baselines import (AdaptiveBarronLoss, BarronLoss,
                                            general_robust_loss,
                                            log_partition)
from autoloss_zero.losses.baselines.barron import EXP_MAX

mpmath.mp.dps = 40
INF = math.inf


def rho_ref(x, alpha, c):
    """rho(x, alpha, c) from the closed form, exactly (mpmath)."""
    with mpmath.workdps(120):  # the closed form cancels for tiny x
        return +_rho_ref(x, alpha, c)


def _rho_ref(x, alpha, c):
    s = (mpmath.mpf(x) / mpmath.mpf(c))**2
    if alpha == 2:
        return s / 2
    if alpha == 0:
        return mpmath.log(s / 2 + 1)
    if alpha == -INF:
        return 1 - mpmath.exp(-s / 2)
    if alpha == INF:
        return mpmath.exp(s / 2) - 1
    a = mpmath.mpf(alpha)
    b = abs(a - 2)
    return b / a * ((s / b + 1)**(a / 2) - 1)


def exponent_ref(x, alpha, c):
    """The exponent the implementation clamps at EXP_MAX."""
    s = (mpmath.mpf(x) / mpmath.mpf(c))**2
    if alpha == INF:
        return s / 2
    if alpha in (0, 2, -INF) or alpha < 0:
        return -1
    b = abs(mpmath.mpf(alpha) - 2)
    return alpha / 2 * mpmath.log(s / b + 1)


ALPHAS = [-INF, -1e3, -16., -2., -1., -0.5, -1e-9, 0., 1e-9, 0.5, 1., 1.5,
          2. - 1e-9, 2., 2. + 1e-9, 3., 5., 1e3, INF]
XS = [0., 1e-4, -0.1, 0.7, -1., 3., 10.]
SCALES = [0.5, 1., 2.]


@pytest.mark.parametrize('alpha', ALPHAS)
def test_general_matches_closed_form(alpha):
    points = [(x, c) for x, c in itertools.product(XS, SCALES)
              if exponent_ref(x, alpha, c) < EXP_MAX]
    x = torch.tensor([p[0] for p in points], dtype=torch.float64)
    c = torch.tensor([p[1] for p in points], dtype=torch.float64)
    expected = torch.tensor([float(rho_ref(p[0], alpha, p[1]))
                             for p in points], dtype=torch.float64)
    # Python-number alpha (single branch) and tensor alpha (torch.where).
    for a in (alpha, torch.full_like(x, alpha)):
        got = general_robust_loss(x, a, c)
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-300)


def test_general_mixed_alpha_tensor_matches_closed_form():
    x = torch.linspace(-4, 4, len(ALPHAS), dtype=torch.float64)
    alpha = torch.tensor(ALPHAS, dtype=torch.float64)
    expected = torch.tensor(
        [float(rho_ref(float(xi), a, 1.3)) for xi, a in zip(x, ALPHAS)],
        dtype=torch.float64)
    torch.testing.assert_close(
        general_robust_loss(x, alpha, 1.3), expected, rtol=1e-10, atol=0)


def test_named_special_cases():
    x = torch.linspace(-5, 5, 41, dtype=torch.float64)
    s = x**2
    cases = {
        1.: torch.sqrt(s + 1) - 1,  # Charbonnier
        -2.: 2 * s / (s + 4),  # Geman-McClure
        2.: s / 2,
        0.: torch.log(s / 2 + 1),
    }
    for alpha, expected in cases.items():
        torch.testing.assert_close(general_robust_loss(x, alpha, 1.),
                                   expected, rtol=1e-12, atol=1e-14)


def test_limits_are_continuous():
    x = torch.linspace(-6, 6, 25, dtype=torch.float64)
    for special, near in [(0., 1e-8), (2., 2. - 1e-8), (2., 2. + 1e-8),
                          (-INF, -1e9), (INF, 1e9)]:
        torch.testing.assert_close(
            general_robust_loss(x, near, 1.),
            general_robust_loss(x, special, 1.),
            rtol=2e-6, atol=1e-8)


def test_saturates_instead_of_overflowing():
    x = torch.tensor([1e6], requires_grad=True)
    loss = general_robust_loss(x, INF, 1.)
    assert torch.isfinite(loss).all()
    assert loss.item() == pytest.approx(math.expm1(EXP_MAX), rel=1e-5)
    loss.sum().backward()
    assert x.grad.item() == 0.


def test_gradcheck_float64():
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(12, generator=gen, dtype=torch.float64) * 3)
    alpha = torch.tensor([-8., -2.5, -1., -0.3, 0.2, 0.7, 1., 1.3, 1.8, 2.4,
                          3., 6.], dtype=torch.float64)
    scale = torch.rand(12, generator=gen, dtype=torch.float64) + 0.3
    inputs = tuple(t.clone().requires_grad_() for t in (x, alpha, scale))
    assert torch.autograd.gradcheck(general_robust_loss, inputs)


def test_gradcheck_float64_special_alpha():
    x = torch.linspace(-3, 3, 8, dtype=torch.float64).requires_grad_()
    scale = torch.full((8, ), 0.8, dtype=torch.float64).requires_grad_()
    alpha = torch.tensor([-INF, 0., 2., INF] * 2, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda x, c: general_robust_loss(x, alpha, c), (x, scale))


def test_finite_loss_and_gradients_at_extremes():
    xs = [-1e6, -1e3, -1., -1e-30, 0., 1e-30, 1., 1e3, 1e6]
    alphas = [-INF, -1e6, -2., -1e-7, 0., 1e-7, 1e-3, 1., 2. - 1e-6, 2.,
              2. + 1e-6, 4., 1e6, INF]
    scales = [1e-3, 1., 1e3]
    grid = list(itertools.product(xs, alphas, scales))
    x, alpha, scale = (torch.tensor(v, dtype=torch.float32).requires_grad_()
                       for v in zip(*grid))
    loss = general_robust_loss(x, alpha, scale)
    assert torch.isfinite(loss).all()
    assert (loss >= 0).all()
    loss.sum().backward()
    for t in (x, alpha, scale):
        assert torch.isfinite(t.grad).all()


def test_barron_module_reduction_weight_avg_factor():
    pred = torch.tensor([[0.5, -1., 2., 0.], [3., 0.2, -0.4, 1.]],
                        requires_grad=True)
    target = torch.zeros(2, 4)
    weight = torch.tensor([[1., 1., 1., 1.], [0., 0., 1., 1.]])
    module = BarronLoss(alpha=0., scale=0.5, loss_weight=2.)
    elem = torch.log((pred.detach() / 0.5)**2 / 2 + 1)
    torch.testing.assert_close(
        module(pred, target, reduction_override='none'), 2 * elem)
    torch.testing.assert_close(module(pred, target), 2 * elem.mean())
    torch.testing.assert_close(
        module(pred, target, weight, reduction_override='sum'),
        2 * (elem * weight).sum())
    torch.testing.assert_close(
        module(pred, target, weight, avg_factor=3.),
        2 * (elem * weight).sum() / 3., rtol=1e-6, atol=0)
    # Per-row weights (M,) broadcast over the 4 coordinates.
    torch.testing.assert_close(
        module(pred, target, weight[:, 2], reduction_override='sum'),
        2 * elem.sum())
    with pytest.raises(ValueError, match='avg_factor'):
        module(pred, target, avg_factor=3., reduction_override='sum')
    zero = module(pred, target, torch.zeros(2, 4))
    assert zero.item() == 0. and zero.requires_grad
    zero.backward()
    assert torch.equal(pred.grad, torch.zeros(2, 4))


def test_barron_module_validates_arguments():
    assert BarronLoss(alpha='-inf').alpha == -INF
    with pytest.raises(ValueError, match='scale'):
        BarronLoss(scale=0.)
    with pytest.raises(ValueError, match='reduction'):
        BarronLoss(reduction='avg')
    with pytest.raises(ValueError, match='loss_'):
        BarronLoss(loss_name='barron')
    with pytest.raises(ValueError, match='shape'):
        BarronLoss()(torch.zeros(3, 4), torch.zeros(3, 2))


def test_barron_module_empty_input():
    pred = torch.zeros(0, 4, requires_grad=True)
    loss = BarronLoss()(pred, torch.zeros(0, 4))
    assert loss.item() == 0.
    loss.backward()


# ----------------------------------------------------------------------------
# Partition function and adaptive loss.


def z_meijer(n, d):
    """Barron's analytic Z(n/d) for integers n, d > 0 (paper, after Eq. 18)."""
    a_p = [mpmath.mpf(i) / n for i in range(1, n)]
    b_q = ([(mpmath.mpf(k) - 0.5) / n for k in range(n)] +
           [mpmath.mpf(i) / (2 * d) for i in range(1, 2 * d)])
    z = (mpmath.mpf(1) / n - mpmath.mpf(1) / (2 * d))**(2 * d)
    r = abs(mpmath.mpf(2 * d) / n - 1)
    mult = mpmath.exp(r) * mpmath.sqrt(r) * (2 * mpmath.pi)**(1 - d)
    return mult * mpmath.meijerg([[], a_p], [b_q, []], z)


def z_quad(alpha):
    b = abs(alpha - 2)
    points = sorted({0, b**0.5 / 10, b**0.5, 0.5, 1, 2, 4, 8, 16, 100})
    return 2 * mpmath.quad(lambda x: mpmath.exp(-rho_ref(x, alpha, 1)),
                           points + [mpmath.inf])


def test_log_partition_closed_forms():
    alpha = torch.tensor([0., 1., 2.], dtype=torch.float64)
    expected = torch.tensor([
        math.log(math.pi * math.sqrt(2)),
        float(mpmath.log(2 * mpmath.e * mpmath.besselk(1, 1))),
        0.5 * math.log(2 * math.pi),
    ], dtype=torch.float64)
    torch.testing.assert_close(log_partition(alpha), expected, rtol=1e-12,
                               atol=0)


@pytest.mark.parametrize('n,d', [(1, 4), (1, 2), (3, 4), (3, 2), (3, 1),
                                 (4, 1)])
def test_log_partition_matches_meijer_g(n, d):
    got = log_partition(torch.tensor(n / d, dtype=torch.float64))
    assert got.item() == pytest.approx(float(mpmath.log(z_meijer(n, d))),
                                       rel=1e-12)


@pytest.mark.parametrize('alpha', [1e-3, 0.3, 1.7, 1.999, 2.5, 10.])
def test_log_partition_matches_quadrature(alpha):
    got = log_partition(torch.tensor(alpha, dtype=torch.float64))
    assert got.item() == pytest.approx(float(mpmath.log(z_quad(alpha))),
                                       rel=1e-11)


def test_log_partition_gradient_and_domain():
    alpha = torch.tensor([0.05, 0.8, 1.5, 1.95], dtype=torch.float64,
                         requires_grad=True)
    assert torch.autograd.gradcheck(log_partition, (alpha, ))
    with pytest.raises(ValueError, match='alpha >= 0'):
        log_partition(torch.tensor([-0.5]))


def test_adaptive_nll_value():
    module = AdaptiveBarronLoss(
        num_dims=2, alpha_init=0.5, scale_init=1.5, reduction='none')
    torch.testing.assert_close(module.alpha, torch.full((1, 2), 0.5))
    torch.testing.assert_close(module.scale, torch.full((1, 2), 1.5))
    # alpha fixed at exactly 1/2 for a float64 comparison.
    module = AdaptiveBarronLoss(
        num_dims=2, alpha_lo=0.5, alpha_hi=0.5, scale_init=1.5,
        reduction='none').double()
    pred = torch.tensor([[0.3, -2.], [1., 4.]], dtype=torch.float64)
    got = module(pred, torch.zeros_like(pred))
    log_z = float(mpmath.log(z_meijer(1, 2)))
    expected = torch.tensor(
        [[float(rho_ref(float(v), 0.5, 1.5)) + math.log(1.5) + log_z
          for v in row] for row in pred], dtype=torch.float64)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_adaptive_parameters_are_trained():
    head = torch.nn.Module()
    head.loss_bbox = AdaptiveBarronLoss(num_dims=4)
    names = {n for n, _ in head.named_parameters()}
    assert names == {'loss_bbox.latent_alpha', 'loss_bbox.latent_scale'}
    module = head.loss_bbox
    gen = torch.Generator().manual_seed(1)
    pred = torch.randn(16, 4, generator=gen, requires_grad=True)
    target = torch.randn(16, 4, generator=gen)
    weight = torch.ones(16, 4)
    module(pred, target, weight, avg_factor=16.).backward()
    for p in head.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
        assert (p.grad != 0).all()
    # Heavy-tailed residuals: maximum likelihood makes the loss more robust
    # (smaller alpha) and wider (larger scale), within the allowed ranges.
    u = torch.rand(512, 4, generator=gen)
    heavy = 3 * torch.tan(math.pi * (u - 0.5))  # Cauchy samples
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(100):
        opt.zero_grad()
        module(heavy, torch.zeros_like(heavy)).backward()
        opt.step()
    assert (module.alpha < 0.5).all() and (module.alpha >= 0.001).all()
    assert (module.scale > 1.).all()


def test_adaptive_gradcheck_float64():
    module = AdaptiveBarronLoss(num_dims=3, alpha_init=1.2).double()
    with torch.no_grad():
        module.latent_scale.fill_(0.3)
    gen = torch.Generator().manual_seed(2)
    pred = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    target = torch.randn(5, 3, generator=gen, dtype=torch.float64)

    def fn(pred, latent_alpha, latent_scale):
        params = dict(latent_alpha=latent_alpha, latent_scale=latent_scale)
        return torch.func.functional_call(
            module, params, (pred, target),
            dict(reduction_override='none'))

    inputs = (pred.requires_grad_(),
              module.latent_alpha.detach().clone().requires_grad_(),
              module.latent_scale.detach().clone().requires_grad_())
    assert torch.autograd.gradcheck(fn, inputs)


def test_adaptive_fixed_parameters_and_zero_weight():
    fixed = AdaptiveBarronLoss(num_dims=4, alpha_lo=1., alpha_hi=1.,
                               scale_lo=0.5, scale_init=0.5)
    assert list(fixed.parameters()) == []
    pred = torch.randn(3, 4)
    expected = (general_robust_loss(pred, 1., 0.5) + math.log(0.5) +
                log_partition(torch.tensor(1.))).mean()
    torch.testing.assert_close(fixed(pred, torch.zeros(3, 4)), expected)

    module = AdaptiveBarronLoss()
    pred = torch.randn(3, 4, requires_grad=True)
    zero = module(pred, torch.zeros(3, 4), torch.zeros(3, 4), avg_factor=3.)
    assert zero.item() == 0.
    zero.backward()
    assert module.latent_alpha.grad is not None  # still in the graph


def test_adaptive_finite_at_extremes_and_empty():
    module = AdaptiveBarronLoss(num_dims=4)
    pred = torch.tensor([[1e6, -1e6, 0., 1e-30]], requires_grad=True)
    loss = module(pred, torch.zeros(1, 4))
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in module.parameters())
    empty = module(torch.zeros(0, 4, requires_grad=True), torch.zeros(0, 4))
    assert empty.item() == 0.


def test_adaptive_validates_arguments():
    with pytest.raises(ValueError, match='alpha_lo'):
        AdaptiveBarronLoss(alpha_lo=-1.)
    with pytest.raises(ValueError, match='alpha_init'):
        AdaptiveBarronLoss(alpha_init=1.999)
    with pytest.raises(ValueError, match='scale_lo'):
        AdaptiveBarronLoss(scale_lo=0.)
    with pytest.raises(ValueError, match='num_dims=4'):
        AdaptiveBarronLoss(num_dims=4)(torch.zeros(2, 3), torch.zeros(2, 3))
