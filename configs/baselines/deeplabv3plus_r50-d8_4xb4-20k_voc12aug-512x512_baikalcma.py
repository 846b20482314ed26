# DeepLabV3+ on VOC 2012 aug with BaikalCMA (Baikal with GLO's CMA-ES-tuned
# coefficients) as the decode-head loss.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

model = dict(
    decode_head=dict(
        loss_decode=dict(
            _delete_=True, type='BaikalCMALoss', loss_weight=1.0)))
