# AutoLoss-Zero search for box mAP: Faster R-CNN R-50-FPN on COCO 2017.
#
#   python tools/search.py configs/coco_faster_rcnn_map.py
#
# An ordinary mmdet training config (the proxy) plus a `search` section. The
# four loss slots (RPN cls/reg, RoI cls/reg) are searched jointly, one tree
# per branch. Data: COCO 2017 in data/coco/ (annotations/instances_*2017.json,
# train2017/, val2017/) from cocodataset.org; the same search on generated
# data is configs/demo/coco_faster_rcnn_map.py.
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    './_base_/search/rcnn_branches.py'
]
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

# -- proxy training (ours: the paper trains short proxies at reduced cost) --
# One proxy = one GPU: 3k iterations of batch 8 (~24k images, 1/5 epoch) at
# half the input scale, linear LR scaling from mmdet's 0.02 at batch 16,
# evaluated on the whole of val2017 (mmdet's CocoMetric scores every image
# of its ann_file, so a subset needs its own annotation file).
max_iters = 3000
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(667, 400), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(667, 400), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
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
# The proxy trainer steps the schedulers once per iteration.
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

# -- the search: the four R-CNN branches (configs/_base_/search/) ----------
search = dict(
    target=dict(metric='coco/bbox_mAP', mode='max'),
    proxy=dict(max_iters=max_iters),
    budget=dict(evaluations=500))
