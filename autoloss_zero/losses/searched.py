"""Base class of the searched-loss modules: a loss given by a tree string."""
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

from ..graph import SearchSpace, Tree, prediction_leaves
from ..graph.evaluate import exact_log_nodes
from .canvas import (Canvas, Leaves, elementwise_on_canvas, full_precision,
                     loss_on_canvas, upcast)
from .capture import record

#: The reductions of mmseg's / mmdet's ``reduction_override``.
REDUCTIONS = ('none', 'mean', 'sum')


class SearchedLoss(nn.Module):
    """A loss whose value is a searched tree evaluated on the head's canvas.

    Subclasses implement :meth:`to_canvas` (the head's call signature in
    canvas form). What the search's screening needs besides the loss (a
    rejection metric) lives in the search's probes, not here.

    The tree is evaluated in float32 (half-precision logits are upcast) with
    autocast switched off, so a searched loss trains under mixed precision
    like mmdet's losses do. ``log`` of a softmax / sigmoid ``yhat`` is the
    exact ``log_softmax`` / ``logsigmoid`` of the logits (see
    :mod:`autoloss_zero.graph.leaves`), so the cross-entropy trees equal the
    torch losses at any logit margin.

    Args:
        tree: canonical tree string, e.g. ``'neg(mul(y,log(yhat)))'``.
        loss_weight: multiplier of the loss.
        loss_name: name of the loss item (mmseg reads it; must start with
            ``loss_`` for mmengine to add it to the total loss).
        branch: name under which capture mode records this module's calls;
            defaults to ``loss_name``.
    """

    #: activation producing the ``yhat`` leaf from the logits.
    activation: str = 'softmax'
    #: leaves a tree of this module may use.
    leaf_names: Sequence[str] = ('yhat', 'y', '1')
    #: whether the canvas has spatial extent (H, W > 1).
    spatial: bool = True

    def __init__(self,
                 tree: Union[str, Tree],
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_searched',
                 branch: Optional[str] = None):
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f'loss_name must start with "loss_" so that '
                             f'mmengine counts it, got {loss_name!r}')
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name
        self.branch = branch or loss_name
        self.set_tree(tree)

    @property
    def loss_name(self) -> str:
        """Name of the loss item, e.g. ``loss_searched``."""
        return self._loss_name

    @property
    def space(self) -> SearchSpace:
        """The search space of trees this module accepts."""
        return SearchSpace(leaves=tuple(self.leaf_names), spatial=self.spatial)

    def set_tree(self, tree: Union[str, Tree]) -> None:
        """Replace the tree (the search swaps candidates in place)."""
        tree = tree if isinstance(tree, Tree) else Tree.parse(tree)
        unknown = sorted(tree.leaves - set(self.leaf_names))
        if unknown:
            raise ValueError(
                f'{type(self).__name__} tree {str(tree)!r} uses leaves '
                f'{unknown}; valid leaves are {list(self.leaf_names)}')
        self.tree = tree

    def leaves(self, logits: Tensor, canvas: Canvas,
               logs: bool = True) -> Leaves:
        """Leaves that depend on the prediction: ``yhat`` (the activation of
        the logits) and, with ``logs``, its exact logarithms by default."""
        return prediction_leaves(logits, self.activation, logs=logs)

    def loss_on(self,
                canvas: Canvas,
                logits: Optional[Tensor] = None,
                tree: Optional[Tree] = None) -> Tensor:
        """Unweighted scalar loss of ``tree`` (default: own) on ``canvas``,
        in float32 with autocast off."""
        logits = upcast(canvas.logits if logits is None else logits)
        tree = tree or self.tree
        with full_precision(logits):
            return loss_on_canvas(tree, canvas,
                                  self._leaves_for(tree, logits, canvas))

    def elementwise_on(self, canvas: Canvas) -> Tensor:
        """The weighted element-wise value (N, C, H, W) of the own tree, in
        float32 with autocast off (for non-default reductions)."""
        logits = upcast(canvas.logits)
        with full_precision(logits):
            return elementwise_on_canvas(
                self.tree, canvas, self._leaves_for(self.tree, logits, canvas))

    def _leaves_for(self, tree: Tree, logits: Tensor,
                    canvas: Canvas) -> Leaves:
        """The prediction leaves ``tree`` reads: the exact logarithms only
        where one of its ``log`` nodes uses them."""
        return self.leaves(logits, canvas, logs=bool(exact_log_nodes(tree)))

    def to_canvas(self, *args, **kwargs) -> Canvas:
        """The head's arguments in canvas form."""
        raise NotImplementedError

    def _loss(self, canvas: Canvas) -> Tensor:
        record(self.branch, self, canvas)
        return self.loss_weight * self.loss_on(canvas)

    def extra_repr(self) -> str:
        return (f"tree='{self.tree}', loss_weight={self.loss_weight}, "
                f"loss_name='{self.loss_name}', branch='{self.branch}'")


def reduce_with_override(module: SearchedLoss, canvas: Canvas,
                         reduction_override: Optional[str]) -> Tensor:
    """Loss with mmseg's / mmdet's ``reduction_override`` semantics.

    ``None``/``'mean'``: the canvas reduction (sum over C, divided by
    avg_factor or the number of valid elements); ``'sum'``: the plain sum
    (avg_factor is not used); ``'none'``: the per-element losses summed over
    C, (N, H, W) for spatial canvases (0 at invalid pixels, like mmseg's
    cross-entropy) and (N,) for per-row ones (for box regression, the row
    sums of mmdet's (P, 4) ``'none'`` output). All scaled by
    ``loss_weight``. Only the default reduction is recorded in capture mode.

    Args:
        module: the searched loss (its tree and ``loss_weight``).
        canvas: the head call.
        reduction_override: None, ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
        Tensor: a scalar, or the per-element / per-row losses for ``'none'``.
    """
    if reduction_override not in (None, *REDUCTIONS):
        raise ValueError(f'reduction_override must be one of {REDUCTIONS} '
                         f'or None, got {reduction_override!r}')
    if reduction_override in (None, 'mean'):
        return module._loss(canvas)
    per_element = module.elementwise_on(canvas).sum(dim=1)
    if canvas.valid is not None:
        per_element = torch.where(canvas.valid.bool(), per_element, 0)
    if not module.spatial:
        per_element = per_element.flatten(1).sum(dim=1)
    out = per_element if reduction_override == 'none' else per_element.sum()
    return module.loss_weight * out
