# Generated VOC-layout data (tools/make_demo_data.py --kind voc), read by
# mmseg's own PascalVOCDataset with the 6 demo classes: mmseg's VOC 2012
# base with the demo's root, classes, 64x64 pipelines and in-process loaders.
_base_ = 'mmseg::_base_/datasets/pascal_voc12.py'
data_root = 'data/demo_voc/VOCdevkit/VOC2012'
crop_size = (64, 64)
metainfo = dict(
    classes=('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle'),
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128],
             [128, 0, 128]])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(96, 96), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,  # 16 crops of 64x64: README, "The demo proxies"
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
# the project's metric in place of mmseg's IoUMetric (and its options)
val_evaluator = dict(
    _delete_=True, type='DenseSegMetric', seg_metrics=['mIoU'])
test_evaluator = val_evaluator
