# AutoLoss-Zero search for mIoU at the paper's proxy scale: DeepLabV3+ R50
# on PASCAL VOC 2012 aug, 128x128 crops, 1k iterations per candidate.
# Data: data/VOCdevkit/VOC2012 with SegmentationClassAug (mmseg's layout).
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py',
    './_base_/search/seg_branch.py'
]
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)
crop_size = (128, 128)
data_root = 'data/VOCdevkit/VOC2012'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 128), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(512, 128), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
dataset_train = dict(
    type='PascalVOCDataset',
    data_root=data_root,
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    ann_file='ImageSets/Segmentation/train.txt',
    pipeline=train_pipeline)
dataset_aug = dict(
    type='PascalVOCDataset',
    data_root=data_root,
    data_prefix=dict(
        img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
    ann_file='ImageSets/Segmentation/aug.txt',
    pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(type='ConcatDataset', datasets=[dataset_train, dataset_aug]))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='DenseSegMetric', seg_metrics=['mIoU'])
test_evaluator = val_evaluator
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
max_iters = 1000
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# Branches, space, evolution and rejection: configs/_base_/search/.
search = dict(
    proxy=dict(max_iters=max_iters),
    budget=dict(evaluations=1000))
