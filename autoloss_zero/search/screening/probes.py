"""Screening probes: what the rejection protocol asks of a searched loss.

A deployable searched-loss module only computes its loss. Screening also
needs, per branch kind, a metric in [0, 1] of optimised logits against the
captured targets (the rejection metric xi), the weight of one captured call
in its branch's score, and what the metric must know of the head that owns
the loss (the box coder's normalisation). That lives here, one probe class
per loss type, found through :data:`~autoloss_zero.registry.PROBES` by the
loss type's name (or a base class's), so that a retrained discovered loss
carries no search machinery.

    >>> from autoloss_zero.losses import SearchedSegLoss
    >>> type(probe_for(SearchedSegLoss('y'))).__name__
    'SegProbe'
"""
from typing import Optional, Tuple

from torch import Tensor, nn

from ...losses import Canvas, SearchedLoss
from ...losses.canvas import counted_rows
from ...metrics import (box_iou_on_unit_prior, classification_accuracy,
                        get_seg_metric, heatmap_peak_progress, heatmap_pck,
                        mask_iou)
from ...registry import PROBES


class Probe:
    """Screening view of one searched-loss module.

    Args:
        module: the searched-loss module whose calls were captured.
        head: the head module that owns it (None if unknown).
    """

    #: whether the metric is fine enough for the abandonment pre-tests (no
    #: gain after 5 steps, a stalled gain): measured per branch by
    #: ``benchmarks/screening_agreement.py``. Where it is not, the first-gain
    #: pre-test reads :meth:`progress` instead, if the probe has one.
    may_abandon: bool = True
    #: whether a tree without a target leaf is rejected before any
    #: optimisation (the no-target-leaf pre-test): False where a
    #: target-free optimum can reach eta (measured per branch by
    #: ``benchmarks/screening_agreement.py``).
    target_leaf_required: bool = True

    def __init__(self, module: SearchedLoss, head: Optional[nn.Module] = None):
        self.module = module

    @property
    def spatial(self) -> bool:
        """Whether the module's canvas has spatial extent (H, W > 1)."""
        return self.module.spatial

    def loss(self, canvas: Canvas, logits: Tensor, tree) -> Tensor:
        """Unweighted scalar loss of ``tree`` on ``canvas`` at ``logits``."""
        return self.module.loss_on(canvas, logits, tree)

    def weight(self, canvas: Canvas) -> float:
        """Weight of this call in its branch's score: 1 for a spatial
        canvas (one per head), else its number of counted rows."""
        if self.spatial:
            return 1.0
        rows = counted_rows(canvas)
        return float(canvas.logits.shape[0] if rows is None else rows.sum())

    def score(self, canvas: Canvas, logits: Tensor,
              metric: Optional[str] = None) -> float:
        """Rejection metric in [0, 1] of ``logits`` against the canvas."""
        raise NotImplementedError

    def progress(self, canvas: Canvas, logits: Tensor) -> Tuple[float, ...]:
        """Measures finer than the metric of how close ``logits`` are to
        the target, each higher when closer, for the first-gain pre-test of
        a probe whose metric is too coarse for it (``may_abandon`` False):
        a tree none of whose measures rose is abandoned. Empty (the
        default): no such pre-test."""
        return ()

    def activation(self, logits: Tensor) -> str:
        """The activation producing ``yhat`` from ``logits``."""
        return self.module.activation

    def target(self, canvas: Canvas) -> Tensor:
        """The target in the space of the prediction leaf, canvas-shaped."""
        return canvas.targets['y']

    def toward_target(self, canvas: Canvas, logits: Tensor,
                      margin: float) -> Tensor:
        """``logits`` moved toward the target by ``margin`` (the stability
        pre-test): softmax, the target class's logit + margin; sigmoid,
        + margin toward the 0/1 target; identity, to a distance
        ``2 ** -margin`` of the way left (so that, as for the others, the
        error shrinks exponentially with the margin)."""
        y = self.target(canvas).to(logits.dtype)
        activation = self.activation(logits)
        if activation == 'softmax':
            return logits + margin * y
        if activation == 'sigmoid':
            return logits + margin * (2 * y - 1)
        return logits + (1 - 2.0**-margin) * (y - logits)

    def head_state(self) -> dict:
        """What this probe read of its head, as plain values keyed by the
        head's attribute path (nested dicts; ``{}``: nothing). A saved
        capture keeps it (:mod:`.capture_file`): an object with these
        attributes gives a new probe the same view without the head."""
        return {}


