"""A screening capture saved to a file and screened elsewhere.

A :class:`~.protocol.LossRejection` holds all the screening needs: the
captured canvases of each branch, the searched-loss module and probe of each
call, the settings, etas and metric. :func:`save_capture` writes them with
``torch.save`` as plain dicts, lists, numbers, strings and tensors (no
pickled class), so that :func:`load_capture` reads them back with
``torch.load(weights_only=True)`` and rebuilds the protocol on any device,
without the model, the data or mmcv, mmseg and mmdet: a capture made from a
demo config on this machine is screened on a GPU machine that has torch
alone (``tools/save_capture.py`` writes one).

Each module is kept as its registered type and the constructor arguments it
still holds (``tree``, ``loss_weight``, ``mode``, ...), each probe as what
it read of its head (:meth:`~.probes.Probe.head_state`), and each branch's
search space may come along (:func:`capture_spaces`), so that the same
random trees can be drawn there. :func:`capture_config` captures a search
config's proxy as the search does.

    >>> import torch, tempfile, os.path as osp
    >>> from autoloss_zero.losses import SearchedSegLoss, capture
    >>> from autoloss_zero.search.loop.settings import Rejection
    >>> loss = SearchedSegLoss('neg(mul(y,log(yhat)))', branch='seg')
    >>> with capture() as records:
    ...     _ = loss(torch.zeros(1, 2, 4, 4), torch.ones(1, 4, 4).long())
    >>> rejection = LossRejection(records, Rejection(steps=10), metric='mIoU')
    >>> path = osp.join(tempfile.mkdtemp(), 'capture.pt')
    >>> save_capture(rejection, path)
    >>> load_capture(path).captured['seg'][0][1].logits.shape
    torch.Size([1, 2, 4, 4])
"""
import dataclasses
import inspect
import os
import os.path as osp
import pickle
from types import SimpleNamespace
from typing import Dict, Optional, Tuple, Union

import torch
from torch import Tensor, nn

from ...graph import SearchSpace, Tree
from ...losses import Canvas, SearchedLoss
from ..loop.settings import Rejection
from .protocol import LossRejection

#: ``format`` of a capture file, and the ``version`` this module writes.
FORMAT = 'autoloss_zero screening capture'
VERSION = 1
#: Plain values a module argument may hold (lists of them too).
_PLAIN = (str, int, float, bool, type(None))

Device = Union[str, torch.device]


def module_spec(module: SearchedLoss) -> dict:
    """``{'type': name, 'args': {...}}`` that rebuilds ``module``: every
    constructor argument of its class and bases that it keeps under the same
    name (a Tree as its string).

    Raises:
        TypeError: an argument holds something other than plain values.
    """
    args = {}
    for cls in type(module).__mro__:
        if not (isinstance(cls, type) and issubclass(cls, SearchedLoss)):
            continue
        for name, param in inspect.signature(cls.__init__).parameters.items():
            if name == 'self' or name in args or param.kind in (
                    param.VAR_POSITIONAL, param.VAR_KEYWORD) or \
                    not hasattr(module, name):
                continue
            value = getattr(module, name)
            value = str(value) if isinstance(value, Tree) else value
            items = value if isinstance(value, (list, tuple)) else [value]
            if not all(isinstance(v, _PLAIN) for v in items):
                raise TypeError(
                    f'{type(module).__name__}.{name} = {value!r} is not a '
                    f'plain value; a capture file keeps plain arguments only')
            args[name] = list(value) if isinstance(value, tuple) else value
    return {'type': type(module).__name__, 'args': args}


def build_module(spec: dict) -> SearchedLoss:
    """The searched-loss module of :func:`module_spec`'s ``spec``.

    Raises:
        KeyError: the type is no registered searched loss.
    """
    from mmengine.registry import MODELS
    cls = MODELS.get(spec['type'])
    if not (isinstance(cls, type) and issubclass(cls, SearchedLoss)):
        raise KeyError(f'capture file: {spec["type"]!r} is no registered '
                       f'searched-loss type (SearchedSegLoss, '
                       f'SearchedBoxLoss, ...)')
    return cls(**spec['args'])


def head_stand_in(state: dict) -> SimpleNamespace:
    """An object whose attributes are ``state``'s (nested dicts nested):
    what a probe reads of its head (:meth:`~.probes.Probe.head_state`)."""
    return SimpleNamespace(**{
        k: head_stand_in(v) if isinstance(v, dict) else v
        for k, v in state.items()})


