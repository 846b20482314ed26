"""Search operators: properties (hypothesis), determinism, extreme inputs."""
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autoloss_zero.graph import (DEFAULT_OPS, OPS, OPTIONAL_OPS, SearchSpace,
                                 Tree, check_finite, crossover, deletion,
                                 insertion, mutate, mutate_with_info,
                                 parse_tree, random_tree, replacement)
from autoloss_zero.graph.generate import random_tree_of_size

SPACES = [
    SearchSpace(),
    SearchSpace(ops=DEFAULT_OPS + OPTIONAL_OPS, max_nodes=15, max_depth=5),
    SearchSpace.from_config(dict(spatial=False, leaves=['yhat', 'y', '1',
                                                        'w'])),
    SearchSpace(ops=('add', 'mul', 'sub'), init_depth=2, max_nodes=9,
                max_depth=4),
]
seeds = st.integers(min_value=0, max_value=2**32 - 1)
space_ids = st.integers(min_value=0, max_value=len(SPACES) - 1)


def assert_in_space(tree, space):
    assert parse_tree(str(tree)) == tree  # prints and parses back
    assert len(tree) <= space.max_nodes and tree.depth <= space.max_depth
    assert space.validate(tree) is tree


@settings(max_examples=150, deadline=None)
@given(seed=seeds, index=space_ids)
def test_random_trees_are_full_and_inside_the_space(seed, index):
    space = SPACES[index]
    tree = random_tree(space, np.random.default_rng(seed))
    assert_in_space(tree, space)
    depths = tree.node_depths
    for i, arity in enumerate(tree.arities):  # full: leaves exactly at D
        assert (arity == 0) == (depths[i] == space.init_depth)


@settings(max_examples=150, deadline=None)
@given(seed=seeds, index=space_ids, steps=st.integers(1, 30))
def test_mutation_chains_stay_inside_the_space(seed, index, steps):
    space = SPACES[index]
    rng = np.random.default_rng(seed)
    tree = random_tree(space, rng)
    for _ in range(steps):
        tree = mutate(tree, space, rng)
        assert_in_space(tree, space)


@settings(max_examples=150, deadline=None)
@given(seed=seeds, index=space_ids)
def test_crossover_children_stay_inside_the_space(seed, index):
    space = SPACES[index]
    rng = np.random.default_rng(seed)
    a = mutate(random_tree(space, rng), space, rng)
    b = mutate(mutate(random_tree(space, rng), space, rng), space, rng)
    a = a.with_coefficients(rng.normal(size=len(a)))
    child_a, child_b = crossover(a, b, space, rng)
    assert_in_space(child_a, space)
    assert_in_space(child_b, space)
    # Swapping subtrees (with their coefficients) conserves the nodes.
    assert Counter(child_a.nodes + child_b.nodes) == Counter(a.nodes + b.nodes)
    assert Counter(child_a.coefficients + child_b.coefficients) == Counter(
        a.coefficients + b.coefficients)


@settings(max_examples=100, deadline=None)
@given(seed=seeds)
def test_structural_mutations_do_what_they_say(seed):
    space = SearchSpace()
    rng = np.random.default_rng(seed)
    parent = random_tree_of_size(space, rng, int(rng.integers(2, 20)))
    inserted = insertion(parent, space, rng)
    added = Counter(inserted.nodes) - Counter(parent.nodes)
    assert not Counter(parent.nodes) - Counter(inserted.nodes)
    new_ops = [name for name in added.elements() if name in OPS]
    assert len(new_ops) == 1
    assert len(inserted) == len(parent) + OPS[new_ops[0]].arity
    deleted = deletion(parent, space, rng)
    assert len(deleted) < len(parent)
    assert not Counter(deleted.nodes) - Counter(parent.nodes)
    replaced = replacement(parent, space, rng)
    assert len(replaced) == len(parent) and replaced.arities == parent.arities
    assert sum(a != b for a, b in zip(replaced.nodes, parent.nodes)) == 1
    assert replaced.coefficients == parent.coefficients


def test_insertion_puts_the_old_subtree_under_the_new_op():
    space = SearchSpace()
    parent = Tree.parse('neg(mul(y,log(yhat)))')
    for seed in range(50):
        child = insertion(parent, space, np.random.default_rng(seed))
        # Some node of the child is a new op whose operands are the old
        # subtree at the same position plus random leaves.
        found = False
        for i in range(len(child)):
            if i >= len(parent):
                break
            operands = [child.subtree(c) for c in child.children(i)]
            if parent.subtree(i) in operands and all(
                    o == parent.subtree(i) or len(o) == 1 for o in operands):
                found = child.replace_subtree(i, parent.subtree(i)) == parent
            if found:
                break
        assert found, (seed, child)


def test_deletion_of_a_leaf_tree_is_impossible_and_mutate_copes():
    space = SearchSpace()
    rng = np.random.default_rng(0)
    assert deletion(Tree.leaf('y'), space, rng) is None
    only_add = SearchSpace(ops=('add', ), leaves=('y', ), init_depth=1,
                           max_nodes=3, max_depth=1)
    assert replacement(Tree.parse('add(y,y)'), only_add, rng) is None
    # Insertion (too deep) and replacement (no other op or leaf) always
    # fail here: the parent comes back; deletion works.
    outcomes = Counter()
    for _ in range(60):
        child, kind = mutate_with_info(Tree.parse('add(y,y)'), only_add, rng,
                                       p_copy=0.0, p_reinit=0.0)
        outcomes[str(child), kind] += 1
    assert set(outcomes) == {('add(y,y)', 'fallback'), ('y', 'deletion')}


