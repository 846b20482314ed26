"""The rejection protocol run on many trees of one branch in lockstep.

Every tree gets its own copy of the captured logits and follows exactly the
paper's loop (:func:`~.reference.screen_reference`): the same losses, the
same Adam updates, the same checks in the same order. What is shared is
the fixed cost of a step, which dominates on tiny per-row canvases
(anchors, RoIs: a few hundred rows x 4): one backward pass for the sum of
the trees' losses (their graphs are disjoint, so each tree's gradient is
bit-identical to its own backward), one fused Adam call over every live
tree's logits (per-tensor arithmetic, so identical to one optimizer per
tree), and one host synchronisation for all finiteness tests of a step.
A tree leaves the batch when it passes, fails a check or, with
``abandon``, when the metric has not risen at all after
:data:`FIRST_LOOK` steps (:func:`no_first_gain`) or its best gain has
stalled (:func:`stalled`). Where the metric is too coarse for those
(``Probe.may_abandon`` False: PCK), the first look reads the probe's finer
progress measures instead (:func:`no_progress`) and nothing stalls.
"""
import math
from typing import Callable, List, Optional, Sequence

import torch

from ...graph import Tree
from ...losses.canvas import ROW_SEGMENTS
from .fingerprint import gradient_norms
from .reference import adam
from .result import Screening

#: The pre-test's patience in checks: a tree whose best gain has not risen
#: by ``eta * STALL_FRACTION`` over the last ``PATIENCE`` checks is
#: abandoned.
PATIENCE = 3
STALL_FRACTION = 0.01
#: Steps after which the first-gain pre-test looks at the metric.
FIRST_LOOK = 5


def no_first_gain(gain: float, eta: float) -> bool:
    """Whether the metric has not risen at all after :data:`FIRST_LOOK`
    steps (the first-gain pre-test): the descent direction of the loss
    does not improve the metric there.

    Applied only for a positive ``eta``: a gain of at most 0 then cannot
    have passed yet. A non-finite gain is left to the protocol's checks.

    >>> no_first_gain(0.0, eta=0.6), no_first_gain(0.01, eta=0.6)
    (True, False)
    """
    return eta > 0 and gain <= 0


def no_progress(before: Sequence[float], after: Sequence[float]) -> bool:
    """Whether none of a probe's progress measures (``Probe.progress``,
    higher is closer to the target) rose from the captured logits
    (``before``) to the logits after :data:`FIRST_LOOK` steps (``after``):
    the first-gain pre-test of a probe whose metric is too coarse for it.
    A non-finite measure is left to the protocol's checks.

    >>> no_progress((-4.0, -1.0), (-4.0, -1.5)), no_progress((-4.0, -1.0),
    ...                                                      (-4.0, -0.9))
    (True, False)
    """
    if not all(map(math.isfinite, after)):
        return False
    return not any(a > b for a, b in zip(after, before))


def stalled(bests: Sequence[float], eta: float) -> bool:
    """Whether the best gain has stopped rising (the abandonment pre-test).

    Args:
        bests: the best gain reached by each check so far, the gain 0 of
            the captured logits first.
        eta: the branch threshold (not reached: else the tree passed).

    Returns:
        bool: True when the best gain rose by less than ``eta / 100`` over
        the last :data:`PATIENCE` checks.

    >>> stalled([0.0, 0.05, 0.05, 0.05, 0.05], eta=0.3)
    True
    >>> stalled([0.0, 0.01, 0.02, 0.08], eta=0.6)
    False
    """
    if len(bests) <= PATIENCE or not all(map(math.isfinite, bests)):
        return False
    return bests[-1] - bests[-1 - PATIENCE] < eta * STALL_FRACTION


class _Run:
    """One tree's optimisation state inside a lockstep batch."""

    def __init__(self, index: int, tree: Tree, calls):
        self.index, self.tree = index, tree
        self.logits = [c.logits.clone().requires_grad_(True)
                       for _, c in calls]
        self.fingerprint: Optional[str] = None
        self.gain = 0.0
        self.bests = [0.0]
        self.loss = None


