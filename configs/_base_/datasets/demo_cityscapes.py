# Generated Cityscapes-layout data (tools/make_demo_data.py --kind cityscapes),
# 128x64 street scenes read by mmseg's own CityscapesDataset (19 train ids):
# mmseg's Cityscapes base with the demo's root, 128x64 pipelines and
# in-process loaders.
_base_ = 'mmseg::_base_/datasets/cityscapes.py'
data_root = 'data/demo_cityscapes'
crop_size = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 64), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
# the project's metric in place of mmseg's IoUMetric (and its options)
val_evaluator = dict(
    _delete_=True, type='DenseSegMetric', seg_metrics=['mIoU'])
test_evaluator = val_evaluator
