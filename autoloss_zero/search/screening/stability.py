"""The stability pre-test: reject losses whose gradient explodes as the
prediction approaches the target.

The protocol accepts a tree once its metric gain reaches eta, typically
after ten steps, long before the prediction is confident. Some accepted
trees become singular there: ``inv(log(yhat))`` grows like ``e^m`` at a
logit margin m, ``tanh(inv(yhat) * y^2)`` is steepest just past the
initialisation. Trained, such a loss sends the network's weights to
infinity within a few iterations (measured on the demo Mask R-CNN: most
accepted random individuals diverged within 15 iterations).

So a passing tree is also evaluated at the captured logits moved toward the
target by margins m (:data:`MARGINS`, :meth:`Probe.toward_target`): for a
softmax prediction the target class's logit is raised by m; for a sigmoid
one the logit moves by m toward the 0/1 target; a raw prediction (box
deltas, heatmaps) moves to ``2^-m`` of its distance to the target. The
tree is rejected when its loss or gradient is not finite there, when the
gradient's norm exceeds :data:`MAX_GROWTH` times its norm at the captured
logits, or when it exceeds :data:`MAX_GRADIENT` anywhere on the path, the
captured logits included: a clamped singularity such as ``inv(log(y))``
(``log(1) = 0``) scales the loss by 1e12, which Adam's scale-free steps in
screening do not feel and an SGD training step does. Cross-entropy's
gradient shrinks along this path (to 0.001x at m = 8), L1's and L2's stay
at most 1x. The false-reject cost (accepted trees that trained without
diverging) is measured by ``benchmarks/diverged_fraction.py``;
``benchmarks/screening_agreement.py`` counts the accepted trees it
rejects. ``search.rejection.exact=True`` or ``stability=False`` switches
the pre-test off.
"""
import math
from typing import Optional, Sequence, Tuple

import torch

from ...graph import Tree

#: Distances toward the target at which the gradient is measured.
MARGINS = (1.0, 2.0, 4.0, 8.0)
#: Largest allowed ratio of the gradient norm there to the one at the
#: captured logits (trees that trained: at most 1.6x; trees that diverged:
#: 40x and more).
MAX_GROWTH = 10.0
#: Largest allowed gradient norm (cross-entropy's is about 0.04 on the demo
#: R-CNN captures; accepted trees with a clamped singularity: 1e9 and more).
MAX_GRADIENT = 1e4


def _gradient_norm(calls, logits: Sequence[torch.Tensor],
                   tree: Tree) -> Optional[float]:
    """The L2 norm of the loss's gradient over every call's logits (None
    when the loss or the gradient is not finite, 0.0 when the loss does
    not depend on the logits)."""
    inputs = [z.detach().requires_grad_(True) for z in logits]
    with torch.enable_grad():
        loss = sum(p.loss(c, z, tree) for (p, c), z in zip(calls, inputs))
        if not torch.isfinite(loss):
            return None
        if not loss.requires_grad:
            return 0.0
        grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    total = sum(float(g.double().square().sum())
                for g in grads if g is not None)
    return total ** 0.5 if math.isfinite(total) else None


def unstable_reason(calls: Sequence[Tuple], tree: Tree) -> Optional[str]:
    """Why ``tree`` fails the stability pre-test on a branch's captured
    ``(probe, canvas)`` calls, or None when it passes."""
    start = _gradient_norm(calls, [c.logits for _, c in calls], tree)
    if not start:
        return None  # the protocol's checks have ruled on this already
    if start > MAX_GRADIENT:
        return (f'unstable: gradient norm {start:.3g} at the captured logits '
                f'(> {MAX_GRADIENT:g}: a clamped singularity; stability '
                f'pre-test; search.rejection.exact=True skips it)')
    for margin in MARGINS:
        moved = [p.toward_target(c, c.logits, margin) for p, c in calls]
        norm = _gradient_norm(calls, moved, tree)
        if norm is None:
            return (f'unstable: non-finite loss or gradient at margin '
                    f'{margin:g} toward the target (stability pre-test; '
                    f'search.rejection.exact=True skips it)')
        if norm > MAX_GROWTH * start or norm > MAX_GRADIENT:
            return (f'unstable: the gradient grows {norm / start:.3g}x at '
                    f'margin {margin:g} toward the target (> {MAX_GROWTH:g}x;'
                    f' stability pre-test; search.rejection.exact=True '
                    f'skips it)')
    return None
