"""Searched losses under mixed precision: float32 evaluation inside autocast,
and an exported demo tree that trains 20 steps under autocast(bfloat16)."""
import math

import pytest
import torch
import torch.nn.functional as F

from autoloss_zero.losses import (SearchedSegLoss, capture,
                                  export_searched_loss)

from ..support.absent import pytest_without_openmmlab

CE = 'neg(mul(y,log(yhat)))'
DEMO = 'inv(square(mul(tanh(y),add(abs(yhat),y))))'


def tiny_net(seed=0, classes=4):
    torch.manual_seed(seed)  # the net's init only; data use a Generator
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1),
                               torch.nn.ReLU(),
                               torch.nn.Conv2d(8, classes, 1))


def batch(seed=0, n=2, size=12, classes=4):
    gen = torch.Generator().manual_seed(seed)
    image = torch.randn(n, 3, size, size, generator=gen)
    label = torch.randint(0, classes, (n, size, size), generator=gen)
    label[:, :2, :2] = 255
    return image, label


def test_tree_is_evaluated_in_float32_inside_autocast():
    net, (image, label) = tiny_net(), batch()
    loss = SearchedSegLoss(CE)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        logits = net(image)
        inside = loss(logits, label)
    assert logits.dtype == torch.bfloat16 and inside.dtype == torch.float32
    outside = loss(logits.float(), label)
    assert torch.equal(inside, outside)
    reference = F.cross_entropy(logits.float(), label, ignore_index=255)
    torch.testing.assert_close(inside, reference)


def train(loss, steps=20, device='cpu', dtype=torch.bfloat16):
    """Losses of ``steps`` SGD steps of the tiny net under autocast; with
    float16 through a GradScaler, as mmengine's AmpOptimWrapper does."""
    net, values = tiny_net().to(device), []
    optim = torch.optim.SGD(net.parameters(), lr=0.05)
    scaler = torch.amp.GradScaler(device, enabled=dtype == torch.float16)
    for step in range(steps):
        image, label = (t.to(device) for t in batch(step))
        with torch.autocast(device, dtype=dtype):
            value = loss(net(image), label)
        optim.zero_grad()
        scaler.scale(value).backward()
        scaler.step(optim)
        scaler.update()
        values.append(value.item())
    return values


def exported_demo():
    """The demo tree and its export, measured on a captured call."""
    raw = SearchedSegLoss(DEMO)
    net, (image, label) = tiny_net(), batch()
    with capture() as records:
        raw(net(image).detach(), label)
    (module, canvas), = records[raw.branch]
    exported = export_searched_loss(module, canvas)
    return raw, exported, SearchedSegLoss(
        exported.tree, loss_weight=raw.loss_weight * exported.scale)


def test_exported_demo_tree_trains_under_bfloat16_autocast():
    raw, exported, cleaned = exported_demo()
    assert str(exported.tree) == \
        'mul(y,inv(square(mul(tanh(1),add(abs(yhat),1)))))'
    assert exported.loss_before > 1e11  # the 1e12 of inv(0) per pixel
    values = train(cleaned)
    assert all(math.isfinite(v) and 0.01 < v < 10 for v in values)
    # the same gradient as the searched tree (its dropped part is constant)
    image, label = batch()
    grads = []
    for loss in (raw, cleaned):
        net = tiny_net()
        loss(net(image), label).backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_exported_demo_tree_trains_under_float16_with_grad_scaler():
    _, _, cleaned = exported_demo()
    values = train(cleaned, device='cuda', dtype=torch.float16)
    assert all(math.isfinite(v) and 0.01 < v < 10 for v in values)


def test_autocast_checks_run_without_mmcv_mmseg_mmdet():
    """The checks above pass where mmcv, mmseg, mmdet and mmpose cannot be
    imported (a GPU machine with torch alone): the loss modules need torch
    and mmengine only."""
    proc = pytest_without_openmmlab(__file__, '-k', 'not without_mmcv')
    assert '2 passed' in proc.stdout
