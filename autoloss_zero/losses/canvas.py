"""The canvas: what a searched loss sees of one head call.

Every searched-loss module turns its head's arguments into a :class:`Canvas`
(the raw prediction on the branch's canvas shape plus targets, weights and
normaliser) and evaluates its tree on it with :func:`loss_on_canvas`. The
rejection protocol optimises ``canvas.logits`` of captured canvases through the
very same function, so training and screening can never disagree.

Note:
    Shape symbols: N samples (images, anchors, RoIs or keypoint sets), C
    channels (classes, box coordinates, keypoints), H, W spatial size (1 for
    per-anchor and per-RoI branches).
"""
import contextlib
from dataclasses import dataclass, field, replace
from typing import Dict, Iterator, Optional, Sequence, Union

import torch
from torch import Tensor

from ..graph import OPS, Tree, evaluate, reduce_loss

Leaves = Dict[str, Tensor]
#: meta key of a merged canvas: the number of rows of each merged call.
ROW_SEGMENTS = 'row_segments'


@dataclass
class Canvas:
    """One head call in canvas form.

    Attributes:
        logits: (N, C, H, W) raw prediction, before the branch's activation.
        targets: constant leaves in canvas-broadcastable shapes, ``y`` at
            least.
        weight: elementwise weights broadcastable to (N, C, H, W), or None.
            Elements of weight 0 are excluded from the value and gradient;
            negative weights count with their sign (as mmseg's and mmdet's
            ``weight_reduce_loss`` multiply by them).
        valid: (N, H, W) bool mask of counted elements, or None (all).
        avg_factor: the normaliser, or None for the number of valid elements.
    """

    logits: Tensor
    targets: Leaves
    weight: Optional[Tensor] = None
    valid: Optional[Tensor] = None
    avg_factor: Optional[Union[float, Tensor]] = None
    meta: dict = field(default_factory=dict)
    #: cache of :func:`counted_mask` (a canvas is evaluated many times by
    #: the rejection protocol).
    _keep: Optional[tuple] = field(default=None, init=False, repr=False,
                                   compare=False)

    def detached(self) -> 'Canvas':
        """A copy without autograd history (safe to keep and re-optimise)."""

        def det(t):
            return t.detach().clone() if isinstance(t, Tensor) else t

        avg_factor = self.avg_factor
        if avg_factor is None and self.valid is not None:
            avg_factor = self.valid.sum()  # the same normaliser, counted once
        return self.mapped(det, det(avg_factor))

    def mapped(self, fn, avg_factor) -> 'Canvas':
        """A copy with ``fn`` applied to the logits and to every value of
        targets, weight, valid and meta (None and non-tensors included),
        and the normaliser ``avg_factor``."""
        return replace(
            self,
            logits=fn(self.logits),
            targets={k: fn(v) for k, v in self.targets.items()},
            weight=fn(self.weight),
            valid=fn(self.valid),
            avg_factor=avg_factor,
            meta={k: fn(v) for k, v in self.meta.items()})


def upcast(tensor: Tensor) -> Tensor:
    """Half-precision tensors to float32 (like mmdet's fp16 upcast)."""
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor


@contextlib.contextmanager
def full_precision(tensor: Tensor) -> Iterator[None]:
    """Autocast switched off on ``tensor``'s device inside the block.

    Searched trees are evaluated in float32 (their inputs are upcast by
    :func:`upcast`) even inside ``torch.autocast``: the tree's ops are not
    autocast's to choose, and a discovered loss may take values that
    overflow float16.
    """
    device = tensor.device.type
    if device not in ('cuda', 'cpu', 'xpu', 'hpu', 'mps'):
        yield
        return
    with torch.autocast(device_type=device, enabled=False):
        yield


def _couples_elements(tree: Tree) -> bool:
    """Whether an op of ``tree`` mixes elements (mean_c, mean_hw, pooling)."""
    return any(arity and (OPS[name].needs_canvas or OPS[name].needs_spatial)
               for name, arity in zip(tree.nodes, tree.arities))


def counted_mask(canvas: Canvas) -> Optional[Tensor]:
    """Bool mask of counted elements, broadcastable to (N, C, H, W).

    True where the weight is non-zero and the element is valid; None when
    the canvas has neither weights nor a valid mask (everything counts).
    """
    if canvas._keep is None:
        keep = None if canvas.weight is None else canvas.weight != 0
        if canvas.valid is not None:
            valid = canvas.valid[:, None].bool()
            keep = valid if keep is None else keep & valid
        canvas._keep = (keep, )
    return canvas._keep[0]


def counted_rows(canvas: Canvas) -> Optional[Tensor]:
    """(N,) bool: rows with at least one counted element; None when the
    canvas has no per-row mask (every row counts)."""
    keep = counted_mask(canvas)
    if keep is None or keep.shape[0] != canvas.logits.shape[0]:
        return None
    return keep.flatten(1).any(dim=1)


