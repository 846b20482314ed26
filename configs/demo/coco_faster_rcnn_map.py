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
_base_ = ['./faster-rcnn_r18_fpn_demo-coco.py']
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
# eta (per branch): the least gain of the branch's rejection metric after
# optimising the captured random-init logits (paper: 0.6). Detection
# branches start from skewed scores (accuracy dominated by background rows,
# IoU of near-zero deltas already high), so mmdet's default losses gain only
# 0.24-0.55 (RPN BCE), 0.15-0.55 (L1), 0.05-0.99 (RoI CE); these etas accept
# them and reject trees that ignore or invert the target.
search = dict(
    target=dict(metric='coco/bbox_mAP', mode='max'),
    branches=dict(
        rpn_cls=dict(type='SearchedSigmoidClsLoss',
                     paths=['model.rpn_head.loss_cls'], eta=0.1),
        rpn_reg=dict(type='SearchedBoxLoss',
                     paths=['model.rpn_head.loss_bbox'], eta=0.1,
                     options=dict(mode='deltas')),
        rcnn_cls=dict(type='SearchedSoftmaxClsLoss',
                      paths=['model.roi_head.bbox_head.loss_cls'], eta=0.05),
        rcnn_reg=dict(type='SearchedBoxLoss',
                      paths=['model.roi_head.bbox_head.loss_bbox'], eta=0.1,
                      options=dict(mode='deltas'))),
    space=dict(max_nodes=31, max_depth=8, init_depth=3),
    evolution=dict(population=4, tournament=0.05, window=2500, mutate='one'),
    rejection=dict(samples=5, eta=0.6, steps=100, lr=0.1),
    proxy=dict(max_iters=100),
    budget=dict(evaluations=10),
    executor=dict(type='local'),
    top_k=5,
    seed=0)
