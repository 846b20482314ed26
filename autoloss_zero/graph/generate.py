"""Search operators on trees: random init, mutation, crossover.

All randomness comes from the ``numpy.random.Generator`` passed in, never
from the global RNGs: the same seed gives the same sequence of trees. Every
result lies inside the search space (its ops, leaves, ``max_nodes`` and
``max_depth``): an operator that produces an oversized tree is retried a
bounded number of times, then the parent (or, if the parent itself is
outside the space, a fresh random tree) is returned.
"""
from typing import Optional, Tuple

import numpy as np

from .ops import OPS
from .space import SearchSpace, full_tree_size
from .tree import Tree

#: Attempts of one operator before falling back to the parent.
MAX_TRIES = 20
#: Names of the structural mutations, drawn uniformly (paper).
MUTATIONS = ('insertion', 'deletion', 'replacement')


def _choice(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def _full_tree(space: SearchSpace, rng: np.random.Generator,
               depth: int) -> Tree:
    nodes = []
    pending = [0]  # depths of the operand slots still to fill
    ops, leaves = space.ops, space.leaves
    while pending:
        d = pending.pop()
        if d >= depth:
            nodes.append(_choice(rng, leaves))
        else:
            name = _choice(rng, ops)
            nodes.append(name)
            pending.extend([d + 1] * OPS[name].arity)
    return Tree(tuple(nodes))


def random_tree(space: SearchSpace,
                rng: np.random.Generator,
                depth: Optional[int] = None) -> Tree:
    """A full random tree (paper): ops from H above depth D, leaves at D.

    Internal nodes are drawn uniformly from ``space.ops``; the nodes at depth
    D are leaves drawn uniformly from ``space.leaves`` with replacement.

    Args:
        space (SearchSpace): The search space.
        rng (numpy.random.Generator): Source of randomness.
        depth (int, optional): D; defaults to ``space.init_depth``.

    Returns:
        Tree: A tree of depth D inside the space.

    Raises:
        ValueError: If D exceeds ``max_depth``, or no tree of depth D within
            ``max_nodes`` was drawn in :data:`MAX_TRIES` attempts.
    """
    depth = space.init_depth if depth is None else int(depth)
    if not 0 <= depth <= space.max_depth:
        raise ValueError(f'depth={depth} must lie in [0, max_depth='
                         f'{space.max_depth}]')
    for _ in range(MAX_TRIES):
        tree = _full_tree(space, rng, depth)
        if len(tree) <= space.max_nodes:
            return tree
    raise ValueError(f'no full tree of depth {depth} with at most '
                     f'max_nodes={space.max_nodes} nodes in {MAX_TRIES} '
                     f'draws; lower the depth or raise max_nodes')


def random_tree_of_size(space: SearchSpace, rng: np.random.Generator,
                        n_nodes: Optional[int] = None) -> Tree:
    """A random tree of exactly ``n_nodes`` nodes within ``max_depth``.

    Not the paper's initialisation (see :func:`random_tree`): a helper for
    tests and benchmarks of the largest trees a search can meet. Open slots
    are filled in prefix order; each becomes a leaf or an op (uniform among
    the ops that keep ``n_nodes`` reachable within ``max_depth``), with
    probability 1/2 where both are possible.

    Args:
        space (SearchSpace): The search space.
        rng (numpy.random.Generator): Source of randomness.
        n_nodes (int, optional): Size; defaults to ``space.max_nodes``.

    Raises:
        ValueError: If no tree of that size exists in the space (e.g. an
            even size with binary ops only).
    """
    n_nodes = space.max_nodes if n_nodes is None else int(n_nodes)
    if not 1 <= n_nodes <= space.max_nodes:
        raise ValueError(f'n_nodes={n_nodes} must lie in [1, max_nodes='
                         f'{space.max_nodes}]')
    arity = {name: OPS[name].arity for name in space.ops}
    top = space.max_arity
    # cap[d]: most nodes beyond its own one that a slot at depth d can hold.
    cap = [full_tree_size(top, space.max_depth - d) - 1
           for d in range(space.max_depth + 1)]
    nodes = []
    pending = [0]
    while pending:
        depth = pending.pop()
        # Nodes still to place beyond one per open slot.
        surplus = n_nodes - len(nodes) - len(pending) - 1
        rest = sum(cap[d] for d in pending)
        fits = [] if depth >= space.max_depth else [
            n for n in space.ops
            if arity[n] <= surplus <= rest + arity[n] * (cap[depth + 1] + 1)]
        leaf_ok = surplus <= rest
        if fits and (not leaf_ok or rng.random() < 0.5):
            name = _choice(rng, fits)
            nodes.append(name)
            pending.extend([depth + 1] * arity[name])
        elif leaf_ok:
            nodes.append(_choice(rng, space.leaves))
        else:
            raise ValueError(f'no tree of exactly {n_nodes} nodes within '
                             f'max_depth={space.max_depth} with ops '
                             f'{space.ops}')
    return Tree(tuple(nodes))


def insertion(tree: Tree, space: SearchSpace,
              rng: np.random.Generator) -> Optional[Tree]:
    """A random op of the space inserted above a random node.

    The node's subtree becomes one operand (at a random position); the
    other operands of a binary (or wider) op are random leaves.
    """
    index = int(rng.integers(len(tree)))
    name = _choice(rng, space.ops)
    arity = OPS[name].arity
    below = tree.subtree(index)
    slot = int(rng.integers(arity))
    nodes, coefficients = [name], [1.0]
    for k in range(arity):
        if k == slot:
            nodes.extend(below.nodes)
            coefficients.extend(below.coefficients)
        else:
            nodes.append(_choice(rng, space.leaves))
            coefficients.append(1.0)
    return tree.replace_subtree(index, Tree(tuple(nodes), tuple(coefficients)))


def deletion(tree: Tree, space: SearchSpace,
             rng: np.random.Generator) -> Optional[Tree]:
    """A random op node replaced by one of its operands (None for a leaf)."""
    op_nodes = [i for i, arity in enumerate(tree.arities) if arity]
    if not op_nodes:
        return None
    index = _choice(rng, op_nodes)
    child = _choice(rng, tree.children(index))
    return tree.replace_subtree(index, tree.subtree(child))


def replacement(tree: Tree, space: SearchSpace,
                rng: np.random.Generator) -> Optional[Tree]:
    """A random node's op swapped for another of the same arity, a leaf for
    another leaf (None when the space offers no alternative)."""
    index = int(rng.integers(len(tree)))
    name, arity = tree.nodes[index], tree.arities[index]
    pool = space.ops_of_arity(arity) if arity else space.leaves
    alternatives = [n for n in pool if n != name]
    if not alternatives:
        return None
    nodes = list(tree.nodes)
    nodes[index] = _choice(rng, alternatives)
    return Tree(tuple(nodes), tree.coefficients)


_MUTATION_FNS = {'insertion': insertion, 'deletion': deletion,
                 'replacement': replacement}


def mutate_with_info(tree: Tree,
                     space: SearchSpace,
                     rng: np.random.Generator,
                     p_copy: float = 0.1,
                     p_reinit: float = 0.5) -> Tuple[Tree, str]:
    """:func:`mutate`, also returning what was done.

    Returns:
        tuple[Tree, str]: The child and one of ``copy``, ``reinit``,
        ``insertion``, ``deletion``, ``replacement`` or ``fallback`` (the
        drawn operator failed :data:`MAX_TRIES` times; the child is the
        parent, or a fresh random tree if the parent is outside the space).
    """
    if not (0.0 <= p_copy <= 1.0 and 0.0 <= p_reinit <= 1.0):
        raise ValueError(f'p_copy={p_copy} and p_reinit={p_reinit} must lie '
                         f'in [0, 1]')
    if rng.random() < p_copy:
        if space.contains(tree):
            return tree, 'copy'
        return random_tree(space, rng), 'fallback'
    if rng.random() < p_reinit:
        return random_tree(space, rng), 'reinit'
    kind = _choice(rng, MUTATIONS)
    fn = _MUTATION_FNS[kind]
    for _ in range(MAX_TRIES):
        child = fn(tree, space, rng)
        if child is not None and space.contains(child):
            return child, kind
    if space.contains(tree):
        return tree, 'fallback'
    return random_tree(space, rng), 'fallback'


def mutate(tree: Tree,
           space: SearchSpace,
           rng: np.random.Generator,
           p_copy: float = 0.1,
           p_reinit: float = 0.5) -> Tree:
    """Mutation of the paper.

    With probability ``p_copy`` the parent is copied unchanged; otherwise
    with probability ``p_reinit`` a fresh random tree is drawn; otherwise one
    of insertion, deletion and replacement, chosen uniformly, is applied.
    The result always lies inside ``space``.

    Args:
        tree (Tree): The parent.
        space (SearchSpace): The search space.
        rng (numpy.random.Generator): Source of randomness.
        p_copy (float): Probability of copying the parent (paper: 0.1).
        p_reinit (float): Probability of a fresh tree after no copy
            (paper: 0.5).

    Returns:
        Tree: The child.
    """
    return mutate_with_info(tree, space, rng, p_copy, p_reinit)[0]


def crossover(a: Tree, b: Tree, space: SearchSpace,
              rng: np.random.Generator) -> Tuple[Tree, Tree]:
    """Subtree crossover (GLO): swap random subtrees of two parents.

    The subtrees keep their coefficients. Both children lie inside
    ``space``; after :data:`MAX_TRIES` oversized draws the parents are
    returned (a parent outside the space is replaced by a random tree).

    Args:
        a (Tree): First parent.
        b (Tree): Second parent.
        space (SearchSpace): The search space.
        rng (numpy.random.Generator): Source of randomness.

    Returns:
        tuple[Tree, Tree]: The two children.
    """
    for _ in range(MAX_TRIES):
        i = int(rng.integers(len(a)))
        j = int(rng.integers(len(b)))
        child_a = a.replace_subtree(i, b.subtree(j))
        child_b = b.replace_subtree(j, a.subtree(i))
        if space.contains(child_a) and space.contains(child_b):
            return child_a, child_b
    return (a if space.contains(a) else random_tree(space, rng),
            b if space.contains(b) else random_tree(space, rng))
