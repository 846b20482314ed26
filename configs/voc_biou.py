# AutoLoss-Zero search for BIoU (else as voc_miou.py: DeepLabV3+ R50 proxy on
# VOC 2012 aug, 128x128 crops, 1k iterations per candidate).
_base_ = './voc_miou.py'
val_evaluator = dict(seg_metrics=['BIoU'])
test_evaluator = val_evaluator
search = dict(target=dict(metric='BIoU'))
