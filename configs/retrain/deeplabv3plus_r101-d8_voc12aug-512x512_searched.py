# Retraining of a discovered loss (AutoLoss-Zero, Sec. 5): DeepLabV3+ R-101 on
# PASCAL VOC 2012 aug, 512x512 crops, batch 16 (4 GPUs x 4), 20k iterations:
# mmseg's schedule, the one the baselines in configs/baselines/ use, so that
# searched and hand-crafted losses are compared under identical training.
#   python tools/search.py configs/voc_miou.py            # the search
#   python -m torch.distributed.launch --nproc_per_node=4 tools/train.py \
#       configs/retrain/deeplabv3plus_r101-d8_voc12aug-512x512_searched.py \
#       --launcher pytorch [--loss work_dirs/voc_miou/best/top1.py]
# Both heads get the searched loss; each keeps its loss_weight (aux: 0.4).
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['autoloss_zero'], allow_failed_imports=False)
# The discovered loss; tools/train.py --loss overrides it.
searched_loss = 'work_dirs/voc_miou/best/top1.py'
val_evaluator = dict(
    _delete_=True, type='DenseSegMetric', seg_metrics=['mIoU', 'FWIoU',
                                                       'mAcc', 'gAcc'])
test_evaluator = val_evaluator
