"""Candidates drawn one branch at a time: a failing branch is re-drawn while
the branches that passed are kept; screenings are cached per tree."""
import json

import numpy as np
import pytest

from autoloss_zero.graph import SearchSpace, Tree
from autoloss_zero.search import AgingEvolution, Individual, Screening
from autoloss_zero.search.loop.proposer import Proposer
from autoloss_zero.search.loop.evolution import Proposal
from autoloss_zero.search.loop.settings import Evolution

SPACES = {'a': SearchSpace(spatial=False), 'b': SearchSpace(spatial=False),
          'c': SearchSpace(spatial=False)}


class FakeRejection:
    """Passes a tree of ``branch`` iff ``rule(branch, tree string)``;
    records every screening."""

    def __init__(self, rule, etas=None):
        self.rule = rule
        self.etas = etas or {b: 0.5 for b in SPACES}
        self.calls = []

    def screen_branch(self, branch, tree):
        self.calls.append((branch, str(tree)))
        if self.rule(branch, str(tree)):
            return Screening(True, {branch: 1.0}, fingerprint=f'{tree}',
                             steps=3)
        return Screening(False, {branch: 0.0}, f'{branch}: metric gain',
                         steps=5)

    def screen_batch(self, items):
        return [self.screen_branch(branch, tree) for branch, tree in items]


def has_leaf(leaf):
    """Branch 'b' needs trees with ``leaf`` (roughly half of them); 'a' and
    'c' pass everything."""
    return lambda branch, tree: branch != 'b' or leaf in tree


def make(rule, population=3, etas=None, **kw):
    searcher = AgingEvolution(SPACES, Evolution(population=population,
                                                window=10), seed=8)
    rejection = FakeRejection(rule, etas)
    return searcher, rejection, Proposer(searcher, rejection, **kw)


def test_only_the_failing_branch_is_redrawn():
    searcher, rejection, proposer = make(has_leaf('yhat'))
    candidate = proposer.next()
    assert candidate.parent is None
    assert set(candidate.individual) == {'a', 'b', 'c'}
    assert 'yhat' in str(candidate.individual['b'])
    screened = [b for b, _ in rejection.calls]
    # 'a' once, 'b' until it passes, then 'c' once: never the whole again
    assert screened[0] == 'a' and screened[-1] == 'c'
    assert set(screened[1:-1]) == {'b'}
    assert len(candidate.rejected) == len(screened) - 3 > 0
    for row in (rejected.row() for rejected in candidate.rejected):
        assert json.loads(row['trees']).keys() == {'b'}
        assert row['key'].startswith('b=') and row['status'] == 'rejected'
        assert row['reason'].startswith('b:')
    # the combined screening covers every branch, in branch order
    assert candidate.screening.passed
    assert [p.split(':')[0] for p in
            candidate.screening.fingerprint.split('|')] == ['a', 'b', 'c']
    assert candidate.screening.steps == 9


def test_a_mutation_keeps_the_parents_other_branches():
    """One branch changes; a rejected mutation starts over from a new
    tournament (the paper), which may pick another parent and branch."""
    searcher, rejection, proposer = make(has_leaf('yhat'), population=2)
    for cand_id in range(2):
        searcher.tell(cand_id, proposer.next().individual, float(cand_id))
    for _ in range(10):
        candidate = proposer.next()
        parent = Individual.from_json(
            next(m[1] for m in searcher.population
                 if m[0] == candidate.parent))
        changed = [b for b in SPACES
                   if candidate.individual[b] != parent[b]]
        assert len(changed) <= 1
        assert 'yhat' in str(candidate.individual['b'])


