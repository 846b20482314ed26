"""Evaluation of a loss tree on a canvas, by an explicit stack loop.

This is the inner loop of the search (rejection protocol, proxy training), so
it does no more per call than one pass over the prefix nodes: no Python
source generation, no ``eval``, nothing cached globally.
"""
import functools
import math
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch

from .leaves import log1m_key, log_key
from .ops import OPS
from .tree import Tree

#: A ``log`` node evaluated from a given exact logarithm: (key of the
#: logarithm in the leaves, index of the operand's root, whose coefficient
#: k scales the operand, indices of the other operand nodes, which must have
#: coefficient 1).
ExactLog = Tuple[str, int, Tuple[int, ...]]


def evaluate(tree: Tree,
             leaves: Mapping[str, torch.Tensor],
             coefficients: Optional[Union[torch.Tensor,
                                          Sequence[float]]] = None
             ) -> torch.Tensor:
    """Element-wise value of ``tree`` on the branch canvas.

    Note:
        N: batch size, C: classes/channels, H, W: spatial size; per-anchor
        and per-RoI branches use the canvas (M, C, 1, 1).

    Args:
        tree (Tree): The loss tree.
        leaves (Mapping[str, Tensor]): Leaf name -> float tensor, e.g.
            ``yhat`` (N, C, H, W) probabilities after the branch activation
            and ``y`` (N, C, H, W) targets; every tensor broadcasts to the
            canvas. Leaf ``1`` is the constant one unless given here. It may
            also hold exact logarithms of a leaf (keys ``log(yhat)``,
            ``log(1-yhat)``, see :mod:`.leaves`): ``log(k*yhat)``,
            ``log(k*add(1,neg(yhat)))`` (or ``add(neg(yhat),1)``,
            ``sub(1,yhat)``) then evaluate to ``sign(k)·(log|k| + given)``
            for k != 0, without the clamp of the safe log.
        coefficients (Tensor | Sequence[float], optional): One per node,
            replacing ``tree.coefficients`` (e.g. a tensor requiring grad,
            or CMA-ES candidates); every node is then scaled, even by 1.

    Returns:
        Tensor: The element-wise loss, of the broadcast shape of all the
        provided leaf tensors (the canvas), dtype of the leaves.

    Raises:
        KeyError: A leaf of the tree is not in ``leaves`` (the message names
            it and the provided ones).
        ValueError: A leaf is not a floating tensor, or the tree uses a
            mean/pooling op on a canvas that is not 4-D.
    """
    shapes = []
    ref = None
    for name, value in leaves.items():
        if not (isinstance(value, torch.Tensor)
                and value.is_floating_point()):
            raise ValueError(f'leaf {name!r} must be a floating-point tensor, '
                             f'got {getattr(value, "dtype", type(value))}')
        if ref is None:
            ref = value
        shapes.append(value.shape)
    if shapes and all(shape == shapes[0] for shape in shapes):
        canvas = shapes[0]  # the common case; broadcast_shapes is slow
    else:
        canvas = torch.broadcast_shapes(*shapes)
    one = None
    ops = OPS
    program = tree.program
    scale_all = coefficients is not None
    if scale_all:
        if len(coefficients) != len(tree):
            raise ValueError(f'{len(coefficients)} coefficients for the '
                             f'{len(tree)} nodes of {tree}')
        coefficients = [coefficients[i] for i in range(len(tree))]
        program = tuple(zip(tree.nodes, tree.arities, coefficients))[::-1]
    exact_logs = exact_log_nodes(tree) if len(leaves) > 1 else {}
    last = len(tree) - 1
    stack = []
    push = stack.append
    pop = stack.pop
    for position, (name, arity, coef) in enumerate(program):
        exact = exact_logs.get(last - position) if exact_logs else None
        if exact is not None and exact[0] in leaves:
            operand = pop()
            value = _exact_log(exact, leaves[exact[0]],
                               coefficients or tree.coefficients)
            if value is None:  # a coefficient rules the exact form out
                value = ops['log'].fn(operand)
        elif arity == 0:
            value = leaves.get(name)
            if value is None:
                if name != '1':
                    raise KeyError(f'leaf {name!r} of tree {tree} is not '
                                   f'provided; provided leaves: '
                                   f'{sorted(leaves)}')
                if one is None:
                    one = (torch.ones((), dtype=ref.dtype, device=ref.device)
                           if ref is not None else torch.ones(()))
                value = one
        else:
            op = ops[name]
            if op.needs_canvas:
                if len(canvas) != 4:
                    raise ValueError(
                        f'op {name!r} needs a 4-D canvas (N,C,H,W), got '
                        f'the canvas {tuple(canvas)}')
                args = [pop() for _ in range(arity)]
                value = op.fn(*[a if a.shape == canvas else a.expand(canvas)
                                for a in args])
            elif arity == 1:
                value = op.fn(pop())
            elif arity == 2:
                first = pop()
                value = op.fn(first, pop())
            else:
                value = op.fn(*[pop() for _ in range(arity)])
        if scale_all or coef != 1.0:
            value = value * coef
        push(value)
    value = pop()
    if value.shape != canvas:
        value = value.expand(canvas)
    return value


