"""``DenseSegMetric``: the segmentation target metrics as an mmengine metric.

Use it in an mmseg config like mmseg's ``IoUMetric``::

    val_evaluator = dict(
        type='DenseSegMetric',
        seg_metrics=['mIoU', 'FWIoU', 'mAcc', 'gAcc', 'BIoU', 'BF1'])
"""
import logging
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.registry import METRICS
from mmseg.evaluation.metrics import IoUMetric
from prettytable import PrettyTable
from torch import Tensor

from . import formulas
from .boundary import (boundary_iou_areas, check_boundary_width,
                       contour_match_counts)

#: Every metric name DenseSegMetric computes, in output order.
DENSE_SEG_METRICS = ('mIoU', 'FWIoU', 'mAcc', 'gAcc', 'BIoU', 'BF1')

_AREA_KEYS = ('intersect', 'union', 'pred', 'label')
_BIOU_KEYS = ('b_intersect', 'b_union', 'b_pred', 'b_label')
_BF1_KEYS = ('bf_pred_matched', 'bf_pred_total', 'bf_gt_matched',
             'bf_gt_total')


@METRICS.register_module()
class DenseSegMetric(BaseMetric):
    """Region and boundary metrics of semantic segmentation.

    Counts are accumulated over the whole data set (per-class pixel areas for
    the region metrics, band areas and matched contour pixels for the
    boundary ones) and turned into scores once, by the same functions
    (:mod:`autoloss_zero.metrics.formulas`) as the fast tensor metrics of
    the rejection protocol:

    * ``mIoU``: mean over classes present (in label or prediction) of
      ``|P_c ∩ G_c| / |P_c ∪ G_c|``; equals mmseg ``IoUMetric``'s ``mIoU``.
    * ``FWIoU``: ``Σ_c (|G_c| / Σ_k |G_k|) · IoU_c``.
    * ``mAcc``: mean over classes present in the label of
      ``|P_c ∩ G_c| / |G_c|``; equals mmseg's ``mAcc``.
    * ``gAcc``: correct / valid pixels; equals mmseg's ``aAcc``.
    * ``BIoU``: Boundary IoU (Cheng et al., CVPR 2021) with band width
      ``boundary_width``, mean over classes present.
    * ``BF1``: boundary F1 (Csurka et al., BMVC 2013) with match tolerance
      ``boundary_width``, mean over classes present.

    Exact boundary definitions: :mod:`autoloss_zero.metrics.boundary`.
    Pixels labelled ``ignore_index`` are excluded everywhere.

    Args:
        seg_metrics (str | list[str]): names among ``DENSE_SEG_METRICS``.
            Defaults to ``['mIoU']``. (Not ``metrics``: mmengine reads a
            dict with a ``metrics`` key as an Evaluator config.)
        ignore_index (int): label of ignored pixels. Defaults to 255.
        boundary_width (int): band width / tolerance d of the boundary
            metrics in pixels (chessboard distance). Defaults to 3.
        collect_device (str): 'cpu' or 'gpu', for distributed collection.
        prefix (str, optional): prefix of the output keys.

    Returns (of ``evaluate``): the requested names mapped to percentages,
    not rounded; a per-class table (rounded to 2 digits) goes to the log.
    """

    def __init__(self,
                 seg_metrics: Union[str, Sequence[str]] = ('mIoU', ),
                 ignore_index: int = 255,
                 boundary_width: int = 3,
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
                                        self.boundary_width, self.metrics)
            self.results.append(result)

    @staticmethod
    def sample_counts(pred_label: Tensor, label: Tensor, num_classes: int,
                      ignore_index: int = 255, boundary_width: int = 3,
                      metrics: Sequence[str] = DENSE_SEG_METRICS
                      ) -> Dict[str, Tensor]:
        """Per-class counts of one prediction against its label.

        ``pred_label`` and ``label`` are (H, W) integer maps.

        Region areas come from mmseg's ``IoUMetric.intersect_and_union``;
        band areas (only when ``'BIoU'`` is in ``metrics``) from
        :func:`boundary_iou_areas`, contour matches (``'BF1'``) from
        :func:`contour_match_counts`. All are CPU tensors of shape (C,).
        """
        counts = dict(
            zip(_AREA_KEYS,
                IoUMetric.intersect_and_union(pred_label, label, num_classes,
                                              ignore_index)))
        pred_map, label_map = pred_label[None], label[None]
        if 'BIoU' in metrics:
            areas = boundary_iou_areas(pred_map, label_map, num_classes,
                                       boundary_width, ignore_index)
            counts.update(zip(_BIOU_KEYS, (a.cpu() for a in areas)))
        if 'BF1' in metrics:
            matches = contour_match_counts(pred_map, label_map, num_classes,
                                           boundary_width, ignore_index)
            counts.update(zip(_BF1_KEYS, (m.cpu() for m in matches)))
        return counts

    @staticmethod
    def counts_to_metrics(totals: Dict[str, Tensor],
                          metrics: Sequence[str] = DENSE_SEG_METRICS
                          ) -> Dict[str, Tensor]:
        """Scores in [0, 1] from counts summed over samples.

        Returns:
            dict: for each requested name its scalar score, plus the
            per-class vectors ``IoU``, ``Acc`` and, when requested,
            ``BIoU_class`` / ``BF1_class`` (``nan`` for uncovered classes).
        """
        inter, union, label = (totals['intersect'], totals['union'],
                               totals['label'])
        out = OrderedDict(IoU=formulas.class_iou(inter, union),
                          Acc=formulas.class_acc(inter, label))
        if 'BIoU' in metrics:
            out['BIoU_class'] = formulas.class_iou(totals['b_intersect'],
                                                   totals['b_union'])
        if 'BF1' in metrics:
            out['BF1_class'] = formulas.class_boundary_f1(
                *(totals[key] for key in _BF1_KEYS))
        scalar = {
            'mIoU': lambda: formulas.nanmean_or_zero(out['IoU']),
            'FWIoU':
            lambda: formulas.frequency_weighted_iou(inter, union, label),
            'mAcc': lambda: formulas.nanmean_or_zero(out['Acc']),
            'gAcc': lambda: formulas.global_acc(inter, label),
            'BIoU': lambda: formulas.nanmean_or_zero(out['BIoU_class']),
            'BF1': lambda: formulas.nanmean_or_zero(out['BF1_class']),
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
        scores = self.counts_to_metrics(totals, self.metrics)
        class_names = self.dataset_meta['classes']
        table = PrettyTable()
        table.add_column('Class', list(class_names))
        for column, key in (('IoU', 'IoU'), ('Acc', 'Acc'),
                            ('BIoU', 'BIoU_class'), ('BF1', 'BF1_class')):
            if key in scores:
                table.add_column(
                    column, np.round(scores[key].numpy() * 100, 2).tolist())
        print_log('per class results:', logger)
        print_log('\n' + table.get_string(), logger=logger)
        return {name: float(scores[name]) * 100 for name in self.metrics}
