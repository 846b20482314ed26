# AutoLoss-Zero search for FWIoU on the generated VOC data (2-core CPU demo).
_base_ = './voc_miou.py'
val_evaluator = dict(seg_metrics=['FWIoU'])
test_evaluator = val_evaluator
search = dict(target=dict(metric='FWIoU'))
