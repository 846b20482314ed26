"""Put a discovered loss into any config with the same loss slots.

A search writes its best losses as config snippets (``best/top1.py``, see
:func:`~autoloss_zero.search.report.loss_snippet`) whose ``searched_slots``
maps config paths to searched-loss configs::

    searched_slots = {
        'model.decode_head.loss_decode': {
            'type': 'SearchedSegLoss', 'tree': '...', 'branch': 'seg',
            'loss_weight': 1.0},
        'model.auxiliary_head.loss_decode': {...}}

:func:`apply_searched_loss` replaces each of those slots of a target config
(a full-scale retraining, or another data set / model for transfer) entirely,
so that keys of the old loss (``use_sigmoid``, ``avg_non_ignore`` of a
``CrossEntropyLoss``) do not leak into the searched-loss module, while the
target keeps its own ``loss_weight`` at every slot.
"""
import copy
import inspect
import os.path as osp
from typing import Dict, Union

from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS

from .settings import resolve_path

#: Keys a slot takes over from the target config's own loss at that path.
KEPT_KEYS = ('loss_weight', )


def load_searched_slots(snippet_path: str) -> Dict[str, Dict]:
    """``searched_slots`` of a ``best/*.py`` snippet.

    Raises:
        FileNotFoundError: ``snippet_path`` does not exist.
        KeyError: the file defines no ``searched_slots`` dict.
    """
    if not osp.isfile(snippet_path):
        raise FileNotFoundError(
            f'searched-loss snippet {snippet_path!r} not found; a search '
            f'writes them to work_dirs/<search config>/best/top<k>.py '
            f'(python tools/search.py CONFIG), CMA-ES tuning to '
            f'best/tuned.py')
    snippet = Config.fromfile(snippet_path)
    slots = snippet.get('searched_slots')
    if not isinstance(slots, dict) or not slots:
        raise KeyError(f'{snippet_path!r} defines no `searched_slots` dict '
                       f'({{config path: loss config}}); is it a best/*.py '
                       f'snippet of a search?')
    return {path: dict(slot) for path, slot in slots.items()}


def _accepts(loss_type: str, key: str) -> bool:
    cls = MODELS.get(loss_type)
    return cls is not None and key in inspect.signature(cls).parameters


def apply_searched_loss(cfg: Config,
                        snippet: Union[str, Dict[str, Dict]]) -> Config:
    """A copy of ``cfg`` with every slot of ``snippet`` replaced.

    Args:
        cfg: the target config (not modified).
        snippet: path of a ``best/*.py`` snippet, or its ``searched_slots``.

    Each slot dict is replaced entirely by the snippet's loss config; the
    target's ``loss_weight`` at that path wins over the snippet's (which
    is the search config's), and ``use_sigmoid`` is kept where the
    searched-loss module accepts it (mmdet heads read it from the config).

    Returns:
        The new config.

    Raises:
        FileNotFoundError: the snippet file does not exist.
        KeyError: a slot path of the snippet does not exist in ``cfg``.
    """
    slots = (load_searched_slots(snippet) if isinstance(snippet, str) else
             {p: dict(s) for p, s in snippet.items()})
    source = snippet if isinstance(snippet, str) else 'the searched loss'
    cfg = copy.deepcopy(cfg)
    for path, slot in slots.items():
        try:
            old = resolve_path(cfg, path)
        except KeyError as exc:
            raise KeyError(
                f'{source} defines the loss slot {path!r}, which the target '
                f'config does not have ({exc.args[0]}); the target needs the '
                f'same loss slots as the search config') from None
        new = dict(slot)
        if isinstance(old, dict):
            for key in KEPT_KEYS:
                if key in old:
                    new[key] = old[key]
            if 'use_sigmoid' in old and _accepts(new['type'], 'use_sigmoid'):
                new['use_sigmoid'] = old['use_sigmoid']
        parent_path, _, key = path.rpartition('.')
        parent = resolve_path(cfg, parent_path) if parent_path else cfg
        parent[key] = ConfigDict(new)
    return cfg