def compact_rows(canvas: Canvas) -> Canvas:
    """``canvas`` without its rows (N) that have no counted element.

    Exact for per-row canvases (H = W = 1; the ops never mix rows): the
    normaliser is fixed to the original one, dropped rows had value and
    gradient 0. The rejection protocol screens RPN levels this way (about
    1/10 of the anchors carry a weight).
    """
    rows, num_rows = counted_rows(canvas), canvas.logits.shape[0]
    if rows is None or canvas.logits.shape[2:] != (1, 1):
        return canvas
    avg_factor = canvas.avg_factor
    if avg_factor is None:  # the number of valid elements, before dropping
        avg_factor = (float(num_rows) if canvas.valid is None else
                      canvas.valid.sum())

    def take(t):
        if isinstance(t, Tensor) and t.dim() and t.shape[0] == num_rows:
            return t[rows]
        return t

    return canvas.mapped(take, avg_factor)


def merge_rows(canvases: Sequence[Canvas]) -> Optional[Canvas]:
    """One per-row canvas from several calls of a branch (FPN levels).

    Rows are concatenated and each call's normaliser is folded into its row
    weights, so the merged loss (normaliser 1) is exactly the sum of the
    calls' losses, value and gradient; ``meta['row_segments']`` keeps each
    call's number of rows. Returns None where that cannot hold:
    spatial canvases, valid masks, or calls whose targets or meta differ in
    kind.
    """
    per_row = all(c.valid is None and c.logits.shape[2:] == (1, 1)
                  for c in canvases)
    if not canvases or not per_row or len(
            {c.logits.shape[1:] for c in canvases}) > 1:
        return None
    first = canvases[0]
    if any(c.targets.keys() != first.targets.keys()
           or c.meta.keys() != first.meta.keys() for c in canvases):
        return None
    weights = []
    for c in canvases:
        rows = c.logits.shape[0]
        weight = (c.weight if c.weight is not None else
                  c.logits.new_ones(rows, 1, 1, 1))
        denom = float(rows if c.avg_factor is None else c.avg_factor)
        weights.append(weight.expand(rows, *weight.shape[1:]) /
                       max(denom, 1e-12))
    if len({w.shape[1] for w in weights}) > 1:
        return None

    def cat(values):
        if all(v is None for v in values):
            return None
        if all(isinstance(v, Tensor) and v.dim() and
               v.shape[0] == c.logits.shape[0]
               for v, c in zip(values, canvases)):
            return torch.cat(values)
        if all(not isinstance(v, Tensor) and v == values[0] for v in values):
            return values[0]
        raise _Unmergeable

    try:
        targets = {k: cat([c.targets[k] for c in canvases])
                   for k in first.targets}
        meta = {k: cat([c.meta[k] for c in canvases]) for k in first.meta}
    except _Unmergeable:
        return None
    #: rows of each call, in order (the fingerprint keeps one gradient
    #: norm per call).
    meta[ROW_SEGMENTS] = tuple(c.logits.shape[0] for c in canvases)
    return Canvas(logits=torch.cat([c.logits for c in canvases]),
                  targets=targets, weight=torch.cat(weights), valid=None,
                  avg_factor=1.0, meta=meta)


class _Unmergeable(Exception):
    """A canvas field that differs in kind between calls."""


def elementwise_on_canvas(tree: Tree, canvas: Canvas,
                          leaves: Leaves) -> Tensor:
    """Evaluate ``tree`` and apply the canvas weights: (N, C, H, W).

    Elements of weight 0 are set to 0 with ``torch.where``; negative weights
    multiply like positive ones. For element-wise
    trees the prediction leaves are also cut from autograd at excluded
    elements (weight 0 or invalid): a tree whose value overflows there (e.g.
    ``square(square(inv(y)))`` at the zero targets of RPN negatives) would
    otherwise send ``0 * inf = NaN`` back into the logits. Trees with ops that
    mix elements (mean_c, mean_hw, pooling) keep the exact gradient, since
    excluded elements can influence counted ones through them.

    Args:
        tree: the loss tree.
        canvas: the head call; its ``targets`` give the constant leaves.
        leaves: prediction leaves (e.g. ``yhat`` (N, C, H, W)).

    Returns:
        Tensor: the weighted element-wise value, (N, C, H, W).
    """
    keep = counted_mask(canvas)
    if keep is not None and not _couples_elements(tree):
        leaves = {
            name: torch.where(keep, value, value.detach())
            if value.requires_grad else value
            for name, value in leaves.items()
        }
    value = evaluate(tree, {**canvas.targets, **leaves})
    if canvas.weight is not None:
        weight = canvas.weight.to(value.dtype)
        # where, not multiply: 0 * inf would be NaN at excluded elements.
        value = torch.where(weight != 0, value * weight, value.new_zeros(()))
    return value


def loss_on_canvas(tree: Tree, canvas: Canvas, leaves: Leaves) -> Tensor:
    """Scalar loss of ``tree`` on ``canvas``: sum over C, mean over valid."""
    value = elementwise_on_canvas(tree, canvas, leaves)
    return reduce_loss(value, valid=canvas.valid, avg_factor=canvas.avg_factor)
