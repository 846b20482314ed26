# Retrain: the demo proxy model (DeepLabV3+ R-18, tiny) on the generated VOC
# data for a full (5x proxy) schedule with the loss found by the demo search.
#   python tools/train.py configs/demo/retrain_deeplabv3plus_r18_demo-voc.py \
#       --loss work_dirs/voc_miou/best/top1.py
_base_ = ['./deeplabv3plus_r18_demo-voc.py']
# The discovered loss; tools/train.py --loss overrides it.
searched_loss = 'work_dirs/voc_miou/best/top1.py'
max_iters = 600
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=300)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=300, max_keep_ckpts=2))
