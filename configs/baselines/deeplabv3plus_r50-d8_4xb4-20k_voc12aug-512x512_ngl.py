# DeepLabV3+ on VOC 2012 aug with the Next Generation Loss (Akhmedova &
# Koerber, 2024), which its paper also evaluates on VOC 2012 segmentation.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

model = dict(
    decode_head=dict(
        loss_decode=dict(
            _delete_=True, type='NGLLoss', alpha=2.4092, loss_weight=1.0)))
