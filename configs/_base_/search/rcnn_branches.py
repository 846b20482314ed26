# The four loss branches of a two-stage detector (Faster / Mask R-CNN),
# searched jointly, one tree each, and the search settings they share.
# Regression branches search over the encoded deltas (leaves yhat, y, 1).
# For the IoU leaves (i, u, e, 1) set options=dict(mode='iou') on a
# regression branch AND reg_decoded_bbox=True on its head, e.g.
#   model = dict(roi_head=dict(bbox_head=dict(reg_decoded_bbox=True)))
# eta: the absolute metric gain a candidate must reach on the captured
# random-init inputs (paper: 0.6). Detection branches start from a skewed
# initial score (accuracy dominated by background rows, IoU of zero deltas
# already high), so their etas are tuned to accept mmdet's default losses
# (BCE, L1, CE, L1) and reject losses that ignore or invert the target;
# see tests/search/test_det_pose_rejection.py.
search = dict(
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
    evolution=dict(population=20, tournament=0.05, window=2500,
                   mutate='one'),
    rejection=dict(samples=5, eta=0.6, steps=100, lr=0.1),
    executor=dict(type='local'),
    top_k=5,
    seed=0)
