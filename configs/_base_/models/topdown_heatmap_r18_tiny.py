# SimpleBaseline-style top-down heatmap model on ResNet-18 with 32 base
# channels (CPU pose proxy; 2.7x faster per step than the 64 of ResNet-18).
# The codec (heatmap encoding) comes with the data set: leaf configs set
# model.head.decoder = {{_base_.codec}}.
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet', depth=18, stem_channels=32, base_channels=32),
    head=dict(
        type='HeatmapHead',
        in_channels=256,
        out_channels=17,
        deconv_out_channels=(64, 64, 64),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='KeypointMSELoss', use_target_weight=True)),
    test_cfg=dict(flip_test=False))