def test_mutation_probabilities_follow_the_spec():
    space = SearchSpace()
    rng = np.random.default_rng(123)
    parent = Tree.parse('neg(mul(y,log(yhat)))')
    n = 6000
    kinds = Counter(mutate_with_info(parent, space, rng)[1] for _ in range(n))
    expected = {'copy': 0.1, 'reinit': 0.45, 'insertion': 0.15,
                'deletion': 0.15, 'replacement': 0.15}
    for kind, p in expected.items():
        assert abs(kinds[kind] / n - p) < 4 * (p * (1 - p) / n)**0.5, kinds
    assert kinds['fallback'] == 0
    assert Counter(mutate_with_info(parent, space, rng, p_copy=1.0)[1]
                   for _ in range(50)) == {'copy': 50}


def test_same_seed_same_trees():
    space = SearchSpace(ops=DEFAULT_OPS + OPTIONAL_OPS)

    def run(seed):
        rng = np.random.default_rng(seed)
        trees = [random_tree(space, rng) for _ in range(20)]
        for i in range(200):
            trees.append(mutate(trees[-1], space, rng))
            trees.extend(crossover(trees[i], trees[-1], space, rng))
        return [str(t) for t in trees]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert len(set(first)) > 100


def test_operators_refuse_nothing_but_respect_non_spatial_spaces():
    space = SearchSpace.from_config(dict(spatial=False))
    assert 'max_pool3' not in space.ops and 'mean_hw' in space.ops
    rng = np.random.default_rng(5)
    tree = random_tree(space, rng)
    for _ in range(300):
        tree = mutate(tree, space, rng)
        assert not {'max_pool3', 'min_pool3'} & tree.ops


def test_parent_outside_the_space_is_never_returned():
    small = SearchSpace(ops=('neg', ), leaves=('y', ), init_depth=1,
                        max_nodes=3, max_depth=2)
    big = Tree.parse('neg(neg(neg(neg(y))))')
    rng = np.random.default_rng(0)
    for _ in range(30):
        assert small.contains(mutate(big, small, rng))
        a, b = crossover(big, big, small, rng)
        assert small.contains(a) and small.contains(b)


def test_random_tree_of_size_hits_the_size():
    space = SearchSpace()
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 15, 31):
        tree = random_tree_of_size(space, rng, n)
        assert len(tree) == n and tree.depth <= space.max_depth
    with pytest.raises(ValueError, match='max_nodes'):
        random_tree_of_size(space, rng, 32)
    binary = SearchSpace(ops=('add', ), init_depth=1, max_nodes=8)
    with pytest.raises(ValueError, match='exactly 4 nodes'):
        random_tree_of_size(binary, rng, 4)


def extreme_leaves():
    """(2,3,4,4) fp32 leaves: logits +-1e4, exact zeros and ones, softmax of
    saturated logits (exact 0/1 probabilities) and ordinary values."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 4, 4, generator=generator)
    logits[0, :, 0] = torch.tensor([1e4, -1e4, 0.0])[:, None]
    logits[1, :, 1] = torch.tensor([-1e4, 1e4, -1e4])[:, None]
    probs = logits.softmax(dim=1)
    yhat = probs.clone()
    yhat[0, :, 2] = logits[0, :, 0]  # raw +-1e4 logits as predictions
    yhat[1, :, 2] = 0.0
    yhat[1, :, 3] = 1.0
    y = torch.zeros(2, 3, 4, 4)
    y[:, 0] = 1.0
    y[1, :, 0] = torch.tensor([1e4, -1e4, 1.0])[:, None]
    return {'yhat': yhat, 'y': y}


def test_ten_thousand_max_size_trees_evaluate_on_extreme_inputs():
    space = SearchSpace(ops=DEFAULT_OPS + OPTIONAL_OPS)
    rng = np.random.default_rng(2022)
    leaves = extreme_leaves()
    assert (leaves['yhat'] == 0).any() and (leaves['yhat'] == 1).any()
    results = Counter()
    for _ in range(10_000):
        tree = random_tree_of_size(space, rng)
        assert len(tree) == space.max_nodes
        value_ok, grad_ok = check_finite(tree, leaves)  # must not raise
        results[value_ok, grad_ok] += 1
    # The helper really distinguishes: most trees are finite, some are not.
    assert results[True, True] > 5000
    assert sum(results.values()) - results[True, True] > 0


def test_every_op_appears_in_generated_trees():
    space = SearchSpace(ops=DEFAULT_OPS + OPTIONAL_OPS)
    rng = np.random.default_rng(0)
    seen = Counter()
    for _ in range(300):
        seen.update(random_tree(space, rng).nodes)
    assert set(space.ops) | set(space.leaves) <= set(seen)
    assert all(OPS[name].arity for name in space.ops)
