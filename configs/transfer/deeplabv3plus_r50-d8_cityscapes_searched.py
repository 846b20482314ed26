# Transfer of a loss searched on VOC (configs/voc_miou.py) to Cityscapes:
# DeepLabV3+ R-50, 512x1024 crops, batch 8, 40k iterations (mmseg schedule).
#   python -m torch.distributed.launch --nproc_per_node=4 tools/train.py \
#       configs/transfer/deeplabv3plus_r50-d8_cityscapes_searched.py \
#       --launcher pytorch [--loss work_dirs/voc_miou/best/top1.py]
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)
# The discovered loss; tools/train.py --loss overrides it.
searched_loss = 'work_dirs/voc_miou/best/top1.py'
val_evaluator = dict(
    _delete_=True, type='DenseSegMetric', seg_metrics=['mIoU', 'FWIoU',
                                                       'mAcc', 'gAcc'])
test_evaluator = val_evaluator
