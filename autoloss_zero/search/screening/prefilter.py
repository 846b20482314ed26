"""Screening verdicts read from the tree alone, before any optimisation.

* **No prediction leaf** (exact): a tree that uses none of the leaves its
  loss module derives from the logits (``yhat``; ``i``, ``u``, ``e`` of the
  IoU mode) has a loss that is constant in the logits. The protocol rejects
  it at step 0 (zero gradient, or a non-finite loss), so rejecting it here
  never changes a decision.
* **No target leaf** (a pre-test, off with ``search.rejection.exact=True``):
  a tree that uses none of the canvas's target leaves (``y``) cannot depend
  on the target, so its optimum is the same whatever the labels; it still
  moves the metric by chance, so this one is measured (its false-reject rate
  is printed by ``benchmarks/screening_agreement.py``). Branches whose
  prediction leaves are computed from the target (IoU mode, with no target
  leaf at all) skip it, and so do those whose probe says a target-free
  optimum can pass (``Probe.target_leaf_required``: box deltas pulled to 0
  are the prior boxes, matched to the targets with a high IoU).

    >>> from autoloss_zero.graph import Tree
    >>> leaves = BranchLeaves(prediction=frozenset({'yhat'}),
    ...                       target=frozenset({'y'}))
    >>> static_reason(Tree.parse('mul(y,y)'), leaves, exact=True)
    'zero gradient (the tree has no prediction leaf yhat: static pre-filter)'
    >>> static_reason(Tree.parse('neg(yhat)'), leaves, exact=False)
    'no target leaf y (pre-test; search.rejection.exact=True skips it)'
"""
from dataclasses import dataclass
from typing import FrozenSet, Optional, Sequence, Tuple

from torch import nn

from ...graph import Tree
from ...losses import Canvas


@dataclass(frozen=True)
class BranchLeaves:
    """The leaf names of one branch, by what they carry.

    Attributes:
        prediction: leaves computed from the logits.
        target: constant leaves holding the target (the canvas targets).
        require_target: whether a tree without a target leaf is rejected
            (the no-target-leaf pre-test).
    """
    prediction: FrozenSet[str]
    target: FrozenSet[str]
    require_target: bool = True


def branch_leaves(calls: Sequence[Tuple[nn.Module, Canvas]]) -> BranchLeaves:
    """The leaves of a branch's captured ``(probe, canvas)`` calls: the
    identifier keys of its module's prediction leaves and of the canvas
    targets (exact-logarithm keys such as ``log(yhat)`` are not leaves)."""
    prediction, target = set(), set()
    for probe, canvas in calls:
        leaves = probe.module.leaves(canvas.logits, canvas)
        prediction.update(k for k in leaves if k.isidentifier())
        target.update(k for k in canvas.targets if k.isidentifier())
    return BranchLeaves(frozenset(prediction),
                        frozenset(target - prediction),
                        all(p.target_leaf_required for p, _ in calls))


def static_reason(tree: Tree, leaves: BranchLeaves,
                  exact: bool) -> Optional[str]:
    """Why ``tree`` is rejected without optimisation, or None.

    Args:
        tree: the candidate.
        leaves: the branch's leaves (:func:`branch_leaves`).
        exact: only the verdicts that never differ from the protocol.
    """
    used = tree.leaves
    if leaves.prediction and not used & leaves.prediction:
        names = ', '.join(sorted(leaves.prediction))
        return (f'zero gradient (the tree has no prediction leaf {names}: '
                f'static pre-filter)')
    if not exact and leaves.require_target and leaves.target and \
            not used & leaves.target:
        names = ', '.join(sorted(leaves.target))
        return (f'no target leaf {names} (pre-test; '
                f'search.rejection.exact=True skips it)')
    return None
