"""The ``search`` section of a config, validated into typed settings.

A search config is an ordinary proxy training config plus::

    search = dict(
        target=dict(metric='mIoU', mode='max'),
        branches=dict(seg=dict(
            type='SearchedSegLoss',
            paths=['model.decode_head.loss_decode',
                   'model.auxiliary_head.loss_decode'])),
        space=dict(max_nodes=31),            # graph.SearchSpace fields
        evolution=dict(population=20, tournament=0.05, window=2500),
        rejection=dict(samples=5, eta=0.6, steps=100, lr=0.1),
        proxy=dict(max_iters=200),
        budget=dict(evaluations=100),
        executor=dict(type='local'),
        top_k=5,
        seed=0)
"""
from dataclasses import dataclass, field, fields
from typing import Dict, List, Optional, Tuple

from mmengine.registry import MODELS

from ..graph import SearchSpace
from ..losses import SearchedLoss

SEG_METRICS = ('mIoU', 'FWIoU', 'mAcc', 'gAcc', 'BIoU', 'BF1')
DET_METRICS = ('coco/bbox_mAP', 'coco/segm_mAP', 'coco/AP')
MODES = ('max', 'min')


def _check_keys(section: str, given: dict, allowed) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise KeyError(f'unknown key(s) {unknown} in search.{section}; valid '
                       f'keys: {sorted(allowed)}')


def _dataclass_from(cls, section: str, cfg: Optional[dict]):
    cfg = dict(cfg or {})
    _check_keys(section, cfg, [f.name for f in fields(cls)])
    return cls(**cfg)


@dataclass(frozen=True)
class Target:
    """What the search optimises: an evaluator key and its direction."""
    metric: str = 'mIoU'
    mode: str = 'max'
    #: evaluator output key; defaults to ``metric``.
    key: Optional[str] = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f'search.target.mode must be one of {MODES}, '
                             f'got {self.mode!r}')
        if self.key is None and self.metric not in SEG_METRICS + DET_METRICS:
            raise ValueError(
                f'unknown target metric {self.metric!r}; valid: '
                f'{list(SEG_METRICS + DET_METRICS)} (or give search.target.key'
                f' naming the evaluator output to use)')

    @property
    def result_key(self) -> str:
        return self.key or self.metric


@dataclass(frozen=True)
class Branch:
    """One loss slot: the searched-loss type, its config paths, options."""
    name: str
    type: str
    paths: Tuple[str, ...]
    eta: float = 0.6
    #: extra constructor arguments of the searched-loss module.
    options: Dict = field(default_factory=dict)
    #: space overrides for this branch (e.g. ops).
    space: Dict = field(default_factory=dict)

    def module_class(self):
        cls = MODELS.get(self.type)
        if cls is None or not issubclass(cls, SearchedLoss):
            raise ValueError(
                f'search.branches.{self.name}.type={self.type!r} is not a '
                f'registered searched-loss module (SearchedSegLoss, '
                f'SearchedSigmoidClsLoss, SearchedSoftmaxClsLoss, '
                f'SearchedBoxLoss, SearchedMaskLoss, SearchedHeatmapLoss)')
        return cls

    def search_space(self, base: dict) -> SearchSpace:
        """The branch's space: module leaves and canvas kind + overrides."""
        module = self.module_class()(tree='1', **self.options)
        cfg = {**base, **self.space}
        cfg.setdefault('leaves', tuple(module.leaf_names))
        cfg.setdefault('spatial', module.spatial)
        if not cfg['spatial'] and 'ops' not in cfg:
            cfg['ops'] = tuple(op for op in SearchSpace().ops
                               if op not in ('max_pool3', 'min_pool3'))
        return SearchSpace.from_config(cfg)


@dataclass(frozen=True)
class Evolution:
    population: int = 20
    tournament: float = 0.05
    window: int = 2500
    p_copy: float = 0.1
    p_reinit: float = 0.5
    p_crossover: float = 0.0
    mutate: str = 'one'

    def __post_init__(self):
        if self.mutate not in ('one', 'all'):
            raise ValueError(f"search.evolution.mutate must be 'one' or "
                             f"'all', got {self.mutate!r}")
        if not 0 < self.tournament <= 1:
            raise ValueError(f'search.evolution.tournament must be in (0, 1]'
                             f', got {self.tournament}')
        if self.population < 2 or self.window < self.population:
            raise ValueError(
                f'need 2 <= population <= window, got population='
                f'{self.population}, window={self.window}')


