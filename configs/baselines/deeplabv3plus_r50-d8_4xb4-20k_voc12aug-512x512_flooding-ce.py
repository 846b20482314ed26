# DeepLabV3+ on VOC 2012 aug with flooding (Ishida et al., ICML 2020) around
# the usual cross-entropy: |L - b| + b with flood level b = 0.02.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)

model = dict(
    decode_head=dict(
        loss_decode=dict(
            _delete_=True,
            type='Flooding',
            flood_level=0.02,
            loss=dict(
                type='mmseg.CrossEntropyLoss',
                use_sigmoid=False,
                avg_non_ignore=True,
                loss_weight=1.0))))
