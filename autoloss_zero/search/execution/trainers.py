"""The warm proxy trainers of a search, one per seed and kind, and the job
that trains a candidate on the right one.

A search trains its candidates on the search seed; the verdict re-trains
the best ones and the baseline (the config's own losses) on other seeds,
each seed giving other initial weights and another data order, shared by
candidate and baseline. Every executor (in-process, process workers, Ray
actors) keeps one :class:`Trainers` and builds a trainer the first time a
(seed, kind) needs it; the baseline of a seed starts from the searched
proxy's initial weights of that seed.
"""
import dataclasses
from pathlib import Path
from typing import Dict, Optional, Tuple

from mmengine.config import Config

from ..loop.candidate import Candidate
from ..loop.settings import SearchSettings
from .base import train_safely
from .proxy import ProxyResult, ProxyTrainer


class Trainers:
    """Warm trainers by (seed, baseline), built on first use.

    Args:
        cfg: the search config.
        settings: validated search settings (``settings.seed`` is the
            search seed).
        work_dir: the trainers' logs go to ``work_dir/proxy``,
            ``work_dir/baseline`` (search seed) and ``..._seed<n>``.
        searched: an already built trainer for the search seed, if any.
    """

    def __init__(self, cfg: Config, settings: SearchSettings, work_dir,
                 searched: Optional[ProxyTrainer] = None):
        self.cfg, self.settings = cfg, settings
        self.work_dir = Path(work_dir)
        self._built: Dict[Tuple[int, bool], ProxyTrainer] = {}
        if searched is not None:
            self._built[(settings.seed, False)] = searched

    def get(self, seed: Optional[int] = None,
            baseline: bool = False) -> ProxyTrainer:
        """The trainer of ``seed`` (default: the search's) for searched
        losses, or for the config's own (``baseline``)."""
        seed = self.settings.seed if seed is None else seed
        key = (seed, baseline)
        if key not in self._built:
            settings = dataclasses.replace(self.settings, seed=seed)
            name = 'baseline' if baseline else 'proxy'
            if seed != self.settings.seed:
                name += f'_seed{seed}'
            trainer = ProxyTrainer(self.cfg, settings, self.work_dir / name,
                                   searched=not baseline)
            if baseline:
                trainer.adopt_initial_weights(self.get(seed))
            self._built[key] = trainer
        return self._built[key]

    def train(self, candidate: Candidate) -> ProxyResult:
        """Train ``candidate`` (on its seed, for its iterations; the
        config's own losses for the baseline); exceptions become ``failed``
        results."""
        trainer = self.get(candidate.seed, candidate.is_baseline)
        return train_safely(trainer, None if candidate.is_baseline else
                            candidate.individual, candidate.iterations)
