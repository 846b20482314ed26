# AutoLoss-Zero search for keypoint AP: SimpleBaseline (ResNet-50 + deconv
# heatmap head, 256x192) on COCO 2017 person keypoints.
#
#   python tools/search.py configs/coco_pose_ap.py
#
# One branch: the heatmap loss. Data: COCO 2017 in data/coco/
# (annotations/person_keypoints_*2017.json, train2017/, val2017/) from
# cocodataset.org; the same search on generated data is
# configs/demo/coco_pose_ap.py.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_res50_8xb64-210e_coco-256x192.py',
    './_base_/search/heatmap_branch.py'
]
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

# -- proxy training (ours: a short schedule instead of 210 epochs) --------
# One proxy = one GPU: 5k iterations of batch 64 (~2 epochs of the 150k
# person instances), evaluated with ground-truth person boxes, so that the
# score does not depend on a detector's results file.
max_iters = 5000
train_dataloader = dict(
    num_workers=4, sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(num_workers=4, dataset=dict(bbox_file=None))
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                 max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The proxy trainer steps the schedulers once per iteration.
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001,
         by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[4000, 4700], gamma=0.1)
]
# No best-checkpoint saving after each proxy evaluation.
default_hooks = dict(
    logger=dict(interval=100, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=max_iters, save_best=None))
log_processor = dict(by_epoch=False)

# -- the search: the heatmap branch (configs/_base_/search/) -------------
search = dict(
    proxy=dict(max_iters=max_iters),
    budget=dict(evaluations=500))
