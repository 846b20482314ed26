# Transfer: PSPNet R-18 (tiny, 19 classes) on the generated Cityscapes data,
# trained with the loss found by the demo VOC search (configs/demo/voc_miou.py).
#   python tools/train.py configs/demo/transfer_pspnet_r18_demo-cityscapes.py \
#       --loss work_dirs/voc_miou/best/top1.py
_base_ = [
    '../_base_/models/pspnet_r18_tiny.py',
    '../_base_/datasets/demo_cityscapes.py', 'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/proxy_cpu.py',
    '../_base_/schedules/proxy_seg_hooks.py'
]
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)
# The discovered loss; tools/train.py --loss overrides it.
searched_loss = 'work_dirs/voc_miou/best/top1.py'
data_preprocessor = dict(size={{_base_.crop_size}})
model = dict(data_preprocessor=data_preprocessor)
max_iters = 1000
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=500)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=500, max_keep_ckpts=2))
