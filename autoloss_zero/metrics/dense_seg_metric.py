"""``DenseSegMetric``: the segmentation target metrics as an mmengine metric.

Use it in an mmseg config like mmseg's ``IoUMetric``::

    val_evaluator = dict(
        type='DenseSegMetric',
        seg_metrics=['mIoU', 'FWIoU', 'mAcc', 'gAcc', 'BIoU', 'BF1'])

Definitions and references are in the class docstring.
"""
import logging
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.registry import METRICS
from mmseg.evaluation.metrics import IoUMetric
from prettytable import PrettyTable
from torch import Tensor

from . import formulas
from .boundary import boundary_iou_areas
from .label_maps import check_boundary_width
from .seg_edges import edge_match_counts, trimap_areas
from .seg_tensor import edge_f1_per_class

#: Every metric name DenseSegMetric computes, in output order.
DENSE_SEG_METRICS = ('mIoU', 'FWIoU', 'mAcc', 'gAcc', 'BIoU', 'BF1',
                     'BoundaryIoU')

_AREA_KEYS = ('intersect', 'union', 'pred', 'label')
_BIOU_KEYS = ('b_intersect', 'b_union', 'b_pred', 'b_label')
_BF1_KEYS = ('bf_pred_matched', 'bf_pred_total', 'bf_gt_matched',
             'bf_gt_total')
_BOUNDARY_IOU_KEYS = ('bd_intersect', 'bd_union', 'bd_pred', 'bd_label')


def region_metrics(area_intersect: Tensor, area_union: Tensor,
                   area_pred: Tensor, area_label: Tensor) -> Dict[str, Tensor]:
    """Per-class IoU and Acc and the global accuracy, by mmseg's
    ``IoUMetric.total_area_to_metrics``.

    Args:
        area_intersect, area_union, area_pred, area_label (Tensor): the (C,)
            pixel areas of ``IoUMetric.intersect_and_union``, summed over
            samples.

    Returns:
        dict: ``IoU`` and ``Acc``, float64 (C,) tensors (``nan`` for a class
        absent from both maps, resp. from the label, as in mmseg), and
        ``aAcc``, a float64 scalar tensor (0, not mmseg's ``nan``, when
        there is no valid pixel).
    """
    areas = [a.to(torch.float64) for a in (area_intersect, area_union,
                                             area_pred, area_label)]
    scores = IoUMetric.total_area_to_metrics(*areas, metrics=['mIoU'])
    return dict(IoU=torch.from_numpy(scores['IoU']),
                Acc=torch.from_numpy(scores['Acc']),
                aAcc=torch.tensor(scores['aAcc'],
                                  dtype=torch.float64).nan_to_num(0.0))


