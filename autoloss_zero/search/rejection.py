"""Loss-rejection protocol and gradient-equivalence fingerprint.

Before any training, a candidate is screened on the tensors its heads saw at
random initialisation (captured with :func:`autoloss_zero.losses.capture`):
the captured logits ``z`` are optimised directly with the candidate loss
(Adam, lr 0.1, up to S steps) and the branch metric's gain
``g = xi(z*) - xi(z0)`` must reach eta (AutoLoss-Zero, Sec. 3.3). The gradient
at ``z0`` gives the candidate's fingerprint for the equivalence check.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from ..losses import Canvas, SearchedLoss
from .individual import Individual
from .settings import Rejection

Captured = Dict[str, List[Tuple[SearchedLoss, Canvas]]]


@dataclass
class Screening:
    """Outcome of screening one individual."""
    passed: bool
    #: metric gain per branch (the last value reached).
    gains: Dict[str, float] = field(default_factory=dict)
    reason: Optional[str] = None
    fingerprint: Optional[str] = None
    steps: int = 0


def _round2(value: float) -> str:
    """A number to 2 significant digits, as text (the fingerprint unit)."""
    return f'{value:.1e}'


def _grad_norms(grad: torch.Tensor, per_sample: bool) -> List[str]:
    if per_sample:
        return [_round2(v) for v in grad.flatten(1).norm(dim=1).tolist()]
    return [_round2(float(grad.norm()))]


class LossRejection:
    """Screens individuals on captured head inputs.

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
        self.captured = captured
        self.settings = settings
        self.etas = {b: (etas or {}).get(b, settings.eta) for b in captured}
        self.metric = metric
        self.initial_scores = {
            b: self._score(b, [c.logits for _, c in calls])
            for b, calls in captured.items()
        }

    def _score(self, branch: str, logits: Sequence[torch.Tensor]) -> float:
        calls = self.captured[branch]
        with torch.no_grad():
            scores = [m.rejection_score(c, z, self.metric)
                      for (m, c), z in zip(calls, logits)]
        return sum(scores) / len(scores)

    def screen(self, individual: Individual) -> Screening:
        """Screen every branch; the first failing one rejects the whole."""
        gains, prints, steps = {}, [], 0
        for branch, calls in self.captured.items():
            result = self._screen_branch(branch, calls, individual[branch])
            gains[branch] = result.gains[branch]
            steps += result.steps
            if not result.passed:
                result.gains, result.steps = gains, steps
                return result
            prints.append(f'{branch}:{result.fingerprint}')
        return Screening(True, gains, fingerprint='|'.join(prints),
                         steps=steps)

    def _screen_branch(self, branch: str, calls, tree) -> Screening:
        settings, eta = self.settings, self.etas[branch]
        start = self.initial_scores[branch]
        logits = [c.logits.clone().requires_grad_(True) for _, c in calls]
        optimizer = torch.optim.Adam(logits, lr=settings.lr)
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
            if any(g is None or not torch.isfinite(g).all() for g in grads):
                return reject(f'{branch}: non-finite gradient at step {step}',
                              step)
            if step == 0:
                if not any(bool(g.any()) for g in grads):  # 0 rows too
                    return reject(f'{branch}: zero gradient', step)
                fingerprint = ','.join(
                    v for (m, _), g in zip(calls, grads)
                    for v in _grad_norms(g, m.spatial))
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