def test_a_failed_mutation_means_a_new_tournament():
    """In the mutation phase a candidate is what proposing whole children
    (tournament + mutation) until one passes gives: the paper's loop."""
    def filled(seed):
        searcher, rejection, proposer = make(lambda b, t: 'tanh' in t,
                                             population=2)
        searcher.rng = np.random.default_rng(seed)
        for cand_id, tree in enumerate(['tanh(yhat)', 'tanh(neg(y))']):
            searcher.tell(cand_id, Individual({b: tree for b in SPACES}),
                          float(cand_id))
        return searcher, rejection, proposer

    redrawn = 0
    for seed in range(10):
        searcher, rejection, proposer = filled(seed)
        candidate = proposer.next()
        reference, _, _ = filled(seed)
        failed = 0
        while True:
            parent, child = reference.propose()
            if all('tanh' in str(t) for t in child.values()):
                break
            failed += 1
        assert (candidate.parent, candidate.individual) == (parent, child)
        assert len(candidate.rejected) == failed
        redrawn += failed
    assert redrawn > 0


def test_screenings_are_cached_per_branch_and_tree():
    searcher, rejection, proposer = make(has_leaf('yhat'))
    fixed = Individual({'a': 'y', 'b': 'neg(yhat)', 'c': 'y'})
    searcher.plan = lambda: Proposal(None, fixed, ())
    for _ in range(3):
        assert proposer.next().individual == fixed
    # 'a' and 'c' share the tree 'y' but not the branch
    assert sorted(rejection.calls) == [('a', 'y'), ('b', 'neg(yhat)'),
                                       ('c', 'y')]
    assert proposer.screened == 3


def test_cache_keeps_passing_screenings_and_any_batch_size():
    searcher, rejection, proposer = make(has_leaf('yhat'), cache_size=1)
    items = [('b', Tree.parse(t)) for t in ('y', 'yhat', 'neg(y)', 'y')]
    results = proposer.screen(items)
    assert [r.passed for r in results] == [False, True, False, False]
    assert proposer.screened == 3  # 'y' once
    proposer.screen([('b', Tree.parse('yhat'))])  # passed: never evicted
    assert proposer.screened == 3
    with pytest.raises(ValueError, match='cache_size must be >= 1'):
        make(has_leaf('yhat'), cache_size=0)


def test_kept_branches_failing_forever_stop_at_the_budget():
    searcher, rejection, proposer = make(has_leaf('yhat'), max_redraws=5)
    bad = Individual({'a': 'y', 'b': 'y', 'c': 'y'})
    searcher.plan = lambda: Proposal(None, bad, ())
    with pytest.raises(RuntimeError, match="5 trees in a row.*branch 'b'"):
        proposer.next()


def test_a_kept_branch_that_fails_rejects_the_plan():
    """A scripted (or resumed) plan whose kept tree fails: recorded as
    rejected, and the next plan is drawn."""
    searcher, rejection, proposer = make(has_leaf('yhat'))
    bad = Individual({'a': 'y', 'b': 'y', 'c': 'y'})
    plans = [Proposal(None, bad, ())]
    real = searcher.plan
    searcher.plan = lambda: plans.pop() if plans else real()
    candidate = proposer.next()
    assert candidate.rejected[0].row()['key'] == 'b=y'
    assert 'yhat' in str(candidate.individual['b'])


def test_same_seed_same_candidates_and_cache_does_not_change_them():
    keys = []
    for cache_size in (100000, 1):
        _, _, proposer = make(has_leaf('yhat'), cache_size=cache_size)
        keys.append([proposer.next().individual.key for _ in range(5)])
    assert keys[0] == keys[1]


def test_a_branch_that_never_passes_names_itself():
    _, _, proposer = make(lambda b, t: b != 'b', max_redraws=20,
                          etas={'b': 0.35})
    with pytest.raises(RuntimeError, match=r"20 trees in a row failed.*the "
                       r"last for branch 'b'.*search.branches.b.eta = 0.35"):
        proposer.next()


def test_without_rejection_every_tree_passes():
    searcher = AgingEvolution(SPACES, Evolution(population=3, window=10),
                              seed=1)
    candidate = Proposer(searcher, None).next()
    assert candidate.screening is None and candidate.rejected == []


def test_long_redraw_runs_report_progress(caplog):
    import logging
    logger = logging.getLogger('test_proposer_progress')
    _, _, proposer = make(has_leaf('yhat'), logger=logger, report_every=0.0)
    with caplog.at_level(logging.INFO, logger=logger.name):
        proposer.next()
    assert any('rejected in a row' in r.message and '/min' in r.message
               for r in caplog.records), caplog.text
