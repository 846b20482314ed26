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
import logging
import time
from collections import OrderedDict
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from ...graph import Tree
from ..screening import LossRejection, Screening, ScreeningPool
from .candidate import Candidate
from .evolution import AgingEvolution, Proposal
from .individual import Individual

#: the largest screening batch per worker (a lockstep batch of the
#: rejection protocol).
MAX_BATCH = 64


class Proposer:
    """Draws candidates from ``searcher`` that pass ``rejection``.

    With a screening pool trees are drawn ``2 x workers`` at a time and the
    searcher is rewound to just after the first passing one, so the
    sequence of candidates does not depend on the number of workers.

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
        commit: called with the rejected draws made so far (which it
            commits), at most every ``commit_every`` seconds during a long
            screening run; the draws then leave :attr:`Candidate.rejected`.
            While it runs, :meth:`get_state` holds what a resumed proposer
            needs to go on with the same draws.
        progress: called as ``progress(rejected in a row, screened in all,
            trees per minute)`` every ``progress_every`` seconds of a
            screening run (a live display).
    """

    def __init__(self, searcher: AgingEvolution,
                 rejection: Optional[LossRejection],
                 pool: Optional[ScreeningPool] = None,
                 max_redraws: int = 100000,
                 cache_size: int = 100000,
                 logger: Optional[logging.Logger] = None,
                 report_every: float = 60.0,
                 commit: Optional[Callable[[List[Candidate]], None]] = None,
                 commit_every: float = 30.0,
                 progress: Optional[Callable[[int, int, float], None]] = None,
                 progress_every: float = 2.0):
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
        self.commit, self.commit_every = commit, commit_every
        self.progress, self.progress_every = progress, progress_every
        self._last_commit = time.time()
        #: the plan being drawn and its branches that passed so far (None
        #: between plans), and the draws rejected since the candidate began.
        self._plan: Optional[Proposal] = None
        self._kept: Dict[str, Tree] = {}
        self._redraws_so_far = 0

    def get_state(self) -> Optional[Dict]:
        """JSON: the candidate in progress (None between candidates)."""
        if self._redraws_so_far == 0 and self._plan is None:
            return None
        plan = self._plan
        return dict(redraws=self._redraws_so_far, plan=None if plan is None
                    else dict(parent=plan.parent_id, branches=list(
                        plan.branches), base=plan.base and plan.base.to_json(),
                        origin=plan.origin,
                        kept={b: str(t) for b, t in self._kept.items()}))

    def set_state(self, state: Optional[Dict]) -> None:
        """Go on with the candidate of :meth:`get_state` (None: none)."""
        state = state or {}
        self._redraws_so_far = state.get('redraws', 0)
        plan = state.get('plan')
        self._plan = None if plan is None else Proposal(
            plan['parent'], plan['base'] and Individual.from_json(
                plan['base']), tuple(plan['branches']), plan['origin'])
        self._kept = {} if plan is None else {
            b: Tree.parse(t) for b, t in plan['kept'].items()}

    def next(self) -> Candidate:
        """The next candidate whose every branch passes rejection, with the
        rejected draws made on the way (:attr:`Candidate.rejected`)."""
        start, rejected = time.time(), []
        while True:
            if self._plan is not None:  # resumed inside a candidate
                plan, kept = self._plan, self._kept
            else:
                plan, kept = self.searcher.plan(), {}
                if plan.parent_id is not None and len(plan.branches) == 1:
                    # A mutation of one branch (the default): a rejected
                    # child means a new tournament, as in the paper.
                    plan = self._first_passing(self._mutations(plan),
                                               rejected)[0]
            trees, screenings = {}, {}
            for branch in self.searcher.spaces:
                if branch in kept:
                    tree = kept[branch]
                    screening, = self.screen([(branch, tree)])
                elif branch in plan.branches:
                    self._plan, self._kept = plan, dict(trees)
                    _, tree, screening = self._first_passing(
                        self._redraws(plan, branch), rejected)
                else:  # kept from the base (cached), or scripted
                    tree = plan.base[branch]
                    screening, = self.screen([(branch, tree)])
                    if screening is not None and not screening.passed:
                        # possible only if the settings changed on resume
                        # (or a scripted plan): draw a new plan
                        self._reject(_rejected(plan, branch, tree, screening),
                                     rejected)
                        self._check_budget(len(rejected), branch)
                        self._plan, self._kept = None, {}
                        break
                trees[branch], screenings[branch] = tree, screening
            else:
                combined = (None if self.rejection is None else
                            Screening.combine(screenings))
                redraws = self._redraws_so_far
                self._plan, self._kept, self._redraws_so_far = None, {}, 0
                return Candidate(Individual(trees), plan.parent_id,
                                 screening=combined, rejected=rejected,
                                 redraws=redraws, origin=plan.origin,
                                 t_reject=time.time() - start)

    def _reject(self, draw: Candidate, rejected: List[Candidate]) -> None:
        rejected.append(draw)
        self._redraws_so_far += 1

    def _mutations(
            self, first: Proposal) -> Iterator[Tuple[Proposal, str, Tree]]:
        """``first``'s mutation, then fresh plans' (new tournaments), each
        as a plan with nothing left to draw."""
        plan = first
        while True:
            branch, = plan.branches
            tree = self.searcher.draw(plan, branch)
            yield Proposal(plan.parent_id, plan.base.replace(branch, tree),
                           (), plan.origin), branch, tree
            plan = self.searcher.plan()

    def _redraws(self, plan: Proposal,
                 branch: str) -> Iterator[Tuple[Proposal, str, Tree]]:
        """Trees for ``branch`` of the same plan, again and again."""
        while True:
            yield plan, branch, self.searcher.draw(plan, branch)

    def _first_passing(self, draws: Iterator[Tuple[Proposal, str, Tree]],
                       rejected: List[Candidate]) -> Tuple[Proposal, Tree,
                                                           Screening]:
        """The first draw that passes; the rejected ones go to ``rejected``.

        Draws are screened in batches (``2 x workers`` with a pool, else 1),
        doubled after every batch that all failed up to :data:`MAX_BATCH`
        per worker: a long rejection run is screened in lockstep batches,
        a branch that passes often wastes few draws. The searcher is rewound
        to just after the passing draw, so the outcome does not depend on
        the batch size or the number of workers.
        """
        workers = self.pool.workers if self.pool else 1
        batch = 2 * workers if self.pool else 1
        failures, start = 0, time.time()
        last_report = last_progress = start
        while True:
            now = time.time()
            rate = failures / max(now - start, 1e-6) * 60
            if self.logger and now - last_report > self.report_every:
                last_report = now
                self.logger.info(
                    f'screening: {failures} trees rejected in a row '
                    f'({rate:.0f}/min, {self.screened} screened in all)')
            if self.progress and now - last_progress > self.progress_every:
                last_progress = now
                self.progress(failures, self.screened, rate)
            items, checkpoints = [], []
            for _ in range(batch):
                items.append(next(draws))
                checkpoints.append(self.searcher.checkpoint())
            screenings = self.screen([(b, t) for _, b, t in items])
            for (plan, branch, tree), checkpoint, screening in zip(
                    items, checkpoints, screenings):
                if screening is None or screening.passed:
                    self.searcher.rewind(checkpoint)
                    return plan, tree, screening
                self._reject(_rejected(plan, branch, tree, screening),
                             rejected)
                failures += 1
                self._check_budget(failures, branch)
            batch = min(2 * batch, MAX_BATCH * workers)
            if self.commit and rejected and (
                    time.time() - self._last_commit >= self.commit_every):
                self.commit(list(rejected))  # the searcher is after them
                rejected.clear()
                self._last_commit = time.time()

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
            screen = self.pool.screen if self.pool else \
                self.rejection.screen_batch  # lockstep: the same results
            results = screen(list(todo.values()))
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


def _rejected(plan: Proposal, branch: str, tree: Tree,
              screening: Screening) -> Candidate:
    """The record of a rejected draw: the failing branch's tree."""
    draw = Candidate.rejected_draw(plan.parent_id,
                                   Individual({branch: tree}), screening)
    draw.origin = plan.origin
    return draw
