# AutoLoss-Zero search for mask mAP: Mask R-CNN R-50-FPN on COCO 2017.
#
#   python tools/search.py configs/coco_mask_rcnn_map.py
#
# Five loss slots searched jointly, one tree per branch: the four of Faster
# R-CNN (RPN cls/reg, RoI cls/reg) and the per-class mask head. The
# evaluator reports box and mask mAP; the target is coco/segm_mAP (use
# target=dict(metric='coco/bbox_mAP') to search for box mAP). Data: COCO
# 2017 in data/coco/ (annotations/instances_*2017.json, train2017/,
# val2017/) from cocodataset.org; the same search on generated data is
# configs/demo/coco_mask_rcnn_map.py.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    './_base_/search/rcnn_branches.py'
]
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

# -- proxy training (ours; see configs/coco_faster_rcnn_map.py) ----------
max_iters = 3000
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(667, 400), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(667, 400), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=4,
                      dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                 max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[2000, 2700], gamma=0.1)
]
default_hooks = dict(
    logger=dict(interval=100, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)

# -- the search: the four R-CNN branches (configs/_base_/search/) plus the
# mask; the mask branch's eta (0.4) accepts the binary CE of mmdet's mask
# head and rejects e.g. "all foreground".
search = dict(
    target=dict(metric='coco/segm_mAP', mode='max'),
    branches=dict(
        mask=dict(type='SearchedMaskLoss',
                  paths=['model.roi_head.mask_head.loss_mask'], eta=0.4)),
    proxy=dict(max_iters=max_iters),
    budget=dict(evaluations=500))
