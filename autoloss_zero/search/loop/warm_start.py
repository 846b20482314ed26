"""A warm start from an earlier search: its best trees as seed trees.

``autoloss-search CONFIG --init-from WORK_DIR`` puts the top-k trees of the
search archived in ``WORK_DIR`` into ``search.seed_trees``: the first
individuals of the new initial population, screened like any candidate and
marked ``origin='seed'`` in the archive. The paper's from-scratch search
stays the default.
"""
import json
from pathlib import Path
from typing import Dict, List

from ..archive import Archive


def seed_trees_from(work_dir, k: int = 5,
                    mode: str = 'max') -> Dict[str, List[str]]:
    """{branch: [tree, ...]} of the ``k`` best trained candidates of the
    search in ``work_dir`` (best first).

    Raises:
        FileNotFoundError: ``work_dir`` holds no search archive.
    """
    path = Path(work_dir) / 'search.sqlite'
    if not path.is_file():
        raise FileNotFoundError(f'--init-from {work_dir}: no search archive '
                                f'{path}; give the work dir of a search')
    archive = Archive(path, read_only=True)
    try:
        rows = archive.best(k, mode)
    finally:
        archive.close()
    trees: Dict[str, List[str]] = {}
    for row in rows:
        for branch, tree in json.loads(row['trees']).items():
            trees.setdefault(branch, []).append(tree)
    return trees


def add_seed_trees(search_cfg: Dict, trees: Dict[str, List[str]]) -> None:
    """Append ``trees`` to the ``seed_trees`` of a ``search`` config section
    (in place), after the ones it gives itself."""
    given = dict(search_cfg.get('seed_trees') or {})
    for branch, extra in trees.items():
        own = given.get(branch, [])
        own = [own] if isinstance(own, str) else list(own)
        given[branch] = own + [t for t in extra if t not in own]
    search_cfg['seed_trees'] = given
