# Faster R-CNN R-50-FPN 1x on COCO with Poly-1 as the RoI classification loss
# (softmax over 80 classes + background). mmdet passes no ignore_index, so
# none is set (label 255 would be a real class on LVIS-size label sets).
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(
                _delete_=True,
                type='Poly1Loss',
                epsilon=1.0,
                ignore_index=None,
                loss_weight=1.0))))
