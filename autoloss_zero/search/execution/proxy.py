"""Proxy training through mmengine, kept warm between candidates.

The Runner, model, data loaders, optimizer and evaluator are built once; each
candidate only swaps the trees of the searched-loss modules in place and
restores the initial weights, optimizer and scheduler states, then trains
``max_iters`` iterations (or a training rung's shorter length, with the
schedules fitted to it) and runs the validation loop. Every candidate uses
the same seed, initial weights and data order (common random numbers), so
score differences come from the loss alone.
"""
import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import InfiniteSampler
from mmengine.runner import Runner
from mmengine.runner.utils import set_random_seed
from torch import nn

from ...losses import SearchedLoss, capture
from ..loop.individual import Individual
from ..loop.settings import SearchSettings
from .slots import inject_losses


@dataclass
class ProxyResult:
    """Outcome of one proxy training."""
    status: str  # trained / diverged / failed
    score: Optional[float]
    metrics: Dict = field(default_factory=dict)
    reason: Optional[str] = None
    seconds: float = 0.0

    def columns(self) -> Dict:
        """The archive columns of a training's outcome."""
        return dict(status=self.status, score=self.score,
                    metrics=self.metrics, reason=self.reason,
                    t_train=self.seconds)


def rescale_schedule(cfg: Config, max_iters: int) -> None:
    """Fit the iteration-based parameter schedulers of ``cfg`` to a training
    of ``max_iters`` (in place): ``begin``, ``end``, ``milestones``,
    ``T_max`` and ``step_size`` scale with ``max_iters / train_cfg.max_iters``
    (a PolyLR that ended at the config's last iteration ends at the proxy's).

    Raises:
        ValueError: a scheduler counts epochs (the proxy counts iterations).
    """
    old = cfg.train_cfg.get('max_iters')
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    if not old or old == max_iters:
        return
    scale = max_iters / old
    for sched in schedulers:
        if sched.get('by_epoch', True) and not sched.get(
                'convert_to_iter_based', False):
            raise ValueError(
                f'the proxy trains search.proxy.max_iters iterations, but '
                f'the parameter scheduler {sched.get("type")!r} counts epochs '
                f'(by_epoch=True); set by_epoch=False in param_scheduler')
        for key in ('begin', 'end', 'T_max', 'step_size'):
            if isinstance(sched.get(key), (int, float)) and math.isfinite(
                    sched[key]):
                sched[key] = max(0, round(sched[key] * scale))
        if 'milestones' in sched:
            sched['milestones'] = [round(m * scale)
                                   for m in sched['milestones']]
        if 'end' in sched and sched['end'] <= sched.get('begin', 0):
            sched['end'] = sched.get('begin', 0) + 1


def proxy_config(cfg: Config, settings: SearchSettings, work_dir: Path,
                 searched: bool) -> Config:
    """The proxy training config: seeded, quiet, searched slots injected."""
    cfg = inject_losses(cfg, settings) if searched else copy.deepcopy(cfg)
    cfg.pop('search', None)
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=settings.seed)
    rescale_schedule(cfg, settings.proxy.max_iters)  # before max_iters
    cfg.train_cfg.max_iters = settings.proxy.max_iters
    cfg.train_cfg.val_interval = settings.proxy.max_iters
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    cfg.log_level = 'WARNING'
    return cfg


