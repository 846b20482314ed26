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
        fidelity=dict(rungs=None, reduction=4),  # e.g. rungs=(0.25, 1.0)
        executor=dict(type='local'),
        top_k=5,
        seed=0)
"""
from dataclasses import dataclass, field, fields
from typing import Dict, List, Optional, Tuple, Union

from mmengine.registry import MODELS

from ...graph import SearchSpace, Tree
from ...losses import SearchedLoss
from ...registry import EXECUTORS
from .sections import Budget, Fidelity, Verdict
from .validation import (check_choice, check_eta, check_int, check_keys,
                         check_loss_config, check_number)

SEG_METRICS = ('mIoU', 'FWIoU', 'mAcc', 'gAcc', 'BIoU', 'BF1')
DET_METRICS = ('coco/bbox_mAP', 'coco/segm_mAP', 'coco/AP')
MODES = ('max', 'min')


def _check_keys(section: str, given: dict, allowed) -> None:
    check_keys(f'search.{section}'.rstrip('.'), given, allowed)


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
    #: where a slot holds a list of losses: the loss types kept beside the
    #: searched loss (True: all of them); default none (it replaces them).
    keep: Union[bool, Tuple[str, ...]] = ()

    def __post_init__(self):
        check_eta(f'search.branches.{self.name}.eta', self.eta)

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
    """Aging evolution (``search.evolution``); the defaults are the
    paper's, crossover (GLO's) is off.

    Attributes:
        population: the random individuals that start the search (K).
        tournament: tournament size, a fraction of the population (T; at
            least 2 members).
        window: the newest evaluated individuals that stay (P).
        p_copy, p_reinit: a child copies its parent, else re-draws the
            tree, else inserts / deletes / replaces a node.
        p_crossover: GLO's subtree crossover instead of a mutation.
        mutate: ``'one'`` random branch of a multi-branch parent, or
            ``'all'``.
    """
    population: int = 20
    tournament: float = 0.05
    window: int = 2500
    PROBABILITIES = ('p_copy', 'p_reinit', 'p_crossover')
    p_copy: float = 0.1
    p_reinit: float = 0.5
    p_crossover: float = 0.0
    MUTATE = ('one', 'all')
    mutate: str = 'one'

    def __post_init__(self):
        if self.mutate not in self.MUTATE:
            raise ValueError(f"search.evolution.mutate must be 'one' or "
                             f"'all', got {self.mutate!r}")
        check_number('search.evolution.tournament', self.tournament, 0, 1,
                     low_open=True)
        check_int('search.evolution.population', self.population, 2)
        if not isinstance(self.window, int) or self.window < self.population:
            raise ValueError(
                f'search.evolution: need 2 <= population <= window, got '
                f'population={self.population}, window={self.window!r}')
        for name in self.PROBABILITIES:
            check_number(f'search.evolution.{name}', getattr(self, name), 0,
                         1)


@dataclass(frozen=True)
class Rejection:
    """The loss-rejection protocol (``search.rejection``): the paper's
    B=5 samples and threshold eta=0.6; Adam, lr 0.1, up to S=100 steps."""
    #: captured training samples (B) and the metric gain to reach (eta;
    #: per branch: ``search.branches.<b>.eta``).
    samples: int = 5
    eta: float = 0.6
    #: Adam steps on the captured logits (at most S), its lr, and the steps
    #: between two checks of the branch metric.
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
    #: seconds between commits of the rejected draws of a long screening
    #: run (a kill loses at most that much screening).
    commit_every: float = 30.0
    #: True: the paper's protocol only (its decisions exactly); False: also
    #: the pre-tests of measured false-reject rate (no target leaf, a
    #: stalled gain).
    exact: bool = False
    #: the stability pre-test (off with ``exact``): reject passing trees
    #: whose gradient explodes as the prediction nears the target.
    stability: bool = True

    def __post_init__(self):
        if self.heads not in ('primary', 'all'):
            raise ValueError(f"search.rejection.heads must be 'primary' or "
                             f"'all', got {self.heads!r}")
        key = 'search.rejection.'
        check_int(key + 'samples', self.samples, 1)
        check_eta(key + 'eta', self.eta)
        check_int(key + 'steps', self.steps, 1)
        check_number(key + 'lr', self.lr, 0, low_open=True)
        check_int(key + 'check_every', self.check_every, 1, self.steps)
        check_int(key + 'max_redraws', self.max_redraws, 1)
        check_choice(key + 'enabled', self.enabled, (True, False))
        check_int(key + 'workers', self.workers, 1)
        check_number(key + 'commit_every', self.commit_every, 0)
        check_choice(key + 'exact', self.exact, (True, False))
        check_choice(key + 'stability', self.stability, (True, False))


@dataclass(frozen=True)
class Proxy:
    max_iters: int = 200
    #: a non-finite loss in these first iterations is the paper's early stop.
    nan_check_iters: int = 20
    #: torch intra-op threads of every proxy training of the search (the
    #: baseline's, each candidate's, in any executor): scores depend on it.
    threads: int = 1

    def __post_init__(self):
        check_int('search.proxy.max_iters', self.max_iters, 1)
        check_int('search.proxy.nan_check_iters', self.nan_check_iters, 0)
        check_int('search.proxy.threads', self.threads, 1)


@dataclass(frozen=True)
class SearchSettings:
    target: Target
    branches: Tuple[Branch, ...]
    space: Dict
    evolution: Evolution
    rejection: Rejection
    proxy: Proxy
    executor: Dict
    top_k: int
    seed: int
    budget: Budget = Budget()
    verdict: Verdict = Verdict(seeds=0)
    fidelity: Fidelity = Fidelity()
    #: {branch: (tree, ...)}: given trees of the initial population.
    seed_trees: Dict = field(default_factory=dict)
    #: an mmengine visualizer config that logs the search (its
    #: ``vis_backends``: local files, TensorBoard, MLflow, W&B ...).
    visualizer: Dict = field(default_factory=lambda: dict(
        type='Visualizer', vis_backends=[dict(type='LocalVisBackend')]))

    @property
    def evaluations(self) -> int:
        """The training budget (``budget.evaluations``)."""
        return self.budget.evaluations

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
            'budget', 'executor', 'top_k', 'seed', 'verdict', 'seed_trees',
            'visualizer', 'fidelity'
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
                        ['type', 'paths', 'eta', 'options', 'space', 'keep'])
            paths = spec.get('paths')
            paths = (paths, ) if isinstance(paths, str) else tuple(paths or ())
            if not paths:
                raise KeyError(f'search.branches.{name}.paths is empty')
            for path in paths:
                check_loss_config(f'search.branches.{name}.paths', path,
                                  resolve_path(cfg, path))
            keep = spec.get('keep', ())
            keep = keep if isinstance(keep, bool) else tuple(
                [keep] if isinstance(keep, str) else keep)
            branch = Branch(name=name, type=spec['type'], paths=paths,
                            eta=spec.get('eta', rejection.eta),
                            options=dict(spec.get('options', {})),
                            space=dict(spec.get('space', {})), keep=keep)
            branch.module_class()
            branches.append(branch)
        budget = _dataclass_from(Budget, 'budget', search.get('budget'))
        seed_trees = _seed_trees(search.get('seed_trees'))
        names = [b.name for b in branches]
        unknown = sorted(set(seed_trees) - set(names))
        if unknown:
            raise KeyError(f'search.seed_trees names unknown branch(es) '
                           f'{unknown}; branches: {names}')
        executor = dict(search.get('executor') or dict(type='local'))
        kind = executor.get('type')
        if not isinstance(kind, str) or EXECUTORS.get(kind) is None:
            raise ValueError(
                f'search.executor.type = {executor.get("type")!r} is invalid:'
                f' expected one of {sorted(EXECUTORS.module_dict)}')
        check_int('search.top_k', search.get('top_k', 5), 1)
        check_int('search.seed', search.get('seed', 0), 0)
        settings = cls(
            target=_dataclass_from(Target, 'target', search.get('target')),
            branches=tuple(branches),
            space=dict(search.get('space') or {}),
            evolution=_dataclass_from(Evolution, 'evolution',
                                      search.get('evolution')),
            rejection=rejection,
            proxy=_dataclass_from(Proxy, 'proxy', search.get('proxy')),
            executor=executor,
            top_k=int(search.get('top_k', 5)),
            seed=int(search.get('seed', 0)),
            budget=budget,
            verdict=_dataclass_from(Verdict, 'verdict', search.get('verdict')),
            seed_trees=seed_trees,
            visualizer=_visualizer(search.get('visualizer')),
            fidelity=_dataclass_from(Fidelity, 'fidelity',
                                     search.get('fidelity')))
        settings.fidelity.iterations(settings.proxy.max_iters)  # validates
        for branch in settings.branches:
            branch.search_space(settings.space)  # validates ops / limits
        return settings


def _visualizer(given) -> Dict:
    """``search.visualizer``: an mmengine visualizer config (a dict with a
    ``type``); default the local backend (files in the work dir)."""
    if given is None:
        return SearchSettings.__dataclass_fields__['visualizer'] \
            .default_factory()
    if not isinstance(given, dict) or 'type' not in given:
        raise ValueError(f'search.visualizer = {given!r} is invalid: '
                         f'expected an mmengine visualizer config, e.g. '
                         f"dict(type='Visualizer', vis_backends=[dict("
                         f"type='TensorboardVisBackend')])")
    return dict(given)


def _seed_trees(given) -> Dict[str, Tuple[str, ...]]:
    """``search.seed_trees`` as {branch: (canonical tree, ...)} (parsed, so
    that a bad tree fails now, naming its position)."""
    out = {}
    for branch, trees in dict(given or {}).items():
        trees = [trees] if isinstance(trees, str) else list(trees)
        out[branch] = tuple(str(Tree.parse(t)) for t in trees)
    return out


def resolve_path(cfg, path: str):
    """The config value at dotted ``path``.

    Raises:
        KeyError: naming the part of ``path`` that is missing.
    """
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
