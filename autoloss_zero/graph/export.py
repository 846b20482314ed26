"""Preparing a searched tree for retraining: drop dead terms, rescale.

A tree found by the search is judged by the metric it trains to, not by the
size of its value, so it may carry a huge term that no gradient reaches:
``inv(square(mul(tanh(y),add(abs(yhat),y))))`` is ``inv(0) = 1e12`` on every
pixel with ``y = 0``. That constant overflows float16 and hides the
informative O(1) part below float32 resolution of the logged loss.
:func:`prepare_for_export` removes such terms and rescales the loss:

1. The tree is split into its additive terms (through ``add``, ``sub`` and
   ``neg``, coefficients folded into each term's scale).
2. For a binary target leaf (values in {0, 1} on the sample, e.g. the
   one-hot ``y``) and an element-wise term ``T``, ``T = y·T[y:=1] +
   (1-y)·T[y:=0]`` exactly; the term is split so when one of the two parts
   is a non-zero constant (next step).
3. A term (or part) that has no gradient with respect to the prediction
   leaves, on the sample and on random predictions, is dropped: an additive
   constant, or a zero-gradient term such as the ``y = 0`` part above.
   Dropping it changes the loss by a constant and its gradient not at all.
4. The loss of what is left is measured on the sample: ``scale`` is the
   power of ten that brings it into [0.3, 3), or 1 when it is already
   within [0.01, 100] (as the usual losses are: an L1 of box deltas is
   ~0.05 at initialisation; rescaling it would change its weight against
   the other losses, like a different learning rate). The exported config
   multiplies the tree by the scale, so that the loss is O(1) at
   initialisation.

A tree with nothing to drop is returned unchanged (same canonical string).
"""
import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .evaluate import evaluate
from .leaves import log1m_key, log_key
from .ops import OPS
from .reduce import reduce_loss
from .tree import Tree

#: A term: (scale, tree); the loss is the sum of scale · tree.
Term = Tuple[float, Tree]
#: The canonical string of the constant 0 (a leaf 1 of coefficient 0).
ZERO = Tree(('1', ), (0.0, ))


@dataclass(frozen=True)
class ExportedTree:
    """A searched tree prepared for retraining.

    Attributes:
        source (Tree): the tree as searched.
        tree (Tree): the tree to train with (``source`` if nothing was
            dropped).
        scale (float): factor of the loss (the exported config puts it on
            the tree's root coefficient, where any loss_weight keeps it).
        loss_before (float): loss of ``source`` on the sample.
        loss_after (float): loss of ``tree`` on the sample, before scaling.
        steps (tuple[str, ...]): what was done, one line per step.
    """

    source: Tree
    tree: Tree
    scale: float
    loss_before: float
    loss_after: float
    steps: Tuple[str, ...]

    @property
    def note(self) -> str:
        """One line recording the transform, for the exported config."""
        return (f'exported from {self.source}: ' + '; '.join(self.steps) +
                f'; sample loss {self.loss_before:.4g} -> '
                f'{self.loss_after * self.scale:.4g} '
                f'(x {self.scale:g})')


def additive_terms(tree: Tree) -> List[Term]:
    """The additive terms of ``tree`` through ``add``, ``sub``, ``neg``.

    Returns:
        list[Term]: ``(scale, term)`` pairs, each term with root coefficient
        1, whose scaled sum equals the tree's value.
    """
    terms: List[Term] = []
    pending = [(1.0, 0)]
    while pending:
        scale, index = pending.pop()
        name = tree.nodes[index]
        scale *= tree.coefficients[index]
        children = tree.children(index)
        if name == 'add':
            pending.extend((scale, child) for child in reversed(children))
        elif name == 'sub':
            pending.extend([(-scale, children[1]), (scale, children[0])])
        elif name == 'neg':
            pending.append((-scale, children[0]))
        else:
            sub = tree.subtree(index)
            terms.append((scale, sub.with_coefficients(
                (1.0, ) + sub.coefficients[1:])))
    return terms