def _canvas_state(canvas: Canvas) -> dict:
    """The init fields of ``canvas``, its tensors detached on the CPU."""

    def cpu(value):
        return value.detach().cpu() if isinstance(value, Tensor) else value

    canvas = canvas.mapped(cpu, cpu(canvas.avg_factor))
    return {f.name: getattr(canvas, f.name)
            for f in dataclasses.fields(Canvas) if f.init}


def save_capture(rejection: LossRejection, path: str,
                 spaces: Optional[Dict[str, SearchSpace]] = None) -> None:
    """Write what ``rejection`` screens with to ``path`` (atomically: a
    temporary file, then ``os.replace``).

    Args:
        rejection: the protocol to save (its compacted canvases, settings,
            etas and metric; every module's type and arguments and every
            probe's view of its head).
        path: the file to write (``.pt`` by convention).
        spaces: {branch: search space} to keep too (random trees).
    """
    modules, index = [], {}
    branches = {}
    for branch, calls in rejection.captured.items():
        branches[branch] = []
        for probe, canvas in calls:
            key = id(probe.module)
            if key not in index:
                index[key] = len(modules)
                modules.append(dict(module_spec(probe.module),
                                    head=probe.head_state()))
            branches[branch].append({'module': index[key],
                                     'canvas': _canvas_state(canvas)})
    state = {
        'format': FORMAT,
        'version': VERSION,
        'settings': dataclasses.asdict(rejection.settings),
        'etas': dict(rejection.etas),
        'metric': rejection.metric,
        'modules': modules,
        'branches': branches,
        'spaces': {b: dataclasses.asdict(s)
                   for b, s in (spaces or {}).items()},
    }
    tmp = f'{path}.tmp{os.getpid()}'
    torch.save(state, tmp)
    os.replace(tmp, path)


def _read(path: str, device: Device = 'cpu') -> dict:
    """The checked content of a capture file, its tensors on ``device``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'capture file {path!r} not found')
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        raise ValueError(f'{path!r} is not a capture file that loads with '
                         f'weights_only=True: {error}') from error
    if not isinstance(state, dict) or state.get('format') != FORMAT:
        raise ValueError(f'{path!r} is not a screening capture (written by '
                         f'save_capture / tools/save_capture.py)')
    if state.get('version') != VERSION:
        raise ValueError(f'{path!r} is a capture of version '
                         f'{state.get("version")!r}; this version reads '
                         f'{VERSION}: save it again')
    return state


def load_capture(path: str, device: Device = 'cpu') -> LossRejection:
    """The :class:`LossRejection` of a :func:`save_capture` file, with
    every tensor on ``device`` (the screening then runs there).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is no capture of this version.
        KeyError: it names a module type that is no registered searched
            loss.
    """
    state = _read(path, device)
    modules = [build_module(spec) for spec in state['modules']]
    heads: Dict[nn.Module, SimpleNamespace] = {
        module: head_stand_in(spec['head'])
        for module, spec in zip(modules, state['modules'])}
    captured = {
        branch: [(modules[call['module']], Canvas(**call['canvas']))
                 for call in calls]
        for branch, calls in state['branches'].items()}
    known = {f.name for f in dataclasses.fields(Rejection)}
    unknown = sorted(set(state['settings']) - known)
    if unknown:
        raise ValueError(f'{path!r} holds rejection settings {unknown} '
                         f'that this version does not know: save it again')
    return LossRejection(captured, Rejection(**state['settings']),
                         state['etas'], state['metric'], heads)


def capture_spaces(path: str) -> Dict[str, SearchSpace]:
    """{branch: search space} saved with a capture ({} if none was)."""
    return {b: SearchSpace.from_config(s)
            for b, s in _read(path)['spaces'].items()}


def capture_config(cfg, work_dir) -> Tuple[LossRejection,
                                           Dict[str, SearchSpace]]:
    """The protocol a search of ``cfg`` screens with, built as the search
    builds it (the warm proxy at random initialisation, its heads' inputs
    on ``search.rejection.samples`` training samples, the config's etas,
    metric and rejection settings), and each branch's search space.

    Args:
        cfg: a search config (mmengine ``Config``).
        work_dir: folder of the proxy Runner's logs.

    Raises:
        FileNotFoundError: a data root of the config is missing.
    """
    from ...datasets.check import check_data_roots
    from ..execution import ProxyTrainer
    from ..loop.settings import SearchSettings
    settings = SearchSettings.from_config(cfg)
    check_data_roots(cfg)
    trainer = ProxyTrainer(cfg, settings, work_dir)
    captured = trainer.capture(settings.rejection.samples)
    rejection = LossRejection(captured, settings.rejection,
                              {b.name: b.eta for b in settings.branches},
                              settings.target.metric, trainer.heads)
    spaces = {b.name: b.search_space(settings.space)
              for b in settings.branches}
    return rejection, spaces