class ProxyTrainer:
    """A warm proxy training: build once, train many candidates.

    Args:
        cfg: the search config (its ``search`` section is dropped).
        settings: validated search settings.
        work_dir: folder for the Runner's logs.
        searched: inject searched-loss modules (False: the config's own
            losses, for the baseline).
    """

    def __init__(self, cfg: Config, settings: SearchSettings, work_dir,
                 searched: bool = True):
        self.settings = settings
        #: the config's own schedule and length (shorter rungs fit it).
        self._schedule = (copy.deepcopy(cfg.get('param_scheduler')),
                          cfg.train_cfg.get('max_iters'))
        self.cfg = proxy_config(cfg, settings, Path(work_dir), searched)
        self.runner = runner = Runner.from_cfg(self.cfg)
        runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
        self._bare_optim = copy.deepcopy(runner.optim_wrapper.state_dict())
        runner.param_schedulers = runner.build_param_scheduler(
            runner.param_schedulers) or []
        if isinstance(runner.param_schedulers, dict):
            raise ValueError('proxy configs must use one optimizer (got a '
                             'dict of parameter schedulers)')
        self.model = runner.model
        self.train_loader = Runner.build_dataloader(
            self.cfg.train_dataloader, seed=settings.seed)
        self.modules: Dict[str, List[SearchedLoss]] = {}
        #: the head that owns each searched-loss module (screening probes
        #: read what they need of it, e.g. the box coder).
        self.heads: Dict[nn.Module, nn.Module] = {}
        for name, module in self.model.named_modules():
            if isinstance(module, SearchedLoss):
                self.modules.setdefault(module.branch, []).append(module)
                self.heads[module] = self.model.get_submodule(
                    name.rpartition('.')[0])
        self._initial = self._snapshot()
        #: {iterations: (schedulers, initial state)} of shorter trainings.
        self._lengths: Dict[int, Tuple[list, dict]] = {}

    def _snapshot(self) -> dict:
        return copy.deepcopy(dict(
            model=self.model.state_dict(),
            optim=self.runner.optim_wrapper.state_dict(),
            schedulers=[s.state_dict() for s in self.runner.param_schedulers]))

    def _length(self, iterations: Optional[int]) -> Tuple[int, list, dict]:
        """A training of ``iterations`` (None: ``search.proxy.max_iters``):
        its length, parameter schedulers and initial state. The schedulers
        of a shorter rung are the config's fitted to it
        (:func:`rescale_schedule`), built on first use on the same
        optimizer."""
        full = self.settings.proxy.max_iters
        if iterations is None or iterations == full:
            return full, self.runner.param_schedulers, self._initial
        if iterations not in self._lengths:
            schedule, length = copy.deepcopy(self._schedule)
            cfg = Config(dict(train_cfg=dict(max_iters=length),
                              param_scheduler=schedule or []))
            rescale_schedule(cfg, iterations)
            optim = self.runner.optim_wrapper
            optim.load_state_dict(self._bare_optim)
            schedulers = self.runner.build_param_scheduler(
                cfg.param_scheduler) if cfg.param_scheduler else []
            self._lengths[iterations] = schedulers, dict(
                model=self._initial['model'], **copy.deepcopy(dict(
                    optim=optim.state_dict(),
                    schedulers=[s.state_dict() for s in schedulers])))
        return (iterations, ) + self._lengths[iterations]

    def adopt_initial_weights(self, other: 'ProxyTrainer') -> None:
        """Start from ``other``'s initial weights wherever the parameter
        names agree (the baseline trains the same network as the search)."""
        mine = self._initial['model']
        for name, value in other._initial['model'].items():
            if name in mine and mine[name].shape == value.shape:
                mine[name] = value.clone()

    def reset(self, iterations: Optional[int] = None) -> list:
        """Restore initial weights, optimizer, schedulers (those of a
        training of ``iterations``) and RNG seeds; returns the schedulers."""
        _, schedulers, initial = self._length(iterations)
        set_random_seed(self.settings.seed)
        self.model.load_state_dict(initial['model'])
        self.runner.optim_wrapper.load_state_dict(initial['optim'])
        for sched, state in zip(schedulers, initial['schedulers']):
            sched.load_state_dict(state)
        return schedulers

    def batches(self):
        """Training batches in the same order for every candidate."""
        sampler = self.train_loader.batch_sampler.sampler
        if isinstance(sampler, InfiniteSampler):
            # Its index generator is made once per sampler: make it anew.
            sampler.indices = sampler._indices_of_rank()
            yield from self.train_loader
            return
        epoch = 0
        while True:
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(epoch)
            yield from self.train_loader
            epoch += 1

    def capture(self, num_samples: int) -> Dict[str, list]:
        """Record what each head passes its searched loss on ``num_samples``
        training samples at random initialisation: {branch: [(module,
        canvas), ...]}, the primary slot's calls only unless
        ``search.rejection.heads='all'``."""
        loader_cfg = copy.deepcopy(self.cfg.train_dataloader)
        loader_cfg.update(batch_size=num_samples, batch_sampler=None,
                          sampler=dict(type='DefaultSampler', shuffle=True))
        loader = Runner.build_dataloader(loader_cfg, seed=self.settings.seed)
        self.reset()
        self.model.train()
        with torch.no_grad(), capture() as records:
            data = self.model.data_preprocessor(next(iter(loader)), True)
            self.model(**data, mode='loss')
        self.reset()
        captured = {b: records.get(b, []) for b in self.modules}
        if self.settings.rejection.heads == 'primary':
            for branch in self.settings.branches:
                if len(branch.paths) == 1:
                    continue  # every call is the primary slot's
                primary = self._module_at(branch.paths[0])
                if not isinstance(primary, SearchedLoss):
                    raise ValueError(
                        f"search.rejection.heads='primary' screens the "
                        f"module at branch {branch.name!r}'s first path, but "
                        f"{branch.paths[0]!r} names no searched-loss module "
                        f"of the model (model.<module path>); set "
                        f"search.rejection.heads='all' to screen every slot")
                captured[branch.name] = [
                    (m, c) for m, c in captured[branch.name] if m is primary]
        return captured

    def _module_at(self, path: str) -> Optional[nn.Module]:
        """The model's module at a config path ``model.<module path>`` (the
        searched loss of a list of losses there), or None if the config path
        does not name a module path."""
        try:
            module = self.model.get_submodule(path.split('.', 1)[1])
        except (AttributeError, IndexError):
            return None
        if isinstance(module, nn.ModuleList):
            module = next((m for m in module if isinstance(m, SearchedLoss)),
                          module)
        return module

    def train(self, individual: Optional[Individual] = None,
              iterations: Optional[int] = None) -> ProxyResult:
        """Train from the initial state with ``individual``'s trees for
        ``iterations`` (None: ``search.proxy.max_iters``; a multi-fidelity
        rung's length) and evaluate, on ``search.proxy.threads`` torch
        threads (every proxy training of a search alike); a non-finite loss
        stops the run with status diverged."""
        threads = torch.get_num_threads()
        torch.set_num_threads(self.settings.proxy.threads)
        try:
            return self._train(individual, iterations)
        finally:
            torch.set_num_threads(threads)

    def _train(self, individual: Optional[Individual],
               iterations: Optional[int]) -> ProxyResult:
        start = time.time()
        target = self.settings.target
        worst = 0.0 if target.mode == 'max' else math.inf
        iterations = self._length(iterations)[0]
        schedulers = self.reset(iterations)
        if individual is not None:
            for branch, modules in self.modules.items():
                for module in modules:
                    module.set_tree(individual[branch])
        self.model.train()
        batches = self.batches()
        optim_wrapper = self.runner.optim_wrapper
        for it in range(1, iterations + 1):
            log_vars = self.model.train_step(next(batches), optim_wrapper)
            loss = log_vars['loss']
            loss = float(loss.detach() if torch.is_tensor(loss) else loss)
            if not math.isfinite(loss):
                early = it <= self.settings.proxy.nan_check_iters
                return ProxyResult(
                    'diverged', worst, reason=f'loss {loss} at iteration {it}'
                    + (' (early stop)' if early else ''),
                    seconds=time.time() - start)
            for sched in schedulers:
                sched.step()
        metrics = self.runner.val_loop.run()
        key = target.result_key
        if not metrics:  # e.g. mmdet's CocoMetric when nothing is detected
            return ProxyResult('trained', worst, reason='no predictions to '
                               'evaluate', seconds=time.time() - start)
        if key not in metrics:
            raise KeyError(f'the evaluator returned no {key!r}; it returned '
                           f'{sorted(metrics)} (set search.target.key)')
        score = float(metrics[key])
        if not math.isfinite(score):
            score = worst
        return ProxyResult('trained', score,
                           {k: float(v) for k, v in metrics.items()
                            if isinstance(v, (int, float))},
                           seconds=time.time() - start)
