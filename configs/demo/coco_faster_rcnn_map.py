# AutoLoss-Zero search for box mAP with the tiny Faster R-CNN on the
# generated COCO data: the 2-core CPU demo of configs/coco_faster_rcnn_map.py
# (same branches and etas, smaller model, data and budget).
#
#   python tools/make_demo_data.py --kind coco
#   python tools/search.py configs/demo/coco_faster_rcnn_map.py
#
# Four branches searched jointly, one tree each; the regression branches
# search over the encoded deltas (leaves yhat, y, 1). For the IoU leaves
# (i, u, e, 1) of the RoI head add
#   model = dict(roi_head=dict(bbox_head=dict(reg_decoded_bbox=True)))
# and options=dict(mode='iou') on rcnn_reg (eta 0.1 suits it as well).
_base_ = [
    './faster-rcnn_r18_fpn_demo-coco.py',
    '../_base_/search/rcnn_branches.py'
]
# The evaluation rescales predictions by the image's scale_factor, which only
# a Resize sets: an identity resize (the demo images are small already).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale_factor=1.0),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# Branches and etas: configs/_base_/search/rcnn_branches.py (measured gains
# of mmdet's default losses here: 0.24-0.55 RPN BCE, 0.15-0.55 L1,
# 0.05-0.99 RoI CE).
search = dict(
    target=dict(metric='coco/bbox_mAP', mode='max'),
    evolution=dict(population=4),
    proxy=dict(max_iters=100),
    budget=dict(evaluations=10))
