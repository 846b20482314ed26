"""Loss-rejection protocol and gradient-equivalence fingerprint.

Before any training, a candidate is screened on the tensors its heads saw at
random initialisation (captured with :func:`autoloss_zero.losses.capture`):
the captured logits ``z`` are optimised directly with the candidate loss
(Adam, lr 0.1, up to S steps) and the branch metric's gain
``g = xi(z*) - xi(z0)`` must reach eta (AutoLoss-Zero, Sec. 3.3). The gradient
at ``z0`` gives the candidate's fingerprint for the equivalence check.

Branches are screened independently (:meth:`LossRejection.screen_branch`),
so that the search can re-draw only a failing branch. Per-row captures
(anchors, RoIs) keep only their counted rows, and a head's per-level calls
are merged into one canvas: the same loss and gradient, a fraction of the
work, and one metric over all rows.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from ..graph import Tree
from ..losses import Canvas, SearchedLoss
from ..losses.canvas import ROW_SEGMENTS, compact_rows, merge_rows
from .individual import Individual
from .settings import Rejection

Captured = Dict[str, List[Tuple[SearchedLoss, Canvas]]]


@dataclass
class Screening:
    """Outcome of screening one branch tree, or a whole individual."""
    passed: bool
    #: metric gain per branch (the last value reached).
    gains: Dict[str, float] = field(default_factory=dict)
    reason: Optional[str] = None
    fingerprint: Optional[str] = None
    steps: int = 0

    @classmethod
    def combine(cls, branches: Dict[str, 'Screening']) -> 'Screening':
        """An individual's screening from its branches' (in branch order):
        passed when all passed; the fingerprint joins the branches'."""
        failed = [s for s in branches.values() if not s.passed]
        gains = {b: g for s in branches.values() for b, g in s.gains.items()}
        steps = sum(s.steps for s in branches.values())
        if failed:
            return cls(False, gains, failed[0].reason, steps=steps)
        return cls(True, gains, steps=steps, fingerprint='|'.join(
            f'{b}:{s.fingerprint}' for b, s in branches.items()))


def _round2(value: float) -> str:
    """A number to 2 significant digits, as text (the fingerprint unit)."""
    return f'{value:.1e}'


def _grad_norms(grad: torch.Tensor, per_sample: bool,
                segments: Optional[Sequence[int]] = None) -> List[str]:
    """Gradient norms of one call: per sample (spatial canvases), per
    merged call (``segments`` of rows), else one for the whole call."""
    if per_sample:
        return [_round2(v) for v in grad.flatten(1).norm(dim=1).tolist()]
    parts = grad.split(list(segments)) if segments else [grad]
    return [_round2(float(part.norm())) for part in parts]


def _all_finite(tensor: torch.Tensor) -> bool:
    """Whether every element is finite. A finite float64 sum proves it (inf
    and NaN propagate) at 1/8 the cost of ``isfinite(t).all()``, which
    decides only when the sum is not finite (it may overflow)."""
    if bool(torch.isfinite(tensor.sum(dtype=torch.float64))):
        return True
    return bool(torch.isfinite(tensor).all())


