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
# and options=dict(mode='iou') on rcnn_reg.
_base_ = [
    './faster-rcnn_r18_fpn_demo-coco.py',
    '../_base_/search/rcnn_branches.py'
]
# Branches and etas: configs/_base_/search/rcnn_branches.py (with the gains
# measured here).
search = dict(
    target=dict(metric='coco/bbox_mAP', mode='max'),
    evolution=dict(population=4),
    # two screening processes: the random phase draws ~1e4 trees for the
    # RPN regression branch per candidate
    rejection=dict(workers=2),
    # 100 iterations (~28 s on one thread): mmdet's own losses reach box mAP
    # ~0.03; coco_faster_rcnn_map_learning.py trains 400 (~0.17, ~105 s)
    proxy=dict(max_iters=100),
    budget=dict(evaluations=10))