@dataclass(frozen=True)
class Rejection:
    samples: int = 5
    eta: float = 0.6
    steps: int = 100
    lr: float = 0.1
    check_every: int = 10
    #: failed draws in a row (trees of any branch) before the search gives
    #: up.
    max_redraws: int = 100000
    enabled: bool = True
    #: screening processes (> 1: a pool, one torch thread each).
    workers: int = 1
    #: 'primary': screen what the branch's first slot saw (the decode head;
    #: an auxiliary head shares the tree, not the screening): the network's
    #: prediction, as in the paper, at half the cost. 'all': every slot.
    heads: str = 'primary'

    def __post_init__(self):
        if self.heads not in ('primary', 'all'):
            raise ValueError(f"search.rejection.heads must be 'primary' or "
                             f"'all', got {self.heads!r}")


@dataclass(frozen=True)
class Proxy:
    max_iters: int = 200
    #: a non-finite loss in these first iterations is the paper's early stop.
    nan_check_iters: int = 20


@dataclass(frozen=True)
class SearchSettings:
    target: Target
    branches: Tuple[Branch, ...]
    space: Dict
    evolution: Evolution
    rejection: Rejection
    proxy: Proxy
    evaluations: int
    executor: Dict
    top_k: int
    seed: int

    @classmethod
    def from_config(cls, cfg) -> 'SearchSettings':
        """Validate ``cfg.search`` (and the branch paths against ``cfg``)."""
        search = cfg.get('search')
        if search is None:
            raise KeyError('the config has no `search` section; see '
                           'configs/demo/voc_miou.py for an example')
        search = dict(search)
        _check_keys('', search, [
            'target', 'branches', 'space', 'evolution', 'rejection', 'proxy',
            'budget', 'executor', 'top_k', 'seed'
        ])
        rejection = _dataclass_from(Rejection, 'rejection',
                                    search.get('rejection'))
        branches = []
        if not search.get('branches'):
            raise KeyError('search.branches is empty: name at least one loss '
                           'slot, e.g. dict(seg=dict(type="SearchedSegLoss", '
                           'paths=["model.decode_head.loss_decode"]))')
        for name, spec in search['branches'].items():
            spec = dict(spec)
            _check_keys(f'branches.{name}', spec,
                        ['type', 'paths', 'eta', 'options', 'space'])
            paths = spec.get('paths')
            paths = (paths, ) if isinstance(paths, str) else tuple(paths or ())
            if not paths:
                raise KeyError(f'search.branches.{name}.paths is empty')
            for path in paths:
                resolve_path(cfg, path)
            branch = Branch(name=name, type=spec['type'], paths=paths,
                            eta=spec.get('eta', rejection.eta),
                            options=dict(spec.get('options', {})),
                            space=dict(spec.get('space', {})))
            branch.module_class()
            branches.append(branch)
        budget = dict(search.get('budget') or {})
        _check_keys('budget', budget, ['evaluations'])
        settings = cls(
            target=_dataclass_from(Target, 'target', search.get('target')),
            branches=tuple(branches),
            space=dict(search.get('space') or {}),
            evolution=_dataclass_from(Evolution, 'evolution',
                                      search.get('evolution')),
            rejection=rejection,
            proxy=_dataclass_from(Proxy, 'proxy', search.get('proxy')),
            evaluations=int(budget.get('evaluations', 100)),
            executor=dict(search.get('executor') or dict(type='local')),
            top_k=int(search.get('top_k', 5)),
            seed=int(search.get('seed', 0)))
        for branch in settings.branches:
            branch.search_space(settings.space)  # validates ops / limits
        return settings


def resolve_path(cfg, path: str):
    """The config value at dotted ``path`` (KeyError naming the missing part)."""
    node = cfg
    parts: List[str] = path.split('.')
    for i, part in enumerate(parts):
        try:
            node = node[part]
        except (KeyError, TypeError, AttributeError):
            raise KeyError(
                f'branch path {path!r} does not exist in the config: '
                f'{".".join(parts[:i]) or "<root>"} has no key {part!r}'
            ) from None
    return node
