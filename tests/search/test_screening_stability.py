"""The stability pre-test: losses whose gradient explodes toward the target
are rejected, the default losses and robust ones are kept, on synthetic
canvases of every activation, and it has no say with ``exact=True`` or
``stability=False``."""
from dataclasses import replace

import pytest
import torch

from autoloss_zero.graph import Tree
from autoloss_zero.losses import (SearchedBoxLoss, SearchedHeatmapLoss,
                                  SearchedMaskLoss, SearchedSigmoidClsLoss,
                                  SearchedSoftmaxClsLoss)
from autoloss_zero.search import LossRejection
from autoloss_zero.search.loop.settings import Rejection
from autoloss_zero.search.screening.probes import probe_for
from autoloss_zero.search.screening.stability import (MARGINS,
                                                      unstable_reason)

CE = 'neg(mul(y,log(yhat)))'
BCE = 'neg(add(mul(y,log(yhat)),mul(sub(1,y),log(sub(1,yhat)))))'


def _softmax_calls(seed=0, rows=64, classes=4):
    g = torch.Generator().manual_seed(seed)
    module = SearchedSoftmaxClsLoss(CE)
    canvas = module.to_canvas(0.1 * torch.randn(rows, classes, generator=g),
                              torch.randint(0, classes, (rows, ), generator=g),
                              torch.ones(rows), avg_factor=float(rows))
    return [(probe_for(module), canvas)]


def _sigmoid_calls(seed=0, rows=64):
    g = torch.Generator().manual_seed(seed)
    module = SearchedSigmoidClsLoss(BCE)
    canvas = module.to_canvas(0.1 * torch.randn(rows, 1, generator=g),
                              torch.randint(0, 2, (rows, ), generator=g),
                              torch.ones(rows), avg_factor=float(rows))
    return [(probe_for(module), canvas)]


def _box_calls(seed=0, rows=32):
    g = torch.Generator().manual_seed(seed)
    module = SearchedBoxLoss('abs(sub(yhat,y))')
    canvas = module.to_canvas(0.1 * torch.randn(rows, 4, generator=g),
                              0.5 * torch.randn(rows, 4, generator=g),
                              torch.ones(rows, 4), avg_factor=float(rows))
    return [(probe_for(module), canvas)]


@pytest.mark.parametrize('calls,tree', [
    (_softmax_calls, CE), (_softmax_calls, 'square(sub(yhat,y))'),
    (_softmax_calls, 'abs(sub(y,yhat))'), (_sigmoid_calls, BCE),
    (_sigmoid_calls, 'square(sub(yhat,y))'),
    (_box_calls, 'abs(sub(yhat,y))'), (_box_calls, 'square(sub(yhat,y))'),
])
def test_default_and_robust_losses_are_kept(calls, tree):
    assert unstable_reason(calls(), Tree.parse(tree)) is None


@pytest.mark.parametrize('calls,tree', [
    # singular where the prediction is right: log(yhat) -> 0
    (_softmax_calls, 'inv(mul(y,log(yhat)))'),
    (_sigmoid_calls, 'inv(log(mul(yhat,y)))'),
    # steepest just past the initialisation
    (_softmax_calls, 'tanh(mul(inv(yhat),square(y)))'),
    # singular at the target
    (_box_calls, 'inv(abs(sub(yhat,y)))'),
    # a clamped singularity: log(y) = 0 where y = 1 (a 1e12 scale)
    (_sigmoid_calls, 'mul(mean_c(inv(yhat)),inv(log(y)))'),
])
def test_exploding_gradients_are_rejected(calls, tree):
    reason = unstable_reason(calls(), Tree.parse(tree))
    assert reason is not None and 'stability pre-test' in reason


def test_toward_target_moves_each_activation_to_its_target():
    (soft, c_soft), = _softmax_calls()
    z = soft.toward_target(c_soft, c_soft.logits, MARGINS[-1])
    assert torch.equal(z.argmax(1), c_soft.targets['y'].argmax(1))
    (sig, c_sig), = _sigmoid_calls()
    z = sig.toward_target(c_sig, c_sig.logits, MARGINS[-1])
    assert torch.equal(z > 0, c_sig.targets['y'] > 0.5)
    (box, c_box), = _box_calls()
    y = c_box.targets['y']
    for margin in MARGINS:
        z = box.toward_target(c_box, c_box.logits, margin)
        assert torch.allclose(z - y, 2.0**-margin * (c_box.logits - y),
                              atol=1e-6)


