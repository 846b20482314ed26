# Faster R-CNN R-50-FPN 1x on COCO with Barron's general robust loss at a
# fixed shape (alpha = 1, Charbonnier / pseudo-Huber) for the RoI box
# regression. Encoded deltas are normalised by target_stds (0.1, 0.1, 0.2,
# 0.2), so scale 1 puts the quadratic-to-robust knee at one std.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_bbox=dict(
                _delete_=True,
                type='BarronLoss',
                alpha=1.0,
                scale=1.0,
                loss_weight=1.0))))
