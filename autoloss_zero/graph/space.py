"""The search space of one branch: its ops, leaves and size limits."""
from dataclasses import dataclass, fields
from typing import Any, Dict, Optional, Sequence, Tuple

from .ops import DEFAULT_LEAVES, DEFAULT_OPS, OPS
from .tree import Tree, _is_leaf_name


@dataclass(frozen=True)
class SearchSpace:
    """Ops, leaves and size limits of the trees of one branch.

    Args:
        ops (tuple[str, ...]): Registered op names (default: the 14 ops H).
        leaves (tuple[str, ...]): Leaf names (default ``yhat``, ``y``, ``1``;
            a branch may declare extra leaves).
        spatial (bool): False for (M, C, 1, 1) canvases; ops that need
            spatial extent (``max_pool3``, ``min_pool3``) are then refused,
            except that the default ``ops`` (left out, or passed as the
            :data:`DEFAULT_OPS` object itself) drop them silently.
        init_depth (int): Depth D of the full random trees (paper: 3).
        max_nodes (int): Most nodes a tree may have (ours: 31).
        max_depth (int): Largest depth a tree may have (root depth 0).

    Raises:
        ValueError: On an unknown op (the valid ones are listed), a spatial
            op with ``spatial=False``, a bad leaf name, or limits that a
            full tree of ``init_depth`` could exceed.
    """

    ops: Tuple[str, ...] = DEFAULT_OPS
    leaves: Tuple[str, ...] = DEFAULT_LEAVES
    spatial: bool = True
    init_depth: int = 3
    max_nodes: int = 31
    max_depth: int = 8

    def __post_init__(self):
        if self.ops is DEFAULT_OPS and not self.spatial:
            object.__setattr__(self, 'ops', tuple(
                n for n in DEFAULT_OPS if not OPS[n].needs_spatial))
        for name in ('ops', 'leaves'):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ValueError(f'{name} must be a sequence of names, got '
                                 f'the string {value!r}')
            object.__setattr__(self, name, tuple(value))
        if not self.ops:
            raise ValueError('ops is empty; give at least one op')
        if not self.leaves:
            raise ValueError('leaves is empty; give at least one leaf')
        for name in self.ops:
            if name not in OPS:
                raise ValueError(f'unknown op {name!r} in the search space; '
                                 f'valid ops: {", ".join(sorted(OPS))}')
            if OPS[name].needs_spatial and not self.spatial:
                raise ValueError(
                    f'op {name!r} needs spatial extent (H, W > 1) but the '
                    f'space has spatial=False (an (M,C,1,1) canvas); remove '
                    f'it from ops')
        for name in self.leaves:
            if name in OPS or not _is_leaf_name(name):
                raise ValueError(f'leaf {name!r} must be "1" or an '
                                 f'identifier that is not an op name')
        if len(set(self.ops)) != len(self.ops):
            raise ValueError(f'ops has duplicates: {self.ops}')
        if len(set(self.leaves)) != len(self.leaves):
            raise ValueError(f'leaves has duplicates: {self.leaves}')
        for name in ('init_depth', 'max_nodes', 'max_depth'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f'{name} must be an int, got {value!r}')
        if self.init_depth < 0 or self.max_nodes < 1:
            raise ValueError(f'need init_depth >= 0 and max_nodes >= 1, got '
                             f'{self.init_depth} and {self.max_nodes}')
        if self.max_depth < self.init_depth:
            raise ValueError(f'max_depth={self.max_depth} is smaller than '
                             f'init_depth={self.init_depth}')
        largest = full_tree_size(self.max_arity, self.init_depth)
        if largest > self.max_nodes:
            raise ValueError(
                f'a full tree of init_depth={self.init_depth} can have '
                f'{largest} nodes > max_nodes={self.max_nodes}; lower '
                f'init_depth or raise max_nodes')
        by_arity: Dict[int, Tuple[str, ...]] = {}
        for name in self.ops:
            arity = OPS[name].arity
            by_arity[arity] = by_arity.get(arity, ()) + (name, )
        object.__setattr__(self, '_ops_by_arity', by_arity)
        object.__setattr__(self, '_names', frozenset(self.ops) |
                           frozenset(self.leaves))

    @classmethod
    def from_config(cls, config: Optional[Dict[str, Any]]) -> 'SearchSpace':
        """Build from a config dict (None or {} gives the defaults).

        Lists become tuples. With ``spatial=False`` and no ``ops`` given,
        the default ops without the spatial ones are used; spatial ops
        listed explicitly are refused.

        Raises:
            ValueError: On an unknown key (the valid keys are listed) or an
                invalid value.
        """
        if config is None:
            return cls()
        if isinstance(config, SearchSpace):
            return config
        if not isinstance(config, dict):
            config = dict(config)
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ValueError(f'unknown search space key(s) {unknown}; valid '
                             f'keys: {valid}')
        kwargs = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in config.items()}
        return cls(**kwargs)

    @property
    def max_arity(self) -> int:
        """Largest arity among the ops."""
        return max(OPS[name].arity for name in self.ops)

    def ops_of_arity(self, arity: int) -> Tuple[str, ...]:
        """The space's ops with the given arity (possibly empty)."""
        return self._ops_by_arity.get(arity, ())

    def problem(self, tree: Tree) -> Optional[str]:
        """Why ``tree`` is outside the space, or None if it is inside."""
        names = self._names
        for i, (name, arity) in enumerate(zip(tree.nodes, tree.arities)):
            if name not in names:
                if arity:
                    return (f'op {name!r} (node {i}) is not in the search '
                            f'space ops {self.ops}')
                return (f'leaf {name!r} (node {i}) is not in the search '
                        f'space leaves {self.leaves}')
        if len(tree) > self.max_nodes:
            return (f'tree has {len(tree)} nodes > max_nodes='
                    f'{self.max_nodes}')
        if tree.depth > self.max_depth:
            return (f'tree has depth {tree.depth} > max_depth='
                    f'{self.max_depth}')
        return None

    def contains(self, tree: Tree) -> bool:
        """Whether ``tree`` uses only this space's ops/leaves within limits."""
        return self.problem(tree) is None

    def validate(self, tree: Tree) -> Tree:
        """Return ``tree`` if it is inside the space.

        Raises:
            ValueError: Naming the op or leaf outside the space, or the size
                limit exceeded.
        """
        problem = self.problem(tree)
        if problem is not None:
            raise ValueError(f'{tree}: {problem}')
        return tree


def full_tree_size(arity: int, depth: int) -> int:
    """Nodes of a full tree of the given branching ``arity`` and ``depth``."""
    if arity == 1:
        return depth + 1
    return (arity**(depth + 1) - 1) // (arity - 1)


def spatial_of_shape(shape: Sequence[int]) -> bool:
    """Whether a canvas (N, C, H, W) has spatial extent (H or W > 1)."""
    return len(shape) == 4 and (shape[2] > 1 or shape[3] > 1)
