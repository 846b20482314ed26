# DeepLabV3+ R-18 (tiny) trained on the generated VOC data: the demo proxy.
_base_ = [
    '../_base_/models/deeplabv3plus_r18_tiny.py',
    '../_base_/datasets/demo_voc.py', 'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/proxy_cpu.py',
    '../_base_/schedules/proxy_seg_hooks.py'
]
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)
data_preprocessor = dict(size={{_base_.crop_size}})
model = dict(data_preprocessor=data_preprocessor)
# A proxy that learns in ~120 CPU steps (README, "The demo proxies"):
# AdamW (fused: one kernel per step) on batches of 16 crops (the dataset
# base), where SGD on batches of 4 left cross-entropy at ~24 mIoU.
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=5e-3, weight_decay=0.01, fused=True))
