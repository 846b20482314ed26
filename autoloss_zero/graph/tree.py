"""The loss tree: an immutable prefix-order value with a canonical string.

A tree is the tuple of its node names in prefix (pre-)order, DEAP style: a
node that names a registered op is followed by its ``arity`` operands, any
other node is a leaf (``yhat``, ``y``, ``1`` or an extra leaf of the branch).
Each node carries a scalar coefficient (default 1.0) multiplying its value, so
that CMA-ES can tune them after the search (GLO).

The canonical string, e.g. ``neg(mul(y,log(yhat)))``, is the tree's identity:
equality, hashing, the archive key, logs and configs all use it. A coefficient
``c != 1`` is written as a prefix ``repr(c)*`` of its node, e.g.
``neg(mul(y,0.5*log(yhat)))``; ``repr`` makes floats round-trip exactly.
"""
import math
from dataclasses import dataclass, field
from typing import FrozenSet, Iterable, Optional, Sequence, Tuple

from .ops import OPS
from .parser import parse_nodes


def _is_leaf_name(name: str) -> bool:
    return name == '1' or (isinstance(name, str) and name.isidentifier()
                           and name.isascii())


@dataclass(frozen=True, eq=False, repr=False)
class Tree:
    """A loss tree in prefix order.

    Args:
        nodes (Sequence[str]): Node names in prefix order.
        coefficients (Sequence[float], optional): One finite float per node,
            multiplying that node's value; empty means all 1.0.

    Raises:
        ValueError: If the nodes do not form exactly one complete tree, a
            node name is invalid, or the coefficients are not one finite
            float per node.

    Attributes:
        nodes (tuple[str, ...]): Node names in prefix order.
        coefficients (tuple[float, ...]): One coefficient per node.
        arities (tuple[int, ...]): Operand count per node (0 for leaves).
    """

    nodes: Tuple[str, ...]
    coefficients: Tuple[float, ...] = ()
    arities: Tuple[int, ...] = field(init=False)

    def __post_init__(self):
        if isinstance(self.nodes, str):
            raise TypeError(f'Tree(nodes) takes a sequence of node names; '
                            f'use Tree.parse({self.nodes!r}) for a string')
        nodes = tuple(self.nodes)
        if not nodes:
            raise ValueError('a tree needs at least one node')
        arities = []
        open_slots = 1
        for i, name in enumerate(nodes):
            if open_slots == 0:
                raise ValueError(
                    f'nodes {nodes}: the tree is complete after node {i - 1}; '
                    f'{len(nodes) - i} node(s) left over')
            op = OPS.get(name) if isinstance(name, str) else None
            if op is not None:
                arity = op.arity
            elif _is_leaf_name(name):
                arity = 0
            else:
                raise ValueError(f'node {i} {name!r} is neither a registered '
                                 f'op nor a leaf name (an identifier or "1")')
            arities.append(arity)
            open_slots += arity - 1
        if open_slots != 0:
            raise ValueError(f'nodes {nodes}: incomplete tree, {open_slots} '
                             f'operand(s) missing at the end')
        coefficients = tuple(self.coefficients)
        if not coefficients:
            coefficients = (1.0, ) * len(nodes)
        elif len(coefficients) != len(nodes):
            raise ValueError(f'{len(coefficients)} coefficients for '
                             f'{len(nodes)} nodes; need one per node')
        coefficients = tuple(float(c) for c in coefficients)
        for i, c in enumerate(coefficients):
            if not math.isfinite(c):
                raise ValueError(f'coefficient {c!r} of node {i} is not '
                                 f'finite')
        object.__setattr__(self, 'nodes', nodes)
        object.__setattr__(self, 'coefficients', coefficients)
        object.__setattr__(self, 'arities', tuple(arities))
        object.__setattr__(self, '_string', _canonical_string(
            nodes, self.arities, coefficients))

    # ------------------------------------------------------------------
    # Construction.
    # ------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> 'Tree':
        """Parse a canonical string; see :func:`parse_tree`."""
        return cls(*parse_nodes(text))

    @classmethod
    def leaf(cls, name: str, coefficient: float = 1.0) -> 'Tree':
        """A one-node tree made of leaf ``name``."""
        if name in OPS or not _is_leaf_name(name):
            raise ValueError(f'{name!r} is not a leaf name')
        return cls((name, ), (coefficient, ))

    def with_coefficients(self, coefficients: Iterable[float]) -> 'Tree':
        """The same tree with new per-node coefficients (one per node)."""
        return Tree(self.nodes, tuple(coefficients))

    # ------------------------------------------------------------------
    # Identity.
    # ------------------------------------------------------------------
    def __str__(self) -> str:
        return self._string

    def __repr__(self) -> str:
        return f'Tree({self._string!r})'

    def __eq__(self, other) -> bool:
        if not isinstance(other, Tree):
            return NotImplemented
        return self._string == other._string

    def __hash__(self) -> int:
        return hash(self._string)

    def __len__(self) -> int:
        return len(self.nodes)

    # ------------------------------------------------------------------
    # Structure.
    # ------------------------------------------------------------------
    @property
    def depth(self) -> int:
        """Depth of the deepest node; the root has depth 0."""
        return max(self.node_depths)

    @property
    def node_depths(self) -> Tuple[int, ...]:
        """Depth of every node, in prefix order (root 0)."""
        cached = self.__dict__.get('_depths')
        if cached is None:
            depths = []
            pending = [0]  # depths of the operand slots still to fill
            for arity in self.arities:
                d = pending.pop()
                depths.append(d)
                pending.extend([d + 1] * arity)
            cached = tuple(depths)
            object.__setattr__(self, '_depths', cached)
        return cached

    @property
    def leaves(self) -> FrozenSet[str]:
        """The set of leaf names the tree uses."""
        return frozenset(n for n, a in zip(self.nodes, self.arities) if a == 0)

    @property
    def ops(self) -> FrozenSet[str]:
        """The set of op names the tree uses."""
        return frozenset(n for n, a in zip(self.nodes, self.arities) if a > 0)

    def subtree_end(self, index: int) -> int:
        """End (exclusive) of the subtree rooted at node ``index``.

        ``tree.nodes[index:tree.subtree_end(index)]`` is that subtree.
        """
        if not 0 <= index < len(self.nodes):
            raise IndexError(f'node index {index} out of range for a tree '
                             f'of {len(self.nodes)} nodes')
        end = index
        open_slots = 1
        arities = self.arities
        while open_slots:
            open_slots += arities[end] - 1
            end += 1
        return end

    def children(self, index: int) -> Tuple[int, ...]:
        """Indices of the operands of node ``index`` (empty for a leaf)."""
        result = []
        child = index + 1
        for _ in range(self.arities[index]):
            result.append(child)
            child = self.subtree_end(child)
        return tuple(result)

    def subtree(self, index: int) -> 'Tree':
        """The subtree rooted at node ``index``, coefficients included."""
        end = self.subtree_end(index)
        return Tree(self.nodes[index:end], self.coefficients[index:end])

    def replace_subtree(self, index: int, other: 'Tree') -> 'Tree':
        """A new tree with the subtree at ``index`` replaced by ``other``."""
        end = self.subtree_end(index)
        return Tree(self.nodes[:index] + other.nodes + self.nodes[end:],
                    self.coefficients[:index] + other.coefficients +
                    self.coefficients[end:])

    @property
    def program(self) -> Tuple[Tuple[str, int, float], ...]:
        """(name, arity, coefficient) per node in *reverse* prefix order.

        The form the stack evaluators consume (operands are on the stack
        before their op; popping yields them first to last).
        """
        cached = self.__dict__.get('_program')
        if cached is None:
            cached = tuple(
                zip(self.nodes, self.arities, self.coefficients))[::-1]
            object.__setattr__(self, '_program', cached)
        return cached


