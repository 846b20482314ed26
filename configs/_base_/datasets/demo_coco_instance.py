# Generated COCO-format data (tools/make_demo_data.py --kind coco), read by
# mmdet's own CocoDataset with the 5 demo categories (boxes and masks):
# mmdet's COCO instance base with the demo's root, classes, small-image
# pipelines and in-process loaders.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'
data_root = 'data/demo_coco/'
metainfo = dict(classes=('person', 'bicycle', 'car', 'bird', 'bottle'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
# The evaluation rescales predictions by the image's scale_factor, which only
# a Resize sets: an identity resize (the demo images are small already).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale_factor=1.0),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler'),
    batch_sampler=None,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        filter_cfg=dict(min_size=4),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
