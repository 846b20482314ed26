# DeepLabV3+ on VOC 2012 aug with Poly-1 (Leng et al., ICLR 2022) as the
# decode-head loss: CE + epsilon * (1 - p_t). The auxiliary FCN head keeps
# its CrossEntropyLoss (weight 0.4), as in every baseline here.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

model = dict(
    decode_head=dict(
        loss_decode=dict(
            _delete_=True, type='Poly1Loss', epsilon=1.0, loss_weight=1.0)))
