"""The loss-rejection protocol of AutoLoss-Zero.

Before any training, a candidate is screened on the tensors its heads saw at
random initialisation (captured with :func:`autoloss_zero.losses.capture`):
the captured logits ``z`` are optimised directly with the candidate loss
(Adam, lr 0.1, up to S steps) and the branch metric's gain
``g = xi(z*) - xi(z0)`` must reach eta (AutoLoss-Zero, Sec. 3.3). The gradient
at ``z0`` gives the candidate's fingerprint for the equivalence check
(:mod:`.fingerprint`).

Branches are screened independently (:meth:`LossRejection.screen_branch`),
so that the search can re-draw only a failing branch. Per-row captures
(anchors, RoIs) keep only their counted rows, and a head's per-level calls
are merged into one canvas: the same loss and gradient, a fraction of the
work, and one metric over all rows.

Screening many trees is fast in three ways (:meth:`LossRejection.
screen_batch`): trees the tree alone decides are rejected without any
optimisation (:mod:`.prefilter`); the others of a branch are optimised in
lockstep (:mod:`.batched`), the same arithmetic per tree at a fraction of
the fixed cost of a step; and, unless ``search.rejection.exact``,
pre-tests whose false-reject rates are measured by
``benchmarks/screening_agreement.py`` reject trees without a target leaf,
abandon trees that show no metric gain after the first steps or whose best
gain has stalled, and reject passing trees whose gradient explodes toward
the target (:mod:`.stability`: they diverge in training).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from ...graph import Tree
from ...losses import Canvas
from ...losses.canvas import compact_rows, merge_rows
from ..loop.individual import Individual
from ..loop.settings import Rejection
from .batched import optimise
from .prefilter import branch_leaves, static_reason
from .probes import Probe, probe_for
from .result import Screening
from .stability import unstable_reason

#: {branch: [(searched-loss module, canvas), ...]}: what capture recorded.
Captured = Dict[str, List[Tuple[nn.Module, Canvas]]]
#: Elements of a branch's captured logits optimised at once in a lockstep
#: batch (the trees' graphs are held together: bounds the memory).
LOCKSTEP_ELEMENTS = 2_000_000
#: Trees in one lockstep batch at most.
LOCKSTEP_TREES = 64


def _compact(branch: str, calls):
    """Per-row calls reduced to their counted rows and merged into one
    canvas where they share a module (FPN levels: exact, and one metric
    over all rows); calls left without a counted row are dropped."""
    calls = [(p, c if p.spatial else compact_rows(c)) for p, c in calls]
    probe = calls[0][0]
    if len(calls) > 1 and not probe.spatial and all(
            p is probe for p, _ in calls):
        merged = merge_rows([c for _, c in calls])
        if merged is not None:
            calls = [(probe, merged)]
    kept = [(p, c) for p, c in calls if p.weight(c) > 0]
    if not kept:
        raise RuntimeError(
            f'branch {branch!r}: no captured row counts (all weights are '
            f'zero, e.g. no positive anchor in the capture samples); raise '
            f'search.rejection.samples')
    return kept


class LossRejection:
    """Screens individuals, or one branch's tree, on captured head inputs.

    Args:
        captured: {branch: [(module, canvas), ...]}: the calls captured at
            random initialisation (each module gets its screening probe).
        settings: samples, eta, steps, lr, check_every.
        etas: per-branch thresholds (default ``settings.eta``).
        metric: the target metric name (used by segmentation branches).
        heads: {module: the head that owns it}, for probes that read the
            head (the box coder's normalisation); default none.
    """

    def __init__(self, captured: Captured, settings: Rejection,
                 etas: Optional[Dict[str, float]] = None,
                 metric: Optional[str] = None,
                 heads: Optional[Dict[nn.Module, nn.Module]] = None):
        missing = [b for b, calls in captured.items() if not calls]
        if missing:
            raise RuntimeError(f'no head call was captured for branch(es) '
                               f'{missing}: is the searched loss reached in '
                               f'a training forward?')
        probes: Dict[nn.Module, Probe] = {}
        for calls in captured.values():
            for module, _ in calls:
                if module not in probes:
                    probes[module] = probe_for(module,
                                               (heads or {}).get(module))
        self.captured = {b: _compact(b, [(probes[m], c) for m, c in calls])
                         for b, calls in captured.items()}
        self.settings = settings
        self.etas = {b: (etas or {}).get(b, settings.eta) for b in captured}
        self.metric = metric
        #: weight of each call in its branch's score (see Probe.weight).
        self.weights = {b: [p.weight(c) for p, c in calls]
                        for b, calls in self.captured.items()}
        self.initial_scores = {
            b: self.score(b, [c.logits for _, c in calls])
            for b, calls in self.captured.items()
        }
        #: the progress measures of the captured logits (Probe.progress).
        self.initial_progress = {
            b: self.progress(b, [c.logits for _, c in calls])
            for b, calls in self.captured.items()
        }
        #: the prediction and target leaves of each branch (pre-filters).
        self.leaves = {b: branch_leaves(calls)
                       for b, calls in self.captured.items()}

    def check_reachable(self) -> None:
        """ValueError for a branch whose eta no tree can reach: its metric
        (at most 1) starts at ``initial_scores`` on the captured samples."""
        for branch, start in self.initial_scores.items():
            if self.etas[branch] > 1.0 - start + 1e-9:
                raise ValueError(
                    f'search.branches.{branch}.eta = {self.etas[branch]} '
                    f'cannot be reached: the branch metric is {start:.3f} on '
                    f'the captured samples before any step and at most 1, '
                    f'so its gain is at most {1.0 - start:.3f}; lower eta')

    def score(self, branch: str, logits: Sequence[torch.Tensor]) -> float:
        """The branch metric: the mean over calls weighted by their counted
        rows (several calls remain with ``heads='all'``, or calls that could
        not be merged)."""
        calls, weights = self.captured[branch], self.weights[branch]
        with torch.no_grad():
            scores = [p.score(c, z, self.metric)
                      for (p, c), z in zip(calls, logits)]
        total = sum(weights)
        return sum(w * s for w, s in zip(weights, scores)) / total

    def progress(self, branch: str, logits: Sequence[torch.Tensor]
                 ) -> Tuple[float, ...]:
        """The progress measures of every call's probe at ``logits`` (the
        first look of probes whose metric is too coarse for it)."""
        with torch.no_grad():
            return tuple(v for (p, c), z in zip(self.captured[branch], logits)
                         for v in p.progress(c, z))

    def screen(self, individual: Individual) -> Screening:
        """Screen every branch; the first failing one rejects the whole."""
        results = {}
        for branch in self.captured:
            results[branch] = self.screen_branch(branch, individual[branch])
            if not results[branch].passed:
                break
        return Screening.combine(results)

    def screen_branch(self, branch: str, tree: Tree) -> Screening:
        """Screen one branch's tree (independent of the other branches)."""
        return self.screen_batch([(branch, tree)])[0]

    def screen_batch(self, items: Sequence[Tuple[str, Tree]]
                     ) -> List[Screening]:
        """Screenings of (branch, tree) pairs, in order.

        A tree's screening does not depend on the other items: the static
        pre-filters read the tree alone and each tree of a lockstep batch
        follows its own optimisation, so any batching gives the same
        results as :meth:`screen_branch` one tree at a time.
        """
        exact = self.settings.exact
        results: List[Optional[Screening]] = [None] * len(items)
        pending: Dict[str, List[int]] = {}
        for i, (branch, tree) in enumerate(items):
            results[i] = self.prefiltered(branch, tree)
            if results[i] is None:
                pending.setdefault(branch, []).append(i)
        for branch, indices in pending.items():
            size = self._lockstep_size(branch)
            for at in range(0, len(indices), size):
                chunk = indices[at:at + size]
                screenings = optimise(
                    branch, self.captured[branch],
                    [items[i][1] for i in chunk], self.settings,
                    self.etas[branch], self.initial_scores[branch],
                    lambda logits, b=branch: self.score(b, logits),
                    abandon=not exact,
                    start_progress=self.initial_progress[branch],
                    progress=lambda logits, b=branch: self.progress(b, logits))
                for i, screening in zip(chunk, screenings):
                    results[i] = self._stable(branch, items[i][1], screening)
        return results

    def _stable(self, branch: str, tree: Tree,
                screening: Screening) -> Screening:
        """``screening``, or its rejection by the stability pre-test."""
        settings = self.settings
        if settings.exact or not settings.stability or not screening.passed:
            return screening
        reason = unstable_reason(self.captured[branch], tree)
        if reason is None:
            return screening
        return Screening(False, screening.gains, f'{branch}: {reason}',
                         steps=screening.steps)

    def prefiltered(self, branch: str, tree: Tree) -> Optional[Screening]:
        """The rejection of ``tree`` read from the tree alone, or None when
        it needs the optimisation (:mod:`.prefilter`)."""
        reason = static_reason(tree, self.leaves[branch],
                               self.settings.exact)
        if reason is None:
            return None
        return Screening(False, {branch: 0.0}, f'{branch}: {reason}')

    def _lockstep_size(self, branch: str) -> int:
        """Trees of ``branch`` optimised in one lockstep batch."""
        elements = sum(c.logits.numel() for _, c in self.captured[branch])
        return max(1, min(LOCKSTEP_TREES,
                          LOCKSTEP_ELEMENTS // max(elements, 1)))