def substitute(tree: Tree, leaf: str, value: Tree) -> Tree:
    """``tree`` with every node named ``leaf`` replaced by ``value``
    (scaled by that node's coefficient)."""
    nodes, coefficients = [], []
    for name, coef in zip(tree.nodes, tree.coefficients):
        if name == leaf:
            nodes.extend(value.nodes)
            coefficients.extend((coef * value.coefficients[0], ) +
                                value.coefficients[1:])
        else:
            nodes.append(name)
            coefficients.append(coef)
    return Tree(tuple(nodes), tuple(coefficients))


def _is_elementwise(tree: Tree) -> bool:
    return not any(arity and (OPS[name].needs_canvas
                              or OPS[name].needs_spatial)
                   for name, arity in zip(tree.nodes, tree.arities))


def _prediction_keys(names: Sequence[str]) -> Tuple[str, ...]:
    return tuple(k for n in names for k in (n, log_key(n), log1m_key(n)))


def _probe_leaves(leaves: Mapping[str, Tensor], names: Sequence[str],
                  generator: torch.Generator) -> Dict[str, Tensor]:
    """``leaves`` with random predictions in (0.02, 0.98) (and their logs)."""
    probe = dict(leaves)
    for name in names:
        ref = leaves[name]
        value = 0.02 + 0.96 * torch.rand(ref.shape, generator=generator,
                                         dtype=torch.float64)
        value = value.to(ref)
        probe[name] = value
        for key, fn in ((log_key(name), torch.log),
                        (log1m_key(name), lambda v: torch.log1p(-v))):
            if key in leaves:
                probe[key] = fn(value)
    return probe


def _gradient_and_size(tree: Tree, leaves: Mapping[str, Tensor],
                       keys: Sequence[str], mask: Optional[Tensor]
                       ) -> Tuple[bool, float]:
    """(whether any prediction key gets a non-zero gradient, max |value|)
    over the counted elements of ``mask``."""
    inputs = {k: (v.detach().clone().requires_grad_(True)
                  if k in keys and v.is_floating_point() else v)
              for k, v in leaves.items()}
    with torch.enable_grad():
        value = evaluate(tree, inputs)
        if mask is not None:
            value = torch.where(mask, value, value.new_zeros(()))
        size = float(value.detach().abs().max()) if value.numel() else 0.0
        wrt = [inputs[k] for k in keys if k in inputs]
        if not value.requires_grad or not wrt:
            return False, size
        grads = torch.autograd.grad(value.sum(), wrt, allow_unused=True)
    moving = any(g is not None and bool((g != 0).any()) for g in grads)
    return moving, size


def _default_loss(leaves: Mapping[str, Tensor],
                  mask: Optional[Tensor]) -> Callable[[Tree], Tensor]:
    def loss(tree: Tree) -> Tensor:
        value = evaluate(tree, leaves)
        if mask is None:
            return reduce_loss(value)
        kept = torch.where(mask, value, value.new_zeros(()))
        return kept.sum() / mask.expand_as(value).any(1).sum().clamp(min=1)

    return loss


def _rebuild(terms: Sequence[Term]) -> Tree:
    """The sum of scaled terms as one tree (nested ``add``)."""
    result: Optional[Tree] = None
    for scale, term in reversed(terms):
        if scale == -1.0:
            term = Tree(('neg', ) + term.nodes, (1.0, ) + term.coefficients)
        else:
            term = term.with_coefficients((scale * term.coefficients[0], ) +
                                          term.coefficients[1:])
        result = term if result is None else Tree(
            ('add', ) + term.nodes + result.nodes,
            (1.0, ) + term.coefficients + result.coefficients)
    return result


#: sample losses left as they are (not rescaled).
KEEP_SCALE = (0.01, 100.0)


def _scale_for(loss: float) -> float:
    if loss == 0.0 or KEEP_SCALE[0] <= abs(loss) <= KEEP_SCALE[1]:
        return 1.0
    return 10.0**(-round(math.log10(abs(loss))))


