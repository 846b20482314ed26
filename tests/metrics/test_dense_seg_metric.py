"""DenseSegMetric: registry, validation, agreement with the tensor metrics
and with mmseg's IoUMetric."""
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.structures import SegDataSample

from autoloss_zero.metrics import (DENSE_SEG_METRICS, SEG_REJECTION_METRICS,
                                   DenseSegMetric)
from autoloss_zero.metrics.dense_seg_metric import region_metrics

I = 255
CLASSES = ('background', 'a', 'b', 'c', 'rare')


def random_maps(seed, n=4, h=17, w=23, num_classes=5):
    gen = torch.Generator().manual_seed(seed)
    # blocky maps (so boundaries are not everywhere) plus noise
    label = torch.randint(0, num_classes - 1, (n, h // 4 + 1, w // 4 + 1),
                          generator=gen)
    label = label.repeat_interleave(4, 1).repeat_interleave(4, 2)[:, :h, :w]
    pred = label.clone()
    noise = torch.rand(n, h, w, generator=gen) < 0.2
    pred[noise] = torch.randint(0, num_classes, (int(noise.sum()), ),
                                generator=gen)
    label[torch.rand(n, h, w, generator=gen) < 0.05] = I
    return pred, label


def data_samples(pred, label):
    return [
        dict(pred_sem_seg=dict(data=p[None]), gt_sem_seg=dict(data=g[None]))
        for p, g in zip(pred, label)
    ]


def run_metric(metric, pred, label, classes=CLASSES):
    metric.dataset_meta = dict(classes=classes)
    metric.process({}, data_samples(pred, label))
    return metric.evaluate(len(pred))


def test_built_from_mmseg_registry():
    metric = MMSEG_METRICS.build(
        dict(type='DenseSegMetric', seg_metrics=list(DENSE_SEG_METRICS),
             boundary_width=2))
    assert isinstance(metric, DenseSegMetric)
    assert metric.metrics == list(DENSE_SEG_METRICS)
    assert metric.boundary_width == 2


def test_invalid_metric_names_are_rejected():
    with pytest.raises(ValueError, match=r"'mDice'.*'mIoU'.*'BF1'"):
        DenseSegMetric(seg_metrics=['mIoU', 'mDice'])
    with pytest.raises(ValueError, match='boundary_width'):
        DenseSegMetric(boundary_width=0)
    assert DenseSegMetric(seg_metrics='BIoU').metrics == ['BIoU']


@pytest.mark.parametrize('width', [1, 3])
def test_agrees_with_tensor_metrics(width):
    pred, label = random_maps(0)
    result = run_metric(
        DenseSegMetric(seg_metrics=list(DENSE_SEG_METRICS),
                       boundary_width=width), pred, label)
    assert list(result) == list(DENSE_SEG_METRICS)
    for name in DENSE_SEG_METRICS:
        kwargs = dict(boundary_width=width) if name in ('BIoU', 'BF1') else {}
        fast = SEG_REJECTION_METRICS[name](pred, label, num_classes=5,
                                           **kwargs)
        assert result[name] == pytest.approx(100 * fast, abs=1e-9), name
        assert 0.0 < result[name] < 100.0


def test_agrees_with_mmseg_iou_metric():
    pred, label = random_maps(1, n=3, h=31, w=29)
    ours = run_metric(DenseSegMetric(seg_metrics=['mIoU', 'mAcc', 'gAcc']), pred,
                      label)
    theirs = run_metric(IoUMetric(iou_metrics=['mIoU']), pred, label)
    # mmseg rounds to 2 decimals
    assert ours['mIoU'] == pytest.approx(theirs['mIoU'], abs=0.0051)
    assert ours['mAcc'] == pytest.approx(theirs['mAcc'], abs=0.0051)
    assert ours['gAcc'] == pytest.approx(theirs['aAcc'], abs=0.0051)


def test_perfect_prediction_is_100_percent_through_evaluator():
    _, label = random_maps(2)
    evaluator = Evaluator(
        DenseSegMetric(seg_metrics=list(DENSE_SEG_METRICS), prefix='seg'))
    evaluator.dataset_meta = dict(classes=CLASSES)
    samples = []
    for g in label:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=g[None])
        sample.pred_sem_seg = PixelData(data=g[None].clone())
        samples.append(sample)
    evaluator.process(samples, {})
    result = evaluator.evaluate(len(samples))
    assert result == {f'seg/{name}': 100.0 for name in DENSE_SEG_METRICS}


def test_hand_case_and_absent_class():
    label = torch.tensor([[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1],
                           [2, 2, I, I]]])
    pred = torch.tensor([[[0, 0, 1, 1], [0, 1, 1, 1], [2, 2, 2, 1],
                          [0, 2, 1, 2]]])
    # class 'c' (3) and 'rare' (4) are absent from both maps
    result = run_metric(DenseSegMetric(seg_metrics=['mIoU', 'gAcc', 'mAcc']),
                        pred, label)
    assert result['mIoU'] == pytest.approx(100 * 67 / 105)
    assert result['gAcc'] == pytest.approx(100 * 11 / 14)
    assert result['mAcc'] == pytest.approx(100 * 7 / 9)


def test_counts_are_pooled_over_images():
    pred, label = random_maps(3, n=2)
    metric = DenseSegMetric(seg_metrics=['mIoU', 'BIoU', 'BF1'])
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, data_samples(pred[:1], label[:1]))
    metric.process({}, data_samples(pred[1:], label[1:]))
    result = metric.evaluate(2)
    assert result['BIoU'] == pytest.approx(
        100 * SEG_REJECTION_METRICS['BIoU'](pred, label, num_classes=5))
    assert result['BF1'] == pytest.approx(
        100 * SEG_REJECTION_METRICS['BF1'](pred, label, num_classes=5))


def test_missing_dataset_meta_is_explained():
    metric = DenseSegMetric()
    pred, label = random_maps(4, n=1)
    with pytest.raises(RuntimeError, match='dataset_meta'):
        metric.process({}, data_samples(pred, label))


def test_no_sample_gives_zero():
    metric = DenseSegMetric(seg_metrics=['mIoU', 'BF1'])
    metric.dataset_meta = dict(classes=CLASSES)
    assert metric.compute_metrics([]) == {'mIoU': 0.0, 'BF1': 0.0}


def test_region_metrics_are_mmseg_total_area_to_metrics():
    pred, label = random_maps(5, n=2)
    areas = [sum(parts) for parts in zip(*(
        IoUMetric.intersect_and_union(p, g, 5, I)
        for p, g in zip(pred, label)))]
    region = region_metrics(*areas)
    theirs = IoUMetric.total_area_to_metrics(*areas, metrics=['mIoU'])
    assert region['IoU'].dtype == torch.float64
    torch.testing.assert_close(region['IoU'],
                               torch.from_numpy(theirs['IoU']).double(),
                               equal_nan=True)
    torch.testing.assert_close(region['Acc'],
                               torch.from_numpy(theirs['Acc']).double(),
                               equal_nan=True)
    assert torch.isnan(region['Acc'][4])  # class 'rare' is never labelled
    assert float(region['aAcc']) == pytest.approx(float(theirs['aAcc']))


def test_all_ignored_pixels_give_zero_not_nan():
    label = torch.full((1, 4, 4), I)
    pred = torch.zeros(1, 4, 4, dtype=torch.long)
    result = run_metric(DenseSegMetric(seg_metrics=['mIoU', 'mAcc', 'gAcc',
                                                    'FWIoU']), pred, label)
    assert result == {'mIoU': 0.0, 'mAcc': 0.0, 'gAcc': 0.0, 'FWIoU': 0.0}
