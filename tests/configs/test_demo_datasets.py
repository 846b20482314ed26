"""The demo dataset configs inherit mmseg's / mmdet's dataset bases and
override roots, classes, pipelines and loaders: what the demo configs
resolve to is the demo's own, nothing of the full-size bases leaks in."""
from pathlib import Path

import pytest
from mmengine.config import Config

from ..conftest import REPO

SEG_TEST = ['LoadImageFromFile', 'LoadAnnotations', 'PackSegInputs']
SEG_TRAIN = ['LoadImageFromFile', 'LoadAnnotations', 'RandomResize',
             'RandomCrop', 'RandomFlip', 'PackSegInputs']
#: data root -> dataset type, (train, val) data_prefix and ann_file,
#: (train, val) batch size and pipeline transforms
KINDS = {
    'data/demo_voc/VOCdevkit/VOC2012': dict(
        type='PascalVOCDataset', batch=(16, 8),
        prefix=[dict(img_path='JPEGImages', seg_map_path='SegmentationClass')]
        * 2, ann_file=('ImageSets/Segmentation/train.txt',
                       'ImageSets/Segmentation/val.txt'),
        pipelines=(SEG_TRAIN, SEG_TEST)),
    'data/demo_cityscapes': dict(
        type='CityscapesDataset', batch=(4, 4),
        prefix=[dict(img_path=f'leftImg8bit/{s}', seg_map_path=f'gtFine/{s}')
                for s in ('train', 'val')], ann_file=(None, None),
        pipelines=(SEG_TRAIN, ['LoadImageFromFile', 'Resize',
                               'LoadAnnotations', 'PackSegInputs'])),
    'data/demo_coco/': dict(
        type='CocoDataset', batch=(2, 4),
        prefix=[dict(img='train2017/'), dict(img='val2017/')],
        ann_file=('annotations/instances_train2017.json',
                  'annotations/instances_val2017.json'),
        pipelines=(['LoadImageFromFile', 'LoadAnnotations', 'RandomFlip',
                    'PackDetInputs'],
                   ['LoadImageFromFile', 'Resize', 'LoadAnnotations',
                    'PackDetInputs'])),
}
DEMOS = sorted(p.name for p in (REPO / 'configs' / 'demo').glob('*.py')
               if 'td-hm' not in p.name and 'pose' not in p.name)


@pytest.fixture(scope='module', params=DEMOS)
def demo(request):
    return request.param, Config.fromfile(
        str(REPO / 'configs' / 'demo' / request.param))


def test_loaders_are_the_demos(demo):
    name, cfg = demo
    kind = KINDS[cfg.train_dataloader.dataset.data_root]
    loaders = (cfg.train_dataloader, cfg.val_dataloader)
    assert cfg.test_dataloader == cfg.val_dataloader
    assert [ld.sampler.type for ld in loaders] == ['InfiniteSampler',
                                                   'DefaultSampler']
    assert loaders[0].sampler.shuffle and not loaders[1].sampler.shuffle
    assert [ld.batch_size for ld in loaders] == list(kind['batch'])
    for i, loader in enumerate(loaders):
        dataset = loader.dataset
        assert (loader.num_workers, loader.persistent_workers) == (0, False)
        assert dataset.type == kind['type']
        assert dataset.data_root == cfg.train_dataloader.dataset.data_root
        assert dataset.data_prefix == kind['prefix'][i]
        assert dataset.get('ann_file') == kind['ann_file'][i]
        transforms = [t['type'] for t in dataset.pipeline]
        if 'faster' in name:  # boxes only
            load = dataset.pipeline[transforms.index('LoadAnnotations')]
            assert load.with_bbox and not load.get('with_mask')
        assert transforms == kind['pipelines'][i], name


def test_crop_and_model_follow_the_demo(demo):
    name, cfg = demo
    if cfg.train_dataloader.dataset.type == 'CocoDataset':
        assert cfg.train_dataloader.batch_sampler is None
        assert cfg.train_dataloader.dataset.filter_cfg.min_size == 4
        assert len(cfg.train_dataloader.dataset.metainfo.classes) == 5
        return
    crop = [t for t in cfg.train_dataloader.dataset.pipeline
            if t['type'] == 'RandomCrop'][0]['crop_size']
    assert tuple(crop) == tuple(cfg.crop_size) == (64, 64)
    assert tuple(cfg.model.data_preprocessor.size) == (64, 64)


def test_evaluators_are_the_demos(demo):
    name, cfg = demo
    evaluator = cfg.val_evaluator
    assert cfg.test_evaluator == evaluator
    if cfg.train_dataloader.dataset.type == 'CocoDataset':
        assert evaluator.type == 'CocoMetric'
        assert evaluator.ann_file == (
            'data/demo_coco/annotations/instances_val2017.json')
        assert evaluator.metric == ('bbox' if 'faster' in name else
                                    ['bbox', 'segm'])
    else:  # DenseSegMetric alone: no option of mmseg's IoUMetric
        metric = Path(name).stem.split('_')[-1]
        seg_metrics = {'miou': 'mIoU', 'fwiou': 'FWIoU', 'macc': 'mAcc',
                       'gacc': 'gAcc', 'biou': 'BIoU', 'bf1': 'BF1'}
        assert set(evaluator) - {'_scope_'} == {'type', 'seg_metrics'}
        assert evaluator.type == 'DenseSegMetric'
        assert evaluator.seg_metrics == [seg_metrics.get(metric, 'mIoU')]
