# Faster R-CNN R-50-FPN 1x on COCO with Barron's adaptive robust loss (CVPR
# 2019) as the RoI box-regression loss: the NLL of the general distribution
# with one learnable alpha in (0.001, 1.999) and one scale per delta
# coordinate. The two latents are parameters of roi_head.bbox_head.loss_bbox,
# trained by the model's optimizer; weight decay is kept off them.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_bbox=dict(
                _delete_=True,
                type='AdaptiveBarronLoss',
                num_dims=4,
                alpha_lo=0.001,
                alpha_hi=1.999,
                scale_lo=1e-5,
                scale_init=1.0,
                loss_weight=1.0))))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'loss_bbox': dict(decay_mult=0.0)}))