@METRICS.register_module()
class DenseSegMetric(BaseMetric):
    """Region and boundary metrics of semantic segmentation.

    Counts are accumulated over the whole data set (per-class pixel areas for
    the region metrics, by mmseg's ``IoUMetric.intersect_and_union``;
    trimap / band areas and matched edge pixels for the boundary ones) and
    turned into scores once: per-class IoU / Acc and ``aAcc`` by mmseg's
    ``IoUMetric.total_area_to_metrics`` (:func:`region_metrics`), the rest
    by the same functions (:mod:`autoloss_zero.metrics.formulas`) as the
    fast tensor metrics of the rejection protocol:

    * ``mIoU``: mean over classes present (in label or prediction) of
      ``|P_c ∩ G_c| / |P_c ∪ G_c|``; equals mmseg ``IoUMetric``'s ``mIoU``.
    * ``FWIoU``: ``Σ_c (|G_c| / Σ_k |G_k|) · IoU_c``.
    * ``mAcc``: mean over classes present in the label of
      ``|P_c ∩ G_c| / |G_c|``; equals mmseg's ``mAcc``.
    * ``gAcc``: correct / valid pixels; equals mmseg's ``aAcc``.
    * ``BIoU``: mean IoU of the confusion matrix of the pixels inside the
      trimap (ground-truth edges dilated by a square of radius
      ``boundary_width``), as in Auto Seg-Loss's evaluation code (Li et al.,
      ICLR 2021).
    * ``BF1``: per-class F1 of prediction / ground-truth edge pixels matched
      within a square tolerance ``boundary_width``, mean over the classes
      with ground-truth edges, as in Auto Seg-Loss's evaluation code.
    * ``BoundaryIoU``: Boundary IoU (Cheng et al., CVPR 2021) with band
      width ``boundary_iou_width``, mean over classes present.

    Exact boundary definitions: :mod:`autoloss_zero.metrics.seg_edges` (BIoU,
    BF1) and :mod:`autoloss_zero.metrics.boundary` (BoundaryIoU). Pixels
    labelled ``ignore_index`` are excluded everywhere.

    Args:
        seg_metrics (str | list[str]): names among ``DENSE_SEG_METRICS``.
            Defaults to ``['mIoU']``. (Not ``metrics``: mmengine reads a
            dict with a ``metrics`` key as an Evaluator config.)
        ignore_index (int): label of ignored pixels. Defaults to 255.
        boundary_width (int): trimap radius r of BIoU and match tolerance t
            of BF1 in pixels (chessboard distance). Defaults to 5, the value
            of the reference code.
        boundary_iou_width (int): band width d of BoundaryIoU in pixels.
            Defaults to 3.
        drop_background (bool): build the BIoU trimap without the edges of
            class 0 and leave class 0 out of the BF1 mean (the reference
            code's ``drop_bg``). Defaults to False.
        collect_device (str): 'cpu' or 'gpu', for distributed collection.
        prefix (str, optional): prefix of the output keys.

    Returns (of ``evaluate``): the requested names mapped to percentages,
    not rounded; a per-class table (rounded to 2 digits) goes to the log.
    """

    #: keys stay 'mIoU', 'BIoU', ... (mmengine warns when none is set).
    default_prefix = ''

    def __init__(self,
                 seg_metrics: Union[str, Sequence[str]] = ('mIoU', ),
                 ignore_index: int = 255,
                 boundary_width: int = 5,
                 boundary_iou_width: int = 3,
                 drop_background: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = [seg_metrics] if isinstance(seg_metrics, str) else list(
            seg_metrics)
        if not metrics:
            raise ValueError('seg_metrics must name at least one of '
                             f'{list(DENSE_SEG_METRICS)}')
        for name in metrics:
            if name not in DENSE_SEG_METRICS:
                raise ValueError(f'unknown metric {name!r}; valid metrics: '
                                 f'{list(DENSE_SEG_METRICS)}')
        self.metrics: List[str] = metrics
        self.ignore_index = ignore_index
        self.boundary_width = check_boundary_width(boundary_width)
        self.boundary_iou_width = check_boundary_width(
            boundary_iou_width, 'boundary_iou_width')
        self.drop_background = bool(drop_background)

    @property
    def num_classes(self) -> int:
        """Number of classes, from ``dataset_meta['classes']``."""
        if not self.dataset_meta or 'classes' not in self.dataset_meta:
            raise RuntimeError(
                'DenseSegMetric needs dataset_meta with "classes" (set by the '
                'Runner from the dataset, or assign metric.dataset_meta)')
        return len(self.dataset_meta['classes'])

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Accumulate the per-class counts of each sample.

        Args:
            data_batch (dict): the data loader batch (unused).
            data_samples (Sequence[dict]): mmseg outputs, each with
                ``pred_sem_seg.data`` and ``gt_sem_seg.data`` of shape
                (1, H, W).
        """
        num_classes = self.num_classes
        for data_sample in data_samples:
            # (1, H, W) -> (H, W); unlike squeeze() this keeps H = 1 or W = 1
            pred_label = data_sample['pred_sem_seg']['data']
            pred_label = pred_label.reshape(pred_label.shape[-2:])
            label = data_sample['gt_sem_seg']['data']
            label = label.reshape(label.shape[-2:]).to(pred_label)
            result = self.sample_counts(pred_label, label, num_classes,
                                        self.ignore_index,
                                        self.boundary_width, self.metrics,
                                        self.boundary_iou_width,
                                        self.drop_background)
            self.results.append(result)

    @staticmethod
    def sample_counts(pred_label: Tensor, label: Tensor, num_classes: int,
                      ignore_index: int = 255, boundary_width: int = 5,
                      metrics: Sequence[str] = DENSE_SEG_METRICS,
                      boundary_iou_width: int = 3,
                      drop_background: bool = False) -> Dict[str, Tensor]:
        """Per-class counts of one prediction against its label.

        ``pred_label`` and ``label`` are (H, W) integer maps.

        Region areas come from mmseg's ``IoUMetric.intersect_and_union``;
        trimap areas (only when ``'BIoU'`` is in ``metrics``) from
        :func:`~.seg_edges.trimap_areas`, edge matches (``'BF1'``) from
        :func:`~.seg_edges.edge_match_counts`, band areas
        (``'BoundaryIoU'``) from :func:`~.boundary.boundary_iou_areas`. All
        are CPU tensors of shape (C,).
        """
        counts = dict(
            zip(_AREA_KEYS,
                IoUMetric.intersect_and_union(pred_label, label, num_classes,
                                              ignore_index)))
        pred_map, label_map = pred_label[None], label[None]
        boundary = {
            'BIoU': (_BIOU_KEYS, lambda: trimap_areas(
                pred_map, label_map, num_classes, boundary_width,
                ignore_index, drop_background)),
            'BF1': (_BF1_KEYS, lambda: edge_match_counts(
                pred_map, label_map, num_classes, boundary_width,
                ignore_index)),
            'BoundaryIoU': (_BOUNDARY_IOU_KEYS, lambda: boundary_iou_areas(
                pred_map, label_map, num_classes, boundary_iou_width,
                ignore_index)),
        }
        for name, (keys, count) in boundary.items():
            if name in metrics:
                counts.update(zip(keys, (c.cpu() for c in count())))
        return counts

    @staticmethod
    def counts_to_metrics(totals: Dict[str, Tensor],
                          metrics: Sequence[str] = DENSE_SEG_METRICS,
                          drop_background: bool = False
                          ) -> Dict[str, Tensor]:
        """Scores in [0, 1] from counts summed over samples.

        Returns:
            dict: for each requested name its scalar score, plus the
            per-class vectors ``IoU``, ``Acc`` and, when requested,
            ``BIoU_class`` / ``BF1_class`` / ``BoundaryIoU_class`` (``nan``
            for uncovered classes).
        """
        inter, union, label = (totals['intersect'], totals['union'],
                               totals['label'])
        region = region_metrics(*(totals[key] for key in _AREA_KEYS))
        out = OrderedDict(IoU=region['IoU'], Acc=region['Acc'])
        if 'BIoU' in metrics:
            out['BIoU_class'] = formulas.class_iou(totals['b_intersect'],
                                                   totals['b_union'])
        if 'BF1' in metrics:
            out['BF1_class'] = edge_f1_per_class(
                [totals[key] for key in _BF1_KEYS], drop_background)
        if 'BoundaryIoU' in metrics:
            out['BoundaryIoU_class'] = formulas.class_iou(
                totals['bd_intersect'], totals['bd_union'])
        scalar = {
            'mIoU': lambda: formulas.nanmean_or_zero(out['IoU']),
            'FWIoU':
            lambda: formulas.frequency_weighted_iou(inter, union, label),
            'mAcc': lambda: formulas.nanmean_or_zero(out['Acc']),
            'gAcc': lambda: region['aAcc'],
            'BIoU': lambda: formulas.nanmean_or_zero(out['BIoU_class']),
            'BF1': lambda: formulas.nanmean_or_zero(out['BF1_class']),
            'BoundaryIoU':
            lambda: formulas.nanmean_or_zero(out['BoundaryIoU_class']),
        }
        for name in metrics:
            out[name] = scalar[name]()
        return out

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the counts, compute the scores (percent), log a class table.

        Args:
            results (list[dict]): the per-sample counts of ``process``.

        Returns:
            dict[str, float]: each requested metric name to its value in %.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if not results:
            print_log('DenseSegMetric got no sample: every metric is 0',
                      logger, level=logging.WARNING)
            return {name: 0.0 for name in self.metrics}
        totals = {
            key: sum(result[key].double() for result in results)
            for key in results[0]
        }
        scores = self.counts_to_metrics(totals, self.metrics,
                                        self.drop_background)
        class_names = self.dataset_meta['classes']
        table = PrettyTable()
        table.add_column('Class', list(class_names))
        for column, key in (('IoU', 'IoU'), ('Acc', 'Acc'),
                            ('BIoU', 'BIoU_class'), ('BF1', 'BF1_class'),
                            ('BoundaryIoU', 'BoundaryIoU_class')):
            if key in scores:
                table.add_column(
                    column, np.round(scores[key].numpy() * 100, 2).tolist())
        print_log('per class results:', logger)
        print_log('\n' + table.get_string(), logger=logger)
        return {name: float(scores[name]) * 100 for name in self.metrics}
