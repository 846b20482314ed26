# The four loss branches of a two-stage detector (Faster / Mask R-CNN),
# searched jointly, one tree each (the shared settings: paper.py).
# Regression branches search over the encoded deltas (leaves yhat, y, 1).
# For the IoU leaves (i, u, e, 1) set options=dict(mode='iou') on a
# regression branch AND reg_decoded_bbox=True on its head, e.g.
#   model = dict(roi_head=dict(bbox_head=dict(reg_decoded_bbox=True)))
# eta: the absolute metric gain a candidate must reach on the captured
# random-init inputs within the S steps (paper: 0.6). The metrics are
# balanced accuracy for the classification branches (rows are >90%
# background) and the IoU of boxes decoded on a unit prior with the head's
# coder stds for the regression branches. Gains after 100 steps on the demo
# capture (tests/search/test_det_pose_rejection.py checks the defaults pass
# and degenerate trees fail):
#   rpn_cls   BCE 0.55   predict background everywhere 0.05
#   rpn_reg   L1 0.48, MSE 0.56   pull deltas to zero (the anchor) 0.19
#   rcnn_cls  CE 0.65    predict background everywhere 0.00
#   rcnn_reg  L1 0.16, MSE 0.17   pull deltas to zero 0.03
# (RoI positives at random init are mostly the ground-truth boxes added as
# proposals, which start at IoU ~0.83: little room, hence the small eta.)
_base_ = ['./paper.py']
search = dict(
    branches=dict(
        rpn_cls=dict(type='SearchedSigmoidClsLoss',
                     paths=['model.rpn_head.loss_cls'], eta=0.3),
        rpn_reg=dict(type='SearchedBoxLoss',
                     paths=['model.rpn_head.loss_bbox'], eta=0.35,
                     options=dict(mode='deltas')),
        rcnn_cls=dict(type='SearchedSoftmaxClsLoss',
                      paths=['model.roi_head.bbox_head.loss_cls'], eta=0.3),
        rcnn_reg=dict(type='SearchedBoxLoss',
                      paths=['model.roi_head.bbox_head.loss_bbox'], eta=0.1,
                      options=dict(mode='deltas'))),
    evolution=dict(mutate='one'))
