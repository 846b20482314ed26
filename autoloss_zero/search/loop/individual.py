"""An individual: one loss tree per branch, identified by a canonical key."""
import json
from typing import Dict, Iterator, Mapping

from ...graph import Tree


class Individual(Mapping):
    """Immutable mapping branch name -> :class:`Tree`.

    Its identity is :attr:`key`, e.g. ``'seg=neg(mul(y,log(yhat)))'``;
    several branches are joined by ``;`` in branch order.
    """

    __slots__ = ('_trees', 'key')

    def __init__(self, trees: Mapping[str, Tree]):
        self._trees = {b: t if isinstance(t, Tree) else Tree.parse(t)
                       for b, t in trees.items()}
        self.key = ';'.join(f'{b}={t}' for b, t in self._trees.items())

    def __getitem__(self, branch: str) -> Tree:
        return self._trees[branch]

    def __iter__(self) -> Iterator[str]:
        return iter(self._trees)

    def __len__(self) -> int:
        return len(self._trees)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other) -> bool:
        return isinstance(other, Individual) and other.key == self.key

    def __repr__(self) -> str:
        return f'Individual({self.key})'

    def replace(self, branch: str, tree: Tree) -> 'Individual':
        """A copy with ``branch`` set to ``tree``."""
        return Individual({**self._trees, branch: tree})

    def to_json(self) -> str:
        """JSON object of canonical tree strings (the archive's form)."""
        return json.dumps({b: str(t) for b, t in self._trees.items()})

    @classmethod
    def from_json(cls, text: str) -> 'Individual':
        """Inverse of :meth:`to_json`."""
        return cls(json.loads(text))

    def as_strings(self) -> Dict[str, str]:
        """{branch: canonical tree string}."""
        return {b: str(t) for b, t in self._trees.items()}
