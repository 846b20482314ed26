"""What a resumed search must share with the search it resumes.

The archive records the resolved config (proxy training config and
``search`` section), flattened to ``{dotted key: repr(value)}`` with its
hash. ``--resume`` with another config is refused, listing the changed
keys, except for what cannot change the results: the budget may grow, and
the executor and the number of screening workers may change (the same seed
gives the same archive whatever they are).

    >>> old = flatten({'search': {'seed': 0, 'budget': {'evaluations': 5}}})
    >>> new = flatten({'search': {'seed': 1, 'budget': {'evaluations': 9}}})
    >>> changes(old, new)
    ['search.seed: 0 -> 1']
"""
import hashlib
import json
from typing import Dict, List, Mapping

#: keys that may differ on resume, and how: 'grow' (numbers, not less).
MAY_CHANGE = {
    'search.budget.evaluations': 'grow',
    'search.budget.hours': 'grow',
    'search.executor': 'any',
    'search.rejection.workers': 'any',
}


def flatten(cfg: Mapping, prefix: str = '') -> Dict[str, str]:
    """``{dotted key: repr(leaf)}`` of nested dicts and lists."""
    out: Dict[str, str] = {}
    items = cfg.items() if isinstance(cfg, Mapping) else enumerate(cfg)
    for key, value in items:
        name = f'{prefix}{key}'
        if isinstance(value, Mapping) or (
                isinstance(value, (list, tuple)) and value and any(
                    isinstance(v, (Mapping, list, tuple)) for v in value)):
            out.update(flatten(value, name + '.'))
        else:
            out[name] = repr(value)
    return out


def digest(flat: Mapping[str, str]) -> str:
    """A short hash of a flattened config."""
    text = json.dumps(sorted(flat.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _allowed(key: str, old: str, new: str) -> bool:
    for prefix, how in MAY_CHANGE.items():
        if key == prefix or key.startswith(prefix + '.'):
            if how == 'any':
                return True
            try:
                return float(new) >= float(old)
            except ValueError:
                return False
    return False


def changes(old: Mapping[str, str], new: Mapping[str, str]) -> List[str]:
    """The keys that differ (``key: old -> new``), but those allowed."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, '<absent>'), new.get(key, '<absent>')
        if a != b and not _allowed(key, a, b):
            out.append(f'{key}: {a} -> {b}')
    return out