def optimise(branch: str, calls, trees: Sequence[Tree], settings, eta: float,
             start: float, score: Callable, abandon: bool,
             start_progress: Sequence[float] = (),
             progress: Optional[Callable] = None) -> List[Screening]:
    """Screen ``trees`` of one branch by optimising their logits together.

    Args:
        branch: the branch name (for the reasons).
        calls: the branch's captured ``(probe, canvas)`` calls.
        trees: the candidates.
        settings: the :class:`~autoloss_zero.search.loop.settings.Rejection`
            settings (steps, lr, check_every).
        eta: the branch threshold.
        start: the branch metric of the captured logits.
        score: ``score(logits) -> float``, the branch metric.
        abandon: apply the first-gain and the stall pre-tests, where
            every call's probe allows them (``Probe.may_abandon``); else the
            first-gain pre-test on the probes' progress measures, where
            they have some (``Probe.progress``).
        start_progress: the progress measures of the captured logits
            (empty: none).
        progress: ``progress(logits) -> measures``, as ``start_progress``.

    Returns:
        list[Screening]: one per tree, in order; each exactly what the
        paper's loop gives the tree alone (up to the pre-test's
        abandonment).
    """
    stall = abandon and all(p.may_abandon for p, _ in calls)
    look = abandon and eta > 0 and (stall or bool(start_progress))
    if stall:
        progress = None  # the metric is fine enough for the first look
    runs = [_Run(i, tree, calls) for i, tree in enumerate(trees)]
    results: List[Optional[Screening]] = [None] * len(runs)
    optimizer = adam([z for run in runs for z in run.logits], settings.lr)

    def finish(run, result):
        results[run.index] = result
        for z in run.logits:
            z.grad = None  # out of the optimizer's steps from now on

    def reject(run, reason, step):
        finish(run, Screening(False, {branch: run.gain}, f'{branch}: {reason}',
                              steps=step))

    live = runs
    for step in range(settings.steps):
        for run in live:
            run.loss = sum(p.loss(c, z, run.tree)
                           for (p, c), z in zip(calls, run.logits))
        losses = [run.loss.detach() for run in live]
        if len({loss.dtype for loss in losses}) > 1:
            losses = [loss.double() for loss in losses]  # keeps finiteness
        finite = torch.isfinite(torch.stack(losses)).tolist()
        moving = []
        for run, ok in zip(live, finite):
            if not ok:
                reject(run, f'non-finite loss at step {step}', step)
            elif not run.loss.requires_grad:
                reject(run, 'zero gradient (the loss does not depend on the '
                       'prediction)', step)
            else:
                moving.append(run)
        live = moving
        if not live:
            break
        params = [z for run in live for z in run.logits]
        grads = torch.autograd.grad(sum(run.loss for run in live), params,
                                    allow_unused=True)
        per_run, at = [], 0
        for run in live:
            run.loss = None
            per_run.append(grads[at:at + len(run.logits)])
            at += len(run.logits)
        live = _check_gradients(live, per_run, step, reject)
        if step == 0:
            live = _check_zero(live, per_run, calls, reject)
        if not live:
            break
        for run, g in zip(live, per_run):
            for z, gz in zip(run.logits, g):
                # the layout backward() would store (it copies a gradient
                # of other strides, e.g. max pooling's, to the logits'):
                # fused Adam reads it element by element
                z.grad = gz if gz.stride() == z.stride() else \
                    gz.clone(memory_format=torch.contiguous_format)
        optimizer.step()
        last = step + 1 == settings.steps
        if look and step + 1 == FIRST_LOOK and not last:
            live = _first_look(live, score, start, eta, reject, progress,
                               start_progress)
            if not live:
                break
        if (step + 1) % settings.check_every and not last:
            continue
        kept = []
        for run in live:
            run.gain = score(run.logits) - start
            if run.gain >= eta:
                finish(run, Screening(True, {branch: run.gain},
                                      fingerprint=run.fingerprint,
                                      steps=step + 1))
                continue
            run.bests.append(max(run.bests[-1], run.gain))
            if stall and not last and stalled(run.bests, eta):
                reject(run, f'abandoned at step {step + 1}: metric gain '
                       f'{run.gain:.3f} < eta {eta}, its best stalled for '
                       f'{PATIENCE * settings.check_every} steps (pre-test; '
                       f'search.rejection.exact=True runs all '
                       f'{settings.steps})', step + 1)
                continue
            kept.append(run)
        live = kept
        if not live:
            break
    for run in live:
        if not math.isfinite(run.gain):
            run.gain = 0.0
        reject(run, f'metric gain {run.gain:.3f} < eta {eta}', settings.steps)
    return results


def _first_look(live, score, start, eta, reject, progress=None,
                start_progress=()):
    """The runs the first-gain pre-test keeps: on the metric gain
    (:func:`no_first_gain`), or with ``progress`` on the progress measures
    (:func:`no_progress` from ``start_progress``); the others are
    rejected."""
    kept = []
    for run in live:
        if progress is None:
            gain = score(run.logits) - start
            if not no_first_gain(gain, eta):
                kept.append(run)
                continue
            what = f'no metric gain ({gain:.3f})'
        else:
            measures = progress(run.logits)
            if not no_progress(start_progress, measures):
                kept.append(run)
                continue
            gain = score(run.logits) - start
            what = ('no progress measure rose (' + ', '.join(
                f'{a:.3g} from {b:.3g}'
                for a, b in zip(measures, start_progress)) + ')')
        run.gain = gain
        reject(run, f'abandoned at step {FIRST_LOOK}: {what} after '
               f'{FIRST_LOOK} steps (pre-test; search.rejection.exact=True '
               f'runs all steps)', FIRST_LOOK)
    return kept


def _check_gradients(live, per_run, step, reject):
    """The runs whose gradients are all present and finite (a finite
    float64 sum proves it; a non-finite one is checked element-wise, as it
    may have overflowed); the others are rejected. Keeps ``per_run``
    aligned with the returned runs."""
    flat = [g for grads in per_run for g in grads if g is not None]
    sums = (torch.isfinite(torch.stack(
        [g.sum(dtype=torch.float64) for g in flat])).tolist()
            if flat else [])
    kept, kept_grads, at = [], [], 0
    for run, grads in zip(live, per_run):
        ok = True
        for g in grads:
            if g is None:
                ok = False
                continue
            if not sums[at] and not bool(torch.isfinite(g).all()):
                ok = False
            at += 1
        if ok:
            kept.append(run)
            kept_grads.append(grads)
        else:
            reject(run, f'non-finite gradient at step {step}', step)
    per_run[:] = kept_grads
    return kept


def _check_zero(live, per_run, calls, reject):
    """Step 0: reject runs whose gradient is zero everywhere (0 rows too);
    the others get their fingerprint."""
    nonzero = torch.stack([
        torch.stack([g.any() for g in grads]).any() for grads in per_run
    ]).tolist()
    kept, kept_grads = [], []
    for run, grads, ok in zip(live, per_run, nonzero):
        if not ok:
            reject(run, 'zero gradient', 0)
            continue
        run.fingerprint = ','.join(
            v for (p, c), g in zip(calls, grads)
            for v in gradient_norms(g, p.spatial, c.meta.get(ROW_SEGMENTS)))
        kept.append(run)
        kept_grads.append(grads)
    per_run[:] = kept_grads
    return kept
