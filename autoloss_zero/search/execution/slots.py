"""Put searched losses into config slots: the one implementation.

A *slot* is a config path naming a loss config, e.g.
``model.decode_head.loss_decode``. The proxy trainings
(:func:`inject_losses`), the ``best/top*.py`` snippets
(:func:`searched_slots`) and ``tools/train.py --loss``
(:func:`apply_searched_loss`) all place a searched loss the same way
(:func:`slot_config`): the slot is replaced entirely, so that keys of the
old loss (``avg_non_ignore`` of a ``CrossEntropyLoss``) do not leak into the
searched-loss module, while the slot keeps its own ``loss_weight`` and, where
the new type accepts it, ``use_sigmoid`` (mmdet heads read it from the
config). A slot holding a list of losses (mmseg's ``loss_decode=[CE,
Dice]``) gets the searched loss in place of the list, or beside the losses
a branch keeps (``search.branches.<b>.keep``). A snippet's
``searched_slots`` maps config paths to what was placed there::

    searched_slots = {
        'model.decode_head.loss_decode': {
            'type': 'SearchedSegLoss', 'tree': '...', 'branch': 'seg',
            'loss_weight': 1.0},
        'model.auxiliary_head.loss_decode': {...}}
"""
import copy
import inspect
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Union

from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS

from ..loop.settings import SearchSettings, resolve_path


def _accepts(loss_type: str, key: str) -> bool:
    cls = MODELS.get(loss_type)
    return cls is not None and key in inspect.signature(cls).parameters


def slot_config(loss: Mapping, old) -> Dict:
    """The loss config ``loss`` made to replace ``old`` at its slot.

    ``old``'s ``loss_weight`` wins over ``loss``'s (default 1), and
    ``old``'s ``use_sigmoid`` is kept where ``loss``'s type accepts it.
    """
    new = dict(loss)
    if isinstance(old, Mapping):
        new['loss_weight'] = old.get('loss_weight',
                                     new.get('loss_weight', 1.0))
        if 'use_sigmoid' in old and _accepts(new['type'], 'use_sigmoid'):
            new['use_sigmoid'] = old['use_sigmoid']
    return new


Keep = Union[bool, Sequence[str]]
Placed = Union[Dict, List[Dict]]


def slot_value(loss: Mapping, old, keep: Keep = ()) -> Placed:
    """What replaces ``old`` at its slot: ``loss`` as :func:`slot_config`
    places it, or, where ``old`` is a list of losses, a list of ``loss``
    (taking the first replaced entry's keys) and the entries of ``old``
    whose type ``keep`` names (``True``: all of them)."""
    if not isinstance(old, (list, tuple)):
        return slot_config(loss, old)

    def kept(entry):
        return keep is True or entry.get('type') in (keep or ())

    replaced = [entry for entry in old if not kept(entry)]
    return [slot_config(loss, replaced[0] if replaced else {})] + [
        dict(entry) for entry in old if kept(entry)]


def _slot(cfg: Config, path: str, source: str):
    """The config value at slot ``path`` (KeyError naming ``source``)."""
    try:
        return resolve_path(cfg, path)
    except KeyError as exc:
        raise KeyError(
            f'{source} defines the loss slot {path!r}, which the target '
            f'config does not have ({exc.args[0]}); the target needs the '
            f'same loss slots as the search config') from None


def _place(cfg: Config, path: str, value: Placed) -> None:
    parent_path, _, key = path.rpartition('.')
    parent = resolve_path(cfg, parent_path) if parent_path else cfg
    parent[key] = ([ConfigDict(v) for v in value] if isinstance(
        value, list) else ConfigDict(value))


def branch_slots(settings: SearchSettings,
                 trees: Optional[Mapping[str, str]] = None) -> Dict[str, Dict]:
    """{config path: searched-loss config} of every branch slot, holding
    ``trees`` ({branch: tree string}; default the constant ``1``)."""
    return {path: dict(type=branch.type,
                       tree=str(trees[branch.name]) if trees else '1',
                       branch=branch.name, **branch.options)
            for branch in settings.branches for path in branch.paths}


def _keeps(settings: SearchSettings) -> Dict[str, Keep]:
    return {path: branch.keep for branch in settings.branches
            for path in branch.paths}


def searched_slots(trees: Mapping[str, str], settings: SearchSettings,
                   cfg=None) -> Dict[str, Placed]:
    """The ``searched_slots`` of a snippet; with ``cfg`` (the search
    config) what :func:`slot_value` places at each slot there."""
    slots = branch_slots(settings, trees)
    if cfg is None:
        return slots
    keeps = _keeps(settings)
    return {p: slot_value(s, resolve_path(cfg, p), keeps[p])
            for p, s in slots.items()}


def apply_slots(cfg: Config, slots: Mapping[str, Placed],
                source: str = 'the searched loss',
                keeps: Optional[Mapping[str, Keep]] = None) -> Config:
    """A copy of ``cfg`` with each slot replaced: a loss config as
    :func:`slot_value` places it (``keeps``: what each slot keeps of a
    list), a list as it is.

    Raises:
        KeyError: a slot path does not exist in ``cfg`` (naming ``source``).
    """
    cfg = copy.deepcopy(cfg)
    for path, slot in slots.items():
        old = _slot(cfg, path, source)
        value = ([dict(v) for v in slot] if isinstance(slot, (list, tuple))
                 else slot_value(slot, old, (keeps or {}).get(path, ())))
        _place(cfg, path, value)
    return cfg


def inject_losses(cfg: Config, settings: SearchSettings,
                  individual=None) -> Config:
    """A copy of ``cfg`` whose branch slots hold searched-loss modules
    (``individual``'s trees, default the constant ``1``)."""
    trees = individual.as_strings() if individual is not None else None
    return apply_slots(cfg, branch_slots(settings, trees),
                       'the search config', _keeps(settings))


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


def apply_searched_loss(cfg: Config,
                        snippet: Union[str, Mapping[str, Mapping]]) -> Config:
    """A copy of ``cfg`` with every slot of ``snippet`` replaced.

    Args:
        cfg: the target config (not modified): a full-scale retraining, or
            another data set / model for transfer.
        snippet: path of a ``best/*.py`` snippet, or its ``searched_slots``.

    Raises:
        FileNotFoundError: the snippet file does not exist.
        KeyError: a slot path of the snippet does not exist in ``cfg``.
    """
    if isinstance(snippet, str):
        return apply_slots(cfg, load_searched_slots(snippet), snippet)
    return apply_slots(cfg, snippet)
