"""Loss modules: searched losses for every head, capture mode, baselines.

All are registered in mmengine's root ``MODELS`` registry, which mmseg, mmdet
and mmpose registries inherit from.
"""
from . import baselines  # noqa: F401  (registers the baseline losses)
from .canvas import Canvas, elementwise_on_canvas, loss_on_canvas
from .capture import capture, is_capturing
from .export import export_searched_loss
from .searched import SearchedLoss
from .searched_bbox import SearchedBoxLoss, box_areas
from .searched_cls import SearchedSigmoidClsLoss, SearchedSoftmaxClsLoss
from .searched_heatmap import SearchedHeatmapLoss
from .searched_mask import SearchedMaskLoss
from .searched_seg import SearchedSegLoss

__all__ = [
    'Canvas', 'elementwise_on_canvas', 'loss_on_canvas', 'capture',
    'is_capturing', 'export_searched_loss', 'SearchedLoss',
    'SearchedBoxLoss', 'box_areas',
    'SearchedSigmoidClsLoss', 'SearchedSoftmaxClsLoss', 'SearchedHeatmapLoss',
    'SearchedMaskLoss', 'SearchedSegLoss'
]
