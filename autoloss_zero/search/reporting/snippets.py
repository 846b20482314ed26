"""Discovered losses as importable config snippets (``best/top*.py``)."""
import json
from typing import Callable, Dict, Optional, Tuple

from ...graph import Tree, formula
from ..execution.slots import searched_slots
from ..loop.settings import SearchSettings

#: (branch, tree string) -> (exported tree string, loss_weight factor,
#: note): the tree as it should be retrained (dead terms dropped, O(1)).
Exporter = Callable[[str, str], Tuple[str, float, str]]


def loss_snippet(row: Dict, settings: SearchSettings, rank: int,
                 baseline: float = None, cfg=None, verdict=None,
                 exporter: Optional[Exporter] = None,
                 title: Optional[str] = None, runs: str = 'one run') -> str:
    """A config snippet holding ``row``'s trees for every branch slot.

    ``searched_slots`` maps config paths to loss configs;
    ``tools/train.py CONFIG --loss SNIPPET`` puts them into any config with
    the same slots (keeping that config's loss weights). With ``exporter``
    the slots hold the exported trees, the export's scale as the root's
    coefficient (so that it survives any ``loss_weight``), the transform in
    a comment; ``searched_losses`` keeps the searched trees.
    ``verdict`` (a ``PairedComparison``) goes into the header; ``title``
    replaces its first line, ``runs`` says what the proxy score is.
    """
    trees = json.loads(row['trees'])
    metric = settings.target.metric
    lines = [
        title or f'# AutoLoss-Zero loss, rank {rank} of the search (candidate '
        f'#{row["id"]}' + (', a given seed tree' if row.get('origin') ==
                           'seed' else '') + ').',
        f'# proxy {metric} ({runs}): {row["score"]:.4g}'
        + (f' (baseline loss: {baseline:.4g})' if baseline is not None
           else ''),
    ]
    if verdict is not None:
        lines.append(f'# verdict: {verdict.line(metric)}')
    for branch, tree in trees.items():
        lines.append(f'# {branch}: {formula(Tree.parse(tree))}')
    placed = dict(trees)
    for branch, tree in trees.items():
        if exporter is not None:
            placed[branch], note = exported_tree(exporter, branch, tree)
            lines.append(f'# {branch} exported: {note}')
    slots = searched_slots(placed, settings, cfg)
    lines += ['# Use: python tools/train.py CONFIG --loss THIS_FILE',
              f'searched_losses = {trees!r}',
              f'searched_slots = {_pretty(slots)}']
    return '\n'.join(lines) + '\n'


def exported_tree(exporter: Exporter, branch: str, tree: str
                  ) -> Tuple[str, str]:
    """(the tree a snippet's slot holds for ``branch``'s searched ``tree``,
    the export's note): dead terms dropped, the scale on the root."""
    exported, scale, note = exporter(branch, tree)
    return str(_scaled(Tree.parse(exported), scale)), note


def _scaled(tree: Tree, scale: float) -> Tree:
    """``tree`` times ``scale`` (its root's coefficient multiplied)."""
    if scale == 1.0:
        return tree
    coefficients = list(tree.coefficients)
    coefficients[0] *= scale
    return tree.with_coefficients(coefficients)


def _pretty(value, indent=0) -> str:
    """``repr`` of nested dicts, one key per line."""
    pad = ' ' * (indent + 4)
    if isinstance(value, dict):
        items = [f'{pad}{k!r}: {_pretty(v, indent + 4)}'
                 for k, v in value.items()]
        return '{\n' + ',\n'.join(items) + '}'
    return repr(value)
