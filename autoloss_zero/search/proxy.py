"""Proxy training through mmengine, kept warm between candidates.

The Runner, model, data loaders, optimizer and evaluator are built once; each
candidate only swaps the trees of the searched-loss modules in place and
restores the initial weights, optimizer and scheduler states, then trains
``max_iters`` iterations and runs the validation loop. Every candidate uses
the same seed, initial weights and data order (common random numbers), so
score differences come from the loss alone.
"""
import copy
import inspect
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.dataset import InfiniteSampler
from mmengine.runner import Runner
from mmengine.runner.utils import set_random_seed
from torch import nn

from ..losses import SearchedLoss, capture
from .individual import Individual
from .settings import SearchSettings, resolve_path


@dataclass
class ProxyResult:
    """Outcome of one proxy training."""
    status: str  # trained / diverged / failed
    score: Optional[float]
    metrics: Dict = field(default_factory=dict)
    reason: Optional[str] = None
    seconds: float = 0.0


def inject_losses(cfg: Config, settings: SearchSettings,
                  individual: Optional[Individual] = None) -> Config:
    """A copy of ``cfg`` whose branch slots hold searched-loss modules.

    Each slot keeps its ``loss_weight`` (and ``use_sigmoid``, which mmdet
    heads read from the config); trees default to the constant ``1``.
    """
    cfg = copy.deepcopy(cfg)
    for branch in settings.branches:
        for path in branch.paths:
            old = resolve_path(cfg, path)
            parent_path, key = path.rsplit('.', 1)
            new = dict(type=branch.type,
                       tree=str(individual[branch.name]) if individual else '1',
                       loss_weight=old.get('loss_weight', 1.0),
                       branch=branch.name, **branch.options)
            if 'use_sigmoid' in old and 'use_sigmoid' in inspect.signature(
                    branch.module_class()).parameters:
                new['use_sigmoid'] = old['use_sigmoid']
            resolve_path(cfg, parent_path)[key] = new
    return cfg


def proxy_config(cfg: Config, settings: SearchSettings, work_dir: Path,
                 searched: bool) -> Config:
    """The proxy training config: seeded, quiet, searched slots injected."""
    cfg = inject_losses(cfg, settings) if searched else copy.deepcopy(cfg)
    cfg.pop('search', None)
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=settings.seed)
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
        self.cfg = proxy_config(cfg, settings, Path(work_dir), searched)
        self.runner = runner = Runner.from_cfg(self.cfg)
        runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
        runner.param_schedulers = runner.build_param_scheduler(
            runner.param_schedulers) or []
        if isinstance(runner.param_schedulers, dict):
            raise ValueError('proxy configs must use one optimizer (got a '
                             'dict of parameter schedulers)')
        self.model = runner.model
        self.train_loader = Runner.build_dataloader(
            self.cfg.train_dataloader, seed=settings.seed)
        self.modules: Dict[str, List[SearchedLoss]] = {}
        for name, module in self.model.named_modules():
            if isinstance(module, SearchedLoss):
                self.modules.setdefault(module.branch, []).append(module)
                module.bind_head(self.model.get_submodule(
                    name.rpartition('.')[0]))
        self._initial = self._snapshot()

    def _snapshot(self) -> dict:
        return copy.deepcopy(dict(
            model=self.model.state_dict(),
            optim=self.runner.optim_wrapper.state_dict(),
            schedulers=[s.state_dict() for s in self.runner.param_schedulers]))

    def adopt_initial_weights(self, other: 'ProxyTrainer') -> None:
        """Start from ``other``'s initial weights wherever the parameter
        names agree (the baseline trains the same network as the search)."""
        mine = self._initial['model']
        for name, value in other._initial['model'].items():
            if name in mine and mine[name].shape == value.shape:
                mine[name] = value.clone()

    def reset(self, initial: Optional[dict] = None) -> None:
        """Restore initial weights, optimizer, schedulers and RNG seeds."""
        initial = initial or self._initial
        set_random_seed(self.settings.seed)
        self.model.load_state_dict(initial['model'])
        self.runner.optim_wrapper.load_state_dict(initial['optim'])
        for sched, state in zip(self.runner.param_schedulers,
                                initial['schedulers']):
            sched.load_state_dict(state)

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
        """The model's module at a config path ``model.<module path>``, or
        None if the config path does not name a module path."""
        try:
            return self.model.get_submodule(path.split('.', 1)[1])
        except (AttributeError, IndexError):
            return None

    def train(self, individual: Optional[Individual] = None) -> ProxyResult:
        """Train from the initial state with ``individual``'s trees and
        evaluate; a non-finite loss stops the run with status diverged."""
        start = time.time()
        target = self.settings.target
        worst = 0.0 if target.mode == 'max' else math.inf
        self.reset()
        if individual is not None:
            for branch, modules in self.modules.items():
                for module in modules:
                    module.set_tree(individual[branch])
        self.model.train()
        batches = self.batches()
        optim_wrapper = self.runner.optim_wrapper
        for it in range(1, self.settings.proxy.max_iters + 1):
            log_vars = self.model.train_step(next(batches), optim_wrapper)
            loss = log_vars['loss']
            loss = float(loss.detach() if torch.is_tensor(loss) else loss)
            if not math.isfinite(loss):
                early = it <= self.settings.proxy.nan_check_iters
                return ProxyResult(
                    'diverged', worst, reason=f'loss {loss} at iteration {it}'
                    + (' (early stop)' if early else ''),
                    seconds=time.time() - start)
            for sched in self.runner.param_schedulers:
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
