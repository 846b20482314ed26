"""Flooding: |L - b| + b around any registered loss."""
import pytest
import torch
from mmengine.registry import MODELS

from autoloss_zero.losses.baselines import Flooding, Poly1Loss, flood


def test_flood_value_and_gradient_sign():
    b = 0.5
    above = torch.tensor(0.8, requires_grad=True)
    below = torch.tensor(0.2, requires_grad=True)
    flood(above, b).backward()
    flood(below, b).backward()
    assert flood(above, b).item() == pytest.approx(0.8)
    assert flood(below, b).item() == pytest.approx(2 * b - 0.2)
    assert above.grad.item() == 1.
    assert below.grad.item() == -1.


def test_wraps_mmseg_cross_entropy_and_flips_gradient_below_level():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 4, 4, generator=gen) * 4
    label = logits.argmax(1)  # mostly right: small CE
    label[0, 0, 0] = 255
    ce_cfg = dict(type='mmseg.CrossEntropyLoss', avg_non_ignore=True)
    ce = MODELS.build(ce_cfg)
    base = ce(logits, label, ignore_index=255)

    for level, sign in ((0.0, 1.), (base.item() + 1., -1.)):
        loss = MODELS.build(dict(type='Flooding', loss=ce_cfg,
                                 flood_level=level))
        assert loss.loss_name == 'loss_ce'
        z = logits.clone().requires_grad_()
        out = loss(z, label, weight=None, ignore_index=255)
        expected = base if sign > 0 else 2 * level - base
        torch.testing.assert_close(out, expected)
        out.backward()
        z_ref = logits.clone().requires_grad_()
        ce(z_ref, label, ignore_index=255).backward()
        torch.testing.assert_close(z.grad, sign * z_ref.grad)


def test_passes_through_arguments_names_and_attributes():
    loss = Flooding(loss=dict(type='Poly1Loss', loss_name='loss_decode_p'),
                    flood_level=0.1)
    assert isinstance(loss.loss, Poly1Loss)
    assert loss.loss_name == 'loss_decode_p'
    assert loss.epsilon == 1.0  # attributes delegate to the wrapped loss
    assert not getattr(loss, 'custom_cls_channels', False)
    logits = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    label = torch.tensor([0, 1, 2, 1])
    weight = torch.tensor([1., 0., 1., 1.])
    inner = loss.loss(logits, label, weight, avg_factor=3.,
                      reduction_override='none')
    torch.testing.assert_close(
        loss(logits, label, weight, avg_factor=3., reduction_override='none'),
        (inner - 0.1).abs() + 0.1)
    rpn = Flooding(loss=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True),
                   use_sigmoid=True)
    assert rpn.use_sigmoid


def test_validates_arguments():
    with pytest.raises(ValueError, match='flood_level'):
        Flooding(loss=dict(type='Poly1Loss'), flood_level=-0.1)
    with pytest.raises(ValueError, match='config dict'):
        Flooding(loss=Poly1Loss())
    with pytest.raises(ValueError, match='use_sigmoid'):
        Flooding(loss=dict(type='Poly1Loss'), use_sigmoid=True)
