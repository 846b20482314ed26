"""Fast screening against the paper's loop, on tensors captured from the
randomly initialised tiny DeepLabV3+: the static pre-filter rejects only
trees the protocol rejects, lockstep batches and the pool give every tree
its one-tree-at-a-time screening, pre-tests never accept what the protocol
rejects, and ``exact=True`` switches the pre-tests off."""
from dataclasses import replace

import numpy as np
import pytest

from autoloss_zero.graph import Tree, random_tree
from autoloss_zero.search import LossRejection, ProxyTrainer, SearchSettings
from autoloss_zero.search.loop.settings import Rejection
from autoloss_zero.search.screening import ScreeningPool
from autoloss_zero.search.screening.batched import (FIRST_LOOK, no_first_gain,
                                                    stalled)
from autoloss_zero.search.screening.prefilter import BranchLeaves
from autoloss_zero.search.screening.reference import screen_reference

from .conftest import tiny_search_config

CE = 'neg(mul(y,log(yhat)))'


@pytest.fixture(scope='module')
def setup(tiny_data, tmp_path_factory):
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'])
    settings = SearchSettings.from_config(cfg)
    trainer = ProxyTrainer(cfg, settings, tmp_path_factory.mktemp('proxy'))
    captured = trainer.capture(2)
    space = settings.branches[0].search_space(settings.space)
    rng = np.random.default_rng(0)
    trees = [random_tree(space, rng) for _ in range(300)]
    return captured, trees


def _rejection(captured, exact, steps=30):
    return LossRejection(captured, Rejection(samples=2, steps=steps,
                                             exact=exact), metric='mIoU')


def _outcome(s):
    return s.passed, s.gains, s.fingerprint, s.steps


def test_branch_leaves_split_prediction_and_target(setup):
    captured, _ = setup
    assert _rejection(captured, True).leaves['seg'] == BranchLeaves(
        prediction=frozenset({'yhat'}), target=frozenset({'y'}))


def test_static_prefilter_rejects_only_what_the_protocol_rejects(setup):
    """Every tree without a prediction leaf (about half of the random
    trees) is rejected by the paper's loop too, at step 0."""
    captured, trees = setup
    rej = _rejection(captured, exact=True)
    static = [t for t in trees if rej.prefiltered('seg', t) is not None]
    assert len(static) > 100
    assert all('yhat' not in t.leaves for t in static)
    for tree in static:
        reference = screen_reference(rej, 'seg', tree)
        assert not reference.passed and reference.steps == 0, tree
        assert rej.screen_branch('seg', tree).gains == reference.gains


def test_lockstep_batch_equals_the_reference_loop(setup):
    """Bit-identical gains, fingerprints and steps: one tree at a time, in
    one lockstep batch, and in the reference loop."""
    captured, trees = setup
    rej = _rejection(captured, exact=True)
    optimised = [t for t in trees[:120] if 'yhat' in t.leaves] + [
        Tree.parse(CE)]
    batch = rej.screen_batch([('seg', t) for t in optimised])
    assert any(s.passed for s in batch)
    for tree, screening in zip(optimised, batch):
        reference = screen_reference(rej, 'seg', tree)
        assert _outcome(screening) == _outcome(reference), tree
        assert _outcome(rej.screen_branch('seg', tree)) == _outcome(
            reference), tree


def test_pretests_reject_but_never_accept_more(setup):
    """Default screenings of passing trees are the exact ones; the
    pre-tests only turn some rejections earlier (with a reason naming
    them), and exact=True gives them no say."""
    captured, trees = setup
    exact, default = _rejection(captured, True), _rejection(captured, False)
    items = [('seg', t) for t in trees[:120]] + [('seg', Tree.parse(CE))]
    a, b = exact.screen_batch(items), default.screen_batch(items)
    pretested = 0
    for e, d in zip(a, b):
        assert not (d.passed and not e.passed)
        if d.passed:
            assert _outcome(d) == _outcome(e)
        elif 'pre-test' in d.reason:
            pretested += 1
    assert pretested > 0
    assert all('pre-test' not in s.reason for s in a if not s.passed)
    assert b[-1].passed  # cross-entropy


def test_no_target_pretest_names_itself(setup):
    captured, _ = setup
    tree = Tree.parse('neg(yhat)')
    default = _rejection(captured, False).screen_branch('seg', tree)
    exact = _rejection(captured, True).screen_branch('seg', tree)
    assert 'no target leaf y (pre-test' in default.reason
    assert default.steps == 0
    assert 'metric gain' in exact.reason and exact.steps == 30


def test_first_gain_pretest_names_itself(setup):
    """Minimising y * yhat lowers the target class: no metric gain after
    the first steps, abandoned there; exact=True runs every step."""
    captured, _ = setup
    tree = Tree.parse('mul(y,yhat)')
    default = _rejection(captured, False).screen_branch('seg', tree)
    exact = _rejection(captured, True).screen_branch('seg', tree)
    assert f'abandoned at step {FIRST_LOOK}: no metric gain' in default.reason
    assert default.steps == FIRST_LOOK and default.gains['seg'] <= 0
    assert 'metric gain' in exact.reason and exact.steps == 30


@pytest.mark.parametrize('gain,eta,expected', [
    (0.0, 0.6, True), (-0.02, 0.6, True), (1e-4, 0.6, False),
    (0.0, -0.1, False),  # a non-positive eta: gain 0 may pass
    (float('nan'), 0.6, False),  # left to the protocol
])
def test_no_first_gain(gain, eta, expected):
    assert no_first_gain(gain, eta) is expected


@pytest.mark.parametrize('bests,eta,expected', [
    ([0.0, 0.05, 0.05, 0.05, 0.05], 0.3, True),  # stuck at 'all background'
    ([0.0, 0.0, 0.0, 0.0], 0.6, True),  # never moved
    ([0.0, 0.01, 0.02, 0.08], 0.6, False),  # a late starter
    ([0.0, 0.002, 0.002, 0.002, 0.03], 0.6, False),  # a plateau, then up
    ([0.0, 0.3, 0.3, 0.3, 0.3], 0.6, True),
    ([0.0, 0.3, 0.3], 0.6, False),  # too early to tell
    ([0.0, 0.1, 0.1, float('nan')], 0.6, False),
])
def test_stalled(bests, eta, expected):
    assert stalled(bests, eta) is expected


def test_exact_must_be_a_bool():
    with pytest.raises(ValueError, match='search.rejection.exact'):
        Rejection(exact='yes')


def test_pool_gives_the_in_process_screenings(setup):
    """Any number of workers, any split of the batch: the same results, in
    order (static rejections are made in the driver)."""
    captured, trees = setup
    rej = _rejection(captured, exact=False)
    items = [('seg', t) for t in trees[:40]] + [('seg', Tree.parse(CE))]
    expected = [replace(s) for s in rej.screen_batch(items)]
    pool = ScreeningPool(rej, 2)
    try:
        got = pool.screen(items)
        first = pool.screen(items[:3])
    finally:
        pool.close()
    assert got == expected
    assert first == expected[:3]