def parse_tree(text: str) -> Tree:
    """Parse a tree string such as ``neg(mul(y,0.5*log(yhat)))``.

    The grammar is in :mod:`.parser`.

    Args:
        text (str): The tree in canonical (or whitespace-padded) form.

    Returns:
        Tree: The parsed tree; ``parse_tree(str(t)) == t`` for every tree.

    Raises:
        TreeSyntaxError: If the text is malformed; the message names the
            0-based position and the problem (unknown op, wrong arity,
            unbalanced parentheses, trailing text, ...).
    """
    return Tree.parse(text)


def format_coefficient(value: float) -> str:
    """The prefix written before a node of coefficient ``value`` ('' for 1)."""
    return '' if value == 1.0 else f'{value!r}*'


def _canonical_string(nodes: Sequence[str], arities: Sequence[int],
                      coefficients: Optional[Sequence[float]]) -> str:
    """Render prefix nodes as ``op(arg,...)`` with an explicit stack."""
    stack = []
    for name, arity, coef in zip(reversed(nodes), reversed(arities),
                                 reversed(coefficients)):
        if arity:
            args = [stack.pop() for _ in range(arity)]
            text = f'{name}({",".join(args)})'
        else:
            text = name
        if coef != 1.0:
            text = f'{coef!r}*{text}'
        stack.append(text)
    assert len(stack) == 1, 'validated in __post_init__'
    return stack[0]