def _adam(params: List[torch.Tensor], lr: float) -> torch.optim.Adam:
    """Adam, fused where this torch supports it for these tensors (one
    kernel per tensor: half the time of the default on CPU)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def _compact(branch: str, calls):
    """Per-row calls reduced to their counted rows and merged into one
    canvas where they share a module (FPN levels: exact, and one metric
    over all rows); calls left without a counted row are dropped."""
    calls = [(m, c if m.spatial else compact_rows(c)) for m, c in calls]
    module = calls[0][0]
    if len(calls) > 1 and not module.spatial and all(
            m is module for m, _ in calls):
        merged = merge_rows([c for _, c in calls])
        if merged is not None:
            calls = [(module, merged)]
    kept = [(m, c) for m, c in calls if m.rejection_weight(c) > 0]
    if not kept:
        raise RuntimeError(
            f'branch {branch!r}: no captured row counts (all weights are '
            f'zero, e.g. no positive anchor in the capture samples); raise '
            f'search.rejection.samples')
    return kept


class LossRejection:
    """Screens individuals, or one branch's tree, on captured head inputs.

    Args:
        captured: {branch: [(module, canvas), ...]} from capture mode.
        settings: samples, eta, steps, lr, check_every.
        etas: per-branch thresholds (default ``settings.eta``).
        metric: the target metric name (used by segmentation branches).
    """

    def __init__(self, captured: Captured, settings: Rejection,
                 etas: Optional[Dict[str, float]] = None,
                 metric: Optional[str] = None):
        missing = [b for b, calls in captured.items() if not calls]
        if missing:
            raise RuntimeError(f'no head call was captured for branch(es) '
                               f'{missing}: is the searched loss reached in '
                               f'a training forward?')
        self.captured = {b: _compact(b, calls)
                         for b, calls in captured.items()}
        self.settings = settings
        self.etas = {b: (etas or {}).get(b, settings.eta) for b in captured}
        self.metric = metric
        #: weight of each call in its branch's score (see rejection_weight).
        self.weights = {b: [m.rejection_weight(c) for m, c in calls]
                        for b, calls in self.captured.items()}
        self.initial_scores = {
            b: self._score(b, [c.logits for _, c in calls])
            for b, calls in self.captured.items()
        }

    def _score(self, branch: str, logits: Sequence[torch.Tensor]) -> float:
        """The branch metric: the mean over calls weighted by their counted
        rows (several calls remain with ``heads='all'``, or calls that could
        not be merged)."""
        calls, weights = self.captured[branch], self.weights[branch]
        with torch.no_grad():
            scores = [m.rejection_score(c, z, self.metric)
                      for (m, c), z in zip(calls, logits)]
        total = sum(weights)
        return sum(w * s for w, s in zip(weights, scores)) / total

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
        return self._screen_branch(branch, self.captured[branch], tree)

    def _screen_branch(self, branch: str, calls, tree) -> Screening:
        settings, eta = self.settings, self.etas[branch]
        start = self.initial_scores[branch]
        logits = [c.logits.clone().requires_grad_(True) for _, c in calls]
        optimizer = _adam(logits, settings.lr)
        fingerprint, gain = None, 0.0

        def reject(reason, step):
            return Screening(False, {branch: gain}, reason, steps=step)

        for step in range(settings.steps):
            optimizer.zero_grad(set_to_none=True)
            loss = sum(m.loss_on(c, z, tree)
                       for (m, c), z in zip(calls, logits))
            if not torch.isfinite(loss):
                return reject(f'{branch}: non-finite loss at step {step}',
                              step)
            if not loss.requires_grad:
                return reject(f'{branch}: zero gradient (the loss does not '
                              f'depend on the prediction)', step)
            loss.backward()
            grads = [z.grad for z in logits]
            if any(g is None or not _all_finite(g) for g in grads):
                return reject(f'{branch}: non-finite gradient at step {step}',
                              step)
            if step == 0:
                if not any(bool(g.any()) for g in grads):  # 0 rows too
                    return reject(f'{branch}: zero gradient', step)
                fingerprint = ','.join(
                    v for (m, c), g in zip(calls, grads)
                    for v in _grad_norms(g, m.spatial,
                                         c.meta.get(ROW_SEGMENTS)))
            optimizer.step()
            last = step + 1 == settings.steps
            if (step + 1) % settings.check_every == 0 or last:
                gain = self._score(branch, logits) - start
                if gain >= eta:
                    return Screening(True, {branch: gain},
                                     fingerprint=fingerprint, steps=step + 1)
        if not math.isfinite(gain):
            gain = 0.0
        return reject(f'{branch}: metric gain {gain:.3f} < eta {eta}',
                      settings.steps)
