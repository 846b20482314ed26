"""Target and rejection metrics of the loss search.

* :mod:`.seg_tensor`: fast tensor segmentation metrics for the rejection
  protocol (``miou``, ``fwiou``, ``macc``, ``gacc``, ``biou``, ``bf1``,
  ``boundary_iou``; ``contour_f1`` besides).
* :mod:`.branch_metrics`: rejection metrics of detection / pose branches.
* :mod:`.dense_seg_metric`: ``DenseSegMetric``, the same segmentation metrics
  as an mmengine evaluator metric (registered in ``METRICS`` on import; it
  builds on mmseg's ``IoUMetric``, so without mmseg it is left out and the
  rest, all the screening needs, imports with torch alone).
* :mod:`.formulas` (counts to scores), :mod:`.label_maps` (masking, window
  reductions, confusion areas), :mod:`.seg_edges` (edges and trimap of BIoU
  and BF1) and :mod:`.boundary` (bands of Boundary IoU, contours of the
  contour F1): the shared maths.
"""
from ..compat import missing_openmmlab
from . import boundary, formulas, seg_edges  # noqa: F401 (modules)
from .boundary import (boundary_band, boundary_iou_areas,
                       contour_match_counts, match_counts)
from .branch_metrics import (box_iou_on_unit_prior, classification_accuracy,
                             heatmap_peak_progress, heatmap_pck, mask_iou)
from .formulas import (class_acc, class_boundary_f1, class_edge_f1,
                       class_iou, frequency_weighted_iou, global_acc,
                       nanmean_or_zero)
from .label_maps import confusion_areas, dilate, restrict_to_valid
from .seg_edges import edge_match_counts, label_edges, trimap, trimap_areas
from .seg_tensor import (SEG_REJECTION_METRICS, bf1, biou, boundary_iou,
                         contour_f1, fwiou, gacc, get_seg_metric, macc, miou,
                         to_label_map)

__all__ = [
    'SEG_REJECTION_METRICS', 'get_seg_metric', 'miou', 'fwiou', 'macc',
    'gacc', 'biou', 'bf1', 'boundary_iou', 'contour_f1', 'to_label_map',
    'confusion_areas', 'dilate', 'restrict_to_valid', 'label_edges',
    'trimap', 'trimap_areas', 'edge_match_counts', 'boundary_band',
    'boundary_iou_areas', 'contour_match_counts', 'match_counts',
    'class_iou', 'class_acc', 'global_acc', 'frequency_weighted_iou',
    'class_boundary_f1', 'class_edge_f1', 'nanmean_or_zero',
    'classification_accuracy', 'box_iou_on_unit_prior', 'mask_iou',
    'heatmap_pck', 'heatmap_peak_progress'
]

try:
    from .dense_seg_metric import DENSE_SEG_METRICS, DenseSegMetric
    __all__ += ['DenseSegMetric', 'DENSE_SEG_METRICS']
except ImportError as error:
    if not missing_openmmlab(error):
        raise