def test_mask_and_heatmap_probes_move_toward_their_targets():
    g = torch.Generator().manual_seed(1)
    mask = SearchedMaskLoss(BCE)
    targets = torch.randint(0, 2, (3, 7, 7), generator=g).float()
    canvas = mask.to_canvas(torch.randn(3, 2, 7, 7, generator=g), targets,
                            torch.tensor([0, 1, 1]))
    z = probe_for(mask).toward_target(canvas, canvas.logits, 8.0)
    assert torch.equal(z > 0, canvas.targets['y'] > 0.5)
    heat = SearchedHeatmapLoss('square(sub(yhat,y))')
    canvas = heat.to_canvas(torch.randn(2, 3, 8, 8, generator=g),
                            torch.rand(2, 3, 8, 8, generator=g),
                            torch.ones(2, 3))
    z = probe_for(heat).toward_target(canvas, canvas.logits, 1.0)
    assert torch.allclose(z, (canvas.logits + canvas.targets['y']) / 2)


def _rejection(**fields):
    calls = _softmax_calls()
    (probe, canvas), = calls
    return LossRejection({'cls': [(probe.module, canvas)]},
                         Rejection(samples=1, steps=30, eta=0.3, **fields))


def test_protocol_rejects_unstable_passing_trees_unless_switched_off():
    tree = Tree.parse('inv(mul(y,log(yhat)))')
    exact = _rejection(exact=True).screen_branch('cls', tree)
    off = _rejection(stability=False).screen_branch('cls', tree)
    default = _rejection().screen_branch('cls', tree)
    assert exact.passed and off.passed
    assert not default.passed and 'stability pre-test' in default.reason
    assert default.gains == exact.gains
    ce = Tree.parse(CE)
    assert _rejection().screen_branch('cls', ce) == replace(
        _rejection(exact=True).screen_branch('cls', ce))


def test_stability_must_be_a_bool():
    with pytest.raises(ValueError, match='search.rejection.stability'):
        Rejection(stability='no')


def _heatmap_rejection(**fields):
    g = torch.Generator().manual_seed(0)
    module = SearchedHeatmapLoss('square(sub(yhat,y))')
    target = torch.rand(2, 3, 8, 8, generator=g)
    canvas = module.to_canvas(0.1 * torch.randn(2, 3, 8, 8, generator=g),
                              target, torch.ones(2, 3))
    return LossRejection({'heatmap': [(module, canvas)]},
                         Rejection(samples=1, steps=30, eta=0.6, **fields))


def test_heatmaps_first_look_reads_the_progress_measures():
    """PCK is too coarse for the abandonment pre-tests: a heatmap tree is
    abandoned after the first steps only when neither the argmax distance
    nor the target peak's margin improved (minimising y * yhat lowers the
    target's peak); L2 to the target improves both and runs on; exact=True
    runs every step."""
    from autoloss_zero.search.screening.batched import FIRST_LOOK
    away = Tree.parse('mul(y,yhat)')
    default = _heatmap_rejection().screen_branch('heatmap', away)
    assert default.steps == FIRST_LOOK and not default.passed
    assert 'no progress measure rose' in default.reason
    exact = _heatmap_rejection(exact=True).screen_branch('heatmap', away)
    assert exact.steps == 30 and 'metric gain' in exact.reason
    l2 = Tree.parse('square(sub(yhat,y))')
    assert _heatmap_rejection().screen_branch('heatmap', l2) == \
        _heatmap_rejection(exact=True).screen_branch('heatmap', l2)


def test_abandonment_only_where_the_probe_allows_it():
    """Minimising y * yhat lowers the target class: abandoned after the
    first steps, unless the branch's probe opts out (a coarse metric such
    as PCK) and has no progress measures: then it runs every step."""
    from autoloss_zero.search.screening.batched import FIRST_LOOK
    from autoloss_zero.search.screening.probes import HeatmapProbe
    assert HeatmapProbe.may_abandon is False
    tree = Tree.parse('mul(y,yhat)')
    rejection = _rejection()
    assert rejection.screen_branch('cls', tree).steps == FIRST_LOOK
    (probe, _), = rejection.captured['cls']
    probe.may_abandon = False
    later = rejection.screen_branch('cls', tree)
    assert not later.passed and later.steps == 30
    gain = later.gains['cls']
    assert later.reason == f'cls: metric gain {gain:.3f} < eta 0.3'


def test_box_branches_optimise_target_free_trees():
    """Pulling box deltas to 0 without the target moves the boxes to their
    priors, which can pass a box branch: no no-target-leaf pre-test there.
    A classification branch keeps it."""
    (box_probe, box_canvas), = _box_calls()
    box = LossRejection({'reg': [(box_probe.module, box_canvas)]},
                        Rejection(samples=1, steps=30, eta=0.01))
    assert not box.leaves['reg'].require_target
    to_prior = Tree.parse('abs(tanh(yhat))')
    assert box.prefiltered('reg', to_prior) is None
    assert box.screen_branch('reg', to_prior) == replace(
        LossRejection({'reg': [(box_probe.module, box_canvas)]},
                      Rejection(samples=1, steps=30, eta=0.01, exact=True)
                      ).screen_branch('reg', to_prior))
    cls = _rejection()
    assert cls.leaves['cls'].require_target
    reason = cls.prefiltered('cls', Tree.parse('neg(yhat)')).reason
    assert 'no target leaf' in reason
