"""Base class of the searched-loss modules: a loss given by a tree string."""
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

from ..graph import SearchSpace, Tree
from .canvas import Canvas, Leaves, counted_rows, loss_on_canvas
from .capture import record

_ACTIVATIONS = {
    'softmax': lambda z: torch.softmax(z, dim=1),
    'sigmoid': torch.sigmoid,
    'identity': lambda z: z,
}


class SearchedLoss(nn.Module):
    """A loss whose value is a searched tree evaluated on the head's canvas.

    Subclasses implement :meth:`to_canvas` (the head's call signature in
    canvas form) and :meth:`rejection_score` (the branch's screening metric).

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

    def leaves(self, logits: Tensor, canvas: Canvas) -> Leaves:
        """Leaves that depend on the prediction: ``yhat`` by default."""
        return {'yhat': _ACTIVATIONS[self.activation](logits)}

    def loss_on(self,
                canvas: Canvas,
                logits: Optional[Tensor] = None,
                tree: Optional[Tree] = None) -> Tensor:
        """Unweighted scalar loss of ``tree`` (default: own) on ``canvas``."""
        logits = canvas.logits if logits is None else logits
        return loss_on_canvas(tree or self.tree, canvas,
                              self.leaves(logits, canvas))

    def to_canvas(self, *args, **kwargs) -> Canvas:
        """The head's arguments in canvas form."""
        raise NotImplementedError

    def rejection_score(self, canvas: Canvas, logits: Tensor,
                        metric: Optional[str] = None) -> float:
        """Screening metric in [0, 1] of ``logits`` against the canvas."""
        raise NotImplementedError

    def bind_head(self, head: nn.Module) -> None:
        """Called by the search with the head that owns this loss, for what
        the rejection metric needs to know of it (nothing by default)."""

    def rejection_weight(self, canvas: Canvas) -> float:
        """Weight of this call in its branch's rejection score: 1 for a
        spatial canvas (one per head), else its number of counted rows."""
        if self.spatial:
            return 1.0
        rows = counted_rows(canvas)
        return float(canvas.logits.shape[0] if rows is None else rows.sum())

    def _loss(self, canvas: Canvas) -> Tensor:
        record(self.branch, self, canvas)
        return self.loss_weight * self.loss_on(canvas)

    def extra_repr(self) -> str:
        return (f"tree='{self.tree}', loss_weight={self.loss_weight}, "
                f"loss_name='{self.loss_name}', branch='{self.branch}'")
