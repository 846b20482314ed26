"""The paper's rejection protocol, one tree at a time, as first written.

The ground truth of the screening's equivalence checks: the tests and
``benchmarks/screening_agreement.py`` compare :class:`LossRejection` (static
pre-filters, lockstep batches, pre-tests) against this loop, and
``benchmarks/rejection_throughput.py`` times it as the old path. A plain
``torch.optim.Adam`` (fused where supported) optimises the captured logits
of one tree for up to S steps; every ``check_every`` steps the branch metric
is scored and the tree passes once its gain reaches eta; a non-finite loss
or gradient, or a zero gradient at step 0, rejects it.
"""
import math

import torch

from ...graph import Tree
from ...losses.canvas import ROW_SEGMENTS
from .fingerprint import gradient_norms
from .result import Screening


def all_finite(tensor: torch.Tensor) -> bool:
    """Whether every element is finite. A finite float64 sum proves it (inf
    and NaN propagate) at 1/8 the cost of ``isfinite(t).all()``, which
    decides only when the sum is not finite (it may overflow)."""
    if bool(torch.isfinite(tensor.sum(dtype=torch.float64))):
        return True
    return bool(torch.isfinite(tensor).all())


def adam(params, lr: float) -> torch.optim.Adam:
    """Adam, fused where this torch supports it for these tensors (one
    kernel per tensor: half the time of the default on CPU)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def screen_reference(rejection, branch: str, tree: Tree) -> Screening:
    """Screen one tree of ``branch`` with the paper's loop, no pre-filter.

    Args:
        rejection: a :class:`~.protocol.LossRejection` (its captured calls,
            settings, etas and metric).
        branch: the branch name.
        tree: the candidate.
    """
    calls = rejection.captured[branch]
    settings, eta = rejection.settings, rejection.etas[branch]
    start = rejection.initial_scores[branch]
    logits = [c.logits.clone().requires_grad_(True) for _, c in calls]
    optimizer = adam(logits, settings.lr)
    fingerprint, gain = None, 0.0

    def reject(reason, step):
        return Screening(False, {branch: gain}, reason, steps=step)

    for step in range(settings.steps):
        optimizer.zero_grad(set_to_none=True)
        loss = sum(p.loss(c, z, tree) for (p, c), z in zip(calls, logits))
        if not torch.isfinite(loss):
            return reject(f'{branch}: non-finite loss at step {step}', step)
        if not loss.requires_grad:
            return reject(f'{branch}: zero gradient (the loss does not '
                          f'depend on the prediction)', step)
        loss.backward()
        grads = [z.grad for z in logits]
        if any(g is None or not all_finite(g) for g in grads):
            return reject(f'{branch}: non-finite gradient at step {step}',
                          step)
        if step == 0:
            if not any(bool(g.any()) for g in grads):  # 0 rows too
                return reject(f'{branch}: zero gradient', step)
            fingerprint = ','.join(
                v for (p, c), g in zip(calls, grads)
                for v in gradient_norms(g, p.spatial,
                                        c.meta.get(ROW_SEGMENTS)))
        optimizer.step()
        last = step + 1 == settings.steps
        if (step + 1) % settings.check_every == 0 or last:
            gain = rejection.score(branch, logits) - start
            if gain >= eta:
                return Screening(True, {branch: gain},
                                 fingerprint=fingerprint, steps=step + 1)
    if not math.isfinite(gain):
        gain = 0.0
    return reject(f'{branch}: metric gain {gain:.3f} < eta {eta}',
                  settings.steps)
