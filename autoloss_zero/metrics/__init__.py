"""Target and rejection metrics of the loss search.

* :mod:`.seg_tensor`: fast tensor segmentation metrics for the rejection
  protocol (``miou``, ``fwiou``, ``macc``, ``gacc``, ``biou``, ``bf1``).
* :mod:`.rejection`: rejection metrics of detection / pose branches.
* :mod:`.dense_seg_metric`: ``DenseSegMetric``, the same segmentation metrics
  as an mmengine evaluator metric (registered in ``METRICS`` on import).
* :mod:`.formulas` and :mod:`.boundary`: the shared maths.
"""
from . import boundary, formulas
from .boundary import (boundary_band, boundary_iou_areas,
                       contour_match_counts, restrict_to_valid)
from .dense_seg_metric import DENSE_SEG_METRICS, DenseSegMetric
from .formulas import (class_acc, class_boundary_f1, class_iou,
                       frequency_weighted_iou, global_acc, nanmean_or_zero)
from .rejection import (box_iou_on_unit_prior, classification_accuracy,
                        heatmap_pck, mask_iou)
from .seg_tensor import (SEG_REJECTION_METRICS, bf1, biou, confusion_areas,
                         fwiou, gacc, get_seg_metric, macc, miou,
                         to_label_map)

__all__ = [
    'SEG_REJECTION_METRICS', 'get_seg_metric', 'miou', 'fwiou', 'macc',
    'gacc', 'biou', 'bf1', 'to_label_map', 'confusion_areas',
    'boundary_band', 'boundary_iou_areas', 'contour_match_counts',
    'restrict_to_valid', 'class_iou', 'class_acc', 'global_acc',
    'frequency_weighted_iou', 'class_boundary_f1', 'nanmean_or_zero',
    'classification_accuracy', 'box_iou_on_unit_prior', 'mask_iou',
    'heatmap_pck', 'DenseSegMetric', 'DENSE_SEG_METRICS'
]
