# AutoLoss-Zero search for mask mAP with the tiny Mask R-CNN on the generated
# COCO data: the 2-core CPU demo of configs/coco_mask_rcnn_map.py (same
# branches and etas, smaller model, data and budget).
#
#   python tools/make_demo_data.py --kind coco
#   python tools/search.py configs/demo/coco_mask_rcnn_map.py
#
# Five branches searched jointly: the four of Faster R-CNN (see
# configs/demo/coco_faster_rcnn_map.py for their etas) and the mask head.
_base_ = [
    './mask-rcnn_r18_fpn_demo-coco.py',
    '../_base_/search/rcnn_branches.py'
]
# The mask branch's eta (0.4) accepts mmdet's mask BCE (gain 0.6-1.0 in mask
# IoU) and rejects "all foreground" (neg(yhat), gain ~0.2).
search = dict(
    target=dict(metric='coco/segm_mAP', mode='max'),
    branches=dict(
        mask=dict(type='SearchedMaskLoss',
                  paths=['model.roi_head.mask_head.loss_mask'], eta=0.4)),
    evolution=dict(population=4),
    # two screening processes: the random phase draws ~1e4 trees for the
    # RPN regression branch per candidate
    rejection=dict(workers=2),
    # 300 iterations: mmdet's own losses reach segm mAP ~0.08 (~137 s per
    # proxy training on one thread; README, "The demo proxies")
    proxy=dict(max_iters=300),
    budget=dict(evaluations=10))