def probe_for(module: SearchedLoss, head: Optional[nn.Module] = None
              ) -> Probe:
    """The probe of ``module``'s type (or of its nearest registered base).

    Raises:
        KeyError: no probe is registered for the type or its bases.
    """
    for cls in type(module).__mro__:
        probe = PROBES.get(cls.__name__)
        if probe is not None:
            return probe(module, head)
    raise KeyError(f'no screening probe is registered for '
                   f'{type(module).__name__}; registered: '
                   f'{sorted(PROBES.module_dict)}')


@PROBES.register_module(name='SearchedSegLoss')
class SegProbe(Probe):
    """The target segmentation metric (mIoU, FWIoU, ...) of the logits."""

    def activation(self, logits):
        # binary heads (C = 1) use a sigmoid, the others a softmax
        return 'sigmoid' if logits.shape[1] == 1 else 'softmax'

    def score(self, canvas, logits, metric=None):
        # (N, C, H, W) scores, or (N, 1, H, W) binary logits thresholded at 0
        return get_seg_metric(metric or 'mIoU')(
            logits, canvas.meta['label'],
            num_classes=max(2, logits.shape[1]),
            ignore_index=canvas.meta['ignore_index'])


@PROBES.register_module(name='SearchedSoftmaxClsLoss')
@PROBES.register_module(name='SearchedSigmoidClsLoss')
class ClassificationProbe(Probe):
    """Balanced accuracy on rows of non-zero weight (anchors and RoIs are
    mostly background: plain accuracy would reward predicting it)."""

    def score(self, canvas, logits, metric=None):
        return classification_accuracy(logits[:, :, 0, 0],
                                       canvas.meta['labels'],
                                       canvas.meta['weight'], balanced=True)


@PROBES.register_module(name='SearchedBoxLoss')
class BoxProbe(Probe):
    """Mean IoU over rows of non-zero weight.

    Deltas are decoded on the unit prior box with the head's coder
    normalisation (``bbox_coder.means`` / ``stds``, e.g. (0.1, 0.1, 0.2,
    0.2) for mmdet's RoI head); in ``'iou'`` mode the predictions are
    absolute boxes already. Non-finite rows score 0.
    """

    # Deltas pulled to 0 by a target-free tree (abs(tanh(yhat))) are the
    # prior boxes themselves, which the assigner matched to the targets
    # with a high IoU: on the demo RPN capture 262 of the 349 trees the
    # protocol accepts among 5,000 random ones had no target leaf.
    target_leaf_required = False

    def __init__(self, module, head=None):
        super().__init__(module, head)
        self.means: Tuple[float, ...] = (0., 0., 0., 0.)
        self.stds: Tuple[float, ...] = (1., 1., 1., 1.)
        coder = getattr(head, 'bbox_coder', None)
        if hasattr(coder, 'means') and hasattr(coder, 'stds'):
            self.means = tuple(float(v) for v in coder.means)
            self.stds = tuple(float(v) for v in coder.stds)

    def head_state(self):
        return {'bbox_coder': {'means': list(self.means),
                               'stds': list(self.stds)}}

    def target(self, canvas):
        # 'iou' mode predicts absolute boxes: y is no leaf there
        return canvas.meta['target'][:, :, None, None]

    def score(self, canvas, logits, metric=None):
        weight = None if canvas.weight is None else canvas.weight[:, :, 0, 0]
        return box_iou_on_unit_prior(logits[:, :, 0, 0],
                                     canvas.meta['target'], weight,
                                     decoded=self.module.mode == 'iou',
                                     means=self.means, stds=self.stds)


@PROBES.register_module(name='SearchedMaskLoss')
class MaskProbe(Probe):
    """Mask IoU of ``logits > 0`` against the targets."""

    def score(self, canvas, logits, metric=None):
        return mask_iou(logits[:, 0], canvas.targets['y'][:, 0])


@PROBES.register_module(name='SearchedHeatmapLoss')
class HeatmapProbe(Probe):
    """PCK: argmax within 2 px of the target's argmax."""

    # PCK often moves only after 10-40 steps: on its gain, the first-gain
    # pre-test rejected 4 of 11 accepted random trees here, the stall
    # pre-test 1 of 11. So no stall test, and the first look reads the
    # argmax distance and the target peak's margin (progress).
    may_abandon = False

    def score(self, canvas, logits, metric=None):
        return heatmap_pck(logits, canvas.targets['y'],
                           self._keypoint_weights(canvas))

    def progress(self, canvas, logits):
        return heatmap_peak_progress(logits, canvas.targets['y'],
                                     self._keypoint_weights(canvas))

    @staticmethod
    def _keypoint_weights(canvas):
        weights = canvas.meta['keypoint_weights']
        if weights is not None and weights.dim() == 4:  # pixel weights
            weights = (weights > 0).flatten(2).any(dim=2).float()
        return weights