def prepare_for_export(tree: Tree,
                       leaves: Mapping[str, Tensor],
                       prediction_leaves: Sequence[str] = ('yhat', ),
                       mask: Optional[Tensor] = None,
                       loss_fn: Optional[Callable[[Tree], Tensor]] = None,
                       seed: int = 0) -> ExportedTree:
    """Drop additive constants and zero-gradient terms, and rescale.

    The steps are in the module docstring.

    Args:
        tree (Tree): the searched tree.
        leaves (Mapping[str, Tensor]): a sample of the leaves at
            initialisation, as for :func:`~.evaluate.evaluate` (e.g.
            ``yhat`` (N, C, H, W) with its exact logs, ``y`` the targets).
        prediction_leaves (Sequence[str]): the leaves that depend on the
            prediction. Defaults to ``('yhat',)``.
        mask (Tensor, optional): bool, broadcastable to the canvas: the
            counted elements (ignored pixels and zero-weight rows are not).
        loss_fn (callable, optional): ``loss_fn(tree) -> scalar`` on the
            sample, the branch's reduction; defaults to the sum over C and
            mean over counted elements.
        seed (int): seed of the random predictions of the gradient probe.

    Returns:
        ExportedTree: the tree to train with, the factor of the loss and
        the record of the transform.

    Raises:
        ValueError: if no term of the tree has a gradient (nothing to train
            with), or the loss of the sample is not finite.
    """
    missing = [name for name in prediction_leaves if name not in leaves]
    if missing:
        raise ValueError(f'prediction leaves {missing} are not in the '
                         f'sample leaves {sorted(leaves)}')
    loss_fn = loss_fn or _default_loss(leaves, mask)
    keys = _prediction_keys(prediction_leaves)
    generator = torch.Generator().manual_seed(seed)
    samples = [dict(leaves),
               _probe_leaves(leaves, prediction_leaves, generator)]
    binary = [name for name, value in leaves.items()
              if name.isidentifier() and name not in prediction_leaves
              and bool(((value == 0) | (value == 1)).all())]

    def dead(term: Tree) -> Tuple[bool, float]:
        """(no gradient on any sample, max |value| on the sample)."""
        results = [_gradient_and_size(term, s, keys, mask) for s in samples]
        return not any(m for m, _ in results), results[0][1]

    steps: List[str] = []
    kept: List[Term] = []
    queue = list(additive_terms(tree))
    while queue:
        scale, term = queue.pop(0)
        is_dead, size = dead(term)
        if is_dead:
            steps.append(f'dropped {scale:g}*{term} (no gradient; '
                         f'|value| <= {size:.3g})')
            continue
        split = _split(term, binary, dead) if _is_elementwise(term) else None
        if split is None:
            kept.append((scale, term))
            continue
        leaf, parts = split
        steps.append(f'split {term} on the binary target {leaf}')
        queue[:0] = [(scale, part) for part in parts]
    if not kept:
        raise ValueError(f'tree {tree} has no term with a gradient on the '
                         'sample: there is nothing to train with')
    cleaned = tree if not steps else _rebuild(kept)
    before, after = float(loss_fn(tree)), float(loss_fn(cleaned))
    if not math.isfinite(after):
        raise ValueError(f'the loss of {cleaned} on the sample is {after}; '
                         'a tree to export needs a finite loss')
    scale = _scale_for(after)
    if not steps:
        steps.append('nothing dropped')
    return ExportedTree(tree, cleaned, scale, before, after, tuple(steps))


def _split(term: Tree, binary: Sequence[str],
           dead: Callable[[Tree], Tuple[bool, float]]
           ) -> Optional[Tuple[str, List[Tree]]]:
    """``(leaf, [y·T[y:=1], (1-y)·T[y:=0]])`` for the first binary leaf
    where one part is a non-zero constant; None if there is none."""
    for leaf in binary:
        if leaf not in term.leaves:
            continue
        one = Tree.leaf('1')
        gate = Tree.leaf(leaf)
        complement = Tree.parse(f'add(1,neg({leaf}))')
        parts = [Tree(('mul', ) + g.nodes + t.nodes,
                      (1.0, ) + g.coefficients + t.coefficients)
                 for g, t in ((gate, substitute(term, leaf, one)),
                              (complement, substitute(term, leaf, ZERO)))]
        if any(is_dead and size > 0
               for is_dead, size in map(dead, parts)):
            return leaf, parts
    return None
