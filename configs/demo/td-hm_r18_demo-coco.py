# Top-down heatmap ResNet-18 (tiny) on the generated COCO keypoints.
_base_ = [
    '../_base_/models/topdown_heatmap_r18_tiny.py',
    '../_base_/datasets/demo_coco_pose.py',
    'mmpose::_base_/default_runtime.py'
]
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)
default_hooks = dict(
    logger=dict(interval=50, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=200))
randomness = dict(seed=0)
model = dict(head=dict(decoder={{_base_.codec}}))
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
# mmpose's runtime defines the loops, so the proxy schedule is set here.
max_iters = 200
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