@functools.lru_cache(maxsize=4096)
def exact_log_nodes(tree: Tree) -> Dict[int, ExactLog]:
    """The ``log`` nodes of ``tree`` that an exact logarithm can replace.

    A ``log`` node qualifies when its operand is a leaf ``L`` (key
    ``log(L)``) or the complement ``add(1,neg(L))``, ``add(neg(L),1)`` or
    ``sub(1,L)`` of one (key ``log(1-L)``). Structural only: coefficients
    are checked at evaluation (they may be overridden).

    Returns:
        dict: log node index -> :data:`ExactLog`.
    """
    nodes, arities = tree.nodes, tree.arities
    found = {}
    for index, name in enumerate(nodes):
        if name != 'log' or arities[index] != 1:
            continue
        root = index + 1
        if arities[root] == 0 and nodes[root] != '1':
            found[index] = (log_key(nodes[root]), root, ())
            continue
        pattern = nodes[root:root + 4]
        if pattern[:1] == ('sub', ) and nodes[root + 1:root + 2] == ('1', ):
            leaf = root + 2
            others = (root + 1, leaf)
        elif pattern[:3] == ('add', '1', 'neg'):
            leaf = root + 3
            others = (root + 1, root + 2, leaf)
        elif pattern[:2] == ('add', 'neg') and pattern[3:] == ('1', ):
            leaf = root + 2
            others = (root + 1, leaf, root + 3)
        else:
            continue
        if arities[leaf] == 0 and nodes[leaf] != '1':
            found[index] = (log1m_key(nodes[leaf]), root, others)
    return found


def _exact_log(exact: ExactLog, log_value: torch.Tensor,
               coefficients: Sequence) -> Optional[torch.Tensor]:
    """``sign(k)·(log|k| + log_value)`` for the operand scale k != 0 (and
    unit coefficients inside the operand); None where that does not apply."""
    _, root, others = exact
    if any(float(coefficients[i]) != 1.0 for i in others):
        return None
    scale = coefficients[root]
    if isinstance(scale, torch.Tensor):
        if float(scale) == 0.0:
            return None
        return torch.sign(scale) * (scale.abs().log() + log_value)
    if scale == 1.0:
        return log_value
    if scale == 0.0:
        return None
    sign = 1.0 if scale > 0 else -1.0
    return sign * (math.log(abs(scale)) + log_value)


def check_finite(tree: Tree,
                 leaves: Mapping[str, torch.Tensor],
                 requires_grad_leaf: str = 'yhat') -> Tuple[bool, bool]:
    """Whether the value and its gradient are finite everywhere.

    The gradient is that of ``value.sum()`` (the reduction up to a positive
    scale) with respect to leaf ``requires_grad_leaf``, taken on a detached
    copy of it, so the caller's tensors are untouched. A tree that does not
    use that leaf has a zero (finite) gradient.

    Args:
        tree (Tree): The loss tree.
        leaves (Mapping[str, Tensor]): As for :func:`evaluate`.
        requires_grad_leaf (str): The leaf to differentiate with respect to.

    Returns:
        tuple[bool, bool]: (value finite, gradient finite).

    Raises:
        KeyError: ``requires_grad_leaf`` or a leaf of the tree is missing.
    """
    if requires_grad_leaf not in leaves:
        raise KeyError(f'requires_grad_leaf {requires_grad_leaf!r} is not '
                       f'provided; provided leaves: {sorted(leaves)}')
    x = leaves[requires_grad_leaf].detach().clone().requires_grad_(True)
    with torch.enable_grad():
        value = evaluate(tree, {**leaves, requires_grad_leaf: x})
        value_ok = bool(torch.isfinite(value).all())
        if not value.requires_grad:
            return value_ok, True
        (grad, ) = torch.autograd.grad(value.sum(), x, allow_unused=True)
    grad_ok = grad is None or bool(torch.isfinite(grad).all())
    return value_ok, grad_ok
