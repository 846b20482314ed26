# DeepLabV3+ on a ResNetV1c-18 with 16 base channels: the CPU proxy model.
# Output stride 16 (DeepLabV3+'s training stride; mmseg's d8 default costs
# ~25% more per CPU step at 64x64 crops), ASPP dilations fitted to the
# 4x4 feature map of a 64x64 crop.
_base_ = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(
        depth=18,
        stem_channels=16,
        base_channels=16,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=128,
        channels=32,
        c1_in_channels=16,
        c1_channels=8,
        dilations=(1, 2, 3, 4),
        num_classes=6,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=64, channels=16, num_classes=6, norm_cfg=norm_cfg))
