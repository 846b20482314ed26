"""Candidates that pass the rejection protocol, drawn one branch at a time.

A multi-branch individual passes when each of its branches does. Drawing the
whole individual again whenever one branch fails would make the pass rate the
product of the branches' rates (about 1e-10 for the four R-CNN branches at
their thresholds: ~1e-4 and 4e-4 for the regression branches); instead, a
branch that fails is drawn again from the same plan (a fresh random tree in
the initial population, a fresh mutation with ``mutate='all'``) while the
branches that passed are kept. A one-branch mutation (the default) that
fails starts over from a new tournament, as in the paper. Screenings are
cached per (branch, tree): trees recur, and a parent's kept branches are
known to pass.
"""
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

from ..graph import Tree
from .individual import Individual
from .rejection import LossRejection, Screening
from .screening import ScreeningPool
from .searcher import AgingEvolution, Proposal


@dataclass
class Candidate:
    """A proposal that passed (or skipped) rejection."""
    parent: Optional[int]
    individual: Individual
    #: the combined screening (None with rejection disabled).
    screening: Optional[Screening]
    #: archive rows of the rejected trees drawn on the way.
    rejected: List[Dict]
    seconds: float


class Proposer:
    """Draws candidates from ``searcher`` that pass ``rejection``.

    With a screening pool trees are drawn ``2 x workers`` at a time and the
    RNG is rewound to just after the first passing one, so the sequence of
    candidates does not depend on the number of workers.

    Args:
        searcher: plans proposals and draws trees.
        rejection: the protocol, or None (every tree passes).
        pool: parallel screening, or None (in-process).
        max_redraws: failed draws in a row (of any branch) before giving
            up.
        cache_size: failed screenings kept (least recently used dropped);
            passed ones are all kept.
        logger: where to report progress of long re-draw runs (every
            ``report_every`` seconds), or None.
    """

    def __init__(self, searcher: AgingEvolution,
                 rejection: Optional[LossRejection],
                 pool: Optional[ScreeningPool] = None,
                 max_redraws: int = 100000,
                 cache_size: int = 100000,
                 logger: Optional[logging.Logger] = None,
                 report_every: float = 60.0):
        self.searcher = searcher
        self.rejection = rejection
        self.pool = pool
        self.max_redraws = max_redraws
        if cache_size < 1:
            raise ValueError(f'cache_size must be >= 1, got {cache_size}')
        self.cache_size = cache_size
        #: screenings that passed (as many as candidates: all kept) and the
        #: most recent failed ones (least recently used dropped).
        self._passed: Dict[Tuple[str, str], Screening] = {}
        self._failed: 'OrderedDict[Tuple[str, str], Screening]' = \
            OrderedDict()
        self.screened = 0  # trees actually screened (cache misses)
        self.logger = logger
        self.report_every = report_every

    def next(self) -> Candidate:
        """The next candidate whose every branch passes rejection."""
        start, rejected = time.time(), []
        while True:
            plan = self.searcher.plan()
            if plan.base is not None and len(plan.branches) == 1:
                # A mutation of one branch (the default): a rejected child
                # means a new tournament, as in the paper.
                plan = self._first_passing(self._mutations(plan),
                                           rejected)[0]
            trees, screenings = {}, {}
            for branch in self.searcher.spaces:
                if branch in plan.branches:
                    _, tree, screening = self._first_passing(
                        self._redraws(plan, branch), rejected)
                else:  # kept from the base (cached), or scripted
                    tree = plan.base[branch]
                    screening, = self.screen([(branch, tree)])
                    if screening is not None and not screening.passed:
                        # possible only if the settings changed on resume
                        # (or a scripted plan): draw a new plan
                        rejected.append(self._row(plan, branch, tree,
                                                  screening))
                        self._check_budget(len(rejected), branch)
                        break
                trees[branch], screenings[branch] = tree, screening
            else:
                combined = (None if self.rejection is None else
                            Screening.combine(screenings))
                return Candidate(plan.parent_id, Individual(trees), combined,
                                 rejected, time.time() - start)

    def _mutations(self, first: Proposal) -> Iterator[Tuple[Proposal, str,
                                                             Tree]]:
        """``first``'s mutation, then fresh plans' (new tournaments), each
        as a plan with nothing left to draw."""
        plan = first
        while True:
            branch, = plan.branches
            tree = self.searcher.draw(plan, branch)
            yield Proposal(plan.parent_id, plan.base.replace(branch, tree),
                           ()), branch, tree
            plan = self.searcher.plan()

    def _redraws(self, plan: Proposal,
                 branch: str) -> Iterator[Tuple[Proposal, str, Tree]]:
        """Trees for ``branch`` of the same plan, again and again."""
        while True:
            yield plan, branch, self.searcher.draw(plan, branch)

    def _first_passing(self, draws: Iterator[Tuple[Proposal, str, Tree]],
                       rejected: List[Dict]) -> Tuple[Proposal, Tree,
                                                      Screening]:
        """The first draw that passes; the rejected ones go to ``rejected``.

        Draws are screened ``2 x workers`` at a time with a pool, and the
        RNG is rewound to just after the passing one, so the outcome does
        not depend on the number of workers.
        """
        batch = 2 * self.pool.workers if self.pool else 1
        rng = self.searcher.rng
        failures, start = 0, time.time()
        last_report = start
        while True:
            if self.logger and time.time() - last_report > self.report_every:
                last_report = time.time()
                rate = failures / max(last_report - start, 1e-6) * 60
                self.logger.info(
                    f'screening: {failures} trees rejected in a row '
                    f'({rate:.0f}/min, {self.screened} screened in all)')
            items, states = [], []
            for _ in range(batch):
                items.append(next(draws))
                states.append(rng.bit_generator.state)
            screenings = self.screen([(b, t) for _, b, t in items])
            for (plan, branch, tree), state, screening in zip(
                    items, states, screenings):
                if screening is None or screening.passed:
                    rng.bit_generator.state = state
                    return plan, tree, screening
                rejected.append(self._row(plan, branch, tree, screening))
                failures += 1
                self._check_budget(failures, branch)

    def _check_budget(self, failures: int, branch: str) -> None:
        """RuntimeError once ``max_redraws`` draws in a row failed."""
        if failures >= self.max_redraws:
            eta = self.rejection.etas[branch]
            raise RuntimeError(
                f'{failures} trees in a row failed the rejection protocol, '
                f'the last for branch {branch!r}; lower its threshold '
                f'(search.branches.{branch}.eta = {eta}) or check the '
                f'capture')

    def screen(self, items: List[Tuple[str, Tree]]
               ) -> List[Optional[Screening]]:
        """Screenings of (branch, tree) pairs (cached), in order.

        With a pool every tree is screened there (one torch thread, like
        every other), so results never depend on which path screened them.
        """
        if self.rejection is None:
            return [None] * len(items)
        keys = [(branch, str(tree)) for branch, tree in items]
        todo = {k: item for k, item in zip(keys, items)
                if k not in self._passed and k not in self._failed}
        if todo:
            if self.pool:
                results = self.pool.screen(list(todo.values()))
            else:
                results = [self.rejection.screen_branch(branch, tree)
                           for branch, tree in todo.values()]
            self.screened += len(todo)
            for key, result in zip(todo, results):
                store = self._passed if result.passed else self._failed
                store[key] = result
        found = [self._passed.get(k) or self._failed[k] for k in keys]
        for key in keys:
            if key in self._failed:
                self._failed.move_to_end(key)
        while len(self._failed) > self.cache_size:
            self._failed.popitem(last=False)
        return found

    @staticmethod
    def _row(plan: Proposal, branch: str, tree: Tree,
             screening: Screening) -> Dict:
        """Archive row of a rejected draw: the failing branch's tree."""
        return dict(parent=plan.parent_id, key=f'{branch}={tree}',
                    trees=json.dumps({branch: str(tree)}), status='rejected',
                    reason=screening.reason, gains=screening.gains)
