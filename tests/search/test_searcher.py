"""Aging evolution: random phase, tournament, window, state, determinism."""
import numpy as np
import pytest

from autoloss_zero.graph import SearchSpace, Tree
from autoloss_zero.search import AgingEvolution, Individual
from autoloss_zero.search.loop.settings import Evolution

SPACES = {'a': SearchSpace(), 'b': SearchSpace(spatial=False)}


def make(mode='max', **kw):
    evo = Evolution(**{'population': 4, 'window': 6, **kw})
    return AgingEvolution(SPACES, evo, mode=mode, seed=3)


def fill(searcher, scores):
    for i, score in enumerate(scores):
        _, ind = searcher.propose()
        searcher.tell(i, ind, score)


def test_random_phase_then_mutation_of_a_member():
    searcher = make()
    for i in range(4):
        parent, ind = searcher.propose()
        assert parent is None
        assert set(ind) == {'a', 'b'}
        searcher.tell(i, ind, float(i))
    parent, child = searcher.propose()
    assert parent in range(4)


def test_one_branch_mutated_by_default_all_with_option():
    """With p_copy=0 and p_reinit=1 every mutated branch changes."""
    one = make(p_copy=0.0, p_reinit=1.0)
    fill(one, [1.0] * 4)
    parents = {m[0]: Individual.from_json(m[1]) for m in one.population}
    for _ in range(20):
        pid, child = one.propose()
        changed = [b for b in child if child[b] != parents[pid][b]]
        assert len(changed) <= 1
    every = make(p_copy=0.0, p_reinit=1.0, mutate='all')
    fill(every, [1.0] * 4)
    parents = {m[0]: Individual.from_json(m[1]) for m in every.population}
    changed = 0
    for _ in range(20):
        pid, child = every.propose()
        changed += sum(child[b] != parents[pid][b] for b in child)
    assert changed > 20  # both branches change in most proposals


@pytest.mark.parametrize('mode,best', [('max', 3), ('min', 0)])
def test_tournament_of_whole_population_picks_the_best(mode, best):
    searcher = make(mode, tournament=1.0, p_copy=1.0)
    fill(searcher, [0.1, 0.2, 0.3, 0.9] if mode == 'max' else
         [0.0, 0.5, 0.6, 0.7])
    winner = Individual.from_json(searcher.population[best][1])
    for _ in range(5):
        parent, child = searcher.propose()
        assert parent == best
        assert child == winner  # p_copy=1: the child is the parent


def test_window_keeps_only_the_newest():
    searcher = make()
    fill(searcher, range(10))
    assert [m[0] for m in searcher.population] == [4, 5, 6, 7, 8, 9]


def test_state_round_trip_continues_identically():
    a = make()
    fill(a, [0.5, 0.1, 0.7, 0.3, 0.2])
    b = make()
    b.set_state(a.get_state())
    assert [a.propose()[1].key for _ in range(10)] == \
        [b.propose()[1].key for _ in range(10)]


def test_same_seed_same_individuals():
    keys = [[make().propose()[1].key for _ in range(5)] for _ in range(2)]
    assert keys[0] == keys[1]


def test_invalid_evolution_settings():
    with pytest.raises(ValueError, match="'one' or 'all'"):
        Evolution(mutate='some')
    with pytest.raises(ValueError, match='tournament'):
        Evolution(tournament=0)
    with pytest.raises(ValueError, match='population'):
        Evolution(population=30, window=10)


def test_individual_identity():
    a = Individual({'a': 'neg(mul(y,log(yhat)))', 'b': Tree.parse('y')})
    assert a.key == 'a=neg(mul(y,log(yhat)));b=y'
    assert Individual.from_json(a.to_json()) == a
    assert hash(a) == hash(Individual(a.as_strings()))
    assert a.replace('b', Tree.parse('1'))['b'] == Tree.parse('1')
    assert np.all([isinstance(t, Tree) for t in a.values()])
