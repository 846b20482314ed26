"""Prediction leaves with their exact logarithms.

A searched loss sees the prediction through a leaf such as ``yhat``, the
softmax or sigmoid of the logits. ``log(yhat)`` with the safe log clamps at
``log(1e-12) = -27.63``, so the tree ``neg(mul(y,log(yhat)))`` would stop
being cross-entropy for confident wrong predictions (a logit margin above
27.6: the loss sticks at 27.63 and its gradient is 0). A leaves mapping may
therefore carry, next to the leaf, its exact logarithm computed from the
logits (``log_softmax`` / ``logsigmoid``) under the key :func:`log_key`, and
for sigmoid leaves the logarithm of the complement ``log(1 - yhat) =
logsigmoid(-z)`` under :func:`log1m_key`. :func:`~.evaluate.evaluate` uses
them where ``log`` is applied to that leaf (or to ``add(1,neg(yhat))``,
``add(neg(yhat),1)``, ``sub(1,yhat)``); every other ``log`` keeps the safe
form. The keys are not identifiers, so they can never be a tree's leaf.
"""
from typing import Dict

import torch
import torch.nn.functional as F
from torch import Tensor

#: The activations :func:`prediction_leaves` knows.
ACTIVATIONS = ('softmax', 'sigmoid', 'identity')


def log_key(name: str) -> str:
    """Key of the exact ``log(<name>)`` in a leaves mapping."""
    return f'log({name})'


def log1m_key(name: str) -> str:
    """Key of the exact ``log(1 - <name>)`` in a leaves mapping."""
    return f'log(1-{name})'


def prediction_leaves(logits: Tensor, activation: str,
                      name: str = 'yhat',
                      logs: bool = True) -> Dict[str, Tensor]:
    """The prediction leaf of ``logits`` and its exact logarithms.

    Args:
        logits (Tensor): (N, C, H, W) logits; the class axis is dim 1.
        activation (str): ``'softmax'`` (over dim 1), ``'sigmoid'`` or
            ``'identity'`` (no logarithm is added: the leaf may be <= 0).
        name (str): the leaf name. Defaults to ``'yhat'``.
        logs (bool): add the exact logarithms; False for a tree that has
            no ``log`` they can replace (``exact_log_nodes(tree)`` empty),
            which saves a ``log_softmax`` per evaluation. Defaults to True.

    Returns:
        dict[str, Tensor]: ``{name: activation(logits)}`` plus
        ``log_key(name)`` (softmax, sigmoid) and ``log1m_key(name)``
        (sigmoid), all of the logits' shape.

    Raises:
        ValueError: for an unknown activation.
    """
    if activation == 'softmax' and not logs:
        return {name: torch.softmax(logits, dim=1)}
    if activation == 'sigmoid' and not logs:
        return {name: torch.sigmoid(logits)}
    if activation == 'softmax':
        return {name: torch.softmax(logits, dim=1),
                log_key(name): torch.log_softmax(logits, dim=1)}
    if activation == 'sigmoid':
        return {name: torch.sigmoid(logits),
                log_key(name): F.logsigmoid(logits),
                log1m_key(name): F.logsigmoid(-logits)}
    if activation == 'identity':
        return {name: logits}
    raise ValueError(f'unknown activation {activation!r}; valid: '
                     f'{list(ACTIVATIONS)}')
